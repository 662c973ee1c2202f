"""Loss-curve terms of power-law data, their phases and compute-optimal exponents.

Data with covariance eigenvalues ``λ_j = j^{−2α}`` and target coefficients ``j^{−β}``
(:func:`~sparsemom.numerics.inputs.spectra.power_law_covariance`,
:class:`~sparsemom.numerics.inputs.spectra.PowerLawRandomFeatures`), trained with SGD at a
constant, dimension-free learning rate and batch, has a risk that is, up to constants, a sum
of power-law terms ``t^{−a} d^{−b}`` (``t`` steps, ``d`` parameters). Each :class:`Term`
carries its two exponents, where in the ``(α, β)`` plane it is present, and where it comes
from (:data:`SOURCES`). The compute-optimal exponents follow from the terms alone: with
``d = f^ξ`` and ``t = f^{1−ξ}`` at compute ``f = d·t`` (batch fixed), the risk is dominated by
its largest term, ``f^{−min_i (a_i (1−ξ) + b_i ξ)}``, and the best model size maximises that
minimum,

    η = max_{0 ≤ ξ ≤ 1} min_i  a_i (1 − ξ) + b_i ξ,    d* ∝ f^{ξ*},   P* ∝ f^{−η},

a concave piecewise-linear maximisation whose optimum is an end of ``[0, 1]`` or the crossing
of two terms (:func:`compute_optimal`: exact, at rational points). Each term is written
in the learning time ``τ = η t``, as ``η^k τ^{−a} d^{−b}`` (``k`` its :attr:`Term.lr_power`),
and the learning rate follows the authors' rule ``η ∝ 1/tr K``: dimension-free above the
high-dimensional line ``2α > 1`` (phases Ia, II, III), ``η ∝ d^{−g}`` with
``g = 1 − 2α`` below it (``tr K ≍ d^{1−2α}``: phases Ib, Ic, IV;
:data:`LEARNING_RATE_DECAY`). In steps at fixed compute that is ``t^{−a} d^{−(b + g(k −
a))}``, saturating at ``τ = d^{2α}``, i.e. ``t = d^{2α + g}`` (:func:`step_exponents`;
derived here). Within one phase the same
two terms cross everywhere, so :func:`compute_optimal_formulas` solves their balance in
SymPy; the published exponents of phases Ia, II and III are checked against these in the
tests.

The decay of each term in ``t`` is that of a power-weighted sum over the spectrum,
``Σ_j j^{−p} e^{−c t j^{−2α}} ≍ t^{−(p−1)/(2α)}`` for ``p > 1`` (:func:`spectral_decay`,
derived here by rescaling the sum's integral), with ``p = 2α + 2β`` for the target's
pure-point forcing (weights ``λ_j θ*_j²``), ``p = 4α`` for the noise kernel (``λ_j²``) and
``p = 2α`` for the random-features' absolutely continuous forcing (weights flat in ``j``,
``∝ 1/d``; for ``2α < 1`` its sum is dominated by ``j ≍ d``, ``≍ d^{1−2α}`` until the
saturation: a flat ``d^{−2α}``, derived here). The floor is the part of the target no model of size ``d`` reaches:
``Σ_{j>d} j^{−2α−2β} ≍ d^{−(2α+2β−1)}`` for the truncated power law, ``d^{−2α}`` for random
features when ``2β > 1`` (:data:`SOURCES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

alpha, beta = sp.symbols("alpha beta", positive=True)

#: Where each statement comes from.  "verified": read in the source (text quoted by a
#: summary of the paper or by the authors' code); "recalled": the paper's content as the
#: authors of this module remember it, consistent with the verified numbers but not read in
#: the PDF; "derived": derived in this module (and measured on exact curves by the studies).
SOURCES = {
    "4+3": "E. Paquette, C. Paquette, L. Xiao, J. Pennington, '4+3 phases of compute-optimal "
           "neural scaling laws', arXiv 2405.15074 (NeurIPS 2024)",
    "DANA": "D. Ferbach, K. Everett, G. Gidel, E. Paquette, C. Paquette, 'Dimension-adapted "
            "momentum outscales SGD', arXiv 2505.16098",
    "derived": "derived in sparsemom.derivations.limits.power_law_phases",
}


@dataclass(frozen=True)
class Term:
    """One term ``t^{−time_exponent} d^{−dimension_exponent}`` of the risk, present where
    ``condition`` holds and, with a ``saturation`` ``s``, only while ``t < d^s`` (after that
    the slowest mode, ``λ_min = d^{−2α}``, is learnt and the term falls exponentially);
    ``source`` a key of :data:`SOURCES` and its ``status``. The exponents are those of the
    learning time ``τ = η t``, the term being ``η^{lr_power} τ^{−a} d^{−b}``
    (:func:`step_exponents` turns them into exponents of the steps ``t``)."""

    name: str
    meaning: str
    time_exponent: sp.Expr
    dimension_exponent: sp.Expr
    condition: sp.Basic
    source: str
    status: str
    saturation: sp.Expr | None = None
    lr_power: int = 0


@dataclass(frozen=True)
class Phase:
    """A region of the ``(α, β)`` plane, given by ``condition``, with a point inside it."""

    name: str
    condition: sp.Basic
    sample: tuple[Fraction, Fraction]
    source: str
    status: str


def spectral_decay(weight_power: sp.Expr, a: sp.Expr = alpha) -> sp.Expr:
    """``e`` with ``Σ_j j^{−p} exp(−t j^{−2a}) ≍ t^{−e}`` as ``t → ∞`` (``p > 1``), derived by
    rescaling the sum's integral ``∫ x^{−p} exp(−t x^{−2a}) dx`` with ``x = t^{1/(2a)} y``: the
    rescaled integrand is ``t^{−e}`` times a function of ``y`` alone, and ``−e`` is its
    logarithmic derivative ``t ∂_t log``."""
    t, x, y = sp.symbols("t x y", positive=True)
    integrand = x ** (-weight_power) * sp.exp(-t * x ** (-2 * a))
    scale = t ** (1 / (2 * a))
    rescaled = integrand.subs(x, scale * y) * sp.diff(scale * y, y)
    power = sp.simplify(sp.expand_log(t * sp.diff(sp.log(rescaled), t), force=True))
    if power.has(t, y):
        raise ValueError(f"the rescaled integrand of weight j^(-{weight_power}) is not a power of t")
    return sp.simplify(-power)


#: The learning time ``τ = η t = d^{2α}`` by which the slowest mode ``λ_min = d^{−2α}`` is
#: learnt: the spectral terms hold before it.
LEARNT = 2 * alpha

#: ``g`` in ``η ∝ d^{−g}``: the authors' rule ``η ∝ 1/tr K`` with ``tr K = Σ_{j ≤ d} j^{−2α}``
#: bounded for ``2α > 1`` and ``≍ d^{1−2α}`` below (random features: ``E tr WᵀDW = tr D``
#: over ``v ∝ d`` coordinates, the same power).
LEARNING_RATE_DECAY = sp.Piecewise((sp.S.Zero, 2 * alpha > 1), (1 - 2 * alpha, True))


def step_exponents(term: Term) -> tuple[sp.Expr, sp.Expr, sp.Expr | None]:
    """``(a, b_t, s_t)`` of ``term`` in steps: ``η^k (ηt)^{−a} d^{−b}`` with ``η ∝ d^{−g}``
    (:data:`LEARNING_RATE_DECAY`) is ``t^{−a} d^{−b_t}``, ``b_t = b + g (k − a)``, and its
    saturation ``ηt < d^s`` is ``t < d^{s + g}``."""
    g = LEARNING_RATE_DECAY
    dimension = term.dimension_exponent + g * (term.lr_power - term.time_exponent)
    saturation = None if term.saturation is None else term.saturation + g
    return term.time_exponent, dimension, saturation


def random_features_terms() -> tuple[Term, ...]:
    """The terms of SGD's risk on power-law random features ([4+3], its Table 1; the time
    exponents by :func:`spectral_decay`). Derived here: ``Fac`` below the high-dimensional
    line (flat, module docstring), and the noise kernel's one power of ``η``: for a summable
    kernel ``(K ∗ S)(t) ≈ (Σ K) S(t) + (Σ S) K(t)`` with ``K ∝ η² Σ_j λ_j² e^{−2ηλ_j t}`` and
    ``Σ S ≈ Σ_j θ*_j²/(2η)``, so the kernel's own part is ``η τ^{−a}``."""
    two_beta_above = 2 * beta > 1
    above = 2 * alpha > 1
    return (
        Term("Fpp", "forcing of the target's pure-point part", spectral_decay(2 * alpha + 2 * beta),
             sp.S.Zero, sp.true, "4+3", "recalled", LEARNT),
        Term("Fac", "forcing of the absolutely continuous part (the embedding)",
             sp.Piecewise((spectral_decay(2 * alpha), above), (sp.S.Zero, True)),
             sp.Piecewise((sp.S.One, above), (2 * alpha, True)), two_beta_above,
             "4+3", "recalled", LEARNT),
        Term("Kpp", "noise kernel (SGD's own noise)", spectral_decay(4 * alpha), sp.S.Zero,
             sp.And(two_beta_above, 4 * alpha > 1), "4+3", "recalled", LEARNT, lr_power=1),
        Term("F0", "floor: what d features cannot represent", sp.S.Zero,
             sp.Piecewise((2 * alpha, two_beta_above), (2 * alpha + 2 * beta - 1, True)),
             sp.true, "4+3", "recalled"),
    )


def truncated_power_law_terms() -> tuple[Term, ...]:
    """The terms for the first ``d`` coordinates of a power-law population (no random
    features, the rest of the target label noise): no absolutely continuous part, and the
    floor is the tail ``Σ_{j>d} j^{−2α−2β}`` (derived here)."""
    return (
        Term("Fpp", "forcing of the target", spectral_decay(2 * alpha + 2 * beta), sp.S.Zero,
             sp.true, "derived", "derived", LEARNT),
        Term("Kpp", "noise kernel (SGD's own noise)", spectral_decay(4 * alpha), sp.S.Zero,
             sp.And(2 * beta > 1, 4 * alpha > 1), "derived", "derived", LEARNT, lr_power=1),
        Term("F0", "floor: the target's tail beyond d", sp.S.Zero, 2 * alpha + 2 * beta - 1,
             sp.true, "derived", "derived"),
    )


#: The phases of [4+3] (all need ``2(α + β) > 1``, else the initial risk grows with the
#: population). Ib's and Ic's inequalities are the paper's proposition titles (verified),
#: with their statements ``P ≍ Fpp + F0``; Ib's proposition is proved for ``α > 1/4`` and
#: the paper believes it below (verified: "we believe that statement still holds"), so Ib
#: here is all of ``2β < 1 < 2(α + β)``, ``2α < 1``. Ia, II, III and IV are as recalled,
#: consistent with the verified α = 0.7 slice Ia → II → III and with the verified exponent
#: 0.648 measured against 0.643 predicted on the II/III boundary. The IVa/IVb boundary is
#: not known here: IV is one region.
PHASES = (
    Phase("Ia", sp.And(2 * beta < 1, 2 * alpha > 1), (Fraction(7, 10), Fraction(3, 10)),
          "4+3", "recalled"),
    Phase("Ib", sp.And(2 * beta < 1, 2 * alpha < 1, 2 * (alpha + beta) > 1),
          (Fraction(2, 5), Fraction(3, 10)), "4+3", "verified"),
    Phase("Ic", sp.And(2 * beta > 1, 4 * alpha < 1), (Fraction(1, 5), Fraction(4, 5)),
          "4+3", "verified"),
    Phase("II", sp.And(2 * beta > 1, 2 * alpha > 1, beta < alpha),
          (Fraction(7, 10), Fraction(3, 5)), "4+3", "recalled"),
    Phase("III", sp.And(2 * beta > 1, 2 * alpha > 1, beta > alpha),
          (Fraction(7, 10), Fraction(1)), "4+3", "recalled"),
    Phase("IV", sp.And(2 * beta > 1, 4 * alpha > 1, 2 * alpha < 1),
          (Fraction(2, 5), Fraction(4, 5)), "4+3", "recalled"),
)


def rational_point(a, b) -> dict:
    """``{α: a, β: b}`` as exact rationals (a float as the binary fraction it is); a
    ``ValueError`` names a value that is not a finite number."""
    point = {}
    for symbol, value in ((alpha, a), (beta, b)):
        try:
            exact = Fraction(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{symbol} must be a finite number; got {value!r}") from None
        point[symbol] = sp.Rational(exact.numerator, exact.denominator)
    return point


def time_exponent(terms, name: str, a, b) -> Fraction | None:
    """The time exponent of the term ``name`` at ``(α, β) = (a, b)`` (exact), ``None`` where
    that term is absent."""
    point = rational_point(a, b)
    term = next((t for t in present_terms(terms, a, b) if t.name == name), None)
    return None if term is None else _value(term.time_exponent, point)


def kernel_part_exponent(terms, a, b) -> Fraction | None:
    """The time exponent of what the noise kernel adds to the target's risk, the slower of
    the forcing's and the kernel's own (``Kpp``, where present): for a summable kernel
    ``(K ∗ S)(t) ≈ (Σ K) S(t) + (Σ S) K(t)`` (derived here). ``None`` for ``4α < 1``, where
    ``Σ_j λ_j² e^{−2ηλ_j t}`` is dominated by the last modes and flat until they are learnt:
    no power law in ``t``."""
    if not 4 * rational_point(a, b)[alpha] > 1:
        return None
    exponents = [time_exponent(terms, name, a, b) for name in ("Fpp", "Kpp")]
    return min(e for e in exponents if e is not None)


def crossover_exponent(terms, first: str, second: str, a, b) -> Fraction:
    """``s`` with the terms ``first`` and ``second`` equal at ``t = d^s``:
    ``t^{−a_1} d^{−b_1} = t^{−a_2} d^{−b_2}``, ``s = (b_2 − b_1)/(a_1 − a_2)``."""
    point = rational_point(a, b)
    one, two = (next(t for t in terms if t.name == name) for name in (first, second))
    return ((_value(two.dimension_exponent, point) - _value(one.dimension_exponent, point))
            / (_value(one.time_exponent, point) - _value(two.time_exponent, point)))


def phase_of(a, b) -> str | None:
    """The name of the phase of :data:`PHASES` holding ``(α, β) = (a, b)`` (exact for
    rationals), ``None`` on a boundary or outside ``2(α + β) > 1``."""
    point = rational_point(a, b)
    found = [p.name for p in PHASES if bool(p.condition.subs(point))]
    return found[0] if len(found) == 1 else None


def _value(expr, point) -> Fraction:
    """An exponent at a rational point, as a ``Fraction``."""
    value = sp.nsimplify(sp.sympify(expr).subs(point))
    return Fraction(int(value.p), int(value.q))


@dataclass(frozen=True)
class ComputeOptimal:
    """``d* ∝ f^xi``, ``P* ∝ f^{−eta}``; ``balance`` the terms equal to ``P*`` at the optimum
    (one name when the optimum is an end of ``[0, 1]`` or a saturation), ``saturated`` the
    terms that end there (the optimum is then a supremum approached from below in ``ξ``: the
    largest model whose slowest mode is learnt just in time)."""

    xi: Fraction
    eta: Fraction
    balance: tuple[str, ...]
    saturated: tuple[str, ...] = ()


def present_terms(terms, a, b) -> list[Term]:
    """The terms present at ``(α, β) = (a, b)``."""
    point = rational_point(a, b)
    return [term for term in terms if bool(term.condition.subs(point))]


def has_compute_optimum(a, b) -> bool:
    """Whether :func:`compute_optimal` has exponents at ``(α, β) = (a, b)``: off the line
    ``2α = 1`` and inside ``2(α + β) > 1``."""
    point = rational_point(a, b)
    return 2 * point[alpha] != 1 and 2 * (point[alpha] + point[beta]) > 1


def compute_optimal(terms, a, b) -> ComputeOptimal:
    """The exact supremum over ``ξ ∈ [0, 1]`` of ``min_i a_i (1 − ξ) + b_i ξ`` at the rational
    point ``(α, β) = (a, b)`` (module docstring), the minimum over the terms present at
    ``ξ``: a term of saturation ``s`` only from ``ξ_s = 1/(1 + s)`` on (``t < d^s``), the
    exponents being those in steps (:func:`step_exponents`). Between saturations the
    function is concave and piecewise linear, so the candidates are the ends, every crossing
    of two terms, and every ``ξ_s`` with and without (its left limit) the terms that start
    there. Needs ``2α ≠ 1`` (on the high-dimensional line ``tr K ≍ log d``: logarithmic
    corrections) and ``2(α + β) > 1`` (a finite initial risk in the population limit)."""
    point = rational_point(a, b)
    if 2 * point[alpha] == 1:
        raise ValueError(f"alpha must not be 1/2 (on the high-dimensional line tr K grows as "
                         f"log d: no power law); got alpha={a}")
    if not 2 * (point[alpha] + point[beta]) > 1:
        raise ValueError(f"beta must have 2*(alpha + beta) > 1 (else the initial risk grows "
                         f"with the population: no scaling law); got alpha={a}, beta={b}")
    lines = []
    for t in present_terms(terms, a, b):
        time, dimension, saturation = step_exponents(t)
        start = Fraction(0) if saturation is None else 1 / (1 + _value(saturation, point))
        lines.append((t.name, _value(time, point), _value(dimension, point), start))
    if not lines:
        raise ValueError(f"no term is present at alpha={a}, beta={b}")

    def floor(xi: Fraction, left: bool = False) -> tuple[Fraction, tuple[str, ...]]:
        live = [(n, ai * (1 - xi) + bi * xi) for n, ai, bi, st in lines
                if st < xi or (st == xi and not left)]
        if not live:
            return Fraction(10**9), ()
        low = min(v for _, v in live)
        return low, tuple(n for n, v in live if v == low)

    candidates = [(Fraction(0), False), (Fraction(1), False)]
    candidates += [(st, left) for *_, st in lines if 0 < st <= 1 for left in (False, True)]
    for i, (_, a1, b1, _) in enumerate(lines):
        for _, a2, b2, _ in lines[i + 1:]:
            slope = (b1 - a1) - (b2 - a2)
            if slope != 0 and 0 <= (a2 - a1) / slope <= 1:
                candidates.append(((a2 - a1) / slope, False))
    best = max(candidates, key=lambda c: (floor(*c)[0], -c[0]))
    eta, balance = floor(*best)
    saturated = tuple(n for n, *_, st in lines if best[1] and st == best[0])
    return ComputeOptimal(best[0], eta, balance, saturated)


def compute_optimal_formulas(terms, phase: Phase) -> tuple[sp.Expr, sp.Expr]:
    """``(ξ, η)`` as functions of ``α, β`` throughout ``phase``: at its sample point
    (:func:`compute_optimal`) either two terms balance, ``a_1 (1 − ξ) + b_1 ξ = a_2 (1 − ξ) +
    b_2 ξ`` (terms whose lines coincide throughout the phase count once), solved
    symbolically, or the optimum sits where terms saturate,
    ``ξ = 1/(1 + s)``, at the value of the terms that remain there (equal throughout the
    phase, else a ``ValueError``)."""
    optimum = compute_optimal(terms, *phase.sample)
    xi = sp.Symbol("xi")
    by_name = {t.name: t for t in terms}

    def line(t: Term) -> sp.Expr:
        time, dimension, _ = step_exponents(t)
        return _in_phase(time, phase) * (1 - xi) + _in_phase(dimension, phase) * xi

    if optimum.saturated:
        at = sp.simplify(1 / (1 + _in_phase(step_exponents(by_name[optimum.saturated[0]])[2],
                                            phase)))
        values = {sp.simplify(line(by_name[name]).subs(xi, at)) for name in optimum.balance}
        if len(values) != 1:
            raise ValueError(f"phase {phase.name}: the terms {optimum.balance} at the "
                             "saturation differ across the phase; no one formula")
        return at, values.pop()
    # terms of one line throughout the phase (Fac and F0 below the line) balance as one
    distinct = list(dict.fromkeys(sp.simplify(line(by_name[name])) for name in optimum.balance))
    if len(distinct) != 2:
        raise ValueError(f"phase {phase.name}: {len(distinct)} distinct terms balance at its "
                         "sample point; no two-term formula")
    first, second = distinct
    solution = sp.solve(sp.Eq(first, second), xi)[0]
    return sp.simplify(solution), sp.simplify(first.subs(xi, solution))


def _in_phase(expr: sp.Expr, phase: Phase) -> sp.Expr:
    """An exponent with its piecewise parts resolved to the branches inside ``phase`` (those
    taken at the phase's sample point: the phases do not straddle a term's branches)."""
    point = rational_point(*phase.sample)

    def branch(piecewise: sp.Piecewise) -> sp.Expr:
        for value, condition in piecewise.args:
            if bool(sp.sympify(condition).subs(point)):
                return value
        raise ValueError(f"no branch of {piecewise} holds in phase {phase.name}")

    return sp.sympify(expr).replace(lambda e: isinstance(e, sp.Piecewise), branch)
