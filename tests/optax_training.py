"""The optax side of ``test_optax_conformance.py``: sampled least-squares data trained by
optax (JAX, CPU, float64). Imported only in the spawned process that test runs it in, so
that no test process that later forks a worker pool has JAX's threads (fork after JAX is
imported can deadlock)."""

from __future__ import annotations

import jax
import numpy as np
import optax

jax.config.update("jax_enable_x64", True)
jnp = jax.numpy


def _qhm(lr: float, beta: float, nu: float):
    """QHM from optax.ema: update −η((1 − ν) g + ν m), m ← β m + (1 − β) g."""
    ema = optax.ema(beta, debias=False)

    def update(grads, state, params=None):
        m, state = ema.update(grads, state)
        return jax.tree.map(lambda g, mm: -lr * ((1 - nu) * g + nu * mm), grads, m), state
    return optax.GradientTransformation(ema.init, update)


def optax_optimizer(case: str, lr: float, beta: float, tau: float, nu: float, steps: int):
    """The optax optimizer of ``case`` (see the conventions in the test's docstring)."""
    makers = {
        "sgd": lambda: optax.sgd(lr),
        "heavy-ball": lambda: optax.sgd(lr, momentum=beta),
        "nesterov": lambda: optax.sgd(lr, momentum=beta, nesterov=True),
        "heavy-ball-dampened": lambda: optax.chain(optax.scale(1 - tau), optax.trace(beta),
                                                   optax.scale(-lr)),
        "ema": lambda: optax.chain(optax.ema(beta, debias=False), optax.scale(-lr)),
        "qhm": lambda: _qhm(lr, beta, nu),
        "heavy-ball, cosine schedule": lambda: optax.sgd(
            optax.cosine_decay_schedule(lr, steps, alpha=0.2), momentum=beta),
    }
    return makers[case]()


def risk_trajectories(case: str, hyper: dict, p, d: int, R0, sigma2: float, batch: int,
                      runs: int, steps: int, seed: int) -> np.ndarray:
    """Train ``runs`` independent copies with optax on sampled data (a token stream with
    row frequencies ``p``, at most one token per sample); the risk
    ``½ Σ_i p_i ‖θ_i − θ*_i‖²`` after each step (runs × steps+1)."""
    rng = np.random.default_rng(seed)
    p = np.asarray(p, dtype=float)
    rows = p.size
    cumulative = np.cumsum(p)
    noise_sd = float(np.sqrt(sigma2))
    error = np.zeros((runs, rows, d))
    error[:, :, 0] = np.sqrt(np.broadcast_to(np.asarray(R0, dtype=float), (rows,)))
    params = jnp.asarray(error)                    # θ − θ*: the optimum is shifted to 0
    opt = optax_optimizer(case, steps=steps, **hyper)
    state = opt.init(params)
    step = jax.jit(lambda grads, state, params: opt.update(grads, state, params))
    risk = np.empty((runs, steps + 1))
    risk[:, 0] = 0.5 * np.sum(p * np.sum(error**2, axis=2), axis=1)
    for k in range(steps):
        e = np.asarray(params)
        token = np.searchsorted(cumulative, rng.random((runs, batch)), side="right")
        x = rng.standard_normal((runs, batch, d))
        xi = noise_sd * rng.standard_normal((runs, batch))
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


def plrf_risk_trajectories(case: str, hyper: dict, W, data_variances, target, optimum,
                           batch: int, runs: int, steps: int, seed: int) -> np.ndarray:
    """Power-law random features trained by optax from ``θ_0 = 0``: each step samples
    ``x ~ N(0, diag(data_variances))`` in ``R^v``, features ``φ = Wᵀx`` and labels
    ``y = ⟨x, target⟩``; the gradient of ``½ mean_b (⟨φ_b, θ⟩ − y_b)²`` is JAX's own
    (``jax.grad``). Records the excess risk ``½ (θ − θ*)ᵀ WᵀDW (θ − θ*)`` (runs × steps+1)."""
    rng = np.random.default_rng(seed)
    W, sd = jnp.asarray(W), np.sqrt(np.asarray(data_variances))
    K = W.T @ (jnp.asarray(data_variances)[:, None] * W)
    optimum = jnp.asarray(optimum)

    def loss(theta, phi, y):
        return 0.5 * jnp.mean((phi @ theta - y) ** 2)

    batched_grad = jax.jit(jax.vmap(jax.grad(loss)))
    opt = optax_optimizer(case, steps=steps, **hyper)
    params = jnp.zeros((runs, W.shape[1]))
    state = opt.init(params)
    step = jax.jit(lambda grads, state, params: opt.update(grads, state, params))

    def risk(theta):
        e = theta - optimum
        return np.asarray(0.5 * jnp.einsum("ri,ij,rj->r", e, K, e))

    out = np.empty((runs, steps + 1))
    out[:, 0] = risk(params)
    for k in range(steps):
        x = jnp.asarray(rng.standard_normal((runs, batch, W.shape[0])) * sd)
        grads = batched_grad(params, x @ W, x @ jnp.asarray(target))
        updates, state = step(grads, state, params)
        params = optax.apply_updates(params, updates)
        out[:, k + 1] = risk(params)
    return out
