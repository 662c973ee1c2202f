"""SGD against SGD with momentum and DANA on exact curves of power-law data.

The claim checked (D. Ferbach, K. Everett, G. Gidel, E. Paquette, C. Paquette,
"Dimension-adapted momentum outscales SGD", arXiv 2505.16098, abstract): SGD with momentum
of a constant, dimension-free ``β`` has SGD's scaling exponents; DANA, whose momentum step
adapts to the dimension, improves them. Each method runs on the same problem
(:func:`~sparsemom.numerics.studies.scaling.loss_curves.build_problem`) with these
conventions:

* ``sgd``: ``η`` by the authors' rule (:func:`~sparsemom.numerics.studies.scaling.loss_curves.learning_rate`);
* ``sgd-m``: heavy ball with ``β = 0.9`` and ``lr = (1 − β) η``: the same effective step
  ``lr/(1 − β) = η`` (:data:`MOMENTUM`);
* ``dana-constant``: the rule ``dana`` with ``γ2 = η``, ``γ1 = 1``, a constant
  ``γ3 = c η/d`` (dimension-adapted) and the same ``Δ_t`` as below; its exponent is fitted
  from ``t = 2d`` on, where its momentum leads;
* ``dana-decaying``: the rule ``dana`` with ``γ2 = η``, ``γ1 = 1``,
  ``γ3_t = c η (1 + t)^{−1/(2α)}`` and ``Δ_t = δ/(δ + t)``, ``δ = 4 + (α + β)/α`` (the
  authors' ``powerlaw_schedule(1, 0, −1, δ)`` in their ``DANADecayHighD`` notebook and
  ``theory_vs_sgd_comparison.py``, public repository ``LosVolterrosHermanos/Experimental``);
  the scale ``c = 3`` (:data:`DANA_SCALE`) is chosen here: on the truncated power law at
  ``α = 0.7`` the exponent rises with ``c`` up to about 3, and the run slows at 10.

With ``lr_rule="tuned"`` each method's base ``η`` (for DANA ``γ2`` and ``γ3`` together) is
instead the one minimising its exact risk at the horizon, per size.

Every curve is the exact excess risk to a common horizon: iterated (``exact_risk``), or, for
constant hyper-parameters past :data:`ITERATED_STEPS`, evaluated at the kept steps by the
contour integral of the coupled modes (``coupled_risk_at``, the same numbers to ``10⁻⁶`` and
far cheaper at ``d^{2α}`` steps). The
predicted time exponent of SGD and SGD-M is the slower of the pure-point forcing's
``(2α + 2β − 1)/(2α)`` and the noise kernel's ``(4α − 1)/(2α)``
(:func:`predicted_time_exponent`); for DANA-decaying the momentum turns ``t`` steps into an
effective time ``≍ t^{2 − 1/(2α)}`` (its accumulated momentum step
``Σ_s γ3_s/Δ_s ∝ t^{2−1/(2α)}``: derived here, a heuristic), so where the forcing leads,
``(2α + 2β − 1)/(2α) · (2 − 1/(2α))`` — the product the authors' ``adana-tests`` scripts
use as a learning-rate exponent.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from sparsemom.derivations.limits.power_law_phases import kernel_part_exponent, time_exponent
from sparsemom.numerics.analysis.tuned_lr import tuned_learning_rate
from sparsemom.numerics.inputs import schedules
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.kernels.coupled_horizon import coupled_risk_at
from sparsemom.numerics.kernels.exact_risk import DivergenceWarning, exact_risk
from sparsemom.numerics.studies.scaling.exponent_fit import fit_exponent
from sparsemom.numerics.studies.scaling.exponents import terms_of
from sparsemom.numerics.studies.scaling.loss_curves import (
    TOLERANCE,
    CurveTask,
    PhasePoint,
    build_problem,
    learning_scales,
    learnt_step,
)

#: The methods compared.
METHODS = ("sgd", "sgd-m", "dana-constant", "dana-decaying")
#: SGD-M's dimension-free momentum.
MOMENTUM = 0.9
#: DANA-decaying's ``γ3`` in units of ``η`` at ``t = 0``, and DANA-constant's in units of
#: ``η/d``.
DANA_SCALE = 3.0
#: DANA-constant is fitted from ``t = DANA_CONSTANT_START · d`` on: its momentum adds an
#: effective time ``≍ t²/d`` that leads only once ``t ≳ d``.
DANA_CONSTANT_START = 2.0
#: How each method's base learning rate is set: the authors' rule, or tuned to the least
#: risk at the horizon (:func:`~sparsemom.numerics.analysis.tuned_lr.tuned_learning_rate`)
#: within :data:`TUNING_RANGE` times the rule either way.
LR_RULES = ("rule", "tuned")
TUNING_RANGE = 8.0


def dana_time_power(alpha: float) -> float:
    """``p`` of DANA-decaying's effective time ``t^p``: its accumulated momentum step
    ``Σ_{s≤t} γ3_s/Δ_s`` with ``γ3_s ∝ s^{−1/(2α)}`` and ``1/Δ_s ∝ s`` is ``≍ t^{2 − 1/(2α)}``
    (module docstring; a heuristic)."""
    return 2 - 1 / (2 * alpha)


def dana_time_scale(alpha: float, beta: float) -> float:
    """``δ = 4 + (α + β)/α`` of ``Δ_t = δ/(δ + t)`` (module docstring)."""
    return 4 + (alpha + beta) / alpha


def method_optimizer(method: str, lr: float, point: PhasePoint, d: int,
                     batch: int = 1) -> Optimizer:
    """The optimizer of ``method`` at the base learning rate ``lr`` on ``d`` parameters
    (module docstring)."""
    if method == "sgd":
        return Optimizer("sgd", lr=lr, batch=batch)
    if method == "sgd-m":
        return Optimizer("heavy-ball", lr=(1 - MOMENTUM) * lr, beta=MOMENTUM, batch=batch)
    delta = dana_time_scale(point.alpha, point.beta)
    if method == "dana-constant":
        return Optimizer("dana", lr=lr, g3=DANA_SCALE * lr / d, delta=1.0, batch=batch,
                         schedules={"delta": schedules.power_law(-1.0, delta)})
    if method == "dana-decaying":
        return Optimizer("dana", lr=lr, g3=DANA_SCALE * lr, delta=1.0, batch=batch,
                         schedules=schedules.dana_decaying(point.alpha, delta))
    raise ValueError(f"method must be one of {METHODS}; got {method!r}")


def predicted_time_exponent(method: str, point: PhasePoint,
                            problem: str = "power-law") -> float | None:
    """The predicted decay exponent of the excess risk in the power-law window (module
    docstring), from the problem's derived terms: for SGD and SGD-M the noise-kernel part's
    (:func:`~sparsemom.derivations.limits.power_law_phases.kernel_part_exponent`: the slower
    of the forcing ``(2α + 2β − 1)/(2α)`` and the kernel's own); where the forcing is the
    slower, for DANA-decaying the forcing's times ``2 − 1/(2α)`` and for DANA-constant twice
    the forcing's (its effective time ``t + t²/d``, for ``t ≫ d``: heuristics), else ``None``
    (no prediction where the noise leads, nor for ``4α < 1``)."""
    terms = terms_of(problem)
    a = point.alpha
    forcing = float(time_exponent(terms, "Fpp", point.alpha, point.beta))
    slower = kernel_part_exponent(terms, point.alpha, point.beta)
    if slower is None:          # 4α < 1: no power law of the kernel part
        return None
    slower = float(slower)
    if method in ("sgd", "sgd-m"):
        return slower
    if slower < forcing:
        return None
    return 2 * forcing if method == "dana-constant" else forcing * dana_time_power(a)


@dataclass(frozen=True)
class MethodTask:
    """One method's curve on one problem of size ``d`` to ``steps``."""

    method: str
    problem: str
    point: PhasePoint
    d: int
    steps: int
    batch: int = 1
    seed: int = 0
    lr_rule: str = "rule"

    @property
    def key(self) -> str:
        p = self.point
        return (f"{self.method}-{self.problem}-{p.phase}-a{p.alpha!r}-b{p.beta!r}-d{self.d}"
                f"-t{self.steps}-B{self.batch}-s{self.seed}-{self.lr_rule}")


@dataclass(frozen=True)
class MethodResult:
    """The excess risk ``E R_t − R_∞`` (``inf`` from a divergence on) at ``steps`` (a log grid
    of :data:`GRID` points of the curve), the base learning rate, ``λ_min``, the seconds it
    took, and the floor ``R_∞`` (:attr:`total` adds it back: the loss of a compute-optimal
    frontier)."""

    task: MethodTask
    lr: float
    smallest_eigenvalue: float
    steps: np.ndarray = field(repr=False)
    excess: np.ndarray = field(repr=False)
    seconds: float = 0.0
    floor: float = 0.0

    @property
    def total(self) -> np.ndarray:
        """``E R_t``, the floor included."""
        return self.excess + self.floor


#: DANA's frontier horizon in units of :func:`dana_saturation`: in phase III its curve
#: plunges to the floor at 3–6 of them, and the next size's (``2d``, a floor ``2^{2α+2β−1}``
#: times lower) passes that plateau only at its own plunge, ``≈ 2^{2 + 1/(2 − 1/(2α))}``
#: times later in compute (:func:`frontier_horizon`).
DANA_FRONTIER = 40.0
#: Points kept of each curve, spaced evenly in ``log t``.
GRID = 400
#: Constant hyper-parameters are iterated up to this many steps, and evaluated by the contour
#: integral past it (module docstring): at ``2^22`` steps both take about a second at
#: ``d = 2^10``; at ``10^7`` steps and ``d = 2^12`` iterating SGD takes 20 s, the contour 1 s.
ITERATED_STEPS = 2**22
#: The exponent window: from ``WINDOW_START/η`` steps to ``1/WINDOW_END`` of DANA-decaying's
#: saturation ``(1/(η λ_min))^{1/(2 − 1/(2α))}`` (its effective time reaching the slowest
#: mode), the same window for every method; the curves run to :data:`HORIZON` times that
#: saturation.
WINDOW_START, WINDOW_END, HORIZON = 30.0, 10.0, 3.0


def dana_saturation(lr: float, smallest_eigenvalue: float, alpha: float) -> float:
    """The step at which DANA-decaying's effective time ``t^{2 − 1/(2α)}`` reaches
    ``1/(η λ_min)``."""
    return (1 / (lr * smallest_eigenvalue)) ** (1 / dana_time_power(alpha))


def problem_scales(problem: str, point: PhasePoint, d: int, batch: int = 1,
                   seed: int = 0) -> tuple[float, float]:
    """``(η, λ_min)`` of the problem of size ``d``
    (:func:`~sparsemom.numerics.studies.scaling.loss_curves.learning_scales`)."""
    return learning_scales(build_problem(CurveTask(problem, point, d, batch, seed)), batch)


def horizon(problem: str, point: PhasePoint, d: int, batch: int = 1, seed: int = 0) -> int:
    """The common horizon of the methods' curves on one problem: :data:`HORIZON` times
    DANA-decaying's saturation."""
    lr, smallest = problem_scales(problem, point, d, batch, seed)
    return int(HORIZON * dana_saturation(lr, smallest, point.alpha))


def run_method(task: MethodTask) -> MethodResult:
    """The exact curve of ``task`` (module docstring)."""
    start = time.perf_counter()
    model = build_problem(CurveTask(task.problem, task.point, task.d, task.batch, task.seed))
    lr, smallest = learning_scales(model, task.batch)
    if task.lr_rule == "tuned":
        lr = tuned_learning_rate(model, lambda x: method_optimizer(task.method, x, task.point,
                                                                   task.d, task.batch),
                                 task.steps, (lr / TUNING_RANGE, lr * TUNING_RANGE)).lr
    elif task.lr_rule != "rule":
        raise ValueError(f"lr_rule must be one of {LR_RULES}; got {task.lr_rule!r}")
    optimizer = method_optimizer(task.method, lr, task.point, task.d, task.batch)
    keep = np.unique(np.round(np.logspace(0, np.log10(task.steps), GRID)).astype(np.int64))
    return MethodResult(task, lr, smallest, keep, _excess_at(model, optimizer, keep),
                        time.perf_counter() - start, float(model.risk_floor))


def _excess_at(model, optimizer, keep: np.ndarray) -> np.ndarray:
    """``E R_k − R_∞`` at the increasing steps ``keep`` (module docstring): by the contour
    integral for constant hyper-parameters past :data:`ITERATED_STEPS` steps, else (or when
    the contour does not apply: a row that does not converge, a contour that does not
    settle) iterated, a divergence reported as ``inf``."""
    if not optimizer.scheduled and keep[-1] > ITERATED_STEPS:
        try:
            return coupled_risk_at(model, optimizer, keep, TOLERANCE)
        except ValueError:
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)   # reported as inf, and in the table
        # one thread: a study runs its tasks side by side, one per core
        curve = np.asarray(exact_risk(model, optimizer, int(keep[-1]), threads=1), dtype=float)
    return curve[keep]


def frontier_horizon(method: str, problem: str, point: PhasePoint, d: int, batch: int = 1,
                     seed: int = 0) -> int:
    """The horizon of ``method``'s curve at size ``d`` in a compute-optimal frontier: past the
    bend to the floor, so that compute ``f = d B t`` reaches the optimum of every size. With
    constant hyper-parameters :func:`~sparsemom.numerics.studies.scaling.loss_curves.learnt_step`,
    the end of the SGD curves' grid
    (:func:`~sparsemom.numerics.studies.scaling.loss_curves.horizon_grid`); with scheduled
    ones (DANA) :data:`DANA_FRONTIER` times the step at which DANA-decaying's effective time
    ``t^{2 − 1/(2α)}`` reaches ``1/(η λ_min)`` (:func:`dana_saturation`), which also passes
    DANA-constant's optimum (its effective time ``t + c t²/(2δd)`` is longer from ``t ≳ d``
    on). DANA-decaying's curve keeps falling slowly past its bend (its noise shrinks with
    ``γ3_t``), so the frontier keeps only the compute where no size's curve has ended below
    it (:func:`~sparsemom.numerics.studies.scaling.frontier.compute_frontier`)."""
    return _frontier_steps(method, *problem_scales(problem, point, d, batch, seed), point, d,
                           batch)


def _frontier_steps(method: str, lr: float, smallest: float, point: PhasePoint, d: int,
                    batch: int) -> int:
    """:func:`frontier_horizon` from the problem's ``(η, λ_min)``."""
    if method_optimizer(method, lr, point, d, batch).scheduled:
        if not 4 * point.alpha > 1:
            raise ValueError(f"point.alpha must be > 1/4 for DANA's effective time "
                             f"t^(2 - 1/(2α)) to grow; got {point.alpha!r}")
        return int(np.ceil(DANA_FRONTIER * dana_saturation(lr, smallest, point.alpha)))
    return int(np.ceil(learnt_step(lr, smallest)))


def frontier_tasks(problem: str, points, dims, batch: int = 1, seed: int = 0,
                   methods=METHODS) -> list[MethodTask]:
    """Every ``(method, point, d)`` curve of the methods' frontiers at the authors' learning
    rate, each to its :func:`frontier_horizon`, largest ``d`` first (the longest tasks start
    first on a pool; each problem is built once, for all the methods)."""
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise ValueError(f"methods must be among {METHODS}; got {list(methods)!r}")
    if len(set(dims)) < 3 or min(dims) < 1:
        raise ValueError(f"dims must hold at least 3 distinct sizes >= 1 for a frontier; got "
                         f"{list(dims)!r}")
    tasks = []
    for d in sorted(set(dims), reverse=True):
        for p in points:
            scales = problem_scales(problem, p, d, batch, seed)   # one problem per size
            tasks += [MethodTask(m, problem, p, d,
                                 _frontier_steps(m, *scales, p, d, batch), batch, seed)
                      for m in methods]
    return tasks


@dataclass(frozen=True)
class MethodRow:
    """A method's time exponent at one phase point: predicted and measured ± window error on
    the steps ``[window_lo, window_hi]``, and SGD's on the same window (``sgd_measured``)."""

    method: str
    problem: str
    phase: str
    alpha: float
    beta: float
    d: int
    predicted: float | None
    measured: float | None
    error: float | None
    window_lo: float
    window_hi: float
    diverged: bool
    sgd_measured: float | None = None


def method_rows(results) -> list[MethodRow]:
    """One :class:`MethodRow` per result, fitted on the window common to the methods of its
    problem, point and size (the narrowest, when their learning rates differ)."""
    windows: dict = {}
    for r in results:
        t = r.task
        key = (t.problem, t.point, t.d, t.batch, t.seed)
        lo = WINDOW_START / r.lr
        hi = dana_saturation(r.lr, r.smallest_eigenvalue, t.point.alpha) / WINDOW_END
        old = windows.get(key, (0.0, np.inf))
        windows[key] = (max(old[0], lo), min(old[1], hi))
    sgd = {(r.task.problem, r.task.point, r.task.d, r.task.batch, r.task.seed): r
           for r in results if r.task.method == "sgd"}
    rows = []
    for r in results:
        t = r.task
        key = (t.problem, t.point, t.d, t.batch, t.seed)
        lo, hi = windows[key]
        if t.method == "dana-constant":     # its own regime: t ≳ d, to the common horizon
            lo, hi = DANA_CONSTANT_START * t.d, t.steps / HORIZON
        measured, error = _fitted(r, lo, hi)
        baseline = _fitted(sgd[key], lo, hi)[0] if key in sgd else None
        rows.append(MethodRow(t.method, t.problem, t.point.phase, t.point.alpha, t.point.beta,
                              t.d, predicted_time_exponent(t.method, t.point, t.problem), measured,
                              error,
                              lo, hi, not np.isfinite(r.excess).all(), baseline))
    return rows


def _fitted(result, lo: float, hi: float) -> tuple:
    """``(exponent, error)`` of the result's excess risk on ``[lo, hi]``, ``(None, None)``
    when the window cannot be fitted."""
    try:
        fit = fit_exponent(result.steps, result.excess, (lo, hi))
    except ValueError:
        return None, None
    return fit.exponent, fit.error


def local_exponents(steps: np.ndarray, excess: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``−d log P / d log t`` between consecutive points of the log grid, at their geometric
    midpoints."""
    keep = (steps > 0) & np.isfinite(excess) & (excess > 0)
    lt, lp = np.log(steps[keep]), np.log(excess[keep])
    return np.exp((lt[1:] + lt[:-1]) / 2), -np.diff(lp) / np.diff(lt)


def method_rows_markdown(rows) -> str:
    """The rows as a Markdown table."""
    lines = ["| phase (α, β) | method | predicted | measured | SGD on its window | window | d |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.diverged:
            measured = "diverged"
        elif r.measured is None:
            measured = ("empty window" if r.window_lo >= r.window_hi
                        else "too few points in the window")
        else:
            measured = f"{r.measured:.3f} ± {r.error:.3f}"
        predicted = "—" if r.predicted is None else f"{r.predicted:.3f}"
        baseline = "—" if r.sgd_measured is None else f"{r.sgd_measured:.3f}"
        lines.append(f"| {r.phase} ({r.alpha:g}, {r.beta:g}) | {r.method} | "
                     f"{predicted} | {measured} | {baseline} | "
                     f"t ∈ [{r.window_lo:.3g}, {r.window_hi:.3g}] | {r.d} |")
    return "\n".join(lines)
