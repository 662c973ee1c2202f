"""LaTeX export: every equation parses back to what it came from; the document
compiles with pdflatex."""

import subprocess
from functools import lru_cache

import pytest
import sympy as sp
from latex_parsing import parse_latex_two_stage
from sympy.parsing.latex import LaTeXParsingError, parse_latex
from sympy.polys.domains import ZZ

from sparsemom.derivations import BUILT_IN_RULES, TIME_RULES
from sparsemom.derivations.output.latex import latex_document, latex_equations
from sparsemom.numerics.cli import main

P, B = sp.Symbol("p"), sp.Symbol("B")


def is_zero(expr: sp.Expr) -> bool:
    """Exact zero test in a rational-function field: ``(1 − p)^{jB}`` becomes ``q^j``
    and every other symbolic power (``λ_i^k``) an independent indeterminate.  When the
    expression is affine in those indeterminates (the closed form ``Σ λ_i^k γ_i + R_∞``),
    it is zero exactly when each coefficient is, and the coefficients are tested one by
    one (in far fewer variables: seconds instead of minutes)."""
    q = sp.Dummy("q")
    expr = expr.replace(
        lambda x: x.is_Pow and sp.expand(x.base - (1 - P)) == 0
        and (sp.expand(x.exp) / B).is_Integer,
        lambda x: q ** (sp.expand(x.exp) / B))
    atoms = {}
    expr = expr.replace(lambda x: x.is_Pow and not x.exp.is_Integer,
                        lambda x: atoms.setdefault((sp.expand(x.base), sp.expand(x.exp)),
                                                   sp.Dummy()))
    indeterminates = list(atoms.values())
    coefficients = [sp.diff(expr, x) for x in indeterminates]
    if indeterminates and not any(c.has(*indeterminates) for c in coefficients):
        constant = expr.xreplace({x: 0 for x in indeterminates})
        return all(_is_zero_in_field(c) for c in [constant, *coefficients])
    return _is_zero_in_field(expr)


def _is_zero_in_field(expr: sp.Expr) -> bool:
    field = ZZ.frac_field(*sorted(expr.free_symbols, key=str))
    return field.from_sympy(expr) == field.zero


@lru_cache(maxsize=None)
def _parsed_symbol(symbol: sp.Symbol) -> sp.Expr:
    """What the LaTeX of one symbol parses back to (ANTLR is slow; symbols repeat)."""
    return parse_latex_two_stage(sp.latex(symbol))


#: The round trip parses every equation with SymPy's ANTLR LaTeX parser (2–20 s per rule
#: and time rule): the built-in rules, and qhm per step for the methods registered through
#: the rule API with hyper-parameters of their own.  (Its active-time closed form nests
#: deeper than SymPy's LaTeX parser recurses.)
ROUND_TRIP = [(rule.name, time) for rule in BUILT_IN_RULES for time in TIME_RULES] + \
    [("qhm", "steps")]


@pytest.mark.parametrize("name,time", ROUND_TRIP)
def test_every_equation_round_trips(name, time):
    equations = latex_equations("lsq", name, time)
    sections = {section for section, _, _ in equations}
    assert sections == {"Second-moment recursion", "Risk", "Generating function",
                        "Characteristic polynomial", "Closed form", "Stability", "Timescales",
                        "Stationary risk"}
    for section, relation, text in equations:
        parsed = parse_latex_two_stage(text)
        source = relation.xreplace({s: _parsed_symbol(s) for s in relation.free_symbols})
        source = source.xreplace({s: sp.Symbol(s.name) for s in source.free_symbols})
        assert type(parsed) is type(source), (section, text[:80])
        assert is_zero((source.lhs - source.rhs) - (parsed.lhs - parsed.rhs)), (section, text[:80])


def test_document_compiles(tmp_path, pdflatex):
    out = tmp_path / "heavy_ball.tex"
    assert main(["latex", "--model", "lsq", "--optimizer", "heavy-ball", "-o", str(out)]) == 0
    text = out.read_text()
    assert text.startswith(r"\documentclass") and r"\usepackage{amsmath" in text
    proc = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", out.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert (tmp_path / "heavy_ball.pdf").stat().st_size > 1000


def test_document_lists_all_sections():
    doc = latex_document("lsq", "lazy", "active")
    for title in ("Second-moment recursion", "Generating function", "Closed form", "Stability",
                  "Timescales", "Stationary risk"):
        assert rf"\subsection*{{{title}}}" in doc


def test_logistic_document_shows_how_p_enters():
    """The rare class: Fisher constants, their expansion in p, the linearised signal,
    then the bulk recursion with the engine's closed forms."""
    doc = latex_document("logistic", "heavy-ball")
    for title in ("Fisher constants", "Rare-class expansion", "Linearised signal",
                  "Second-moment recursion", "Stability", "Timescales"):
        assert rf"\subsection*{{{title}}}" in doc
    assert r"h = p - p^{2} \cdot e^{\rho^{2}} + O\left(p^{3}\right)" in doc
    assert r"R_{\perp,k+1}" in doc and r"\mathcal{S}_{1}\left(b^{*}, \rho^{2}\right)" in doc


def test_logistic_document_compiles(tmp_path, pdflatex):
    out = tmp_path / "logistic.tex"
    out.write_text(latex_document("logistic", "heavy-ball"))
    proc = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error",
                           out.name], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_the_zero_test_rejects_a_wrong_coefficient_of_a_mode():
    """The split by modes must still see a single wrong term: ``λ^k`` against ``λ^k·(1+η)``,
    a wrong constant, and an expression not affine in the modes (the field path)."""
    lam, mu, k, eta = sp.symbols("lambda_1 lambda_2 k eta")
    assert is_zero(lam**k * (1 + eta) - lam**k - eta * lam**k)
    assert not is_zero(lam**k * (1 + eta) - lam**k)
    assert not is_zero(lam**k + eta - lam**k)
    assert is_zero(lam**k * mu**k * eta - eta * mu**k * lam**k)      # a product of modes
    assert not is_zero(lam**k * mu**k - lam**k)


# ---- the paper's style ----------------------------------------------------------------

def test_paper_shorthand_is_undone_exactly():
    """``p_B``, ``q`` and the per-moment factoring change how a relation is written, never
    what it says: written out again it is the derived relation, for every equation."""
    from sparsemom.derivations.output.paper_style import P_B, Q, expanded, shorthand

    for section, relation, _ in latex_equations("lsq", "heavy-ball", "active"):
        if section == "Closed form":
            continue          # roots λ_i: the shorthand leaves them as they are
        short = shorthand(relation)
        difference = expanded(short.lhs - short.rhs) - (relation.lhs - relation.rhs)
        # the zero test's p and B carry no assumptions
        assert is_zero(difference.xreplace({s: sp.Symbol(s.name)
                                            for s in difference.free_symbols})), section
    from sparsemom.derivations import symbols as S
    from sparsemom.derivations import timescales
    short = shorthand(timescales("lsq", "heavy-ball").effective_retention)
    assert short == P_B * S.beta / (P_B * S.beta - S.beta + 1)
    assert shorthand(1 - S.p) == Q


def test_paper_document_is_labelled_matrix_form_without_cdot(tmp_path, pdflatex):
    import sparsemom.derivations.definitions.methods  # noqa: F401  (registers dana: two buffers, a 6×6 matrix)

    for optimizer, time in (("heavy-ball", "active"), ("dana", "steps")):
        out = tmp_path / f"{optimizer}.tex"
        assert main(["latex", "--optimizer", optimizer, "--time", time, "--style", "paper",
                     "-o", str(out)]) == 0
        text = out.read_text()
        assert r"\cdot" not in text and r"p_B = 1 - (1 - p)^B" in text
        assert r"\label{eq:second-moment-recursion-1}" in text and r"\begin{matrix}" in text
        assert text.count(r"\label{") == text.count(r"\begin{equation}") + \
            text.count(r"\begin{multline}")
        assert max(map(len, text.splitlines())) < 5000       # TeX's line buffer
        proc = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", out.name],
                              cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-2000:]
    assert r"\begin{multline}" in (tmp_path / "heavy-ball.tex").read_text()
    with pytest.raises(ValueError, match="style must be one of"):
        latex_document("lsq", "sgd", style="pretty")


def test_the_two_stage_parser_reads_what_sympys_parser_reads():
    """The round trip's parser (SLL first, LL on failure) against ``parse_latex`` itself on
    the shorter equations of one document, and on malformed input (SymPy's error)."""
    texts = [text for _, _, text in latex_equations("lsq", "heavy-ball", "steps") if len(text) < 1500]
    assert len(texts) >= 10
    for text in texts:
        assert parse_latex_two_stage(text) == parse_latex(text), text[:80]
    with pytest.raises(LaTeXParsingError):
        parse_latex_two_stage(r"\frac{1}{")
