"""How a derived expression is written for a reader: collected, factored, signed.

A :class:`Written` is a tree whose :attr:`~Written.value` is the SymPy expression it
stands for and whose LaTeX keeps the tree's layout:

* :func:`written` collects a rational function in the variables a reader reads it by
  (``z``, then ``η``, ``β``, …), each coefficient factored, and keeps whichever of that
  and the fully factored form prints shorter;
* every factor is signed so that its leading term (its constant, else its lowest order
  in those variables) is positive: ``(1 - \\beta)``, never ``-(\\beta - 1)``;
* a polynomial prints its constant first, then by increasing order in the variables.

The tree never changes the math: ``value`` is the expression written (tested exactly,
and the ``\\cdot`` form parses back to it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .paper_style import LINE, width

#: Expressions up to this many operations are factored; larger ones are only collected.
FACTOR_OPS = 600


@dataclass(frozen=True)
class Printer:
    """How leaves print: the product sign (``" "`` or ``r" \\cdot "``), LaTeX names of
    symbols, and symbols written back before printing (``T → (1 − p)^B``)."""

    mul: str = " "
    names: dict = field(default_factory=dict)
    restore: dict = field(default_factory=dict)

    def atom(self, expr: sp.Expr) -> str:
        """An expression that is not a sum, product or fraction (a symbol, a power)."""
        mul = "dot" if self.mul.strip() else None
        return sp.latex(expr, mul_symbol=mul, symbol_names=self.names)


@dataclass(frozen=True)
class Signed:
    """A printed piece: its sign, the LaTeX of its absolute value, and whether that
    LaTeX is a sum (parenthesised in a product, after a minus)."""

    negative: bool
    text: str
    is_sum: bool = False

    def latex(self) -> str:
        if not self.negative:
            return self.text
        return rf"- \left({self.text}\right)" if self.is_sum else f"- {self.text}"


class Written:
    """A written expression: :attr:`value` (SymPy) and its LaTeX (:meth:`latex`)."""

    @property
    def value(self) -> sp.Expr:
        raise NotImplementedError

    def signed(self, printer: Printer) -> Signed:
        raise NotImplementedError

    def latex(self, printer: Printer) -> str:
        return self.signed(printer).latex()

    def terms(self, printer: Printer) -> list[str]:
        """The top-level terms, each with its sign (``"+ …"``/``"- …"``; the first bare
        when positive): where a long display may be broken."""
        return [self.latex(printer)]

    def negated(self) -> Written:
        """``−self``, written with the sign moved inside."""
        raise NotImplementedError


@dataclass(frozen=True)
class Leaf(Written):
    """A SymPy expression printed as it is, with its factors signed and ordered."""

    expr: sp.Expr
    variables: tuple = ()

    @property
    def value(self) -> sp.Expr:
        return self.expr

    def signed(self, printer: Printer) -> Signed:
        return _signed(self.expr.xreplace(printer.restore), self.variables, printer)

    def negated(self) -> Written:
        return Leaf(-self.expr, self.variables)

    def terms(self, printer: Printer) -> list[str]:
        expr = self.expr.xreplace(printer.restore)
        if not expr.is_Add or reads_negative(expr, self.variables):
            return [self.latex(printer)]
        return _term_texts(expr, self.variables, printer)


@dataclass(frozen=True)
class Sum(Written):
    """Terms in the order given."""

    items: tuple[Written, ...]

    @property
    def value(self) -> sp.Expr:
        return sp.Add(*(x.value for x in self.items))

    def terms(self, printer: Printer) -> list[str]:
        out = []
        for i, item in enumerate(self.items):
            piece = item.signed(printer)
            if piece.is_sum and not piece.negative:
                parts = item.terms(printer) if isinstance(item, Sum) else [piece.text]
                out += parts if i == 0 else [_plus(t) for t in parts]
            elif piece.negative:
                out.append(piece.latex())
            else:
                out.append(piece.text if i == 0 else f"+ {piece.text}")
        return out

    def signed(self, printer: Printer) -> Signed:
        if len(self.items) == 1:
            return self.items[0].signed(printer)
        return Signed(False, " ".join(self.terms(printer)), True)

    def negated(self) -> Written:
        return Sum(tuple(x.negated() for x in self.items))

    def leads_negative(self, printer: Printer) -> bool:
        """Whether the first term prints with a minus (``-1 + β``)."""
        return self.items[0].signed(printer).negative


@dataclass(frozen=True)
class Product(Written):
    """Factors juxtaposed (or joined by ``\\cdot``) in the order given; signs in front."""

    items: tuple[Written, ...]

    @property
    def value(self) -> sp.Expr:
        return sp.Mul(*(x.value for x in self.items))

    def signed(self, printer: Printer) -> Signed:
        negative, texts = False, []
        for item in _into_fractions(_flat(self)):
            item, flipped = _leading_plus(item, printer)
            negative ^= flipped
            piece = item.signed(printer)
            negative ^= piece.negative
            if piece.text != "1":
                texts.append(rf"\left({piece.text}\right)" if piece.is_sum else piece.text)
        return Signed(negative, printer.mul.join(texts) or "1")

    def negated(self) -> Written:
        return Product((self.items[0].negated(), *self.items[1:]))


@dataclass(frozen=True)
class Quotient(Written):
    r"""``\frac{numerator}{denominator}``, the signs of both in front."""

    numerator: Written
    denominator: Written

    @property
    def value(self) -> sp.Expr:
        return self.numerator.value / self.denominator.value

    def signed(self, printer: Printer) -> Signed:
        (numerator, up), (denominator, down) = (_leading_plus(x, printer) for x in
                                                (self.numerator, self.denominator))
        top, bottom = numerator.signed(printer), denominator.signed(printer)
        negative = top.negative ^ bottom.negative ^ up ^ down
        return Signed(negative, rf"\frac{{{top.text}}}{{{bottom.text}}}")

    def negated(self) -> Written:
        return Quotient(self.numerator.negated(), self.denominator)


@dataclass(frozen=True)
class Summed(Written):
    r"""``\sum_{index=1}^{upper} body``: a sum over the modes of a row (``body`` in
    parentheses when it is itself a sum)."""

    body: Written
    index: sp.Symbol
    upper: sp.Symbol

    @property
    def value(self) -> sp.Expr:
        return sp.Sum(self.body.value, (self.index, 1, self.upper))

    def signed(self, printer: Printer) -> Signed:
        piece = self.body.signed(printer)
        text = rf"\left({piece.text}\right)" if piece.is_sum else piece.text
        head = rf"\sum_{{{printer.atom(self.index)}=1}}^{{{printer.atom(self.upper)}}}"
        return Signed(piece.negative, f"{head} {text}")

    def negated(self) -> Written:
        return Summed(self.body.negated(), self.index, self.upper)


def _plus(term: str) -> str:
    return term if term.startswith("- ") else f"+ {term}"


def _leading_plus(item: Written, printer: Printer) -> tuple[Written, bool]:
    """A sum whose first term has a minus, negated (``-1 + β`` as ``−(1 − β)``), and
    whether it was."""
    if isinstance(item, Sum) and len(item.items) > 1 and item.leads_negative(printer):
        return item.negated(), True
    return item, False


def distributed(node: Written) -> Written:
    """A product ``s (t_1 + t_2 + …)`` as ``s t_1 + s t_2 + …`` (a display may break
    between its terms); any other node as it is."""
    if isinstance(node, Product):
        node = Product(_flat(node))
    if not (isinstance(node, Product) and isinstance(node.items[-1], Sum)):
        return node
    shared = node.items[:-1]
    if not all(isinstance(x, Leaf) for x in shared):
        return node
    factor = sp.Mul(*(x.expr for x in shared))
    out = []
    for item in node.items[-1].items:
        head, rest = (item.items[0], item.items[1:]) if isinstance(item, Product) else (item, ())
        head = _times(factor, shared, head)
        out.append(Product((head, *rest)) if rest else head)
    return Sum(tuple(out))


def _times(factor: sp.Expr, shared: tuple, node: Written) -> Written:
    """``factor · node``, the factor taken into the node's leading leaf (into a fraction's
    numerator: ``\\frac{p q}{B}``, not ``p \\frac{q}{B}``); ``shared`` (its leaves) in front
    of anything else."""
    if isinstance(node, Leaf):
        return Leaf(factor * node.expr, node.variables)
    if isinstance(node, Quotient):
        return Quotient(_times(factor, shared, node.numerator), node.denominator)
    if isinstance(node, Product):
        # the leading leaves that are not sums (a sum times a number would be distributed)
        items = _flat(node)
        n = next((i for i, x in enumerate(items) if not isinstance(x, Leaf) or x.expr.is_Add),
                 len(items))
        if n:
            head = Leaf(sp.Mul(factor, *(x.expr for x in items[:n])), items[0].variables)
            return Product((head, *items[n:])) if n < len(items) else head
    return Product((*shared, node))


def _into_fractions(items: tuple[Written, ...]) -> tuple[Written, ...]:
    """Factors with a leaf (not a sum) before a fraction taken into its numerator:
    ``p \\frac{q}{B}`` is written ``\\frac{p q}{B}``."""
    out: list[Written] = []
    for item in items:
        if isinstance(item, Quotient) and out and isinstance(out[-1], Leaf) \
                and not out[-1].expr.is_Add:
            leaf = out.pop()
            item = Quotient(_times(leaf.expr, (leaf,), item.numerator), item.denominator)
        out.append(item)
    return tuple(out)


def _flat(product: Product) -> tuple[Written, ...]:
    """The factors of nested products, in order."""
    return tuple(y for x in product.items
                 for y in (_flat(x) if isinstance(x, Product) else (x,)))


# ---- printing a SymPy expression with its factors signed -------------------------------

def _degree(term: sp.Expr, variables) -> int:
    """The total degree of the monomial ``term`` in ``variables`` (0 where not polynomial)."""
    powers = term.as_powers_dict()
    return sum(int(e) for x, e in powers.items() if x in variables and e.is_Integer)


def _ordered_terms(expr: sp.Add, variables) -> list[sp.Expr]:
    """The constant first, then by increasing order in ``variables`` (SymPy's order
    within one order), an ``O(…)`` last."""
    terms = expr.as_ordered_terms()
    rank = {t: i for i, t in enumerate(terms)}
    return sorted(terms, key=lambda t: (isinstance(t, sp.Order), not t.is_number,
                                        _degree(t, variables),
                                        _degree(t, t.free_symbols), rank[t]))


def reads_negative(expr: sp.Expr, variables=()) -> bool:
    """Whether the sum ``expr`` is written with its sign flipped: its constant, else its
    first term of lowest order in ``variables``, is negative (``β − 1``, ``−λ_2 − λ_3``)."""
    first = _ordered_terms(expr, variables)[0]
    return bool(first.as_coeff_Mul()[0].is_negative)


def _signed(expr: sp.Expr, variables, printer: Printer) -> Signed:
    if expr.is_Add:
        negative = reads_negative(expr, variables)
        texts = _term_texts(-expr if negative else expr, variables, printer)
        return Signed(negative, " ".join(texts), True)
    if not (expr.is_Mul or expr.is_Pow or expr.is_Rational):
        return Signed(False, printer.atom(expr))
    coefficient, factors = expr.as_coeff_mul()
    negative = bool(coefficient.is_negative)
    coefficient = abs(coefficient)
    top, bottom = [], []
    if coefficient.is_Rational:
        top += [str(coefficient.p)] if coefficient.p != 1 else []
        bottom += [str(coefficient.q)] if coefficient.q != 1 else []
    elif coefficient != 1:
        top.append(printer.atom(coefficient))
    plain, sums = [], []
    for factor in factors:
        base, exp = factor.as_base_exp()
        if not (base.is_Add and exp.is_Integer):
            plain.append(factor)
            continue
        if reads_negative(base, variables):
            base, negative = -base, negative ^ bool(exp % 2)
        sums.append((base, exp))
    up = sp.Mul(*(x for x in plain if not _is_reciprocal(x)))
    down = sp.Mul(*(1 / x for x in plain if _is_reciprocal(x)))
    top += [printer.atom(up)] if up != 1 else []
    bottom += [printer.atom(down)] if down != 1 else []
    alone = not top and [e for _, e in sums if e > 0] == [1]
    alone_below = not bottom and [e for _, e in sums if e < 0] == [-1]
    for base, exp in sums:
        text = _signed(base, variables, printer).text
        if not (alone and exp == 1 or alone_below and exp == -1):
            text = rf"\left({text}\right)" + (f"^{{{abs(exp)}}}" if abs(exp) != 1 else "")
        (top if exp > 0 else bottom).append(text)
    numerator = printer.mul.join(top) or "1"
    if not bottom:
        return Signed(negative, numerator, alone)
    return Signed(negative, rf"\frac{{{numerator}}}{{{printer.mul.join(bottom)}}}")


def _term_texts(expr: sp.Add, variables, printer: Printer) -> list[str]:
    """The terms of the sum ``expr`` in order, each with its sign (the first bare)."""
    texts = []
    for i, term in enumerate(_ordered_terms(expr, variables)):
        piece = _signed(term, variables, printer)
        texts.append(piece.latex() if piece.negative or i == 0 else f"+ {piece.text}")
    return texts


def _is_reciprocal(factor: sp.Expr) -> bool:
    return bool(factor.is_Pow and factor.exp.is_negative)


# ---- collecting -------------------------------------------------------------------------

def written(expr, variables=()) -> Written:
    r"""``expr`` fully factored when every sum in it is short (at most :data:`SHORT`
    terms: ``-2 \beta \eta (1 - \eta p)``), else collected in ``variables`` (the first
    outermost, increasing powers; a factor all terms share in front), over one fraction
    bar when the denominator has them, each coefficient written the same way in the
    rest of ``variables`` — or factored after all when that prints narrower."""
    expr = sp.sympify(expr)
    variables = tuple(x for x in variables if expr.has(x))
    if expr.is_Atom or expr.has(sp.Order):
        return Leaf(expr, variables)
    together = sp.cancel(sp.together(expr)) if _is_rational(expr) else expr
    factored = Leaf(_factor(together), variables)
    if not variables or _short(factored.expr):
        return factored
    numerator, denominator = sp.fraction(together)
    constant, varying = _split_factors(_factor(denominator), variables)
    if varying != 1:      # one fraction bar: the constant stays below it
        constant, varying = sp.S.One, varying * constant
    polynomial = sp.expand(numerator / constant)
    shared = _shared(polynomial)
    body = _collected(sp.expand(polynomial / shared), variables)
    if shared != 1 and isinstance(body, Sum):
        body = Product((Leaf(shared, variables), body))
    elif shared != 1:
        body = _collected(polynomial, variables)
    collected = body if varying == 1 else Quotient(body, written(varying, variables))
    printer = Printer()
    wide = width(factored.latex(printer))
    if factored.expr.is_Add or wide > LINE:      # an irreducible or too long sum: collected
        return collected
    # factored, its long sums collected like the whole
    factored = _with_sums_collected(factored.expr, variables)
    return min((collected, factored), key=lambda x: width(x.latex(printer)))


def _with_sums_collected(product: sp.Expr, variables) -> Written:
    """The factored ``product`` with each long sum among its factors (more than
    :data:`SHORT` terms, to the power ±1) collected in ``variables``: ``(1 − η p)(B −
    2Bηp + 2η²p + …)`` as ``(1 − η p)(B(1 − 2ηp) + p(2 + …)η²)``."""
    short, above, below = [], [], []
    for factor in sp.Mul.make_args(product):
        base, exp = factor.as_base_exp()
        if base.is_Add and len(base.args) > SHORT and exp in (1, -1):
            (above if exp == 1 else below).append(written(base, variables))
        else:
            short.append(factor)
    if not above and not below:
        return Leaf(product, variables)
    # the rational coefficient apart: SymPy would distribute it into a sum (2 − 2δ)
    coefficient = sp.Mul(*(f for f in short if f.is_Rational))
    up, down = sp.fraction(sp.Mul(*(f for f in short if not f.is_Rational)))
    top = [Leaf(x, variables) for x in (sp.Integer(coefficient.p), up) if x != 1] + above
    bottom = [Leaf(x, variables) for x in (sp.Integer(coefficient.q), down) if x != 1] + below
    numerator = Product(tuple(top)) if len(top) > 1 else top[0] if top else Leaf(sp.S.One)
    if not bottom:
        return numerator
    return Quotient(numerator, Product(tuple(bottom)) if len(bottom) > 1 else bottom[0])


def _shared(polynomial: sp.Expr) -> sp.Expr:
    """The positive factor every term of ``polynomial`` has (``p/2`` in ``p R_0/2 − p z``)."""
    shared = sp.Mul(*(f for f in sp.Mul.make_args(sp.factor_terms(polynomial)) if not f.is_Add))
    return abs(shared) if shared.is_number else shared.as_coeff_Mul()[1] * \
        abs(shared.as_coeff_Mul()[0])


#: A sum of at most this many terms is short: kept as a factor, not collected.
SHORT = 3


def _short(expr: sp.Expr) -> bool:
    """Every sum in the factored ``expr`` (a factor, or ``expr`` itself) is short."""
    factors = [f.as_base_exp()[0] for f in sp.Mul.make_args(expr)]
    return all(len(f.args) <= SHORT for f in factors if f.is_Add)


def _is_rational(expr: sp.Expr) -> bool:
    return all(x.exp.is_Integer for x in expr.atoms(sp.Pow))


def _factor(expr: sp.Expr) -> sp.Expr:
    return sp.factor(expr) if sp.count_ops(expr) <= FACTOR_OPS else expr


def _split_factors(expr: sp.Expr, variables) -> tuple[sp.Expr, sp.Expr]:
    """``expr = constant · varying``: the factors free of ``variables``, and the rest."""
    constant, varying = sp.S.One, sp.S.One
    for factor in sp.Mul.make_args(expr):
        if factor.has(*variables):
            varying *= factor
        else:
            constant *= factor
    return constant, varying


def _collected(polynomial: sp.Expr, variables) -> Written:
    """``Σ_j c_j x^j`` (``x = variables[0]``, increasing ``j``), each ``c_j`` written in
    the remaining variables; a variable absent from ``polynomial`` is skipped."""
    x, rest = variables[0], variables[1:]
    parts = sp.collect(polynomial, x, evaluate=False)
    if set(parts) == {sp.S.One}:
        return written(polynomial, rest) if rest else Leaf(_factor(polynomial))
    items = []
    for power in sorted(parts, key=lambda m: sp.degree(m, x)):
        coefficient = written(parts[power], rest) if rest else Leaf(_factor(parts[power]))
        if coefficient.value == 0:
            continue
        items.append(coefficient if power == 1 else
                     Product((coefficient, Leaf(power))) if coefficient.value != 1 else
                     Leaf(power))
    return items[0] if len(items) == 1 else Sum(tuple(items))
