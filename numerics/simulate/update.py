"""Numeric form of an optimizer's update rule, from its symbolic definition.

The coefficients of the next state vectors on the current ones and ``g`` — SymPy
expressions in ``lr``, ``beta``, the step activity ``a`` and the rule's own
hyper-parameters — are converted once (:func:`numeric_function`); simulators apply them
to sampled gradients.  No update is typed in twice.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import sympy as sp

from sparsemom.derivations import symbols as S
from sparsemom.derivations.definitions.optimizers import g, update_rule
from sparsemom.derivations.engine.definition_cache import cached_by_definition
from sparsemom.numerics.kernels.numeric_function import numeric_function


@cached_by_definition
def _coefficients(name: str):
    rule = update_rule(name)
    new = rule.apply()
    inputs = (S.lr, S.beta, *rule.symbols, S.active)
    return inputs, {
        u: [(atom, numeric_function(new[u].coefficient(atom), inputs))
            for atom in (*rule.state, g) if new[u].coefficient(atom) != 0]
        for u in rule.state
    }


def apply_update(name: str, state: Mapping[sp.Symbol, np.ndarray], grad: np.ndarray,
                 values: Mapping[sp.Symbol, object], active) -> dict[sp.Symbol, np.ndarray]:
    """One step of optimizer ``name`` on arrays (all arguments broadcast).

    ``state`` maps each state vector of the rule (``e = θ − θ*``, then its buffers) to
    its array, ``grad`` is the batch gradient ``g``, ``values`` maps ``lr``, ``beta``
    and the rule's hyper-parameter symbols to their values at this step, ``active`` is
    the step-activity indicator ``a`` (1.0 or 0.0).  Returns the next state, by vector.
    """
    inputs, coefficients = _coefficients(name)
    missing = [str(s) for s in inputs[:-1] if s not in values]
    if missing:
        raise ValueError(f"values for {missing} are needed by the update of {name!r}")
    arguments = [values[s] for s in inputs[:-1]] + [active]
    vectors = {**state, g: grad}
    out = {}
    for u, terms in coefficients.items():
        total = 0.0
        for atom, coefficient in terms:
            total = total + coefficient(*arguments) * vectors[atom]
        out[u] = total
    return out
