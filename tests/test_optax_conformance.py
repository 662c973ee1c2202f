"""The named methods mean what a practitioners' library means: optax (JAX, CPU, float64)
trains sampled least-squares data (model M1, a token stream), and its mean risk over many
runs is compared with ``exact_risk`` through the statistical harness.

Conventions mapped here (optax → sparsemom), with ``g`` the batch-mean gradient:

* ``optax.sgd(η)`` → ``sgd``;
* ``optax.sgd(η, momentum=β)`` (``trace``: ``t ← β t + g``, update ``−η t``) → ``heavy-ball``;
* ``optax.sgd(η, momentum=β, nesterov=True)`` (update ``−η (g + β t)`` with the new ``t``)
  → ``nesterov``;
* ``chain(scale(1 − τ), trace(β), scale(−η))`` → ``heavy-ball-dampened`` (PyTorch's
  dampening: optax has none; scaling the gradient before the trace is exactly it);
* ``chain(ema(β, debias=False), scale(−η))`` → ``ema``;
* QHM: optax has no QHM; its update ``−η((1 − ν) g + ν ema_β(g))`` is composed from
  ``optax.ema(β, debias=False)`` as Ma & Yarats define it → ``qhm``;
* a schedule: ``optax.sgd(cosine_decay_schedule(η, K, α), momentum=β)`` applies
  ``η_k = schedule(k)`` at the ``k``-th update (count from 0) → ``heavy-ball`` with
  ``lr_schedule=schedules.cosine(K, α)``.

``nesterov-dampened`` has no counterpart (PyTorch refuses Nesterov with dampening, optax
has no dampening), so it is not compared.
"""

from __future__ import annotations

import numpy as np
import pytest

from numerics import Optimizer, SparseLeastSquares, exact_risk
from numerics.inputs import schedules
from numerics.simulate.harness import compare_with_theory

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

LR, BETA, TAU, NU = 0.15, 0.6, 0.3, 0.7
STEPS, RUNS, SEED = 30, 3000, 11
#: A token stream of three rows (one token per sample at most: Σ p ≤ 1).
STREAM = SparseLeastSquares(4, [0.15, 0.3, 0.45], R0=[1.0, 0.5, 2.0], sigma2=0.1)


def _qhm(lr: float, beta: float, nu: float):
    """QHM from optax.ema: update −η((1 − ν) g + ν m), m ← β m + (1 − β) g."""
    ema = optax.ema(beta, debias=False)

    def update(grads, state, params=None):
        m, state = ema.update(grads, state)
        return jax.tree.map(lambda g, mm: -lr * ((1 - nu) * g + nu * mm), grads, m), state
    return optax.GradientTransformation(ema.init, update)


CASES = {
    "sgd": (lambda: optax.sgd(LR), Optimizer("sgd", lr=LR, batch=2)),
    "heavy-ball": (lambda: optax.sgd(LR, momentum=BETA),
                   Optimizer("heavy-ball", lr=LR, beta=BETA, batch=2)),
    "nesterov": (lambda: optax.sgd(LR, momentum=BETA, nesterov=True),
                 Optimizer("nesterov", lr=LR, beta=BETA, batch=2)),
    "heavy-ball-dampened": (
        lambda: optax.chain(optax.scale(1 - TAU), optax.trace(BETA), optax.scale(-LR)),
        Optimizer("heavy-ball-dampened", lr=LR, beta=BETA, batch=2, tau=TAU)),
    "ema": (lambda: optax.chain(optax.ema(BETA, debias=False), optax.scale(-LR)),
            Optimizer("ema", lr=LR, beta=BETA, batch=2)),
    "qhm": (lambda: _qhm(LR, BETA, NU), Optimizer("qhm", lr=LR, beta=BETA, batch=2, nu=NU)),
    "heavy-ball, cosine schedule": (
        lambda: optax.sgd(optax.cosine_decay_schedule(LR, STEPS, alpha=0.2), momentum=BETA),
        Optimizer("heavy-ball", lr=LR, beta=BETA, batch=2,
                  lr_schedule=schedules.cosine(STEPS, 0.2))),
}


def optax_risk_trajectories(make_optimizer, model, batch: int, seed: int) -> np.ndarray:
    """Train ``RUNS`` independent copies with optax on sampled data; the risk
    ``½ Σ_i p_i ‖θ_i − θ*_i‖²`` after each step (runs × steps+1)."""
    rng = np.random.default_rng(seed)
    p = np.asarray(model.p, dtype=float)
    rows, d = p.size, model.d
    cumulative = np.cumsum(p)
    noise_sd = float(np.sqrt(float(model.sigma2)))
    error = np.zeros((RUNS, rows, d))
    error[:, :, 0] = np.sqrt(np.broadcast_to(np.asarray(model.R0, dtype=float), (rows,)))
    params = jnp.asarray(error)                    # θ − θ*: the optimum is shifted to 0
    opt = make_optimizer()
    state = opt.init(params)
    step = jax.jit(lambda grads, state, params: opt.update(grads, state, params))
    risk = np.empty((RUNS, STEPS + 1))
    risk[:, 0] = 0.5 * np.sum(p * np.sum(error**2, axis=2), axis=1)
    for k in range(STEPS):
        e = np.asarray(params)
        token = np.searchsorted(cumulative, rng.random((RUNS, batch)), side="right")
        x = rng.standard_normal((RUNS, batch, d))
        xi = noise_sd * rng.standard_normal((RUNS, batch))
        grads = np.zeros_like(e)
        for b in range(batch):
            hit = token[:, b] < rows
            run, row = np.nonzero(hit)[0], token[hit, b]
            residual = np.sum(x[run, b] * e[run, row], axis=1) - xi[run, b]
            grads[run, row] += residual[:, None] * x[run, b] / batch
        updates, state = step(jnp.asarray(grads), state, params)
        params = optax.apply_updates(params, updates)
        risk[:, k + 1] = 0.5 * np.sum(p * np.sum(np.asarray(params) ** 2, axis=2), axis=1)
    return risk


@pytest.mark.parametrize("case", list(CASES))
def test_optax_mean_risk_is_exact_risk(case):
    make, optimizer = CASES[case]
    trajectories = optax_risk_trajectories(make, STREAM, optimizer.batch, SEED)
    comparison = compare_with_theory(trajectories, exact_risk(STREAM, optimizer, STEPS))
    print(f"{case}: {comparison}")
    assert comparison.passed, f"{case}: {comparison}"


def test_a_different_convention_is_detected():
    """The harness tells conventions apart: optax's heavy ball against sparsemom's ema (the
    same β, but the gradient enters the buffer with weight 1 − β) disagrees."""
    trajectories = optax_risk_trajectories(CASES["heavy-ball"][0], STREAM, 2, SEED)
    comparison = compare_with_theory(trajectories, exact_risk(STREAM, CASES["ema"][1], STEPS))
    assert not comparison.passed
