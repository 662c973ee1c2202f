"""Closed forms vs the iterated recursion at 50 digits; stationary risk."""

import zlib
from fractions import Fraction as F

import mpmath
import numpy as np
import pytest
import sympy as sp
from swept_rules import SWEPT_RULES

from sparsemom.derivations import TIME_RULES, UPDATE_RULES
from sparsemom.derivations import symbols as S
from sparsemom.derivations.engine.moments import R0
from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.derivations.properties.closed_forms import (
    closed_form,
    generating_function,
    stationary_risk,
    z,
)
from sparsemom.numerics import exact_risk
from sparsemom.numerics.analysis.closed_form import closed_form_risk, closed_form_values
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.inputs.parameters import parameter_values

KS = [0, 1, 2, 3, 7, 20, 60]


def random_rational_case(name, rng):
    d, batch = int(rng.integers(1, 30)), int(rng.integers(1, 5))
    p = F(int(rng.integers(1, 20)), 20)
    beta = UPDATE_RULES[name].example_beta(F(int(rng.integers(0, 19)), 20))
    lr = F(int(rng.integers(1, 10)), 10) * F(batch, d + 2 + batch) * (1 - beta)
    model = SparseLeastSquares(d, p, R0=F(int(rng.integers(1, 9)), 4),
                               sigma2=F(int(rng.integers(0, 5)), 10))
    return model, Optimizer(name, lr=lr, beta=beta, batch=batch,
                            **UPDATE_RULES[name].example_hyper_parameters())


def rel_error(closed, exact):
    with mpmath.workdps(70):
        return max(abs(c - mpmath.mpf(e.numerator) / e.denominator)
                   / (mpmath.mpf(e.numerator) / e.denominator) for c, e in zip(closed, exact))


@pytest.mark.parametrize("time", TIME_RULES)
@pytest.mark.parametrize("name", SWEPT_RULES)
def test_closed_form_matches_recursion_at_50_digits(name, time):
    rng = np.random.default_rng(zlib.crc32(f"{name}|{time}".encode()))
    for _ in range(3):
        model, opt = random_rational_case(name, rng)
        exact = exact_risk(model, opt, max(KS), backend="exact", time=time)
        closed = closed_form_risk(model, opt, KS, time=time, dps=50)
        assert rel_error(closed, [exact[k] for k in KS]) < mpmath.mpf("1e-40")


@pytest.mark.parametrize("case", ["repeated root", "zero root (beta = 0)"])
def test_closed_form_with_repeated_roots(case):
    """χ = (8λ − 3)²(9λ − 8)/576 at η = 1/12, p = 1/2, d = 2, β = 1/2, B = 1 (a double
    root); β = 0 gives a double root λ = 0."""
    if case == "repeated root":
        model, opt = SparseLeastSquares(2, F(1, 2), 1, F(1, 5)), \
            Optimizer("heavy-ball", lr=F(1, 12), beta=F(1, 2))
        rec = recursion_for(model, opt)
        vals = {S.lr: F(1, 12), S.beta: F(1, 2), S.p: F(1, 2), S.batch: 1, S.d: 2,
                S.sigma2: F(1, 5), R0: 1}
        form = closed_form_values(rec, vals)
        assert sorted(m for _, m, _ in form.poles) == [1, 1, 2]
    else:
        model, opt = SparseLeastSquares(5, F(1, 3), 1, F(1, 5)), \
            Optimizer("heavy-ball", lr=F(1, 10), beta=0, batch=2)
    exact = exact_risk(model, opt, max(KS), backend="exact")
    assert rel_error(closed_form_risk(model, opt, KS), [exact[k] for k in KS]) < 1e-40


@pytest.mark.parametrize("name", SWEPT_RULES)
def test_sylvester_formula_with_distinct_roots(name):
    """The symbolic closed form, its entries substituted and its roots computed, gives
    the recursion's values."""
    model, opt = random_rational_case(name, np.random.default_rng(5))
    rec = recursion_for(model, opt)
    form = closed_form(rec)
    vals = {s: np.asarray(x)[()] for s, x in parameter_values(model, opt)[1].items()}
    sub = {s: sp.Rational(v.numerator, v.denominator) if isinstance(v, F) else v
           for s, v in vals.items()}
    lam = sp.Symbol("lam")
    chi = sp.Matrix(rec.transition.xreplace(sub)).charpoly(lam)
    roots = [sp.CRootOf(chi.as_expr(), i) for i in range(chi.degree())]
    expr = form.substituted().xreplace(sub).xreplace(dict(zip(form.roots, roots)))
    exact = exact_risk(model, opt, 20, backend="exact")
    for kk in (0, 5, 20):
        value = sp.N(expr.subs(sp.Symbol("k", integer=True, nonnegative=True), kk), 60)
        assert abs(sp.im(value)) < 1e-45
        assert abs(sp.re(value) / sp.Rational(exact[kk].numerator, exact[kk].denominator) - 1) \
            < 1e-40


@pytest.mark.parametrize("time", TIME_RULES)
@pytest.mark.parametrize("name", SWEPT_RULES)
def test_stationary_risk(name, time):
    """R_∞ = lim_{z→1} (1 − z) F(z) exactly, and = the risk after a long iteration."""
    model, opt = random_rational_case(name, np.random.default_rng(11))
    model = SparseLeastSquares(model.d, model.p[()], model.R0[()], sigma2=F(1, 2))
    rec = recursion_for(model, opt, time)
    sub = {s: sp.nsimplify(np.asarray(v)[()])
           for s, v in parameter_values(model, opt)[1].items()}
    r_inf = stationary_risk(rec).xreplace(sub)
    limit = sp.cancel(((1 - z) * generating_function(rec)).xreplace(sub)).subs(z, 1)
    assert r_inf.is_Rational and limit == r_inf and r_inf > 0
    long = exact_risk(model, opt, 20_000, backend="c", time=time)
    assert abs(long[-1] / float(r_inf) - 1) < 1e-10
