"""The ``k``-step closed form evaluated at numbers, repeated roots included.

With exact (rational) parameters the derived generating function becomes
``F(z) = P(z)/Q(z)`` with rational coefficients.  ``Q`` is split exactly into
square-free factors ``Q = lc · Π_i f_i^{m_i}``; the roots ``ρ`` of each ``f_i`` are
simple, found by ``mpmath.polyroots`` at the working precision, and carry the
multiplicity ``m_i``.  The principal part of ``F`` at ``ρ`` is
``Σ_{s=1}^{m} g_{m−s} (z − ρ)^{−s}`` where ``g_t`` are the Taylor coefficients of
``G(u) = P(ρ + u) / (lc Π_{σ≠ρ} (ρ + u − σ)^{m_σ})``, and

    [z^k] (z − ρ)^{−s} = (−1)^s ρ^{−s−k} C(k + s − 1, s − 1),

so ``E R_k = [z^k] S(z) + Σ_ρ Σ_s g_{m−s} (−1)^s C(k+s−1, s−1) ρ^{−s−k}``, with
``S`` the polynomial part of ``F``.  Roots of ``Q`` are ``1/λ`` for the eigenvalues
``λ ≠ 0`` of ``A``, and ``ρ = 1`` carries the stationary risk.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp

from sparsemom.derivations.engine.moments import R0
from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.derivations.properties.closed_forms import z
from sparsemom.numerics.inputs.parameters import parameter_values


@dataclass(frozen=True)
class ClosedFormValues:
    """``E R_k`` as a finite sum over the poles ``ρ`` of ``F`` (see module docstring)."""

    poles: tuple          # (ρ, multiplicity, (g_0, …, g_{m−1}))
    polynomial: tuple     # coefficients of S(z), lowest first
    dps: int

    def risk(self, k: int) -> mpmath.mpf:
        with mpmath.workdps(self.dps):
            total = mpmath.mpf(self.polynomial[k]) if k < len(self.polynomial) else mpmath.mpf(0)
            for rho, m, g in self.poles:
                for s in range(1, m + 1):
                    total += (g[m - s] * (-1) ** s * mpmath.binomial(k + s - 1, s - 1)
                              * rho ** (-s - k))
            if abs(mpmath.im(total)) > mpmath.mpf(10) ** (-self.dps // 2) * (1 + abs(total)):
                raise ArithmeticError(f"closed form has an imaginary part {mpmath.im(total)}")
            return mpmath.re(total)

    @property
    def eigenvalues(self) -> list:
        """``λ = 1/ρ`` with multiplicities, excluding the pole ``ρ = 1`` of the forcing."""
        return [(1 / rho, m) for rho, m, _ in self.poles]


def _rational(x) -> sp.Rational:
    x = Fraction(x)
    return sp.Rational(x.numerator, x.denominator)


def _mp(q: sp.Rational):
    return mpmath.mpf(int(q.p)) / int(q.q)


def _taylor_shift(coeffs_high_first, rho, order: int):
    """Taylor coefficients (lowest first, ``order`` of them) of ``P(ρ + u)``."""
    c = list(coeffs_high_first)
    out = []
    for _ in range(order):
        # synthetic division by (x − ρ): remainder is P(ρ), quotient is (P − P(ρ))/(x − ρ)
        acc, quotient = mpmath.mpf(0), []
        for a in c:
            acc = acc * rho + a
            quotient.append(acc)
        out.append(quotient.pop())
        c = quotient
        if not c:
            break
    return out + [mpmath.mpf(0)] * (order - len(out))


def closed_form_values(rec, row_values: dict, dps: int = 50) -> ClosedFormValues:
    """The closed form of one row with exact parameter values ``{symbol: number}``."""
    sub = {s: _rational(v) for s, v in row_values.items()}
    n = rec.transition.shape[0]
    A = rec.transition.xreplace(sub)
    c = sp.Matrix(rec.forcing).xreplace(sub)
    w = rec.risk_weights.xreplace(sub)
    x0 = sp.Matrix(rec.initial).xreplace(sub)
    M = sp.eye(n) - z * A
    P = sp.Poly((w * M.adjugate(method="berkowitz") * ((1 - z) * x0 + z * c))[0], z, domain="QQ")
    Q = sp.Poly((1 - z) * M.det(method="berkowitz"), z, domain="QQ")
    common = sp.gcd(P, Q)
    P, Q = P.quo(common), Q.quo(common)
    S, P = P.div(Q)
    with mpmath.workdps(dps + 30):
        roots = []
        for f, m in sp.sqf_list(Q)[1]:
            coeffs = [_mp(a) for a in f.all_coeffs()]
            found = mpmath.polyroots(coeffs, maxsteps=500, extraprec=4 * dps) if f.degree() > 1 \
                else [-coeffs[1] / coeffs[0]]
            roots += [(r, m) for r in found]
        lead = _mp(Q.LC())
        p_coeffs = [_mp(a) for a in P.all_coeffs()]
        poles = []
        for i, (rho, m) in enumerate(roots):
            # denominator G: lc Π_{σ≠ρ} (ρ + u − σ)^{m_σ}, as a series in u to order m
            den = [lead] + [mpmath.mpf(0)] * (m - 1)
            for j, (sigma, ms) in enumerate(roots):
                if j == i:
                    continue
                for _ in range(ms):
                    den = [den[t] * (rho - sigma) + (den[t - 1] if t else 0) for t in range(m)]
            num = _taylor_shift(p_coeffs, rho, m)
            g = []
            for t in range(m):  # series division num / den
                g.append((num[t] - sum(g[s] * den[t - s] for s in range(t))) / den[0])
            poles.append((rho, m, tuple(g)))
    polynomial = tuple(_mp(a) for a in reversed(S.all_coeffs())) if not S.is_zero else ()
    return ClosedFormValues(tuple(poles), polynomial, dps)


def closed_form_risk(model, optimizer, ks, time: str = "steps", dps: int = 50) -> list:
    r"""$E R_k = R_\infty + \sum_i P_i(k) \lambda_i^k$ for each $k$ in ``ks``, from the
    partial fractions of the generating function over the roots $\lambda_i$ of $\chi$
    ($P_i$ a polynomial of degree below the root's multiplicity: repeated roots handled by
    confluent partial fractions), summed over rows, the parameters taken at their exact
    values, at ``dps`` digits.

    Parameters
    ----------
    model : Model
        The model (uncoupled rows).
    optimizer : Optimizer
        The optimizer, with constant hyper-parameters.
    ks : sequence of int
        The steps.
    time : str
        ``"steps"`` or ``"active"``.
    dps : int
        Digits of the evaluation.

    Returns
    -------
    list of mpmath.mpf
        $E R_k$ for each $k$ of ``ks``.
    """
    optimizer.require_constant("the closed form")
    rows, values = parameter_values(model, optimizer)
    rec = recursion_for(model, optimizer, time)
    symbols = (*rec.parameters, R0)
    columns = {s: np.broadcast_to(np.asarray(values[s], dtype=object), (rows,)) for s in symbols}
    totals = [mpmath.mpf(0)] * len(ks)
    with mpmath.workdps(dps):
        for r in range(rows):
            form = closed_form_values(rec, {s: columns[s][r] for s in symbols}, dps)
            totals = [t + form.risk(k) for t, k in zip(totals, ks)]
    return totals
