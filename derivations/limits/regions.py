"""A region of exponent space as a short list of linear conditions.

Conditions ``c > 0`` and ``e = 0`` (linear forms in κ, σ, γ ≥ 0 and θ) are normalised,
deduplicated, and a condition implied by the others is dropped, each decided exactly
(:func:`implied`: a Farkas certificate, found by a rational simplex).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import sympy as sp

from .asymptotics import gamma, kappa, sigma, theta
from .rational_lp import feasible_point


def reduce_region(inequalities, equalities):
    """Deduplicate and drop implied inequalities: ``c > 0`` goes when the others imply
    ``c ≥ 0`` over κ, σ, γ ≥ 0 and θ (:func:`implied`, exact); a region no exponents
    satisfy is an :class:`ArithmeticError`.  Points of one region give the same
    conditions, so the reduction is cached on them."""
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
        return [_fraction(x) for x in coefficients], _fraction(expr.subs({v: 0 for v in used}))

    rows = {c: row(c) for c in ineqs}
    eq_rows = [row(e_) for e_ in eqs]
    size = len(used) + (theta in used)
    if feasible_point(size, [[-x for x in r] for r, _ in rows.values()], [k for _, k in rows.values()],
                      [r for r, _ in eq_rows], [-k for _, k in eq_rows]) is None:
        raise ArithmeticError(f"inconsistent region: no exponents satisfy {list(ineqs)} ≥ 0 "
                              f"and {list(eqs)} = 0")
    kept = list(ineqs)
    for c in list(ineqs):   # each dropped in turn when the conditions still kept imply it
        if implied(rows[c], [rows[o] for o in kept if o is not c], eq_rows):
            kept.remove(c)
    return tuple(kept), tuple(eqs)


def implied(c, others, equalities) -> bool:
    """On a non-empty region ``{x ≥ 0 : o(x) ≥ 0 for o in others, e(x) = 0 for e in
    equalities}`` (forms as ``(coefficients, constant)``), whether ``c ≥ 0`` holds
    throughout.  By the affine Farkas lemma, exactly when ``c = Σ λ_j o_j + Σ μ_k e_k + r``
    for some ``λ ≥ 0``, ``μ`` and ``r`` with coefficients and constant ``≥ 0``: a linear
    system in ``(λ, μ⁺, μ⁻)`` of one row per coefficient, decided exactly
    (:func:`sparsemom.derivations.limits.rational_lp.feasible_point`)."""
    coefficients, constant = c
    columns = [(o, 1) for o in others] + [(e, 1) for e in equalities] + [(e, -1) for e in equalities]
    A = [[sign * form[0][v] for form, sign in columns] for v in range(len(coefficients))]
    A.append([sign * form[1] for form, sign in columns])
    return feasible_point(len(columns), A, [*coefficients, constant]) is not None


def _fraction(x) -> Fraction:
    x = sp.Rational(x)
    return Fraction(int(x.p), int(x.q))
