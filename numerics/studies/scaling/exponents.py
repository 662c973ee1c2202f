"""Measured exponents of a family of exact curves against the predicted ones.

Per problem and phase point, from the curves of every size ``d`` of the family:

* the time exponents of the forcing and of the noise-kernel part, fitted at the largest
  ``d`` on the window ``[10/η, 0.1/(η λ_min)]`` of steps (past the first steps, before the
  slowest mode is learnt; for random features with an embedding term, also before the
  embedding's forcing takes over, ``0.1 d^{α/β}/η``, and after it, the late forcing
  ``(2α − 1)/(2α)``); predicted: the forcing ``(2α + 2β − 1)/(2α)``
  (:func:`~sparsemom.derivations.limits.power_law_phases.spectral_decay`), the kernel part
  ``min`` of that and the kernel's own ``(4α − 1)/(2α)`` (derived: ``(K ∗ S)(t) ≈ (Σ K) S(t) +
  (Σ S) K(t)`` for a summable kernel, ``4α > 1``);
* where the problem splits its forcing (random features), the time exponents of the
  pure-point and absolutely continuous components on the whole window, against ``Fpp``'s and
  ``Fac``'s;
* the floor's exponent in ``d`` (the problem's floor term), fitted over the family;
* the compute-optimal ``η`` and ``ξ`` from the frontier
  (:mod:`~sparsemom.numerics.studies.scaling.frontier`), predicted by
  :func:`~sparsemom.derivations.limits.power_law_phases.compute_optimal` off the line
  ``2α = 1`` (below it with the learning rate ``∝ d^{2α−1}``: derived, not published).

A quantity that cannot be fitted on its window (empty, or holding too few points) is
reported without a measurement, and the reason in its ``note``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import pandas as pd
import sympy as sp

from sparsemom.derivations.limits.power_law_phases import (
    ComputeOptimal,
    compute_optimal,
    crossover_exponent,
    has_compute_optimum,
    kernel_part_exponent,
    present_terms,
    random_features_terms,
    rational_point,
    time_exponent,
    truncated_power_law_terms,
)
from sparsemom.numerics.studies.scaling.exponent_fit import fit_exponent
from sparsemom.numerics.studies.scaling.frontier import Frontier, compute_frontier
from sparsemom.numerics.studies.scaling.loss_curves import by_point

#: The steps of the time window, in units of ``1/η`` (start) and ``1/(η λ_min)`` (end).
WINDOW = (10.0, 0.1)


@dataclass(frozen=True)
class ExponentRow:
    """One quantity of one phase point: predicted (``None``: no prediction; ``source`` says
    where it comes from) and measured (``None``: not fitted, ``note`` says why) with its
    window error, fitted against ``variable`` (``t`` steps, ``d`` size, ``f`` compute) on
    ``[window_lo, window_hi]``, from the curves of sizes ``d_min … d_max``."""

    problem: str
    phase: str
    alpha: float
    beta: float
    quantity: str
    predicted: float | None
    source: str
    measured: float | None
    error: float | None
    variable: str
    window_lo: float
    window_hi: float
    d_min: int
    d_max: int
    note: str = ""


@dataclass(frozen=True)
class FrontierFit:
    """A family's :class:`~sparsemom.numerics.studies.scaling.frontier.Frontier` and its two
    exponents, each ``(measured, error, window, note)`` of a fit over the frontier's whole
    range of compute: ``η`` of ``P* ∝ f^{−η}`` and ``ξ`` of ``d* ∝ f^{ξ}``."""

    frontier: Frontier
    eta: tuple
    xi: tuple


def fit_frontier(dims, steps, losses, batch: int = 1) -> FrontierFit:
    """The frontier of the curves ``losses[i]`` at ``steps[i]`` of sizes ``dims[i]``
    (:func:`~sparsemom.numerics.studies.scaling.frontier.compute_frontier`) and its fitted
    ``η`` and ``ξ`` (:class:`FrontierFit`)."""
    frontier = compute_frontier(dims, steps, losses, batch)
    f = frontier.flops
    flops = (f[0], f[-1]) if f.size >= 2 else (1.0, 1.0)
    return FrontierFit(frontier, _fit(f, frontier.loss, flops),
                       _fit(f, 1 / frontier.size if f.size else f, flops))


def terms_of(problem: str):
    """The loss terms the problem's predictions come from."""
    return random_features_terms() if problem == "random-features" else truncated_power_law_terms()


def exact_point(point) -> tuple[Fraction, Fraction]:
    """``(α, β)`` of a phase point as the decimals they are written as (0.7 as 7/10)."""
    return Fraction(str(point.alpha)), Fraction(str(point.beta))


#: Where the predictions come from, by problem (a key of
#: :data:`~sparsemom.derivations.limits.power_law_phases.SOURCES`): [4+3] for random features
#: (above the high-dimensional line), derived here for the truncated power law.
SOURCE = {"random-features": "4+3", "power-law": "derived"}
#: How a source is cited in the tables.
CITED = {"4+3": "4+3 (Table 1/2, recalled)"}
#: The source of the compute-optimal exponents below the high-dimensional line.
BELOW_THE_LINE = "derived (learning rate ∝ d^(2α−1))"


def predicted_optimum(problem: str, point) -> tuple[ComputeOptimal | None, str]:
    """The compute-optimal exponents of ``problem`` at ``point``
    (:func:`~sparsemom.derivations.limits.power_law_phases.compute_optimal`) and where they
    come from, as cited (:data:`SOURCE`, :data:`CITED`; :data:`BELOW_THE_LINE` for
    ``2α < 1``); ``(None, "")`` where
    there are none (``2α = 1``, or ``2(α + β) ≤ 1``)."""
    a, b = exact_point(point)
    if not has_compute_optimum(a, b):
        return None, ""
    return (compute_optimal(terms_of(problem), a, b),
            CITED.get(SOURCE[problem], SOURCE[problem]) if 2 * a > 1 else BELOW_THE_LINE)


def exponent_rows(results) -> list[ExponentRow]:
    """Every :class:`ExponentRow` of the curve results (one group per problem and point)."""
    rows = []
    for (problem, point), group in by_point(results).items():
        rows += _group_rows(problem, point, group)
    return rows


def _group_rows(problem, point, group) -> list[ExponentRow]:
    """The rows of one problem and phase point, its curves sorted by ``d``."""
    a, b = exact_point(point)
    where = rational_point(a, b)
    dims = [r.task.d for r in group]
    span = (dims[0], dims[-1])
    terms = terms_of(problem)
    source = SOURCE[problem]
    optimum, optimal_source = predicted_optimum(problem, point)

    def row(quantity, predicted, origin, variable, fit, sizes) -> ExponentRow:
        cited = "" if predicted is None else CITED.get(origin, origin)
        measured, error, (lo, hi), note = fit
        return ExponentRow(problem, point.phase, point.alpha, point.beta, quantity,
                           predicted, cited, measured, error, variable, lo, hi, *sizes, note)

    largest = group[-1]
    full = (WINDOW[0] / largest.lr, WINDOW[1] / (largest.lr * largest.smallest_eigenvalue))
    window = full
    # the embedding's forcing decays as a power of t only above the line (below it: flat)
    embedding = [t for t in present_terms(terms, a, b) if t.name == "Fac" and 2 * a > 1]
    if embedding:
        # the forcing holds the pure-point part until the embedding's takes over, at
        # η t ≍ d^{α/β} (Fpp = Fac); its exponent is fitted before that, the late one after
        crossover = largest.task.d ** float(crossover_exponent(terms, "Fpp", "Fac", a, b)) \
            / largest.lr
        late = (crossover / WINDOW[1], window[1])
        window = (window[0], min(window[1], WINDOW[1] * crossover))
    forcing = float(time_exponent(terms, "Fpp", a, b))
    kernel_part = kernel_part_exponent(terms, a, b)
    floor_term = next(t for t in terms if t.name == "F0")
    floor = float(sp.piecewise_fold(sp.sympify(floor_term.dimension_exponent)).subs(where))
    fitted = fit_frontier(dims, [r.steps for r in group], [r.total for r in group],
                          group[0].task.batch)
    at = (dims[-1], dims[-1])
    rows = [
        row("forcing time exponent", forcing, source, "t",
            _fit(largest.steps, largest.parts["forcing"], window), at),
        row("noise-kernel part time exponent",
            None if kernel_part is None else float(kernel_part),
            "derived", "t", _fit(largest.steps, largest.parts["kernel"], window), at),
        row("floor d exponent", floor, floor_term.source, "d",
            _fit(dims, [float(r.parts["floor"][0]) for r in group], (dims[0], dims[-1])), span),
        row("compute-optimal loss exponent eta", float(optimum.eta) if optimum else None,
            optimal_source, "f", fitted.eta, span),
        row("optimal size exponent xi", float(optimum.xi) if optimum else None,
            optimal_source, "f", fitted.xi, span),
    ]
    if embedding:
        rows.insert(1, row("late forcing time exponent (embedding)",
                           float(time_exponent(terms, "Fac", a, b)), "4+3", "t",
                           _fit(largest.steps, largest.parts["forcing"], late), at))
    if "forcing_pure_point" in largest.parts:
        # the forcing's components, split exactly: each on the whole window
        continuous = time_exponent(terms, "Fac", a, b) if 2 * a > 1 else None
        rows[1:1] = [
            row("pure-point forcing time exponent", forcing, source, "t",
                _fit(largest.steps, largest.parts["forcing_pure_point"], full), at),
            row("absolutely continuous forcing time exponent",
                None if continuous is None else float(continuous), source, "t",
                _fit(largest.steps, largest.parts["forcing_absolutely_continuous"], full), at)]
    return rows


def _fit(x, y, window) -> tuple:
    """``(exponent, error, window, note)`` of :func:`fit_exponent` (``y ∝ x^{−e}``), or
    ``(None, None, window, why)`` when the window cannot be fitted."""
    lo, hi = (float(w) for w in window)
    if not lo < hi:
        return None, None, (lo, hi), "empty window (its start is past its end)"
    try:
        fit = fit_exponent(x, y, (lo, hi))
    except ValueError as exc:
        return None, None, (lo, hi), str(exc)
    return fit.exponent, fit.error, (lo, hi), ""


def rows_table(rows):
    """The rows as a ``DataFrame`` (one row per quantity, one column per field)."""
    return pd.DataFrame([r.__dict__ for r in rows])


def rows_markdown(rows) -> str:
    """The rows as a Markdown table: phase, quantity, predicted, measured ± error (or why
    not), window, sizes."""
    lines = ["| problem | phase (α, β) | quantity | predicted | measured | window | d |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        predicted = "—" if r.predicted is None else f"{r.predicted:.3f}"
        measured = r.note if r.measured is None else f"{r.measured:.3f} ± {r.error:.3f}"
        sizes = f"{r.d_min}" if r.d_min == r.d_max else f"{r.d_min}–{r.d_max}"
        lines.append(f"| {r.problem} | {r.phase} ({r.alpha:g}, {r.beta:g}) | {r.quantity} | "
                     f"{predicted} | {measured} | {r.variable} ∈ [{r.window_lo:.3g}, "
                     f"{r.window_hi:.3g}] | {sizes} |")
    return "\n".join(lines)
