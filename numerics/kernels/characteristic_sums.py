"""Sums over modes of ``a · A_j^m b`` through each block's characteristic recurrence.

By Cayley–Hamilton every sequence ``s_m = a · A^m b`` of an ``n × n`` block ``A`` obeys
the recurrence of its characteristic polynomial.  It is run in differences (the delta
operator): with ``B = A − I``, ``det(δI − B) = δ^n + d_1 δ^{n−1} + … + d_n`` and
``D_i = Δ^i s_m = a · A^m B^i b``,

    Δ^n s_m = −(d_1 D_{n−1} + … + d_n D_0),   D_i ← D_i + D_{i+1},

so ``Σ_j s_{j,m}`` over ``M`` modes costs ``2n`` operations per mode-step instead of the
``n² + n`` of iterating the blocks, and keeps its accuracy when the roots cluster near 1
(heavy momentum, small eigenvalues), where the shift form ``s_{m+n} = −Σ χ_i s_{m+n−i}``
loses digits like ``1/(1 − β)²``.  :func:`characteristic_coefficients` computes ``d``
from the (derived, float) blocks by Faddeev–LeVerrier; :func:`difference_starts` the
``D_i`` at ``m = 0``; :func:`sequence_sums` runs the C kernel
``numerics/codegen/c/characteristic_sums.h`` (modes in vector lanes, tiles in registers,
OpenMP threads over modes).  It is used for blocks that are strictly stable, where the
rounding of ``d`` decays (:mod:`sparsemom.numerics.kernels.renewal`).
"""

from __future__ import annotations

import ctypes
import hashlib
import os

import numpy as np

from sparsemom.numerics.codegen.sources import C_INCLUDE_DIR
from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.kernels.compiler import load_kernel

#: The C driver (its text is part of the kernel's fingerprint).
DRIVER = "characteristic_sums.h"


def characteristic_coefficients(A: np.ndarray) -> np.ndarray:
    r"""``χ`` of every block, shape ``(modes, n)``: ``det(λI − A_j) = λ^n + Σ_i χ_{j,i}
    λ^{n−i}`` by Faddeev–LeVerrier, ``M_k = A M_{k−1} + χ_{k−1} I``,
    ``χ_k = −tr(A M_k)/k`` (``M_1 = I``, ``χ_0 = 1``).

    Numbers from numbers, on the derived blocks: a mode's own ``χ`` is not a derived object
    (:func:`sparsemom.derivations.properties.stability.characteristic_coefficients` is the
    whole row's, and refuses coupled modes), and applied to ``B = A − I`` (its entries small
    where the roots cluster at 1) this keeps their accuracy: heavy ball at ``η = 5·10⁻⁵``,
    ``β = 0.9999``, ``λ = 10⁻⁴``, ``B = 4``, relative errors of ``d`` at most 9e-13, against
    2e-10 for the block's symbolic ``det(δI − B)`` expanded and evaluated in float64."""
    A = np.asarray(A, dtype=float)
    modes, n, _ = A.shape
    eye = np.broadcast_to(np.eye(n), A.shape)
    chi = np.empty((modes, n))
    M = np.array(eye)
    for k in range(1, n + 1):
        AM = A @ M
        chi[:, k - 1] = -np.trace(AM, axis1=1, axis2=2) / k
        M = AM + chi[:, k - 1, None, None] * eye
    return chi


def difference_starts(B: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``D_{j,i} = Δ^i s_{j,0} = a_j · B_j^i b_j`` for ``i < n``, shape ``(modes, n)``, from
    the blocks ``B = A − I`` (``a``, ``b``: ``(modes, n)`` or ``(n,)``)."""
    A = np.asarray(B, dtype=float)
    modes, n, _ = A.shape
    a = np.broadcast_to(np.asarray(a, dtype=float), (modes, n))
    x = np.array(np.broadcast_to(np.asarray(b, dtype=float), (modes, n)))
    out = np.empty((modes, n))
    for i in range(n):
        out[:, i] = np.einsum("ji,ji->j", a, x)
        x = np.einsum("jik,jk->ji", A, x)
    return out


def default_threads(modes: int, steps: int) -> int:
    """All cores once the work pays for a thread (``10⁷`` mode-steps, 64 modes per
    thread), else one: threads split the modes, each runs the whole time loop."""
    cores = os.cpu_count() or 1
    return cores if modes * steps >= 10_000_000 and modes >= 64 * cores else 1


def _kernel(order: int, sequences: int):
    driver = (C_INCLUDE_DIR / DRIVER).read_text(encoding="utf-8")
    symbol = f"sparsemom_characteristic_sums_{order}_{sequences}"
    fingerprint = hashlib.sha256(f"{order} {sequences}\0{driver}".encode()).hexdigest()
    source = (f'#define ORDER {order}\n#define SEQS {sequences}\n#define KERNEL {symbol}\n'
              f'#define KERNEL_FINGERPRINT "{fingerprint}"\n#include "{DRIVER}"\n')
    kernel = load_kernel(source, symbol, fingerprint)
    fn = kernel.function
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p,
                   ctypes.c_void_p, ctypes.c_int]
    return kernel


def sequence_sums(chi: np.ndarray, starts: list[np.ndarray], steps: int,
                  threads: int = 1) -> np.ndarray:
    """``out[q, m] = Σ_j s^{(q)}_{j,m}`` for ``m < steps``, each sequence ``q`` started
    at ``starts[q]`` (``(modes, n)``: its differences ``D_i`` at ``m = 0``) and continued by
    the recurrence of ``chi`` (``d`` of ``B = A − I``; module docstring).  Shape
    ``(len(starts), steps)``."""
    steps = check_integer("steps", steps, minimum=0)
    threads = check_integer("threads", threads, minimum=1)
    chi = np.ascontiguousarray(chi, dtype=float)
    if chi.ndim != 2 or not chi.shape[0] or not chi.shape[1]:
        raise ValueError(f"chi must have shape (modes, n) with modes, n ≥ 1; got {chi.shape}")
    modes, n = chi.shape
    if any(np.shape(x) != (modes, n) for x in starts):
        raise ValueError(f"starts must be {len(starts)} arrays of shape {(modes, n)}; got "
                         f"{[np.shape(x) for x in starts]}")
    start = np.ascontiguousarray(np.stack(starts), dtype=float)
    out = np.zeros((len(starts), steps))
    if steps == 0:
        return out
    kernel = _kernel(n, len(starts))
    threads = threads if kernel.openmp else 1
    status = kernel.function(modes, steps, chi.ctypes.data, start.ctypes.data,
                             out.ctypes.data, int(threads))
    if status != 0:
        raise MemoryError(f"the characteristic-sums kernel could not allocate its "
                          f"{threads} × {len(starts)} × {steps} partial sums")
    return out
