"""Exact arithmetic in the field of rational functions of the parameters.

A derived matrix is converted once (:func:`in_field`) into a SymPy ``DomainMatrix`` over
``ℤ(parameters)``: sparse polynomials with gcd cancellation, far faster than simplifying
expression trees.  ``(1 − p)^{jB}`` enters as ``q^j`` (:func:`in_idle_symbol`), a
polynomial variable, and leaves by :func:`from_idle_symbol`.  Linear systems are solved
fraction-free in the polynomial ring (:func:`solve`), with one cancellation per result.
"""

from __future__ import annotations

import sympy as sp
from sympy.polys.fields import sfield
from sympy.polys.matrices import DomainMatrix

from . import symbols as S

#: Stand-in for (1 − p)^B while simplifying: polynomial algebra in q is fast,
#: algebra with symbolic powers is not.
idle_q = sp.Dummy("q")


def in_idle_symbol(x):
    """Replace ``(1 − p)^{jB}`` by ``q^j`` (a scalar or a matrix)."""
    if isinstance(x, sp.MatrixBase):
        return x.applyfunc(in_idle_symbol)
    return S.replace_idle_powers(x, idle_q)


def from_idle_symbol(x):
    """Undo :func:`in_idle_symbol`."""
    if isinstance(x, sp.MatrixBase):
        return sp.ImmutableMatrix(x.applyfunc(from_idle_symbol))
    return x.xreplace({idle_q: (1 - S.p) ** S.batch})


def in_field(*matrices: sp.Matrix) -> list[DomainMatrix]:
    """The matrices over one rational-function field (sparse polynomial arithmetic
    with gcd cancellation: far faster than simplifying expression trees).  An entry that
    is not a rational function of symbols (a rule's ``√β``, ``log``) makes SymPy fall back
    to its expression domain; then every such atom becomes a generator of the field
    instead, so that the arithmetic stays exact and polynomial."""
    exprs = [in_idle_symbol(sp.Matrix(m)) for m in matrices]
    dms = [DomainMatrix.from_Matrix(m) for m in exprs]
    first = dms[0]
    for other in dms[1:]:
        first, _ = first.unify(other)
    if not (first.domain.is_EX or first.domain.is_EXRAW):
        return [d.convert_to(first.domain).to_field() for d in dms]
    field, elements = sfield([x for m in exprs for x in m])
    domain, out, start = field.to_domain(), [], 0
    for m in exprs:
        rows, cols = m.shape
        flat = elements[start:start + rows * cols]
        out.append(DomainMatrix([flat[i * cols:(i + 1) * cols] for i in range(rows)], m.shape, domain))
        start += rows * cols
    return out


def solve(M: DomainMatrix, b: DomainMatrix) -> DomainMatrix:
    """``M⁻¹ b`` over the field of ``M`` and ``b``, solved fraction-free: with denominators
    cleared, ``M = M′/d`` and ``b = b′/e``, ``M⁻¹ b = d adj(M′) b′ / (e det M′)`` with the
    division-free adjugate in the polynomial ring, and each entry cancelled once (an LU
    in the field cancels a gcd at every step: 10× slower for a 6×6 transition).  A
    ``ZeroDivisionError`` when ``M`` is singular over the field."""
    d, ring_M = M.clear_denoms(convert=True)
    e, ring_b = b.clear_denoms(convert=True)
    ring, field = ring_M.domain, M.domain
    adjugate, det = ring_M.adj_det()
    if not det:
        raise ZeroDivisionError("the matrix is singular over the field of rational functions")
    delta = ring.mul(e.element, det)
    rows = [[in_field_element(field, ring.mul(d.element, x), delta) for x in row]
            for row in (adjugate * ring_b.convert_to(ring)).to_list()]
    return DomainMatrix(rows, (M.shape[0], b.shape[1]), field)


def in_field_element(field_domain, numerator, denominator):
    """``numerator / denominator`` (elements of the field's polynomial ring) as one
    cancelled element of the field."""
    ring = field_domain.get_ring()
    return field_domain.quo(field_domain.convert_from(numerator, ring),
                            field_domain.convert_from(denominator, ring))
