"""Stability of coupled modes: the row's map ``T = blockdiag(A_j) + u qᵀ``.

``T`` is the second-moment map of the whole row: it takes the moments of real vectors (every
mode's Gram matrix positive semi-definite, a proper cone) to moments of real vectors.  For
such a map, with ``x_I`` the moments of an identity Gram matrix in every mode,

    ρ(T) < μ   ⟺   y = (μ − T)^{−1} x_I exists and is the moments of real vectors

(⇒: ``y = Σ_m T^m x_I / μ^{m+1}`` and every term is; ⇐: ``y`` in the cone with ``(μ − T) y = x_I``
in its interior gives ``T y ≤ (1 − ε) μ y`` in the cone's order, so ``ρ(T) ≤ (1 − ε) μ``).
Sherman–Morrison gives ``y`` mode by mode, ``y = a + b (q·a)/(1 − q·b)`` with ``a_j = (μ −
A_j)^{−1} x_I`` and ``b_j = (μ − A_j)^{−1} u_j`` (:func:`~sparsemom.numerics.kernels.coupled.row_certified`):

* :func:`coupled_is_stable` (``μ = 1``) takes ``a`` and ``b`` from the float64 blocks when
  ``I − A_j`` is well conditioned, else from the derived
  :func:`~sparsemom.derivations.properties.stability.mode_resolvent` (rational functions,
  evaluated in float64): exact to rounding even for a mode within rounding of neutral
  (``η λ_j = 10^{−20}``, whose float64 block is the identity)
  (:func:`~sparsemom.numerics.kernels.coupled.mode_sums`);
* :func:`coupled_spectral_radius` is the smallest ``μ`` that passes, by bisection, from the
  float64 blocks, on the side of 1 the exact certificate gives (a stable radius within
  rounding of 1 is the float below 1);
* :func:`kernel_mass` ``g(1) = Σ_j q_jᵀ (I − A_j)^{−1} u_j``.  For Gaussian data each block is
  itself a second-moment map (the mode driven by its own data), so ``K_m = Σ_j q_jᵀ A_j^m u_j
  ≥ 0`` and the row converges iff every block does and the mass is below 1 — for SGD
  ``Σ_j η λ_j / (2B − (B + 1) η λ_j)``.  A user's coupling need not share this (its blocks
  carry ``−u_j q_j``); the certificate does not depend on it.

Everything here consumes the generated coefficients and derived sums of the mode recursion.
"""

from __future__ import annotations

import numpy as np

from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.kernels import coupled
from sparsemom.numerics.kernels.coupled import (
    block_sums,
    float_coefficients,
    identity_moments,
    row_certified,
)

#: Bisection steps for ``ρ(T)`` (at most: it stops when the bracket is one float wide).
BISECTION_STEPS = 200


def _problem(model, optimizer):
    """``(recursion, rows, values)`` of a coupled model under a constant optimizer."""
    optimizer.require_constant("a spectral radius or stability region")
    rows, values = parameter_values(model, optimizer, coupled=True)
    return recursion_for(model, optimizer, "steps"), rows, values


def kernel_mass(model, optimizer) -> float:
    """``Σ_j q_jᵀ (I − A_j)^{−1} u_j`` (``inf`` when a mode grows on its own)."""
    rec, rows, values = _problem(model, optimizer)
    return coupled.kernel_mass(rec, values, rows)


def coupled_is_stable(model, optimizer) -> bool:
    """``ρ(T) < 1``: the certificate at ``μ = 1`` from the derived sums (module docstring)."""
    rec, rows, values = _problem(model, optimizer)
    return coupled.converges(rec, values, rows)


def coupled_spectral_radius(model, optimizer) -> float:
    """``ρ(T)``: the smallest ``μ`` whose certificate holds, by bisection on the float64
    blocks (module docstring); ``inf`` when the coefficients overflowed float64."""
    rec, rows, values = _problem(model, optimizer)
    with np.errstate(all="ignore"):
        a = float_coefficients(rec, values, rows)
    A, u, q = a["transition"].transpose(2, 0, 1), a["coupling"].T, a["coupling_weights"]
    if not all(np.isfinite(x).all() for x in (A, u, q)):
        return float("inf")
    identity = identity_moments(rec)

    def passes(mu: float) -> bool:
        sums = block_sums(A, u, identity, mu)
        return sums is not None and row_certified(rec, *sums, q)

    stable = coupled.converges(rec, values, rows)   # exact at μ = 1 (derived sums)
    lo, hi = (0.0, 1.0) if stable else (1.0, 2.0)
    while not passes(hi):
        lo, hi = hi, 2 * hi
        if not np.isfinite(hi):
            return float("inf")
    for _ in range(BISECTION_STEPS):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        lo, hi = (lo, mid) if passes(mid) else (mid, hi)
    # a stable row within rounding of neutral: the float below 1, so that ρ < 1 ⟺ is_stable
    return min(hi, np.nextafter(1.0, 0.0)) if stable else hi
