"""The logistic rare-class model (M2): derivation, quadrature, linearisation, simulation."""

import numpy as np
import pytest
import sympy as sp

from sparsemom.derivations import symbols as S
from sparsemom.derivations.definitions.optimizers import UPDATE_RULES
from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.derivations.properties.stability import stability_conditions
from sparsemom.derivations.properties.timescales import timescales
from sparsemom.derivations.rare_class import statistics as M2
from sparsemom.derivations.rare_class.drift import (
    derive_statistics_map,
    unsupported_by_statistics_map,
)
from sparsemom.derivations.rare_class.linearisation import (
    class0_moment,
    constant_definitions,
    curvature,
    fourth_moment,
    linearise,
    rare_class_constants,
)
from sparsemom.derivations.rare_class.logistic_normal import (
    LogisticNormalMoment,
    SoftplusNormalMean,
)
from sparsemom.numerics.analysis.linearised import fisher_constants, stationary_bulk
from sparsemom.numerics.analysis.mean_field import expected_next, fixed_point, mean_field
from sparsemom.numerics.inputs.models import RareClassLogistic
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.kernels.logistic_normal import gauss_hermite, sigmoid_power, softplus
from sparsemom.numerics.simulate.harness import compare_with_theory
from sparsemom.numerics.simulate.logistic import (
    NAMES,
    monte_carlo_logistic,
    one_step_statistics,
    statistics_of,
)
from sparsemom.numerics.verify.logistic import check_linearisation, check_one_step, check_quadrature

#: The rules the logistic statistics map takes (state (e,) or (e, v), parameters lr, beta).
OPTIMIZERS = tuple(name for name, rule in UPDATE_RULES.items()
                   if unsupported_by_statistics_map(rule) is None)


# -- the model -----------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(d=1, p=0.1, rho=1), "d must be an integer ≥ 2"),
    (dict(d=10, p=0, rho=1), "p must be > 0"),
    (dict(d=10, p=1, rho=1), "p must be < 1"),
    (dict(d=10, p=0.1, rho=0), "rho must be > 0"),
    (dict(d=10, p=0.1, rho=1, R0=-1), "R0 must be ≥ 0"),
    (dict(d=10, p=[0.1, 0.2], rho=1), "p must be a scalar"),
    (dict(d=10, p=0.1, rho=1, s0=float("nan")), "s0 must be finite"),
    (dict(d=10**400, p=0.1, rho=1), "d must be an integer ≤ 2\\^53"),
])
def test_bad_input_is_a_clear_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RareClassLogistic(**kwargs)


def test_default_start_is_theta_zero():
    model = RareClassLogistic(10, 0.1, 2.0)
    assert model.s0 == -2.0 and model.R0 == 0


# -- the derivation ---------------------------------------------------------------
def test_lazy_is_heavy_ball_and_active_iterates_are_steps():
    """Every step is active (dense gradients), so both follow from a = 1."""
    hb = derive_statistics_map("logistic", "heavy-ball")
    assert derive_statistics_map("logistic", "lazy").update == hb.update
    for name in OPTIMIZERS:
        assert (derive_statistics_map("logistic", name, "active").update
                == derive_statistics_map("logistic", name, "steps").update)


def test_the_optimum_is_a_fixed_point_and_the_noise_there_is_the_curvature():
    """At θ = μ the signal does not move (optimality, derived through the Bayes
    change of measure), and the bulk forcing is η²(d−1)h/B: noise = curvature."""
    for name, step in (("heavy-ball", S.lr), ("nesterov", S.lr * (1 + S.beta))):
        lin = linearise(name)
        assert lin.forcing[0] == 0 and lin.forcing[1] == 0
        assert sp.simplify(lin.forcing[2] - step**2 * (S.d - 1) * curvature / S.batch) == 0
    sgd = linearise("sgd")
    assert sgd.state == (M2.s, M2.R_perp)
    expected_R = (1 - 2 * S.lr * curvature + S.lr**2 * curvature**2 * (1 - 1 / S.batch)
                  + S.lr**2 * (S.d + 1) * fourth_moment / S.batch)
    assert sp.simplify(sgd.transition[1, 1] - expected_R) == 0


def test_curvature_is_the_class0_first_moment_and_p_enters_it_linearly():
    h = constant_definitions()[curvature]
    assert sp.simplify(h - (1 - S.p) * class0_moment(1)) == 0
    series = rare_class_constants(order=2)
    assert sp.simplify(series[curvature] - (S.p - S.p**2 * sp.exp(S.rho**2))) == 0
    assert sp.simplify(series[fourth_moment] - S.p**2 * sp.exp(S.rho**2)) == 0


@pytest.mark.parametrize("p", [1e-3, 3e-4, 1e-4])
def test_rare_class_expansion_matches_quadrature_to_third_order(p):
    model = RareClassLogistic(10, p, 1.0)
    numeric = fisher_constants(model)
    series = rare_class_constants(order=2)
    for symbol in (curvature, fourth_moment):
        approx = float(series[symbol].subs({S.p: p, S.rho: 1.0}))
        assert abs(numeric[symbol.name] - approx) <= 20 * p**3 * np.exp(3.0)


def test_bulk_recursion_feeds_the_engine():
    """The linearised bulk block is a MomentRecursion: stability, timescales."""
    rec = recursion_for("logistic", "heavy-ball")
    assert rec.state == (M2.R_perp, M2.C_perp, M2.V_perp)
    t = timescales("logistic", "heavy-ball")
    assert sp.simplify(t.retention - 1 / (1 - S.beta)) == 0       # p_B = 1: no sparsity
    assert sp.simplify(t.learning - (1 - S.beta) / (2 * S.lr * curvature)) == 0
    conditions = stability_conditions("logistic", "heavy-ball")
    values = {S.beta: sp.Rational(1, 2), S.batch: 1, S.d: 100, curvature: sp.Rational(1, 20),
              fourth_moment: sp.Rational(1, 200)}
    assert all(c.subs({**values, S.lr: sp.Rational(1, 100)}) for c in conditions)
    assert not all(c.subs({**values, S.lr: 2}) for c in conditions)


def test_named_integrals_differentiate_exactly():
    m, v = sp.symbols("m v")
    S2 = LogisticNormalMoment(2, m, v)
    assert sp.diff(S2, m) == 2 * (S2 - LogisticNormalMoment(3, m, v))
    assert sp.diff(SoftplusNormalMean(m, v), m) == LogisticNormalMoment(1, m, v)
    assert LogisticNormalMoment(0, m, v) == 1
    assert LogisticNormalMoment(1, m, 0) == 1 / (1 + sp.exp(-m))


# -- quadrature --------------------------------------------------------------------
def test_gauss_hermite_matches_mpmath_at_50_digits():
    result = check_quadrature()
    assert result.passed, result.detail


def test_quadrature_order_grows_with_the_variance_and_bad_input_is_rejected():
    assert gauss_hermite(sigmoid_power(1), 0.0, 0.25).order < gauss_hermite(
        sigmoid_power(1), 0.0, 16.0).order
    assert gauss_hermite(softplus, [0.0, 1.0], [1.0, 2.0]).value.shape == (2,)
    with pytest.raises(ValueError, match="variance"):
        gauss_hermite(softplus, 0.0, -1.0)


# -- linearisation vs the full map -------------------------------------------------
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_linearised_map_is_the_first_order_taylor_polynomial(name):
    """‖F(δX) − (J δX + c)‖ / δ² stays constant as δ → 0 (slope 2)."""
    result = check_linearisation(name)
    assert result.passed, result.detail


def test_closed_form_stationary_bulk_matches_the_full_dynamics_to_first_order_in_lr():
    model = RareClassLogistic(50, 0.1, 2.0, s0=0.0, R0=0.0)
    gaps = []
    for lr in (0.01, 0.005, 0.0025, 0.00125):
        opt = Optimizer("heavy-ball", lr=lr, beta=0.5)
        closed = stationary_bulk(model, opt)
        full = fixed_point(model, opt, closed)["R_perp"]
        gaps.append(abs(full / closed["R_perp"] - 1))
    slopes = np.diff(np.log(gaps)) / np.log(0.5)
    assert np.all((slopes > 0.9) & (slopes < 1.1))


# -- Monte Carlo -------------------------------------------------------------------
@pytest.mark.parametrize("name, batch", [("sgd", 1), ("heavy-ball", 3), ("nesterov", 2)])
def test_one_step_drift_is_exact_at_finite_d(name, batch):
    """E[X_1 | X_0] from 40 000 sampled batches vs the derived map, through the
    harness (Holm over the statistics, alpha = 0.01)."""
    result = check_one_step(name, batch)
    assert result.passed, result.detail


def test_one_step_harness_rejects_a_wrong_drift():
    """Power: the same samples reject the classic slip of taking the trace of the
    orthogonal projector as d instead of d − 1 (one extra η²E[r²]/B in R⊥)."""
    d = 12
    opt = Optimizer("sgd", lr=0.3, batch=1)
    error = 0.4 * np.random.default_rng(5).standard_normal(d)
    X0 = dict(zip(NAMES, statistics_of(error, None)))
    samples = one_step_statistics(RareClassLogistic(d, 0.2, 1.5), opt, error, None,
                                  draws=40_000, seed=11)[:, [0, 2]]
    slipped = expected_next(RareClassLogistic(d + 1, 0.2, 1.5), opt, X0)
    assert not compare_with_theory(samples, np.array([slipped["s"], slipped["R_perp"]]),
                                   alpha=0.01).passed


def test_monte_carlo_concentrates_on_the_mean_field_prediction():
    """RMS deviation of (s, R⊥) from the prediction falls like d^(-1/2)."""
    rms = []
    dims = (60, 240)
    for d in dims:
        model = RareClassLogistic(d, 0.2, 2.0)
        opt = Optimizer("heavy-ball", lr=1.0 / d, beta=0.5)
        steps = 2 * d
        pred = mean_field(model, opt, steps)
        mc = monte_carlo_logistic(model, opt, steps, runs=48, seed=3, record_every=d // 6)
        dev = mc.statistics[:, :, [0, 2]] - pred.state[mc.steps][None, :, [0, 2]]
        rms.append(np.sqrt(np.mean(dev**2)))
    rate = np.log(rms[0] / rms[1]) / np.log(dims[1] / dims[0])
    assert 0.3 < rate < 0.8, rate


def test_monte_carlo_validates_its_input():
    model = RareClassLogistic(10, 0.2, 1.0)
    opt = Optimizer("heavy-ball", lr=0.1, beta=0.5)
    with pytest.raises(ValueError, match="runs"):
        monte_carlo_logistic(model, opt, 5, runs=0, seed=1)
    with pytest.raises(ValueError, match="error must have shape"):
        one_step_statistics(model, opt, np.zeros(3), None, draws=10, seed=1)
    with pytest.raises(ValueError, match="lr and beta must be scalars"):
        mean_field(model, Optimizer("heavy-ball", lr=[0.1, 0.2], beta=0.5), 3)


def test_unstable_parameters_are_reported_not_nan():
    """Above the linearised stability bound the bulk energy grows without bound
    (the logistic loss flattens far out, so growth is polynomial, not an overflow);
    an overflow is flagged as divergence with inf afterwards, never NaN."""
    model = RareClassLogistic(100, 0.3, 1.0)
    opt = Optimizer("heavy-ball", lr=3.0, beta=0.9)
    h, w = (fisher_constants(model)[n] for n in ("h", "w"))
    values = {S.lr: 3, S.beta: sp.Rational(9, 10), S.batch: 1, S.d: 100, curvature: h,
              fourth_moment: w}
    assert not all(c.subs(values) for c in stability_conditions("logistic", "heavy-ball"))
    bulk = mean_field(model, opt, 200).statistic("R_perp")
    assert np.all(np.diff(bulk[1:]) > 0) and bulk[-1] > 1e4
    with pytest.warns(RuntimeWarning, match="diverged"):
        trajectory = mean_field(model, Optimizer("heavy-ball", lr=1e60, beta=0.9), 5)
    assert trajectory.diverged_at == 1
    assert not np.any(np.isnan(trajectory.state))
    assert np.all(np.isinf(trajectory.risks["squared error"][1:]))


def test_logistic_sweep_agrees_with_monte_carlo_and_draws_into_its_axes():
    import matplotlib.pyplot as plt

    from sparsemom.numerics.analysis.mean_field_convergence import StudySetup
    from sparsemom.numerics.runtime.plotting import new_figure
    from sparsemom.numerics.studies.logistic_sweeps import (
        SWEPT,
        checks,
        plot_sweep,
        predicted_at_horizon,
        run_sweeps,
        sweeps_table,
    )

    setup = StudySetup(runs=40)
    (sweep,) = run_sweeps(setup, d=200, fine=5, names=("batch",), workers=1)
    assert sweep.values == SWEPT["batch"][1] and len(sweep.points) == len(sweep.values)
    assert sorted(sweep.values) == [1, 2, 4, 8]
    results = checks([sweep])
    assert all(r.passed for r in results), "\n".join(map(str, results))
    # the line is the mean field at the horizon, and the last record is the horizon
    assert sweep.predicted[0] == predicted_at_horizon(setup, 200)       # B = 1 is the base
    point = sweep.points[0]
    assert point.predicted["excess cross-entropy"][-1] == pytest.approx(sweep.predicted[0])
    before = plt.get_fignums()
    figure = new_figure((4, 3))
    ax = figure.add_subplot()
    assert plot_sweep(sweep, 200, ax=ax) is ax
    assert figure.axes == [ax] and plt.get_fignums() == before and len(ax.lines) >= 1
    # the figure's data: each line with the whole problem it was computed at
    table = sweeps_table(setup, [sweep], 200)
    line, mc = table[table.series == "mean field"], table[table.series == "Monte Carlo"]
    assert list(line.batch) == list(sweep.grid) and list(line.swept_value) == list(sweep.grid)
    assert list(line["excess cross-entropy"]) == list(sweep.predicted)
    assert list(mc.batch) == [1, 8, 2, 4] and set(table.swept) == {"batch"}
    assert list(mc.stderr) == [pt.simulated_stderr["excess cross-entropy"][-1]
                               for pt in sweep.points]
    assert set(table.p) == {setup.p} and set(table.beta) == {setup.beta} and set(table.d) == {200}
