"""Exact stability regions (Schur–Cohn) vs eigenvalues, and the classical limits."""

import numpy as np
import pytest
import sympy as sp
from swept_rules import SWEPT_RULES

from sparsemom.derivations import TIME_RULES, UPDATE_RULES
from sparsemom.derivations import symbols as S
from sparsemom.derivations.engine.recursion import derive_recursion
from sparsemom.derivations.properties.closed_forms import lam
from sparsemom.derivations.properties.stability import (
    generic_conditions,
    schur_cohn_conditions,
    stability_conditions,
)
from sparsemom.numerics.analysis.stability import conditions_hold, is_stable, spectral_radius
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer

#: Example values of each rule's own hyper-parameters.
EXAMPLES = {name: rule.example_hyper_parameters() for name, rule in UPDATE_RULES.items()}


def test_schur_cohn_on_known_polynomials():
    def inside(roots):
        poly = sp.Poly(sp.prod([lam - r for r in roots]), lam)
        return all(c > 0 for c in schur_cohn_conditions(poly))
    assert inside([sp.Rational(1, 2), sp.Rational(-9, 10), sp.Rational(3, 4)])
    assert not inside([sp.Rational(1, 2), sp.Rational(-11, 10), 0])
    assert not inside([1, sp.Rational(1, 3)])
    assert inside([sp.Rational(1, 2) + sp.I / 2, sp.Rational(1, 2) - sp.I / 2])


def test_sgd_threshold():
    """sgd is stable exactly when lr < 2B / (d + 2 + (B − 1) p)."""
    (cond,) = stability_conditions("lsq", "sgd")
    bound = 2 * S.batch / (S.d + 2 + (S.batch - 1) * S.p)
    assert sp.simplify(cond.lhs.subs(S.lr, bound)) == 0
    for d, B, p in [(10, 1, 0.5), (100, 8, 0.01), (3, 4, 1.0)]:
        b = 2 * B / (d + 2 + (B - 1) * p)
        for factor, stable in [(1 - 1e-9, True), (1 + 1e-9, False), (0.5, True), (3, False)]:
            m, o = SparseLeastSquares(d, p), Optimizer("sgd", lr=b * factor, batch=B)
            assert is_stable(m, o) is stable and conditions_hold(m, o) is stable


def test_heavy_ball_without_gradient_noise_is_classical():
    """B → ∞ removes the gradient noise: stable iff 0 < lr·p < 2(1 + β)."""
    rec = derive_recursion("lsq", "heavy-ball")
    A = rec.transition.applyfunc(lambda x: sp.limit(x, S.batch, sp.oo))
    chi = sp.Matrix(A).charpoly(lam).all_coeffs()[1:]
    conds = [c.xreplace({sp.Symbol(f"chi_{j + 1}"): x for j, x in enumerate(chi)})
             for c in generic_conditions(3)]
    x = sp.Symbol("x", positive=True)  # x = lr·p
    conds = [sp.factor(c.subs(S.lr, x / S.p)) for c in conds]
    assert any(sp.simplify(c.subs(x, 2 * (1 + S.beta))) == 0 for c in conds)
    rng = np.random.default_rng(3)
    f = sp.lambdify([x, S.beta], conds, "numpy")
    xs, betas = rng.uniform(0.0, 5.0, 2000), rng.uniform(0.0, 0.999, 2000)
    got = np.all(np.array(f(xs, betas)) > 0, axis=0)
    assert np.array_equal(got, xs < 2 * (1 + betas))


def random_rows(name, rows, rng, d, batch):
    p = 10.0 ** rng.uniform(-3, 0, rows)
    beta = np.zeros(rows) + UPDATE_RULES[name].example_beta(rng.uniform(0, 0.99, rows))
    lr = rng.uniform(0, 3, rows) * batch / (d + 2 + batch) / p ** rng.uniform(0, 1, rows)
    return SparseLeastSquares(d, p), Optimizer(name, lr=lr, beta=beta, batch=batch,
                                               **UPDATE_RULES[name].example_hyper_parameters())


@pytest.mark.parametrize("time", TIME_RULES)
@pytest.mark.parametrize("name", SWEPT_RULES)
def test_conditions_agree_with_eigenvalues(name, time):
    """1200 random points (float64), plus 2 × 60 points within 1e-6 of the boundary,
    decided at 40 digits on both sides (float64 cannot resolve them)."""
    rng = np.random.default_rng(17)
    total = 0
    for d, batch in [(1, 1), (10, 4), (200, 32)]:
        model, opt = random_rows(name, 400, rng, d, batch)
        assert np.array_equal(conditions_hold(model, opt, time), is_stable(model, opt, time))
        total += 400
        # bisect lr to the boundary (by eigenvalues), then step 1e-6 to either side
        lo, hi = np.full(20, 1e-9), np.full(20, 1e3)
        p, beta = model.p[:20], opt.beta[:20]
        m = SparseLeastSquares(d, p)
        for _ in range(80):
            mid = np.sqrt(lo * hi)
            stable = is_stable(m, Optimizer(name, lr=mid, beta=beta, batch=batch, **EXAMPLES[name]),
                               time)
            lo, hi = np.where(stable, mid, lo), np.where(stable, hi, mid)
        for factor, want in [(1 - 1e-6, True), (1 + 1e-6, False)]:
            o = Optimizer(name, lr=lo * factor if want else hi * factor, beta=beta, batch=batch,
                          **EXAMPLES[name])
            assert np.all(is_stable(m, o, time, dps=40) == want)
            assert np.all(conditions_hold(m, o, time, dps=40) == want)
            total += 20
    assert total >= 1000


def test_spectral_radius_per_row():
    m = SparseLeastSquares(10, [0.5, 0.01])
    o = Optimizer("heavy-ball", lr=[0.05, 5.0], beta=0.5)
    rho = spectral_radius(m, o)
    assert rho.shape == (2,) and rho[0] < 1 < rho[1]
    assert is_stable(m, o).tolist() == [True, False]
