"""Data laws: what one sample contributes to the gradient, and what the risk is.

A model class carries its data law as class-level definitions (used by the
symbolic engine, independent of any numbers) and its numeric parameters as
validated instance attributes (used by numeric code).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import symbols as S
from .symbols import SampleSymbols
from .validation import check_integer, check_per_row, common_rows
from .vectors import Dot, LinearVector


class SparseLeastSquares:
    """Sparse least squares (model M1 of SPEC.md), one row or a token stream.

    A sample is active with probability ``p`` (mask ``m ~ Bernoulli(p)``): then
    ``x ~ N(0, I_d)`` and ``y = ⟨x, θ*⟩ + ξ`` with ``Var ξ = s²``; otherwise
    ``x = 0, y = 0``.  Loss ``ℓ = ½(⟨x, θ⟩ − y)²``, so with ``e = θ − θ*`` the
    per-sample gradient is ``∇ℓ = m x (⟨x, e⟩ − ξ)``.  Risk ``R(θ) = ½ p ‖e‖²``.

    Parameters: ``d`` row dimension (positive integer); ``p`` activity
    probability in (0, 1], scalar or one entry per row; ``R0 = ‖e_0‖² ≥ 0``,
    scalar or per row; ``sigma2 = s² ≥ 0`` the label-noise variance.
    """

    name = "lsq"
    title = "sparse least squares"

    def __init__(self, d: int, p, R0=1, sigma2=0):
        self.d = check_integer("d", d, minimum=1)
        self.p = check_per_row("p", p, lower=0, upper=1, lower_open=True)
        self.R0 = check_per_row("R0", R0, lower=0)
        self.sigma2 = check_per_row("sigma2", sigma2, lower=0)
        if self.sigma2.ndim:
            raise ValueError("sigma2 must be a scalar (one noise level for all rows)")
        self.rows = common_rows(p=self.p, R0=self.R0)

    # -- the data law (symbolic) ---------------------------------------------
    @staticmethod
    def sample_gradient(sample: SampleSymbols, error: sp.Symbol) -> LinearVector:
        """Per-sample gradient ``G_b = m_b x_b (⟨x_b, e⟩ − ξ_b)``."""
        return LinearVector({sample.x: sample.mask * (Dot(sample.x, error) - sample.noise)})

    @staticmethod
    def risk(error_energy: sp.Expr) -> sp.Expr:
        """Excess population risk ``R = ½ p ‖e‖²`` in terms of ``‖e‖²``."""
        return S.p * error_energy / 2

    def parameter_values(self) -> dict[sp.Symbol, np.ndarray]:
        """Numeric values of the model's symbols (per-row arrays or scalars)."""
        return {S.p: self.p, S.d: np.array(self.d), S.sigma2: self.sigma2}

    def __repr__(self) -> str:
        rows = f"{self.rows} rows" if self.rows > 1 else f"p={self.p.ravel()[0]}"
        return f"SparseLeastSquares(d={self.d}, {rows}, sigma2={self.sigma2})"


MODELS = {SparseLeastSquares.name: SparseLeastSquares}


def model_class(name: str):
    """The model class called ``name``; a ``ValueError`` lists the valid names."""
    if name not in MODELS:
        raise ValueError(f"model must be one of {', '.join(map(repr, MODELS))}; got {name!r}")
    return MODELS[name]
