"""Any linear momentum method, defined by the user: buffers, hyper-parameters, schedules,
initial state (issue 16), and the methods registered through the same API."""

from __future__ import annotations

import random
import sys
from fractions import Fraction as F

import numpy as np
import pytest
import sympy as sp

from sparsemom.derivations import symbols as S
from sparsemom.derivations.definitions.averaging import averaged
from sparsemom.derivations.definitions.methods import delta, g1, g3, nu, tau
from sparsemom.derivations.definitions.methods import y as y_dana
from sparsemom.derivations.definitions.optimizers import (
    HyperParameter,
    UpdateRule,
    e,
    g,
    register_rule,
    unregister_rule,
    v,
)
from sparsemom.derivations.engine.moments import R0
from sparsemom.derivations.engine.recursion import derive_recursion
from sparsemom.derivations.output.latex import latex_document
from sparsemom.derivations.properties.closed_forms import (
    closed_form,
    generating_function,
    stationary_risk,
)
from sparsemom.derivations.properties.stability import stability_conditions
from sparsemom.numerics import closed_form_risk, exact_risk, is_stable, spectral_radius
from sparsemom.numerics.analysis.row_phases import row_phases
from sparsemom.numerics.inputs import schedules
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.simulate.exact_moments import expanded_risk
from sparsemom.numerics.simulate.harness import compare_with_theory
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk
from sparsemom.numerics.simulate.sparse import sparse_monte_carlo_risk
from sparsemom.numerics.simulate.update import apply_update

y = sp.Symbol("y")
mu = sp.Symbol("mu", nonnegative=True)


@pytest.fixture(autouse=True)
def _forget_rules():
    yield
    for name in ("two-buffer", "hb-avg", "random-two-buffer-0", "random-two-buffer-1",
                 "random-two-buffer-2", "random-two-buffer-3", "bad", "sqrt-momentum"):
        try:
            unregister_rule(name)
        except ValueError:
            pass


def _two_buffer_rule() -> UpdateRule:
    """A method no module of the package knows: an EMA buffer and a heavy-ball buffer
    with its own retention μ."""
    def step(x, grad):
        v_new = S.beta * x[v] + (1 - S.beta) * grad
        y_new = mu * x[y] + grad
        return {e: x[e] - S.lr * (v_new + y_new / 4), v: v_new, y: y_new}
    return register_rule(UpdateRule(
        "two-buffer", (e, v, y), step, "two buffers", "two buffers",
        hyper_parameters=(HyperParameter(mu, lower=0, upper=1, upper_open=True),)))


def _coefficient(rng: random.Random) -> sp.Expr:
    c = sp.Rational(rng.choice([-3, -2, -1, 1, 2, 3, 5]), rng.choice([1, 2, 3, 4, 7]))
    return c * rng.choice([S.lr, S.beta, mu, S.lr * mu, 1 - mu, S.active * S.lr, 1])


def _random_two_buffer_rule(seed: int) -> UpdateRule:
    """A random rule linear in (e, v, y, g) with fractional coefficients in lr, beta, a and
    its own hyper-parameter μ."""
    rng = random.Random(seed)
    coeff = {(u, w): _coefficient(rng) for u in (e, v, y) for w in (e, v, y, g)}

    def step(x, grad):
        atoms = {e: x[e], v: x[v], y: x[y], g: grad}
        new = {u: sum((coeff[u, w] * atoms[w] for w in atoms), 0 * grad) for u in (v, y)}
        new[e] = x[e] + sum((coeff[e, w] * atoms[w] for w in atoms), 0 * grad)
        return new
    name = f"random-two-buffer-{seed}"
    return register_rule(UpdateRule(name, (e, v, y), step, name, name,
                                    hyper_parameters=(mu,)))


@pytest.mark.parametrize("seed", range(4))
def test_random_two_buffer_rule_matches_the_exact_moment_oracle(seed):
    """Exact recursion == brute-force expansion, in rationals: two buffers, an extra
    hyper-parameter, fractional coefficients, a schedule and non-zero initial buffers."""
    rule = _random_two_buffer_rule(seed)
    d = 1 + seed % 2
    e0 = [[F(3, 2)], [F(3, 5), F(-4, 5)]][d - 1]
    model = SparseLeastSquares(d, F(1, 3), R0=sum(x * x for x in e0), sigma2=F(1, 5))
    schedule = {"lr_schedule": [1, F(1, 2), F(3, 2)]} if seed % 2 else {}
    opt = Optimizer(rule.name, lr=F(1, 4), beta=rule.example_beta(F(2, 5)), batch=2, mu=F(1, 3),
                    **schedule)
    buffers = {"v": [[F(1, 2)] * d], "y": [[F(-1, 3)] + [F(1, 5)] * (d - 1)]}
    initial = {"C": sum(a * b for a, b in zip(e0, buffers["v"][0])),
               "V": sum(b * b for b in buffers["v"][0]),
               "M_{e,y}": sum(a * b for a, b in zip(e0, buffers["y"][0])),
               "M_{v,y}": sum(a * b for a, b in zip(buffers["v"][0], buffers["y"][0])),
               "M_{y,y}": sum(b * b for b in buffers["y"][0])}
    derived = list(exact_risk(model, opt, 3, backend="exact", initial_state=initial))
    assert derived == expanded_risk(model, opt, 3, [e0], initial_buffers=buffers)
    assert list(exact_risk(model, opt, 3, backend="exact")) == expanded_risk(model, opt, 3, [e0])


def test_user_rule_on_every_backend_with_schedule_and_initial_state():
    """numpy, C and mpmath agree with the exact backend for a user rule with two buffers,
    per-row parameters, schedules of lr and μ and a non-zero initial buffer."""
    _two_buffer_rule()
    model = SparseLeastSquares(6, [F(1, 3), F(1, 7), F(1, 2)], R0=[1, 2, F(1, 2)],
                               sigma2=F(1, 10))
    opt = Optimizer("two-buffer", lr=[F(1, 5), F(1, 10), F(1, 8)], beta=F(1, 2), batch=2,
                    mu=F(1, 3), lr_schedule=schedules.warmup(4),
                    schedules={"mu": [1, F(1, 2), 2, 1, F(1, 3), 1, 1, 1]})
    initial = {"V": F(1, 4), "C": [F(1, 10), F(-1, 5), 0]}
    exact = np.array(exact_risk(model, opt, 8, backend="exact", initial_state=initial), float)
    for backend in ("numpy", "c", "mpmath"):
        got = np.array(exact_risk(model, opt, 8, backend=backend, initial_state=initial), float)
        np.testing.assert_allclose(got, exact, rtol=1e-13, atol=0)


def test_scheduled_c_kernel_matches_numpy_on_a_stream():
    """The scheduled C kernel (entries split into per-step monomials × per-row factors)
    gives the NumPy backend's numbers on a token stream, lr and beta both scheduled."""
    rows = 300
    p = np.linspace(0.001, 0.2, rows)
    model = SparseLeastSquares(20, p / p.sum(), R0=1.0, sigma2=0.05)
    opt = Optimizer("nesterov", lr=0.2, beta=0.8, batch=4, lr_schedule=schedules.cosine(150, 0.1),
                    beta_schedule=schedules.step_decay(50, 0.5))
    c = exact_risk(model, opt, 200, backend="c", threads=2)
    numpy = exact_risk(model, opt, 200, backend="numpy")
    np.testing.assert_allclose(c, numpy, rtol=1e-12)


def _refuse_symbolic_splits(monkeypatch) -> None:
    """Replace ``scheduled_expressions`` in every module of ``numerics`` that holds it by a
    function that fails."""
    def refuse(*args):
        raise AssertionError("scheduled_expressions called at run time")

    for name, module in list(sys.modules.items()):
        if name.startswith("numerics") and hasattr(module, "scheduled_expressions"):
            monkeypatch.setattr(module, "scheduled_expressions", refuse)


@pytest.mark.parametrize("backend", ["c", "auto"])
def test_a_scheduled_run_of_shipped_code_does_no_symbolic_work(monkeypatch, backend):
    """The scheduled C kernel's monomials come with the generated module (as data, beside
    its coefficients): a scheduled run of a shipped recursion splits no expression at run
    time (that took 44 ms per call), with ``backend="auto"`` too (its choice between the
    scheduled C kernel and NumPy split the recursion on every call: 11.6 ms vs 0.3 ms)."""
    model = SparseLeastSquares(20, np.linspace(0.01, 0.1, 40), R0=1.0, sigma2=0.05)
    opt = Optimizer("heavy-ball", lr=0.2, beta=0.8, batch=4, lr_schedule=schedules.cosine(30, 0.1),
                    beta_schedule=schedules.step_decay(10, 0.5))
    expected = exact_risk(model, opt, 30, backend="numpy")
    _refuse_symbolic_splits(monkeypatch)
    np.testing.assert_allclose(exact_risk(model, opt, 30, backend=backend), expected, rtol=1e-12)


def test_a_scheduled_auto_run_of_a_user_rule_splits_once():
    """For a user rule the scheduled monomials come with the module printed at run time
    (kept per derivation): after a first run, a scheduled ``backend="auto"`` run does no
    symbolic work."""
    _two_buffer_rule()
    model = SparseLeastSquares(6, [0.3, 0.1, 0.5], R0=1.0, sigma2=0.1)
    opt = Optimizer("two-buffer", lr=0.1, beta=0.5, batch=2, mu=0.3,
                    lr_schedule=schedules.warmup(4), schedules={"mu": [1, 0.5, 2, 1, 1, 1]})
    expected = exact_risk(model, opt, 6, backend="numpy")
    exact_risk(model, opt, 6, backend="auto")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _refuse_symbolic_splits(monkeypatch)
        np.testing.assert_allclose(exact_risk(model, opt, 6, backend="auto"), expected,
                                   rtol=1e-12)


@pytest.mark.parametrize("name", ["heavy-ball-dampened", "nesterov-dampened", "qhm", "ema"])
def test_method_steps_as_its_source_defines_it(name):
    """One update against the formula of the method's source (PyTorch, Ma & Yarats, optax)."""
    rng = np.random.default_rng(0)
    x, b, grad = rng.standard_normal((3, 5))
    lr, beta, t, n = 0.3, 0.8, 0.25, 0.6
    formulas = {
        "heavy-ball-dampened": lambda: (x - lr * (beta * b + (1 - t) * grad), beta * b + (1 - t) * grad),
        "nesterov-dampened": lambda: (x - lr * (grad + beta * (beta * b + (1 - t) * grad)),
                                      beta * b + (1 - t) * grad),
        "qhm": lambda: (x - lr * ((1 - n) * grad + n * (beta * b + (1 - beta) * grad)),
                        beta * b + (1 - beta) * grad),
        "ema": lambda: (x - lr * (beta * b + (1 - beta) * grad), beta * b + (1 - beta) * grad),
    }
    got = apply_update(name, {e: x, v: b}, grad, {S.lr: lr, S.beta: beta, tau: t, nu: n}, 1.0)
    want_e, want_v = formulas[name]()
    np.testing.assert_allclose(got[e], want_e, rtol=1e-14, atol=1e-16)   # rounding order only
    np.testing.assert_allclose(got[v], want_v, rtol=1e-14, atol=1e-16)


#: Dense Monte Carlo vs exact_risk for each method (fixed seeds; harness at α = 0.01).
MONTE_CARLO_CASES = [
    ("heavy-ball-dampened", dict(tau=0.3), {}),
    ("nesterov-dampened", dict(tau=0.5), {}),
    ("qhm", dict(nu=0.7), {}),
    ("ema", {}, {}),
    ("heavy-ball", dict(lr_schedule=schedules.cosine(30, 0.2)), {}),
    ("qhm", dict(beta_schedule=schedules.warmup(10)), {}),
    ("heavy-ball", {}, {"C": [0.2, -0.1], "V": [0.5, 0.3]}),
]


@pytest.mark.parametrize("name,extra,initial", MONTE_CARLO_CASES)
def test_dense_monte_carlo_matches_exact_risk(name, extra, initial):
    model = SparseLeastSquares(4, [0.3, 0.6], R0=[1.0, 0.5], sigma2=0.1)
    opt = Optimizer(name, lr=0.15, beta=0.6, batch=2, **extra)
    mc = monte_carlo_risk(model, opt, 30, 2000, seed=3, keep_trajectories=True,
                          initial_state=initial or None)
    comparison = compare_with_theory(mc.trajectories,
                                     exact_risk(model, opt, 30, initial_state=initial or None))
    assert comparison.passed, str(comparison)


def test_sparse_monte_carlo_of_a_two_buffer_rule():
    """The sparse simulator's idle stretches (two decaying modes, μ and β) for a user rule."""
    _two_buffer_rule()
    model = SparseLeastSquares(4, [0.05, 0.1, 0.2], R0=1.0, sigma2=0.1)
    opt = Optimizer("two-buffer", lr=0.1, beta=0.6, batch=2, mu=0.5)
    mc = sparse_monte_carlo_risk(model, opt, 60, 2000, seed=4, keep_trajectories=True)
    comparison = compare_with_theory(mc.trajectories, exact_risk(model, opt, 60))
    assert comparison.passed, str(comparison)


@pytest.mark.parametrize("name,extra,iterate", [
    ("heavy-ball", dict(lr_schedule=schedules.cosine(60, 0.2),
                        beta_schedule=schedules.step_decay(20, F(1, 2))), "e"),
    ("dana", dict(g3=0.02, delta=1.0, schedules=schedules.dana_decaying(1.0)), "e"),
    ("hb-avg", dict(avg=0.9), "ebar"),
])
def test_sparse_monte_carlo_with_schedules_and_averaging(name, extra, iterate):
    """The sparse simulator catches idle rows up through the product of each missed step's
    idle map, so schedules and an averaged iterate need nothing special."""
    register_rule(averaged("heavy-ball", name="hb-avg"))
    model = SparseLeastSquares(4, [0.05, 0.1, 0.2], R0=1.0, sigma2=0.1)
    opt = Optimizer(name, lr=0.1, beta=0.6 if name != "dana" else 0, batch=2, **extra)
    mc = sparse_monte_carlo_risk(model, opt, 60, 2000, seed=8, keep_trajectories=True,
                                 iterate=iterate)
    comparison = compare_with_theory(mc.trajectories, exact_risk(model, opt, 60, iterate=iterate))
    assert comparison.passed, str(comparison)


def test_derived_state_and_parameters_of_a_two_buffer_rule():
    rule = _two_buffer_rule()
    rec = derive_recursion("lsq", rule.name)
    assert [s.name for s in rec.state] == ["R", "C", "M_{e,y}", "V", "M_{v,y}", "M_{y,y}"]
    assert rec.parameters[-1] == mu and rec.hyper_parameters == (S.lr, S.beta, mu)


@pytest.mark.parametrize("kwargs,message", [
    ({}, r"needs hyper-parameter\(s\) \['mu'\]"),
    ({"mu": 0.5, "nu": 1}, r"has no hyper-parameter\(s\) \['nu'\]"),
    ({"mu": 1.0}, r"mu must be < 1"),
    ({"mu": 0.5, "lr_schedule": [1, 1]}, r"lr schedule has 2 multipliers; the run needs one per step, 5"),
    ({"mu": 0.5, "beta_schedule": [1, 1, 3, 1, 1]}, r"beta schedule at step 2 .*beta must be < 1"),
    ({"mu": 0.5, "schedules": {"rho": [1] * 5}}, r"schedules name unknown hyper-parameter\(s\) \['rho'\]"),
    ({"mu": 0.5, "lr_schedule": 0.5}, r"lr schedule must be a 1-D array"),
])
def test_bad_hyper_parameters_and_schedules(kwargs, message):
    _two_buffer_rule()
    model = SparseLeastSquares(3, 0.5)
    with pytest.raises(ValueError, match=message):
        exact_risk(model, Optimizer("two-buffer", lr=0.1, beta=0.5, **kwargs), 5)


def test_schedule_check_by_extremes_is_the_check_of_every_value():
    """Scheduled values are checked from the products of extremes (rows × steps products
    stand or fall with those four): on random exact and float bases, per row and scalar,
    and multipliers that straddle, touch and stay inside the bounds of β ∈ [0, 1) and
    η > 0, a schedule is refused exactly when some value ``base_r · s_k`` is out, and
    the message names the first such step."""
    rng = random.Random(7)
    picks = [F(0), F(1, 2), F(1), F(3, 2), F(-1, 4), 0.0, 0.999, 1.0, 1.25, -0.5, 2.0]
    refused = accepted = 0
    for _ in range(300):
        exact = rng.random() < 0.5
        rows = rng.choice([None, 1, 3])
        def number():
            return rng.choice([F(1, 4), F(1, 2), F(9, 10)]) if exact else rng.uniform(0.05, 0.95)
        base = number() if rows is None else [number() for _ in range(rows)]
        mult = [rng.choice(picks) if rng.random() < 0.3 else (F(1) if exact else 1.0)
                for _ in range(rng.randint(1, 6))]
        key = rng.choice(["beta", "lr"])
        values = {"lr": 0.1, "beta": 0.5, key: base}
        opt = Optimizer("heavy-ball", **values, schedules={key: mult})
        spec = opt.specs[key]
        lower_ok = (lambda x: x > spec.lower) if spec.lower_open else (lambda x: x >= spec.lower)
        upper_ok = ((lambda x: True) if spec.upper is None else
                    (lambda x: x < spec.upper) if spec.upper_open else (lambda x: x <= spec.upper))
        rows_of_base = np.atleast_1d(np.asarray(base, dtype=object))
        bad = [k for k, m in enumerate(mult)
               if not all(lower_ok(b * m) and upper_ok(b * m) for b in rows_of_base)]
        if bad:
            refused += 1
            with pytest.raises(ValueError, match=rf"{key} schedule at step {bad[0]} "):
                opt.multipliers(len(mult))
        else:
            accepted += 1
            assert list(opt.multipliers(len(mult))[opt.specs[key].symbol]) == mult
    assert refused > 50 and accepted > 50


@pytest.mark.parametrize("initial,message", [
    ({"R": 1}, r"must not give R"),
    ({"W": 1}, r"initial_state names \['W'\]"),
    ({"C": 2.0, "V": 1.0}, r"not those of real vectors"),
])
def test_bad_initial_state(initial, message):
    with pytest.raises(ValueError, match=message):
        exact_risk(SparseLeastSquares(3, 0.5), Optimizer("heavy-ball", lr=0.1, beta=0.5), 5,
                   initial_state=initial)


def test_schedules_refused_where_they_cannot_apply():
    model = SparseLeastSquares(3, [0.2, 0.3])
    opt = Optimizer("heavy-ball", lr=0.1, beta=0.5, lr_schedule=schedules.inverse_time(10))
    with pytest.raises(ValueError, match="time must be 'steps' for a scheduled optimizer"):
        exact_risk(model, opt, 5, time="active")


@pytest.mark.parametrize("build,message", [
    (lambda: UpdateRule("bad", (e, v), lambda x, gr: {e: x[e] - mu * gr, v: x[v]}, "", ""),
     r"has symbols \['mu'\].*declare them in hyper_parameters"),
    (lambda: UpdateRule("bad", (e,), lambda x, gr: {e: x[e] - S.lr * gr}, "", "",
                        hyper_parameters=(sp.Symbol("lr"),)), r"hyper-parameter name 'lr'"),
    (lambda: UpdateRule("bad", (v, e), lambda x, gr: {e: x[e], v: x[v]}, "", ""),
     r"state must start with the error e"),
    (lambda: UpdateRule("bad", (e, g), lambda x, gr: {e: x[e], g: x[g]}, "", ""),
     r"buffers must be SymPy symbols named other than g, mu_hat"),
])
def test_register_rule_refuses_bad_definitions(build, message):
    with pytest.raises(ValueError, match=message):
        register_rule(build())


def test_built_in_methods_cannot_be_unregistered():
    with pytest.raises(ValueError, match="built in"):
        unregister_rule("qhm")


def test_ready_made_schedules():
    assert list(schedules.warmup(4).multipliers(6, "s")) == [F(1, 4), F(1, 2), F(3, 4), 1, 1, 1]
    assert list(schedules.step_decay(2, F(1, 2)).multipliers(5, "s")) == [1, 1, F(1, 2), F(1, 2),
                                                                          F(1, 4)]
    assert list(schedules.inverse_time(2).multipliers(3, "s")) == [1, F(2, 3), F(1, 2)]
    c = schedules.cosine(10, 0.1).multipliers(12, "s")
    assert c[0] == 1.0 and abs(c[10] - 0.1) < 1e-15 and c[11] == c[10]
    assert schedules.logarithmic().multipliers(3, "s")[0] == 1.0


def test_dana_steps_as_its_authors_define_it():
    """y ← (1 − Δ) y + γ1 g, θ ← θ − (γ2 g + γ3 y) (the authors' optax dana_optimizer,
    γ2 = lr)."""
    rng = np.random.default_rng(1)
    x, b, grad = rng.standard_normal((3, 5))
    lr, gamma1, gamma3, Delta = 0.3, 0.9, 0.05, 0.2
    got = apply_update("dana", {e: x, y_dana: b}, grad,
                       {S.lr: lr, S.beta: 0, g1: gamma1, g3: gamma3, delta: Delta}, 1.0)
    y_new = (1 - Delta) * b + gamma1 * grad
    np.testing.assert_allclose(got[y_dana], y_new, rtol=1e-14)
    np.testing.assert_allclose(got[e], x - (lr * grad + gamma3 * y_new), rtol=1e-14, atol=1e-16)


def test_dana_decaying_exact_and_monte_carlo():
    """DANA-decaying = the rule dana with schedules of γ3 and Δ: exact == the oracle in
    rationals (schedule given exactly), and dense Monte Carlo agrees with exact_risk."""
    model = SparseLeastSquares(1, F(1, 3), R0=F(9, 4), sigma2=F(1, 5))
    opt = Optimizer("dana", lr=F(1, 8), batch=2, g3=F(1, 10), delta=1,
                    schedules={"delta": [1, F(6, 7), F(3, 4)], "g3": [1, F(1, 2), F(1, 3)]})
    assert list(exact_risk(model, opt, 3, backend="exact")) == \
        expanded_risk(model, opt, 3, [[F(3, 2)]])
    model = SparseLeastSquares(6, [0.3, 0.6], R0=1.0, sigma2=0.1)
    opt = Optimizer("dana", lr=0.1, batch=2, g3=0.02, delta=1.0,
                    schedules=schedules.dana_decaying(1.0))
    mc = monte_carlo_risk(model, opt, 40, 2000, seed=5, keep_trajectories=True)
    comparison = compare_with_theory(mc.trajectories, exact_risk(model, opt, 40))
    assert comparison.passed, str(comparison)


def test_averaged_iterate_risk():
    """θ̄ ← γ θ̄ + (1 − γ) θ' (θ̄_0 = θ_0): the averaged iterate's risk is exact against the
    oracle (uniform Polyak average: γ_k = (k + 1)/(k + 2)) and Monte Carlo agrees (EMA)."""
    register_rule(averaged("heavy-ball", name="hb-avg"))
    model = SparseLeastSquares(1, F(1, 3), R0=F(9, 4), sigma2=F(1, 5))
    opt = Optimizer("hb-avg", lr=F(1, 4), beta=F(1, 2), batch=2, avg=1,
                    schedules={"avg": schedules.polyak()})
    for iterate in ("e", "ebar"):
        assert list(exact_risk(model, opt, 3, backend="exact", iterate=iterate)) == \
            expanded_risk(model, opt, 3, [[F(3, 2)]], iterate=iterate)
    model = SparseLeastSquares(4, [0.3, 0.6], R0=1.0, sigma2=0.1)
    opt = Optimizer("hb-avg", lr=0.15, beta=0.6, batch=2, avg=0.9)
    mc = monte_carlo_risk(model, opt, 30, 2000, seed=3, keep_trajectories=True, iterate="ebar")
    comparison = compare_with_theory(mc.trajectories, exact_risk(model, opt, 30, iterate="ebar"))
    assert comparison.passed, str(comparison)
    with pytest.raises(ValueError, match=r"iterate must be a state vector of 'hb-avg'"):
        exact_risk(model, opt, 3, iterate="theta")


def test_closed_forms_stability_and_phases_need_constant_hyper_parameters():
    model = SparseLeastSquares(3, F(1, 2))
    opt = Optimizer("heavy-ball", lr=F(1, 10), beta=F(1, 2), lr_schedule=schedules.warmup(3))
    for call in (lambda: closed_form_risk(model, opt, [1, 2]), lambda: is_stable(model, opt),
                 lambda: spectral_radius(model, opt), lambda: row_phases(model, opt)):
        with pytest.raises(ValueError, match="needs constant hyper-parameters; this optimizer "
                                             "schedules lr"):
            call()


def test_a_rule_not_polynomial_in_its_hyper_parameters_is_scheduled_without_the_c_kernel():
    """lr/(1 + μ) has no split into monomials: "auto" iterates the schedule with NumPy, "c"
    says why it cannot."""
    register_rule(UpdateRule("two-buffer", (e,), lambda x, gr: {e: x[e] - S.lr / (1 + mu) * gr},
                             "", "", hyper_parameters=(mu,)))
    model = SparseLeastSquares(3, [F(1, 2), F(1, 4)], sigma2=F(1, 10))
    opt = Optimizer("two-buffer", lr=F(1, 5), mu=F(1, 2), lr_schedule=[1, F(1, 2), 2, 1])
    exact = np.array(exact_risk(model, opt, 4, backend="exact"), dtype=float)
    np.testing.assert_allclose(exact_risk(model, opt, 4), exact, rtol=1e-13)
    with pytest.raises(ValueError, match="not polynomial in its hyper-parameters"):
        exact_risk(model, opt, 4, backend="c")


def test_a_two_buffer_rule_gets_its_latex_and_clear_limits_on_symbolic_forms():
    """Six moments: the document carries the recursion, characteristic polynomial and
    timescales and says why the closed forms are omitted; asking for them symbolically is
    a ValueError naming the way out; the numeric closed form and stability still work."""
    _two_buffer_rule()
    document = latex_document("lsq", "two-buffer", "steps")
    assert "Characteristic polynomial" in document and "not derived symbolically" in document
    with pytest.raises(ValueError, match="at most 3 moments .*Use exact_risk"):
        closed_form(derive_recursion("lsq", "two-buffer"))
    with pytest.raises(ValueError, match="derived up to degree 4.*is_stable"):
        stability_conditions("lsq", "two-buffer")
    model = SparseLeastSquares(3, F(1, 2))
    opt = Optimizer("two-buffer", lr=F(1, 10), beta=F(1, 2), mu=F(1, 2))
    exact = exact_risk(model, opt, 5, backend="exact")
    closed = closed_form_risk(model, opt, [1, 5])
    assert all(abs(c / float(exact[k]) - 1) < 1e-30 for c, k in zip(closed, (1, 5)))
    assert is_stable(model, opt)


def test_a_rule_with_an_algebraic_coefficient_is_derived_and_compiled():
    """A coefficient that is not a rational function of the parameters (``√β``): the
    exact field arithmetic takes ``√β`` as a generator of its own, and the C kernel
    calls ``pow(·, 3/2)`` lane by lane with the number broadcast; C agrees with NumPy on
    both clocks, and the stationary risk is ``lim (1 − z) F(z)`` exactly (β = 9/16)."""
    def step(x, grad):
        v_new = sp.sqrt(S.beta) * x[v] + grad
        return {e: x[e] - S.lr * v_new, v: v_new}
    register_rule(UpdateRule("sqrt-momentum", (e, v), step, "v ← √β v + g, θ ← θ − η v",
                             r"v \leftarrow \sqrt{\beta} v + g,\ \theta \leftarrow \theta - \eta v"))
    model = SparseLeastSquares(d=20, p=np.linspace(0.01, 0.5, 11), R0=1.0, sigma2=0.1)
    opt = Optimizer("sqrt-momentum", lr=0.02, beta=0.5, batch=3)
    for time in ("steps", "active"):
        np.testing.assert_allclose(exact_risk(model, opt, 40, backend="c", time=time),
                                   exact_risk(model, opt, 40, backend="numpy", time=time),
                                   rtol=1e-12, atol=0)
    rec = derive_recursion("lsq", "sqrt-momentum", "steps")
    at = {S.lr: sp.Rational(1, 50), S.beta: sp.Rational(9, 16), S.p: sp.Rational(1, 5),
          S.batch: 3, S.d: 20, S.sigma2: sp.Rational(1, 10), R0: 1}
    z = sp.Symbol("z")
    limit = sp.cancel(((1 - z) * generating_function(rec)).xreplace(at)).subs(z, 1)
    assert limit == stationary_risk(rec).xreplace(at) and limit.is_Rational and limit > 0
