"""Per-row expected risk at one step ``k``, by binary powering of the derived map.

For each row, ``X_k = A^k X_0 + (I + A + … + A^{k−1}) c`` is the top of
``[[A, c], [0, 1]]^k (X_0, 1)``; ``E R_k = w · X_k``.  The augmented matrix is
squared ``⌊log₂ k⌋`` times (float64, every row at once, rows in cache-sized
blocks), so the cost does not grow with ``k``: the tool for optimising over
parameters at a fixed horizon, where :func:`numerics.kernels.exact_risk` gives whole curves.
The coefficients are the generated NumPy code of the derived recursion.
"""

from __future__ import annotations

import warnings

import numpy as np

from derivations.recursion import recursion_for
from numerics.inputs.parameters import parameter_values
from numerics.inputs.validation import check_integer
from numerics.kernels.backends import coefficient_arrays, float_arguments
from numerics.kernels.exact_risk import DivergenceWarning

#: Rows per block: (n + 1)² float64 arrays per matrix stay within a few MB.
BLOCK = 32_768


def _product(P: list[list[np.ndarray]], Q: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    m = len(P)
    return [[sum(P[i][l] * Q[l][j] for l in range(m)) for j in range(m)] for i in range(m)]


def _apply(P: list[list[np.ndarray]], x: list[np.ndarray]) -> list[np.ndarray]:
    return [sum(P[i][j] * x[j] for j in range(len(x))) for i in range(len(P))]


def _block_risk(rec, args, rows: int, k: int) -> np.ndarray:
    A, c, w, x = coefficient_arrays(rec, args, rows)
    n = len(rec.state)
    one, zero = np.ones(rows), np.zeros(rows)
    P = [[A[i, j] for j in range(n)] + [c[i]] for i in range(n)] + [[zero] * n + [one]]
    state = [*x, one]
    while k:
        if k & 1:
            state = _apply(P, state)
        k >>= 1
        if k:
            P = _product(P, P)
    return sum(w[i] * state[i] for i in range(n))


def row_risk_at(model, optimizer, k: int, time: str = "steps") -> np.ndarray:
    """``E R_k`` of every row (shape ``(rows,)``) at step ``k`` (active update ``k``
    with ``time="active"``).

    Rows whose moments overflow float64 (unstable parameters) get ``inf`` — never
    NaN — and one :class:`DivergenceWarning` counts them.  An unstable row that has
    not overflowed by step ``k`` keeps its large finite value: stability itself is
    decided by :func:`numerics.analysis.row_phases.row_phases` or :func:`numerics.is_stable`.
    """
    k = check_integer("k", k, minimum=0)
    rows, values = parameter_values(model, optimizer)
    rec = recursion_for(model, optimizer, time)
    args = float_arguments(rec, values)
    risk = np.empty(rows)
    with np.errstate(all="ignore"):
        for first in range(0, rows, BLOCK):
            count = min(BLOCK, rows - first)
            block = [a if a.ndim == 0 else a[first:first + count] for a in args]
            risk[first:first + count] = _block_risk(rec, block, count, k)
    bad = ~np.isfinite(risk)
    if bad.any():
        risk[bad] = np.inf
        warnings.warn(f"{int(bad.sum())} of {rows} rows overflowed float64 by step {k}: their "
                      "parameters are outside the stability region", DivergenceWarning, stacklevel=2)
    return risk
