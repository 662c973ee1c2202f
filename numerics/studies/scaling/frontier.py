"""The compute-optimal frontier of a family of exact loss curves.

Curve ``P_d(t)`` of model size ``d`` at batch ``B`` costs ``f = d B t`` flops at step ``t``.
On a common log grid of ``f`` each curve is interpolated linearly in ``log P`` against
``log t`` (within its own grid of steps, never extrapolated); the frontier is
``P*(f) = min_d P_d(f)``, and the optimal size ``d*(f)`` is the vertex of the parabola through
``log P`` at the best ``d`` of the family and its two neighbours (in ``log d``), so that it
moves continuously between the family's sizes. Only compute where the best size is inside the
family (not its smallest or largest ``d``) is kept: elsewhere the family, not the law,
decides; and only compute where no curve has ended below the best: a loss curve does not
rise, so a size whose curve ended below ``min_d P_d(f)`` might be the best at ``f``, and the
frontier there is unknown (a curve cut before its bend to the floor would otherwise hand the
frontier to the next size).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparsemom.numerics.inputs.validation import check_integer


@dataclass(frozen=True)
class Frontier:
    """``loss[i] = P*(flops[i])`` and ``size[i] = d*(flops[i])`` where the best size is inside
    the family."""

    flops: np.ndarray
    loss: np.ndarray
    size: np.ndarray


def curves_at_flops(dims, steps, losses, batch: int, flops: np.ndarray) -> np.ndarray:
    """``P_d(f)`` (sizes × flops; ``inf`` where ``f/(d B)`` lies outside the curve's steps),
    interpolated in ``log P`` against ``log t`` over each curve's positive steps."""
    out = np.full((len(dims), flops.size), np.inf)
    for i, (d, k, p) in enumerate(zip(dims, steps, losses)):
        k, p = np.asarray(k, dtype=float), np.asarray(p, dtype=float)
        keep = k > 0
        t = flops / (d * batch)
        inside = (t >= k[keep][0]) & (t <= k[keep][-1])
        out[i, inside] = np.exp(np.interp(np.log(t[inside]), np.log(k[keep]), np.log(p[keep])))
    return out


def _curves(dims, steps, losses) -> tuple[list, list]:
    """Each curve's steps and losses as float arrays, checked for a log-log interpolation:
    one curve per size, steps increasing from ``≥ 0`` with at least two positive, losses
    positive and finite at the positive steps (a ``ValueError`` names the curve)."""
    steps, losses = list(steps), list(losses)
    if not len(steps) == len(losses) == dims.size:
        raise ValueError(f"steps and losses must hold one curve per size; got {dims.size} "
                         f"sizes, {len(steps)} step arrays and {len(losses)} loss arrays")
    for i, (k, p) in enumerate(zip(steps, losses)):
        k, p = np.asarray(k, dtype=float), np.asarray(p, dtype=float)
        if k.ndim != 1 or k.shape != p.shape:
            raise ValueError(f"steps[{i}] and losses[{i}] must be 1-d arrays of one length; got "
                             f"shapes {k.shape} and {p.shape}")
        if not (np.isfinite(k).all() and k.size and k[0] >= 0 and np.all(np.diff(k) > 0)):
            raise ValueError(f"steps[{i}] must be finite and increasing from ≥ 0")
        if np.count_nonzero(k > 0) < 2:
            raise ValueError(f"steps[{i}] must hold at least two positive steps to interpolate "
                             "between")
        if not (np.isfinite(p[k > 0]).all() and (p[k > 0] > 0).all()):
            raise ValueError(f"losses[{i}] must be positive and finite at the positive steps "
                             "(interpolated in log P)")
        steps[i], losses[i] = k, p
    return steps, losses


def compute_frontier(dims, steps, losses, batch: int = 1, points: int = 200) -> Frontier:
    """The frontier of the curves ``losses[i]`` at ``steps[i]`` of sizes ``dims[i]``
    (increasing; module docstring), on ``points ≥ 2`` flops spaced evenly in ``log f``."""
    dims = np.asarray(dims, dtype=float)
    if dims.ndim != 1 or dims.size < 3 or np.any(np.diff(dims) <= 0):
        raise ValueError(f"dims must hold at least 3 increasing sizes; got {dims.tolist()}")
    batch = check_integer("batch", batch, minimum=1)
    points = check_integer("points", points, minimum=2)
    steps, losses = _curves(dims, steps, losses)
    lo = min(d * batch * np.min(k[k > 0]) for d, k in zip(dims, steps))
    hi = max(d * batch * np.max(k) for d, k in zip(dims, steps))
    flops = np.logspace(np.log10(lo), np.log10(hi), points)
    table = curves_at_flops(dims, steps, losses, batch, flops)
    best = np.argmin(table, axis=0)
    lowest = table.min(axis=0)
    ended = np.array([d * batch * k[-1] for d, k in zip(dims, steps)])[:, None] < flops
    last = np.array([p[-1] for p in losses])[:, None]
    unknown = np.any(ended & (last < lowest), axis=0)
    keep = (best > 0) & (best < dims.size - 1) & np.isfinite(lowest) & ~unknown
    logd = np.log(dims)
    sizes = []
    for j in np.flatnonzero(keep):
        b = best[j]
        x, y = logd[b - 1: b + 2], np.log(table[b - 1: b + 2, j])
        if not np.isfinite(y).all():
            keep[j] = False
            continue
        curvature, slope, _ = np.polyfit(x, y, 2)
        sizes.append(np.exp(-slope / (2 * curvature)) if curvature > 0 else dims[b])
    kept = np.flatnonzero(keep)
    return Frontier(flops[kept], table[best[kept], kept], np.array(sizes))
