"""The optimal-learning-rate heatmap: the search finds the brute-force minimiser, the
horizon rules and exponents are those of the derived limits, and the outputs are written."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from sparsemom.derivations.limits.asymptotics import ExponentPoint
from sparsemom.derivations.limits.scaling_limits import scaling_limit
from sparsemom.numerics.analysis.optimal_lr import horizon_risk_ratio, optimal_learning_rates
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.kernels.exact_risk import exact_risk_at
from sparsemom.numerics.studies.heatmap import HeatmapSetup, heatmap_figure, horizons, run_heatmap

SETUP = HeatmapSetup(d=200, grid=4, sigma=Fraction(1, 2), horizon=3.0)


@pytest.fixture(scope="module")
def small():
    return run_heatmap(SETUP)


def test_search_finds_the_minimum_of_a_brute_scan(small):
    rng = np.random.default_rng(1)
    for flat in rng.choice(small.lr.size, 4, replace=False):
        i, j = np.unravel_index(flat, small.lr.shape)
        d = SETUP.d
        p, beta = d ** -small.phases.kappas[j], 1 - d ** -small.phases.gammas[i]
        k = small.horizon[i, j]
        brute = np.geomspace(small.lr[i, j] / 30, small.lr[i, j] * 30, 4001)
        risk = horizon_risk_ratio("heavy-ball", d, np.full(brute.size, p),
                                  np.full(brute.size, beta), SETUP.batch, 0.0,
                                  np.full(brute.size, k), "active", brute)
        best = int(np.argmin(risk))
        assert 0 < best < brute.size - 1                  # an interior minimum of the scan
        assert small.risk[i, j] <= risk[best] * (1 + 1e-12)
        spacing = np.log(brute[1] / brute[0])
        assert abs(np.log(small.lr[i, j] / brute[best])) <= 2 * spacing
    assert not small.at_edge.any()


def test_horizons_follow_the_rules_and_the_derived_time_exponent(small):
    i, j = 2, 1
    kappa, gamma = Fraction(small.phases.kappas[j]).limit_denominator(10**6), \
        Fraction(small.phases.gammas[i]).limit_denominator(10**6)
    limit = scaling_limit("lsq", "heavy-ball", ExponentPoint(kappa, SETUP.sigma, gamma, 0))
    assert small.tau[i, j] == pytest.approx(float(limit.time_exponent), abs=1e-12)
    assert small.alpha[i, j] == pytest.approx(-float(limit.point.theta), abs=1e-12)
    assert small.horizon[i, j] == int(np.ceil(3.0 * 200 ** float(limit.time_exponent) - 1e-9))
    tau = small.tau
    active = HeatmapSetup(d=200, grid=4, rule="active", horizon=7)
    assert (horizons(active, tau) == 7).all()
    samples = HeatmapSetup(d=200, grid=4, rule="samples", horizon=2)
    assert samples.batch == 14 and (horizons(samples, tau) == int(np.ceil(400 / 14))).all()


def test_table_and_figure_are_written(small, tmp_path):
    frame = small.to_dataframe()
    assert len(frame) == 16 and frame.attrs["rule"] == "dynamical"
    assert {"kappa", "gamma", "phase", "lr_opt", "lr_scaled", "risk", "at_edge"} <= set(frame)
    np.testing.assert_allclose(frame.lr_scaled, frame.lr_opt * 200.0 ** frame.alpha)
    paths = heatmap_figure(small, tmp_path)
    assert sorted(p.name for p in paths) == ["heatmap.csv", "heatmap.data.csv", "heatmap.pdf",
                                             "heatmap.png"]
    assert len(pd.read_csv(tmp_path / "heatmap.csv")) == 16
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "heatmap.data.csv"),
                                  pd.read_csv(tmp_path / "heatmap.csv"))


def test_bad_setups_and_ranges_are_refused():
    for bad, match in [(dict(rule="x"), "rule must be"), (dict(horizon=0.0), "horizon"),
                       (dict(kappa=(1.0, 1.0)), "kappa must be a range"), (dict(d=1), "d must"),
                       (dict(sigma=-1), "sigma must be"),
                       # what float64 and int64 hold (each failed late or hung before)
                       (dict(d=10**30), "d must be an integer ≤ 2\\^53"),
                       (dict(grid=10**9), "grid must be an integer ≤ 201"),
                       (dict(d=2, sigma=100), r"sigma must be ≤ 53 at d = 2"),
                       (dict(gamma=(0.0, 6.0)), r"gamma must end at ≤ 3.311 at d = 1000"),
                       (dict(gamma=(0.0, 5.2)), r"gamma must end at ≤ 3.311 .*to 5e-7 relative"),
                       (dict(kappa=(0.0, 6.0)), r"kappa must end at ≤ 5.218 at d = 1000"),
                       (dict(horizon=1e300), r"horizon must keep the horizon in steps ≤ 2\^53"),
                       (dict(rule="active", horizon=2.0**54), r"horizon must keep")]:
        with pytest.raises(ValueError, match=match):
            HeatmapSetup(**bad)
    with pytest.raises(ValueError, match="lr_range"):
        optimal_learning_rates("heavy-ball", 100, 0.1, 0.9, 1, 10, lr_range=(1.0, 0.5))
    with pytest.raises(ValueError, match="every lr in lr_range"):
        optimal_learning_rates("heavy-ball", 100, 0.1, 0.9, 1, 100, lr_range=(1e3, 1e4))


def test_heatmap_panel_draws_into_its_axes(small):
    import matplotlib.pyplot as plt

    from sparsemom.numerics.runtime.plotting import new_figure
    from sparsemom.numerics.studies.heatmap import plot_heatmap

    before = plt.get_fignums()
    figure = new_figure((4, 3))
    ax = figure.add_subplot()
    assert plot_heatmap(small, np.log10(small.lr), ax=ax, label="log10 lr", cmap="viridis") is ax
    assert figure.axes == [ax] and plt.get_fignums() == before
    assert ax.collections and ax.get_title() == "log10 lr"


def test_risk_at_the_optimum_is_the_risk_there_and_positive_at_an_extreme_batch():
    """σ = 100 at d = 2 (B = 2^100, now outside the CLI's range): near a root of the
    deterministic error polynomial the risk falls to O(1/B), far below float64's rounding
    of the terms it adds (~1e-16), and the float value reported at η* was noise, negative
    at two points (−6.5e-19, −2.7e-18). The reported risk is now the mpmath value at η*:
    positive, and equal to a 200-digit evaluation there; checked at the largest batch
    the range admits, σ = 53 (B = 2^53)."""
    result = run_heatmap(HeatmapSetup(d=2, grid=2, sigma=53))
    assert (result.risk > 0).all()
    K, G = np.meshgrid(result.phases.kappas, result.phases.gammas)
    for kappa, gamma, lr, k, risk in zip(K.ravel(), G.ravel(), result.lr.ravel(),
                                         result.horizon.ravel(), result.risk.ravel()):
        point = result.setup.ansatz(kappa, gamma)
        model = SparseLeastSquares(d=2, p=point["p"], R0=1.0, sigma2=point["sigma2"])
        opt = Optimizer("heavy-ball", lr=lr, beta=point["beta"], batch=result.setup.batch)
        start, end = exact_risk_at(model, opt, [0, int(k)], "active", dps=200)
        assert risk == pytest.approx(float(end / start), rel=1e-14)


def test_a_horizon_beyond_2_to_the_53_steps_is_refused_not_wrapped():
    """``k = T·d^τ`` cast to int64 wrapped to garbage beyond 2^63; a time exponent above
    the up-front bound ``max(1, κ, γ)`` is still caught where the horizons are made."""
    setup = HeatmapSetup(d=1000, grid=2, horizon=4.0)
    assert horizons(setup, np.array([[5.0]])) == [[4 * 10**15]]
    with pytest.raises(ValueError, match=r"horizon must keep the horizon in steps ≤ 2\^53"):
        horizons(setup, np.array([[6.0]]))
