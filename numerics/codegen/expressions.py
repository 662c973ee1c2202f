"""A derived recursion prepared for printing: renamed, stabilised, CSE'd.

The entries of ``A`` (row-major), ``c``, the risk weights ``w`` and ``X_0`` are
taken from the :class:`~derivations.MomentRecursion` as they are, with three
rewritings that change no value:

* symbols get the API's names (``lr``, ``beta``, ``p``, ``batch``, ``d``,
  ``sigma2``, ``R0``);
* ``(1 − p)^{jB}`` is replaced by ``(1 − p_B)^j`` with ``p_B = −expm1(B log1p(−p))``,
  which keeps full relative precision for rare tokens (``p ≪ 1/B``), where
  ``1 − (1 − p)^B`` in floating point would cancel;
* every polynomial factor is written in the Bernstein basis ``u^k (1 − u)^{n−k}`` of
  the rule's hyper-parameters ``u`` valid in ``[0, 1]`` (``β``, a dampening ``τ``,
  …; :func:`unit_hyper_parameters`), with ``1 − u`` an intermediate computed from the
  float input (:func:`in_unit_basis`).  SymPy expands ``(1 − β)² η²`` into
  ``η² − 2βη² + β²η²``, which loses ``log10(1/(1 − β)²)`` digits as ``β → 1`` with
  ``η(1 − β)`` fixed (EMA-type rules); in the Bernstein basis it stays one term, and
  no polynomial is worse conditioned on ``[0, 1]`` than in powers of ``u`` (Farouki &
  Rajan, "On the numerical condition of polynomials in Bernstein form", CAGD 4, 1987).

Common subexpressions are then eliminated over all entries together.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from sparsemom.derivations import MomentRecursion
from sparsemom.derivations import symbols as S
from sparsemom.numerics.codegen.signature import Signature

#: The intermediate holding p_B = 1 − (1 − p)^B.
ACTIVE_PROBABILITY = sp.Symbol("p_B")


@dataclass(frozen=True)
class KernelExpressions:
    """Intermediates and outputs of one recursion, ready for any printer.

    Parameters
    ----------
    name : str
        The module name (:func:`module_name`).
    fingerprint : str
        The SHA-256 of the derivation, written into every generated file.
    size : int
        $n$, the number of moments.
    signature : Signature
        The named inputs and output blocks.
    intermediates : tuple of (sympy.Symbol, sympy.Expr)
        Common subexpressions, in the order they are computed.
    outputs : tuple of sympy.Expr
        The signature's output blocks in order (the $n^2$ transition entries row-major, then
        $n$ forcing, $n$ risk-weight and $n$ initial-state entries, then a coupled law's
        blocks).
    arguments : tuple of sympy.Symbol
        The inputs under their API names.
    """

    name: str
    fingerprint: str
    size: int
    signature: Signature
    intermediates: tuple[tuple[sp.Symbol, sp.Expr], ...]
    outputs: tuple[sp.Expr, ...]
    arguments: tuple[sp.Symbol, ...]

    def block(self, which: str) -> tuple[sp.Expr, ...]:
        """The outputs of one named block of the signature."""
        return self.outputs[self.signature.slices()[which]]


def module_name(recursion: MomentRecursion) -> str:
    """``<model>_<optimizer>_<time rule>``, a C identifier (names hold letters, digits, ``-`` and
    ``_``; ``-`` becomes ``_``).

    Parameters
    ----------
    recursion : MomentRecursion
        The derived recursion.

    Returns
    -------
    str
        The name of its generated module and C kernel.
    """
    return (f"{recursion.model.replace('-', '_')}_{recursion.optimizer.replace('-', '_')}_"
            f"{recursion.time_rule}")


def with_stable_idle_powers(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every ``(1 − p)^{jB}`` written ``(1 − p_B)^j``, ``p_B =
    −expm1(B log1p(−p))`` spelled out (no new symbol; SymPy's flattening then turns
    ``(1 − p)^B − 1`` into ``−p_B``): the same value, without the cancellation of
    ``1 − p`` for rare tokens, for evaluating a derived expression in floating point."""
    return S.replace_idle_powers(expr, 1 + expm1(S.batch * log1p(-S.p)))


def stable_form(expr: sp.Expr) -> sp.Expr:
    """``expr`` as the kernels print it, factored in ``p_B`` (``(1 − p)^{jB} → (1 − p_B)^j``,
    then ``factor``: the cancellations of ``(1 − p_B)`` polynomials are done exactly), with
    ``p_B = −expm1(B log1p(−p))`` spelled out: the same value, for float evaluation."""
    return _stabilise(expr).xreplace({ACTIVE_PROBABILITY: -expm1(S.batch * log1p(-S.p))})


def _stabilise(expr: sp.Expr) -> sp.Expr:
    out = sp.factor(S.replace_idle_powers(expr, 1 - ACTIVE_PROBABILITY))
    if out.has(S.batch) and any(isinstance(a, sp.Pow) and a.base.has(S.p) and a.exp.has(S.batch)
                                for a in sp.preorder_traversal(out)):
        raise ArithmeticError(f"a power (1 − p)^(…B…) is left after rewriting: {out}")
    return out


def unit_hyper_parameters(recursion: MomentRecursion) -> tuple[sp.Symbol, ...]:
    """The hyper-parameters of ``recursion`` declared within ``[0, 1]`` (β and the rule's
    own: :attr:`~sparsemom.derivations.engine.moments.MomentRecursion.unit_interval`, part of its
    fingerprint, so code printed for one declaration is never used for another)."""
    return recursion.unit_interval


def complement_symbols(units, taken: set[str]) -> dict[sp.Symbol, sp.Symbol]:
    """``u`` → the symbol standing for ``1 − u``, named ``one_minus_u`` (:func:`fresh_symbol`;
    ``taken`` gains the names)."""
    return {u: fresh_symbol(f"one_minus_{u.name}", taken) for u in units}


def fresh_symbol(name: str, taken: set[str]) -> sp.Symbol:
    """A symbol named ``name``, with trailing underscores while the name is in ``taken``
    as the generated code reads it (NFKC-normalised, as Python reads identifiers: ``ｂ`` is
    ``b``); ``taken`` gains the name."""
    while unicodedata.normalize("NFKC", name) in taken:
        name += "_"
    taken.add(unicodedata.normalize("NFKC", name))
    return sp.Symbol(name)


def in_unit_basis(expr: sp.Expr, complements: dict[sp.Symbol, sp.Symbol]) -> sp.Expr:
    """``expr`` (a product of powers of polynomials, e.g. ``factor``'s output) with each
    polynomial factor written in the tensor Bernstein basis of the symbols ``u`` of
    ``complements`` it has: ``Σ_K b_K Π_i C(n_i, k_i) u_i^{k_i} ū_i^{n_i − k_i}`` with
    ``ū_i = complements[u_i]`` standing for ``1 − u_i`` and ``n_i`` the degree in
    ``u_i``; the coefficients ``b_K`` (polynomials in the other symbols) factored.
    The same value once ``ū = 1 − u`` is substituted."""
    if expr.is_Mul:
        return sp.Mul(*(in_unit_basis(f, complements) for f in expr.args))
    if expr.is_Pow and expr.exp.is_Integer:
        return in_unit_basis(expr.base, complements) ** expr.exp
    if not expr.is_Add:
        return expr
    units = [u for u in complements if expr.has(u)]
    if not units:
        return expr
    try:
        poly = sp.Poly(expr, *units)
    except sp.PolynomialError:
        return expr
    degrees = poly.degree_list()
    power = dict(poly.terms())
    out = []
    for K in itertools.product(*(range(n + 1) for n in degrees)):
        # b_K = Σ_{J ≤ K} Π_i C(k_i, j_i) / C(n_i, j_i) a_J
        b = sp.Add(*(a * sp.Mul(*(sp.Rational(math.comb(k, j), math.comb(n, j))
                                  for k, j, n in zip(K, J, degrees)))
                     for J, a in power.items() if all(j <= k for j, k in zip(J, K))))
        b = sp.factor(b)
        if b != 0:
            out.append(b * sp.Mul(*(math.comb(n, k) * u**k * complements[u]**(n - k)
                                    for u, k, n in zip(units, K, degrees))))
    return sp.Add(*out)


@lru_cache(maxsize=None)
def kernel_expressions(recursion: MomentRecursion) -> KernelExpressions:
    r"""Prepare ``recursion`` for the printers (see module docstring): common subexpressions,
    $(1 - p)^B$ as $1 - p_B$ with $p_B = -\mathrm{expm1}(B \,\mathrm{log1p}(-p))$, polynomial
    factors in the Bernstein basis of hyper-parameters in $[0, 1]$.

    Parameters
    ----------
    recursion : MomentRecursion
        The derived recursion.

    Returns
    -------
    KernelExpressions
        What every printer (NumPy, mpmath, C) prints.
    """
    signature = Signature.of(recursion)
    blocks = {"transition": recursion.transition, "forcing": recursion.forcing,
              "risk_weights": recursion.risk_weights, "initial": recursion.initial,
              "coupling": recursion.coupling, "coupling_weights": recursion.coupling_weights}
    entries = [x for name, _ in signature.outputs for x in blocks[name]]
    signature.check_inputs(entries, f"the recursion {recursion.fingerprint[:12]}")
    rename = signature.renaming
    complements = complement_symbols(unit_hyper_parameters(recursion), set(signature.names))
    stable = [in_unit_basis(_stabilise(x), complements) for x in entries]
    uses_pb = any(x.has(ACTIVE_PROBABILITY) for x in stable)
    used = [u for u, c in complements.items() if any(x.has(c) for x in stable)]
    stable = [x.xreplace(rename) for x in stable]
    replacements, reduced = sp.cse(stable, symbols=sp.numbered_symbols("t"), order="canonical")
    head = []
    if uses_pb:
        pb = -expm1(rename[S.batch] * log1p(-rename[S.p]))
        head.append((ACTIVE_PROBABILITY, pb))
    head += [(complements[u], 1 - rename[u]) for u in used]
    return KernelExpressions(
        name=module_name(recursion),
        fingerprint=recursion.fingerprint,
        size=len(recursion.state),
        signature=signature,
        intermediates=tuple(head + list(replacements)),
        outputs=tuple(reduced),
        arguments=tuple(rename.values()),
    )


@dataclass(frozen=True)
class ScheduledExpressions:
    """The recursion split for per-step hyper-parameters ``h`` (``lr``, ``beta``, the
    rule's own) with ``h_k = h · m_k`` (multipliers ``m_k``, shared by all rows).

    Every entry of ``A`` and ``c`` is a polynomial in ``h``; per monomial of the
    hyper-parameters not valid in ``[0, 1]`` its coefficient, a polynomial in those valid
    in ``[0, 1]`` (``u``: ``β``, ``τ``, ``ν``, …), is factored, every factor ``1 − M``
    of a monomial ``M`` in the ``u`` (``1 − β``, ``1 − νβ``) kept whole (:class:`_PerStep`).
    At step ``k``, ``h → h m_k`` and ``1 − M → (1 − M) + M n_M(k)`` with
    ``n_M(k) = 1 − M(m_k)``, so

        entry_k = Σ_α μ_α(k) · F_α,   μ_α(k) = Π_h m_h(k)^(α_h) · Π_M n_M(k)^(α_M),

    a per-step monomial (shared by all rows) times a per-row factor ``F_α`` (computed once
    per row: ``outputs``) in which ``1 − M`` is computed from the float ``1 − u``
    (:func:`in_unit_basis`): without a schedule of the ``u`` (``n = 0``) no digit is lost
    as ``u → 1``, where SymPy's expansion of ``(1 − β)² η²`` cancels.  ``complements``
    are the ``M`` as exponents over ``symbols``; ``monomials`` the exponents ``α`` over
    ``(*symbols, *complements)``; ``terms[i]`` the ``(monomial index, output index)``
    pairs of entry ``i`` (the ``n²`` entries of ``A`` row-major, then the ``n`` of ``c``).
    """

    symbols: tuple[sp.Symbol, ...]
    complements: tuple[tuple[int, ...], ...]
    monomials: tuple[tuple[int, ...], ...]
    terms: tuple[tuple[tuple[int, int], ...], ...]
    intermediates: tuple[tuple[sp.Symbol, sp.Expr], ...]
    outputs: tuple[sp.Expr, ...]


#: The most per-row factors ``h^α K_α`` a scheduled C kernel holds: each is a vector per
#: tile group, so the kernel's size and compile time grow with their number (a rule with
#: 6 buffers has 1 137: about a minute of compiling, for a kernel that cannot keep them in
#: registers anyway).  The built-in rules need at most 47.
SCHEDULED_MAX_FACTORS = 256


def scheduled_expressions(recursion: MomentRecursion) -> ScheduledExpressions | None:
    """The split of :class:`ScheduledExpressions`, or ``None`` when some entry is not a
    polynomial in the hyper-parameters (the idle stretches of active time divide by
    ``1 − qβ``; a rule may use ``1/(1 + ν)``) or the split has more than
    :data:`SCHEDULED_MAX_FACTORS` factors: such recursions have no scheduled C kernel
    (scheduled runs use the NumPy backend)."""
    signature = Signature.of(recursion)
    hyper = recursion.hyper_parameters
    units = unit_hyper_parameters(recursion)
    taken = set(signature.names)
    unit_complements = complement_symbols(units, taken)
    split = _PerStep(hyper, units)
    forms = []
    for entry in [*recursion.transition, *recursion.forcing]:
        try:
            poly = sp.Poly(sp.expand(entry), *hyper)
        except sp.PolynomialError:
            return None
        if any(c.has(*hyper) for c in poly.coeffs()):
            return None
        forms.append(split.form(poly))
    found = sorted(split.complements)
    # the per-row 1 − M: a unit's complement, or a symbol for the complement of a product
    symbol_of = {}
    for M in found:
        names = [f"{u.name}{a if a > 1 else ''}" for u, a in zip(units, M) if a]
        symbol_of[M] = (unit_complements[units[M.index(1)]] if sum(M) == 1 else
                        fresh_symbol(f"one_minus_{'_'.join(names)}", taken))
    per_row = {split.complements[M][0]: symbol_of[M] for M in found}
    variables = [*split.multipliers.values(), *(split.complements[M][1] for M in found)]
    monomials: dict[tuple[int, ...], int] = {}
    factors, terms = [], []
    for form in forms:
        pairs = []
        for alpha, factor in sorted(sp.Poly(form, *variables).terms()):
            index = monomials.setdefault(alpha, len(monomials))
            pairs.append((index, len(factors)))
            factors.append(factor.xreplace(per_row))
        terms.append(tuple(pairs))
        if len(factors) > SCHEDULED_MAX_FACTORS:
            return None
    rename = signature.renaming
    stable = [_stabilise(x) for x in factors]
    uses_pb = any(x.has(ACTIVE_PROBABILITY) for x in stable)
    products = {symbol_of[M]: in_unit_basis(1 - sp.Mul(*(u**a for u, a in zip(units, M))),
                                            unit_complements)
                for M in found if sum(M) > 1 and any(x.has(symbol_of[M]) for x in stable)}
    used = [u for u in units if any(x.has(unit_complements[u])
                                    for x in (*stable, *products.values()))]
    stable = [x.xreplace(rename) for x in stable]
    replacements, reduced = sp.cse(stable, symbols=sp.numbered_symbols("u"), order="canonical")
    head = [(ACTIVE_PROBABILITY, -expm1(rename[S.batch] * log1p(-rename[S.p])))] if uses_pb else []
    head += [(unit_complements[u], 1 - rename[u]) for u in used]
    head += [(symbol, expr.xreplace(rename)) for symbol, expr in products.items()]
    over_hyper = tuple(tuple(dict(zip(units, M)).get(h, 0) for h in hyper) for M in found)
    return ScheduledExpressions(hyper, over_hyper, tuple(monomials), tuple(terms),
                                tuple(head + list(replacements)), tuple(reduced))


class _PerStep:
    """An entry at step ``k`` as a polynomial in per-step variables — the multipliers
    ``m_h`` and the complements ``n_M = 1 − M(m)`` of monomials ``M`` of the ``units`` —
    with per-row coefficients (:class:`ScheduledExpressions`).  Per monomial of the other
    hyper-parameters, the coefficient (a polynomial in the units) is factored; a factor
    ``c (1 − M)`` is kept whole, ``1 − M → (1 − M) + M n_M``; another factor that vanishes
    where every unit is 1 (``2βν − ν − 1``) is written in the Bernstein basis
    (:func:`in_unit_basis`), ``ū → ū + u n_u``; the rest in powers, ``u → u m_u``.  (No
    more terms than the powers of ``h`` where the factors ``1 − M`` are the cancellation;
    the full Bernstein form that :func:`kernel_expressions` prints would multiply the
    step's terms.)"""

    def __init__(self, hyper, units):
        self.hyper, self.units = hyper, units
        self.multipliers = {h: sp.Dummy(f"m_{h.name}") for h in hyper}
        #: M → (per-row symbol for 1 − M, per-step n_M)
        self.complements: dict[tuple[int, ...], tuple[sp.Dummy, sp.Dummy]] = {}

    def complement(self, M: tuple[int, ...]) -> tuple[sp.Dummy, sp.Dummy]:
        if M not in self.complements:
            self.complements[M] = (sp.Dummy(f"complement{M}"), sp.Dummy(f"n{M}"))
        return self.complements[M]

    def _unit(self, u) -> tuple[int, ...]:
        return tuple(int(w == u) for w in self.units)

    def form(self, poly: sp.Poly) -> sp.Expr:
        rest = [h for h in self.hyper if h not in self.units]
        by_rest = sp.Poly(poly.as_expr(), *rest).terms() if rest else [((), poly.as_expr())]
        total = []
        for powers, q in by_rest:
            form = sp.Mul(*((h * self.multipliers[h])**a for h, a in zip(rest, powers)))
            if self.units and q.has(*self.units):
                # idle powers (1 − p)^{jB} as powers of a symbol: factor_list sorts its
                # factors by exponent, and cannot compare B with 2
                idle = sp.Dummy("idle")
                constant, parts = sp.factor_list(S.replace_idle_powers(q, idle), *self.units)
                back = {idle: (1 - S.p) ** S.batch}
                form *= constant.xreplace(back) * sp.Mul(
                    *(self._factor(f.xreplace(back))**r for f, r in parts))
            else:
                form *= q
            total.append(form)
        return sp.expand(sp.Add(*total))

    def _factor(self, f: sp.Expr) -> sp.Expr:
        units, m = self.units, self.multipliers
        P = sp.Poly(f, *units)
        one = P.coeff_monomial((0,) * len(units))
        if len(P.terms()) == 2 and one != 0 and sp.expand(P.LC() + one) == 0:
            M = P.monoms()[0]
            bar, n = self.complement(M)
            return one * (bar + sp.Mul(*(u**a for u, a in zip(units, M))) * n)
        if sp.expand(f.xreplace({u: 1 for u in units})) == 0:
            bars = {u: self.complement(self._unit(u)) for u in units if f.has(u)}
            bernstein = in_unit_basis(f, {u: bar for u, (bar, _) in bars.items()})
            step = {u: u * m[u] for u in units}
            step.update({bar: bar + u * n for u, (bar, n) in bars.items()})
            return bernstein.xreplace(step)
        return f.xreplace({u: u * m[u] for u in units})
