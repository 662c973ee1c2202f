"""Expectation over one batch, taken from moment rules.

A data law (:mod:`sparsemom.derivations.definitions.laws`) describes what one sample contributes: its
per-sample gradient ``G_b`` as a :class:`~sparsemom.derivations.core.vectors.LinearVector` in the
sample's ingredients (:mod:`sparsemom.derivations.definitions.ingredients`).  The batch gradient is the mean
``g = (1/B) Σ_b G_b``.  The engine takes ``E[·]`` of any polynomial in the step-activity
indicator ``a``, the fixed inner products, and inner products involving ``g``, by these
rules:

* batch sums: a product of ``k`` factors of ``g`` is a sum over ``k``-tuples of
  sample indices; grouping equal indices (set partitions ``π`` of the factors),
  ``E Π_j ⟨G_{b_j}, ·⟩ = Σ_π B(B−1)…(B−|π|+1) / B^k · E[one term with |π| distinct
  samples]`` (samples i.i.d.);
* step activity (a law with a token mask ``m``): ``a = 1 − Π_{b=1}^B (1 − m_b)``,
  ``a² = a``; for ``F`` depending on samples ``1..n``, ``E[aF] = E[F] − (1 − p)^{B−n}
  E[F Π_{b≤n}(1 − m_b)]``; without a token mask every step is active (``a = 1``);
* masks: ``m_b^k = m_b``, ``E m_b = q`` (``p`` for the token mask), independent;
* scalars: ``E ξ^k`` the ``k``-th moment of their distribution;
* vectors of i.i.d. entries: the cumulant expansion of :mod:`sparsemom.derivations.engine.wick`
  (Wick/Isserlis for Gaussian vectors), dimension ``d``.

A law whose second moments do not close (the logistic model) supplies its own
expectation over independent samples through its closure (Stein's lemma,
:mod:`sparsemom.derivations.rare_class.statistics`); the batch sums above are shared.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from ..core import symbols as S
from ..core.symbols import Sample
from ..core.vectors import Dot, LinearVector
from ..definitions.ingredients import Mask, TokenMask
from .wick import cumulant_expectation, set_partitions

#: A law's own ``E[·]`` over independent samples (default: the ingredients' moments).
SampleExpectation = Callable[[sp.Expr, list[Sample]], sp.Expr]


def _falling(n: sp.Expr, k: int) -> sp.Expr:
    return sp.Mul(*(n - j for j in range(k)))


class BatchExpectation:
    """``E[·]`` over one batch of a data law (see module docstring)."""

    def __init__(self, law, gradient_atom: sp.Symbol, error_atom: sp.Symbol,
                 sample_expectation: SampleExpectation | None = None):
        self.law = law
        self.sample_gradient = law.sample_gradient
        self.g = gradient_atom
        self.e = error_atom
        self.sample_expectation = sample_expectation

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        total = sp.Integer(0)
        for term in sp.Add.make_args(sp.expand(expr)):
            total += self._term(term)
        return sp.expand(total)

    # -- batch sums ---------------------------------------------------------
    def _term(self, term: sp.Expr) -> sp.Expr:
        coeff, factors = term.as_coeff_mul()
        activity = 0
        g_slots: list[tuple[Dot, int]] = []  # (factor, how many g in it)
        rest = sp.sympify(coeff)
        for f in factors:
            base, exp = f.as_base_exp()
            if base == S.active:
                activity = 1  # a^k = a
            elif isinstance(base, Dot) and self.g in base.args:
                g_slots.extend([(base, base.args.count(self.g))] * int(exp))
            else:
                rest *= f
        occurrences = [i for i, (_, n) in enumerate(g_slots) for _ in range(n)]
        k = len(occurrences)
        if not self.law.token_mask:
            activity = 0   # dense gradients: every step is active, a = 1
        if k == 0:
            prob = self.law.active_probability if activity else 1
            return rest * prob
        total = sp.Integer(0)
        for partition in set_partitions(list(range(k))):
            samples = [self.law.sample(b + 1) for b in range(len(partition))]
            label = {}
            for b, block in enumerate(partition):
                for occ in block:
                    label[occ] = samples[b]
            # Substitute ⟨g, w⟩ → ⟨G_b, w⟩, occurrence by occurrence.
            product = sp.Integer(1)
            occ = 0
            for dot, n in g_slots:
                other = [a for a in dot.args if a != self.g]
                vec = self.sample_gradient(label[occ], self.e)
                if n == 2:
                    product *= vec.dot(self.sample_gradient(label[occ + 1], self.e))
                else:
                    product *= vec.dot(LinearVector.atom(other[0]))
                occ += n
            weight = _falling(S.batch, len(partition)) / S.batch**k
            total += weight * self._samples_expectation(product, samples, activity)
        return rest * total

    # -- activity, masks, noise, Gaussians -------------------------------------
    def _samples_expectation(self, expr: sp.Expr, samples: list[Sample],
                             activity: int) -> sp.Expr:
        if self.sample_expectation is not None:
            if activity:
                raise ValueError("a law with its own sample expectation has every step active; "
                                 "substitute a = 1 first")
            return self.sample_expectation(expr, samples)
        plain = self._independent_expectation(expr, samples)
        if not activity:
            return plain
        mask = self.law.token_mask
        none_active = sp.Mul(*(1 - s.atoms[mask] for s in samples))
        untouched = (1 - S.p) ** (S.batch - len(samples))
        return plain - untouched * self._independent_expectation(expr * none_active, samples)

    def _independent_expectation(self, expr: sp.Expr, samples: list[Sample]) -> sp.Expr:
        masks, scalars, vectors, cumulants = {}, {}, {}, {}
        for smp in samples:
            for name, ingredient in self.law.ingredients.items():
                atom = smp.atoms[name]
                if isinstance(ingredient, (TokenMask, Mask)):
                    masks[atom] = ingredient.probability
                elif ingredient.shape == "vector":
                    vectors[atom] = atom           # each sample's vector is its own group
                    cumulants[atom] = ingredient.distribution.cumulant
                else:
                    scalars[atom] = ingredient.distribution
        # The masks' and scalars' moments first, summed per product of inner products with
        # the vectors: products whose coefficients cancel (m² − m) are never expanded.
        by_dots: dict[tuple[Dot, ...], sp.Expr] = {}
        for term in sp.Add.make_args(sp.expand(expr)):
            coeff, factors = term.as_coeff_mul()
            value = sp.sympify(coeff)
            dots: list[Dot] = []
            for f in factors:
                base, exp = f.as_base_exp()
                if base in masks:
                    value *= masks[base]
                elif base in scalars:
                    value *= scalars[base].moment(int(exp))
                elif isinstance(base, Dot) and any(a in vectors for a in base.args):
                    dots.extend([base] * int(exp))
                else:
                    value *= f
            key = tuple(sorted(dots, key=sp.default_sort_key))
            by_dots[key] = by_dots.get(key, 0) + value
        total = sp.Integer(0)
        for dots, value in by_dots.items():
            value = sp.expand(value)
            if value != 0:
                total += value * cumulant_expectation(list(dots), vectors, cumulants, S.d)
        return total
