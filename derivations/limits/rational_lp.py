"""Feasibility of small linear systems in exact rational arithmetic (simplex, phase one).

``feasible_point`` finds ``x ≥ 0`` with ``A_ub x ≤ b_ub`` and ``A_eq x = b_eq``, or proves
there is none: phase one of the simplex method (minimise the sum of artificial variables)
on :class:`fractions.Fraction` entries, so the verdict is exact.  Entering columns follow
Dantzig's rule (most negative reduced cost) and switch for good to Bland's rule (lowest
index) after a run of degenerate pivots, which cannot cycle.  Built for
:mod:`sparsemom.derivations.limits.regions`, whose implication tests are systems of a handful of rows.
"""

from __future__ import annotations

from fractions import Fraction

#: Consecutive degenerate pivots after which Bland's rule takes over.
DEGENERATE_RUN = 20


def feasible_point(variables: int, A_ub=(), b_ub=(), A_eq=(), b_eq=()) -> tuple[Fraction, ...] | None:
    """A point ``x ≥ 0`` (``variables`` entries) with ``A_ub x ≤ b_ub`` and ``A_eq x = b_eq``,
    or ``None`` when there is none (exact)."""
    ub = [([Fraction(v) for v in a], Fraction(b)) for a, b in zip(A_ub, b_ub, strict=True)]
    eq = [([Fraction(v) for v in a], Fraction(b)) for a, b in zip(A_eq, b_eq, strict=True)]
    for a, _ in ub + eq:
        if len(a) != variables:
            raise ValueError(f"every constraint row must have {variables} coefficients; got {len(a)}")
    slacks = len(ub)
    needs_artificial = [b < 0 for _, b in ub] + [True] * len(eq)
    artificials = sum(needs_artificial)
    width = variables + slacks + artificials
    table, basis = [], []
    k = variables + slacks
    for i, (a, b) in enumerate(ub + eq):
        row = a + [Fraction(int(j == i)) for j in range(slacks)] + [Fraction(0)] * artificials + [b]
        if b < 0:
            row = [-v for v in row]
        if needs_artificial[i]:
            row[k] = Fraction(1)
            basis.append(k)
            k += 1
        else:
            basis.append(variables + i)
        table.append(row)
    # reduced costs of "minimise Σ artificials", and (last entry) minus its value
    cost = [Fraction(0)] * (width + 1)
    for i, row in enumerate(table):
        if needs_artificial[i]:
            cost = [c - v for c, v in zip(cost, row)]
    for j in range(variables + slacks, width):
        cost[j] = Fraction(0)
    _minimise(table, basis, cost, width)
    if cost[-1] != 0:
        return None
    x = [Fraction(0)] * width
    for i, j in enumerate(basis):
        x[j] = table[i][-1]
    return tuple(x[:variables])


def _minimise(table, basis, cost, width: int) -> None:
    degenerate, bland = 0, False
    while True:
        candidates = [j for j in range(width) if cost[j] < 0]
        if not candidates:
            return
        entering = candidates[0] if bland else min(candidates, key=lambda j: cost[j])
        leaving, best = None, None
        for i, row in enumerate(table):
            if row[entering] > 0:
                ratio = row[-1] / row[entering]
                if best is None or ratio < best or (ratio == best and basis[i] < basis[leaving]):
                    leaving, best = i, ratio
        if leaving is None:     # unbounded below: impossible for a sum of non-negatives
            raise ArithmeticError("phase one of the simplex is unbounded")
        degenerate = degenerate + 1 if best == 0 else 0
        bland = bland or degenerate >= DEGENERATE_RUN
        _pivot(table, basis, cost, leaving, entering)


def _pivot(table, basis, cost, i: int, j: int) -> None:
    pivot_row = table[i]
    p = pivot_row[j]
    pivot_row[:] = [v / p for v in pivot_row]
    for row in (*table[:i], *table[i + 1:], cost):
        f = row[j]
        if f != 0:
            row[:] = [v - f * w if w else v for v, w in zip(row, pivot_row)]
    basis[i] = j
