"""Input validation: every violated condition is a ``ValueError`` naming the parameter.

Numbers given exactly (``int``, :class:`fractions.Fraction`, SymPy rationals) are
kept exact, as object arrays of ``Fraction``, so the exact-arithmetic rung sees
the very values the user wrote; anything else becomes float64.
"""

from __future__ import annotations

import math
from fractions import Fraction
from numbers import Integral, Rational, Real

import numpy as np
import sympy as sp


def _is_exact(x) -> bool:
    return (isinstance(x, (Integral, Rational)) and not isinstance(x, bool)) or (
        isinstance(x, sp.Rational)
    )


def _exact(x) -> Fraction:
    if isinstance(x, sp.Rational):
        return Fraction(int(x.p), int(x.q))
    return Fraction(x)


def as_values(name: str, value) -> np.ndarray:
    """``value`` as a 0-d (scalar) or 1-d (per-row) array, exact where possible."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number or an array of numbers; got a bool")
    floats = isinstance(value, np.ndarray) and value.dtype.kind == "f"  # checked as an array
    items = value if floats else np.asarray(value, dtype=object)
    if items.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-d array over rows; got shape {items.shape}")
    if items.ndim == 1 and items.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not floats and items.ndim == 1 and all(type(x) is float for x in items):
        floats, items = True, items.astype(float)   # plain floats: no exact value among them
    if not floats:
        flat = list(items.ravel())
        for x in flat:
            if isinstance(x, bool) or not (isinstance(x, (Real, np.number)) or isinstance(x, sp.Rational)):
                raise ValueError(f"{name} must hold real numbers; got {x!r}")
        if all(_is_exact(x) for x in flat):
            out = np.empty(items.shape, dtype=object)
            out[...] = _exact(flat[0]) if items.ndim == 0 else [_exact(x) for x in flat]
            return out
    out = np.asarray(items.astype(float), dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must be finite (no NaN or inf); got {value!r}")
    return out


def check_per_row(name: str, value, *, lower=None, upper=None,
                  lower_open=False, upper_open=False) -> np.ndarray:
    """Validate a scalar or per-row parameter against the interval bounds."""
    values = as_values(name, value)
    flat = values.ravel()
    if values.dtype == np.float64 and all(_float_exact(b) for b in (lower, upper)):
        # floats against bounds a float holds exactly: the same comparisons, as arrays
        flat = _outside(flat, lower, upper, lower_open, upper_open)
    if lower is not None:
        bad = [x for x in flat if (x <= lower if lower_open else x < lower)]
        if bad:
            op = ">" if lower_open else "≥"
            raise ValueError(f"{name} must be {op} {lower}; got {_shown(bad[0])}")
    if upper is not None:
        bad = [x for x in flat if (x >= upper if upper_open else x > upper)]
        if bad:
            op = "<" if upper_open else "≤"
            raise ValueError(f"{name} must be {op} {upper}; got {_shown(bad[0])}")
    return values


def check_real(name: str, value, *, lower=None, lower_open=False) -> float:
    """A real scalar (``check_per_row``'s checks, then not an array), as a float."""
    values = check_per_row(name, value, lower=lower, lower_open=lower_open)
    if values.ndim:
        raise ValueError(f"{name} must be a scalar; got an array of shape {values.shape}")
    return float(values[()])


def _float_exact(bound) -> bool:
    """``bound`` is None, infinite, or a number that a float64 holds exactly (e.g. 0, 1,
    1/2, or a float bound itself)."""
    if bound is None:
        return True
    as_float = float(bound)
    return not math.isfinite(as_float) or Fraction(as_float) == Fraction(bound)


def _outside(flat: np.ndarray, lower, upper, lower_open: bool, upper_open: bool) -> np.ndarray:
    """The entries of ``flat`` that violate a bound (their order kept)."""
    ok = np.ones(flat.shape, dtype=bool)
    if lower is not None:
        ok &= flat > float(lower) if lower_open else flat >= float(lower)
    if upper is not None:
        ok &= flat < float(upper) if upper_open else flat <= float(upper)
    return flat[~ok]


def check_integer(name: str, value, *, minimum: int, maximum: int | None = None) -> int:
    """Validate an integer parameter ``minimum ≤ value (≤ maximum)``."""
    if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)):
        kind = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
        raise ValueError(f"{name} must be {kind}; got {value!r}")
    if value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
        raise ValueError(f"{name} must be {kind}; got {value!r}")
    if maximum is not None and value > maximum:
        bound = f"2^{maximum.bit_length() - 1}" if maximum & (maximum - 1) == 0 else str(maximum)
        raise ValueError(f"{name} must be an integer ≤ {bound}; got {_digits(value)}")
    return int(value)


def _digits(value: int) -> str:
    """An integer for a message: in full when short, else as a power of ten."""
    text = str(value) if value.bit_length() < 10_000 else ""
    return text if 0 < len(text) <= 30 else f"about 10^{int(value.bit_length() * 0.30103)}"


def common_rows(**arrays: np.ndarray) -> int:
    """The number of rows shared by the per-row arrays (scalars, arrays or not, broadcast)."""
    sizes = {name: np.size(a) for name, a in arrays.items() if np.ndim(a) == 1}
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{n} has {s}" for n, s in sizes.items())
        raise ValueError(f"per-row arrays must have the same length; {listed} rows")
    return next(iter(sizes.values()), 1)


def _shown(x) -> str:
    """A value as a user wrote it: ``2/3`` for a fraction, ``0.5`` for a float."""
    return str(x) if isinstance(x, (Fraction, np.generic)) else repr(x)


def check_declared(spec, key: str, value) -> np.ndarray:
    """``value`` validated against the interval of a declared parameter ``spec`` (a
    :class:`~sparsemom.derivations.definitions.optimizers.HyperParameter` or law parameter, reported as ``key``),
    and integral when its symbol is declared ``integer``."""
    values = check_per_row(key, value, lower=exact_bound(spec.lower), upper=exact_bound(spec.upper),
                           lower_open=spec.lower_open, upper_open=spec.upper_open)
    if spec.symbol.is_integer and any(x != int(x) for x in np.ravel(values).tolist()):
        raise ValueError(f"{key} must be an integer (its symbol is declared integer); "
                         f"got {value!r}")
    return values


def exact_bound(x):
    """A bound as a :class:`fractions.Fraction` when rational (comparable with exact
    values and floats alike), else a float."""
    if x is None:
        return None
    x = sp.sympify(x)
    return Fraction(int(x.p), int(x.q)) if x.is_Rational else float(x)
