"""Data laws: what one sample contributes to the gradient, and what the risk is.

A model class carries its data law as class-level definitions (used by the
symbolic engine, independent of any numbers) and its numeric parameters as
validated instance attributes (used by numeric code).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import rare_class
from . import symbols as S
from .logistic_normal import SoftplusNormalMean
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
    statistics = "second moments"
    #: A step is active when its batch holds the row's token: p_B = 1 − (1 − p)^B.
    active_probability = S.active_probability

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


class RareClassLogistic:
    """Logistic regression with a rare class (model M2 of SPEC.md).

    ``x = y μ + z``, ``y ~ Bernoulli(p)``, ``z ~ N(0, I_d)``, ``ρ = ‖μ‖``; logit
    ``c = ⟨θ, x⟩ + b*`` with the Bayes bias ``b* = log(p/(1 − p)) − ρ²/2``, so the
    optimum is ``θ* = μ``.  Cross-entropy ``ℓ = log(1 + e^c) − y c``; per-sample
    gradient ``∇ℓ = (σ(c) − y) x`` (dense: every step updates every coordinate, so
    the step-activity indicator is 1 and ``p_B = 1``).

    Parameters: ``d ≥ 2`` (a signal direction and its orthogonal bulk); ``p`` in
    (0, 1) the rare-class probability; ``rho > 0``; the initial signal error
    ``s0 = ⟨θ_0 − μ, μ̂⟩`` (real) and bulk energy ``R0 = ‖θ_0⊥‖² ≥ 0``.  There is no
    label-noise parameter: the labels are the mixture's own, which is what makes
    ``θ* = μ`` the optimum.
    """

    name = "logistic"
    title = "logistic regression with a rare class"
    statistics = "mean field"
    #: Every sample's gradient is dense: each step is active.
    active_probability = sp.Integer(1)

    def __init__(self, d: int, p, rho, s0=None, R0=0):
        self.d = check_integer("d", d, minimum=2)
        self.p = _scalar("p", check_per_row("p", p, lower=0, upper=1, lower_open=True,
                                            upper_open=True))
        self.rho = _scalar("rho", check_per_row("rho", rho, lower=0, lower_open=True))
        self.s0 = -self.rho if s0 is None else _scalar("s0", check_per_row("s0", s0))
        self.R0 = _scalar("R0", check_per_row("R0", R0, lower=0))
        self.rows = 1

    # -- the data law (symbolic) ---------------------------------------------
    @staticmethod
    def sample_gradient(sample: SampleSymbols, error: sp.Symbol) -> LinearVector:
        """Per-sample gradient ``G_b = r_b x_b`` with residual ``r_b = σ(c_b) − y_b``."""
        return LinearVector({sample.x: rare_class.residual(sample)})

    @staticmethod
    def sample_expectation(projection: str):
        """``E[·]`` over independent samples, ⊥ to ``μ`` or along ``μ̂`` (Stein's lemma)."""
        return rare_class.SteinExpectation(projection)

    @staticmethod
    def population_loss(signal_error: sp.Expr, bulk: sp.Expr) -> sp.Expr:
        """``E ℓ(θ) = Σ_y P(y) (E[log(1 + e^c) | y] − y E[c | y])``, with ``c | y ~
        N(b* + y ρ m, q)``: ``(1 − p) L(b*, q) + p L(b* + ρ m, q) − p (b* + ρ m)``."""
        values = {rare_class.s: signal_error, rare_class.R_perp: bulk}
        mean = [rare_class.logit_mean(y).xreplace(values) for y in (0, 1)]
        q = rare_class.logit_variance.xreplace(values)
        return ((1 - S.p) * SoftplusNormalMean(mean[0], q) + S.p * SoftplusNormalMean(mean[1], q)
                - S.p * mean[1])

    @classmethod
    def risks(cls) -> dict[str, sp.Expr]:
        """Excess cross-entropy ``E ℓ(θ) − E ℓ(μ)`` (the population KL from the Bayes
        posterior) and squared error ``‖θ − μ‖² = s² + R⊥``, in the statistics."""
        s, R = rare_class.s, rare_class.R_perp
        return {
            "excess cross-entropy": cls.population_loss(s, R) - cls.population_loss(0, 0),
            "squared error": s**2 + R,
        }

    def parameter_values(self) -> dict[sp.Symbol, np.ndarray]:
        return {S.p: self.p, S.d: np.array(self.d), S.rho: self.rho}

    def __repr__(self) -> str:
        return (f"RareClassLogistic(d={self.d}, p={self.p}, rho={self.rho}, s0={self.s0}, "
                f"R0={self.R0})")


def _scalar(name: str, values: np.ndarray):
    if values.ndim:
        raise ValueError(f"{name} must be a scalar for the logistic model (one row)")
    return values[()]


MODELS = {SparseLeastSquares.name: SparseLeastSquares, RareClassLogistic.name: RareClassLogistic}


def model_class(name: str):
    """The model class called ``name``; a ``ValueError`` lists the valid names."""
    if name not in MODELS:
        raise ValueError(f"model must be one of {', '.join(map(repr, MODELS))}; got {name!r}")
    return MODELS[name]
