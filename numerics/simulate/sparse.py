"""Sparse-aware Monte Carlo for token streams: cost per step ∝ tokens in the batch.

Each sample carries one token: row ``i`` with probability ``p_i`` (or none, with
probability ``1 − Σ p_i``), drawn directly.  A row that is not in the batch is
idle: its gradient is 0, and its state moves by the derived idle map
(:func:`derivations.idle.idle_stretch`).  Rows keep the step they were last
touched; when touched again, ``M_0^n`` catches them up over the ``n`` idle steps
in one jump, then the active update is applied.  The risk ``Σ_i ½ p_i ‖e_i‖²`` is
recorded every step from running sums over the geometric modes of ``‖e‖²`` on
idle stretches (``S_j ← μ_j S_j`` per step), corrected for the rows touched; so no
step costs O(rows).  The running sums are recomputed exactly every ``resync``
steps to stop rounding drift.  The hyper-parameters must be shared by all rows and
constant in time (the modes μ_j are then global); use the dense simulator for per-row
values or schedules.
"""

from __future__ import annotations

import numpy as np

from derivations import symbols as S
from derivations.definition_cache import cached_by_definition
from derivations.idle import idle_stretch, n
from derivations.optimizers import e
from numerics.inputs.parameters import parameter_values
from numerics.inputs.validation import check_integer
from numerics.kernels.numeric_function import numeric_function
from numerics.simulate.data_law import gradient_coefficient, risk_weight
from numerics.simulate.monte_carlo import MonteCarloResult, simulate_in_blocks, summarise
from numerics.simulate.update import apply_update


@cached_by_definition
def _idle_functions(name: str):
    stretch = idle_stretch(name)
    h = stretch.parameters
    power = [[numeric_function(x, (*h, n)) for x in row] for row in stretch.power.tolist()]
    modes = [numeric_function(m, h) for m in stretch.modes]
    coefficients = [numeric_function(c, (*h, *stretch.gram)) for c in stretch.mode_coefficients]
    return power, modes, coefficients


def sparse_monte_carlo_risk(model, optimizer, steps: int, runs: int, seed: int,
                            keep_trajectories: bool = False, resync: int = 1000
                            ) -> MonteCarloResult:
    """Simulate ``runs`` trajectories of a token stream (see module docstring)."""
    steps = check_integer("steps", steps, minimum=0)
    runs = check_integer("runs", runs, minimum=2)
    seed = check_integer("seed", seed, minimum=0)
    resync = check_integer("resync", resync, minimum=1)
    rows, _ = parameter_values(model, optimizer)
    if any(x.ndim for x in optimizer.values.values()):
        raise ValueError("lr, beta and the other hyper-parameters must be scalars for the sparse "
                         "simulator (use numerics.simulate.monte_carlo.monte_carlo_risk for "
                         "per-row values)")
    if optimizer.scheduled:
        raise ValueError("the sparse simulator needs constant hyper-parameters (its idle "
                         "stretches are geometric); use numerics.simulate.monte_carlo."
                         "monte_carlo_risk for a scheduled optimizer")
    p = np.broadcast_to(np.asarray(model.p, dtype=float), (rows,))
    if p.sum() > 1 + 1e-12:
        raise ValueError(f"p must sum to at most 1 (one token per sample); sums to {p.sum():.6g}")
    hyper = {s: float(x) for s, x in optimizer.values.items()}
    risk = simulate_in_blocks(runs, steps, seed, lambda n, rng: _simulate(
        model, optimizer, steps, n, resync, rows, p, hyper, rng))
    return summarise(risk, keep_trajectories)


def _simulate(model, optimizer, steps, runs, resync, rows, p, hyper, rng) -> np.ndarray:
    d, B = model.d, optimizer.batch
    rule = optimizer.rule
    power, mode_fns, coefficient_fns = _idle_functions(optimizer.name)
    h = [hyper[s] for s in idle_stretch(optimizer.name).parameters]
    modes = np.array([float(np.broadcast_to(f(*h), ())) for f in mode_fns])
    weights = np.broadcast_to(numeric_function(risk_weight(model.name), (S.p,))(p), p.shape)
    gradient_coefficient_of = gradient_coefficient(model.name)
    cumulative = np.cumsum(p)
    noise_sd = float(np.sqrt(float(model.sigma2)))
    state = {u: np.zeros((runs, rows, d)) for u in rule.state}
    state[e][:, :, 0] = np.sqrt(np.broadcast_to(np.asarray(model.R0, dtype=float), (rows,)))
    last = np.zeros((runs, rows), dtype=np.int64)

    def mode_terms(x):
        """Per-row coefficients c_j of ‖e_n‖² from the state vectors ``x`` (modes × …)."""
        gram = [np.sum(x[u] * x[w], axis=-1) for i, u in enumerate(rule.state)
                for w in rule.state[i:]]
        return np.stack([np.broadcast_to(f(*h, *gram), gram[0].shape) for f in coefficient_fns])

    def exact_sums(t):
        """S_j at step t from every row (O(rows), used at start and every resync)."""
        decay = modes[:, None, None] ** (t - last)[None]
        return np.sum(mode_terms(state) * decay * weights, axis=2)

    def catch_up(x, idle):
        """The state vectors ``x`` after ``idle`` idle steps: ``M_0^idle x``."""
        if not rule.has_momentum:
            return x
        coef = [[np.broadcast_to(np.asarray(f(*h, idle), dtype=float), idle.shape)[:, None]
                 for f in row] for row in power]
        return {u: sum(coef[i][j] * x[w] for j, w in enumerate(rule.state))
                for i, u in enumerate(rule.state)}

    sums = exact_sums(0)                                   # (modes, runs)
    risk = np.empty((runs, steps + 1))
    risk[:, 0] = sums.sum(axis=0)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            sums *= modes[:, None]                             # every row idles one step
            token = np.searchsorted(cumulative, rng.random((runs, B)), side="right")
            run_of, slot = np.nonzero(token < rows)
            row_of = token[run_of, slot]
            if run_of.size:
                key = run_of * rows + row_of
                touched, inverse = np.unique(key, return_inverse=True)
                tr, tc = np.divmod(touched, rows)
                idle = t - last[tr, tc]
                # remove the idle-advanced contribution of the touched rows
                touched_state = {u: x[tr, tc] for u, x in state.items()}
                old = mode_terms(touched_state)
                np.add.at(sums.T, tr, -(old * modes[:, None] ** idle * weights[tc]).T)
                now = catch_up(touched_state, idle - 1)
                x = rng.standard_normal((run_of.size, d))
                xi = noise_sd * rng.standard_normal(run_of.size)
                projection = np.sum(x * now[e][inverse], axis=1)
                contribution = gradient_coefficient_of(1.0, xi, projection)[:, None] * x / B
                grad = np.zeros_like(now[e])
                np.add.at(grad, inverse, contribution)
                new_state = apply_update(optimizer.name, now, grad, hyper, 1.0)
                for u, x_new in new_state.items():
                    state[u][tr, tc] = x_new
                last[tr, tc] = t
                np.add.at(sums.T, tr, (mode_terms(new_state) * weights[tc]).T)
            if t % resync == 0:
                sums = exact_sums(t)
            risk[:, t] = sums.sum(axis=0)
    return risk
