"""The logistic model near its optimum: exact second-moment dynamics of the linearisation.

Linearising the derived statistics map ``X ↦ F(X)`` (:mod:`sparsemom.derivations.rare_class.drift`) at
``θ = μ`` (``s = u = R⊥ = C⊥ = V⊥ = 0``) gives the affine recursion

    X_{k+1} = J X_k + c,    J = ∂F/∂X |_*,  c = F(0),

whose coefficients are logistic-normal moments at the Bayes logit
``c* ~ N(b*, ρ²)`` (class 0).  The change of measure between the classes
(:func:`~sparsemom.derivations.rare_class.logistic_normal.bayes_identity`) eliminates every class-1
moment, and three Fisher-information constants remain, each derived from its
definition as an expectation:

* ``h = E[σ'(c*)]`` — curvature of the population loss ⊥ to ``μ`` (and, because the
  model is well specified, the gradient-noise level there: ``E[r²] = h``);
* ``w = E[σ'(c*)²]`` — the multiplicative-noise level (fourth-moment term);
* ``h_∥ = E[σ'(c*) ⟨x, μ̂⟩²]`` — curvature along the signal.

The rare class plays the role of sparsity: for ``λ = p/(1 − p) → 0``,
``h = p − p² e^{ρ²} + O(p³)``, ``w = p² e^{ρ²} + O(p³)``
(:func:`rare_class_constants`; derived by expanding the moments in ``λ``): the
curvature and the noise are ``O(p)`` like ``p`` in least squares, while the
fourth-moment term is ``O(p²)``, where least squares has ``O(p)``.

The bulk block ``(R⊥, C⊥, V⊥)`` does not depend on the signal at linear order
(derived: its ``s``-derivatives vanish at the optimum), so it is an exact
:class:`~sparsemom.derivations.engine.recursion.MomentRecursion` in ``(η, β, B, d, h, w)`` and every
closed form, stability condition and timescale of the engine applies to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from ..core import symbols as S
from ..core.printing import equation
from ..core.vectors import Dot
from ..definitions.optimizers import e, update_rule, v
from ..engine.definition_cache import cached_by_definition
from ..engine.moments import MomentRecursion
from ..engine.store import stored
from . import statistics as M2
from .drift import derive_statistics_map
from .logistic_normal import (
    LogisticNormalMoment,
    bayes_identity,
    rare_class_expansion,
    sig,
    sigmoid_derivative,
)

#: Fisher-information constants of the optimum (named in derived expressions).
curvature = sp.Symbol("h", positive=True)
fourth_moment = sp.Symbol("w", positive=True)
signal_curvature = sp.Symbol("h_parallel", positive=True)
CONSTANTS = (curvature, fourth_moment, signal_curvature)
#: Parameters of the linearised bulk recursion, in the order numeric code uses.
BULK_PARAMETERS = (S.lr, S.beta, S.batch, S.d, curvature, fourth_moment)
#: λ = p/(1 − p), the variable of the rare-class expansion.
ratio = sp.Symbol("lambda", positive=True)

_AT_OPTIMUM = {M2.s: 0, M2.u: 0, M2.R_perp: 0, M2.C_perp: 0, M2.V_perp: 0}
_CLASS0_VARIANCE = S.rho**2


def _at_optimum(expr: sp.Expr) -> sp.Expr:
    """Evaluate at θ = μ and eliminate class-1 moments (Bayes change of measure)."""
    expr = sp.expand(sp.sympify(expr).xreplace(_AT_OPTIMUM))
    return sp.expand(bayes_identity(expr, S.p, M2.bias, S.rho**2, _CLASS0_VARIANCE))


def _derivative_at_optimum(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """``∂expr/∂x`` at the optimum (the statistics of ``_AT_OPTIMUM`` there, any other
    left as it is), by forward-mode differentiation of the expression tree: each node
    gives its (value, derivative) at the point, so no derivative expression in the
    statistics is built (``jacobian`` of the whole update, then substituting, took most
    of the linearisation's time)."""
    point = dict(_AT_OPTIMUM)
    known: dict[sp.Expr, tuple[sp.Expr, sp.Expr]] = {}

    def dual(node: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
        if node in known:
            return known[node]
        if node == x:
            out = (point.get(x, x), sp.Integer(1))
        elif not node.has(x):
            out = (node.xreplace(point), sp.Integer(0))
        elif node.is_Add:
            values, slopes = zip(*map(dual, node.args))
            out = (sp.Add(*values), sp.Add(*slopes))
        elif node.is_Mul:
            values, slopes = zip(*map(dual, node.args))
            out = (sp.Mul(*values), sp.Add(*(slope * sp.Mul(*values[:k], *values[k + 1:])
                                              for k, slope in enumerate(slopes) if slope != 0)))
        elif node.is_Pow:
            (base, base_slope), (exponent, exponent_slope) = map(dual, node.args)
            value = base**exponent
            slope = exponent * base**(exponent - 1) * base_slope
            out = (value, slope + value * sp.log(base) * exponent_slope if exponent_slope != 0 else slope)
        elif isinstance(node, sp.Function):
            slopes = [dual(arg)[1] for arg in node.args]
            out = (node.xreplace(point), sp.Add(*(slope * node.fdiff(i).xreplace(point)
                                                  for i, slope in enumerate(slopes, 1) if slope != 0)))
        else:
            raise NotImplementedError(f"cannot differentiate {type(node).__name__}: {node}")
        known[node] = out
        return out

    return dual(sp.sympify(expr))[1]


def class0_moment(k: int) -> sp.Expr:
    """``S⁰_k = E_0[σ(c*)^k]``, ``c* ~ N(b*, ρ²)``."""
    return LogisticNormalMoment(k, M2.bias, _CLASS0_VARIANCE)


@lru_cache(maxsize=None)
def constant_definitions() -> dict[sp.Symbol, sp.Expr]:
    """``{h, w, h_∥}`` as expectations at the optimum, reduced to class-0 moments."""
    first = sigmoid_derivative(sig, 1)
    return {
        curvature: sp.factor(_at_optimum(M2.sample_mean(first, 1))),
        fourth_moment: sp.factor(_at_optimum(M2.sample_mean(sp.expand(first**2), 1))),
        signal_curvature: sp.factor(_at_optimum(M2.signal_moment(first, 1, 2))),
    }


@lru_cache(maxsize=None)
def _moments_in_constants() -> dict[sp.Expr, sp.Expr]:
    """Solve the definitions for the class-0 moments ``S⁰_1, S⁰_2, S⁰_3``."""
    unknowns = [class0_moment(k) for k in (1, 2, 3)]
    stand_in = [sp.Dummy(f"S{k}") for k in (1, 2, 3)]
    to_dummy = dict(zip(unknowns, stand_in))
    eqs = [sp.Eq(c, expr.xreplace(to_dummy)) for c, expr in constant_definitions().items()]
    solution = sp.solve(eqs, stand_in, dict=True)
    if len(solution) != 1:
        raise ArithmeticError("the Fisher constants do not determine the moments")
    return {m: sp.factor(solution[0][x]) for m, x in zip(unknowns, stand_in)}


def in_constants(expr: sp.Expr) -> sp.Expr:
    """Write an optimum expression in ``h, w, h_∥`` instead of class-0 moments."""
    out = sp.factor(sp.expand(expr.xreplace(_moments_in_constants())))
    if out.atoms(LogisticNormalMoment):
        raise ArithmeticError(f"moments left after substituting the constants: {out}")
    return out


@dataclass(frozen=True)
class Linearisation:
    """``X_{k+1} = J X_k + c`` for the statistics near ``θ = μ``, in ``h, w, h_∥``."""

    optimizer: str
    time_rule: str
    state: tuple[sp.Symbol, ...]
    transition: sp.ImmutableMatrix
    forcing: sp.ImmutableMatrix
    bulk: MomentRecursion

    @property
    def signal_size(self) -> int:
        return len(self.state) - len(self.bulk.state)

    def equations(self) -> list[sp.Eq]:
        now = sp.Matrix(self.state)
        return [equation(sp.Symbol(f"{x.name}'"), sp.collect(sp.expand(r), list(self.state)))
                for x, r in zip(self.state, self.transition * now + self.forcing)]


@cached_by_definition
@stored
def linearise(optimizer: str, time_rule: str = "steps") -> Linearisation:
    """Linearise the logistic statistics map of ``optimizer`` at the optimum."""
    stats = derive_statistics_map(M2.NAME, optimizer, time_rule)
    n = len(stats.state)
    J = sp.Matrix(n, n, lambda i, j: in_constants(_at_optimum(
        _derivative_at_optimum(stats.update[i], stats.state[j]))))
    c = stats.update.applyfunc(lambda x: in_constants(_at_optimum(x)))
    n_signal = sum(1 for x in stats.state if x in (M2.s, M2.u))
    bulk_rows = range(n_signal, len(stats.state))
    if any(J[i, j] != 0 for i in bulk_rows for j in range(n_signal)):
        raise ArithmeticError("the bulk block depends on the signal at linear order")
    if any(c[i] != 0 for i in range(n_signal)):
        raise ArithmeticError("the optimum is not a fixed point of the signal")
    bulk_state = tuple(stats.state[n_signal:])
    vectors = (e, v)[: 1 + (len(bulk_state) > 1)]
    pairs = [(a, b) for i, a in enumerate(vectors) for b in vectors[i:]]
    bulk = MomentRecursion(
        model=M2.NAME,
        optimizer=optimizer,
        time_rule=time_rule,
        state=bulk_state,
        meaning=tuple(Dot(a, b) for a, b in pairs),
        transition=sp.ImmutableMatrix(J[n_signal:, n_signal:]),
        forcing=sp.ImmutableMatrix(c[n_signal:, :]),
        mean_state=stats.bulk_mean_state,
        mean_transition=stats.bulk_mean_transition.applyfunc(lambda x: in_constants(_at_optimum(x))),
        risk=bulk_state[0],
        initial=(M2.R_perp,) + (sp.Integer(0),) * (len(bulk_state) - 1),
        parameters=BULK_PARAMETERS,
        unit_interval=tuple(h for h in (S.lr, S.beta) if h in update_rule(optimizer).unit_interval),
    )
    return Linearisation(optimizer, time_rule, tuple(stats.state), sp.ImmutableMatrix(J),
                         sp.ImmutableMatrix(c), bulk)


@lru_cache(maxsize=None)
def rare_class_limit() -> dict[sp.Symbol, sp.Expr]:
    """Leading order of ``h, w`` for a vanishing rare class (``p → 0`` at fixed ρ): the
    lowest power of ``p`` in :func:`rare_class_constants`, with ``e^{ρ²}`` named ``W``
    (``h → p``, ``w → p² W``)."""
    out = {}
    for name in (curvature, fourth_moment):
        series = sp.Poly(rare_class_constants(order=2)[name], S.p)
        (power,), coeff = min(series.terms(), key=lambda term: term[0])
        out[name] = coeff.xreplace({sp.exp(S.rho**2): S.fisher_w}) * S.p**power
    return out


def rare_class_constants(order: int = 2) -> dict[sp.Symbol, sp.Expr]:
    """``h, w, h_∥`` expanded in ``λ = p/(1 − p)`` to ``O(λ^order)``, then in ``p``."""
    out = {}
    for name, expr in constant_definitions().items():
        in_ratio = expr.xreplace({M2.bias: sp.log(ratio) - S.rho**2 / 2})
        series = rare_class_expansion(in_ratio, ratio, -S.rho**2 / 2, _CLASS0_VARIANCE, order)
        series = sp.expand(series.xreplace({ratio: S.p / (1 - S.p)}))
        out[name] = sp.expand(sp.series(series, S.p, 0, order + 1).removeO())
    return out
