"""Figure of the scaling sweep: phase diagrams in ``(κ, γ)`` with the sweep's
points, and the error against ``d`` of each point (log–log)."""

from __future__ import annotations

from fractions import Fraction
from functools import partial
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle

from derivations.families import Family
from derivations.phase_diagram import phase_atlas
from numerics.analysis.scaling_limit import DIMENSIONS
from numerics.runtime.atomic import write_figure
from numerics.runtime.parallel import parallel_map
from numerics.runtime.plotting import new_figure

#: Batch exponent of the phase-diagram panels and the optimizers shown.
PANEL_SIGMA = Fraction(3, 2)
PANEL_OPTIMIZERS = ("heavy-ball", "lazy")


def _grid(lo: float, hi: float, n: int, offset: Fraction) -> list[Fraction]:
    # distinct small prime offsets per axis: no grid point falls on a boundary
    return [Fraction(x).limit_denominator(1000) + offset for x in np.linspace(lo, hi, n)]


def atlas(optimizer: str, n: int, scheduler=None, workers=None):
    kappas, gammas = _grid(0.0, 3.5, n, Fraction(1, 997)), _grid(0.0, 3.0, n, Fraction(1, 991))
    mapper = partial(parallel_map, scheduler=scheduler, workers=workers,
                     description=f"phase diagram ({optimizer})")
    return kappas, gammas, phase_atlas("lsq", optimizer, PANEL_SIGMA, kappas, gammas, mapper=mapper)


def draw_phase_panels(fig, axes, panels, optimizers=PANEL_OPTIMIZERS, sigma=PANEL_SIGMA) -> list[str]:
    """One derived phase diagram in ``(κ, γ)`` per axis (``panels``: what :func:`atlas`
    returns), one colour per phase shared by all panels, legend on top of ``fig``;
    returns the phase names in colour order."""
    names: list[str] = []
    for _, _, points in panels:
        for p in points:
            if p.phase not in names:
                names.append(p.phase)
    colors = colormaps["tab20"].colors
    cmap = ListedColormap([colors[(2 * i) % 20 + (2 * i) // 20] for i in range(max(len(names), 1))])
    for ax, opt, (kappas, gammas, points) in zip(axes, optimizers, panels):
        grid = np.array([names.index(p.phase) for p in points], dtype=float).reshape(len(gammas), len(kappas))
        ax.pcolormesh([float(k) for k in kappas], [float(g) for g in gammas], grid, cmap=cmap,
                      vmin=-0.5, vmax=len(names) - 0.5, shading="nearest", alpha=0.85)
        ax.set_xlabel(r"sparsity exponent $\kappa$  ($p = d^{-\kappa}$)")
        ax.set_ylabel(r"momentum-decay exponent $\gamma$  ($1-\beta = d^{-\gamma}$)")
        ax.set_title(f"{opt}: phases at batch exponent $\\sigma$ = {float(sigma)} "
                     f"(largest stable lr, {len(kappas)}×{len(gammas)} grid)")
    handles = [Rectangle((0, 0), 1, 1, color=cmap(i), alpha=0.85) for i in range(len(names))]
    fig.legend(handles, names, loc="upper center", ncol=3, fontsize=9, frameon=False)
    return names


def draw_convergence(ax, results, dimensions) -> None:
    """Error of the exact finite-``d`` curves against the limit vs ``d``, one line per
    stable sweep result (log–log)."""
    for r in results:
        if r.family == Family.UNSTABLE:
            continue
        dims = np.array(dimensions[:len(r.errors)], dtype=float)
        ax.loglog(dims, r.errors, "o-", lw=1.2, ms=4,
                  label=f"{r.point.label} ({r.point.optimizer}): rate {r.rate:.2f}")
    ax.set_xlabel("dimension d")
    ax.set_ylabel(r"$\max_t\,|E R_{t d^\tau}/R_0 - \tilde R(t)|$")
    ax.set_title("exact finite-d risk vs the d → ∞ limit in rescaled time (stable points)")
    ax.grid(True, which="both", alpha=0.3)


def sweep_figure(results, out: Path, n: int = 25, scheduler=None, workers=None) -> list[Path]:
    fig = new_figure((16, 11))
    gs = fig.add_gridspec(2, 2, height_ratios=[1, 1])
    panels = [atlas(opt, n, scheduler, workers) for opt in PANEL_OPTIMIZERS]
    axes = [fig.add_subplot(gs[0, col]) for col in range(len(PANEL_OPTIMIZERS))]
    draw_phase_panels(fig, axes, panels)
    for ax, opt in zip(axes, PANEL_OPTIMIZERS):
        for r in results:
            if r.point.optimizer == opt and Fraction(r.point.sigma) == PANEL_SIGMA:
                marker = "x" if r.family == Family.UNSTABLE else "o"
                ax.plot(float(Fraction(r.point.kappa)), float(Fraction(r.point.gamma)), marker,
                        color="black", ms=7, mfc="white" if marker == "o" else None)

    ax = fig.add_subplot(gs[1, :])
    draw_convergence(ax, results, DIMENSIONS)
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    paths = write_figure(fig, out, "sweep", dpi=130)
    return paths
