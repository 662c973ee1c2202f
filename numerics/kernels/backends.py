"""Backends that iterate a derived recursion ``X_{k+1} = A X_k + c``.

Every backend consumes the generated code of the recursion (``numerics/generated``)
or, for ``exact``, the SymPy objects themselves; each returns the risk curve
``E R_k = Σ_rows w · X_k`` and the first step at which it overflowed (or -1).

* ``numpy``: the generated NumPy coefficients, iterated in row blocks;
* ``c``: the generated C kernel, compiled at run time (:mod:`sparsemom.numerics.kernels.compiler`);
* ``mpmath``: the generated mpmath coefficients at ``dps`` digits;
* ``exact``: rational arithmetic on the SymPy matrices.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import types
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp

from sparsemom.derivations import MomentRecursion
from sparsemom.derivations.engine.recursion import derive_recursion, shipped_recursions
from sparsemom.numerics.codegen.signature import Signature, api_name
from sparsemom.numerics.codegen.sources import GENERATED_DIR, c_source, module_name, python_source
from sparsemom.numerics.kernels.compiler import load_kernel
from sparsemom.numerics.kernels.evaluate import evaluate_exact

#: Rows per block of the NumPy backend (coefficients and state stay in cache).
NUMPY_BLOCK = 16_384


class StaleGeneratedCode(RuntimeError):
    """Checked-in generated code does not match the current derivation."""


class GeneratedCodeWarning(RuntimeWarning):
    """The package's generated code is missing or stale; code was generated from the
    derivation at run time instead (run ``sparsemom codegen`` to update the package)."""


def _symbols(rec: MomentRecursion) -> tuple[sp.Symbol, ...]:
    """The generated functions' inputs, in call order."""
    return Signature.of(rec).inputs


def checked_in_module(rec: MomentRecursion):
    """The package's generated Python module of ``rec``; :class:`StaleGeneratedCode`
    when it is missing or its fingerprint differs from the derivation's."""
    name = module_name(rec)
    try:
        module = importlib.import_module(f"sparsemom.numerics.generated.{name}")
    except ModuleNotFoundError as exc:
        raise StaleGeneratedCode(f"no generated code for {name}: run `sparsemom codegen`") from exc
    if module.FINGERPRINT != rec.fingerprint:
        raise StaleGeneratedCode(f"generated code for {name} is stale (fingerprint "
                                 f"{module.FINGERPRINT[:12]} ≠ {rec.fingerprint[:12]}): "
                                 "run `sparsemom codegen`")
    return module


def checked_in_c_source(rec: MomentRecursion) -> str:
    """The package's generated C kernel of ``rec`` (:class:`StaleGeneratedCode` as above)."""
    path = GENERATED_DIR / f"{module_name(rec)}.c"
    if not path.exists():
        raise StaleGeneratedCode(f"no generated C kernel {path.name}: run `sparsemom codegen`")
    source = path.read_text(encoding="utf-8")
    if rec.fingerprint not in source:
        raise StaleGeneratedCode(f"generated C kernel {path.name} is stale: run `sparsemom codegen`")
    return source


def _ships_code(rec: MomentRecursion) -> bool:
    """The package is meant to carry generated code for ``rec`` (a built-in target)."""
    key = (rec.model, rec.optimizer, rec.time_rule)
    return key in shipped_recursions() and derive_recursion(*key) is rec


def _fallback(rec: MomentRecursion, exc: StaleGeneratedCode) -> None:
    if _ships_code(rec):
        warnings.warn(f"{exc}; using code generated from the derivation at run time",
                      GeneratedCodeWarning, stacklevel=4)


#: Code printed at run time, keyed by the derivation's fingerprint.
_RUNTIME_MODULES: dict[str, types.ModuleType] = {}
_RUNTIME_C: dict[str, str] = {}


def generated_module(rec: MomentRecursion):
    """The generated Python module of ``rec``: the package's when it matches the
    derivation's fingerprint, else printed from the derivation now (a user-defined
    rule, or a stale or missing package file: :class:`GeneratedCodeWarning`).
    Numbers never come from code of another derivation."""
    try:
        return checked_in_module(rec)
    except StaleGeneratedCode as exc:
        _fallback(rec, exc)
    if rec.fingerprint not in _RUNTIME_MODULES:
        module = types.ModuleType(f"sparsemom_runtime_{module_name(rec)}")
        exec(compile(python_source(rec), f"<generated {module_name(rec)}>", "exec"),
             module.__dict__)
        _RUNTIME_MODULES[rec.fingerprint] = module
    return _RUNTIME_MODULES[rec.fingerprint]


def generated_c_source(rec: MomentRecursion) -> str:
    """The generated C kernel of ``rec``, resolved as :func:`generated_module`."""
    try:
        return checked_in_c_source(rec)
    except StaleGeneratedCode as exc:
        _fallback(rec, exc)
    if rec.fingerprint not in _RUNTIME_C:
        _RUNTIME_C[rec.fingerprint] = c_source(rec)
    return _RUNTIME_C[rec.fingerprint]


def float_arguments(rec, values) -> list[np.ndarray]:
    """Float64 arguments of the generated code: 0-d for scalars, contiguous 1-d per row."""
    out = []
    for s in _symbols(rec):
        a = np.asarray(values[s], dtype=np.float64)
        out.append(a if a.ndim == 0 else np.ascontiguousarray(a))
    return out


def values_at_step(values: dict, multipliers: dict, k: int) -> dict:
    """The parameter values of step ``k``: each scheduled symbol's base value times its
    multiplier ``s[k]`` (every row alike)."""
    if not multipliers:
        return values
    return {**values, **{s: values[s] * m[k] for s, m in multipliers.items()}}


def initial_column(initial: dict | None, rec: MomentRecursion, rows: int):
    """Per state index, the given initial moments (broadcast over rows), or None."""
    if not initial:
        return {}
    names = [s.name for s in rec.state]
    return {names.index(k): np.broadcast_to(np.asarray(x, dtype=object), (rows,))
            for k, x in initial.items()}


def coefficient_arrays(rec: MomentRecursion, args: list[np.ndarray], rows: int):
    """``(A, c, w, X_0)`` from the generated NumPy code, shapes (n, n, rows) and (n, rows)."""
    n = len(rec.state)
    with np.errstate(all="ignore"):
        A, c, w, x = (np.stack([np.broadcast_to(np.asarray(e, dtype=np.float64), (rows,))
                                for e in group])
                      for group in generated_module(rec).coefficients(*args))
    return A.reshape(n, n, rows), c, w, x


def risk_numpy(rec: MomentRecursion, values: dict, rows: int, steps: int,
               multipliers: dict | None = None, initial: dict | None = None,
               record: dict | None = None):
    """Risk curve and first overflow step; with ``record`` (a dict), also the whole state
    ``record["state"]`` (steps+1, rows, n; ``inf`` from a row's overflow on) and the risk
    weights ``record["weights"]`` (rows, n)."""
    multipliers = multipliers or {}
    args = float_arguments(rec, values)
    start = {i: np.asarray(x, dtype=float) for i, x in initial_column(initial, rec, rows).items()}
    n = len(rec.state)
    risk = np.zeros(steps + 1)
    diverged = -1
    if record is not None:
        record["state"] = np.full((steps + 1, rows, n), np.inf)
        record["weights"] = np.empty((rows, n))
    with np.errstate(all="ignore"):
        for first in range(0, rows, NUMPY_BLOCK):
            count = min(NUMPY_BLOCK, rows - first)

            def block(arguments):
                return [a if a.ndim == 0 else a[first:first + count] for a in arguments]
            # this block's values, for the per-step coefficients of a schedule
            block_values = {s: np.asarray(x, dtype=float) if np.ndim(x) == 0 else
                            np.asarray(x, dtype=float)[first:first + count]
                            for s, x in values.items()}
            A, c, w, x = coefficient_arrays(rec, block(args), count)
            X = [start[i][first:first + count] if i in start else x[i] for i in range(n)]
            if record is not None:
                record["weights"][first:first + count] = w.T
                _record(record["state"], 0, first, X)
            stop = _accumulate(risk, 0, sum(wi @ xi for wi, xi in zip(w, X)))
            for t in range(1, steps + 1):
                if stop:
                    break
                if multipliers:
                    step_values = values_at_step(block_values, multipliers, t - 1)
                    A, c, _, _ = coefficient_arrays(rec, float_arguments(rec, step_values), count)
                X = [sum(A[i][j] * X[j] for j in range(n)) + c[i] for i in range(n)]
                if record is not None:
                    _record(record["state"], t, first, X)
                stop = _accumulate(risk, t, sum(wi @ xi for wi, xi in zip(w, X)))
            if stop:
                t = int(np.argmax(~np.isfinite(risk)))
                diverged = t if diverged < 0 else min(diverged, t)
    return risk, diverged


def _record(state: np.ndarray, t: int, first: int, X: list) -> None:
    """Store step ``t`` of a block; a non-finite entry (overflow) is stored as ``inf``."""
    block = np.stack(np.broadcast_arrays(*X), axis=-1)
    state[t, first:first + block.shape[0]] = np.where(np.isfinite(block), block, np.inf)


def _accumulate(risk: np.ndarray, t: int, value: float) -> bool:
    if not np.isfinite(value):
        risk[t:] = np.inf
        return True
    risk[t] += value
    return False


def default_threads(rows: int) -> int:
    """All cores for streams of many blocks, one thread for small problems."""
    return max(1, min(os.cpu_count() or 1, rows // 16_384 or 1))


def pointer_array(arrays: list[np.ndarray]):
    """``double *[]`` and strides (0: a scalar broadcast over rows) of float64 arrays."""
    pointers = (ctypes.POINTER(ctypes.c_double) * len(arrays))(
        *[a.ctypes.data_as(ctypes.POINTER(ctypes.c_double)) for a in arrays])
    strides = (ctypes.c_long * len(arrays))(*[0 if a.ndim == 0 else 1 for a in arrays])
    return pointers, strides


def schedule_monomials(rec: MomentRecursion, multipliers: dict, steps: int) -> np.ndarray:
    """The table ``μ_α(k) = Π_h m_h(k)^{α_h} · Π_j n_j(k)^{α_j}`` (steps × monomials) of the
    scheduled C kernel, ``n_j = 1 − Π_h m_h^{e_jh}`` (``m = 1`` for an unscheduled
    hyper-parameter), its monomials and complements ``e_j`` read from the generated module;
    a ``ValueError`` when ``rec`` has no scheduled form."""
    module = generated_module(rec)
    if module.SCHEDULED_MONOMIALS is None:
        raise ValueError(f"the recursion of {rec.optimizer!r} ({rec.time_rule}) has no "
                         "scheduled C kernel (it is not polynomial in its hyper-parameters, or "
                         "too large: sparsemom.numerics.codegen.expressions.SCHEDULED_MAX_FACTORS); use "
                         "backend='numpy'")
    names, complements = module.SCHEDULED_HYPER_PARAMETERS, module.SCHEDULED_COMPLEMENTS
    exponents = np.array(module.SCHEDULED_MONOMIALS, dtype=int).reshape(
        len(module.SCHEDULED_MONOMIALS), len(names) + len(complements))
    by_name = {api_name(symbol): np.asarray(m, dtype=float)[:steps]
               for symbol, m in multipliers.items()}
    m = np.ones((steps, len(names)))
    for i, name in enumerate(names):
        if name in by_name:
            m[:, i] = by_name[name]
    n = np.empty((steps, len(complements)))
    for j, e in enumerate(complements):
        n[:, j] = 1 - np.prod(m ** np.array(e), axis=1)
    table = np.ones((steps, len(exponents)))
    for j, column in enumerate(np.concatenate([m, n], axis=1).T):
        table *= column[:, None] ** exponents[None, :, j]
    return np.ascontiguousarray(table)


def kernel_entry(rec: MomentRecursion):
    """``(kernel, function, symbol)``: the compiled C kernel of ``rec`` and its entry point
    ``long KERNEL(rows, steps, args, strides, initial, initial_strides, table, risk, threads)``,
    typed for ctypes (the signature every generated driver exports)."""
    symbol = f"sparsemom_{module_name(rec)}"
    kernel = load_kernel(generated_c_source(rec), symbol, rec.fingerprint)
    fn = kernel.function
    double_pp = ctypes.POINTER(ctypes.POINTER(ctypes.c_double))
    long_p, double_p = ctypes.POINTER(ctypes.c_long), ctypes.POINTER(ctypes.c_double)
    fn.restype = ctypes.c_long
    fn.argtypes = [ctypes.c_long, ctypes.c_long, double_pp, long_p, double_pp, long_p, double_p,
                   double_p, ctypes.c_int]
    return kernel, fn, symbol


def risk_c(rec: MomentRecursion, values: dict, rows: int, steps: int, threads: int | None,
           multipliers: dict | None = None, initial: dict | None = None):
    kernel, fn, symbol = kernel_entry(rec)
    double_p = ctypes.POINTER(ctypes.c_double)
    args = float_arguments(rec, values)
    pointers, strides = pointer_array(args)
    start = initial_column(initial, rec, rows)
    if start:
        x0 = coefficient_arrays(rec, args, rows)[3]     # the derived X_0 of the others
        columns = [np.ascontiguousarray(np.asarray(start[i], dtype=float)) if i in start
                   else np.ascontiguousarray(x0[i]) for i in range(len(rec.state))]
        init_pointers, init_strides = pointer_array(columns)
    else:
        columns, init_pointers, init_strides = [], None, None
    table = schedule_monomials(rec, multipliers, steps) if multipliers else None
    risk = np.empty(steps + 1)
    threads = default_threads(rows) if threads is None else threads
    code = fn(rows, steps, pointers, strides, init_pointers, init_strides,
              None if table is None else table.ctypes.data_as(double_p),
              risk.ctypes.data_as(double_p), threads if kernel.openmp else 1)
    if code == -2:
        raise MemoryError("the C kernel could not allocate its per-thread risk buffers")
    if code == -3:
        raise RuntimeError(f"the C kernel {symbol} has no scheduled form")
    return risk, int(code)


def mpmath_rows(rec: MomentRecursion, values: dict, rows: int, initial: dict | None = None):
    """Per row, ``(A, c, w, X_0)`` as lists of ``mpf`` from the generated mpmath
    coefficients (``A`` row-major), at the working precision of the caller."""
    coefficients = generated_module(rec).coefficients_mp
    columns = [np.broadcast_to(np.asarray(values[s], dtype=object), (rows,))
               for s in _symbols(rec)]
    start = initial_column(initial, rec, rows)
    for r in range(rows):
        A, c, w, X = (list(map(mpmath.mpf, g))
                      for g in coefficients(*[to_mpf(col[r]) for col in columns]))
        yield A, c, w, [to_mpf(start[i][r]) if i in start else x for i, x in enumerate(X)]


def risk_mpmath(rec: MomentRecursion, values: dict, rows: int, steps: int, dps: int,
                multipliers: dict | None = None, initial: dict | None = None,
                record: dict | None = None):
    n = len(rec.state)
    multipliers = multipliers or {}
    state = _object_record(record, steps, rows, n)
    with mpmath.workdps(dps):
        risk = [mpmath.mpf(0)] * (steps + 1)
        per_step = ([list(mpmath_rows(rec, values_at_step(values, multipliers, k), rows))
                     for k in range(steps)] if multipliers else None)
        for r, (A, c, w, X) in enumerate(mpmath_rows(rec, values, rows, initial)):
            risk[0] += mpmath.fdot(w, X)
            if state is not None:
                record["weights"][r], state[0, r] = w, X
            for t in range(1, steps + 1):
                if per_step is not None:
                    A, c = per_step[t - 1][r][:2]
                X = [mpmath.fdot(A[i * n:(i + 1) * n], X) + c[i] for i in range(n)]
                risk[t] += mpmath.fdot(w, X)
                if state is not None:
                    state[t, r] = X
    out = np.empty(steps + 1, dtype=object)
    out[:] = risk
    return out, -1


def _object_record(record: dict | None, steps: int, rows: int, n: int):
    """The object arrays of ``record`` (state and weights) for the exact backends."""
    if record is None:
        return None
    record["weights"] = np.empty((rows, n), dtype=object)
    record["state"] = np.empty((steps + 1, rows, n), dtype=object)
    return record["state"]


def to_mpf(x) -> mpmath.mpf:
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    return mpmath.mpf(x)  # floats are converted exactly


def risk_exact(rec: MomentRecursion, values: dict, rows: int, steps: int,
               multipliers: dict | None = None, initial: dict | None = None,
               record: dict | None = None):
    multipliers = multipliers or {}
    num = evaluate_exact(rec, values, rows)
    A, c, w = num.transition, num.forcing, num.risk_weights
    per_step = [evaluate_exact(rec, values_at_step(values, multipliers, k), rows)
                for k in range(steps)] if multipliers else None
    start = initial_column(initial, rec, rows)
    n = A.shape[0]
    state = _object_record(record, steps, rows, n)
    risk = np.empty(steps + 1, dtype=object)
    risk[:] = Fraction(0)
    for r in range(rows):
        X = [Fraction(start[i][r]) if i in start else x for i, x in enumerate(num.initial[:, r])]
        risk[0] += sum(w[i, r] * X[i] for i in range(n))
        if state is not None:
            record["weights"][r], state[0, r] = list(w[:, r]), X
        for k in range(1, steps + 1):
            if per_step is not None:
                A, c = per_step[k - 1].transition, per_step[k - 1].forcing
            X = [sum(A[i, j, r] * X[j] for j in range(n)) + c[i, r] for i in range(n)]
            risk[k] += sum(w[i, r] * X[i] for i in range(n))
            if state is not None:
                state[k, r] = X
    return risk, -1

