"""High-dimensional limits: dominant balance, regions, timescales, convergence."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from sparsemom.derivations.limits.asymptotics import (
    ExponentPoint,
    gamma,
    kappa,
    leading_term,
    sigma,
)
from sparsemom.derivations.limits.decay import hurwitz_stable, linear_dynamics_decay
from sparsemom.derivations.limits.phase_diagram import phase_atlas, regions
from sparsemom.derivations.limits.scaling_limits import scaling_limit
from sparsemom.derivations.properties.timescales import timescales
from sparsemom.numerics.analysis.phase_map import phase_map

SIGMA = Fraction(3, 2)

#: One interior point per region at σ = 3/2 and the region the algebra must give.
REGIONS = {
    "coherent": ((Fraction(1, 8), Fraction(4, 5)), {-kappa + sigma - 1}, "heavy-ball"),
    "incoherent dense above resonance": ((Fraction(23, 20), Fraction(1)),
                                         {sigma - kappa, kappa - sigma + 1, gamma - kappa + sigma - 1},
                                         "heavy-ball"),
    "incoherent sparse above resonance": ((Fraction(27, 10), Fraction(5, 2)),
                                          {gamma - kappa + sigma - 1, kappa - sigma}, "heavy-ball"),
    "incoherent dense below resonance": ((Fraction(23, 20), Fraction(1, 10)),
                                         {1 + kappa - sigma - gamma, sigma - kappa}, "sgd"),
    "incoherent sparse memoryless": ((Fraction(27, 10), Fraction(2, 5)), {kappa - sigma - gamma}, "sgd"),
    "incoherent sparse below resonance": ((Fraction(27, 10), Fraction(8, 5)),
                                          {gamma - kappa + sigma, 1 + kappa - sigma - gamma,
                                           kappa - sigma}, "sgd"),
}


def _exprs(limit):
    return {sp.expand(c) for c in limit.inequalities}


@pytest.mark.parametrize("name", list(REGIONS))
def test_heavy_ball_regions_are_derived_with_their_inequalities(name):
    (k, g), inequalities, family = REGIONS[name]
    limit = scaling_limit("lsq", "heavy-ball", ExponentPoint(k, SIGMA, g, 0))
    assert limit.phase == name
    assert limit.family == family
    assert _exprs(limit) == {sp.expand(c) for c in inequalities}
    assert limit.dimension == (3 if family == "heavy-ball" else 1)


@pytest.mark.parametrize("name", list(REGIONS))
def test_every_point_satisfying_a_region_gets_its_phase(name):
    """The inequalities are the region: random points inside classify the same."""
    (k, g), _, _ = REGIONS[name]
    limit = scaling_limit("lsq", "heavy-ball", ExponentPoint(k, SIGMA, g, 0))
    rng = np.random.default_rng(7)
    found = 0
    while found < 4:
        kk, ss, gg = (Fraction(int(x * 100), 100) + Fraction(1, 997) for x in rng.uniform(0, 3.5, 3))
        values = {kappa: kk, sigma: ss, gamma: gg}
        if all(c.xreplace(values) > 0 for c in limit.inequalities):
            other = scaling_limit("lsq", "heavy-ball", ExponentPoint(kk, ss, gg, 0))
            assert other.phase == name, (kk, ss, gg, other.phase)
            found += 1


def test_timescale_exponents_and_phase_ratio():
    """τ_R ~ d^(γ−κ+σ) with memory (sparse), τ_L at the resonant lr equals it,
    and below resonance τ_L ~ d (the noise-limited lr)."""
    above = scaling_limit("lsq", "heavy-ball", ExponentPoint(Fraction(27, 10), SIGMA, Fraction(5, 2), 0))
    assert above.retention_exponent == Fraction(5, 2) - Fraction(27, 10) + SIGMA
    assert above.learning_exponent == above.retention_exponent == above.time_exponent
    assert above.point.theta == Fraction(27, 10) - 2 * Fraction(5, 2)  # lr ~ ε²/p: critical damping
    below = scaling_limit("lsq", "heavy-ball", ExponentPoint(Fraction(27, 10), SIGMA, Fraction(8, 5), 0))
    assert below.learning_exponent == 1 and below.retention_exponent < 1
    assert below.point.theta == SIGMA - 1 - Fraction(8, 5)  # noise bound: η/ε ~ B/d


def test_lazy_momentum_resonates_at_gamma_one_whatever_the_sparsity():
    """Lazy retention 1/(1−β) ignores p: its sparse resonance is γ = 1, no memoryless region."""
    for k in (Fraction(21, 10), Fraction(27, 10), Fraction(33, 10)):
        above = scaling_limit("lsq", "lazy", ExponentPoint(k, SIGMA, Fraction(6, 5), 0))
        below = scaling_limit("lsq", "lazy", ExponentPoint(k, SIGMA, Fraction(4, 5), 0))
        assert above.phase == "incoherent sparse above resonance"
        assert below.phase == "incoherent sparse below resonance"
        assert sp.expand(gamma - 1) in _exprs(above)
    assert "memoryless" not in scaling_limit("lsq", "lazy", ExponentPoint(Fraction(27, 10), SIGMA,
                                                                         Fraction(1, 5), 0)).phase


def test_boundaries_and_triple_point_are_reported():
    at = scaling_limit("lsq", "heavy-ball", ExponentPoint(Fraction(23, 20), SIGMA, Fraction(13, 20), 0))
    assert at.phase == "incoherent dense at resonance"
    assert {sp.expand(e) for e in at.equalities} == {sp.expand(kappa - sigma + 1 - gamma)}
    triple = scaling_limit("lsq", "heavy-ball", ExponentPoint(SIGMA - 1, SIGMA, 0, 0, eps_star=Fraction(1, 2)))
    assert triple.phase.startswith("coherence boundary")
    assert {sp.expand(e) for e in triple.equalities} == {sp.expand(kappa - sigma + 1), gamma}
    critical = scaling_limit("lsq", "heavy-ball", ExponentPoint(SIGMA, SIGMA, Fraction(1, 2), 0))
    assert "critical" in critical.phase


def test_free_lr_above_the_noise_bound_is_unstable_and_below_is_sgd():
    pt = ExponentPoint(Fraction(23, 20), SIGMA, Fraction(1, 10), Fraction(3, 5))
    assert scaling_limit("lsq", "heavy-ball", pt, "free").family == "unstable"
    assert scaling_limit("lsq", "heavy-ball", pt.with_theta(0), "free").family == "sgd"


def test_leading_terms_of_the_retention():
    """τ_R = (p_B + ε − p_B ε)/ε: memoryless (→ 1) when ε ≫ p_B, else p_B/ε."""
    tau_r = timescales("lsq", "heavy-ball").retention
    memoryless = leading_term(tau_r, ExponentPoint(2, 1, Fraction(1, 2), 0))
    assert (memoryless.coefficient, memoryless.exponent) == (1, 0)
    memory = leading_term(tau_r, ExponentPoint(2, 1, Fraction(3, 2), 0, p_star=Fraction(1, 3),
                                               batch_star=2))
    assert memory.coefficient == Fraction(2, 3) and sp.expand(memory.exponent - (gamma - kappa + sigma)) == 0
    dense = leading_term(tau_r, ExponentPoint(Fraction(1, 2), 1, Fraction(1, 2), 0, eps_star=3))
    assert dense.coefficient == sp.Rational(1, 3) and dense.exponent == gamma


def test_fixed_batches_are_refused_only_past_the_digits_of_their_power():
    """The digit count floored every factor at one digit: ``p* = 1/2, B* = 5000`` (about
    1 505 digits) and ``p* = 1`` (``0^B* = 0``) were refused."""
    base = dict(kappa=0, sigma=0, gamma=1, theta=0)
    assert ExponentPoint(**base, p_star=Fraction(1, 2), batch_star=5000).batch_star == 5000
    assert ExponentPoint(**base, p_star=1, batch_star=10**12).batch_star == 10**12


@pytest.mark.parametrize("bad, match", [
    (dict(kappa=-1), "kappa must be >= 0"), (dict(sigma=-1), "sigma must be >= 0"),
    (dict(gamma=-1), "gamma must be >= 0"), (dict(lr_star=0), "lr_star must be > 0"),
    (dict(gamma=0, eps_star=2), "eps_star must be <= 1"),
    (dict(sigma=0, batch_star=Fraction(3, 2)), "batch_star must be an integer"),
    # κ = σ = 0: p_B = 1 − (1 − p*)^B* is exact; at B* = 10^12 the limit ran for hours
    (dict(kappa=0, sigma=0, p_star=Fraction(1, 1000), batch_star=10**12),
     r"batch_star must keep \(1 - p_star\)\^batch_star.*within 4000 digits: batch_star ≤ 1333"),
])
def test_bad_exponent_points_raise(bad, match):
    args = dict(kappa=1, sigma=1, gamma=1, theta=0) | bad
    with pytest.raises(ValueError, match=match):
        ExponentPoint(**args)


def test_bad_lr_rule_raises():
    with pytest.raises(ValueError, match="lr_rule must be one of"):
        scaling_limit("lsq", "heavy-ball", ExponentPoint(1, 1, 1, 0), "biggest")


def test_atlas_finds_the_six_regions_and_no_other_interior_phase():
    kappas = [Fraction(x).limit_denominator(100) + Fraction(1, 997) for x in np.linspace(0.05, 3.4, 9)]
    gammas = [Fraction(x).limit_denominator(100) + Fraction(1, 991) for x in np.linspace(0.05, 2.9, 8)]
    found = regions(phase_atlas("lsq", "heavy-ball", SIGMA, kappas, gammas))
    assert set(found) == set(REGIONS)


def test_logistic_rare_class_regions_do_not_depend_on_kappa():
    """M2 (h → p, w → p²e^{ρ²}): every step is active, retention is 1/(1−β) whatever
    p, and curvature and noise both scale with p, so the regions are κ-free:
    coherent σ > 1; above resonance γ > 1 − σ; below resonance γ < 1 − σ."""
    F = Fraction
    kappas = [F(1, 3), F(1), F(2), F(3)]
    gammas = [F(1, 10), F(1, 3), F(3, 4), F(2)]
    found = regions(phase_atlas("logistic", "heavy-ball", F(1, 2), kappas, gammas))
    assert found == {"incoherent below resonance": ("-gamma - sigma + 1 > 0",),
                     "incoherent above resonance": ("gamma + sigma - 1 > 0", "1 - sigma > 0")}
    coherent = scaling_limit("logistic", "heavy-ball", ExponentPoint(F(1, 2), F(3, 2), F(1), 0))
    assert coherent.phase == "coherent" and coherent.inequality_strings() == ["sigma - 1 > 0"]
    lazy = scaling_limit("logistic", "lazy", ExponentPoint(F(2), F(1, 2), F(1), 0))
    hb = scaling_limit("logistic", "heavy-ball", ExponentPoint(F(2), F(1, 2), F(1), 0))
    assert (lazy.phase, lazy.time_exponent, lazy.matrix) == (hb.phase, hb.time_exponent, hb.matrix)
    with pytest.raises(ValueError, match="kappa > 0"):
        scaling_limit("logistic", "heavy-ball", ExponentPoint(0, 0, 1, 0))



@pytest.mark.parametrize("rho", [1, 6, 10, 26])
def test_logistic_lr_prefactor_bound_keeps_its_digits_far_below_one(rho):
    """The largest stable lr prefactor of the rare-class law falls like e^(−ρ²); rounded
    with a fixed denominator (10^12) it became 0 from ρ = 6 on, and the limit failed with
    "lr_star must be > 0". It is kept within a relative 1e-12."""
    point = ExponentPoint(Fraction(1), Fraction(0), Fraction(0), 0, rho=Fraction(rho))
    limit = scaling_limit("logistic", "heavy-ball", point)
    note = next(n for n in limit.notes if "outside the stable range" in n)
    bound = Fraction(note.split("eta* < ")[1].split(";")[0])
    assert 0 < bound < 1 and limit.point.lr_star == bound / 2
    if rho >= 6:
        assert bound < Fraction(1, 10**12)

#: One point per derived region (heavy ball), and κ = σ = 0.
REGION_POINTS = [("1/8", "3/2", "4/5"), ("23/20", "3/2", "1"), ("23/20", "3/2", "1/10"),
                 ("27/10", "3/2", "5/2"), ("27/10", "3/2", "2/5"), ("27/10", "3/2", "8/5"),
                 ("1/2", "1/2", "1/2"), ("0", "0", "1/2")]


@pytest.mark.parametrize("k, s, g", REGION_POINTS)
def test_every_free_lr_exponent_gets_an_answer(k, s, g):
    """A free learning-rate exponent once crashed with a private `_Inconsistent` error
    (e.g. κ = σ = γ = 1/2, θ = −2/5; κ, σ, γ = 27/10, 3/2, 8/5 with θ = 0, 1, 5): every
    exponent gets a phase with its limit, or unstable with a positive growth rate."""
    for theta in (Fraction(-2, 5), Fraction(0), Fraction(5)):
        limit = scaling_limit("lsq", "heavy-ball",
                              ExponentPoint(Fraction(k), Fraction(s), Fraction(g), theta), "free")
        assert limit.family in ("sgd", "heavy-ball", "unstable")
        if limit.family == "unstable":
            assert limit.growth_rate >= 0, (k, s, g, theta)
        else:
            assert limit.growth_rate < 0, (k, s, g, theta)
    # far above every bound the dynamics blow up
    assert limit.family == "unstable" and limit.growth_rate > 0


def test_cli_accepts_negative_fractions(capsys):
    from sparsemom.numerics.cli import main

    assert main(["phase", "--sparsity", "27/10", "--batch", "3/2", "--momentum", "8/5",
                 "--lr-rule", "free", "--lr-exponent", "-4/5"]) == 0
    out = capsys.readouterr().out
    assert "theta=-4/5" in out and "growth:" in out


def test_exact_hurwitz_criterion_agrees_with_numeric_roots():
    """The family of a limit is decided exactly (Routh–Hurwitz on the characteristic
    polynomial); on random integer polynomials it agrees with NumPy's roots wherever
    those are clear of the imaginary axis."""
    rng = np.random.default_rng(7)
    decided = 0
    for _ in range(300):
        degree = int(rng.integers(1, 5))
        coeffs = [int(c) for c in rng.integers(-6, 7, size=degree + 1)]
        if coeffs[0] == 0:
            continue
        real = np.roots(coeffs).real
        if np.min(np.abs(real)) < 1e-6:
            continue
        assert hurwitz_stable([sp.Integer(c) for c in coeffs]) == bool(np.all(real < 0)), coeffs
        decided += 1
    assert decided > 200
    # a map X' = (I + L) X: eigenvalues of I + L inside the unit circle
    for entries in ([[-1, 0], [0, -1]], [[-3, 0], [0, -1]], [[0, 1], [-1, 0]], [[-2, 0], [0, -1]]):
        L = sp.Matrix(entries)
        mu = np.linalg.eigvals(np.eye(2) + np.array(entries, dtype=float))
        if np.min(np.abs(np.abs(mu) - 1)) > 1e-9:
            assert linear_dynamics_decay(L, discrete=True) == bool(np.all(np.abs(mu) < 1)), entries
        else:
            assert not linear_dynamics_decay(L, discrete=True), entries


def test_phase_map_labels_a_fine_grid_from_the_derived_regions():
    """Six regions on a 60×50 grid from a few exact derivations (one per region plus
    checks); random grid points re-derived exactly get the phase the map gave them; the
    region polygons tile the box (their areas sum to its area)."""
    kappas = [Fraction(x).limit_denominator(10**4) + Fraction(1, 997) for x in np.linspace(0.05, 3.4, 60)]
    gammas = [Fraction(x).limit_denominator(10**4) + Fraction(1, 991) for x in np.linspace(0.05, 2.9, 50)]
    phases = phase_map("lsq", "heavy-ball", SIGMA, kappas, gammas, check=1)
    assert set(phases.phases) == set(REGIONS)
    assert (phases.labels >= 0).all() and phases.exact <= 2 * len(REGIONS) + 2
    rng = np.random.default_rng(3)
    for i, j in zip(rng.integers(0, len(gammas), 6), rng.integers(0, len(kappas), 6)):
        exact = scaling_limit("lsq", "heavy-ball", ExponentPoint(kappas[j], SIGMA, gammas[i], 0))
        assert exact.phase == phases.phases[phases.labels[i, j]]
    area = sum(0.5 * abs(np.dot(p[:, 0], np.roll(p[:, 1], 1)) - np.dot(p[:, 1], np.roll(p[:, 0], 1)))
               for p in phases.polygons if p is not None)
    box = (max(kappas) - min(kappas)) * (max(gammas) - min(gammas))
    assert area == pytest.approx(float(box), rel=1e-9)
