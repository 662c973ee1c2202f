"""Data laws: what one sample contributes to the gradient, and what the risk is.

A law is symbolic only; the engine asks it for its properties, never its name:

* ``sample_gradient(sample, e)`` — the per-sample gradient as a linear vector;
* ``active_probability`` — ``P(a step updates the row)`` (``p_B`` for sparse data, 1 for
  dense gradients);
* ``closed_moments`` — whether the second moments close at finite ``d`` (then ``risk``
  reads the risk off ``‖e‖²``); otherwise the law's statistics close in mean field and it
  supplies ``sample_expectation`` and ``risks`` for the statistics map
  (:mod:`derivations.drift`);
* ``title``, ``parameter_text`` — how documents name it and its parameters.

Numeric models with validated parameters (:mod:`numerics.inputs.models`) carry their law.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

import sympy as sp

from . import rare_class
from . import symbols as S
from .logistic_normal import SoftplusNormalMean
from .symbols import SampleSymbols
from .vectors import Dot, LinearVector


class Law(Protocol):
    """What the engine needs of a data law."""

    name: str
    title: str
    closed_moments: bool
    active_probability: sp.Expr
    parameter_text: str

    def sample_gradient(self, sample: SampleSymbols, error: sp.Symbol) -> LinearVector: ...


class LeastSquares:
    """Sparse least squares (model M1 of ``docs/model.md``).

    A sample is active with probability ``p`` (mask ``m ~ Bernoulli(p)``): then
    ``x ~ N(0, I_d)`` and ``y = ⟨x, θ*⟩ + ξ`` with ``Var ξ = s²``; otherwise
    ``x = 0, y = 0``.  Loss ``ℓ = ½(⟨x, θ⟩ − y)²``, so with ``e = θ − θ*`` the
    per-sample gradient is ``∇ℓ = m x (⟨x, e⟩ − ξ)``.  Risk ``R(θ) = ½ p ‖e‖²``.
    """

    name: ClassVar[str] = "lsq"
    title: ClassVar[str] = "sparse least squares"
    closed_moments: ClassVar[bool] = True
    #: A step is active when its batch holds the row's token: p_B = 1 − (1 − p)^B.
    active_probability: ClassVar[sp.Expr] = S.active_probability
    parameter_text: ClassVar[str] = (
        r"Parameters: $\eta$ learning rate, $\beta$ momentum, $p$ activity "
        r"probability, $B$ batch size, $d$ dimension, $s^2$ label-noise variance, "
        r"$R_0 = \|e_0\|^2$.")

    @staticmethod
    def sample_gradient(sample: SampleSymbols, error: sp.Symbol) -> LinearVector:
        """Per-sample gradient ``G_b = m_b x_b (⟨x_b, e⟩ − ξ_b)``."""
        return LinearVector({sample.x: sample.mask * (Dot(sample.x, error) - sample.noise)})

    @staticmethod
    def risk(error_energy: sp.Expr) -> sp.Expr:
        """Excess population risk ``R = ½ p ‖e‖²`` in terms of ``‖e‖²``."""
        return S.p * error_energy / 2

    def __repr__(self) -> str:
        return "LeastSquares()"


class RareClass:
    """Logistic regression with a rare class (model M2 of ``docs/model.md``).

    ``x = y μ + z``, ``y ~ Bernoulli(p)``, ``z ~ N(0, I_d)``, ``ρ = ‖μ‖``; logit
    ``c = ⟨θ, x⟩ + b*`` with the Bayes bias ``b* = log(p/(1 − p)) − ρ²/2``, so the
    optimum is ``θ* = μ``.  Cross-entropy ``ℓ = log(1 + e^c) − y c``; per-sample
    gradient ``∇ℓ = (σ(c) − y) x`` (dense: every step updates every coordinate, so
    the step-activity indicator is 1 and ``p_B = 1``).  Its second moments do not
    close; its statistics do, in mean field (:mod:`derivations.drift`).
    """

    name: ClassVar[str] = "logistic"
    title: ClassVar[str] = "logistic regression with a rare class"
    closed_moments: ClassVar[bool] = False
    #: Every sample's gradient is dense: each step is active.
    active_probability: ClassVar[sp.Expr] = sp.Integer(1)
    parameter_text: ClassVar[str] = (
        r"Parameters: $\eta$ learning rate, $\beta$ momentum, $p$ rare-class "
        r"probability, $\rho = \|\mu\|$, $B$ batch size, $d$ dimension; every step is active "
        r"(dense gradients), so lazy momentum is heavy ball and active iterates are steps.")

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

    def __repr__(self) -> str:
        return "RareClass()"


LEAST_SQUARES = LeastSquares()
RARE_CLASS = RareClass()
#: Every known law by name.
LAWS: dict[str, Law] = {LEAST_SQUARES.name: LEAST_SQUARES, RARE_CLASS.name: RARE_CLASS}


def law(name: str) -> Law:
    """The data law called ``name``; a ``ValueError`` lists the valid names."""
    if name not in LAWS:
        raise ValueError(f"model must be one of {', '.join(map(repr, LAWS))}; got {name!r}")
    return LAWS[name]
