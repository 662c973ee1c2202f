"""Exponents that are linear inside each derived region, on a whole grid.

Inside one region of a :class:`~sparsemom.numerics.analysis.phase_map.PhaseMap` the dominant
balance is the same, so the limit's exponents — the time exponent ``τ`` (``k = t·d^τ``
active updates) and the learning-rate exponent ``θ`` of the largest stable rate
(``η = η*·d^θ``) — are affine in ``(κ, γ)``.  Per region they are fitted exactly (in
rationals) from three derived limits at affinely independent members and checked at a
fourth; regions of lower dimension (lines, points) are derived member by member.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from sparsemom.derivations.limits.asymptotics import ExponentPoint
from sparsemom.derivations.limits.scaling_limits import scaling_limit

#: The exponents read off a limit: ``τ`` and ``θ``.
EXPONENTS = {"tau": lambda limit: limit.time_exponent, "theta": lambda limit: limit.point.theta}


def _derive(pm, model, optimizer, lr_rule, i, j):
    return scaling_limit(model, optimizer, ExponentPoint(
        Fraction(pm.kappas[j]).limit_denominator(10**6), pm.sigma,
        Fraction(pm.gammas[i]).limit_denominator(10**6), 0), lr_rule)


def _spread_members(members: np.ndarray, kappas, gammas) -> list[int]:
    """Indices of three members spanning a large triangle (first, farthest from it,
    farthest from their line); fewer when the members are collinear."""
    xy = np.column_stack([kappas[members[:, 1]], gammas[members[:, 0]]])
    a = 0
    b = int(np.argmax(np.sum((xy - xy[a]) ** 2, axis=1)))
    if b == a:
        return [a]
    u = xy[b] - xy[a]
    area = np.abs(u[0] * (xy[:, 1] - xy[a, 1]) - u[1] * (xy[:, 0] - xy[a, 0]))
    c = int(np.argmax(area))
    return [a, b, c] if area[c] > 1e-9 else [a, b]


def region_exponents(pm, model: str, optimizer: str,
                     lr_rule: str = "largest-stable") -> dict[str, np.ndarray]:
    """``{"tau": τ[i, j], "theta": θ[i, j]}`` at every grid point of ``pm`` (float arrays
    shaped as ``pm.labels``); an ``ArithmeticError`` when a region's exponents are not
    affine (the check point disagrees)."""
    out = {name: np.full(pm.labels.shape, np.nan) for name in EXPONENTS}
    for r in range(len(pm.limits)):
        members = np.argwhere(pm.labels == r)
        chosen = _spread_members(members, pm.kappas, pm.gammas)
        if len(chosen) < 3 or len(members) <= 4:     # a line or a few points: each derived
            for i, j in members:
                limit = _derive(pm, model, optimizer, lr_rule, i, j)
                for name, read in EXPONENTS.items():
                    out[name][i, j] = float(read(limit))
            continue
        rows, values = [], {name: [] for name in EXPONENTS}
        for m in chosen:
            i, j = members[m]
            limit = _derive(pm, model, optimizer, lr_rule, i, j)
            rows.append([Fraction(pm.kappas[j]).limit_denominator(10**6),
                         Fraction(pm.gammas[i]).limit_denominator(10**6), 1])
            for name, read in EXPONENTS.items():
                values[name].append(Fraction(read(limit)))
        M = sp.Matrix(rows)
        forms = {name: M.LUsolve(sp.Matrix(v)) for name, v in values.items()}
        check = members[len(members) // 2]
        limit = _derive(pm, model, optimizer, lr_rule, *check)
        K, G = np.meshgrid(pm.kappas, pm.gammas)
        for name, read in EXPONENTS.items():
            a, b, c = forms[name]
            predicted = a * Fraction(pm.kappas[check[1]]).limit_denominator(10**6) + \
                b * Fraction(pm.gammas[check[0]]).limit_denominator(10**6) + c
            if predicted != read(limit):
                raise ArithmeticError(f"{name} is not affine in region {pm.limits[r].phase!r}: "
                                      f"fitted {predicted}, derived {read(limit)}")
            inside = pm.labels == r
            out[name][inside] = (float(a) * K + float(b) * G + float(c))[inside]
    return out
