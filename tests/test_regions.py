"""Region reduction: exact rational feasibility and the Farkas test of implication,
against HiGHS and SymPy's simplex."""

import random
from fractions import Fraction

import pytest
import sympy as sp
from scipy.optimize import linprog as highs
from sympy.solvers.simplex import InfeasibleLPError, UnboundedLPError
from sympy.solvers.simplex import linprog as sympy_linprog

from sparsemom.derivations.limits.rational_lp import feasible_point
from sparsemom.derivations.limits.regions import implied, reduce_region


def _row(rng, n):
    return [Fraction(rng.randint(-3, 3), rng.choice([1, 2, 3])) for _ in range(n)]


def _rhs(rng):
    return Fraction(rng.randint(-2, 3), rng.choice([1, 2]))


@pytest.mark.parametrize("seed", range(3))
def test_feasibility_agrees_with_highs_and_the_point_is_exact(seed):
    rng = random.Random(seed)
    verdicts = set()
    for _ in range(150):
        n = rng.randint(1, 5)
        A_ub = [_row(rng, n) for _ in range(rng.randint(0, 6))]
        A_eq = [_row(rng, n) for _ in range(rng.choice([0, 0, 1, 2]))]
        b_ub, b_eq = [_rhs(rng) for _ in A_ub], [_rhs(rng) for _ in A_eq]
        x = feasible_point(n, A_ub, b_ub, A_eq, b_eq)
        reference = highs([0.0] * n, A_ub=[[float(v) for v in r] for r in A_ub] or None,
                          b_ub=[float(v) for v in b_ub] or None,
                          A_eq=[[float(v) for v in r] for r in A_eq] or None,
                          b_eq=[float(v) for v in b_eq] or None, method="highs")
        assert (x is not None) == (reference.status == 0)
        verdicts.add(x is not None)
        if x is not None:
            assert len(x) == n and all(v >= 0 for v in x)
            assert all(sum(a * v for a, v in zip(r, x)) <= b for r, b in zip(A_ub, b_ub))
            assert all(sum(a * v for a, v in zip(r, x)) == b for r, b in zip(A_eq, b_eq))
    assert verdicts == {True, False}


def _lp_verdict(c, others, equalities):
    """``min c ≥ 0`` over the others' region, by SymPy's exact simplex (``None``: empty
    region, which SymPy 1.14 may misreport, sympy/sympy#28089)."""
    M = lambda rows: sp.Matrix([[sp.Rational(v) for v in r] for r in rows])  # noqa: E731
    A, b = M([[-v for v in o[0]] for o in others]), M([[o[1]] for o in others])
    A_eq = M([e[0] for e in equalities]) if equalities else None
    b_eq = M([[-e[1]] for e in equalities]) if equalities else None
    try:
        lowest, x = sympy_linprog(M([c[0]]), A, b, A_eq, b_eq)
    except UnboundedLPError:
        return False
    except InfeasibleLPError:
        return None
    x = sp.Matrix(x)
    if any(v > 0 for v in A * x - b) or A_eq is not None and A_eq * x != b_eq:
        return None
    return lowest + sp.Rational(c[1]) >= 0


@pytest.mark.parametrize("seed", range(3))
def test_farkas_implication_agrees_with_the_exact_lp(seed):
    rng = random.Random(seed)
    verdicts = []
    for _ in range(80):
        n = rng.randint(2, 5)
        others = [(_row(rng, n), _rhs(rng)) for _ in range(rng.randint(1, 5))]
        equalities = [(_row(rng, n), _rhs(rng))] if rng.random() < 0.3 else []
        c = (_row(rng, n), _rhs(rng))
        if rng.random() < 0.4:          # a combination of the others plus a form ≥ 0: implied
            lam = [Fraction(rng.randint(0, 3)) for _ in others]
            c = ([sum(l * o[0][v] for l, o in zip(lam, others)) + rng.randint(0, 1) for v in range(n)],
                 sum(l * o[1] for l, o in zip(lam, others)) + rng.randint(0, 1))
        exact = _lp_verdict(c, others, equalities)
        if exact is None:               # empty region: reduce_region rejects those first
            continue
        assert implied(c, others, equalities) == exact
        verdicts.append(exact)
    assert verdicts.count(True) >= 10 and verdicts.count(False) >= 10


def test_a_degenerate_system_does_not_cycle():
    """Beale's example (where the largest-coefficient rule cycles), as the optimality
    condition ``c·x ≤ −1/20`` added to its constraints: feasible exactly at the optimum."""
    A = [[Fraction(1, 4), -60, Fraction(-1, 25), 9], [Fraction(1, 2), -90, Fraction(-1, 50), 3],
         [0, 0, 1, 0], [Fraction(-3, 4), 150, Fraction(-1, 50), 6]]
    assert feasible_point(4, A, [0, 0, 1, Fraction(-1, 20)]) is not None
    assert feasible_point(4, A, [0, 0, 1, Fraction(-1, 19)]) is None


def test_rows_of_the_wrong_length_are_rejected():
    with pytest.raises(ValueError, match="2 coefficients"):
        feasible_point(2, [[1]], [1])


def test_implied_conditions_are_dropped_and_the_others_kept():
    k, s, g, t = sp.symbols("kappa sigma gamma theta", real=True)
    kept, eqs = reduce_region([k - s, 2 * k - 2 * s + g, t + 1, 1 - t, 3 - t], [])
    assert set(kept) == {k - s, t + 1, 1 - t} and eqs == ()
    with pytest.raises(ArithmeticError, match="inconsistent region"):
        reduce_region([k - s - 1, s - k - 1], [])
