"""The Monte Carlo comparison harness: agreement, false-alarm rate and power."""

import numpy as np
import pytest
from scipy import stats
from swept_rules import SWEPT_RULES

from sparsemom.derivations import TIME_RULES, UPDATE_RULES
from sparsemom.numerics import exact_risk
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.simulate.harness import compare_with_theory, holm
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk


def simulate(model, opt, steps, runs, seed, time="steps"):
    return monte_carlo_risk(model, opt, steps, runs, seed, keep_trajectories=True,
                            time=time).trajectories


@pytest.mark.parametrize("time", TIME_RULES)
@pytest.mark.parametrize("name", SWEPT_RULES)
@pytest.mark.parametrize("stream", [False, True], ids=["one row", "stream"])
def test_simulation_agrees_with_exact_risk(name, time, stream):
    beta = UPDATE_RULES[name].example_beta([0.7, 0.5] if stream else 0.8)
    if stream:
        model = SparseLeastSquares(d=5, p=[0.4, 0.15], R0=[1.0, 2.0], sigma2=0.1)
        opt = Optimizer(name, lr=[0.1, 0.2], beta=beta, batch=3,
                        **UPDATE_RULES[name].example_hyper_parameters())
    else:
        model = SparseLeastSquares(d=6, p=0.3, R0=1.5, sigma2=0.2)
        opt = Optimizer(name, lr=0.08, beta=beta, batch=2,
                        **UPDATE_RULES[name].example_hyper_parameters())
    result = compare_with_theory(simulate(model, opt, 25, 12_000, seed=7, time=time),
                                 exact_risk(model, opt, 25, time=time))
    assert result.passed, str(result)


FALSE_ALARM_SEEDS = 200
ALPHA = 0.05


def test_false_alarm_rate_is_controlled():
    """A correct formula on 200 seeds: rejections at family level 0.05 stay within the
    99.9 % binomial bound (observed rate printed in the closing notes)."""
    model = SparseLeastSquares(d=4, p=0.5, R0=1.0, sigma2=0.1)
    opt = Optimizer("heavy-ball", lr=0.1, beta=0.8, batch=2)
    theory = exact_risk(model, opt, 15)
    rejections = sum(not compare_with_theory(simulate(model, opt, 15, 2_000, seed), theory,
                                             alpha=ALPHA, groups=20).passed
                     for seed in range(FALSE_ALARM_SEEDS))
    bound = stats.binom.ppf(0.999, FALSE_ALARM_SEEDS, ALPHA)
    assert rejections <= bound, f"{rejections}/{FALSE_ALARM_SEEDS} false alarms (bound {bound})"


def test_power_fourth_moment_factor_off_by_ten_percent():
    """Theory with d + 2 replaced by 1.1 (d + 2) (d = 8 → 9 with s² = 0, where d enters
    only through the fourth moment) is rejected."""
    model = SparseLeastSquares(d=8, p=0.5, R0=1.0)
    opt = Optimizer("heavy-ball", lr=0.1, beta=0.6, batch=1)
    runs = simulate(model, opt, 30, 20_000, seed=3)
    assert compare_with_theory(runs, exact_risk(model, opt, 30)).passed
    wrong = exact_risk(SparseLeastSquares(d=9, p=0.5, R0=1.0), opt, 30)
    assert not compare_with_theory(runs, wrong).passed


def test_power_beta_squared():
    model = SparseLeastSquares(d=5, p=0.5, R0=1.0, sigma2=0.1)
    opt = Optimizer("nesterov", lr=0.08, beta=0.7, batch=2)
    runs = simulate(model, opt, 30, 20_000, seed=4)
    assert compare_with_theory(runs, exact_risk(model, opt, 30)).passed
    wrong = Optimizer("nesterov", lr=0.08, beta=0.49, batch=2)
    assert not compare_with_theory(runs, exact_risk(model, wrong, 30)).passed


def test_holm_adjustment():
    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03, 0.5])),
                               [0.04, 0.09, 0.09, 0.5])


def test_harness_rejects_bad_input():
    with pytest.raises(ValueError, match="predicted must have shape"):
        compare_with_theory(np.zeros((100, 5)), np.zeros(4))
    with pytest.raises(ValueError, match="non-finite"):
        compare_with_theory(np.full((100, 3), np.inf), np.zeros(3))
    with pytest.raises(ValueError, match="groups must be ≥ 2"):
        compare_with_theory(np.zeros((10, 3)), np.zeros(3), groups=40)
