"""How a document is set (``sparsemom latex``): the paper's shorthand, the recursion as
one matrix equation, relations aligned and broken over lines at their terms.

The batch activity ``p_B = 1 − (1 − p)^B`` and ``q = 1 − p`` are the paper style's
shorthand (undone exactly by :func:`expanded`).  A relation longer than :data:`LINE`
(in :func:`width`, about the width of a printed character) continues on the next line
after ``&\\quad``; nothing is ever scaled down.
"""

from __future__ import annotations

import re

import sympy as sp

from ..core import symbols as S
from ..core.printing import display_latex

#: ``p_B = 1 − (1 − p)^B``: the probability that a batch holds the row's token.
P_B = sp.Symbol("p_B", positive=True)
#: ``q = 1 − p``: the probability that a sample does not.
Q = sp.Symbol("q", positive=True)
#: The paper style writes ``1 − p`` as ``q`` (when printing).
SHORT = {1 - S.p: Q, S.p - 1: -Q}

#: Printed width of one display line, in characters of math (the text width of a 10pt
#: article holds about 60 at display spacing; the margin leaves room for the number).
LINE = 52

_STEP_SYMBOL = re.compile(r"_k(\+1)?$")


def is_moment(symbol: sp.Symbol) -> bool:
    """A moment at a step: ``R_k``, ``C_k+1``, ``s_k``."""
    return bool(_STEP_SYMBOL.search(symbol.name))


def expanded(expr):
    """``p_B`` and ``q`` written out in ``p`` and ``B``."""
    return sp.sympify(expr).xreplace({P_B: S.active_probability, Q: 1 - S.p})


_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}^_]|\s+|.")
_INVISIBLE = {r"\left", r"\right", r"\quad", r"\displaystyle", r"\!", r"\,", r"\;", r"\ "}


def width(tex: str) -> float:
    """The printed width of the LaTeX math ``tex`` in characters, roughly: a fraction
    as wide as its wider part, scripts at 0.7, operators with their spacing."""
    tokens = _TOKEN.findall(tex)
    total, _ = _width(tokens, 0)
    return total


def _group(tokens: list[str], i: int) -> tuple[float, int]:
    """The width of the braced group (or single token) at ``i``, and the index after it."""
    if i < len(tokens) and tokens[i] == "{":
        return _width(tokens, i + 1, closing=True)
    if i < len(tokens):
        return _width(tokens[i:i + 1], 0)[0], i + 1
    return 0.0, i


def _width(tokens: list[str], i: int, closing: bool = False) -> tuple[float, int]:
    total = 0.0
    while i < len(tokens):
        token = tokens[i]
        if token == "}" and closing:
            return total, i + 1
        if token == r"\frac":
            top, i = _group(tokens, i + 1)
            bottom, i = _group(tokens, i)
            total += max(top, bottom) + 0.6
            continue
        if token in ("^", "_"):
            script, i = _group(tokens, i + 1)
            total += 0.7 * script
            continue
        if token == "{":
            inner, i = _width(tokens, i + 1, closing=True)
            total += inner
            continue
        i += 1
        if token.isspace() or token in _INVISIBLE or token == "}":
            continue
        total += 2.2 if token in "+-=>" or token in (r"\cdot", "&") else 1.0
    return total, i


def lines(lhs: str, op: str, terms: list[str], line: float = LINE) -> list[str]:
    r"""``lhs op term term …`` broken before a term where a line would pass :data:`LINE`
    (a term wider than a line broken between its factors, :func:`factors`): the first
    line ``lhs & op …``, the others ``& \quad …``.  An inequality (its left side the
    long part) is set ``& lhs op rhs``."""
    if op != "=":
        pieces = factors(lhs)
        pieces[-1] += f" {op} {' '.join(terms)}"
        return _broken(pieces[1:], width(pieces[0]), f"& {pieces[0]} ", line)
    return _broken([piece for term in terms for piece in factors(term)],
                   width(lhs) + 2.2, f"{lhs} &{op} ", line)


def _broken(pieces: list[str], used: float, first: str, line: float) -> list[str]:
    """``pieces`` after ``first``, a new line where the next would pass :data:`LINE`; a
    product's factor (:data:`_FACTOR`) that starts a line gets ``\times``."""
    out, current = [], first
    for piece in pieces:
        factor = piece.startswith(_FACTOR)
        piece = piece.removeprefix(_FACTOR)
        size = width(piece)
        if used + size > line and current.strip() not in ("", first.strip(), r"&\quad"):
            out.append(current.rstrip())
            current, used = r"&\quad " + (r"\times " if factor else ""), 3.0
        current += piece + " "
        used += size
    out.append(current.rstrip())
    return out


#: Marks a factor of a product split by :func:`factors` (``\times`` if it starts a line).
_FACTOR = "\x00"
_FACTOR_END = re.compile(r"\\right\)(\^\{\d+\})?$")
_DEPTH = {"{": 1, r"\left": 1, "}": -1, r"\right": -1}


def factors(term: str) -> list[str]:
    r"""A product wider than :data:`LINE` split between its parenthesised factors (the
    later ones marked :data:`_FACTOR`, or starting with ``\cdot`` as printed); any other
    term whole."""
    if width(term) <= LINE:
        return [term]
    pieces, depth, start = [], 0, 0
    for match in _TOKEN.finditer(term):
        token = match.group()
        depth += _DEPTH.get(token, 0)
        if depth == 0 and token.isspace():
            before, after = term[start:match.start()], term[match.end():]
            if _FACTOR_END.search(before) and after.startswith((r"\left(", r"\cdot \left(")):
                pieces.append(before)
                start = match.end()
    pieces.append(term[start:])
    pieces = [pieces[0]] + [p if p.startswith(r"\cdot") else _FACTOR + p for p in pieces[1:]]
    return [part for piece in pieces for part in _opened(piece)]


_SUM_FACTOR = re.compile(r"^(?P<head>.*?)\\left\((?P<inner>.*)\\right\)(?P<tail>(\^\{\d+\})?)$",
                         re.S)


def _opened(piece: str) -> list[str]:
    r"""A factor ``… \left(t_1 + t_2 + …\right)`` wider than :data:`LINE` as pieces
    ``… \bigl(t_1``, ``+ t_2``, …, ``+ t_n \bigr)`` (a sum may break inside its
    parentheses); any other piece whole."""
    match = _SUM_FACTOR.match(piece)
    if width(piece) <= LINE or match is None:
        return [piece]
    terms, depth, start = [], 0, 0
    inner = match["inner"]
    for token in _TOKEN.finditer(inner):
        depth += _DEPTH.get(token.group(), 0)
        if depth == 0 and token.group() in "+-" and token.start() > 0 and \
                inner[token.start() - 1] == " ":
            terms.append(inner[start:token.start() - 1])
            start = token.start()
    terms.append(inner[start:])
    if len(terms) < 2 or _DEPTH.get(match["head"][-5:], 0):
        return [piece]
    return [match["head"] + r"\bigl(" + terms[0], *terms[1:-1],
            terms[-1] + r"\bigr)" + match["tail"]]


def aligned(displays: list, section: str | None, line: float = LINE) -> list[str]:
    """The lines of one ``align`` of ``displays`` (``(lhs, op, terms)``, or a line already
    set), at most ``line`` wide: numbered and labelled per relation when ``section`` is
    given, else ``align*``."""
    env = "align" if section is not None else "align*"
    rows = []
    for number, display in enumerate(displays, 1):
        broken = [display] if isinstance(display, str) else lines(*display, line=line)
        if section is not None:
            broken = [line + r" \nonumber" for line in broken[:-1]] + \
                [broken[-1] + rf" \label{{{label(section, number)}}}"]
        rows.append(" \\\\\n".join(source_lines(line) for line in broken))
    return [rf"\begin{{{env}}}", " \\\\\n".join(rows), rf"\end{{{env}}}"]


def matrix_equation(recursion) -> str:
    """``X_{k+1} = A X_k + c`` (``+ u S_k`` for a coupled mode) with the entries as symbols
    ``a_{ij}``, ``c_i``, ``u_i`` (zeros shown), as an aligned line."""
    n = len(recursion.state)
    X = sp.Matrix([sp.Symbol(f"{s.name}_k") for s in recursion.state])
    nxt = sp.Matrix([sp.Symbol(f"{s.name}_k+1") for s in recursion.state])
    a = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"a_{{{i + 1}{j + 1}}}")
                  if recursion.transition[i, j] != 0 else 0)
    c = sp.Matrix([sp.Symbol(f"c_{{{i + 1}}}") if recursion.forcing[i] != 0 else 0
                   for i in range(n)])
    text = f"{display_latex(nxt)} &= {display_latex(a)} {display_latex(X)} + {display_latex(c)}"
    if recursion.coupled:    # a mode of a row: + u S_k
        u = sp.Matrix([sp.Symbol(f"u_{{{i + 1}}}") if recursion.coupling[i] != 0 else 0
                       for i in range(n)])
        text += f" + {display_latex(u)} S_k"
    return text


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


def label(section: str, index: int) -> str:
    """``eq:second-moment-recursion-1``: a label from the section and the number."""
    slug = re.sub(r"[^a-z0-9]+", "-", section.lower()).strip("-")
    return f"eq:{slug}-{index}"
