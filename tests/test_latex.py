"""LaTeX export: every equation parses back to what it came from; the document
compiles with pdflatex."""

import re
import subprocess
from functools import lru_cache

import pytest
import sympy as sp
from latex_parsing import parse_latex_two_stage
from sympy.core.function import AppliedUndef
from sympy.parsing.latex import LaTeXParsingError, parse_latex
from sympy.polys.domains import ZZ

from sparsemom.derivations import BUILT_IN_RULES, TIME_RULES
from sparsemom.derivations import symbols as S
from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.derivations.output.latex import (
    BETA_EFF,
    CHI,
    IDLE,
    KAPPA,
    RISK_INF,
    RISK_K,
    TAU_R,
    F,
    exported,
    latex_document,
    latex_equations,
)
from sparsemom.derivations.output.paper_style import expanded
from sparsemom.derivations.properties.closed_forms import (
    characteristic_polynomial,
    closed_form,
    generating_function,
    stationary_risk,
    stationary_state,
)
from sparsemom.derivations.properties.stability import generic_conditions
from sparsemom.derivations.properties.timescales import timescales
from sparsemom.numerics.cli import main

P, B = sp.Symbol("p"), sp.Symbol("B")


def is_zero(expr: sp.Expr) -> bool:
    """Exact zero test in a rational-function field: ``(1 − p)^{jB}`` becomes ``q^j``
    and every other symbolic power (``λ_i^k``) an independent indeterminate.  When the
    expression is affine in those indeterminates (the closed form ``Σ λ_i^k γ_i + R_∞``),
    it is zero exactly when each coefficient is, and the coefficients are tested one by
    one (in far fewer variables: seconds instead of minutes)."""
    q = sp.Dummy("q")
    applied = {f: sp.Dummy() for f in expr.atoms(AppliedUndef)}   # P(z) read as a function
    expr = expr.xreplace(applied)
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
                        "Stationary state"}
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
                  "Timescales", "Stationary state"):
        assert rf"\subsection*{{{title}}}" in doc


def test_logistic_document_shows_how_p_enters():
    """The rare class: Fisher constants, their expansion in p, the linearised signal,
    then the bulk recursion with the engine's closed forms."""
    doc = latex_document("logistic", "heavy-ball")
    for title in ("Fisher constants", "Rare-class expansion", "Linearised signal",
                  "Second-moment recursion", "Stability", "Timescales"):
        assert rf"\subsection*{{{title}}}" in doc
    assert r"h &= p - p^{2} \cdot e^{\rho^{2}} + O\left(p^{3}\right)" in doc
    assert r"R_{\perp,k+1}" in doc and r"\mathcal{S}_{1}\left(b^{*}, \rho^{2}\right)" in doc


@pytest.mark.parametrize("style", ["exact", "paper"])
def test_logistic_document_compiles(tmp_path, pdflatex, style):
    """The logistic document (long inline symbols in its text) compiles in both styles
    without an overfull line."""
    log = _compiled(tmp_path, pdflatex, "logistic", latex_document("logistic", "heavy-ball",
                                                                    style=style))
    assert "Overfull \\hbox" not in log


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

def _resolved(shown, restore) -> dict:
    """Every relation of ``shown`` by its left side, the named sub-expressions (a symbol
    defined once: ``a_{ij}``, ``χ_j``, ``P(z)``, ``D_∞``, ``γ_i``, ``m_j``, ``u_i``, ``N``, …)
    substituted until none is left; ``p_B``, ``q`` written out."""
    relations = [s.relation(restore) for s in shown]
    lhs = [r.lhs for r in relations]
    definitions = {r.lhs: r.rhs for r in relations
                   if isinstance(r, sp.Eq) and r.lhs.is_Symbol and lhs.count(r.lhs) == 1}
    out = {}
    for r in relations:
        rhs = r.rhs
        for _ in range(12):
            nxt = rhs.xreplace(definitions)
            if nxt == rhs:
                break
            rhs = nxt
        out.setdefault(r.lhs, []).append(expanded(rhs) if isinstance(rhs, sp.Expr) else rhs)
    return out


def _plain(expr):
    """``expr`` over symbols without assumptions (the zero test's ``p`` and ``B``)."""
    expr = sp.sympify(expr)
    return expr.xreplace({s: sp.Symbol(s.name) for s in expr.free_symbols})


@pytest.mark.parametrize("name,time,shorthand", [
    ("heavy-ball", "steps", False), ("heavy-ball", "active", True), ("nesterov", "steps", True)])
def test_exported_relations_are_the_derived_objects(name, time, shorthand):
    """Collecting, factoring, the signs and the named sub-expressions change how the
    derived objects are written, never what they are: substituted back (and ``p_B``, ``q``
    written out), every exported relation is exactly the engine's object."""
    rec = recursion_for("lsq", name, time)
    got = _resolved(exported("lsq", name, time, shorthand=shorthand),
                    {} if shorthand else {IDLE: (1 - S.p) ** S.batch})

    def same(a, b):
        return is_zero(_plain(sp.sympify(a) - sp.sympify(b)))

    for eq in rec.equations():
        assert same(got[eq.lhs][0], eq.rhs), eq.lhs
    state_k = {s: sp.Symbol(f"{s.name}_k") for s in rec.state}
    risk_k, closed_k = got[RISK_K]
    assert same(risk_k, rec.risk.xreplace(state_k))
    assert same(got[CHI][0], characteristic_polynomial(rec))
    assert same(got[F][0], generating_function(rec))
    for s, x in zip(rec.state, stationary_state(rec)):
        assert same(got[sp.Symbol(f"{s.name}_\\infty")][0], x)
    assert same(got[RISK_INF][0], stationary_risk(rec))
    assert same(closed_k, closed_form(rec).substituted())
    t = timescales("lsq", name)
    for symbol, value in ((BETA_EFF, t.effective_retention), (KAPPA, t.curvature),
                          (TAU_R, t.retention)):
        assert same(got[symbol][0], value), symbol
    conditions = [r for r in exported("lsq", name, time, shorthand=shorthand) if r.op == ">"]
    n = len(rec.state)
    assert len(conditions) == len(generic_conditions(n))
    assert all(same(c.lhs.value, g) for c, g in zip(conditions, generic_conditions(n)))


def _compiled(tmp_path, pdflatex, name: str, text: str) -> str:
    """Compile ``text`` with pdflatex; its log."""
    out = tmp_path / f"{name}.tex"
    out.write_text(text)
    proc = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", out.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:]
    return (tmp_path / f"{name}.log").read_text(errors="replace")


def test_paper_document_is_labelled_matrix_form_without_cdot(tmp_path, pdflatex):
    """The paper style: juxtaposition, the recursion as a matrix equation, every relation
    numbered and labelled once, nothing scaled down and no line wider than the text
    (pdflatex reports no overfull box), for heavy ball and the 6-moment DANA."""
    import sparsemom.derivations.definitions.methods  # noqa: F401  (registers dana: two buffers, a 6×6 matrix)

    for optimizer, time in (("heavy-ball", "active"), ("heavy-ball", "steps"), ("dana", "steps")):
        out = tmp_path / f"{optimizer}-{time}.tex"
        assert main(["latex", "--optimizer", optimizer, "--time", time, "--style", "paper",
                     "-o", str(out)]) == 0
        text = out.read_text()
        assert r"\cdot" not in text and r"\begin{matrix}" in text
        assert r"\label{eq:second-moment-recursion-1}" in text
        labels = re.findall(r"\\label\{([^}]*)\}", text)
        assert len(labels) == len(set(labels)) == len(_displayed(text))
        assert not re.search(r"\\resizebox|\\scalebox|\\tiny|\\scriptsize", text)
        assert max(map(len, text.splitlines())) < 5000       # TeX's line buffer
        log = _compiled(tmp_path, pdflatex, f"{optimizer}-{time}", text)
        assert "Overfull \\hbox" not in log, (optimizer, time)
    assert r"p_B = 1 - (1 - p)^B" in (tmp_path / "heavy-ball-active.tex").read_text()
    with pytest.raises(ValueError, match="style must be one of"):
        latex_document("lsq", "sgd", style="pretty")


def _displayed(text: str) -> list[str]:
    """The relations a document displays, each on one line (continuations joined)."""
    out = []
    for block in re.findall(r"\\begin\{align\*?\}(.*?)\\end\{align\*?\}", text, re.S):
        current = ""
        for row in re.split(r" \\\\\n", block):
            row = re.sub(r"\\label\{[^}]*\}|\\nonumber", "", row).strip()
            if row.startswith(r"&\quad"):
                current += " " + row.removeprefix(r"&\quad").strip()
            else:
                out.append(current) if current else None
                current = row
        out.append(current)
    return out


DOCUMENTS = [(name, time, style) for name in ("sgd", "heavy-ball")
             for time in TIME_RULES for style in ("exact", "paper")]


@pytest.mark.parametrize("name,time,style", DOCUMENTS)
def test_documents_sign_factors_positively_and_never_repeat_an_equation(name, time, style):
    """No factor written ``(β − 1)`` (a sum whose constant, or first term, is negative
    inside parentheses), no relation shown twice, no right-hand side defined twice."""
    text = latex_document("lsq", name, time, style)
    shown = _displayed(text)
    assert shown and len(shown) == len(set(shown))
    rhs = [row.split("&=", 1)[1].strip() for row in shown if "&=" in row]
    assert len(rhs) == len(set(rhs)), [r for r in rhs if rhs.count(r) > 1][:3]
    for row in shown:
        assert not re.search(r"\\left\(\s*-", row), row[:120]           # (-1 + β), (-β + …)
        assert not re.search(r"- 1\\right\)", row), row[:120]             # (β - 1)
        assert not re.search(r"\\beta - 1\b|\\eta p - 1\b", row), row[:120]


def test_the_sign_rule_and_its_written_forms():
    """``β − 1`` is written ``-(1 - β)``; the written tree keeps the value; a collected
    polynomial reads by increasing powers with factored coefficients."""
    from sparsemom.derivations.output.written import Printer, reads_negative, written

    beta, eta, p = S.beta, S.lr, S.p
    assert reads_negative(beta - 1, (beta,)) and not reads_negative(1 - beta, (beta,))
    assert written(p / (beta - 1), (beta,)).latex(Printer()) == r"- \frac{p}{1 - \beta}"
    a11 = 1 - 2 * p * eta + eta**2 * p * (S.batch * p + S.d - p + 2) / S.batch
    w = written(sp.expand(a11), (eta, beta))
    assert w.latex(Printer()) == r"1 - 2 p \eta + \frac{p \left(2 + d - p + B p\right)}{B} \eta^{2}"
    assert sp.expand(w.value - a11) == 0
    assert written((beta - 1) ** 2 * eta, (eta,)).latex(Printer()) == \
        r"\eta \left(1 - \beta\right)^{2}"


def test_the_two_stage_parser_reads_what_sympys_parser_reads():
    """The round trip's parser (SLL first, LL on failure) against ``parse_latex`` itself on
    the shorter equations of one document, and on malformed input (SymPy's error)."""
    texts = [text for _, _, text in latex_equations("lsq", "heavy-ball", "steps") if len(text) < 1500]
    assert len(texts) >= 10
    for text in texts:
        assert parse_latex_two_stage(text) == parse_latex(text), text[:80]
    with pytest.raises(LaTeXParsingError):
        parse_latex_two_stage(r"\frac{1}{")


def _line(document: str, start: str) -> str:
    return next(line for line in document.splitlines() if line.startswith(start))


@pytest.mark.parametrize("style", ["exact", "paper"])
def test_the_text_names_the_rules_parameters_buffers_and_moments(style):
    """The sentences around the equations are the rule's, in the symbols the equations
    print: SGD has no β and no buffer (one moment, R); DANA names g_1, g_3, δ (not the
    authors' γ_1, γ_3, Δ: the document's γ_i are Sylvester's, Δ(z) a determinant), its
    buffer y and moments M_{e,y}, M_{y,y}; QHM its ν."""
    sgd = latex_document("lsq", "sgd", style=style)
    assert r"\beta" not in _line(sgd, "Parameters:")
    assert _line(sgd, "With $e") == (r"With $e = \theta - \theta^*$, "
                                      r"$R = \mathbb{E}\left\|e\right\|^{2}$ obeys exactly "
                                      r"$X_{k+1} = A X_k + c$:")
    dana = latex_document("lsq", "dana", style=style)
    update, parameters = _line(dana, "Update:"), _line(dana, "Parameters:")
    assert r"\gamma" not in update and r"\Delta" not in update
    assert all(s in update for s in ("g_{1}", "g_{3}", r"\delta")), update
    assert r"\beta" not in parameters
    assert all(f"${s}$ " in parameters for s in ("g_{1}", "g_{3}", r"\delta")), parameters
    equations = dana.partition(r"\subsection*")[2]
    assert all(s in equations for s in ("g_{1}", "g_{3}", r"\delta"))
    moments = _line(dana, "With $e")
    assert r"buffer $y$ ($y_0 = 0$)" in moments
    assert r"$M_{e,y} = \mathbb{E}\left\langle e, y\right\rangle$" in moments
    assert r"$M_{y,y} = \mathbb{E}\left\|y\right\|^{2}$" in moments and r"\|v" not in moments
    assert r"$\nu$ immediate discount" in _line(latex_document("lsq", "qhm", style=style),
                                                 "Parameters:")
    heavy_ball = latex_document("lsq", "heavy-ball", style=style)
    assert r"$\beta_{\mathrm{eff}}$ is the buffer's retention" in heavy_ball   # eff upright
    if style == "paper":
        assert r"\beta_{\mathrm{eff}} &=" in heavy_ball and r"\beta_{eff}" not in heavy_ball


@pytest.mark.parametrize("name", ["dana", "heavy-ball-dampened"])
def test_a_document_with_the_rules_own_parameters_compiles(tmp_path, pdflatex, name):
    """The rule's hyper-parameter docs (Greek letters, a minus sign in plain text) are set
    as LaTeX: the document compiles without an overfull line."""
    log = _compiled(tmp_path, pdflatex, "rule", latex_document("lsq", name, style="paper"))
    assert "Overfull \\hbox" not in log


def test_plain_text_becomes_latex_text():
    from sparsemom.derivations.core.printing import latex_text

    assert latex_text("the authors' γ1, of (1 − τ) g") == \
        r"the authors' $\gamma_{1}$, of (1 $-$ $\tau$) g"
    assert latex_text(r"Δ: the noise $\xi = \sigma_t t_\nu$") == \
        r"$\Delta$: the noise $\xi = \sigma_t t_\nu$"      # a doc's own LaTeX math kept


def test_long_sums_of_a_factored_form_are_collected_and_factors_go_into_fractions():
    """χ_3 of DANA: the factored form keeps its long sum collected in the parameters
    (``B − 2Bpη + p(2 + d − p + Bp)η²``, not six expanded terms); a number before a sum
    is not distributed (``2 (1 − δ)``, never ``(2 − 2δ)``); a factor before a fraction is
    written into its numerator (``\\frac{2 p …}{B}``, never ``p \\frac{2 …}{B}``)."""
    from sparsemom.derivations.definitions.methods import delta
    from sparsemom.derivations.output.written import Printer, written

    eta, p, b, d = S.lr, S.p, S.batch, S.d
    chi3 = -(1 - delta) ** 3 * (1 - eta * p) * sp.expand(
        b - 2 * b * eta * p + eta**2 * p * (2 + d - p + b * p)) / b
    w = written(sp.expand(chi3), (eta, delta))
    text = w.latex(Printer())
    assert r"p \left(2 + d - p + B p\right) \eta^{2}" in text, text
    assert sp.expand(w.value - chi3) == 0
    document = latex_document("lsq", "dana", style="paper")
    assert r"\left(2 - 2 \delta\right)" not in document
    assert not re.search(r"[a-z}] \\frac", document)
