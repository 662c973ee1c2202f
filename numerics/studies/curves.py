"""Curves drawn into a given ``Axes``: exact risk against Monte Carlo, the moments of
one row, and the balanced components of a limit against exact finite-``d`` curves."""

from __future__ import annotations

import numpy as np
import pandas as pd


def plot_exact_and_monte_carlo(ax, exact, mc, title: str = "", every: int = 1) -> None:
    """The exact ``E R_k`` (a line) and the Monte Carlo mean ± 2 standard errors of
    ``mc`` (a :class:`~sparsemom.numerics.simulate.monte_carlo.MonteCarloResult`) at every
    ``every``-th step, on a log scale."""
    k = np.arange(len(exact))
    ax.plot(k, np.asarray(exact, dtype=float), "-", color="C0", lw=2,
            label="exact (derived recursion)")
    shown = k[::every]
    ax.errorbar(shown, mc.mean[shown], yerr=2 * mc.stderr[shown], fmt="o", ms=3, color="C1",
                label=f"Monte Carlo, {mc.runs - mc.diverged} runs (± 2 SE)")
    ax.set_yscale("log")
    ax.set_xlabel("step k")
    ax.set_ylabel(r"$E\,R(\theta_k)$")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)


def plot_moments(ax, trajectory, row: int = 0) -> None:
    """Every second moment of row ``row`` of a
    :class:`~sparsemom.numerics.kernels.exact_state.MomentTrajectory` against the step."""
    k = np.arange(trajectory.steps + 1)
    for i, name in enumerate(trajectory.names):
        ax.plot(k, trajectory.state[:, row, i].astype(float), lw=1.6, label=f"${name}_k$")
    ax.axhline(0.0, color="grey", lw=0.6)
    ax.set_xlabel("step k")
    ax.set_ylabel("second moment")
    ax.set_title(f"moments of row {row}")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)


def plot_limit_components(ax, limit, finite: list, title: str = "") -> None:
    """Each balanced component of ``limit`` (a dense
    :class:`~sparsemom.numerics.analysis.scaling_limit.LimitCurve`, dashed) and of the exact
    finite-``d`` curves ``finite`` (LimitCurves with ``metadata["d"]``, solid, paler for
    smaller ``d``), one colour per component."""
    shades = np.linspace(0.35, 1.0, len(finite)) if finite else []
    for i, name in enumerate(limit.names):
        colour = f"C{i}"
        ax.plot(limit.times, limit.components[:, i], "--", color="black" if i == 0 else colour,
                lw=1.4, label=rf"$\tilde{{{name}}}$, $d\to\infty$")
        for shade, curve in zip(shades, finite):
            ax.plot(curve.times, curve.components[:, i], "-", color=colour, alpha=float(shade),
                    lw=1.8, label=rf"$\tilde{{{name}}}$, d = {curve.metadata['d']:,}")
    ax.axhline(0.0, color="grey", lw=0.6)
    ax.set_xlabel(r"rescaled time $t = k / d^{\tau}$ (active updates)")
    ax.set_ylabel("balanced component (limit units)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(True, alpha=0.3)


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
