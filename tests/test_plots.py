"""Every public ``plot_*`` function has one signature: its data first, then ``ax=None``
(keyword only); it draws into ``ax`` or, given none, into a new figure's single Axes
(never through pyplot), and returns that Axes. The functions are found by walking the
package, so a new ``plot_*`` without a case here, or without ``ax=None``, fails."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from fractions import Fraction
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import QuadMesh
from matplotlib.contour import ContourSet

import sparsemom.derivations
import sparsemom.numerics
import sparsemom.paper_figures
from sparsemom.derivations.limits.asymptotics import ExponentPoint
from sparsemom.derivations.limits.families import Family
from sparsemom.derivations.limits.scaling_limits import scaling_limit
from sparsemom.numerics import Optimizer, SparseLeastSquares, exact_state
from sparsemom.numerics.analysis.mean_field_convergence import StudySetup
from sparsemom.numerics.analysis.scaling_limit import (
    finite_d_components,
    limit_components,
    rescaled_times,
)
from sparsemom.numerics.runtime.plotting import axes_or_new, math_power, math_symbol, new_figure
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk
from sparsemom.numerics.studies import (
    conflict_figure,
    critical_line,
    curves,
    heatmap,
    logistic,
    logistic_sweeps,
    paper,
    sweep_figure,
)
from sparsemom.numerics.studies.conflict import ADAPTED, ConflictSetup, run_conflict
from sparsemom.numerics.studies.critical_line import CriticalLine
from sparsemom.numerics.studies.logistic import phase_grid
from sparsemom.numerics.studies.logistic_sweeps import Sweep
from sparsemom.numerics.studies.scaling import figures as scaling_figures
from sparsemom.numerics.studies.scaling.exponents import exponent_rows
from sparsemom.numerics.studies.scaling.loss_curves import PHASE_POINTS as POWER_LAW_POINTS
from sparsemom.numerics.studies.scaling.loss_curves import CurveTask, run_curve
from sparsemom.numerics.studies.scaling.method_frontier import method_frontiers
from sparsemom.numerics.studies.scaling.methods import (
    METHODS,
    MethodTask,
    frontier_tasks,
    local_exponents,
    method_rows,
    run_method,
)
from sparsemom.numerics.studies.scaling.plane import plane_points, plane_tasks
from sparsemom.numerics.studies.sweep_figure import _phase_map


def _plot_functions() -> list:
    """Every function named ``plot_*`` defined in a module of the package."""
    found = {}
    for package in (sparsemom.derivations, sparsemom.numerics, sparsemom.paper_figures):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name.endswith("__main__") or ".generated" in info.name:
                continue
            module = importlib.import_module(info.name)
            for name, obj in vars(module).items():
                if name.startswith("plot_") and inspect.isfunction(obj) \
                        and obj.__module__ == module.__name__:
                    found[f"{obj.__module__}.{name}"] = obj
    return [found[key] for key in sorted(found)]


PLOTS = _plot_functions()
CASES: dict = {}


def _key(function) -> str:
    return f"{function.__module__}.{function.__name__}"


def case(function):
    """Register a builder of ``(args, kwargs, check)`` for ``function``: ``check(ax)``
    asserts that ``ax`` holds the data of ``args``."""
    def register(build):
        CASES[_key(function)] = build
        return build
    return register


def _same(values, expected):
    np.testing.assert_array_equal(np.asarray(values, dtype=float), np.asarray(expected, float))


def _line(ax, label: str):
    (line,) = [line for line in ax.lines if line.get_label() == label]
    return line


# ---- the cases: small data of each function, and what its Axes must hold ------------

@pytest.fixture(scope="module")
def trajectory_and_mc():
    model = SparseLeastSquares(d=3, p=[0.5, 0.2])
    opt = Optimizer("heavy-ball", lr=0.1, beta=0.5)
    return exact_state(model, opt, 6), monte_carlo_risk(model, opt, 6, runs=20, seed=0)


HB_LIMIT = ExponentPoint(Fraction(27, 10), Fraction(3, 2), Fraction(5, 2), 0)


@case(curves.plot_exact_and_monte_carlo)
def _exact_and_monte_carlo(data):
    trajectory, mc = data["trajectory_and_mc"]

    def check(ax):
        _same(ax.lines[0].get_ydata(), trajectory.risk)
        _same(ax.containers[0].lines[0].get_ydata(), mc.mean[::2])
    return (trajectory.risk, mc), {"title": "hb", "every": 2}, check


@case(curves.plot_moments)
def _moments(data):
    trajectory, _ = data["trajectory_and_mc"]

    def check(ax):
        for i, name in enumerate(trajectory.names):
            _same(ax.lines[i].get_ydata(), trajectory.state[:, 1, i])
            assert ax.lines[i].get_label() == f"${name}_{{k}}$"
    return (trajectory,), {"row": 1}, check


@case(curves.plot_limit_components)
def _limit_components(data):
    limit = scaling_limit("lsq", "heavy-ball", HB_LIMIT)
    t = rescaled_times(limit, 5)
    target, finite = limit_components(limit, t), [finite_d_components(limit, 100, t)]

    def check(ax):
        _same(ax.lines[0].get_ydata(), target.components[:, 0])
        _same(ax.lines[1].get_ydata(), finite[0].components[:, 0])
        assert [line.get_label() for line in ax.lines[:2]] == [
            r"$\tilde{R}$, $d\to\infty$", r"$\tilde{R}$, $d$ = 100"]
    return (target, finite), {"title": "c"}, check


@case(paper.plot_risk_curves)
def _risk_curves(data):
    limit = scaling_limit("lsq", "sgd", ExponentPoint(Fraction(23, 20), Fraction(3, 2), 0, 0))
    t = rescaled_times(limit, 8)
    runs = np.random.default_rng(1).uniform(0.5, 1.0, (5, t.size))
    exact = {48: np.exp(-t), 10**4: np.exp(-2 * t)}

    def check(ax):
        _same(_line(ax, "exact, $d$ = 48").get_ydata(), exact[48])
        _same(_line(ax, "exact, $d$ = 10,000").get_ydata(), exact[10**4])
        _same(ax.containers[0].lines[0].get_ydata(), runs.mean(axis=0))
        assert ax.containers[0].lines[0].get_zorder() > ax.lines[0].get_zorder()
        assert ax.get_xlabel() == r"rescaled time $t = k / d^{13/20}$ (active updates)"
    return (limit, t, exact, runs), {"title": "sgd"}, check


@case(paper.plot_stability_region)
def _stability_region(data):
    lr, eps = np.meshgrid(np.geomspace(0.01, 1, 5), np.geomspace(0.01, 1, 4))
    regions = {1.0: lr < 0.5, 0.1: lr < 0.2}

    def check(ax):
        edges = [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]
        # each region's edge lies between the last stable and the first unstable lr
        assert len(edges) == 2
        for edge, (low, high) in zip(edges, [(lr[0, 3], lr[0, 4]), (lr[0, 2], lr[0, 3])]):
            x = np.concatenate([segment[:, 0] for segment in edge.allsegs[0]])
            assert x.size and np.all((low < x) & (x < high))
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["$p$ = 1", "$p$ = 0.1"]
        assert ax.get_title() == "stable"
    return (lr, eps, regions), {"title": "stable"}, check


@pytest.fixture(scope="module")
def phases():
    return _phase_map(("heavy-ball", 5))


@case(heatmap.plot_heatmap)
def _heatmap(data):
    pm = data["phases"]
    at_edge = np.zeros(pm.labels.shape, bool)
    at_edge[1, 2] = True
    result = SimpleNamespace(phases=pm, at_edge=at_edge)
    values = np.arange(pm.labels.size, dtype=float).reshape(pm.labels.shape)

    def check(ax):
        mesh = [c for c in ax.collections if isinstance(c, QuadMesh)][0]
        _same(mesh.get_array().ravel(), values.ravel())
        _same(_line(ax, r"$\eta^*$ at the end of the scanned range").get_xdata(), [pm.kappas[2]])
    return (result, values), {"label": "values"}, check


@case(critical_line.plot_critical_line)
def _critical_line(data):
    result = CriticalLine(labels=("a", "b"), p_stars=np.array([0.5, 2.0]),
                          activity=np.array([0.4, 0.8]), limit=np.array([[1.0, 2.0], [3.0, 4.0]]),
                          finite=np.arange(8.0).reshape(2, 2, 2) + 1,
                          fine_activity=np.array([0.4, 0.6, 0.8]),
                          fine_limit=np.array([[1.0, 1.5, 2.0], [3.0, 3.5, 4.0]]),
                          dimensions=(100, 1000), phases=("p", "q"))

    def check(ax):
        _same(ax.lines[0].get_xdata(), result.fine_activity)
        _same(ax.lines[0].get_ydata(), result.fine_limit[0])
        _same(_line(ax, "b: exact, $d$ = 1,000").get_ydata(), result.finite[1, 1])
    return (result,), {}, check


def _study_point(d, rms, times=np.linspace(0.1, 1, 4)):
    return SimpleNamespace(d=d, times=times, rms_deviation=rms,
                           predicted={"excess cross-entropy": np.exp(-times)},
                           simulated_mean={"excess cross-entropy": np.exp(-times) * (1 + d / 1e4)},
                           simulated_stderr={"excess cross-entropy": np.full(4, 0.01)})


POINTS = [_study_point(100, 0.1), _study_point(400, 0.05), _study_point(1600, 0.025)]


@case(logistic_sweeps.plot_sweep)
def _sweep(data):
    sweep = Sweep("batch", np.array([1.0, 2.0, 4.0]), np.array([0.3, 0.2, 0.1]), (1, 4),
                  POINTS[:2])

    def check(ax):
        _same(ax.lines[0].get_ydata(), sweep.predicted)
        _same(ax.containers[0].lines[0].get_ydata(),
              [pt.simulated_mean["excess cross-entropy"][-1] for pt in POINTS[:2]])
    return (sweep, 200), {}, check


@case(logistic.plot_mean_field_vs_monte_carlo)
def _mean_field_vs_monte_carlo(data):
    def check(ax):
        for i, pt in enumerate(POINTS):
            _same(ax.lines[i].get_ydata(), pt.predicted["excess cross-entropy"])
            _same(ax.containers[i].lines[0].get_ydata(), pt.simulated_mean["excess cross-entropy"])
            assert ax.containers[i].lines[0].get_zorder() > ax.lines[0].get_zorder()
    return (StudySetup(), POINTS), {}, check


@case(logistic.plot_concentration)
def _concentration(data):
    def check(ax):
        _same(ax.lines[0].get_ydata(), [pt.rms_deviation for pt in POINTS])
    return (POINTS, 0.5), {}, check


@case(logistic.plot_rare_class_phases)
def _rare_class_phases(data):
    setup = StudySetup()
    _, _, log_ratio, stable = phase_grid(setup.rho, setup.optimizer, n=6)

    def check(ax):
        np.testing.assert_array_equal(ax.collections[0].get_array().filled(np.nan).ravel(),
                                      np.where(stable, log_ratio, np.nan).ravel())
    return (setup,), {"phase_n": 6}, check


@pytest.fixture(scope="module")
def conflict():
    return run_conflict(ConflictSetup(rows=300, horizon=100, scan=5, frequencies=6), show=False,
                        threshold_points=8)


@case(conflict_figure.plot_phases)
def _conflict_phases(data):
    result = data["conflict"]
    rule = result.rules[ADAPTED]

    def check(ax):
        _same(_line(ax, conflict_figure.SHOWN[ADAPTED]).get_ydata(), 1 - rule(rule.p_grid))
    return (result,), {}, check


@case(conflict_figure.plot_band_risk_over_time)
def _conflict_band_risk_over_time(data):
    result = data["conflict"]

    def check(ax):
        _same(ax.lines[0].get_ydata(), result.split_global.curves[0, 1:])
        _same(ax.lines[1].get_ydata(), result.split_adapted.curves[0, 1:])
    return (result,), {}, check


@case(conflict_figure.plot_global_scan)
def _conflict_global_scan(data):
    result = data["conflict"]
    value = result.risk_at_horizon[ADAPTED]

    def check(ax):
        label = f"{conflict_figure.SHOWN[ADAPTED]}: {value:.4g}"
        _same(_line(ax, label).get_ydata(), [value, value])
    return (result,), {}, check


@case(conflict_figure.plot_band_risk_at_horizon)
def _conflict_band_risk_at_horizon(data):
    result = data["conflict"]

    def check(ax):
        for bars, risks in zip(ax.containers, result.band_risk.values()):
            _same([bar.get_height() for bar in bars], risks)
    return (result,), {}, check


@case(sweep_figure.plot_phase_map)
def _phase_map_case(data):
    pm = data["phases"]
    names = list(dict.fromkeys(pm.phases))

    def check(ax):
        mesh = [c for c in ax.collections if isinstance(c, QuadMesh)][0]
        expected = np.array([names.index(name) for name in pm.phases])[pm.labels]
        _same(mesh.get_array().ravel(), expected.ravel())
    return (pm,), {"title": "heavy ball"}, check


@case(sweep_figure.plot_convergence)
def _convergence(data):
    def result(label, family, errors):
        return SimpleNamespace(point=SimpleNamespace(label=label, optimizer="heavy-ball"),
                               family=family, errors=errors, rate=0.5)
    results = [result("a", Family.HEAVY_BALL, [0.1, 0.03]), result("u", Family.UNSTABLE, [1, 2]),
               result("b", Family.SGD, [0.2, 0.02])]

    def check(ax):
        assert len(ax.lines) == 2                       # the unstable point is left out
        _same(ax.lines[0].get_ydata(), [0.1, 0.03])
        _same(ax.lines[1].get_xdata(), [100, 1000])
    return (results, (100, 1000)), {}, check


@pytest.fixture(scope="module")
def scaling():
    """Exact curves of the truncated power law (phase Ia) at d = 16, 32, 64, and the three
    methods' curves at d = 64."""
    point = POWER_LAW_POINTS[0]
    curves = [run_curve(CurveTask("power-law", point, d, horizons=12)) for d in (16, 32, 64)]
    methods = [run_method(MethodTask(m, "power-law", point, 64, 3000)) for m in METHODS]
    return curves, exponent_rows(curves), methods, method_rows(methods)


@case(scaling_figures.plot_loss_curves)
def _loss_curves(data):
    curves = data["scaling"][0]

    def check(ax):
        for r in curves:
            _same(_line(ax, f"d = {r.task.d}").get_ydata(), r.total[r.steps > 0])
        forcing = _line(ax, "forcing (target), d = 64")
        _same(forcing.get_ydata(), curves[-1].parts["forcing"][curves[-1].steps > 0])
    return (curves,), {}, check


@case(scaling_figures.plot_frontier)
def _frontier(data):
    curves, rows = data["scaling"][:2]

    def check(ax):
        for r in curves:
            _same(_line(ax, f"d = {r.task.d}").get_xdata(), r.task.d * r.steps[r.steps > 0])
        eta = next(r for r in rows if r.quantity.startswith("compute-optimal"))
        assert _line(ax, f"predicted η = {eta.predicted:.3f}") is not None
    return (curves,), {"rows": rows}, check


@case(scaling_figures.plot_method_curves)
def _method_curves(data):
    methods = data["scaling"][2]

    def check(ax):
        for r in methods:
            keep = r.excess > 0
            _same(_line(ax, r.task.method).get_ydata(), r.excess[keep])
    return (methods,), {}, check


@case(scaling_figures.plot_method_exponents)
def _method_exponents(data):
    methods, rows = data["scaling"][2:]

    def check(ax):
        for r in methods:
            _same(_line(ax, r.task.method).get_ydata(), local_exponents(r.steps, r.excess)[1])
        predicted = {line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--"}
        assert predicted == {row.predicted for row in rows if row.predicted is not None}
    return (methods, rows), {}, check


@pytest.fixture(scope="module")
def plane():
    """A 2 × 2 grid of the (α, β) plane, sizes 2^6 … 2^8."""
    tasks = plane_tasks("power-law", [0.7, 1.0], [0.3, 0.6], [64, 128, 256])
    return plane_points([run_curve(t) for t in tasks])


@case(scaling_figures.plot_plane_exponent)
def _plane_exponent(data):
    points = data["plane"]

    def check(ax):
        (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
        grid = mesh.get_array().reshape(2, 2)          # rows β, columns α
        for p in points:
            assert grid[[0.3, 0.6].index(p.beta), [0.7, 1.0].index(p.alpha)] == p.predicted_xi
    return (points,), {"quantity": "xi", "predicted": True}, check


@case(scaling_figures.plot_plane_dominant)
def _plane_dominant(data):
    points = data["plane"]
    names = ["forcing", "kernel", "label_noise"]

    def check(ax):
        (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
        grid = mesh.get_array().reshape(2, 2)
        for p in points:
            assert grid[[0.3, 0.6].index(p.beta), [0.7, 1.0].index(p.alpha)] == \
                names.index(p.dominant)
    return (points,), {}, check


@pytest.fixture(scope="module")
def frontiers():
    """Every method's family at phase Ia, d = 16, 32, 64, 128, each to its frontier horizon."""
    tasks = frontier_tasks("power-law", [POWER_LAW_POINTS[0]], [16, 32, 64, 128])
    return list(method_frontiers([run_method(t) for t in tasks]).values())


@case(scaling_figures.plot_method_frontiers)
def _method_frontiers(data):
    families = data["frontiers"]

    def check(ax):
        for family in families:
            f = family.fit.frontier
            line = next(line for line in ax.lines
                        if line.get_label().startswith(f"{family.method} frontier"))
            _same(line.get_xdata(), f.flops)
            _same(line.get_ydata(), f.loss)
        sgd = next(family for family in families if family.method == "sgd")
        for r, k, p in zip(sgd.results, sgd.steps, sgd.losses):
            _same(_line(ax, f"sgd, d = {r.task.d}").get_ydata(), p[k > 0])
        assert not [line for line in ax.lines if line.get_label().startswith("sgd-m, d =")]
    return (families,), {"families": ("sgd",)}, check


@case(scaling_figures.plot_optimal_sizes)
def _optimal_sizes(data):
    families = data["frontiers"]

    def check(ax):
        assert len(ax.lines) == len(families) == len(METHODS)
        for line, family in zip(ax.lines, families):
            assert line.get_label().startswith(family.method)
            _same(line.get_ydata(), family.fit.frontier.size)
    return (families,), {}, check


@pytest.fixture
def data(request):
    """The module fixtures the cases read, by name."""
    return {name: request.getfixturevalue(name)
            for name in ("trajectory_and_mc", "phases", "conflict", "scaling", "plane",
                         "frontiers")}


# ---- the tests ------------------------------------------------------------------------

def test_every_plot_function_is_found_and_has_a_case():
    assert len(PLOTS) >= 17
    assert sorted(map(_key, PLOTS)) == sorted(CASES), "add a case for each new plot_* function"


@pytest.mark.parametrize("function", PLOTS, ids=_key)
def test_plot_signature_is_data_first_then_ax_none(function):
    parameters = list(inspect.signature(function).parameters.values())
    names = [p.name for p in parameters]
    assert "ax" in names, f"{_key(function)} takes no ax"
    ax = parameters[names.index("ax")]
    assert ax.default is None and ax.kind is inspect.Parameter.KEYWORD_ONLY
    # everything before ax is the data: positional and required; everything after, options
    for data_parameter in parameters[:names.index("ax")]:
        assert data_parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        assert data_parameter.default is inspect.Parameter.empty, data_parameter
    for option in parameters[names.index("ax") + 1:]:
        assert option.kind is inspect.Parameter.KEYWORD_ONLY and \
            option.default is not inspect.Parameter.empty
    doc = inspect.getdoc(function)
    assert "Parameters\n----------" in doc and "Returns\n-------" in doc
    assert all(f"{name} :" in doc for name in names), _key(function)


@pytest.mark.parametrize("function", PLOTS, ids=_key)
def test_plot_without_ax_makes_one_axes_and_with_ax_draws_there(function, data):
    assert _key(function) in CASES, f"no case for {_key(function)}"
    args, kwargs, check = CASES[_key(function)](data)
    before = plt.get_fignums()

    ax = function(*args, **kwargs)
    assert isinstance(ax, Axes) and ax.figure.axes == [ax]
    assert plt.get_fignums() == before                 # not through pyplot
    check(ax)

    figure = new_figure((4, 3))
    given = figure.add_subplot()
    assert function(*args, ax=given, **kwargs) is given
    assert figure.axes == [given] and plt.get_fignums() == before
    check(given)


def test_axes_or_new_and_math_symbol():
    figure = new_figure((2, 2))
    ax = figure.add_subplot()
    assert axes_or_new(ax) is ax
    new = axes_or_new(None, (3, 2))
    assert new.figure is not figure and tuple(new.figure.get_size_inches()) == (3, 2)
    assert [math_symbol("R"), math_symbol("R", "k"), math_symbol("R_perp", "k")] == \
        ["R", "R_{k}", "R_{perp,k}"]
    assert [math_power("d", Fraction(13, 20)), math_power("d", Fraction(1))] == ["d^{13/20}", "d"]


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
