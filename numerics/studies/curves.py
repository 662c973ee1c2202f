"""Curves on one ``Axes`` (given, or a new figure's): exact risk against Monte Carlo, the
moments of one row, and the balanced components of a limit against exact finite-``d``
curves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sparsemom.numerics.runtime.plotting import ERRORBAR_ZORDER, axes_or_new, math_symbol


def plot_exact_and_monte_carlo(exact, mc, *, ax=None, title: str = "", every: int = 1):
    """The exact risk ``E R_k`` (a line) and the Monte Carlo mean ``± 2`` standard errors
    at every ``every``-th step, on a log scale.

    Parameters
    ----------
    exact : array_like
        ``E R_k`` for ``k = 0, …, steps`` (e.g. ``exact_state(...).risk``).
    mc : MonteCarloResult
        A :class:`~sparsemom.numerics.simulate.monte_carlo.MonteCarloResult` over the same steps.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when ``None``.
    title : str
        The panel's title.
    every : int
        Show the Monte Carlo mean at every ``every``-th step.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    k = np.arange(len(exact))
    ax.plot(k, np.asarray(exact, dtype=float), "-", color="C0", lw=2,
            label="exact (derived recursion)")
    shown = k[::every]
    ax.errorbar(shown, mc.mean[shown], yerr=2 * mc.stderr[shown], fmt="o", ms=3, color="C1",
                zorder=ERRORBAR_ZORDER,
                label=rf"Monte Carlo, {mc.runs - mc.diverged} runs ($\pm 2$ SE)")
    ax.set_yscale("log")
    ax.set_xlabel("step $k$")
    ax.set_ylabel(r"$E\,R(\theta_k)$")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(True, which="both", alpha=0.3)
    return ax


def plot_moments(trajectory, *, ax=None, row: int = 0):
    """Every second moment ``m_k`` of one row of a trajectory against the step ``k``.

    Parameters
    ----------
    trajectory : MomentTrajectory
        A :class:`~sparsemom.numerics.kernels.exact_state.MomentTrajectory`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when ``None``.
    row : int
        The row whose moments are drawn.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into: one line per moment, ``trajectory.state[:, row, i]``.
    """
    ax = axes_or_new(ax)
    k = np.arange(trajectory.steps + 1)
    for i, name in enumerate(trajectory.names):
        ax.plot(k, trajectory.state[:, row, i].astype(float), lw=1.6,
                label=f"${math_symbol(name, 'k')}$")
    ax.axhline(0.0, color="grey", lw=0.6)
    ax.set_xlabel("step $k$")
    ax.set_ylabel("second moment")
    ax.set_title(f"moments of row {row}")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(True, alpha=0.3)
    return ax


def plot_limit_components(limit, finite: list, *, ax=None, title: str = ""):
    """Each balanced component of a ``d → ∞`` limit (dashed) and of exact finite-``d``
    curves (solid, paler for smaller ``d``), one colour per component, against rescaled
    time ``t = k / d^τ``.

    Parameters
    ----------
    limit : LimitCurve
        A dense :class:`~sparsemom.numerics.analysis.scaling_limit.LimitCurve` (the limit).
    finite : list of LimitCurve
        Exact finite-``d`` curves, each with ``metadata["d"]``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when ``None``.
    title : str
        The panel's title.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    shades = np.linspace(0.35, 1.0, len(finite)) if finite else []
    for i, name in enumerate(limit.names):
        colour = f"C{i}"
        symbol = rf"\tilde{{{math_symbol(name)}}}"
        ax.plot(limit.times, limit.components[:, i], "--", color="black" if i == 0 else colour,
                lw=1.4, label=rf"${symbol}$, $d\to\infty$")
        for shade, curve in zip(shades, finite):
            ax.plot(curve.times, curve.components[:, i], "-", color=colour, alpha=float(shade),
                    lw=1.8, label=rf"${symbol}$, $d$ = {curve.metadata['d']:,}")
    ax.axhline(0.0, color="grey", lw=0.6)
    ax.set_xlabel(r"rescaled time $t = k / d^{\tau}$ (active updates)")
    ax.set_ylabel("balanced component (limit units)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=2, loc="upper right")
    ax.grid(True, alpha=0.3)
    return ax


def limit_components_table(limit, finite: list, **labels) -> pd.DataFrame:
    """What :func:`plot_limit_components` shows, tidy: one line per (curve, ``t``,
    component) with ``series`` ``"limit"`` (``d = inf``) or ``"exact"`` (its ``d``), the
    ``value`` and every parameter of the limit's point; ``labels`` as constant columns."""
    curves = [limit.to_dataframe().assign(series="limit", d=np.inf),
              *(curve.to_dataframe().assign(series="exact") for curve in finite)]
    wide = pd.concat(curves, ignore_index=True)
    keys = [c for c in wide.columns if c not in limit.names]
    tidy = wide.melt(id_vars=keys, value_vars=list(limit.names), var_name="component")
    return tidy.assign(**labels)[[*labels, "series", "d", "t", "component", "value",
                                  *(k for k in keys if k not in ("series", "d", "t"))]]
