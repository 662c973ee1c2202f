"""Property test of the user-extension path (issue 30): random linear rules — 1 to 6
buffers named from a pool holding every symbol name the engine uses itself, a
hyper-parameter of their own, fractional coefficients in ``lr``, ``beta``, the step
activity ``a`` and that hyper-parameter, buffers that start at ``e_0`` — registered
through the public API and checked against an exact second-moment oracle written here
from the model's definition, not from the engine.

The oracle propagates the Gram matrix ``G[u, w] = E⟨u, w⟩`` of the state vectors of one
row.  A step maps every state vector to ``s' = Σ_u c_su(a) u + c_sg(a) g`` with ``a`` the
step activity (``P(a = 1) = p_B = 1 − (1 − p)^B``; the batch gradient ``g`` vanishes on an
idle step, so a coefficient of ``g`` is only ever taken at ``a = 1``), and sparse least
squares (``G_b = m_b x_b (⟨x_b, e⟩ − ξ_b)``, ``x_b ~ N(0, I_d)``, ``m_b ~ Bernoulli(p)``) gives

    E⟨u, g⟩ = p G[u, e],     E‖g‖² = (p/B)((d + 2) R + d s²) + ((B − 1)/B) p² R,  R = G[e, e],

so ``G'[s, t] = Σ_{u,w} E[c_su c_tw] G[u, w] + Σ_u (c_su(1) c_tg(1) + c_tu(1) c_sg(1)) p G[u, e]
+ c_sg(1) c_tg(1) E‖g‖²`` with ``E[f(a)] = (1 − p_B) f(0) + p_B f(1)``; the risk is
``Σ_rows ½ p G[e, e]``.
"""

from __future__ import annotations

import keyword
import random
from fractions import Fraction as F

import numpy as np
import pytest
import sympy as sp

from sparsemom.derivations import symbols as S
from sparsemom.derivations.definitions.optimizers import (
    HyperParameter,
    UpdateRule,
    e,
    register_rule,
    unregister_rule,
)
from sparsemom.numerics import exact_risk
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.simulate.harness import compare_with_theory
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk
from sparsemom.numerics.simulate.sparse import sparse_monte_carlo_risk

#: Every name the engine gives a symbol of its own (parameters, sample atoms, probes,
#: moments, closed-form and codegen variables, statistics), names of the generated code
#: (C and Python keywords, the kernel's variables), and ordinary ones.
NAME_POOL = (
    "x", "x_1", "x_2", "w", "mu_hat", "a", "xi", "xi_1", "m_1", "g", "e", "v", "y", "ebar",
    "avg", "w_perp", "R", "C", "V", "R_0", "R0", "M", "eta", "beta", "p", "B", "d", "s", "u",
    "h", "W", "rho", "z", "k", "t", "lambda", "lambda_1", "chi_1", "r_1", "y_1", "a_11",
    "t0", "u0", "p_B", "zero", "out", "arg", "vec", "acc", "mu", "K0", "A0_1", "x0", "y0",
    "numpy", "mpmath", "math", "double", "int", "return", "if", "lr", "batch", "sigma2",
    "tau", "nu", "delta", "g1", "kappa", "gamma", "theta", "epsilon", "P", "e_y", "y_z", "ν",
    "name", "steps",
)
ASSUMPTIONS = ({}, {"nonnegative": True}, {"positive": True}, {"real": True})
D, BATCH, STEPS = 3, 2, 8
P = (F(1, 2), F(1, 5))
R0, SIGMA2 = (F(1), F(3, 2)), F(1, 4)
LR, BETA, HYPER = F(1, 20), F(3, 5), F(2, 3)  # HYPER: every rule's own hyper-parameter


def _coefficient(rng: random.Random, hyper: sp.Symbol) -> sp.Expr:
    scale = sp.Rational(rng.choice([-3, -2, -1, 1, 2, 3]), rng.choice([2, 3, 4, 5, 7]))
    factor = rng.choice([1, S.lr, S.beta, hyper, 1 - S.beta, S.lr * hyper, S.active,
                         S.active * S.beta, 1 - S.active])
    return scale * factor


def _random_rule(rng: random.Random, index: int, buffers: int, hyper: HyperParameter
                 ) -> UpdateRule:
    """``buffers`` buffers with names from the pool; each buffer mixes a few state vectors
    and ``g`` with small coefficients; ``e`` moves by ``−lr`` times a mix (stable steps)."""
    names = rng.sample([n for n in NAME_POOL if n not in ("e", "g", "mu_hat")], buffers)
    state = (e, *(sp.Symbol(n) for n in names))
    h = hyper.symbol
    mix = {u: {w: _coefficient(rng, h) / 4 for w in rng.sample(state, min(2, len(state)))}
           for u in state[1:]}
    into_buffer = {u: _coefficient(rng, h) for u in state[1:]}
    read = {u: _coefficient(rng, h) / 2 for u in state[1:]}
    start = tuple(u for u in state[1:] if rng.random() < 0.2)

    def step(x, grad):
        new = {u: sum((c * x[w] for w, c in mix[u].items()), into_buffer[u] * grad)
               for u in state[1:]}
        direction = grad + sum((read[u] * new[u] for u in state[1:]), 0 * grad)
        return {e: x[e] - S.lr * direction, **new}

    return UpdateRule(f"random-rule-{index}", state, step, "random", "random",
                      hyper_parameters=(hyper,), start_equal_to_error=start)


# -- the oracle ---------------------------------------------------------------------
def _oracle_risk(rule: UpdateRule, values: dict, schedule=None) -> list[F]:
    """``Σ_rows ½ p E‖e_k‖²``, ``k = 0..STEPS``, by the Gram recursion of the module
    docstring, in exact rationals (``values``: the hyper-parameters' rational values;
    ``schedule``: symbol → ``k ↦`` multiplier of step ``k``'s value)."""
    from sparsemom.derivations.definitions.optimizers import g

    new = rule.apply()
    state = rule.state
    n = len(state)

    def coefficients(k: int):
        at = {h: x * (schedule[h](k) if schedule and h in schedule else 1)
              for h, x in values.items()}

        def coeff(s, u, a):
            c = new[s].terms.get(u, 0)
            return F(str(sp.sympify(c).xreplace({**at, S.active: a})))
        return ([[coeff(s, u, 0) for u in state] for s in state],
                [[coeff(s, u, 1) for u in state] for s in state],
                [coeff(s, g, 1) for s in state])

    steps = [coefficients(k) for k in range(STEPS)]
    total = [F(0)] * (STEPS + 1)
    for p, r0 in zip(P, R0):
        p_b = 1 - (1 - p) ** BATCH
        starts = {0} | {state.index(u) for u in rule.start_equal_to_error}
        G = [[r0 if i in starts and j in starts else F(0) for j in range(n)] for i in range(n)]
        for k in range(STEPS + 1):
            total[k] += p * G[0][0] / 2
            if k == STEPS:
                break
            c0, c1, cg = steps[k]
            R = G[0][0]
            grad_energy = p / BATCH * ((D + 2) * R + D * SIGMA2) + F(BATCH - 1, BATCH) * p * p * R
            G = [[sum((1 - p_b) * c0[s][u] * c0[t][w] * G[u][w]
                      + p_b * c1[s][u] * c1[t][w] * G[u][w]
                      for u in range(n) for w in range(n))
                  + sum((c1[s][u] * cg[t] + c1[t][u] * cg[s]) * p * G[u][0] for u in range(n))
                  + cg[s] * cg[t] * grad_energy
                  for t in range(n)] for s in range(n)]
    return total


def _in_unit_interval(symbol: sp.Symbol) -> HyperParameter:
    """``symbol`` declared on ``[0, 1]`` (``(0, 1]`` when it is positive)."""
    return HyperParameter(symbol, lower=0, upper=1, lower_open=bool(symbol.is_positive))


# -- the property -------------------------------------------------------------------
def _register_or_refused(rng: random.Random, index: int, buffers: int):
    """A random rule registered, or ``None`` after checking that its refusal is a clear
    ``ValueError`` about a name."""
    name = rng.choice([n for n in NAME_POOL if n.isidentifier()])
    hyper = _in_unit_interval(sp.Symbol(name, **rng.choice(ASSUMPTIONS)))
    rule = _random_rule(rng, index, buffers, hyper)
    try:
        return register_rule(rule)
    except ValueError as exc:
        message = str(exc)
        assert any(word in message for word in ("name", "engine uses itself")), message
        assert hyper.name in message or any(u.name in message for u in rule.state), message
        return None


def _rules(seed: int, count: int) -> list[UpdateRule]:
    """``count`` registered random rules: at least one of every buffer count 1–6 first,
    then random counts (refused names redrawn)."""
    rng = random.Random(seed)
    rules, index, refused = [], 0, 0
    while len(rules) < count:
        buffers = len(rules) + 1 if len(rules) < 6 else rng.randint(1, 6)
        rule = _register_or_refused(rng, index, buffers)
        index += 1
        if rule is None:
            refused += 1
        else:
            rules.append(rule)
    assert refused < index  # the pool is not all refused names
    return rules


@pytest.fixture(scope="module")
def random_rules():
    rules = _rules(seed=30, count=6)
    yield rules
    for rule in rules:
        unregister_rule(rule.name)


def _values(rule: UpdateRule) -> dict:
    """The rule's hyper-parameter values as SymPy rationals (``β = 0`` if it has no β)."""
    (h,) = rule.specs
    return {S.lr: sp.Rational(LR.numerator, LR.denominator), h.symbol: sp.Rational(2, 3),
            S.beta: sp.Rational(3, 5) if rule.uses_beta else sp.Integer(0)}


def _model_and_optimizer(rule: UpdateRule, exact: bool):
    num = (lambda x: x) if exact else float
    model = SparseLeastSquares(d=D, p=[num(p) for p in P], R0=[num(r) for r in R0],
                               sigma2=num(SIGMA2))
    (h,) = rule.specs
    optimizer = Optimizer(rule.name, lr=num(LR), beta=num(BETA) if rule.uses_beta else 0,
                          batch=BATCH, **{h.name: num(HYPER)})
    return model, optimizer


def test_the_random_rules_cover_every_buffer_count_and_engine_names(random_rules):
    counts = {len(rule.buffers) for rule in random_rules}
    assert counts == {1, 2, 3, 4, 5, 6}
    names = {u.name for rule in random_rules for u in rule.buffers}
    assert names & {"x_1", "w", "a", "x", "xi", "R", "C", "V", "t0", "p_B", "zero"}


def test_exact_backend_equals_the_oracle(random_rules):
    for rule in random_rules:
        model, optimizer = _model_and_optimizer(rule, exact=True)
        oracle = _oracle_risk(rule, _values(rule))
        got = exact_risk(model, optimizer, STEPS, backend="exact")
        assert list(got) == oracle, rule.buffers


@pytest.mark.parametrize("backend", ["numpy", "c", "auto", "mpmath"])
def test_float_backends_agree_with_the_oracle(random_rules, backend):
    for rule in random_rules:
        model, optimizer = _model_and_optimizer(rule, exact=False)
        oracle = np.array([float(x) for x in _oracle_risk(rule, _values(rule))])
        got = np.asarray(exact_risk(model, optimizer, STEPS, backend=backend), dtype=float)
        np.testing.assert_allclose(got, oracle, rtol=1e-12, atol=0,
                                   err_msg=f"{backend}, buffers {rule.buffers}")


def _lr_multiplier(k: int) -> F:
    return F(4, 4 + k)


def _hyper_multiplier(k: int) -> F:
    return F(k % 3 + 2, 4)        # 1/2, 3/4, 1: the value stays in its interval


@pytest.mark.parametrize("backend", ["exact", "numpy", "c", "auto", "mpmath"])
def test_scheduled_rules_agree_with_the_oracle_step_by_step(random_rules, backend):
    """``lr`` and the rule's own hyper-parameter scheduled (exact multipliers): the oracle
    takes each step's values; the exact backend equals it, the others agree to 1e-12 (the
    C backend where the rule has a scheduled kernel: up to 256 per-row factors, here the
    rules of 1 and 2 buffers)."""
    from sparsemom.derivations.engine.recursion import derive_recursion
    from sparsemom.numerics.kernels.backends import generated_module

    for rule in (r for r in random_rules if len(r.buffers) <= 3):
        (h,) = rule.specs
        exact = backend == "exact"
        model, _ = _model_and_optimizer(rule, exact=exact)
        num = (lambda x: x) if exact else float
        optimizer = Optimizer(rule.name, lr=num(LR), beta=num(BETA) if rule.uses_beta else 0,
                              batch=BATCH, lr_schedule=_lr_multiplier,
                              schedules={h.name: _hyper_multiplier}, **{h.name: num(HYPER)})
        oracle = _oracle_risk(rule, _values(rule),
                              {S.lr: _lr_multiplier, h.symbol: _hyper_multiplier})
        if backend == "c" and generated_module(
                derive_recursion("lsq", rule.name)).SCHEDULED_MONOMIALS is None:
            continue
        got = exact_risk(model, optimizer, STEPS, backend=backend)
        if exact:
            assert list(got) == oracle, rule.buffers
        else:
            np.testing.assert_allclose(np.asarray(got, dtype=float), [float(x) for x in oracle],
                                       rtol=1e-12, atol=0, err_msg=f"buffers {rule.buffers}")


def test_monte_carlo_simulators_agree_through_the_harness(random_rules):
    """The dense and the sparse simulator of the rule with the most buffers, against the
    exact curve, through the harness (Holm-corrected t-tests over 40 groups, α = 0.01)."""
    rule = max(random_rules, key=lambda r: len(r.buffers))
    model, optimizer = _model_and_optimizer(rule, exact=False)
    predicted = exact_risk(model, optimizer, STEPS)
    for simulate, seed in ((monte_carlo_risk, 11), (sparse_monte_carlo_risk, 12)):
        mc = simulate(model, optimizer, STEPS, 4000, seed=seed, keep_trajectories=True)
        comparison = compare_with_theory(mc.trajectories, predicted)
        assert comparison.passed, f"{simulate.__name__}: {comparison}"


def test_every_name_a_user_can_type_works_or_is_refused():
    """Every pool name (and a few Python keywords) as the only buffer, and as the
    hyper-parameter, plain and under one assumption drawn per name: registered rules
    agree with the oracle exactly (and a sample of them in floats); refused ones say why."""
    rng = random.Random(7)
    checked = 0
    for name in NAME_POOL + tuple(keyword.kwlist[:5]):
        candidates = [UpdateRule("name-probe", (e, sp.Symbol(name)),
                                 _probe_step(sp.Symbol(name), sp.Symbol("q_hyper")), "probe",
                                 "probe", hyper_parameters=(HyperParameter(
                                     sp.Symbol("q_hyper"), lower=0, upper=1),))]
        if name.isidentifier():
            for assumptions in ({}, rng.choice(ASSUMPTIONS[1:])):
                h = sp.Symbol(name, **assumptions)
                candidates.append(UpdateRule(
                    "name-probe", (e, sp.Symbol("q_buf")), _probe_step(sp.Symbol("q_buf"), h),
                    "probe", "probe", hyper_parameters=(_in_unit_interval(h),)))
        for rule in candidates:
            try:
                register_rule(rule)
            except ValueError as exc:
                assert name in str(exc) or "name" in str(exc), str(exc)
                continue
            try:
                model, optimizer = _model_and_optimizer(rule, exact=True)
                oracle = _oracle_risk(rule, _values(rule))
                assert list(exact_risk(model, optimizer, STEPS, backend="exact")) == oracle
                if rng.random() < 0.15:  # the float path (codegen) on a sample of names
                    model, optimizer = _model_and_optimizer(rule, exact=False)
                    np.testing.assert_allclose(
                        exact_risk(model, optimizer, STEPS, backend="numpy"),
                        [float(x) for x in oracle], rtol=1e-12)
                checked += 1
            finally:
                unregister_rule("name-probe")
    assert checked > len(NAME_POOL)


def _probe_step(buffer: sp.Symbol, h: sp.Symbol):
    def step(x, grad):
        new = S.beta * h * x[buffer] + grad
        return {e: x[e] - S.lr * (grad / 2 + h * new), buffer: new}
    return step
