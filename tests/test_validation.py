"""Every bad input is a ValueError naming the parameter and the violated condition."""

import math
from fractions import Fraction

import numpy as np
import pytest

from sparsemom.numerics import exact_risk
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.inputs.validation import check_per_row
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk

GOOD_MODEL = dict(d=4, p=0.5, R0=1.0, sigma2=0.0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(d=0), r"d must be a positive integer"),
    (dict(d=2.5), r"d must be a positive integer"),
    (dict(d=True), r"d must be a positive integer"),
    (dict(p=0.0), r"p must be > 0"),
    (dict(p=1.5), r"p must be ≤ 1"),
    (dict(p=[0.5, -0.1]), r"p must be > 0"),
    (dict(p=[]), r"p must not be empty"),
    (dict(p=math.nan), r"p must be finite"),
    (dict(p=[0.1, math.inf]), r"p must be finite"),
    (dict(p=[[0.1]]), r"p must be a scalar or a 1-d array"),
    (dict(p="0.5"), r"p must hold real numbers"),
    (dict(R0=-1.0), r"R0 must be ≥ 0"),
    (dict(R0=math.nan), r"R0 must be finite"),
    (dict(p=[0.1, 0.2], R0=[1.0, 2.0, 3.0]), r"per-row arrays must have the same length; "
                                             r"p has 2, R0 has 3 rows"),
    (dict(sigma2=-0.1), r"sigma2 must be ≥ 0"),
    (dict(sigma2=math.inf), r"sigma2 must be finite"),
    (dict(d=10**400), r"d must be an integer ≤ 2\^53; got about 10\^400"),   # was an OverflowError later
    (dict(d=2**53 + 1), r"d must be an integer ≤ 2\^53; got 9007199254740993"),
])
def test_model_rejects(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SparseLeastSquares(**{**GOOD_MODEL, **kwargs})


@pytest.mark.parametrize("args, kwargs, message", [
    (("adam",), dict(lr=0.1), r"optimizer name must be one of 'sgd', 'heavy-ball', "
                              r"'nesterov', 'lazy', .*'qhm', 'ema'.*; got 'adam'"),
    (("heavy-ball",), dict(lr=0.0), r"lr must be > 0"),
    (("heavy-ball",), dict(lr=-1.0), r"lr must be > 0"),
    (("heavy-ball",), dict(lr=math.nan), r"lr must be finite"),
    (("heavy-ball",), dict(lr=0.1, beta=1.0), r"beta must be < 1"),
    (("heavy-ball",), dict(lr=0.1, beta=-0.1), r"beta must be ≥ 0"),
    (("heavy-ball",), dict(lr=0.1, beta=[0.5, math.nan]), r"beta must be finite"),
    (("heavy-ball",), dict(lr=0.1, batch=0), r"batch must be a positive integer"),
    (("heavy-ball",), dict(lr=0.1, batch=2.0), r"batch must be a positive integer"),
    (("heavy-ball",), dict(lr=[0.1, 0.2], beta=[0.5, 0.5, 0.5]),
     r"per-row arrays must have the same length"),
    (("sgd",), dict(lr=0.1, beta=0.9), r"beta must be 0 for optimizer 'sgd'"),
])
def test_optimizer_rejects(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        Optimizer(*args, **kwargs)


@pytest.mark.parametrize("steps", [-1, 2.0, 1.5, None])
def test_steps_rejected(steps):
    with pytest.raises(ValueError, match="steps must be an integer ≥ 0"):
        exact_risk(SparseLeastSquares(**GOOD_MODEL), Optimizer("sgd", lr=0.1), steps)


def test_rows_must_agree_between_model_and_optimizer():
    m = SparseLeastSquares(d=3, p=np.full(3, 0.1))
    with pytest.raises(ValueError, match="p has 3, .*lr has 2 rows"):
        exact_risk(m, Optimizer("sgd", lr=[0.1, 0.2]), 5)


def test_unknown_backend():
    with pytest.raises(ValueError, match="backend must be one of 'auto', 'numpy', 'c', 'mpmath', 'exact'"):
        exact_risk(SparseLeastSquares(**GOOD_MODEL), Optimizer("sgd", lr=0.1), 5, backend="gpu")


def test_monte_carlo_rejects():
    m, o = SparseLeastSquares(**GOOD_MODEL), Optimizer("sgd", lr=0.1)
    with pytest.raises(ValueError, match="runs must be an integer ≥ 2"):
        monte_carlo_risk(m, o, 5, runs=1, seed=0)
    with pytest.raises(ValueError, match="seed must be an integer ≥ 0"):
        monte_carlo_risk(m, o, 5, runs=10, seed=-3)


def test_float_arrays_are_checked_as_arrays_with_the_same_verdicts():
    """The vectorised path for float arrays accepts and rejects exactly what the element
    by element path does, naming the first offending value, at bounds floats hold exactly
    and at bounds they do not (1/3: compared exactly)."""
    third = Fraction(1, 3)
    cases = [dict(lower=0, lower_open=True), dict(lower=0, upper=1, upper_open=True),
             dict(lower=third), dict(upper=third, upper_open=True)]
    rows = [np.array([0.5, 0.25, 0.75]), np.array([0.0, 0.5]), np.array([0.5, 1.0, 2.0]),
            np.array([float(third), 0.9]), np.array([0.2, float(third)])]
    for bounds in cases:
        for values in rows:
            outcomes = []
            for given in (values, list(values)):
                try:
                    outcomes.append(("ok", check_per_row("beta", given, **bounds).tolist()))
                except ValueError as exc:
                    outcomes.append(("error", str(exc)))
            assert outcomes[0] == outcomes[1], (bounds, values)
    with pytest.raises(ValueError, match="lr must be finite"):
        check_per_row("lr", np.array([0.1, np.nan]), lower=0)
    assert check_per_row("mu", np.array([0.5, 1e300]), lower=0, upper=float("inf")).size == 2


def test_a_batch_beyond_float64_integers_is_refused():
    """``batch=10**400`` was accepted, then failed (or overflowed) inside the kernels."""
    from sparsemom.numerics.inputs.optimizer import Optimizer

    with pytest.raises(ValueError, match=r"batch must be an integer ≤ 2\^53"):
        Optimizer("sgd", lr=0.1, batch=10**400)
    assert Optimizer("sgd", lr=0.1, batch=2**53).batch == 2**53
