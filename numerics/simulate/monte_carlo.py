"""Monte Carlo simulation of SGD with momentum on sampled data (dense reference).

Simulates the stochastic process of docs/model.md — never the moment recursion: each
step draws, per run and row, ``B`` samples of the model's data law (every ingredient it
declares: token mask, other masks, noise, vectors; :mod:`sparsemom.numerics.simulate.data_law`),
forms the batch-mean gradient ``g = (1/B) Σ_b G_b`` (the law's per-sample gradient) and
applies the optimizer's update rule; the step is active for a row when a sample holds its
token (always, for a law without a token mask).  Rows of a token stream are simulated with
independent samples; their expected risk only depends on each row's own law, so it
matches a stream whose samples carry one token each.  Cost: O(runs · B · rows · d) per
step.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from sparsemom.derivations.definitions.optimizers import e
from sparsemom.derivations.engine.moments import R0, TIME_RULES
from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.numerics.inputs.initial_state import default_moments, initial_moments, state_vectors
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.inputs.seeds import check_seed, seed_label, seed_sequence
from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.results.labelled import Labelled, problem_metadata
from sparsemom.numerics.runtime.progress import progress
from sparsemom.numerics.simulate.data_law import law_sampler
from sparsemom.numerics.simulate.update import apply_update

#: Runs simulated together; fixed so results depend on ``seed`` only.
RUNS_PER_BLOCK = 1024


@dataclass(frozen=True, repr=False)   # Labelled's one-line repr
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
    """Simulate ``runs`` independent trajectories and average the risk ``Σ_i w_i ‖e_i‖²``
    (the law's risk; ``½ Σ p ‖e‖²`` for least squares).

    ``time="steps"`` records the risk after every step; ``time="active"`` records
    each row's risk after its ``k``-th active step (a step whose batch holds the
    row's token; every step for a law without a token mask), simulating until every row
    of every run has ``steps`` of them.
    Schedules of the optimizer are sampled as they are iterated exactly: step ``k``
    uses the scheduled values of step ``k`` (time ``"steps"`` only).
    ``seed``: an integer ``≥ 0``, a ``numpy.random.SeedSequence`` or a
    ``numpy.random.Generator`` (:mod:`sparsemom.numerics.inputs.seeds`).
    ``initial_state`` gives initial second moments of the buffers, as for
    :func:`~sparsemom.numerics.kernels.exact_risk.exact_risk`: every run starts from vectors
    with exactly those inner products.  ``iterate`` names the state vector whose risk is
    recorded (``"e"``: ``θ_k``; ``"ebar"``: an averaged iterate).
    """
    steps = check_integer("steps", steps, minimum=0)
    if time not in TIME_RULES:  # the time rules of the derivations
        raise ValueError(f"time must be one of {', '.join(map(repr, TIME_RULES))}; got {time!r}")
    runs = check_integer("runs", runs, minimum=2)
    seed = check_seed(seed)
    rows, values = parameter_values(model, optimizer)
    sampler = law_sampler(model, optimizer.batch, rows)
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
               for s in (R0, *optimizer.values)}
    _warn_if_long(sampler, runs, steps, time == "active")
    seed = seed_sequence(seed)
    risk = simulate_in_blocks(runs, steps, seed, lambda n, rng: _simulate_block(
        sampler, optimizer, per_row, multipliers, start, observed, steps, n, rng,
        time == "active"))
    return summarise(risk, keep_trajectories,
                     simulation_metadata(model, optimizer, "dense", seed, time, iterate))


class LongSimulationWarning(RuntimeWarning):
    """The dense simulation will sample very many values (minutes or more)."""


#: Sampled values (masks, inputs, noise) above which a dense simulation warns:
#: about half a minute at the ~3·10⁷ values/s the dense simulator reaches.
LONG_SIMULATION = 10**9


def _warn_if_long(sampler, runs, steps, active_time) -> None:
    """Estimate the work up front: per step ``runs·B·rows`` samples of the law's values
    (``d + 2`` for least squares); with active time the slowest row needs about
    ``steps / p_B`` steps (the law's active probability)."""
    p_b = float(np.min(sampler.active_probability()))
    expected_steps = steps / p_b if active_time else steps
    work = float(runs) * sampler.batch * sampler.rows * sampler.values_per_sample * expected_steps
    if work > LONG_SIMULATION:
        warnings.warn(
            f"this dense simulation needs about {expected_steps:.3g} steps and {work:.2g} sampled "
            f"values (minutes to hours); for rare tokens use "
            "sparsemom.numerics.simulate.sparse.sparse_monte_carlo_risk, whose cost per step is the "
            "tokens in the batch", LongSimulationWarning, stacklevel=3)


def _simulate_block(sampler, optimizer, per_row, multipliers, start, observed, steps, n, rng,
                    active_time) -> np.ndarray:
    d, B, rows = sampler.d, sampler.batch, sampler.rows
    base = {s: per_row[s][None, :, None] for s in optimizer.values}
    rule = optimizer.rule
    if start is None:
        # e_0 = (√R0, 0, …): the recursion knows e_0 by ‖e_0‖² only; buffers at 0, or
        # at e_0 for those that start there (an averaged iterate).
        state = {u: np.zeros((n, rows, d)) for u in rule.state}
        state[e][:, :, 0] = np.sqrt(per_row[R0])
        for u in rule.start_equal_to_error:
            state[u] = state[e].copy()
    else:
        state = {u: np.broadcast_to(x, (n, rows, d)).copy() for u, x in zip(rule.state, start)}
    error = state[e]
    weights = sampler.risk_weights
    token = sampler.numeric.token
    row_risk = np.zeros((n, rows, steps + 1))      # risk of each row at its k-th record
    row_risk[:, :, 0] = weights * np.sum(state[observed]**2, axis=2)
    recorded = np.zeros((n, rows), dtype=np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        t = 0
        while recorded.min() < steps:
            values = {s: x * float(multipliers[s][t]) if s in multipliers else x
                      for s, x in base.items()}
            t += 1
            samples = sampler.draw(rng, (n, B, rows))
            grad = np.mean(sampler.gradient(samples, error[:, None]), axis=1)
            active = np.any(samples[token], axis=1).astype(float) if token is not None else 1.0
            state = apply_update(optimizer.name, state, grad, values, active)
            error = state[e]
            record = (active[:, :, 0] > 0) if active_time and token is not None \
                else np.ones((n, rows), dtype=bool)
            record &= recorded < steps
            recorded += record
            runs_idx, rows_idx = np.nonzero(record)
            row_risk[runs_idx, rows_idx, recorded[runs_idx, rows_idx]] = weights[rows_idx] * \
                np.sum(state[observed][runs_idx, rows_idx] ** 2, axis=1)
    return row_risk.sum(axis=1)
