"""Both Monte Carlo simulators sample any registered law with closed moments from its
declared ingredients: user laws (Rademacher features, per-row noise variance, per-row
input variance, a dense law with Student-t label noise) agree with ``exact_risk`` through
the statistical harness; sampled ingredients have their distributions' moments; bad
inputs are refused with a ValueError."""

import numpy as np
import pytest
import sympy as sp

from sparsemom.derivations import symbols as S
from sparsemom.derivations.core.vectors import Dot, LinearVector
from sparsemom.derivations.definitions.ingredients import (
    Distribution,
    Gaussian,
    Mask,
    Scalar,
    StudentT,
    TokenMask,
    Vector,
    gaussian_noise,
    rademacher,
    sparse_sign,
)
from sparsemom.derivations.definitions.laws import (
    DataLaw,
    LawParameter,
    register_law,
    unregister_law,
)
from sparsemom.numerics import exact_risk
from sparsemom.numerics.inputs.models import Model, RareClassLogistic
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.simulate.data_law import law_sampler
from sparsemom.numerics.simulate.harness import compare_with_theory
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk
from sparsemom.numerics.simulate.sparse import sparse_monte_carlo_risk
from sparsemom.numerics.verify.checks import run_checks
from sparsemom.numerics.verify.rungs import law_checks

s2 = sp.Symbol("s2_sim", nonnegative=True)
tau2 = sp.Symbol("tau2_sim", nonnegative=True)
lam = sp.Symbol("lam_sim", positive=True)
nu = sp.Symbol("nu_sim", positive=True)
q = sp.Symbol("q_sim", positive=True)
c = sp.Symbol("c_sim", positive=True)


def masked_least_squares(sample, error):
    """``G = m x (⟨x, e⟩ − ξ)``."""
    return LinearVector({sample.x: sample.m * (Dot(sample.x, error) - sample.xi)})


def dense_least_squares(sample, error):
    """``G = x (⟨x, e⟩ − ξ)``: every sample holds the row (no token mask)."""
    return LinearVector({sample.x: Dot(sample.x, error) - sample.xi})


#: (a) Rademacher features; (b) per-row noise variance; (c) per-row input variance
#: (risk ``½ p λ ‖e‖²``); (d) dense, Student-t label noise with per-row degrees of freedom.
LAWS = {
    "rademacher": DataLaw(
        "test-sim-rademacher", "Rademacher features",
        {"m": TokenMask(), "x": Vector(rademacher()), "xi": gaussian_noise(s2)},
        masked_least_squares, lambda energy: S.p * energy / 2,
        (LawParameter(s2, lower=0, per_row=False, doc="noise variance"),)),
    "row noise": DataLaw(
        "test-sim-row-noise", "per-row noise variance",
        {"m": TokenMask(), "x": Vector(Gaussian(1)), "xi": gaussian_noise(tau2)},
        masked_least_squares, lambda energy: S.p * energy / 2,
        (LawParameter(tau2, lower=0, per_row=True, doc="noise variance of the row"),)),
    "row input variance": DataLaw(
        "test-sim-row-input", "per-row input variance",
        {"m": TokenMask(), "x": Vector(Gaussian(lam)), "xi": gaussian_noise(sp.Rational(1, 10))},
        masked_least_squares, lambda energy: S.p * lam * energy / 2,
        (LawParameter(lam, lower=0, lower_open=True, per_row=True, doc="input variance"),)),
    "dense student-t": DataLaw(
        "test-sim-dense-t", "dense least squares, Student-t noise",
        {"x": Vector(Gaussian(1)), "xi": Scalar(StudentT(nu))},
        dense_least_squares, lambda energy: energy / 2,
        (LawParameter(nu, lower=2, lower_open=True, per_row=True, doc="degrees of freedom"),)),
}

#: A model of each law: two rows, per-row values where the law allows them.
PARAMETERS = {
    "rademacher": dict(p=[0.3, 0.15], s2_sim=0.1),
    "row noise": dict(p=[0.3, 0.15], tau2_sim=[0.05, 0.5]),
    "row input variance": dict(p=[0.3, 0.15], lam_sim=[0.5, 2.0]),
    "dense student-t": dict(nu_sim=[5, 9]),
}


@pytest.fixture(scope="module")
def laws():
    registered = {key: register_law(law) for key, law in LAWS.items()}
    yield registered
    for law in registered.values():
        unregister_law(law.name)


def model_of(laws, key, d=3):
    return Model(laws[key], d, R0=[1.0, 2.0], **PARAMETERS[key])


def momentum(name="heavy-ball"):
    return Optimizer(name, lr=0.1, beta=0.6, batch=3)


STEPS, RUNS = 20, 4_000


@pytest.mark.parametrize("key", LAWS)
@pytest.mark.parametrize("simulator", ["dense", "dense active", "sparse"])
def test_simulators_agree_with_exact_risk(laws, key, simulator):
    model, opt = model_of(laws, key), momentum("nesterov" if key == "row noise" else "heavy-ball")
    time = "active" if simulator == "dense active" else "steps"
    exact = exact_risk(model, opt, STEPS, time=time)
    if simulator == "sparse":
        mc = sparse_monte_carlo_risk(model, opt, STEPS, RUNS, seed=11, keep_trajectories=True)
    else:
        mc = monte_carlo_risk(model, opt, STEPS, RUNS, seed=12, keep_trajectories=True, time=time)
    result = compare_with_theory(mc.trajectories, exact)
    assert result.passed and mc.diverged == 0, result
    assert mc.metadata["model"] == laws[key].name


def test_verify_rung_for_a_user_law(laws):
    """The verification rung a user registers for a law: dense under each time rule and
    sparse, every check passing."""
    results = list(run_checks(law_checks(model_of(laws, "row input variance"),
                                         rules=["heavy-ball"])))
    assert len(results) == 3 and all(r.passed for r in results), [str(r) for r in results]


def test_rademacher_features_are_not_gaussian(laws):
    """Power: the Rademacher law's simulation disagrees with the same model's theory for
    Gaussian features (``E ‖x‖²⟨x, e⟩² = d ‖e‖²`` against ``(d + 2) ‖e‖²``)."""
    opt = Optimizer("heavy-ball", lr=0.3, beta=0.6, batch=1)
    rademacher_model = model_of(laws, "rademacher")
    gaussian_model = Model(laws["row noise"], 3, R0=[1.0, 2.0], p=[0.3, 0.15], tau2_sim=0.1)
    for simulate in (monte_carlo_risk, sparse_monte_carlo_risk):
        mc = simulate(rademacher_model, opt, STEPS, RUNS, seed=13, keep_trajectories=True)
        assert compare_with_theory(mc.trajectories, exact_risk(rademacher_model, opt, STEPS)).passed
        assert not compare_with_theory(mc.trajectories,
                                       exact_risk(gaussian_model, opt, STEPS)).passed


def test_per_row_parameters_reach_their_rows(laws):
    """Power: per-row input variances swapped between the rows give another risk curve,
    which the simulation of the model rejects."""
    model, opt = model_of(laws, "row input variance"), momentum()
    swapped = Model(laws["row input variance"], 3, R0=[1.0, 2.0], p=[0.3, 0.15],
                    lam_sim=[2.0, 0.5])
    mc = monte_carlo_risk(model, opt, STEPS, RUNS, seed=14, keep_trajectories=True)
    assert not compare_with_theory(mc.trajectories, exact_risk(swapped, opt, STEPS)).passed


MOMENTS_LAW = DataLaw(
    "test-sim-moments", "every kind of ingredient",
    {"m": TokenMask(), "mask": Mask(q), "x": Vector(sparse_sign(q)), "z": Vector(Gaussian(lam)),
     "t": Scalar(StudentT(nu, c)), "xi": gaussian_noise(lam / 2)},
    lambda sample, error: LinearVector({sample.x: sample.m * sample.mask * (
        Dot(sample.x, error) + Dot(sample.z, error) - sample.xi - sample.t)}),
    lambda energy: S.p * energy,
    (LawParameter(q, lower=0, upper=1, lower_open=True, per_row=True),
     LawParameter(lam, lower=0, lower_open=True, per_row=True),
     LawParameter(nu, lower=8, lower_open=True, per_row=True),
     LawParameter(c, lower=0, lower_open=True, per_row=False)))


@pytest.fixture
def moments_law():
    law = register_law(MOMENTS_LAW)
    yield law
    unregister_law(law.name)


def test_sampled_ingredients_have_their_moments(moments_law):
    """``E X^k`` of every ingredient, per row, through the harness (batch means, t-tests,
    Holm over all moments: false alarms at most ``alpha``): masks ``k = 1``, the first
    coordinate of each vector and Gaussian noise ``k ≤ 4``, Student-t noise ``k ≤ 2`` (ν > 8:
    finite variance of the batch means); and the same
    samples reject the moments of swapped per-row parameters."""
    values = dict(p=[0.5, 0.2], q_sim=[0.25, 0.8], lam_sim=[0.5, 3.0], nu_sim=[9, 12], c_sim=2)
    model = Model(moments_law, 2, **values)
    swapped = {**values, "q_sim": [0.8, 0.25], "lam_sim": [3.0, 0.5]}
    sampler = law_sampler(model, batch=1)
    sample = moments_law.sample(1)
    draws = sampler.draw(np.random.default_rng(5), (40_000, model.rows))
    orders = {"m": (1,), "mask": (1,), "x": (1, 2, 3, 4), "z": (1, 2, 3, 4), "t": (1, 2),
              "xi": (1, 2, 3, 4)}

    def columns(parameters):
        observed, predicted = [], []
        for row in range(model.rows):
            at = {S.p: parameters["p"][row],
                  **{h.symbol: parameters[h.name][row] if isinstance(parameters[h.name], list)
                     else parameters[h.name] for h in moments_law.specs}}
            at = {symbol: sp.nsimplify(x) for symbol, x in at.items()}
            for name, ks in orders.items():
                ingredient = moments_law.ingredients[name]
                for k in ks:
                    moment = (ingredient.probability if isinstance(ingredient, (TokenMask, Mask))
                              else ingredient.distribution.moment(k))
                    observed.append(draws[sample.atoms[name]][:, row, 0] ** k)
                    predicted.append(float(sp.sympify(moment).xreplace(at)))
        return np.stack(observed, axis=1), np.array(predicted)

    trajectories, predicted = columns(values)
    assert compare_with_theory(trajectories, predicted, alpha=0.001).passed
    _, wrong = columns(swapped)
    assert not compare_with_theory(trajectories, wrong, alpha=0.001).passed


class Laplace(Distribution):
    """A distribution the simulators have no sampler for (moments ``k! b^k``, even ``k``)."""

    arguments = (sp.Integer(1),)

    def moment(self, k):
        return sp.Integer(0) if k % 2 else sp.factorial(k)


def test_bad_inputs_are_refused(laws):
    opt = momentum()
    with pytest.raises(ValueError, match="closed second moments"):
        monte_carlo_risk(RareClassLogistic(d=3, p=0.1, rho=1.0), opt, 5, 100, seed=0)
    with pytest.raises(ValueError, match="p must sum to at most 1"):
        sparse_monte_carlo_risk(Model(laws["row noise"], 3, p=[0.7, 0.6], tau2_sim=[0.1, 0.2]),
                                opt, 5, 100, seed=0)
    with pytest.raises(ValueError, match="scalars for the sparse simulator"):
        sparse_monte_carlo_risk(model_of(laws, "dense student-t"),
                                Optimizer("heavy-ball", lr=[0.1, 0.2], beta=0.5, batch=2),
                                5, 100, seed=0)
    decay = register_law(DataLaw(
        "test-sim-decay", "weight decay outside the token",
        {"m": TokenMask(), "x": Vector(Gaussian(1)), "xi": gaussian_noise(0)},
        lambda sample, error: LinearVector({sample.x: sample.m * Dot(sample.x, error),
                                            error: sp.Rational(1, 10)}),
        lambda energy: S.p * energy / 2))
    negative = register_law(DataLaw(
        "test-sim-negative", "a variance negative for lam < 1",
        {"m": TokenMask(), "x": Vector(Gaussian(lam - 1)), "xi": gaussian_noise(0)},
        masked_least_squares, lambda energy: S.p * energy / 2,
        (LawParameter(lam, lower=0, lower_open=True),)))
    laplace = register_law(DataLaw(
        "test-sim-laplace", "Laplace noise",
        {"m": TokenMask(), "x": Vector(Gaussian(1)), "xi": Scalar(Laplace())},
        masked_least_squares, lambda energy: S.p * energy / 2))
    try:
        model = Model(decay, 2, p=0.3)
        with pytest.raises(ValueError, match="vanishes for a sample without the row's token"):
            sparse_monte_carlo_risk(model, opt, 5, 100, seed=0)
        dense = monte_carlo_risk(model, opt, 5, 1_000, seed=0, keep_trajectories=True)
        assert compare_with_theory(dense.trajectories, exact_risk(model, opt, 5),
                                   groups=20).passed
        with pytest.raises(ValueError, match="ingredient 'x' needs lam_sim - 1 ≥ 0"):
            Model(negative, 2, p=0.3, lam_sim=0.5)     # before any simulator or backend
        for simulate in (monte_carlo_risk, sparse_monte_carlo_risk):
            with pytest.raises(ValueError, match="ingredient 'xi' draws from Laplace"):
                simulate(Model(laplace, 2, p=0.3), opt, 5, 100, seed=0)
    finally:
        for law in (decay, negative, laplace):
            unregister_law(law.name)
