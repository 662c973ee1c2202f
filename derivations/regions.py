"""A region of exponent space as a short list of linear conditions.

Conditions ``c > 0`` and ``e = 0`` (linear forms in κ, σ, γ ≥ 0 and θ) are normalised,
deduplicated, and a condition implied by the others is dropped.  Each implication is
decided exactly: by a certificate a floating-point LP finds and exact rational arithmetic
checks (multipliers for "implied", a point for "not implied"), else by an exact rational
linear program (``sympy.solvers.simplex``).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import sympy as sp
from scipy.optimize import linprog as scipy_linprog
from sympy.solvers.simplex import InfeasibleLPError, UnboundedLPError, linprog

from .asymptotics import gamma, kappa, sigma, theta


def reduce_region(inequalities, equalities):
    """Deduplicate and drop implied inequalities: ``c > 0`` goes when the others imply
    ``c ≥ 0`` (an exact rational linear program over κ, σ, γ ≥ 0 and θ,
    ``sympy.solvers.simplex``).  Points of one region give the same conditions, so the
    reduction is cached on them."""
    return _reduce(tuple(inequalities), tuple(equalities))


@lru_cache(maxsize=None)
def _reduce(inequalities: tuple, equalities: tuple):
    variables = [kappa, sigma, gamma, theta]

    def normal(expr):
        expr = sp.expand(expr)
        coeffs = [expr.coeff(v) for v in variables]
        const = expr.subs({v: 0 for v in variables})
        scale = max(abs(c) for c in coeffs + [const]) or 1
        return sp.expand(expr / scale)

    eqs = []
    for e_ in equalities:
        if e_ == 0:
            continue
        n = normal(e_)
        lead = next(c for c in [n.coeff(v) for v in variables] + [n] if c != 0)
        n = sp.expand(n if lead > 0 else -n)
        if n not in eqs:
            eqs.append(n)
    ineqs = []
    for c in inequalities:
        if c.is_number:
            if c < 0:
                raise ArithmeticError(f"inconsistent region condition {c} > 0")
            continue  # a constant 0: two terms tie at every exponent (fixed p and B)
        n = normal(c)
        if n not in ineqs:
            ineqs.append(n)
    used = [v for v in variables if any(e_.has(v) for e_ in ineqs + eqs)]
    if not used:
        return tuple(ineqs), tuple(eqs)

    def row(expr):
        """Coefficients and constant of a linear form in ``used`` (exact rationals); a free
        θ is split as ``θ⁺ − θ⁻`` so that every LP variable is non-negative."""
        coefficients = [expr.coeff(v) for v in used]
        if theta in used:
            coefficients.append(-expr.coeff(theta))
        return coefficients, expr.subs({v: 0 for v in used})

    rows = {c: row(c) for c in ineqs}
    eq_rows = [row(e_) for e_ in eqs]
    A_eq = sp.Matrix([r for r, _ in eq_rows]) if eqs else None
    b_eq = sp.Matrix([-c for _, c in eq_rows]) if eqs else None
    kept = list(ineqs)
    for c in list(ineqs):
        objective, constant = rows[c]
        if constant >= 0 and all(x >= 0 for x in objective):
            kept.remove(c)      # implied by κ, σ, γ ≥ 0 alone (no θ term: θ⁺, θ⁻ cancel)
            continue
        if any(_implied_by_one(rows[c], rows[o]) for o in kept if o is not c):
            kept.remove(c)      # c = λ·o + (a form ≥ 0 on κ, σ, γ ≥ 0), λ ≥ 0
            continue
        # o ≥ 0 for the others (a trivial 0 ≤ 0 row when there are none: linprog wants A)
        others = [rows[o] for o in kept if o is not c] or [([0] * len(objective), 0)]
        verdict = certified_implication(rows[c], others, eq_rows)
        if verdict is None:              # no certificate: the exact rational LP decides
            A = sp.Matrix([[-x for x in r] for r, _ in others])
            b = sp.Matrix([k for _, k in others])
            try:
                lowest, _ = linprog(sp.Matrix([objective]), A, b, A_eq, b_eq)
            except (UnboundedLPError, InfeasibleLPError):
                continue
            verdict = lowest + constant >= 0
        if verdict:                      # implied by the others
            kept.remove(c)
    return tuple(kept), tuple(eqs)


def certified_implication(c, others, equalities) -> bool | None:
    """Whether ``o ≥ 0`` (each of ``others``), ``e = 0`` (each of ``equalities``) and
    ``x ≥ 0`` imply ``c ≥ 0`` — rows as ``(coefficients, constant)`` over the LP variables
    ``x`` — when a floating-point LP (HiGHS) finds a certificate that holds exactly:

    * **yes**: multipliers ``λ ≥ 0``, ``μ`` leaving every coefficient and the constant of
      ``c − Σ λ_j o_j − Σ μ_k e_k`` non-negative (then ``c ≥ 0`` wherever the others hold);
    * **no**: a point ``x ≥ 0`` where every ``o ≥ 0`` and ``e = 0`` hold and ``c < 0``.

    The candidate is rounded to nearby rationals and checked in exact arithmetic;
    ``None`` when neither certificate checks out (the caller solves the exact LP)."""
    witness = _point_with_negative(c, others, equalities)
    if witness is not None:
        return False
    return True if _multipliers(c, others, equalities) else None


def _rationals(values) -> list[Fraction]:
    return [Fraction(float(v)).limit_denominator(10**6) for v in values]


def _exact(row) -> tuple[list[Fraction], Fraction]:
    coefficients, constant = row
    return [Fraction(int(x.p), int(x.q)) for x in map(sp.Rational, coefficients)], \
        Fraction(int(sp.Rational(constant).p), int(sp.Rational(constant).q))


def _value(row, x) -> Fraction:
    coefficients, constant = row
    return sum((a * v for a, v in zip(coefficients, x)), constant)


def _point_with_negative(c, others, equalities):
    """A point certifying ``c < 0`` inside the others' region (exactly checked), or ``None``."""
    c, others, equalities = _exact(c), [_exact(o) for o in others], [_exact(e) for e in equalities]
    n = len(c[0])
    found = scipy_linprog([float(a) for a in c[0]],
                          A_ub=[[-float(a) for a in o[0]] for o in others] or None,
                          b_ub=[float(o[1]) for o in others] or None,
                          A_eq=[[float(a) for a in e[0]] for e in equalities] or None,
                          b_eq=[-float(e[1]) for e in equalities] or None,
                          bounds=[(0, 1e3)] * n, method="highs")
    if found.status != 0 or found.fun + float(c[1]) >= -1e-9:
        return None
    x = _rationals(found.x)
    exact = (all(v >= 0 for v in x) and all(_value(o, x) >= 0 for o in others)
             and all(_value(e, x) == 0 for e in equalities) and _value(c, x) < 0)
    return x if exact else None


def _multipliers(c, others, equalities) -> bool:
    """Multipliers certifying ``c ≥ 0`` (exactly checked)."""
    c, others, equalities = _exact(c), [_exact(o) for o in others], [_exact(e) for e in equalities]
    n, m, k = len(c[0]), len(others), len(equalities)
    # rows: each coefficient, then the constant, of Σ λ_j o_j + Σ μ_k e_k ≤ c
    A = [[float(o[0][v]) for o in others] + [float(e[0][v]) for e in equalities] for v in range(n)]
    A.append([float(o[1]) for o in others] + [float(e[1]) for e in equalities])
    b = [float(a) for a in c[0]] + [float(c[1])]
    found = scipy_linprog([0.0] * (m + k), A_ub=A, b_ub=b,
                          bounds=[(0, None)] * m + [(None, None)] * k, method="highs")
    if found.status != 0:
        return False
    y = _rationals(found.x)
    lam, mu = y[:m], y[m:]
    if any(v < 0 for v in lam):
        return False
    rest = [c[0][v] - sum(l * o[0][v] for l, o in zip(lam, others))
            - sum(u * e[0][v] for u, e in zip(mu, equalities)) for v in range(n)]
    rest0 = c[1] - sum(l * o[1] for l, o in zip(lam, others)) - sum(u * e[1] for u, e in zip(mu, equalities))
    return all(v >= 0 for v in rest) and rest0 >= 0


def _implied_by_one(c, o) -> bool:
    """``o ≥ 0`` and the bounds of the LP variables (all ``≥ 0``) imply ``c ≥ 0``: some
    ``λ ≥ 0`` leaves every coefficient and the constant of ``c − λ o`` non-negative (a
    sufficient certificate, checked before a linear program is solved)."""
    (cc, c0), (oc, o0) = c, o
    low, high = Fraction(0), None
    for x, y in zip([*cc, c0], [*oc, o0]):
        x, y = Fraction(int(x.p), int(x.q)), Fraction(int(y.p), int(y.q))
        # need x − λ y ≥ 0
        if y > 0:
            high = x / y if high is None else min(high, x / y)
        elif y < 0:
            low = max(low, x / y)
        elif x < 0:
            return False
    return high is None or low <= high
