"""LaTeX export of every derived object of a model × optimizer × time rule.

:func:`exported` lists what a document shows, section by section, as relations whose
right-hand sides are :class:`~sparsemom.derivations.output.written.Written` (collected
in ``z``/``λ`` and the rule's parameters, coefficients factored, factors signed as
``(1 - \\beta)``).  Long objects are written through named sub-expressions, each defined
once: the entries ``a_{ij}``, ``c_i`` of ``X_{k+1} = A X_k + c``; the coefficients ``χ_j``
of ``χ(λ) = det(λI − A)``, which also give ``Δ(z) = det(I − zA)`` in
``F(z) = P(z) / ((1 − z) Δ(z))`` and the Schur–Cohn conditions; the common denominator
``D_∞`` of the stationary state; and Sylvester's ``γ_i`` through ``m_j = w^T A^j u``.
Substituted back, they are the derived objects (tested exactly).

:func:`latex_equations` gives each as ``(section, relation, latex)`` with explicit
``\\cdot``, and every such string parses back (``sympy.parsing.latex``) to its relation
(tested for every built-in rule; a coupled mode's sums over the modes write each mode's
moments ``R_{j,k}``, which that parser does not read); :func:`latex_document` sets them in a
standalone amsmath document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

import sympy as sp

from ..core import symbols as S
from ..core.printing import _symbol_names as symbol_names
from ..definitions.laws import law as law_named
from ..definitions.optimizers import update_rule
from ..engine.moments import COUPLED_SUM, MODE, MODES, SYMBOLIC_MOMENTS
from ..engine.recursion import recursion_for
from ..properties.closed_forms import (
    ENTRY,
    ROOT,
    generating_function,
    has_stationary_state,
    lam,
    stationary_state,
    z,
)
from ..properties.stability import (
    SCHUR_COHN_MAX_DEGREE,
    characteristic_coefficients,
    generic_conditions,
    kernel_mass_term,
)
from ..properties.timescales import timescales
from . import paper_style
from .written import Leaf, Printer, Product, Quotient, Sum, Summed, Written, distributed, written

RISK_K = sp.Symbol("r_k")          # r_k = E R(θ_k)
RISK_INF = sp.Symbol(r"r_\infty")   # r_∞ = lim r_k
F = sp.Symbol("F(z)")              # F = Σ_k r_k z^k
P_Z = sp.Symbol("P(z)")            # F = P / ((1 − z) Δ)
DELTA_Z = sp.Symbol(r"\Delta(z)")  # Δ(z) = det(I − zA)
CHI = sp.Symbol(r"\chi(\lambda)")  # χ(λ) = det(λI − A)
D_INF = sp.Symbol(r"D_\infty")      # the common denominator of X_∞
BETA_EFF, KAPPA = sp.Symbol("beta_eff"), sp.Symbol("kappa")
TAU_R, TAU_L = sp.Symbol("tau_R"), sp.Symbol("tau_L")
MASS = sp.Symbol("m_j")            # a coupled mode's share of the kernel mass
k = sp.Symbol("k")
#: ``(1 − p)^B`` while an expression is written (put back when printed).
IDLE = sp.Symbol("T_idle", positive=True)


@dataclass(frozen=True)
class Shown:
    """One displayed relation ``lhs op rhs`` of a section; ``row`` marks a row of the
    recursion (the paper style shows the rows as one matrix equation)."""

    section: str
    lhs: Written
    rhs: Written
    op: str = "="
    row: bool = False

    def relation(self, restore: dict) -> sp.Basic:
        kind = {"=": sp.Eq, ">": sp.StrictGreaterThan, "<": sp.StrictLessThan}[self.op]
        return kind(self.lhs.value.xreplace(restore), self.rhs.value.xreplace(restore),
                    evaluate=False)


class _Sections:
    """The relations of a document in order, with named sub-expressions defined once."""

    def __init__(self, variables: tuple, shorthand: bool):
        self.variables, self.shorthand = variables, shorthand
        self.printer = _printer("paper" if shorthand else "exact")  # sizes lines
        self.shown: list[Shown] = []
        self._defined: dict[str, sp.Symbol] = {}   # printed right-hand side → its name
        self._pending: list[tuple[str, sp.Symbol, Written]] = []
        self.line = paper_style.LINE if shorthand else EXACT_LINE

    def prepare(self, expr) -> sp.Expr:
        """``(1 − p)^{jB}`` as ``(1 − p_B)^j`` (paper) or ``T^j`` (put back when printed)."""
        return S.replace_idle_powers(sp.sympify(expr), 1 - paper_style.P_B if self.shorthand
                                     else IDLE)

    def write(self, expr, variables=None) -> Written:
        return written(self.prepare(expr), self.variables if variables is None else variables)

    def add(self, section: str, lhs, rhs: Written, op: str = "=", row: bool = False) -> None:
        lhs = lhs if isinstance(lhs, Written) else Leaf(sp.sympify(lhs))
        self.shown.append(Shown(section, lhs, self._fitted(section, lhs, rhs), op, row))

    def define(self, section: str, symbol: sp.Symbol, rhs: Written) -> None:
        """``symbol = rhs``; a right-hand side already defined is referred to by name."""
        key = rhs.latex(self.printer)
        if key in self._defined:
            rhs = Leaf(self._defined[key])
        else:
            self._defined[key] = symbol
        self.add(section, symbol, rhs)

    def _fitted(self, section: str, lhs: Written, rhs: Written) -> Written:
        """A relation too long for one line, written to be broken at its terms: a product
        ``s (t_1 + …)`` distributed; a quotient's numerator (and a long denominator) named
        ``N_{lhs}`` (``D_{lhs}``); in a sum, a term ``c x^j`` wider than a line gets its
        coefficient named ``lhs_j``.  Named parts are defined by the next :meth:`flush`."""
        printer = self.printer
        if paper_style.width(rhs.latex(printer)) <= self.line:
            return rhs
        tag = lhs.latex(Printer(names=symbol_names(lhs.value, "d")))
        if isinstance(rhs, Quotient):
            return self._fitted_quotient(section, tag, rhs)
        rhs = distributed(rhs)
        if not isinstance(rhs, Sum):
            return rhs
        items = []
        for item in rhs.items:
            if (isinstance(item, Product) and len(item.items) == 2 and
                    _is_monomial(item.items[1].value) and
                    paper_style.width(item.latex(printer)) > self.line):
                coefficient, monomial = item.items
                negative = coefficient.signed(printer).negative or (
                    isinstance(coefficient, Sum) and coefficient.leads_negative(printer))
                coefficient = coefficient.negated() if negative else coefficient
                name = self._named(section, _indexed(tag, _power(monomial.value),
                                                     "," if self.shorthand else r"\,"),
                                   coefficient)
                item = Product((name.negated() if negative else name, monomial))
            items.append(item)
        return Sum(tuple(items))

    def _fitted_quotient(self, section: str, tag: str, rhs: Quotient) -> Written:
        printer = self.printer
        numerator, denominator = rhs.numerator, rhs.denominator
        if paper_style.width(numerator.latex(printer)) > self.line / 2:
            negative = isinstance(numerator, Sum) and numerator.leads_negative(printer)
            numerator = numerator.negated() if negative else numerator
            numerator = self._named(section, sp.Symbol(f"N_{{{tag}}}"), numerator)
            numerator = numerator.negated() if negative else numerator
        # a denominator named with its sign in front: D = 2B(1 − β²) − …, never D = −2B…
        flipped = isinstance(denominator, Sum) and denominator.leads_negative(printer)
        denominator = denominator.negated() if flipped else denominator
        numerator = numerator.negated() if flipped else numerator
        known = {**self._defined, **{part.latex(printer): symbol
                                     for _, symbol, part in self._pending}}
        if denominator.latex(printer) in known:
            denominator = Leaf(known[denominator.latex(printer)])
        elif paper_style.width(denominator.latex(printer)) > self.line / 2:
            denominator = self._named(section, sp.Symbol(f"D_{{{tag}}}"), denominator)
        return Quotient(numerator, denominator)

    def _named(self, section: str, symbol: sp.Symbol, part: Written) -> Leaf:
        self._pending.append((section, symbol, part))
        return Leaf(symbol)

    def flush(self) -> None:
        """Define the parts :meth:`_fitted` named (after the relation that uses them)."""
        while self._pending:
            section, symbol, part = self._pending.pop(0)
            self.define(section, symbol, part)


def _indexed(tag: str, index: int, separator: str) -> sp.Symbol:
    r"""``P(z)`` → ``P_{2}``; ``N_{\chi_{1}}`` → ``N_{\chi_{1},2}``: a coefficient's name
    (``separator`` ``,`` in the paper style; a thin space ``\,`` in the exact style, whose
    every string SymPy's LaTeX parser reads back)."""
    head = re.sub(r"\([^()]*\)$", "", tag)
    if head.endswith("}") and "_{" in head:
        return sp.Symbol(f"{head[:-1]}{separator}{index}}}")
    return sp.Symbol(f"{head}_{{{index}}}")


def _is_monomial(expr: sp.Expr) -> bool:
    """``z^2``, ``η^2 β``: a product of powers of symbols."""
    return all(x.is_Symbol and e.is_Integer and e > 0 for x, e in expr.as_powers_dict().items())


def _power(monomial: sp.Expr) -> int:
    """The total degree of a monomial ``z^2``, ``η^2 β``."""
    return int(sum(e for e in monomial.as_powers_dict().values() if e.is_Integer))


def _moment(symbol: sp.Symbol, step: str) -> sp.Symbol:
    return sp.Symbol(f"{symbol.name}_{step}")


def _combination(coefficients, symbols) -> Written:
    """``Σ_i c_i x_i`` over the non-zero ``c_i`` (each :class:`Written`), in order."""
    items = [c if x == 1 else Product((c, Leaf(x))) if c.value != 1 else Leaf(x)
             for c, x in zip(coefficients, symbols) if c.value != 0]
    if not items:
        return Leaf(sp.S.Zero)
    return items[0] if len(items) == 1 else Sum(tuple(items))


def _linear(sections: _Sections, expr, symbols, variables=None) -> Written:
    """``expr``, linear in ``symbols``, as one written coefficient per symbol (in order),
    then the rest; a factor all terms share in front (``\frac{p}{2} (a_{11} u_1 + …)``)."""
    linear = sp.expand(expr)
    shared = sp.Mul(*(f for f in sp.Mul.make_args(sp.factor_terms(linear)) if not f.is_Add))

    def combination(x):
        rest = x.xreplace({s: 0 for s in symbols})
        return _combination([sections.write(x.coeff(s), variables) for s in symbols] +
                            [sections.write(rest, variables)], [*symbols, 1])

    body = combination(sp.expand(linear / shared))
    if shared == 1 or not isinstance(body, Sum):
        return combination(linear)
    return Product((sections.write(shared, variables), body))


def _written_per_moment(sections: _Sections, expr) -> Written:
    """A relation linear in moments at a step (``R_k``, ``s_k``, …): one written
    coefficient per moment, then the rest."""
    expr = sp.sympify(expr)
    moments = sorted((x for x in expr.free_symbols if paper_style.is_moment(x)), key=str)
    if not moments or expr.has(sp.Order):
        return sections.write(expr)
    return _linear(sections, expr, moments)


def exported(model: str, optimizer: str, time_rule: str = "steps",
             shorthand: bool = False) -> list[Shown]:
    """Every relation a document of ``model × optimizer × time_rule`` shows, in order
    (``shorthand``: ``p_B``, ``q`` as in the paper style)."""
    rec = recursion_for(model, optimizer, time_rule)
    law, rule = law_named(model), update_rule(optimizer)
    sections = _Sections((S.lr, S.beta, *rule.symbols), shorthand)
    n = len(rec.state)

    if law.closure is not None:   # a law closed by its own statistics: its sections first
        for section, relation in law.closure.latex_sections(optimizer, time_rule):
            sections.add(section, relation.lhs, _written_per_moment(sections, relation.rhs))

    name = "Second-moment recursion"
    now = [_moment(s, "k") for s in rec.state]
    entries = sp.Matrix(n, n, lambda i, j: ENTRY(i + 1, j + 1) if rec.transition[i, j] != 0 else 0)
    forcing = [sp.Symbol(f"c_{i + 1}") if rec.forcing[i] != 0 else sp.S.Zero for i in range(n)]
    coupling = [sp.Symbol(f"u_{i + 1}") if rec.coupled and rec.coupling[i] != 0 else sp.S.Zero
                for i in range(n)]
    for i, s in enumerate(rec.state):
        sections.add(name, _moment(s, "k+1"),
                     _combination([Leaf(x) for x in [*entries.row(i), forcing[i], coupling[i]]],
                                  [*now, 1, COUPLED_SUM]), row=True)
    for (i, j), value in sorted(_nonzero(rec.transition).items()):
        sections.define(name, entries[i, j], sections.write(value))
    for symbols, values in ((forcing, rec.forcing), (coupling, rec.coupling if rec.coupled else ())):
        for symbol, value in zip(symbols, values):
            if value != 0:
                sections.define(name, symbol, sections.write(value))
    sections.flush()

    weights = [sections.write(w) for w in rec.risk_weights]
    if rec.coupled:          # one mode of a row: the row's sums and its kernel mass
        _coupled_mode(sections, rec, model, optimizer, weights)
        return sections.shown
    sections.add("Risk", RISK_K, _combination(weights, now))

    name = "Characteristic polynomial"
    chi = characteristic_coefficients(model, optimizer, time_rule)
    sections.add(name, CHI, _combination([Leaf(sp.S.One), *map(Leaf, chi)],
                                         [lam ** (n - j) for j in range(n + 1)]))
    for symbol, value in chi.items():
        sections.define(name, symbol, sections.write(value))
    sections.flush()

    small = n <= SYMBOLIC_MOMENTS   # else: closed forms omitted (said in the text)
    if small:
        _generating_function(sections, rec, chi)
    stationary = small and has_stationary_state(rec)
    if stationary:  # else: no fixed point to expand around (said in the document's text)
        _stationary_state(sections, rec)
        _closed_form(sections, rec)
    if len(chi) <= SCHUR_COHN_MAX_DEGREE:
        for condition in generic_conditions(len(chi)):
            sections.add("Stability", written(condition), Leaf(sp.S.Zero), op=">")

    name = "Timescales"
    t = timescales(model, optimizer)
    sections.add(name, BETA_EFF, sections.write(t.effective_retention))
    sections.add(name, KAPPA, sections.write(t.curvature))
    sections.add(name, TAU_R, sections.write(t.retention))
    if t.learning.is_finite:  # κ = 0 (no learning): τ_L = ∞, said in the text instead
        sections.add(name, TAU_L, sections.write(t.learning))
        sections.add(name, Leaf(TAU_R / TAU_L), sections.write(t.ratio))
    sections.flush()
    return sections.shown


def _coupled_mode(sections: _Sections, rec, model: str, optimizer: str, weights) -> None:
    """A mode ``j`` of a row: ``S_k = Σ_j q·X_{j,k}``, ``r_k = Σ_j w·X_{j,k}`` and the
    stability criterion ``Σ_j m_j < 1`` with ``m_j = q (I − A_j)^{−1} u_j``."""
    weights_q = [sections.write(q) for q in rec.coupling_weights]
    of_mode = [_moment(s, f"{MODE},k") for s in rec.state]    # R_{j,k}: mode j's moments
    sections.add("Coupling", COUPLED_SUM, Summed(_combination(weights_q, of_mode), MODE, MODES))
    sections.add("Risk", RISK_K, Summed(_combination(weights, of_mode), MODE, MODES))
    sections.add("Stability", Summed(Leaf(MASS), MODE, MODES), Leaf(sp.S.One), op="<")
    sections.add("Stability", MASS, sections.write(kernel_mass_term(model, optimizer)))
    sections.flush()


def _nonzero(matrix) -> dict:
    return {(i, j): matrix[i, j] for i in range(matrix.rows) for j in range(matrix.cols)
            if matrix[i, j] != 0}


def _generating_function(sections: _Sections, rec, chi: dict) -> None:
    """``F(z) = P(z) / ((1 − z) Δ(z))``, ``Δ(z) = det(I − zA) = 1 + Σ_j χ_j z^j``."""
    name = "Generating function"
    n = len(chi)
    delta = 1 + sum(c * z**j for j, c in enumerate(chi.values(), 1))
    numerator = sp.cancel(sections.prepare(generating_function(rec) * (1 - z) * delta))
    sections.add(name, F, Quotient(Leaf(P_Z), Product((Sum((Leaf(sp.S.One), Leaf(-z))),
                                                      Leaf(DELTA_Z)))))
    sections.add(name, DELTA_Z, _combination([Leaf(sp.S.One), *map(Leaf, chi)],
                                             [z**j for j in range(n + 1)]))
    sections.add(name, P_Z, written(numerator, (z, *sections.variables)))
    sections.flush()


def _infinity(symbol: sp.Symbol) -> sp.Symbol:
    r"""``R_\infty``; ``M_{e,y}`` → ``M_{e,y,\infty}``."""
    if symbol.name.endswith("}"):
        return sp.Symbol(f"{symbol.name[:-1]},\\infty}}")
    return _moment(symbol, r"\infty")


def _stationary_state(sections: _Sections, rec) -> None:
    """``X_∞ = (I − A)^{-1} c`` over its common denominator ``D_∞``, and ``r_∞ = w · X_∞``."""
    name = "Stationary state"
    x_inf = [sections.prepare(x) for x in stationary_state(rec)]
    risk = sum(sections.prepare(w) * x for w, x in zip(rec.risk_weights, x_inf))
    denominators = [sp.fraction(sp.cancel(x))[1] for x in [*x_inf, risk]]
    common = sp.factor(sp.lcm_list(denominators))
    varying = sp.Mul(*(f for f in sp.Mul.make_args(common) if f.has(*sections.variables)))
    named = paper_style.width(sp.latex(varying)) > paper_style.LINE // 4
    for symbol, value in [*((_infinity(s), x) for s, x in zip(rec.state, x_inf)),
                          (RISK_INF, risk)]:
        if named:
            top, constant = sp.fraction(sp.factor(sp.cancel(value * varying)))
            bottom = Leaf(D_INF) if constant == 1 else Product((Leaf(constant), Leaf(D_INF)))
            sections.add(name, symbol, Quotient(sections.write(top), bottom))
        else:
            sections.add(name, symbol, sections.write(value))
    if named:
        sections.define(name, D_INF, sections.write(varying))
    sections.flush()


def _closed_form(sections: _Sections, rec) -> None:
    """Sylvester: ``r_k = r_∞ + Σ_i γ_i λ_i^k`` with
    ``γ_i = Σ_j (−1)^{n−1−j} e_{n−1−j}(λ_{l≠i}) m_j / Π_{l≠i} (λ_i − λ_l)``,
    ``m_j = w^T A^j u`` and ``u = X_0 − X_∞``."""
    name = "Closed form"
    n = len(rec.state)
    roots = [ROOT(i + 1) for i in range(n)]
    gammas = [sp.Symbol(f"gamma_{i + 1}") for i in range(n)]
    moments = [sp.Symbol(f"m_{j}") for j in range(n)]
    starts = [sp.Symbol(f"u_{i + 1}") for i in range(n)]
    sections.add(name, RISK_K, Sum((Leaf(RISK_INF), *(
        Product((Leaf(g), Leaf(r**k))) for g, r in zip(gammas, roots)))))
    for i, root in enumerate(roots):
        others = [r for r in roots if r != root]
        top = _combination([Leaf((-1) ** (n - 1 - j) * _elementary(others, n - 1 - j))
                            for j in reversed(range(n))], list(reversed(moments)))
        bottom = Product(tuple(Sum((Leaf(root), Leaf(-r))) for r in others))
        sections.add(name, gammas[i], Quotient(top, bottom) if others else top)
    entries = sp.Matrix(n, n, lambda i, j: ENTRY(i + 1, j + 1) if rec.transition[i, j] != 0 else 0)
    start = _start(rec)
    u = sp.Matrix([s if x != 0 else 0 for s, x in zip(starts, start)])
    for m in moments:
        sections.add(name, m, _linear(sections, (sp.Matrix(rec.risk_weights) * u)[0], starts, ()))
        u = entries * u
    for s, symbol, x0, x in zip(rec.state, starts, rec.initial, start):
        if x != 0:
            sections.add(name, symbol, _combination([Leaf(sp.sympify(x0)), Leaf(sp.S.NegativeOne)],
                                                    [1, _infinity(s)]))
    sections.flush()


def _start(rec) -> list[sp.Expr]:
    """``u = X_0 − X_∞``, componentwise (``X_∞`` from the engine)."""
    return [sp.cancel(x0 - x) for x0, x in zip(rec.initial, stationary_state(rec))]


def _elementary(values, order: int) -> sp.Expr:
    """The elementary symmetric polynomial ``e_order(values)``."""
    return sp.Add(*(sp.Mul(*c) for c in combinations(values, order)))


def _printer(style: str) -> Printer:
    mul = r" \cdot " if style == "exact" else " "
    restore = {IDLE: (1 - S.p) ** S.batch} if style == "exact" else {}
    return Printer(mul=mul, restore=restore | ({} if style == "exact" else paper_style.SHORT))


def _names(expr, style: str) -> dict:
    if style == "exact":     # names SymPy's LaTeX parser reads back
        return symbol_names(expr, "{d}")
    return {**symbol_names(expr, "d"), BETA_EFF: r"\beta_{\mathrm{eff}}"}


def latex_equations(model: str, optimizer: str, time_rule: str = "steps"):
    """``[(section, relation, latex string), …]`` for every exported equation, printed
    with explicit ``\\cdot`` on one line: each string parses back to its relation."""
    out = []
    for shown in exported(model, optimizer, time_rule):
        relation = shown.relation({IDLE: (1 - S.p) ** S.batch})
        out.append((shown.section, relation, _text(shown, "exact")))
    return out


def _text(shown: Shown, style: str, split: bool = False):
    """``lhs op rhs`` in ``style`` (one string), or ``(lhs, op, [terms])`` with ``split``."""
    value = shown.relation({IDLE: (1 - S.p) ** S.batch})
    printer = _printer(style)
    printer = Printer(printer.mul, _names(value, style), printer.restore)
    lhs = shown.lhs.latex(printer)
    terms = shown.rhs.terms(printer)
    if split:
        return lhs, shown.op, terms
    return f"{lhs} {shown.op} {' '.join(terms)}"


_TEXT = {
    "Risk": r"The expected risk $r_k = \mathbb{E}\,\mathcal{R}(\theta_k)$, "
    r"$\mathcal{R} = {risk}$:",
    "Characteristic polynomial": r"$\chi(\lambda) = \det(\lambda I - A)$ of the transition "
    r"matrix $A$:",
    "Generating function": r"$F(z) = \sum_{k \ge 0} r_k z^k$, with "
    r"$\Delta(z) = \det(I - zA) = z^n \chi(1/z)$:",
    "Stationary state": r"The fixed point $X_\infty = (I - A)^{-1} c$ and the noise floor "
    r"$r_\infty = \lim_{k\to\infty} r_k$:",
    "Closed form": r"With $\lambda_1, \dots$ the roots of $\chi$ (assumed distinct; "
    r"repeated roots are handled numerically), Sylvester's formula, with "
    r"$m_j = w^\top A^j u$, $w$ the risk weights and $u = X_0 - X_\infty$:",
    "Stability": r"All roots of $\chi$ lie in the open unit disk (the risk converges) "
    r"exactly when (Schur--Cohn, in the coefficients $\chi_j$ above):",
    "Coupling": r"The modes $j = 1, \dots, M$ of the row move together through the sum "
    r"$S_k$ of their moments (block diagonal plus rank one):",
    "Timescales": r"In active updates: $\beta_{\mathrm{eff}}$ is the buffer's retention per "
    r"active update, $\tau_R = 1/(1 - \beta_{\mathrm{eff}})$ the retention time, $\kappa$ "
    r"the effective curvature per active update with the buffer following the error "
    r"adiabatically, "
    r"$\tau_L = 1/(2\eta\kappa)$ the number of active updates that cut "
    r"$\mathbb{E}\|e\|^2$ by a factor $\mathrm{e}$:",
}


#: The text before a coupled law's recursion and its stability criterion (the renewal
#: equation's kernel mass).
_COUPLED_RECURSION = (r"A X_k + c + u S_k$ for each mode $j$ (its moments, written "
                      r"$R_{j,k}, \dots$ in sums over the modes), coupled to the other modes "
                      r"through $S_k$ below:")
_COUPLED_STABILITY = (r"The coupled sum obeys a renewal equation with kernel "
                      r"$K_m = \sum_j q_j^\top A_j^m u_j$ ($q_j$ the weights of mode $j$ in "
                      r"$S_k$). When $K_m \ge 0$ (Gaussian data: each block is the second-moment "
                      r"map of its mode) the second moments converge "
                      r"exactly when every mode's block is stable and its mass is below one:")

#: The exact style's line (its ``\cdot`` and ``(1 - p)^{B}`` print wider than counted).
EXACT_LINE = 0.8 * paper_style.LINE

#: Styles of :func:`latex_document`.
STYLES = ("exact", "paper")


def latex_document(model: str, optimizer: str, time_rule: str = "steps",
                   style: str = "exact") -> str:
    """A standalone, compilable amsmath document with all exported equations.

    Both styles write the same collected forms and named sub-expressions, long relations
    broken over lines at their terms (never scaled down).  ``style="exact"``: explicit
    ``\\cdot``, unnumbered, each relation the string :func:`latex_equations` parses back.
    ``style="paper"``: the paper's notation (:mod:`sparsemom.derivations.output.paper_style`):
    juxtaposition, ``p_B``/``q`` shorthand, the recursion in matrix form, every equation
    numbered and labelled.
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(map(repr, STYLES))}; got {style!r}")
    law, rule = law_named(model), update_rule(optimizer)
    lines = [
        r"\documentclass[10pt]{article}",
        r"\usepackage{amsmath,amssymb}",
        r"\allowdisplaybreaks",
        r"\emergencystretch=3em",      # long symbols in the text: no overfull line
        r"\begin{document}",
        rf"\section*{{{law.title.capitalize()} under {optimizer} ({time_rule})}}",
        rf"Update: ${rule.latex}$. Time: "
        + ("every step." if time_rule == "steps" else
           "active iterates (steps whose batch holds the row's token; idle stretches "
           "integrated out)."),
        law.latex_parameter_text(rule),
    ]
    rec = recursion_for(model, optimizer, time_rule)
    intro = {**_TEXT, "Second-moment recursion": _moments_text(rule, rec),
             **(law.closure.latex_text if law.closure is not None else {})}
    energy = sp.Symbol("zz_energy", nonnegative=True)   # sorts last: "p \|e\|^2"
    intro["Risk"] = intro["Risk"].replace(
        "{risk}", sp.latex(law.risk(energy), symbol_names={energy: r"\|e\|^2"},
                           fold_short_frac=True))
    if rec.coupled:
        intro["Second-moment recursion"] = intro["Second-moment recursion"].replace(
            "A X_k + c$:", _COUPLED_RECURSION)
        intro["Stability"] = _COUPLED_STABILITY
    elif not timescales(model, optimizer).learning.is_finite:
        intro["Timescales"] += (r" here $\kappa = 0$: the update does not reduce the error, "
                                r"so $\tau_L = \infty$ (no learning).")
    paper = style == "paper"
    shown = exported(model, optimizer, time_rule, shorthand=paper)
    if paper and any(s.relation({}).has(paper_style.P_B) for s in shown):
        lines.append(r"Shorthand: $p_B = 1 - (1 - p)^B$, the probability that a batch holds "
                     r"the row's token, and $q = 1 - p$.")
    for section in dict.fromkeys(s.section for s in shown):
        rows = [s for s in shown if s.section == section]
        lines += [rf"\subsection*{{{section}}}", intro[section]]
        displays = []
        if paper and any(s.row for s in rows):
            displays.append(paper_style.matrix_equation(rec))
        displays += [_text(s, style, split=True) for s in rows if not (paper and s.row)]
        lines += paper_style.aligned(displays, section if paper else None,
                                     paper_style.LINE if paper else EXACT_LINE)
        if section == "Characteristic polynomial" and len(rec.state) > SYMBOLIC_MOMENTS:
            lines.append(_omitted(len(rec.state)))
    if not rec.coupled and len(rec.state) <= SYMBOLIC_MOMENTS and not has_stationary_state(rec):
        lines += [r"\subsection*{Stationary state}",
                  r"$1$ is an eigenvalue of $A$ for every parameter value: there is no "
                  r"stationary state, hence no noise floor and no closed form around it."]
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


def _moments_text(rule, rec) -> str:
    """What the moments of ``rec`` are: the error, the rule's buffers and where they start,
    each moment as the expectation of an inner product (``C = E⟨e, v⟩``)."""
    buffers = [rf"${sp.latex(b)}$ (${sp.latex(b)}_0 = "
               + ("e_0" if b in rule.start_equal_to_error else "0") + "$)" for b in rule.buffers]
    vectors = (f" and buffer{'s' if len(buffers) > 1 else ''} {', '.join(buffers)}"
               if buffers else "")
    moments = ", ".join(rf"${sp.latex(s)} = \mathbb{{E}}{sp.latex(m)}$"
                        for s, m in zip(rec.state, rec.meaning))
    verb = "obeys" if len(rec.state) == 1 else "obey"
    return (rf"With $e = \theta - \theta^*${vectors}, {moments} {verb} exactly "
            r"$X_{k+1} = A X_k + c$:")


def _omitted(n: int) -> str:
    return (rf"This recursion has {n} moments: its generating function, closed form, "
            r"stationary risk and Schur--Cohn conditions grow combinatorially and are not "
            r"derived symbolically (they are for at most "
            rf"{SYMBOLIC_MOMENTS} moments, one buffer). The risk is computed exactly by "
            r"iterating the recursion, and stability numerically from the eigenvalues of $A$.")
