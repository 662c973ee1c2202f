"""The paper's way of writing the derived objects (``sparsemom latex --style paper``).

Products by juxtaposition; the batch activity ``p_B = 1 − (1 − p)^B`` and ``q = 1 − p``
as shorthand (:func:`shorthand`, undone exactly by :func:`expanded`); the recursion as
one matrix equation; long relations broken over lines (``multline``); every equation
numbered and labelled.  The exact style (:func:`sparsemom.derivations.output.latex.latex_document`) stays
the one whose every equation parses back to its relation.
"""

from __future__ import annotations

import re

import sympy as sp

from ..core import symbols as S
from ..core.printing import display_latex, equation

#: ``p_B = 1 − (1 − p)^B``: the probability that a batch holds the row's token.
P_B = sp.Symbol("p_B", positive=True)
#: ``q = 1 − p``: the probability that a sample does not.
Q = sp.Symbol("q", positive=True)

_STEP_SYMBOL = re.compile(r"_k(\+1)?$")

#: Expressions up to this many operations are brought over one denominator and factored;
#: larger ones (closed forms over the roots) are printed as derived.
FACTOR_OPS = 400

#: LaTeX source characters per line before a relation is broken (``multline``): about
#: one printed line of an article's text width.
LINE = 150


def shorthand(expr):
    """``expr`` with ``(1 − p)^{jB} → (1 − p_B)^j`` and ``1 − p → q``: a rational
    function over one denominator, factored; a sum linear in moments at a step
    (``R_k``, ``C_k``, …) keeps one factored coefficient per moment."""
    expr = sp.sympify(expr)
    if isinstance(expr, sp.core.relational.Relational):
        return expr.func(shorthand(expr.lhs), shorthand(expr.rhs), evaluate=False)
    if isinstance(expr, sp.Sum):      # a sum over the modes of a row: its terms
        return sp.Sum(shorthand(expr.function), *expr.limits)
    if expr.has(sp.Order) or not expr.free_symbols:
        return expr
    moments = sorted((x for x in expr.free_symbols if _STEP_SYMBOL.search(x.name)), key=str)
    if moments:
        linear = sp.expand(expr)
        parts = [shorthand(linear.coeff(m)) * m for m in moments]
        rest = linear.xreplace({m: 0 for m in moments})
        return sp.Add(*parts, shorthand(rest))
    out = S.replace_idle_powers(expr, 1 - P_B)
    if sp.count_ops(out) <= FACTOR_OPS and not _has_symbolic_powers(out):
        out = sp.factor(out)
    return out.xreplace({1 - S.p: Q, S.p - 1: -Q})


def _has_symbolic_powers(expr) -> bool:
    """Powers such as ``λ_i^k`` (a closed form over the roots): left as derived."""
    return any(not x.exp.is_number for x in expr.atoms(sp.Pow))


def expanded(expr):
    """The inverse of :func:`shorthand`: ``p_B`` and ``q`` written out in ``p`` and ``B``."""
    return sp.sympify(expr).xreplace({P_B: S.active_probability, Q: 1 - S.p})


def _terms(expr) -> list[str]:
    """The top-level terms of a sum, each printed with its sign (``+ …`` / ``- …``)."""
    out = []
    for term in sp.Add.make_args(expr):
        text = display_latex(term)
        out.append(text if text.startswith("-") else f"+ {text}")
    return out


def _multline(lhs: str, op: str, rhs) -> tuple[str, str]:
    """A sum broken into lines of about :data:`LINE` characters."""
    lines, current = [], f"{lhs} {op} "
    for i, term in enumerate(_terms(rhs)):
        piece = term[2:] if i == 0 and term.startswith("+ ") else term
        if len(current) + len(piece) > LINE and current.strip() not in (f"{lhs} {op}", ""):
            lines.append(current.rstrip())
            current = ""
        current += piece + " "
    lines.append(current.rstrip())
    # a single term longer than a line is scaled down to fit its line
    lines = [r"\resizebox{0.92\linewidth}{!}{$\displaystyle " + line + "$}"
             if len(line) > 2 * LINE else line for line in lines]
    return " \\\\\n".join(lines), "multline" if len(lines) > 1 else "scaled"


#: The sign of each relation the documents print (a relation not listed is a KeyError,
#: never printed as ``=``).
RELATION_SIGNS = {sp.Eq: "=", sp.StrictGreaterThan: ">", sp.StrictLessThan: "<",
                  sp.GreaterThan: r"\ge", sp.LessThan: r"\le"}


def relation_displays(relation) -> list[tuple[str, str]]:
    r"""The displays ``(latex, layout)`` that write ``relation`` in the paper's notation.

    ``layout`` is ``"line"`` (it fits), ``"multline"`` (a long sum over lines joined by
    ``\\``) or ``"scaled"`` (one long term, scaled to the line width).  A long quotient is
    written ``N/D``, followed by the expanded numerator ``N`` and (unless it is short)
    denominator ``D``."""
    relation = shorthand(relation)
    lhs, rhs = display_latex(relation.lhs), relation.rhs
    op = RELATION_SIGNS[type(relation)]
    whole = f"{lhs} {op} {display_latex(rhs)}"
    if len(whole) <= LINE:
        return [(whole, "line")]
    if rhs.is_Add:
        return [_multline(lhs, op, rhs)]
    numerator, denominator = sp.fraction(rhs)
    if denominator != 1:
        tag = f"_{{{lhs}}}" if isinstance(relation.lhs, sp.Symbol) else ""
        N = sp.Symbol(f"N{tag}")
        if len(display_latex(denominator)) <= LINE // 2:      # a short denominator stays
            return [(f"{lhs} {op} \\frac{{{display_latex(N)}}}{{{display_latex(denominator)}}}",
                     "line"), *relation_displays(equation(N, sp.expand(numerator)))]
        D = sp.Symbol(f"D{tag}")
        return [(f"{lhs} {op} {display_latex(N / D)}", "line"),
                *relation_displays(equation(N, sp.expand(numerator))),
                *relation_displays(equation(D, sp.expand(denominator)))]
    expanded_rhs = sp.expand(rhs)
    if expanded_rhs.is_Add:
        return [_multline(lhs, op, expanded_rhs)]
    return [(whole, "scaled")]


def matrix_displays(recursion) -> list[tuple[str, str]]:
    """``X_{k+1} = A X_k + c`` with the entries as symbols ``a_{ij}``, ``c_i`` (zeros
    shown), then each non-zero entry written out (:func:`relation_displays`)."""
    n = len(recursion.state)
    X = sp.Matrix([sp.Symbol(f"{s.name}_k") for s in recursion.state])
    nxt = sp.Matrix([sp.Symbol(f"{s.name}_k+1") for s in recursion.state])
    a = [[sp.Symbol(f"a_{{{i + 1}{j + 1}}}") if recursion.transition[i, j] != 0 else sp.S.Zero
          for j in range(n)] for i in range(n)]
    c = [sp.Symbol(f"c_{{{i + 1}}}") if recursion.forcing[i] != 0 else sp.S.Zero
         for i in range(n)]
    shown = [(f"{display_latex(nxt)} = {display_latex(sp.Matrix(a))} {display_latex(X)} + "
              f"{display_latex(sp.Matrix(c))}", "line")]
    for i in range(n):
        for j in range(n):
            if a[i][j] != 0:
                shown += relation_displays(equation(a[i][j], recursion.transition[i, j]))
    for i in range(n):
        if c[i] != 0:
            shown += relation_displays(equation(c[i], recursion.forcing[i]))
    return shown


def source_lines(body: str, width: int = 1000) -> str:
    """``body`` with a space turned into a newline every ``width`` characters or so: TeX
    reads a source line into a fixed buffer, and in math a newline is only a space."""
    out, start = [], 0
    while len(body) - start > width:
        cut = body.find(" ", start + width)
        if cut < 0:
            break
        out.append(body[start:cut])
        start = cut + 1
    out.append(body[start:])
    return "\n".join(out)


def display(body: str, layout: str, label_text: str) -> list[str]:
    """The lines of one numbered, labelled display of ``body`` set as ``layout``."""
    body = source_lines(body)
    if layout == "line" and len(body) > 3 * LINE:
        layout = "scaled"
    if layout == "multline":
        return [r"\begin{multline}", rf"\label{{{label_text}}}", body, r"\end{multline}"]
    if layout == "scaled":
        body = r"\resizebox{\linewidth}{!}{$\displaystyle " + body + "$}"
    return [r"\begin{equation}", rf"\label{{{label_text}}}", body, r"\end{equation}"]


def label(section: str, index: int) -> str:
    """``eq:second-moment-recursion-1``: a label from the section and the number."""
    slug = re.sub(r"[^a-z0-9]+", "-", section.lower()).strip("-")
    return f"eq:{slug}-{index}"
