"""Figures of a loss-curve study: the curves with their parts, the compute-optimal frontier.

Panels follow :mod:`sparsemom.numerics.runtime.plotting` (``plot_*(…, ax=None)``); the
figures are written with their tidy data (one row per plotted point, the problem's and
phase's parameters in columns).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import sympy as sp

from sparsemom.derivations.limits.power_law_phases import PHASES, alpha, beta
from sparsemom.numerics.runtime.figure_files import write_figure
from sparsemom.numerics.runtime.plotting import axes_or_new, new_figure
from sparsemom.numerics.studies.scaling.frontier import compute_frontier
from sparsemom.numerics.studies.scaling.loss_curves import by_point
from sparsemom.numerics.studies.scaling.methods import local_exponents
from sparsemom.numerics.studies.scaling.risk_parts import PARTS

#: How each part is drawn for the largest model of a panel.
PART_STYLES = {"forcing": ("forcing (target)", "--", "black"),
               "kernel": ("noise kernel", ":", "black"),
               "label_noise": ("label noise", "-.", "black"),
               "floor": ("floor $R_\\infty$", "-", "0.55"),
               "forcing_pure_point": ("forcing, pure point", (0, (5, 1)), "tab:blue"),
               "forcing_absolutely_continuous": ("forcing, abs. continuous", (0, (5, 1)),
                                                 "tab:red")}
#: The parts drawn for the largest size, where the curve has them (the forcing's cross terms,
#: of either sign, are in the data only).
DRAWN_PARTS = (*PARTS, "forcing_pure_point", "forcing_absolutely_continuous")
#: The lowest risk shown, as a fraction of the smallest total risk of a panel (the parts
#: fall exponentially once the slowest mode is learnt; below this they only squash the
#: curves).
SHOWN_BELOW_FLOOR = 0.03


def _colours(dims):
    """A colour per size, dark (small ``d``) to light (large)."""
    cmap = mpl.colormaps["viridis"]
    return [cmap(0.9 * i / max(len(dims) - 1, 1)) for i in range(len(dims))]


def plot_loss_curves(group, *, ax=None):
    """The total risk of every size of one phase point against steps, and the parts of the
    largest size (forcing, noise kernel, label noise, floor; for random features also the
    forcing's pure-point and absolutely continuous parts).

    Parameters
    ----------
    group : list of CurveResult
        The curves of one problem and phase point, sorted by ``d``.
    ax : matplotlib.axes.Axes or None
        Where to draw (``None``: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    for r, colour in zip(group, _colours([r.task.d for r in group])):
        keep = r.steps > 0
        ax.loglog(r.steps[keep], r.total[keep], color=colour, lw=1.2, label=f"d = {r.task.d}")
    largest = group[-1]
    keep = largest.steps > 0
    for name in (n for n in DRAWN_PARTS if n in largest.parts):
        values = np.broadcast_to(largest.parts[name], largest.steps.shape)[keep]
        label, style, colour = PART_STYLES[name]
        positive = values > 0
        if positive.any():
            ax.loglog(largest.steps[keep][positive], values[positive], color=colour, lw=1,
                      ls=style, label=f"{label}, d = {largest.task.d}")
    lowest = min(float(np.min(r.total)) for r in group)
    ax.set_ylim(bottom=SHOWN_BELOW_FLOOR * lowest)
    p = largest.task.point
    ax.set_title(f"{p.phase}: α = {p.alpha:g}, β = {p.beta:g}")
    ax.set_xlabel("steps t")
    ax.set_ylabel("risk")
    return ax


def plot_frontier(group, *, ax=None, rows=()):
    """Every size's risk against compute ``f = d B t``, the frontier ``min_d`` and the fitted
    and predicted ``f^{−η}``.

    Parameters
    ----------
    group : list of CurveResult
        The curves of one problem and phase point, sorted by ``d`` (at least 3 sizes).
    ax : matplotlib.axes.Axes or None
        Where to draw (``None``: a new figure).
    rows : sequence of ExponentRow
        The point's rows of :func:`~sparsemom.numerics.studies.scaling.exponents.exponent_rows`
        (their compute-optimal ``η``, fitted and predicted, drawn as lines; empty: none).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    dims = [r.task.d for r in group]
    batch = group[0].task.batch
    for r, colour in zip(group, _colours(dims)):
        keep = r.steps > 0
        ax.loglog(r.task.d * batch * r.steps[keep], r.total[keep], color=colour, lw=1,
                  label=f"d = {r.task.d}")
    frontier = compute_frontier(dims, [r.steps for r in group], [r.total for r in group], batch)
    if frontier.flops.size:
        ax.loglog(frontier.flops, frontier.loss, color="black", lw=2.5, alpha=0.6,
                  label="frontier")
        eta = next((r for r in rows if r.quantity.startswith("compute-optimal")), None)
        middle = frontier.flops.size // 2
        f0, p0 = frontier.flops[middle], frontier.loss[middle]
        for value, style, text in ((eta and eta.measured, "r--", "fitted"),
                                   (eta and eta.predicted, "b:", "predicted")):
            if value is not None:
                ax.loglog(frontier.flops, p0 * (frontier.flops / f0) ** -value, style, lw=1.2,
                          label=f"{text} η = {value:.3f}")
    p = group[0].task.point
    ax.set_title(f"{p.phase}: α = {p.alpha:g}, β = {p.beta:g}")
    ax.set_xlabel("compute f = d·B·t")
    ax.set_ylabel("risk")
    return ax


def _panels(groups):
    """A figure with one panel per group (three columns)."""
    columns = min(3, len(groups))
    rows = -(-len(groups) // columns)
    fig = new_figure((5.2 * columns, 4.2 * rows))
    return fig, [fig.add_subplot(rows, columns, i + 1) for i in range(len(groups))]


def _parameters(r) -> dict:
    p = r.task.point
    return dict(problem=r.task.problem, phase=p.phase, alpha=p.alpha, beta=p.beta, d=r.task.d,
                batch=r.task.batch, seed=r.task.seed, lr=r.lr)


def curves_table(results) -> pd.DataFrame:
    """One row per curve, step and part (``total`` and the forcing's components included):
    the data of both figures."""
    frames = []
    for r in results:
        for name in (*PARTS, *(n for n in r.parts if n not in PARTS), "total"):
            values = r.total if name == "total" else np.broadcast_to(r.parts[name], r.steps.shape)
            frames.append(pd.DataFrame({**_parameters(r), "part": name, "t": r.steps,
                                        "flops": r.task.d * r.task.batch * r.steps,
                                        "risk": values}))
    return pd.concat(frames, ignore_index=True)


def loss_curves_figure(results, out) -> list:
    """``loss_curves.png``/``.pdf`` and its data: :func:`plot_loss_curves` per phase point."""
    groups = by_point(results)
    fig, axes = _panels(groups)
    for ax, group in zip(axes, groups.values()):
        plot_loss_curves(group, ax=ax)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(7, len(labels)), fontsize=8)
    problem = next(iter(groups))[0]
    fig.suptitle(f"Exact SGD risk, {problem}: every size, and the parts of the largest")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return write_figure(fig, out, "loss_curves", table=curves_table(results))


def frontier_figure(results, rows, out) -> list:
    """``frontier.png``/``.pdf`` and its data: :func:`plot_frontier` per phase point."""
    groups = by_point(results)
    fig, axes = _panels(groups)
    for ax, (key, group) in zip(axes, groups.items()):
        mine = [r for r in rows if (r.problem, r.phase) == (key[0], key[1].phase)]
        plot_frontier(group, ax=ax, rows=mine)
        handles, labels = ax.get_legend_handles_labels()
        own = [(h, t) for h, t in zip(handles, labels) if not t.startswith("d =")]
        if own:
            ax.legend(*zip(*own), fontsize=7, loc="lower left")
    handles, labels = axes[0].get_legend_handles_labels()
    sizes = [(h, t) for h, t in zip(handles, labels) if t.startswith("d =")]
    fig.legend(*zip(*sizes), loc="lower center", ncol=len(sizes), fontsize=8)
    fig.suptitle(f"Compute-optimal frontier, {next(iter(groups))[0]}")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    table = curves_table(results)
    return write_figure(fig, out, "frontier", table=table[table.part == "total"])


#: Colour of each method in the methods figure.
METHOD_COLOURS = {"sgd": "tab:blue", "sgd-m": "tab:orange", "dana-constant": "tab:red",
                  "dana-decaying": "tab:green"}


def plot_method_curves(group, *, ax=None):
    """The excess risk of each method against steps, one problem and phase point.

    Parameters
    ----------
    group : list of MethodResult
        The methods' curves on one problem, phase point and size.
    ax : matplotlib.axes.Axes or None
        Where to draw (``None``: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    for r in group:
        keep = np.isfinite(r.excess) & (r.excess > 0)
        ax.loglog(r.steps[keep], r.excess[keep], color=METHOD_COLOURS.get(r.task.method),
                  lw=1.4, label=r.task.method)
    p = group[0].task.point
    ax.set_title(f"{p.phase}: α = {p.alpha:g}, β = {p.beta:g}, d = {group[0].task.d}")
    ax.set_xlabel("steps t")
    ax.set_ylabel("excess risk")
    return ax


def plot_method_exponents(group, rows, *, ax=None):
    """Each method's local exponent ``−d log P/d log t`` against steps, its predicted value
    (dashed) and the fit window (shaded).

    Parameters
    ----------
    group : list of MethodResult
        The methods' curves on one problem, phase point and size.
    rows : list of MethodRow
        Their rows of :func:`~sparsemom.numerics.studies.scaling.methods.method_rows` (the
        predicted exponents and the common window).
    ax : matplotlib.axes.Axes or None
        Where to draw (``None``: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    for r in group:
        t, slope = local_exponents(r.steps, r.excess)
        colour = METHOD_COLOURS.get(r.task.method)
        ax.semilogx(t, slope, color=colour, lw=1.4, label=r.task.method)
        row = next(x for x in rows if x.method == r.task.method)
        if row.predicted is not None:
            ax.axhline(row.predicted, color=colour, ls="--", lw=1)
    ax.axvspan(rows[0].window_lo, rows[0].window_hi, color="0.9", zorder=0, label="fit window")
    ax.set_ylim(0, 1.6 * max(r.predicted or 0 for r in rows) + 0.2)
    ax.set_xlabel("steps t")
    ax.set_ylabel("local exponent −d log P / d log t")
    return ax


def methods_table(results) -> pd.DataFrame:
    """One row per method, problem, phase point and step: the data of the methods figure."""
    frames = []
    for r in results:
        p = r.task.point
        frames.append(pd.DataFrame({"method": r.task.method, "problem": r.task.problem,
                                    "phase": p.phase, "alpha": p.alpha, "beta": p.beta,
                                    "d": r.task.d, "batch": r.task.batch, "lr": r.lr,
                                    "t": r.steps, "excess_risk": r.excess}))
    return pd.concat(frames, ignore_index=True)


def methods_figure(results, rows, out) -> list:
    """``methods.png``/``.pdf`` and its data: per phase point, the methods' curves (top) and
    their local exponents against the predicted ones (bottom)."""
    groups: dict = {}
    for r in results:
        groups.setdefault((r.task.problem, r.task.point, r.task.d), []).append(r)
    fig = new_figure((5.2 * len(groups), 8.4))
    for i, (key, group) in enumerate(groups.items()):
        mine = [x for x in rows if (x.problem, x.phase, x.d) == (key[0], key[1].phase, key[2])]
        plot_method_curves(group, ax=fig.add_subplot(2, len(groups), i + 1))
        plot_method_exponents(group, mine, ax=fig.add_subplot(2, len(groups), len(groups) + i + 1))
    handles, labels = fig.axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9)
    fig.suptitle(f"SGD, SGD with momentum (β = 0.9) and DANA-decaying, {key[0]}; dashed: "
                 "predicted exponents")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return write_figure(fig, out, "methods", table=methods_table(results))


#: Line style of each method's frontier (SGD-M's dashed: it lies on SGD's).
METHOD_STYLES = {"sgd-m": "--"}
#: The methods whose family of curves a frontier panel draws thin, besides the frontiers.
FAMILY_METHODS = ("sgd", "dana-decaying")


def plot_method_frontiers(frontiers, *, ax=None, families=FAMILY_METHODS):
    """Each method's compute-optimal frontier ``P*(f)`` (thick) on one problem and phase
    point, and the curves ``E R_t`` of every size of ``families`` against ``f = d B t``
    (thin), the fitted ``η`` in the legend.

    Parameters
    ----------
    frontiers : list of MethodFrontier
        The methods' families on one problem and phase point
        (:func:`~sparsemom.numerics.studies.scaling.method_frontier.method_frontiers`).
    ax : matplotlib.axes.Axes or None
        Where to draw (``None``: a new figure).
    families : sequence of str
        The methods whose curves are drawn thin.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    for family in frontiers:
        if family.method not in families:
            continue
        colour = METHOD_COLOURS.get(family.method)
        for r, k, p in zip(family.results, family.steps, family.losses):
            keep = k > 0
            ax.loglog(r.task.d * r.task.batch * k[keep], p[keep], color=colour, lw=0.6,
                      alpha=0.35, label=f"{family.method}, d = {r.task.d}")
    for family in frontiers:
        f = family.fit.frontier
        eta = family.fit.eta[0]
        text = "" if eta is None else f", η = {eta:.3f}"
        ax.loglog(f.flops, f.loss, color=METHOD_COLOURS.get(family.method), lw=2.4,
                  ls=METHOD_STYLES.get(family.method, "-"), label=f"{family.method} frontier{text}")
    p = frontiers[0].results[0].task.point
    ax.set_title(f"{p.phase}: α = {p.alpha:g}, β = {p.beta:g}")
    ax.set_xlabel("compute f = d·B·t")
    ax.set_ylabel("risk E R (floor included)")
    return ax


def plot_optimal_sizes(frontiers, *, ax=None):
    """Each method's compute-optimal size ``d*(f)`` against compute, the fitted ``ξ`` in the
    legend.

    Parameters
    ----------
    frontiers : list of MethodFrontier
        The methods' families on one problem and phase point.
    ax : matplotlib.axes.Axes or None
        Where to draw (``None``: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    for family in frontiers:
        f = family.fit.frontier
        xi = family.fit.xi[0]
        text = "" if xi is None else f", ξ = {xi:.3f}"
        ax.loglog(f.flops, f.size, color=METHOD_COLOURS.get(family.method), lw=1.8,
                  ls=METHOD_STYLES.get(family.method, "-"), label=f"{family.method}{text}")
    ax.set_xlabel("compute f = d·B·t")
    ax.set_ylabel("optimal size d*(f)")
    return ax


def method_frontiers_table(frontiers) -> pd.DataFrame:
    """The data of the methods' frontier figure, tidy: one row per method, problem, phase
    point and plotted point: ``series`` ``"frontier"`` (``d`` the optimal size ``d*(f)``,
    ``t = f/(d* B)``) or ``"curve"`` (one size's ``E R_t``)."""
    frames = []
    for (problem, point, method), family in frontiers.items():
        batch = family.results[0].task.batch
        labels = dict(method=method, problem=problem, phase=point.phase, alpha=point.alpha,
                      beta=point.beta, batch=batch)
        f = family.fit.frontier
        frames.append(pd.DataFrame({**labels, "series": "frontier", "d": f.size,
                                    "t": f.flops / (f.size * batch), "flops": f.flops,
                                    "risk": f.loss}))
        for r, k, p in zip(family.results, family.steps, family.losses):
            frames.append(pd.DataFrame({**labels, "series": "curve", "d": float(r.task.d),
                                        "t": k, "flops": r.task.d * batch * k, "risk": p}))
    return pd.concat(frames, ignore_index=True)


def method_frontiers_figure(frontiers, out) -> list:
    """``method_frontiers.png``/``.pdf`` and its data: per phase point, the methods'
    frontiers with the families of :data:`FAMILY_METHODS` (top) and their optimal sizes
    (bottom)."""
    points: dict = {}
    for (problem, point, _), family in frontiers.items():
        points.setdefault((problem, point), []).append(family)
    fig = new_figure((5.2 * len(points), 8.8))
    for i, group in enumerate(points.values()):
        top = plot_method_frontiers(group, ax=fig.add_subplot(2, len(points), i + 1))
        handles, labels = top.get_legend_handles_labels()
        own = [(h, t) for h, t in zip(handles, labels) if "frontier" in t]
        top.legend(*zip(*own), fontsize=7, loc="lower left")
        bottom = plot_optimal_sizes(group, ax=fig.add_subplot(2, len(points), len(points) + i + 1))
        bottom.legend(fontsize=7, loc="upper left")
    dims = sorted({d for family in frontiers.values() for d in family.dims})
    fig.suptitle(f"Compute-optimal frontiers of SGD, SGD-M and DANA, {next(iter(points))[0]}, "
                 f"d = {dims[0]} … {dims[-1]}; thin: the curves of "
                 f"{' and '.join(FAMILY_METHODS)}")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return write_figure(fig, out, "method_frontiers", table=method_frontiers_table(frontiers))


def _plane_grid(points, values):
    """``(alphas, betas, Z)``: the points' values on their grid (``nan`` where skipped)."""
    alphas = np.unique([p.alpha for p in points])
    betas = np.unique([p.beta for p in points])
    grid = np.full((betas.size, alphas.size), np.nan)
    for p, v in zip(points, values):
        grid[np.searchsorted(betas, p.beta), np.searchsorted(alphas, p.alpha)] = v
    return alphas, betas, grid


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around evenly or unevenly spaced centres."""
    middle = (centres[1:] + centres[:-1]) / 2
    first = centres[0] - (middle[0] - centres[0]) if centres.size > 1 else centres[0] - 0.5
    last = centres[-1] + (centres[-1] - middle[-1]) if centres.size > 1 else centres[0] + 0.5
    return np.concatenate([[first], middle, [last]])


#: Points per axis of the grid on which the phase boundaries are traced.
BOUNDARY_GRID = 601


def _phase_boundaries(ax, alphas, betas) -> None:
    """The outline of every phase of
    :data:`~sparsemom.derivations.limits.power_law_phases.PHASES`, traced from its condition
    on a fine grid (so also the edge ``2(α + β) = 1`` of the plane), each labelled at its
    sample."""
    a0, a1 = _edges(alphas)[[0, -1]]
    b0, b1 = _edges(betas)[[0, -1]]
    A, B = np.meshgrid(np.linspace(a0, a1, BOUNDARY_GRID), np.linspace(b0, b1, BOUNDARY_GRID))
    for phase in PHASES:
        inside = np.broadcast_to(sp.lambdify((alpha, beta), phase.condition, "numpy")(A, B),
                                 A.shape)
        if inside.any() and not inside.all():
            ax.contour(A, B, inside.astype(float), levels=[0.5], colors="white",
                       linewidths=0.9)
        a, b = (float(x) for x in phase.sample)
        if a0 <= a <= a1 and b0 <= b <= b1:
            ax.text(a, b, phase.name, color="white", ha="center", va="center", fontsize=10,
                    fontweight="bold")
    ax.set_xlim(a0, a1)
    ax.set_ylim(b0, b1)


def plot_plane_exponent(points, *, ax=None, quantity: str = "eta", predicted: bool = False):
    """A heatmap over ``(α, β)`` of a compute-optimal exponent, measured or predicted, with
    the phase boundaries.

    Parameters
    ----------
    points : list of PlanePoint
        The grid (:func:`~sparsemom.numerics.studies.scaling.plane.plane_points`).
    ax : matplotlib.axes.Axes or None
        Where to draw (``None``: a new figure).
    quantity : str
        ``"eta"`` (loss exponent) or ``"xi"`` (optimal size exponent).
    predicted : bool
        Draw the predicted exponent (``nan`` where there is none) instead.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    if quantity not in ("eta", "xi"):
        raise ValueError(f"quantity must be 'eta' or 'xi'; got {quantity!r}")
    ax = axes_or_new(ax)
    name = f"predicted_{quantity}" if predicted else quantity
    alphas, betas, grid = _plane_grid(points, [getattr(p, name) for p in points])
    ax.pcolormesh(_edges(alphas), _edges(betas), grid, cmap="viridis", shading="flat")
    ax.set_title(("predicted " if predicted else "measured ")
                 + {"eta": "η (P* ∝ f^−η)", "xi": "ξ (d* ∝ f^ξ)"}[quantity])
    _phase_boundaries(ax, alphas, betas)
    ax.set_xlabel("α (spectrum j^−2α)")
    ax.set_ylabel("β (target j^−β)")
    return ax


def plot_plane_dominant(points, *, ax=None):
    """Which part of the excess risk (forcing, noise kernel, label noise) is the largest at
    the middle of each point's frontier.

    Parameters
    ----------
    points : list of PlanePoint
        The grid (:func:`~sparsemom.numerics.studies.scaling.plane.plane_points`).
    ax : matplotlib.axes.Axes or None
        Where to draw (``None``: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    names = [name for name in PARTS if name != "floor"]
    alphas, betas, grid = _plane_grid(points, [names.index(p.dominant) if p.dominant in names
                                               else np.nan for p in points])
    cmap = mpl.colors.ListedColormap(["tab:blue", "tab:orange", "tab:green"])
    ax.pcolormesh(_edges(alphas), _edges(betas), grid, cmap=cmap, vmin=-0.5,
                  vmax=len(names) - 0.5, shading="flat")
    for i, name in enumerate(names):
        ax.fill_between([], [], color=cmap(i), label=PART_STYLES[name][0])
    _phase_boundaries(ax, alphas, betas)
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title("the part of the excess risk that leads at the optimum")
    ax.set_xlabel("α (spectrum j^−2α)")
    ax.set_ylabel("β (target j^−β)")
    return ax


def plane_table(points) -> pd.DataFrame:
    """One row per grid point: the data of the plane figure."""
    return pd.DataFrame([p.__dict__ for p in points])


def plane_figure(points, problem: str, out) -> list:
    """``plane.png``/``.pdf`` and its data: measured and predicted ``η``, measured ``ξ``,
    and the dominant part over ``(α, β)``."""
    Path(out).mkdir(parents=True, exist_ok=True)
    fig = new_figure((16, 11))
    for i, (quantity, predicted) in enumerate((("eta", False), ("eta", True), ("xi", False))):
        ax = plot_plane_exponent(points, ax=fig.add_subplot(2, 2, i + 1), quantity=quantity,
                                 predicted=predicted)
        fig.colorbar(ax.collections[0], ax=ax)
    plot_plane_dominant(points, ax=fig.add_subplot(2, 2, 4))
    fig.suptitle(f"The (α, β) plane, {problem}: compute-optimal exponents from exact curves and "
                 "the part of the excess risk that leads at the optimum\nwhite lines: the 4+3 phase "
                 "boundaries; blank: outside 2(α + β) > 1, or no frontier inside the sizes")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return write_figure(fig, out, "plane", table=plane_table(points))
