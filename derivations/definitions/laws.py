"""Data laws as definitions: what one sample is, its gradient, and the risk.

A :class:`DataLaw` declares, symbolically,

* its **parameters** (:class:`LawParameter`: a SymPy symbol, an interval, scalar or one
  value per row) besides the dimension ``d``, the batch ``B`` and — when the law uses it —
  the row's activity probability ``p``;
* its **ingredients**, the random quantities of one sample, from the vocabulary of
  :mod:`sparsemom.derivations.definitions.ingredients` (a token mask, other masks, scalars and vectors of
  i.i.d. entries from Gaussian, discrete or Student-t distributions);
* the per-sample **gradient** ``G_b`` (a :class:`~sparsemom.derivations.core.vectors.LinearVector` in
  the sample's vectors and the error ``e``, affine in ``e``), and
* the **risk** ``R`` as a linear function of ``‖e‖²``.

The engine asks a law for these properties, never its name: the expectation engine
(:mod:`sparsemom.derivations.engine.expectation`) integrates the ingredients, a law with a token mask has
sparse updates (``P(a step updates the row) = p_B = 1 − (1 − p)^B``), a law without one
dense updates.  A law whose second moments do not close at finite ``d`` carries a
``closure`` (the rare-class law's mean-field statistics, :mod:`sparsemom.derivations.rare_class.statistics`)
that supplies its moment recursion.

:func:`register_law` makes a law available by name everywhere (``Model(law, …)``,
``derive_recursion(law.name, …)``), mirroring :func:`~sparsemom.derivations.definitions.optimizers.register_rule`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from ..core import symbols as S
from ..core.printing import latex_text
from ..core.registry import Registry
from ..core.symbols import Sample, sample_symbols
from ..core.vectors import Dot, LinearVector
from .ingredients import Gaussian, Ingredient, Scalar, TokenMask, Vector, gaussian_noise
from .optimizers import RESERVED_NAMES, HyperParameter, e, engine_symbols

#: Model symbols a user law may declare as its own parameter, under their API names: the
#: label-noise variance ``s²`` (keyword ``sigma2``), which the scaling limits know.
STANDARD_LAW_SYMBOLS = frozenset({S.sigma2})
API_NAMES = {S.sigma2: "sigma2"}

#: This module defines laws (the architecture test lets it name them).
DEFINES_LAWS = True

#: Names of the numeric model's own arguments (``Model(law, d, R0, **parameters)``).
MODEL_ARGUMENTS = frozenset({"law", "d", "R0"})

#: ``‖e‖²``, the argument of a law's risk functional.
ERROR_ENERGY = sp.Symbol("‖e‖²", nonnegative=True)


@dataclass(frozen=True)
class RowCoupling:
    r"""The modes of one row are coupled through the row's prediction error.

    A law with a coupling describes one *mode* of a row (its own error vector ``e``, of
    dimension ``d``); the rest of the row enters the mode's gradient only through a
    scalar ingredient whose variance is the symbol ``variance`` (declared
    ``nonnegative``): for mode ``j``,

    $$\varrho_j = \sum_{i \ne j} w_i \lVert e_i \rVert^2,$$

    $w_i \ge 0$ = ``weight`` evaluated at mode ``i`` (for Gaussian data ``x ~ N(0, K)`` in ``K``'s
    eigenbasis: ``weight = λ``, and $\varrho_j$ is the variance of $\sum_{i \ne j} x_i e_i$).
    The derived mode recursion is then $X_j' = A_j X_j + c_j + u_j \varrho_j$ with
    $u_j = \partial c_j / \partial \varrho$; in expectation
    $E \varrho_j = \langle q, X \rangle - q_j \cdot X_j$ with the row vector $q_i = w_i$ on
    $E \lVert e_i \rVert^2$: block diagonal plus rank one.

    Parameters
    ----------
    variance : sympy.Symbol
        The variance $\varrho$ of the scalar ingredient through which the other modes enter.
    weight : sympy.Expr
        $w \ge 0$, an expression in the law's parameters: mode ``i``'s weight in $\varrho$.
    doc : str
        What the coupling means, for documents.
    """

    variance: sp.Symbol
    weight: object
    doc: str = ""

    @property
    def free_symbols(self) -> set:
        return sp.sympify(self.weight).free_symbols

    def canonical(self) -> tuple:
        return (self.variance, sp.sympify(self.weight), self.doc)


@dataclass(frozen=True)
class LawParameter(HyperParameter):
    """A parameter of a data law: a :class:`~sparsemom.derivations.definitions.optimizers.HyperParameter`
    that may take one value per row.

    Parameters
    ----------
    symbol : sympy.Symbol
        The parameter as the law's expressions use it.
    lower, upper : number or None
        The interval of valid values (``None``: unbounded on that side).
    lower_open, upper_open : bool
        Whether that end of the interval is excluded.
    default : number or None
        The value when a :class:`~sparsemom.numerics.inputs.models.Model` omits it (``None``:
        required).
    doc : str
        What the parameter means.
    example : number or None
        A valid value for checks that run every law (default: one inside the interval).
    per_row : bool
        Whether it may take one value per row (an array over a token stream's rows).
    keyword : str or None
        Its keyword in :class:`~sparsemom.numerics.inputs.models.Model` (default: the symbol's
        name).
    """

    per_row: bool = True
    keyword: str | None = None

    @classmethod
    def of(cls, spec) -> LawParameter:
        if isinstance(spec, LawParameter):
            return spec
        h = HyperParameter.of(spec)
        return cls(h.symbol, h.lower, h.upper, h.lower_open, h.upper_open, h.default, h.doc,
                   h.example)

    @property
    def name(self) -> str:
        return self.keyword or self.symbol.name


@dataclass(frozen=True, eq=False)
class DataLaw:
    r"""A data law: what one sample draws, its per-sample gradient and the risk (see the module
    docstring).

    For a row with error $e = \theta - \theta^\ast$ the engine takes
    $E[\,\cdot \mid e, \text{buffers}]$ of an update rule's step over the batch mean
    $g = \frac{1}{B} \sum_b \nabla \ell_b$ of ``gradient``; the risk of a row is
    ``risk`` of $\lVert e \rVert^2$.  Laws compare by identity; :attr:`definition` identifies
    what a law *is*.

    Parameters
    ----------
    name : str
        The law's name (``Model(name, …)``, ``derive_recursion(name, …)``).
    title : str
        A short description for documents.
    ingredients : Mapping[str, Ingredient]
        What one sample draws, by name (:mod:`sparsemom.derivations.definitions.ingredients`).
    gradient : callable
        ``gradient(sample, e)``: the per-sample gradient as a
        :class:`~sparsemom.derivations.core.vectors.LinearVector`, reading the ingredients off
        ``sample`` by name (``sample.x``, ``sample.xi``).
    risk : callable
        ``risk(energy)``: the risk of one row in terms of ``energy`` $= \lVert e \rVert^2$
        (linear in it).
    parameters : tuple
        The law's parameters (:class:`LawParameter` or bare symbols).
    parameter_text : str
        The LaTeX naming the law's parameters in documents, after the update rule's
        (``"$s^2$ label-noise variance, …, $R_0 = \\|e_0\\|^2$."``; default: made from them).
    source : str
        Where the law comes from.
    closure : object
        For a law whose second moments do not close: supplies ``moment_recursion(model,
        optimizer, time_rule)``, ``sample_expectation(projection)`` and ``risks()``.
    coupling : RowCoupling or None
        For a law of one mode of a row whose modes couple through the row's prediction
        (``None``: rows are independent).
    """

    name: str
    title: str
    ingredients: Mapping[str, Ingredient]
    gradient: Callable[[Sample, sp.Symbol], LinearVector]
    risk: Callable[[sp.Expr], sp.Expr]
    parameters: tuple = ()
    parameter_text: str = ""
    source: str = ""
    #: For a law whose second moments do not close: supplies ``moment_recursion(model,
    #: optimizer, time_rule)``, ``sample_expectation(projection)`` and ``risks()``.
    closure: object = None
    #: For a law of one mode of a row whose modes couple through the row's prediction
    #: (:class:`RowCoupling`); ``None``: rows are independent.
    coupling: RowCoupling | None = None
    specs: tuple[LawParameter, ...] = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "ingredients", dict(self.ingredients))
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "specs", tuple(LawParameter.of(h) for h in self.parameters))

    # -- what the engine asks ---------------------------------------------------------
    @property
    def closed_moments(self) -> bool:
        """The second moments close at every finite ``d`` (no ``closure`` needed)."""
        return self.closure is None

    @property
    def token_mask(self) -> str | None:
        """The name of the ingredient that marks the row's token, if any."""
        return next((n for n, x in self.ingredients.items() if isinstance(x, TokenMask)), None)

    @property
    def active_probability(self) -> sp.Expr:
        """``P(a step updates the row)``: ``p_B = 1 − (1 − p)^B`` with a token mask, else 1."""
        return S.active_probability if self.token_mask else sp.Integer(1)

    @cached_property
    def idle_without_token(self) -> bool:
        """``G = 0`` for a sample without the row's token (``m = 0``): a step whose batch
        does not hold the token leaves the row's gradient at 0.  True without a token mask
        (every step is active)."""
        if not self.token_mask:
            return True
        sample = self.sample(1)
        token = sample.atoms[self.token_mask]
        return all(sp.expand(sp.sympify(c).xreplace({token: 0})) == 0
                   for c in self.gradient(sample, e).terms.values())

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        """The law's own parameter symbols, in declaration order."""
        return tuple(h.symbol for h in self.specs)

    @cached_property
    def uses_p(self) -> bool:
        """The law has a token mask or uses the activity probability ``p`` elsewhere."""
        if self.token_mask:
            return True
        return S.p in self._free_symbols()

    @property
    def model_symbols(self) -> tuple[sp.Symbol, ...]:
        """The model's symbols in the order numeric code passes them: ``p`` (when used),
        ``B``, ``d``, then the law's own parameters."""
        return ((S.p,) if self.uses_p else ()) + (S.batch, S.d, *self.symbols)

    def sample(self, b: int) -> Sample:
        """The symbols of sample ``b`` (1-based) of a batch."""
        return sample_symbols(b, self.ingredients)

    def sample_gradient(self, sample: Sample, error: sp.Symbol) -> LinearVector:
        """``G_b`` for ``sample`` at the error atom ``error``."""
        return self.gradient(sample, error)

    def vectors(self, sample: Sample) -> dict[sp.Symbol, Vector]:
        """The sample's vector atoms and their ingredients."""
        return {sample.atoms[n]: x for n, x in self.ingredients.items() if x.shape == "vector"}

    @cached_property
    def moment_orders(self) -> dict[str, int]:
        """The highest moment of each ingredient the second moments use: twice the degree
        of the gradient in it (a vector's degree counts its slots in inner products)."""
        sample = self.sample(1)
        grad = self.gradient(sample, e)
        slot = sp.Dummy("slot")
        out = {}
        for name, atom in sample.atoms.items():
            degree = 0
            for vector, c in grad.terms.items():
                c = sp.sympify(c)
                c = c.xreplace({atom: slot, **{dd: dd * slot ** dd.args.count(atom)
                                               for dd in c.atoms(Dot) if atom in dd.args}})
                try:
                    poly = sp.Poly(c, slot)
                except sp.PolynomialError:
                    poly = None
                if poly is None or any(slot in g.free_symbols for g in poly.gens[1:]):
                    raise ValueError(f"law gradient coefficient {grad.terms[vector]} must be "
                                     f"a polynomial in the sample's ingredient {name!r}")
                degree = max(degree, poly.degree() + (vector == atom))
            out[name] = 2 * degree
        return out

    @cached_property
    def requirements(self) -> tuple[tuple[str, sp.Expr, bool, str], ...]:
        """``(ingredient, f, strict, why)``: the law's ingredients are distributions with the
        finite moments its second moments use (:attr:`moment_orders`) where every ``f ≥ 0``
        (``> 0`` when strict) at the model's parameters; those that hold for every value
        of the symbols (by their assumptions) are left out."""
        out = []
        for name, x in self.ingredients.items():
            for f, strict, why in x.requirements(self.moment_orders.get(name, 0)):
                f = sp.sympify(f)
                if not (f.is_positive if strict else f.is_nonnegative):
                    out.append((name, f, strict, why))
        return tuple(out)

    def _free_symbols(self) -> set:
        sample = self.sample(1)
        out = set().union(*(x.free_symbols for x in self.ingredients.values()))
        grad = self.gradient(sample, e)
        if isinstance(grad, LinearVector):
            for c in grad.terms.values():
                out |= {s for s in _scalar_symbols(c) if not isinstance(s, sp.Dummy)}
        out |= sp.sympify(self.risk(ERROR_ENERGY)).free_symbols - {ERROR_ENERGY}
        return out

    @cached_property
    def definition(self) -> str:
        """SHA-256 of everything that defines the law: name, texts, source, parameters
        (symbols, intervals, defaults, per row), ingredients, the gradient of a sample whose
        atoms are renamed canonically, and the risk.  Equal for equal definitions."""
        sample = self.sample(1)
        canonical = {atom: sp.Symbol(f"⟪{n}⟫") for n, atom in sample.atoms.items()}
        grad = self.gradient(sample, e)
        terms = tuple(sorted(((canonical.get(a, a), sp.sympify(c).xreplace(canonical))
                              for a, c in grad.terms.items()),
                             key=lambda t: sp.default_sort_key(t[0])))
        specs = tuple((h.symbol, h.keyword, h.per_row, *(None if x is None else sp.sympify(x)
                                                          for x in (h.lower, h.upper, h.default,
                                                                    h.example)),
                       h.lower_open, h.upper_open, h.doc) for h in self.specs)
        ingredients = tuple((n, x.canonical()) for n, x in self.ingredients.items())
        parts = (self.name, self.title, self.parameter_text, self.source, specs, ingredients,
                 terms, sp.sympify(self.risk(ERROR_ENERGY)), self.closure is None)
        if self.coupling is not None:
            parts += (self.coupling.canonical(),)
        return hashlib.sha256(sp.srepr(parts).encode()).hexdigest()

    def risk_weight(self) -> sp.Expr:
        """``w`` with ``R = w ‖e‖²``."""
        return sp.diff(sp.sympify(self.risk(ERROR_ENERGY)), ERROR_ENERGY)

    def latex_parameter_text(self, rule=None) -> str:
        """The sentence naming the parameters in documents: the update rule's
        (:meth:`~sparsemom.derivations.definitions.optimizers.UpdateRule.latex_parameter_text`;
        without a rule, ``η`` and ``β``), then the law's (:attr:`parameter_text`, else made
        from its parameters)."""
        head = (rule.latex_parameter_text() if rule is not None
                else r"$\eta$ learning rate, $\beta$ momentum")
        if self.parameter_text:
            return f"Parameters: {head}, {self.parameter_text}"
        own = ", ".join(f"${sp.latex(h.symbol)}$ {latex_text(h.doc) or 'a parameter of the law'}"
                        for h in self.specs)
        p = r"$p$ activity probability, " if self.uses_p else ""
        return (f"Parameters: {head}, " + p + r"$B$ batch size, $d$ dimension"
                + (f", {own}" if own else "") + r", $R_0 = \|e_0\|^2$.")

    def __repr__(self) -> str:
        return f"DataLaw({self.name!r})"


def _scalar_symbols(expr: sp.Expr) -> set:
    """The free symbols of ``expr`` outside its inner products."""
    expr = sp.sympify(expr)
    return expr.xreplace({dd: sp.Integer(1) for dd in expr.atoms(Dot)}).free_symbols


#: Every registered law by name.
_LAWS = Registry("law", "model")
LAWS: dict[str, DataLaw] = _LAWS.entries


def is_built_in_law(name: str) -> bool:
    """``name`` is a law shipped with the package."""
    return _LAWS.is_built_in(name)


def _check_ingredients(law: DataLaw) -> None:
    if not isinstance(law.ingredients, Mapping) or not law.ingredients:
        raise ValueError("law ingredients must be a non-empty mapping of names to ingredients")
    for name, x in law.ingredients.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"law ingredient names must be identifiers; got {name!r}")
        if not isinstance(x, Ingredient):
            raise ValueError(f"law ingredient {name!r} must be one of TokenMask, Mask, Scalar, "
                             f"Vector (sparsemom.derivations.definitions.ingredients); got {type(x).__name__}")
        if isinstance(x, Vector) and sp.simplify(x.distribution.moment(1)) != 0:
            raise ValueError(f"law ingredient {name!r}: a vector's entries must have mean zero; "
                             f"the mean of {x.distribution} is {sp.simplify(x.distribution.moment(1))}")
    masks = [n for n, x in law.ingredients.items() if isinstance(x, TokenMask)]
    if len(masks) > 1:
        raise ValueError(f"a law has at most one TokenMask (the row's token); got {masks}")


def _check_parameters(law: DataLaw, built_in: bool) -> None:
    names = [h.name for h in law.specs]
    if len(set(names)) != len(names) or len(set(law.symbols)) != len(law.symbols):
        raise ValueError(f"law parameters have repeated names: {names}")
    for h in law.specs:
        if not h.name.isidentifier():
            raise ValueError(f"law parameter name {h.name!r} must be an identifier")
        if built_in or (h.symbol in STANDARD_LAW_SYMBOLS and h.name == API_NAMES[h.symbol]):
            continue
        reserved = RESERVED_NAMES | MODEL_ARGUMENTS
        if h.name in reserved or h.symbol.name in reserved or h.name in law.ingredients:
            raise ValueError(f"law parameter name {h.name!r} must be an identifier other than "
                             f"the law's ingredients and {', '.join(sorted(reserved))}")
        if h.symbol in engine_symbols() or any(f.holds(h.symbol.name) for f in S.FAMILIES):
            raise ValueError(f"law parameter {h.name!r} is a symbol the engine uses itself; "
                             "give it another name or assumptions")
        h.check_values("law parameter")


def _check_exact(what: str, expr: sp.Expr) -> None:
    if expr.atoms(sp.Float):
        raise ValueError(f"{what} {expr} holds float(s); write exact numbers "
                         "(sp.Rational(1, 10), not 0.1)")
    if expr.has(sp.I, sp.oo, -sp.oo, sp.zoo, sp.nan):
        raise ValueError(f"{what} {expr} is not real and finite")


def _check_coupling(law: DataLaw, built_in: bool) -> None:
    """A coupling's variance is a fresh nonnegative symbol used only by the scalar
    ingredients (:func:`_check_definition`); its weight an exact expression in the law's
    parameters, nonnegative for every value of them (``ρ_j`` is a variance)."""
    c = law.coupling
    if c is None:
        return
    if not isinstance(c, RowCoupling):
        raise ValueError(f"law coupling must be a RowCoupling; got {type(c).__name__}")
    if not isinstance(c.variance, sp.Symbol) or not c.variance.is_nonnegative:
        raise ValueError(f"law coupling variance must be a SymPy symbol declared "
                         f"nonnegative=True; got {c.variance!r}")
    if c.variance in {S.d, S.p, *law.symbols} or (not built_in and c.variance in engine_symbols()):
        raise ValueError(f"law coupling variance {c.variance} must be a symbol of its own "
                         "(not a parameter of the law or a symbol the engine uses)")
    weight = sp.sympify(c.weight)
    _check_exact("law coupling weight", weight)
    extra = weight.free_symbols - {S.d, S.p, *law.symbols}
    if extra:
        raise ValueError(f"law coupling weight uses undeclared symbols {sorted(map(str, extra))}")
    if not weight.is_nonnegative:
        raise ValueError(f"law coupling weight {weight} must be ≥ 0 for every value of the law's "
                         "parameters (ρ_j = Σ_{i≠j} weight_i ‖e_i‖² is a variance), as SymPy "
                         "reads it from the symbols' assumptions (e.g. positive=True)")
    if law.token_mask:
        raise ValueError("a coupled law has dense gradients (its modes share one clock); "
                         "it may not have a TokenMask")


def _check_definition(law: DataLaw) -> None:
    allowed = {S.d, S.p, *law.symbols}
    coupled = {law.coupling.variance} if law.coupling else set()
    for name, x in law.ingredients.items():
        if x.free_symbols & coupled and not isinstance(x, Scalar):
            raise ValueError(f"law ingredient {name!r}: the coupled variance "
                             f"{law.coupling.variance} may only be the variance of a scalar "
                             "ingredient (the rest of the row's prediction error)")
        extra = x.free_symbols - allowed - coupled
        if extra:
            raise ValueError(f"law ingredient {name!r} uses undeclared symbols "
                             f"{sorted(map(str, extra))}; declare them in parameters")
        for a in getattr(getattr(x, "distribution", None), "arguments", ()) + \
                ((sp.sympify(x.probability),) if hasattr(x, "probability") else ()):
            _check_exact(f"law ingredient {name!r}:", sp.sympify(a))
    sample = law.sample(1)
    try:
        grad = law.gradient(sample, e)
    except (TypeError, AttributeError, ArithmeticError, sp.SympifyError) as exc:
        raise ValueError(f"law {law.name!r}: its gradient failed on a symbolic sample: "
                         f"{type(exc).__name__}: {exc}") from None
    if not isinstance(grad, LinearVector):
        raise ValueError(f"law gradient must return a LinearVector; got {type(grad).__name__}")
    vectors = set(law.vectors(sample))
    if not set(grad.terms) <= vectors | {e}:
        raise ValueError(f"law gradient is a combination of the sample's vectors and e; it uses "
                         f"{sorted(map(str, set(grad.terms) - vectors - {e}))}")
    scalars = {sample.atoms[n] for n, x in law.ingredients.items() if x.shape != "vector"}
    projections = {Dot(x, e) for x in vectors}
    for atom, c in grad.terms.items():
        c = sp.sympify(c)
        _check_exact("law gradient coefficient", c)
        _check_not_coupled(law, "gradient", c)
        dots = c.atoms(Dot)
        foreign = {dd for dd in dots if dd not in projections and not
                   (set(dd.args) <= vectors)}
        if foreign:
            raise ValueError(f"law gradient coefficient {c} holds inner products "
                             f"{sorted(map(str, foreign))}: coefficients may use ⟨x, e⟩ and "
                             "inner products of the sample's vectors")
        extra = {s for s in _scalar_symbols(c) if s not in allowed | scalars}
        if extra:
            raise ValueError(f"law gradient uses undeclared symbols {sorted(map(str, extra))}; "
                             "declare them in parameters")
        degree = sp.Poly(c, *projections).total_degree() if projections else 0
        if degree > (0 if atom == e else 1):
            raise ValueError(f"law gradient must be affine in the error e (the state); the "
                             f"coefficient {c} of {atom} is not")
    for name, f, strict, why in law.requirements:
        if not f.free_symbols and (f <= 0 if strict else f < 0):
            raise ValueError(f"law ingredient {name!r} is not a distribution with the moments "
                             f"the second moments use: {f} {'>' if strict else '≥'} 0 fails "
                             f"({why})")
    risk = sp.sympify(law.risk(ERROR_ENERGY))
    _check_exact("law risk", risk)
    _check_not_coupled(law, "risk", risk)
    if sp.diff(risk, ERROR_ENERGY, 2) != 0 or risk.subs(ERROR_ENERGY, 0) != 0:
        raise ValueError(f"law risk must be linear in ‖e‖² (R = w ‖e‖²); got {risk}")
    extra = risk.free_symbols - allowed - {ERROR_ENERGY}
    if extra:
        raise ValueError(f"law risk uses undeclared symbols {sorted(map(str, extra))}")


def _check_not_coupled(law: DataLaw, what: str, expr: sp.Expr) -> None:
    """The coupled variance enters a law only through its scalar ingredient."""
    if law.coupling is not None and expr.has(law.coupling.variance):
        raise ValueError(f"law {what} uses the coupled variance {law.coupling.variance} itself; "
                         "it enters only as the variance of a scalar ingredient (the rest of "
                         "the row's prediction error)")


def register_law(law: DataLaw, *, replace: bool = False, built_in: bool = False) -> DataLaw:
    r"""Make ``law`` available by name everywhere and return the registered law.

    Checks, each with a ``ValueError`` naming what is wrong: the name; the ingredients
    (vocabulary of :mod:`sparsemom.derivations.definitions.ingredients`, vectors of mean zero,
    at most one token mask); the parameters (identifiers, not reserved or engine names,
    intervals that agree with the symbols' assumptions); the gradient (a LinearVector in the
    sample's vectors and ``e``, affine in ``e``, exact coefficients in declared symbols); the
    risk (linear in $\lVert e \rVert^2$).  Registering a law whose :attr:`~DataLaw.definition`
    equals the registered one's changes nothing; another definition under a registered name
    needs ``replace=True``.  Built-in laws are never replaced.

    Parameters
    ----------
    law : DataLaw
        The law to register.
    replace : bool
        Replace another definition registered under the same name (derived afresh).
    built_in : bool
        Register as built in (the package's own laws: never replaced nor unregistered).

    Returns
    -------
    DataLaw
        The registered law (the one already registered when the definitions are equal).
    """
    if not isinstance(law, DataLaw):
        raise ValueError(f"law must be a DataLaw; got {type(law).__name__}")
    if LAWS.get(law.name) is law:
        return law
    _LAWS.check_name(law.name)
    _check_ingredients(law)
    _check_parameters(law, built_in)
    if law.closed_moments:
        _check_coupling(law, built_in)
        _check_definition(law)
    elif law.coupling is not None:
        raise ValueError("a coupled law needs closed moments (no closure)")
    return _LAWS.add(law, replace=replace, built_in=built_in)


def unregister_law(name: str) -> None:
    """Forget a law registered with :func:`register_law` (built-in laws stay).

    Parameters
    ----------
    name : str
        The law's name.
    """
    _LAWS.remove(name)


def law(name: str) -> DataLaw:
    """The data law called ``name``; a ``ValueError`` lists the valid names.

    Parameters
    ----------
    name : str
        A registered law's name (``"lsq"``, ``"gaussian"``, ``"logistic"``, or one of
        :func:`register_law`).

    Returns
    -------
    DataLaw
        The registered law.
    """
    return _LAWS.get(name)


def _least_squares_gradient(sample: Sample, error: sp.Symbol) -> LinearVector:
    """``G_b = m_b x_b (⟨x_b, e⟩ − ξ_b)``."""
    return LinearVector({sample.x: sample.m * (Dot(sample.x, error) - sample.xi)})


#: Sparse least squares (model M1 of ``docs/model.md``): a sample holds the row's token with
#: probability ``p`` (mask ``m``); then ``x ~ N(0, I_d)`` and ``y = ⟨x, θ*⟩ + ξ`` with
#: ``Var ξ = s²``, otherwise ``x = 0, y = 0``.  Loss ``ℓ = ½(⟨x, θ⟩ − y)²``, so
#: ``∇ℓ = m x (⟨x, e⟩ − ξ)``; risk ``R(θ) = ½ p ‖e‖²``.
LEAST_SQUARES = DataLaw(
    name="lsq",
    title="sparse least squares",
    ingredients={"m": TokenMask(), "x": Vector(Gaussian(1)), "xi": gaussian_noise(S.sigma2)},
    gradient=_least_squares_gradient,
    risk=lambda energy: S.p * energy / 2,
    parameters=(LawParameter(S.sigma2, lower=0, per_row=False, keyword="sigma2", default=0,
                             doc="label-noise variance"),),
    parameter_text=(r"$p$ activity probability, $B$ batch size, $d$ dimension, $s^2$ label-noise "
                    r"variance, $R_0 = \|e_0\|^2$."),
    source="docs/model.md, model M1",
)
register_law(LEAST_SQUARES, built_in=True)

__all__ = ["DataLaw", "LawParameter", "RowCoupling", "LAWS", "LEAST_SQUARES", "ERROR_ENERGY",
           "register_law", "unregister_law", "law", "is_built_in_law"]
