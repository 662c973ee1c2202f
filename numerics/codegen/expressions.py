"""A derived recursion prepared for printing: renamed, stabilised, CSE'd.

The entries of ``A`` (row-major), ``c``, the risk weights ``w`` and ``X_0`` are
taken from the :class:`~derivations.MomentRecursion` as they are, with two
rewritings that change no value:

* symbols get the API's names (``lr``, ``beta``, ``p``, ``batch``, ``d``,
  ``sigma2``, ``R0``);
* ``(1 − p)^{jB}`` is replaced by ``(1 − p_B)^j`` with ``p_B = −expm1(B log1p(−p))``,
  which keeps full relative precision for rare tokens (``p ≪ 1/B``), where
  ``1 − (1 − p)^B`` in floating point would cancel.

Common subexpressions are then eliminated over all entries together.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from derivations import MomentRecursion
from derivations import symbols as S
from numerics.codegen.signature import Signature

#: The intermediate holding p_B = 1 − (1 − p)^B.
ACTIVE_PROBABILITY = sp.Symbol("p_B")


@dataclass(frozen=True)
class KernelExpressions:
    """Intermediates and outputs of one recursion, ready for any printer.

    ``outputs`` holds the signature's output blocks in order (the ``n²`` transition
    entries row-major, then ``n`` forcing, ``n`` risk-weight and ``n`` initial-state
    entries); ``arguments`` are the inputs under their API names.
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


@lru_cache(maxsize=None)
def kernel_expressions(recursion: MomentRecursion) -> KernelExpressions:
    """Prepare ``recursion`` for the printers (see module docstring)."""
    signature = Signature.of(recursion)
    blocks = {"transition": recursion.transition, "forcing": recursion.forcing,
              "risk_weights": recursion.risk_weights, "initial": recursion.initial}
    entries = [x for name, _ in signature.outputs for x in blocks[name]]
    signature.check_inputs(entries, f"the recursion {recursion.fingerprint[:12]}")
    rename = signature.renaming
    stable = [_stabilise(x) for x in entries]
    uses_pb = any(x.has(ACTIVE_PROBABILITY) for x in stable)
    stable = [x.xreplace(rename) for x in stable]
    replacements, reduced = sp.cse(stable, symbols=sp.numbered_symbols("t"), order="canonical")
    head = []
    if uses_pb:
        pb = -expm1(rename[S.batch] * log1p(-rename[S.p]))
        head.append((ACTIVE_PROBABILITY, pb))
    return KernelExpressions(
        name=f"{recursion.model}_{recursion.optimizer.replace('-', '_')}_{recursion.time_rule}",
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
    rule's own): every entry of ``A`` and ``c`` is a polynomial ``Σ_α h^α K_α`` with
    ``K_α`` depending on the model only, so with ``h_k = h · m_k`` (multipliers ``m_k``)

        entry_k = Σ_α m_k^α · (h^α K_α),

    a per-step scalar ``m_k^α`` (shared by all rows) times a per-row factor
    ``h^α K_α`` (computed once per row: ``outputs``).  ``terms[i]`` lists the
    ``(monomial index, output index)`` pairs of entry ``i`` (the ``n²`` entries of ``A``
    row-major, then the ``n`` of ``c``).
    """

    symbols: tuple[sp.Symbol, ...]
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
    entries = [*recursion.transition, *recursion.forcing]
    monomials: dict[tuple[int, ...], int] = {}
    factors, terms = [], []
    for entry in entries:
        try:
            poly = sp.Poly(sp.expand(entry), *hyper)
        except sp.PolynomialError:
            return None
        if any(c.has(*hyper) for c in poly.coeffs()):
            return None
        pairs = []
        for alpha, coefficient in sorted(poly.terms()):
            index = monomials.setdefault(alpha, len(monomials))
            pairs.append((index, len(factors)))
            factors.append(sp.Mul(*(h**a for h, a in zip(hyper, alpha))) * coefficient)
        terms.append(tuple(pairs))
        if len(factors) > SCHEDULED_MAX_FACTORS:
            return None
    rename = signature.renaming
    stable = [_stabilise(x) for x in factors]
    uses_pb = any(x.has(ACTIVE_PROBABILITY) for x in stable)
    stable = [x.xreplace(rename) for x in stable]
    replacements, reduced = sp.cse(stable, symbols=sp.numbered_symbols("u"), order="canonical")
    head = [(ACTIVE_PROBABILITY, -expm1(rename[S.batch] * log1p(-rename[S.p])))] if uses_pb else []
    return ScheduledExpressions(hyper, tuple(monomials), tuple(terms),
                                tuple(head + list(replacements)), tuple(reduced))
