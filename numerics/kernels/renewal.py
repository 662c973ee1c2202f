"""Coupled modes with constant hyper-parameters by their renewal equation.

For ``X_{j,k+1} = A_j X_{j,k} + c_j + u_j S_k`` with ``S_k = Σ_j q_j · X_{j,k}`` (time-invariant
``A``, ``c``, ``u``), unrolling each mode gives

    S_k = F_k + Σ_{s<k} K_{k−1−s} S_s,   F_k = Σ_j q_j · X^{free}_{j,k},   K_m = Σ_j q_j A_j^m u_j,

where ``X^{free}`` is the mode run alone (``u = 0``) from ``X_0`` — a discrete Volterra
(renewal) equation whose inputs are sums over independent modes: two runs of the ordinary,
uncoupled C kernel (the time loop inside tiles of modes, state and coefficients in
registers), one from ``X_0`` with the forcing, one from ``u`` without it.  The risk is
``E R_k = α S_k`` when ``w = α q`` (Gaussian data: ``α = ½``), else ``G_k + Σ_{s<k} L_{k−1−s}
S_s`` from two more runs with the weights ``w``.  The equation is solved by divide and
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
from scipy.signal import fftconvolve

from sparsemom.numerics.kernels import backends
from sparsemom.numerics.kernels.coupled import float_coefficients

#: Below this many steps a block of the renewal equation is solved by direct sums.
LEAF = 64


def solve_renewal(F: np.ndarray, K: np.ndarray) -> np.ndarray:
    """``S_k = F_k + Σ_{s<k} K_{k−1−s} S_s`` for ``k = 0..len(F)−1`` (``K`` at least
    ``len(F) − 1`` long), by divide and conquer over ``[lo, hi)``: solve the first half,
    add its contribution to the second by one FFT convolution, solve the second half."""
    S = np.array(F, dtype=float)
    K = np.asarray(K, dtype=float)
    if S.size > 1 and K.size < S.size - 1:
        raise ValueError(f"K needs {S.size - 1} terms; got {K.size}")

    def solve(lo: int, hi: int) -> None:
        if hi - lo <= LEAF:
            for t in range(lo + 1, hi):
                S[t] += np.dot(K[t - 1 - lo::-1][: t - lo], S[lo:t])
            return
        mid = (lo + hi) // 2
        solve(lo, mid)
        conv = fftconvolve(S[lo:mid], K[: hi - lo - 1])
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
                 initial: dict | None = None):
    """``(risk, -1)``: the coupled risk curve from the renewal equation, the sums over
    modes by the uncoupled C kernel (module docstring)."""
    a = float_coefficients(rec, values, rows)
    q_row, w_row = list(rec.coupling_weights), list(rec.risk_weights)
    names = [s.name for s in rec.state]
    from_u = {name: a["coupling"][i] for i, name in enumerate(names)}

    def curve(weights, forcing: bool, start):
        return backends.risk_c(uncoupled(rec, weights, forcing), values, rows, steps, threads,
                               initial=start)[0]

    F = curve(q_row, True, initial)
    K = curve(q_row, False, from_u)
    S = solve_renewal(F, K)
    alpha = proportional(a["risk_weights"], a["coupling_weights"])
    if alpha is not None:
        return alpha * S, -1
    G = curve(w_row, True, initial)
    L = curve(w_row, False, from_u)
    risk = G.copy()
    risk[1:] += fftconvolve(S[:-1], L[:-1])[: steps]
    return risk, -1
