"""The risk of coupled modes at any horizon ``k`` without iterating ``k`` steps.

For constant hyper-parameters and a row that converges (every mode stable, kernel mass
below 1), ``X_k = X_∞ + T^k (X_0 − X_∞)`` with ``T = blockdiag(A_j) + u qᵀ`` and
``X_∞ = (I − T)^{−1} c``, so by Cauchy's formula with ``μ = e^σ``

    E R_k − E R_∞ = wᵀ T^k y = (1/2πi) ∫_Γ F(σ) e^{(k+1)σ} dσ,   F(σ) = wᵀ (e^σ I − T)^{−1} y,

``y = X_0 − X_∞`` — an inverse Laplace transform at time ``t = k + 1``.  The resolvent of a
block diagonal plus rank-one matrix costs two batched block solves (Sherman–Morrison):
``(μ − T)^{−1} y = Y + Z (q·Y)/(1 − q·Z)`` with ``Y = (μ − D)^{−1} y``, ``Z = (μ − D)^{−1} u``.
The integral is taken by the trapezoidal rule on the parabolic contour of J. A. C. Weideman
and L. N. Trefethen ("Parabolic and hyperbolic contours for computing the Bromwich
integral", Math. Comp. 76, 2007), ``σ(θ) = (N/t)(0.1309 − 0.1194 θ² + 0.25 i θ)``,
``θ ∈ (−π, π)``, whose error falls geometrically in the number of nodes ``N`` when the
singularities ``log μ_i`` of ``F`` near the origin lie on the negative real axis (the slow
modes); eigenvalues far from 1 (``k |log μ| ≫ N``) add only ``|μ|^k``.  Each value is taken
with ``N`` and ``N + N/2`` nodes and the two must agree to ``tolerance`` relative to ``E R_k``
(or, absolute, to ``10^{−14} (E R_0 + E R_∞)`` or to ``64 ε`` times the sum of the absolute
values the integral adds up, the float64 resolution of the integrand):
otherwise a ``ValueError`` says to iterate (``exact_risk``).  Steps below
:data:`DIRECT_STEPS` are iterated.
"""

from __future__ import annotations

import numpy as np

from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.kernels import coupled

#: The contour's nodes (and ``NODES + NODES // 2`` for the check).
NODES = 32
#: Steps up to which the curve is iterated instead.
DIRECT_STEPS = 256
#: The largest step: an int64 with room for ``k + 1`` (the contour's time).
MAX_STEP = 2**62
#: Agreement required between the two node counts, relative to ``E R_k`` …
TOLERANCE = 1e-8
#: … or absolute, relative to ``E R_0 + E R_∞`` (the float64 resolution of the integrand),
RESOLUTION = 1e-14
#: … or to the sum of the absolute values the integral adds up (modes and nodes): what
#: float64 resolves of it, with room for the rounding inside each mode's block solve.
ROUNDING = 64 * np.finfo(float).eps


def coupled_risk_at(model, optimizer, ks, tolerance: float = TOLERANCE) -> np.ndarray:
    r"""$E R_k$ at each step of ``ks`` for a model whose modes couple, constant hyper-parameters and
    a row that converges, without iterating: $E R_k - E R_\infty = w^\top T^k (X_0 - X_\infty)$
    with $T = \mathrm{blockdiag}(A_j) + u q^\top$, as the contour integral
    $\frac{1}{2\pi i} \int_\Gamma w^\top (e^\sigma I - T)^{-1} (X_0 - X_\infty)\, e^{(k+1)\sigma}\,
    d\sigma$ (module docstring).

    Parameters
    ----------
    model : Model
        A model whose modes couple (:class:`~sparsemom.numerics.inputs.spectra.GaussianCovariance`).
    optimizer : Optimizer
        Constant hyper-parameters; every mode stable and the kernel mass below 1.
    ks : int or sequence of int
        The steps, $0 \le k \le 2^{62}$ (:data:`MAX_STEP`).
    tolerance : float
        In $(0, 1)$: the agreement required between two node counts, relative to $E R_k$
        (else a ``ValueError`` says to iterate with ``exact_risk``).

    Returns
    -------
    numpy.ndarray
        $E R_k$ (float64) for each step of ``ks``.
    """
    ks = np.array([check_integer("ks", k, minimum=0, maximum=MAX_STEP) for k in np.atleast_1d(ks)],
                  dtype=np.int64)
    if not 0 < tolerance < 1:
        raise ValueError(f"tolerance must be in (0, 1); got {tolerance!r}")
    if getattr(model.law, "coupling", None) is None:
        raise ValueError(f"coupled_risk_at is for laws whose modes couple; {model.name!r} has "
                         "independent rows (use exact_risk_at)")
    optimizer.require_constant("coupled_risk_at (one time-invariant map)")
    rows, values = parameter_values(model, optimizer, coupled=True)
    rec = recursion_for(model, optimizer, "steps")
    if not coupled.converges(rec, values, rows, bounded_blocks=True):
        raise ValueError("coupled_risk_at needs a row that converges (for Gaussian data: every "
                         "mode stable and kernel mass below 1); these parameters are not: "
                         "exact_risk reports the divergence")
    a = coupled.float_coefficients(rec, values, rows)
    A = a["transition"].transpose(2, 0, 1)
    u, q, w, x0 = (a[b].T for b in ("coupling", "coupling_weights", "risk_weights", "initial"))
    stationary = coupled.stationary(rec, values, rows).T   # derived sums: exact near neutral
    y = x0 - stationary
    floor = float(np.sum(w * stationary))
    scale = abs(float(np.sum(w * x0))) + abs(floor)
    out = np.empty(ks.size)
    small = ks < DIRECT_STEPS
    if small.any():
        curve = np.asarray(coupled.risk_numpy(rec, values, rows, int(ks[small].max()))[0])
        out[small] = curve[ks[small]]
    for i in np.flatnonzero(~small):
        t = float(ks[i] + 1)
        first, _ = _contour(t, NODES, A, u, q, w, y)
        second, size = _contour(t, NODES + NODES // 2, A, u, q, w, y)
        resolution = max(RESOLUTION * scale, ROUNDING * size)
        if not abs(first - second) <= max(tolerance * abs(floor + second), resolution):
            raise ValueError(f"the contour integral at k = {ks[i]} did not converge "
                             f"({first:.6g} against {second:.6g} with {NODES} and "
                             f"{NODES + NODES // 2} nodes): the spectrum has slow oscillating "
                             "modes near the contour; iterate with exact_risk")
        out[i] = floor + second
    return out


def _resolvent(shift, B, u, q, v) -> np.ndarray:
    """``(μ I − T)^{−1} v`` per mode (modes, n) for ``T = blockdiag(A) + u qᵀ``, given
    ``B = I − A`` and ``shift = μ − 1``: ``μ I − A = B + shift·I`` keeps a shift far below
    the float64 resolution of 1 (``μ = e^σ`` with ``|σ| ~ N/k``, ``k`` up to ``10^18``)."""
    M = B + shift * np.eye(B.shape[1])[None]
    rhs = np.stack([v, u], axis=2)
    # one solve for both right-hand sides; a block of one moment is a division
    YZ = rhs / M if M.shape[1] == 1 else np.linalg.solve(M, rhs)
    return coupled.rank_one_solve(YZ[:, :, 0], YZ[:, :, 1], q)


def _contour(t: float, nodes: int, A, u, q, w, y) -> tuple[float, float]:
    """``(1/2πi) ∫ F(σ) e^{tσ} dσ`` on the parabolic contour, ``nodes`` trapezoidal nodes
    (the integrand's conjugate symmetry halves the work), and the sum of the absolute values
    of what it adds up (its terms' and, inside each, the modes'): float64 resolves the
    integral to a few ε of that."""
    theta = -np.pi + (np.arange(nodes) + 0.5) * 2 * np.pi / nodes
    half = theta[theta > 0]
    sigma = nodes / t * (0.1309 - 0.1194 * half**2 + 0.25j * half)
    dsigma = nodes / t * (-0.2388 * half + 0.25j)
    B = np.eye(A.shape[1])[None] - A.astype(complex)
    total = size = 0.0
    for s, ds in zip(sigma, dsigma):
        terms = w * _resolvent(np.expm1(s), B, u, q, y)
        factor = np.exp(t * s) * ds
        total += (np.sum(terms) * factor).imag
        size += float(np.sum(np.abs(terms))) * abs(factor)
    return float(2 * total / nodes), 2 * size / nodes
