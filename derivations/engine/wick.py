"""Expectations of products of inner products with random vectors of i.i.d. entries.

For independent random vectors ``x_b`` with i.i.d. entries of mean zero (cumulants
``κ_2, κ_3, …``; ``N(0, σ² I_d)`` has ``κ_2 = σ²`` only) and fixed vectors, write every
inner product in coordinates, ``⟨u, w⟩ = Σ_i u_i w_i``.  The moment–cumulant formula
for the coordinates of one vector, ``E Π_s x_{i_s} = Σ_π Π_{blocks β ∈ π} κ_{|β|}
[all i_s, s ∈ β, equal]``, turns ``E[Π dots]`` into a sum over partitions ``π`` of each
vector's slots into blocks of size ≥ 2 (the mean is zero).  Within a term every block
forces its slots onto one coordinate, and every factor ``⟨x, x'⟩`` forces its two slots
onto one; the slots fall into classes, each summed over one coordinate ``i = 1..d``:

* a class with no fixed vector gives ``Σ_i 1 = d`` (a closed loop);
* a class with two fixed vectors ``f, f'`` gives ``Σ_i f_i f'_i = ⟨f, f'⟩``;
* any other class (``Σ_i f_i``, ``Σ_i f_i f'_i f''_i f'''_i``) is not an inner product:
  the moments do not close, and :class:`MomentsDoNotClose` says so.

With Gaussian vectors only pairs survive and this is Wick/Isserlis: e.g.
``E[‖x‖² ⟨x, e⟩²] = (d + 2) ‖e‖²``; with i.i.d. entries of fourth moment ``μ4`` (unit
variance) the block of four adds ``κ_4 ‖e‖²``: ``(d + μ4 − 1) ‖e‖²``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import sympy as sp

from ..core.vectors import Dot
from ..definitions.ingredients import Gaussian


class MomentsDoNotClose(ArithmeticError):
    """An expectation is not a polynomial in inner products of the fixed vectors."""


def set_partitions(items: list) -> Iterator[list[list]]:
    """Every partition of ``items`` into non-empty blocks (each once)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in set_partitions(rest):
        yield [[first], *part]
        for i in range(len(part)):
            yield part[:i] + [[first, *part[i]]] + part[i + 1:]


def _block_partitions(slots: list, cumulant: Callable[[int], sp.Expr]):
    """``(blocks, Π κ_{|β|})`` over partitions of ``slots`` with every ``κ`` non-zero."""
    for partition in set_partitions(slots):
        weight = sp.Integer(1)
        for block in partition:
            kappa = cumulant(len(block)) if len(block) > 1 else sp.Integer(0)
            if kappa == 0:
                break
            weight *= kappa
        else:
            yield partition, weight


def cumulant_expectation(dots: list[Dot], random: Mapping[sp.Symbol, object],
                         cumulants: Mapping[object, Callable[[int], sp.Expr]],
                         dim: sp.Expr) -> sp.Expr:
    """``E[Π dots]`` over the random vectors ``random`` (atom → its group: one group per
    independent vector) whose entries have the cumulants ``cumulants[group](k)``.

    ``dots`` lists the inner-product factors (with repetition for powers); atoms not in
    ``random`` are fixed vectors.  Returns a polynomial in ``dim``, the cumulants and inner
    products of the fixed vectors; :class:`MomentsDoNotClose` if it is not one.
    """
    slots_by_group: dict[object, list[tuple[int, int]]] = {}
    for i, factor in enumerate(dots):
        for side, atom in enumerate(factor.args):
            if atom in random:
                slots_by_group.setdefault(random[atom], []).append((i, side))
    groups = list(slots_by_group)
    choices = [list(_block_partitions(slots_by_group[g], cumulants[g])) for g in groups]

    total = sp.Integer(0)

    def rec(i: int, blocks: list, weight: sp.Expr):
        nonlocal total
        if i == len(groups):
            total += weight * _contract(dots, blocks, random, dim)
            return
        for partition, w in choices[i]:
            rec(i + 1, blocks + partition, weight * w)

    rec(0, [], sp.Integer(1))
    return sp.expand(total)


def _contract(dots: list[Dot], blocks: list[list[tuple[int, int]]],
              random: Mapping[sp.Symbol, object], dim: sp.Expr) -> sp.Expr:
    """The value of one choice of blocks: loops give ``dim``, classes with two fixed
    vectors their inner product (module docstring)."""
    parent: dict[tuple[int, int], tuple[int, int]] = {}

    def find(s):
        while parent.setdefault(s, s) != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    def union(a, b):
        parent[find(a)] = find(b)

    for block in blocks:
        for s in block[1:]:
            union(block[0], s)
    value = sp.Integer(1)
    attached: dict[tuple[int, int], list[sp.Symbol]] = {}
    for i, factor in enumerate(dots):
        u, w = factor.args
        ru, rw = u in random, w in random
        if ru and rw:
            union((i, 0), (i, 1))
        elif ru or rw:
            attached.setdefault((i, 0) if ru else (i, 1), []).append(w if ru else u)
        else:
            value *= factor
    classes: dict[tuple[int, int], list[sp.Symbol]] = {}
    for slot in {s for block in blocks for s in block}:
        classes.setdefault(find(slot), []).extend(attached.get(slot, []))
    for fixed in classes.values():
        if not fixed:
            value *= dim
        elif len(fixed) == 2:
            value *= Dot(*fixed)
        else:
            raise MomentsDoNotClose(
                f"a coordinate sum over {len(fixed)} fixed vector(s) "
                f"{', '.join(map(str, fixed))} is not an inner product: the second moments do "
                "not close for this law (a block of a vector's cumulant κ_k, k ≥ 3 — skewed or "
                "non-Gaussian entries — ties one coordinate sum to other than two fixed vectors)")
    return value


def gaussian_expectation(dots: list[Dot], gaussian_sample: Mapping[sp.Symbol, object],
                         dim: sp.Expr) -> sp.Expr:
    """``E[Π dots]`` over independent ``N(0, I_d)`` vectors (atom → sample label): Wick."""
    unit = Gaussian(1).cumulant
    return cumulant_expectation(dots, gaussian_sample,
                                {group: unit for group in set(gaussian_sample.values())}, dim)
