"""The exact second-moment recursion of a model under an optimizer.

For the state vectors ``(e, v)`` of an update rule, the second moments
``X = (R, C, V) = (E‖e‖², E⟨e, v⟩, E‖v‖²)`` (``X = (R,)`` without momentum; one
moment ``E⟨u, w⟩`` per pair of state vectors for rules with more buffers) obey,
exactly and at every finite ``d``,

    X_{k+1} = A X_k + c,

where ``A`` and the noise forcing ``c`` are derived by taking ``E[⟨u', w'⟩ | e, v]``
of the optimizer's update with :class:`~sparsemom.derivations.engine.expectation.BatchExpectation`.
The means obey ``(E e, E v)_{k+1} = M (E e, E v)_k``.  The risk is read off the
state by the model's risk functional (``½ p R`` for least squares).
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from ..core import symbols as S
from ..core.names import name_of
from ..core.vectors import Dot, LinearVector
from ..definitions.laws import LAWS, is_built_in_law
from ..definitions.laws import law as law_named
from ..definitions.optimizers import BUILT_IN_RULES, UpdateRule, e, g, update_rule
from .definition_cache import cached_by_definition
from .expectation import BatchExpectation
from .moments import (
    R0,
    TIME_RULES,
    MomentRecursion,
    geometric_stretch,
    linear_map,
    moment_name,
    moments_of,
)
from .store import stored


@cached_by_definition
@stored
def derive_recursion(model: str, optimizer: str, time_rule: str = "steps") -> MomentRecursion:
    r"""Derive the exact second-moment recursion $X_{k+1} = A X_k + c$ of ``model`` under
    ``optimizer``.

    The expectations are taken over the law's ingredients
    (:mod:`sparsemom.derivations.engine.expectation`); a law whose moments do not close supplies
    the recursion through its ``closure`` (the logistic model: the linearisation of its
    statistics map at the optimum).

    ``time_rule="steps"``: one map per step, $X_{k+1} = E[\text{step}]\, X_k + c$.
    ``time_rule="active"``: one map per *active* step (one whose batch holds the row's token).
    With $q = 1 - p_B$ and the idle stretch $N \sim \text{Geometric}$,
    $P(N = n) = q^n p_B$, the map between consecutive active iterates is

    $$T = A_1 \sum_n q^n p_B M_0^n = p_B A_1 (I - q M_0)^{-1}, \qquad c_1,$$

    where $M_0$ is the (deterministic) idle-step map ($g = 0$, $a = 0$) and $A_1$, $c_1$ the
    moments of a step conditioned on being active, $E[a\,\cdot]/p_B$.  For the buffer this
    gives the effective retention $\bar\beta = E \beta^{N+1} = p_B \beta / (1 - q \beta)$ of
    dense-decay momentum.

    Parameters
    ----------
    model : str
        A registered law's name (``"lsq"``, ``"gaussian"``, ``"logistic"``, …).
    optimizer : str
        A registered rule's name (``"heavy-ball"``, …).
    time_rule : str
        ``"steps"`` or ``"active"`` (coupled modes share one clock: ``"steps"`` only).

    Returns
    -------
    MomentRecursion
        $A$, $c$, the risk weights, the initial state and the mean map, in SymPy.
    """
    if time_rule not in TIME_RULES:
        raise ValueError(f"time rule must be one of {', '.join(map(repr, TIME_RULES))}; "
                         f"got {time_rule!r}")
    law = law_named(model)
    if law.coupling is not None and time_rule != "steps":
        raise ValueError(f"the modes of law {model!r} are coupled and share one clock: use "
                         "time rule 'steps'")
    if not law.closed_moments:
        return law.closure.moment_recursion(optimizer, time_rule)
    rule: UpdateRule = update_rule(optimizer)
    own = set(law.symbols) | ({law.coupling.variance} if law.coupling else set())
    shared = sorted({h.name for h in law.specs} & {h.name for h in rule.specs}
                    | {str(s) for s in own & {h.symbol for h in rule.specs}})
    if shared:
        raise ValueError(f"law {model!r} and rule {optimizer!r} both have parameters named "
                         f"{shared}: rename one of them")
    expect = BatchExpectation(law, g, e)
    nxt = rule.apply()

    pairs = [(u, w) for i, u in enumerate(rule.state) for w in rule.state[i:]]
    state = tuple(sp.Symbol(moment_name(*pair)) for pair in pairs)
    to_state = {Dot(u, w): s for (u, w), s in zip(pairs, state)}
    probe = sp.Dummy("w")  # a fixed vector no rule can name
    means = tuple(sp.Symbol(u.name) for u in rule.state)
    to_mean = {Dot(u, probe): m for u, m in zip(rule.state, means)}
    probe_vec = {probe: LinearVector.atom(probe)}
    mean_pairs = [(u, probe) for u in rule.state]

    if time_rule == "steps":
        rows = moments_of(nxt, pairs, to_state, expect)
        mean_rows = moments_of({**nxt, **probe_vec}, mean_pairs, to_mean, expect)
        transition, forcing = linear_map(rows, list(state), "second-moment update")
        mean_transition, mean_constant = linear_map(mean_rows, list(means), "mean update")
    else:
        if not law.idle_without_token:
            raise ValueError(f"time rule 'active' needs a law whose gradient vanishes without "
                             f"the row's token (idle steps leave the row alone); the gradient "
                             f"of {model!r} does not: use time rule 'steps'")
        p_b = law.active_probability
        idle = {u: vec.subs({S.active: 0, g: 0}) for u, vec in nxt.items()}
        conditioned = lambda x: expect(S.active * x) / p_b
        A1, forcing = linear_map(moments_of(nxt, pairs, to_state, conditioned), list(state),
                                  "active-step update")
        M0, _ = linear_map(moments_of(idle, pairs, to_state, sp.expand), list(state), "idle step")
        transition = geometric_stretch(A1, M0, p_b)
        mean_A1, mean_constant = linear_map(
            moments_of({**nxt, **probe_vec}, mean_pairs, to_mean, conditioned), list(means),
            "active-step mean update")
        mean_M0, _ = linear_map(moments_of({**idle, **probe_vec}, mean_pairs, to_mean, sp.expand),
                                 list(means), "idle-step mean update")
        mean_transition = geometric_stretch(mean_A1, mean_M0, p_b)
    if any(c.has(*state) for c in forcing):
        raise ArithmeticError("noise forcing depends on the state")
    if any(c != 0 for c in mean_constant):
        raise ArithmeticError("mean update has a constant term")

    coupling = coupling_weights = None
    if law.coupling is not None:
        transition, forcing, coupling, coupling_weights = _coupled(
            law.coupling, transition, forcing, mean_transition, state)

    starts_at_error = {e, *rule.start_equal_to_error}
    initial = tuple(R0 if set(pair) <= starts_at_error else sp.Integer(0) for pair in pairs)
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
        parameters=(S.lr, S.beta, *law.model_symbols, *rule.symbols),
        hyper_parameters=(S.lr, S.beta, *rule.symbols),
        unit_interval=tuple(h for h in (S.lr, S.beta, *rule.symbols) if h in rule.unit_interval),
        coupling=coupling,
        coupling_weights=coupling_weights,
    )


def _coupled(coupling, transition, forcing, mean_transition, state):
    """``(A − u q_self, c|_{ϱ=0}, u, q)`` of a mode whose forcing is affine in the coupled
    variance ``ϱ = Σ_{i≠j} q_i X_i`` (:class:`~sparsemom.derivations.definitions.laws.RowCoupling`):
    ``u = ∂c/∂ϱ`` and ``q`` the weight on ``E‖e‖²`` (``state[0]``).  Writing ``ϱ`` as the
    sum over every mode minus the mode's own term moves ``−u q`` into the mode's block."""
    rho = coupling.variance
    if transition.has(rho) or mean_transition.has(rho):
        raise ArithmeticError(f"the coupled variance {rho} enters the transition, not only "
                              "the forcing")
    u = forcing.diff(rho)
    if u.has(rho):
        raise ArithmeticError(f"the forcing is not affine in the coupled variance {rho}")
    q = sp.ImmutableMatrix([[sp.sympify(coupling.weight)] + [0] * (len(state) - 1)])
    block = sp.ImmutableMatrix(transition - u * q).applyfunc(sp.factor)
    return (block, forcing.subs(rho, 0).applyfunc(sp.factor), u.applyfunc(sp.factor), q)


@cached_by_definition
def observing(model: str, optimizer: str, time_rule: str, vector: str) -> MomentRecursion:
    """The recursion of :func:`derive_recursion` with the risk of another state vector of
    the rule (e.g. an averaged iterate ``θ̄ − θ*``): same ``A``, ``c``, ``X_0``, risk
    weights on ``E‖u‖²`` instead of ``E‖e‖²``."""
    u = update_rule(optimizer).vector(vector)
    rec = derive_recursion(model, optimizer, time_rule)
    if u == e:
        return rec
    if not law_named(model).closed_moments:
        raise ValueError(f"the risk of another iterate needs closed second moments; model "
                         f"{model!r} has a mean-field statistics map")
    square = next(s for s, dot in zip(rec.state, rec.meaning) if dot == Dot(u, u))
    return replace(rec, risk=law_named(model).risk(square))


def recursion_for(model, optimizer, time_rule: str = "steps") -> MomentRecursion:
    """The recursion of a model instance (or name) under an optimizer (or name):
    :func:`derive_recursion` of their names.

    Parameters
    ----------
    model : str or Model
        The data law.
    optimizer : str or Optimizer
        The update rule.
    time_rule : str
        ``"steps"`` or ``"active"``.

    Returns
    -------
    MomentRecursion
        The derived recursion.
    """
    return derive_recursion(name_of(model), name_of(optimizer), time_rule)


def shipped_recursions() -> list[tuple[str, str, str]]:
    """``(model, optimizer, time_rule)`` of every recursion the package ships generated
    code for: each model with closed second moments under each built-in optimizer and
    time rule (rules a user registers get their code generated at run time)."""
    return [(name, rule.name, t) for name, law in LAWS.items()
            if is_built_in_law(name) and law.closed_moments
            for rule in BUILT_IN_RULES for t in TIME_RULES
            if law.coupling is None or t == "steps"]


def all_recursions() -> list[MomentRecursion]:
    """Every recursion of :func:`shipped_recursions`, derived.

    Returns
    -------
    list of MomentRecursion
        One per built-in law with closed moments × built-in rule × time rule.
    """
    return [derive_recursion(*key) for key in shipped_recursions()]
