"""High-dimensional limits of the active-iterate recursion, region by region.

Per active update the second moments obey ``X' = X + G X + c`` (``G = T − I``,
:func:`~sparsemom.derivations.engine.recursion.derive_recursion` with ``time_rule="active"``).
Under the ansatz of :mod:`sparsemom.derivations.limits.asymptotics` the dominant balance is read
off the leading terms:

* **timescales** ``τ_R ~ d^{r}``, ``τ_L ~ d^{ℓ}`` (:mod:`sparsemom.derivations.properties.timescales`);
  their ratio exponent ``r − ℓ`` sets the family: ``< 0`` SGD-like (the buffer
  follows the error adiabatically), ``= 0`` heavy-ball (both scales coincide),
  ``> 0`` learning faster than retention;
* **SGD-like limit** (1-D): eliminating the fast buffer moments exactly gives the
  Schur complement ``S = G_RR − G_Rf G_ff^{-1} G_fR`` (and forcing
  ``c_R − G_Rf G_ff^{-1} c_f``); with ``S ~ a·d^{−τ}`` and ``t = k/d^τ``:
  ``dR/dt = a R (+ f)``;
* **heavy-ball limit** (3-D): ``t = k/d^τ`` with ``τ = r``, the buffer rescaled
  by ``v ~ d^{a}`` (``a`` from the mean map: ``v̄ ≈ τ_R M_ve ē``), and
  ``dX̃/dt = L X̃ + f``, ``L = lim d^τ D^{-1} G D``;
* **learning rate**: ``free`` takes ``θ`` as given; ``largest-stable`` takes
  ``θ_max = min(θ_res, θ_noise)``: ``θ_res`` where ``τ_R`` and ``τ_L`` meet and
  ``θ_noise`` where the gradient-noise term of ``S`` overtakes its drift (the
  largest ``θ`` at which the limit stays stable for a small prefactor).  Which
  bound binds is *above resonance* (``θ_res``) or *below resonance* (``θ_noise``).

Every retained leading term contributes the inequalities under which it keeps
leading; every dropped term the inequality that keeps it below the balance.  Their
conjunction (with ``θ = θ_max`` substituted) is the region, as linear
inequalities in ``κ, σ, γ``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import mpmath
import sympy as sp

from ..core import symbols as S
from ..core.printing import display_latex, escape_text
from ..core.rational_field import in_field, solve
from ..core.vectors import Dot
from ..definitions.laws import law as law_named
from ..definitions.optimizers import e, g, update_rule
from ..engine.definition_cache import cached_by_definition
from ..engine.expectation import BatchExpectation
from ..engine.recursion import recursion_for
from ..engine.store import stored
from ..properties.timescales import timescales
from ..rare_class.linearisation import rare_class_limit
from .asymptotics import (
    ExponentPoint,
    VanishingExpression,
    gap,
    groups,
    in_atoms,
    leading_term,
    regime_conditions,
    theta,
    to_atoms,
)
from .decay import linear_dynamics_decay
from .families import Family
from .regions import reduce_region

LR_RULES = ("largest-stable", "free")

#: Rescaled time and the free learning-rate prefactor in printed limits.
t = sp.Symbol("t", nonnegative=True)
lr_star = sp.Symbol("eta_*", positive=True)


@dataclass(frozen=True)
class _Drift:
    G: sp.Matrix
    c: sp.Matrix
    reduced_rate: sp.Expr
    reduced_forcing: sp.Expr
    mean_ve: sp.Expr | None
    gradient_energy: sp.Expr
    retention: sp.Expr
    learning: sp.Expr


@cached_by_definition
@stored
def _drift(model: str, optimizer: str, regime: str) -> _Drift:
    """The active-iterate drift in atoms, its Schur complement and timescales."""
    rec = recursion_for(model, optimizer, "active")
    n = len(rec.state)
    limit = _rare_class_limit(model)
    G = (rec.transition - sp.eye(n)).applyfunc(lambda x: to_atoms(x.xreplace(limit), regime))
    c = rec.forcing.applyfunc(lambda x: to_atoms(x.xreplace(limit), regime))
    if n == 1:
        rate, forcing, mean_ve = G[0, 0], c[0], None
    else:
        rate, forcing = _eliminate_buffers(G, c)
        mean_ve = to_atoms(rec.mean_transition[1, 0].xreplace(limit), regime)
    ts = timescales(model, optimizer)
    return _Drift(G, c, rate, forcing, mean_ve,
                  to_atoms(gradient_energy(model).xreplace(limit), regime),
                  to_atoms(ts.retention.xreplace(limit), regime),
                  to_atoms(ts.learning.xreplace(limit), regime))


def _eliminate_buffers(G: sp.Matrix, c: sp.Matrix) -> tuple[sp.Expr, sp.Expr]:
    """The Schur complement onto the error moment: ``G₀₀ − G₀f G_ff⁻¹ G_f0`` and
    ``c₀ − G₀f G_ff⁻¹ c_f`` (``f`` the buffer moments), in exact arithmetic of the field
    of rational functions of the atoms (reduced fractions, as ``cancel`` gives them)."""
    A, b = in_field(G, c)
    solved = solve(A[1:, 1:], A[1:, :1].hstack(b[1:, :]))              # G_ff⁻¹ [G_f0, c_f]
    reduced = A[:1, :1].hstack(b[:1, :]) - A[:1, 1:] * solved
    rate, forcing = reduced.to_list()[0]
    return A.domain.to_sympy(rate), A.domain.to_sympy(forcing)


def _rare_class_limit(model: str) -> dict:
    """For a mean-field law (the logistic model) the linearised recursion is in the
    Fisher constants ``h, w``; under the ansatz they take their rare-class leading
    order (``h → p``, ``w → p² W``), which needs ``p → 0`` (``κ > 0``)."""
    if law_named(model).closed_moments:
        return {}
    return rare_class_limit()


def gradient_energy(model: str) -> sp.Expr:
    """``E‖g‖² / ‖e‖²`` of one step's batch gradient (noise-free), derived from
    the model's per-sample gradient: the sum of the incoherent part (``∝ d``,
    sample-to-sample fluctuation) and the coherent part (``∝ p²``, the mean)."""
    law = law_named(model)
    if not law.closed_moments:
        # sgd's bulk map is R' = (1 − 2ηh + η² E‖g‖²/R) R near the optimum
        T = recursion_for(model, "sgd", "steps").transition[0, 0]
        return sp.cancel(sp.diff(T, S.lr, 2) / 2)
    expect = BatchExpectation(law, g, e)
    R = sp.Symbol("R")
    energy = sp.Poly(expect(Dot(g, g)).xreplace({Dot(e, e): R}), R)
    return sp.cancel(energy.coeff_monomial(R))     # the noise (the constant term) dropped


@dataclass(frozen=True)
class ScalingLimit:
    """The ``d → ∞`` limit at an exponent point.

    ``time_exponent``: ``k = t·d^τ`` active updates; ``matrix``/``forcing``: the
    limit ``dX̃/dt = L X̃ + f`` (``X̃ = D^{-1} X``, ``D = diag(d^{state_exponents})``)
    or, when ``τ = 0``, the limiting map ``X̃' = (I + L) X̃ + f``; ``initial``:
    ``X̃(0)`` for ``R_0 = 1``; ``region``: strict inequalities ``> 0`` and
    equalities ``= 0`` in ``κ, σ, γ`` (and ``θ`` for a free learning rate).
    """

    model: str
    optimizer: str
    point: ExponentPoint
    lr_rule: str
    phase: str
    family: Family
    time_exponent: Fraction
    retention_exponent: Fraction
    learning_exponent: Fraction
    state: tuple[str, ...]
    state_exponents: tuple[Fraction, ...]
    matrix: sp.Matrix
    forcing: sp.Matrix
    initial: tuple[sp.Expr, ...]
    inequalities: tuple[sp.Expr, ...]
    equalities: tuple[sp.Expr, ...]
    lr_bound: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def dimension(self) -> int:
        return len(self.state)

    @property
    def discrete(self) -> bool:
        return self.time_exponent == 0

    @property
    def growth_rate(self) -> float:
        """Largest growth rate of the limit: ``max Re λ(L)`` per unit of ``t``
        (``k = t·d^τ``), or ``log max |1 + λ|`` per step of a discrete map; > 0 means
        unstable (a negative ``τ``: growth faster than one per active update)."""
        with mpmath.workdps(30):
            lam, _ = mpmath.eig(mpmath.matrix(self.matrix.evalf(30).tolist()))
            if self.discrete:
                return float(mpmath.log(max(abs(1 + r) for r in lam)))
            return float(max(mpmath.re(r) for r in lam))

    def limit_latex(self) -> str:
        """The limit dynamics in LaTeX."""
        X = sp.Matrix([sp.Symbol(r"\tilde{%s}" % s) for s in self.state])
        rhs = self.matrix * X + self.forcing
        if self.discrete:
            lhs = [sp.Symbol(r"\tilde{%s}_{k+1} - \tilde{%s}_{k}" % (s, s)) for s in self.state]
        else:
            lhs = [sp.Symbol(r"\frac{d\tilde{%s}}{dt}" % s) for s in self.state]
        scale = []
        for s, a in zip(self.state, self.state_exponents):
            scale.append(r"%s = d^{%s}\,\tilde{%s}" % (s, sp.latex(_rat(a)), s))
        eqs = [f"{sp.latex(left)} = {sp.latex(sp.expand(right))}" for left, right in zip(lhs, rhs)]
        time = r"k = t\,d^{%s}" % sp.latex(_rat(self.time_exponent))
        return r",\quad ".join(eqs + [time] + scale)

    def as_dict(self) -> dict:
        """A JSON-ready summary (exponents as floats, exact values as fractions)."""
        pt = self.point
        return {
            "model": self.model, "optimizer": self.optimizer, "phase": self.phase,
            "family": self.family, "lr_rule": self.lr_rule,
            "time_exponent": float(self.time_exponent),
            "retention_exponent": float(self.retention_exponent),
            "learning_exponent": float(self.learning_exponent),
            "lr_exponent": float(pt.theta),
            "exact": {"time_exponent": str(self.time_exponent),
                      "retention_exponent": str(self.retention_exponent),
                      "learning_exponent": str(self.learning_exponent),
                      "lr_exponent": str(pt.theta), "lr_prefactor": str(pt.lr_star)},
            "exponents": {"kappa": str(pt.kappa), "sigma": str(pt.sigma), "gamma": str(pt.gamma)},
            "batch_regime": pt.regime, "lr_bound": self.lr_bound,
            "state": list(self.state), "state_exponents": [str(a) for a in self.state_exponents],
            "limit_matrix": [[sp.sstr(x) for x in row] for row in self.matrix.tolist()],
            "limit_latex": self.limit_latex(), "discrete_time": self.discrete,
            "inequalities": self.inequality_strings(), "notes": list(self.notes),
            "growth_rate": self.growth_rate,
        }

    def _repr_latex_(self) -> str:
        """Jupyter: phase and family, the limit dynamics and the region's inequalities."""
        region = [rf"{display_latex(c)} > 0" for c in self.inequalities] + \
            [rf"{display_latex(c)} = 0" for c in self.equalities]
        title = escape_text(f"{self.phase} ({self.family}); region:")
        conditions = r",\quad ".join(region) or r"\text{everywhere}"
        return (rf"$\displaystyle \begin{{gathered}} \text{{{title}}} \\ {conditions} \\ "
                rf"{self.limit_latex()} \end{{gathered}}$")

    def inequality_strings(self) -> list[str]:
        return ([f"{sp.sstr(c)} > 0" for c in self.inequalities]
                + [f"{sp.sstr(c)} = 0" for c in self.equalities])


def _rat(x) -> sp.Rational:
    x = Fraction(x)
    return sp.Rational(x.numerator, x.denominator)


@lru_cache(maxsize=4096)
def _theta_ties(exponents: tuple[sp.Expr, ...]) -> tuple[sp.Expr, ...]:
    """For each pair of linear forms whose difference involves ``θ``, the ``θ`` at
    which they tie, as a linear form in ``κ, σ, γ``."""
    forms = []
    for i, a in enumerate(exponents):
        for b in exponents[i + 1:]:
            diff = gap(a, b)
            slope = diff.coeff(theta)
            if slope != 0:
                forms.append(sp.expand(-(diff - slope * theta) / slope))
    return tuple(forms)


def _theta_breakpoints(expr: sp.Expr, point: ExponentPoint) -> list[tuple[Fraction, sp.Expr]]:
    """``θ`` values (with their linear forms in ``κ, σ, γ``) where two monomial
    groups of ``expr`` tie at the point's ``κ, σ, γ``."""
    out = {}
    for poly in in_atoms(expr, point.regime):
        for form in _theta_ties(tuple(gr.exponent for gr in groups(poly, point))):
            out[point.value_of(form)] = form
    return sorted(out.items())


def _noise_bound(rate: sp.Expr, point: ExponentPoint):
    """The largest ``θ`` with ``S < 0`` at leading order for a small prefactor:
    the first breakpoint after which the leading coefficient turns non-negative."""
    cuts = _theta_breakpoints(rate, point)
    probes = [c for c, _ in cuts]
    if not probes:
        return None
    for i, (value, form) in enumerate(cuts):
        right = (value + probes[i + 1]) / 2 if i + 1 < len(probes) else value + 1
        lead = leading_term(rate, point.with_theta(right))
        if lead.sign >= 0:
            return value, form
    return None


def _lr_prefactor_bound(rate: sp.Expr, point: ExponentPoint):
    """The largest stable ``η*`` at the point's ``θ`` (``None``: no bound)."""
    lead = leading_term(rate, point, lr_star=lr_star)
    roots = [r for r in sp.solve(sp.numer(sp.together(lead.coefficient)), lr_star)
             if r.is_real and r > 0]
    return min(roots) if roots else None


def _below(expr: sp.Expr, point: ExponentPoint, shift: sp.Expr):
    """Conditions keeping ``expr · d^shift`` below order one (every numerator
    group under the denominator's leading group)."""
    num, den = in_atoms(expr, point.regime)
    dl = leading_term(den.as_expr(), point)
    conditions = list(dl.conditions)
    for gr in groups(num, point):
        conditions.append(sp.expand(dl.exponent - gr.exponent - shift))
    return conditions, list(dl.ties)


#: Law parameters the dominant balance knows (each O(1) in ``d``, given by its ``*_star``).
SCALED_LAW_SYMBOLS = frozenset({S.sigma2, S.rho, S.p})


def law_parameters_without_scale(law) -> list[str]:
    """The law's own parameters the dominant balance has no exponent for (a law with any has
    no scaling limit)."""
    return sorted(h.name for h in law.specs if h.symbol not in SCALED_LAW_SYMBOLS)


def unsupported_point(model: str, point: ExponentPoint) -> str | None:
    """Why ``model`` has no scaling limit at ``point`` (``None`` when it has one)."""
    law = law_named(model)
    own = law_parameters_without_scale(law)
    if own:
        return (f"the scaling limit gives exponents to p = d^-kappa, B = d^sigma, 1 - beta = "
                f"d^-gamma and eta = d^-theta only; law {model!r} has parameter(s) {own} the "
                "dominant balance has no scale for (use exact_risk at finite d)")
    if not law.closed_moments and point.kappa == 0:
        return ("the logistic scaling limit needs a vanishing rare class (kappa > 0): at fixed p "
                "its Fisher constants are O(1) functions of p and rho")
    return None


def _simple_fraction(x: sp.Expr) -> Fraction:
    """``x > 0`` as the simplest fraction within a relative ``1e-12`` of it (a fixed bound
    on the denominator would round a bound far below 1, such as the logistic law's
    ``∝ e^(−ρ²)``, to 0)."""
    value = Fraction(str(sp.Float(x.evalf(30), 30)))
    return value.limit_denominator(max(10**12, math.ceil(10**12 / value)))


def unsupported_by_scaling_limit(rule) -> str | None:
    """Why the dominant balance cannot take ``rule`` (``None`` when it can): its exponents
    are those of ``lr``, ``1 − β``, ``p`` and ``B``, and its reduction eliminates one buffer,
    so a rule with hyper-parameters of its own (no exponent says how they scale with ``d``)
    or with more than one buffer has no limit here."""
    if rule.symbols:
        return (f"it has hyper-parameters {[s.name for s in rule.symbols]} whose scaling with "
                "d has no exponent")
    if len(rule.buffers) > 1:
        return f"its state {rule.state} has more than one buffer"
    return None


@cached_by_definition
@stored
def scaling_limit(model: str, optimizer: str, point: ExponentPoint,
                  lr_rule: str = "largest-stable") -> ScalingLimit:
    """Dominant balance, family, timescale exponents, limit dynamics and region
    of ``model`` under ``optimizer`` at ``point`` (see the module docstring)."""
    if lr_rule not in LR_RULES:
        raise ValueError(f"lr_rule must be one of {', '.join(map(repr, LR_RULES))}; got {lr_rule!r}")
    reason = unsupported_point(model, point)
    if reason:
        raise ValueError(reason)
    unsupported = unsupported_by_scaling_limit(update_rule(optimizer))
    if unsupported:
        raise ValueError(f"the scaling limit does not support optimizer {optimizer!r}: "
                         f"{unsupported}")
    rec = recursion_for(model, optimizer, "active")
    momentum = len(rec.state) > 1
    dr = _drift(model, optimizer, point.regime)
    notes = []

    retention = leading_term(dr.retention, point)
    learning0 = leading_term(dr.learning, point.with_theta(0))
    theta_res_form = sp.expand(learning0.exponent.xreplace({theta: 0}) - retention.exponent)
    theta_res = point.value_of(theta_res_form)

    conds, ties = list(retention.conditions), list(retention.ties)
    conds += list(learning0.conditions)
    ties += list(learning0.ties)
    lr_bound = ""
    if lr_rule == "largest-stable":
        noise = _noise_bound(dr.reduced_rate, point.with_theta(theta_res))
        if noise is None or noise[0] >= theta_res:
            theta_value, theta_form = theta_res, theta_res_form
            binding = "resonance" if noise is None or noise[0] > theta_res else "both"
        else:
            theta_value, theta_form = noise
            binding = "noise"
        if noise is not None:
            if binding == "resonance":
                conds.append(sp.expand(noise[1] - theta_res_form))
            elif binding == "noise":
                conds.append(sp.expand(theta_res_form - noise[1]))
            else:
                ties.append(sp.expand(theta_res_form - noise[1]))
        point = point.with_theta(theta_value)
        bound = _lr_prefactor_bound(dr.reduced_rate, point) if binding != "resonance" else None
        bound = None if bound is None else _simple_fraction(bound)
        if bound is not None and point.lr_star >= bound:
            notes.append(f"lr prefactor {point.lr_star} outside the stable range eta* < {bound}; "
                         "using half the bound")
            point = point.with_theta(theta_value, lr_star=bound / 2)
        lr_bound = binding
    else:
        theta_form = theta

    learning = leading_term(dr.learning, point)
    ratio = retention.value - learning.value
    # a law whose every step is active has no idle stretches, hence no batch regime
    regime = point.regime if law_named(model).active_probability != 1 else None
    base = _base_name(point, dr, conds, ties, regime)

    if not momentum or ratio < 0:
        limit = _reduced_limit(dr, point)
        family = Family.SGD if limit.decays() else Family.UNSTABLE
        if momentum:
            conds.append(sp.expand(learning.exponent - retention.exponent))
        if momentum and family == Family.UNSTABLE and limit.tau <= retention.value:
            # growth as fast as the buffer's memory: no adiabatic elimination; the
            # 3-D system on the growth timescale
            rate = leading_term(dr.reduced_rate, point)
            notes.append("growth on the retention timescale: 3-D limit instead of the 1-D reduction")
            limit = _heavy_ball_limit(dr, point, -rate.value, -rate.exponent, notes)
            family = Family.HEAVY_BALL if limit.decays() else Family.UNSTABLE
    else:
        clock = retention if ratio == 0 else learning
        limit = _heavy_ball_limit(dr, point, clock.value, clock.exponent, notes)
        family = Family.HEAVY_BALL if limit.decays() else Family.UNSTABLE
        if ratio == 0:
            ties.append(sp.expand(learning.exponent - retention.exponent))
        else:
            conds.append(sp.expand(retention.exponent - learning.exponent))
            if family != Family.UNSTABLE:
                family = Family.UNSTABLE
                notes.append("learning faster than retention: the limit on the learning "
                             "timescale does not decay (no continuous-time limit)")
    tau, scales, L, f, x0, lconds, lties = (limit.tau, limit.scales, limit.matrix, limit.forcing,
                                            limit.initial, limit.conditions, limit.ties)
    conds += lconds
    ties += lties

    sub = {theta: theta_form} if lr_rule == "largest-stable" else {}
    rc, rt = regime_conditions(point.regime) if regime else ((), ())
    inequalities, equalities = reduce_region([sp.expand(c.xreplace(sub)) for c in conds] + list(rc),
                                       [sp.expand(c.xreplace(sub)) for c in ties] + list(rt))
    phase = _phase_name(base, family, lr_rule, lr_bound, retention.value, momentum)
    return ScalingLimit(model, optimizer, point, lr_rule, phase, family, tau, retention.value,
                        learning.value, tuple(s.name for s in rec.state[:L.shape[0]]), scales, L, f, x0,
                        inequalities, equalities, lr_bound, tuple(notes))


def _base_name(point, dr, conds, ties, regime: str | None) -> str:
    """``coherent`` when the batch gradient's energy is led by its mean (no factor
    ``d``), else ``incoherent`` with the batch regime (none for a law whose every
    step is active)."""
    energy = leading_term(dr.gradient_energy, point)
    conds += list(energy.conditions)
    ties += list(energy.ties)
    suffix = f" {regime}" if regime else ""
    if energy.ties:
        return f"coherence boundary{suffix}"
    return f"incoherent{suffix}" if S.d in energy.atoms else "coherent"


def _phase_name(base, family, lr_rule, binding, retention_value, momentum) -> str:
    """``base`` (coherence and batch regime), then memory and which lr bound binds."""
    if base == "coherent":
        return "coherent" if family != Family.UNSTABLE else "coherent, unstable"
    words = [base]
    if momentum and retention_value == 0:
        words.append("memoryless")
    if lr_rule == "largest-stable" and momentum and (retention_value != 0 or binding == "resonance"):
        words.append({"resonance": "above resonance", "noise": "below resonance",
                      "both": "at resonance"}[binding])
    if lr_rule == "free" or family == Family.UNSTABLE:
        words.append(f"({Family(family).label})")
    return " ".join(words)


@dataclass(frozen=True)
class _Balance:
    """A dominant balance: ``dX/dt = L X + f`` (or the map ``X' = (I + L) X + f`` when
    ``tau = 0``) for the components rescaled by ``d^scales``, from ``X(0) = initial``,
    valid where ``conditions > 0`` and ``ties = 0``."""

    tau: Fraction
    scales: tuple
    matrix: sp.Matrix
    forcing: sp.Matrix
    initial: tuple
    conditions: list
    ties: list

    def decays(self) -> bool:
        return linear_dynamics_decay(self.matrix, self.tau == 0)


def _reduced_limit(dr: _Drift, point: ExponentPoint):
    """1-D limit: ``dR/dt = a R + f`` from the Schur complement."""
    lead = leading_term(dr.reduced_rate, point)
    tau, tau_form = -lead.value, -lead.exponent
    conds, ties = list(lead.conditions), list(lead.ties)
    x0, f, scale = [sp.Integer(1)], sp.Integer(0), Fraction(0)
    if point.sigma2_star != 0 and dr.reduced_forcing != 0:
        fl = leading_term(dr.reduced_forcing, point)
        level, level_form = fl.value + tau, sp.expand(fl.exponent + tau_form)
        if level >= 0:
            scale, f = level, fl.coefficient
            conds += list(fl.conditions)
            ties += list(fl.ties)
            (ties if level == 0 else conds).append(level_form)
            if level > 0:
                x0 = [sp.Integer(0)]
        else:
            c, tt = _below(dr.reduced_forcing, point, tau_form)
            conds += c
            ties += tt
    return _Balance(tau, (scale,), sp.Matrix([[lead.coefficient]]), sp.Matrix([f]), tuple(x0), conds,
                    ties)


def _heavy_ball_limit(dr: _Drift, point: ExponentPoint, tau: Fraction, tau_form: sp.Expr,
                      notes: list | None = None):
    """The 3-D limit on the clock ``d^τ``, or on a faster clock when some entry of the
    drift acts faster than ``d^τ`` (a free learning rate above the bounds): the clock
    is shortened by that entry's excess order until every entry balances, and a note
    says so.  The limit is then classified by its own stability (growth rate)."""
    for _ in range(8):
        try:
            return _heavy_ball_limit_on(dr, point, tau, tau_form)
        except _Inconsistent as fast:
            tau, tau_form = tau - fast.order, sp.expand(tau_form - fast.form)
            if notes is not None:
                notes.append(f"an entry of the drift acts faster than the clock: limit taken on "
                             f"the faster timescale d^{tau} active updates")
    raise ArithmeticError(f"no consistent timescale found for the 3-D limit at {point}")


def _heavy_ball_limit_on(dr: _Drift, point: ExponentPoint, tau: Fraction, tau_form: sp.Expr):
    """3-D limit ``dX̃/dt = L X̃ + f`` on the timescale ``d^τ``.

    Scales ``X_i ~ d^{a_i}`` (``a_R = 0``) balance each buffer moment against its
    sources: ``a_i = max_{j≠i} (e_ij + a_j) − max(e_ii, −τ)`` (``e_ij`` the
    exponent of ``G_ij``; relaxation at rate ``G_ii`` or over the time ``d^τ``),
    solved as a longest-path fixed point."""
    scales, forms, conds, ties = _balanced_scales(dr.G, point, tau, tau_form)
    L = sp.zeros(3, 3)
    for i in range(3):
        for j in range(3):
            try:
                lead = leading_term(dr.G[i, j], point)
            except VanishingExpression:
                continue
            order = lead.value + tau + scales[j] - scales[i]
            shift = sp.expand(tau_form + forms[j] - forms[i])
            if order == 0:
                L[i, j] = lead.coefficient
                conds += list(lead.conditions)
                ties += list(lead.ties) + [sp.expand(lead.exponent + shift)]
            elif order < 0:
                c, tt = _below(dr.G[i, j], point, shift)
                conds += c
                ties += tt
            else:
                raise _Inconsistent(i, j, order, sp.expand(lead.exponent + shift))
    f = sp.zeros(3, 1)
    if point.sigma2_star != 0:
        for i in range(3):
            if dr.c[i] != 0:
                lead = leading_term(dr.c[i], point)
                order = lead.value + tau - scales[i]
                if order == 0:
                    f[i] = lead.coefficient
                    ties.append(sp.expand(lead.exponent + tau_form - forms[i]))
                elif order > 0:
                    raise _Inconsistent(i, None, order, sp.expand(lead.exponent + tau_form - forms[i]))
                else:
                    c, tt = _below(dr.c[i], point, sp.expand(tau_form - forms[i]))
                    conds += c
                    ties += tt
    return _Balance(tau, scales, L, f, (sp.Integer(1), sp.Integer(0), sp.Integer(0)), conds, ties)


def _balanced_scales(G, point: ExponentPoint, tau: Fraction, tau_form: sp.Expr):
    n = G.shape[0]
    lead = {}
    for i in range(n):
        for j in range(n):
            try:
                lead[i, j] = leading_term(G[i, j], point)
            except VanishingExpression:
                pass

    def relaxation(i):
        """Exponent of the time over which moment ``i`` forgets its past:
        ``1/|G_ii|`` when that is shorter than ``d^τ``, else ``d^τ``."""
        if (i, i) in lead and lead[i, i].value > -tau:
            return -lead[i, i].value, -lead[i, i].exponent
        return tau, tau_form

    values = [Fraction(0)] + [None] * (n - 1)
    forms = [sp.Integer(0)] + [None] * (n - 1)
    sources = {i: [j for j in range(n) if j != i and (i, j) in lead] for i in range(1, n)}
    for _ in range(2 * n):  # longest-path fixed point (a_R = 0 anchors it)
        for i in range(1, n):
            known = [(lead[i, j].value + values[j], sp.expand(lead[i, j].exponent + forms[j]))
                     for j in sources[i] if values[j] is not None]
            if known:
                top = max(v for v, _ in known)
                best = next(f for v, f in known if v == top)
                rv, rf = relaxation(i)
                values[i], forms[i] = top + rv, sp.expand(best + rf)
    conds, ties = [], []
    for i in range(1, n):
        if values[i] is None:
            values[i], forms[i] = Fraction(0), sp.Integer(0)
            continue
        rv, rf = relaxation(i)
        for j in sources[i]:  # the source that sets the scale ties, the others stay below
            gap = sp.expand(forms[i] - rf - lead[i, j].exponent - forms[j])
            (ties if values[i] - rv == lead[i, j].value + values[j] else conds).append(gap)
        if (i, i) in lead:
            expr = sp.expand(lead[i, i].exponent + tau_form)
            (ties if lead[i, i].value == -tau else conds).append(expr if lead[i, i].value > -tau else -expr)
    return tuple(values), tuple(forms), conds, ties


class _Inconsistent(ArithmeticError):
    """Entry ``(i, j)`` of the drift grows like ``d^order`` on the chosen timescale
    (``form``: that order as a linear form in the exponents)."""

    def __init__(self, i, j, order, form):
        super().__init__(f"entry ({i}, {j}) grows like d^{order} on the chosen timescale")
        self.order, self.form = order, form
