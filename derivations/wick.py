"""Gaussian expectations of products of inner products (Wick/Isserlis).

For independent Gaussian vectors ``x_b ~ N(0, I_d)`` and fixed vectors, the
expectation of a product of inner products is the sum over all pairings of the
Gaussian slots (Isserlis' theorem, ``E[x_i x_j] = δ_ij`` within one sample and
0 across samples).  Each pairing contracts the product into a graph whose
components are either chains ending in two fixed vectors, giving ``⟨f, f'⟩``,
or closed loops of Gaussian slots, each giving ``tr I_d = d``.  For example
``E[‖x‖² ⟨x, e⟩²] = (d + 2) ‖e‖²`` (one loop pairing and two chain pairings).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import sympy as sp

from .vectors import Dot


def _perfect_matchings(items: list) -> Iterator[list[tuple]]:
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for i, partner in enumerate(rest):
        for tail in _perfect_matchings(rest[:i] + rest[i + 1 :]):
            yield [(first, partner), *tail]


def _pairings_by_group(slots_by_group: Mapping[object, list]) -> Iterator[list[tuple]]:
    groups = list(slots_by_group.values())

    def rec(i: int) -> Iterator[list[tuple]]:
        if i == len(groups):
            yield []
            return
        for head in _perfect_matchings(groups[i]):
            for tail in rec(i + 1):
                yield head + tail

    yield from rec(0)


def gaussian_expectation(
    dots: list[Dot], gaussian_sample: Mapping[sp.Symbol, object], dim: sp.Expr
) -> sp.Expr:
    """E[Π dots] over the Gaussian atoms in ``gaussian_sample`` (atom → sample label).

    ``dots`` lists the inner-product factors (with repetition for powers).
    Atoms not in ``gaussian_sample`` are fixed vectors.  Returns a polynomial in
    ``dim`` and inner products of the fixed vectors.
    """
    # Slot (i, side) is end ``side`` of factor i; Gaussian slots get paired.
    slots_by_sample: dict[object, list[tuple[int, int]]] = {}
    for i, factor in enumerate(dots):
        for side, atom in enumerate(factor.args):
            if atom in gaussian_sample:
                slots_by_sample.setdefault(gaussian_sample[atom], []).append((i, side))
    if any(len(s) % 2 for s in slots_by_sample.values()):
        return sp.Integer(0)

    total = sp.Integer(0)
    for pairing in _pairings_by_group(slots_by_sample):
        partner = {}
        for s, t in pairing:
            partner[s] = t
            partner[t] = s
        total += _contract(dots, partner, dim)
    return sp.expand(total)


def _contract(dots: list[Dot], partner: Mapping[tuple, tuple], dim: sp.Expr) -> sp.Expr:
    """Value of one pairing: chains give fixed inner products, loops give ``dim``."""
    seen_factors: set[int] = set()
    value = sp.Integer(1)
    # Chains: start from every fixed slot not yet visited.
    for i, factor in enumerate(dots):
        for side in (0, 1):
            if i in seen_factors or (i, side) in partner:
                continue
            start = factor.args[side]
            j, s = i, side
            while True:
                seen_factors.add(j)
                other = (j, 1 - s)
                if other not in partner:
                    value *= Dot(start, dots[j].args[1 - s])
                    break
                j, s = partner[other]
    # Loops: factors whose both ends are Gaussian and were not on any chain.
    for i in range(len(dots)):
        if i in seen_factors:
            continue
        j, s = i, 0
        while True:
            seen_factors.add(j)
            j, s = partner[(j, 1 - s)]
            if j == i:
                break
        value *= dim
    return value
