"""The exact second-moment recursion of a model under an optimizer.

For the state vectors ``(e, v)`` of an update rule, the second moments
``X = (R, C, V) = (E‖e‖², E⟨e, v⟩, E‖v‖²)`` (``X = (R,)`` without momentum) obey,
exactly and at every finite ``d``,

    X_{k+1} = A X_k + c,

where ``A`` and the noise forcing ``c`` are derived by taking ``E[⟨u', w'⟩ | e, v]``
of the optimizer's update with :class:`~derivations.expectation.BatchExpectation`.
The means obey ``(E e, E v)_{k+1} = M (E e, E v)_k``.  The risk is read off the
state by the model's risk functional (``½ p R`` for least squares).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import sympy as sp

from . import symbols as S
from .expectation import BatchExpectation
from .models import MODELS, model_class
from .optimizers import BUILT_IN_RULES, UpdateRule, e, g, update_rule, v
from .vectors import Dot, LinearVector

#: Names of the second moments of pairs of state vectors.
MOMENT_NAMES = {(e, e): "R", (e, v): "C", (v, v): "V"}
#: Initial squared error ‖e_0‖² (the buffer starts at v_0 = 0).
R0 = sp.Symbol("R_0", nonnegative=True)


@dataclass(frozen=True)
class MomentRecursion:
    """``X_{k+1} = A X_k + c`` for the second moments, with the mean map ``M``.

    ``state[i]`` is the second moment ``meaning[i]`` (a :class:`Dot`) in
    expectation; ``risk`` is ``E R`` in terms of ``state``; ``initial`` gives
    ``X_0`` in terms of ``R_0 = ‖e_0‖²`` (buffers start at 0).
    """

    model: str
    optimizer: str
    time_rule: str
    state: tuple[sp.Symbol, ...]
    meaning: tuple[sp.Expr, ...]
    transition: sp.ImmutableMatrix
    forcing: sp.ImmutableMatrix
    mean_state: tuple[sp.Symbol, ...]
    mean_transition: sp.ImmutableMatrix
    risk: sp.Expr
    initial: tuple[sp.Expr, ...]
    parameters: tuple[sp.Symbol, ...] = field(default=S.PARAMETERS)

    @property
    def risk_weights(self) -> sp.ImmutableMatrix:
        """Row vector ``w`` with ``E R = w · X``."""
        return sp.ImmutableMatrix([[sp.diff(self.risk, s) for s in self.state]])

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the recursion's canonical form (identifies generated code)."""
        parts = (self.model, self.optimizer, self.time_rule, self.state, self.transition,
                 self.forcing, self.mean_transition, self.risk, self.initial)
        return hashlib.sha256(sp.srepr(parts).encode()).hexdigest()

    def equations(self) -> list[sp.Eq]:
        """``X_{k+1} = A X_k + c`` written out, one equation per moment."""
        now = [sp.Symbol(f"{s.name}_k") for s in self.state]
        nxt = [sp.Symbol(f"{s.name}_k+1") for s in self.state]
        rhs = self.transition * sp.Matrix(now) + self.forcing
        return [sp.Eq(n, _collect(r, now)) for n, r in zip(nxt, rhs)]

    def mean_equations(self) -> list[sp.Eq]:
        """``(ē, v̄)_{k+1} = M (ē, v̄)_k`` for the means ``ē = E e``, ``v̄ = E v``."""
        now = [sp.Symbol(f"{s.name}bar_k") for s in self.mean_state]
        nxt = [sp.Symbol(f"{s.name}bar_k+1") for s in self.mean_state]
        rhs = self.mean_transition * sp.Matrix(now)
        return [sp.Eq(n, _collect(r, now)) for n, r in zip(nxt, rhs)]


def _collect(expr: sp.Expr, symbols: list[sp.Symbol]) -> sp.Expr:
    return sp.collect(sp.expand(expr), symbols, func=sp.factor)


def _linear_map(rows: list[sp.Expr], variables: list[sp.Symbol], what: str):
    """Coefficient matrix and constant of expressions affine in ``variables``."""
    matrix, constant = [], []
    for row in rows:
        poly = sp.Poly(row, *variables)
        if poly.total_degree() > 1:
            raise ArithmeticError(f"{what} is not linear in {variables}: {row}")
        matrix.append([sp.factor(poly.coeff_monomial(x)) for x in variables])
        constant.append(sp.factor(poly.coeff_monomial(1)))
    return sp.ImmutableMatrix(matrix), sp.ImmutableMatrix(constant)


#: Time rules: every step, or active iterates (idle stretches integrated out).
TIME_RULES = ("steps", "active")


def _moments(vectors, pairs, to_state, transform) -> list[sp.Expr]:
    return [transform(vectors[u].dot(vectors[w])).xreplace(to_state) for u, w in pairs]


@lru_cache(maxsize=None)
def derive_recursion(model: str, optimizer: str, time_rule: str = "steps") -> MomentRecursion:
    """Derive the exact second-moment recursion of ``model`` under ``optimizer``.

    For a mean-field law (the logistic model) this is the recursion of its
    linearisation at the optimum (:func:`derivations.linearisation.linearise`).

    ``time_rule="steps"``: one map per step, ``X_{k+1} = E[step] X_k + c``.
    ``time_rule="active"``: one map per *active* step (one whose batch holds the
    row's token).  With ``q = 1 − p_B`` and the idle stretch ``N ~ Geometric``,
    ``P(N = n) = q^n p_B``, the map between consecutive active iterates is

        T = A_1 Σ_n q^n p_B M_0^n = p_B A_1 (I − q M_0)^{-1},   c_1,

    where ``M_0`` is the (deterministic) idle-step map (``g = 0``, ``a = 0``) and
    ``A_1``, ``c_1`` the moments of a step conditioned on being active,
    ``E[a ·]/p_B``.  For the buffer this gives the effective retention
    ``β̄ = E β^{N+1} = p_B β / (1 − q β)`` of dense-decay momentum.
    """
    if time_rule not in TIME_RULES:
        raise ValueError(f"time rule must be one of {', '.join(map(repr, TIME_RULES))}; "
                         f"got {time_rule!r}")
    law = model_class(model)
    if law.statistics == "mean field":
        # No finite-d closure: the exact second moments are those of the linearisation
        # at the optimum (its bulk block), derived from the statistics map.
        from .linearisation import linearise

        return linearise(optimizer, time_rule).bulk
    rule: UpdateRule = update_rule(optimizer)
    expect = BatchExpectation(law.sample_gradient, g, e)
    nxt = rule.apply()

    pairs = [(u, w) for i, u in enumerate(rule.state) for w in rule.state[i:]]
    state = tuple(sp.Symbol(MOMENT_NAMES[pair]) for pair in pairs)
    to_state = {Dot(u, w): s for (u, w), s in zip(pairs, state)}
    probe = sp.Symbol("w")
    means = tuple(sp.Symbol(u.name) for u in rule.state)
    to_mean = {Dot(u, probe): m for u, m in zip(rule.state, means)}
    probe_vec = {probe: LinearVector.atom(probe)}
    mean_pairs = [(u, probe) for u in rule.state]

    if time_rule == "steps":
        rows = _moments(nxt, pairs, to_state, expect)
        mean_rows = _moments({**nxt, **probe_vec}, mean_pairs, to_mean, expect)
        transition, forcing = _linear_map(rows, list(state), "second-moment update")
        mean_transition, mean_constant = _linear_map(mean_rows, list(means), "mean update")
    else:
        p_b = S.active_probability
        idle = {u: vec.subs({S.active: 0, g: 0}) for u, vec in nxt.items()}
        conditioned = lambda x: expect(S.active * x) / p_b  # noqa: E731
        A1, forcing = _linear_map(_moments(nxt, pairs, to_state, conditioned), list(state),
                                  "active-step update")
        M0, _ = _linear_map(_moments(idle, pairs, to_state, sp.expand), list(state), "idle step")
        transition = _geometric_stretch(A1, M0, p_b)
        mean_A1, mean_constant = _linear_map(
            _moments({**nxt, **probe_vec}, mean_pairs, to_mean, conditioned), list(means),
            "active-step mean update")
        mean_M0, _ = _linear_map(_moments({**idle, **probe_vec}, mean_pairs, to_mean, sp.expand),
                                 list(means), "idle-step mean update")
        mean_transition = _geometric_stretch(mean_A1, mean_M0, p_b)
    if any(c.has(*state) for c in forcing):
        raise ArithmeticError("noise forcing depends on the state")
    if any(c != 0 for c in mean_constant):
        raise ArithmeticError("mean update has a constant term")

    initial = tuple(R0 if pair == (e, e) else sp.Integer(0) for pair in pairs)
    return MomentRecursion(
        model=model,
        optimizer=optimizer,
        time_rule=time_rule,
        state=state,
        meaning=tuple(Dot(u, w) for u, w in pairs),
        transition=transition,
        forcing=forcing,
        mean_state=means,
        mean_transition=mean_transition,
        risk=law.risk(state[0]),
        initial=initial,
    )


def _geometric_stretch(active: sp.ImmutableMatrix, idle: sp.ImmutableMatrix,
                       p_b: sp.Expr) -> sp.ImmutableMatrix:
    """``p_B · active · (I − (1 − p_B) idle)^{-1}``: an active step after a
    geometric number of idle steps."""
    n = idle.shape[0]
    stretch = (sp.eye(n) - (1 - p_b) * idle).inv(method="LU")
    return sp.ImmutableMatrix((p_b * active * stretch).applyfunc(lambda x: sp.factor(sp.cancel(x))))


def recursion_for(model, optimizer, time_rule: str = "steps") -> MomentRecursion:
    """The recursion of a model instance (or name) under an optimizer (or name)."""
    model_name = model if isinstance(model, str) else model.name
    optimizer_name = optimizer if isinstance(optimizer, str) else optimizer.name
    return derive_recursion(model_name, optimizer_name, time_rule)


def all_recursions() -> list[MomentRecursion]:
    """Every exact finite-d recursion the package ships generated code for: each model
    with closed second moments under each built-in optimizer and time rule (rules a
    user registers get their code generated at run time)."""
    return [derive_recursion(m, rule.name, t) for m, law in MODELS.items()
            if law.statistics == "second moments" for rule in BUILT_IN_RULES for t in TIME_RULES]
