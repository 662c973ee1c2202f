"""Monte Carlo smoke check: simulated SGD-M on sampled data vs the exact risk.

Fixed seeds make this deterministic; the bound is Bonferroni over the steps at
a family-wise level of 1e-3 under the normal approximation (a smoke check, not
the full statistical harness).
"""

import numpy as np
import pytest

from numerics.simulate import monte_carlo_risk
from numerics.verification import check_monte_carlo_smoke, monte_carlo_smoke_cases

CASES = list(monte_carlo_smoke_cases())


@pytest.mark.parametrize("name, model, opt", CASES, ids=[c[0] for c in CASES])
def test_simulation_agrees_with_exact_risk(name, model, opt):
    result = check_monte_carlo_smoke(name, model, opt)
    assert result.passed, result.detail


def test_reproducible_from_seed():
    name, model, opt = CASES[1]
    a = monte_carlo_risk(model, opt, 5, 3000, seed=11)
    b = monte_carlo_risk(model, opt, 5, 3000, seed=11)
    c = monte_carlo_risk(model, opt, 5, 3000, seed=12)
    assert np.array_equal(a.mean, b.mean) and not np.array_equal(a.mean, c.mean)


def test_smoke_check_detects_wrong_theory():
    """Power: the same simulation rejects a recursion whose lr is off by 20 %."""
    from derivations import Optimizer
    name, model, opt = CASES[1]
    wrong = Optimizer(name, lr=opt.lr * 1.2, beta=opt.beta, batch=opt.batch)
    from numerics import exact_risk
    mc = monte_carlo_risk(model, opt, 30, 20_000, seed=2026)
    z = np.abs(mc.mean[1:] - exact_risk(model, wrong, 30)[1:]) / mc.stderr[1:]
    assert z.max() > 10
