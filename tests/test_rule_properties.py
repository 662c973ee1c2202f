"""Property test of the derivation engine: random linear update rules.

Any rule linear in ``(e, v, g)`` has an exact second-moment recursion.  Here many
random rules — rational and symbolic coefficients (in ``lr``, ``beta`` and the
step activity ``a``), with and without a buffer — are registered, derived by the
engine, and their risk compared ``==`` in rationals with the brute-force
exact-moment oracle (:mod:`sparsemom.numerics.simulate.exact_moments`), which expands the same rule
in coordinates and takes expectations monomial by monomial.
"""

from __future__ import annotations

import random
from fractions import Fraction as F

import numpy as np
import pytest
import sympy as sp

from sparsemom.derivations import derive_recursion, stability_conditions, timescales
from sparsemom.derivations import symbols as S
from sparsemom.derivations.core.vectors import LinearVector
from sparsemom.derivations.definitions.optimizers import (
    UPDATE_RULES,
    UpdateRule,
    e,
    g,
    register_rule,
    unregister_rule,
    v,
)
from sparsemom.derivations.properties.oscillation import oscillation_discriminant
from sparsemom.numerics import exact_risk
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.simulate.exact_moments import expanded_risk
from sparsemom.numerics.simulate.sparse import idle_maps
from sparsemom.numerics.simulate.update import apply_update

RULES = 24


@pytest.fixture(autouse=True)
def _restore_registry():
    """Rules registered by a test are removed after it (other tests iterate the registry)."""
    before = set(UPDATE_RULES)
    yield
    for name in set(UPDATE_RULES) - before:
        unregister_rule(name)


def _coefficient(rng: random.Random, symbolic: bool) -> sp.Expr:
    """A random rational, optionally times a monomial in lr, beta and a."""
    c = sp.Rational(rng.choice([-3, -2, -1, 1, 2, 3, 5]), rng.choice([1, 2, 3, 4, 7]))
    if symbolic:
        c *= rng.choice([S.lr, S.beta, S.lr * S.beta, 1 - S.beta, S.active, S.active * S.lr, 1])
    return c


def _random_rule(seed: int) -> UpdateRule:
    rng = random.Random(seed)
    buffer = seed % 3 != 0
    symbolic = seed % 2 == 0
    coeff = {(u, w): _coefficient(rng, symbolic) for u in (e, v) for w in (e, v, g)}

    def step(x, grad):
        # e' = e + c_ee e + c_ev v + c_eg g, v' = c_ve e + c_vv v + c_vg g (no v without a buffer)
        atoms = {e: x[e], g: grad, **({v: x[v]} if buffer else {})}
        new_e = x[e] + sum((coeff[e, w] * atoms[w] for w in atoms), 0 * grad)
        if not buffer:
            return {e: new_e}
        new_v = sum((coeff[v, w] * atoms[w] for w in atoms), 0 * grad)
        return {e: new_e, v: new_v}

    name = f"random-linear-rule-{seed}"
    return register_rule(UpdateRule(name, (e, v) if buffer else (e,), step, name, name))


def _case(rule: UpdateRule, seed: int):
    rng = random.Random(1000 + seed)
    d, batch = rng.choice([(1, 1), (1, 2), (2, 1), (2, 2)])
    p = F(rng.choice([1, 2]), rng.choice([3, 5]))
    e0 = [[F(3, 2)], [F(3, 5), F(-4, 5)]][d - 1]
    model = SparseLeastSquares(d, p, R0=sum(x * x for x in e0), sigma2=F(1, 5))
    opt = Optimizer(rule.name, lr=F(1, rng.choice([3, 4, 7])),
                    beta=rule.example_beta(F(rng.choice([1, 3]), 5)), batch=batch)
    return model, opt, [e0]


@pytest.mark.parametrize("seed", range(RULES))
def test_random_linear_rule_matches_the_exact_moment_oracle(seed):
    rule = _random_rule(seed)
    model, opt, e0 = _case(rule, seed)
    steps = 3
    derived = list(exact_risk(model, opt, steps, backend="exact"))
    assert derived == expanded_risk(model, opt, steps, e0)


def test_fractional_coefficient_is_kept():
    """θ ← θ − (η/2) g is sgd at half the learning rate (the /2 was once truncated)."""
    rule = register_rule(UpdateRule("half-lr-sgd", (e,), lambda x, grad: {e: x[e] - S.lr / 2 * grad},
                                    "θ ← θ − (η/2) g", r"\theta \leftarrow \theta - \tfrac{\eta}{2} g"))
    half = derive_recursion("lsq", rule.name).transition
    sgd = derive_recursion("lsq", "sgd").transition.xreplace({S.lr: S.lr / 2})
    assert sp.simplify(half - sgd) == sp.zeros(1, 1)
    assert half[0, 0].xreplace({S.batch: 1, S.d: 1, S.p: 1, S.lr: 1}) == sp.Rational(3, 4)


def test_linear_vector_division_is_exact():
    half = LinearVector.atom(g) / 2
    assert half.coefficient(g) == sp.Rational(1, 2)
    assert (LinearVector.atom(g) / S.batch).coefficient(g) == 1 / S.batch
    with pytest.raises(ZeroDivisionError):
        LinearVector.atom(g) / 0


def test_register_rule_rejects_bad_rules():
    with pytest.raises(ValueError, match="already registered"):
        register_rule(UpdateRule("sgd", (e,), lambda x, grad: {e: x[e] - S.lr * grad}, "", ""))
    with pytest.raises(ValueError, match="symbols"):
        register_rule(UpdateRule("uses-unknown", (e,),
                                 lambda x, grad: {e: x[e] - sp.Symbol("nu") * grad}, "", ""))
    with pytest.raises(ValueError, match="one vector per state vector"):
        register_rule(UpdateRule("drops-buffer", (e, v), lambda x, grad: {e: x[e] - grad}, "", ""))


def test_unregister_rule_keeps_built_ins():
    with pytest.raises(ValueError, match="built in"):
        unregister_rule("sgd")


def _scaled_heavy_ball(scale) -> UpdateRule:
    """``v ← β v + g``, ``θ ← θ − scale·η (β v + g)`` (nesterov-like), named "redefined"."""
    return UpdateRule("redefined", (e, v),
                      lambda st, gr: {v: S.beta * st[v] + gr,
                                      e: st[e] - scale * S.lr * (S.beta * st[v] + gr)},
                      "test rule", r"\text{test rule}")


def test_a_rule_redefined_under_the_same_name_is_derived_afresh_everywhere():
    """A notebook cell that redefines a rule (unregister, register anew under the same
    name) must never get the old rule's derivation back from a cache keyed by names:
    exact risk on every backend, the exact-moment oracle, stability, timescales, the
    discriminant, the sparse simulator's idle maps and the update all follow the new rule."""
    seen = []
    for scale in (1, F(1, 2)):
        register_rule(_scaled_heavy_ball(scale))
        model = SparseLeastSquares(2, F(1, 3), R0=1, sigma2=F(1, 5))
        opt = Optimizer("redefined", lr=F(1, 4), beta=F(1, 2), batch=2)
        exact = list(exact_risk(model, opt, 3, backend="exact"))
        assert exact == expanded_risk(model, opt, 3, [[F(1), F(0)]])
        step = apply_update("redefined", {e: np.array([1.0]), v: np.array([0.0])},
                            np.array([1.0]), {S.lr: 0.25, S.beta: 0.5}, 1.0)
        assert step[e][0] == 1 - float(scale) * 0.25
        seen.append((derive_recursion("lsq", "redefined").fingerprint, exact,
                     float(exact_risk(model, opt, 3, backend="numpy")[-1]),
                     float(exact_risk(model, opt, 3, backend="c")[-1]),
                     stability_conditions("lsq", "redefined"), timescales("lsq", "redefined"),
                     oscillation_discriminant("lsq", "redefined"),
                     tuple(idle_maps("redefined", {S.lr: 0.25, S.beta: 0.5}, {}, 1).ravel())))
        unregister_rule("redefined")
    first, second = seen
    assert all(a != b for a, b in zip(first, second))
    assert first[2] == pytest.approx(float(first[1][-1]), rel=1e-12)
    assert second[3] == pytest.approx(float(second[1][-1]), rel=1e-12)
