"""Numeric form of an optimizer's update rule, from its symbolic definition.

The coefficients of ``(e', v')`` on ``(e, v, g)`` — SymPy expressions in ``lr``,
``beta`` and the step activity ``a`` — are lambdified once; simulators apply
them to sampled gradients.  No update is typed in twice.
"""

from __future__ import annotations

import numpy as np

from derivations import symbols as S
from derivations.definition_cache import cached_by_definition
from derivations.optimizers import e, g, update_rule, v
from numerics.kernels.numeric_function import numeric_function


@cached_by_definition
def _coefficients(name: str):
    rule = update_rule(name)
    new = rule.apply()
    atoms = (*rule.state, g)
    return rule.state, {
        u: [(atom, numeric_function(new[u].coefficient(atom), (S.lr, S.beta, S.active)))
            for atom in atoms if new[u].coefficient(atom) != 0]
        for u in rule.state
    }


def apply_update(name: str, error: np.ndarray, buffer: np.ndarray | None,
                 grad: np.ndarray, lr, beta, active) -> tuple[np.ndarray, np.ndarray | None]:
    """One step of optimizer ``name`` on arrays (all arguments broadcast).

    ``error`` is ``e = θ − θ*``, ``buffer`` the momentum ``v`` (``None`` without
    momentum), ``grad`` the batch gradient ``g``, ``active`` the step-activity
    indicator ``a`` (1.0 or 0.0).  Returns ``(e', v')``.
    """
    state, coefficients = _coefficients(name)
    values = {e: error, v: buffer, g: grad}
    out = {}
    for u, terms in coefficients.items():
        total = 0.0
        for atom, coefficient in terms:
            total = total + coefficient(lr, beta, active) * values[atom]
        out[u] = total
    return out[e], out.get(v)
