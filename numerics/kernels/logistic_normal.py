"""Numeric values of the Gaussian–sigmoid integrals of :mod:`sparsemom.derivations.rare_class.logistic_normal`.

``S_k(m, v) = E[σ(G)^k]`` and ``L(m, v) = E[log(1 + e^G)]``, ``G ~ N(m, v)``, by
Gauss–Hermite quadrature ``E f(G) ≈ Σ_i w_i f(m + √v x_i) / √(2π)`` (probabilists'
nodes).  The integrands are analytic in a strip (poles of ``σ`` at ``iπ(2j+1)``),
so the error falls geometrically in ``√n``; the order is chosen by an error
estimate: from the a-priori order of :func:`minimum_order`, ``n`` is doubled until
``|Q_n − Q_{2n}| ≤ rtol·|Q_{2n}| + atol`` over every point evaluated, and ``Q_{2n}``
is returned.  The reference is
``mpmath.quad`` at 50 digits (:func:`mpmath_moment`, :func:`mpmath_softplus`,
:func:`mpmath_references`).
Beyond order 4096 (logit variances ≳ 30, met only on the way to divergence) an
adaptive quadrature split at the logit's zero takes over.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mpmath
import numpy as np
from scipy.integrate import quad
from scipy.special import expit, roots_hermitenorm

from sparsemom.numerics.kernels.numeric_function import register_backend

#: Gauss–Hermite orders tried (doubling); beyond the last the quadrature reports failure.
ORDERS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
RTOL, ATOL = 1e-13, 1e-300


@lru_cache(maxsize=None)
def _rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = roots_hermitenorm(n)
    return x, w / np.sqrt(2 * np.pi)


@dataclass(frozen=True)
class Quadrature:
    """A quadrature value with the order used and the estimated error."""

    value: np.ndarray
    order: int      # Gauss–Hermite order; 0 for the adaptive fallback
    error: float


def _integrate(f, mean, variance, order: int) -> np.ndarray:
    x, w = _rule(order)
    mean = np.asarray(mean, dtype=float)[..., None]
    scale = np.sqrt(np.asarray(variance, dtype=float))[..., None]
    return f(mean + scale * x) @ w


def minimum_order(variance: float) -> int:
    """Smallest order whose a-priori error bound is below 1e-16.

    In the standardised variable the integrands are analytic in the strip
    ``|Im x| < π/√v`` (poles of σ), and Gauss–Hermite converges like
    ``exp(−√(2n) π/√v)``; ``n ≥ (37/π)² v / 2 ≈ 69 v`` brings that below ``e^{−37}``.
    Starting there keeps the doubling estimate from being fooled by orders that
    miss the sigmoid's transition altogether (both ``Q_n`` and ``Q_{2n}`` wrong).
    """
    return max(16, int(np.ceil((37 / np.pi) ** 2 * variance / 2)))


def gauss_hermite(f, mean, variance, rtol: float = RTOL, atol: float = ATOL) -> Quadrature:
    """``E f(G)`` for ``G ~ N(mean, variance)`` (arrays broadcast), order by doubling."""
    mean, variance = np.broadcast_arrays(np.asarray(mean, float), np.asarray(variance, float))
    if np.any(variance < 0) or not np.all(np.isfinite(variance)):
        raise ValueError("variance must be finite and >= 0")
    start = minimum_order(float(np.max(variance, initial=0.0)))
    ladder = [n for n in ORDERS if n >= start]
    if len(ladder) < 2:
        return _adaptive(f, mean, variance, rtol)
    previous = _integrate(f, mean, variance, ladder[0])
    for order in ladder[1:]:
        current = _integrate(f, mean, variance, order)
        error = np.abs(current - previous)
        if np.all(error <= rtol * np.abs(current) + atol):
            return Quadrature(current, order, float(np.max(error, initial=0.0)))
        previous = current
    # Very wide Gaussians (v ≳ 30: the sigmoid's poles at distance π/√v from the real
    # axis in the standardised variable) defeat any practical order: adaptive quadrature,
    # split at the logit's zero, to the same tolerance.
    return _adaptive(f, mean, variance, rtol)


def _adaptive(f, mean, variance, rtol: float) -> Quadrature:
    values, errors = np.empty(mean.shape), np.empty(mean.shape)
    density = lambda t: np.exp(-t * t / 2) / np.sqrt(2 * np.pi)  # noqa: E731
    for i in np.ndindex(mean.shape):
        m, s = mean[i], np.sqrt(variance[i])
        kink = -m / s if s > 0 else 0.0
        parts = [quad(lambda t: float(f(m + s * t)) * density(t), lo, hi, epsabs=0.0,
                      epsrel=rtol, limit=500) for lo, hi in ((-np.inf, kink), (kink, np.inf))]
        values[i] = parts[0][0] + parts[1][0]
        errors[i] = parts[0][1] + parts[1][1]
    return Quadrature(values, 0, float(np.max(errors, initial=0.0)))


def sigmoid_power(k: int):
    return lambda x: expit(x) ** k


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def logistic_normal_moment(k, mean, variance) -> np.ndarray:
    """``S_k(mean, variance) = E[σ(G)^k]`` (NumPy, Gauss–Hermite with error control)."""
    k = int(k)
    if k == 0:
        return np.ones(np.broadcast(np.asarray(mean), np.asarray(variance)).shape)
    return gauss_hermite(sigmoid_power(k), mean, variance).value


def softplus_normal_mean(mean, variance) -> np.ndarray:
    """``L(mean, variance) = E[log(1 + e^G)]`` (NumPy, Gauss–Hermite with error control)."""
    return gauss_hermite(softplus, mean, variance).value


#: How lambdify evaluates the named integrals.
NUMPY_INTEGRALS = {"LogisticNormalMoment": logistic_normal_moment,
                   "SoftplusNormalMean": softplus_normal_mean}
#: The numeric_function backend that evaluates them (NumPy plus these integrals).
INTEGRALS_BACKEND = "integrals"
register_backend(INTEGRALS_BACKEND, [NUMPY_INTEGRALS, "numpy"])


def _mp_expect(integrands, mean, variance, dps: int) -> list:
    """``E f(G)`` for each ``f(x, eˣ)`` of ``integrands`` by ``mpmath.quad`` over
    ``t = (x − m)/√v`` on ``(−∞, 0, ∞)``.  The integrals visit the same nodes, so ``x``,
    ``eˣ`` and the normal density are evaluated once per node for all of them."""
    with mpmath.workdps(dps):
        m, s = mpmath.mpf(mean), mpmath.sqrt(mpmath.mpf(variance))
        norm = 1 / mpmath.sqrt(2 * mpmath.pi)
        nodes: dict = {}

        def node(t):
            if t not in nodes:
                x = m + s * t
                nodes[t] = (x, mpmath.exp(x), mpmath.exp(-t * t / 2) * norm)
            return nodes[t]

        def expectation(f):
            def integrand(t):
                x, ex, density = node(t)
                return f(x, ex) * density
            return mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf])

        return [expectation(f) for f in integrands]


def _sigmoid_power(k: int):
    """``σ(x)^k = (eˣ / (1 + eˣ))^k`` as a function of ``(x, eˣ)``."""
    return lambda x, ex: (ex / (1 + ex)) ** k


def _softplus(x, ex):
    """``log(1 + eˣ)`` as a function of ``(x, eˣ)``."""
    return mpmath.log1p(ex)


def mpmath_moment(k: int, mean, variance, dps: int = 50):
    """``S_k`` by ``mpmath.quad`` at ``dps`` digits (the reference)."""
    return _mp_expect([_sigmoid_power(k)], mean, variance, dps)[0]


def mpmath_softplus(mean, variance, dps: int = 50):
    """``L`` by ``mpmath.quad`` at ``dps`` digits (the reference)."""
    return _mp_expect([_softplus], mean, variance, dps)[0]


def mpmath_references(mean, variance, powers=(1, 2, 3, 4), dps: int = 50) -> tuple[list, object]:
    """``([S_k for k in powers], L)`` by ``mpmath.quad`` at ``dps`` digits, the integrals
    sharing their nodes (one ``eˣ`` and one density per node for all of them)."""
    *moments, softplus_mean = _mp_expect([*map(_sigmoid_power, powers), _softplus], mean, variance, dps)
    return moments, softplus_mean
