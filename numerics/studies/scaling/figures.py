"""Figures of a loss-curve study: the curves with their parts, the compute-optimal frontier.

Panels follow :mod:`sparsemom.numerics.runtime.plotting` (``plot_*(…, ax=None)``); the
figures are written with their tidy data (one row per plotted point, the problem's and
phase's parameters in columns).
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd

from sparsemom.numerics.runtime.figure_files import write_figure
from sparsemom.numerics.runtime.plotting import axes_or_new, new_figure
from sparsemom.numerics.studies.scaling.frontier import compute_frontier
from sparsemom.numerics.studies.scaling.methods import local_exponents
from sparsemom.numerics.studies.scaling.risk_parts import PARTS

#: How each part is drawn for the largest model of a panel.
PART_STYLES = {"forcing": ("forcing (target)", "--", "black"),
               "kernel": ("noise kernel", ":", "black"),
               "label_noise": ("label noise", "-.", "black"),
               "floor": ("floor $R_\\infty$", "-", "0.55")}
#: The lowest risk shown, as a fraction of the smallest total risk of a panel (the parts
#: fall exponentially once the slowest mode is learnt; below this they only squash the
#: curves).
SHOWN_BELOW_FLOOR = 0.03


def _groups(results) -> dict:
    """The results by (problem, phase point), each sorted by ``d``."""
    groups: dict = {}
    for r in results:
        groups.setdefault((r.task.problem, r.task.point), []).append(r)
    return {k: sorted(v, key=lambda r: r.task.d) for k, v in groups.items()}


def _colours(dims):
    """A colour per size, dark (small ``d``) to light (large)."""
    cmap = mpl.colormaps["viridis"]
    return [cmap(0.9 * i / max(len(dims) - 1, 1)) for i in range(len(dims))]


def plot_loss_curves(group, *, ax=None):
    """The total risk of every size of one phase point against steps, and the parts of the
    largest size (forcing, noise kernel, label noise, floor).

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
    for name in PARTS:
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
    """One row per curve, step and part (``total`` included): the data of both figures."""
    frames = []
    for r in results:
        for name in (*PARTS, "total"):
            values = r.total if name == "total" else np.broadcast_to(r.parts[name], r.steps.shape)
            frames.append(pd.DataFrame({**_parameters(r), "part": name, "t": r.steps,
                                        "flops": r.task.d * r.task.batch * r.steps,
                                        "risk": values}))
    return pd.concat(frames, ignore_index=True)


def loss_curves_figure(results, out) -> list:
    """``loss_curves.png``/``.pdf`` and its data: :func:`plot_loss_curves` per phase point."""
    groups = _groups(results)
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
    groups = _groups(results)
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
METHOD_COLOURS = {"sgd": "tab:blue", "sgd-m": "tab:orange", "dana-decaying": "tab:green"}


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
    lo, hi = (float(x) for x in rows[0].window.split("-", 1))
    ax.axvspan(lo, hi, color="0.9", zorder=0, label="fit window")
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
