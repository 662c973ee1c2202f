"""Retention and learning timescales, derived from the active-iterate mean map."""

import sympy as sp

from sparsemom.derivations import symbols as S
from sparsemom.derivations.properties.timescales import timescales

pB = 1 - (1 - S.p) ** S.batch


def same(a, b):
    return sp.simplify(a - b) == 0


def test_retention():
    beta_bar = pB * S.beta / (1 - (1 - pB) * S.beta)
    for name in ("heavy-ball", "nesterov"):
        t = timescales("lsq", name)
        assert same(t.effective_retention, beta_bar) and same(t.retention, 1 / (1 - beta_bar))
    assert same(timescales("lsq", "lazy").retention, 1 / (1 - S.beta))  # no sparsity in it
    assert timescales("lsq", "sgd").retention == 1


def test_learning():
    """κ = (p / p_B) / (1 − β): curvature per active update times the momentum gain."""
    for name in ("heavy-ball", "nesterov", "lazy"):
        t = timescales("lsq", name)
        assert same(t.curvature, S.p / pB / (1 - S.beta))
        assert same(t.learning, 1 / (2 * S.lr * t.curvature))
    assert same(timescales("lsq", "sgd").curvature, S.p / pB)


def test_dense_limit_is_classical_heavy_ball():
    """p = 1, B = 1: τ_R = 1/(1 − β), τ_L = (1 − β)/(2η), ratio 2η/(1 − β)²."""
    t = timescales("lsq", "heavy-ball")
    dense = {S.p: 1, S.batch: 1}
    assert same(t.retention.subs(dense), 1 / (1 - S.beta))
    assert same(t.learning.subs(dense), (1 - S.beta) / (2 * S.lr))
    assert same(t.ratio.subs(dense), 2 * S.lr / (1 - S.beta) ** 2)
