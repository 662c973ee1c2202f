"""The step of coupled modes as polynomials in the modes' own parameters.

For a law whose modes differ only in their per-row parameters (Gaussian data: the
eigenvalue ``λ_j``), every entry of ``A_j``, ``c_j``, ``u_j`` and of the weights ``q_j``,
``w_j`` is a polynomial in those
parameters whose coefficients depend on the scalars only (``η``, ``β``, ``B``, ``d``, ``s²``,
the rule's own):

    entry_j(k) = Σ_a C_a(k) · m_a(λ_j),

with monomials ``m_a`` of the per-mode parameters (computed once per mode) and
coefficients ``C_a(k)`` that a schedule changes every step but that are the same for every
mode (computed once per step).  The coupled C kernel then keeps per mode only the
monomials and the state, and builds the step's matrix and the weights of its sums in
registers — no per-mode coefficients stream from memory, and a schedule costs one scalar
evaluation per step.  ``None`` when an entry is not a polynomial in the per-mode parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from sparsemom.derivations import MomentRecursion, law


@dataclass(frozen=True)
class ModePolynomials:
    """``per_mode`` symbols; ``monomials`` their exponents (index 0 the constant 1);
    ``coefficients`` the scalar expressions ``C``; ``terms[key]`` the ``(monomial,
    coefficient)`` index pairs of the entry ``key`` (``("A", i, j)``, ``("c", i)``,
    ``("u", i)``, and the weights ``("q", i)``, ``("w", i)`` of the coupled sum and the
    risk); ``size`` the number of state entries."""

    per_mode: tuple[sp.Symbol, ...]
    monomials: tuple[tuple[int, ...], ...]
    coefficients: tuple[sp.Expr, ...]
    terms: dict
    size: int

    def forcing_slots(self) -> list[tuple[int, int]]:
        """The ``(state entry, monomial)`` pairs that carry forcing ``c`` or coupling ``u``
        terms: a step's forcing ``F = C_c + C_u S`` is one scalar per pair."""
        return sorted({(i, m) for i in range(self.size) for letter in ("c", "u")
                       for m, _ in self.terms.get((letter, i), ())})

    def weight_pairs(self) -> list[tuple[int, int]]:
        """The ``(monomial, state entry)`` pairs of the weights ``q`` and ``w``: the kernel
        sums ``mono_m x_i`` over modes once per pair, and makes both weighted sums from
        them."""
        return sorted({(m, i) for i in range(self.size) for letter in ("q", "w")
                       for m, _ in self.terms.get((letter, i), ())})

    def operations_per_mode_step(self) -> int:
        """Vector operations (multiplies, adds, FMAs) of the polynomial step per mode:
        each entry of ``A`` built from its non-constant monomials (one per term), ``A x``
        (one per non-zero entry), the forcing (one per slot) and the weights' sums (one per
        pair)."""
        a_keys = [key for key in self.terms if key[0] == "A"]
        return (sum(1 for key in a_keys for m, _ in self.terms[key] if m != 0) + len(a_keys)
                + len(self.forcing_slots()) + len(self.weight_pairs()))


@lru_cache(maxsize=None)
def mode_polynomials(recursion: MomentRecursion) -> ModePolynomials | None:
    """The split of :class:`ModePolynomials` of a coupled recursion (module docstring)."""
    if not recursion.coupled:
        return None
    per_mode = tuple(h.symbol for h in law(recursion.model).specs if h.per_row)
    n = len(recursion.state)
    entries = {("A", i, j): recursion.transition[i, j] for i in range(n) for j in range(n)}
    entries.update({("c", i): recursion.forcing[i] for i in range(n)})
    entries.update({("u", i): recursion.coupling[i] for i in range(n)})
    entries.update({("q", i): recursion.coupling_weights[i] for i in range(n)})
    entries.update({("w", i): recursion.risk_weights[i] for i in range(n)})
    zero = (0,) * len(per_mode)
    monomials: dict[tuple[int, ...], int] = {zero: 0}
    coefficients: list[sp.Expr] = []
    terms = {}
    for key, entry in entries.items():
        if entry == 0:
            continue
        try:
            poly = sp.Poly(sp.expand(entry), *per_mode) if per_mode else None
        except sp.PolynomialError:
            return None
        pairs = []
        for exponents, coefficient in (poly.terms() if poly is not None else [(zero, entry)]):
            if coefficient.free_symbols & set(per_mode):
                return None
            index = monomials.setdefault(tuple(exponents), len(monomials))
            pairs.append((index, len(coefficients)))
            coefficients.append(sp.factor(coefficient))
        terms[key] = tuple(pairs)
    return ModePolynomials(per_mode, tuple(monomials), tuple(coefficients), terms, n)
