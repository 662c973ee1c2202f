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

import hashlib
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import sympy as sp

from ..core import symbols as S
from ..core.printing import latex_text
from ..core.registry import Registry
from ..core.vectors import LinearVector, NonLinearStep

#: Vector atoms of the optimizer state and of the batch gradient.
e = sp.Symbol("e")
v = sp.Symbol("v")
g = sp.Symbol("g")

Vectors = dict[sp.Symbol, LinearVector]

#: Names a hyper-parameter may not take: the parameters every rule and model already
#: has (API names and the names of their symbols), the step-activity indicator, the
#: classic moments ``R``, ``C``, ``V`` (state symbols of every recursion), the engine's
#: vector atoms, and keywords of the numeric API.  (A hyper-parameter that *equals* any
#: other symbol of the engine is refused too: :func:`engine_symbols`.)
RESERVED_NAMES = frozenset({"lr", "beta", "p", "batch", "d", "sigma2", "R0", "a", "eta", "B",
                            "s^2", "R_0", "rho", "W", "R", "C", "V", "e", "g", "mu_hat",
                            "time", "steps", "name", "self", "schedules", "lr_schedule",
                            "beta_schedule"})


#: Assumptions of a hyper-parameter's symbol that its values must satisfy (SymPy
#: simplifies with them: ``Abs(ν) → −ν`` for a negative ``ν``).
_VALUE_ASSUMPTIONS = ("positive", "nonnegative", "negative", "nonpositive", "nonzero", "zero",
                      "integer", "real")


@dataclass(frozen=True)
class HyperParameter:
    r"""A scalar hyper-parameter of a rule: its SymPy symbol (its name is the keyword of
    :class:`sparsemom.numerics.inputs.optimizer.Optimizer`), the closed or open interval of valid
    values, and a default.

    Parameters
    ----------
    symbol : sympy.Symbol
        The hyper-parameter as the rule's step uses it; its name is the keyword.
    lower, upper : number or None
        The interval of valid values (``None``: unbounded on that side).  An interval within
        $[0, 1]$ makes the generated code compute $1 - u$ from the float $u$ and keep its digits
        as $u \to 1$.
    lower_open, upper_open : bool
        Whether that end of the interval is excluded.
    default : number or None
        The value when the optimizer omits it (``None``: the user must give it).
    doc : str
        What it means.
    example : number or None
        A typical value, for checks that run every rule (used when there is no default).
    """

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

    @property
    def within_unit_interval(self) -> bool:
        """The declared interval lies within ``[0, 1]`` (a retention, a dampening, a
        weight): float code keeps ``1 − h`` apart as ``h → 1``."""
        return (self.lower is not None and self.upper is not None
                and sp.sympify(self.lower) >= 0 and sp.sympify(self.upper) <= 1)

    def interval(self) -> str:
        lo = "-∞" if self.lower is None else str(self.lower)
        hi = "∞" if self.upper is None else str(self.upper)
        left = "(" if self.lower is None or self.lower_open else "["
        right = ")" if self.upper is None or self.upper_open else "]"
        return f"{left}{lo}, {hi}{right}"

    def example_value(self):
        """Its default, else its example, else a value inside its interval (the midpoint,
        ½ inside a one-sided bound, or ½)."""
        if self.default is not None or self.example is not None:
            return self.default if self.default is not None else self.example
        if self.lower is not None and self.upper is not None:
            return (sp.Rational(self.lower) + sp.Rational(self.upper)) / 2
        if self.lower is not None:
            return sp.Rational(self.lower) + sp.Rational(1, 2)
        if self.upper is not None:
            return sp.Rational(self.upper) - sp.Rational(1, 2)
        return sp.Rational(1, 2)

    def check_values(self, what: str) -> None:
        """Its bounds, default and example are real numbers, and they and a value inside
        its interval satisfy its symbol's assumptions (a ``negative`` symbol declared on
        ``[0, 1]`` would be simplified for values it never takes); a ``ValueError`` naming
        it as ``what`` (``"hyper-parameter"``, ``"law parameter"``) otherwise."""
        for bound in (self.lower, self.upper, self.default, self.example):
            if bound is not None and not sp.sympify(bound).is_real:
                raise ValueError(f"{what} {self.name!r}: bounds, default and example must be "
                                 f"real numbers; got {bound!r}")
        candidates = ((self.lower, "bound", not self.lower_open),
                      (self.upper, "bound", not self.upper_open), (self.default, "value", True),
                      (self.example, "value", True), (self.example_value(), "inside", True))
        for x, kind in ((sp.sympify(x), kind) for x, kind, taken in candidates
                        if x is not None and taken):
            for assumption in _VALUE_ASSUMPTIONS:
                if kind == "inside" and assumption == "integer":
                    continue  # a value inside an integer's interval need not be an integer
                if getattr(self.symbol, f"is_{assumption}") and \
                        getattr(x, f"is_{assumption}") is False:
                    raise ValueError(
                        f"{what} {self.name!r} is declared {assumption} (its symbol's "
                        f"assumptions) but its interval {self.interval()} or default admits "
                        f"{x}: make the interval and the assumptions agree")


#: The hyper-parameters every rule has: ``η > 0`` and ``β ∈ [0, 1)``.
STANDARD_HYPER_PARAMETERS = (HyperParameter(S.lr, lower=0, lower_open=True),
                             HyperParameter(S.beta, lower=0, upper=1, upper_open=True))


@dataclass(frozen=True, eq=False)
class UpdateRule:
    r"""One optimizer step $(e, \text{buffers}) \mapsto (e', \text{buffers}')$ as linear vectors in
    the state and the batch gradient $g$, e.g. heavy ball $v' = \beta v + g$,
    $e' = e - \eta v'$.

    Rules compare by identity: a rule redefined under the same name is a new rule;
    :attr:`definition` identifies what the rule *is* (equal for equal definitions).

    Parameters
    ----------
    name : str
        The rule's name (``Optimizer(name, …)``).
    state : tuple of sympy.Symbol
        The state vectors: the error ``e`` first, then any number of buffers.
    step : callable
        ``step(x, g)``: ``x`` maps each state vector to a
        :class:`~sparsemom.derivations.core.vectors.LinearVector`; returns the new state by
        the same keys, linear in the state and ``g``, with coefficients in ``lr``, ``beta``,
        the step activity ``a``, the rule's hyper-parameters and exact numbers.
    summary : str
        The update in plain text (``"v ← β v + g, θ ← θ − η v"``).
    latex : str
        The update in LaTeX.
    hyper_parameters : tuple
        The scalars the step uses besides ``lr``, ``beta`` and ``a`` (symbols or
        :class:`HyperParameter`).
    source : str
        Where the method is defined (paper or library).
    start_equal_to_error : tuple of sympy.Symbol
        Buffers that start at $e_0$ (an averaged iterate); the others start at 0.
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

    @cached_property
    def definition(self) -> str:
        """SHA-256 of everything that defines the rule: its name, texts and source, state
        vectors, hyper-parameters (symbols, intervals, defaults, examples), the buffers
        that start at ``e_0``, and the canonical form of its step ``(state, g) ↦ state'``.
        Two rule objects with equal definitions derive the same results."""
        new = self.apply()
        step = tuple((u, tuple(sorted(((a, sp.sympify(c)) for a, c in new[u].terms.items()),
                                      key=lambda t: sp.default_sort_key(t[0]))))
                     for u in self.state)
        specs = tuple((h.symbol, *(None if x is None else sp.sympify(x) for x in
                                   (h.lower, h.upper, h.default, h.example)),
                       h.lower_open, h.upper_open, h.doc) for h in self.specs)
        parts = (self.name, self.summary, self.latex, self.source, self.state, specs,
                 self.start_equal_to_error, step)
        return hashlib.sha256(sp.srepr(parts).encode()).hexdigest()

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
    def unit_interval(self) -> tuple[sp.Symbol, ...]:
        """``β`` and the rule's own hyper-parameters declared within ``[0, 1]``."""
        return tuple(h.symbol for h in (*STANDARD_HYPER_PARAMETERS, *self.specs)
                     if h.within_unit_interval)

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

    def latex_parameter_text(self) -> str:
        """The rule's parameters named in documents: ``η``, ``β`` when the update uses it,
        and the rule's own hyper-parameters with their ``doc``."""
        names = [r"$\eta$ learning rate", *([r"$\beta$ momentum"] if self.uses_beta else []),
                 *(f"${sp.latex(h.symbol)}$ {latex_text(h.doc) or 'a hyper-parameter of the rule'}"
                   for h in self.specs)]
        return ", ".join(names)

    def example_beta(self, value):
        """``value`` when the rule uses ``β``, else 0: example parameters for checks
        that run every rule."""
        return value if self.uses_beta else 0

    def example_hyper_parameters(self) -> dict[str, object]:
        """Keyword values for every hyper-parameter (:meth:`HyperParameter.example_value`),
        for checks that run every rule."""
        return {h.name: h.example_value() for h in self.specs}


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


#: Every registered rule by name.
_RULES = Registry("rule", "optimizer name")
UPDATE_RULES: dict[str, UpdateRule] = _RULES.entries
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
#: Names a buffer may not take: the gradient and the vector atoms the data laws use in
#: derived results (the rare-class direction).  Every other identifier works: the
#: engine's per-sample atoms and probes are ``Dummy`` symbols no rule can name.
RESERVED_VECTOR_NAMES = frozenset({g.name, S.mu_hat.name})


@lru_cache(maxsize=1)
def engine_symbols() -> frozenset:
    """Every symbol the engine's modules of :mod:`derivations` define at module level
    (parameters, exponents, generating-function and eigenvalue variables, statistics, …):
    a rule's hyper-parameter equal to one of them would be taken for it in some
    derivation.  Modules that define rules (``DEFINES_RULES``) hold rules' symbols, which
    users may reuse."""
    package = importlib.import_module(__package__.rpartition(".")[0])   # derivations
    found = set()
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        module = importlib.import_module(info.name)
        if getattr(module, "DEFINES_RULES", False):
            continue
        found.update(x for x in vars(module).values()
                     if isinstance(x, sp.Symbol) and not isinstance(x, sp.Dummy))
    return frozenset(found)


def _check_state(rule: UpdateRule) -> None:
    if not rule.state or rule.state[0] != e:
        raise ValueError(f"rule state must start with the error e; got {rule.state}")
    if len(set(rule.state)) != len(rule.state):
        raise ValueError(f"rule state has repeated vectors: {rule.state}")
    for u in rule.buffers:
        if not isinstance(u, sp.Symbol) or isinstance(u, sp.Dummy) \
                or u.name in RESERVED_VECTOR_NAMES:
            raise ValueError(f"rule buffers must be SymPy symbols named other than "
                             f"{', '.join(sorted(RESERVED_VECTOR_NAMES))}; got {u!r}")
        if not u.name.isidentifier():
            raise ValueError(f"rule buffer names must be identifiers; got {u.name!r}")
    names = [u.name for u in rule.state]
    if len(set(names)) != len(names):
        raise ValueError(f"rule state vectors must have distinct names; got {names}")
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
        if h.name in {u.name for u in rule.state}:
            raise ValueError(f"hyper-parameter {h.name!r} has the name of a state vector of "
                             f"the rule; give it another name")
        h.check_values("hyper-parameter")


def _check_engine_symbols(rule: UpdateRule) -> None:
    """A user rule's hyper-parameter must not be one of the engine's own symbols."""
    clash = sorted(h.name for h in rule.specs if h.symbol in engine_symbols()
                   or any(family.holds(h.name) for family in S.FAMILIES))
    if clash:
        raise ValueError(f"hyper-parameter(s) {clash} are symbols the engine uses itself (same "
                         "name and assumptions, or the name of one of its indexed families "
                         f"{', '.join(f.prefix + '_1' for f in S.FAMILIES)}, …); give them "
                         "other names or assumptions")


def _check_step(rule: UpdateRule) -> None:
    try:
        new = rule.apply()
    except NonLinearStep:
        raise
    except (TypeError, AttributeError, sp.SympifyError) as exc:
        raise ValueError(f"rule {rule.name!r}: its step failed when applied to symbolic "
                         f"vectors: {type(exc).__name__}: {exc} (a step must be linear in its "
                         f"state vectors and g, with scalar coefficients: x[v] * beta, "
                         f"grad / 2, …)") from None
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
            floats = sorted(c.atoms(sp.Float), key=abs)
            if floats:
                exact = [sp.nsimplify(abs(f), rational=True) for f in floats]
                raise ValueError(
                    f"rule coefficient {c} of the step for {u} holds the float(s) "
                    f"{', '.join(str(float(abs(f))) for f in floats)}; coefficients must be "
                    f"exact numbers: write "
                    f"{', '.join(f'sp.Rational({q.p}, {q.q})' for q in exact)} instead, or "
                    f"declare a hyper-parameter and give its value to the Optimizer")
            if c.has(sp.I, sp.oo, -sp.oo, sp.zoo, sp.nan):
                raise ValueError(f"rule coefficient {c} of the step for {u} is not a real, finite "
                                 "number: coefficients must be real and finite")
            extreme = sorted(str(sp.N(x, 3)) for x in c.atoms(sp.Rational)
                             if x != 0 and not 1e-300 < abs(x) < 1e300)
            if extreme:
                raise ValueError(f"a rule coefficient of the step for {u} holds "
                                 f"{', '.join(extreme)}, outside float64's range (1e-300, 1e300) "
                                 "in absolute value")
            extra = c.free_symbols - allowed
            if extra:
                raise ValueError(
                    f"rule coefficient {c} has symbols {sorted(map(str, extra))}; allowed: eta "
                    f"(lr), beta, a (step activity) and the rule's hyper-parameters "
                    f"{[h.name for h in rule.specs]} — declare them in hyper_parameters")


def register_rule(rule: UpdateRule, *, replace: bool = False,
                  built_in: bool = False) -> UpdateRule:
    """Make ``rule`` available by name everywhere (``Optimizer(rule.name, ...)``) and return the
    registered rule.

    The rule's state must start with the error ``e``, followed by any number of buffers; its
    step must return a :class:`LinearVector` for each state vector, linear in the state and
    ``g``, with coefficients in ``lr``, ``beta``, the step activity ``a``, the rule's declared
    hyper-parameters and exact numbers.  Registering a rule whose
    :attr:`~UpdateRule.definition` equals the registered one's again (a re-run notebook cell)
    changes nothing; another definition under a registered name needs ``replace=True`` (its
    results are then derived afresh, and an
    :class:`~sparsemom.numerics.inputs.optimizer.Optimizer` made for the old rule is refused).
    Built-in rules are never replaced.

    Parameters
    ----------
    rule : UpdateRule
        The rule to register.
    replace : bool
        Replace another definition registered under the same name.
    built_in : bool
        Register as built in (the package's own rules: never replaced nor unregistered).

    Returns
    -------
    UpdateRule
        The registered rule (the one already registered when the definitions are equal).
    """
    if not isinstance(rule, UpdateRule):
        raise ValueError(f"rule must be an UpdateRule; got {type(rule).__name__}")
    if UPDATE_RULES.get(rule.name) is rule:
        return rule
    _RULES.check_name(rule.name)
    _check_state(rule)
    _check_hyper_parameters(rule)
    _check_step(rule)
    if not built_in:
        _check_engine_symbols(rule)
    return _RULES.add(rule, replace=replace, built_in=built_in)


def is_built_in(name: str) -> bool:
    """``name`` is a rule shipped with the package (it cannot be unregistered or redefined)."""
    return _RULES.is_built_in(name)


def unregister_rule(name: str) -> None:
    """Forget a rule registered with :func:`register_rule` (built-in rules stay).

    Parameters
    ----------
    name : str
        The rule's name.
    """
    _RULES.remove(name)


for _rule in BUILT_IN_RULES:
    register_rule(_rule, built_in=True)


def update_rule(name: str) -> UpdateRule:
    """The update rule called ``name``; a ``ValueError`` lists the valid names.

    Parameters
    ----------
    name : str
        A registered rule's name (``"sgd"``, ``"heavy-ball"``, …, or one of
        :func:`register_rule`).

    Returns
    -------
    UpdateRule
        The registered rule.
    """
    return _RULES.get(name)


__all__ = ["UpdateRule", "HyperParameter", "UPDATE_RULES", "BUILT_IN_RULES", "register_rule",
           "unregister_rule", "update_rule", "e", "v", "g"]
