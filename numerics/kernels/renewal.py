"""Coupled modes with constant hyper-parameters by their renewal equation.

For ``X_{j,k+1} = A_j X_{j,k} + c_j + u_j S_k`` with ``S_k = Σ_j q_j · X_{j,k}`` (time-invariant
``A``, ``c``, ``u``), unrolling each mode gives

    S_k = F_k + Σ_{s<k} K_{k−1−s} S_s,   F_k = Σ_j q_j · X^{free}_{j,k},   K_m = Σ_j q_j A_j^m u_j,

where ``X^{free}`` is the mode run alone (``u = 0``) from ``X_0`` — a discrete Volterra
(renewal) equation whose inputs are sums over independent modes.  When every block is
strictly stable they are sums of sequences ``q_j · A_j^m x_j`` (``F_k = Σ_j q_j·f_j +
Σ_j q_j·A_j^k (X_{j,0} − f_j)`` around each mode's own fixed point ``f_j = (I − A_j)^{−1}
c_j``), run by the blocks' characteristic recurrences in differences
(:mod:`~sparsemom.numerics.kernels.characteristic_sums`: ``2n`` operations per mode-step);
otherwise (a block within rounding of neutral) two runs of the ordinary, uncoupled C
kernel, one from ``X_0`` with the forcing, one from ``u`` without it.  The risk is
``E R_k = α S_k`` when ``w = α q`` (Gaussian data: ``α = ½``), else ``G_k + Σ_{s<k} L_{k−1−s}
S_s`` from the same sums with the weights ``w``.  The equation is solved by divide and
conquer with FFT convolutions, ``O(k log² k)`` for ``k`` steps whatever the number of modes;
its rounding error is at most about ``ε log₂ k · max_s S_s · Σ_m K_m`` in absolute terms.

Used when the row converges (:func:`~sparsemom.numerics.kernels.coupled.converges`; for
Gaussian data: every mode stable and the kernel mass ``Σ_m K_m < 1``) and no block grows on
its own (the runs stay bounded); otherwise the direct kernel
(:mod:`sparsemom.numerics.kernels.coupled`) reports the divergence step by step.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import sympy as sp
from scipy.linalg import solve_triangular, toeplitz
from scipy.signal import fftconvolve

from sparsemom.numerics.kernels import backends
from sparsemom.numerics.kernels.characteristic_sums import (
    characteristic_coefficients,
    default_threads,
    difference_starts,
    sequence_sums,
)
from sparsemom.numerics.kernels.coupled import (
    block_radius,
    float_coefficients,
    mode_sums,
    start_state,
)

#: Below this many steps a block of the renewal equation is solved as one unit-triangular
#: Toeplitz system (forward substitution in LAPACK), and a convolution is direct, not by FFT.
LEAF = 256
DIRECT_CONVOLUTION = 1024


def solve_renewal(F: np.ndarray, K: np.ndarray) -> np.ndarray:
    """``S_k = F_k + Σ_{s<k} K_{k−1−s} S_s`` for ``k = 0..len(F)−1`` (``K`` at least
    ``len(F) − 1`` long), by divide and conquer over ``[lo, hi)``: solve the first half,
    add its contribution to the second by one convolution (FFT when long), solve the second
    half; a block of at most :data:`LEAF` steps is ``(I − L) S = F`` with ``L`` the strictly
    lower-triangular Toeplitz matrix ``L_{ts} = K_{t−1−s}``."""
    S = np.array(F, dtype=float)
    K = np.asarray(K, dtype=float)
    if S.size > 1 and K.size < S.size - 1:
        raise ValueError(f"K needs {S.size - 1} terms; got {K.size}")
    size = min(LEAF, S.size)
    lower = toeplitz(np.concatenate([[1.0], -K[: size - 1]]), np.zeros(size))

    def solve(lo: int, hi: int) -> None:
        if hi - lo <= LEAF:
            m = hi - lo
            S[lo:hi] = solve_triangular(lower[:m, :m], S[lo:hi], lower=True,
                                        unit_diagonal=True, check_finite=False)
            return
        mid = (lo + hi) // 2
        solve(lo, mid)
        head, kernel = S[lo:mid], K[: hi - lo - 1]
        conv = (np.convolve(head, kernel) if mid - lo <= DIRECT_CONVOLUTION
                else fftconvolve(head, kernel))
        S[mid:hi] += conv[mid - 1 - lo: hi - 1 - lo]
        solve(mid, hi)

    solve(0, S.size)
    return S


def uncoupled(rec, weights, forcing: bool):
    """The modes of ``rec`` without their coupling, observed with ``weights`` (a row of
    the state: ``Σ_i weights_i X_i``), with or without the forcing: the same derived
    matrices, another recursion (its own fingerprint and generated code)."""
    risk = sum((w * s for w, s in zip(weights, rec.state)), sp.S.Zero)
    return replace(rec, coupling=None, coupling_weights=None, risk=risk,
                   forcing=rec.forcing if forcing else sp.zeros(*rec.forcing.shape))


def proportional(w: np.ndarray, q: np.ndarray) -> float | None:
    """``α`` with ``w = α q`` for every mode and entry, else ``None``."""
    scale = np.max(np.abs(q))
    if scale == 0:
        return None
    i = np.unravel_index(np.argmax(np.abs(q)), q.shape)
    alpha = w[i] / q[i]
    return float(alpha) if np.allclose(w, alpha * q, rtol=1e-15, atol=0) else None


def risk_renewal(rec, values: dict, rows: int, steps: int, threads: int | None,
                 initial: dict | None = None, coefficients: dict | None = None):
    """``(risk, -1)``: the coupled risk curve from the renewal equation, its sums over
    modes by the blocks' characteristic recurrences when every block is strictly stable,
    else by runs of the uncoupled C kernel (module docstring).  ``coefficients``:
    :func:`~sparsemom.numerics.kernels.coupled.float_coefficients`, when the caller has
    them."""
    a = coefficients or float_coefficients(rec, values, rows)
    alpha = proportional(a["risk_weights"], a["coupling_weights"])
    weights = [a["coupling_weights"]] + ([] if alpha is not None else [a["risk_weights"]])
    sums = _characteristic_sums(rec, values, rows, steps, threads, initial, a, weights)
    if sums is None:
        sums = _uncoupled_sums(rec, values, rows, steps, threads, initial, a,
                               alpha is not None)
    F, K = sums[0]
    S = solve_renewal(F, K)
    if alpha is not None:
        return alpha * S, -1
    G, L = sums[1]
    risk = G.copy()
    risk[1:] += fftconvolve(S[:-1], L[:-1])[: steps]
    return risk, -1


def characteristic_inputs(rec, values, rows, initial, a, weights):
    """``(chi, starts, offsets)`` of the renewal's sums for
    :func:`~sparsemom.numerics.kernels.characteristic_sums.sequence_sums`: the blocks'
    ``d`` for ``B_j = A_j − I``, the differences of ``q_j·A_j^m (X_{j,0} − f_j)`` and
    ``q_j·A_j^m u_j`` for each weight row ``q`` in ``weights`` (``f_j = (I − A_j)^{−1} c_j``
    the mode's own fixed point), and the constants ``Σ_j q_j·f_j``; ``None`` unless every
    block is strictly stable and its fixed point finite."""
    if not block_radius(a) < 1:
        return None
    A = a["transition"].transpose(2, 0, 1)
    resolved = mode_sums(rec, values, rows, a)
    if resolved is None or not np.isfinite(resolved[2]).all():
        return None
    fixed = resolved[2]
    away = start_state(rec, a["initial"], initial, rows, float) - fixed
    B = A - np.eye(A.shape[1])
    starts = [difference_starts(B, w.T, x.T) for w in weights for x in (away, a["coupling"])]
    return characteristic_coefficients(B), starts, [float(np.sum(w * fixed)) for w in weights]


def _characteristic_sums(rec, values, rows, steps, threads, initial, a, weights):
    """``[(F, K), (G, L)]`` over ``steps + 1`` terms by the characteristic recurrences
    (:func:`characteristic_inputs`): ``F_k = Σ_j q_j·f_j + Σ_j q_j·A_j^k (X_{j,0} − f_j)``,
    ``K_k = Σ_j q_j·A_j^k u_j`` (and ``G``, ``L`` with ``w``); ``None`` where those
    recurrences are not used."""
    inputs = characteristic_inputs(rec, values, rows, initial, a, weights)
    if inputs is None:
        return None
    chi, starts, offsets = inputs
    runs = sequence_sums(chi, starts, steps + 1, default_threads(rows, steps + 1)
                         if threads is None else threads)
    return [(runs[2 * i] + offset, runs[2 * i + 1]) for i, offset in enumerate(offsets)]


def _uncoupled_sums(rec, values, rows, steps, threads, initial, a, proportional_risk: bool):
    """``[(F, K), (G, L)]`` by runs of the uncoupled C kernel: from ``X_0`` with the forcing
    and from ``u`` without, observed with ``q`` (and ``w``)."""
    names = [s.name for s in rec.state]
    from_u = {name: a["coupling"][i] for i, name in enumerate(names)}

    def curve(weights, forcing: bool, start):
        return backends.risk_c(uncoupled(rec, weights, forcing), values, rows, steps, threads,
                               initial=start)[0]

    rows_of = [list(rec.coupling_weights)] + ([] if proportional_risk else
                                               [list(rec.risk_weights)])
    return [(curve(w, True, initial), curve(w, False, from_u)) for w in rows_of]
