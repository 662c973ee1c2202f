"""The signature of a generated function, built once from a derivation.

Inputs are the derivation's parameter symbols followed by ``R_0`` (the order every
backend passes values in), each named in generated code by its API name (``lr``, ``beta``,
``p``, ``batch``, ``d``, ``sigma2``, ``R0``; a rule's own hyper-parameter ``nu`` as
``h_nu``).  Outputs
are the named blocks of the recursion ``X_{k+1} = A X_k + c``, ``E R_k = w · X_k``
from ``X_0``: ``transition`` (``A`` row-major, ``n²`` entries), ``forcing``,
``risk_weights`` and ``initial`` (``n`` each); a coupled recursion adds ``coupling`` (``u``)
and ``coupling_weights`` (``q``), ``n`` each.  :meth:`Signature.check_inputs` refuses
an expression with a free symbol that is not an input, so no generated function can
read a value nobody passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

from sparsemom.derivations import MomentRecursion
from sparsemom.derivations import symbols as S
from sparsemom.derivations.engine.moments import R0

#: API names of the derivation's symbols (what users and generated code call them).
API_NAMES = {S.lr: "lr", S.beta: "beta", S.p: "p", S.batch: "batch", S.d: "d",
             S.sigma2: "sigma2", R0: "R0"}


def api_name(symbol: sp.Symbol) -> str:
    """The API name of ``symbol``, else its own name made a valid identifier."""
    if symbol in API_NAMES:
        return API_NAMES[symbol]
    name = re.sub(r"\W", "_", symbol.name)
    return name if name.isidentifier() else f"s_{name}"


def code_name(symbol: sp.Symbol, index: int) -> str:
    """The name of input ``index`` in generated code: the API name of a standard input,
    ``h_<name>`` for any other (a rule's own hyper-parameter; ``h_<index>`` when its name
    is not ASCII).  The prefix keeps a user's name (``t0``, ``p_B``, ``zero``, ``out``,
    ``double``, ``lambda``, …) apart from the printers' intermediates, the C kernel's own
    names and both languages' keywords."""
    if symbol in API_NAMES:
        return API_NAMES[symbol]
    return f"h_{symbol.name}" if symbol.name.isascii() and symbol.name.isidentifier() \
        else f"h_{index}"


@dataclass(frozen=True)
class Signature:
    """Inputs (in call order) with their names in generated code (:func:`code_name`),
    and named output blocks of one recursion."""

    inputs: tuple[sp.Symbol, ...]
    names: tuple[str, ...]
    outputs: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, recursion: MomentRecursion) -> "Signature":
        inputs = (*recursion.parameters, R0)
        n = len(recursion.state)
        names = tuple(code_name(s, i) for i, s in enumerate(inputs))
        if len(set(names)) != len(names):
            raise ValueError(f"input names of {recursion.model}/{recursion.optimizer} collide: "
                             f"{names}")
        outputs = (("transition", n * n), ("forcing", n), ("risk_weights", n), ("initial", n))
        if recursion.coupled:
            outputs += (("coupling", n), ("coupling_weights", n))
        return cls(inputs, names, outputs)

    @property
    def renaming(self) -> dict[sp.Symbol, sp.Symbol]:
        """Derivation symbol → symbol with the API name (for printing)."""
        return {s: sp.Symbol(name) for s, name in zip(self.inputs, self.names)}

    def slices(self) -> dict[str, slice]:
        """Output block name → its slice of the flat outputs."""
        out, start = {}, 0
        for name, length in self.outputs:
            out[name] = slice(start, start + length)
            start += length
        return out

    def check_inputs(self, expressions, what: str) -> None:
        """A ``ValueError`` naming every free symbol of ``expressions`` that is not an input."""
        for x in expressions:
            Signature.check(x, self.inputs, what)

    @staticmethod
    def check(expression, inputs: tuple[sp.Symbol, ...], what: str = "the expression") -> None:
        """A ``ValueError`` naming the free symbols of ``expression`` outside ``inputs``."""
        extra = sp.sympify(expression).free_symbols - set(inputs)
        if extra:
            raise ValueError(f"{what} uses {sorted(map(str, extra))}, which are not among the "
                             f"inputs {tuple(map(str, inputs))}")
