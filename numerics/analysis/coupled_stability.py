"""Stability of coupled modes: ``T = blockdiag(A_j) + u qᵀ``.

With ``K_m = Σ_j q_jᵀ A_j^m u_j`` the coupled sum ``S_k = Σ_i q_i · X_{i,k}`` obeys the
renewal equation ``S_k = F_k + Σ_{s<k} K_{k−1−s} S_s``.  Each ``A_j`` is the second-moment
map of the mode driven by its own data alone, and ``u_j`` the second moments that a unit
of the other modes' prediction variance injects: both are moments of real random vectors,
so ``K_m ≥ 0`` for every ``m``.  Hence, with ``g(μ) = Σ_j q_jᵀ (μ I − A_j)^{−1} u_j =
Σ_m K_m μ^{−m−1}`` (decreasing for real ``μ`` above ``ρ_D = max_j ρ(A_j)``):

* every eigenvalue of ``T`` outside the spectrum of the blocks solves ``g(μ) = 1``, and
  ``|g(μ)| ≤ g(|μ|)``, so ``ρ(T) = max(ρ_D, μ*)`` with ``μ*`` the real root of ``g = 1``
  above ``ρ_D`` when there is one;
* the second moments converge iff every mode does (``ρ_D < 1``) and the **kernel mass**
  ``g(1) = Σ_j q_jᵀ (I − A_j)^{−1} u_j < 1`` — for SGD ``Σ_j η λ_j / (2B − (B + 1) η λ_j)``.

Everything here consumes the generated coefficients of the derived mode recursion.
"""

from __future__ import annotations

import numpy as np

from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.kernels.coupled import block_kernel_mass, float_coefficients

#: Bisection steps for ``μ*`` (relative precision ``2^{−60}`` of the bracket).
BISECTION_STEPS = 200


def _blocks(model, optimizer):
    optimizer.require_constant("a spectral radius or stability region")
    rows, values = parameter_values(model, optimizer, coupled=True)
    rec = recursion_for(model, optimizer, "steps")
    with np.errstate(all="ignore"):
        a = float_coefficients(rec, values, rows)
    return a["transition"].transpose(2, 0, 1), a["coupling"].T, a["coupling_weights"].T


def _g(mu: float, A: np.ndarray, u: np.ndarray, q: np.ndarray) -> float:
    """``Σ_j q_jᵀ (μ I − A_j)^{−1} u_j``."""
    n = A.shape[1]
    y = np.linalg.solve(mu * np.eye(n)[None] - A, u[:, :, None])[:, :, 0]
    return float(np.sum(q * y))


def kernel_mass(model, optimizer) -> float:
    """``Σ_j q_jᵀ (I − A_j)^{−1} u_j`` (``inf`` when a mode is unstable on its own)."""
    return block_kernel_mass(*_blocks(model, optimizer))


def coupled_spectral_radius(model, optimizer) -> float:
    """``ρ(T) = max(ρ_D, μ*)`` (module docstring), ``μ*`` by bisection on ``g(μ) = 1``;
    ``inf`` when the coefficients overflowed float64."""
    A, u, q = _blocks(model, optimizer)
    if not all(np.isfinite(x).all() for x in (A, u, q)):
        return float("inf")
    rho_d = float(np.max(np.abs(np.linalg.eigvals(A))))
    lo = rho_d * (1 + 1e-12) + 1e-300
    if not _g(lo, A, u, q) > 1:
        return rho_d
    hi = max(2 * lo, 1.0)
    while _g(hi, A, u, q) >= 1:
        hi *= 2
    for _ in range(BISECTION_STEPS):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if _g(mid, A, u, q) >= 1 else (lo, mid)
    return max(rho_d, hi)


def coupled_is_stable(model, optimizer) -> bool:
    """Every mode stable on its own and the kernel mass below 1 (module docstring)."""
    return kernel_mass(model, optimizer) < 1
