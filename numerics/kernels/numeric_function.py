"""The one road from a derived expression to a run-time numeric function.

Generated, fingerprinted source (``numerics/generated``, :mod:`sparsemom.numerics.kernels.backends`)
serves the recursions; every other derived expression a numeric module evaluates —
stability conditions, the logistic statistics map, gradient coefficients, idle
stretches, linearisations — is turned into a function here, by ``sympy.lambdify``.  The
function is cached under the fingerprint of what it was made from (the expression, its
inputs in order and the backend), so an expression that changes gets a new function,
and carries that fingerprint; an expression with a free symbol that is not an input is
refused (a ``ValueError`` naming it) instead of failing, or reading a global, at call time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from sparsemom.numerics.codegen.powers import as_product
from sparsemom.numerics.codegen.signature import Signature

#: Backends: the modules ``lambdify`` prints for.  A module that implements named
#: functions of derived expressions adds its own (:func:`register_backend`; the
#: logistic-normal integrals register "integrals").
BACKENDS: dict[str, list] = {"numpy": ["numpy"], "mpmath": ["mpmath"], "math": ["math"]}


def register_backend(name: str, modules: list) -> None:
    """Make ``modules`` (as ``lambdify`` takes them) available as backend ``name``."""
    if BACKENDS.get(name, modules) != modules:
        raise ValueError(f"backend {name!r} is already registered with other modules")
    BACKENDS[name] = modules


@dataclass(frozen=True)
class NumericFunction:
    """``function(*values of inputs)``, made from the expression with ``fingerprint``."""

    fingerprint: str
    inputs: tuple[sp.Symbol, ...]
    backend: str
    function: Callable

    def __call__(self, *args):
        return self.function(*args)


_MADE: dict[str, NumericFunction] = {}


def _canonical(expr):
    if isinstance(expr, (list, tuple)):
        return tuple(_canonical(x) for x in expr)
    if isinstance(expr, dict):
        raise ValueError("expr must be an expression, a matrix or a sequence of them")
    return sp.sympify(expr)


def _free_symbols(expr) -> set:
    if isinstance(expr, tuple):
        return set().union(*(_free_symbols(x) for x in expr)) if expr else set()
    return expr.free_symbols


class _ProductPowerPrinter(NumPyPrinter):
    """NumPy printing with ``x**n`` for integer ``2 ≤ n ≤ 6`` written as the product
    ``x*x*…*x``: in ``long double`` NumPy calls ``powl`` for every power, about 100 times
    the cost of a multiplication."""

    def _print_Pow(self, expr, rational=False):
        product = as_product(self, expr, 6)
        return super()._print_Pow(expr, rational=rational) if product is None else product


def numeric_function(expr, inputs, backend: str = "numpy", cse: bool = False,
                     products: bool = False) -> NumericFunction:
    """``expr`` (an expression, a matrix, or a list of them) as a function of ``inputs``;
    ``cse`` shares common subexpressions (faster for large maps; it reorders the
    floating-point operations, so it is asked for, not assumed); ``products`` (NumPy
    only) evaluates small integer powers as products (for ``long double`` arrays)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}; "
                         f"got {backend!r}")
    if products and backend != "numpy":
        raise ValueError(f"products applies to the numpy backend only; got backend {backend!r}")
    inputs = tuple(inputs)
    expr = _canonical(expr)
    fingerprint = hashlib.sha256(sp.srepr((inputs, expr, backend, cse, products)).encode()
                                 ).hexdigest()
    if fingerprint not in _MADE:
        extra = _free_symbols(expr) - set(inputs)
        if extra:
            Signature.check(sp.Add(*extra), inputs, "the expression")
        target = list(expr) if isinstance(expr, tuple) else expr
        printer = {"printer": _ProductPowerPrinter} if products else {}
        function = sp.lambdify(inputs, target, modules=BACKENDS[backend], cse=cse, **printer)
        _MADE[fingerprint] = NumericFunction(fingerprint, inputs, backend, function)
    return _MADE[fingerprint]
