"""The expected one-step map of the logistic model's statistics, for any optimizer.

For a law whose gradient is not polynomial in the data (model M2) the second
moments do not close, but the statistics of the current iterate do: along ``μ̂``
the signal error and buffer ``(s, u) = (⟨e, μ̂⟩, ⟨v, μ̂⟩)``, orthogonal to ``μ`` the
energies ``(R⊥, C⊥, V⊥) = (‖e⊥‖², ⟨e⊥, v⊥⟩, ‖v⊥‖²)``.  From the optimizer's update
``(e, v) ↦ (e', v')`` (:mod:`sparsemom.derivations.definitions.optimizers`, linear in ``(e, v, g)``) the
engine forms ``⟨e', μ̂⟩, ⟨v', μ̂⟩`` and the ⊥ inner products of ``(e', v')``, and
takes ``E[· | θ, v]`` over one batch with the shared batch-sum rules of
:class:`~sparsemom.derivations.engine.expectation.BatchExpectation` and the law's own sample
expectation (Stein's lemma, :mod:`sparsemom.derivations.rare_class.statistics`):

    X_{k+1} = E[X_{k+1} | X_k] = F(X_k),    Δ(X) = F(X) − X,

exact at every ``d`` given the current iterate (a function of ``X`` only);
iterated on deterministic statistics it is the mean-field prediction, exact as
``d → ∞`` (see :mod:`sparsemom.derivations.rare_class.statistics`).

Time rules: a law whose every step is active (``p_B = 1``, as for M2) has no idle
stretches, so its active-iterate map *is* its step map; lazy momentum, which only
differs on idle steps, coincides with heavy ball.  Both follow from the
substitution ``a = 1``; the tests check them against the step map.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from ..core import symbols as S
from ..core.names import name_of
from ..core.printing import equation
from ..core.vectors import Dot, LinearVector
from ..definitions.laws import law as law_named
from ..definitions.optimizers import e, g, update_rule, v
from ..engine.definition_cache import cached_by_definition
from ..engine.expectation import BatchExpectation
from ..engine.moments import TIME_RULES
from ..engine.store import stored
from . import statistics as M2

#: Statistics along μ̂ (per state vector) and ⊥ to μ (per pair of state vectors).
SIGNAL_NAMES = {e: M2.s, v: M2.u}
BULK_NAMES = {(e, e): M2.R_perp, (e, v): M2.C_perp, (v, v): M2.V_perp}
#: Parameters of the logistic statistics map, in the order numeric code uses.
PARAMETERS = (S.lr, S.beta, S.batch, S.d, S.p, S.rho)


@dataclass(frozen=True)
class StatisticsMap:
    """``X_{k+1} = F(X_k)`` for the statistics ``X`` (``state``) of one optimizer."""

    model: str
    optimizer: str
    time_rule: str
    state: tuple[sp.Symbol, ...]
    meaning: tuple[sp.Expr, ...]
    update: sp.ImmutableMatrix
    risks: dict
    bulk_mean_state: tuple[sp.Symbol, ...]
    bulk_mean_transition: sp.ImmutableMatrix
    parameters: tuple[sp.Symbol, ...] = PARAMETERS

    @property
    def change(self) -> sp.ImmutableMatrix:
        """The expected one-step change ``Δ(X) = F(X) − X``."""
        return sp.ImmutableMatrix(self.update - sp.Matrix(self.state))

    @cached_property
    def fingerprint(self) -> str:
        parts = (self.model, self.optimizer, self.time_rule, self.state, self.update,
                 tuple(self.risks.items()))
        return hashlib.sha256(sp.srepr(parts).encode()).hexdigest()

    def equations(self) -> list[sp.Eq]:
        """``X_{k+1} = F(X_k)`` written out, one equation per statistic."""
        nxt = [sp.Symbol(f"{x.name}'") for x in self.state]
        return [equation(n, f) for n, f in zip(nxt, self.update)]


@cached_by_definition
@stored
def derive_statistics_map(model: str, optimizer: str, time_rule: str = "steps") -> StatisticsMap:
    """Derive ``E[X_{k+1} | X_k]`` of ``model``'s statistics under ``optimizer``."""
    if time_rule not in TIME_RULES:
        raise ValueError(f"time rule must be one of {', '.join(map(repr, TIME_RULES))}; "
                         f"got {time_rule!r}")
    law = law_named(model)
    if law.closed_moments:
        raise ValueError(f"model {model!r} has an exact second-moment recursion: use "
                         f"derive_recursion")
    if law.active_probability != 1:
        raise NotImplementedError("idle stretches of a mean-field law are not integrated out")
    rule = update_rule(optimizer)
    unsupported = unsupported_by_statistics_map(rule)
    if unsupported:
        raise ValueError(f"the logistic statistics map does not support optimizer "
                         f"{optimizer!r}: {unsupported}")
    nxt = {x: vec.subs({S.active: 1}) for x, vec in rule.apply().items()}   # every step active

    along = BatchExpectation(law, g, e, law.closure.sample_expectation("signal"))
    across = BatchExpectation(law, g, e, law.closure.sample_expectation("perp"))
    probe = LinearVector.atom(M2.mu_hat)
    signal_of = {Dot(x, M2.mu_hat): SIGNAL_NAMES[x] for x in rule.state}
    pairs = [(a, b) for i, a in enumerate(rule.state) for b in rule.state[i:]]
    bulk_of = {Dot(a, b): BULK_NAMES[(a, b)] for a, b in pairs}

    rows, state, meaning = [], [], []
    for x in rule.state:
        rows.append(along(nxt[x].dot(probe)).xreplace(signal_of))
        state.append(SIGNAL_NAMES[x])
        meaning.append(Dot(x, M2.mu_hat))
    for a, b in pairs:
        rows.append(across(nxt[a].dot(nxt[b])).xreplace(bulk_of))
        state.append(BULK_NAMES[(a, b)])
        meaning.append(Dot(a, b))
    leftover = set().union(*(r.atoms(Dot) for r in rows))
    if leftover:
        raise ArithmeticError(f"statistics do not close: {leftover}")
    # Means of the bulk vectors: E⟨x', w⟩ for a fixed w ⊥ μ, linear in ⟨e, w⟩, ⟨v, w⟩.
    w = sp.Dummy("w_perp")  # a fixed vector ⊥ μ no rule can name
    means = tuple(sp.Symbol(x.name) for x in rule.state)
    to_mean = {Dot(x, w): m for x, m in zip(rule.state, means)}
    mean_rows = [sp.expand(across(nxt[x].dot(LinearVector.atom(w))).xreplace(to_mean))
                 for x in rule.state]
    mean_map = sp.ImmutableMatrix([[r.coeff(m) for m in means] for r in mean_rows])
    return StatisticsMap(model, optimizer, time_rule, tuple(state), tuple(meaning),
                         sp.ImmutableMatrix([tidy(r) for r in rows]), law.closure.risks(),
                         means, mean_map)


def unsupported_by_statistics_map(rule) -> str | None:
    """Why the statistics map cannot take ``rule`` (``None`` when it can): its statistics
    are named for the state ``(e,)`` or ``(e, v)`` and its parameters are ``lr``, ``beta``."""
    if set(rule.state) - {e, v}:
        return f"its state {rule.state} has buffers other than v"
    if rule.symbols:
        return f"it has hyper-parameters {[s.name for s in rule.symbols]} besides lr and beta"
    return None


def unsupported_by_model(model: str, optimizer: str) -> str | None:
    """Why ``model`` has no derivation for ``optimizer`` (``None`` when it has one): a law
    without closed second moments is derived through its statistics map."""
    if law_named(model).closed_moments:
        return None
    return unsupported_by_statistics_map(update_rule(optimizer))


def tidy(row: sp.Expr) -> sp.Expr:
    return sp.collect(sp.expand(row), [S.lr, S.beta], evaluate=True)


def statistics_map_for(model, optimizer, time_rule: str = "steps") -> StatisticsMap:
    """The statistics map of a model instance (or name) under an optimizer (or name)."""
    return derive_statistics_map(name_of(model), name_of(optimizer), time_rule)
