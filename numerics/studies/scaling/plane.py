"""The ``(α, β)`` plane: measured compute-optimal exponents and the dominant part, per point.

At every point of a grid, the exact SGD curves of a family of sizes
(:func:`~sparsemom.numerics.studies.scaling.loss_curves.run_curve`) give the frontier's
``η`` and ``ξ`` (:mod:`~sparsemom.numerics.studies.scaling.frontier`) and, at the middle of
the frontier, which part of the excess risk (forcing, noise kernel, label noise) is the
largest at the optimal size. Points outside ``2(α + β) > 1`` (initial risk unbounded in the
population) are skipped. The phase boundaries of
:data:`~sparsemom.derivations.limits.power_law_phases.PHASES` are drawn over the maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparsemom.derivations.limits.power_law_phases import phase_of
from sparsemom.numerics.studies.scaling.exponents import fit_frontier, predicted_optimum
from sparsemom.numerics.studies.scaling.loss_curves import PhasePoint, by_point, curve_tasks
from sparsemom.numerics.studies.scaling.risk_parts import PARTS


@dataclass(frozen=True)
class PlanePoint:
    """One grid point: the measured ``η``, ``ξ`` (``nan`` when the family's frontier has too
    few points inside it), the predicted ones (``nan`` on the line ``2α = 1``), the
    part of the excess risk that dominates at the middle of the frontier (``-`` without one),
    and the phase (``None`` on a boundary)."""

    alpha: float
    beta: float
    phase: str | None
    eta: float
    xi: float
    predicted_eta: float
    predicted_xi: float
    dominant: str


def grid_points(alphas, betas) -> list[PhasePoint]:
    """The grid's points with ``2(α + β) > 1``, named by their phase (``-`` on a boundary)."""
    return [PhasePoint(phase_of(a, b) or "-", float(a), float(b))
            for a in alphas for b in betas if 2 * (a + b) > 1]


def plane_tasks(problem: str, alphas, betas, dims) -> list:
    """Every curve task of the grid (:func:`grid_points`) and sizes ``dims``."""
    return curve_tasks(problem, grid_points(alphas, betas), dims)


def plane_points(results) -> list[PlanePoint]:
    """One :class:`PlanePoint` per grid point of the curve results."""
    out = []
    for (problem, point), group in by_point(results).items():
        dims = [r.task.d for r in group]
        fitted = fit_frontier(dims, [r.steps for r in group], [r.total for r in group],
                              group[0].task.batch)
        eta, xi = (np.nan if e[0] is None else e[0] for e in (fitted.eta, fitted.xi))
        predicted, _ = predicted_optimum(problem, point)
        out.append(PlanePoint(point.alpha, point.beta, phase_of(point.alpha, point.beta),
                              eta, xi, float(predicted.eta) if predicted else np.nan,
                              float(predicted.xi) if predicted else np.nan,
                              _dominant(group, fitted.frontier)))
    return out


def _dominant(group, frontier) -> str:
    """The largest part of the excess risk (forcing, noise kernel, label noise: at the
    optimum the floor balances them by construction) of the optimal size at the frontier's
    middle compute (``-`` without a frontier)."""
    if not frontier.flops.size:
        return "-"
    middle = frontier.flops.size // 2
    f, size = frontier.flops[middle], frontier.size[middle]
    best = min(group, key=lambda r: abs(np.log(r.task.d / size)))
    t = f / (best.task.d * best.task.batch)
    i = int(np.argmin(np.abs(np.log(np.maximum(best.steps, 1) / t))))
    values = {name: float(np.broadcast_to(best.parts[name], best.steps.shape)[i])
              for name in PARTS if name != "floor"}
    return max(values, key=values.get)


def plane_markdown(points) -> str:
    """The grid as a Markdown table: ``(α, β)``, phase, measured and predicted ``η`` and ``ξ``,
    the leading part."""
    def number(x: float) -> str:
        return "—" if np.isnan(x) else f"{x:.3f}"

    lines = ["| α | β | phase | η measured | η predicted | ξ measured | ξ predicted | leading |",
             "|---|---|---|---|---|---|---|---|"]
    for p in points:
        lines.append(f"| {p.alpha:g} | {p.beta:g} | {p.phase or 'boundary'} | {number(p.eta)} | "
                     f"{number(p.predicted_eta)} | {number(p.xi)} | {number(p.predicted_xi)} | "
                     f"{p.dominant} |")
    return "\n".join(lines)
