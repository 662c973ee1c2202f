"""Regression tests of the user-extension path (issue 30): each of these gave a wrong
number, a stale result or a bare SymPy error before, with no word to the user."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from sparsemom.derivations import symbols as S
from sparsemom.derivations.core.vectors import NonLinearStep
from sparsemom.derivations.definitions.optimizers import (
    HyperParameter,
    UpdateRule,
    e,
    register_rule,
    unregister_rule,
    update_rule,
)
from sparsemom.derivations.engine.recursion import derive_recursion
from sparsemom.derivations.properties.timescales import timescales
from sparsemom.numerics import exact_risk
from sparsemom.numerics.codegen.expressions import kernel_expressions
from sparsemom.numerics.codegen.sources import _coefficient_names, _PairStep, _vector_name
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.kernels.horizon_risk import row_risk_at

NAMES = ("probe-rule", "probe-rule-2")


@pytest.fixture(autouse=True)
def _forget_rules():
    yield
    for name in NAMES:
        try:
            unregister_rule(name)
        except ValueError:
            pass


def _heavy_ball_with(buffer: sp.Symbol, name: str = "probe-rule", scale=1) -> UpdateRule:
    def step(x, grad):
        new = S.beta * x[buffer] + grad
        return {e: x[e] - S.lr * scale * new, buffer: new}
    return UpdateRule(name, (e, buffer), step, "heavy ball", "heavy ball")


# -- the C kernel's coefficient names -------------------------------------------------
def test_c_names_of_the_coefficients_never_collide():
    """``A{i}{j}`` made entries (1, 10) and (11, 0) one name from 11 moments on (a 4-buffer
    rule): the C kernel then read one coefficient for both (NumPy 0.1948, C 0.0103)."""
    for n in (1, 3, 11, 15, 28, 120):
        keys = [("A", i, j) for i in range(n) for j in range(n)] + \
            [(kind, i) for kind in "cwxqu" for i in range(n)] + [("ws",)]
        keys += [("P", i, j) for i in range(n) for j in range(n)]
        assert len({_vector_name(k) for k in keys}) == len(keys)


def test_the_kernel_of_a_four_buffer_rule_names_each_coefficient_once():
    b = sp.symbols("b1 b2 b3")
    v = sp.Symbol("v")

    def step(x, grad):
        new = {v: S.beta * x[v] + grad}
        previous = new[v]
        for u in b:
            new[u] = S.beta * x[u] + previous / 2
            previous = new[u]
        return {e: x[e] - S.lr * (new[v] + new[b[2]] / 3), **new}
    register_rule(UpdateRule("probe-rule", (e, v, *b), step, "four buffers", "four buffers"))
    kx = kernel_expressions(derive_recursion("lsq", "probe-rule"))
    names = _coefficient_names(kx)
    keys = [*names, *_PairStep(names, kx.size).terms]
    old_style = [k[0] + "".join(map(str, k[1:])) for k in keys]
    assert kx.size == 15 and len(set(old_style)) < len(old_style)  # the old names collided
    printed = [_vector_name(k) for k in keys]
    assert len(set(printed)) == len(printed)


# -- buffer names the engine uses itself -----------------------------------------------
@pytest.mark.parametrize("name", ["x_1", "x_2", "w", "m_1", "xi_1", "a", "x", "R", "p_B"])
def test_a_buffer_named_like_an_engine_symbol_derives_the_same_recursion(name):
    """A buffer ``x_1`` was taken for the Gaussian input of sample 1, a buffer ``w`` for
    the probe of the mean map: other recursions, no error."""
    register_rule(_heavy_ball_with(sp.Symbol(name)))
    plain = derive_recursion("lsq", "heavy-ball")
    probe = derive_recursion("lsq", "probe-rule")
    assert probe.transition == plain.transition and probe.forcing == plain.forcing
    assert probe.mean_transition == plain.mean_transition


def test_timescales_of_a_rule_with_a_buffer_named_w_are_finite():
    register_rule(_heavy_ball_with(sp.Symbol("w")))
    values = {S.lr: sp.Rational(1, 10), S.beta: sp.Rational(1, 2), S.p: sp.Rational(1, 3),
              S.batch: 2, S.d: 4}
    got = timescales("lsq", "probe-rule")
    want = timescales("lsq", "heavy-ball")
    for field in ("retention", "learning"):
        a, b = (sp.sympify(getattr(t, field)).xreplace(values) for t in (got, want))
        assert a == b and math.isfinite(float(a))


@pytest.mark.parametrize("name", ["g", "mu_hat"])
def test_a_buffer_named_like_an_engine_vector_is_refused(name):
    with pytest.raises(ValueError, match="buffers must be SymPy symbols named other than"):
        register_rule(_heavy_ball_with(sp.Symbol(name)))


@pytest.mark.parametrize("symbol", [sp.Symbol("R"), sp.Symbol("z"), sp.Symbol("lambda"),
                                    sp.Symbol("kappa", real=True), sp.Symbol("W", positive=True),
                                    sp.Symbol("lambda_1"), sp.Symbol("a_12"), sp.Symbol("chi_2")])
def test_a_hyper_parameter_that_is_an_engine_symbol_is_refused(symbol):
    """``R`` is a state symbol, ``z`` the generating-function variable, ``kappa`` a
    scaling exponent, ``lambda_1`` a root of Sylvester's formula (the closed form of a
    rule with a hyper-parameter ``lambda_1`` came out 0.195 for 0.235): a hyper-parameter
    equal to one would be taken for it."""
    def step(x, grad):
        return {e: x[e] - S.lr * symbol * grad}
    with pytest.raises(ValueError, match=rf"{symbol.name}"):
        register_rule(UpdateRule("probe-rule", (e,), step, "", "", hyper_parameters=(symbol,)))


def test_a_buffer_and_a_hyper_parameter_may_not_share_a_name():
    nu = sp.Symbol("nu", nonnegative=True)

    def step(x, grad):
        u = sp.Symbol("nu")
        new = nu * x[u] + grad
        return {e: x[e] - S.lr * new, u: new}
    with pytest.raises(ValueError, match="has the name of a state vector"):
        register_rule(UpdateRule("probe-rule", (e, sp.Symbol("nu")), step, "", "",
                                 hyper_parameters=(nu,)))


# -- a redefined rule and the optimizers made before -------------------------------------
def test_an_optimizer_made_before_its_rule_was_redefined_is_refused():
    """It silently ran the new rule (and skipped the new rule's β check)."""
    register_rule(_heavy_ball_with(sp.Symbol("v")))
    old = Optimizer("probe-rule", lr=0.1, beta=0.5)
    model = SparseLeastSquares(d=4, p=0.5)
    before = exact_risk(model, old, 5)
    register_rule(_heavy_ball_with(sp.Symbol("v"), scale=2), replace=True)
    with pytest.raises(ValueError, match="redefined or unregistered: make the Optimizer again"):
        exact_risk(model, old, 5)
    new = Optimizer("probe-rule", lr=0.1, beta=0.5)
    assert not np.allclose(exact_risk(model, new, 5), before)
    unregister_rule("probe-rule")
    with pytest.raises(ValueError, match="redefined or unregistered"):
        exact_risk(model, new, 5)


def test_registering_the_same_definition_again_is_a_no_op():
    """A re-run notebook cell: a new rule object with the same definition."""
    first = register_rule(_heavy_ball_with(sp.Symbol("v")))
    optimizer = Optimizer("probe-rule", lr=0.1, beta=0.5)
    again = register_rule(_heavy_ball_with(sp.Symbol("v")))
    assert again is first and update_rule("probe-rule") is first
    exact_risk(SparseLeastSquares(d=4, p=0.5), optimizer, 3)  # still valid


def test_another_definition_under_a_registered_name_needs_replace():
    register_rule(_heavy_ball_with(sp.Symbol("v")))
    with pytest.raises(ValueError, match="another definition; pass replace=True"):
        register_rule(_heavy_ball_with(sp.Symbol("v"), scale=2))
    first = derive_recursion("lsq", "probe-rule")
    register_rule(_heavy_ball_with(sp.Symbol("v"), scale=2), replace=True)
    assert derive_recursion("lsq", "probe-rule").transition != first.transition
    with pytest.raises(ValueError, match="built in and cannot be replaced"):
        register_rule(_heavy_ball_with(sp.Symbol("v"), name="heavy-ball"), replace=True)


def test_definitions_differ_exactly_when_the_rules_differ():
    one, same = (_heavy_ball_with(sp.Symbol("v")) for _ in range(2))
    assert one.definition == same.definition
    assert one.definition != _heavy_ball_with(sp.Symbol("v"), scale=2).definition
    assert one.definition != _heavy_ball_with(sp.Symbol("u")).definition
    bounded = UpdateRule("probe-rule", (e,), lambda x, g: {e: x[e]}, "", "",
                         hyper_parameters=(HyperParameter(sp.Symbol("q"), lower=0),))
    wider = UpdateRule("probe-rule", (e,), lambda x, g: {e: x[e]}, "", "",
                       hyper_parameters=(HyperParameter(sp.Symbol("q"), lower=-1),))
    assert bounded.definition != wider.definition


# -- what a rule may not do ------------------------------------------------------------
@pytest.mark.parametrize("step,message", [
    (lambda x, g: {e: x[e] * x[e]}, r"multiplies the vector e by the vector e"),
    (lambda x, g: {e: x[e] - S.lr * x[e] * g}, r"multiplies the vector e\*eta by the vector g"),
    (lambda x, g: {e: x[e] ** 2}, r"raises the vector e to the power 2"),
    (lambda x, g: {e: x[e] + 1}, r"a vector plus the scalar 1"),
    (lambda x, g: {e: 1 / x[e]}, r"divides 1 by the vector e"),
    (lambda x, g: {e: x[e] / g}, r"divides the vector e by the vector g"),
    (lambda x, g: {e: sp.sin(x[e])}, r"must be linear in its state vectors"),
])
def test_a_non_linear_step_is_refused_naming_the_term(step, message):
    with pytest.raises(ValueError, match=message):
        register_rule(UpdateRule("probe-rule", (e,), step, "", ""))


def test_a_float_coefficient_is_refused_with_the_exact_fix():
    def step(x, grad):
        return {e: x[e] - 0.9 * S.lr * grad}
    with pytest.raises(ValueError, match=r"float\(s\) 0\.9.*sp\.Rational\(9, 10\)"):
        register_rule(UpdateRule("probe-rule", (e,), step, "", ""))
    assert issubclass(NonLinearStep, ValueError)


# -- row_risk_at and schedules ---------------------------------------------------------
def test_row_risk_at_refuses_a_scheduled_optimizer():
    """It ignored the schedule (0.0184 instead of 0.1126)."""
    model = SparseLeastSquares(d=4, p=[0.5, 0.25])
    scheduled = Optimizer("heavy-ball", lr=0.1, beta=0.5, lr_schedule=lambda k: 1 / (1 + k))
    with pytest.raises(ValueError, match="row_risk_at .* needs constant hyper-parameters"):
        row_risk_at(model, scheduled, 10)
    constant = Optimizer("heavy-ball", lr=0.1, beta=0.5)
    np.testing.assert_allclose(row_risk_at(model, constant, 10).sum(),
                               exact_risk(model, constant, 10)[-1], rtol=1e-12)


# -- names of the complements 1 − u, 1 − M in generated code ----------------------------
def _against_exact(name: str, backend: str, **hyper) -> None:
    model = SparseLeastSquares(d=4, p=[1.0, 0.3], R0=1.0, sigma2=0.1)
    optimizer = Optimizer(name, lr=0.1, **hyper)
    exact = np.asarray(exact_risk(model, optimizer, 8, backend="exact"), dtype=float)
    got = np.asarray(exact_risk(model, optimizer, 8, backend=backend), dtype=float)
    np.testing.assert_allclose(got, exact, rtol=1e-12, err_msg=backend)


def test_complements_of_two_products_with_the_same_joined_name_are_two_symbols():
    """``1 − a1·b_c`` and ``1 − a1_b·c`` were both ``one_minus_a1_b_c`` in the scheduled C
    kernel: one of them was computed for both (17 % off with a schedule, no error)."""
    a1, b_c, a1_b, c = units = sp.symbols("a1 b_c a1_b c")

    def step(x, grad):
        new = a1 * b_c * x[v] + (1 - a1 * b_c) * grad
        return {e: x[e] - S.lr * (a1_b * c * grad + (1 - a1_b * c) * new), v: new}
    v = sp.Symbol("v")
    register_rule(UpdateRule("probe-rule", (e, v), step, "products", "products",
                             hyper_parameters=tuple(HyperParameter(u, lower=0, upper=1)
                                                    for u in units)))
    _against_exact("probe-rule", "c", a1=0.9, b_c=0.8, a1_b=0.3, c=0.5,
                   schedules={"a1": lambda k: 1 / (1 + k / 10)})


def test_complements_of_names_python_reads_as_one_are_two_symbols():
    """``one_minus_ｂ`` (a full-width b) is ``one_minus_b`` to Python (identifiers are
    NFKC-normalised): the NumPy and mpmath code overwrote ``1 − b`` with ``1 − ｂ``."""
    b, wide_b = sp.Symbol("b"), sp.Symbol("\uff42")

    def step(x, grad):
        new = b * x[v] + (1 - b) * grad
        return {e: x[e] - S.lr * ((1 - wide_b) * grad + wide_b * new), v: new}
    v = sp.Symbol("v")
    register_rule(UpdateRule("probe-rule", (e, v), step, "confusable", "confusable",
                             hyper_parameters=(HyperParameter(b, lower=0, upper=1),
                                               HyperParameter(wide_b, lower=0, upper=1))))
    for backend in ("numpy", "mpmath", "c"):
        _against_exact("probe-rule", backend, **{"b": 0.9, "\uff42": 0.2})


# -- found by an adversarial review ----------------------------------------------------
def _ema_with(tau: sp.Symbol, upper) -> UpdateRule:
    def step(x, grad):
        new = tau * x[sp.Symbol("v")] + (1 - tau) * grad
        return {e: x[e] - S.lr * new, sp.Symbol("v"): new}
    return UpdateRule("probe-rule", (e, sp.Symbol("v")), step, "ema", "ema",
                      hyper_parameters=(HyperParameter(tau, lower=0, upper=upper),))


def test_code_printed_for_one_interval_is_never_used_for_another():
    """Whether float code keeps ``1 − τ`` apart depends on τ's declared interval; it was
    looked up by the rule's name at print time and not part of the fingerprint, so a rule
    redefined from ``[0, 2]`` to ``[0, 1]`` kept the old code (1.3 % off at 1 − τ = 1e-8)."""
    tau = sp.Symbol("tau2", nonnegative=True)
    register_rule(_ema_with(tau, 2))
    wide = derive_recursion("lsq", "probe-rule")
    register_rule(_ema_with(tau, 1), replace=True)
    unit = derive_recursion("lsq", "probe-rule")
    assert wide.transition == unit.transition and wide.fingerprint != unit.fingerprint
    assert tau not in wide.unit_interval and tau in unit.unit_interval
    model = SparseLeastSquares(d=2, p=1.0, R0=1.0, sigma2=0.1)
    optimizer = Optimizer("probe-rule", lr=1e6, tau2=1 - 1e-8)
    reference = np.array(exact_risk(model, optimizer, 50, backend="mpmath", dps=60), dtype=float)
    for backend in ("numpy", "c"):
        np.testing.assert_allclose(exact_risk(model, optimizer, 50, backend=backend), reference,
                                   rtol=1e-12)


@pytest.mark.parametrize("coefficient,message", [
    (sp.I, "not a real, finite number"), (sp.oo, "not a real, finite number"),
    (sp.zoo, "not a real, finite number"), (sp.Integer(10) ** 400, "outside float64's range"),
    (sp.Rational(1, 10 ** 301), "outside float64's range"),
])
def test_coefficients_that_are_not_real_finite_float64_numbers_are_refused(coefficient, message):
    """``I`` gave a NumPy number with only a ComplexWarning; ``10**400`` spent minutes in
    ``factor`` and ended in an OverflowError."""
    with pytest.raises(ValueError, match=message):
        register_rule(UpdateRule("probe-rule", (e,),
                                 lambda x, g: {e: x[e] - S.lr * coefficient * g}, "", ""))


def test_assumptions_that_contradict_the_interval_are_refused():
    """A ``negative`` symbol declared on ``[0, 1]``: SymPy wrote ``Abs(ν)`` as ``−ν`` and the
    numbers were those of another rule."""
    nu = sp.Symbol("nu", negative=True)
    with pytest.raises(ValueError, match="'nu' is declared negative .* admits 0"):
        register_rule(UpdateRule("probe-rule", (e,),
                                 lambda x, g: {e: x[e] - S.lr * sp.Abs(nu) * g}, "", "",
                                 hyper_parameters=(HyperParameter(nu, lower=0, upper=1),)))
    n = sp.Symbol("n", integer=True)
    register_rule(UpdateRule("probe-rule", (e,),
                             lambda x, g: {e: x[e] - S.lr * sp.cos(sp.pi * n) * g}, "", "",
                             hyper_parameters=(HyperParameter(n, lower=0, upper=3),)))
    with pytest.raises(ValueError, match="n must be an integer"):
        Optimizer("probe-rule", lr=0.1, n=0.5)
    assert Optimizer("probe-rule", lr=0.1, n=2).values[n] == 2


def test_the_exact_backend_refuses_an_irrational_coefficient_up_front():
    register_rule(UpdateRule("probe-rule", (e,),
                             lambda x, g: {e: x[e] - S.lr * sp.sqrt(2) * g / 2}, "", ""))
    model, optimizer = SparseLeastSquares(d=2, p=1), Optimizer("probe-rule", lr=0.1)
    with pytest.raises(ValueError, match=r"needs rational numbers.*sqrt\(2\).*backend='mpmath'"):
        exact_risk(model, optimizer, 3, backend="exact")
    np.testing.assert_allclose(exact_risk(model, optimizer, 3, backend="numpy"),
                               np.array(exact_risk(model, optimizer, 3, backend="mpmath"),
                                        dtype=float), rtol=1e-14)
