"""Golden-section search on many brackets at once (one evaluation per iteration)."""

from __future__ import annotations

import numpy as np

#: Iterations: the bracket shrinks by 0.618^40 ≈ 4e-9 of its width.
GOLDEN_ITERATIONS = 40


def golden_section(f, a: np.ndarray, b: np.ndarray,
                   iterations: int = GOLDEN_ITERATIONS) -> np.ndarray:
    """Minimisers of a unimodal ``f`` on every bracket ``[a_j, b_j]``: ``f`` maps the
    vector of points (one per bracket) to their values; each iteration keeps the part
    ``[a, e]`` or ``[c, b]`` holding the smaller of ``f(c), f(e)``, ``c, e`` at the golden
    ratios.  Returns the centres of the final brackets."""
    r = (np.sqrt(5) - 1) / 2
    c, e = b - r * (b - a), a + r * (b - a)
    fc, fe = f(c), f(e)
    for _ in range(iterations):
        left = fc <= fe                                   # minimum in [a, e]
        a, b = np.where(left, a, c), np.where(left, e, b)
        new = np.where(left, b - r * (b - a), a + r * (b - a))
        f_new = f(new)
        c, e, fc, fe = (np.where(left, new, e), np.where(left, c, new),
                        np.where(left, f_new, fe), np.where(left, fc, f_new))
    return 0.5 * (a + b)
