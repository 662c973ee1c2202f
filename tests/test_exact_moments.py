"""Exact-moment rung: derived recursion (rational arithmetic) == brute-force
expansion of R_k in the data with exact Gaussian/Bernoulli moments."""

from fractions import Fraction as F

import pytest

from sparsemom.derivations.definitions.optimizers import UPDATE_RULES
from sparsemom.numerics import exact_risk
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.simulate.exact_moments import expanded_risk
from sparsemom.numerics.verify.rungs import exact_moment_cases

CASES = list(exact_moment_cases())


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_recursion_equals_expansion(case):
    model, opt = case.build()
    derived = list(exact_risk(model, opt, case.steps, backend="exact"))
    assert derived == expanded_risk(model, opt, case.steps, case.initial_errors)


def test_cases_cover_the_grid():
    assert {c.optimizer for c in CASES} == set(UPDATE_RULES)
    assert {(c.d, c.batch) for c in CASES} >= {(1, 1), (1, 2), (2, 1), (2, 2)}
    assert any(len(c.p) > 1 and len(set(c.lr)) > 1 and len(set(c.beta)) > 1 for c in CASES)
    assert all(c.steps == 3 and c.sigma2 > 0 for c in CASES)


def test_expansion_one_sgd_step_by_hand():
    """d = 1, B = 1: e_1 = e_0 − η m x (x e_0 − ξ), so
    E e_1² = e_0² (1 − 2ηp + 3η²p) + η² p s² (E x⁴ = 3)."""
    lr, p, s2, e0 = F(1, 4), F(1, 3), F(1, 5), F(3, 2)
    model = SparseLeastSquares(1, p, R0=e0**2, sigma2=s2)
    risk = expanded_risk(model, Optimizer("sgd", lr=lr), 1, [[e0]])
    assert risk[1] == p / 2 * (e0**2 * (1 - 2 * lr * p + 3 * lr**2 * p) + lr**2 * p * s2)


def test_expansion_requires_exact_inputs():
    with pytest.raises(ValueError, match="p must be given exactly"):
        expanded_risk(SparseLeastSquares(1, 0.5), Optimizer("sgd", lr=F(1, 2)), 1, [[1]])
    with pytest.raises(ValueError, match="squared norms"):
        expanded_risk(SparseLeastSquares(1, F(1, 2), R0=2), Optimizer("sgd", lr=F(1, 2)), 1,
                      [[1]])
