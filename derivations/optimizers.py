"""Optimizer definitions: each one-step update written once, symbolically.

An update rule maps its state vectors — the error ``e = θ − θ*`` first, then any
number of buffers (``v``, ``y``, …: SymPy symbols standing for vectors) — and the batch
gradient ``g`` to the next state vectors, linearly, with scalar coefficients in the
learning rate ``lr`` (η), the momentum ``beta`` (β), the step-activity indicator ``a``,
the rule's own hyper-parameters (:class:`HyperParameter`, any SymPy symbols) and exact
numbers.  Everything else — moment recursions, kernels, simulators, LaTeX — is derived
from these.  Adding an optimizer is one :class:`UpdateRule` passed to
:func:`register_rule` (the built-ins in :data:`UPDATE_RULES` are registered the same
way).  Code that needs to know what a rule does asks its properties
(:attr:`UpdateRule.has_momentum`, :attr:`UpdateRule.uses_beta`,
:attr:`UpdateRule.buffers`), never its name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sympy as sp

from . import symbols as S
from .vectors import LinearVector

#: Vector atoms of the optimizer state and of the batch gradient.
e = sp.Symbol("e")
v = sp.Symbol("v")
g = sp.Symbol("g")

Vectors = dict[sp.Symbol, LinearVector]

#: Names a hyper-parameter may not take: the parameters every rule and model already
#: has (API names and the names of their symbols), and the step-activity indicator.
RESERVED_NAMES = frozenset({"lr", "beta", "p", "batch", "d", "sigma2", "R0", "a", "eta", "B",
                            "s^2", "R_0", "rho", "time", "steps", "name"})


@dataclass(frozen=True)
class HyperParameter:
    """A scalar hyper-parameter of a rule: its SymPy symbol (its name is the keyword
    of :class:`numerics.inputs.optimizer.Optimizer`), the closed or open interval of
    valid values, and a default (``None``: the user must give it)."""

    symbol: sp.Symbol
    lower: object = None
    upper: object = None
    lower_open: bool = False
    upper_open: bool = False
    default: object = None
    doc: str = ""
    #: A typical value, for checks that run every rule (used when there is no default).
    example: object = None

    @classmethod
    def of(cls, spec) -> HyperParameter:
        """A :class:`HyperParameter` as given, or one made from a bare symbol, its
        interval read off the symbol's assumptions (positive: ``> 0``; nonnegative:
        ``≥ 0``; otherwise any real number)."""
        if isinstance(spec, HyperParameter):
            return spec
        if not isinstance(spec, sp.Symbol):
            raise ValueError(f"hyper-parameters must be SymPy symbols or HyperParameters; "
                             f"got {spec!r}")
        if spec.is_positive:
            return cls(spec, lower=0, lower_open=True)
        if spec.is_nonnegative:
            return cls(spec, lower=0)
        return cls(spec)

    @property
    def name(self) -> str:
        return self.symbol.name

    def interval(self) -> str:
        lo = "-∞" if self.lower is None else str(self.lower)
        hi = "∞" if self.upper is None else str(self.upper)
        left = "(" if self.lower is None or self.lower_open else "["
        right = ")" if self.upper is None or self.upper_open else "]"
        return f"{left}{lo}, {hi}{right}"


@dataclass(frozen=True, eq=False)
class UpdateRule:
    """One optimizer step ``(e, buffers…) ↦ (e', buffers'…)`` as linear vectors in the
    state and ``g``.

    ``state`` starts with ``e``; ``hyper_parameters`` lists the scalars the step uses
    besides ``lr``, ``beta`` and ``a`` (symbols or :class:`HyperParameter`); ``source``
    cites where the method is defined (paper or library); buffers listed in
    ``start_equal_to_error`` start at ``e_0`` (an averaged iterate), the others at 0.
    Rules compare by identity: a rule redefined under the same name is a new rule.
    """

    name: str
    state: tuple[sp.Symbol, ...]
    step: Callable[[Vectors, LinearVector], Vectors]
    summary: str
    latex: str
    hyper_parameters: tuple = ()
    source: str = ""
    start_equal_to_error: tuple[sp.Symbol, ...] = ()
    specs: tuple[HyperParameter, ...] = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "state", tuple(self.state))
        object.__setattr__(self, "start_equal_to_error", tuple(self.start_equal_to_error))
        object.__setattr__(self, "specs", tuple(HyperParameter.of(h) for h in self.hyper_parameters))

    def apply(self) -> Vectors:
        """The next state vectors in terms of the atoms of the state and ``g``."""
        current = {u: LinearVector.atom(u) for u in self.state}
        return self.step(current, LinearVector.atom(g))

    @property
    def buffers(self) -> tuple[sp.Symbol, ...]:
        """The state vectors after ``e``."""
        return self.state[1:]

    def vector(self, name: str) -> sp.Symbol:
        """The state vector called ``name`` (``"e"``, a buffer, ``"ebar"``, …); a
        ``ValueError`` lists the rule's state vectors."""
        for u in self.state:
            if u.name == name:
                return u
        raise ValueError(f"iterate must be a state vector of {self.name!r}, one of "
                         f"{sorted(u.name for u in self.state)}; got {name!r}")

    @property
    def has_momentum(self) -> bool:
        """The rule carries at least one buffer."""
        return bool(self.buffers)

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        """The rule's own hyper-parameter symbols (besides ``lr`` and ``beta``)."""
        return tuple(h.symbol for h in self.specs)

    @property
    def coefficients(self) -> tuple[sp.Expr, ...]:
        """Every scalar coefficient of the update (on the state and ``g``)."""
        return tuple(c for vec in self.apply().values() for c in vec.terms.values())

    @property
    def uses_beta(self) -> bool:
        """The update depends on the momentum parameter ``β``."""
        return any(c.has(S.beta) for c in self.coefficients)

    def example_beta(self, value):
        """``value`` when the rule uses ``β``, else 0: example parameters for checks
        that run every rule."""
        return value if self.uses_beta else 0

    def example_hyper_parameters(self) -> dict[str, object]:
        """Keyword values for every hyper-parameter: its default, else its example, else a
        value inside its interval (for checks that run every rule)."""
        out = {}
        for h in self.specs:
            if h.default is not None or h.example is not None:
                out[h.name] = h.default if h.default is not None else h.example
            elif h.lower is not None and h.upper is not None:
                out[h.name] = (sp.Rational(h.lower) + sp.Rational(h.upper)) / 2
            elif h.lower is not None:
                out[h.name] = sp.Rational(h.lower) + sp.Rational(1, 2)
            elif h.upper is not None:
                out[h.name] = sp.Rational(h.upper) - sp.Rational(1, 2)
            else:
                out[h.name] = sp.Rational(1, 2)
        return out


def _sgd(x: Vectors, grad: LinearVector) -> Vectors:
    # θ ← θ − η g
    return {e: x[e] - S.lr * grad}


def _heavy_ball(x: Vectors, grad: LinearVector) -> Vectors:
    # v ← β v + g,  θ ← θ − η v
    v_new = S.beta * x[v] + grad
    return {e: x[e] - S.lr * v_new, v: v_new}


def _nesterov(x: Vectors, grad: LinearVector) -> Vectors:
    # v ← β v + g,  θ ← θ − η (g + β v)
    v_new = S.beta * x[v] + grad
    return {e: x[e] - S.lr * (grad + S.beta * v_new), v: v_new}


def _lazy(x: Vectors, grad: LinearVector) -> Vectors:
    # active step (a = 1): v ← β v + g, θ ← θ − η v;  inactive step (a = 0): nothing moves
    a = S.active
    v_new = (1 - a) * x[v] + a * (S.beta * x[v] + grad)
    return {e: x[e] - a * S.lr * v_new, v: v_new}


UPDATE_RULES: dict[str, UpdateRule] = {}
BUILT_IN_RULES = (
    UpdateRule("sgd", (e,), _sgd, "θ ← θ − η g", r"\theta \leftarrow \theta - \eta g"),
    UpdateRule("heavy-ball", (e, v), _heavy_ball, "v ← β v + g, θ ← θ − η v",
               r"v \leftarrow \beta v + g,\ \theta \leftarrow \theta - \eta v"),
    UpdateRule("nesterov", (e, v), _nesterov, "v ← β v + g, θ ← θ − η (g + β v)",
               r"v \leftarrow \beta v + g,\ \theta \leftarrow \theta - \eta (g + \beta v)"),
    UpdateRule("lazy", (e, v), _lazy,
               "active step: v ← β v + g, θ ← θ − η v; inactive step: nothing moves",
               r"\text{active step: } v \leftarrow \beta v + g,\ \theta \leftarrow \theta - \eta v;"
               r"\ \text{inactive step: nothing moves}"),
)


#: Scalars every rule may use in its coefficients, besides its own hyper-parameters.
STANDARD_COEFFICIENT_SYMBOLS = frozenset({S.lr, S.beta, S.active})
#: Vector atoms a rule may not use as buffers (the gradient and the data's own atoms).
_RESERVED_VECTORS = frozenset({g})


def _check_state(rule: UpdateRule) -> None:
    if not rule.state or rule.state[0] != e:
        raise ValueError(f"rule state must start with the error e; got {rule.state}")
    if len(set(rule.state)) != len(rule.state):
        raise ValueError(f"rule state has repeated vectors: {rule.state}")
    for u in rule.buffers:
        if not isinstance(u, sp.Symbol) or u in _RESERVED_VECTORS:
            raise ValueError(f"rule buffers must be SymPy symbols other than g; got {u!r}")
        if not u.name.isidentifier():
            raise ValueError(f"rule buffer names must be identifiers; got {u.name!r}")
    if not set(rule.start_equal_to_error) <= set(rule.buffers):
        raise ValueError(f"start_equal_to_error must list buffers of the rule {rule.buffers}; "
                         f"got {rule.start_equal_to_error}")


def _check_hyper_parameters(rule: UpdateRule) -> None:
    names = [h.name for h in rule.specs]
    if len(set(names)) != len(names):
        raise ValueError(f"rule hyper-parameters have repeated names: {names}")
    for h in rule.specs:
        if not h.name.isidentifier() or h.name in RESERVED_NAMES:
            raise ValueError(
                f"hyper-parameter name {h.name!r} must be an identifier other than "
                f"{', '.join(sorted(RESERVED_NAMES))}")
        if h.symbol in rule.state:
            raise ValueError(f"hyper-parameter {h.name!r} is also a state vector")
        for bound in (h.lower, h.upper, h.default):
            if bound is not None and not sp.sympify(bound).is_real:
                raise ValueError(f"hyper-parameter {h.name!r}: bounds and default must be real "
                                 f"numbers; got {bound!r}")


def _check_step(rule: UpdateRule) -> None:
    new = rule.apply()
    if not isinstance(new, Mapping) or set(new) != set(rule.state):
        raise ValueError(f"rule step must return one vector per state vector {rule.state}; "
                         f"got {tuple(new) if isinstance(new, Mapping) else type(new).__name__}")
    allowed = STANDARD_COEFFICIENT_SYMBOLS | set(rule.symbols)
    for u, vec in new.items():
        if not isinstance(vec, LinearVector):
            raise ValueError(f"rule step must return LinearVectors; got {type(vec).__name__} for {u}")
        if not set(vec.terms) <= {*rule.state, g}:
            raise ValueError(f"rule step for {u} uses vectors outside {(*rule.state, g)}: "
                             f"{tuple(vec.terms)}")
        for c in vec.terms.values():
            extra = c.free_symbols - allowed
            if extra:
                raise ValueError(
                    f"rule coefficient {c} has symbols {sorted(map(str, extra))}; allowed: eta "
                    f"(lr), beta, a (step activity) and the rule's hyper-parameters "
                    f"{[h.name for h in rule.specs]} — declare them in hyper_parameters")


#: Rules that ship with the package (registered with ``built_in=True``): they cannot be
#: unregistered.
_BUILT_IN_NAMES: set[str] = set()


def register_rule(rule: UpdateRule, *, built_in: bool = False) -> UpdateRule:
    """Make ``rule`` available by name everywhere (``Optimizer(rule.name, ...)``).

    The rule's state must start with the error ``e``, followed by any number of buffers;
    its step must return a :class:`LinearVector` for each state vector, linear in the
    state and ``g``, with coefficients in ``lr``, ``beta``, the step activity ``a``, the
    rule's declared hyper-parameters and exact numbers.  A name can be registered once
    (unregister it to redefine it).
    """
    if not isinstance(rule, UpdateRule):
        raise ValueError(f"rule must be an UpdateRule; got {type(rule).__name__}")
    if rule.name in UPDATE_RULES:
        if UPDATE_RULES[rule.name] is rule:
            return rule
        raise ValueError(f"rule name {rule.name!r} is already registered")
    if not rule.name or not all(ch.isalnum() or ch in "-_" for ch in rule.name):
        raise ValueError(f"rule name must be letters, digits, '-' and '_'; got {rule.name!r}")
    _check_state(rule)
    _check_hyper_parameters(rule)
    _check_step(rule)
    UPDATE_RULES[rule.name] = rule
    if built_in:
        _BUILT_IN_NAMES.add(rule.name)
    return rule


def is_built_in(name: str) -> bool:
    """``name`` is a rule shipped with the package (it cannot be unregistered or redefined)."""
    return name in _BUILT_IN_NAMES


def unregister_rule(name: str) -> None:
    """Forget a rule registered with :func:`register_rule` (built-in rules stay)."""
    update_rule(name)
    if name in _BUILT_IN_NAMES:
        raise ValueError(f"rule {name!r} is built in and cannot be unregistered")
    del UPDATE_RULES[name]


for _rule in BUILT_IN_RULES:
    register_rule(_rule, built_in=True)


def update_rule(name: str) -> UpdateRule:
    """The update rule called ``name``; a ``ValueError`` lists the valid names."""
    if name not in UPDATE_RULES:
        raise ValueError(
            f"optimizer name must be one of {', '.join(map(repr, UPDATE_RULES))}; got {name!r}"
        )
    return UPDATE_RULES[name]


__all__ = ["UpdateRule", "HyperParameter", "UPDATE_RULES", "BUILT_IN_RULES", "register_rule",
           "unregister_rule", "update_rule", "e", "v", "g"]
