"""The rare-class model across its parameters: mean field against Monte Carlo.

Around a base problem (:class:`~sparsemom.numerics.analysis.mean_field_convergence.StudySetup`,
rescaled time ``t = k/d``, ``η = η̄/d``) one parameter at a time is swept — the momentum
gap ``ε = 1 − β``, the rare-class probability ``p``, the learning-rate scale ``η̄``, the
class separation ``ρ`` and the batch size ``B`` — and the excess cross-entropy at the
horizon is predicted by the derived statistics map (a fine line) and measured by Monte
Carlo at a few values (mean ± 2 SE), each point's whole trajectory checked by the
statistical harness.  Mean field is exact as ``d → ∞``; at finite ``d`` its bias is
``O(1/d)`` and grows with the momentum: at ``β = 0.9`` the harness resolves it at
``d = 100`` (mean deviation 0.026, halved at ``d = 200``, where it passes), hence
``d ≥ 200`` here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from sparsemom.numerics.analysis.mean_field import mean_field
from sparsemom.numerics.analysis.mean_field_convergence import StudySetup, run_point
from sparsemom.numerics.runtime.parallel import parallel_map
from sparsemom.numerics.runtime.plotting import ERRORBAR_ZORDER, axes_or_new
from sparsemom.numerics.verify.checks import CheckResult

#: Swept parameter → (label, values measured by Monte Carlo — the ends of the range first —,
#: range of the prediction).
SWEPT = {
    "eps": (r"$\varepsilon = 1 - \beta$", (0.1, 0.9, 0.3, 0.5), (0.05, 1.0)),
    "p": ("rare-class probability $p$", (0.05, 0.4, 0.1, 0.2), (0.03, 0.45)),
    "lr_scale": (r"learning-rate scale $\eta d$", (0.25, 2.0, 0.5, 1.0), (0.2, 2.5)),
    "rho": (r"class separation $\rho$", (1.0, 3.0, 1.5, 2.0), (0.8, 3.2)),
    "batch": ("batch size $B$", (1, 8, 2, 4), (1, 8)),
}
CURVE = "excess cross-entropy"


def _with(setup: StudySetup, name: str, value) -> StudySetup:
    if name == "eps":
        return replace(setup, beta=1.0 - value)
    if name == "batch":
        return replace(setup, batch=int(value))
    return replace(setup, **{name: value})


@dataclass(frozen=True)
class Sweep:
    """One swept parameter: the prediction on a fine grid and the Monte Carlo points."""

    name: str
    grid: np.ndarray
    predicted: np.ndarray
    values: tuple
    points: list


def predicted_at_horizon(setup: StudySetup, d: int) -> float:
    """The mean-field excess cross-entropy at ``t = horizon``."""
    model, opt = setup.problem(d)
    return float(mean_field(model, opt, setup.steps(d)).risks[CURVE][-1])


def _point(task):
    setup, d = task
    return run_point(setup, d)


def _predicted(task):
    setup, d = task
    return predicted_at_horizon(setup, d)


def _grid(name: str, fine: int) -> np.ndarray:
    lo, hi = SWEPT[name][2]
    return (np.unique(np.round(np.geomspace(lo, hi, fine))) if name == "batch"
            else np.linspace(lo, hi, fine))


def run_sweeps(setup: StudySetup = StudySetup(), d: int = 200, fine: int = 41,
               names=tuple(SWEPT), workers: int | None = None,
               measured: int | None = None) -> list[Sweep]:
    """Every swept parameter of ``names`` (see the module docstring) at dimension ``d``:
    the prediction at ``fine`` values, Monte Carlo at the first ``measured`` of
    :data:`SWEPT`'s values (all by default); both in parallel (``workers`` processes,
    default all cores)."""
    values = {name: SWEPT[name][1][:measured] for name in names}
    grids = {name: _grid(name, fine) for name in names}
    tasks = [(_with(setup, name, x), d) for name in names for x in values[name]]
    lines = [(_with(setup, name, x), d) for name in names for x in grids[name]]
    results = iter(parallel_map(_point, tasks, workers=workers, description="logistic sweeps"))
    predictions = iter(parallel_map(_predicted, lines, workers=workers,
                                    description="mean field"))
    return [Sweep(name, grids[name], np.array([next(predictions) for _ in grids[name]]),
                  values[name], [next(results) for _ in values[name]]) for name in names]


def checks(sweeps: list[Sweep]) -> list[CheckResult]:
    """One harness verdict per Monte Carlo point (Holm over its time grid)."""
    return [CheckResult("Monte Carlo", f"logistic sweep {s.name} = {value}", pt.harness.passed,
                        f"min Holm p = {pt.harness.adjusted_p.min():.3g} over the trajectory")
            for s in sweeps for value, pt in zip(s.values, s.points)]


def sweeps_table(setup: StudySetup, sweeps: list[Sweep], d: int) -> pd.DataFrame:
    """What the sweep panels show, tidy: per swept parameter (``swept``), the mean-field
    excess cross-entropy at the horizon on the fine grid and the Monte Carlo mean with its
    standard error at the measured values; every line with the whole problem it was
    computed at (``p``, ``beta``, ``lr_scale``, ``rho``, ``batch``, ``d``, ``runs``)."""
    rows = []
    for sweep in sweeps:
        for x, value in zip(sweep.grid, sweep.predicted):
            rows.append(_row(setup, sweep.name, x, d, "mean field", value, np.nan))
        for x, pt in zip(sweep.values, sweep.points):
            rows.append(_row(setup, sweep.name, x, d, "Monte Carlo",
                             pt.simulated_mean[CURVE][-1], pt.simulated_stderr[CURVE][-1]))
    return pd.DataFrame(rows)


def _row(setup: StudySetup, name: str, x, d: int, series: str, value, stderr) -> dict:
    at = _with(setup, name, x)
    return {"swept": name, "series": series, "swept_value": float(x), CURVE: float(value),
            "stderr": float(stderr), "p": at.p, "beta": at.beta, "lr_scale": at.lr_scale,
            "rho": at.rho, "batch": at.batch, "d": d, "horizon": at.horizon,
            "optimizer": at.optimizer, "runs": at.runs}


def plot_sweep(sweep: Sweep, d: int, *, ax=None):
    """The mean-field excess cross-entropy at the horizon over the swept parameter (a
    line) and the Monte Carlo means ``± 2`` SE there (markers, above the line).

    Parameters
    ----------
    sweep : Sweep
        One swept parameter (:func:`run_sweeps`).
    d : int
        The dimension the sweep ran at (in the legend).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    label = SWEPT[sweep.name][0]
    ax.plot(sweep.grid, sweep.predicted, "-", color="C0", lw=2, label="mean field")
    means = [pt.simulated_mean[CURVE][-1] for pt in sweep.points]
    errors = [2 * pt.simulated_stderr[CURVE][-1] for pt in sweep.points]
    ax.errorbar(sweep.values, means, yerr=errors, fmt="o", color="C1", ms=5,
                zorder=ERRORBAR_ZORDER, label=rf"Monte Carlo, $d$ = {d} ($\pm 2$ SE)")
    ax.set_yscale("log")
    ax.set_xlabel(label)
    ax.set_ylabel("excess cross-entropy at the horizon")
    ax.set_title(f"sweep of {label}", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.grid(True, which="both", alpha=0.3)
    return ax
