"""Sparse-aware Monte Carlo for token streams: cost per step ∝ tokens in the batch.

Each sample carries one token: row ``i`` with probability ``p_i`` (or none, with
probability ``1 − Σ p_i``), drawn directly; the other ingredients of the data law are
drawn for the samples that hold a token only (:mod:`sparsemom.numerics.simulate.data_law`, with
each row's parameters).  A row that is not in the batch is idle: its gradient is 0 (the
law's gradient must vanish without the token), and its state vectors move by the rule's
idle map ``M_0(k)`` (the update with ``g = 0``, ``a = 0``, at step ``k``'s
hyper-parameters: shared by every row).  A law without a token mask has dense gradients:
every step touches every row with ``B`` samples of its own.

* Rows keep the step they were last touched; when touched again, the product of the idle
  maps over the steps they missed catches them up in one jump, then the active update is
  applied.  The products come from a table of ``M_0`` over every run of ``2^j``
  consecutive steps (binary lifting: ``O(log n)`` small matrix products per jump), so
  schedules need nothing special.
* The risk ``Σ_i w_i ‖u_i‖²`` (``u`` the recorded iterate, ``e`` by default) is read off
  one aggregate per run, ``A = Σ_i w_i G_i`` with ``G_i`` the Gram matrix of row ``i``'s
  state vectors.  Every row idles alike, so each step ``A ← M_0(k) A M_0(k)ᵀ`` advances all
  of them at once; the touched rows' terms are then replaced.  No step costs ``O(rows)``.
* ``A`` is recomputed exactly every ``resync`` steps to stop rounding drift: each touched
  row's term ``w_i G_i`` at its last touch ``s`` (kept), summed per run and ``s``, idled by
  the product of the idle maps since ``s``; the rows never touched from their initial
  state.  Only touched rows hold state vectors (:class:`TouchedRows`), so neither memory
  nor time grows with the rows beyond one integer per run and row.

The hyper-parameters must be shared by all rows (per step, with a schedule); use the dense
simulator for per-row values.  The law's parameters may take one value per row.
"""

from __future__ import annotations

import numpy as np

from sparsemom.derivations import symbols as S
from sparsemom.derivations.definitions.optimizers import e, g, update_rule
from sparsemom.derivations.engine.definition_cache import cached_by_definition
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.inputs.seeds import check_seed, seed_sequence
from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.kernels.numeric_function import numeric_function
from sparsemom.numerics.kernels.run_cost import available_memory
from sparsemom.numerics.simulate.data_law import law_sampler
from sparsemom.numerics.simulate.monte_carlo import (
    RUNS_PER_BLOCK,
    MonteCarloResult,
    simulate_in_blocks,
    simulation_metadata,
    summarise,
)
from sparsemom.numerics.simulate.update import apply_update


@cached_by_definition
def _idle_map(name: str):
    """``(parameters, entries)``: the idle map ``M_0`` of rule ``name`` as numeric functions
    of ``lr``, ``beta`` and the rule's own hyper-parameters (row-major)."""
    rule = update_rule(name)
    idle = {u: vec.subs({S.active: 0, g: 0}) for u, vec in rule.apply().items()}
    parameters = (S.lr, S.beta, *rule.symbols)
    return parameters, [[numeric_function(idle[u].coefficient(w), parameters)
                         for w in rule.state] for u in rule.state]


def idle_maps(name: str, values: dict, multipliers: dict, steps: int) -> np.ndarray:
    """``M_0(k)`` for ``k = 0..steps−1`` (steps × n × n): the idle map with step ``k``'s
    hyper-parameters."""
    parameters, entries = _idle_map(name)
    columns = [float(values[s]) * np.asarray(multipliers[s], dtype=float)[:steps]
               if s in multipliers else np.full(steps, float(values[s])) for s in parameters]
    n = len(entries)
    out = np.empty((steps, n, n))
    for i in range(n):
        for j in range(n):
            out[:, i, j] = np.broadcast_to(entries[i][j](*columns), (steps,))
    return out


class IdleProducts:
    """Products of consecutive idle maps, ``M_0(b−1) ⋯ M_0(a)``, by binary lifting:
    ``table[j][s]`` is the product over the ``2^j`` steps from ``s``."""

    def __init__(self, maps: np.ndarray):
        self.table = [maps]
        span = 1
        while 2 * span <= maps.shape[0]:
            prev = self.table[-1]
            self.table.append(np.einsum("sij,sjk->sik", prev[span:], prev[:-span]))
            span *= 2

    def matrices(self, start: np.ndarray, length: np.ndarray) -> np.ndarray:
        """``M_0(start + length − 1) ⋯ M_0(start)`` per entry (``m × n × n``), each distinct
        ``(start, length)`` pair computed once."""
        if np.any(length >> len(self.table)):
            raise ValueError("an idle stretch longer than the table")
        width = self.table[0].shape[0] + 1                 # lengths are ≤ the steps
        keys, inverse = np.unique(start * width + length, return_inverse=True)
        begin, span = np.divmod(keys, width)
        n = self.table[0].shape[1]
        out = np.broadcast_to(np.eye(n), (begin.size, n, n)).copy()
        for j, table in enumerate(self.table):
            take = ((span >> j) & 1).astype(bool)
            if take.any():
                out[take] = np.einsum("mij,mjk->mik", table[begin[take]], out[take])
                begin[take] += 1 << j
        return out[inverse.ravel()]

    def advance(self, stacked: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
        """The state vectors ``stacked`` (``m × n × d``) after the idle steps
        ``start … start + length − 1`` (per entry)."""
        if not np.any(length):
            return stacked
        return np.einsum("mij,mjd->mid", self.matrices(start, length), stacked)


class TouchedRows:
    """The state vectors of the ``(run, row)`` pairs touched so far, one slot each in order
    of first touch (``vectors[slot]``: ``n × d``), with the step of the last touch and the
    risk term ``w_i G_i`` then; a pair never touched is at its initial state and costs only
    its entry of ``slot`` (slot + 1; 0: never touched), a table allocated zeroed."""

    def __init__(self, runs: int, rows: int, n: int, d: int):
        self.slot = np.zeros((runs, rows), dtype=np.int32 if runs * rows < 2**31 else np.int64)
        self.count = 0
        self.vectors = np.empty((0, n, d))
        self.last = np.empty(0, dtype=np.int64)
        self.run = np.empty(0, dtype=np.int64)
        self.term = np.empty((0, n, n))

    def slots(self, run: np.ndarray, row: np.ndarray, initial) -> np.ndarray:
        """The slots of the distinct pairs ``(run, row)``; pairs touched for the first time
        get new slots holding ``initial(rows)`` (``m × n × d``), last touched at step 0."""
        index = self.slot[run, row].astype(np.int64) - 1
        fresh = index < 0
        if fresh.any():
            new = self.count + np.arange(np.count_nonzero(fresh))
            self._reserve(self.count + new.size)
            self.slot[run[fresh], row[fresh]] = new + 1
            self.vectors[new] = initial(row[fresh])
            self.last[new] = 0
            self.run[new] = run[fresh]
            self.count += new.size
            index[fresh] = new
        return index

    def _reserve(self, size: int) -> None:
        """Room for ``size`` slots (capacity doubled, so growing costs O(1) per slot)."""
        if size <= self.last.size:
            return
        capacity = max(size, 2 * self.last.size, 1024)
        for name in ("vectors", "last", "run", "term"):
            old = getattr(self, name)
            grown = np.empty((capacity, *old.shape[1:]), dtype=old.dtype)
            grown[:self.count] = old[:self.count]
            setattr(self, name, grown)


def check_touched_memory(sampler, steps: int, runs: int, n: int) -> None:
    """Refuse, before any work, a block of ``runs`` runs whose touched rows would not fit in
    half the free memory: a run touches row ``i`` with probability ``p_B`` of its
    ``B·steps`` samples (the law's active probability; 1 without a token mask), and
    :class:`TouchedRows` keeps ``n × d`` state, ``n × n`` risk terms and two integers per
    touched pair, in storage that doubles as it grows (so up to twice that)."""
    d = sampler.d
    touched = runs * float(np.sum(sampler.active_probability(sampler.batch * steps)))
    need = 2 * touched * (n * d + n * n + 2) * 8 + runs * sampler.rows * 4
    free = available_memory()
    if need > free // 2:
        raise ValueError(f"steps={steps}: a block of {runs} runs would touch about "
                         f"{touched:.3g} (run, row) pairs, {need / 2**30:.1f} GiB of state, more "
                         f"than half of the {free / 2**30:.1f} GiB of free memory; ask for fewer "
                         "steps or rows, or a smaller d")


def sparse_monte_carlo_risk(model, optimizer, steps: int, runs: int, seed,
                            keep_trajectories: bool = False, resync: int = 1000,
                            iterate: str = "e") -> MonteCarloResult:
    """Simulate ``runs`` trajectories of a token stream (see module docstring); the risk of
    the state vector ``iterate`` (``"e"``: ``θ_k``; ``"ebar"``: an averaged iterate).
    ``seed``: an integer ``≥ 0``, a ``SeedSequence`` or a ``Generator``
    (:mod:`sparsemom.numerics.inputs.seeds`)."""
    steps = check_integer("steps", steps, minimum=0)
    runs = check_integer("runs", runs, minimum=2)
    seed = check_seed(seed)
    resync = check_integer("resync", resync, minimum=1)
    rows, _ = parameter_values(model, optimizer)
    if any(x.ndim for x in optimizer.values.values()):
        raise ValueError("lr, beta and the other hyper-parameters must be scalars for the sparse "
                         "simulator (use sparsemom.numerics.simulate.monte_carlo.monte_carlo_risk for "
                         "per-row values)")
    observed = optimizer.rule.vector(iterate)
    sampler = law_sampler(model, optimizer.batch, rows)
    if not sampler.numeric.idle_without_token:
        raise ValueError(f"model {model.name!r}: the sparse simulator needs a gradient that "
                         "vanishes for a sample without the row's token (rows outside the "
                         "batch are idle); use sparsemom.numerics.simulate.monte_carlo.monte_carlo_risk")
    p = None
    if sampler.has_token:
        p = np.broadcast_to(sampler.values[S.p], (rows,))
        if p.sum() > 1 + 1e-12:
            raise ValueError(f"p must sum to at most 1 (one token per sample); sums to "
                             f"{p.sum():.6g}")
    check_touched_memory(sampler, steps, min(runs, RUNS_PER_BLOCK), len(optimizer.rule.state))
    multipliers = optimizer.multipliers(steps)
    hyper = {s: float(x) for s, x in optimizer.values.items()}
    maps = idle_maps(optimizer.name, hyper, multipliers, max(steps, 1))
    products = IdleProducts(maps)
    seed = seed_sequence(seed)
    risk = simulate_in_blocks(runs, steps, seed, lambda n, rng: _simulate(
        model, sampler, optimizer, steps, n, resync, p, hyper, multipliers, maps, products,
        observed, rng))
    return summarise(risk, keep_trajectories,
                     simulation_metadata(model, optimizer, "sparse", seed, "steps", iterate))


def _simulate(model, sampler, optimizer, steps, runs, resync, p, hyper, multipliers, maps,
              products, observed, rng) -> np.ndarray:
    d, B, rows = sampler.d, sampler.batch, sampler.rows
    rule = optimizer.rule
    order = rule.state
    n, watched, error = len(order), order.index(observed), order.index(e)
    weights = sampler.risk_weights
    cumulative = None if p is None else np.cumsum(p)
    every_sample = None if p is not None else (np.repeat(np.arange(runs), B * rows),
                                               np.tile(np.arange(rows), runs * B))
    # e_0 = (√R0, 0, …): the recursion knows e_0 by ‖e_0‖² only; buffers at 0, or at e_0
    # for those that start there (an averaged iterate).
    root_r0 = np.sqrt(np.broadcast_to(np.asarray(model.R0, dtype=float), (rows,)))
    like_error = np.array([u == e or u in rule.start_equal_to_error for u in order], dtype=float)
    weighted_start = weights * (root_r0 * root_r0)   # w_i G_i(0) = this · like_error like_errorᵀ
    touched_rows = TouchedRows(runs, rows, n, d)

    def initial(row: np.ndarray) -> np.ndarray:
        """Initial state vectors of ``row`` (``m × n × d``)."""
        out = np.zeros((row.size, n, d))
        out[:, :, 0] = like_error * root_r0[row, None]
        return out

    def gram(stacked: np.ndarray) -> np.ndarray:
        """Gram matrices of stacked state vectors ``(…, n, d)``: ``(…, n, n)``."""
        return np.einsum("...id,...jd->...ij", stacked, stacked)

    def exact_aggregate(t: int) -> np.ndarray:
        """``A`` at step ``t`` from every row, exactly: the rows never touched from their
        initial Gram matrices idled through ``t`` steps, each touched row from its term
        ``w_i G_i`` at its last touch ``s``, idled by ``M_0(t−1) ⋯ M_0(s)`` (the terms of a
        run summed per ``s`` first).  O(touched rows), and O(rows) cheap sums."""
        fresh = np.array([weighted_start[touched_rows.slot[r] == 0].sum() for r in range(runs)])
        idle = products.matrices(np.zeros(1, dtype=np.int64), np.array([t]))[0] @ like_error
        aggregate = fresh[:, None, None] * np.outer(idle, idle)
        count = touched_rows.count
        if count:
            key = touched_rows.run[:count] * (t + 1) + touched_rows.last[:count]
            by_key = np.argsort(key, kind="stable")
            key = key[by_key]
            first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            sums = np.add.reduceat(touched_rows.term[by_key], first, axis=0)
            run, last = np.divmod(key[first], t + 1)
            P = products.matrices(last, t - last)
            np.add.at(aggregate, run, np.einsum("kij,kjl,kml->kim", P, sums, P))
        return aggregate

    def step_values(k: int) -> dict:
        return {s: x * float(multipliers[s][k]) if s in multipliers else x
                for s, x in hyper.items()}

    aggregate = np.broadcast_to(weighted_start.sum() * np.outer(like_error, like_error),
                                (runs, n, n)).copy()                 # A at step 0
    risk = np.empty((runs, steps + 1))
    risk[:, 0] = aggregate[:, watched, watched]
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            M = maps[t - 1]
            aggregate = np.einsum("ij,njk,lk->nil", M, aggregate, M)  # every row idles
            if every_sample is not None:
                run_of, row_of = every_sample       # dense gradients: B samples per row
            else:
                token = np.searchsorted(cumulative, rng.random((runs, B)), side="right")
                run_of, slot = np.nonzero(token < rows)
                row_of = token[run_of, slot]
            if run_of.size:
                key = run_of * rows + row_of
                touched, inverse = np.unique(key, return_inverse=True)
                tr, tc = np.divmod(touched, rows)
                index = touched_rows.slots(tr, tc, initial)
                last = touched_rows.last[index]
                now = products.advance(touched_rows.vectors[index], last, t - 1 - last)
                # remove the idle-advanced terms of the touched rows (idled through step t)
                np.add.at(aggregate, tr, -weights[tc, None, None] * np.einsum(
                    "ij,mjk,lk->mil", M, gram(now), M))
                samples = sampler.draw(rng, (run_of.size,), row_of, token=1.0)
                contribution = sampler.gradient(samples, now[:, error][inverse]) / B
                grad = np.zeros_like(now[:, error])
                np.add.at(grad, inverse, contribution)
                new_state = apply_update(optimizer.name, dict(zip(order, now.transpose(1, 0, 2))),
                                         grad, step_values(t - 1), 1.0)
                new = np.stack([np.broadcast_to(new_state[u], grad.shape) for u in order], axis=1)
                term = weights[tc, None, None] * gram(new)
                touched_rows.vectors[index] = new
                touched_rows.last[index] = t
                touched_rows.term[index] = term
                np.add.at(aggregate, tr, term)
            if t % resync == 0:
                aggregate = exact_aggregate(t)
            risk[:, t] = aggregate[:, watched, watched]
    return risk
