"""Expected risk ``E R(θ_k)`` from the derived second-moment recursion.

Iterates ``X_{k+1} = A X_k + c`` row by row from ``X_0 = (R_0, 0, 0)`` and sums
``E R_k = Σ_rows w · X_k`` (``w · X = ½ p R`` for least squares).
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np

from derivations.recursion import recursion_for
from derivations.validation import check_integer

from .evaluate import NumericRecursion, evaluate_exact, evaluate_float
from .parameters import parameter_values

BACKENDS = ("numpy", "exact")


class DivergenceWarning(RuntimeWarning):
    """The expected risk overflowed float64: the parameters are unstable."""


def exact_risk(model, optimizer, steps: int, backend: str = "numpy") -> np.ndarray:
    """``E R(θ_k)`` for ``k = 0..steps`` (shape ``(steps + 1,)``).

    ``backend="numpy"`` iterates in float64; when the risk overflows (unstable
    parameters) the remaining entries are ``inf`` and a :class:`DivergenceWarning`
    names the first step.  ``backend="exact"`` iterates in rational arithmetic and
    returns an object array of :class:`fractions.Fraction`.
    """
    steps = check_integer("steps", steps, minimum=0)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}; got {backend!r}")
    rows, values = parameter_values(model, optimizer)
    recursion = recursion_for(model, optimizer)
    if backend == "exact":
        return _iterate_exact(evaluate_exact(recursion, values, rows), steps)
    return _iterate_float(evaluate_float(recursion, values, rows), steps)


def _iterate_float(num: NumericRecursion, steps: int) -> np.ndarray:
    A, c, w = num.transition, num.forcing, num.risk_weights
    n = A.shape[0]
    X = num.initial.copy()
    risk = np.empty(steps + 1)
    risk[0] = np.sum(w * X)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            X = np.stack([sum(A[i, j] * X[j] for j in range(n)) + c[i] for i in range(n)])
            risk[k] = np.sum(w * X)
            if not np.isfinite(risk[k]):
                risk[k:] = np.inf
                warnings.warn(f"expected risk overflowed float64 at step {k}: the parameters "
                              "are outside the stability region", DivergenceWarning, stacklevel=3)
                break
    return risk


def _iterate_exact(num: NumericRecursion, steps: int) -> np.ndarray:
    A, c, w = num.transition, num.forcing, num.risk_weights
    n, rows = num.initial.shape
    risk = np.empty(steps + 1, dtype=object)
    risk[:] = Fraction(0)
    for r in range(rows):
        X = list(num.initial[:, r])
        risk[0] += sum(w[i, r] * X[i] for i in range(n))
        for k in range(1, steps + 1):
            X = [sum(A[i, j, r] * X[j] for j in range(n)) + c[i, r] for i in range(n)]
            risk[k] += sum(w[i, r] * X[i] for i in range(n))
    return risk
