"""LaTeX export of every derived object of a model × optimizer × time rule.

Each equation is a SymPy relation printed with ``mul_symbol="dot"`` (so a product
is never mistaken for a symbol); :func:`latex_equations` gives them as
``(section, relation, latex)`` triples, :func:`latex_document` a standalone amsmath
document.  Every printed equation parses back (``sympy.parsing.latex``) to the
relation it came from (tested).
"""

from __future__ import annotations

import sympy as sp

from . import symbols as S
from .closed_forms import (characteristic_polynomial, closed_form, generating_function,
                           stationary_risk)
from .models import model_class
from .optimizers import update_rule
from .recursion import recursion_for
from .stability import characteristic_coefficients, generic_conditions
from .timescales import timescales

RISK_K = sp.Symbol("r_k")          # r_k = E R(θ_k)
RISK_INF = sp.Symbol(r"r_\infty")   # r_∞ = lim r_k
F = sp.Symbol("F")                 # F = Σ_k r_k z^k
CHI = sp.Symbol("chi")
BETA_EFF, KAPPA = sp.Symbol("beta_eff"), sp.Symbol("kappa")
TAU_R, TAU_L = sp.Symbol("tau_R"), sp.Symbol("tau_L")


def to_latex(expr) -> str:
    r"""LaTeX with explicit products; ``d`` braced so that ``d \cdot x`` is never read
    as a differential."""
    return sp.latex(expr, mul_symbol="dot", symbol_names={S.d: "{d}"})


def latex_equations(model: str, optimizer: str, time_rule: str = "steps"):
    """``[(section, relation, latex string), …]`` for every exported equation."""
    rec = recursion_for(model, optimizer, time_rule)
    out = []

    def add(section, relation):
        out.append((section, relation, to_latex(relation)))

    for eq in rec.equations():
        add("Second-moment recursion", eq)
    add("Risk", sp.Eq(RISK_K, rec.risk.subs(rec.state[0], sp.Symbol(f"{rec.state[0].name}_k"))))
    add("Generating function", sp.Eq(F, generating_function(rec)))
    add("Characteristic polynomial", sp.Eq(CHI, characteristic_polynomial(rec)))
    form = closed_form(rec)
    add("Closed form", sp.Eq(RISK_K, form.expression))
    for symbol, value in form.definitions.items():
        add("Closed form", sp.Eq(symbol, value))
    coefficients = characteristic_coefficients(model, optimizer, time_rule)
    for symbol, value in coefficients.items():
        add("Stability", sp.Eq(symbol, value))
    for condition in generic_conditions(len(coefficients)):
        add("Stability", sp.StrictGreaterThan(condition, 0))
    t = timescales(model, optimizer)
    add("Timescales", sp.Eq(BETA_EFF, t.effective_retention))
    add("Timescales", sp.Eq(KAPPA, t.curvature))
    add("Timescales", sp.Eq(TAU_R, t.retention))
    add("Timescales", sp.Eq(TAU_L, t.learning))
    add("Timescales", sp.Eq(TAU_R / TAU_L, t.ratio))
    add("Stationary risk", sp.Eq(RISK_INF, stationary_risk(rec)))
    return out


_TEXT = {
    "Second-moment recursion": r"With $e = \theta - \theta^*$ and buffer $v$ ($v_0 = 0$), "
    r"$R = \mathbb{E}\|e\|^2$, $C = \mathbb{E}\langle e, v\rangle$, $V = \mathbb{E}\|v\|^2$ "
    r"obey exactly:",
    "Risk": r"The expected risk $r_k = \mathbb{E}\,\mathcal{R}(\theta_k)$, "
    r"$\mathcal{R} = \tfrac12 p\|e\|^2$:",
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
}


def latex_document(model: str, optimizer: str, time_rule: str = "steps") -> str:
    """A standalone, compilable amsmath document with all exported equations."""
    law, rule = model_class(model), update_rule(optimizer)
    lines = [
        r"\documentclass[10pt]{article}",
        r"\usepackage{amsmath,amssymb}",
        r"\allowdisplaybreaks",
        r"\begin{document}",
        rf"\section*{{{law.title.capitalize()} under {optimizer} ({time_rule})}}",
        rf"Update: ${rule.latex}$. Time: "
        + ("every step." if time_rule == "steps" else
           "active iterates (steps whose batch holds the row's token; idle stretches "
           "integrated out)."),
        r"Parameters: $\eta$ learning rate, $\beta$ momentum, $p$ activity probability, "
        r"$B$ batch size, $d$ dimension, $s^2$ label-noise variance, $R_0 = \|e_0\|^2$.",
    ]
    section = None
    for name, _, text in latex_equations(model, optimizer, time_rule):
        if name != section:
            section = name
            lines += [rf"\subsection*{{{name}}}", _TEXT[name]]
        lines += [r"\begin{equation*}", text, r"\end{equation*}"]
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"
