"""Exact stability regions: Schur–Cohn conditions on the characteristic polynomial.

The recursion ``X_{k+1} = A X_k + c`` converges for every start iff all roots of
``χ(λ) = det(λ I − A)`` lie in the open unit disk.  Schur–Cohn test (real
coefficients): for ``p(λ) = b_0 λ^m + … + b_m`` the roots lie inside iff
``δ = b_0² − b_m² > 0`` and the same holds for the reduced polynomial
``(b_0 p(λ) − b_m p^*(λ))/λ`` (``p^*`` the reversed polynomial), of degree ``m − 1``,
whose leading coefficient is ``δ``.  The test is run once on a generic monic
polynomial ``λ^n + χ_1 λ^{n−1} + … + χ_n`` (conditions factored, compact), then the
coefficients ``χ_j`` of the derived ``χ`` are substituted: polynomial inequalities
in the coefficients, which are explicit functions of ``(lr, beta, p, batch, d)``.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..core import symbols as S
from ..core.names import name_of
from ..core.rational_field import in_field, solve
from ..engine.definition_cache import cached_by_definition
from ..engine.recursion import recursion_for
from ..engine.store import stored
from .closed_forms import characteristic_coefficients_of, lam


def schur_cohn_conditions(poly: sp.Poly) -> list[sp.Expr]:
    """Expressions ``δ_m, …, δ_1`` that are all ``> 0`` iff the roots of ``poly``
    (real coefficients) lie in the open unit disk."""
    b = list(poly.all_coeffs())
    conditions = []
    while len(b) > 1:
        lead, last = b[0], b[-1]
        conditions.append(sp.expand(lead**2 - last**2))
        m = len(b) - 1
        b = [sp.expand(lead * b[i] - last * b[m - i]) for i in range(m)]
    return conditions


def characteristic_coefficients(model: str, optimizer: str, time_rule: str = "steps"):
    """``{χ_j: coefficient}`` of the monic ``χ(λ) = λ^n + χ_1 λ^{n−1} + … + χ_n``."""
    coefficients = characteristic_coefficients_of(recursion_for(model, optimizer, time_rule))
    return {S.CHI(j): c for j, c in enumerate(coefficients, 1)}


@lru_cache(maxsize=None)
def generic_conditions(n: int) -> tuple[sp.Expr, ...]:
    """Schur–Cohn conditions of the generic monic polynomial of degree ``n``."""
    chi = [S.CHI(j + 1) for j in range(n)]
    poly = sp.Poly([1, *chi], lam)
    return tuple(sp.factor(c) for c in schur_cohn_conditions(poly))


#: Degree up to which the generic Schur–Cohn conditions are derived (degree 4 takes about
#: a second, 5 minutes, 6 is out of reach).
SCHUR_COHN_MAX_DEGREE = 4


def conditions_of(coefficients: dict[sp.Symbol, sp.Expr]) -> tuple[sp.Expr, ...]:
    """The generic Schur–Cohn conditions with ``{χ_j: value}`` substituted: the
    left-hand sides of :func:`stability_conditions` from the characteristic coefficients
    (or from another form of the same coefficients, e.g. one written for numerics)."""
    return tuple(c.xreplace(coefficients) for c in generic_conditions(len(coefficients)))


@cached_by_definition
@stored
def _conditions(model: str, optimizer: str, time_rule: str) -> tuple[sp.Expr, ...]:
    coefficients = characteristic_coefficients(model, optimizer, time_rule)
    if len(coefficients) > SCHUR_COHN_MAX_DEGREE:
        raise ValueError(
            f"symbolic stability conditions are derived up to degree {SCHUR_COHN_MAX_DEGREE}; "
            f"the recursion of {optimizer!r} on {model!r} has degree {len(coefficients)}. Use "
            "sparsemom.numerics.is_stable or spectral_radius (eigenvalues, any size)")
    return conditions_of(coefficients)


def stability_conditions(model, optimizer, time_rule: str = "steps") -> list[sp.StrictGreaterThan]:
    r"""Polynomial inequalities, all true exactly on the stability region: the Schur–Cohn
    conditions that every root of $\chi(\lambda) = \det(\lambda I - A)$ lies in $|\lambda| < 1$,
    as polynomials in the coefficients of $\chi$ (generic up to degree 4).

    Parameters
    ----------
    model : str or Model
        The data law (a name or a model instance).
    optimizer : str or Optimizer
        The update rule (a name or an optimizer instance).
    time_rule : str
        ``"steps"`` (the step map) or ``"active"`` (the active-iterate map).

    Returns
    -------
    list of sympy.StrictGreaterThan
        Inequalities $f_i > 0$ in the parameters.
    """
    model = name_of(model)
    optimizer = name_of(optimizer)
    return [sp.StrictGreaterThan(c, 0) for c in _conditions(model, optimizer, time_rule)]


@cached_by_definition
@stored
def mode_resolvent(model: str, optimizer: str) -> sp.ImmutableMatrix | None:
    """``(I − A)^{−1} [u, x_I, c]`` (n × 3, entries factored) of one mode of a coupled law:
    summed over every step, the moments its block accumulates from a unit of coupled
    variance (``u``), from the state ``x_I`` whose Gram matrix is the identity (``1`` on
    each ``E‖w‖²``, ``0`` on each cross moment) and from its forcing ``c``; ``None`` when
    ``1`` is an eigenvalue of the block for every parameter value.  Rational functions of the parameters, so a block
    within rounding of the identity in float64 (``η λ = 10^{−20}``) still gives them to
    rounding (:mod:`sparsemom.numerics.analysis.coupled_stability`)."""
    rec = recursion_for(model, optimizer, "steps")
    if not rec.coupled:
        raise ValueError(f"the kernel mass belongs to laws whose modes couple; {model!r} has "
                         "independent rows (use stability_conditions)")
    n = rec.transition.shape[0]
    identity_gram = sp.Matrix([int(dot.args[0] == dot.args[1]) for dot in rec.meaning])
    M, rhs = in_field(sp.eye(n) - rec.transition,
                      rec.coupling.row_join(identity_gram).row_join(rec.forcing))
    try:
        sums = solve(M, rhs).to_Matrix()
    except ZeroDivisionError:
        return None
    return sp.ImmutableMatrix(sums.applyfunc(sp.factor))


def kernel_mass_term(model: str, optimizer: str) -> sp.Expr:
    """The mode's share ``q (I − A)^{−1} u`` of the kernel mass of a coupled law (one
    rational function of the mode's and the rule's parameters).

    The modes' coupled sum obeys the renewal equation ``S_k = F_k + Σ_s K_{k−1−s} S_s``
    with ``K_m = Σ_j q_j A_j^m u_j``; for Gaussian data ``K_m ≥ 0`` (each block is the
    second-moment map of its mode), so the row's second moments converge iff every mode's
    block does and ``Σ_j q_j (I − A_j)^{−1} u_j < 1``
    (:mod:`sparsemom.numerics.analysis.coupled_stability`).  SGD on Gaussian data:
    ``η λ / (2B − (B + 1) η λ)`` per mode of multiplicity 1."""
    sums = mode_resolvent(model, optimizer)
    if sums is None:
        raise ValueError(f"1 is an eigenvalue of every block of {optimizer!r} on {model!r}: "
                         "the modes do not converge and there is no kernel mass")
    rec = recursion_for(model, optimizer, "steps")
    return sp.factor((rec.coupling_weights * sums[:, 0])[0, 0])
