"""Structure of the derived recursions, and identities between optimizers that
follow from their definitions (independent of how the engine takes expectations)."""

import pytest
import sympy as sp
from swept_rules import SWEPT_RULES

from sparsemom.derivations import UPDATE_RULES, derive_recursion
from sparsemom.derivations import symbols as S
from sparsemom.derivations.core.vectors import Dot
from sparsemom.derivations.definitions.laws import LEAST_SQUARES
from sparsemom.derivations.definitions.optimizers import e, g, v
from sparsemom.derivations.engine.expectation import BatchExpectation

R, C, V = sp.symbols("R C V")


def expect(expr):
    return BatchExpectation(LEAST_SQUARES, g, e)(expr)


def test_gradient_moments():
    """E⟨g, w⟩ = p⟨e, w⟩ and E‖g‖² = (p/B)((d+2)‖e‖² + d s²) + (1 − 1/B) p² ‖e‖²."""
    assert sp.expand(expect(Dot(g, v)) - S.p * Dot(e, v)) == 0
    B, p, d, s2 = S.batch, S.p, S.d, S.sigma2
    want = p / B * ((d + 2) * Dot(e, e) + d * s2) + (B - 1) / B * p**2 * Dot(e, e)
    assert sp.simplify(expect(Dot(g, g)) - want) == 0


def test_activity_absorbs_masks():
    """a g = g (a gradient needs an active sample); E a = 1 − (1 − p)^B."""
    assert sp.simplify(expect(S.active * Dot(g, v)) - expect(Dot(g, v))) == 0
    assert sp.simplify(expect(S.active**2 * Dot(g, g)) - expect(Dot(g, g))) == 0
    assert sp.simplify(expect(S.active) - (1 - (1 - S.p) ** S.batch)) == 0


@pytest.mark.parametrize("name", SWEPT_RULES)
def test_recursion_is_affine_with_noise_forcing(name):
    rec = derive_recursion("lsq", name)
    assert rec.transition.shape == (len(rec.state),) * 2
    assert all(c.subs(S.sigma2, 0) == 0 for c in rec.forcing)
    assert all(sp.simplify(c / S.sigma2).free_symbols <= set(rec.parameters)
               for c in rec.forcing)
    assert rec.risk == S.p * rec.state[0] / 2


def test_momentum_free_limits_reduce_to_sgd():
    """β = 0: heavy-ball and nesterov move e exactly like sgd."""
    sgd = derive_recursion("lsq", "sgd")
    for name in ("heavy-ball", "nesterov"):
        rec = derive_recursion("lsq", name)
        row = rec.transition.row(0).subs(S.beta, 0)
        assert sp.simplify(row[0] - sgd.transition[0, 0]) == 0
        assert sp.simplify(rec.forcing[0].subs(S.beta, 0) - sgd.forcing[0]) == 0


def test_lazy_equals_heavy_ball_when_every_step_is_active():
    """p = 1: every step is active, so lazy momentum is heavy-ball."""
    lazy, hb = derive_recursion("lsq", "lazy"), derive_recursion("lsq", "heavy-ball")
    diff = (lazy.transition - hb.transition).subs(S.p, 1)
    assert sp.simplify(diff) == sp.zeros(3, 3)


def test_lazy_idle_step_keeps_buffer():
    """A lazy buffer decays only on active steps: its mean map's v-entry is
    1 − p_B (1 − β), the heavy-ball one is β."""
    lazy = derive_recursion("lsq", "lazy")
    pB = 1 - (1 - S.p) ** S.batch
    assert sp.simplify(lazy.mean_transition[1, 1] - (1 - pB * (1 - S.beta))) == 0
    assert derive_recursion("lsq", "heavy-ball").mean_transition[1, 1] == S.beta


def test_fingerprints_differ_and_are_stable():
    prints = {name: derive_recursion("lsq", name).fingerprint for name in UPDATE_RULES}
    assert len(set(prints.values())) == len(prints)
    assert derive_recursion("lsq", "lazy").fingerprint == prints["lazy"]


@pytest.mark.parametrize("name", SWEPT_RULES)
def test_active_iterates_equal_steps_when_every_step_is_active(name):
    """p = 1: no idle steps, so the active-iterate map is the step map."""
    steps, active = derive_recursion("lsq", name, "steps"), derive_recursion("lsq", name, "active")
    diff = (active.transition - steps.transition).subs(S.p, 1)
    assert sp.simplify(diff) == sp.zeros(*diff.shape)
    assert sp.simplify((active.forcing - steps.forcing).subs(S.p, 1)) == sp.zeros(*diff.shape[:1], 1)


def test_effective_retention_of_dense_decay_momentum():
    """Heavy-ball buffer between active iterates: β̄ = E β^{N+1} = p_B β / (1 − (1 − p_B) β)."""
    pB = 1 - (1 - S.p) ** S.batch
    beta_bar = pB * S.beta / (1 - (1 - pB) * S.beta)
    for name in ("heavy-ball", "nesterov"):
        rec = derive_recursion("lsq", name, "active")
        assert sp.simplify(rec.mean_transition[1, 1].subs(S.lr, 0) - beta_bar) == 0
    lazy = derive_recursion("lsq", "lazy", "active")
    assert sp.simplify(lazy.mean_transition[1, 1] - S.beta) == 0  # lazy retains β per active step


def test_unknown_time_rule():
    with pytest.raises(ValueError, match="time rule must be one of 'steps', 'active'"):
        derive_recursion("lsq", "sgd", "wallclock")
