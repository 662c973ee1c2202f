"""The phase diagram: which limit holds where in exponent space.

:func:`phase_atlas` classifies a grid of ``(κ, γ)`` at fixed ``σ`` with
:func:`~sparsemom.derivations.limits.scaling_limits.scaling_limit` and collects the distinct
phases with the linear inequalities the algebra gives for each — the regions are
found, not listed by hand.  Grid points that fall exactly on a boundary show up
as their own (lower-dimensional) phases, e.g. *at resonance* or the *critical*
batch line ``σ = κ``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .asymptotics import ExponentPoint
from .scaling_limits import ScalingLimit, scaling_limit


@dataclass(frozen=True)
class AtlasPoint:
    kappa: Fraction
    gamma: Fraction
    phase: str
    family: str
    time_exponent: Fraction
    inequalities: tuple[str, ...]


def classify(args) -> AtlasPoint:
    """One grid point (picklable for process pools and Dask)."""
    model, optimizer, k, s, g, lr_rule = args
    limit: ScalingLimit = scaling_limit(model, optimizer, ExponentPoint(k, s, g, 0), lr_rule)
    return AtlasPoint(Fraction(k), Fraction(g), limit.phase, limit.family, limit.time_exponent,
                      tuple(limit.inequality_strings()))


def phase_atlas(model: str, optimizer: str, sigma, kappas, gammas, lr_rule: str = "largest-stable",
                mapper=map) -> list[AtlasPoint]:
    """Classify every ``(κ, γ)`` of the grid at batch exponent ``sigma``.

    ``mapper`` maps :func:`classify` over the argument tuples (``map``, a process
    pool's ``map``, or :func:`sparsemom.numerics.runtime.parallel.parallel_map`)."""
    tasks = [(model, optimizer, Fraction(k), Fraction(sigma), Fraction(g), lr_rule)
             for g in gammas for k in kappas]
    return list(mapper(classify, tasks))


def regions(atlas: list[AtlasPoint]) -> dict[str, tuple[str, ...]]:
    """``{phase: inequalities}`` of the distinct phases in an atlas."""
    found: dict[str, tuple[str, ...]] = {}
    for point in atlas:
        found.setdefault(point.phase, point.inequalities)
    return found
