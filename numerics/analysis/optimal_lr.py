"""The learning rate minimising the exact risk at a horizon, for many problems at once.

For problem ``j`` (its own ``p_j``, ``β_j`` and horizon ``k_j``; common ``d``, ``B``,
``s²``) the objective is ``r_j(η) = E R_{k_j}(η) / E R_0`` from the exact finite-``d``
recursion (:func:`sparsemom.numerics.kernels.horizon_risk.row_risk_at`, binary powering, so the
cost does not grow with ``k``).  The search brackets the minimum on a log grid of
``η`` (every problem's scan is one batch of rows), then narrows each bracket by golden
section in ``log η``.  An overflowing (unstable) ``η`` has ``r = inf`` and loses every
comparison.  A minimum at the end of the scanned range is flagged (``at_edge``): widen
``lr_range`` for it.

The risk reported at ``η*`` is computed again in mpmath (:func:`precise_risk_ratio`):
float64 powering adds terms of size ``E R_0`` with an absolute error of about
``1e-16 E R_0``, so where the minimum is deeper than that (a huge batch ``B``: the risk
falls to the noise level ``O(1/B)`` near a root of the deterministic error polynomial) its
value is rounding noise, possibly negative.  The search itself then only places ``η*``
within the interval where the float64 risk is at that noise floor.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import mpmath
import numpy as np

from sparsemom.numerics.analysis.golden import golden_section
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.kernels.exact_risk import DivergenceWarning, exact_risk_at
from sparsemom.numerics.kernels.horizon_risk import row_risk_at


@dataclass(frozen=True)
class OptimalRates:
    """Per problem: the minimising ``lr``, the risk ratio there (in mpmath:
    :func:`precise_risk_ratio`), and whether the minimum sits at an end of the scanned
    range."""

    lr: np.ndarray
    risk: np.ndarray
    at_edge: np.ndarray


def horizon_risk_ratio(optimizer: str, d, p, beta, batch, sigma2, horizon, time,
                       lr) -> np.ndarray:
    """``E R_k / E R_0`` per row (``R_0 = 1``); ``inf`` where it overflows."""
    model = SparseLeastSquares(d=d, p=p, R0=1.0, sigma2=sigma2)
    opt = Optimizer(optimizer, lr=lr, beta=beta, batch=batch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        risk = row_risk_at(model, opt, horizon, time) / row_risk_at(model, opt, 0, time)
    return np.where(np.isfinite(risk), risk, np.inf)


def precise_risk_ratio(optimizer: str, d, p, beta, batch, sigma2, horizon, time, lr,
                       estimate=None, rtol: float = 1e-15, max_dps: int = 20_000) -> np.ndarray:
    """``E R_k / E R_0`` per problem (arrays of one length, or scalars) on the float64
    inputs as given, in mpmath: the value at 30 digits, then at twice the digits while two
    successive values differ by more than ``rtol`` relative (an ``ArithmeticError`` past
    ``max_dps``).  ``estimate`` (e.g. the float64 ratios) counts as the value before
    the 30-digit one: where it already agrees, one mpmath evaluation is enough."""
    p, beta, horizon, lr, estimate = (a.ravel() for a in np.broadcast_arrays(
        np.asarray(p, dtype=float), np.asarray(beta, dtype=float), np.asarray(horizon),
        np.asarray(lr, dtype=float), np.asarray(np.nan if estimate is None else estimate,
                                                dtype=float)))
    out = np.empty(p.size)
    for j in range(p.size):
        model = SparseLeastSquares(d=d, p=p[j], R0=1.0, sigma2=sigma2)
        opt = Optimizer(optimizer, lr=lr[j], beta=beta[j], batch=batch)

        def ratio(dps: int):
            start, end = exact_risk_at(model, opt, [0, int(horizon[j])], time, dps)
            with mpmath.workdps(dps):
                return end / start
        dps, value, finer = 30, mpmath.mpf(estimate[j]), ratio(30)
        while not abs(finer - value) <= rtol * abs(finer):      # NaN: not settled
            dps *= 2
            if dps > max_dps:
                raise ArithmeticError(f"the risk ratio of problem {j} did not settle to {rtol:g} "
                                      f"within {max_dps} digits")
            value, finer = finer, ratio(dps)
        out[j] = float(finer)
    return out


def optimal_learning_rates(optimizer: str, d: int, p, beta, batch: int, horizon,
                           time: str = "active", sigma2: float = 0.0,
                           lr_range=(1e-8, 1e4), scan: int = 97) -> OptimalRates:
    """Per problem ``j``, ``argmin_η E R_{k_j}(η)/E R_0`` (see the module docstring).

    ``p``, ``beta`` and ``horizon`` are arrays of one length (or scalars); ``scan``
    log-spaced rates span ``lr_range``; then 40 golden-section iterations in ``log η``
    between the best scanned rate's neighbours (relative precision ~1e-8 of the bracket).
    """
    d = check_integer("d", d, minimum=1)
    batch = check_integer("batch", batch, minimum=1)
    scan = check_integer("scan", scan, minimum=3)
    lo, hi = (float(x) for x in lr_range)
    if not 0 < lo < hi:
        raise ValueError(f"lr_range must be (low, high) with 0 < low < high; got {lr_range!r}")
    p, beta, horizon = np.broadcast_arrays(np.asarray(p, dtype=float),
                                           np.asarray(beta, dtype=float), np.asarray(horizon))
    p, beta, horizon = p.ravel(), beta.ravel(), horizon.ravel().astype(np.int64)
    m = p.size
    rates = np.geomspace(lo, hi, scan)
    grid = horizon_risk_ratio(optimizer, d, np.repeat(p, scan), np.repeat(beta, scan), batch,
                              sigma2, np.repeat(horizon, scan), time,
                              np.tile(rates, m)).reshape(m, scan)
    best = np.argmin(grid, axis=1)
    best_risk = grid[np.arange(m), best]
    if not np.all(np.isfinite(best_risk)):
        bad = int(np.flatnonzero(~np.isfinite(best_risk))[0])
        raise ValueError(f"every lr in lr_range={lr_range} overflows for problem {bad} "
                         f"(p={p[bad]:.4g}, beta={beta[bad]:.6g}, horizon={horizon[bad]}): "
                         "lower the range")
    left = np.log(rates[np.maximum(best - 1, 0)])
    right = np.log(rates[np.minimum(best + 1, scan - 1)])
    x = golden_section(lambda x: horizon_risk_ratio(optimizer, d, p, beta, batch, sigma2,
                                                    horizon, time, np.exp(x)), left, right)
    refined = horizon_risk_ratio(optimizer, d, p, beta, batch, sigma2, horizon, time, np.exp(x))
    better = refined <= best_risk
    lr = np.where(better, np.exp(x), rates[best])
    risk = precise_risk_ratio(optimizer, d, p, beta, batch, sigma2, horizon, time, lr,
                              estimate=np.where(better, refined, best_risk))
    return OptimalRates(lr, risk, (best == 0) | (best == scan - 1))
