"""The compute-optimal frontier of each method (SGD, SGD-M, DANA) over a family of sizes.

Per problem, phase point and method of :data:`~sparsemom.numerics.studies.scaling.methods.METHODS`,
the curves of the sizes ``d`` (:class:`~sparsemom.numerics.studies.scaling.methods.MethodResult`,
each to its :func:`~sparsemom.numerics.studies.scaling.methods.frontier_horizon`, the loss
``E R_t`` with its floor) give the frontier ``P*(f) = min_d P_d(f)`` over compute
``f = d B t``, its loss exponent ``η`` (``P* ∝ f^{−η}``) and the optimal size's ``ξ``
(``d* ∝ f^{ξ}``), by the very path of SGD's study
(:func:`~sparsemom.numerics.studies.scaling.exponents.fit_frontier`), and each method's
against SGD's on the same problem. A size whose curve diverges (DANA-constant's
``γ3 = c η/d`` with ``Δ_t → 0`` does, late) is cut at its first non-finite value: past it
that size is no candidate at that compute; a size that diverges from its first step leaves
the family.

Predictions (``source`` of each row):

* ``sgd``: :func:`~sparsemom.derivations.limits.power_law_phases.compute_optimal` where
  ``2α ≠ 1`` and ``2(α + β) > 1`` (as SGD's study);
* ``sgd-m``: SGD's, the claim of Ferbach et al. (arXiv 2505.16098): momentum with a
  dimension-free ``β`` at the same effective step ``lr/(1 − β) = η`` has SGD's exponents;
* DANA: none (``—``). Its time exponent is predicted only where the forcing leads, by a
  heuristic (:func:`~sparsemom.numerics.studies.scaling.methods.predicted_time_exponent`);
  the frontier also needs DANA's noise terms against ``d``, which are not derived here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sparsemom.numerics.studies.scaling.exponents import (
    FrontierFit,
    fit_frontier,
    predicted_optimum,
)
from sparsemom.numerics.studies.scaling.methods import METHODS

#: The two exponents of a frontier, by quantity name (as in SGD's exponents table).
QUANTITIES = {"eta": "compute-optimal loss exponent eta", "xi": "optimal size exponent xi"}


@dataclass(frozen=True)
class MethodFrontier:
    """One method's family on one problem and phase point: its results sorted by ``d`` (the
    sizes kept), each curve's steps and loss up to its first non-finite value, and the
    :class:`~sparsemom.numerics.studies.scaling.exponents.FrontierFit`."""

    method: str
    results: list
    steps: list
    losses: list
    fit: FrontierFit

    @property
    def dims(self) -> list[int]:
        return [r.task.d for r in self.results]


def finite_part(result) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, E R_t)`` of ``result`` up to its first non-finite loss (all of it when it
    never diverges)."""
    total = np.asarray(result.total, dtype=float)
    bad = np.flatnonzero(~np.isfinite(total))
    end = bad[0] if bad.size else total.size
    return np.asarray(result.steps)[:end], total[:end]


def method_frontiers(results) -> dict:
    """``{(problem, point, method): MethodFrontier}`` of the results (one family per problem,
    point, batch, seed and method; at least 3 sizes with a finite start each, else a
    ``ValueError`` naming the family), in the order of
    :data:`~sparsemom.numerics.studies.scaling.methods.METHODS` within each point."""
    groups: dict = {}
    for r in results:
        t = r.task
        if t.method not in METHODS:
            raise ValueError(f"results must be of the methods {METHODS}; got {t.method!r}")
        groups.setdefault((t.problem, t.point, t.batch, t.seed), {}).setdefault(
            t.method, []).append(r)
    if len({key[2:] for key in groups}) > 1:
        raise ValueError("results must share one batch and seed (one family per method); got "
                         f"{sorted({key[2:] for key in groups})}")
    out = {}
    for (problem, point, batch, _), by_method in groups.items():
        for method in (m for m in METHODS if m in by_method):
            family = sorted(by_method[method], key=lambda r: r.task.d)
            if len({r.task.d for r in family}) != len(family):
                raise ValueError(f"results hold two curves of one size for {method} at "
                                 f"{point.phase} ({problem})")
            kept, steps, losses = [], [], []
            for r in family:
                k, p = finite_part(r)
                if np.count_nonzero(k > 0) >= 2:
                    kept.append(r)
                    steps.append(k)
                    losses.append(p)
            if len(kept) < 3:
                raise ValueError(f"the family of {method} at {point.phase} ({problem}) needs at "
                                 f"least 3 sizes with finite curves for a frontier; got "
                                 f"{len(kept)} of {len(family)}")
            fit = fit_frontier([r.task.d for r in kept], steps, losses, batch)
            out[(problem, point, method)] = MethodFrontier(method, kept, steps, losses, fit)
    return out


@dataclass(frozen=True)
class MethodFrontierRow:
    """One exponent (``quantity``: ``eta`` or ``xi``) of one method's frontier at one phase
    point: predicted (``None``: no prediction; ``source``), measured ± window error over the
    compute ``[window_lo, window_hi]`` (``None``: not fitted, ``note`` says why), the sizes
    ``d_min … d_max`` of its family, and SGD's measured value on the same problem."""

    method: str
    problem: str
    phase: str
    alpha: float
    beta: float
    quantity: str
    predicted: float | None
    source: str
    measured: float | None
    error: float | None
    window_lo: float
    window_hi: float
    d_min: int
    d_max: int
    sgd_measured: float | None
    sgd_error: float | None
    note: str = ""


def _prediction(method: str, problem: str, point) -> tuple:
    """``(η, ξ, source)`` predicted for ``method`` (module docstring), ``(None, None, "")``
    where there is none."""
    optimum, source = predicted_optimum(problem, point)
    if method not in ("sgd", "sgd-m") or optimum is None:
        return None, None, ""
    if method == "sgd-m":
        source = f"SGD's ({source}; SGD-M = SGD: Ferbach et al. 2505.16098)"
    return float(optimum.eta), float(optimum.xi), source


def method_frontier_rows(frontiers) -> list[MethodFrontierRow]:
    """Two rows (``eta``, ``xi``) per family of :func:`method_frontiers`, SGD's measured values
    of the same problem and point alongside."""
    rows = []
    for (problem, point, method), family in frontiers.items():
        sgd = frontiers.get((problem, point, "sgd"))
        eta, xi, source = _prediction(method, problem, point)
        for name, predicted in (("eta", eta), ("xi", xi)):
            measured, error, (lo, hi), note = getattr(family.fit, name)
            baseline = getattr(sgd.fit, name) if sgd else (None, None)
            rows.append(MethodFrontierRow(method, problem, point.phase, point.alpha, point.beta,
                                          name, predicted, source, measured, error, lo, hi,
                                          family.dims[0], family.dims[-1], baseline[0],
                                          baseline[1], note))
    return rows


def frontier_rows_table(rows) -> pd.DataFrame:
    """The rows as a ``DataFrame`` (one row per method, phase point and exponent)."""
    return pd.DataFrame([r.__dict__ for r in rows])


def frontier_rows_markdown(rows) -> str:
    """The rows as a Markdown table, one line per method and phase point: ``η`` and ``ξ``
    measured ± window error (or why not), predicted, and SGD's."""
    def measured(r) -> str:
        return r.note if r.measured is None else f"{r.measured:.3f} ± {r.error:.3f}"

    def number(value, error=None) -> str:
        if value is None:
            return "—"
        return f"{value:.3f}" if error is None else f"{value:.3f} ± {error:.3f}"

    lines = ["| phase (α, β) | method | η measured | η predicted | SGD's η | ξ measured | "
             "ξ predicted | SGD's ξ | compute f | d |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    pairs: dict = {}
    for r in rows:
        pairs.setdefault((r.problem, r.phase, r.method), {})[r.quantity] = r
    for pair in pairs.values():
        eta, xi = pair["eta"], pair["xi"]
        lines.append(f"| {eta.phase} ({eta.alpha:g}, {eta.beta:g}) | {eta.method} | "
                     f"{measured(eta)} | {number(eta.predicted)} | "
                     f"{number(eta.sgd_measured, eta.sgd_error)} | {measured(xi)} | "
                     f"{number(xi.predicted)} | {number(xi.sgd_measured, xi.sgd_error)} | "
                     f"[{eta.window_lo:.3g}, {eta.window_hi:.3g}] | "
                     f"{eta.d_min}–{eta.d_max} |")
    return "\n".join(lines)


def frontier_ratio(family: MethodFrontier, baseline: MethodFrontier) -> tuple | None:
    """``(f, P*_family(f)/P*_baseline(f))`` at the largest compute ``f`` both frontiers hold
    (each interpolated linearly in ``log P`` against ``log f``), ``None`` when their ranges
    of compute do not overlap."""
    a, b = family.fit.frontier, baseline.fit.frontier
    if not (a.flops.size and b.flops.size):
        return None
    top = min(a.flops[-1], b.flops[-1])
    if top < max(a.flops[0], b.flops[0]):
        return None
    ours, theirs = (np.exp(np.interp(np.log(top), np.log(x.flops), np.log(x.loss)))
                    for x in (a, b))
    return float(top), float(ours / theirs)
