"""Idle stretches: what a row does on steps whose batch misses its token.

On an idle step the gradient is 0 and the activity ``a`` is 0, so the update rule
is a deterministic linear map ``M_0`` on ``(e, v)``.  Its ``n``-th power, in closed
form in ``n``, lets a simulator catch a row up over ``n`` idle steps in one jump;
the squared error after ``n`` idle steps,

    ‖e_n‖² = Σ_j c_j(‖e‖², ⟨e, v⟩, ‖v‖²) μ_j^n,

is a sum of geometric modes ``μ_j`` (products of eigenvalues of ``M_0``), which lets
running sums of the risk advance all idle rows at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import symbols as S
from .definition_cache import cached_by_definition
from .optimizers import g, update_rule

n = sp.Symbol("n", integer=True, nonnegative=True)
energy, cross, buffer_energy = sp.symbols("E_e C_ev E_v")


@dataclass(frozen=True)
class IdleStretch:
    """``M_0^n`` (rows/columns ordered as the rule's state) and the modes of ``‖e_n‖²``."""

    power: sp.ImmutableMatrix
    modes: tuple[sp.Expr, ...]           # μ_j (functions of lr, beta)
    mode_coefficients: tuple[sp.Expr, ...]  # c_j, linear in (E_e, C_ev, E_v)


@cached_by_definition
def idle_stretch(optimizer: str) -> IdleStretch:
    """Derive ``M_0^n`` and the geometric modes of ``‖e‖²`` over an idle stretch."""
    rule = update_rule(optimizer)
    nxt = rule.apply()
    idle = {u: vec.subs({S.active: 0, g: 0}) for u, vec in nxt.items()}
    M0 = sp.Matrix([[idle[u].coefficient(w) for w in rule.state] for u in rule.state])
    power = sp.ImmutableMatrix(sp.simplify(M0**n))
    if len(rule.state) == 1:
        return IdleStretch(power, (power[0, 0] ** 2 if power[0, 0] != 1 else sp.Integer(1),),
                           (energy,))
    a, b = power[0, 0], power[0, 1]            # e_n = a e + b v
    norm = sp.expand(a**2 * energy + 2 * a * b * cross + b**2 * buffer_energy)
    y = sp.Symbol("y")
    decay = [ev for ev in M0.eigenvals() if ev != 1]
    if len(decay) > 1:
        raise NotImplementedError("idle maps with more than one decaying mode")
    if not decay:
        return IdleStretch(power, (sp.Integer(1),), (sp.factor(norm),))
    mu = decay[0]
    poly = sp.Poly(sp.expand(sp.powsimp(norm.subs(mu**n, y), force=True)), y)
    if poly.free_symbols & {n}:
        raise ArithmeticError(f"‖e_n‖² is not a polynomial in {mu}^n: {norm}")
    coefficients = [sp.factor(poly.coeff_monomial(y**j)) for j in range(poly.degree() + 1)]
    return IdleStretch(power, tuple(mu**j for j in range(len(coefficients))),
                       tuple(coefficients))
