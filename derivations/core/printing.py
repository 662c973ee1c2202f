"""LaTeX printing of derived objects: the exact round-trip form and the display form.

:func:`to_latex` is what the LaTeX document uses (every equation parses back to its
relation); :func:`display_latex` is for reading (in Jupyter: the ``_repr_latex_`` of
recursions, timescales and limits).  Both merge step subscripts (``M_{e,y,k+1}``).
"""

from __future__ import annotations

import re
import unicodedata

import sympy as sp

from . import symbols as S


def equation(lhs, rhs) -> sp.Eq:
    """``lhs = rhs`` as stated, a definition or a derived identity to show: SymPy is not
    asked to decide it (which would expand both sides, at a cost that grows with them)."""
    return sp.Eq(lhs, rhs, evaluate=False)


_STEP = re.compile(r"^(?P<base>.*\})_(?P<step>k(\+1)?)$")


def _symbol_names(expr, d_name: str) -> dict:
    """LaTeX names: ``d`` as ``d_name``; ``R_perp_k`` as ``R_{\\perp,k}``; ``M_{e,y}_k`` as
    ``M_{e,y,k}``."""
    names = {S.d: d_name}
    for symbol in getattr(expr, "free_symbols", ()):
        match = _STEP.match(symbol.name)
        if match:
            names[symbol] = f"{match['base'][:-1]},{match['step']}}}"
            continue
        base, _, rest = symbol.name.partition("_")
        head, _, step = rest.partition("_")
        if head in ("perp", "parallel"):
            names[symbol] = f"{base}_{{\\{head}{',' + step if step else ''}}}"
    return names


def to_latex(expr) -> str:
    r"""LaTeX with explicit products; ``d`` braced so that ``d \cdot x`` is never read
    as a differential; ``R_perp_k`` printed as ``R_{\perp,k}``, ``h_parallel`` as
    ``h_{\parallel}``, a moment named with braces and a step (``M_{e,y}_k``) as
    ``M_{e,y,k}`` (TeX refuses a double subscript)."""
    return sp.latex(expr, mul_symbol="dot", symbol_names=_symbol_names(expr, "{d}"))


def display_latex(expr) -> str:
    """:func:`to_latex` for reading: products by juxtaposition."""
    return sp.latex(expr, symbol_names=_symbol_names(expr, "d"))


def aligned(rows: list[str], title: str = "") -> str:
    """Rows ``lhs = rhs`` (already LaTeX) aligned at ``=``, under a ``\\text`` title, as
    one display-math string (Jupyter's ``_repr_latex_`` form)."""
    body = r" \\ ".join(row.replace(" = ", " &= ", 1) for row in rows)
    head = rf"\text{{{escape_text(title)}}} \\ " if title else ""
    return rf"$\displaystyle \begin{{aligned}} {head}{body} \end{{aligned}}$"


def escape_text(text: str) -> str:
    """``text`` safe inside ``\\text{…}``: LaTeX's special characters escaped."""
    return re.sub(r"([#$%&_{}])", r"\\\1", text).replace("~", r"\textasciitilde{}") \
        .replace("^", r"\textasciicircum{}")


#: Greek letters whose Unicode name differs from their LaTeX command.
_GREEK_SPELLING = {"lamda": "lambda"}


def _greek_latex(match: re.Match) -> str:
    """One Greek letter (and the digits after it, as a subscript) in math mode."""
    words = unicodedata.name(match.group(1)).split()
    letter = _GREEK_SPELLING.get(words[-1].lower(), words[-1].lower())
    name = letter.capitalize() if "CAPITAL" in words else letter
    return f"${sp.latex(sp.Symbol(name + match.group(2)))}$"


def latex_text(text: str) -> str:
    """A parameter's ``doc`` as LaTeX text that pdflatex sets: outside its ``$…$`` (a doc
    may hold LaTeX math), Greek letters in math (``γ1`` → ``$\\gamma_{1}$``) and ``−`` as a
    minus; the rest as written."""
    pieces = re.split(r"(?<!\\)(\$[^$]*\$)", text)
    return "".join(piece if piece.startswith("$") else
                   re.sub(r"([\u0370-\u03ff])(\d*)", _greek_latex, piece.replace("−", "$-$"))
                   for piece in pieces)
