"""Figure of the spectral conflict (``sparsemom conflict``): four panels.

Each panel is drawn by a ``plot_*(result, ax=None)`` function into a Matplotlib ``Axes``
(given, or a new figure's) and returns it; :func:`conflict_figure` composes them.

1. the phases in ``(p, 1 − β)`` over the stream's frequencies — SGD-like above the
   oscillation onset, heavy-ball between it and the stability edge, unstable below —
   with the best global ``β*`` and the frequency-adapted ``f(p)``;
2. risk by frequency band over time, global ``β*`` against ``β_i = f(p_i)``;
3. total risk at the horizon against a global ``1 − β``, with the adapted
   assignments as horizontal lines: the gap;
4. the risk of each band at the horizon for every assignment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sparsemom.numerics.runtime.atomic import write_text_atomic
from sparsemom.numerics.runtime.figure_files import write_figure
from sparsemom.numerics.runtime.plotting import axes_or_new, new_figure
from sparsemom.numerics.studies.conflict import (
    ADAPTED,
    ONSET,
    ConflictResult,
    stream_label,
    table_markdown,
)

#: How each assignment of β is written in the panels (mathtext; the tables keep the names).
SHOWN = {ADAPTED: r"$\beta_i = f(p_i)$", ONSET: r"$\beta_i = \beta_{\mathrm{osc}}(p_i)$",
         "SGD (β = 0)": r"SGD ($\beta = 0$)", "best global β": r"best global $\beta$"}


def plot_phases(result: ConflictResult, *, ax=None):
    """The phases in ``(p, 1 − β)`` — SGD-like above the oscillation onset ``1 − β_osc(p)``,
    heavy-ball down to the stability edge ``1 − β_stab(p)``, unstable below — with the best
    global ``β*`` and the adapted ``f(p)``; the legend below the panel.

    Parameters
    ----------
    result : ConflictResult
        The study (:func:`~sparsemom.numerics.studies.conflict.run_conflict`).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    s = result.setup
    glob = result.global_momentum
    th = result.thresholds
    top = np.ones_like(th.p)
    floor = np.full_like(th.p, max(s.smallest_eps, th.stability_edge.min()) / 3)
    ax.fill_between(th.p, np.maximum(th.oscillation_onset, floor), top, color="tab:blue", alpha=0.18,
                    label="SGD-like (real modes)")
    ax.fill_between(th.p, np.maximum(th.stability_edge, floor), np.maximum(th.oscillation_onset, floor),
                    color="tab:orange", alpha=0.25, label="heavy-ball (oscillating modes)")
    ax.fill_between(th.p, floor, np.maximum(th.stability_edge, floor), color="0.5", alpha=0.35,
                    label="unstable")
    ax.plot(th.p, np.maximum(th.oscillation_onset, floor), color="tab:orange", lw=1.5,
            label=r"oscillation onset $1 - \beta_{\mathrm{osc}}(p)$")
    ax.plot(th.p, np.maximum(th.stability_edge, floor), color="black", lw=1.5,
            label=r"stability edge $1 - \beta_{\mathrm{stab}}(p)$")
    ax.axhline(1 - glob.beta, color="tab:red", lw=2, label=rf"best global $\beta^*$ = {glob.beta:.3f}")
    for name, style in ((ADAPTED, "-"), (ONSET, ":")):
        rule = result.rules[name]
        ax.plot(rule.p_grid, 1 - rule(rule.p_grid), style, color="tab:green", lw=2.2,
                label=SHOWN[name])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(floor[0], 1.05)
    ax.set_xlabel("token frequency $p$ (row active probability per sample)")
    ax.set_ylabel(r"$1 - \beta$")
    ax.set_title(f"phases on the active clock: {s.optimizer}, lr = {s.lr}, $B$ = {s.batch}, "
                 f"$d$ = {s.d}")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3)
    ax.grid(True, which="both", alpha=0.3)
    return ax


def plot_band_risk_over_time(result: ConflictResult, *, ax=None):
    """Risk of each frequency band over time, ``Σ_{i ∈ band} E R_i(k)``: global ``β*``
    (solid) against ``β_i = f(p_i)`` (dashed).

    Parameters
    ----------
    result : ConflictResult
        The study (:func:`~sparsemom.numerics.studies.conflict.run_conflict`).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    s = result.setup
    glob = result.global_momentum
    k = np.arange(1, s.horizon + 1)
    for j, band in enumerate(result.split_global.bands):
        ax.loglog(k, result.split_global.curves[j, 1:], "-", color=f"C{j}", label=band.label)
        ax.loglog(k, result.split_adapted.curves[j, 1:], "--", color=f"C{j}")
    ax.plot([], [], "k-", label=rf"global $\beta^*$ = {glob.beta:.3f}")
    ax.plot([], [], "k--", label=SHOWN[ADAPTED])
    ax.set_xlabel("step $k$")
    ax.set_ylabel(r"$\Sigma_{i \in \mathrm{band}}\, E\,R_i(k)$")
    ax.set_title(f"risk by frequency band over time ({s.rows:,} rows, {stream_label(s)})")
    ax.legend(fontsize=8, ncol=2, loc="lower left")
    ax.grid(True, which="both", alpha=0.3)
    return ax


def plot_global_scan(result: ConflictResult, *, ax=None):
    """Total risk at the horizon against a global ``1 − β``, with the adapted assignments
    and SGD as horizontal lines (the gap); the legend below the panel.

    Parameters
    ----------
    result : ConflictResult
        The study (:func:`~sparsemom.numerics.studies.conflict.run_conflict`).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    s = result.setup
    glob = result.global_momentum
    finite = np.isfinite(glob.risk_scan) & (glob.risk_scan < 10 * glob.risk_scan[0])
    ax.semilogx(glob.eps_scan[finite], glob.risk_scan[finite], "o-", color="tab:red",
                label=r"one global $\beta$ (exact, all rows)")
    unstable = ~finite
    if unstable.any():
        ax.axvspan(glob.eps_scan[unstable].min() / 1.5, glob.eps_scan[unstable].max(), color="0.5",
                   alpha=0.3, label=r"risk at $T$ > 10× its $\beta = 0$ value (rows diverging)")
    ax.plot([1 - glob.beta], [glob.risk], "*", ms=16, color="tab:red",
            label=r"best global $\beta^*$")
    for name, style in ((ADAPTED, "-"), (ONSET, ":"), ("SGD (β = 0)", "--")):
        ax.axhline(result.risk_at_horizon[name], ls=style, color="tab:green" if name != "SGD (β = 0)"
                   else "tab:blue", label=f"{SHOWN[name]}: {result.risk_at_horizon[name]:.4g}")
    low = min(result.risk_at_horizon.values())
    ax.set_ylim(0.9 * low, 1.25 * max(result.risk_at_horizon.values()))
    ax.set_xlabel(r"$1 - \beta$ (global)")
    ax.set_ylabel(rf"total risk $\Sigma_i E\,R_i(T)$, $T$ = {s.horizon:,}")
    ax.set_title(rf"the gap: best global $\beta$ leaves {result.gap:.3f}× the risk of "
                 r"$f(p_i)$")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    ax.grid(True, which="both", alpha=0.3)
    return ax


def plot_band_risk_at_horizon(result: ConflictResult, *, ax=None):
    """Risk of each frequency band at the horizon, ``Σ_{i ∈ band} E R_i(T)``, for every
    assignment of β (grouped bars).

    Parameters
    ----------
    result : ConflictResult
        The study (:func:`~sparsemom.numerics.studies.conflict.run_conflict`).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    s = result.setup
    names = list(result.band_risk)
    width = 0.8 / len(names)
    x = np.arange(len(result.split_global.bands))
    for i, name in enumerate(names):
        ax.bar(x + (i - (len(names) - 1) / 2) * width, result.band_risk[name], width,
               label=SHOWN.get(name, name))
    ax.set_yscale("log")
    ax.set_xticks(x, [b.label for b in result.split_global.bands], rotation=20, fontsize=8)
    ax.set_ylabel(rf"$\Sigma_{{i \in \mathrm{{band}}}}\, E\,R_i(T)$, $T$ = {s.horizon:,}")
    ax.set_title("where the risk sits at the horizon")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    return ax


#: Steps at which the band curves are tabulated: about this many, log-spaced (the panel is
#: log–log), with the first and the last.
TABLE_STEPS = 200


def conflict_table(result: ConflictResult) -> pd.DataFrame:
    """What the four panels show, tidy: one line per value with its ``panel``, ``series``
    and, as they apply, ``band``, ``p``, ``step``, ``one_minus_beta`` and ``risk``; the
    setup as columns.  The band curves at :data:`TABLE_STEPS` log-spaced steps."""
    glob, th = result.global_momentum, result.thresholds
    blocks = [pd.DataFrame({"panel": "phases", "series": name, "p": th.p, "one_minus_beta": eps})
              for name, eps in (("oscillation onset", th.oscillation_onset),
                                ("stability edge", th.stability_edge))]
    blocks += [pd.DataFrame({"panel": "phases", "series": name, "p": rule.p_grid,
                             "one_minus_beta": 1 - rule(rule.p_grid)})
               for name, rule in ((ADAPTED, result.rules[ADAPTED]), (ONSET, result.rules[ONSET]))]
    blocks.append(pd.DataFrame({"panel": "phases", "series": ["best global β"],
                                "one_minus_beta": [1 - glob.beta]}))
    horizon = result.setup.horizon
    steps = np.unique(np.rint(np.geomspace(1, horizon, TABLE_STEPS)).astype(int))
    for name, split in (("best global β", result.split_global), (ADAPTED, result.split_adapted)):
        for j, band in enumerate(split.bands):
            blocks.append(pd.DataFrame({"panel": "band risk over time", "series": name,
                                        "band": band.label, "step": steps,
                                        "risk": split.curves[j, steps]}))
    blocks.append(pd.DataFrame({"panel": "global scan", "series": "one global β",
                                "one_minus_beta": glob.eps_scan, "risk": glob.risk_scan,
                                "step": horizon}))
    blocks.append(pd.DataFrame({"panel": "global scan", "series": list(result.risk_at_horizon),
                                "risk": list(result.risk_at_horizon.values()), "step": horizon}))
    for name, risks in result.band_risk.items():
        blocks.append(pd.DataFrame({"panel": "band risk at horizon", "series": name,
                                    "band": [b.label for b in result.split_global.bands],
                                    "risk": risks, "step": horizon}))
    s = result.setup
    setup = {"stream": s.stream, "exponent": s.exponent if s.stream == "zipf" else np.nan,
             "rows": s.rows, "optimizer": s.optimizer, "lr": s.lr, "batch": s.batch, "d": s.d,
             "sigma2": s.sigma2, "R0": s.R0, "horizon": horizon}
    columns = ["panel", "series", "band", "p", "step", "one_minus_beta", "risk"]
    table = pd.concat(blocks, ignore_index=True).reindex(columns=columns)
    return table.astype({"step": "Int64"}).assign(**setup)


def conflict_figure(result: ConflictResult, out: Path) -> list[Path]:
    """The four panels into one figure, written as PNG and PDF into ``out`` with its data
    (:func:`conflict_table`)."""
    fig = new_figure((15, 12.5))
    axes = fig.subplots(2, 2)
    plot_phases(result, ax=axes[0, 0])
    plot_band_risk_over_time(result, ax=axes[0, 1])
    plot_global_scan(result, ax=axes[1, 0])
    plot_band_risk_at_horizon(result, ax=axes[1, 1])
    fig.tight_layout()
    return write_figure(fig, out, "spectral_conflict", dpi=110, table=conflict_table(result))


def write_conflict(result: ConflictResult, out: Path) -> list[Path]:
    """Table (markdown) and figure into ``out``; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    table = out / "conflict.md"
    write_text_atomic(table, table_markdown(result))
    return [table, *conflict_figure(result, out)]
