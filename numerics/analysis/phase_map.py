"""The phase diagram on a fine grid, from the derived regions.

A :class:`~sparsemom.derivations.limits.scaling_limits.ScalingLimit` carries its region: strict linear
inequalities (and equalities) in ``κ, σ, γ`` (``θ`` too for a free learning rate).  So
the heavy work — deriving a limit — is done once per region: classify one unlabelled
grid point exactly, give every grid point that satisfies that limit's region its
phase (a vectorised test of a few linear forms), and repeat until every point has a
phase.  A point within ``BOUNDARY`` of a region's boundary line is never labelled
from floats: it is classified exactly on its own.  ``check`` random members of every
region are classified exactly too, and a disagreement is an ``ArithmeticError``, never
a wrong picture.  Each region is also returned as the polygon it cuts out of the
plotted box (half-plane clipping), whose edges are the derived boundary lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from sparsemom.derivations.limits.asymptotics import ExponentPoint, gamma, kappa, sigma, theta
from sparsemom.derivations.limits.scaling_limits import ScalingLimit, scaling_limit
from sparsemom.numerics.inputs.seeds import check_seed, seed_sequence
from sparsemom.numerics.inputs.validation import check_integer

#: Points closer than this to a boundary line (in exponent units) are classified exactly.
BOUNDARY = 1e-9


@dataclass(frozen=True)
class PhaseMap:
    """``labels[i, j]`` indexes ``limits`` at ``(kappas[j], gammas[i])``; ``phases[r]`` is
    ``limits[r].phase``; ``polygons[r]`` the region's part of the box (vertices, or
    ``None`` for a region of lower dimension); ``exact`` counts the exact derivations."""

    sigma: Fraction
    kappas: np.ndarray
    gammas: np.ndarray
    labels: np.ndarray
    limits: tuple[ScalingLimit, ...]
    polygons: tuple[np.ndarray | None, ...]
    exact: int

    @property
    def phases(self) -> tuple[str, ...]:
        return tuple(limit.phase for limit in self.limits)


def _linear_forms(exprs, sigma_value: Fraction, theta_value: Fraction) -> np.ndarray:
    """Rows ``(a, b, c)`` of the forms ``a κ + b γ + c`` at the given ``σ`` (and ``θ``)."""
    rows = []
    for expr in exprs:
        form = sp.expand(sp.sympify(expr).xreplace({sigma: sp.Rational(sigma_value),
                                                   theta: sp.Rational(theta_value)}))
        extra = form.free_symbols - {kappa, gamma}
        if extra:
            raise ValueError(f"region condition {expr} depends on {sorted(map(str, extra))}")
        rows.append([float(form.coeff(kappa)), float(form.coeff(gamma)),
                     float(form.xreplace({kappa: 0, gamma: 0}))])
    return np.array(rows, dtype=float).reshape(-1, 3)


def _inside(limit: ScalingLimit, K: np.ndarray, G: np.ndarray, point: ExponentPoint):
    """``(surely inside, near a boundary)`` masks of the grid for ``limit``'s region."""
    strict = _linear_forms(limit.inequalities, point.sigma, point.theta)
    equal = _linear_forms(limit.equalities, point.sigma, point.theta)
    inside = np.ones(K.shape, dtype=bool)
    near = np.zeros(K.shape, dtype=bool)
    for a, b, c in strict:
        value = a * K + b * G + c
        inside &= value > BOUNDARY
        near |= np.abs(value) <= BOUNDARY
    for a, b, c in equal:
        value = a * K + b * G + c
        inside &= np.abs(value) <= BOUNDARY
    return inside, near & ~inside


def _clip(polygon: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    """The part of a convex polygon where ``a κ + b γ + c ≥ 0`` (Sutherland–Hodgman)."""
    out = []
    for start, end in zip(polygon, np.roll(polygon, -1, axis=0)):
        fs, fe = a * start[0] + b * start[1] + c, a * end[0] + b * end[1] + c
        if fs >= 0:
            out.append(start)
        if (fs >= 0) != (fe >= 0):
            out.append(start + (end - start) * fs / (fs - fe))
    return np.array(out).reshape(-1, 2)


def region_polygon(limit: ScalingLimit, box, point: ExponentPoint) -> np.ndarray | None:
    """Vertices of the region of ``limit`` inside ``box = (κ0, κ1, γ0, γ1)``; ``None`` when
    the region has equalities (a line or a point) or misses the box."""
    if limit.equalities:
        return None
    k0, k1, g0, g1 = box
    polygon = np.array([[k0, g0], [k1, g0], [k1, g1], [k0, g1]], dtype=float)
    for a, b, c in _linear_forms(limit.inequalities, point.sigma, point.theta):
        polygon = _clip(polygon, a, b, c)
        if len(polygon) < 3:
            return None
    return polygon


def phase_map(model: str, optimizer: str, sigma_value, kappas, gammas,
              lr_rule: str = "largest-stable", theta_value=0, check: int = 2,
              seed=0) -> PhaseMap:
    """The phase at every ``(κ, γ)`` of the grid (``κ`` along columns, ``γ`` along rows)
    at batch exponent ``sigma_value``; see the module docstring.  ``seed`` (an integer
    ``≥ 0``, a ``SeedSequence`` or a ``Generator``) picks the points ``check`` re-derives."""
    check = check_integer("check", check, minimum=0)
    seed = check_seed(seed)
    kappas = [Fraction(k) for k in kappas]
    gammas = [Fraction(g) for g in gammas]
    if not kappas or not gammas:
        raise ValueError("kappas and gammas must each hold at least one value")
    sigma_value, theta_value = Fraction(sigma_value), Fraction(theta_value)
    K, G = np.meshgrid(np.array(kappas, dtype=float), np.array(gammas, dtype=float))
    labels = np.full(K.shape, -1, dtype=int)
    limits: list[ScalingLimit] = []
    exact = 0

    def derive(i: int, j: int) -> ScalingLimit:
        nonlocal exact
        exact += 1
        return scaling_limit(model, optimizer, ExponentPoint(kappas[j], sigma_value, gammas[i],
                                                             theta_value), lr_rule)

    def index_of(limit: ScalingLimit) -> int:
        for r, known in enumerate(limits):
            if (known.phase, known.inequalities, known.equalities) == \
                    (limit.phase, limit.inequalities, limit.equalities):
                return r
        limits.append(limit)
        return len(limits) - 1

    rng = np.random.default_rng(seed_sequence(seed))
    while (labels < 0).any():
        i, j = map(int, np.argwhere(labels < 0)[0])
        limit = derive(i, j)
        r = index_of(limit)
        labels[i, j] = r
        inside, _ = _inside(limit, K, G, limit.point)
        fresh = inside & (labels < 0)
        labels[fresh] = r
        members = np.argwhere(fresh)
        for a, b in members[rng.permutation(len(members))[:check]]:
            again = derive(int(a), int(b))
            if again.phase != limit.phase:
                raise ArithmeticError(
                    f"({kappas[b]}, {gammas[a]}) satisfies the region of {limit.phase!r} "
                    f"({', '.join(limit.inequality_strings())}) but its limit is {again.phase!r}")
    box = (float(min(kappas)), float(max(kappas)), float(min(gammas)), float(max(gammas)))
    polygons = tuple(region_polygon(limit, box, limit.point) for limit in limits)
    return PhaseMap(sigma_value, np.array(kappas, dtype=float), np.array(gammas, dtype=float),
                    labels, tuple(limits), polygons, exact)
