"""A region of exponent space as a short list of linear conditions.

Conditions ``c > 0`` and ``e = 0`` (linear forms in κ, σ, γ ≥ 0 and θ) are normalised,
deduplicated, and a condition implied by the others is dropped, each decided by an
exact rational linear program (``sympy.solvers.simplex``).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import sympy as sp
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
        A = sp.Matrix([[-x for x in r] for r, _ in others])
        b = sp.Matrix([k for _, k in others])
        try:
            lowest, _ = linprog(sp.Matrix([objective]), A, b, A_eq, b_eq)
        except (UnboundedLPError, InfeasibleLPError):
            continue
        if lowest + constant >= 0:       # implied by the others: exact rational arithmetic
            kept.remove(c)
    return tuple(kept), tuple(eqs)


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
