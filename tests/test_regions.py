"""Region reduction: the certificates found by a float LP decide as the exact LP does."""

import random
from fractions import Fraction

import pytest
import sympy as sp
from sympy.solvers.simplex import InfeasibleLPError, UnboundedLPError, linprog

from derivations.regions import certified_implication


def _exact_verdict(c, others, equalities):
    """``min c`` over the others' region ≥ 0, by SymPy's exact rational simplex."""
    (objective, constant) = c
    A = sp.Matrix([[-x for x in r] for r, _ in others])
    b = sp.Matrix([k for _, k in others])
    A_eq = sp.Matrix([r for r, _ in equalities]) if equalities else None
    b_eq = sp.Matrix([-k for _, k in equalities]) if equalities else None
    try:
        lowest, x = linprog(sp.Matrix([objective]), A, b, A_eq, b_eq)
    except UnboundedLPError:
        return False
    except InfeasibleLPError:
        return None
    x = sp.Matrix(x)
    if any(v > 0 for v in A * x - b) or A_eq is not None and A_eq * x != b_eq:
        return None     # an empty region SymPy 1.14 misreports (sympy/sympy#28089)
    return lowest + constant >= 0


def _row(rng, n):
    return ([sp.Rational(rng.randint(-3, 3), rng.choice([1, 2, 3])) for _ in range(n)],
            sp.Rational(rng.randint(-2, 2), rng.choice([1, 2])))


@pytest.mark.parametrize("seed", range(4))
def test_certificates_agree_with_the_exact_lp(seed):
    rng = random.Random(seed)
    decided = 0
    for _ in range(60):
        n = rng.randint(2, 5)
        others = [_row(rng, n) for _ in range(rng.randint(1, 4))]
        equalities = [_row(rng, n)] if rng.random() < 0.3 else []
        c = _row(rng, n)
        if rng.random() < 0.4:          # a combination of the others: implied
            lam = [Fraction(rng.randint(0, 3)) for _ in others]
            c = ([sum(sp.Rational(l) * o[0][v] for l, o in zip(lam, others)) + rng.randint(0, 1)
                  for v in range(n)], sum(sp.Rational(l) * o[1] for l, o in zip(lam, others)))
        exact = _exact_verdict(c, others, equalities)
        if exact is None:               # empty region: reduce_region never asks
            continue
        verdict = certified_implication(c, others, equalities)
        assert verdict in (exact, None)
        decided += verdict is not None
    assert decided >= 30
