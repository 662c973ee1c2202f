"""Coupled modes: ``X_{j,k+1} = A_j X_{j,k} + c_j + u_j S_k``, ``S_k = Σ_i q_i · X_{i,k}``.

A law with a :class:`~sparsemom.derivations.definitions.laws.RowCoupling` (Gaussian data
with a covariance spectrum: :mod:`sparsemom.derivations.definitions.covariance`) derives the
recursion of one mode with its coupling column ``u`` and weights ``q``
(:class:`~sparsemom.derivations.engine.moments.MomentRecursion`); the rows of the numeric
model are the modes of one row, so every step first reduces ``S_k`` over all modes, then
advances every mode: block diagonal plus rank one.  The risk is ``E R_k = Σ_j w_j · X_{j,k}``.

One iteration serves the three backends, on arrays of shape ``(n, modes)``: float64 (the
generated NumPy coefficients), ``mpf`` (the generated mpmath coefficients) and
``Fraction`` (the SymPy matrices at exact rationals).  Schedules give each step its own
coefficients.  In float64 a non-finite state (unstable parameters) stops the iteration:
the risk is ``inf`` from that step on.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import mpmath
import numpy as np

from sparsemom.numerics.codegen.signature import Signature
from sparsemom.numerics.kernels import backends
from sparsemom.numerics.kernels.evaluate import evaluate_exact

#: Arrays of one step: ``(A (n, n, modes), c (n, modes), u (n, modes))``.
StepArrays = tuple[np.ndarray, np.ndarray, np.ndarray]


def iterate(step_arrays: Callable[[int], StepArrays], X0: np.ndarray, w: np.ndarray,
            q: np.ndarray, steps: int, total: Callable, record: dict | None = None):
    """``(risk, diverged)``: ``E R_k`` for ``k = 0..steps`` of the coupled recursion from
    ``X0`` (n, modes), and the first step whose state is not finite (``-1``: none).
    ``total`` sums an array as the backend's arithmetic wants (NumPy's pairwise sum of
    floats, ``mpmath.fsum``, ``sum`` of fractions)."""
    n = X0.shape[0]
    X = X0
    risk = np.empty(steps + 1, dtype=X0.dtype)
    floating = X0.dtype.kind == "f"
    if record is not None:
        record["weights"] = w.T.copy()
        record["state"] = np.full((steps + 1, X0.shape[1], n), np.inf, dtype=X0.dtype) \
            if floating else np.empty((steps + 1, X0.shape[1], n), dtype=object)
        record["state"][0] = X.T
    risk[0] = total((w * X).ravel())
    for k in range(steps):
        A, c, u = step_arrays(k)
        S = total((q * X).ravel())
        X = np.stack([sum(A[i, j] * X[j] for j in range(n)) + c[i] + u[i] * S
                      for i in range(n)])
        risk[k + 1] = total((w * X).ravel())
        if floating and not (np.isfinite(risk[k + 1]) and np.isfinite(X).all()):
            risk[k + 1:] = np.inf
            return risk, k + 1
        if record is not None:
            record["state"][k + 1] = X.T
    return risk, -1


def _pairwise_sum(x: np.ndarray) -> float:
    """NumPy's pairwise sum (error ``O(ε log n)``)."""
    return float(np.sum(x))


def risk_numpy(rec, values: dict, rows: int, steps: int, multipliers: dict | None = None,
               initial: dict | None = None, record: dict | None = None):
    """Float64, from the generated NumPy coefficients of every mode at once."""
    multipliers = multipliers or {}
    arrays = _float_arrays(rec, values, rows)
    X0 = _start(rec, arrays["initial"], initial, rows, float)

    def step_arrays(k: int) -> StepArrays:
        a = arrays if not multipliers else _float_arrays(
            rec, backends.values_at_step(values, multipliers, k), rows)
        return a["transition"], a["forcing"], a["coupling"]

    with np.errstate(all="ignore"):
        return iterate(step_arrays, X0, arrays["risk_weights"], arrays["coupling_weights"],
                       steps, _pairwise_sum, record)


def _float_arrays(rec, values: dict, rows: int) -> dict[str, np.ndarray]:
    """The generated float64 coefficients by block, each (entries, modes); ``A`` (n, n, modes)."""
    n = len(rec.state)
    args = backends.float_arguments(rec, values)
    with np.errstate(all="ignore"):
        groups = backends.generated_module(rec).coefficients(*args)
    names = [name for name, _ in Signature.of(rec).outputs]
    out = {name: np.stack([np.broadcast_to(np.asarray(x, dtype=np.float64), (rows,)) for x in g])
           for name, g in zip(names, groups)}
    out["transition"] = out["transition"].reshape(n, n, rows)
    return out


def risk_mpmath(rec, values: dict, rows: int, steps: int, dps: int,
                multipliers: dict | None = None, initial: dict | None = None,
                record: dict | None = None):
    """``mpf`` at ``dps`` digits, from the generated mpmath coefficients."""
    multipliers = multipliers or {}
    with mpmath.workdps(dps):
        arrays = _mp_arrays(rec, values, rows)
        X0 = _start(rec, arrays["initial"], initial, rows, backends.to_mpf)

        def step_arrays(k: int) -> StepArrays:
            a = arrays if not multipliers else _mp_arrays(
                rec, backends.values_at_step(values, multipliers, k), rows)
            return a["transition"], a["forcing"], a["coupling"]

        return iterate(step_arrays, X0, arrays["risk_weights"], arrays["coupling_weights"],
                       steps, lambda x: mpmath.fsum(x), record)


def _mp_arrays(rec, values: dict, rows: int) -> dict[str, np.ndarray]:
    n = len(rec.state)
    coefficients = backends.generated_module(rec).coefficients_mp
    columns = [np.broadcast_to(np.asarray(values[s], dtype=object), (rows,))
               for s in Signature.of(rec).inputs]
    names = [name for name, _ in Signature.of(rec).outputs]
    per_mode = [coefficients(*[backends.to_mpf(col[r]) for col in columns]) for r in range(rows)]
    out = {}
    for b, name in enumerate(names):
        block = np.empty((len(per_mode[0][b]), rows), dtype=object)
        for r in range(rows):
            block[:, r] = [mpmath.mpf(x) for x in per_mode[r][b]]
        out[name] = block
    out["transition"] = out["transition"].reshape(n, n, rows)
    return out


def risk_exact(rec, values: dict, rows: int, steps: int, multipliers: dict | None = None,
               initial: dict | None = None, record: dict | None = None):
    """Rational arithmetic on the SymPy matrices (``Fraction``)."""
    multipliers = multipliers or {}
    num = evaluate_exact(rec, values, rows)
    X0 = _start(rec, num.initial, initial, rows, Fraction)
    per_step = [evaluate_exact(rec, backends.values_at_step(values, multipliers, k), rows)
                for k in range(steps)] if multipliers else None

    def step_arrays(k: int) -> StepArrays:
        a = num if per_step is None else per_step[k]
        return a.transition, a.forcing, a.coupling

    return iterate(step_arrays, X0, num.risk_weights, num.coupling_weights, steps, sum, record)


def _start(rec, derived: np.ndarray, initial: dict | None, rows: int, kind) -> np.ndarray:
    """``X_0`` (n, modes): the derived initial state with any given moments put in."""
    given = backends.initial_column(initial, rec, rows)
    X0 = np.empty(derived.shape, dtype=float if kind is float else object)
    for i in range(derived.shape[0]):
        column = given[i] if i in given else derived[i]
        X0[i] = [kind(x) for x in column]
    return X0
