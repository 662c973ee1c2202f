"""The learning rate that minimises the exact risk at a horizon, for any model and method.

The objective is ``r(η) = E R_T(η)`` from ``exact_risk`` (so any law, any rule, schedules
included: the learning rate scales a method built by ``make_optimizer(η)``); an ``η`` whose
curve diverges (or does not reach ``T`` in float64) has ``r = inf``. The search scans a log
grid of ``η`` over ``lr_range``, then narrows the bracket around the grid's best point by
golden section in ``log η`` (:func:`~sparsemom.numerics.analysis.golden.golden_section`).
A minimum at an end of the range is flagged (``at_edge``): widen ``lr_range``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from sparsemom.numerics.analysis.golden import golden_section
from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.kernels.exact_risk import DivergenceWarning, exact_risk

#: Log-grid points of the scan, and golden-section iterations after it (the bracket of two
#: grid steps shrinks by ``0.618^24 ≈ 1e-5``).
SCAN, ITERATIONS = 13, 24


@dataclass(frozen=True)
class TunedRate:
    """The minimising ``lr``, ``E R_T`` there, and whether it sits at an end of the range."""

    lr: float
    risk: float
    at_edge: bool


def risk_at_horizon(model, make_optimizer, lr: float, horizon: int) -> float:
    """``E R_T`` of ``make_optimizer(lr)``; ``inf`` when the curve diverges."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        risk = float(exact_risk(model, make_optimizer(lr), horizon, threads=1)[-1])
    return risk if math.isfinite(risk) else math.inf


def tuned_learning_rate(model, make_optimizer, horizon: int, lr_range: tuple[float, float],
                        scan: int = SCAN) -> TunedRate:
    """The ``lr`` in ``lr_range`` minimising ``E R_horizon`` (module docstring).

    Parameters
    ----------
    model : Model
        Any model ``exact_risk`` takes.
    make_optimizer : callable
        ``lr → Optimizer``.
    horizon : int
        ``T ≥ 1``.
    lr_range : (float, float)
        ``0 < low < high``.
    scan : int
        Points of the log grid, ``≥ 3``.

    Returns
    -------
    TunedRate
        The minimiser, its risk, and whether it is at an end of the range.
    """
    horizon = check_integer("horizon", horizon, minimum=1)
    scan = check_integer("scan", scan, minimum=3)
    low, high = (float(x) for x in lr_range)
    if not 0 < low < high < math.inf:
        raise ValueError(f"lr_range must be (low, high) with 0 < low < high; got {lr_range!r}")
    grid = np.geomspace(low, high, scan)
    risks = np.array([risk_at_horizon(model, make_optimizer, lr, horizon) for lr in grid])
    if not np.isfinite(risks).any():
        raise ValueError(f"every learning rate of lr_range {lr_range!r} diverges by step "
                         f"{horizon}: lower the range")
    best = int(np.argmin(risks))
    a, b = np.log(grid[max(best - 1, 0)]), np.log(grid[min(best + 1, scan - 1)])

    def objective(log_lr: np.ndarray) -> np.ndarray:
        return np.array([risk_at_horizon(model, make_optimizer, float(np.exp(x)), horizon)
                         for x in log_lr])

    lr = float(np.exp(golden_section(objective, np.array([a]), np.array([b]), ITERATIONS)[0]))
    risk = risk_at_horizon(model, make_optimizer, lr, horizon)
    if risk > risks[best]:                  # the bracket's centre lost to the grid point
        lr, risk = float(grid[best]), float(risks[best])
    return TunedRate(lr, risk, best in (0, scan - 1))
