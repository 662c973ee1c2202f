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

The optax side (``optax_training.py``) runs in a spawned process: JAX starts threads, and
a test process that imported it could deadlock when a later test forks a worker pool.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import sys

import numpy as np
import pytest

from sparsemom.derivations import symbols as S
from sparsemom.numerics import Optimizer, PowerLawRandomFeatures, SparseLeastSquares, exact_risk
from sparsemom.numerics.inputs import schedules
from sparsemom.numerics.simulate.harness import compare_with_theory

if importlib.util.find_spec("jax") is None or importlib.util.find_spec("optax") is None:
    pytest.skip("jax and optax are not installed (the test extra installs them)",
                allow_module_level=True)

LR, BETA, TAU, NU = 0.15, 0.6, 0.3, 0.7
STEPS, RUNS, SEED = 30, 3000, 11
#: A token stream of three rows (one token per sample at most: Σ p ≤ 1).
STREAM = SparseLeastSquares(4, [0.15, 0.3, 0.45], R0=[1.0, 0.5, 2.0], sigma2=0.1)

#: The sparsemom optimizer each optax case is compared with (batch 2).
CASES = {
    "sgd": Optimizer("sgd", lr=LR, batch=2),
    "heavy-ball": Optimizer("heavy-ball", lr=LR, beta=BETA, batch=2),
    "nesterov": Optimizer("nesterov", lr=LR, beta=BETA, batch=2),
    "heavy-ball-dampened": Optimizer("heavy-ball-dampened", lr=LR, beta=BETA, batch=2, tau=TAU),
    "ema": Optimizer("ema", lr=LR, beta=BETA, batch=2),
    "qhm": Optimizer("qhm", lr=LR, beta=BETA, batch=2, nu=NU),
    "heavy-ball, cosine schedule": Optimizer("heavy-ball", lr=LR, beta=BETA, batch=2,
                                             lr_schedule=schedules.cosine(STEPS, 0.2)),
}


@pytest.fixture(scope="module")
def optax_process():
    """One spawned process (a fresh interpreter, never forked) that imports JAX and
    trains with optax."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        yield pool


def _train(*args) -> np.ndarray:
    """Runs in the spawned process, which alone imports ``optax_training`` (and JAX)."""
    import optax_training
    return optax_training.risk_trajectories(*args)


def optax_risk_trajectories(pool, case: str, batch: int, seed: int) -> np.ndarray:
    """``optax_training.risk_trajectories`` of ``case`` on ``STREAM``, in ``pool``."""
    hyper = dict(lr=LR, beta=BETA, tau=TAU, nu=NU)
    return pool.apply(_train, (case, hyper, STREAM.p, STREAM.d, STREAM.R0,
                               float(STREAM.sigma2), batch, RUNS, STEPS, seed))


@pytest.mark.parametrize("case", list(CASES))
def test_optax_mean_risk_is_exact_risk(optax_process, case):
    optimizer = CASES[case]
    trajectories = optax_risk_trajectories(optax_process, case, optimizer.batch, SEED)
    comparison = compare_with_theory(trajectories, exact_risk(STREAM, optimizer, STEPS))
    print(f"{case}: {comparison}")
    assert comparison.passed, f"{case}: {comparison}"


def test_a_different_convention_is_detected(optax_process):
    """The harness tells conventions apart: optax's heavy ball against sparsemom's ema (the
    same β, but the gradient enters the buffer with weight 1 − β) disagrees."""
    trajectories = optax_risk_trajectories(optax_process, "heavy-ball", 2, SEED)
    comparison = compare_with_theory(trajectories, exact_risk(STREAM, CASES["ema"], STEPS))
    assert not comparison.passed


def test_the_test_process_never_imports_jax(optax_process):
    """JAX stays in the spawned process (after a training ran there)."""
    optax_risk_trajectories(optax_process, "sgd", 2, SEED)
    assert "jax" not in sys.modules and "optax_training" not in sys.modules


#: Power-law random features (model M3 through its constructor), trained by optax in
#: feature space: the whole chain — W, the SVD, the residual as label noise, the coupled
#: modes — against exact_risk.
PLRF = PowerLawRandomFeatures(1.0, 0.7, v=24, d=12, seed=1)
PLRF_CASES = {
    "sgd": Optimizer("sgd", lr=0.8, batch=2),
    "heavy-ball": Optimizer("heavy-ball", lr=0.3, beta=0.6, batch=2),
    "nesterov": Optimizer("nesterov", lr=0.3, beta=0.5, batch=2),
}


def _train_plrf(*args) -> np.ndarray:
    """Runs in the spawned process (as :func:`_train`)."""
    import optax_training
    return optax_training.plrf_risk_trajectories(*args)


@pytest.mark.parametrize("case", list(PLRF_CASES))
def test_optax_on_power_law_random_features_is_exact_risk(optax_process, case):
    optimizer = PLRF_CASES[case]
    hyper = dict(lr=float(optimizer.values[S.lr]), beta=float(optimizer.values.get(S.beta, 0)),
                 tau=TAU, nu=NU)
    trajectories = optax_process.apply(_train_plrf, (
        case, hyper, PLRF.W, PLRF.data_variances, PLRF.target, PLRF.optimum,
        optimizer.batch, RUNS, STEPS, SEED))
    comparison = compare_with_theory(trajectories, exact_risk(PLRF, optimizer, STEPS))
    print(f"PLRF {case}: {comparison}")
    assert comparison.passed, f"PLRF {case}: {comparison}"


def test_on_random_features_a_different_rule_is_detected(optax_process):
    """Power on the same data: optax's heavy ball is not sparsemom's nesterov."""
    hyper = dict(lr=0.3, beta=0.6, tau=TAU, nu=NU)
    trajectories = optax_process.apply(_train_plrf, (
        "heavy-ball", hyper, PLRF.W, PLRF.data_variances, PLRF.target, PLRF.optimum, 2, RUNS,
        STEPS, SEED))
    wrong = Optimizer("nesterov", lr=0.3, beta=0.6, batch=2)
    assert not compare_with_theory(trajectories, exact_risk(PLRF, wrong, STEPS)).passed
