"""Logistic rare class: Monte Carlo at d = 100…2000 against the mean-field prediction.

For each ``d`` the same problem in rescaled time ``t = k/d`` (``η = η̄/d``): the
derived statistics map is iterated (:func:`sparsemom.numerics.analysis.mean_field.mean_field`) and
SGD-M is simulated on sampled data (:mod:`sparsemom.numerics.simulate.logistic`).  Reported
per ``d``:

* the statistical harness on the excess cross-entropy (``H0``: the Monte Carlo
  mean equals the prediction at every recorded step; batch means, Holm, alpha);
* the RMS deviation of single runs' ``(s, R⊥)`` from the prediction (concentration;
  the mean-field claim is that it vanishes, at ``d^{-1/2}``) and the fitted rate;
* the mean deviation with its standard error (the ``O(1/d)`` bias of mean field).

``sparsemom logistic`` writes the table (markdown, CSV) and a figure with the
prediction vs simulation, the deviation vs ``d``, and the phase picture of the rare
class in ``(p, β)`` (timescale ratio and the linearised stability boundary).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from sparsemom.derivations.properties.stability import stability_conditions
from sparsemom.derivations.properties.timescales import timescales
from sparsemom.derivations.rare_class.linearisation import BULK_PARAMETERS
from sparsemom.numerics.analysis.linearised import fisher_constants
from sparsemom.numerics.analysis.mean_field_convergence import StudySetup
from sparsemom.numerics.inputs.models import RareClassLogistic
from sparsemom.numerics.kernels.numeric_function import numeric_function
from sparsemom.numerics.runtime.atomic import write_text_atomic
from sparsemom.numerics.runtime.figure_files import write_figure
from sparsemom.numerics.runtime.plotting import ERRORBAR_ZORDER, axes_or_new, new_figure


def table_markdown(points, rate: float) -> str:
    lines = ["| d | harness (excess CE) | min Holm p | RMS dev (s, R⊥) | max mean dev (CE) | SE at worst |",
             "|---|---|---|---|---|---|"]
    for pt in points:
        worst = int(np.argmax(np.abs(pt.simulated_mean["excess cross-entropy"]
                                     - pt.predicted["excess cross-entropy"])))
        lines.append(f"| {pt.d} | {'agrees' if pt.harness.passed else 'DISAGREES'} | "
                     f"{pt.harness.adjusted_p.min():.3g} | {pt.rms_deviation:.4f} | "
                     f"{pt.mean_deviation:.2e} | "
                     f"{pt.simulated_stderr['excess cross-entropy'][worst]:.2e} |")
    lines.append(f"\nRMS deviation ∝ d^-{rate:.3f} (least squares over d = "
                 f"{', '.join(str(pt.d) for pt in points)}; mean field predicts 1/2).")
    return "\n".join(lines) + "\n"


def table_csv(points, rate: float) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["d", "harness_passed", "min_holm_p", "rms_deviation", "max_mean_deviation", "rate"])
    for pt in points:
        w.writerow([pt.d, pt.harness.passed, f"{pt.harness.adjusted_p.min():.6g}",
                    f"{pt.rms_deviation:.6e}", f"{pt.mean_deviation:.6e}", f"{rate:.6f}"])
    return out.getvalue()


# -- the phase picture of the rare class ----------------------------------------------
#: The phase panel: d = 1000 with batch 10 and η = 1/d, where the noise-driven
#: instability leaves room for the heavy-ball phase (it needs η < B²/(d² h)).
PHASE_D, PHASE_BATCH, PHASE_LR_SCALE = 1000, 10, 1.0


def phase_grid(rho: float, optimizer: str = "heavy-ball", d: int = PHASE_D,
               batch: int = PHASE_BATCH, lr: float = PHASE_LR_SCALE / PHASE_D, n: int = 60):
    """``log10(τ_R/τ_L)`` and linearised stability on a ``(p, ε = 1 − β)`` grid.

    ``τ_R = 1/(1 − β)`` (every step is active) and ``τ_L = (1 − β)/(2ηh)``, with the
    curvature ``h(p, ρ)`` evaluated from its derived definition; stability from the
    Schur–Cohn conditions of the linearised bulk recursion in ``(η, β, B, d, h, w)``.
    """
    ts = timescales("logistic", optimizer)
    ratio = numeric_function(ts.ratio, BULK_PARAMETERS)
    conditions = [numeric_function(c.lhs - c.rhs, BULK_PARAMETERS)
                  for c in stability_conditions("logistic", optimizer)]
    ps = np.logspace(-4, np.log10(0.5), n)
    eps = np.logspace(-4, 0, n)
    betas = 1 - eps
    log_ratio = np.empty((n, n))
    stable = np.empty((n, n), dtype=bool)
    for j, p in enumerate(ps):
        c = fisher_constants(RareClassLogistic(d, p, rho))
        args = (lr, betas, batch, d, c["h"], c["w"])
        log_ratio[:, j] = np.log10(ratio(*args))
        stable[:, j] = np.all([np.broadcast_to(f(*args), betas.shape) > 0 for f in conditions], axis=0)
    return ps, eps, log_ratio, stable


def shown_points(points) -> list:
    """The points the prediction panel shows: the smallest, middle and largest ``d``."""
    return [pt for pt in points if pt.d in (points[0].d, points[len(points) // 2].d, points[-1].d)]


def concentration_fit(points) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``d``, the RMS deviations and their least-squares power law at ``d``."""
    d = np.array([pt.d for pt in points], dtype=float)
    rms = np.array([pt.rms_deviation for pt in points])
    fit = np.exp(np.polyfit(np.log(d), np.log(rms), 1))
    return d, rms, fit[1] * d ** np.log(fit[0])


def study_table(setup: StudySetup, points, rate: float, phase_n: int = 60) -> pd.DataFrame:
    """What the three panels show, tidy: one line per value with its ``panel``, ``series``
    and the parameters it was computed at (``d``, ``t``, ``p``, ``beta``, ``batch``,
    ``lr_scale``, ``rho``); the Monte Carlo standard error; ``stable`` on the phase grid."""
    common = {"optimizer": setup.optimizer, "rho": setup.rho}
    study = {**common, "p": setup.p, "beta": setup.beta, "batch": setup.batch,
             "lr_scale": setup.lr_scale, "runs": setup.runs}
    blocks = []
    for pt in shown_points(points):
        name = "excess cross-entropy"
        blocks.append(pd.DataFrame({"panel": "prediction vs simulation", "series": "mean field",
                                    "d": pt.d, "t": pt.times, "value": pt.predicted[name],
                                    **study}))
        blocks.append(pd.DataFrame({"panel": "prediction vs simulation", "series": "Monte Carlo",
                                    "d": pt.d, "t": pt.times, "value": pt.simulated_mean[name],
                                    "stderr": pt.simulated_stderr[name], **study}))
    d, rms, fitted = concentration_fit(points)
    for series, values in (("RMS deviation", rms), (f"fit ∝ d^-{rate:.4f}", fitted),
                           ("d^-1/2 (mean field)", rms[0] * np.sqrt(d[0] / d))):
        blocks.append(pd.DataFrame({"panel": "concentration", "series": series, "d": d,
                                    "value": values, **study}))
    ps, eps, log_ratio, stable = phase_grid(setup.rho, setup.optimizer, n=phase_n)
    P, E = np.meshgrid(ps, eps)
    blocks.append(pd.DataFrame({"panel": "rare-class phases", "series": "log10 tau_R/tau_L",
                                "d": PHASE_D, "p": P.ravel(), "beta": 1 - E.ravel(),
                                "value": log_ratio.ravel(), "stable": stable.ravel(),
                                "batch": PHASE_BATCH, "lr_scale": PHASE_LR_SCALE, **common}))
    columns = ["panel", "series", "d", "t", "p", "beta", "value", "stderr", "stable", "batch",
               "lr_scale", "rho", "optimizer", "runs"]
    table = pd.concat(blocks, ignore_index=True).reindex(columns=columns)
    return table.astype({"d": "Int64", "runs": "Int64"})


def plot_mean_field_vs_monte_carlo(setup: StudySetup, points, *, ax=None):
    """Excess cross-entropy against ``t = k / d``: the mean-field prediction (lines) and
    the Monte Carlo means ``± 2`` standard errors (markers, above the lines), at the
    smallest, middle and largest ``d`` of ``points``.

    Parameters
    ----------
    setup : StudySetup
        The problem (its parameters title the panel).
    points : list
        Study points (:func:`~sparsemom.numerics.analysis.mean_field_convergence.run_point`),
        in increasing ``d``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    shown = shown_points(points)
    for i, pt in enumerate(shown):
        ax.plot(pt.times, pt.predicted["excess cross-entropy"], "-", color=f"C{i}",
                label=f"mean field, $d$ = {pt.d}")
    for i, pt in enumerate(shown):
        ax.errorbar(pt.times, pt.simulated_mean["excess cross-entropy"],
                    yerr=2 * pt.simulated_stderr["excess cross-entropy"], fmt="o", ms=3,
                    color=f"C{i}", zorder=ERRORBAR_ZORDER,
                    label=rf"Monte Carlo $\pm 2$ SE, $d$ = {pt.d}")
    ax.set_yscale("log")
    ax.set_xlabel("rescaled time $t = k / d$")
    ax.set_ylabel("excess cross-entropy (population KL)")
    ax.set_title(f"{setup.optimizer}, $p$ = {setup.p}, $\\rho$ = {setup.rho}, "
                 f"$\\beta$ = {setup.beta}, $\\eta$ = {setup.lr_scale}$/d$, $B$ = {setup.batch}")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(True, which="both", alpha=0.3)
    return ax


def plot_concentration(points, rate: float, *, ax=None):
    """RMS deviation of single runs' ``(s, R⊥)`` from the prediction against ``d``, with
    its least-squares power law ``∝ d^{-rate}`` and the mean-field rate ``d^{-1/2}``.

    Parameters
    ----------
    points : list
        Study points (:func:`~sparsemom.numerics.analysis.mean_field_convergence.run_point`).
    rate : float
        The fitted rate (:func:`concentration_fit`'s exponent).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    d, rms, fitted = concentration_fit(points)
    ax.loglog(d, rms, "o", label=r"RMS deviation of single runs' $(s, R_\perp)$")
    ax.loglog(d, fitted, "--", label=rf"fit $\propto d^{{-{rate:.2f}}}$")
    ax.loglog(d, rms[0] * np.sqrt(d[0] / d), ":", color="gray", label=r"$d^{-1/2}$ (mean field)")
    ax.set_xlabel("dimension $d$")
    ax.set_ylabel("deviation from the prediction")
    ax.set_title("concentration on the mean-field trajectory")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(True, which="both", alpha=0.3)
    return ax


def plot_rare_class_phases(setup: StudySetup, *, ax=None, phase_n: int = 60):
    """``log10 τ_R/τ_L`` over ``(p, 1 − β)`` (``d``, ``B``, ``η`` of :data:`PHASE_D`,
    :data:`PHASE_BATCH`, :data:`PHASE_LR_SCALE`) with the linearised stability boundary
    (black), unstable points grey and ``τ_R = τ_L`` white dashed.

    Parameters
    ----------
    setup : StudySetup
        Its ``rho`` and ``optimizer`` are used.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when ``None``.
    phase_n : int
        Grid points per axis (:func:`phase_grid`).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into; its first collection is the ``log10 τ_R/τ_L`` mesh (for a
        colour bar).
    """
    ax = axes_or_new(ax)
    ps, eps, log_ratio, stable = phase_grid(setup.rho, setup.optimizer, n=phase_n)
    ax.pcolormesh(ps, eps, np.where(stable, log_ratio, np.nan), cmap="coolwarm",
                  vmin=-4, vmax=4, shading="nearest")
    ax.pcolormesh(ps, eps, np.where(stable, np.nan, 1.0), cmap="Greys", vmin=0, vmax=2,
                  shading="nearest")
    ax.contour(ps, eps, stable.astype(float), levels=[0.5], colors="black", linewidths=1.5)
    ax.contour(ps, eps, log_ratio, levels=[0.0], colors="white", linestyles="--", linewidths=1.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rare-class probability $p$")
    ax.set_ylabel(r"$1 - \beta$")
    ax.set_title(f"rare-class phases, $d$ = {PHASE_D}, $\\eta$ = {PHASE_LR_SCALE}$/d$, "
                 f"$\\rho$ = {setup.rho}, $B$ = {PHASE_BATCH}:\n"
                 r"$\log_{10} \tau_R/\tau_L$; white dashed $\tau_R = \tau_L$; grey: unstable "
                 "(linearised, black boundary)", fontsize=9)
    return ax


def study_figure(setup: StudySetup, points, rate: float, out: Path, phase_n: int = 60) -> list[Path]:
    """The three panels into one figure, written as PNG and PDF into ``out`` with its data
    (:func:`study_table`)."""
    fig = new_figure((18, 5.2))
    axes = fig.subplots(1, 3)
    plot_mean_field_vs_monte_carlo(setup, points, ax=axes[0])
    plot_concentration(points, rate, ax=axes[1])
    mesh = plot_rare_class_phases(setup, ax=axes[2], phase_n=phase_n).collections[0]
    fig.colorbar(mesh, ax=axes[2],
                 label=r"$\log_{10} \tau_R / \tau_L$   (< 0 SGD-like, ≈ 0 heavy ball)")
    fig.tight_layout()
    return write_figure(fig, out, "logistic", dpi=120,
                        table=study_table(setup, points, rate, phase_n))


def write_study(setup: StudySetup, points, rate: float, out: Path) -> list[Path]:
    """Table (markdown and CSV) and figure into ``out``; returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "logistic.md", table_markdown(points, rate))
    write_text_atomic(out / "logistic.csv", table_csv(points, rate))
    return [out / "logistic.md", out / "logistic.csv", *study_figure(setup, points, rate, out)]
