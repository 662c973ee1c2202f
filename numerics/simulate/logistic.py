"""Monte Carlo of SGD with momentum on sampled rare-class data (model M2), at finite d.

Each step draws, per run, ``B`` labels ``y ~ Bernoulli(p)`` and inputs
``x = y μ + z``, ``z ~ N(0, I_d)`` (``μ = ρ e_1``), forms the batch-mean
cross-entropy gradient ``g = (1/B) Σ_b (σ(⟨θ, x_b⟩ + b*) − y_b) x_b`` and applies the
optimizer's update rule (:mod:`sparsemom.numerics.simulate.update`, from its symbolic definition).
The statistics ``(s, u, R⊥, C⊥, V⊥)`` of every run are recorded on a grid of steps;
the risks follow from ``(s, R⊥)`` exactly (the population loss depends on ``θ``
only through them), with the same functional as the prediction.
Cost: O(runs · B · d) per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from sparsemom.numerics.inputs.seeds import check_seed, seed_label, seed_sequence
from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.kernels.statistics_map import initial_state, parameter_tuple, risks_of
from sparsemom.numerics.results.labelled import Labelled, problem_metadata
from sparsemom.numerics.runtime.progress import progress
from sparsemom.numerics.simulate.update import apply_update

NAMES = ("s", "u", "R_perp", "C_perp", "V_perp")


@dataclass(frozen=True, repr=False)   # Labelled's one-line repr
class LogisticMonteCarlo(Labelled):
    """Per-run statistics ``runs × len(steps) × 5`` (``NAMES``) and risks at ``steps``;
    ``metadata`` holds the parameters, the seed and the runs (``to_dataframe()``: one line
    per run and recorded step with every statistic and risk)."""

    steps: np.ndarray
    statistics: np.ndarray
    risks: dict
    metadata: dict = field(default_factory=dict)

    def statistic(self, name: str) -> np.ndarray:
        return self.statistics[:, :, NAMES.index(name)]

    def columns(self) -> dict[str, np.ndarray]:
        runs, width = self.statistics.shape[:2]
        out = {"run": np.repeat(np.arange(runs), width), "step": np.tile(self.steps, runs)}
        out.update({name: self.statistics[:, :, i].ravel() for i, name in enumerate(NAMES)})
        out.update({name: np.asarray(values).ravel() for name, values in self.risks.items()})
        return out


def monte_carlo_logistic(model, optimizer, steps: int, runs: int, seed,
                         record_every: int = 1) -> LogisticMonteCarlo:
    """Simulate ``runs`` independent SGD-M trajectories for ``steps`` steps; ``seed``: an
    integer ``≥ 0``, a ``SeedSequence`` or a ``Generator`` (:mod:`sparsemom.numerics.inputs.seeds`)."""
    steps = check_integer("steps", steps, minimum=0)
    runs = check_integer("runs", runs, minimum=1)
    seed = check_seed(seed)
    record_every = check_integer("record_every", record_every, minimum=1)
    _, _, _, _, p, rho, bias = parameter_tuple(model, optimizer)
    d, B = model.d, optimizer.batch
    seed = seed_sequence(seed)
    rng = np.random.default_rng(seed)
    # e_0 = θ_0 − μ: signal error s0 along e_1, bulk energy R0 along e_2.
    start = dict(zip(NAMES, initial_state(model, NAMES)))
    error = np.zeros((runs, d))
    error[:, 0] = start["s"]
    error[:, 1] = np.sqrt(start["R_perp"])
    buffer = np.zeros_like(error) if optimizer.rule.has_momentum else None
    grid = np.arange(0, steps + 1, record_every)
    record = np.empty((runs, grid.size, len(NAMES)))
    record[:, 0] = _statistics(error, buffer)
    mu = np.zeros(d)
    mu[0] = rho
    slot = 1
    with np.errstate(over="ignore", invalid="ignore"):
        for k in progress(range(1, steps + 1), desc="logistic Monte Carlo", unit="step",
                          disable=steps * runs * d < 5e8):
            grad = sampled_gradient(rng, error, mu, p, bias, B)
            error, buffer = _step(optimizer, error, buffer, grad)
            if slot < grid.size and k == grid[slot]:
                record[:, slot] = _statistics(error, buffer)
                slot += 1
    s, R = record[:, :, 0], record[:, :, 2]
    metadata = {**problem_metadata(model, optimizer), "simulator": "logistic",
                "seed": seed_label(seed),
                "runs": runs}
    return LogisticMonteCarlo(grid, record, risks_of(model, optimizer, s, R), metadata)


def sampled_gradient(rng, error: np.ndarray, mu: np.ndarray, p: float, bias: float,
                     batch: int) -> np.ndarray:
    """Batch-mean cross-entropy gradient at ``θ = μ + e`` for each row of ``error``."""
    runs, d = error.shape
    labels = (rng.random((runs, batch)) < p).astype(float)
    x = rng.standard_normal((runs, batch, d))
    x += labels[:, :, None] * mu
    logits = np.einsum("rbd,rd->rb", x, error + mu) + bias
    residual = expit(logits) - labels
    return np.einsum("rb,rbd->rd", residual, x) / batch


def one_step_statistics(model, optimizer, error: np.ndarray, buffer: np.ndarray | None,
                        draws: int, seed) -> np.ndarray:
    """Statistics after one step from the fixed iterate ``(e, v)``, for ``draws``
    independent batches (``draws × 5``): samples of ``X_1`` given ``X_0``."""
    draws = check_integer("draws", draws, minimum=2)
    seed = check_seed(seed)
    _, _, _, _, p, rho, bias = parameter_tuple(model, optimizer)
    if error.shape != (model.d,):
        raise ValueError(f"error must have shape ({model.d},); got {error.shape}")
    mu = np.zeros(model.d)
    mu[0] = rho
    rng = np.random.default_rng(seed_sequence(seed))
    e = np.broadcast_to(error, (draws, model.d)).copy()
    v = None if buffer is None else np.broadcast_to(buffer, (draws, model.d)).copy()
    grad = sampled_gradient(rng, e, mu, p, bias, optimizer.batch)
    e, v = _step(optimizer, e, v, grad)
    return _statistics(e, v)


def _step(optimizer, error: np.ndarray, buffer: np.ndarray | None, grad: np.ndarray):
    """One update of ``(e, v)`` (every step active: dense gradients)."""
    rule = optimizer.rule
    state = dict(zip(rule.state, (error, buffer)))
    values = {s: float(x) for s, x in optimizer.values.items()}
    new = apply_update(optimizer.name, state, grad, values, 1.0)
    return new[rule.state[0]], (new[rule.buffers[0]] if rule.has_momentum else None)


def statistics_of(error: np.ndarray, buffer: np.ndarray | None) -> np.ndarray:
    """``(s, u, R⊥, C⊥, V⊥)`` of one iterate (``μ̂ = e_1``)."""
    return _statistics(error[None, :], None if buffer is None else buffer[None, :])[0]


def _statistics(error: np.ndarray, buffer: np.ndarray | None) -> np.ndarray:
    """``(s, u, R⊥, C⊥, V⊥)`` of each run (``u = C⊥ = V⊥ = 0`` without a buffer)."""
    out = np.zeros((error.shape[0], len(NAMES)))
    out[:, 0] = error[:, 0]
    out[:, 2] = np.sum(error[:, 1:] ** 2, axis=1)
    if buffer is not None:
        out[:, 1] = buffer[:, 0]
        out[:, 3] = np.sum(error[:, 1:] * buffer[:, 1:], axis=1)
        out[:, 4] = np.sum(buffer[:, 1:] ** 2, axis=1)
    return out
