"""The data law of logistic regression with a rare class (model M2 of docs/model.md).

A sample is ``x = y μ + z`` with label ``y ~ Bernoulli(p)`` and ``z ~ N(0, I_d)``;
the logit is ``c = ⟨θ, x⟩ + b*`` with the Bayes bias ``b* = log λ − ρ²/2``,
``λ = p/(1 − p)``, ``ρ = ‖μ‖``.  Cross-entropy ``ℓ = log(1 + e^c) − y c`` has the
per-sample gradient ``∇ℓ = r x`` with residual ``r = σ(c) − y``.

Split every vector into its component along ``μ̂`` and its part ``⊥`` to ``μ``.
With ``m = ρ + s`` (``s = ⟨θ − μ, μ̂⟩``), ``R⊥ = ‖θ⊥‖²``, ``t = ⟨z, μ̂⟩`` and
``ω = ⟨z⊥, θ⊥⟩/‖θ⊥‖``, the logit is ``c = b* + y ρ m + m t + √R⊥ ω``, so given
``y`` it is Gaussian with mean ``b* + y ρ m`` and variance ``q = m² + R⊥``.
Gaussian integration by parts (Stein's lemma; ``c`` depends on ``z⊥`` only
through ``⟨θ⊥, z⊥⟩`` and ``θ⊥ = e⊥``) turns every expectation the optimizer
needs into :mod:`~sparsemom.derivations.rare_class.logistic_normal` integrals:

* ``E[F(c) ⟨z⊥, w⟩] = E[F'(c)] ⟨e⊥, w⊥⟩``;
* ``E[F(c) ⟨z⊥, w₁⟩⟨z⊥, w₂⟩] = E[F] ⟨w₁⊥, w₂⊥⟩ + E[F''] ⟨e⊥, w₁⟩⟨e⊥, w₂⟩``,
  in particular ``E[F ‖z⊥‖²] = (d − 1) E[F] + E[F''] R⊥``;
* independent samples: ``E[F_b G_c ⟨z⊥_b, z⊥_c⟩] = E[F_b'] E[G_c'] R⊥``;
* along ``μ̂``: ``E[F(c, y) ⟨x, μ̂⟩] = ρ E[y F] + m E[∂_c F]``.

These are exact at every ``d`` *given* the current ``θ``; the five statistics
``(s, u, R⊥, V⊥, C⊥)`` close the expected one-step map, and iterating it on
deterministic statistics (mean field) is exact as ``d → ∞`` with ``η = O(1/d)``,
where the statistics concentrate (fluctuations ``O(d^{-1/2})``).
"""

from __future__ import annotations

from collections import defaultdict

import sympy as sp

from ..core import symbols as S
from ..core.symbols import Sample
from ..core.vectors import Dot
from ..definitions.optimizers import e
from .logistic_normal import gaussian_expectation, sig, sigmoid_derivative

#: The name the rare-class law is registered under (:mod:`sparsemom.derivations.rare_class.law`).
NAME = "logistic"
#: This module names a law (the architecture test lets it).
DEFINES_LAWS = True

#: Unit vector along μ (a vector atom): ⟨e, μ̂⟩ = s, ⟨v, μ̂⟩ = u.
mu_hat = S.mu_hat
#: Statistics: signal error and buffer along μ̂; bulk energies orthogonal to μ.
s = sp.Symbol("s", real=True)
u = sp.Symbol("u", real=True)
R_perp = sp.Symbol("R_perp", nonnegative=True)
C_perp = sp.Symbol("C_perp", real=True)
V_perp = sp.Symbol("V_perp", nonnegative=True)

#: Likelihood ratio λ = p/(1 − p) of the rare class, and the Bayes bias
#: b* = log λ − ρ²/2 (a symbol in derived expressions, so logs are never expanded).
likelihood_ratio = S.p / (1 - S.p)
bias = sp.Symbol("b^*", real=True)
bias_value = sp.log(likelihood_ratio) - S.rho**2 / 2
#: Signal m = ⟨θ, μ̂⟩ = ρ + s and logit variance q = m² + R⊥.
signal = S.rho + s
logit_variance = signal**2 + R_perp


def logit_mean(label: int) -> sp.Expr:
    """Mean of the logit ``c`` given ``y = label``: ``b* + y ρ m``."""
    return bias + label * S.rho * signal


#: Residual and label symbols per sample index: ``Dummy`` symbols, so that no symbol of a
#: rule (a hyper-parameter ``r_1``) is mistaken for one.
_RESIDUALS: dict[int, sp.Dummy] = {}
_LABELS: dict[int, sp.Dummy] = {}


def residual(sample: Sample) -> sp.Symbol:
    """Residual ``r_b = σ(c_b) − y_b`` of sample ``b`` (a symbol; its law is below)."""
    return _RESIDUALS.setdefault(sample.index, sp.Dummy(f"r_{sample.index}", real=True))


def label(index: int) -> sp.Symbol:
    """The label ``y_b`` of sample ``b`` (a symbol)."""
    return _LABELS.setdefault(index, sp.Dummy(f"y_{index}", nonnegative=True))


def _residual_index(x: sp.Symbol) -> int | None:
    return next((b for b, r in _RESIDUALS.items() if r == x), None)


def sample_mean(poly: sp.Expr, index: int) -> sp.Expr:
    """``E[P(σ(c_b), y_b)]`` over the label and the Gaussian logit of sample ``b``."""
    y = label(index)
    total = sp.Integer(0)
    for value, weight in ((0, 1 - S.p), (1, S.p)):
        total += weight * gaussian_expectation(sp.expand(poly.xreplace({y: value})),
                                               logit_mean(value), logit_variance)
    return total


class SteinExpectation:
    """``E[·]`` of a product of residual powers and inner products with inputs,
    over independent samples, in one of two projections (see module docstring):
    ``"perp"`` (inner products ⊥ to μ; the trace of ``I⊥`` is ``d − 1``) or
    ``"signal"`` (inner products with :data:`mu_hat`)."""

    def __init__(self, projection: str):
        if projection not in ("perp", "signal"):
            raise ValueError(f"projection must be 'perp' or 'signal'; got {projection!r}")
        self.projection = projection

    def __call__(self, expr: sp.Expr, samples: list[Sample]) -> sp.Expr:
        inputs = {smp.x: smp.index for smp in samples}
        total = sp.Integer(0)
        for term in sp.Add.make_args(sp.expand(expr)):
            coeff, factors = term.as_coeff_mul()
            powers: dict[int, int] = defaultdict(int)
            dots: list[Dot] = []
            rest = sp.sympify(coeff)
            for f in factors:
                base, exp = f.as_base_exp()
                index = _residual_index(base) if isinstance(base, sp.Symbol) else None
                if index is not None:
                    powers[index] += int(exp)
                elif isinstance(base, Dot) and any(a in inputs for a in base.args):
                    dots.extend([base] * int(exp))
                else:
                    rest *= f
            total += rest * self._term(powers, dots, inputs)
        return sp.expand(total)

    def _term(self, powers, dots, inputs) -> sp.Expr:
        """Integrate one monomial; ``F_b = (σ_b − y_b)^{k_b}`` per sample."""
        F = {b: (sig - label(b)) ** powers.get(b, 0) for b in inputs.values()}
        if self.projection == "signal":
            return self._signal(F, dots, inputs)
        return self._perp(F, dots, inputs)

    def _perp(self, F, dots, inputs) -> sp.Expr:
        touched: dict[int, list] = defaultdict(list)   # sample → its other vector in each Dot
        cross = []
        for dot in dots:
            a, b = dot.args
            ia, ib = inputs.get(a), inputs.get(b)
            if ia is not None and ib is not None and ia != ib:
                cross.append((ia, ib))
            elif ia is not None and ib is not None:
                touched[ia].append("trace")
            else:
                index, other = (ia, b) if ia is not None else (ib, a)
                touched[index].append(other)
        if cross:
            if len(cross) > 1 or touched:
                raise NotImplementedError("only one cross-sample inner product per term")
            ia, ib = cross[0]
            out = (sample_mean(sigmoid_derivative(F[ia], 1), ia)
                   * sample_mean(sigmoid_derivative(F[ib], 1), ib) * Dot(e, e))
            return out * sp.Mul(*(sample_mean(F[c], c) for c in F if c not in (ia, ib)))
        out = sp.Integer(1)
        for index, poly in F.items():
            others = touched.get(index, [])
            if not others:
                out *= sample_mean(poly, index)
            elif others == ["trace"]:
                out *= (sample_mean(poly, index) * (S.d - 1)
                        + sample_mean(sigmoid_derivative(poly, 2), index) * Dot(e, e))
            elif len(others) == 1:
                out *= sample_mean(sigmoid_derivative(poly, 1), index) * Dot(e, others[0])
            elif len(others) == 2 and "trace" not in others:
                w1, w2 = others
                out *= (sample_mean(poly, index) * Dot(w1, w2)
                        + sample_mean(sigmoid_derivative(poly, 2), index) * Dot(e, w1) * Dot(e, w2))
            else:
                raise NotImplementedError("more than two input factors of one sample")
        return out

    def _signal(self, F, dots, inputs) -> sp.Expr:
        along: dict[int, int] = defaultdict(int)
        for dot in dots:
            a, b = dot.args
            index, other = (inputs[a], b) if a in inputs else (inputs[b], a)
            if other != mu_hat:
                raise NotImplementedError("signal projection takes inner products with mu_hat")
            along[index] += 1
        out = sp.Integer(1)
        for index, poly in F.items():
            out *= signal_moment(poly, index, along.get(index, 0))
        return out


def signal_moment(poly: sp.Expr, index: int, n: int) -> sp.Expr:
    """``E[P(σ(c_b), y_b) ⟨x_b, μ̂⟩^n]`` for ``n ≤ 2``, with ``⟨x, μ̂⟩ = y ρ + t`` and
    Stein along ``t`` (``∂c/∂t = m``): ``E[F t] = m E[F']``, ``E[F t²] = E[F] + m² E[F'']``."""
    y = label(index)
    if n == 0:
        return sample_mean(poly, index)
    if n == 1:
        return (S.rho * sample_mean(sp.expand(y * poly), index)
                + signal * sample_mean(sigmoid_derivative(poly, 1), index))
    if n == 2:
        return (S.rho**2 * sample_mean(sp.expand(y * poly), index)
                + 2 * S.rho * signal * sample_mean(sp.expand(y * sigmoid_derivative(poly, 1)), index)
                + sample_mean(poly, index)
                + signal**2 * sample_mean(sigmoid_derivative(poly, 2), index))
    raise NotImplementedError("at most two inputs of one sample along mu_hat")

