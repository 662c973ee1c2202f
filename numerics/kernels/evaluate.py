"""A derived :class:`~derivations.MomentRecursion` evaluated at numbers.

The SymPy matrices ``A``, ``c``, the risk weights ``w`` and the initial state
``X_0`` are evaluated row by row in exact rational arithmetic (float inputs at
their exact binary value).  Nothing here derives: it only substitutes numbers
into the derived objects.  (Float backends use the generated code instead.)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from sparsemom.derivations import MomentRecursion
from sparsemom.numerics.codegen.signature import Signature


@dataclass(frozen=True)
class NumericRecursion:
    """``X_{k+1} = A X_k + c``, ``E R_k = Σ_rows w · X_k`` with per-row numbers.

    Shapes: ``transition`` (n, n, rows), ``forcing``, ``risk_weights`` and
    ``initial`` (n, rows).  Float64 arrays, or object arrays of ``Fraction``.
    """

    transition: np.ndarray
    forcing: np.ndarray
    risk_weights: np.ndarray
    initial: np.ndarray
    #: ``u`` and ``q`` (n, rows) of a coupled recursion (rows are the modes of one row).
    coupling: np.ndarray | None = None
    coupling_weights: np.ndarray | None = None


def _symbols(recursion: MomentRecursion) -> tuple[sp.Symbol, ...]:
    """The recursion's inputs, in the order of its generated functions."""
    return Signature.of(recursion).inputs


def _entries(recursion: MomentRecursion) -> dict[str, list[sp.Expr]]:
    return {
        "transition": list(recursion.transition),
        "forcing": list(recursion.forcing),
        "risk_weights": list(recursion.risk_weights),
        "initial": list(recursion.initial),
        **({"coupling": list(recursion.coupling),
            "coupling_weights": list(recursion.coupling_weights)} if recursion.coupled else {}),
    }


def evaluate_exact(recursion: MomentRecursion, values: dict, rows: int) -> NumericRecursion:
    """Exact rational evaluation (floats are taken at their exact binary value); a
    ``ValueError`` before any work when an entry holds an irrational number (a rule's
    ``sqrt(2)``), which rational arithmetic cannot carry."""
    symbols = _symbols(recursion)
    entries = _entries(recursion)
    irrational = sorted({str(a) for exprs in entries.values() for x in exprs
                         for a in sp.sympify(x).atoms(sp.Pow, sp.NumberSymbol, sp.Function)
                         if not a.free_symbols and not a.is_Rational})
    if irrational:
        raise ValueError(f"backend='exact' needs rational numbers; the recursion of "
                         f"{recursion.optimizer!r} holds {', '.join(irrational)}: use "
                         "backend='mpmath' (any precision) instead")
    columns = [np.broadcast_to(np.asarray(values[s], dtype=object), (rows,)) for s in symbols]
    n = len(recursion.state)
    out = {name: np.empty((len(exprs), rows), dtype=object) for name, exprs in entries.items()}
    cache: dict[tuple, dict[str, list[Fraction]]] = {}
    for r in range(rows):
        key = tuple(Fraction(col[r]) for col in columns)
        if key not in cache:
            sub = {s: sp.Rational(x.numerator, x.denominator) for s, x in zip(symbols, key)}
            cache[key] = {name: [_fraction(x.xreplace(sub)) for x in exprs]
                          for name, exprs in entries.items()}
        for name, vals in cache[key].items():
            out[name][:, r] = vals
    out["transition"] = out["transition"].reshape(n, n, rows)
    return NumericRecursion(**out)


def _fraction(x: sp.Expr) -> Fraction:
    if not x.is_Rational:
        raise ArithmeticError(f"entry did not evaluate to a rational number: {x}")
    return Fraction(int(x.p), int(x.q))
