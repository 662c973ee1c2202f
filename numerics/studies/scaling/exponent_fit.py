"""Power-law exponents fitted on log-log axes, with an error from the fit window.

A curve ``y ∝ x^{−e}`` over a window ``[lo, hi]`` of ``x``: ``e`` is minus the least-squares
slope of ``log y`` on ``log x`` there. A finite window of a curve that is a power law only
asymptotically gives a slope that drifts across it, so the error reported is the largest
change of the slope when the fit is repeated on the window's first half, its second half
and its middle half (in ``log x``) — the drift the window choice causes — not the
regression's standard error (the curves are exact: there is no noise to average).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ExponentFit:
    """``y ∝ x^{−exponent}`` on ``window`` (``points`` points), ``± error``."""

    exponent: float
    error: float
    window: tuple[float, float]
    points: int


#: Fewest distinct ``x`` each part of the window must hold (a slope needs two), and the
#: window.
MIN_POINTS = 2
MIN_WINDOW_POINTS = 4


def fit_exponent(x, y, window: tuple[float, float]) -> ExponentFit:
    """The exponent ``e`` of ``y ∝ x^{−e}`` on ``window`` (module docstring).

    Parameters
    ----------
    x, y : array_like
        Of one length; ``x`` finite, both positive and ``y`` finite within the window.
    window : (float, float)
        ``0 < lo < hi``: the range of ``x`` fitted.

    Returns
    -------
    ExponentFit
        The exponent and its window error.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-d arrays of one length; got shapes {x.shape} "
                         f"and {y.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"x must be finite (a NaN would fall out of the window unseen); got "
                         f"{np.count_nonzero(~np.isfinite(x))} non-finite values")
    lo, hi = _window(window)
    inside = (x >= lo) & (x <= hi)
    if not (np.isfinite(y[inside]).all() and (y[inside] > 0).all() and (x[inside] > 0).all()):
        raise ValueError("y must be positive and finite on the window (a log-log fit); "
                         f"window {window!r} holds {np.count_nonzero(~(y[inside] > 0))} "
                         "non-positive or non-finite values")
    lx, ly = np.log(x[inside]), np.log(y[inside])
    if np.unique(lx).size < MIN_WINDOW_POINTS:
        raise ValueError(f"window {window!r} holds {np.unique(lx).size} distinct values of x; "
                         f"a fit and its halves need at least {MIN_WINDOW_POINTS}")
    slope = _slope(lx, ly)
    a, b = np.log(lo), np.log(hi)
    quarter = (b - a) / 4
    parts = [(a, a + 2 * quarter), (a + 2 * quarter, b), (a + quarter, b - quarter)]
    drift = []
    for p, q in parts:
        keep = (lx >= p) & (lx <= q)
        if np.unique(lx[keep]).size >= MIN_POINTS:
            drift.append(abs(_slope(lx[keep], ly[keep]) - slope))
    if not drift:
        raise ValueError(f"window {window!r}: its halves hold too few points for an error")
    return ExponentFit(-slope, max(drift), (lo, hi), int(lx.size))


def _window(window) -> tuple[float, float]:
    """``(lo, hi)`` with ``0 < lo < hi < ∞`` (a ``ValueError`` names ``window``)."""
    try:
        lo, hi = (float(w) for w in window)
    except (TypeError, ValueError):
        lo = hi = np.nan
    if not 0 < lo < hi < np.inf:
        raise ValueError(f"window must be (lo, hi) with 0 < lo < hi < inf; got {window!r}")
    return lo, hi


def _slope(lx: np.ndarray, ly: np.ndarray) -> float:
    """The least-squares slope of ``ly`` on ``lx``."""
    centred = lx - lx.mean()
    return float(np.dot(centred, ly - ly.mean()) / np.dot(centred, centred))
