"""Leading-order asymptotics of derived expressions under the power-law ansatz.

With ``p = p*·d^(−κ)``, ``B = B*·d^σ``, ``ε = 1 − β = ε*·d^(−γ)`` and
``η = η*·d^θ``, a derived expression becomes a rational function of the *atoms*
``η, ε, p, B, d, s²`` and ``P = p_B = 1 − (1 − p)^B``, each of them
``prefactor · d^(linear form in κ, σ, γ, θ)``:

* ``β`` is rewritten as ``1 − ε`` and ``(1 − p)^{jB}`` as ``(1 − P)^j``, so the
  cancellations near ``β = 1`` and ``p_B = 0`` happen exactly in the algebra;
* the batch regime fixes ``P``: **dense** batches (``σ > κ``) have ``1 − P =
  e^{−p*B* d^(σ−κ)}``, smaller than every power of ``d``, so ``P = 1`` to all
  orders; **sparse** batches (``σ < κ``) have ``P = p*B*·d^(σ−κ)(1 + o(1))``;
  **critical** batches (``σ = κ``) have ``P → 1 − e^{−p*B*}`` for ``κ > 0`` and
  ``P = 1 − (1 − p*)^{B*}`` exactly at ``κ = σ = 0``.

A polynomial in the atoms is a sum of monomials ``c·d^{L(κ,σ,γ,θ)}``; monomials
with the same linear form ``L`` are collected into a *group*.  At an exponent
point the group with the largest ``L`` leads (a tropical polynomial), and the
point's cell — the set of exponents where the same group leads — is the set of
linear inequalities ``L_lead > L_other``.  A leading coefficient that cancels
exactly is skipped in favour of the next group, except where ``P`` enters (its
expansion is only asymptotic): then :class:`ArithmeticError` is raised rather
than a wrong limit returned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy as sp

from ..core import symbols as S
from ..core.rational_field import idle_q, in_idle_symbol

#: Exponents of the ansatz (sparsity, batch, momentum decay, learning rate).
kappa, sigma, gamma, theta = sp.symbols("kappa sigma gamma theta", real=True)

#: Atoms: 1 − β and the active-batch probability p_B.
eps = sp.Symbol("epsilon", positive=True)
P = sp.Symbol("P", positive=True)


#: Digits of the numerator and denominator of the exact ``(1 − p*)^{B*}`` at fixed batches
#: (``κ = σ = 0``): SymPy converts them through strings, which Python refuses over 4 300
#: digits (and at ``B* = 10¹²`` the power alone would take hours).
EXACT_POWER_DIGITS = 4000


def _log10(n: int) -> float:
    """``log10 n`` of an integer ``n ≥ 1`` (also beyond floats), without printing it: the
    digits its powers grow by (``n^B`` has about ``B · log10 n`` of them)."""
    shift = max(0, n.bit_length() - 53)
    return math.log10(n >> shift) + shift * math.log10(2)


def batch_regime(kappa_value, sigma_value) -> str:
    """``sparse`` (``σ < κ``: most batches miss the token), ``critical``
    (``σ = κ``) or ``dense`` (``σ > κ``: almost every batch holds it)."""
    return "sparse" if sigma_value < kappa_value else "critical" if sigma_value == kappa_value else "dense"


@dataclass(frozen=True)
class ExponentPoint:
    """A point of exponent space with the prefactors of the ansatz.

    Exponents are exact rationals; prefactors positive rationals (``batch_star``
    a positive integer when ``σ = 0``)."""

    kappa: Fraction
    sigma: Fraction
    gamma: Fraction
    theta: Fraction
    p_star: Fraction = Fraction(1)
    batch_star: Fraction = Fraction(1)
    eps_star: Fraction = Fraction(1)
    lr_star: Fraction = Fraction(1)
    sigma2_star: Fraction = Fraction(0)
    rho: Fraction = Fraction(1)

    def __post_init__(self):
        for name in ("kappa", "sigma", "gamma", "theta", "p_star", "batch_star", "eps_star", "lr_star",
                     "sigma2_star", "rho"):
            value = getattr(self, name)
            # floats are read as the nearest simple fraction (0.1 → 1/10); exact input stays exact
            value = Fraction(value).limit_denominator(10**9) if isinstance(value, float) else Fraction(value)
            object.__setattr__(self, name, value)
        if self.kappa < 0:
            raise ValueError(f"kappa must be >= 0 (p = p*·d^-kappa ≤ 1); got {self.kappa}")
        if self.sigma < 0:
            raise ValueError(f"sigma must be >= 0 (B = B*·d^sigma ≥ 1); got {self.sigma}")
        if self.gamma < 0:
            raise ValueError(f"gamma must be >= 0 (1 - beta = eps*·d^-gamma ≤ 1); got {self.gamma}")
        for name in ("p_star", "batch_star", "eps_star", "lr_star"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0; got {getattr(self, name)}")
        if self.sigma2_star < 0:
            raise ValueError(f"sigma2_star must be >= 0; got {self.sigma2_star}")
        if self.rho <= 0:
            raise ValueError(f"rho must be > 0; got {self.rho}")
        if self.kappa == 0 and self.p_star > 1:
            raise ValueError(f"p_star must be <= 1 when kappa = 0; got {self.p_star}")
        if self.gamma == 0 and self.eps_star > 1:
            raise ValueError(f"eps_star must be <= 1 when gamma = 0 (beta = 1 - eps_star >= 0); "
                             f"got {self.eps_star}")
        if self.sigma == 0 and self.batch_star.denominator != 1:
            raise ValueError(f"batch_star must be an integer when sigma = 0; got {self.batch_star}")
        if self.fixed_batches and 0 < self.p_star < 1:   # (1 − p*)^B* is 0 or 1 otherwise
            q = 1 - self.p_star
            digits = self.batch_star * max(_log10(q.numerator), _log10(q.denominator))
            if digits > EXACT_POWER_DIGITS:
                largest = int(EXACT_POWER_DIGITS / (digits / self.batch_star))
                raise ValueError(f"batch_star must keep (1 - p_star)^batch_star, exact at fixed "
                                 f"batches (kappa = sigma = 0), within {EXACT_POWER_DIGITS} "
                                 f"digits: batch_star ≤ {largest} for p_star = {self.p_star}; "
                                 f"got {self.batch_star}")

    @property
    def regime(self) -> str:
        return batch_regime(self.kappa, self.sigma)

    @property
    def fixed_batches(self) -> bool:
        """``κ = σ = 0``: ``p`` and ``B`` do not scale, so ``p_B`` is exact, not asymptotic."""
        return self.kappa == 0 and self.sigma == 0

    @property
    def values(self) -> dict[sp.Symbol, sp.Rational]:
        return {kappa: _rat(self.kappa), sigma: _rat(self.sigma), gamma: _rat(self.gamma),
                theta: _rat(self.theta)}

    def value_of(self, form: sp.Expr) -> Fraction:
        """A linear form in ``κ, σ, γ, θ`` (rational coefficients) at this point."""
        c0, ck, cs, cg, ct = linear_coefficients(form)
        return c0 + ck * self.kappa + cs * self.sigma + cg * self.gamma + ct * self.theta

    def with_theta(self, value, lr_star=None) -> "ExponentPoint":
        return ExponentPoint(self.kappa, self.sigma, self.gamma, value, self.p_star,
                             self.batch_star, self.eps_star,
                             self.lr_star if lr_star is None else lr_star, self.sigma2_star,
                             self.rho)

    def at_dimension(self, d: int) -> dict[sp.Symbol, sp.Expr]:
        """The ansatz evaluated at ``d``: ``{lr, ε, p, B, s²: prefactor · d^exponent}``
        (exact SymPy numbers; ``B`` not yet rounded to an integer)."""
        at = self.values
        table = self.atoms()
        return {atom: pref * sp.Integer(d) ** lin.xreplace(at)
                for atom, (pref, lin) in table.items() if atom in (S.lr, eps, S.p, S.batch, S.sigma2)}

    def atoms(self, lr_star=None) -> dict[sp.Symbol, tuple[sp.Expr, sp.Expr]]:
        """``{atom: (prefactor, exponent as a linear form)}`` (``lr_star`` may be
        given as a symbol to keep the learning-rate prefactor free)."""
        lr_star = _rat(self.lr_star) if lr_star is None else lr_star
        table = {S.lr: (lr_star, theta), eps: (_rat(self.eps_star), -gamma),
                 S.p: (_rat(self.p_star), -kappa), S.batch: (_rat(self.batch_star), sigma),
                 S.d: (sp.Integer(1), sp.Integer(1)), S.sigma2: (_rat(self.sigma2_star), sp.Integer(0)),
                 S.fisher_w: (sp.exp(_rat(self.rho) ** 2), sp.Integer(0))}
        if self.regime == "sparse":
            table[P] = (_rat(self.p_star * self.batch_star), sigma - kappa)
        elif self.fixed_batches:
            # p = p*, B = B* fixed (σ = κ = 0): p_B is exactly 1 − (1 − p*)^{B*} at every d
            table[P] = (1 - (1 - _rat(self.p_star)) ** _rat(self.batch_star), sp.Integer(0))
        elif self.regime == "critical":
            # (1 − p*·d^-κ)^{B*·d^κ} → e^{−p*B*} only as p → 0, i.e. κ > 0
            table[P] = (1 - sp.exp(-_rat(self.p_star * self.batch_star)), sp.Integer(0))
        return table


def _rat(x) -> sp.Rational:
    x = Fraction(x)
    return sp.Rational(x.numerator, x.denominator)


@lru_cache(maxsize=65536)
def linear_coefficients(form: sp.Expr) -> tuple[Fraction, ...]:
    """``(c₀, c_κ, c_σ, c_γ, c_θ)`` of ``form = c₀ + c_κ κ + c_σ σ + c_γ γ + c_θ θ``
    (exact; :class:`ValueError` unless ``form`` is such a linear form)."""
    poly = sp.Poly(form, kappa, sigma, gamma, theta)
    if poly.total_degree() > 1 or not (poly.domain.is_ZZ or poly.domain.is_QQ):
        raise ValueError(f"form must be linear in kappa, sigma, gamma, theta with rational "
                         f"coefficients; got {form}")
    monomials = [(0, 0, 0, 0), (1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)]
    return tuple(Fraction(int(c.p), int(c.q)) for c in map(sp.Rational, map(poly.coeff_monomial, monomials)))


@lru_cache(maxsize=65536)
def gap(lead: sp.Expr, other: sp.Expr) -> sp.Expr:
    """``lead − other``, expanded: the linear form that is ``> 0`` while ``lead`` leads."""
    return sp.expand(lead - other)


def to_atoms(expr: sp.Expr, regime: str) -> sp.Expr:
    """``expr`` as a cancelled rational function of the atoms:
    ``β → 1 − ε``, ``(1 − p)^{jB} → (1 − P)^j``; dense batches set ``P = 1``."""
    x = in_idle_symbol(sp.sympify(expr)).xreplace({S.beta: 1 - eps, idle_q: 1 - P})
    if regime == "dense":
        x = x.xreplace({P: 1})
    return sp.cancel(sp.together(x))


@lru_cache(maxsize=4096)
def in_atoms(expr: sp.Expr, regime: str) -> tuple[sp.Poly, sp.Poly]:
    """``expr`` as ``numerator / denominator``, polynomials in the atoms (:func:`to_atoms`)."""
    num, den = sp.fraction(to_atoms(expr, regime))
    gens = (S.lr, eps, S.p, S.batch, S.d, S.sigma2, P, S.fisher_w)
    return sp.Poly(num, *gens), sp.Poly(den, *gens)


class AsymptoticCancellation(ArithmeticError):
    """Leading terms cancel where ``p_B`` entered through its leading order only."""


class VanishingExpression(ArithmeticError):
    """Every monomial cancels at the point (the expression is 0 to all orders there)."""


@dataclass(frozen=True)
class Group:
    """Monomials sharing one exponent ``L``: their sum is ``coefficient · d^L``
    (``coefficient`` exact; ``uses_P`` when ``P``'s asymptotic form entered)."""

    exponent: sp.Expr
    coefficient: sp.Expr
    uses_P: bool
    atoms: frozenset = frozenset()


def groups(poly: sp.Poly, point: ExponentPoint, lr_star=None) -> list[Group]:
    """The monomials of ``poly`` collected by their exponent's linear form."""
    return list(_groups(poly, tuple(point.atoms(lr_star).items())))


@lru_cache(maxsize=4096)
def _groups(poly: sp.Poly, table: tuple) -> tuple[Group, ...]:
    """:func:`groups` for the atoms' ``(prefactor, linear form)`` table: the same for
    every point of one regime with the same prefactors, so an atlas collects once."""
    table = dict(table)
    gens = poly.gens
    collected: dict[sp.Expr, list] = {}
    for monom, coeff in poly.terms():
        exponent, value = sp.Integer(0), sp.sympify(coeff)
        present = frozenset(g for g, power in zip(gens, monom) if power)
        for g, power in zip(gens, monom):
            if power:
                pref, lin = table[g]
                exponent += power * lin
                value *= pref**power
        exponent = sp.expand(exponent)
        entry = collected.setdefault(exponent, [0, frozenset()])
        entry[0] += value
        entry[1] |= present
    return tuple(Group(L, c, P in a, a) for L, (c, a) in collected.items())


@dataclass(frozen=True)
class LeadingTerm:
    """``expr ~ coefficient · d^exponent`` at a point, with the inequalities
    (linear in ``κ, σ, γ, θ``) under which the same groups keep leading."""

    coefficient: sp.Expr
    exponent: sp.Expr            # the linear form L_num − L_den
    value: Fraction              # the exponent at the point
    atoms: frozenset             # atoms of the leading numerator groups
    conditions: tuple[sp.Expr, ...]  # each ``c > 0`` (strict) ...
    ties: tuple[sp.Expr, ...]        # ... and each ``t = 0``

    @property
    def sign(self) -> int:
        c = sp.sympify(self.coefficient)
        return int(sp.sign(c.evalf(30)))


def _lead(poly: sp.Poly, point: ExponentPoint, lr_star=None):
    ranked = sorted(((point.value_of(g.exponent), g) for g in groups(poly, point, lr_star)),
                    key=lambda pair: -pair[0])
    if not ranked:
        raise ArithmeticError("leading term of zero")
    values = [value for value, _ in ranked]
    gs = [g for _, g in ranked]
    i = 0
    while i < len(gs):
        tied = [j for j in range(i, len(gs)) if values[j] == values[i]]
        coefficient = sp.expand(sum(gs[j].coefficient for j in tied))
        if coefficient != 0:
            lead = gs[i].exponent
            conditions = tuple(gap(lead, gs[j].exponent) for j in range(len(gs)) if values[j] < values[i])
            ties = tuple(gap(lead, gs[j].exponent) for j in tied if gs[j].exponent != lead)
            atoms = frozenset().union(*(gs[j].atoms for j in tied))
            return coefficient, lead, values[i], conditions, ties, atoms
        if any(gs[j].uses_P for j in tied) and point.regime != "dense" and not point.fixed_batches:
            raise AsymptoticCancellation("leading terms cancel where p_B = 1 - (1 - p)^B enters "
                                         "only asymptotically; a higher-order expansion is needed")
        i = tied[-1] + 1
    raise VanishingExpression("expression vanishes identically at this point")


def leading_term(expr: sp.Expr, point: ExponentPoint, lr_star=None) -> LeadingTerm:
    """The leading behaviour ``c · d^L`` of ``expr`` as ``d → ∞`` at ``point``
    (``lr_star``: a symbol to keep the learning-rate prefactor free)."""
    num, den = in_atoms(expr, point.regime)
    try:
        cn, ln, vn, condn, tien, atoms = _lead(num, point, lr_star)
        cd, ld, vd, condd, tied, _ = _lead(den, point, lr_star)
    except AsymptoticCancellation:
        if point.regime != "sparse":
            raise
        return _series_leading_term(expr, point, lr_star)
    return LeadingTerm(sp.cancel(cn / cd), sp.expand(ln - ld), vn - vd, atoms, condn + condd,
                       tien + tied)


def _binomial_series(order: int) -> sp.Expr:
    """``p_B = 1 − (1 − p)^B = Σ_{j=1}^{order} (−1)^{j+1} C(B, j) p^j + O((pB)^{order+1})``."""
    return sp.Add(*((-1) ** (j + 1) * sp.Mul(*(S.batch - i for i in range(j))) / sp.factorial(j)
                    * S.p**j for j in range(1, order + 1)))


def _top_P_value(poly: sp.Poly, point: ExponentPoint, lr_star) -> Fraction | None:
    """The largest exponent (at the point) of a group in which ``P`` enters."""
    values = [point.value_of(g.exponent) for g in groups(poly, point, lr_star) if g.uses_P]
    return max(values) if values else None


def _series_leading_term(expr: sp.Expr, point: ExponentPoint, lr_star=None) -> LeadingTerm:
    """Sparse batches (``σ < κ``), when the leading order of ``p_B`` cancels: ``p_B`` as
    its binomial series in ``p`` and ``B`` to ``order`` terms.  The dropped terms are
    ``d^{order·(σ−κ)}`` below the largest ``p_B`` term, so the leading term found is
    kept only when it lies above that bound (else a higher order is tried)."""
    num0, den0 = in_atoms(expr, point.regime)
    gap = point.sigma - point.kappa
    for order in (2, 3, 4, 6, 8):
        x = to_atoms(expr, "sparse").xreplace({P: _binomial_series(order)})
        num, den = (sp.Poly(part, *num0.gens) for part in sp.fraction(sp.cancel(sp.together(x))))
        cn, ln, vn, condn, tien, atoms = _lead(num, point, lr_star)
        cd, ld, vd, condd, tied, _ = _lead(den, point, lr_star)
        bounds = [(_top_P_value(p0, point, lr_star), v) for p0, v in ((num0, vn), (den0, vd))]
        if all(top is None or v > top + order * gap for top, v in bounds):
            return LeadingTerm(sp.cancel(cn / cd), sp.expand(ln - ld), vn - vd, atoms,
                               condn + condd, tien + tied)
    raise AsymptoticCancellation("leading terms cancel to beyond the 8th order of p_B's series "
                                 "in p·B at this point")


def regime_conditions(regime: str) -> tuple[tuple[sp.Expr, ...], tuple[sp.Expr, ...]]:
    """(strict inequalities ``> 0``, equalities ``= 0``) defining a batch regime."""
    if regime == "sparse":
        return (kappa - sigma,), ()
    if regime == "dense":
        return (sigma - kappa,), ()
    return (), (kappa - sigma,)
