"""The phase plane of power-law data and its compute-optimal exponents
(``derivations/limits/power_law_phases.py``)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from sparsemom.derivations.limits.power_law_phases import (
    PHASES,
    alpha,
    beta,
    compute_optimal,
    compute_optimal_formulas,
    crossover_exponent,
    kernel_part_exponent,
    phase_of,
    random_features_terms,
    spectral_decay,
    time_exponent,
    truncated_power_law_terms,
)

#: The compute-optimal exponents of [4+3] (arXiv 2405.15074, Table 2, as recalled), written
#: here from the paper, not from the module: ``d* ∝ f^ξ``, ``P* ∝ f^{−η}``.
PUBLISHED = {
    "Ia": (1 / (2 * alpha + 1), (2 * alpha + 2 * beta - 1) / (2 * alpha + 1)),
    "II": (beta / (alpha + beta), (2 * alpha + 2 * beta - 1) / (2 * (alpha + beta))),
    "III": (sp.Rational(1, 2), 1 - 1 / (4 * alpha)),
}


@pytest.mark.parametrize("p,a", [(Fraction(5, 2), Fraction(1)), (Fraction(3), Fraction(7, 10)),
                                 (Fraction(2), Fraction(3, 4))])
def test_the_spectral_decay_is_the_slope_of_the_sum(p, a):
    """``Σ_j j^{−p} e^{−t j^{−2a}}`` summed (10⁷ terms, far past where ``t j^{−2a}`` is small)
    falls as ``t^{−(p−1)/(2a)}``: the log-log slope between ``t = 10⁴`` and ``10⁵``, against
    the derived exponent, within 1 %."""
    exponent = spectral_decay(sp.Rational(str(p)), sp.Rational(str(a)))
    assert exponent == sp.Rational(str(p - 1)) / (2 * sp.Rational(str(a)))
    j = np.arange(1, 10**7, dtype=float)
    weights = j ** -float(p)
    sums = [np.sum(weights * np.exp(-t * j ** (-2 * float(a)))) for t in (1e4, 1e5)]
    slope = -np.log(sums[1] / sums[0]) / np.log(10)
    assert slope == pytest.approx(float(exponent), rel=0.01)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_the_derived_exponents_are_the_published_ones(name):
    """The balance of the two terms that cross at the optimum gives, throughout the phase,
    the published ``ξ`` and ``η``."""
    phase = next(p for p in PHASES if p.name == name)
    xi, eta = compute_optimal_formulas(random_features_terms(), phase)
    assert sp.simplify(xi - PUBLISHED[name][0]) == 0
    assert sp.simplify(eta - PUBLISHED[name][1]) == 0


def test_the_exponents_are_continuous_across_the_phase_boundaries():
    """Ia and II agree on ``β = ½``, II and III on ``β = α``; and on the II/III boundary at
    ``α = 0.7``, ``η = 9/14 = 0.643`` (the prediction the paper measures as 0.648)."""
    formulas = {p.name: compute_optimal_formulas(random_features_terms(), p)
                for p in PHASES if p.name in PUBLISHED}
    for a_, b_, boundary in (("Ia", "II", {beta: sp.Rational(1, 2)}), ("II", "III", {beta: alpha})):
        for k in range(2):
            assert sp.simplify((formulas[a_][k] - formulas[b_][k]).subs(boundary)) == 0
    optimum = compute_optimal(random_features_terms(), Fraction(7, 10), Fraction(7, 10))
    assert (optimum.xi, optimum.eta) == (Fraction(1, 2), Fraction(9, 14))


def test_the_optimum_is_the_best_of_a_fine_grid():
    """At random rational points on both sides of the high-dimensional line, no ``ξ`` of a
    grid of 2001 does better than :func:`compute_optimal`, and the terms present at the
    optimum (just left of it when terms saturate there) are at its value: ``f^{−η}`` is the
    largest term ``η^k (η t)^{−a} d^{−b}`` at ``d = f^ξ``, ``t = f^{1−ξ}`` and the authors'
    ``η = 1/tr K ≍ d^{−max(0, 1 − 2α)}``, a term of saturation ``s`` counting only while
    ``η t < d^s``."""
    rng = np.random.default_rng(3)
    for terms in (random_features_terms(), truncated_power_law_terms()):
        for _ in range(40):
            a = Fraction(int(rng.integers(5, 200)), 100)
            b = Fraction(int(rng.integers(1, 200)), 100)
            if a == Fraction(1, 2) or 2 * (a + b) <= 1:
                continue
            optimum = compute_optimal(terms, a, b)
            point = {alpha: sp.Rational(a.numerator, a.denominator),
                     beta: sp.Rational(b.numerator, b.denominator)}
            g = max(Fraction(0), 1 - 2 * a)          # log_f η = −g ξ

            def number(expr):
                return Fraction(str(sp.nsimplify(sp.piecewise_fold(sp.sympify(expr)).subs(point))))

            lines = [(number(t.time_exponent), number(t.dimension_exponent), t.lr_power,
                      None if t.saturation is None else number(t.saturation))
                     for t in terms if bool(t.condition.subs(point))]

            def largest_term_exponent(xi):
                log_lr, log_t = -g * xi, 1 - xi
                live = [-(k * log_lr - ai * (log_lr + log_t) - bi * xi)
                        for ai, bi, k, s in lines if s is None or log_lr + log_t < s * xi]
                return min(live) if live else Fraction(10**9)

            assert all(largest_term_exponent(Fraction(k, 2000)) <= optimum.eta
                       for k in range(2001))
            probe = optimum.xi - Fraction(1, 10**9) if optimum.saturated else optimum.xi
            assert abs(largest_term_exponent(probe) - optimum.eta) < Fraction(1, 10**6)


def test_the_phases_are_disjoint_and_their_boundaries_belong_to_none():
    """Every sample lies in its own phase; random points lie in at most one; points on a
    boundary (``2β = 1``, ``β = α``, ``2α = 1``, ``4α = 1``) in none."""
    for phase in PHASES:
        assert phase_of(*phase.sample) == phase.name
    rng = np.random.default_rng(5)
    for _ in range(200):
        a, b = (Fraction(int(rng.integers(1, 300)), 200) for _ in range(2))
        point = {alpha: sp.Rational(a.numerator, a.denominator),
                 beta: sp.Rational(b.numerator, b.denominator)}
        assert sum(bool(p.condition.subs(point)) for p in PHASES) <= 1
    for a, b in ((Fraction(7, 10), Fraction(1, 2)), (Fraction(7, 10), Fraction(7, 10)),
                 (Fraction(1, 2), Fraction(4, 5)), (Fraction(1, 4), Fraction(4, 5))):
        assert phase_of(a, b) is None


def test_on_the_high_dimensional_line_no_exponent_is_claimed():
    with pytest.raises(ValueError, match=r"alpha must not be 1/2"):
        compute_optimal(random_features_terms(), Fraction(1, 2), Fraction(4, 5))


#: Below the line, derived here by the learning-rate substitution ``η ∝ d^{2α−1}`` (written
#: from the balance in the test): Ib balances ``Fpp`` against ``F0 = d^{−(2α+2β−1)}`` just as
#: both saturate at ``t = d``; IV balances the noise kernel ``η (ηt)^{−(4α−1)/(2α)}`` against
#: ``F0 = d^{−2α}`` there too; Ic balances ``(ηt)^{−a}``, ``a = (2α+2β−1)/(2α)``, against
#: ``d^{−2α}``.
BELOW_THE_LINE = {
    "Ib": (sp.Rational(1, 2), alpha + beta - sp.Rational(1, 2)),
    "IV": (sp.Rational(1, 2), alpha),
    "Ic": ((2 * alpha + 2 * beta - 1) / (2 * alpha)
           / (2 * alpha + (2 * alpha + 2 * beta - 1) / (2 * alpha) * 2 * (1 - alpha)),
           2 * alpha * (2 * alpha + 2 * beta - 1) / (2 * alpha)
           / (2 * alpha + (2 * alpha + 2 * beta - 1) / (2 * alpha) * 2 * (1 - alpha))),
}


@pytest.mark.parametrize("name", sorted(BELOW_THE_LINE))
def test_below_the_line_the_exponents_follow_from_the_learning_rate_rule(name):
    """Ib and IV have the universal ``d* ∝ f^{1/2}`` (with ``η = α + β − ½`` and ``α``);
    Ic's crossing lies past it."""
    phase = next(p for p in PHASES if p.name == name)
    xi, eta = compute_optimal_formulas(random_features_terms(), phase)
    assert sp.simplify(xi - BELOW_THE_LINE[name][0]) == 0
    assert sp.simplify(eta - BELOW_THE_LINE[name][1]) == 0


def test_the_kernel_part_has_no_power_law_where_the_kernel_is_not_summable():
    """``4α < 1``: ``Σ_j λ_j² e^{−2ηλ_j t}`` is flat until the last modes are learnt."""
    assert kernel_part_exponent(random_features_terms(), Fraction(1, 5), Fraction(4, 5)) is None
    assert kernel_part_exponent(random_features_terms(), Fraction(2, 5), Fraction(4, 5)) \
        == Fraction(3, 4)


@pytest.mark.parametrize("a,b,message", [
    (Fraction(7, 10), Fraction(-1, 2), "2\\*\\(alpha \\+ beta\\) > 1"),   # was η = 0
    (float("nan"), Fraction(3, 10), "alpha must be a finite number"),
    (Fraction(7, 10), float("inf"), "beta must be a finite number"),
    (Fraction(7, 10), "x", "beta must be a finite number"),
])
def test_a_point_outside_the_plane_of_finite_risk_is_refused_naming_it(a, b, message):
    """``2(α + β) ≤ 1`` has no finite initial risk in the population limit: no exponent;
    a non-number is named (``Fraction`` said "cannot convert NaN to integer ratio")."""
    with pytest.raises(ValueError, match=message):
        compute_optimal(random_features_terms(), a, b)
    if "2" not in message:
        with pytest.raises(ValueError, match=message):
            phase_of(a, b)


def test_the_truncated_power_law_has_no_embedding_term():
    """Without random features the pure-point forcing balances the tail floor wherever the
    target decays slower than the noise (``β < α``): Ia's exponents, also for ``2β > 1``;
    where the noise decays slower (``β > α``) it has not reached the floor when the slowest
    mode is learnt, so the optimum is the saturation ``t = d^{2α}``: the same exponents."""
    optimum = compute_optimal(truncated_power_law_terms(), Fraction(7, 10), Fraction(3, 5))
    assert optimum.balance == ("Fpp", "F0") and optimum.saturated == ()
    assert optimum.xi == Fraction(1, 1 + 2 * Fraction(7, 10))
    optimum = compute_optimal(truncated_power_law_terms(), Fraction(7, 10), Fraction(1))
    assert optimum.balance == ("F0",) and "Kpp" in optimum.saturated
    assert (optimum.xi, optimum.eta) == (Fraction(5, 12), Fraction(1))


def test_the_term_exponents_the_studies_consume():
    """At a point, a term's time exponent (``None`` where it is absent), the noise-kernel
    part's (the slower of forcing and kernel), and the crossover of two terms, exact:
    ``Fpp = Fac`` at ``t = d^{α/β}``."""
    terms = random_features_terms()
    a, b = Fraction(7, 10), Fraction(3, 5)
    assert time_exponent(terms, "Fpp", a, b) == Fraction(8, 7)          # (2α + 2β − 1)/(2α)
    assert time_exponent(terms, "Fac", Fraction(7, 10), Fraction(3, 10)) is None   # 2β < 1
    assert kernel_part_exponent(terms, a, b) == Fraction(8, 7)           # β < α: the forcing
    assert kernel_part_exponent(terms, Fraction(7, 10), Fraction(1)) == Fraction(9, 7)  # Kpp
    assert crossover_exponent(terms, "Fpp", "Fac", a, b) == a / b
