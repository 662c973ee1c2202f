"""The sparse-aware simulator: agreement with theory and with the dense reference,
exact bookkeeping of the running risk sums, and the derived idle catch-up."""

import tracemalloc

import numpy as np
import pytest
from swept_rules import SWEPT_RULES

from sparsemom.derivations import UPDATE_RULES, register_rule, unregister_rule
from sparsemom.derivations import symbols as S
from sparsemom.derivations.definitions.averaging import averaged
from sparsemom.numerics import exact_risk
from sparsemom.numerics.inputs import schedules
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.simulate.harness import compare_samples, compare_with_theory
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk
from sparsemom.numerics.simulate.sparse import IdleProducts, idle_maps, sparse_monte_carlo_risk
from sparsemom.numerics.simulate.token_stream import zipf_frequencies
from sparsemom.numerics.simulate.update import apply_update

STREAM = SparseLeastSquares(d=4, p=[0.3, 0.2, 0.1, 0.05], R0=[1.0, 2.0, 0.5, 1.0], sigma2=0.1)


def optimizer(name):
    return Optimizer(name, lr=0.1, beta=UPDATE_RULES[name].example_beta(0.7), batch=3,
                     **UPDATE_RULES[name].example_hyper_parameters())


@pytest.mark.parametrize("name", SWEPT_RULES)
def test_sparse_agrees_with_theory_and_dense(name):
    opt = optimizer(name)
    sparse = sparse_monte_carlo_risk(STREAM, opt, 40, 8_000, seed=3,
                                     keep_trajectories=True).trajectories
    assert compare_with_theory(sparse, exact_risk(STREAM, opt, 40)).passed
    dense = monte_carlo_risk(STREAM, opt, 40, 8_000, seed=4, keep_trajectories=True).trajectories
    assert compare_samples(sparse, dense).passed


def test_sparse_detects_wrong_theory():
    sparse = sparse_monte_carlo_risk(STREAM, optimizer("heavy-ball"), 40, 8_000, seed=3,
                                     keep_trajectories=True).trajectories
    wrong = exact_risk(STREAM, Optimizer("heavy-ball", lr=0.1, beta=0.49, batch=3), 40)
    assert not compare_with_theory(sparse, wrong).passed


@pytest.mark.parametrize("name", ["heavy-ball", "nesterov"])
def test_running_sums_match_exact_recomputation(name):
    """Same seed, running sums never resynchronised vs recomputed every step."""
    kwargs = dict(steps=300, runs=50, seed=1, keep_trajectories=True)
    a = sparse_monte_carlo_risk(STREAM, optimizer(name), resync=1, **kwargs).trajectories
    b = sparse_monte_carlo_risk(STREAM, optimizer(name), resync=10**9, **kwargs).trajectories
    np.testing.assert_allclose(a, b, rtol=1e-10)


def test_exact_recomputation_of_rows_never_touched():
    """The resynchronised aggregate takes rows never touched from their initial state (here
    most of 3 000 rows, and an averaged iterate that starts at ``e_0``) and touched rows from
    their last touch: recomputed every step == running sums, same seed."""
    register_rule(averaged("heavy-ball", name="hb-avg-sparse"))
    try:
        model = SparseLeastSquares(d=3, p=zipf_frequencies(3_000), R0=np.linspace(0.5, 2, 3_000),
                                   sigma2=0.05)
        opt = Optimizer("hb-avg-sparse", lr=0.2, beta=0.6, batch=4, avg=0.9,
                        lr_schedule=schedules.cosine(200, 0.1))
        for iterate in ("e", "ebar"):
            kwargs = dict(steps=200, runs=6, seed=2, keep_trajectories=True, iterate=iterate)
            a = sparse_monte_carlo_risk(model, opt, resync=1, **kwargs).trajectories
            b = sparse_monte_carlo_risk(model, opt, resync=10**9, **kwargs).trajectories
            np.testing.assert_allclose(a, b, rtol=1e-10)
    finally:
        unregister_rule("hb-avg-sparse")


def test_memory_grows_with_touched_rows_not_with_rows():
    """The state of a row is stored when a run first touches it: 10⁵ rows, 8 runs, d = 16 and
    30 steps (≤ 120 touches per run) never hold a state vector for every row of every run
    (102 MB; it was allocated for each vector at the start and stacked at every resync:
    work and memory grew with the rows: a 659 MB peak).  Measured peak now: 8–12 MB (the
    int32 slot table and per-row arrays such as ``p``)."""
    rows, runs, d = 100_000, 8, 16
    model = SparseLeastSquares(d=d, p=np.full(rows, 1.0 / rows), R0=1.0, sigma2=0.1)
    opt = Optimizer("heavy-ball", lr=0.05, beta=0.9, batch=4)
    tracemalloc.start()
    try:
        sparse_monte_carlo_risk(model, opt, 30, runs, seed=0, resync=10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    one_vector = runs * rows * d * 8                 # bytes of one state vector of every row
    assert peak < one_vector / 4, f"peak {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("name", SWEPT_RULES)
def test_idle_products_equal_repeated_idle_steps(name):
    """The binary-lifting products of the idle maps over any stretch ``[a, a + n)`` = ``n``
    idle steps of the update rule, each with its own step's (scheduled) values."""
    rng = np.random.default_rng(0)
    rule = UPDATE_RULES[name]
    hyper = {S.lr: 0.3, S.beta: float(rule.example_beta(0.8)), **{
        sym: float(x) for sym, x in zip(rule.symbols, rule.example_hyper_parameters().values())}}
    steps = 40
    multipliers = {S.lr: rng.uniform(0.5, 1.5, steps)}
    products = IdleProducts(idle_maps(name, hyper, multipliers, steps))
    start = dict(zip(rule.state, rng.standard_normal((len(rule.state), 5))))
    for a, length in [(0, 0), (0, 1), (3, 7), (5, 32), (0, 40), (17, 23)]:
        x = dict(start)
        for k in range(a, a + length):
            x = apply_update(name, x, np.zeros(5), {**hyper, S.lr: hyper[S.lr] * multipliers[S.lr][k]},
                             0.0)
        P = products.matrices(np.array([a]), np.array([length]))[0]
        got = P @ np.vstack([start[u] for u in rule.state])
        for i, u in enumerate(rule.state):
            np.testing.assert_allclose(got[i], x[u], rtol=1e-12, atol=1e-13)


def test_sparse_simulator_rejects():
    with pytest.raises(ValueError, match="lr, beta and the other hyper-parameters must be scalars"):
        sparse_monte_carlo_risk(STREAM, Optimizer("lazy", lr=[0.1] * 4, beta=0.5), 5, 10, 0)
    with pytest.raises(ValueError, match="p must sum to at most 1"):
        sparse_monte_carlo_risk(SparseLeastSquares(3, [0.7, 0.6]), optimizer("lazy"), 5, 10, 0)


def test_a_run_whose_touched_rows_do_not_fit_is_refused_before_any_work(monkeypatch):
    """The touched-row store grows during a run: a run too large for memory died of
    MemoryError late, where the old dense arrays failed at once. Its expected size,
    ``runs · Σ_i (1 − (1 − p_i)^{B·steps})`` pairs, is checked first."""
    from sparsemom.numerics.simulate import sparse

    def started(*args, **kwargs):
        raise AssertionError("the simulation started")

    monkeypatch.setattr(sparse, "available_memory", lambda: 4 << 30)
    monkeypatch.setattr(sparse, "simulate_in_blocks", started)
    rows = 10**5
    model = SparseLeastSquares(d=64, p=np.full(rows, 1 / rows), R0=1.0)
    optimizer = Optimizer("heavy-ball", lr=0.1, beta=0.5, batch=8)
    # 1 024 runs × 10⁵ rows, nearly every one touched by 10⁶ samples: ~100 GiB
    with pytest.raises(ValueError, match=r"steps=125000: a block of 1024 runs would touch "
                                         r"about .* GiB of state"):
        sparse.sparse_monte_carlo_risk(model, optimizer, 125_000, 2048, seed=1)
    # a short run touches few rows and starts
    with pytest.raises(AssertionError, match="the simulation started"):
        sparse.sparse_monte_carlo_risk(model, optimizer, 10, 2048, seed=1)
