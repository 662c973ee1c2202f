"""Small integer powers printed as products, for the printers that want them.

``x**n`` as ``(x*x*…*x)``: exact on integers, a few roundings on floats, and far cheaper
than a call to ``pow`` (a vector kernel has no ``pow`` of a whole vector; NumPy calls
``powl`` for every power of a ``long double`` array).
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE


def as_product(printer, expr: sp.Pow, largest: int) -> str | None:
    """``expr = x**n`` printed by ``printer`` as ``(x*…*x)`` when ``n`` is an integer in
    ``[2, largest]``; ``None`` otherwise (the printer's own ``Pow`` applies)."""
    if expr.exp.is_Integer and 2 <= expr.exp <= largest:
        base = printer.parenthesize(expr.base, PRECEDENCE["Mul"])
        return "(" + "*".join([base] * int(expr.exp)) + ")"
    return None
