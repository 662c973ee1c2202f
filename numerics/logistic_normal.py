"""Numeric values of the Gaussian–sigmoid integrals of :mod:`derivations.logistic_normal`.

``S_k(m, v) = E[σ(G)^k]`` and ``L(m, v) = E[log(1 + e^G)]``, ``G ~ N(m, v)``, by
Gauss–Hermite quadrature ``E f(G) ≈ Σ_i w_i f(m + √v x_i) / √(2π)`` (probabilists'
nodes).  The integrands are analytic in a strip (poles of ``σ`` at ``iπ(2j+1)``),
so the error falls geometrically with the order ``n``; the order is chosen by an
error estimate: ``n`` is doubled from 16 until ``|Q_n − Q_{2n}| ≤ rtol·|Q_{2n}| +
atol`` over every point evaluated, and ``Q_{2n}`` is returned.  The reference is
``mpmath.quad`` at 50 digits (:func:`mpmath_moment`, :func:`mpmath_softplus`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mpmath
import numpy as np
from scipy.special import expit, roots_hermitenorm

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
    order: int
    error: float


def _integrate(f, mean, variance, order: int) -> np.ndarray:
    x, w = _rule(order)
    mean = np.asarray(mean, dtype=float)[..., None]
    scale = np.sqrt(np.asarray(variance, dtype=float))[..., None]
    return f(mean + scale * x) @ w


def gauss_hermite(f, mean, variance, rtol: float = RTOL, atol: float = ATOL) -> Quadrature:
    """``E f(G)`` for ``G ~ N(mean, variance)`` (arrays broadcast), order by doubling."""
    mean, variance = np.broadcast_arrays(np.asarray(mean, float), np.asarray(variance, float))
    if np.any(variance < 0) or not np.all(np.isfinite(variance)):
        raise ValueError("variance must be finite and >= 0")
    previous = _integrate(f, mean, variance, ORDERS[0])
    for order in ORDERS[1:]:
        current = _integrate(f, mean, variance, order)
        error = np.abs(current - previous)
        if np.all(error <= rtol * np.abs(current) + atol):
            return Quadrature(current, order, float(np.max(error, initial=0.0)))
        previous = current
    raise ArithmeticError(f"Gauss–Hermite did not converge by order {ORDERS[-1]} "
                          f"(max error estimate {np.max(error):.3g})")


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


def _mp_expect(f, mean, variance, dps: int):
    with mpmath.workdps(dps):
        m, s = mpmath.mpf(mean), mpmath.sqrt(mpmath.mpf(variance))
        density = lambda t: mpmath.exp(-t * t / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731
        return mpmath.quad(lambda t: f(m + s * t) * density(t), [-mpmath.inf, 0, mpmath.inf])


def mpmath_moment(k: int, mean, variance, dps: int = 50):
    """``S_k`` by ``mpmath.quad`` at ``dps`` digits (the reference)."""
    return _mp_expect(lambda x: (1 / (1 + mpmath.exp(-x))) ** k, mean, variance, dps)


def mpmath_softplus(mean, variance, dps: int = 50):
    """``L`` by ``mpmath.quad`` at ``dps`` digits (the reference)."""
    return _mp_expect(lambda x: mpmath.log1p(mpmath.exp(x)), mean, variance, dps)
