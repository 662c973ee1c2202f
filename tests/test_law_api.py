"""The public data-law API: a law is a definition (parameters, ingredients, gradient,
risk), registered like a rule; every check refuses with a ValueError naming what is wrong,
and everything the engine derives or evaluates is keyed by the law's definition."""

from __future__ import annotations

from fractions import Fraction as F
from pathlib import Path

import pytest
import sympy as sp

from sparsemom.derivations import (
    DataLaw,
    Discrete,
    Gaussian,
    LawParameter,
    Mask,
    Moments,
    Scalar,
    StudentT,
    TokenMask,
    Vector,
    derive_recursion,
    gaussian_noise,
    register_law,
    unregister_law,
)
from sparsemom.derivations import symbols as S
from sparsemom.derivations.core.vectors import Dot, LinearVector
from sparsemom.derivations.definitions.laws import LAWS, LEAST_SQUARES, law
from sparsemom.derivations.definitions.optimizers import (
    HyperParameter,
    UpdateRule,
    e,
    register_rule,
    unregister_rule,
)
from sparsemom.derivations.engine import store
from sparsemom.derivations.engine.wick import MomentsDoNotClose
from sparsemom.derivations.limits.asymptotics import ExponentPoint
from sparsemom.derivations.limits.scaling_limits import scaling_limit
from sparsemom.derivations.output.latex import latex_document
from sparsemom.derivations.properties.stability import stability_conditions
from sparsemom.derivations.properties.timescales import timescales
from sparsemom.numerics import Model, Optimizer, exact_risk
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.simulate.exact_moments import expanded_risk
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk

NAMES = ("probe-law", "probe-law-2")
lam = sp.Symbol("lam", positive=True)


@pytest.fixture(autouse=True)
def _forget_laws():
    yield
    for name in NAMES:
        if name in LAWS:
            unregister_law(name)


def _lsq_gradient(s, error):
    return LinearVector({s.x: s.m * (Dot(s.x, error) - s.xi)})


def scaled_law(name="probe-law", variance=lam, **changes) -> DataLaw:
    """Least squares with inputs ``x ~ N(0, λ I_d)``, λ per row."""
    fields = dict(name=name, title="scaled least squares",
                  ingredients={"m": TokenMask(), "x": Vector(Gaussian(variance)),
                               "xi": gaussian_noise(S.sigma2)},
                  gradient=_lsq_gradient, risk=lambda E: S.p * lam * E / 2,
                  parameters=(LawParameter(lam, lower=0, lower_open=True, doc="input variance"),
                              LawParameter(S.sigma2, lower=0, keyword="sigma2", default=0)))
    fields.update(changes)
    return DataLaw(**fields)


# -- a user's law derives, evaluates and checks like a built-in one ----------------------
def test_the_least_squares_law_through_the_api_is_the_built_in_one():
    """The built-in law re-declared by a user derives the very recursion (rationals)."""
    mine = DataLaw("probe-law", LEAST_SQUARES.title, LEAST_SQUARES.ingredients, _lsq_gradient,
                   LEAST_SQUARES.risk, parameters=LEAST_SQUARES.parameters)
    register_law(mine)
    for rule in ("sgd", "heavy-ball", "lazy"):
        for time in ("steps", "active"):
            ours, built_in = derive_recursion("probe-law", rule, time), derive_recursion("lsq", rule, time)
            assert ours.transition == built_in.transition and ours.forcing == built_in.forcing
            assert ours.mean_transition == built_in.mean_transition


def test_a_scaled_law_matches_its_oracle_on_every_backend():
    register_law(scaled_law())
    model = Model("probe-law", d=2, p=[F(1, 2), F(1, 5)], R0=[1, 2], lam=[F(3), F(1, 2)],
                  sigma2=F(1, 10))
    optimizer = Optimizer("heavy-ball", lr=F(1, 8), beta=F(1, 2), batch=2)
    oracle = expanded_risk(model, optimizer, 3, [[1, 0], [1, 1]])
    exact = exact_risk(model, optimizer, 3, backend="exact")
    assert list(exact) == oracle
    for backend in ("numpy", "c", "mpmath"):
        values = exact_risk(model, optimizer, 3, backend=backend)
        assert max(abs(float(a) / float(b) - 1) for a, b in zip(values, oracle)) < 1e-12


def test_the_sgd_recursion_of_a_scaled_law_is_the_one_written_from_its_definition():
    """One SGD step, B = 1, by hand: ``e' = e − η m x (⟨x, e⟩ − ξ)``, ``x ~ N(0, λ I)``:
    ``E‖e'‖² = (1 − 2ηpλ + η²pλ²(d + 2)) ‖e‖² + η² p λ d s²``."""
    register_law(scaled_law())
    rec = derive_recursion("probe-law", "sgd")
    one = {S.batch: 1}
    a = 1 - 2 * S.lr * S.p * lam + S.lr**2 * S.p * lam**2 * (S.d + 2)
    assert sp.expand(rec.transition[0, 0].xreplace(one) - a) == 0
    assert sp.expand(rec.forcing[0].xreplace(one) - S.lr**2 * S.p * lam * S.d * S.sigma2) == 0
    assert rec.parameters == (S.lr, S.beta, S.p, S.batch, S.d, lam, S.sigma2)


def test_fourth_moment_of_iid_entries_enters_through_the_cumulant():
    """``E‖x‖²⟨x, e⟩² = (d + μ4 − 1)‖e‖²`` for unit-variance i.i.d. entries: SGD's
    transition with sparse ±1/√q entries (``μ4 = 1/q``) at ``q = 1/3`` is the Gaussian one."""
    q = sp.Symbol("kept", positive=True)
    entries = Discrete((-1 / sp.sqrt(q), 0, 1 / sp.sqrt(q)), (q / 2, 1 - q, q / 2))
    register_law(scaled_law(ingredients={"m": TokenMask(), "x": Vector(entries),
                                         "xi": gaussian_noise(S.sigma2)},
                            risk=lambda E: S.p * E / 2,
                            parameters=(LawParameter(q, lower=0, upper=1, lower_open=True),
                                        LawParameter(S.sigma2, lower=0, keyword="sigma2"))))
    sparse = derive_recursion("probe-law", "sgd").transition[0, 0]
    gaussian = derive_recursion("lsq", "sgd").transition[0, 0]
    assert sp.simplify(sparse.xreplace({q: sp.Rational(1, 3)}) - gaussian) == 0
    one = {S.batch: 1}
    assert sp.expand(sparse.xreplace(one) - (1 - 2 * S.lr * S.p
                                             + S.lr**2 * S.p * (S.d + 1 / q - 1))) == 0


def test_a_dense_law_has_every_step_active_and_no_p():
    """No token mask: ``p`` is no parameter, the active time rule is the step rule, and
    the lazy rule is heavy ball."""
    nu = sp.Symbol("nu", positive=True)
    dense = DataLaw("probe-law", "dense least squares, Student-t noise",
                    {"x": Vector(Gaussian(1)), "xi": Scalar(StudentT(nu))},
                    lambda s, error: LinearVector({s.x: Dot(s.x, error) - s.xi}),
                    lambda E: E / 2, parameters=(LawParameter(nu, lower=2, lower_open=True),))
    register_law(dense)
    steps, active = derive_recursion("probe-law", "heavy-ball"), \
        derive_recursion("probe-law", "heavy-ball", "active")
    assert S.p not in steps.parameters and steps.transition == active.transition
    assert derive_recursion("probe-law", "lazy").transition == steps.transition
    assert sp.simplify(steps.forcing[0] - S.lr**2 * S.d * nu / (nu - 2) / S.batch) == 0
    model = Model(dense, d=2, R0=1, nu=5)
    with pytest.raises(ValueError, match="has no parameter"):
        Model(dense, d=2, R0=1, nu=5, p=0.5)
    assert exact_risk(model, Optimizer("sgd", lr=F(1, 4)), 2, backend="exact")[1] == \
        expanded_risk(model, Optimizer("sgd", lr=F(1, 4)), 1, [[1, 0]])[1]


def test_a_further_mask_and_its_probability():
    """Feature dropout: ``x`` is seen with probability ``r`` (a second, independent mask)."""
    r = sp.Symbol("r", positive=True)
    register_law(scaled_law(ingredients={"m": TokenMask(), "keep": Mask(r), "x": Vector(Gaussian(1)),
                                         "xi": gaussian_noise(S.sigma2)},
                            gradient=lambda s, error: LinearVector(
                                {s.x: s.m * s.keep * (Dot(s.x, error) - s.xi)}),
                            risk=lambda E: S.p * E / 2,
                            parameters=(LawParameter(r, lower=0, upper=1, lower_open=True),
                                        LawParameter(S.sigma2, lower=0, keyword="sigma2"))))
    model = Model("probe-law", d=2, p=F(1, 2), R0=1, r=F(2, 3), sigma2=F(1, 5))
    optimizer = Optimizer("nesterov", lr=F(1, 5), beta=F(1, 3), batch=2)
    assert list(exact_risk(model, optimizer, 2, backend="exact")) == \
        expanded_risk(model, optimizer, 2, [[1, 0]])


def test_closed_forms_stability_timescales_and_latex_of_a_user_law():
    register_law(scaled_law())
    assert stability_conditions("probe-law", "heavy-ball")
    assert timescales("probe-law", "heavy-ball").learning.has(lam)
    document = latex_document("probe-law", "heavy-ball")
    assert r"\lambda" in document or "lam" in document
    assert "input variance" in document and "Scaled least squares" in document


def test_the_scaling_limit_names_what_it_does_not_support():
    register_law(scaled_law())
    with pytest.raises(ValueError, match=r"parameter\(s\) \['lam'\]"):
        scaling_limit("probe-law", "heavy-ball", ExponentPoint(F(1, 2), F(1, 4), F(1, 4), F(0)))


def test_a_law_without_own_parameters_has_a_scaling_limit():
    """Rademacher features and the model's s²: the dominant balance applies."""
    signs = Discrete((-1, 1), (F(1, 2), F(1, 2)))
    register_law(scaled_law(ingredients={"m": TokenMask(), "x": Vector(signs),
                                         "xi": gaussian_noise(S.sigma2)},
                            risk=lambda E: S.p * E / 2,
                            parameters=(LawParameter(S.sigma2, lower=0, keyword="sigma2"),)))
    point = ExponentPoint(F(1, 2), F(1, 4), F(1, 4), F(0))
    ours = scaling_limit("probe-law", "heavy-ball", point)
    assert ours.phase == scaling_limit("lsq", "heavy-ball", point).phase


# -- definitions, caches and the store ----------------------------------------------------
def test_a_redefined_law_is_derived_again_and_old_models_are_refused():
    first = register_law(scaled_law())
    model = Model("probe-law", d=2, p=F(1, 2), lam=2)
    a = derive_recursion("probe-law", "sgd")
    assert register_law(scaled_law()) is first            # same definition: no change
    with pytest.raises(ValueError, match="replace=True"):
        register_law(scaled_law(risk=lambda E: S.p * E))
    register_law(scaled_law(risk=lambda E: S.p * E), replace=True)
    b = derive_recursion("probe-law", "sgd")
    assert a.risk != b.risk
    with pytest.raises(ValueError, match="redefined or unregistered"):
        exact_risk(model, Optimizer("sgd", lr=0.1), 2)


def test_a_user_law_is_stored_by_its_definition(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSEMOM_CACHE_DIR", str(tmp_path))
    register_law(scaled_law())
    key = store._canonical("probe-law")
    assert key.startswith("law 'probe-law' defined as ")
    register_law(scaled_law(risk=lambda E: S.p * E), replace=True)
    assert store._canonical("probe-law") != key
    derive_recursion.__wrapped__("probe-law", "sgd")
    assert list((tmp_path / "derivations").glob("derive_recursion-*.pickle"))


def test_the_definition_ignores_how_sample_symbols_are_numbered():
    assert scaled_law().definition == scaled_law().definition
    assert scaled_law().definition != scaled_law(variance=2 * lam).definition


# -- refusals ----------------------------------------------------------------------------
@pytest.mark.parametrize("changes, message", [
    (dict(name="bad name"), "law name must be letters"),
    (dict(name="lsq"), "built in and cannot be replaced"),
    (dict(ingredients={}), "non-empty mapping"),
    (dict(ingredients={"m": TokenMask(), "n": TokenMask(), "x": Vector(Gaussian(1)),
                       "xi": gaussian_noise(S.sigma2)}), "at most one TokenMask"),
    (dict(ingredients={"m": TokenMask(), "x": Vector(Discrete((0, 1), (F(1, 2), F(1, 2)))),
                       "xi": gaussian_noise(S.sigma2)}), "mean zero"),
    (dict(ingredients={"m": TokenMask(), "x": "gaussian", "xi": gaussian_noise(S.sigma2)}),
     "must be one of TokenMask"),
    (dict(ingredients={"m": TokenMask(), "1x": Vector(Gaussian(1))}), "identifiers"),
    (dict(variance=sp.Symbol("undeclared", positive=True)), r"undeclared symbols \['undeclared'\]"),
    (dict(variance=sp.Float(0.5)), "float"),
    (dict(gradient=lambda s, error: LinearVector({s.x: s.m * Dot(s.x, error) ** 2})),
     "affine in the error"),
    (dict(gradient=lambda s, error: s.x), "must return a LinearVector"),
    (dict(gradient=lambda s, error: LinearVector({s.y: 1})), "has no ingredient 'y'"),
    (dict(gradient=lambda s, error: LinearVector({sp.Symbol("w"): s.m})), "sample's vectors and e"),
    (dict(risk=lambda E: E**2), "linear in ‖e‖²"),
    (dict(risk=lambda E: E + 1), "linear in ‖e‖²"),
    (dict(parameters=(LawParameter(lam, lower=0, lower_open=True),
                      LawParameter(sp.Symbol("beta"), lower=0))), "other than the law"),
    (dict(parameters=(LawParameter(lam, lower=0, lower_open=True),
                      LawParameter(S.lr, lower=0))), "other than the law"),
    (dict(parameters=(LawParameter(lam, lower=-1),)), "declared positive"),
    (dict(parameters=(LawParameter(lam, lower=0, lower_open=True),
                      LawParameter(sp.Symbol("lambda_1"), lower=0))), "engine uses itself"),
    (dict(parameters=(LawParameter(lam, lower=0, lower_open=True),
                      LawParameter(sp.Symbol("x"), lower=0))), "ingredients"),
    (dict(parameters=(LawParameter(lam, lower=0, lower_open=True),
                      LawParameter(sp.Symbol("law"), lower=0))), "other than the law"),
    # E ξ^{-1}, E ξ^{1/2} are no moments the engine knows (it took them as 0 and 1)
    (dict(gradient=lambda s, error: LinearVector({s.x: s.m * Dot(s.x, error) / s.xi})),
     "polynomial in the sample's ingredient 'xi'"),
    (dict(gradient=lambda s, error: LinearVector({s.x: s.m * Dot(s.x, error) * sp.sqrt(s.xi)})),
     "polynomial in the sample's ingredient 'xi'"),
    # E x⁴ of a Student t with 3 degrees of freedom is infinite
    (dict(ingredients={"m": TokenMask(), "x": Vector(StudentT(3)),
                       "xi": gaussian_noise(S.sigma2)}), r"3 - 4 > 0 fails|-1 > 0 fails"),
    (dict(variance=-1), "-1 ≥ 0 fails"),
])
def test_register_law_refuses(changes, message):
    with pytest.raises(ValueError, match=message):
        register_law(scaled_law(**changes))


def test_non_closing_moments_are_named():
    """A vector entry with a third cumulant meets the error once: ``Σ_i e_i`` is no inner
    product, and the derivation says so."""
    skew = Discrete((-1, 2), (F(2, 3), F(1, 3)))          # mean 0, third moment 2
    register_law(scaled_law(ingredients={"m": TokenMask(), "x": Vector(skew), "xi":
                                         Scalar(Discrete((-1, 1), (F(1, 2), F(1, 2))))},
                            gradient=lambda s, error: LinearVector(
                                {s.x: s.m * (Dot(s.x, error) - s.xi + s.xi**2)}),
                            risk=lambda E: S.p * E / 2, parameters=()))
    with pytest.raises(MomentsDoNotClose, match="not an inner product"):
        derive_recursion("probe-law", "sgd")


def test_terms_that_cancel_by_the_mask_rule_are_not_expanded():
    """``(m² − m) ‖x‖² x = 0`` (``m² = m``): a skewed vector in that term no longer stops the
    derivation (each product was expanded before the masks' moments cancelled it)."""
    skew = Discrete((-2, 1), (F(1, 3), F(2, 3)))
    base = dict(ingredients={"m": TokenMask(), "x": Vector(skew), "xi": gaussian_noise(S.sigma2)},
                risk=lambda E: S.p * E / 2,
                parameters=(LawParameter(S.sigma2, lower=0, keyword="sigma2", default=0),))
    register_law(scaled_law(**base))
    register_law(scaled_law(name="probe-law-2", **base, gradient=lambda s, error: LinearVector(
        {s.x: s.m * (Dot(s.x, error) - s.xi) + (s.m**2 - s.m) * Dot(s.x, s.x)})))
    one, two = derive_recursion("probe-law", "heavy-ball"), derive_recursion("probe-law-2",
                                                                             "heavy-ball")
    assert one.transition == two.transition and one.forcing == two.forcing


def test_active_time_needs_idle_steps_that_leave_the_row_alone():
    """Weight decay outside the token (``G = m x ⟨x, e⟩ + e/2``) moves the row on idle
    steps, which the active-time map takes as the identity: it gave 0.0941 at the first
    active step where the dense simulator measures 0.0728 ± 0.0001 (p = 1/4, η = 1/10)."""
    register_law(scaled_law(gradient=lambda s, error: LinearVector(
        {s.x: s.m * Dot(s.x, error), error: sp.Rational(1, 2)})))
    assert not law("probe-law").idle_without_token and LEAST_SQUARES.idle_without_token
    with pytest.raises(ValueError, match="time rule 'active' needs a law whose gradient "
                                         "vanishes without the row's token"):
        derive_recursion("probe-law", "sgd", "active")
    model = Model("probe-law", d=2, p=F(1, 4), lam=1)
    assert len(exact_risk(model, Optimizer("sgd", lr=F(1, 10)), 3, backend="exact")) == 4


def test_unregistering_a_built_in_law_is_refused():
    with pytest.raises(ValueError, match="built in"):
        unregister_law("lsq")
    with pytest.raises(ValueError, match="model must be one of"):
        unregister_law("no-such-law")
    assert law("lsq") is LEAST_SQUARES


@pytest.mark.parametrize("kwargs, message", [
    (dict(lam=0), "lam must be > 0"),
    (dict(lam=[1, 2, 3], p=[F(1, 2), F(1, 3)]), "same length"),
    (dict(), "needs parameter 'lam'"),
    (dict(lam=1, sigma2=[0, 1]), "sigma2 must be a scalar"),
    (dict(lam=1, mu=2), r"no parameter\(s\) \['mu'\]"),
])
def test_model_validates_the_laws_parameters(kwargs, message):
    register_law(scaled_law(parameters=(LawParameter(lam, lower=0, lower_open=True),
                                        LawParameter(S.sigma2, lower=0, keyword="sigma2",
                                                     default=0, per_row=False))))
    with pytest.raises(ValueError, match=message):
        Model("probe-law", d=2, **{"p": F(1, 2), **kwargs})


nu = sp.Symbol("nu", positive=True)


@pytest.mark.parametrize("ingredient, parameter, bad, good", [
    # E x⁴ enters E‖G‖² (G = m x (⟨x, e⟩ − ξ)): finite for ν > 4 only
    (Vector(StudentT(nu)), LawParameter(nu, lower=2, lower_open=True), (3, 4, 3.5), (F(9, 2), 5.0)),
    (Vector(Discrete((-1, 0, 1), (lam / 2, 1 - lam, lam / 2))), LawParameter(lam, upper=2),
     (F(3, 2), [F(1, 2), 1.25]), (1, [F(1, 2), 0.75])),
    (Vector(Gaussian(lam)), LawParameter(sp.Symbol("lam", real=True)), (-1, [1, -0.5]), (0, [1, 2])),
])
def test_a_model_where_an_ingredient_is_no_distribution_is_refused(ingredient, parameter, bad,
                                                                   good):
    """Values inside the declared interval at which an ingredient has a negative variance
    or probability, or an infinite moment the derivation uses, are refused by ``Model``
    (the exact backend returned numbers for them)."""
    symbol = parameter.symbol
    ingredient = (Vector(Gaussian(symbol)) if isinstance(ingredient.distribution, Gaussian)
                  else ingredient)
    register_law(scaled_law(ingredients={"m": TokenMask(), "x": ingredient, "xi":
                                         gaussian_noise(S.sigma2)},
                            risk=lambda E: S.p * E / 2,
                            parameters=(parameter, LawParameter(S.sigma2, lower=0,
                                                                keyword="sigma2", default=0))))
    for value in bad:
        with pytest.raises(ValueError, match=f"ingredient 'x' needs .*{symbol}"):
            Model("probe-law", d=2, p=F(1, 2), R0=[1, 1], **{symbol.name: value})
    for value in good:
        model = Model("probe-law", d=2, p=F(1, 2), R0=[1, 1], **{symbol.name: value})
        assert exact_risk(model, Optimizer("sgd", lr=F(1, 10)), 2, backend="numpy")[-1] > 0


@pytest.mark.parametrize("name", ["values", "rows", "specs", "title", "parameter_values", "_name"])
def test_a_parameter_named_like_a_model_attribute_is_refused(name):
    register_law(scaled_law(parameters=(LawParameter(lam, lower=0, lower_open=True,
                                                     keyword=name),
                                        LawParameter(S.sigma2, lower=0, keyword="sigma2",
                                                     default=0))))
    with pytest.raises(ValueError, match="numeric Model's own attributes"):
        Model("probe-law", d=2, p=F(1, 2), **{name: 1})


def test_a_law_and_a_rule_parameter_of_one_name_are_refused():
    """A law parameter and a rule hyper-parameter with one name (or one symbol under two
    keywords) would be one input of the generated code: refused with both names."""
    tau = sp.Symbol("tau", nonnegative=True)
    rule = UpdateRule("probe-rule", (e,), lambda x, grad: {e: x[e] - S.lr * tau * grad},
                      "θ ← θ − η τ g", r"\theta \leftarrow \theta - \eta \tau g",
                      hyper_parameters=(HyperParameter(tau, lower=0),))
    register_rule(rule)
    try:
        for keyword in ("tau", "tau_law"):
            register_law(scaled_law(parameters=(LawParameter(tau, lower=0, keyword=keyword),
                                                LawParameter(S.sigma2, lower=0,
                                                             keyword="sigma2", default=0)),
                                    variance=1, risk=lambda E: S.p * E / 2), replace=True)
            model = Model("probe-law", d=2, p=F(1, 2), **{keyword: F(1, 3)})
            with pytest.raises(ValueError, match=r"both have parameters named \['tau"):
                exact_risk(model, Optimizer("probe-rule", lr=F(1, 10), tau=2), 2, backend="exact")
            with pytest.raises(ValueError, match=r"both have parameters named \['tau"):
                derive_recursion("probe-law", "probe-rule")
    finally:
        unregister_rule("probe-rule")


def test_a_model_needs_a_registered_law():
    with pytest.raises(ValueError, match="registered law"):
        Model(scaled_law(), d=2, p=0.5, lam=1)
    assert isinstance(SparseLeastSquares(2, 0.5), Model)


def test_the_guide_example_of_a_law_runs():
    """The user guide's own-law example, as written, registers a law that evaluates."""
    page = Path(__file__).resolve().parents[1] / "docs" / "custom-rules-and-laws.md"
    text = page.read_text(encoding="utf-8")
    start = text.index("import sympy as sp\nfrom sparsemom.derivations import DataLaw")
    block = text[start:text.index("```", start)]
    namespace: dict = {}
    try:
        exec(compile(block, page.name, "exec"), namespace)
        risk = exact_risk(namespace["model"], Optimizer("sgd", lr=0.001), 3)
        assert risk.shape == (4,) and risk[-1] < risk[0]
    finally:
        unregister_law("scaled-lsq")


def test_noise_given_by_its_moments_only():
    """A scalar known by ``E ξ² = v`` alone: exact derivations use it (equal to Gaussian noise
    of variance ``v``, since second moments see only the variance); a moment it does not
    declare is named; the simulators refuse to draw from it."""
    v = sp.Symbol("v", positive=True)
    register_law(scaled_law(ingredients={"m": TokenMask(), "x": Vector(Gaussian(lam)),
                                         "xi": Scalar(Moments({2: v}))},
                            parameters=(LawParameter(lam, lower=0, lower_open=True),
                                        LawParameter(v, lower=0, lower_open=True))))
    register_law(scaled_law(name="probe-law-2"))
    ours, gaussian = derive_recursion("probe-law", "heavy-ball"), derive_recursion("probe-law-2", "heavy-ball")
    assert ours.transition == gaussian.transition
    assert ours.forcing == gaussian.forcing.xreplace({S.sigma2: v})
    model = Model("probe-law", d=2, p=F(1, 2), lam=2, v=F(1, 3))
    assert list(exact_risk(model, Optimizer("sgd", lr=F(1, 8)), 2, backend="exact")) == \
        expanded_risk(model, Optimizer("sgd", lr=F(1, 8)), 2, [[1, 0]])
    with pytest.raises(ValueError, match="cannot sample"):
        monte_carlo_risk(model, Optimizer("sgd", lr=0.1), 2, 10, seed=1)
    with pytest.raises(ValueError, match=r"E X\^3 .* declares only the orders \[2\]"):
        Moments({2: v}, symmetric=False).moment(3)
    with pytest.raises(ValueError, match="orders k ≥ 1"):
        Moments({0: 1})
