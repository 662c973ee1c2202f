"""Monte Carlo simulation of SGD with momentum on sampled data (dense reference).

Simulates the stochastic process of docs/model.md — never the moment recursion: each
step draws, per run and row, ``B`` Bernoulli(p) masks, Gaussian inputs
``x ~ N(0, I_d)`` and label noise ``ξ ~ N(0, s²)``, forms the batch-mean gradient
``g = (1/B) Σ_b G_b`` (the model's per-sample gradient, :mod:`numerics.simulate.data_law`) and applies the optimizer's update
rule.  Rows of a token stream are simulated with independent masks; their
expected risk only depends on each row's own law, so it matches a stream whose
samples carry one token each.  Cost: O(runs · B · rows · d) per step.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from derivations import symbols as S
from derivations.moments import R0, TIME_RULES
from derivations.optimizers import e
from derivations.recursion import recursion_for
from numerics.inputs.initial_state import default_moments, initial_moments, state_vectors
from numerics.inputs.parameters import parameter_values
from numerics.inputs.seeds import check_seed, seed_label, seed_sequence
from numerics.inputs.validation import check_integer
from numerics.results.labelled import Labelled, problem_metadata
from numerics.runtime.progress import progress
from numerics.simulate.data_law import active_probability, gradient_coefficient, risk_function
from numerics.simulate.update import apply_update

#: Runs simulated together; fixed so results depend on ``seed`` only.
RUNS_PER_BLOCK = 1024


@dataclass(frozen=True)
class MonteCarloResult(Labelled):
    """Risk statistics over runs: ``mean[k]``, ``stderr[k]`` for ``k = 0..steps``.

    ``diverged`` counts runs whose risk overflowed (excluded from the mean);
    ``trajectories`` (runs × steps+1) is kept on request; ``metadata`` holds the
    parameters, the simulator, the seed and the counts (``to_dataframe()``: one line per
    step with ``mean`` and ``stderr``).
    """

    mean: np.ndarray
    stderr: np.ndarray
    runs: int
    diverged: int
    trajectories: np.ndarray | None = None
    metadata: dict = field(default_factory=dict)

    def columns(self) -> dict[str, np.ndarray]:
        return {"step": np.arange(self.mean.size), "mean": self.mean, "stderr": self.stderr}


def simulate_in_blocks(runs: int, steps: int, seed: np.random.SeedSequence,
                       simulate_block) -> np.ndarray:
    """Risk trajectories (runs × steps+1): ``simulate_block(n, rng)`` for blocks of
    :data:`RUNS_PER_BLOCK` runs, each with its own ``SeedSequence`` spawned from ``seed``."""
    blocks = -(-runs // RUNS_PER_BLOCK)
    risk = np.empty((runs, steps + 1))
    streams = seed.spawn(blocks)
    for i, stream in enumerate(progress(streams, desc="Monte Carlo", unit="block",
                                         disable=blocks < 4)):
        lo, hi = i * RUNS_PER_BLOCK, min(runs, (i + 1) * RUNS_PER_BLOCK)
        risk[lo:hi] = simulate_block(hi - lo, np.random.default_rng(stream))
    return risk


def simulation_metadata(model, optimizer, simulator: str, seed: np.random.SeedSequence,
                        time: str, iterate: str) -> dict:
    """What produced a Monte Carlo result, as table metadata."""
    return {**problem_metadata(model, optimizer), "simulator": simulator,
            "seed": seed_label(seed),
            "time": time, "iterate": iterate}


def summarise(risk: np.ndarray, keep_trajectories: bool,
              metadata: dict | None = None) -> MonteCarloResult:
    """Mean and standard error over the runs that stayed finite; the others are
    counted as diverged (with a warning), never averaged in."""
    runs, width = risk.shape
    finite = np.all(np.isfinite(risk), axis=1)
    diverged = int(runs - finite.sum())
    if diverged:
        warnings.warn(f"{diverged} of {runs} runs overflowed and are excluded from the mean",
                      RuntimeWarning, stacklevel=3)
    kept = risk[finite]
    n = kept.shape[0]
    with np.errstate(over="ignore"):  # huge but finite runs: the spread is inf, honestly
        mean = kept.mean(axis=0) if n else np.full(width, np.inf)
        stderr = kept.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(width, np.inf)
    meta = {**(metadata or {}), "runs": runs, "diverged": diverged}
    return MonteCarloResult(mean, stderr, runs, diverged, risk if keep_trajectories else None,
                            meta)


def monte_carlo_risk(model, optimizer, steps: int, runs: int, seed,
                     keep_trajectories: bool = False, time: str = "steps",
                     initial_state: dict | None = None, iterate: str = "e") -> MonteCarloResult:
    """Simulate ``runs`` independent trajectories and average the risk ``½ Σ p ‖e‖²``.

    ``time="steps"`` records the risk after every step; ``time="active"`` records
    each row's risk after its ``k``-th active step (a step whose batch holds the
    row's token), simulating until every row of every run has ``steps`` of them.
    Schedules of the optimizer are sampled as they are iterated exactly: step ``k``
    uses the scheduled values of step ``k`` (time ``"steps"`` only).
    ``seed``: an integer ``≥ 0``, a ``numpy.random.SeedSequence`` or a
    ``numpy.random.Generator`` (:mod:`numerics.inputs.seeds`).
    ``initial_state`` gives initial second moments of the buffers, as for
    :func:`~numerics.kernels.exact_risk.exact_risk`: every run starts from vectors
    with exactly those inner products.  ``iterate`` names the state vector whose risk is
    recorded (``"e"``: ``θ_k``; ``"ebar"``: an averaged iterate).
    """
    steps = check_integer("steps", steps, minimum=0)
    if time not in TIME_RULES:  # the time rules of the derivations
        raise ValueError(f"time must be one of {', '.join(map(repr, TIME_RULES))}; got {time!r}")
    runs = check_integer("runs", runs, minimum=2)
    seed = check_seed(seed)
    rows, values = parameter_values(model, optimizer)
    if optimizer.scheduled and time != "steps":
        raise ValueError(f"time must be 'steps' for a scheduled optimizer; got {time!r}")
    multipliers = optimizer.multipliers(steps)
    observed = optimizer.rule.vector(iterate)
    start = None
    if initial_state:
        rec = recursion_for(model, optimizer, time)
        moments = initial_moments(rec, initial_state, rows, values[R0])
        start = state_vectors(rec, {**default_moments(rec, values[R0]), **moments}, rows, model.d)
    per_row = {s: np.broadcast_to(np.asarray(values[s], dtype=float), (rows,))
               for s in (S.p, R0, *optimizer.values)}
    _warn_if_long(model, runs, optimizer.batch, rows, steps, per_row[S.p], time == "active")
    seed = seed_sequence(seed)
    risk = simulate_in_blocks(runs, steps, seed, lambda n, rng: _simulate_block(
        model, optimizer, per_row, multipliers, start, observed, rows, steps, n, rng,
        time == "active"))
    return summarise(risk, keep_trajectories,
                     simulation_metadata(model, optimizer, "dense", seed, time, iterate))


class LongSimulationWarning(RuntimeWarning):
    """The dense simulation will sample very many values (minutes or more)."""


#: Sampled values (masks, inputs, noise) above which a dense simulation warns:
#: about half a minute at the ~3·10⁷ values/s the dense simulator reaches.
LONG_SIMULATION = 10**9


def _warn_if_long(model, runs, batch, rows, steps, p, active_time) -> None:
    """Estimate the work up front: per step ``runs·B·rows·(d + 2)`` sampled values; with
    active time the slowest row needs about ``steps / p_B`` steps (the law's active
    probability, ``p_B = 1 − (1 − p)^B`` for least squares)."""
    p_b = float(active_probability(model.name)(np.min(p), batch))
    expected_steps = steps / p_b if active_time else steps
    work = float(runs) * batch * rows * (model.d + 2) * expected_steps
    if work > LONG_SIMULATION:
        warnings.warn(
            f"this dense simulation needs about {expected_steps:.3g} steps and {work:.2g} sampled "
            f"values (minutes to hours); for rare tokens use "
            "numerics.simulate.sparse.sparse_monte_carlo_risk, whose cost per step is the "
            "tokens in the batch", LongSimulationWarning, stacklevel=3)


def _simulate_block(model, optimizer, per_row, multipliers, start, observed, rows, steps, n,
                    rng, active_time) -> np.ndarray:
    d, B = model.d, optimizer.batch
    p = per_row[S.p][None, :, None]
    base = {s: per_row[s][None, :, None] for s in optimizer.values}
    noise_sd = float(np.sqrt(float(model.sigma2)))
    rule = optimizer.rule
    if start is None:
        # e_0: any vector of norm² R0 (the law is rotation invariant); buffers at 0, or
        # at e_0 for those that start there (an averaged iterate).
        state = {u: np.zeros((n, rows, d)) for u in rule.state}
        state[e][:, :, 0] = np.sqrt(per_row[R0])
        for u in rule.start_equal_to_error:
            state[u] = state[e].copy()
    else:
        state = {u: np.broadcast_to(x, (n, rows, d)).copy() for u, x in zip(rule.state, start)}
    error = state[e]
    risk_of = risk_function(model.name)
    gradient_coefficient_of = gradient_coefficient(model.name)
    row_risk = np.zeros((n, rows, steps + 1))      # risk of each row at its k-th record
    row_risk[:, :, 0] = risk_of(per_row[S.p], np.sum(state[observed]**2, axis=2))
    recorded = np.zeros((n, rows), dtype=np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        t = 0
        while recorded.min() < steps:
            values = {s: x * float(multipliers[s][t]) if s in multipliers else x
                      for s, x in base.items()}
            t += 1
            mask = rng.random((n, B, rows, 1)) < p[:, None]
            x = rng.standard_normal((n, B, rows, d))
            xi = noise_sd * rng.standard_normal((n, B, rows, 1))
            projection = np.sum(x * error[:, None], axis=3, keepdims=True)
            grad = np.mean(gradient_coefficient_of(mask, xi, projection) * x, axis=1)
            active = np.any(mask, axis=1).astype(float)
            state = apply_update(optimizer.name, state, grad, values, active)
            error = state[e]
            record = (active[:, :, 0] > 0) if active_time else np.ones((n, rows), dtype=bool)
            record &= recorded < steps
            recorded += record
            runs_idx, rows_idx = np.nonzero(record)
            row_risk[runs_idx, rows_idx, recorded[runs_idx, rows_idx]] = risk_of(
                per_row[S.p][rows_idx], np.sum(state[observed][runs_idx, rows_idx] ** 2, axis=1))
    return row_risk.sum(axis=1)
