"""Iterate averaging as a rule transform: any rule plus the averaged iterate.

``averaged(rule)`` is ``rule`` with one more state vector, ``ebar = θ̄ − θ*``, updated
after the rule's own step by

    θ̄ ← γ θ̄ + (1 − γ) θ',          θ̄_0 = θ_0,

with the hyper-parameter ``avg`` (γ ∈ [0, 1]).  A constant ``γ`` is an exponential
moving average of the iterates (optax's ``ema`` of the parameters, Polyak–Juditsky with
exponential weights); the schedule ``γ_k = (k + 1)/(k + 2)`` makes ``θ̄_k`` the uniform
(Polyak–Ruppert) average of ``θ_0 … θ_k`` (:func:`sparsemom.numerics.inputs.schedules.polyak`).
The averaged rule is linear in its state like the original, so its second moments have an
exact recursion; the risk of ``θ̄`` is read off it with
:func:`sparsemom.derivations.engine.recursion.observing` (``exact_risk(..., iterate="ebar")``).
"""

from __future__ import annotations

import sympy as sp

from ..core.names import name_of
from .optimizers import HyperParameter, UpdateRule, e, update_rule

#: Rules defined here through the public API: the symbols of this module are those rules'
#: own (a user may reuse them), not the engine's (:func:`~sparsemom.derivations.definitions.optimizers.engine_symbols`).
DEFINES_RULES = True

#: The averaged iterate's error θ̄ − θ*.
ebar = sp.Symbol("ebar")
#: The averaging weight γ on the old average.
avg = sp.Symbol("avg", nonnegative=True)


def averaged(rule, name: str | None = None) -> UpdateRule:
    """``rule`` (an :class:`UpdateRule` or a registered name) with the averaged iterate
    ``ebar`` appended to its state (see module docstring); register the result to use it."""
    base = update_rule(rule) if isinstance(rule, str) else rule
    if ebar in base.state or avg in base.symbols:
        raise ValueError(f"rule {base.name!r} already carries an averaged iterate")

    def step(x, grad):
        new = base.step({u: x[u] for u in base.state}, grad)
        return {**new, ebar: avg * x[ebar] + (1 - avg) * new[e]}

    return UpdateRule(
        name or f"{name_of(base)}-averaged", (*base.state, ebar), step,
        f"{base.summary}; θ̄ ← γ θ̄ + (1 − γ) θ",
        base.latex + r",\ \bar\theta \leftarrow \gamma \bar\theta + (1 - \gamma) \theta",
        hyper_parameters=(*base.specs, HyperParameter(avg, lower=0, upper=1,
                                                      doc="γ: weight of the old average")),
        source=(base.source + "; " if base.source else "") + "iterate averaging",
        start_equal_to_error=(*base.start_equal_to_error, ebar))
