"""Results as data: the whole moment state per row, labelled tables with their
parameters, Monte Carlo statistics and every component of a scaling limit."""

import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pandas as pd
import pytest

from sparsemom.derivations.limits.asymptotics import ExponentPoint
from sparsemom.derivations.limits.scaling_limits import scaling_limit
from sparsemom.numerics import (
    DivergenceWarning,
    Optimizer,
    SparseLeastSquares,
    exact_risk,
    exact_state,
)
from sparsemom.numerics.analysis.mean_field import mean_field
from sparsemom.numerics.analysis.scaling_limit import limit_components, limit_curve, rescaled_times
from sparsemom.numerics.inputs.models import RareClassLogistic
from sparsemom.numerics.simulate.logistic import NAMES, monte_carlo_logistic
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk
from sparsemom.numerics.simulate.sparse import sparse_monte_carlo_risk

ROWS_P = [Fraction(1, 2), Fraction(1, 4), Fraction(1, 8)]


def _problem(exact=True):
    p = np.array(ROWS_P, dtype=object) if exact else np.array([float(x) for x in ROWS_P])
    model = SparseLeastSquares(d=4, p=p, R0=1, sigma2=Fraction(1, 10) if exact else 0.1)
    lr = np.array([Fraction(1, 5), Fraction(1, 10), Fraction(3, 10)], dtype=object)
    opt = Optimizer("heavy-ball", lr=lr if exact else lr.astype(float),
                    beta=Fraction(3, 5) if exact else 0.6, batch=2)
    return model, opt


def test_exact_state_sums_to_the_exact_risk_in_rationals():
    model, opt = _problem()
    trajectory = exact_state(model, opt, 12, backend="exact")
    assert trajectory.names == ("R", "C", "V")
    assert trajectory.state.shape == (13, 3, 3)
    assert list(trajectory.risk) == list(exact_risk(model, opt, 12, backend="exact"))
    # row r of a token stream evolves as the one-row problem with that row's values
    one = exact_state(SparseLeastSquares(d=4, p=ROWS_P[1], R0=1, sigma2=Fraction(1, 10)),
                      Optimizer("heavy-ball", lr=Fraction(1, 10), beta=Fraction(3, 5), batch=2),
                      12, backend="exact")
    assert list(trajectory.state[:, 1, :].ravel()) == list(one.state[:, 0, :].ravel())
    assert all(isinstance(x, Fraction) for x in trajectory.state.ravel())


def test_float_and_mpmath_states_match_the_rational_state():
    model, opt = _problem()
    exact = exact_state(model, opt, 30, backend="exact").state
    fmodel, fopt = _problem(exact=False)
    numpy = exact_state(fmodel, fopt, 30, backend="numpy")
    mp = exact_state(model, opt, 30, backend="mpmath", dps=40).state
    as_float = exact.astype(float)
    np.testing.assert_allclose(numpy.state, as_float, rtol=1e-13, atol=0)
    with mpmath.workdps(60):  # the difference is formed at 60 digits
        gap = max(abs(a - mpmath.mpf(b.numerator) / b.denominator)
                  for a, b in zip(mp.ravel(), exact.ravel()))
    assert gap < mpmath.mpf(10) ** -35
    assert np.array_equal(numpy.risk, exact_risk(fmodel, fopt, 30, backend="numpy"))


def test_table_has_one_line_per_step_and_row_with_the_parameters():
    model, opt = _problem(exact=False)
    frame = exact_state(model, opt, 5).to_dataframe(parameters=False)
    assert list(frame.columns) == ["step", "row", "p", "lr", "R", "C", "V", "risk"]
    assert len(frame) == 6 * 3
    assert frame.attrs["optimizer"] == "heavy-ball" and frame.attrs["beta"] == 0.6
    assert frame.attrs["p"] == "per row" and frame.attrs["batch"] == 2
    assert frame.attrs["d"] == 4 and frame.attrs["backend"] == "numpy"
    line = frame[(frame.step == 3) & (frame.row == 2)].iloc[0]
    assert line.p == 0.125 and line.lr == pytest.approx(0.3)
    # risk column: w·X per row, as the moments times the model's weights (½ p R)
    np.testing.assert_allclose(frame.risk, 0.5 * frame.p * frame.R, rtol=1e-15)


def test_moment_lookup_and_bad_values():
    model, opt = _problem(exact=False)
    trajectory = exact_state(model, opt, 3)
    assert trajectory.moment("C").shape == (4, 3)
    with pytest.raises(ValueError, match="name must be one of"):
        trajectory.moment("Q")
    with pytest.raises(ValueError, match="backend must be one of .*C kernel keeps only"):
        exact_state(model, opt, 3, backend="c")
    with pytest.raises(ValueError, match="steps"):
        exact_state(model, opt, -1)


def test_divergence_is_flagged_and_stored_as_inf_never_nan():
    model = SparseLeastSquares(d=4, p=0.5, R0=1.0)
    with pytest.warns(DivergenceWarning, match="overflowed float64 at step"):
        trajectory = exact_state(model, Optimizer("heavy-ball", lr=3.0, beta=0.9), 3000)
    assert not np.isnan(trajectory.state).any()
    assert np.isinf(trajectory.state[-1]).all()


def test_the_risk_of_a_diverged_trajectory_is_inf_as_exact_risk_reports_it():
    """Overflowed moments (``C`` → −inf under a zero risk weight gave 0 · inf = NaN): the
    risk of a diverged row is inf from the step it diverged, equal to exact_risk's."""
    model = SparseLeastSquares(d=8, p=[0.5, 0.2], R0=1.0)
    optimizer = Optimizer("heavy-ball", lr=3.0, beta=0.9, batch=2)
    with pytest.warns(DivergenceWarning):
        trajectory = exact_state(model, optimizer, 2000, backend="numpy")
    with pytest.warns(DivergenceWarning):
        risk = exact_risk(model, optimizer, 2000, backend="numpy")
    assert not np.isnan(trajectory.row_risk).any() and not np.isnan(trajectory.risk).any()
    assert np.isinf(trajectory.risk[-1])
    np.testing.assert_array_equal(np.isinf(trajectory.risk), np.isinf(risk))
    finite = np.isfinite(risk)
    np.testing.assert_allclose(trajectory.risk[finite], risk[finite], rtol=1e-12)


def test_monte_carlo_results_are_tables_with_their_seed():
    model = SparseLeastSquares(d=3, p=[0.5, 0.25], R0=1.0, sigma2=0.0)
    opt = Optimizer("heavy-ball", lr=0.2, beta=0.5, batch=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dense = monte_carlo_risk(model, opt, 4, runs=50, seed=3)
        sparse = sparse_monte_carlo_risk(model, opt, 4, runs=50, seed=3)
    for result, simulator in ((dense, "dense"), (sparse, "sparse")):
        frame = result.to_dataframe(parameters=False)
        assert list(frame.columns) == ["step", "mean", "stderr"]
        assert np.array_equal(frame["mean"], result.mean)
        assert frame.attrs["seed"] == 3 and frame.attrs["runs"] == 50
        assert frame.attrs["simulator"] == simulator and frame.attrs["diverged"] == 0
        assert frame.attrs["lr"] == 0.2 and frame.attrs["rows"] == 2


def test_limit_components_hold_every_balanced_moment():
    limit = scaling_limit("lsq", "heavy-ball", ExponentPoint(kappa=1, sigma=Fraction(1, 2),
                                                            gamma=Fraction(3, 2), theta=0))
    times = rescaled_times(limit, 12)
    curve = limit_components(limit, times)
    assert curve.names == ("R", "C", "V")
    assert curve.components.shape == (12, 3)
    assert np.array_equal(curve.component("R"), limit_curve(limit, times))
    frame = curve.to_dataframe(parameters=False)
    assert list(frame.columns) == ["t", "R", "C", "V"]
    assert frame.attrs["phase"] == limit.phase and frame.attrs["gamma"] == "3/2"
    with pytest.raises(ValueError, match="times must be"):
        limit_components(limit, [-1.0])


def test_tables_carry_their_parameters_as_columns_through_concat_and_csv(tmp_path):
    """Two runs that differ only in beta (and a rule's own hyper-parameter) stay apart in
    one concatenated table and in its CSV: the parameters are columns, not only attrs."""
    model = SparseLeastSquares(d=4, p=[0.5, 0.25], R0=1.0, sigma2=0.1)
    frames = [exact_state(model, Optimizer("qhm", lr=0.2, beta=beta, batch=3, nu=0.5), 4)
              .to_dataframe() for beta in (0.5, 0.9)]
    table = pd.concat(frames, ignore_index=True)
    table.to_csv(tmp_path / "sweep.csv", index=False)
    back = pd.read_csv(tmp_path / "sweep.csv")
    for frame in (table, back):
        assert sorted(set(frame.beta)) == [0.5, 0.9]
        assert set(frame.lr) == {0.2} and set(frame.nu) == {0.5} and set(frame.batch) == {3}
        assert set(frame.d) == {4} and set(frame.sigma2) == {0.1}
        assert set(frame.backend) == {"numpy"} and set(frame.optimizer) == {"qhm"}
        assert list(frame.p[:2]) == [0.5, 0.25]          # per row, as before
    assert list(back.columns[:7]) == ["step", "row", "p", "R", "C", "V", "risk"]
    # the same beta's rows are the same run: grouping by the parameter column finds them
    risk = {beta: group.risk.to_numpy() for beta, group in back.groupby("beta")}
    np.testing.assert_allclose(risk[0.9], frames[1].risk, rtol=1e-15)
    assert frames[0].attrs["beta"] == 0.5 and frames[0].attrs["p"] == "per row"


def test_exact_and_mpmath_tables_are_float_with_the_exact_value_on_request():
    model, opt = _problem()
    exact = exact_state(model, opt, 6, backend="exact")
    frame = exact.to_dataframe()
    for name in ("p", "lr", "R", "C", "V", "risk", "beta", "sigma2"):
        assert frame[name].dtype == np.float64, name
    assert not any(name.endswith("_exact") for name in frame.columns)
    assert frame.attrs["beta"] == "3/5"                   # attrs as before
    full = exact.to_dataframe(exact=True)
    risk = exact.row_risk.ravel()
    assert list(full.risk_exact) == [str(x) for x in risk]
    assert [Fraction(x) for x in full.R_exact] == list(exact.state[:, :, 0].ravel())
    assert list(full.risk) == [float(x) for x in risk]
    assert set(full.beta_exact) == {"3/5"} and set(full.beta) == {0.6}
    assert list(full.lr_exact[:3]) == ["1/5", "1/10", "3/10"]
    mp = exact_state(model, opt, 6, backend="mpmath", dps=40).to_dataframe(exact=True)
    assert mp.risk.dtype == np.float64 and mp.attrs["backend"] == "mpmath"
    assert set(mp.dps) == {40}
    np.testing.assert_allclose(mp.risk, full.risk, rtol=1e-15)
    with mpmath.workdps(60):
        assert max(abs(mpmath.mpf(a) - mpmath.mpf(b.numerator) / b.denominator)
                   for a, b in zip(mp.risk_exact, risk)) < mpmath.mpf(10) ** -35


def test_monte_carlo_tables_carry_the_parameters_and_seed():
    model = SparseLeastSquares(d=3, p=0.5, R0=1.0, sigma2=0.0)
    opt = Optimizer("heavy-ball", lr=0.2, beta=0.5, batch=2)
    frame = monte_carlo_risk(model, opt, 3, runs=20, seed=7).to_dataframe()
    assert list(frame.columns[:3]) == ["step", "mean", "stderr"]
    line = frame.iloc[-1]
    assert (line.lr, line.beta, line.batch, line.d, line.p) == (0.2, 0.5, 2, 3, 0.5)
    assert (line.seed, line.runs, line.simulator) == (7, 20, "dense")


def test_logistic_monte_carlo_and_mean_field_are_tables():
    model = RareClassLogistic(8, 0.2, 1.5)
    opt = Optimizer("heavy-ball", lr=0.05, beta=0.5, batch=2)
    mc = monte_carlo_logistic(model, opt, 6, runs=3, seed=5, record_every=2)
    frame = mc.to_dataframe()
    assert len(frame) == 3 * 4
    assert list(frame.columns[:7]) == ["run", "step", *NAMES]
    second = frame[frame.run == 1]
    assert list(second.step) == [0, 2, 4, 6]
    np.testing.assert_array_equal(second.R_perp, mc.statistic("R_perp")[1])
    np.testing.assert_array_equal(second["squared error"], mc.risks["squared error"][1])
    assert set(frame.seed) == {5} and set(frame.rho) == {1.5} and set(frame.lr) == {0.05}
    assert frame.attrs["simulator"] == "logistic" and frame.attrs["batch"] == 2
    prediction = mean_field(model, opt, 6)
    table = prediction.to_dataframe()
    assert list(table.columns[:1 + len(prediction.names)]) == ["step", *prediction.names]
    np.testing.assert_array_equal(table["excess cross-entropy"],
                                  prediction.risks["excess cross-entropy"])
    assert set(table.beta) == {0.5} and set(table.time) == {"steps"} and len(table) == 7


def test_trajectory_repr_is_one_line_naming_the_problem():
    """A trajectory of 500 rows prints as one line, never its arrays."""
    model = SparseLeastSquares(d=4, p=np.linspace(0.1, 0.9, 500), R0=1.0)
    trajectory = exact_state(model, Optimizer("heavy-ball", lr=0.1, beta=0.5), 20)
    assert repr(trajectory) == ("MomentTrajectory(lsq × heavy-ball, 500 rows, 20 steps, "
                                "moments R, C, V, backend numpy)")
    assert str(trajectory) == repr(trajectory)


def test_every_result_repr_is_one_line_of_shapes_never_arrays():
    """Monte Carlo (trajectories kept), the logistic simulation and the mean field print
    as one line: the problem and each array by its shape."""
    model = SparseLeastSquares(d=4, p=[0.3, 0.05], R0=1.0, sigma2=0.1)
    mc = monte_carlo_risk(model, Optimizer("heavy-ball", lr=0.05, beta=0.9, batch=4), 300, 50,
                          seed=1, keep_trajectories=True)
    assert repr(mc) == ("MonteCarloResult(lsq × heavy-ball, mean=array(301,), "
                        "stderr=array(301,), runs=50, diverged=0, trajectories=array(50, 301))")
    logistic = RareClassLogistic(d=20, p=0.2, rho=2.0)
    opt = Optimizer("heavy-ball", lr=0.05, beta=0.5)
    for result in (monte_carlo_logistic(logistic, opt, 6, 40, seed=0),
                   mean_field(logistic, opt, 6)):
        text = repr(result)
        assert "\n" not in text and len(text) < 300 and "array(" in text, text
        assert text.startswith(f"{type(result).__name__}(logistic × heavy-ball"), text
