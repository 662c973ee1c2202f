"""Idle stretches: what a row does on steps whose batch misses its token.

On an idle step the gradient is 0 and the activity ``a`` is 0, so the update rule
is a deterministic linear map ``M_0`` on the state vectors ``(e, buffers…)``.  Its
``n``-th power, in closed form in ``n``, lets a simulator catch a row up over ``n``
idle steps in one jump; the squared error after ``n`` idle steps,

    ‖e_n‖² = Σ_j c_j(G) μ_j^n,

with ``G_{uw} = ⟨u, w⟩`` the Gram entries of the state vectors, is a sum of geometric
modes ``μ_j`` (products of eigenvalues of ``M_0``), which lets running sums of the risk
advance all idle rows at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import symbols as S
from .definition_cache import cached_by_definition
from .optimizers import g, update_rule

n = sp.Symbol("n", integer=True, nonnegative=True)


def gram_symbol(u: sp.Symbol, w: sp.Symbol) -> sp.Symbol:
    """The symbol of the inner product ``⟨u, w⟩`` of two state vectors (``u`` first in
    the rule's order)."""
    return sp.Symbol(f"G_{u.name}_{w.name}")


@dataclass(frozen=True)
class IdleStretch:
    """``M_0^n`` (rows/columns ordered as the rule's state) and the modes of ``‖e_n‖²``."""

    power: sp.ImmutableMatrix
    modes: tuple[sp.Expr, ...]              # μ_j (functions of the hyper-parameters)
    mode_coefficients: tuple[sp.Expr, ...]  # c_j, linear in the Gram entries
    gram: tuple[sp.Symbol, ...]             # the Gram entries, pairs (u, w) in state order
    parameters: tuple[sp.Symbol, ...]       # lr, beta and the rule's own hyper-parameters


@cached_by_definition
def idle_stretch(optimizer: str) -> IdleStretch:
    """Derive ``M_0^n`` and the geometric modes of ``‖e‖²`` over an idle stretch.

    Each eigenvalue ``λ ≠ 1`` of ``M_0`` contributes ``λ^n`` to ``M_0^n``; ``‖e_n‖²``
    is then a polynomial in the ``λ^n``, whose monomials are the modes.  A defective
    ``M_0`` (a Jordan block: ``n λ^n`` terms) is refused with ``NotImplementedError``.
    """
    rule = update_rule(optimizer)
    nxt = rule.apply()
    idle = {u: vec.subs({S.active: 0, g: 0}) for u, vec in nxt.items()}
    M0 = sp.Matrix([[idle[u].coefficient(w) for w in rule.state] for u in rule.state])
    power = sp.ImmutableMatrix(sp.simplify(M0**n))
    pairs = [(u, w) for i, u in enumerate(rule.state) for w in rule.state[i:]]
    gram = tuple(gram_symbol(u, w) for u, w in pairs)
    G = {(u, w): s for (u, w), s in zip(pairs, gram)}
    G.update({(w, u): s for (u, w), s in zip(pairs, gram)})
    row = power[0, :]
    norm = sp.expand(sum(row[i] * row[j] * G[(u, w)] for i, u in enumerate(rule.state)
                         for j, w in enumerate(rule.state)))
    parameters = (S.lr, S.beta, *rule.symbols)
    decay = [ev for ev in M0.eigenvals() if ev != 1]
    if not decay:
        return IdleStretch(power, (sp.Integer(1),), (sp.factor(norm),), gram, parameters)
    stand_in = [sp.Dummy(f"y{k}") for k in range(len(decay))]
    replaced = sp.expand(sp.powsimp(sp.expand_power_base(norm, force=True), force=True))
    for ev, y in zip(decay, stand_in):
        replaced = replaced.subs(ev**n, y)
    replaced = sp.expand(replaced)
    if replaced.has(n):
        raise NotImplementedError(f"‖e_n‖² over an idle stretch of {optimizer!r} is not a "
                                  f"polynomial in the eigenvalue powers λ^n: {norm}")
    poly = sp.Poly(replaced, *stand_in)
    modes, coefficients = [], []
    for exponents, coefficient in sorted(poly.terms()):
        modes.append(sp.Mul(*(ev**k for ev, k in zip(decay, exponents))))
        coefficients.append(sp.factor(coefficient))
    return IdleStretch(power, tuple(modes), tuple(coefficients), gram, parameters)
