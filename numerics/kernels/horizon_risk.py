"""Per-row expected risk at one step ``k``, by binary powering of the derived map.

For each row, ``X_k = A^k X_0 + (I + A + … + A^{k−1}) c`` is the top of
``[[A, c], [0, 1]]^k (X_0, 1)``; ``E R_k = w · X_k``.  The augmented matrix is
squared ``⌊log₂ k⌋`` times in its block form (float64, every row at once, rows in
cache-sized blocks), so the cost does not grow with ``k``: the tool for optimising over
parameters at a fixed horizon, where :func:`sparsemom.numerics.kernels.exact_risk` gives whole curves.
The coefficients are the generated NumPy code of the derived recursion.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.kernels.backends import coefficient_arrays, float_arguments
from sparsemom.numerics.kernels.exact_risk import DivergenceWarning

#: Rows per block: n² + n float64 arrays per power stay within a few MB.
BLOCK = 32_768


def _block_risk(rec, args, rows: int, k: np.ndarray) -> np.ndarray:
    """Binary powering with a step count per row: bit ``b`` of ``k_r`` applies
    ``P^(2^b) = [[A_b, c_b], [0, 1]]`` to row ``r``'s state, ``X ← A_b X + c_b``; squaring
    keeps the block form, ``A_{b+1} = A_b²``, ``c_{b+1} = A_b c_b + c_b`` (every row at
    once: ``einsum`` over arrays of shape (n, n, rows))."""
    A, c, w, state = coefficient_arrays(rec, args, rows)
    k = k.copy()
    while k.any():
        odd = (k & 1).astype(bool)
        if odd.any():
            state = np.where(odd, np.einsum("ijr,jr->ir", A, state) + c, state)
        k >>= 1
        if k.any():
            c = np.einsum("ijr,jr->ir", A, c) + c
            A = np.einsum("ilr,ljr->ijr", A, A)
    return np.einsum("ir,ir->r", w, state)


def row_risk_at(model, optimizer, k, time: str = "steps", threads: int | None = None
                ) -> np.ndarray:
    """``E R_k`` of every row (shape ``(rows,)``) at step ``k`` (active update ``k``
    with ``time="active"``); ``k`` an integer, or one per row.  Blocks of rows run on
    ``threads`` threads (default: one per core; NumPy releases the GIL), with the same
    numbers whatever the count.

    Rows whose moments overflow float64 (unstable parameters) get ``inf`` — never
    NaN — and one :class:`DivergenceWarning` counts them.  An unstable row that has
    not overflowed by step ``k`` keeps its large finite value: stability itself is
    decided by :func:`sparsemom.numerics.analysis.row_phases.row_phases` or :func:`sparsemom.numerics.is_stable`.
    A scheduled optimizer is refused (powering needs one time-invariant map; use
    :func:`sparsemom.numerics.kernels.exact_risk.exact_risk`).
    """
    optimizer.require_constant("row_risk_at (powers of one time-invariant map)")
    if threads is None:
        threads = os.cpu_count() or 1
    threads = check_integer("threads", threads, minimum=1)
    rows, values = parameter_values(model, optimizer)
    k = _steps_per_row(k, rows)
    rec = recursion_for(model, optimizer, time)
    args = float_arguments(rec, values)
    risk = np.empty(rows)

    def block(first: int) -> None:
        count = min(BLOCK, rows - first)
        part = [a if a.ndim == 0 else a[first:first + count] for a in args]
        with np.errstate(all="ignore"):
            risk[first:first + count] = _block_risk(rec, part, count, k[first:first + count])

    starts = range(0, rows, BLOCK)
    if threads == 1 or len(starts) == 1:
        for first in starts:
            block(first)
    else:
        with ThreadPoolExecutor(min(threads, len(starts))) as pool:
            list(pool.map(block, starts))
    bad = ~np.isfinite(risk)
    if bad.any():
        risk[bad] = np.inf
        warnings.warn(f"{int(bad.sum())} of {rows} rows overflowed float64 by step {int(k.max())}: their "
                      "parameters are outside the stability region", DivergenceWarning, stacklevel=2)
    return risk


def _steps_per_row(k, rows: int) -> np.ndarray:
    """``k`` as one non-negative integer per row (a scalar is broadcast)."""
    array = np.asarray(k)
    if array.ndim == 0:
        return np.full(rows, check_integer("k", k, minimum=0), dtype=np.int64)
    if array.shape != (rows,):
        raise ValueError(f"k must be an integer or one per row ({rows}); got shape {array.shape}")
    return np.array([check_integer("k", x, minimum=0) for x in array.tolist()], dtype=np.int64)
