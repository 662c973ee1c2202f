"""Models with numbers: a data law (:mod:`derivations.laws`) and its validated parameters.

Per-row parameters are arrays (one entry per row of a token stream); every value is
checked when the model is made (a ``ValueError`` names the parameter).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from derivations import symbols as S
from derivations.laws import LEAST_SQUARES, RARE_CLASS
from numerics.inputs.validation import check_integer, check_per_row, common_rows

#: The largest dimension ``d`` (and batch): the kernels compute in float64, which holds
#: every integer up to ``2^53`` exactly.
MAX_DIMENSION = 2**53


class SparseLeastSquares:
    """Sparse least squares (model M1, :class:`derivations.laws.LeastSquares`) with numbers.

    Parameters: ``d`` row dimension (an integer in ``[1, 2^53]``); ``p`` activity
    probability in (0, 1], scalar or one entry per row; ``R0 = ‖e_0‖² ≥ 0``,
    scalar or per row; ``sigma2 = s² ≥ 0`` the label-noise variance.
    """

    law = LEAST_SQUARES
    name = law.name
    title = law.title

    def __init__(self, d: int, p, R0=1, sigma2=0):
        self.d = check_integer("d", d, minimum=1, maximum=MAX_DIMENSION)
        self.p = check_per_row("p", p, lower=0, upper=1, lower_open=True)
        self.R0 = check_per_row("R0", R0, lower=0)
        self.sigma2 = check_per_row("sigma2", sigma2, lower=0)
        if self.sigma2.ndim:
            raise ValueError("sigma2 must be a scalar (one noise level for all rows)")
        self.rows = common_rows(p=self.p, R0=self.R0)

    def parameter_values(self) -> dict[sp.Symbol, np.ndarray]:
        """Numeric values of the model's symbols (per-row arrays or scalars)."""
        return {S.p: self.p, S.d: np.array(self.d), S.sigma2: self.sigma2}

    def __repr__(self) -> str:
        rows = f"{self.rows} rows" if self.rows > 1 else f"p={self.p.ravel()[0]}"
        return f"SparseLeastSquares(d={self.d}, {rows}, sigma2={self.sigma2})"


class RareClassLogistic:
    """Logistic regression with a rare class (model M2, :class:`derivations.laws.RareClass`).

    Parameters: ``d ≥ 2`` (a signal direction and its orthogonal bulk); ``p`` in
    (0, 1) the rare-class probability; ``rho > 0``; the initial signal error
    ``s0 = ⟨θ_0 − μ, μ̂⟩`` (real) and bulk energy ``R0 = ‖θ_0⊥‖² ≥ 0``.  There is no
    label-noise parameter: the labels are the mixture's own, which is what makes
    ``θ* = μ`` the optimum.
    """

    law = RARE_CLASS
    name = law.name
    title = law.title

    def __init__(self, d: int, p, rho, s0=None, R0=0):
        self.d = check_integer("d", d, minimum=2, maximum=MAX_DIMENSION)
        self.p = _scalar("p", check_per_row("p", p, lower=0, upper=1, lower_open=True,
                                            upper_open=True))
        self.rho = _scalar("rho", check_per_row("rho", rho, lower=0, lower_open=True))
        self.s0 = -self.rho if s0 is None else _scalar("s0", check_per_row("s0", s0))
        self.R0 = _scalar("R0", check_per_row("R0", R0, lower=0))
        self.rows = 1

    def parameter_values(self) -> dict[sp.Symbol, np.ndarray]:
        """Numeric values of the model's symbols."""
        return {S.p: self.p, S.d: np.array(self.d), S.rho: self.rho}

    def __repr__(self) -> str:
        return (f"RareClassLogistic(d={self.d}, p={self.p}, rho={self.rho}, s0={self.s0}, "
                f"R0={self.R0})")


def _scalar(name: str, values: np.ndarray):
    if values.ndim:
        raise ValueError(f"{name} must be a scalar for the logistic model (one row)")
    return values[()]


#: Every numeric model class by its law's name.
MODELS = {SparseLeastSquares.name: SparseLeastSquares, RareClassLogistic.name: RareClassLogistic}


def model_class(name: str):
    """The model class called ``name``; a ``ValueError`` lists the valid names."""
    if name not in MODELS:
        raise ValueError(f"model must be one of {', '.join(map(repr, MODELS))}; got {name!r}")
    return MODELS[name]
