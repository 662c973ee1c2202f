"""LaTeX export of every derived object of a model × optimizer × time rule.

Each equation is a SymPy relation printed with ``mul_symbol="dot"`` (so a product
is never mistaken for a symbol); :func:`latex_equations` gives them as
``(section, relation, latex)`` triples, :func:`latex_document` a standalone amsmath
document.  Every printed equation parses back (``sympy.parsing.latex``) to the
relation it came from (tested).
"""

from __future__ import annotations

import sympy as sp

from ..core.printing import equation, to_latex
from ..core.vectors import Dot
from ..definitions.laws import law as law_named
from ..definitions.optimizers import e, update_rule
from ..engine.moments import MODE, MODES, SYMBOLIC_MOMENTS
from ..engine.recursion import recursion_for
from ..properties.closed_forms import (
    characteristic_polynomial,
    closed_form,
    generating_function,
    has_stationary_state,
    stationary_risk,
)
from ..properties.stability import (
    SCHUR_COHN_MAX_DEGREE,
    characteristic_coefficients,
    generic_conditions,
    kernel_mass_term,
)
from ..properties.timescales import timescales
from . import paper_style

RISK_K = sp.Symbol("r_k")          # r_k = E R(θ_k)
RISK_INF = sp.Symbol(r"r_\infty")   # r_∞ = lim r_k
F = sp.Symbol("F")                 # F = Σ_k r_k z^k
CHI = sp.Symbol("chi")
BETA_EFF, KAPPA = sp.Symbol("beta_eff"), sp.Symbol("kappa")
TAU_R, TAU_L = sp.Symbol("tau_R"), sp.Symbol("tau_L")
MASS = sp.Symbol("m_j")            # a mode's share of the kernel mass


def positive_fraction(expr: sp.Expr) -> sp.Expr:
    """``N/D`` with ``N`` factored, ``D`` expanded and the sign carried so that ``N`` has
    none (``dηλ/(2B − …)``, not ``−dηλ/(… − 2B)``)."""
    numerator, denominator = sp.fraction(sp.factor(expr))
    if numerator.could_extract_minus_sign():
        numerator, denominator = -numerator, -denominator
    return sp.Mul(sp.factor(numerator), sp.Pow(sp.expand(denominator), -1), evaluate=False)


def latex_equations(model: str, optimizer: str, time_rule: str = "steps"):
    """``[(section, relation, latex string), …]`` for every exported equation."""
    rec = recursion_for(model, optimizer, time_rule)
    out = []

    def add(section, relation):
        out.append((section, relation, to_latex(relation)))

    closure = law_named(model).closure
    if closure is not None:   # a law closed by its own statistics: its sections first
        for section, relation in closure.latex_sections(optimizer, time_rule):
            add(section, relation)

    for eq in rec.equations():
        add("Second-moment recursion", eq)
    risk = rec.risk.subs(rec.state[0], sp.Symbol(f"{rec.state[0].name}_k"))
    if rec.coupled:     # one mode of a row: the row's sum, its coupling and kernel mass
        add("Coupling", rec.coupling_equation())
        add("Risk", equation(RISK_K, sp.Sum(risk, (MODE, 1, MODES))))
        add("Stability", sp.StrictLessThan(sp.Sum(MASS, (MODE, 1, MODES)), 1, evaluate=False))
        add("Stability", equation(MASS, positive_fraction(kernel_mass_term(model, optimizer))))
        return out
    add("Risk", equation(RISK_K, risk))
    small = len(rec.state) <= SYMBOLIC_MOMENTS   # else: closed forms omitted (said in the text)
    if small:
        add("Generating function", equation(F, generating_function(rec)))
    add("Characteristic polynomial", equation(CHI, characteristic_polynomial(rec)))
    stationary = small and has_stationary_state(rec)
    if stationary:  # else: no fixed point to expand around (said in the document's text)
        form = closed_form(rec)
        add("Closed form", equation(RISK_K, form.expression))
        for symbol, value in form.definitions.items():
            add("Closed form", equation(symbol, value))
    coefficients = characteristic_coefficients(model, optimizer, time_rule)
    for symbol, value in coefficients.items():
        add("Stability", equation(symbol, value))
    if len(coefficients) <= SCHUR_COHN_MAX_DEGREE:
        for condition in generic_conditions(len(coefficients)):
            add("Stability", sp.StrictGreaterThan(condition, 0, evaluate=False))
    t = timescales(model, optimizer)
    add("Timescales", equation(BETA_EFF, t.effective_retention))
    add("Timescales", equation(KAPPA, t.curvature))
    add("Timescales", equation(TAU_R, t.retention))
    if t.learning.is_finite:  # κ = 0 (no learning): τ_L = ∞, said in the text instead
        add("Timescales", equation(TAU_L, t.learning))
        add("Timescales", equation(TAU_R / TAU_L, t.ratio))
    if stationary:
        add("Stationary risk", equation(RISK_INF, stationary_risk(rec)))
    return out


_TEXT = {
    "Second-moment recursion": r"With $e = \theta - \theta^*$ and buffer $v$ ($v_0 = 0$), "
    r"$R = \mathbb{E}\|e\|^2$, $C = \mathbb{E}\langle e, v\rangle$, $V = \mathbb{E}\|v\|^2$ "
    r"obey exactly:",
    "Risk": r"The expected risk $r_k = \mathbb{E}\,\mathcal{R}(\theta_k)$, "
    r"$\mathcal{R} = {risk}$:",
    "Generating function": r"$F = \sum_{k \ge 0} r_k z^k$:",
    "Characteristic polynomial": r"$\chi = \det(\lambda I - A)$ of the transition matrix $A$:",
    "Closed form": r"With $\lambda_1, \dots$ the roots of $\chi$ (assumed distinct; "
    r"repeated roots are handled numerically), $a_{ij}$ the entries of $A$, $w_i$ the risk "
    r"weights and $u_i$ the entries of $X_0 - X_\infty$ (Sylvester's formula):",
    "Stability": r"$\chi = \lambda^n + \chi_1 \lambda^{n-1} + \dots + \chi_n$; all roots lie "
    r"in the open unit disk (the risk converges) exactly when (Schur--Cohn):",
    "Timescales": r"In active updates: $\beta_{eff}$ is the buffer's retention per active "
    r"update, $\tau_R = 1/(1 - \beta_{eff})$ the retention time, $\kappa$ the effective "
    r"curvature per active update with the buffer following the error adiabatically, "
    r"$\tau_L = 1/(2\eta\kappa)$ the number of active updates that cut "
    r"$\mathbb{E}\|e\|^2$ by a factor $\mathrm{e}$:",
    "Stationary risk": r"The noise floor $r_\infty = \lim_{k\to\infty} r_k$:",
    "Coupling": r"The modes $j = 1, \dots, M$ of the row move together through the sum "
    r"$S_k$ of their moments (block diagonal plus rank one):",
}

#: The stability text of a coupled law: the renewal equation's kernel mass.
_COUPLED_STABILITY = (r"The coupled sum obeys a renewal equation with kernel "
                      r"$K_m = \sum_j q_j A_j^m u_j$. When $K_m \ge 0$ (Gaussian data: each "
                      r"block is the second-moment map of its mode) the second moments converge "
                      r"exactly when every mode's block is stable and its mass is below one:")


#: Styles of :func:`latex_document`.
STYLES = ("exact", "paper")


def latex_document(model: str, optimizer: str, time_rule: str = "steps",
                   style: str = "exact") -> str:
    """A standalone, compilable amsmath document with all exported equations.

    ``style="exact"``: every equation printed so that it parses back to its relation
    (explicit ``\\cdot``, one unnumbered equation each).  ``style="paper"``: the paper's
    notation (:mod:`sparsemom.derivations.output.paper_style`): juxtaposition, ``p_B``/``q`` shorthand, the
    recursion in matrix form, long relations over several lines, numbered and labelled.
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(map(repr, STYLES))}; got {style!r}")
    law, rule = law_named(model), update_rule(optimizer)
    lines = [
        r"\documentclass[10pt]{article}",
        r"\usepackage{amsmath,amssymb,graphicx}",
        r"\allowdisplaybreaks",
        r"\begin{document}",
        rf"\section*{{{law.title.capitalize()} under {optimizer} ({time_rule})}}",
        rf"Update: ${rule.latex}$. Time: "
        + ("every step." if time_rule == "steps" else
           "active iterates (steps whose batch holds the row's token; idle stretches "
           "integrated out)."),
        law.latex_parameter_text(),
    ]
    intro = {**_TEXT, **(law.closure.latex_text if law.closure is not None else {})}
    intro["Risk"] = intro["Risk"].replace("{risk}", sp.latex(law.risk(Dot(e, e))))
    rec = recursion_for(model, optimizer, time_rule)
    if rec.coupled:
        intro["Stability"] = _COUPLED_STABILITY
    elif not timescales(model, optimizer).learning.is_finite:
        intro["Timescales"] += (r" here $\kappa = 0$: the update does not reduce the error, "
                                r"so $\tau_L = \infty$ (no learning).")
    section, number = None, 0
    if style == "paper" and law.token_mask:
        lines.append(r"Shorthand: $p_B = 1 - (1 - p)^B$, the probability that a batch holds "
                     r"the row's token, and $q = 1 - p$.")
    for name, relation, text in latex_equations(model, optimizer, time_rule):
        if name != section:
            section, number = name, 0
            lines += [rf"\subsection*{{{name}}}", intro[name]]
        if style == "exact":
            lines += [r"\begin{equation*}", text, r"\end{equation*}"]
            continue
        if name == "Second-moment recursion" and law.closed_moments and not rec.coupled:
            if number:           # the whole recursion at once, in matrix form
                continue
            displays = paper_style.matrix_displays(rec)
        else:
            displays = paper_style.relation_displays(relation)
        for body, layout in displays:
            number += 1
            lines += paper_style.display(body, layout, paper_style.label(name, number))
    if len(rec.state) > SYMBOLIC_MOMENTS:
        lines += [r"\subsection*{Closed forms}",
                  rf"This recursion has {len(rec.state)} moments: its generating function, "
                  r"closed form, stationary risk and Schur--Cohn conditions grow "
                  r"combinatorially and are not derived symbolically (they are for at most "
                  rf"{SYMBOLIC_MOMENTS} moments, one buffer). The risk is computed exactly by "
                  r"iterating the recursion, and stability numerically from the eigenvalues "
                  r"of $A$."]
    elif not rec.coupled and not has_stationary_state(rec):
        lines += [r"\subsection*{Stationary risk}",
                  r"$1$ is an eigenvalue of $A$ for every parameter value: there is no "
                  r"stationary state, hence no noise floor and no closed form around it."]
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"
