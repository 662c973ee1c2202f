"""Results as data: the whole moment state per row, labelled tables with their
parameters, Monte Carlo statistics and every component of a scaling limit."""

import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from derivations.asymptotics import ExponentPoint
from derivations.scaling_limits import scaling_limit
from numerics import DivergenceWarning, Optimizer, SparseLeastSquares, exact_risk, exact_state
from numerics.analysis.scaling_limit import limit_components, limit_curve, rescaled_times
from numerics.simulate.monte_carlo import monte_carlo_risk
from numerics.simulate.sparse import sparse_monte_carlo_risk

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
    frame = exact_state(model, opt, 5).to_dataframe()
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


def test_monte_carlo_results_are_tables_with_their_seed():
    model = SparseLeastSquares(d=3, p=[0.5, 0.25], R0=1.0, sigma2=0.0)
    opt = Optimizer("heavy-ball", lr=0.2, beta=0.5, batch=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dense = monte_carlo_risk(model, opt, 4, runs=50, seed=3)
        sparse = sparse_monte_carlo_risk(model, opt, 4, runs=50, seed=3)
    for result, simulator in ((dense, "dense"), (sparse, "sparse")):
        frame = result.to_dataframe()
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
    frame = curve.to_dataframe()
    assert list(frame.columns) == ["t", "R", "C", "V"]
    assert frame.attrs["phase"] == limit.phase and frame.attrs["gamma"] == "3/2"
    with pytest.raises(ValueError, match="times must be"):
        limit_components(limit, [-1.0])
