"""Statistical comparison of Monte Carlo trajectories with a predicted risk curve.

Squared errors under momentum are heavy-tailed, so a plain z-test on all runs
misfires (|z| ≈ 5 was seen on a correct formula).  The harness tests
``H0: E R_k = r_k for every k of the grid`` by

1. **batch means**: the runs are split into ``groups`` equal groups (in run
   order, which is independent of the data); each group mean averages many runs,
   so it is close to normal by the CLT even when single runs are not;
2. a two-sided one-sample **t-test** of the group means against ``r_k`` at each
   step (``groups − 1`` degrees of freedom);
3. **Holm's step-down** correction over the time grid (valid under any
   dependence between steps);
4. reject when any adjusted p-value is below ``alpha``.

The family-wise false-alarm rate is at most ``alpha`` up to the normal
approximation of group means; ``tests/test_harness.py`` measures it on many seeds
of a correct case and shows the power against deliberately wrong formulas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Comparison:
    """Outcome of :func:`compare_with_theory`."""

    passed: bool
    adjusted_p: np.ndarray   # Holm-adjusted p-value per step (1 where not tested)
    worst_step: int
    alpha: float
    groups: int

    def __str__(self) -> str:
        verdict = "agrees" if self.passed else "DISAGREES"
        return (f"{verdict}: min Holm-adjusted p = {self.adjusted_p.min():.3g} at step "
                f"{self.worst_step} (alpha = {self.alpha}, {self.groups} batch means)")


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    m = p.size
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def compare_with_theory(trajectories: np.ndarray, predicted: np.ndarray, alpha: float = 0.01,
                        groups: int = 40) -> Comparison:
    """Test ``E R_k = predicted[k]`` for every ``k`` (``trajectories``: runs × steps)."""
    runs, steps = trajectories.shape
    if predicted.shape != (steps,):
        raise ValueError(f"predicted must have shape ({steps},); got {predicted.shape}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}")
    if groups < 2 or runs < 2 * groups:
        raise ValueError(f"groups must be ≥ 2 with at least 2 runs per group; got {groups} "
                         f"groups for {runs} runs")
    if not np.all(np.isfinite(trajectories)):
        raise ValueError("trajectories contain non-finite values (diverged runs): report "
                         "divergence instead of comparing means")
    size = runs // groups
    means = trajectories[: size * groups].reshape(groups, size, steps).mean(axis=1)
    centre = means.mean(axis=0)
    spread = means.std(axis=0, ddof=1) / np.sqrt(groups)
    p = np.ones(steps)
    scale = np.maximum(np.abs(predicted), np.abs(centre))
    degenerate = spread <= 1e-13 * scale   # deterministic steps (e.g. k = 0)
    p[degenerate & (np.abs(centre - predicted) > 1e-9 * scale)] = 0.0
    live = ~degenerate
    t = (centre[live] - predicted[live]) / spread[live]
    p[live] = 2 * stats.t.sf(np.abs(t), df=groups - 1)
    adjusted = holm(p)
    worst = int(np.argmin(adjusted))
    return Comparison(bool(adjusted.min() >= alpha), adjusted, worst, alpha, groups)


def compare_samples(first: np.ndarray, second: np.ndarray, alpha: float = 0.01,
                    groups: int = 40) -> Comparison:
    """Test that two simulators have the same mean risk at every step: batch means
    of each, Welch t-test per step, Holm over the grid; a step where both are
    deterministic (no spread beyond rounding) must agree to a relative 1e-9."""
    if first.shape[1] != second.shape[1]:
        raise ValueError("both samples must cover the same steps")
    means = []
    for runs in (first, second):
        if runs.shape[0] < 2 * groups or not np.all(np.isfinite(runs)):
            raise ValueError("each sample needs ≥ 2 finite runs per group")
        size = runs.shape[0] // groups
        means.append(runs[: size * groups].reshape(groups, size, -1).mean(axis=1))
    a, b = means
    spread = np.sqrt(a.var(axis=0, ddof=1) / groups + b.var(axis=0, ddof=1) / groups)
    p = np.ones(first.shape[1])
    centre_a, centre_b = a.mean(axis=0), b.mean(axis=0)
    scale = np.maximum(np.abs(centre_a), np.abs(centre_b))
    degenerate = spread <= 1e-13 * scale   # deterministic steps (e.g. k = 0): equal to rounding
    p[degenerate & (np.abs(centre_a - centre_b) > 1e-9 * scale)] = 0.0
    live = ~degenerate
    result = stats.ttest_ind(a[:, live], b[:, live], equal_var=False)
    p[live] = result.pvalue
    adjusted = holm(p)
    worst = int(np.argmin(adjusted))
    return Comparison(bool(adjusted.min() >= alpha), adjusted, worst, alpha, groups)
