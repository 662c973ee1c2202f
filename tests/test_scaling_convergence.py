"""Finite-d exact curves converge to the derived limits; unstable points blow up
on the predicted timescale; exact_risk_at agrees with the C backend; sweeps run
the same in a process pool and on a Dask LocalCluster."""

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from sparsemom.derivations.limits.asymptotics import ExponentPoint
from sparsemom.derivations.limits.families import Family
from sparsemom.derivations.limits.scaling_limits import scaling_limit
from sparsemom.numerics.analysis.scaling_limit import (
    convergence,
    finite_d_problem,
    limit_curve,
    rescaled_times,
)
from sparsemom.numerics.kernels.exact_risk import exact_risk, exact_risk_at
from sparsemom.numerics.runtime.parallel import parallel_map
from sparsemom.numerics.studies.sweep import SWEEP_POINTS, SweepPoint, run_point

DIMS = (10**2, 10**3, 10**4, 10**5)


@pytest.mark.parametrize("optimizer, k, g, family", [
    ("heavy-ball", "27/10", "5/2", "heavy-ball"),   # sparse above resonance (3-D)
    ("heavy-ball", "27/10", "2/5", "sgd"),          # sparse memoryless (1-D)
    ("lazy", "27/10", "3/2", "heavy-ball"),
])
def test_finite_d_curves_converge_to_the_limit(optimizer, k, g, family):
    limit = scaling_limit("lsq", optimizer, ExponentPoint(Fraction(k), Fraction(3, 2), Fraction(g), 0))
    assert limit.family == family
    conv = convergence(limit, DIMS, points=20)
    errors = np.array(conv.errors)
    assert np.all(np.diff(errors) < 0), errors
    assert conv.rate > 0.25 and errors[-1] < 0.02


def test_unstable_point_blows_up_on_the_predicted_timescale():
    limit = scaling_limit("lsq", "heavy-ball", ExponentPoint(Fraction(27, 10), Fraction(3, 2),
                                                             Fraction(8, 5), Fraction(-4, 5)), "free")
    assert limit.family == "unstable"
    conv = convergence(limit, DIMS, points=20)
    assert conv.observed_family == "unstable"
    assert np.all(np.diff(conv.errors) < 0) and conv.rate > 0.2


def test_limit_is_the_derived_ode():
    """The 3-D heavy-ball limit at η* = ε* = 1 is the damped oscillator's second moments."""
    limit = scaling_limit("lsq", "heavy-ball", ExponentPoint(Fraction(27, 10), Fraction(3, 2), Fraction(5, 2), 0))
    assert limit.matrix.tolist() == [[0, -2, 0], [1, -1, -1], [0, 2, -2]]
    t = rescaled_times(limit, 10)
    # ē'' + ē' + ē = 0 from ē(0) = 1, ē'(0) = 0 has ‖ē‖² = R̃ (no noise at this order)
    w = np.sqrt(3) / 2
    e = np.exp(-t / 2) * (np.cos(w * t) + np.sin(w * t) / (2 * w))
    np.testing.assert_allclose(limit_curve(limit, t), e**2, atol=1e-9)


def test_exact_risk_at_matches_the_c_backend_in_active_time():
    limit = scaling_limit("lsq", "heavy-ball", ExponentPoint(Fraction(27, 10), Fraction(3, 2), Fraction(8, 5), 0))
    model, optimizer = finite_d_problem(limit, 100)
    ks = [0, 1, 17, 400, 3000]
    powered = [float(x) for x in exact_risk_at(model, optimizer, ks, time="active")]
    iterated = exact_risk(model, optimizer, 3000, backend="c", time="active")[ks]
    np.testing.assert_allclose(powered, iterated, rtol=1e-11)


def test_exact_risk_at_rejects_negative_steps():
    limit = scaling_limit("lsq", "sgd", ExponentPoint(Fraction(27, 10), Fraction(3, 2), 0, 0))
    model, optimizer = finite_d_problem(limit, 100)
    with pytest.raises(ValueError, match="ks"):
        exact_risk_at(model, optimizer, [3, -1])


def _square(x):
    return x * x


def test_parallel_map_process_pool_and_dask_local_cluster_agree():
    distributed = pytest.importorskip("dask.distributed")
    tasks = list(range(7))
    serial = [_square(t) for t in tasks]
    assert parallel_map(_square, tasks, workers=2) == serial
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        assert parallel_map(_square, tasks, scheduler=cluster) == serial
        with distributed.Client(cluster) as client:
            assert parallel_map(_square, tasks, scheduler=client) == serial
            assert parallel_map(_square, tasks, scheduler=cluster.scheduler_address) == serial


def test_sweep_point_on_dask_equals_local():
    distributed = pytest.importorskip("dask.distributed")
    from functools import partial

    point = SweepPoint("sgd sparse", "sgd", "27/10", "3/2", "0")
    local = run_point(point, dimensions=(100, 1000))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        remote = parallel_map(partial(run_point, dimensions=(100, 1000)), [point], scheduler=cluster)[0]
    assert remote == local


def test_parallel_map_rejects_bad_workers():
    with pytest.raises(ValueError, match="workers must be >= 1"):
        parallel_map(_square, [1], workers=0)


def test_sweep_covers_every_phase_and_at_least_twenty_points():
    assert len(SWEEP_POINTS) >= 20
    phases = {scaling_limit("lsq", p.optimizer, p.exponent_point(), p.lr_rule).phase
              for p in SWEEP_POINTS if p.optimizer == "heavy-ball"}
    for name in ("coherent", "incoherent dense above resonance", "incoherent sparse above resonance",
                 "incoherent dense below resonance", "incoherent sparse memoryless",
                 "incoherent sparse below resonance", "incoherent dense at resonance"):
        assert name in phases


def test_sweep_writes_table_and_figure_atomically(tmp_path):
    from sparsemom.numerics.studies.sweep import table_markdown, write_sweep

    chosen = [p for p in SWEEP_POINTS if p.optimizer == "sgd"] + [SWEEP_POINTS[0]]
    results = [run_point(p, dimensions=(100, 1000)) for p in chosen]
    paths = write_sweep(results, tmp_path, atlas_grid=3, workers=1)
    assert sorted(p.name for p in paths) == ["sweep.csv", "sweep.data.csv", "sweep.md", "sweep.pdf", "sweep.png"]
    assert all(p.stat().st_size > 0 for p in paths)
    assert (tmp_path / "sweep.md").read_text() == table_markdown(results)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
    # the figure's data: regions, the points drawn on them and the errors against d
    data = pd.read_csv(tmp_path / "sweep.data.csv")
    assert set(data.panel) == {"phase regions", "sweep points", "convergence"}
    errors = data[data.panel == "convergence"]
    stable = [r for r in results if r.family != Family.UNSTABLE]
    assert len(errors) == 2 * len(stable) and set(errors.d) == {100, 1000}
    for r in stable:
        assert list(errors[errors.label == r.point.label].error) == pytest.approx(r.errors,
                                                                                  rel=1e-15)
    drawn = data[data.panel == "sweep points"]                      # heavy ball's panel
    assert list(drawn.label) == [SWEEP_POINTS[0].label] and list(drawn.kappa) == [0.125]


@pytest.mark.parametrize("gamma", ["1/2", "2"])
def test_critical_batch_with_dense_data_converges(gamma):
    """κ = σ = 0 (p, B fixed): p_B = 1 − (1 − p*)^{B*} exactly, not 1 − e^{−p*B*}
    (which once left the error at 0.115 at γ = 2 and the wrong rate at γ = 1/2)."""
    point = ExponentPoint(0, 0, Fraction(gamma), 0, p_star=Fraction(1, 2), batch_star=2)
    limit = scaling_limit("lsq", "heavy-ball", point)
    conv = convergence(limit, DIMS, points=20)
    errors = np.array(conv.errors)
    assert np.all(np.diff(errors) < 0), errors
    assert conv.rate > 0.4 and errors[-1] < 0.005, errors


def test_critical_line_rates_approach_the_limit_and_draw_into_their_axes():
    import matplotlib.pyplot as plt

    from sparsemom.numerics.runtime.plotting import new_figure
    from sparsemom.numerics.studies.critical_line import (
        checks,
        plot_critical_line,
        run_critical_line,
    )

    result = run_critical_line(p_stars=(0.5, 2.0), dimensions=(10**2, 10**3), fine=3)
    assert all(c.passed for c in checks(result)), [str(c) for c in checks(result)]
    assert result.activity == pytest.approx(1 - np.exp(-np.array([0.5, 2.0])))
    # the fine line passes through the measured p* at its ends
    assert result.fine_limit[:, 0] == pytest.approx(result.limit[:, 0])
    assert result.fine_limit[:, -1] == pytest.approx(result.limit[:, -1])
    # the figure's table: one tidy line per rate, the limit on its fine grid (d = inf)
    table = result.to_dataframe()
    limit, exact = table[table.series == "limit"], table[table.series == "exact"]
    assert len(limit) == 2 * 3 and len(exact) == 2 * 2 * 2
    for i, label in enumerate(result.labels):
        assert list(limit[limit.family == label].decay_rate) == list(result.fine_limit[i])
        assert set(limit.d) == {np.inf}
        for k, d in enumerate(result.dimensions):
            line = exact[(exact.family == label) & (exact.d == d)]
            assert list(line.decay_rate) == list(result.finite[i, k])
            assert list(line.p_star) == [0.5, 2.0] and list(line.P_star) == list(result.activity)
    assert set(table.gamma) == {0.5, 2.0} and set(table.sigma) == {1.0}
    assert list(limit.p_star[:3]) == pytest.approx([0.5, 1.0, 2.0])
    before = plt.get_fignums()
    figure = new_figure((4, 3))
    ax = figure.add_subplot()
    assert plot_critical_line(result, ax=ax) is ax
    assert figure.axes == [ax] and plt.get_fignums() == before and len(ax.lines) == 6
