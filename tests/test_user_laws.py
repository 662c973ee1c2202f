"""Data laws a user defines through the public API (``tests/user_laws.py``, shown verbatim
by notebook 07): per-row label noise, per-row input scale, non-Gaussian i.i.d. features
(Rademacher, sparse signs) and Student-t label noise.  For each law: the exact backend is
the expansion in the data, in rationals; the first step is the computation by hand from
the law's moments; the float backends agree with the exact one; the LaTeX document names
the law's parameters and compiles; the closed forms and stability conditions hold.

Regressions found with these laws: the C kernel of a law whose name holds ``-`` (its
symbol was not a C identifier), and a law without ``p`` (the rows were counted from
``model.p``)."""

import subprocess
from fractions import Fraction as F

import numpy as np
import pytest
import sympy as sp
import user_laws as U

from sparsemom.derivations import (
    derive_recursion,
    generating_function,
    register_law,
    stability_conditions,
    stationary_risk,
    unregister_law,
)
from sparsemom.derivations import symbols as S
from sparsemom.derivations.output.latex import latex_document
from sparsemom.derivations.properties.closed_forms import z
from sparsemom.numerics import Model, Optimizer, closed_form_risk, exact_risk, is_stable
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.simulate.exact_moments import expanded_risk
from sparsemom.numerics.simulate.harness import compare_with_theory
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk

LAWS = (U.HETEROSCEDASTIC, U.SCALED_ROWS, U.RADEMACHER, U.SPARSE_SIGN, U.STUDENT_T)
NOISE = {"p": [F(1, 3), F(1, 2)], "tau2": [F(1, 5), F(2, 3)]}
#: Two rows with different values of each per-row parameter.
VALUES = {
    "heteroscedastic": NOISE,
    "scaled-rows": {**NOISE, "omega": [F(1, 2), F(3, 2)]},
    "rademacher": NOISE,
    "sparse-sign": {**NOISE, "q_x": [F(1, 4), F(2, 3)]},
    "student-t": {"nu": [F(5), F(9, 2)], "sigma_t": F(1, 2)},
}
#: Read off each law's definition: (P(a sample holds the row), the input variance ω, the
#: fourth moment μ4 of the unit-variance entries of x/√ω, the label-noise variance E ξ²).
MOMENTS = {
    "heteroscedastic": (S.p, 1, 3, U.tau2),
    "scaled-rows": (S.p, U.omega, 3, U.tau2),
    "rademacher": (S.p, 1, 1, U.tau2),
    "sparse-sign": (S.p, 1, 1 / U.q, U.tau2),
    "student-t": (1, 1, 3, U.nu * U.scale**2 / (U.nu - 2)),
}
RULES = {"sgd": {}, "heavy-ball": {"beta": F(1, 2)}}
#: Initial errors of the two rows (‖e_0‖² = 1), the second off the axes.
E0 = [[1, 0], [F(3, 5), F(4, 5)]]

by_law = pytest.mark.parametrize("law", LAWS, ids=lambda law: law.name)
by_rule = pytest.mark.parametrize("rule", RULES)


@pytest.fixture(scope="module", autouse=True)
def _registered():
    """The laws are registered for this module's tests only."""
    for law in LAWS:
        register_law(law)
    yield
    for law in LAWS:
        unregister_law(law.name)


def _problem(law, rule: str, d: int = 2, lr=F(1, 4)):
    model = Model(law.name, d, R0=[1, 1], **VALUES[law.name])
    return model, Optimizer(rule, lr=lr, batch=2, **RULES[rule])


def _rows(model, optimizer) -> list[dict]:
    """The exact values of the recursion's symbols, one dict per row."""
    rows, values = parameter_values(model, optimizer)
    return [{s: sp.sympify(np.broadcast_to(np.asarray(x, dtype=object), (rows,))[i])
             for s, x in values.items()} for i in range(rows)]


def _zero(matrix: sp.Matrix) -> bool:
    return sp.simplify(matrix) == sp.zeros(*matrix.shape)


@by_rule
@by_law
def test_exact_backend_is_the_expansion_in_the_data(law, rule):
    model, opt = _problem(law, rule)
    by_recursion = list(exact_risk(model, opt, 3, backend="exact"))
    assert by_recursion == expanded_risk(model, opt, 3, E0)
    assert len(set(by_recursion)) == 4


@by_rule
@by_law
def test_first_step_is_the_computation_by_hand(law, rule):
    """``e_1 = e_0 − η g`` (heavy ball from ``v_0 = 0`` too), ``g = (1/B) Σ_b G_b``,
    ``G = m x (⟨x, e⟩ − ξ)`` with ``x = √ω z``: ``E⟨G, e⟩ = p ω ‖e‖²``, ``E‖G‖² = p (ω²
    (d + μ4 − 1) ‖e‖² + d ω E ξ²)`` (``E z_i² z_j² = 1`` off the diagonal, ``μ4`` on it),
    ``E⟨G_b, G_b'⟩ = p² ω² ‖e‖²`` for two samples; the risk is ``½ p ω ‖e‖²``."""
    p, omega, mu4, noise = MOMENTS[law.name]
    rec = derive_recursion(law.name, rule)
    R, eta, B, d = rec.initial[0], S.lr, S.batch, S.d
    energy = (R * (1 - 2 * eta * p * omega)
              + eta**2 / B * p * (omega**2 * (d + mu4 - 1) * R + d * omega * noise)
              + eta**2 * (B - 1) / B * p**2 * omega**2 * R)
    derived = rec.risk_weights.dot(rec.transition * sp.Matrix(rec.initial) + rec.forcing)
    assert sp.simplify(derived - p * omega / 2 * energy) == 0


@by_rule
@by_law
def test_float_backends_agree_with_exact(law, rule):
    model, opt = _problem(law, rule)
    exact = np.array(exact_risk(model, opt, 30, backend="exact"), dtype=float)
    for backend in ("numpy", "c", "mpmath"):
        got = np.array(exact_risk(model, opt, 30, backend=backend), dtype=float)
        np.testing.assert_allclose(got, exact, rtol=1e-12, atol=0, err_msg=backend)


@by_law
def test_latex_document_names_the_laws_parameters(law):
    document = latex_document(law.name, "heavy-ball")
    assert law.latex_parameter_text() in document
    for h in law.specs:
        assert f"${sp.latex(h.symbol)}$ {h.doc}" in document
    assert sp.latex(law.specs[0].symbol) in document.partition(r"\subsection*")[2]


@by_law
def test_latex_document_compiles(law, tmp_path, pdflatex):
    out = tmp_path / f"{law.name}.tex"
    out.write_text(latex_document(law.name, "heavy-ball"))
    proc = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", out.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]


@by_rule
@by_law
def test_closed_forms_and_stability(law, rule):
    """The generating function's Taylor coefficients are the exact risks; Sylvester's
    closed form is the iterated recursion; the stationary risk is its limit; the stability
    conditions hold here and fail at a learning rate where the risk grows."""
    model, opt = _problem(law, rule, d=3)
    rec, rows = derive_recursion(law.name, rule), _rows(model, opt)
    exact = exact_risk(model, opt, 40, backend="exact")
    series = sum(sp.series(generating_function(rec).subs(v), z, 0, 4).removeO() for v in rows)
    assert [series.coeff(z, k) for k in range(4)] == [sp.Rational(x) for x in exact[:4]]
    closed = closed_form_risk(model, opt, [0, 5, 40], dps=50)
    assert all(abs(c - float(exact[k])) < 1e-14 * float(exact[k])
               for c, k in zip(closed, [0, 5, 40]))
    limit = exact_risk(model, opt, 3000, backend="mpmath", dps=40)[-1]
    stationary = sum(stationary_risk(rec).subs(v) for v in rows)
    assert abs(limit - sp.Float(stationary, 40)) < sp.Float(10) ** -30 * stationary
    conditions = stability_conditions(law.name, rule)
    assert all(bool(c.subs(v)) for c in conditions for v in rows) and is_stable(model, opt).all()
    model, fast = _problem(law, rule, d=3, lr=4)
    assert not any(all(bool(c.subs(v)) for c in conditions) for v in _rows(model, fast))
    assert not is_stable(model, fast).any()
    risk = exact_risk(model, fast, 40, backend="exact")
    assert risk[40] > risk[20] > risk[0]


@by_rule
def test_features_enter_through_their_fourth_moment_only(rule):
    """Sparse signs with ``q_x = 1/μ4``: ``A(μ4) = A_Gauss + (μ4 − 3) K``, where the fourth
    cumulant adds ``(μ4 − 3) p ‖e‖² / B`` to ``E‖g‖²``, which enters ``R, C, V`` with the
    weights ``η², −η, 1``; forcing and risk are the Gaussian ones.  So ``q_x = 1/3`` is the
    Gaussian law and ``q_x = 1`` Rademacher's."""
    gauss, rad, sparse = (derive_recursion(law.name, rule)
                          for law in (U.HETEROSCEDASTIC, U.RADEMACHER, U.SPARSE_SIGN))
    mu4 = sp.Symbol("mu_4", positive=True)
    n = gauss.transition.shape[0]
    K = sp.zeros(n, n)
    K[:, 0] = sp.Matrix([S.lr**2, -S.lr, 1][:n]) * S.p / S.batch
    assert _zero(sparse.transition.subs(U.q, 1 / mu4) - gauss.transition - (mu4 - 3) * K)
    assert _zero(sparse.transition.subs(U.q, sp.Rational(1, 3)) - gauss.transition)
    assert _zero(sparse.transition.subs(U.q, 1) - rad.transition)
    assert sparse.forcing == gauss.forcing == rad.forcing
    assert sparse.risk_weights == gauss.risk_weights == rad.risk_weights


@by_rule
def test_student_t_noise_enters_through_its_variance_only(rule):
    """The dense Student-t law is the heteroscedastic one at ``p = 1`` with ``τ² = ν σ_t² /
    (ν − 2)``, the variance of ``σ_t t_ν``."""
    student, gauss = (derive_recursion(law.name, rule) for law in (U.STUDENT_T, U.HETEROSCEDASTIC))
    dense = {S.p: 1, U.tau2: U.nu * U.scale**2 / (U.nu - 2)}
    for ours, theirs in ((student.transition, gauss.transition), (student.forcing, gauss.forcing),
                         (student.risk_weights, gauss.risk_weights)):
        assert _zero(ours - theirs.subs(dense))


@by_law
def test_dense_monte_carlo_agrees_through_the_harness(law):
    """The actual optimizer on data drawn from each law's ingredients (dense simulator,
    heavy ball, B = 3, two rows with different parameters) against ``exact_risk``, through
    the statistical harness (Holm over the steps, fixed seed)."""
    model = Model(law.name, 3, R0=[1, 2], **{k: [float(x) for x in v] if isinstance(v, list)
                                             else float(v) for k, v in VALUES[law.name].items()})
    optimizer = Optimizer("heavy-ball", lr=0.15, beta=0.5, batch=3)
    steps = 15
    exact = exact_risk(model, optimizer, steps)
    mc = monte_carlo_risk(model, optimizer, steps, 4_000, seed=31, keep_trajectories=True)
    result = compare_with_theory(mc.trajectories, exact)
    assert result.passed and mc.diverged == 0, result
