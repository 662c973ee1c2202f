"""Figure of the scaling sweep: phase diagrams in ``(κ, γ)`` with the sweep's
points, and the error against ``d`` of each point (log–log)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle

from sparsemom.derivations.limits.families import Family
from sparsemom.numerics.analysis.phase_map import PhaseMap, phase_map
from sparsemom.numerics.analysis.scaling_limit import DIMENSIONS
from sparsemom.numerics.runtime.figure_files import write_figure
from sparsemom.numerics.runtime.parallel import parallel_map
from sparsemom.numerics.runtime.plotting import axes_or_new, new_figure

#: Batch exponent of the phase-diagram panels and the optimizers shown.
PANEL_SIGMA = Fraction(3, 2)
PANEL_OPTIMIZERS = ("heavy-ball", "lazy")


def _grid(lo: float, hi: float, n: int, offset: Fraction) -> list[Fraction]:
    # distinct small prime offsets per axis: no grid point falls on a boundary
    return [Fraction(x).limit_denominator(10**6) + offset for x in np.linspace(lo, hi, n)]


def _phase_map(args) -> PhaseMap:
    optimizer, n = args
    kappas, gammas = _grid(0.0, 3.5, n, Fraction(1, 997)), _grid(0.0, 3.0, n, Fraction(1, 991))
    return phase_map("lsq", optimizer, PANEL_SIGMA, kappas, gammas)


def atlases(n: int, optimizers=PANEL_OPTIMIZERS, scheduler=None, workers=None) -> list[PhaseMap]:
    """The ``n × n`` phase map of each optimizer in ``(κ, γ)`` at ``σ = PANEL_SIGMA``, in
    parallel (one exact derivation per region, :func:`~sparsemom.numerics.analysis.phase_map.phase_map`)."""
    return parallel_map(_phase_map, [(opt, n) for opt in optimizers], scheduler=scheduler,
                        workers=workers, description="phase diagram")


def draw_region_boundaries(ax, phases: PhaseMap, color: str, lw: float = 1.1) -> tuple:
    """The derived boundary lines of ``phases`` (edges of each region's polygon that are not
    on the frame of the box); returns the box ``(κ0, κ1, γ0, γ1)``."""
    box = (phases.kappas.min(), phases.kappas.max(), phases.gammas.min(), phases.gammas.max())
    for polygon in phases.polygons:
        if polygon is None:
            continue
        for start, end in zip(polygon, np.roll(polygon, -1, axis=0)):
            on_frame = (np.isclose(start[0], end[0]) and np.isclose(start[0], box[:2]).any()) or \
                (np.isclose(start[1], end[1]) and np.isclose(start[1], box[2:]).any())
            if not on_frame:
                ax.plot([start[0], end[0]], [start[1], end[1]], color=color, lw=lw)
    return box


def phase_colormap(phases: int) -> ListedColormap:
    """One colour per phase, paired tab20 colours in order (distinct up to 20 phases)."""
    colors = colormaps["tab20"].colors
    return ListedColormap([colors[(2 * i) % 20 + (2 * i) // 20] for i in range(max(phases, 1))])


def plot_phase_map(phases: PhaseMap, *, ax=None, names: list[str] | None = None, cmap=None,
                   title: str = ""):
    """One phase map over ``(κ, γ)``: a colour per phase and the derived boundary lines
    (the edges of each region's polygon inside the box).

    Parameters
    ----------
    phases : PhaseMap
        The labelled grid (:func:`~sparsemom.numerics.analysis.phase_map.phase_map`).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when ``None``.
    names : list of str, optional
        Phase names in colour order (shared by several panels); ``phases.phases`` by default.
    cmap : matplotlib.colors.Colormap, optional
        Colour ``i`` for ``names[i]``; :func:`phase_colormap` by default.
    title : str
        The panel's title.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    names = list(dict.fromkeys(phases.phases)) if names is None else names
    cmap = phase_colormap(len(names)) if cmap is None else cmap
    grid = np.array([names.index(name) for name in phases.phases])[phases.labels]
    ax.pcolormesh(phases.kappas, phases.gammas, grid, cmap=cmap, vmin=-0.5,
                  vmax=len(names) - 0.5, shading="nearest", alpha=0.85, rasterized=True)
    box = draw_region_boundaries(ax, phases, "black")
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_xlabel(r"sparsity exponent $\kappa$  ($p = d^{-\kappa}$)")
    ax.set_ylabel(r"momentum-decay exponent $\gamma$  ($1-\beta = d^{-\gamma}$)")
    ax.set_title(title)
    return ax


def draw_phase_panels(fig, axes, maps: list[PhaseMap], optimizers=PANEL_OPTIMIZERS) -> list[str]:
    """One phase map per axis, one colour per phase shared by all panels, legend on top
    of ``fig``; returns the phase names in colour order."""
    names: list[str] = []
    for phases in maps:
        names += [name for name in phases.phases if name not in names]
    cmap = phase_colormap(len(names))
    for ax, opt, phases in zip(axes, optimizers, maps):
        n_k, n_g = len(phases.kappas), len(phases.gammas)
        plot_phase_map(phases, ax=ax, names=names, cmap=cmap,
                       title=f"{opt}: phases at batch exponent $\\sigma$ = {float(phases.sigma)}\n"
                       f"(largest stable lr, {n_k}×{n_g} grid, {phases.exact} exact derivations)")
    handles = [Rectangle((0, 0), 1, 1, color=cmap(i), alpha=0.85) for i in range(len(names))]
    fig.legend(handles, names, loc="upper center", ncol=3, fontsize=9, frameon=False)
    return names


def phase_regions_table(maps: list[PhaseMap], optimizers=PANEL_OPTIMIZERS) -> pd.DataFrame:
    """What the phase panels show, tidy: each derived region's polygon in ``(κ, γ)`` within
    the box, one line per vertex (in order), with the optimizer, ``σ``, the phase, its
    family, the grid and the exact derivations (the coloured grid is these regions
    sampled at the cell centres)."""
    rows = []
    for opt, phases in zip(optimizers, maps):
        for limit, polygon in zip(phases.limits, phases.polygons):
            for vertex, (k, g) in enumerate([] if polygon is None else polygon):
                rows.append({"optimizer": opt, "sigma": float(phases.sigma),
                             "phase": limit.phase, "family": str(limit.family),
                             "vertex": vertex, "kappa": float(k), "gamma": float(g),
                             "grid": len(phases.kappas), "exact_derivations": phases.exact})
    return pd.DataFrame(rows)


def plot_convergence(results, dimensions, *, ax=None):
    """The error ``max_t |E R_{t d^τ} / R_0 − R̃(t)|`` of the exact finite-``d`` curves
    against the limit vs ``d``, one line per stable sweep result (log–log).

    Parameters
    ----------
    results : list
        Sweep results (:func:`~sparsemom.numerics.studies.sweep.run_point`); unstable
        points are left out.
    dimensions : sequence of int
        The ``d`` of each result's ``errors``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into, its legend in the lower left (the errors fall with ``d``).
    """
    ax = axes_or_new(ax)
    for r in results:
        if r.family == Family.UNSTABLE:
            continue
        dims = np.array(dimensions[:len(r.errors)], dtype=float)
        ax.loglog(dims, r.errors, "o-", lw=1.2, ms=4,
                  label=f"{r.point.label} ({r.point.optimizer}): rate {r.rate:.2f}")
    ax.set_xlabel("dimension $d$")
    ax.set_ylabel(r"$\max_t\,|E R_{t d^\tau}/R_0 - \tilde R(t)|$")
    ax.set_title(r"exact finite-$d$ risk vs the $d \to \infty$ limit in rescaled time "
                 "(stable points)")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(True, which="both", alpha=0.3)
    return ax


def convergence_table(results, dimensions) -> pd.DataFrame:
    """What :func:`plot_convergence` shows, tidy: per stable sweep result and ``d`` the
    error against the limit, with the point (label, optimizer, exponents, lr rule), its
    phase, family, time exponent and the fitted rate."""
    rows = []
    for r in results:
        if r.family == Family.UNSTABLE:
            continue
        p = r.point
        for d, error in zip(dimensions, r.errors):
            rows.append({"label": p.label, "optimizer": p.optimizer, "d": d, "error": error,
                         "rate": r.rate, "kappa": float(Fraction(p.kappa)),
                         "sigma": float(Fraction(p.sigma)), "gamma": float(Fraction(p.gamma)),
                         "theta": float(r.theta), "lr_rule": p.lr_rule, "phase": r.phase,
                         "family": str(r.family), "time_exponent": float(r.time_exponent)})
    return pd.DataFrame(rows)


def sweep_table(results, maps: list[PhaseMap], optimizers=PANEL_OPTIMIZERS) -> pd.DataFrame:
    """What the sweep figure shows, tidy, one ``panel`` after another: the derived regions
    (:func:`phase_regions_table`), the sweep points drawn on them (``unstable`` for a
    cross) and the errors against ``d`` (:func:`convergence_table`)."""
    points = pd.DataFrame([
        {"optimizer": r.point.optimizer, "label": r.point.label,
         "sigma": float(Fraction(r.point.sigma)), "kappa": float(Fraction(r.point.kappa)),
         "gamma": float(Fraction(r.point.gamma)), "phase": r.phase, "family": str(r.family),
         "unstable": r.family == Family.UNSTABLE}
        for opt in optimizers for r in results
        if r.point.optimizer == opt and Fraction(r.point.sigma) == PANEL_SIGMA])
    blocks = [phase_regions_table(maps, optimizers).assign(panel="phase regions"),
              points.assign(panel="sweep points"),
              convergence_table(results, DIMENSIONS).assign(panel="convergence")]
    table = pd.concat([b for b in blocks if len(b)], ignore_index=True)
    return table[["panel", *(c for c in table.columns if c != "panel")]]


def sweep_figure(results, out: Path, n: int = 201, scheduler=None, workers=None) -> list[Path]:
    fig = new_figure((16, 11))
    gs = fig.add_gridspec(2, 2, height_ratios=[1, 1])
    maps = atlases(n, PANEL_OPTIMIZERS, scheduler, workers)
    axes = [fig.add_subplot(gs[0, col]) for col in range(len(PANEL_OPTIMIZERS))]
    draw_phase_panels(fig, axes, maps)
    for ax, opt in zip(axes, PANEL_OPTIMIZERS):
        for r in results:
            if r.point.optimizer == opt and Fraction(r.point.sigma) == PANEL_SIGMA:
                marker = "x" if r.family == Family.UNSTABLE else "o"
                ax.plot(float(Fraction(r.point.kappa)), float(Fraction(r.point.gamma)), marker,
                        color="black", ms=7, mfc="white" if marker == "o" else None)

    ax = fig.add_subplot(gs[1, :])
    plot_convergence(results, DIMENSIONS, ax=ax)
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    paths = write_figure(fig, out, "sweep", dpi=130, table=sweep_table(results, maps))
    return paths
