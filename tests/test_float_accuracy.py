"""The float backends (NumPy, C) against mpmath on the same float inputs as β → 1
(issue 30): every built-in rule and random user rules, 1 − β log-spaced over
[1e-12, 1], both clocks; the risk is never negative."""

from __future__ import annotations

import random
from fractions import Fraction as F

import mpmath
import numpy as np
import pytest
import sympy as sp

from sparsemom.derivations import symbols as S
from sparsemom.derivations.definitions.averaging import averaged
from sparsemom.derivations.definitions.optimizers import (
    UPDATE_RULES,
    HyperParameter,
    UpdateRule,
    e,
    is_built_in,
    register_rule,
    unregister_rule,
    v,
)
from sparsemom.numerics import exact_risk
from sparsemom.numerics.inputs import schedules
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer

STEPS = 50
#: 1 − β, log-spaced over [1e-12, 1] (1 − β = 1 is β = 0).
GAPS = np.logspace(-12, 0, 7)
#: Three rows: a dense one, a common one and a rare one (B = 4: p_B ≈ 4e-3).
MODEL = SparseLeastSquares(d=2, p=np.array([1.0, 0.3, 1e-3]), R0=1.0, sigma2=0.1)
#: Relative error allowed against mpmath at 60 digits (see test_float_backends_...).
RTOL = 1e-12

#: Hyper-parameters of every built-in rule at 1 − β = b, in the regime of its scaling
#: limits: a buffer fed with (1 − β) g (EMA, QHM, dampening τ = β) keeps η(1 − β) = 0.01,
#: the issue's case; one fed with g keeps η / (1 − β) = 0.01 (heavy ball's effective rate).
BUILT_IN = {
    "sgd": lambda b: dict(lr=0.01),
    "heavy-ball": lambda b: dict(lr=0.01 * b, beta=1 - b),
    "nesterov": lambda b: dict(lr=0.01 * b, beta=1 - b),
    "lazy": lambda b: dict(lr=0.01 * b, beta=1 - b),
    "heavy-ball-dampened": lambda b: dict(lr=0.01 / b, beta=1 - b, tau=1 - b),
    "nesterov-dampened": lambda b: dict(lr=0.01, beta=1 - b, tau=1 - b),
    "qhm": lambda b: dict(lr=0.01 / b, beta=1 - b, nu=1.0),
    "ema": lambda b: dict(lr=0.01 / b, beta=1 - b),
    "dana": lambda b: dict(lr=0.01, g1=1.0, g3=0.01 * b, delta=b),
}

mu = sp.Symbol("mu", nonnegative=True)
y = sp.Symbol("y")


def _random_rule(seed: int) -> tuple[UpdateRule, callable]:
    """A random two-buffer rule — an EMA-type buffer ``v`` (retention β, fed with
    ``c (1 − β) g``), a buffer ``y`` (retention μ ∈ [0, 1], fed with ``c g`` or
    ``c (1 − μ) g``), the error moved by ``−η`` times a random positive mix of ``v``, ``y``
    and none or ``c (1 − β) g`` — and its parameters at 1 − β = b: μ = 1 − √b, η such that
    a unit gradient moves θ by 0.01 over the 50 steps (η ∝ 1/b: the regime where expanded
    polynomials in β cancel)."""
    rng = random.Random(seed)
    fraction = lambda: sp.Rational(rng.randint(1, 5), rng.randint(1, 4))
    gain_v, gain_y = fraction() * (1 - S.beta), fraction() * rng.choice([1, 1 - mu])
    mix_v, mix_y, mix_g = fraction(), fraction(), fraction() * rng.choice([0, 1 - S.beta])

    def step(x, grad):
        v_new = S.beta * x[v] + gain_v * grad
        y_new = mu * x[y] + gain_y * grad
        return {e: x[e] - S.lr * (mix_v * v_new + mix_y * y_new + mix_g * grad), v: v_new, y: y_new}
    name = f"accuracy-random-{seed}"
    rule = register_rule(UpdateRule(name, (e, v, y), step, name, name,
                                    hyper_parameters=(HyperParameter(mu, lower=0, upper=1),)))

    def parameters(b):
        beta, m = 1 - b, 1 - np.sqrt(b)
        at = {S.beta: beta, mu: m}
        # displacement of θ per unit lr by a unit gradient over the horizon
        total = float(sp.sympify(mix_g).subs(at) + mix_v * gain_v.subs(at) * (1 - beta**STEPS) / (1 - beta)
                      + mix_y * gain_y.subs(at) * (1 - m**STEPS) / (1 - m))
        return dict(lr=0.01 / total, beta=beta, mu=m)
    return rule, parameters


USER = ("accuracy-random-0", "accuracy-random-1", "ema-averaged")


@pytest.fixture(scope="module")
def user_rules():
    made = {}
    for seed in (0, 1):
        rule, parameters = _random_rule(seed)
        made[rule.name] = parameters
    register_rule(averaged("ema", name="accuracy-ema-averaged"))
    made["ema-averaged"] = lambda b: dict(lr=0.01 / b, beta=1 - b, avg=1 - b)
    yield made
    for name in ("accuracy-random-0", "accuracy-random-1", "accuracy-ema-averaged"):
        unregister_rule(name)


def _worst_relative_error(name: str, parameters, time: str, iterate: str = "e",
                          **schedules_of) -> float:
    worst = 0.0
    for b in GAPS:
        opt = Optimizer(name, batch=4, **parameters(float(b)), **schedules_of)
        reference = exact_risk(MODEL, opt, STEPS, backend="mpmath", dps=60, time=time,
                               iterate=iterate)
        assert min(reference) > 0
        for backend in ("numpy", "c"):
            risk = exact_risk(MODEL, opt, STEPS, backend=backend, time=time, iterate=iterate)
            assert risk.min() > 0, (name, time, b, backend)
            error = max(abs(mpmath.mpf(float(r)) - x) / x for r, x in zip(risk, reference))
            worst = max(worst, float(error))
    return worst


@pytest.mark.parametrize("time", ["steps", "active"])
@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_float_backends_keep_their_digits_as_beta_tends_to_one(name, time):
    """NumPy and C within 1e-12 relative of mpmath (60 digits, the same float inputs) at
    every step, 1 − β from 1e-12 to 1, and the risk positive.

    The tolerance is the README's promise for the float backends and an absolute one:
    the regimes keep the 50-step map well conditioned (the risk neither overflows nor
    falls to rounding level), so a backward-stable evaluation — coefficients within a few
    ulps of their values at the float inputs, 50 steps of a 3- or 6-moment affine map —
    stays near 1e-14 (measured worst 2.4e-14 over these cases); the expanded polynomials
    in β of the old code lost ``(1 − β)^−2`` ulps (1e-10 at 1 − β = 1e-4, negative risks
    at 1e-10)."""
    assert name in UPDATE_RULES
    assert _worst_relative_error(name, BUILT_IN[name], time) <= RTOL


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_the_scheduled_c_kernel_keeps_its_digits_as_beta_tends_to_one(name):
    """The same with a cosine schedule of ``lr`` (the C kernel's scheduled form: entries
    split into per-step monomials of the multipliers times per-row factors).  The split
    keeps the factors ``1 − β`` (``1 − νβ``, …) whole and computes them from the float
    ``1 − β`` once per row; split in powers of β, as before, EMA lost 15 % at
    1 − β = 1e-8 (heavy ball kept its digits)."""
    assert _worst_relative_error(name, BUILT_IN[name], "steps",
                                 lr_schedule=schedules.cosine(STEPS)) <= RTOL


def test_every_built_in_rule_is_covered():
    assert {n for n in UPDATE_RULES if is_built_in(n)} == set(BUILT_IN)


@pytest.mark.parametrize("name", USER)
def test_user_rules_keep_their_digits_as_beta_tends_to_one(name, user_rules):
    """The same for rules defined by a user (two random two-buffer rules with a
    hyper-parameter μ declared in [0, 1], and EMA with an averaged iterate, averaging
    weight 1 − b): one mechanism for every rule."""
    rule_name = name if name.startswith("accuracy") else f"accuracy-{name}"
    iterate = "ebar" if name == "ema-averaged" else "e"
    assert _worst_relative_error(rule_name, user_rules[name], "steps", iterate) <= RTOL


SCHEDULE = [1, F(1, 2), F(11, 10), F(9, 10), 1, F(3, 4), F(21, 20), 1]


@pytest.mark.parametrize("name, own", [
    ("ema", {}), ("qhm", {"nu": F(7, 10)}), ("heavy-ball-dampened", {"tau": F(1, 2)}),
    ("nesterov-dampened", {"tau": F(1, 3)}), ("lazy", {}),
    ("dana", {"g1": 1, "g3": F(1, 50), "delta": F(1, 2)})])
def test_scheduled_c_kernel_with_every_hyper_parameter_scheduled_is_exact(name, own):
    """Every hyper-parameter scheduled (lr, beta, the rule's own): the C kernel's table of
    per-step monomials, with the complements ``n_M = 1 − M(m)`` of the factors ``1 − β``,
    ``1 − νβ``, …, gives the exact backend's risk (rational arithmetic) to 1e-13."""
    model = SparseLeastSquares(3, [F(1, 3), F(1, 7), F(1, 2)], R0=[1, 2, F(1, 2)],
                               sigma2=F(1, 10))
    rule = UPDATE_RULES[name]
    opt = Optimizer(name, lr=F(1, 10), beta=rule.example_beta(F(9, 10)), batch=2, **own,
                    lr_schedule=SCHEDULE, schedules={k: SCHEDULE[::-1] for k in own},
                    **({"beta_schedule": SCHEDULE[::-1]} if rule.uses_beta else {}))
    exact = np.array(exact_risk(model, opt, 8, backend="exact"), float)
    np.testing.assert_allclose(exact_risk(model, opt, 8, backend="c"), exact, rtol=1e-13, atol=0)
