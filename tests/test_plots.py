"""Figures are composed of ``plot_*`` functions that draw into an ``Axes`` they are
given: nothing is drawn through pyplot, no other Axes is added to the caller's figure."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

from sparsemom.derivations.limits.asymptotics import ExponentPoint
from sparsemom.derivations.limits.scaling_limits import scaling_limit
from sparsemom.numerics.analysis.mean_field_convergence import StudySetup
from sparsemom.numerics.analysis.scaling_limit import rescaled_times
from sparsemom.numerics.runtime.plotting import new_figure
from sparsemom.numerics.studies.logistic import (
    plot_concentration,
    plot_mean_field_vs_monte_carlo,
    plot_rare_class_phases,
)
from sparsemom.numerics.studies.paper import plot_risk_curves, plot_stability_region


def _axes():
    figure = new_figure((4, 3))
    return figure, figure.add_subplot()


def _drew_only_there(figure, ax, before) -> bool:
    drawn = len(ax.lines) + len(ax.collections) + len(ax.patches) + len(ax.containers)
    return drawn > 0 and figure.axes == [ax] and plt.get_fignums() == before


def test_stability_region_and_risk_curves_draw_into_their_axes():
    before = plt.get_fignums()
    figure, ax = _axes()
    lr, eps = np.meshgrid(np.geomspace(0.01, 1, 5), np.geomspace(0.01, 1, 4))
    plot_stability_region(ax, lr, eps, {1.0: lr < 0.5, 0.1: lr < 0.2}, "stable")
    assert _drew_only_there(figure, ax, before) and ax.get_title() == "stable"

    figure, ax = _axes()
    limit = scaling_limit("lsq", "sgd", ExponentPoint(Fraction(23, 20), Fraction(3, 2), 0, 0))
    t = rescaled_times(limit, 8)
    runs = np.random.default_rng(1).uniform(0.5, 1.0, (5, t.size))
    plot_risk_curves(ax, limit, t, {48: np.exp(-t), 10**4: np.exp(-t)}, runs, "sgd")
    assert _drew_only_there(figure, ax, before)
    assert [line.get_label() for line in ax.lines[:2]] == ["exact, d = 48", "exact, d = 10,000"]


def test_logistic_panels_draw_into_their_axes():
    before = plt.get_fignums()
    times = np.linspace(0.1, 1, 4)
    point = lambda d, rms: SimpleNamespace(  # noqa: E731
        d=d, times=times, rms_deviation=rms,
        predicted={"excess cross-entropy": np.exp(-times)},
        simulated_mean={"excess cross-entropy": np.exp(-times) * 1.01},
        simulated_stderr={"excess cross-entropy": np.full(4, 0.01)})
    points = [point(100, 0.1), point(400, 0.05), point(1600, 0.025)]
    for draw in (lambda ax: plot_mean_field_vs_monte_carlo(StudySetup(), points, ax),
                 lambda ax: plot_concentration(points, 0.5, ax),
                 lambda ax: plot_rare_class_phases(StudySetup(), ax, phase_n=6)):
        figure, ax = _axes()
        draw(ax)
        assert _drew_only_there(figure, ax, before) and ax.get_title()


def test_curves_draw_into_their_axes():
    from sparsemom.numerics import Optimizer, SparseLeastSquares, exact_state
    from sparsemom.numerics.analysis.scaling_limit import finite_d_components, limit_components
    from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk
    from sparsemom.numerics.studies.curves import (
        plot_exact_and_monte_carlo,
        plot_limit_components,
        plot_moments,
    )

    before = plt.get_fignums()
    model = SparseLeastSquares(d=3, p=[0.5, 0.2])
    opt = Optimizer("heavy-ball", lr=0.1, beta=0.5)
    trajectory = exact_state(model, opt, 6)
    mc = monte_carlo_risk(model, opt, 6, runs=20, seed=0)
    limit = scaling_limit("lsq", "heavy-ball", ExponentPoint(Fraction(27, 10), Fraction(3, 2),
                                                            Fraction(5, 2), 0))
    t = rescaled_times(limit, 5)
    for draw in (lambda ax: plot_exact_and_monte_carlo(ax, trajectory.risk, mc, "hb", every=2),
                 lambda ax: plot_moments(ax, trajectory, row=1),
                 lambda ax: plot_limit_components(ax, limit_components(limit, t),
                                                  [finite_d_components(limit, 100, t)], "c")):
        figure, ax = _axes()
        draw(ax)
        assert _drew_only_there(figure, ax, before) and ax.get_title()
    assert [line.get_label() for line in ax.lines[:2]] == [r"$\tilde{R}$, $d\to\infty$",
                                                          r"$\tilde{R}$, d = 100"]


def test_limit_components_table_is_tidy_with_the_point():
    """component_panels' data: one line per curve, t and component, exact values."""
    from sparsemom.numerics.analysis.scaling_limit import finite_d_components, limit_components
    from sparsemom.numerics.studies.curves import limit_components_table

    limit = scaling_limit("lsq", "heavy-ball", ExponentPoint(Fraction(27, 10), Fraction(3, 2),
                                                            Fraction(5, 2), 0))
    t = rescaled_times(limit, 5)
    target = limit_components(limit, t)
    finite = [finite_d_components(limit, d, t) for d in (100, 1000)]
    table = limit_components_table(target, finite, region="sparse above resonance")
    assert list(table.columns[:6]) == ["region", "series", "d", "t", "component", "value"]
    assert len(table) == 3 * 5 * 3
    assert set(table.region) == {"sparse above resonance"} and set(table.kappa) == {2.7}
    assert set(table.phase) == {limit.phase} and set(table.gamma) == {2.5}
    limit_c = table[(table.series == "limit") & (table.component == "C")]
    assert list(limit_c.t) == list(t) and list(limit_c.value) == list(target.component("C"))
    assert set(limit_c.d) == {np.inf}
    exact_v = table[(table.series == "exact") & (table.d == 1000) & (table.component == "V")]
    assert list(exact_v.value) == list(finite[1].component("V"))


def test_risk_curves_table_is_tidy_with_the_point():
    """risk_curves_by_phase's data: exact curves per d, the Monte Carlo mean with its
    standard error, the limit on its fine grid, and the point's exponents as columns."""
    from sparsemom.numerics.analysis.scaling_limit import limit_curve
    from sparsemom.numerics.studies.paper import limit_times, risk_curves_table

    limit = scaling_limit("lsq", "sgd", ExponentPoint(Fraction(23, 20), Fraction(3, 2), 0, 0))
    t = rescaled_times(limit, 8)
    runs = np.random.default_rng(1).uniform(0.5, 1.0, (5, t.size))
    table = risk_curves_table(limit, t, {48: np.exp(-t), 10**4: np.exp(-2 * t)}, runs,
                              panel="sgd")
    assert list(table.columns[:7]) == ["panel", "series", "d", "t", "risk", "stderr", "runs"]
    exact = table[(table.series == "exact") & (table.d == 10**4)]
    assert list(exact.t) == list(t) and list(exact.risk) == list(np.exp(-2 * t))
    mc = table[table.series == "Monte Carlo"]
    assert list(mc.d) == [48.0] * t.size and set(mc.runs) == {5}
    np.testing.assert_array_equal(mc.risk, runs.mean(axis=0))
    np.testing.assert_array_equal(mc.stderr, runs.std(axis=0, ddof=1) / np.sqrt(5))
    line = table[table.series == "limit"]
    assert list(line.t) == list(limit_times(t)) and set(line.d) == {np.inf}
    np.testing.assert_array_equal(line.risk, limit_curve(limit, limit_times(t)))
    assert set(table.kappa) == {1.15} and set(table.sigma) == {1.5} and set(table.panel) == {"sgd"}
    assert set(table.optimizer) == {"sgd"} and set(table.phase) == {limit.phase}


def test_stability_table_gives_each_rows_stable_edge():
    from sparsemom.numerics.studies.paper import stability_table

    lr, eps = np.meshgrid(np.geomspace(0.01, 1, 5), np.geomspace(0.01, 1, 3))
    stable = {1.0: lr < 0.2, 0.1: np.array([[True, False, True, False, False],
                                            [False] * 5, [True] * 5])}
    table = stability_table(lr, eps, stable, optimizer="heavy-ball", d=8)
    assert list(table.columns[:3]) == ["optimizer", "d", "p"] and len(table) == 6
    first = table[table.p == 1.0]
    assert list(first.lr_max) == [lr[0, 2]] * 3 and list(first.lr_next) == [lr[0, 3]] * 3
    assert list(first.stable_points) == [3] * 3 and first.contiguous.all()
    np.testing.assert_allclose(first.beta, 1 - eps[:, 0])
    second = table[table.p == 0.1]
    assert np.array_equal(second.lr_max, [lr[0, 0], np.nan, lr[0, 4]], equal_nan=True)
    assert np.array_equal(second.lr_next, [lr[0, 1], lr[0, 0], np.nan], equal_nan=True)
    assert list(second.stable_points) == [2, 0, 5]
    assert list(second.contiguous) == [False, True, True]


def test_phase_regions_table_holds_each_regions_polygon():
    from sparsemom.numerics.studies.sweep_figure import _phase_map, phase_regions_table

    phases = _phase_map(("heavy-ball", 9))
    table = phase_regions_table([phases], ("heavy-ball",))
    assert set(table.phase) == set(phases.phases) and set(table.sigma) == {1.5}
    for limit, polygon in zip(phases.limits, phases.polygons):
        region = table[table.phase == limit.phase]
        assert list(region.vertex) == list(range(len(polygon)))
        np.testing.assert_array_equal(region[["kappa", "gamma"]].to_numpy(), polygon)
    # every grid cell lies in the polygon of its phase (the coloured grid samples them)
    from matplotlib.path import Path
    for i, g in enumerate(phases.gammas):
        for j, k in enumerate(phases.kappas):
            polygon = phases.polygons[phases.labels[i, j]]
            assert Path(polygon).contains_point((k, g), radius=1e-9) or \
                Path(polygon).contains_point((k, g), radius=-1e-9)


def test_logistic_study_table_holds_the_three_panels():
    from sparsemom.numerics.studies.logistic import PHASE_D, phase_grid, study_table

    times = np.linspace(0.1, 1, 4)
    point = lambda d, rms: SimpleNamespace(  # noqa: E731
        d=d, times=times, rms_deviation=rms,
        predicted={"excess cross-entropy": np.exp(-times)},
        simulated_mean={"excess cross-entropy": np.exp(-times) * d / 100},
        simulated_stderr={"excess cross-entropy": np.full(4, 0.01 * d)})
    points = [point(100, 0.1), point(200, 0.08), point(400, 0.05), point(1600, 0.025)]
    setup = StudySetup()
    table = study_table(setup, points, 0.5, phase_n=6)
    prediction = table[table.panel == "prediction vs simulation"]
    assert set(prediction.d) == {100, 400, 1600}                    # the shown points
    mc = prediction[(prediction.series == "Monte Carlo") & (prediction.d == 400)]
    assert list(mc.t) == list(times) and list(mc.value) == list(np.exp(-times) * 400 / 100)
    assert set(mc.stderr) == {4.0} and set(mc.p) == {setup.p} and set(mc.runs) == {setup.runs}
    rms = table[(table.panel == "concentration") & (table.series == "RMS deviation")]
    assert list(rms.d) == [100, 200, 400, 1600] and list(rms.value) == [0.1, 0.08, 0.05, 0.025]
    phases = table[table.panel == "rare-class phases"]
    ps, eps, log_ratio, stable = phase_grid(setup.rho, setup.optimizer, n=6)
    assert len(phases) == 36 and set(phases.d) == {PHASE_D}
    at = phases[(phases.p == ps[2]) & np.isclose(phases.beta, 1 - eps[3], rtol=0, atol=1e-15)]
    assert at.value.item() == log_ratio[3, 2] and at.stable.item() == stable[3, 2]
