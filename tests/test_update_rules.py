"""Each symbolic update rule against a literal transcription of the table of docs/model.md."""

import numpy as np
import pytest

from sparsemom.derivations import symbols as S
from sparsemom.derivations.definitions.optimizers import UPDATE_RULES, e, v
from sparsemom.numerics.simulate.update import apply_update

rng = np.random.default_rng(7)
E0, V0, G0 = rng.standard_normal((3, 4))
LR, BETA = 0.3, 0.7


def spec(name, e, v, g, active):
    if name == "sgd":
        return e - LR * g, None
    if name == "heavy-ball":
        v = BETA * v + g
        return e - LR * v, v
    if name == "nesterov":
        v = BETA * v + g
        return e - LR * (g + BETA * v), v
    if name == "lazy":
        if not active:
            return e, v
        v = BETA * v + g
        return e - LR * v, v


@pytest.mark.parametrize("name", ["sgd", "heavy-ball", "nesterov", "lazy"])
@pytest.mark.parametrize("active", [1.0, 0.0])
def test_rule_matches_spec(name, active):
    g = G0 * active  # an idle step has no gradient
    rule = UPDATE_RULES[name]
    state = dict(zip(rule.state, (E0, V0)))
    values = {S.lr: LR, S.beta: rule.example_beta(BETA)}
    got = apply_update(name, state, g, values, active)
    got_e, got_v = got[e], got.get(v)
    want_e, want_v = spec(name, E0, V0, g, active)
    np.testing.assert_allclose(got_e, want_e, rtol=1e-15, atol=1e-15)
    if want_v is not None:
        np.testing.assert_allclose(got_v, want_v, rtol=1e-15, atol=1e-15)
