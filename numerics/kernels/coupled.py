"""Coupled modes: ``X_{j,k+1} = A_j X_{j,k} + c_j + u_j S_k``, ``S_k = Σ_i q_i · X_{i,k}``.

A law with a :class:`~sparsemom.derivations.definitions.laws.RowCoupling` (Gaussian data
with a covariance spectrum: :mod:`sparsemom.derivations.definitions.covariance`) derives the
recursion of one mode with its coupling column ``u`` and weights ``q``
(:class:`~sparsemom.derivations.engine.moments.MomentRecursion`); the rows of the numeric
model are the modes of one row, so every step first reduces ``S_k`` over all modes, then
advances every mode: block diagonal plus rank one.  The risk is ``E R_k = Σ_j w_j · X_{j,k}``.

One iteration serves three backends, on arrays of shape ``(n, modes)``: float64 (the
generated NumPy coefficients), ``mpf`` (the generated mpmath coefficients) and
``Fraction`` (the SymPy matrices at exact rationals).  Schedules give each step its own
coefficients.  In float64 a non-finite state (unstable parameters) stops the iteration:
the risk is ``inf`` from that step on.  :func:`risk_c` runs the generated C kernel of
coupled modes (``codegen/c/coupled_kernel.h``: one fused pass per step); :func:`converges`
certifies that a row converges (:mod:`sparsemom.numerics.analysis.coupled_stability`,
:mod:`sparsemom.numerics.kernels.renewal`).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from fractions import Fraction
from functools import lru_cache

import mpmath
import numpy as np

from sparsemom.derivations.properties.stability import mode_resolvent
from sparsemom.numerics.codegen.signature import Signature
from sparsemom.numerics.inputs.initial_state import gram_matrices
from sparsemom.numerics.kernels import backends
from sparsemom.numerics.kernels.evaluate import evaluate_exact
from sparsemom.numerics.kernels.numeric_function import numeric_function
from sparsemom.numerics.kernels.stacked_threads import stacked_map

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
    arrays = float_coefficients(rec, values, rows)
    X0 = start_state(rec, arrays["initial"], initial, rows, float)

    def step_arrays(k: int) -> StepArrays:
        a = arrays if not multipliers else float_coefficients(
            rec, backends.values_at_step(values, multipliers, k), rows)
        return a["transition"], a["forcing"], a["coupling"]

    with np.errstate(all="ignore"):
        return iterate(step_arrays, X0, arrays["risk_weights"], arrays["coupling_weights"],
                       steps, _pairwise_sum, record)


def float_coefficients(rec, values: dict, rows: int) -> dict[str, np.ndarray]:
    """The generated float64 coefficients by block name (``transition``, ``forcing``,
    ``risk_weights``, ``initial``, ``coupling``, ``coupling_weights``), each (entries,
    modes); ``transition`` reshaped to (n, n, modes)."""
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
        X0 = start_state(rec, arrays["initial"], initial, rows, backends.to_mpf)

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
    X0 = start_state(rec, num.initial, initial, rows, Fraction)
    per_step = [evaluate_exact(rec, backends.values_at_step(values, multipliers, k), rows)
                for k in range(steps)] if multipliers else None

    def step_arrays(k: int) -> StepArrays:
        a = num if per_step is None else per_step[k]
        return a.transition, a.forcing, a.coupling

    return iterate(step_arrays, X0, num.risk_weights, num.coupling_weights, steps, sum, record)


def risk_c(rec, values: dict, rows: int, steps: int, threads: int | None,
           multipliers: dict | None = None, initial: dict | None = None):
    """The generated C kernel of coupled modes (``c/coupled_kernel.h``): one pass per
    step over every mode, the reduction ``S`` and the risk fused into it; ``threads``
    OpenMP threads (default: all cores from 4 096 modes on)."""
    kernel, fn, _ = backends.kernel_entry(rec)
    double_p = ctypes.POINTER(ctypes.c_double)
    args = backends.float_arguments(rec, values)
    pointers, strides = backends.pointer_array(args)
    start = backends.initial_column(initial, rec, rows)
    if start:
        derived = float_coefficients(rec, values, rows)["initial"]
        columns = [np.ascontiguousarray(np.asarray(start[i], dtype=float)) if i in start
                   else np.ascontiguousarray(derived[i]) for i in range(len(rec.state))]
        init_pointers, init_strides = backends.pointer_array(columns)
    else:
        columns, init_pointers, init_strides = [], None, None
    table = None
    if multipliers:
        inputs = Signature.of(rec).inputs
        table = np.ones((steps, len(inputs)))
        for j, s in enumerate(inputs):
            if s in multipliers:
                table[:, j] = np.asarray(multipliers[s], dtype=float)[:steps]
        table = np.ascontiguousarray(table)
    risk = np.empty(steps + 1)
    if threads is None:
        threads = (os.cpu_count() or 1) if rows >= PARALLEL_MODES else 1
    code = fn(rows, steps, pointers, strides, init_pointers, init_strides,
              None if table is None else table.ctypes.data_as(double_p),
              risk.ctypes.data_as(double_p), threads if kernel.openmp else 1)
    if code == -2:
        raise MemoryError("the coupled C kernel could not allocate its state")
    return risk, int(code)


#: Modes from which the C kernel uses every core by default: below, one barrier per step
#: costs more than the pass it splits.
PARALLEL_MODES = 4096


#: A block whose float64 spectral radius exceeds 1 by at most this is within rounding of
#: neutral (a mode with ``η λ = 10^{−20}`` moves at that rate): over ``k`` steps it grows by at
#: most ``e^{k · NEUTRAL}``, so the renewal runs take it.
NEUTRAL = 1e-9


def block_radius(coefficients: dict, threads: int = 1) -> float:
    """The largest float64 spectral radius of the blocks ``A_j`` of
    :func:`float_coefficients` (``inf`` when one is not finite), computed once (on up to
    ``threads`` threads) and kept in the dict."""
    if "block_radius" not in coefficients:
        A = coefficients["transition"].transpose(2, 0, 1)
        coefficients["block_radius"] = (
            float(np.max(np.abs(stacked_map(np.linalg.eigvals, A, threads))))
            if A.shape[0] and np.isfinite(A).all() else np.inf)
    return coefficients["block_radius"]


def blocks_bounded(coefficients: dict) -> bool:
    """Every block ``A_j`` of :func:`float_coefficients` is finite and of float64 spectral
    radius at most ``1 + NEUTRAL``."""
    return block_radius(coefficients) <= 1 + NEUTRAL


#: A block is resolved in float64 when ``max(1, ‖A_j‖) ‖(I − A_j)^{−1}‖ ≤ RESOLVED``: the
#: rounding of ``A_j`` (``ε max(1, ‖A_j‖)``) then moves its sums by a relative ``RESOLVED · ε``
#: at most.
RESOLVED = 1e8


def identity_moments(rec) -> np.ndarray:
    """``x_I``: the moments whose Gram matrix is the identity (``1`` on each ``E‖w‖²``)."""
    return np.array([float(dot.args[0] == dot.args[1]) for dot in rec.meaning])


def rank_one_solve(a: np.ndarray, b: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``(μ − D − u qᵀ)^{−1} v = a + b (q·a)/(1 − q·b)`` (Sherman–Morrison) from the block
    solves ``a = (μ − D)^{−1} v`` and ``b = (μ − D)^{−1} u`` (any layout, the same for all)."""
    return a + b * (np.sum(q * a) / (1 - np.sum(q * b)))


def block_sums(A: np.ndarray, u: np.ndarray, x: np.ndarray, mu: float = 1.0):
    """``(b, a)``, each (n, modes): ``b_j = (μ − A_j)^{−1} u_j`` and ``a_j = (μ − A_j)^{−1} x``
    from the float64 blocks ``A`` (modes, n, n) and ``u`` (modes, n); ``None`` when ``μ`` is
    an eigenvalue of a block."""
    rhs = np.stack([u, np.broadcast_to(x, u.shape)], axis=2)
    with np.errstate(all="ignore"):
        try:
            sums = np.linalg.solve(mu * np.eye(A.shape[1])[None] - A, rhs)
        except np.linalg.LinAlgError:
            return None
    return sums[:, :, 0].T, sums[:, :, 1].T


def mode_sums(rec, values, rows, coefficients: dict | None = None):
    """``(b, a, f)``, each (n, modes): ``b_j = (I − A_j)^{−1} u_j``, ``a_j = (I − A_j)^{−1}
    x_I`` (:func:`identity_moments`) and ``f_j = (I − A_j)^{−1} c_j``; ``None`` when ``1`` is
    an eigenvalue of every block.
    From the float64 blocks when each is resolved (:data:`RESOLVED`), else from the derived
    :func:`~sparsemom.derivations.properties.stability.mode_resolvent` in float64, to
    rounding however close a block is to the identity (a mode with ``η λ = 10^{−20}``).
    Kept in ``coefficients`` (the dict of :func:`float_coefficients`) when given."""
    a = coefficients or float_coefficients(rec, values, rows)
    if "mode_sums" not in a:
        a["mode_sums"] = _mode_sums(rec, values, rows, a)
    return a["mode_sums"]


def _mode_sums(rec, values, rows, a: dict):
    """:func:`mode_sums` from the coefficients ``a``."""
    A = a["transition"].transpose(2, 0, 1)
    if np.isfinite(A).all() and np.isfinite(a["coupling"]).all():
        try:
            inverse = np.linalg.inv(np.eye(A.shape[1])[None] - A)
        except np.linalg.LinAlgError:
            inverse = None
        norm = lambda M: np.linalg.norm(M, ord=np.inf, axis=(1, 2))
        if inverse is not None and np.all(np.maximum(1, norm(A)) * norm(inverse) <= RESOLVED):
            return (np.einsum("mij,mj->im", inverse, a["coupling"].T),
                    np.einsum("mij,j->im", inverse, identity_moments(rec)),
                    np.einsum("mij,mj->im", inverse, a["forcing"].T))
    f = _resolvent_function(rec)
    if f is None:
        return None
    n = len(rec.state)
    with np.errstate(all="ignore"):
        out = np.stack([np.broadcast_to(np.asarray(x, dtype=np.float64), (rows,))
                        for x in f(*backends.float_arguments(rec, values))])
    return out[0::3].reshape(n, rows), out[1::3].reshape(n, rows), out[2::3].reshape(n, rows)


@lru_cache(maxsize=64)
def _resolvent_function(rec):
    """The derived :func:`~sparsemom.derivations.properties.stability.mode_resolvent` of
    ``rec`` as a NumPy function (``None`` without one), made once per recursion."""
    derived = mode_resolvent(rec.model, rec.optimizer)
    if derived is None:
        return None
    return numeric_function(tuple(derived), Signature.of(rec).inputs, "numpy")


def stationary(rec, values: dict, rows: int) -> np.ndarray | None:
    """``X_∞ = (I − T)^{−1} c`` (n, modes) of a row that converges, by Sherman–Morrison from
    :func:`mode_sums`: ``f + b (q·f)/(1 − q·b)``; ``None`` without a resolvent."""
    a = float_coefficients(rec, values, rows)
    sums = mode_sums(rec, values, rows, a)
    if sums is None:
        return None
    b, _, f = sums
    return rank_one_solve(f, b, a["coupling_weights"])


def row_certified(rec, b: np.ndarray, a: np.ndarray, q: np.ndarray) -> bool:
    """``y = (μ − T)^{−1} x_I`` are the moments of real vectors (every mode's Gram matrix
    positive definite), from the modes' ``b_j = (μ − A_j)^{−1} u_j`` and ``a_j = (μ −
    A_j)^{−1} x_I`` (n, modes) by Sherman–Morrison, ``y = a + b (q·a)/(1 − q·b)``; for the
    row's map ``T = blockdiag(A_j) + u qᵀ`` this holds iff ``ρ(T) < μ``
    (:mod:`sparsemom.numerics.analysis.coupled_stability`)."""
    with np.errstate(all="ignore"):
        y = rank_one_solve(a, b, q)
        G = gram_matrices(rec, {s.name: y[i] for i, s in enumerate(rec.state)}, y.shape[1])
        diagonal = np.diagonal(G, axis1=1, axis2=2)
        if not (np.isfinite(G).all() and (diagonal > 0).all()):
            return False
        scale = 1 / np.sqrt(diagonal)
        return bool(np.all(np.linalg.eigvalsh(G * scale[:, :, None] * scale[:, None, :])[:, 0]
                           > 0))


def converges(rec, values: dict, rows: int, bounded_blocks: bool = False,
              coefficients: dict | None = None) -> bool:
    """The row's second moments converge, ``ρ(blockdiag(A_j) + u qᵀ) < 1``: certified by
    :func:`row_certified` at ``μ = 1`` from :func:`mode_sums`; with ``bounded_blocks``, and
    no block grows on its own (:func:`blocks_bounded`: what the renewal equation and the
    contour integral, which take the modes one by one, need besides).  ``coefficients``:
    :func:`float_coefficients`, when the caller has them."""
    a = coefficients or float_coefficients(rec, values, rows)
    if bounded_blocks and not blocks_bounded(a):
        return False
    sums = mode_sums(rec, values, rows, a)
    return sums is not None and row_certified(rec, *sums[:2], a["coupling_weights"])


def kernel_mass(rec, values: dict, rows: int) -> float:
    """``Σ_j q_jᵀ (I − A_j)^{−1} u_j`` from :func:`mode_sums`; ``inf`` when a block grows on
    its own (:func:`blocks_bounded`) or its coefficients overflowed float64."""
    a = float_coefficients(rec, values, rows)
    sums = mode_sums(rec, values, rows, a)
    if sums is None or not (blocks_bounded(a)
                            and all(np.isfinite(a[k]).all()
                                    for k in ("coupling", "coupling_weights"))):
        return float("inf")
    mass = float(np.sum(a["coupling_weights"] * sums[0]))
    return mass if np.isfinite(mass) else float("inf")


def start_state(rec, derived: np.ndarray, initial: dict | None, rows: int, kind) -> np.ndarray:
    """``X_0`` (n, modes): the derived initial state with any given moments put in."""
    given = backends.initial_column(initial, rec, rows)
    if kind is float and not given and derived.dtype == np.float64:
        return np.array(derived)
    X0 = np.empty(derived.shape, dtype=float if kind is float else object)
    for i in range(derived.shape[0]):
        column = given[i] if i in given else derived[i]
        X0[i] = [kind(x) for x in column]
    return X0
