"""Optimizer definitions: each one-step update written once, symbolically.

An update rule maps the state vectors (``e = θ − θ*`` and, with momentum, the
buffer ``v``) and the batch gradient ``g`` to the next state vectors, with scalar
coefficients in ``lr`` (η), ``beta`` (β) and the step-activity indicator ``a``.
Everything else — moment recursions, simulators, LaTeX — is derived from these.
Adding an optimizer is one :class:`UpdateRule` passed to :func:`register_rule`
(the built-ins in :data:`UPDATE_RULES` are registered the same way).  Code that
needs to know what a rule does asks its properties (:attr:`UpdateRule.has_momentum`,
:attr:`UpdateRule.uses_beta`), never its name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from . import symbols as S
from .vectors import LinearVector

#: Vector atoms of the optimizer state and of the batch gradient.
e = sp.Symbol("e")
v = sp.Symbol("v")
g = sp.Symbol("g")

Vectors = dict[sp.Symbol, LinearVector]


@dataclass(frozen=True)
class UpdateRule:
    """One optimizer step ``(e, v) ↦ (e', v')`` as linear vectors in ``(e, v, g)``."""

    name: str
    state: tuple[sp.Symbol, ...]
    step: Callable[[Vectors, LinearVector], Vectors]
    summary: str
    latex: str

    def apply(self) -> Vectors:
        """The next state vectors in terms of the atoms ``e``, ``v``, ``g``."""
        current = {u: LinearVector.atom(u) for u in self.state}
        return self.step(current, LinearVector.atom(g))

    @property
    def has_momentum(self) -> bool:
        """The rule carries a momentum buffer ``v``."""
        return v in self.state

    @property
    def coefficients(self) -> tuple[sp.Expr, ...]:
        """Every scalar coefficient of the update (on ``e``, ``v`` and ``g``)."""
        return tuple(c for vec in self.apply().values() for c in vec.terms.values())

    @property
    def uses_beta(self) -> bool:
        """The update depends on the momentum parameter ``β``."""
        return any(c.has(S.beta) for c in self.coefficients)

    def example_beta(self, value):
        """``value`` when the rule uses ``β``, else 0: example parameters for checks
        that run every rule."""
        return value if self.uses_beta else 0


def _sgd(x: Vectors, grad: LinearVector) -> Vectors:
    # θ ← θ − η g
    return {e: x[e] - S.lr * grad}


def _heavy_ball(x: Vectors, grad: LinearVector) -> Vectors:
    # v ← β v + g,  θ ← θ − η v
    v_new = S.beta * x[v] + grad
    return {e: x[e] - S.lr * v_new, v: v_new}


def _nesterov(x: Vectors, grad: LinearVector) -> Vectors:
    # v ← β v + g,  θ ← θ − η (g + β v)
    v_new = S.beta * x[v] + grad
    return {e: x[e] - S.lr * (grad + S.beta * v_new), v: v_new}


def _lazy(x: Vectors, grad: LinearVector) -> Vectors:
    # active step (a = 1): v ← β v + g, θ ← θ − η v;  inactive step (a = 0): nothing moves
    a = S.active
    v_new = (1 - a) * x[v] + a * (S.beta * x[v] + grad)
    return {e: x[e] - a * S.lr * v_new, v: v_new}


UPDATE_RULES: dict[str, UpdateRule] = {}
BUILT_IN_RULES = (
    UpdateRule("sgd", (e,), _sgd, "θ ← θ − η g", r"\theta \leftarrow \theta - \eta g"),
    UpdateRule("heavy-ball", (e, v), _heavy_ball, "v ← β v + g, θ ← θ − η v",
               r"v \leftarrow \beta v + g,\ \theta \leftarrow \theta - \eta v"),
    UpdateRule("nesterov", (e, v), _nesterov, "v ← β v + g, θ ← θ − η (g + β v)",
               r"v \leftarrow \beta v + g,\ \theta \leftarrow \theta - \eta (g + \beta v)"),
    UpdateRule("lazy", (e, v), _lazy,
               "active step: v ← β v + g, θ ← θ − η v; inactive step: nothing moves",
               r"\text{active step: } v \leftarrow \beta v + g,\ \theta \leftarrow \theta - \eta v;"
               r"\ \text{inactive step: nothing moves}"),
)


_ALLOWED_COEFFICIENT_SYMBOLS = {S.lr, S.beta, S.active}


def register_rule(rule: UpdateRule) -> UpdateRule:
    """Make ``rule`` available by name everywhere (``Optimizer(rule.name, ...)``).

    The rule's state must start with the error ``e`` and may carry the buffer
    ``v``; its step must return a :class:`LinearVector` for each state vector,
    linear in ``(e, v, g)`` with coefficients in ``lr``, ``beta``, the step
    activity ``a`` and exact numbers.  A name can be registered once.
    """
    if not isinstance(rule, UpdateRule):
        raise ValueError(f"rule must be an UpdateRule; got {type(rule).__name__}")
    if rule.name in UPDATE_RULES:
        if UPDATE_RULES[rule.name] is rule:
            return rule
        raise ValueError(f"rule name {rule.name!r} is already registered")
    if not rule.state or rule.state[0] != e or not set(rule.state) <= {e, v}:
        raise ValueError(f"rule state must be (e,) or (e, v); got {rule.state}")
    new = rule.apply()
    if set(new) != set(rule.state):
        raise ValueError(f"rule step must return one vector per state vector {rule.state}; "
                         f"got {tuple(new)}")
    for u, vec in new.items():
        if not isinstance(vec, LinearVector):
            raise ValueError(f"rule step must return LinearVectors; got {type(vec).__name__} for {u}")
        if not set(vec.terms) <= {*rule.state, g}:
            raise ValueError(f"rule step for {u} uses vectors outside {(*rule.state, g)}: "
                             f"{tuple(vec.terms)}")
        for c in vec.terms.values():
            extra = c.free_symbols - _ALLOWED_COEFFICIENT_SYMBOLS
            if extra:
                raise ValueError(f"rule coefficient {c} has symbols {sorted(map(str, extra))}; "
                                 "allowed: eta (lr), beta, a (step activity)")
    UPDATE_RULES[rule.name] = rule
    return rule


def unregister_rule(name: str) -> None:
    """Forget a rule registered with :func:`register_rule` (built-in rules stay)."""
    rule = update_rule(name)
    if rule in BUILT_IN_RULES:
        raise ValueError(f"rule {name!r} is built in and cannot be unregistered")
    del UPDATE_RULES[name]


for _rule in BUILT_IN_RULES:
    register_rule(_rule)


def update_rule(name: str) -> UpdateRule:
    """The update rule called ``name``; a ``ValueError`` lists the valid names."""
    if name not in UPDATE_RULES:
        raise ValueError(
            f"optimizer name must be one of {', '.join(map(repr, UPDATE_RULES))}; got {name!r}"
        )
    return UPDATE_RULES[name]


__all__ = ["UpdateRule", "UPDATE_RULES", "BUILT_IN_RULES", "register_rule", "unregister_rule",
           "update_rule", "e", "v", "g"]
