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

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from derivations import MomentRecursion
from derivations import symbols as S
from derivations.moments import R0

#: Argument names of generated functions, in order.
ARGUMENTS = ("lr", "beta", "p", "batch", "d", "sigma2", "R0")
_RENAME = dict(zip((*S.PARAMETERS, R0), (sp.Symbol(a) for a in ARGUMENTS)))
#: The intermediate holding p_B = 1 − (1 − p)^B.
ACTIVE_PROBABILITY = sp.Symbol("p_B")


@dataclass(frozen=True)
class KernelExpressions:
    """Intermediates and outputs of one recursion, ready for any printer.

    ``outputs`` holds, in order, the ``n²`` transition entries (row-major),
    the ``n`` forcing, ``n`` risk-weight and ``n`` initial-state entries.
    """

    name: str
    fingerprint: str
    size: int
    intermediates: tuple[tuple[sp.Symbol, sp.Expr], ...]
    outputs: tuple[sp.Expr, ...]
    arguments: tuple[sp.Symbol, ...]

    def block(self, which: str) -> tuple[sp.Expr, ...]:
        n = self.size
        start = {"transition": 0, "forcing": n * n, "risk_weights": n * n + n,
                 "initial": n * n + 2 * n}[which]
        return self.outputs[start: start + (n * n if which == "transition" else n)]


def _stabilise(expr: sp.Expr) -> sp.Expr:
    out = S.replace_idle_powers(expr, 1 - ACTIVE_PROBABILITY)
    out = sp.factor(sp.expand(out))
    if out.has(S.batch) and any(isinstance(a, sp.Pow) and a.base.has(S.p) and a.exp.has(S.batch)
                                for a in sp.preorder_traversal(out)):
        raise ArithmeticError(f"a power (1 − p)^(…B…) is left after rewriting: {out}")
    return out


def kernel_expressions(recursion: MomentRecursion) -> KernelExpressions:
    """Prepare ``recursion`` for the printers (see module docstring)."""
    entries = [*recursion.transition, *recursion.forcing, *recursion.risk_weights,
               *recursion.initial]
    stable = [_stabilise(x) for x in entries]
    uses_pb = any(x.has(ACTIVE_PROBABILITY) for x in stable)
    stable = [x.xreplace(_RENAME) for x in stable]
    replacements, reduced = sp.cse(stable, symbols=sp.numbered_symbols("t"), order="canonical")
    head = []
    if uses_pb:
        pb = -expm1(_RENAME[S.batch] * log1p(-_RENAME[S.p]))
        head.append((ACTIVE_PROBABILITY, pb))
    return KernelExpressions(
        name=f"{recursion.model}_{recursion.optimizer.replace('-', '_')}_{recursion.time_rule}",
        fingerprint=recursion.fingerprint,
        size=len(recursion.state),
        intermediates=tuple(head + list(replacements)),
        outputs=tuple(reduced),
        arguments=tuple(_RENAME.values()),
    )
