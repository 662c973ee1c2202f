"""Build the notebooks that verify each derivation: ``python notebooks/build.py [--check]``.

One notebook per derivation; each derives its objects afresh (so it follows a model
change), shows them in LaTeX, and asserts its claims.  The files are generated —
edit this script, not the ``.ipynb`` — and saved without outputs; the test suite
rebuilds them, diffs against the checked-in files and executes each in a fresh kernel.
``--check`` only reports whether the checked-in notebooks are current; ``--execute`` also
runs each in a fresh kernel and writes the executed copy, outputs and figures included, to
``notebooks/executed/`` (what a reader browsing the repository sees rendered).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
EXECUTED = HERE / "executed"
#: Seconds a cell may run when executing.
CELL_TIMEOUT = 900

SETUP = """\
import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
from IPython.display import Math, Markdown, display

def show(lhs, expr):
    \"\"\"Display ``lhs expr`` as one formula: ``lhs`` is LaTeX (e.g. ``r"R_\\infty ="``),
    ``expr`` a SymPy object or a LaTeX string.\"\"\"
    body = expr if isinstance(expr, str) else sp.latex(expr)
    display(Math(rf"{lhs}\\quad {body}" if lhs else body))"""

NOTEBOOKS: dict[str, tuple[str, list[tuple[str, str]]]] = {}


def notebook(name: str, title: str, cells: list[tuple[str, str]]) -> None:
    NOTEBOOKS[name] = (title, cells)


# ---- 1. least-squares recursion and closed forms -----------------------------------

notebook("01_lsq_recursion_and_closed_forms", "Sparse least squares: the exact recursion and its closed forms", [
    ("md", """For the error $e=\\theta-\\theta^*$ and buffer $v$, the state
$X=(E\\|e\\|^2, E\\langle e,v\\rangle, E\\|v\\|^2)$ obeys exactly $X_{k+1}=AX_k+c$
(docs/model.md, M1). Derived here from the update rule of heavy ball, then checked exactly."""),
    ("code", """from sparsemom.derivations import derive_recursion
from sparsemom.numerics import Optimizer, SparseLeastSquares
from sparsemom.derivations.properties.closed_forms import characteristic_polynomial, generating_function, stationary_risk
rec = derive_recursion("lsq", "heavy-ball")
rec      # a MomentRecursion displays itself in LaTeX"""),
    ("md", "**Claim 1** — the recursion is the expectation of the update: equal, in rational arithmetic, "
           "to $E R_k$ expanded as a polynomial in the data (Isserlis for the Gaussians, Bernoulli masks)."),
    ("code", """from fractions import Fraction as F
from sparsemom.numerics import exact_risk
from sparsemom.numerics.simulate.exact_moments import expanded_risk
model = SparseLeastSquares(d=2, p=F(1, 3), R0=1, sigma2=F(1, 5))
opt = Optimizer("heavy-ball", lr=F(1, 4), beta=F(1, 2), batch=2)
by_recursion = list(exact_risk(model, opt, 3, backend="exact"))
by_expansion = expanded_risk(model, opt, 3, [[F(1), F(0)]])
display(Markdown(f"recursion: `{by_recursion}`  \\nexpansion: `{by_expansion}`"))
assert by_recursion == by_expansion"""),
    ("md", "**Claim 2** — closed forms: characteristic polynomial, generating function "
           "$F(z)=\\sum_k z^k E R_k$ and stationary risk."),
    ("code", """show(r"\\chi(\\lambda) =", characteristic_polynomial(rec))
show(r"R_\\infty =", sp.factor(stationary_risk(rec)))
F_z = sp.together(generating_function(rec))
z = sp.Symbol("z")
show(r"F(z) = \\frac{N(z)}{D(z)},", rf"\\deg N = {sp.degree(sp.numer(F_z), z)},\\ "
     rf"\\deg D = {sp.degree(sp.denom(F_z), z)}")"""),
    ("md", "**Claim 3** — the $k$-step closed form (sum over the roots of $\\chi$) equals the iterated "
           "recursion to 40 digits at 50 digits' working precision."),
    ("code", """import mpmath
from sparsemom.numerics.analysis.closed_form import closed_form_risk
model = SparseLeastSquares(d=8, p=0.3, R0=1.0, sigma2=0.1)
opt = Optimizer("heavy-ball", lr=0.05, beta=0.9, batch=4)
ks = [0, 1, 10, 100]
closed = closed_form_risk(model, opt, ks, dps=50)
iterated = exact_risk(model, opt, 100, backend="mpmath", dps=50)
with mpmath.workdps(50):
    worst = max(abs(closed[i] - iterated[k]) / abs(iterated[k]) for i, k in enumerate(ks))
display(Markdown(f"worst relative difference: {mpmath.nstr(worst, 3)}"))
assert worst < mpmath.mpf(10) ** -40"""),
    ("md", "**Claim 4** — the active-iterate map integrates the idle stretches exactly: its risk after "
           "$k$ active updates agrees with the generated C kernel and the rational backend."),
    ("code", """model = SparseLeastSquares(d=3, p=F(1, 10), R0=1, sigma2=F(1, 10))
opt = Optimizer("lazy", lr=F(1, 5), beta=F(4, 5), batch=3)
exact = exact_risk(model, opt, 30, backend="exact", time="active")
fast = exact_risk(model, opt, 30, backend="c", time="active")
rel = max(abs(float(a) - b) / float(a) for a, b in zip(exact, fast))
display(Markdown(f"C kernel vs rationals, 30 active updates: worst relative difference {rel:.1e}"))
assert rel < 1e-13"""),
    ("md", "**Claim 5** — on a token stream of three rows, the exact risk is what a Monte Carlo "
           "simulation measures (statistical harness: batch means, t-tests, Holm over the time grid, "
           "$\\alpha = 0.01$); the whole state of each row is available as data (`exact_state`, "
           "`to_dataframe()`)."),
    ("code", """from sparsemom.numerics import exact_state
from sparsemom.numerics.simulate.harness import compare_with_theory
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk
from sparsemom.numerics.studies.curves import plot_exact_and_monte_carlo, plot_moments
stream = SparseLeastSquares(d=8, p=[0.5, 0.2, 0.05], R0=1.0, sigma2=0.02)
opt = Optimizer("heavy-ball", lr=0.05, beta=0.6, batch=2)
trajectory = exact_state(stream, opt, 80)
mc = monte_carlo_risk(stream, opt, 80, 3000, seed=11, keep_trajectories=True)
comparison = compare_with_theory(mc.trajectories, trajectory.risk)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
plot_exact_and_monte_carlo(trajectory.risk, mc, ax=left, title="heavy ball on a 3-row token stream",
                           every=4)
plot_moments(trajectory, ax=right, row=2)
plt.show()
display(trajectory.to_dataframe().head())
display(Markdown(str(comparison)))
assert comparison.passed"""),
])

# ---- 2. stability and timescales ---------------------------------------------------

notebook("02_stability_and_timescales", "Stability regions and timescales", [
    ("md", "Schur–Cohn conditions on $\\chi$ give the exact stability region; the timescales "
           "$\\tau_R$ (retention) and $\\tau_L$ (learning) are read off the active-iterate mean map."),
    ("code", """from sparsemom.derivations import stability_conditions, timescales
from sparsemom.numerics import Optimizer, SparseLeastSquares
from sparsemom.derivations import symbols as S
(cond,) = stability_conditions("lsq", "sgd")
show(r"\\text{SGD is stable iff}", sp.simplify(cond))"""),
    ("md", "**Claim 1** — plain SGD is stable exactly for $\\eta < 2B/(d+2+(B-1)p)$."),
    ("code", """bound = 2 * S.batch / (S.d + 2 + (S.batch - 1) * S.p)
assert sp.simplify(cond.lhs.subs(S.lr, bound)) == 0
from sparsemom.numerics import is_stable
for d, B, p in [(10, 1, 0.5), (100, 8, 0.01)]:
    b = float(bound.subs({S.d: d, S.batch: B, S.p: p}))
    assert is_stable(SparseLeastSquares(d, p), Optimizer("sgd", lr=0.999 * b, batch=B))
    assert not is_stable(SparseLeastSquares(d, p), Optimizer("sgd", lr=1.001 * b, batch=B))
display(Markdown("threshold confirmed on both sides by the spectral radius"))"""),
    ("md", "**Claim 2** — Schur–Cohn and the spectral radius agree on a random sample of heavy-ball parameters."),
    ("code", """from sparsemom.numerics import conditions_hold, spectral_radius
rng = np.random.default_rng(1)
n = 3000
m = SparseLeastSquares(16, p=10 ** rng.uniform(-4, 0, n))
o = Optimizer("heavy-ball", lr=10 ** rng.uniform(-3, 1, n), beta=1 - 10 ** rng.uniform(-3, 0, n), batch=4)
radius = spectral_radius(m, o)
clear = np.abs(radius - 1) > 1e-9
agree = np.mean(conditions_hold(m, o)[clear] == (radius[clear] < 1))
display(Markdown(f"agreement on {clear.sum()} points: {agree:.4f}; stable fraction {np.mean(radius < 1):.2f}"))
assert agree == 1.0"""),
    ("md", "**Claim 3** — retention per active update: $\\bar\\beta=p_B\\beta/(1-(1-p_B)\\beta)$ for "
           "dense decay (the buffer decays through idle steps), $\\bar\\beta=\\beta$ for lazy momentum."),
    ("code", """hb, lazy = timescales("lsq", "heavy-ball"), timescales("lsq", "lazy")
for name, ts in [("heavy-ball", hb), ("lazy", lazy)]:
    display(Markdown(f"**{name}**"), ts)   # Timescales display themselves in LaTeX
pB = 1 - (1 - S.p) ** S.batch
assert sp.simplify(hb.effective_retention - pB * S.beta / (1 - (1 - pB) * S.beta)) == 0
assert sp.simplify(lazy.effective_retention - S.beta) == 0"""),
    ("md", "**Claim 4** — the moments oscillate (complex roots, $\\Delta(\\chi)<0$) past critical damping: "
           "without gradient noise ($p=1$, $B\\to\\infty$) heavy ball oscillates from $\\beta=(1-\\sqrt{\\eta p})^2$."),
    ("code", """from sparsemom.derivations.properties.oscillation import generic_discriminant
from sparsemom.numerics.analysis.row_phases import momentum_thresholds
show(r"\\Delta(\\lambda^3 + \\chi_1\\lambda^2 + \\chi_2\\lambda + \\chi_3) =", generic_discriminant(3))
lr = 0.1
th = momentum_thresholds(SparseLeastSquares(8, p=np.array([1.0])), "heavy-ball", lr=lr, batch=10**9)
display(Markdown(f"onset β = {th.beta_onset[0]:.8f}; critical damping {(1 - np.sqrt(lr))**2:.8f}"))
assert abs(th.beta_onset[0] - (1 - np.sqrt(lr)) ** 2) < 1e-6"""),
    ("md", "**Claim 5** — the stable region in $(\\eta, 1-\\beta)$ shrinks for rare rows only through "
           "the gradient-noise bound: the Schur–Cohn region for several row frequencies "
           "($d = 8$, $B = 256$), and the spectral radius agrees at every grid point."),
    ("code", """from sparsemom.numerics.studies.paper import plot_stability_region
lrs, eps = np.geomspace(1e-2, 3e2, 90), np.geomspace(1e-3, 1, 90)
L, E = np.meshgrid(lrs, eps)
regions = {}
for p in (1.0, 0.1, 0.01):
    m = SparseLeastSquares(8, p=np.full(L.size, p))
    o = Optimizer("heavy-ball", lr=L.ravel(), beta=1 - E.ravel(), batch=256)
    regions[p] = conditions_hold(m, o).reshape(L.shape)
    radius = spectral_radius(m, o).reshape(L.shape)
    clear = np.abs(radius - 1) > 1e-6
    assert np.all(regions[p][clear] == (radius[clear] < 1))
fig, ax = plt.subplots(figsize=(6.5, 4.5))
plot_stability_region(L, E, regions, ax=ax, title="heavy ball: stable region, $d$ = 8, $B$ = 256")
plt.show()"""),
])

# ---- 3. logistic rare class --------------------------------------------------------

notebook("03_logistic_rare_class", "Logistic regression with a rare class", [
    ("md", "Model M2: the same engine applies the optimizer's update to the statistics "
           "$(s,u,R_\\perp,C_\\perp,V_\\perp)$; Stein's lemma leaves Gaussian integrals of the sigmoid."),
    ("code", """from sparsemom.numerics import Optimizer, RareClassLogistic
from sparsemom.derivations.rare_class.drift import derive_statistics_map
from sparsemom.derivations.rare_class.linearisation import linearise, rare_class_constants, curvature, fourth_moment
stats = derive_statistics_map("logistic", "heavy-ball")
for name, expr in zip(stats.state, stats.update):
    if name in ("s", "R_perp"):
        show(rf"E[{sp.latex(sp.Symbol(name))}' \\mid \\text{{now}}] =", expr)"""),
    ("md", "**Claim 1** — linearised at $\\theta=\\mu$, the bulk block is a linear recursion in the Fisher "
           "constants $h, w$; for a vanishing rare class $h=p-p^2e^{\\rho^2}+O(p^3)$, $w=p^2e^{\\rho^2}+O(p^3)$."),
    ("code", """from sparsemom.derivations import symbols as S
lin = linearise("heavy-ball")
lin.bulk
const = rare_class_constants(order=2)
show("h =", const[curvature])
show("w =", const[fourth_moment])
W = sp.exp(S.rho ** 2)
assert sp.simplify(sp.expand(const[curvature]) - (S.p - S.p ** 2 * W)) == 0
assert sp.simplify(sp.expand(const[fourth_moment]) - S.p ** 2 * W) == 0"""),
    ("md", "**Claim 2** — the Gaussian–sigmoid integrals by Gauss–Hermite agree with `mpmath.quad` at 50 digits "
           "to better than $10^{-12}$."),
    ("code", """import mpmath
from sparsemom.numerics.kernels.logistic_normal import logistic_normal_moment, mpmath_moment
worst = 0.0
for m in (-6.0, -1.0, 0.5):
    for v in (0.25, 2.0, 9.0):
        for k in (1, 2):
            fast = float(logistic_normal_moment(k, m, v))
            ref = float(mpmath_moment(k, m, v))
            worst = max(worst, abs(fast - ref) / abs(ref))
display(Markdown(f"worst relative error: {worst:.1e}"))
assert worst < 1e-12"""),
    ("md", "**Claim 3** — Monte Carlo concentrates on the mean-field prediction (statistical harness, "
           "Holm over the time grid, $\\alpha=0.01$)."),
    ("code", """from sparsemom.numerics.analysis.mean_field_convergence import StudySetup, run_point
from sparsemom.numerics.studies.logistic import plot_mean_field_vs_monte_carlo
setup = StudySetup(runs=100)
pt = run_point(setup, 200)
display(Markdown(f"d = 200: harness {pt.harness}; RMS deviation of (s, R⊥) {pt.rms_deviation:.4f}"))
fig, ax = plt.subplots(figsize=(6.5, 4))
plot_mean_field_vs_monte_carlo(setup, [pt], ax=ax)
plt.show()
assert pt.harness.passed"""),
])

# ---- 4. scaling limits and the phase diagram ---------------------------------------

notebook("04_scaling_limits_and_phase_diagram", "High-dimensional limits and the phase diagram", [
    ("md", "With $p=d^{-\\kappa}$, $B=d^{\\sigma}$, $1-\\beta=d^{-\\gamma}$ the active-iterate recursion "
           "is taken to $d\\to\\infty$ by dominant balance; each region is a set of linear inequalities."),
    ("code", """from fractions import Fraction as F
from sparsemom.derivations.limits.asymptotics import ExponentPoint
from sparsemom.derivations.limits.scaling_limits import scaling_limit
limit = scaling_limit("lsq", "heavy-ball", ExponentPoint(F(27, 10), F(3, 2), F(5, 2), F(0)))
display(limit)      # a ScalingLimit displays its phase, region and limit dynamics
assert limit.family == "heavy-ball" and limit.phase == "incoherent sparse above resonance\""""),
    ("md", "**Claim 1** — every point satisfying a region's inequalities is classified the same."),
    ("code", """rng = np.random.default_rng(3)
checked = 0
for _ in range(12):
    kappa = F(int(rng.integers(160, 350)), 100); gamma = F(int(rng.integers(0, 300)), 100)
    point = scaling_limit("lsq", "heavy-ball", ExponentPoint(kappa, F(3, 2), gamma, F(0)))
    if point.phase == limit.phase:
        checked += 1
        assert point.time_exponent == gamma - kappa + F(3, 2)
inside = scaling_limit("lsq", "heavy-ball", ExponentPoint(F(3), F(3, 2), F(27, 10), F(0)))
assert inside.phase == limit.phase
display(Markdown(f"{checked} random points in the region: same phase and τ = γ − κ + σ"))"""),
    ("md", "**Claim 2** — exact finite-$d$ curves converge to the limit (error falls with $d$)."),
    ("code", """from sparsemom.numerics.analysis.scaling_limit import convergence
from sparsemom.numerics.analysis.scaling_limit import (convergence, finite_d_components, limit_components,
                                           rescaled_times)
from sparsemom.numerics.studies.curves import plot_limit_components
conv = convergence(limit, dimensions=(10**2, 10**3, 10**4), points=20)
display(Markdown(f"errors {[f'{e:.2e}' for e in conv.errors]}, rate {conv.rate:.2f}"))
assert conv.errors[0] > conv.errors[1] > conv.errors[2] and conv.rate > 0.1
times = rescaled_times(limit, 40)
fig, ax = plt.subplots(figsize=(7, 4.2))
plot_limit_components(limit_components(limit, times),
                      [finite_d_components(limit, d, times) for d in (10**2, 10**3, 10**4)],
                      ax=ax, title=f"{limit.phase}: every balanced component")
plt.show()"""),
    ("md", "**Claim 3** — the phase diagram: a fine grid labelled from the derived regions (one exact "
           "derivation per region, boundary points classified exactly), with the derived boundary lines."),
    ("code", """from sparsemom.numerics.analysis.phase_map import phase_map
from sparsemom.numerics.studies.sweep_figure import phase_colormap, plot_phase_map
grid_k = [F(x).limit_denominator(10**6) + F(1, 997) for x in np.linspace(0, 3.5, 121)]
grid_g = [F(x).limit_denominator(10**6) + F(1, 991) for x in np.linspace(0, 3, 121)]
pm = phase_map("lsq", "heavy-ball", F(3, 2), grid_k, grid_g)
names = list(dict.fromkeys(pm.phases))
cmap = phase_colormap(len(names))
fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
plot_phase_map(pm, ax=ax, names=names, cmap=cmap,
               title=f"heavy ball, σ = 3/2: {len(names)} phases, {pm.exact} exact derivations")
ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color=cmap(i), alpha=0.85) for i in range(len(names))],
          labels=names, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))   # off the map
plt.show()
assert limit.phase in names"""),
    ("md", "**Claim 4** — for the logistic rare class the regions do not depend on the sparsity exponent "
           "(curvature and noise both scale with $p$)."),
    ("code", """phases = {k: scaling_limit("logistic", "heavy-ball", ExponentPoint(F(k, 10), F(1, 2), F(3, 4), F(0))).phase
          for k in (3, 12, 25)}
display(Markdown(str(phases)))
assert len(set(phases.values())) == 1"""),
])

# ---- 5. spectral conflict ----------------------------------------------------------

notebook("05_spectral_conflict", "The spectral conflict across token frequencies", [
    ("md", "A Zipf token stream trained with one momentum for all rows, against a frequency-adapted "
           "$\\beta_i=f(p_i)$ — evaluated exactly from the derived recursion, row by row."),
    ("code", """from sparsemom.numerics.studies.conflict import ConflictSetup, run_conflict, table_markdown, ADAPTED
from sparsemom.derivations.properties.oscillation import generic_discriminant, oscillation_discriminant
from sparsemom.derivations.properties.timescales import timescales
delta = oscillation_discriminant("lsq", "heavy-ball")
show(r"\\text{phases from}\\ \\tau_R/\\tau_L =", timescales("lsq", "heavy-ball").ratio)
show(r"\\text{oscillation where}\\ \\Delta(\\chi) =", sp.latex(generic_discriminant(3)) + " < 0")
display(Markdown(f"Δ(χ) of the active-iterate heavy-ball recursion: {sp.count_ops(delta)} operations; "
                 "negative exactly where the moments oscillate."))
setup = ConflictSetup(rows=20_000, horizon=10_000)
result = run_conflict(setup, show=False)
display(Markdown(table_markdown(result)))"""),
    ("md", "**Claim 1** — one global momentum cannot serve every frequency: the adapted assignment leaves "
           "less risk, and the frequent rows (already at their noise floor) want no momentum at all."),
    ("code", """assert result.gap > 1.05 and result.unstable_rows == 0
rule = result.rules[ADAPTED]
assert rule(result.p.max()) == 0.0
display(Markdown(f"gap {result.gap:.3f}; f(p_max) = {rule(result.p.max()):.3f}"))"""),
    ("md", "**Claim 2** — the rare rows want the momentum at which oscillation starts (critical damping on the "
           "active clock), and their stability edge is the single-kick bound $1-\\beta = \\eta(d+2)/(2B)$."),
    ("code", """th = result.thresholds
eps_f = 1 - rule(th.p[0])
display(Markdown(f"rarest row: 1 − f = {eps_f:.4f}, oscillation onset {th.oscillation_onset[0]:.4f}, "
                 f"stability edge {th.stability_edge[0]:.5f}"))
assert abs(eps_f - th.oscillation_onset[0]) < 0.1 * th.oscillation_onset[0]
kick = setup.lr * (setup.d + 2) / (2 * setup.batch)
assert abs(th.stability_edge[0] - kick) < 1e-3 * kick"""),
    ("md", "**Claim 3** — the conflict is not an artefact of the Zipf law: on the frequencies of the "
           "20 000 most common English and German words (the `wordfreq` package's data, "
           "`token_stream.word_frequencies`) one global $\\beta$ also leaves more risk than the "
           "frequency-adapted assignment."),
    ("code", """from dataclasses import replace
gaps = {"Zipf s = 1.1": result.gap}
for stream in ("words-en", "words-de"):
    real = run_conflict(replace(setup, stream=stream), show=False)
    assert real.gap > 1.05 and real.unstable_rows == 0
    gaps[stream] = real.gap
display(Markdown("| token stream (20 000 rows) | gap: global β* vs β_i = f(p_i) |\\n|---|---|\\n"
                 + "\\n".join(f"| {name} | {gap:.3f} |" for name, gap in gaps.items())))"""),
    ("code", """import tempfile
from pathlib import Path
from IPython.display import Image, display
from sparsemom.numerics.studies.conflict_figure import conflict_figure
with tempfile.TemporaryDirectory() as folder:   # the figure's files, read, then removed
    display(Image(filename=str(conflict_figure(result, Path(folder))[0])))"""),
])


# ---- 6. your own method -------------------------------------------------------------

notebook("06_your_own_method", "Your own momentum method: defined here, derived, checked", [
    ("md", "A method the package does not know, defined in this notebook: an EMA buffer $v$ and a "
           "heavy-ball buffer $y$ with its own retention $\\mu$,\n\n"
           "$$v \\leftarrow \\beta v + (1-\\beta) g,\\quad y \\leftarrow \\mu y + g,\\quad "
           "\\theta \\leftarrow \\theta - \\eta\\,(v + y/4).$$\n\n"
           "It is registered once; then its exact second-moment recursion (six moments) is derived, "
           "its kernels are generated and compiled into the user cache, and the simulators run it."),
    ("code", """from fractions import Fraction as F
from sparsemom.derivations import HyperParameter, UpdateRule, register_rule, unregister_rule
from sparsemom.derivations import symbols as S
from sparsemom.derivations.definitions.optimizers import UPDATE_RULES, e, v
from sparsemom.derivations.engine.recursion import derive_recursion
from sparsemom.numerics import Optimizer, SparseLeastSquares, exact_risk
y, mu = sp.Symbol("y"), sp.Symbol("mu", nonnegative=True)

def two_buffers(x, g):
    v_new = S.beta * x[v] + (1 - S.beta) * g
    y_new = mu * x[y] + g
    return {e: x[e] - S.lr * (v_new + y_new / 4), v: v_new, y: y_new}

if "two-buffer" in UPDATE_RULES:      # re-running the cell redefines the rule
    unregister_rule("two-buffer")
register_rule(UpdateRule("two-buffer", (e, v, y), two_buffers,
                         "v ← βv + (1 − β)g, y ← μy + g, θ ← θ − η(v + y/4)",
                         r"v \\leftarrow \\beta v + (1-\\beta) g,\\ y \\leftarrow \\mu y + g",
                         hyper_parameters=(HyperParameter(mu, lower=0, upper=1, upper_open=True),)))
rec = derive_recursion("lsq", "two-buffer")
rec"""),
    ("md", "**Claim 1** — the derived recursion is the expectation of the update: equal, in rational "
           "arithmetic, to $E R_k$ expanded as a polynomial in the data, also with a learning-rate "
           "schedule and non-zero initial buffers."),
    ("code", """from sparsemom.numerics.simulate.exact_moments import expanded_risk
model = SparseLeastSquares(d=1, p=F(1, 3), R0=F(9, 4), sigma2=F(1, 5))
opt = Optimizer("two-buffer", lr=F(1, 4), beta=F(2, 5), batch=2, mu=F(1, 3),
                lr_schedule=[1, F(1, 2), F(3, 2)])
start = {"v": [[F(1, 2)]], "y": [[F(-1, 3)]]}
moments = {"C": F(3, 4), "V": F(1, 4), "M_{e,y}": F(-1, 2), "M_{v,y}": F(-1, 6), "M_{y,y}": F(1, 9)}
by_recursion = list(exact_risk(model, opt, 3, backend="exact", initial_state=moments))
by_expansion = expanded_risk(model, opt, 3, [[F(3, 2)]], initial_buffers=start)
display(Markdown(f"recursion: `{[str(x) for x in by_recursion]}`  \\nexpansion: "
                 f"`{[str(x) for x in by_expansion]}`"))
assert by_recursion == by_expansion"""),
    ("md", "**Claim 2** — on a token stream, the exact risk (generated C kernel, a cosine learning-rate "
           "schedule) is what a Monte Carlo simulation of the method measures: the harness (batch means, "
           "t-tests, Holm over the time grid, $\\alpha = 0.01$) finds no disagreement."),
    ("code", """import matplotlib.pyplot as plt
from sparsemom.numerics.inputs import schedules
from sparsemom.numerics.simulate.harness import compare_with_theory
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk
stream = SparseLeastSquares(d=8, p=[0.1, 0.3, 0.5], R0=1.0, sigma2=0.05)
opt = Optimizer("two-buffer", lr=0.1, beta=0.6, batch=2, mu=0.5, lr_schedule=schedules.cosine(60, 0.1))
exact = exact_risk(stream, opt, 60)
mc = monte_carlo_risk(stream, opt, 60, 4000, seed=6, keep_trajectories=True)
comparison = compare_with_theory(mc.trajectories, exact)
fig, ax = plt.subplots(figsize=(6, 3.5))
k = np.arange(61)
ax.semilogy(k, exact, label="exact (derived recursion)")
ax.errorbar(k[::3], mc.mean[::3], yerr=2 * mc.stderr[::3], fmt="o", ms=3, label="Monte Carlo ± 2 s.e.")
ax.set_xlabel("step k"); ax.set_ylabel("E R(θ_k)"); ax.legend(); ax.set_title("two-buffer method, cosine lr")
plt.show()
display(Markdown(str(comparison)))
assert comparison.passed"""),
])


# ---- 7. your own data law ------------------------------------------------------------

def module_cells(path: Path) -> list[str]:
    """The cells of a module written in the percent format: the code after each ``# %%``
    line (what precedes the first is not a cell)."""
    return [c.strip() for c in re.split(r"^# %%.*\n", path.read_text(encoding="utf-8"),
                                        flags=re.M)[1:]]


#: ``tests/user_laws.py``: the laws of notebook 07, shown verbatim and tested by the suite.
IMPORTS, HETEROSCEDASTIC, SCALED_ROWS, NON_GAUSSIAN, STUDENT_T = module_cells(
    HERE.parent / "tests" / "user_laws.py")

notebook("07_your_own_data_law", "Your own data law: defined here, derived, checked", [
    ("md", "A data law says what one sample is: its random **ingredients** (from the vocabulary of "
           "`sparsemom.derivations.definitions.ingredients`: a token mask, masks, scalars, vectors of i.i.d. entries "
           "drawn from Gaussian, discrete or Student-t distributions), the per-sample **gradient** "
           "$G$ (a `LinearVector` in the sample's vectors and the error $e = \\theta - \\theta^*$, "
           "affine in $e$) and the **risk** (linear in $\\|e\\|^2$). Once registered "
           "(`register_law`), the engine derives its exact second-moment recursion from those "
           "alone, and everything downstream works: kernels, closed forms, stability, LaTeX.\n\n"
           "The definitions below are `tests/user_laws.py` verbatim (the test suite checks the "
           "same code, `tests/test_user_laws.py`). They share the gradient of least squares, "
           "$G = m\\,x\\,(\\langle x, e\\rangle - \\xi)$ for $y = \\langle x, \\theta^*\\rangle + \\xi$."),
    ("code", IMPORTS),
    ("md", "Each law is registered, its heavy-ball recursion derived and shown with the sentence "
           "that names its parameters in its LaTeX document, and its exact risk checked: two rows "
           "with different per-row values, $d = 2$, $B = 2$, three steps — the recursion in rational "
           "arithmetic equals $E R_k$ expanded as a polynomial in the data (an independent oracle "
           "that knows only the ingredients' moments), and the generated C kernel agrees."),
    ("code", """from fractions import Fraction as F
from sparsemom.derivations import derive_recursion, register_law
from sparsemom.derivations.output.latex import latex_document
from sparsemom.numerics import Model, Optimizer, exact_risk
from sparsemom.numerics.simulate.exact_moments import expanded_risk

def check(law, **values):
    law = register_law(law)
    rec = derive_recursion(law.name, "heavy-ball")
    assert law.latex_parameter_text() in latex_document(law.name, "heavy-ball")
    model = Model(law, 2, R0=[1, 1], **values)
    opt = Optimizer("heavy-ball", lr=F(1, 4), beta=F(1, 2), batch=2)
    exact = list(exact_risk(model, opt, 3, backend="exact"))
    assert exact == expanded_risk(model, opt, 3, [[1, 0], [F(3, 5), F(4, 5)]])
    assert np.allclose(exact_risk(model, opt, 3, backend="c"), np.array(exact, dtype=float),
                       rtol=1e-12, atol=0)
    display(rec, Markdown(law.latex_parameter_text() + f"  \\nExact $E R_k$, $k = 0..3$ "
                          f"(= the data expansion): `{', '.join(map(str, exact))}`"))
    return rec"""),
    ("md", "**1. Heteroscedastic rows.** Sparse least squares (docs/model.md, M1) whose label-noise "
           "variance $\\tau^2$ is one value per row (`per_row=True`, the default of `LawParameter`)."),
    ("code", HETEROSCEDASTIC),
    ("code", "gauss = check(HETEROSCEDASTIC, p=[F(1, 3), F(1, 2)], tau2=[F(1, 5), F(2, 3)])"),
    ("md", "**2. Per-row input scale.** $x = \\sqrt{\\omega}\\, z$ with $z \\sim N(0, I_d)$ and "
           "$\\omega$ one value per row (a diagonal input covariance across rows): a variant of "
           "law 1 made with `dataclasses.replace`. The risk is $\\tfrac12 p\\, E\\langle x, "
           "e\\rangle^2 = \\tfrac12 p\\,\\omega \\|e\\|^2$."),
    ("code", SCALED_ROWS),
    ("code", "scaled = check(SCALED_ROWS, p=[F(1, 3), F(1, 2)], tau2=[F(1, 5), F(2, 3)], "
             "omega=[F(1, 2), F(3, 2)])"),
    ("md", "**3. Non-Gaussian features.** i.i.d. entries of unit variance: Rademacher $\\pm 1$ "
           "($\\mu_4 = E x_i^4 = 1$) and sparse signs $\\pm 1/\\sqrt{q_x}$ with probability $q_x$, "
           "else 0 ($\\mu_4 = 1/q_x$). The engine integrates them by the cumulant expansion, which "
           "adds the fourth cumulant $\\kappa_4 = \\mu_4 - 3$ to Wick's pairings, e.g. "
           "$E\\|x\\|^2\\langle x, e\\rangle^2 = (d + \\mu_4 - 1)\\|e\\|^2$."),
    ("code", NON_GAUSSIAN),
    ("code", "rad = check(RADEMACHER, p=[F(1, 3), F(1, 2)], tau2=[F(1, 5), F(2, 3)])\n"
             "sparse = check(SPARSE_SIGN, p=[F(1, 3), F(1, 2)], tau2=[F(1, 5), F(2, 3)], "
             "q_x=[F(1, 4), F(2, 3)])"),
    ("md", "**Claim** — the recursion sees the features only through $\\mu_4$: written in "
           "$\\mu_4 = 1/q_x$, the sparse-sign transition is the Gaussian one plus $(\\mu_4 - 3)K$ "
           "with $K$ free of $\\mu_4$, and the forcing and risk are the same. So the Gaussian "
           "recursion is the sparse-sign one at $q_x = 1/3$, and Rademacher's is its value at "
           "$\\mu_4 = 1$ ($q_x = 1$)."),
    ("code", """mu4 = sp.Symbol("mu_4", positive=True)
in_mu4 = sparse.transition.subs(q, 1 / mu4)
K = sp.simplify((in_mu4 - gauss.transition) / (mu4 - 3))
assert not K.has(mu4)
assert sp.simplify(sparse.transition.subs(q, sp.Rational(1, 3)) - gauss.transition) == sp.zeros(3, 3)
assert sp.simplify(in_mu4.subs(mu4, 1) - rad.transition) == sp.zeros(3, 3)
assert sparse.forcing == gauss.forcing == rad.forcing and sparse.risk_weights == gauss.risk_weights
show(r"A(\\mu_4) - A_{\\mathrm{Gauss}} = (\\mu_4 - 3)", K)"""),
    ("md", "Heavier fourth moments (sparser features) raise the noise floor: the exact risk of the "
           "three laws on one row, and the stationary risk $R_\\infty$ (closed form) against "
           "$\\mu_4$, with the Rademacher and Gaussian laws' own $R_\\infty$ on the curve."),
    ("code", """from sparsemom.derivations import stationary_risk
point = {S.lr: sp.Rational(1, 20), S.beta: sp.Rational(1, 2), S.batch: 4, S.d: 8,
         S.p: sp.Rational(1, 2), tau2: sp.Rational(1, 10)}
floor = stationary_risk(sparse).subs(point).subs(q, 1 / mu4)
assert floor.subs(mu4, 1) == stationary_risk(rad).subs(point)
assert floor.subs(mu4, 3) == stationary_risk(gauss).subs(point)
opt = Optimizer("heavy-ball", lr=0.05, beta=0.5, batch=4)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
for name, features, extra in (("rademacher", r"Rademacher, $\\mu_4 = 1$", {}),
                              ("heteroscedastic", r"Gaussian, $\\mu_4 = 3$", {}),
                              ("sparse-sign", r"sparse sign, $\\mu_4 = 10$", {"q_x": 0.1})):
    model = Model(name, 8, R0=1, p=0.5, tau2=0.1, **extra)
    left.semilogy(exact_risk(model, opt, 150), label=features)
left.set_xlabel("step $k$"); left.set_ylabel(r"$E\\,R(\\theta_k)$"); left.legend()
m = np.linspace(1, 40, 200)
right.plot(m, sp.lambdify(mu4, floor)(m), label=r"sparse sign, $q_x = 1/\\mu_4$")
right.plot([1, 3], [float(floor.subs(mu4, 1)), float(floor.subs(mu4, 3))], "o",
           label="Rademacher, Gaussian")
right.set_xlabel(r"$\\mu_4$"); right.set_ylabel(r"$R_\\infty$"); right.legend()
fig.tight_layout()
plt.show()"""),
    ("md", "**4. Student-t label noise** (Lange, Little & Taylor 1989, *Robust statistical modeling "
           "using the t distribution*, JASA 84(408)): $\\xi = \\sigma_t\\, t_\\nu$ with $\\nu > 2$ "
           "degrees of freedom — heavy tailed (moments of order $\\ge \\nu$ are infinite) but of "
           "finite variance $\\nu\\sigma_t^2/(\\nu - 2)$. Dense: without a token mask every step "
           "updates the row."),
    ("code", STUDENT_T),
    ("code", "student = check(STUDENT_T, nu=[5, F(9, 2)], sigma_t=F(1, 2))"),
    ("md", "**Claim** — second moments see the noise only through its variance: the Student-t "
           "recursion is law 1's at $p = 1$ (dense) and $\\tau^2 = \\nu\\sigma_t^2/(\\nu - 2)$; "
           "$\\nu$ enters the forcing only."),
    ("code", """as_dense = {S.p: 1, tau2: nu * scale**2 / (nu - 2)}
for ours, theirs in ((student.transition, gauss.transition), (student.forcing, gauss.forcing),
                     (student.risk_weights, gauss.risk_weights)):
    assert sp.simplify(ours - theirs.subs(as_dense)) == sp.zeros(*ours.shape)
show("c =", student.forcing)"""),
])


# ---- 8. Gaussian data with a covariance spectrum ----------------------------------------

notebook("08_covariance_spectrum_and_random_features",
         "Gaussian data with a covariance spectrum: power-law random features, exactly", [
    ("md", """Data $x \\sim N(0, K)$, label $y = \\langle x, \\theta^*\\rangle + \\xi$ (docs/model.md, M3).
In the eigenbasis of $K$ each mode $j$ (eigenvalue $\\lambda_j$) sees the other modes only through
the variance $\\varrho_j = \\sum_{i \\ne j} \\lambda_i \\|e_i\\|^2$ of their prediction error, so the
per-mode second moments close: $X_{j,k+1} = A_j X_{j,k} + c_j + u_j S_k$ with
$S_k = \\sum_i q_i \\cdot X_{i,k}$ — block diagonal plus rank one. The engine derives $A_j$, $c_j$,
$u_j$ and $q$ from the law's definition for any linear rule."""),
    ("code", """from sparsemom.derivations import derive_recursion
rec = derive_recursion("gaussian", "heavy-ball")
display(rec)
show("", rec.coupling_equation())"""),
    ("md", "**Claim 1** — isotropic data $K = I_3$ is dense least squares: three modes of "
           "multiplicity 1 give, in rational arithmetic, exactly the risk of one dense row "
           "(sparse least squares at $p = 1$)."),
    ("code", """from fractions import Fraction as F
import sparsemom as sm
opt = sm.Optimizer("nesterov", lr=F(1, 5), beta=F(2, 5), batch=3)
modes = sm.GaussianCovariance([1, 1, 1], R0=[F(1), F(1, 2), F(1, 4)], sigma2=F(1, 2))
row = sm.SparseLeastSquares(d=3, p=1, R0=F(7, 4), sigma2=F(1, 2))
assert list(sm.exact_risk(modes, opt, 6, backend="exact")) == list(sm.exact_risk(row, opt, 6, backend="exact"))
sm.exact_risk(modes, opt, 3, backend="exact")"""),
    ("md", """**A power-law random-features instance** (Paquette, Paquette, Xiao & Pennington 2024,
arXiv 2405.15074): $x \\sim N(0, D)$ in $\\mathbb{R}^v$ with $D_{jj} = j^{-2\\alpha}$, target
$b_j = j^{-\\beta}$, features $\\varphi = W^\\top x$ for a fixed $W$ with $N(0, 1/d)$ entries. The SVD
of $D^{1/2} W$ gives the features' eigenvalues, the initial projections and the floor $R_\\infty$: the
part of the target the features cannot represent is independent Gaussian label noise of variance
$2R_\\infty$."""),
    ("code", """plrf = sm.PowerLawRandomFeatures(alpha=1.0, beta=0.7, v=120, d=60, seed=0)
fig, ax = plt.subplots(figsize=(5.5, 3.5))
j = np.arange(1, plrf.modes + 1)
ax.loglog(j, plrf.eigenvalue, label=r"eigenvalue $\\lambda_j$")
ax.loglog(j, plrf.eigenvalue * plrf.R0, label=r"initial risk share $\\lambda_j R_{0,j}$")
ax.set_xlabel("mode $j$"); ax.legend()
fig.tight_layout(); plt.show()
plrf"""),
    ("md", """**Claim 2** — the exact curves are the mean risk of the optimizer trained on sampled
data in feature space (nothing diagonalised): SGD, heavy ball and DANA-decaying
($\\gamma_{3,k} \\propto (1+k)^{-1/(2\\alpha)}$), batch 4, compared by the statistical harness
(batch means, Holm's correction, $\\alpha = 0.01$). Each method is stable: every mode alone, and the
kernel mass $\\sum_j q_j (I - A_j)^{-1} u_j < 1$."""),
    ("code", """from sparsemom.numerics.analysis.coupled_stability import kernel_mass
from sparsemom.numerics.inputs import schedules
from sparsemom.numerics.simulate.covariance import features_monte_carlo_risk
from sparsemom.numerics.simulate.harness import compare_with_theory
methods = {
    "SGD": sm.Optimizer("sgd", lr=0.6, batch=4),
    "heavy ball": sm.Optimizer("heavy-ball", lr=0.12, beta=0.8, batch=4),
    "DANA-decaying": sm.Optimizer("dana", lr=0.6, g3=0.2, delta=1.0, batch=4,
                                  schedules=schedules.dana_decaying(plrf.alpha)),
}
for name in ("SGD", "heavy ball"):
    assert sm.is_stable(plrf, methods[name])
    print(f"{name}: kernel mass {kernel_mass(plrf, methods[name]):.3f}")
steps, mc_steps, runs = 3000, 300, 1000
fig, ax = plt.subplots(figsize=(6.5, 4))
for i, (name, opt) in enumerate(methods.items()):
    exact = sm.exact_risk(plrf, opt, steps)
    mc = features_monte_carlo_risk(plrf, opt, mc_steps, runs, seed=20 + i, keep_trajectories=True)
    comparison = compare_with_theory(mc.trajectories, exact[:mc_steps + 1])
    print(f"{name}: {comparison}")
    assert comparison.passed
    k = np.arange(1, steps + 1)
    ax.loglog(k, exact[1:] + plrf.risk_floor, color=f"C{i}", label=f"{name}, exact", zorder=2)
    at = np.unique(np.geomspace(1, mc_steps, 14).astype(int))
    ax.errorbar(at, mc.mean[at] + plrf.risk_floor, yerr=2 * mc.stderr[at], fmt="o", ms=3,
                color=f"C{i}", capsize=2, zorder=3)
ax.errorbar([], [], yerr=[], fmt="o", ms=3, color="k", label="Monte Carlo (± 2 s.e.)")
ax.axhline(plrf.risk_floor, color="grey", ls=":", label=r"floor $R_\\infty$")
ax.set_xlabel("step $k$"); ax.set_ylabel(r"risk $E\\,\\mathcal{P}(\\theta_k)$")
ax.legend(fontsize=8, loc="upper right"); fig.tight_layout(); plt.show()"""),
    ("md", "**Claim 3** — the coupling alone can make a row unstable: at $\\eta = 1.75$ every mode "
           "is stable on its own ($\\eta\\lambda_j(B+1)/B < 2$), yet the kernel mass exceeds one and "
           "the exact risk grows."),
    ("code", """import warnings
fast = sm.Optimizer("sgd", lr=1.75, batch=4)
assert np.all(1.75 * plrf.eigenvalue * 5 / 4 < 2)
print(f"kernel mass {kernel_mass(plrf, fast):.3f}, spectral radius {sm.spectral_radius(plrf, fast):.4f}")
assert not sm.is_stable(plrf, fast)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", sm.DivergenceWarning)
    grows = sm.exact_risk(plrf, fast, 2000)
assert grows[-1] > 1e3 * grows[0]"""),
    ("md", """**Discrete against continuized.** On a Poisson clock the same optimizer solves
$dX/dt = (T - I)X + c$, the generator continuous-time analyses integrate; its risk is exactly the
Poisson average $\\sum_k e^{-t} t^k/k!\\, R_k$ of the discrete curve. The two differ in the first
steps — most where the top modes are stiff ($\\eta\\lambda_1$ near 1: one discrete step removes
most of their error) — and agree once the curve bends slowly on the scale $\\sqrt{k}$."""),
    ("code", """from sparsemom.numerics.analysis.continuized import continuized_risk, steps_needed
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
ks = np.unique(np.geomspace(1, 2000, 60).astype(int))
for lr in (0.3, 0.6, 1.0):
    opt = sm.Optimizer("sgd", lr=lr, batch=4)
    discrete = sm.exact_risk(plrf, opt, steps_needed(2000.0))
    continuous = continuized_risk(discrete, ks.astype(float))
    gap = (continuous - discrete[ks]) / discrete[ks]
    line, = left.loglog(ks, discrete[ks], label=rf"$\\eta\\lambda_1 = {lr * plrf.eigenvalue[0]:.2f}$")
    left.loglog(ks, continuous, "--", color=line.get_color())
    right.semilogx(ks, gap, color=line.get_color())
    print(f"eta = {lr}: largest gap {gap.max():.2f} at k = {ks[gap.argmax()]}, "
          f"below 1% from k = {ks[np.flatnonzero(np.abs(gap) >= 0.01).max() + 1]}")
left.set_xlabel("$k$ (steps, or time $t$)"); left.set_ylabel("excess risk")
left.legend(title="discrete (solid), continuized (dashed)", fontsize=8, title_fontsize=8)
right.set_xlabel("$k$"); right.set_ylabel(r"$(R(t{=}k) - R_k)/R_k$")
fig.tight_layout(); plt.show()"""),
])

notebook("09_scaling_laws_of_power_law_features",
         "Scaling laws from exact curves: one phase of power-law random features", [
    ("md", """Power-law random features (docs/model.md, *Scaling laws of power-law data*): data
$x \\sim N(0, \\mathrm{diag}(j^{-2\\alpha}))$, target $b_j = j^{-\\beta}$, $d$ features
$\\varphi = W^\\top x$. Up to constants SGD's risk is a sum of power-law terms
$t^{-a} d^{-b}$ — pure-point forcing, the embedding's absolutely continuous forcing, the noise
kernel, the floor — and which of them balance at the compute-optimal size sets the phase
(Paquette, Paquette, Xiao & Pennington, arXiv 2405.15074). This notebook walks through
**phase II**, $(\\alpha, \\beta) = (0.7, 0.6)$: its terms, the exponents they predict, the exact
curves of sampled instances split into their parts, the exponents fitted on them, and DANA
against SGD."""),
    ("code", """from sparsemom.derivations.limits.power_law_phases import (
    PHASES, compute_optimal, compute_optimal_formulas, phase_of, random_features_terms)
phase = next(p for p in PHASES if p.name == "II")
show(r"\\text{phase II:}", phase.condition)
for term in random_features_terms():
    show(rf"\\text{{{term.name}}}:\\quad t^{{-a}} d^{{-b}},\\ a =",
         sp.latex(term.time_exponent) + r",\\ b = " + sp.latex(term.dimension_exponent))
xi, eta = compute_optimal_formulas(random_features_terms(), phase)
show(r"d^* \\propto f^{\\xi},\\ \\xi =", xi)
show(r"P^* \\propto f^{-\\eta},\\ \\eta =", eta)
optimum = compute_optimal(random_features_terms(), 0.7, 0.6)
assert phase_of(0.7, 0.6) == "II" and optimum.balance == ("Fpp", "Fac")
print(f"at (0.7, 0.6): xi = {float(optimum.xi):.4f}, eta = {float(optimum.eta):.4f}, "
      f"balance {optimum.balance}")"""),
    ("md", """**Exact curves and their parts.** Instances at $d = 64 \\dots 512$ ($v = 4d$, one $W$
each), SGD with the authors' learning rate $\\eta = 0.375 \\min(2/(B+1), 1/\\mathrm{tr} K)$.
Each curve is split exactly: the forcing (every mode by its own block), what the noise kernel
adds, what the label noise (the residual the features cannot represent) adds, and the floor
$R_\\infty$; the contour integral gives each at any step without iterating. The forcing splits
further, per mode $k$, by the data coordinates $j$ its target weight $\\sum_j U_{jk}^2 t_j^2$
comes from: those at least four times earlier ($j < k/4$) make the **absolutely continuous**
part (their weight on a mode is $\\propto \\lambda_k/d$: the embedding), the rest the
**pure-point** part; the cross terms left over have mean zero over $W$. **Claims**: the parts
add up to `exact_risk`; the forcing's components add up to the forcing, and late in training
the absolutely continuous part leads (phase II)."""),
    ("code", """import sparsemom as sm
from sparsemom.numerics.studies.scaling.figures import plot_loss_curves
from sparsemom.numerics.studies.scaling.loss_curves import PHASE_POINTS, CurveTask, build_problem, run_curve
point = next(p for p in PHASE_POINTS if p.phase == "II")
curves = [run_curve(CurveTask("random-features", point, d)) for d in (64, 128, 256, 512)]
largest = curves[-1]
model = build_problem(largest.task)
direct = sm.exact_risk(model, sm.Optimizer("sgd", lr=largest.lr), 2000)
inside = largest.steps <= 2000
assert np.allclose(largest.total[inside] - largest.parts["floor"][inside],
                   direct[largest.steps[inside]], rtol=1e-9)
components = ("forcing_pure_point", "forcing_absolutely_continuous", "forcing_cross")
assert np.allclose(sum(largest.parts[c] for c in components), largest.parts["forcing"],
                   rtol=1e-10, atol=1e-15)
late = largest.steps > 0.01 / (largest.lr * largest.smallest_eigenvalue)
assert (largest.parts["forcing_absolutely_continuous"][late]
        > largest.parts["forcing_pure_point"][late]).all()
fig, ax = plt.subplots(figsize=(7, 4.5))
plot_loss_curves(curves, ax=ax)
ax.legend(fontsize=7, loc="lower left"); fig.tight_layout(); plt.show()"""),
    ("md", """**Exponents: predicted against measured.** Time exponents are fitted at the largest
$d$ between $10/\\eta$ and $0.1/(\\eta\\lambda_{\\min})$, the floor's over the family, and the
compute-optimal $\\eta, \\xi$ on the frontier $\\min_d$ of the curves against compute
$f = dBt$; each error is the drift of the slope across its window. **Claim**: the floor falls as
$d^{-2\\alpha}$, within 0.1. Sizes up to 512 are far from the asymptotes of the time and
compute-optimal exponents (the absolutely continuous part's sum over modes is cut at
$d$ before its power law sets in, and four sizes make a short frontier): the table shows how
far, and the paper-size run is
`sparsemom scaling --problem random-features --full` (sizes to $2^{12}$)."""),
    ("code", """import pandas as pd
from sparsemom.numerics.studies.scaling.exponents import exponent_rows
from sparsemom.numerics.studies.scaling.figures import plot_frontier
rows = exponent_rows(curves)
table = pd.DataFrame([r.__dict__ for r in rows])[["quantity", "predicted", "measured", "error", "variable", "window_lo", "window_hi", "d_min", "d_max"]]
display(table)
by = {r.quantity: r for r in rows}
assert abs(by["floor d exponent"].measured - by["floor d exponent"].predicted) < 0.1
fig, ax = plt.subplots(figsize=(7, 4.5))
plot_frontier(curves, ax=ax, rows=rows)
ax.legend(fontsize=7, loc="lower left"); fig.tight_layout(); plt.show()"""),
    ("md", """**DANA against SGD.** SGD with momentum $\\beta = 0.9$ at the same effective step,
DANA-constant ($\\gamma_3 = 3\\eta/d$) and DANA-decaying
($\\gamma_{3,t} = 3\\eta(1+t)^{-1/(2\\alpha)}$), both with $\\Delta_t = \\delta/(\\delta + t)$,
$\\delta = 4 + (\\alpha+\\beta)/\\alpha$, iterated exactly (DANA-constant's exponent is fitted
from $t = 2d$ on, where its momentum leads, next to SGD's on the same steps). **Claim** (Ferbach, Everett, Gidel,
Paquette & Paquette, arXiv 2505.16098): momentum with a dimension-free $\\beta$ keeps SGD's
exponent; DANA's is larger. On the $d = 512$ random-features instance the window before DANA
learns the slowest mode is short; the exponents are measured on the truncated power law (no
embedding term) at $d = 4096$, where the window spans two decades. Note the end of the
random-features curves: DANA's effective step $\\gamma_{3,t}/\\Delta_t \\propto t^{1 - 1/(2\\alpha)}$
keeps growing, and so does the excess risk its label noise (the features' residual) leaves."""),
    ("code", """from sparsemom.numerics.studies.scaling.figures import plot_method_curves, plot_method_exponents
from sparsemom.numerics.studies.scaling.methods import METHODS, MethodTask, horizon, method_rows, run_method
features = [run_method(MethodTask(m, "random-features", point, 512, horizon("random-features", point, 512)))
            for m in METHODS]
print("excess risk at the horizon:", {r.task.method: f"{r.excess[-1]:.3g}" for r in features})
truncated = [run_method(MethodTask(m, "power-law", point, 4096, horizon("power-law", point, 4096)))
             for m in METHODS]
method_table = method_rows(truncated)
display(pd.DataFrame([r.__dict__ for r in method_table])[["method", "predicted", "measured", "error", "window_lo", "window_hi", "d"]])
by = {r.method: r for r in method_table}
assert abs(by["sgd-m"].measured - by["sgd"].measured) < 0.05
assert by["dana-decaying"].measured > by["sgd"].measured + 0.1
assert by["dana-constant"].measured > by["dana-constant"].sgd_measured + 0.1
fig, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 4))
plot_method_curves(features, ax=left); left.legend(fontsize=8)
plot_method_curves(truncated, ax=middle); middle.set_title(middle.get_title() + " (truncated)")
plot_method_exponents(truncated, method_table, ax=right); right.legend(fontsize=8)
fig.tight_layout(); plt.show()"""),
])

def build(name: str) -> nbformat.NotebookNode:
    """The notebook ``name`` (no outputs; deterministic cell ids)."""
    title, cells = NOTEBOOKS[name]
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"},
                                "language_info": {"name": "python"}})
    nb.cells = [new_markdown_cell(f"# {title}\n\nGenerated by `notebooks/build.py` — edit that script, "
                                  "then run `python notebooks/build.py`."), new_code_cell(SETUP)]
    for kind, source in cells:
        nb.cells.append(new_markdown_cell(source) if kind == "md" else new_code_cell(source))
    for i, cell in enumerate(nb.cells):
        cell.id = f"{name[:2]}-{i:02d}"
    return nb


def text(name: str) -> str:
    return nbformat.writes(build(name)) + "\n"


def main(argv=None) -> int:
    from sparsemom.numerics.runtime.atomic import write_text_atomic

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale notebooks")
    parser.add_argument("--execute", action="store_true",
                        help="also execute each notebook and write notebooks/executed/NAME.ipynb")
    args = parser.parse_args(argv)
    stale = [n for n in NOTEBOOKS if not (HERE / f"{n}.ipynb").exists()
             or (HERE / f"{n}.ipynb").read_text(encoding="utf-8") != text(n)]
    if args.check:
        for n in stale:
            print(f"stale: {HERE / n}.ipynb")
        return 1 if stale else 0
    for n in NOTEBOOKS:
        write_text_atomic(HERE / f"{n}.ipynb", text(n))
        print(f"wrote {HERE / n}.ipynb")
    if args.execute:
        EXECUTED.mkdir(exist_ok=True)
        for n in NOTEBOOKS:
            write_text_atomic(EXECUTED / f"{n}.ipynb", nbformat.writes(executed(n)) + "\n")
            print(f"wrote {EXECUTED / n}.ipynb")
    return 0


def executed(name: str) -> nbformat.NotebookNode:
    """The notebook ``name`` run top to bottom in a fresh kernel (nbclient), from the
    repository root so that it imports this checkout."""
    import nbclient

    nb = build(name)
    nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(HERE.parent)}}).execute()
    return nb


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
