"""Tables with metadata: the common form of every result's ``to_dataframe()``.

A result lists its columns (equal-length 1-D arrays, long/tidy form) and its metadata
(scalars: the model's and optimizer's parameters, the backend, the package version);
the table carries the metadata as columns (so concatenated tables and saved CSVs keep
them) and in ``DataFrame.attrs``.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from fractions import Fraction

import mpmath
import numpy as np
import pandas as pd
from mpmath.libmp import repr_dps

from sparsemom.numerics.version import __version__

#: The metadata value of a parameter that differs between rows (its values are a column).
PER_ROW = "per row"


class Labelled:
    """A result with ``columns()`` and ``metadata``, readable as a table."""

    metadata: dict

    def columns(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def __repr__(self) -> str:
        """One line: the problem (model × optimizer), then each field by what it is — an
        array by its shape, a dict by its keys, a number as itself — never the arrays'
        values (``to_dataframe()`` shows those)."""
        meta = getattr(self, "metadata", None) or {}
        parts = [" × ".join(str(meta[key]) for key in ("model", "optimizer") if key in meta)]
        for f in fields(self) if is_dataclass(self) else ():
            if f.name != "metadata" and (text := _short(getattr(self, f.name))) is not None:
                parts.append(f"{f.name}={text}")
        return f"{type(self).__name__}({', '.join(p for p in parts if p)})"

    def to_dataframe(self, parameters: bool = True, exact: bool = False) -> pd.DataFrame:
        """The result in long form, one row per observation, numbers as float64.

        ``parameters``: the scalar parameters that produced it (``metadata``) as constant
        columns after the result's own (per-row parameters are columns already);
        ``exact``: every exactly held value (rationals, mpmath numbers) also as a string
        column ``NAME_exact``.  ``attrs`` holds the parameters either way.
        """
        data = dict(self.columns())
        if parameters:
            data.update({key: value for key, value in self.metadata.items()
                         if key not in data and not _is_per_row(value)})
        floats, strings = {}, {}
        for name, values in data.items():
            array = np.asarray(values)
            if _holds_exact(array):
                floats[name] = _as(float, array)
                if exact:
                    strings[f"{name}_exact"] = _as(exact_text, array)
            else:
                floats[name] = values
        frame = pd.DataFrame({**floats, **strings})
        frame.attrs.update({key: str(value) if isinstance(value, Fraction) else value
                            for key, value in self.metadata.items()})
        return frame


def _short(value) -> str | None:
    """A field in a few characters (``None`` left out)."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    if isinstance(value, dict):
        return "{" + ", ".join(map(str, value)) + "}"
    if isinstance(value, (tuple, list)):
        return f"({', '.join(map(str, value))})" if len(value) <= 6 else f"{len(value)} items"
    if isinstance(value, (str, int, float, Fraction, np.number)):
        return repr(value) if isinstance(value, str) else str(value)
    return type(value).__name__


def exact_text(value) -> str:
    """A rational as ``"p/q"``; an mpmath number to every digit its mantissa holds (at
    least float64's 17); anything else by ``str``."""
    if isinstance(value, mpmath.mpf):
        return mpmath.nstr(value, repr_dps(max(value.bc, 53)))
    return str(value)


def _as(kind, array: np.ndarray):
    """Every entry of ``array`` converted by ``kind`` (a scalar stays a scalar)."""
    out = np.vectorize(kind, otypes=[float if kind is float else object])(array)
    return out[()] if out.ndim == 0 else out


def _is_per_row(value) -> bool:
    return isinstance(value, str) and value == PER_ROW


def _holds_exact(array: np.ndarray) -> bool:
    """Whether ``array`` holds rationals or mpmath numbers (an object array or scalar)."""
    return array.dtype == object and any(isinstance(x, (Fraction, mpmath.mpf))
                                         for x in array.ravel())


def plain(value):
    """A scalar or array made a metadata scalar: numbers as Python numbers (exact
    rationals as :class:`~fractions.Fraction`, whole ones as ``int``), arrays of one value
    as that value, longer per-row arrays as ``"per row"`` (their values are columns of
    the table)."""
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else value
    array = np.asarray(value)
    if array.ndim == 0:
        item = array.item()
        return plain(item) if isinstance(item, Fraction) else item
    if array.size == 1:
        return plain(array.ravel()[0])
    return PER_ROW


def problem_metadata(model, optimizer) -> dict:
    """The parameters of a (model, optimizer) pair as metadata scalars."""
    meta = {"model": model.name, "d": model.d}
    meta.update({h.name: plain(model.values[h.symbol]) for h in model.specs})
    if hasattr(model, "s0"):          # an initial statistic of a mean-field model
        meta["s0"] = plain(model.s0)
    meta.update({"R0": plain(model.R0), "rows": model.rows,
                 "optimizer": optimizer.name, "batch": optimizer.batch})
    meta.update({key: plain(optimizer.values[spec.symbol]) for key, spec in optimizer.specs.items()})
    if optimizer.scheduled:
        meta["schedules"] = ", ".join(f"{optimizer.keyword_of(s)}: {sc!r}"
                                      for s, sc in optimizer.schedules.items())
    meta["sparsemom"] = __version__
    return meta


def per_row_columns(model, optimizer) -> dict[str, np.ndarray]:
    """The per-row parameters (arrays over the rows), by keyword."""
    out = {}
    model_values = {**{h.name: model.values[h.symbol] for h in model.specs}, "R0": model.R0}
    for key, value in model_values.items():
        value = np.asarray(value)
        if value.size > 1:
            out[key] = value
    for key, spec in optimizer.specs.items():
        value = np.asarray(optimizer.values[spec.symbol])
        if value.size > 1:
            out[key] = value
    return out
