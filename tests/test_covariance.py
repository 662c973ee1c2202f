"""Gaussian data with a covariance spectrum (model M3): coupled modes, exactly.

* The exact backend ``==`` an oracle written here from the model's definition: the full
  covariance ``Σ = E[z zᵀ]`` of the stacked state ``z = (e, buffer)`` in ``R^{2D}`` (cross
  terms between modes included), advanced with Isserlis' theorem ``E[x xᵀ M x xᵀ] =
  K M K + K Mᵀ K + tr(K M) K`` — rationals, several modes, multiplicities 1 and 2.
* Isotropic ``K = I`` ``==`` dense least squares (``p = 1``), both as one mode of
  multiplicity ``d`` and as ``d`` modes of multiplicity 1 (rationals).
* The backends agree (NumPy, mpmath, exact; a DANA-decaying schedule included).
* Monte Carlo of the actual optimizer on power-law random features in feature space and
  in the eigenbasis agrees with ``exact_risk`` (harness: batch means, Holm, α = 0.001 each);
  the harness rejects the recursion without its coupling and without the residual noise.
"""

from __future__ import annotations

import re
import subprocess
import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from latex_parsing import parse_latex_two_stage
from scipy.integrate import solve_ivp

import sparsemom as sm
from sparsemom.derivations import (
    closed_form,
    derive_recursion,
    generating_function,
    recursion_for,
    stability_conditions,
)
from sparsemom.derivations import symbols as S
from sparsemom.derivations.core.vectors import Dot, LinearVector
from sparsemom.derivations.definitions.covariance import eigenvalue
from sparsemom.derivations.definitions.ingredients import (
    Gaussian,
    Scalar,
    TokenMask,
    Vector,
    gaussian_noise,
)
from sparsemom.derivations.definitions.laws import (
    DataLaw,
    LawParameter,
    RowCoupling,
    register_law,
    unregister_law,
)
from sparsemom.derivations.output.latex import latex_equations
from sparsemom.derivations.properties.stability import kernel_mass_term
from sparsemom.numerics import Optimizer, SparseLeastSquares, exact_risk, exact_state
from sparsemom.numerics.analysis.continuized import continuized_risk, steps_needed
from sparsemom.numerics.analysis.coupled_stability import kernel_mass
from sparsemom.numerics.analysis.row_phases import momentum_thresholds
from sparsemom.numerics.analysis.stability import conditions_hold, eigenvalues
from sparsemom.numerics.cli.main import main
from sparsemom.numerics.codegen.mode_polynomials import mode_polynomials
from sparsemom.numerics.inputs import schedules
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.inputs.spectra import (
    GaussianCovariance,
    PowerLawRandomFeatures,
    power_law_covariance,
)
from sparsemom.numerics.kernels import renewal as renewal_module
from sparsemom.numerics.kernels.coupled import float_coefficients, risk_c
from sparsemom.numerics.kernels.coupled_horizon import coupled_risk_at
from sparsemom.numerics.kernels.exact_risk import exact_risk_at
from sparsemom.numerics.kernels.horizon_risk import row_risk_at
from sparsemom.numerics.kernels.renewal import risk_renewal, solve_renewal
from sparsemom.numerics.runtime import memory
from sparsemom.numerics.simulate.covariance import features_monte_carlo_risk, modes_monte_carlo_risk
from sparsemom.numerics.simulate.exact_moments import expanded_risk
from sparsemom.numerics.simulate.harness import compare_with_theory
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk

F = Fraction


# -- the oracle: the full covariance of (e, buffer), from the model's definition ---------
def _rule_maps(name: str, h: dict):
    """``(m, n)`` of the update ``z' = (m ⊗ I) z + (n ⊗ I) g`` for ``z = (e, buffer)``,
    from the rules' definitions (``docs/model.md``)."""
    lr, beta = h["lr"], h.get("beta", F(0))
    if name == "sgd":
        return [[1, 0], [0, 0]], [-lr, 0]
    if name == "heavy-ball":          # v ← βv + g, θ ← θ − ηv
        return [[1, -lr * beta], [0, beta]], [-lr, 1]
    if name == "nesterov":            # v ← βv + g, θ ← θ − η(g + βv)
        return [[1, -lr * beta * beta], [0, beta]], [-lr * (1 + beta), 1]
    if name == "dana":                # y ← (1−Δ)y + γ1 g, θ ← θ − ηg − γ3 y
        g1, g3, delta = h["g1"], h["g3"], h["delta"]
        return [[1, -g3 * (1 - delta)], [0, 1 - delta]], [-lr - g3 * g1, g1]
    raise AssertionError(name)


def _oracle_risk(eigenvalues, multiplicity, e0, sigma2, batch, name, h, steps):
    """``½ tr(K Σ_ee)`` for ``k = 0..steps``, ``K = diag(λ_j repeated)`` (Fractions)."""
    lam = [F(x) for x in eigenvalues for _ in range(multiplicity)]
    D = len(lam)
    K = np.diag(np.array(lam, dtype=object))
    m, n = _rule_maps(name, h)
    eye = np.eye(D, dtype=int).astype(object) * F(1)
    M = np.block([[m[0][0] * eye, m[0][1] * eye], [m[1][0] * eye, m[1][1] * eye]])
    N = np.vstack([n[0] * eye, n[1] * eye])
    z0 = np.array([F(x) for x in e0] + [F(0)] * D, dtype=object)
    Sigma = np.outer(z0, z0)
    out = []
    for _ in range(steps + 1):
        See = Sigma[:D, :D]
        out.append(sum(K[i, i] * See[i, i] for i in range(D)) / 2)
        KSK = K @ See @ K
        trace = sum(K[i, i] * See[i, i] for i in range(D))
        G = (1 - F(1, batch)) * KSK + F(1, batch) * (2 * KSK + trace * K + F(sigma2) * K)
        cross = M @ Sigma[:, :D] @ K @ N.T
        Sigma = M @ Sigma @ M.T + cross + cross.T + N @ G @ N.T
    return out


HYPER = {
    "sgd": dict(lr=F(1, 3)),
    "heavy-ball": dict(lr=F(1, 4), beta=F(1, 2)),
    "nesterov": dict(lr=F(1, 5), beta=F(2, 5)),
    "dana": dict(lr=F(1, 4), g1=F(1), g3=F(1, 10), delta=F(1, 5)),
}


@pytest.mark.parametrize("name", list(HYPER))
@pytest.mark.parametrize("multiplicity", [1, 2])
def test_exact_backend_equals_the_full_covariance_oracle(name, multiplicity):
    eigenvalues = [F(1), F(1, 2), F(1, 7)]
    e0 = [F(1), F(-2, 3), F(1, 2), F(3, 4), F(-1, 5), F(2)][: 3 * multiplicity]
    R0 = [sum(x * x for x in e0[j * multiplicity:(j + 1) * multiplicity]) for j in range(3)]
    model = GaussianCovariance(eigenvalues, R0=R0, sigma2=F(1, 3), multiplicity=multiplicity)
    opt = Optimizer(name, batch=2, **HYPER[name])
    got = exact_risk(model, opt, 4, backend="exact")
    assert list(got) == _oracle_risk(eigenvalues, multiplicity, e0, F(1, 3), 2, name,
                                     HYPER[name], 4)


# -- the exact-moment oracle: the whole row expanded in its data ---------------------------
@pytest.mark.parametrize("name,hyper,batch,multiplicity", [
    ("sgd", dict(lr=F(1, 3)), 2, 1),
    ("heavy-ball", dict(lr=F(1, 4), beta=F(1, 2)), 2, 1),
    ("nesterov", dict(lr=F(1, 5), beta=F(2, 5)), 2, 2),
    ("qhm", dict(lr=F(1, 4), beta=F(1, 2), nu=F(2, 3)), 1, 2),
    ("dana", dict(lr=F(1, 4), g1=F(1), g3=F(1, 10), delta=F(1, 5)), 2, 1),
])
def test_exact_backend_equals_the_exact_moment_oracle(name, hyper, batch, multiplicity):
    """``==`` in rationals against ``E R_k`` expanded as a polynomial in every sample's
    data (each mode's coordinates, the shared label noise; the other modes enter a mode's
    gradient as ``Σ_{i≠j} ⟨x_i, e_i⟩`` in the same data, cross moments kept), for three
    steps: no Isserlis, no coupling reduction.  Initial errors not along the axes."""
    eigenvalues = [F(1), F(1, 2), F(1, 3)][: 3 if multiplicity == 1 else 2]
    e0 = [[F(1), F(-1, 2)][:multiplicity], [F(2, 3), F(1, 3)][:multiplicity],
          [F(-1, 2)]][: len(eigenvalues)]
    model = GaussianCovariance(eigenvalues, R0=[sum(x * x for x in e) for e in e0],
                               sigma2=F(1, 5), multiplicity=multiplicity)
    opt = Optimizer(name, batch=batch, **hyper)
    assert list(exact_risk(model, opt, 3, backend="exact")) == expanded_risk(model, opt, 3, e0)


def test_the_exact_moment_oracle_sees_the_coupling_and_a_schedule():
    """The oracle is not blind to the coupling: the same modes as independent rows (sparse
    least squares with ``p = 1`` and the modes' ``λ`` as weights would be another law) give
    another curve, and a decaying schedule with a started buffer still agrees."""
    model = GaussianCovariance([F(1), F(1, 4)], R0=[F(1), F(4)], sigma2=F(1, 3))
    opt = Optimizer("heavy-ball", lr=F(1, 3), beta=F(1, 2), batch=2,
                    schedules={"lr": schedules.inverse_time(F(1, 2))})
    e0, v0 = [[F(1)], [F(2)]], [[F(1, 2)], [F(-1)]]
    exact = expanded_risk(model, opt, 3, e0, initial_buffers={"v": v0})
    start = {"C": [F(1, 2), F(-2)], "V": [F(1, 4), F(1)]}     # ⟨e_0, v_0⟩, ‖v_0‖² per mode
    got = exact_risk(model, opt, 3, backend="exact", initial_state=start)
    assert list(got) == exact
    alone = [expanded_risk(GaussianCovariance([lam], R0=[r], sigma2=F(1, 3)), opt, 3, [e],
                           initial_buffers={"v": [v]})
             for lam, r, e, v in zip([F(1), F(1, 4)], [F(1), F(4)], e0, v0)]
    independent = [a + b for a, b in zip(*alone)]
    assert independent[0] == exact[0] and independent[1:] != exact[1:]


def test_the_exact_moment_oracle_refuses_a_coupling_it_cannot_realize():
    """It writes the coupled scalar as ``Σ_{i≠j} ⟨x_i, e_i⟩``: that needs the coupling weight
    to be ``x``'s variance, and the shared noise not to depend on a mode's parameters."""
    opt = Optimizer("sgd", lr=F(1, 4))
    cases = [(dict(weight=2 * _LAM), "variance is the coupling weight 2*lam"),
             (dict(ingredients={"x": Vector(Gaussian(_LAM)), "z": Scalar(Gaussian(_REST)),
                                "xi": gaussian_noise(_LAM)}),
              "shares scalar ingredient 'xi' between the modes")]
    for change, message in cases:
        try:
            law = register_law(_coupled_law(**change))
            model = sm.Model(law, 1, R0=[1, 1], lam=[1, F(1, 2)])
            with pytest.raises(ValueError, match=re.escape(message)):
                expanded_risk(model, opt, 1, [[F(1)], [F(1)]])
        finally:
            unregister_law("user-modes")


@pytest.mark.parametrize("name", ["sgd", "heavy-ball", "nesterov", "dana"])
def test_isotropic_covariance_is_dense_least_squares(name):
    """``K = I_3``: one mode of multiplicity 3, and three modes of multiplicity 1, both
    ``==`` sparse least squares with ``p = 1`` (a dense row of dimension 3)."""
    opt = Optimizer(name, batch=3, **HYPER[name])
    dense = exact_risk(SparseLeastSquares(d=3, p=1, R0=F(7, 4), sigma2=F(1, 2)), opt, 5,
                       backend="exact")
    one = exact_risk(GaussianCovariance(1, R0=F(7, 4), sigma2=F(1, 2), multiplicity=3), opt, 5,
                     backend="exact")
    three = exact_risk(GaussianCovariance([1, 1, 1], R0=[F(1), F(1, 2), F(1, 4)],
                                          sigma2=F(1, 2)), opt, 5, backend="exact")
    assert list(one) == list(dense)
    assert list(three) == list(dense)


def test_the_mode_recursion_with_its_coupling_is_the_dense_row_recursion():
    """Symbolically: ``A_mode + u q`` at ``λ = 1`` is least squares' ``A`` at ``p = 1``."""
    for rule in ("sgd", "heavy-ball", "nesterov", "lazy"):
        mode = derive_recursion("gaussian", rule)
        dense = derive_recursion("lsq", rule)
        lam = next(s for s in mode.parameters if s.name == "lambda_j")
        p = next(s for s in dense.parameters if s.name == "p")
        full = (mode.transition + mode.coupling * mode.coupling_weights).subs(lam, 1)
        assert (full - dense.transition.subs(p, 1)).applyfunc(lambda x: x.simplify()).is_zero_matrix
        assert (mode.forcing.subs(lam, 1) - dense.forcing.subs(p, 1)).is_zero_matrix


def test_backends_agree_with_a_dana_decaying_schedule():
    model = power_law_covariance(1.0, 0.6, 12, sigma2=0.05)
    opt = Optimizer("dana", lr=0.4, g3=0.05, delta=0.2, batch=2,
                    schedules=schedules.dana_decaying(1.0))
    floats = exact_risk(model, opt, 40, backend="numpy")
    mp = np.array(exact_risk(model, opt, 40, backend="mpmath", dps=30), dtype=float)
    exact = np.array(exact_risk(model, opt, 40, backend="exact"), dtype=float)
    np.testing.assert_allclose(floats, exact, rtol=1e-12)
    np.testing.assert_allclose(mp, exact, rtol=1e-14)
    state = exact_state(model, opt, 40)
    np.testing.assert_allclose(state.risk, floats, rtol=1e-12)
    assert state.rows == 12


@pytest.mark.parametrize("name,hyper", [
    ("sgd", dict(lr=0.5)),
    ("heavy-ball", dict(lr=0.3, beta=0.7)),
    ("dana", dict(lr=0.4, g3=0.05, delta=0.2, schedules=schedules.dana_decaying(1.0))),
])
@pytest.mark.parametrize("threads", [1, 2, 5])
def test_the_coupled_c_kernel_equals_numpy(name, hyper, threads):
    """The C paths against the NumPy iteration: ``exact_risk`` (the renewal equation for a
    constant stable row) and the direct kernel (one pass per step, the reduction fused in,
    threads owning ranges of modes); 37 modes (padding lanes at every vector width), a
    schedule, and more threads than groups of modes."""
    model = power_law_covariance(1.0, 0.6, 37, sigma2=0.05)
    opt = Optimizer(name, batch=2, **hyper)
    numpy = exact_risk(model, opt, 300, backend="numpy")
    np.testing.assert_allclose(exact_risk(model, opt, 300, backend="c", threads=threads), numpy,
                               rtol=1e-12)     # constant and stable: the renewal equation
    rows, values = parameter_values(model, opt, coupled=True)
    direct, diverged = risk_c(recursion_for(model, opt), values, rows, 300, threads,
                              multipliers=opt.multipliers(300))
    assert diverged == -1
    np.testing.assert_allclose(direct, numpy, rtol=1e-12)


def test_the_c_kernel_takes_initial_buffer_moments():
    model = power_law_covariance(1.0, 0.6, 9)
    opt = Optimizer("heavy-ball", lr=0.3, beta=0.7)
    start = {"C": 0.1, "V": np.linspace(0.5, 1.5, 9)}
    np.testing.assert_allclose(exact_risk(model, opt, 50, backend="c", initial_state=start),
                               exact_risk(model, opt, 50, backend="exact", initial_state=start)
                               .astype(float), rtol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_unstable_parameters_give_inf_never_nan(backend):
    model = power_law_covariance(0.5, 0.5, 30)
    opt = Optimizer("heavy-ball", lr=3.0, beta=0.9, batch=1)
    with pytest.warns(sm.numerics.DivergenceWarning):
        risk = exact_risk(model, opt, 3000, backend=backend)
    assert not np.isnan(risk).any()
    first = int(np.argmax(np.isinf(risk)))
    assert first > 0 and np.isinf(risk[first:]).all() and np.isfinite(risk[:first]).all()


@pytest.mark.parametrize("backend", ["numpy", "c", "auto"])
def test_coefficients_that_overflow_float64_give_inf_on_every_float_backend(backend):
    """``η = 10^300``: ``η²λ²`` overflows float64 in the coefficients themselves; the C path
    (which first computes the kernel mass) reports the divergence as NumPy does."""
    model = power_law_covariance(1.0, 0.5, 5)
    opt = Optimizer("sgd", lr=1e300)
    with pytest.warns(sm.numerics.DivergenceWarning):
        risk = exact_risk(model, opt, 5, backend=backend)
    assert np.isfinite(risk[0]) and np.isinf(risk[1:]).all()
    assert kernel_mass(model, opt) == np.inf and not sm.is_stable(model, opt)
    assert sm.spectral_radius(model, opt) == np.inf


# -- random features ---------------------------------------------------------------------
def test_random_features_spectrum_in_float64_and_mpmath_agree():
    f = PowerLawRandomFeatures(1.0, 0.7, v=30, d=16, seed=5)
    m = PowerLawRandomFeatures(1.0, 0.7, v=30, d=16, seed=5, precision="mpmath", dps=40)
    np.testing.assert_allclose(m.eigenvalue, f.eigenvalue, rtol=1e-12)
    np.testing.assert_allclose(m.eigenvalue * m.R0, f.eigenvalue * f.R0, rtol=1e-9, atol=1e-15)
    assert m.risk_floor == pytest.approx(f.risk_floor, rel=1e-10)
    # the excess risk at θ_0 = 0 plus the floor is the whole risk ½ E⟨x, b⟩² = ½ Σ_j D_j b_j²
    whole = 0.5 * np.sum(f.data_variances * f.target ** 2)
    assert 0.5 * np.sum(f.eigenvalue * f.R0) + f.risk_floor == pytest.approx(whole, rel=1e-12)
    assert f.sigma2 == pytest.approx(2 * f.risk_floor)


def test_fewer_data_dimensions_than_features_leave_the_null_modes_out():
    f = PowerLawRandomFeatures(1.0, 0.7, v=5, d=9, seed=1)
    assert f.modes == 5
    assert f.risk_floor == pytest.approx(0, abs=1e-25)


CASES = [
    ("sgd", dict(lr=0.8)),
    ("heavy-ball", dict(lr=0.3, beta=0.6)),
    ("nesterov", dict(lr=0.3, beta=0.5)),
    ("qhm", dict(lr=0.8, beta=0.7, nu=0.7)),
    ("dana", dict(lr=0.5, g3=0.05, delta=0.1)),
    ("dana", dict(lr=0.5, g3=0.05, delta=1.0, schedules=schedules.dana_decaying(1.0))),
]


#: Each comparison at α = 0.001: the file's eight Monte Carlo agreements then have a
#: family-wise false-alarm rate of at most 1% (Bonferroni); the rejections below hold at
#: the same α.
ALPHA = 0.001


@pytest.fixture(scope="module")
def plrf():
    return PowerLawRandomFeatures(1.0, 0.7, v=24, d=12, seed=1)


@pytest.mark.parametrize("name,hyper", CASES, ids=["sgd", "heavy-ball", "nesterov", "qhm",
                                                   "dana-constant", "dana-decaying"])
def test_feature_space_monte_carlo_agrees_with_exact_risk(plrf, name, hyper):
    opt = Optimizer(name, batch=2, **hyper)
    exact = exact_risk(plrf, opt, 30)
    seed = np.random.SeedSequence([11, CASES.index((name, hyper))])  # independent per case
    mc = features_monte_carlo_risk(plrf, opt, 30, 4000, seed=seed, keep_trajectories=True)
    comparison = compare_with_theory(mc.trajectories, exact, alpha=ALPHA)
    assert comparison.passed, str(comparison)


def test_eigenbasis_monte_carlo_agrees_with_exact_risk(plrf):
    opt = Optimizer("heavy-ball", lr=0.3, beta=0.6, batch=3)
    mc = modes_monte_carlo_risk(plrf, opt, 30, 4000, seed=12, keep_trajectories=True)
    assert compare_with_theory(mc.trajectories, exact_risk(plrf, opt, 30), alpha=ALPHA).passed


def test_the_harness_rejects_the_recursion_without_coupling_or_without_residual_noise(plrf):
    """Power: dropping the coupling ``u ⟨q, X⟩`` (modes as if independent) or the residual
    noise ``s² = 2 R_∞`` gives curves the Monte Carlo rejects."""
    opt = Optimizer("sgd", lr=0.8, batch=2)
    mc = features_monte_carlo_risk(plrf, opt, 30, 4000, seed=13, keep_trajectories=True)
    assert compare_with_theory(mc.trajectories, exact_risk(plrf, opt, 30), alpha=ALPHA).passed
    noiseless = GaussianCovariance(plrf.eigenvalue, R0=plrf.R0, sigma2=0)
    assert not compare_with_theory(mc.trajectories, exact_risk(noiseless, opt, 30),
                                  alpha=ALPHA).passed
    lam, R0, s2 = plrf.eigenvalue, plrf.R0, plrf.sigma2
    uncoupled = sum(exact_risk(GaussianCovariance(lam[j], R0=R0[j], sigma2=s2), opt, 30)
                    for j in range(plrf.modes))
    assert not compare_with_theory(mc.trajectories, uncoupled, alpha=ALPHA).passed


# -- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize("call,message", [
    (lambda: GaussianCovariance([1, 0]), "eigenvalue must be > 0"),
    (lambda: GaussianCovariance([1, -2]), "eigenvalue must be > 0"),
    (lambda: GaussianCovariance([1, 2], R0=[1, -1]), "R0 must be ≥ 0"),
    (lambda: GaussianCovariance([1, 2], R0=[1, 1, 1]), "R0"),
    (lambda: GaussianCovariance([1], sigma2=-1), "sigma2 must be ≥ 0"),
    (lambda: GaussianCovariance([1], multiplicity=0), "d must be"),
    (lambda: power_law_covariance(0, 1, 10), "alpha must be > 0"),
    (lambda: power_law_covariance(1, float("nan"), 10), "beta must be finite"),
    (lambda: power_law_covariance(1, 1, 0), "d must be"),
    (lambda: PowerLawRandomFeatures(-1, 1, 10, 5), "alpha must be > 0"),
    (lambda: PowerLawRandomFeatures(1, 1, 0, 5), "v must be"),
    (lambda: PowerLawRandomFeatures(1, 1, 10, 5, precision="float32"), "precision must be"),
    (lambda: PowerLawRandomFeatures(1, 1, 10, 5, seed=-1), "seed must be"),
])
def test_bad_input_is_refused_with_the_parameter_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


_LAM = sp.Symbol("lam", positive=True)
_REST = sp.Symbol("rest", nonnegative=True)


def _coupled_law(weight=_LAM, variance=_REST, ingredients=None, gradient=None, risk=None):
    """A user's law of one Gaussian mode coupled through ``rest`` (as ``gaussian``), with one
    part of its definition replaced."""
    return DataLaw(
        "user-modes", "user modes",
        ingredients=ingredients or {"x": Vector(Gaussian(_LAM)), "z": Scalar(Gaussian(_REST)),
                                    "xi": gaussian_noise(S.sigma2)},
        gradient=gradient or (lambda s, e: LinearVector({s.x: Dot(s.x, e) + s.z - s.xi})),
        risk=risk or (lambda energy: _LAM * energy / 2),
        parameters=[LawParameter(_LAM, lower=0, lower_open=True),
                    LawParameter(S.sigma2, lower=0, per_row=False, keyword="sigma2", default=0)],
        coupling=RowCoupling(variance, weight))


@pytest.mark.parametrize("change,message", [
    (dict(weight=-_LAM), "weight -lam must be ≥ 0"),
    (dict(weight=_LAM - 1), "weight lam - 1 must be ≥ 0"),
    (dict(variance=2 * _REST), "variance must be a SymPy symbol declared nonnegative"),
    (dict(variance=sp.Symbol("rest")), "variance must be a SymPy symbol declared nonnegative"),
    (dict(variance=_LAM), "must be a symbol of its own"),
    (dict(ingredients={"x": Vector(Gaussian(_LAM + _REST)), "z": Scalar(Gaussian(_REST)),
                       "xi": gaussian_noise(S.sigma2)}),
     "ingredient 'x': the coupled variance rest may only be the variance of a scalar"),
    (dict(gradient=lambda s, e: LinearVector({s.x: Dot(s.x, e) + _REST - s.xi})),
     "gradient uses the coupled variance rest itself"),
    (dict(gradient=lambda s, e: LinearVector({s.x: Dot(s.x, e) * (1 + _REST) + s.z})),
     "gradient uses the coupled variance rest itself"),
    (dict(risk=lambda energy: (_LAM + _REST) * energy / 2),
     "risk uses the coupled variance rest itself"),
    (dict(ingredients={"x": Vector(Gaussian(_LAM)), "z": Scalar(Gaussian(_REST)),
                       "m": TokenMask(), "xi": gaussian_noise(S.sigma2)}), "TokenMask"),
])
def test_a_bad_coupling_is_refused_when_the_law_is_registered(change, message):
    """The coupled variance ``ϱ = Σ_{i≠j} weight_i ‖e_i‖²`` is a variance: its weight must be
    nonnegative (else the numbers, and the kernel-mass criterion built on ``K_m ≥ 0``, mean
    nothing), and it enters only as the variance of a scalar ingredient."""
    try:
        with pytest.raises(ValueError, match=re.escape(message)):
            register_law(_coupled_law(**change))
    finally:
        if "user-modes" in sm.LAWS:
            unregister_law("user-modes")


def test_what_coupled_modes_do_not_support_is_refused_clearly():
    model = power_law_covariance(1, 0.5, 4)
    opt = Optimizer("heavy-ball", lr=0.1, beta=0.5)
    with pytest.raises(ValueError, match="share one clock"):
        exact_risk(model, opt, 3, time="active")
    with pytest.raises(ValueError, match="simulate.covariance"):
        monte_carlo_risk(model, opt, 3, 10, seed=0)
    with pytest.raises(ValueError, match="per-row hyper-parameters"):
        modes_monte_carlo_risk(model, Optimizer("sgd", lr=[0.1, 0.2, 0.1, 0.1]), 3, 10, seed=0)
    with pytest.raises(ValueError, match="GaussianCovariance"):
        modes_monte_carlo_risk(SparseLeastSquares(d=2, p=0.5), opt, 3, 10, seed=0)
    with pytest.raises(ValueError, match="PowerLawRandomFeatures"):
        features_monte_carlo_risk(model, opt, 3, 10, seed=0)


def test_exact_backend_needs_no_warning_and_generated_code_is_shipped():
    model = GaussianCovariance([1, F(1, 2)], R0=[1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exact_risk(model, Optimizer("heavy-ball", lr=F(1, 2), beta=F(1, 2)), 3, backend="numpy")


# -- stability ---------------------------------------------------------------------------
def _dense_row_map(model, opt):
    """``(T, coefficients)``: the whole row's ``blockdiag(A_j) + u qᵀ``, built densely from
    the generated coefficients (the test's own assembly), and those coefficients."""
    rows, values = parameter_values(model, opt, coupled=True)
    a = float_coefficients(recursion_for(model, opt), values, rows)
    n = a["transition"].shape[0]
    T = np.zeros((n * rows, n * rows))
    for j in range(rows):
        T[j * n:(j + 1) * n, j * n:(j + 1) * n] = a["transition"][:, :, j]
    T += np.outer(a["coupling"].T.ravel(), a["coupling_weights"].T.ravel())
    return T, a


def _dense_radius(model, opt) -> float:
    """``ρ`` of the whole row's map (:func:`_dense_row_map`)."""
    return float(np.max(np.abs(np.linalg.eigvals(_dense_row_map(model, opt)[0]))))


def test_spectral_radius_and_stability_agree_with_the_dense_transition():
    """Random rules, step sizes, batches and spectra (stable and unstable): the secular
    radius ``max(ρ_D, μ*)`` equals the dense eigenvalue computation, and ``is_stable`` is
    ``ρ < 1``."""
    rng = np.random.default_rng(20261207)
    unstable = 0
    for _ in range(40):
        name = str(rng.choice(["sgd", "heavy-ball", "nesterov", "qhm", "dana"]))
        hyper = dict(lr=rng.uniform(0.05, 2.5))
        if name in ("heavy-ball", "nesterov", "qhm"):
            hyper["beta"] = rng.uniform(0, 0.95)
        if name == "dana":
            hyper.update(g3=rng.uniform(0, 0.3), delta=rng.uniform(0.01, 1))
        opt = Optimizer(name, batch=int(rng.integers(1, 5)), **hyper)
        model = GaussianCovariance(rng.uniform(0.05, 1, size=int(rng.integers(1, 7))))
        dense = _dense_radius(model, opt)
        assert sm.spectral_radius(model, opt) == pytest.approx(dense, rel=1e-10)
        assert sm.is_stable(model, opt) == (dense < 1)
        unstable += dense >= 1
    assert 5 < unstable < 35       # both sides of the boundary were drawn


def test_stability_of_a_coupling_whose_blocks_are_not_second_moment_maps():
    """A user's mode coupled with weight ``10 λ``: ``z`` has ten times the others' prediction
    variance, a valid law, but the block ``A_j − u_j q_j`` is no second-moment map (its
    ``R → R`` entry goes negative), so ``K_m ≥ 0`` fails.  ``is_stable`` and
    ``spectral_radius`` still equal the dense eigenvalue computation of the row's map."""
    register_law(_coupled_law(weight=10 * _LAM))
    try:
        rng = np.random.default_rng(7)
        verdicts, negative_block = set(), False
        for _ in range(30):
            name = str(rng.choice(["sgd", "heavy-ball", "nesterov"]))
            hyper = dict(lr=rng.uniform(0.02, 1.0))
            if name != "sgd":
                hyper["beta"] = rng.uniform(0, 0.95)
            opt = Optimizer(name, batch=int(rng.integers(1, 5)), **hyper)
            model = sm.Model("user-modes", 1, R0=1, lam=rng.uniform(0.01, 1, int(rng.integers(1, 5))),
                             sigma2=0.1)
            rows, values = parameter_values(model, opt, coupled=True)
            negative_block |= bool(np.any(float_coefficients(recursion_for(model, opt), values,
                                                             rows)["transition"][0, 0] < 0))
            dense = _dense_radius(model, opt)
            assert sm.spectral_radius(model, opt) == pytest.approx(dense, rel=1e-9)
            assert sm.is_stable(model, opt) == (dense < 1)
            verdicts.add(dense < 1)
        assert verdicts == {True, False} and negative_block
    finally:
        unregister_law("user-modes")


@pytest.mark.parametrize("name,hyper", [("sgd", dict(lr=0.5)),
                                        ("heavy-ball", dict(lr=0.1, beta=0.5))])
def test_modes_within_rounding_of_neutral_are_stable(monkeypatch, name, hyper):
    """``λ_j = j^{−10}`` down to ``10^{−20}``: the float64 blocks of the last modes are the
    identity (``ηλ`` below rounding), yet the row is stable.  The derived sums certify it,
    the kernel mass is SGD's known sum, ``exact_risk`` takes the renewal equation and
    ``coupled_risk_at`` agrees with it."""
    model = power_law_covariance(5.0, 0.0, 100)
    opt = Optimizer(name, batch=1, **hyper)
    assert sm.is_stable(model, opt) and sm.spectral_radius(model, opt) < 1
    mass = kernel_mass(model, opt)
    if name == "sgd":
        lam, lr = model.eigenvalue, hyper["lr"]
        assert mass == pytest.approx(np.sum(lr * lam / (2 - 2 * lr * lam)), rel=1e-13)
    assert 0 < mass < 1
    calls = []
    monkeypatch.setattr(renewal_module, "risk_renewal",
                        lambda *a, **k: calls.append(1) or risk_renewal(*a, **k))
    risk = exact_risk(model, opt, 3000, backend="c")
    assert calls == [1]
    np.testing.assert_allclose(risk, exact_risk(model, opt, 3000, backend="numpy"), rtol=1e-9)
    # the horizon's stationary state from the derived sums (the float64 blocks are singular)
    np.testing.assert_allclose(sm.coupled_risk_at(model, opt, [400, 3000]), risk[[400, 3000]],
                               rtol=1e-8)


def test_the_kernel_mass_of_sgd_is_the_known_sum():
    lr, B, d = S.lr, S.batch, S.d
    expected = d * lr * eigenvalue / (2 * B - (B + 1) * lr * eigenvalue)
    assert (kernel_mass_term("gaussian", "sgd") - expected).simplify() == 0
    lam, g, b = np.array([0.5, 0.3, 0.01]), 0.7, 2
    model = GaussianCovariance(lam)
    assert kernel_mass(model, Optimizer("sgd", lr=g, batch=b)) == pytest.approx(
        np.sum(g * lam / (2 * b - (b + 1) * g * lam)), rel=1e-14)


def test_stability_is_where_the_exact_curve_converges():
    """Either side of the SGD boundary (kernel mass 1 at η ≈ 0.42) of a power-law spectrum
    whose modes are each stable alone up to η = 1: the risk settles below its start, or
    grows without bound — the coupling alone makes the row unstable."""
    model = power_law_covariance(0.6, 0.5, 200)
    for lr, stable in ((0.35, True), (0.6, False)):
        opt = Optimizer("sgd", lr=lr, batch=1)
        assert sm.is_stable(model, opt) is stable
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sm.numerics.DivergenceWarning)
            risk = exact_risk(model, opt, 4000)
        assert bool(risk[-1] < risk[0]) is stable
        assert bool(risk[-1] > 1e6 * risk[0]) is not stable


def test_per_row_analyses_refuse_coupled_modes():
    model = power_law_covariance(1, 0.5, 4)
    opt = Optimizer("sgd", lr=0.1)
    for call in (lambda: eigenvalues(model, opt), lambda: conditions_hold(model, opt),
                 lambda: exact_risk_at(model, opt, [10]), lambda: row_risk_at(model, opt, 10),
                 lambda: sm.closed_form_risk(model, opt, [3])):
        with pytest.raises(ValueError, match="coupled modes of one row"):
            call()
    rec = derive_recursion("gaussian", "sgd")
    for call in (lambda: closed_form(rec), lambda: generating_function(rec),
                 lambda: stability_conditions("gaussian", "sgd")):
        with pytest.raises(ValueError, match="modes couple"):
            call()
    with pytest.raises(ValueError, match="time='active'"):
        sm.is_stable(model, opt, time="active")
    with pytest.raises(ValueError, match="couple and move together"):
        sm.timescales("gaussian", "sgd")
    with pytest.raises(ValueError, match="no activity probability"):
        momentum_thresholds(model, "heavy-ball", 0.1)


# -- documents and the command line -------------------------------------------------------
def test_the_latex_of_a_mode_holds_its_coupling_and_round_trips():
    equations = latex_equations("gaussian", "heavy-ball")
    sections = [s for s, _, _ in equations]
    assert list(dict.fromkeys(sections)) == ["Second-moment recursion", "Coupling", "Risk",
                                             "Stability"]
    assert sections[-2:] == ["Stability", "Stability"]
    recursion = [text for section, _, text in equations if section == "Second-moment recursion"]
    assert all(text.endswith(rf"u_{{{i}}} \cdot S_{{k}}") for i, text in enumerate(recursion[:3], 1))
    # the coupling column, defined once, is the derived u
    rec = derive_recursion("gaussian", "heavy-ball")
    defined = {str(rel.lhs): rel.rhs for section, rel, _ in equations
               if section == "Second-moment recursion" and str(rel.lhs).startswith("u_")}
    assert [defined[f"u_{i}"] for i in (1, 2, 3)] == list(rec.coupling)
    # a sum over the modes names each mode's moment with its index: R_{j,k}, never R_k
    assert equations[sections.index("Coupling")][2] == r"S_{k} = \sum_{j=1}^{M} \lambda_{j} \cdot R_{j,k}"
    assert equations[sections.index("Risk")][2] == \
        r"r_{k} = \sum_{j=1}^{M} \frac{\lambda_{j}}{2} \cdot R_{j,k}"
    stability = [(rel, text) for section, rel, text in equations if section == "Stability"]
    assert stability[0][1] == r"\sum_{j=1}^{M} m_{j} < 1"
    for relation, text in stability[1:]:      # m_j (its denominator named D_{m_j} if long)
        parsed = parse_latex_two_stage(text)
        plain = {s: sp.Symbol(s.name.replace("{", "").replace("}", "")) for s in parsed.free_symbols}
        parsed = parsed.xreplace(plain)
        source = relation.xreplace({s: sp.Symbol(s.name.replace("{", "").replace("}", ""))
                                    for s in relation.free_symbols})
        assert sp.simplify((source.lhs - source.rhs) - (parsed.lhs - parsed.rhs)) == 0, text
        assert not text.split(" = ", 1)[1].startswith("- "), text    # D = 2B(…) − …, m_j > 0
    mass = {str(rel.lhs): rel.rhs for rel, _ in stability[1:]}
    named = {sp.Symbol(k): v for k, v in mass.items() if k != "m_j"}
    assert sp.simplify(mass["m_j"].xreplace(named) - kernel_mass_term("gaussian", "heavy-ball")) == 0


@pytest.mark.parametrize("style", ["exact", "paper"])
@pytest.mark.parametrize("optimizer", ["nesterov", "dana"])
def test_the_gaussian_document_compiles(tmp_path, pdflatex, style, optimizer):
    """Both styles compile, for a rule whose buffer is ``v`` and for DANA's buffer ``y``
    (moments ``M_{e,y}``: with a step subscript, ``M_{e,y,k}``, never a double subscript)."""
    out = tmp_path / "gaussian.tex"
    assert main(["latex", "--model", "gaussian", "--optimizer", optimizer, "--style", style,
                 "-o", str(out)]) == 0
    text = out.read_text()
    assert r"\subsection*{Coupling}" in text and "m_{j} < 1" in text.replace("} <", "} <")
    proc = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", out.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]
    log = (tmp_path / "gaussian.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log


def test_the_command_line_prints_the_coupling_and_refuses_active_time(capsys):
    assert main(["derive", "--model", "gaussian", "--optimizer", "sgd", "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert "coupling" in out and "Eq(S_k, Sum(R_k*lambda_j, (j, 1, M)))" in out
    assert "S_k*d*eta**2*lambda_j/B" in out
    assert main(["derive", "--model", "gaussian", "--optimizer", "dana", "--format", "latex"]) == 0
    out = capsys.readouterr().out
    assert "M_{e,y,k}" in out and "}_k" not in out
    for command in ("derive", "latex"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--model", "gaussian", "--time", "active"])
        assert exit_info.value.code == 2
        assert "argument --time: the modes of model 'gaussian' couple" in capsys.readouterr().err


# -- the continuized dynamics --------------------------------------------------------------
def test_the_poisson_average_solves_the_continuized_ode():
    """``Σ_k Pois(k; t) R_k`` against ``dX/dt = (T − I) X + c`` integrated by SciPy on the
    whole row (dense ``T``), heavy ball on a small power-law instance."""
    model = power_law_covariance(1.0, 0.5, 6, sigma2=0.1)
    opt = Optimizer("heavy-ball", lr=0.4, beta=0.6, batch=2)
    T, a = _dense_row_map(model, opt)
    c, w, x0 = (a[b].T.ravel() for b in ("forcing", "risk_weights", "initial"))
    times = np.array([0.0, 0.5, 3.0, 20.0, 60.0])
    ode = solve_ivp(lambda t, x: (T - np.eye(T.shape[0])) @ x + c, (0, times[-1]), x0,
                    t_eval=times, rtol=1e-11, atol=1e-14, method="DOP853")
    discrete = exact_risk(model, opt, steps_needed(times[-1]), backend="numpy")
    np.testing.assert_allclose(continuized_risk(discrete, times), w @ ode.y, rtol=1e-8)


def test_continuized_risk_refuses_a_short_or_diverged_curve():
    with pytest.raises(ValueError, match="needs"):
        continuized_risk(np.ones(10), [50.0])
    with pytest.raises(ValueError, match="finite"):
        continuized_risk(np.array([1.0, np.inf]), [0.1])
    with pytest.raises(ValueError, match="times"):
        continuized_risk(np.ones(10), [-1.0])


# -- the renewal equation ----------------------------------------------------------------
def test_the_renewal_solver_equals_the_direct_sums():
    """Divide and conquer with FFT convolutions against the O(k²) recurrence, on a
    positive kernel of mass 0.9 and a forcing over several decades (lengths around the
    leaf size and powers of two, to cross every branch)."""
    rng = np.random.default_rng(5)
    for n in (1, 2, 63, 64, 65, 200, 1025):
        K = rng.random(n) * np.geomspace(1, 1e-3, n)
        K *= 0.9 / K.sum()
        F = np.geomspace(1, 1e-4, n) * (1 + rng.random(n))
        S = np.array(F)
        for t in range(1, n):
            S[t] = F[t] + np.dot(K[t - 1::-1], S[:t])
        np.testing.assert_allclose(solve_renewal(F, K), S, rtol=1e-12)


@pytest.mark.parametrize("name,hyper", [
    ("sgd", dict(lr=0.5)),
    ("heavy-ball", dict(lr=0.1, beta=0.8)),
    ("nesterov", dict(lr=0.1, beta=0.7)),
    ("qhm", dict(lr=0.4, beta=0.8, nu=0.7)),
])
def test_the_renewal_curve_equals_the_direct_iteration(name, hyper):
    """The risk from the renewal equation (uncoupled C runs + the Volterra solve) against
    the step-by-step coupled iteration, 200 modes over 3 000 steps (values over four
    decades)."""
    model = power_law_covariance(1.0, 0.6, 200, sigma2=1e-4)
    opt = Optimizer(name, batch=2, **hyper)
    rows, values = parameter_values(model, opt, coupled=True)
    rec = recursion_for(model, opt)
    renewal, _ = risk_renewal(rec, values, rows, 3000, 1)
    direct = exact_risk(model, opt, 3000, backend="numpy")
    np.testing.assert_allclose(renewal, direct, rtol=1e-9)


def test_the_renewal_risk_with_weights_not_proportional_to_the_coupling():
    """A user's coupled law (through the public API) whose risk weights are not a multiple
    of its coupling weights (``w = λ²/2`` against ``q = λ``) takes the two extra runs ``G``
    and ``L``; its curve equals the direct iteration."""
    lam = sp.Symbol("lam", positive=True)
    rest = sp.Symbol("rest", nonnegative=True)
    law = DataLaw(
        "curved-modes", "Gaussian modes with a curved risk",
        ingredients={"x": Vector(Gaussian(lam)), "z": Scalar(Gaussian(rest)),
                     "xi": gaussian_noise(S.sigma2)},
        gradient=lambda s, e: LinearVector({s.x: Dot(s.x, e) + s.z - s.xi}),
        risk=lambda energy: lam**2 * energy / 2,
        parameters=[LawParameter(lam, lower=0, lower_open=True),
                    LawParameter(S.sigma2, lower=0, per_row=False, keyword="sigma2", default=0)],
        coupling=RowCoupling(rest, lam))
    register_law(law)
    try:
        model = sm.Model("curved-modes", 1, R0=[1, 0.5, 0.25], lam=[1, 0.5, 0.1], sigma2=0.01)
        opt = Optimizer("heavy-ball", lr=0.2, beta=0.5)
        rows, values = parameter_values(model, opt, coupled=True)
        rec = recursion_for(model, opt)
        assert rec.coupled
        renewal, _ = risk_renewal(rec, values, rows, 500, 1)
        np.testing.assert_allclose(renewal, exact_risk(model, opt, 500, backend="numpy"),
                                   rtol=1e-10)
    finally:
        unregister_law("curved-modes")


# -- any horizon --------------------------------------------------------------------------
HORIZON_RULES = [("sgd", dict(lr=0.5)), ("heavy-ball", dict(lr=0.1, beta=0.8)),
                 ("nesterov", dict(lr=0.1, beta=0.7)), ("qhm", dict(lr=0.4, beta=0.8, nu=0.7)),
                 ("dana", dict(lr=0.3, g3=0.02, delta=0.05))]


@pytest.mark.parametrize("name,hyper", HORIZON_RULES)
def test_the_risk_at_a_horizon_equals_iterating(name, hyper):
    """The contour integral of the resolvent against the iterated curve, on a power-law
    covariance and on random features, at steps from 0 (iterated) to 20 000."""
    ks = [0, 10, 300, 1000, 5000, 20000]
    for model in (power_law_covariance(1.0, 0.6, 200, sigma2=1e-3),
                  PowerLawRandomFeatures(1.0, 0.7, v=120, d=60, seed=0)):
        opt = Optimizer(name, batch=2, **hyper)
        curve = exact_risk(model, opt, 20000, backend="c")
        np.testing.assert_allclose(coupled_risk_at(model, opt, ks), curve[ks], rtol=1e-9)


def test_the_horizon_risk_is_right_or_refused_never_silently_wrong():
    """Heavy ball up to β = 0.9999 (slow oscillating modes, where the parabolic contour
    does not converge): each case agrees with iterating to 1e-7, or is refused."""
    model = power_law_covariance(1.0, 0.6, 50, sigma2=1e-3)
    rng = np.random.default_rng(1)
    outcomes = {"agrees": 0, "refused": 0}
    ks = [300, 3000, 20000]
    for _ in range(40):
        beta = 1 - 10 ** rng.uniform(-4, -0.3)
        opt = Optimizer("heavy-ball", lr=10 ** rng.uniform(-3, 0) * (1 - beta), beta=beta,
                        batch=int(rng.integers(1, 4)))
        if not sm.is_stable(model, opt):
            continue
        try:
            at = coupled_risk_at(model, opt, ks)
        except ValueError as exc:
            assert "did not converge" in str(exc)
            outcomes["refused"] += 1
            continue
        np.testing.assert_allclose(at, exact_risk(model, opt, ks[-1], backend="c")[ks],
                                   rtol=1e-7)
        outcomes["agrees"] += 1
    assert outcomes["agrees"] >= 5 and outcomes["refused"] >= 5, outcomes


def test_a_billion_steps_of_ten_thousand_modes():
    """Without label noise the risk decays to 0, monotonically for SGD, at 10⁵ … 10⁹ steps
    (below 10^{−14} of the start, the float64 resolution, the value is absolute-accurate
    only); with noise it tends to the stationary risk."""
    model = power_law_covariance(1.0, 0.75, 10_000)
    opt = Optimizer("sgd", lr=0.5, batch=4)
    curve = coupled_risk_at(model, opt, [10**5, 10**6, 10**7, 10**8, 10**9])
    assert np.all(np.diff(curve) < 0) and curve[-1] >= 0
    noisy = power_law_covariance(1.0, 0.75, 10_000, sigma2=1e-3)
    far, farther, farthest = coupled_risk_at(noisy, opt, [10**12, 10**15, 10**18])
    assert far == pytest.approx(farther, rel=1e-12) == farthest and far > 0


def test_the_horizon_risk_refuses_what_it_cannot_do():
    model = power_law_covariance(1.0, 0.6, 20)
    with pytest.raises(ValueError, match="converges"):
        coupled_risk_at(model, Optimizer("sgd", lr=1.9, batch=1), [10**6])
    with pytest.raises(ValueError, match="schedule"):
        coupled_risk_at(model, Optimizer("sgd", lr=0.1, lr_schedule=schedules.cosine(10, 0.1)),
                        [5])
    with pytest.raises(ValueError, match="independent rows"):
        coupled_risk_at(SparseLeastSquares(d=2, p=0.5), Optimizer("sgd", lr=0.1), [5])
    with pytest.raises(ValueError, match="ks"):
        coupled_risk_at(model, Optimizer("sgd", lr=0.1), [-1])
    with pytest.raises(ValueError, match="coupled_risk_at"):
        exact_risk_at(model, Optimizer("sgd", lr=0.1), [10])


# -- the polynomial step of the coupled C kernel ----------------------------------------------
@pytest.mark.parametrize("name,hyper", [
    ("heavy-ball", dict(lr=0.3, beta=0.7)),
    ("qhm", dict(lr=0.4, beta=0.8, nu=0.7)),
    ("dana", dict(lr=0.4, g3=0.05, delta=0.2, schedules=schedules.dana_decaying(1.0))),
])
@pytest.mark.parametrize("threads", [1, 2])
def test_the_polynomial_step_equals_the_stored_coefficients(name, hyper, threads):
    """Scalar hyper-parameters take the polynomial step (entries built from the step's
    coefficients and each mode's monomials); the same values given per mode take the
    step with stored per-mode coefficients: the two agree."""
    model = power_law_covariance(1.0, 0.6, 37, sigma2=0.05)
    scalar = Optimizer(name, batch=2, **hyper)
    per_mode = Optimizer(name, batch=2, **{**hyper, "lr": np.full(37, hyper["lr"])})
    rec = recursion_for(model, scalar)
    assert mode_polynomials(rec) is not None
    curves = []
    for opt in (scalar, per_mode):
        rows, values = parameter_values(model, opt, coupled=True)
        curve, diverged = risk_c(rec, values, rows, 300, threads,
                                 multipliers=opt.multipliers(300))
        assert diverged == -1
        curves.append(curve)
    np.testing.assert_allclose(curves[0], curves[1], rtol=1e-13)
    np.testing.assert_allclose(curves[0], exact_risk(model, scalar, 300, backend="numpy"),
                               rtol=1e-12)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_polynomial_step_sums_many_weight_pairs(threads):
    """A user's law whose risk weights hold three monomials (``w = (λ + λ² + λ³)/2``, the
    coupling ``q = λ``): the polynomial step sums ``λ^m x`` once per (monomial, entry) pair,
    more pairs than the two sums of the stored-coefficient step, and a DANA-decaying run over
    a number of modes no vector width divides agrees with NumPy."""
    lam = sp.Symbol("lam", positive=True)
    rest = sp.Symbol("rest", nonnegative=True)
    law = DataLaw(
        "cubic-risk-modes", "Gaussian modes with a cubic risk weight",
        ingredients={"x": Vector(Gaussian(lam)), "z": Scalar(Gaussian(rest)),
                     "xi": gaussian_noise(S.sigma2)},
        gradient=lambda s, e: LinearVector({s.x: Dot(s.x, e) + s.z - s.xi}),
        risk=lambda energy: (lam + lam**2 + lam**3) * energy / 2,
        parameters=[LawParameter(lam, lower=0, lower_open=True),
                    LawParameter(S.sigma2, lower=0, per_row=False, keyword="sigma2", default=0)],
        coupling=RowCoupling(rest, lam))
    register_law(law)
    try:
        spectrum = 1.0 / np.arange(1, 38)
        model = sm.Model("cubic-risk-modes", 1, R0=spectrum, lam=spectrum, sigma2=0.01)
        opt = Optimizer("dana", lr=0.4, g3=0.05, delta=0.2, batch=2,
                        schedules=schedules.dana_decaying(1.0))
        rec = recursion_for(model, opt)
        polynomials = mode_polynomials(rec)
        pairs = {(m, i) for letter in ("q", "w") for i in range(len(rec.state))
                 for m, _ in polynomials.terms.get((letter, i), ())}
        assert len(pairs) == 3
        rows, values = parameter_values(model, opt, coupled=True)
        curve, diverged = risk_c(rec, values, rows, 200, threads, multipliers=opt.multipliers(200))
        assert diverged == -1
        np.testing.assert_allclose(curve, exact_risk(model, opt, 200, backend="numpy"),
                                   rtol=1e-12)
    finally:
        unregister_law("cubic-risk-modes")


def test_a_law_not_polynomial_in_its_mode_parameters_keeps_stored_coefficients():
    """Inputs of variance ``1/λ``: the entries are not polynomials in ``λ``, the kernel
    steps with stored coefficients, and agrees with NumPy."""
    lam = sp.Symbol("lam", positive=True)
    rest = sp.Symbol("rest", nonnegative=True)
    law = DataLaw(
        "inverse-modes", "Gaussian modes of variance 1/lam",
        ingredients={"x": Vector(Gaussian(1 / lam)), "z": Scalar(Gaussian(rest)),
                     "xi": gaussian_noise(S.sigma2)},
        gradient=lambda s, e: LinearVector({s.x: Dot(s.x, e) + s.z - s.xi}),
        risk=lambda energy: energy / (2 * lam),
        parameters=[LawParameter(lam, lower=0, lower_open=True),
                    LawParameter(S.sigma2, lower=0, per_row=False, keyword="sigma2", default=0)],
        coupling=RowCoupling(rest, 1 / lam))
    register_law(law)
    try:
        model = sm.Model("inverse-modes", 1, R0=[1, 0.5, 0.25], lam=[1, 2, 8], sigma2=0.01)
        opt = Optimizer("heavy-ball", lr=0.2, beta=0.5, lr_schedule=schedules.cosine(50, 0.1))
        assert mode_polynomials(recursion_for(model, opt)) is None
        np.testing.assert_allclose(exact_risk(model, opt, 50, backend="c"),
                                   exact_risk(model, opt, 50, backend="numpy"), rtol=1e-12)
    finally:
        unregister_law("inverse-modes")


def test_problems_too_large_for_memory_are_refused_before_any_work(monkeypatch):
    """A spectrum or a feature matrix that would not fit in half the free memory is a
    ``ValueError`` with the estimate, not NumPy's ``MemoryError`` (free memory: 1 GiB)."""
    monkeypatch.setattr(memory, "available_memory", lambda: 1 << 30)
    with pytest.raises(ValueError, match=r"d = 100000000 modes needs about .* GiB, more than"):
        power_law_covariance(1.0, 1.0, 10**8)
    with pytest.raises(ValueError, match=r"v = 100000, d = 10000 \(W and its SVD\) needs"):
        PowerLawRandomFeatures(1.0, 1.0, 10**5, 10**4)
    assert power_law_covariance(1.0, 1.0, 10**5).modes == 10**5
