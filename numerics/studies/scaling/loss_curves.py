"""Exact SGD loss curves over a family of model sizes, one ``(α, β)`` point per phase.

Each task is a pure function of its parameters (:class:`CurveTask` → :class:`CurveResult`),
so a study is a map over tasks on a process pool or a Dask cluster. A task builds the
problem at size ``d`` — the truncated power law (``power_law_covariance(α, β, d,
v=inf)``: the first ``d`` coordinates of an infinite power-law population, the rest of the
target label noise) or power-law random features (``PowerLawRandomFeatures(α, β, 4d, d)``)
— and evaluates its exact risk split into parts
(:func:`~sparsemom.numerics.studies.scaling.risk_parts.risk_parts`) on a log grid of steps
up to ``10/(η λ_min)``, ten times what the slowest mode needs.

The learning rate is the authors' rule (their ``get_optim_hparams``, public repository
``LosVolterrosHermanos/Experimental``, ``colabs/DANA_ODE_example.ipynb``):
``η = 0.375 min(2/(B + 1), 1/tr K)``, with ``tr K = Σ_j λ_j`` of the problem at hand
(theirs sums ``j^{−2α}`` over the population; for random features
``E tr(WᵀDW) = tr D``): dimension-free above the high-dimensional line ``2α > 1``,
``∝ d^{2α−1}`` below it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from sparsemom.derivations.definitions.covariance import eigenvalue
from sparsemom.derivations.limits.power_law_phases import PHASES
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.inputs.spectra import (
    MODE_BYTES,
    PowerLawRandomFeatures,
    power_law_covariance,
    random_features_bytes,
)
from sparsemom.numerics.studies.scaling.risk_parts import PARTS, risk_parts

#: The problems a study can run.
PROBLEMS = ("power-law", "random-features")
#: Data dimension per feature of the random-features problems (the authors' ``V = 4D``).
FEATURE_RATIO = 4
#: Points of the log grid of steps per curve.
HORIZONS = 48
#: The grid ends at this many times ``1/(η λ_min)``.
SATURATION = 10.0
#: The contour integrals' relative agreement: far below what a log-log fit resolves, and
#: above the rounding of late, small risks (``1e-7`` of ``E R_0``) that the default 1e-8
#: refuses.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class PhasePoint:
    """A point ``(α, β)`` standing for ``phase``."""

    phase: str
    alpha: float
    beta: float


#: One point per phase of :data:`~sparsemom.derivations.limits.power_law_phases.PHASES`,
#: its sample (away from the boundaries).
PHASE_POINTS = tuple(PhasePoint(p.name, float(p.sample[0]), float(p.sample[1])) for p in PHASES)


@dataclass(frozen=True)
class CurveTask:
    """Everything one curve depends on."""

    problem: str
    point: PhasePoint
    d: int
    batch: int = 1
    seed: int = 0
    horizons: int = HORIZONS

    @property
    def key(self) -> str:
        """A name unique to the task's parameters (the key of its cached result; ``α, β`` in
        full, as ``repr`` writes a float: a NumPy float is written as the float it is)."""
        p = self.point
        return (f"{self.problem}-{p.phase}-a{float(p.alpha)!r}-b{float(p.beta)!r}-d{self.d}"
                f"-B{self.batch}-s{self.seed}-h{self.horizons}")


@dataclass(frozen=True)
class CurveResult:
    """The parts of one exact curve (:class:`~sparsemom.numerics.studies.scaling.risk_parts.RiskParts`
    as arrays, with the forcing's components as ``forcing_<component>`` where the problem has
    them), its learning rate, the problem's smallest eigenvalue ``λ_min``, and the seconds it
    took."""

    task: CurveTask
    lr: float
    smallest_eigenvalue: float
    steps: np.ndarray
    parts: dict = field(repr=False)
    seconds: float = 0.0

    @property
    def total(self) -> np.ndarray:
        """``E R_k`` with the floor."""
        return sum(self.parts[name] for name in PARTS)


def build_problem(task: CurveTask):
    """The problem of ``task`` at its size (module docstring)."""
    p = task.point
    if task.problem == "power-law":
        return power_law_covariance(p.alpha, p.beta, task.d, v=math.inf)
    if task.problem == "random-features":
        return PowerLawRandomFeatures(p.alpha, p.beta, FEATURE_RATIO * task.d, task.d,
                                      seed=task.seed)
    raise ValueError(f"problem must be one of {PROBLEMS}; got {task.problem!r}")


def problem_bytes(task: CurveTask) -> int:
    """Bytes that building the problem of ``task`` needs (:func:`build_problem`)."""
    if task.problem == "random-features":
        return random_features_bytes(FEATURE_RATIO * task.d, task.d)
    return MODE_BYTES * task.d


def learning_rate(model, batch: int) -> float:
    """``0.375 min(2/(B + 1), 1/tr K)`` (module docstring)."""
    trace = float(np.sum(model.values[eigenvalue])) * model.d
    return 0.375 * min(2 / (batch + 1), 1 / trace)


def learning_scales(model, batch: int) -> tuple[float, float]:
    """``(η, λ_min)``: the authors' learning rate (:func:`learning_rate`) and the problem's
    smallest eigenvalue, which set every horizon of the studies."""
    return learning_rate(model, batch), float(np.min(model.values[eigenvalue]))


def learnt_step(lr: float, smallest_eigenvalue: float) -> float:
    """``SATURATION/(η λ_min)``: :data:`SATURATION` times the steps the slowest mode needs."""
    return SATURATION / (lr * smallest_eigenvalue)


def horizon_grid(lr: float, smallest_eigenvalue: float, points: int) -> np.ndarray:
    """``0`` and ``points`` distinct steps spaced evenly in ``log k`` from 1 to
    :func:`learnt_step`."""
    last = learnt_step(lr, smallest_eigenvalue)
    grid = np.unique(np.round(np.logspace(0, math.log10(max(last, 10.0)), points)))
    return np.concatenate([[0], grid.astype(np.int64)])


def run_curve(task: CurveTask) -> CurveResult:
    """The exact parts of ``task``'s curve under SGD (module docstring)."""
    start = time.perf_counter()
    model = build_problem(task)
    lr, smallest = learning_scales(model, task.batch)
    steps = horizon_grid(lr, smallest, task.horizons)
    parts = risk_parts(model, Optimizer("sgd", lr=lr, batch=task.batch), steps, TOLERANCE)
    arrays = {name: np.array(parts.part(name)) for name in PARTS}
    arrays.update({f"forcing_{name}": values for name, values in parts.forcing_split.items()})
    return CurveResult(task, lr, smallest, steps, arrays, time.perf_counter() - start)


def by_point(results) -> dict:
    """The results grouped by (problem, phase point), in the order they first appear, each
    group sorted by ``d``."""
    groups: dict = {}
    for r in results:
        groups.setdefault((r.task.problem, r.task.point), []).append(r)
    return {key: sorted(group, key=lambda r: r.task.d) for key, group in groups.items()}


def curve_tasks(problem: str, points=PHASE_POINTS, dims=tuple(2 ** k for k in range(6, 15)),
                batch: int = 1, seed: int = 0, horizons: int = HORIZONS) -> list[CurveTask]:
    """Every ``(point, d)`` task of a study, largest ``d`` first (the longest tasks start
    first on a pool)."""
    if problem not in PROBLEMS:
        raise ValueError(f"problem must be one of {PROBLEMS}; got {problem!r}")
    return [CurveTask(problem, p, d, batch, seed, horizons)
            for d in sorted(dims, reverse=True) for p in points]
