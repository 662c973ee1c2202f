"""Tables with metadata: the common form of every result's ``to_dataframe()``.

A result lists its columns (equal-length 1-D arrays, long/tidy form) and its metadata
(scalars: the model's and optimizer's parameters, the backend, the package version);
the table carries the metadata in ``DataFrame.attrs``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from numerics.version import __version__


class Labelled:
    """A result with ``columns()`` and ``metadata``, readable as a table."""

    metadata: dict

    def columns(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def to_dataframe(self) -> pd.DataFrame:
        """The result in long form, one row per observation; ``attrs`` holds the
        parameters that produced it."""
        frame = pd.DataFrame(self.columns())
        frame.attrs.update(self.metadata)
        return frame


def plain(value):
    """A scalar or array made printable in metadata: numbers as Python numbers (exact
    rationals as strings ``"p/q"``), arrays of one value as that value, longer per-row
    arrays as ``"per row"`` (their values are columns of the table)."""
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else str(value)
    array = np.asarray(value)
    if array.ndim == 0:
        item = array.item()
        return plain(item) if isinstance(item, Fraction) else item
    if array.size == 1:
        return plain(array.ravel()[0])
    return "per row"


def problem_metadata(model, optimizer) -> dict:
    """The parameters of a (model, optimizer) pair as metadata scalars."""
    meta = {"model": model.name, "d": model.d}
    for key in ("sigma2", "rho", "s0"):
        if hasattr(model, key):
            meta[key] = plain(getattr(model, key))
    meta.update({"p": plain(model.p), "R0": plain(model.R0), "rows": model.rows,
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
    for key in ("p", "R0"):
        value = np.asarray(getattr(model, key))
        if value.size > 1:
            out[key] = value
    for key, spec in optimizer.specs.items():
        value = np.asarray(optimizer.values[spec.symbol])
        if value.size > 1:
            out[key] = value
    return out
