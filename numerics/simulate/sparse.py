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
steps to stop rounding drift.  ``lr`` and ``beta`` must be shared by all rows
(the modes μ_j are then global); use the dense simulator for per-row values.
"""

from __future__ import annotations

import numpy as np

from derivations import symbols as S
from derivations.definition_cache import cached_by_definition
from derivations.idle import buffer_energy, cross, energy, idle_stretch, n
from numerics.inputs.parameters import parameter_values
from numerics.inputs.validation import check_integer
from numerics.kernels.numeric_function import numeric_function
from numerics.simulate.data_law import gradient_coefficient, risk_weight
from numerics.simulate.monte_carlo import MonteCarloResult, simulate_in_blocks, summarise
from numerics.simulate.update import apply_update


@cached_by_definition
def _idle_functions(name: str):
    stretch = idle_stretch(name)
    args = (S.lr, S.beta, n)
    power = [[numeric_function(x, args) for x in row] for row in stretch.power.tolist()]
    modes = [numeric_function(m, (S.lr, S.beta)) for m in stretch.modes]
    coefficients = [numeric_function(c, (S.lr, S.beta, energy, cross, buffer_energy))
                    for c in stretch.mode_coefficients]
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
    if optimizer.lr.ndim or optimizer.beta.ndim:
        raise ValueError("lr and beta must be scalars for the sparse simulator "
                         "(use numerics.simulate.monte_carlo.monte_carlo_risk for per-row values)")
    p = np.broadcast_to(np.asarray(model.p, dtype=float), (rows,))
    if p.sum() > 1 + 1e-12:
        raise ValueError(f"p must sum to at most 1 (one token per sample); sums to {p.sum():.6g}")
    lr, beta = float(optimizer.lr), float(optimizer.beta)
    risk = simulate_in_blocks(runs, steps, seed, lambda n, rng: _simulate(
        model, optimizer, steps, n, resync, rows, p, lr, beta, rng))
    return summarise(risk, keep_trajectories)


def _simulate(model, optimizer, steps, runs, resync, rows, p, lr, beta, rng) -> np.ndarray:
    d, B = model.d, optimizer.batch
    momentum = optimizer.rule.has_momentum
    power, mode_fns, coefficient_fns = _idle_functions(optimizer.name)
    modes = np.array([float(np.broadcast_to(f(lr, beta), ())) for f in mode_fns])
    weights = np.broadcast_to(numeric_function(risk_weight(model.name), (S.p,))(p), p.shape)
    gradient_coefficient_of = gradient_coefficient(model.name)
    cumulative = np.cumsum(p)
    noise_sd = float(np.sqrt(float(model.sigma2)))
    error = np.zeros((runs, rows, d))
    error[:, :, 0] = np.sqrt(np.broadcast_to(np.asarray(model.R0, dtype=float), (rows,)))
    buf = np.zeros_like(error) if momentum else None
    last = np.zeros((runs, rows), dtype=np.int64)

    def mode_terms(e, v):
        """Per-row coefficients c_j of ‖e_n‖² (shape: modes × …)."""
        E = np.sum(e * e, axis=-1)
        C = np.sum(e * v, axis=-1) if momentum else np.zeros_like(E)
        V = np.sum(v * v, axis=-1) if momentum else np.zeros_like(E)
        return np.stack([np.broadcast_to(f(lr, beta, E, C, V), E.shape)
                         for f in coefficient_fns])

    def exact_sums(t):
        """S_j at step t from every row (O(rows), used at start and every resync)."""
        terms = mode_terms(error, buf if momentum else error)
        decay = modes[:, None, None] ** (t - last)[None]
        return np.sum(terms * decay * weights, axis=2)

    def catch_up(e, v, idle):
        if not momentum:
            return e, v
        coef = [[np.broadcast_to(np.asarray(f(lr, beta, idle), dtype=float), idle.shape)[:, None]
                 for f in row] for row in power]
        return coef[0][0] * e + coef[0][1] * v, coef[1][0] * e + coef[1][1] * v

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
                old = mode_terms(error[tr, tc], buf[tr, tc] if momentum else error[tr, tc])
                np.add.at(sums.T, tr, -(old * modes[:, None] ** idle * weights[tc]).T)
                e_now, v_now = catch_up(error[tr, tc], buf[tr, tc] if momentum else None,
                                        idle - 1)
                x = rng.standard_normal((run_of.size, d))
                xi = noise_sd * rng.standard_normal(run_of.size)
                projection = np.sum(x * e_now[inverse], axis=1)
                contribution = gradient_coefficient_of(1.0, xi, projection)[:, None] * x / B
                grad = np.zeros_like(e_now)
                np.add.at(grad, inverse, contribution)
                e_new, v_new = apply_update(optimizer.name, e_now, v_now, grad, lr, beta, 1.0)
                error[tr, tc] = e_new
                if momentum:
                    buf[tr, tc] = v_new
                last[tr, tc] = t
                new = mode_terms(e_new, v_new if momentum else e_new)
                np.add.at(sums.T, tr, (new * weights[tc]).T)
            if t % resync == 0:
                sums = exact_sums(t)
            risk[:, t] = sums.sum(axis=0)
    return risk
