"""Closed forms of a derived recursion ``X_{k+1} = A X_k + c``, ``E R_k = w · X_k``.

* characteristic polynomial ``χ(λ) = det(λ I − A)``;
* generating function ``F(z) = Σ_k z^k E R_k = w · (I − zA)^{-1} (X_0 + z c / (1 − z))``,
  a rational function of ``z``;
* stationary state ``X_∞ = (I − A)^{-1} c`` and stationary risk ``R_∞ = w · X_∞``
  (``= lim_{z→1} (1 − z) F(z)`` when ``A`` is stable);
* the ``k``-step closed form as a sum over the roots ``λ_i`` of ``χ`` (Sylvester's
  formula, distinct roots):
  ``E R_k = R_∞ + Σ_i λ_i^k γ_i``,
  ``γ_i = w · Π_{j≠i} (A − λ_j I) (X_0 − X_∞) / Π_{j≠i} (λ_i − λ_j)``.
  Repeated roots are handled when evaluating at numbers
  (:mod:`sparsemom.numerics.analysis.closed_form`: confluent partial fractions of ``F``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from ..core import symbols as S
from ..core.rational_field import (
    from_idle_symbol,
    in_field,
    in_field_element,
    in_idle_symbol,
    solve,
)
from ..engine.moments import MomentRecursion, require_symbolic_size, require_uncoupled
from ..engine.store import stored

z = sp.Symbol("z")
#: The symbols of Sylvester's formula: entries ``a_ij`` of ``A``, risk weights ``w_i``, the
#: start ``u_i`` of ``X_0 − X_∞``, and the roots ``lambda_i``.
ENTRY, WEIGHT, START, ROOT = (S.IndexedSymbols(x) for x in ("a", "w", "u", "lambda"))
lam = sp.Symbol("lambda")
k = sp.Symbol("k", integer=True, nonnegative=True)


def tidy(x: sp.Expr) -> sp.Expr:
    """A readable form that stays cheap: factor small expressions, combine large ones."""
    x = sp.together(x)
    return sp.factor(x) if sp.count_ops(x) < 400 else x


@lru_cache(maxsize=None)
@stored
def characteristic_coefficients_of(rec: MomentRecursion) -> tuple[sp.Expr, ...]:
    """``(χ_1, …, χ_n)`` of ``χ(λ) = det(λ I − A) = λ^n + χ_1 λ^{n−1} + … + χ_n``, each
    in :func:`tidy` form (the determinant taken in the field of rational functions)."""
    require_uncoupled(rec, "the characteristic polynomial")
    (A,) = in_field(rec.transition)
    return tuple(from_idle_symbol(tidy(A.domain.to_sympy(c))) for c in A.charpoly()[1:])


def characteristic_polynomial(rec: MomentRecursion) -> sp.Expr:
    r"""$\chi(\lambda) = \det(\lambda I - A)$, a monic polynomial in $\lambda$ (collected in powers).

    Parameters
    ----------
    rec : MomentRecursion
        The recursion $X_{k+1} = A X_k + c$ (uncoupled rows).

    Returns
    -------
    sympy.Expr
        $\chi(\lambda)$ in the symbol ``lambda``.
    """
    n = rec.transition.shape[0]
    return sp.Add(lam**n, *(c * lam**(n - j) for j, c in enumerate(characteristic_coefficients_of(rec), 1)))


@lru_cache(maxsize=None)
@stored
def generating_function(rec: MomentRecursion) -> sp.Expr:
    r"""$F(z) = \sum_k E R_k z^k = w^\top (I - zA)^{-1} \left(X_0 + \frac{z c}{1 - z}\right)$ as one
    fraction in $z$ (recursions of up to 3 moments).

    Parameters
    ----------
    rec : MomentRecursion
        The recursion (uncoupled rows).

    Returns
    -------
    sympy.Expr
        $F(z)$, numerator and denominator polynomials in ``z``.
    """
    require_symbolic_size(rec, "the generating function")
    require_uncoupled(rec, "the generating function")
    n = rec.transition.shape[0]
    vec = (1 - z) * sp.Matrix(rec.initial) + z * sp.Matrix(rec.forcing)
    M, v, w = in_field(sp.eye(n) - z * rec.transition, vec, rec.risk_weights)
    # in the polynomial ring (M = M′/d, v = v′/e, w = w′/f): adj M = adj M′ / d^{n−1},
    # det M = det M′ / d^n, so the numerator w adj(M) v and the denominator (1 − z) det M
    # are each one cancellation of ring elements
    (d, ring_M), (e, ring_v), (f, ring_w) = (x.clear_denoms(convert=True) for x in (M, v, w))
    ring, K = ring_M.domain, M.domain
    adjugate, det = ring_M.adj_det()
    numerator = in_field_element(K, (ring_w * adjugate * ring_v).to_list()[0][0],
                                 ring.mul(ring.mul(f.element, e.element), d.element ** (n - 1)))
    denominator = in_field_element(K, ring.mul(det, ring.from_sympy(1 - z)), d.element ** n)
    return from_idle_symbol(tidy(K.to_sympy(numerator) / K.to_sympy(denominator)))


class NoStationaryState(ValueError):
    """``I − A`` is singular for generic parameters: 1 is an eigenvalue of the
    transition (e.g. a rule that never moves ``θ``), so there is no unique fixed point."""


def has_stationary_state(rec: MomentRecursion) -> bool:
    """``det(I − A) ≠ 0`` as a rational function of the parameters."""
    n = rec.transition.shape[0]
    (M,) = in_field(sp.eye(n) - rec.transition)
    return M.det() != M.domain.zero


@lru_cache(maxsize=None)
@stored
def stationary_state(rec: MomentRecursion) -> sp.ImmutableMatrix:
    r"""$X_\infty = (I - A)^{-1} c$: the fixed point of the recursion
    (:class:`NoStationaryState` when $I - A$ is singular).

    Parameters
    ----------
    rec : MomentRecursion
        The recursion (uncoupled rows, up to 3 moments).

    Returns
    -------
    sympy.ImmutableMatrix
        $X_\infty$, a column in the parameters.
    """
    require_symbolic_size(rec, "the stationary state")
    require_uncoupled(rec, "the stationary state")
    n = rec.transition.shape[0]
    M, c = in_field(sp.eye(n) - rec.transition, rec.forcing)
    try:
        x = solve(M, c)
    except ZeroDivisionError:
        raise NoStationaryState(f"1 is an eigenvalue of the transition of {rec.optimizer} "
                                f"({rec.time_rule}) for every parameter: no stationary state") from None
    return sp.ImmutableMatrix([from_idle_symbol(tidy(M.domain.to_sympy(x[i, 0].element)))
                               for i in range(n)])


def stationary_risk(rec: MomentRecursion) -> sp.Expr:
    r"""$R_\infty = w^\top X_\infty$: the risk floor set by the label noise.

    Parameters
    ----------
    rec : MomentRecursion
        The recursion (uncoupled rows, up to 3 moments).

    Returns
    -------
    sympy.Expr
        $R_\infty$ in the parameters.
    """
    x_inf = in_idle_symbol(stationary_state(rec))
    return from_idle_symbol(tidy((in_idle_symbol(rec.risk_weights) * x_inf)[0]))


@dataclass(frozen=True)
class ClosedForm:
    r"""$E R_k = R_\infty + \sum_i \gamma_i \lambda_i^k$ with $\lambda_i$ the roots of $\chi$
    (distinct): Sylvester's formula for $w^\top A^k (X_0 - X_\infty)$.

    The coefficients are written in entry symbols ($a_{ij}$ for $A$, $w_i$ for the risk weights,
    $u_i$ for $X_0 - X_\infty$) that ``definitions`` gives in terms of the parameters;
    :meth:`substituted` puts them in.

    Parameters
    ----------
    roots : tuple of sympy.Symbol
        The symbols $\lambda_i$ standing for the roots of $\chi$.
    coefficients : tuple of sympy.Expr
        $\gamma_i$, rational in the roots and the entry symbols.
    stationary : sympy.Expr
        $R_\infty$.
    definitions : dict
        Entry symbol → its expression in the parameters.
    """

    roots: tuple[sp.Symbol, ...]
    coefficients: tuple[sp.Expr, ...]
    stationary: sp.Expr
    definitions: dict

    @property
    def expression(self) -> sp.Expr:
        return self.stationary + sp.Add(*(g * r**k for g, r in zip(self.coefficients, self.roots)))

    def substituted(self) -> sp.Expr:
        """The closed form with the entry symbols replaced by their definitions."""
        return self.expression.xreplace(self.definitions)


@lru_cache(maxsize=None)
@stored
def closed_form(rec: MomentRecursion) -> ClosedForm:
    r"""Sylvester's formula for $w^\top A^k (X_0 - X_\infty)$ with symbolic distinct roots:
    $E R_k = R_\infty + \sum_i \gamma_i \lambda_i^k$,
    $\gamma_i = \frac{w^\top \prod_{j \ne i} (A - \lambda_j I)\,(X_0 - X_\infty)}
    {\prod_{j \ne i} (\lambda_i - \lambda_j)}$.

    Parameters
    ----------
    rec : MomentRecursion
        The recursion (uncoupled rows, up to 3 moments).

    Returns
    -------
    ClosedForm
        The coefficients and the floor.
    """
    require_symbolic_size(rec, "the closed form")
    require_uncoupled(rec, "the closed form")
    n = rec.transition.shape[0]
    a = sp.Matrix(n, n, lambda i, j: ENTRY(i + 1, j + 1))
    w = sp.Matrix(1, n, lambda _, i: WEIGHT(i + 1))
    u = sp.Matrix(n, 1, lambda i, _: START(i + 1))
    roots = tuple(ROOT(i + 1) for i in range(n))
    coefficients = []
    for i, li in enumerate(roots):
        P = sp.eye(n)
        den = sp.Integer(1)
        for j, lj in enumerate(roots):
            if j != i:
                P = P * (a - lj * sp.eye(n))
                den *= li - lj
        coefficients.append(sp.expand((w * P * u)[0]) / den)
    x_inf = stationary_state(rec)
    definitions = {a[i, j]: rec.transition[i, j] for i in range(n) for j in range(n)}
    definitions.update({w[i]: rec.risk_weights[i] for i in range(n)})
    definitions.update({u[i]: tidy(rec.initial[i] - x_inf[i]) for i in range(n)})
    return ClosedForm(roots, tuple(coefficients), stationary_risk(rec), definitions)
