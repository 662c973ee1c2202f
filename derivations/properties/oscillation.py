"""Oscillation of the second moments: when the derived transition has complex roots.

The risk modes of ``X_{k+1} = A X_k + c`` are the roots of ``χ(λ) = det(λ I − A)``.
For a real polynomial of degree ``n`` the sign of its discriminant ``Δ`` is
``(−1)^m``, ``m`` the number of complex-conjugate root pairs; for ``n ≤ 3`` at most
one pair exists, so

    ``Δ(χ) < 0``  ⇔  ``A`` has a complex pair  ⇔  the moments oscillate.

(For the active-iterate map this is the damped-oscillator picture: the buffer's
memory outlasts the learning of the error — the heavy-ball side of critical damping.)
As for the Schur–Cohn conditions, ``Δ`` is taken once of the generic monic
polynomial ``λ^n + χ_1 λ^{n−1} + … + χ_n`` and the derived coefficients are
substituted.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..core import symbols as S
from ..core.names import name_of
from ..engine.definition_cache import cached_by_definition
from ..engine.store import stored
from .closed_forms import lam
from .stability import characteristic_coefficients


@lru_cache(maxsize=None)
def generic_discriminant(n: int) -> sp.Expr:
    """``Δ`` of ``λ^n + χ_1 λ^{n−1} + … + χ_n`` in the symbols ``χ_j``."""
    chi = [S.CHI(j + 1) for j in range(n)]
    return sp.factor(sp.discriminant(sp.Poly([1, *chi], lam)))


def discriminant_of(coefficients: dict[sp.Symbol, sp.Expr]) -> sp.Expr:
    """The generic ``Δ`` with ``{χ_j: value}`` substituted: :func:`oscillation_discriminant`
    from the characteristic coefficients (or from another form of the same coefficients,
    e.g. one written for numerics)."""
    return generic_discriminant(len(coefficients)).xreplace(coefficients)


@cached_by_definition
@stored
def _discriminant(model: str, optimizer: str, time_rule: str) -> sp.Expr:
    coefficients = characteristic_coefficients(model, optimizer, time_rule)
    n = len(coefficients)
    if n < 2:
        raise ValueError(f"optimizer {optimizer!r} has a {n}-dimensional recursion on {model!r}: "
                         "its moments cannot oscillate (no complex roots)")
    if n > 3:
        raise ValueError(f"the recursion of {optimizer!r} on {model!r} has degree {n} > 3: the sign "
                         "of the discriminant no longer decides whether a complex pair exists")
    return discriminant_of(coefficients)


def oscillation_discriminant(model, optimizer, time_rule: str = "active") -> sp.Expr:
    """``Δ(χ)`` of the derived recursion (names or instances): negative exactly
    where the moments oscillate.  Default clock: active iterates, the clock of
    the timescales and of the phases.  ``ValueError`` for recursions of degree 1
    (plain SGD cannot oscillate) or above 3."""
    model = name_of(model)
    optimizer = name_of(optimizer)
    return _discriminant(model, optimizer, time_rule)
