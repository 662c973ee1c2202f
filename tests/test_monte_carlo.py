"""The dense Monte Carlo simulator: reproducibility, divergence accounting, and the
Monte Carlo rung that `sparsemom verify` runs."""

import numpy as np
import pytest

from numerics.inputs.models import SparseLeastSquares
from numerics.inputs.optimizer import Optimizer
from numerics.simulate.monte_carlo import monte_carlo_risk
from numerics.verify.rungs import check_monte_carlo, monte_carlo_cases

CASES = list(monte_carlo_cases())


@pytest.mark.parametrize("case", CASES[::3], ids=lambda c: f"{c[0]}-{c[1]}")
def test_verify_rung(case):
    result = check_monte_carlo(*case)
    assert result.passed, result.detail


def test_reproducible_from_seed():
    _, _, model, opt = CASES[2]
    a = monte_carlo_risk(model, opt, 5, 3000, seed=11)
    b = monte_carlo_risk(model, opt, 5, 3000, seed=11)
    c = monte_carlo_risk(model, opt, 5, 3000, seed=12)
    assert np.array_equal(a.mean, b.mean) and not np.array_equal(a.mean, c.mean)


def test_diverged_runs_are_counted_not_averaged():
    model, opt = SparseLeastSquares(d=10, p=0.5), Optimizer("sgd", lr=2.0)
    with pytest.warns(RuntimeWarning, match="runs overflowed"):
        mc = monte_carlo_risk(model, opt, 600, 200, seed=1)
    assert mc.diverged > 0 and not np.any(np.isnan(mc.mean))


def test_unknown_time_rule():
    with pytest.raises(ValueError, match="time must be one of 'steps', 'active'"):
        monte_carlo_risk(SparseLeastSquares(3, 0.5), Optimizer("sgd", lr=0.1), 5, 10, 0,
                         time="wall")
