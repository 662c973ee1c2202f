"""The spectral conflict: oscillation discriminant, per-row horizon risk, phases and
momentum thresholds per frequency, the global-vs-adapted momentum study."""

import warnings
from fractions import Fraction

import matplotlib.pyplot as plt
import mpmath
import numpy as np
import pandas as pd
import pytest

from sparsemom.derivations import UPDATE_RULES
from sparsemom.derivations import symbols as S
from sparsemom.derivations.engine.moments import R0 as R0_SYMBOL
from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.derivations.properties.oscillation import (
    generic_discriminant,
    oscillation_discriminant,
)
from sparsemom.derivations.properties.stability import stability_conditions
from sparsemom.numerics import DivergenceWarning, exact_risk, spectral_radius
from sparsemom.numerics.analysis import row_phases as row_phases_module
from sparsemom.numerics.analysis.row_phases import (
    HEAVY_BALL,
    SGD_LIKE,
    UNSTABLE,
    momentum_thresholds,
    positive,
    row_phases,
)
from sparsemom.numerics.analysis.stability import eigenvalues, lambdified
from sparsemom.numerics.cli import main
from sparsemom.numerics.codegen.signature import Signature
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.kernels import horizon_risk
from sparsemom.numerics.kernels.backends import float_arguments
from sparsemom.numerics.kernels.horizon_risk import row_risk_at
from sparsemom.numerics.runtime.plotting import new_figure
from sparsemom.numerics.simulate.token_stream import (
    decade_bands,
    stream_frequencies,
    word_frequencies,
    zipf_frequencies,
)
from sparsemom.numerics.studies.conflict import (
    ADAPTED,
    ConflictSetup,
    _horizon_risk,
    best_global_beta,
    run_conflict,
    table_markdown,
)
from sparsemom.numerics.studies.conflict_figure import (
    plot_band_risk_at_horizon,
    plot_band_risk_over_time,
    plot_global_scan,
    plot_phases,
    write_conflict,
)


def _eigenvalues(model, opt, time="active"):
    return eigenvalues(model, opt, time)


# ---- oscillation discriminant -------------------------------------------------------

def test_generic_discriminant_sign_counts_complex_pairs():
    D = generic_discriminant(3)
    cases = {(1, 2, 3): False, (1, 1j, -1j): True, (0.5, -0.2 + 0.3j, -0.2 - 0.3j): True,
             (-0.9, 0.1, 0.7): False}
    for roots, complex_pair in cases.items():
        coeffs = np.poly(roots).real                      # monic, real
        value = float(D.subs({f"chi_{j}": coeffs[j] for j in (1, 2, 3)}))
        assert (value < 0) is complex_pair


@pytest.mark.parametrize("name", [n for n, rule in UPDATE_RULES.items() if rule.uses_beta])
@pytest.mark.parametrize("time", ["steps", "active"])
def test_discriminant_sign_matches_eigenvalues(name, time):
    """Δ(χ) < 0 (sign certified by :func:`sparsemom.numerics.analysis.row_phases.positive`) exactly where
    the numeric transition has a complex pair (points with |Im λ| clearly nonzero or zero),
    including clustered roots near 1 where float64 alone loses the sign."""
    rng = np.random.default_rng(7)
    n = 400
    p = 10 ** rng.uniform(-5, 0, n)
    m = SparseLeastSquares(8, p=p, R0=1.0, sigma2=0.1)
    o = Optimizer(name, lr=10 ** rng.uniform(-2, 0, n), beta=1 - 10 ** rng.uniform(-3, 0, n), batch=16,
                  **UPDATE_RULES[name].example_hyper_parameters())
    ev = _eigenvalues(m, o, time)
    imag = np.max(np.abs(ev.imag), axis=1)
    rows, values = parameter_values(m, o)
    rec = recursion_for(m, o, time)
    complex_pair = positive(-oscillation_discriminant("lsq", name, time), Signature.of(rec).inputs,
                            float_arguments(rec, values), rows)
    clear = (imag > 1e-6) | (imag == 0)
    assert clear.sum() > 300
    assert np.array_equal(complex_pair[clear], (imag > 0)[clear])
    assert 0 < np.mean(imag > 0) < 1                      # both kinds were sampled


@pytest.mark.parametrize("time", ["steps", "active"])
def test_signs_are_certified_where_long_double_is_only_double(monkeypatch, time):
    """Where ``longdouble`` is float64 (macOS on arm64, MSVC) the sign test compares
    float32 with float64 instead: the same signs as eigenvalues, on the sample above and
    on the phases of a stream (p from 1e-6, where float32 under- and overflows)."""
    monkeypatch.setattr(row_phases_module, "precision_pair", lambda: (np.float32, np.float64))
    test_discriminant_sign_matches_eigenvalues("heavy-ball", time)
    if time == "steps":
        test_row_phases_agree_with_eigenvalues()


@pytest.mark.parametrize("name", ["heavy-ball", "nesterov", "qhm", "dana"])
def test_float_forms_are_the_derived_expressions(name):
    """The forms evaluated in floating point (characteristic coefficients factored in
    ``p_B``) are the derived discriminant and conditions: equal at 60 digits at random
    points (``p`` down to 1e-9, where the derived form cancels most digits)."""
    discriminant, conditions = row_phases_module._expressions("lsq", name)
    pairs = ([discriminant] if discriminant is not None else []) + list(conditions)
    rec = recursion_for("lsq", name, "active")
    inputs = Signature.of(rec).inputs
    rng = np.random.default_rng(3)
    with mpmath.workdps(60):
        for exact, floating in pairs:
            f = lambdified(exact, inputs, "mpmath")
            g = lambdified(floating, inputs, "mpmath")
            for _ in range(4):
                values = {S.lr: rng.uniform(0.05, 1), S.beta: rng.uniform(0, 0.99),
                          S.p: 10 ** rng.uniform(-9, 0), S.batch: int(rng.integers(1, 200)),
                          S.d: 8, R0_SYMBOL: 1.0}
                args = [mpmath.mpf(values.get(s, 0.3)) for s in inputs]
                a, b = f(*args), g(*args)
                assert abs(a - b) <= mpmath.mpf(10) ** -45 * max(abs(a), mpmath.mpf(10) ** -200)


def test_float_forms_settle_the_signs_of_rare_rows():
    """For 5 000 rows with p from 1e-9 to 0.1 at β = 0.9, float64 and long double agree
    on the sign of every row with the float form; the derived form, in which
    ``(1 − p)^B`` polynomials cancel, leaves the rarest rows to mpmath."""
    m = SparseLeastSquares(8, p=np.geomspace(1e-9, 0.1, 5000), R0=1.0, sigma2=0.25)
    o = Optimizer("heavy-ball", lr=0.5, beta=0.9, batch=64)
    rows, values = parameter_values(m, o)
    rec = recursion_for(m, o, "active")
    inputs, args = Signature.of(rec).inputs, float_arguments(rec, values)
    (exact, floating), _ = row_phases_module._expressions("lsq", "heavy-ball")
    assert not row_phases_module.float_signs(-floating, inputs, args, rows)[1].any()
    assert row_phases_module.float_signs(-exact, inputs, args, rows)[1].sum() > 100
    assert np.array_equal(positive(-exact, inputs, args, rows),
                          positive(-exact, inputs, args, rows, floating=-floating))


def test_plain_sgd_cannot_oscillate():
    with pytest.raises(ValueError, match="cannot oscillate"):
        oscillation_discriminant("lsq", "sgd")
    with pytest.raises(ValueError, match="optimizer must use momentum β .* got 'sgd'"):
        momentum_thresholds(SparseLeastSquares(8, p=[0.1, 0.2]), "sgd", lr=0.5)


def test_bracketed_root_closes_on_the_root_from_the_side_where_g_is_positive():
    with mpmath.workdps(50):
        lo = row_phases_module.bracketed_root(lambda x: 2 - mpmath.exp(x), 0.0, 1.0, 1e-15)
        assert 2 - mpmath.exp(lo) > 0 and mpmath.log(2) - lo <= 1e-15
        # a root of multiplicity 3, where regula falsi alone stalls on one side
        lo = row_phases_module.bracketed_root(lambda x: (mpmath.mpf(1) / 3 - x) ** 3, -2.0, 5.0, 1e-13)
        assert 0 <= 1 / 3 - lo <= 1e-13
        # ends on the wrong side (settled at rounded parameters) move outward
        above = float(np.nextafter(float(mpmath.log(2)), 1.0))
        lo = row_phases_module.bracketed_root(lambda x: 2 - mpmath.exp(x), above, 1.0, 1e-15)
        assert 2 - mpmath.exp(lo) > 0 and mpmath.log(2) - lo <= 1e-15
        lo = row_phases_module.bracketed_root(lambda x: 2 - mpmath.exp(x), -1.0, 0.5, 1e-15)
        assert 2 - mpmath.exp(lo) > 0 and mpmath.log(2) - lo <= 1e-15
    with pytest.raises(ArithmeticError, match="no crossing"):
        row_phases_module.bracketed_root(lambda x: x * x + 1, -1.0, 1.0, 1e-9)


def test_thresholds_are_certified_to_the_bracket_width(monkeypatch):
    """Where float64 cannot settle the sign near a crossing, the bracket is closed in
    mpmath: at the returned ε the condition holds (50 digits), one bracket width above
    it, it does not."""
    roots = []
    original = row_phases_module.bracketed_root
    monkeypatch.setattr(row_phases_module, "bracketed_root",
                        lambda *a, **k: roots.append(a) or original(*a, **k))
    p = np.geomspace(3e-6, 0.15, 10)
    m = SparseLeastSquares(8, p=p, R0=1.0, sigma2=0.25)
    grid, bisections = 181, 48
    th = momentum_thresholds(m, "heavy-ball", lr=0.5, batch=64, grid=grid, bisections=bisections)
    assert len(roots) >= 10                                  # the mpmath path was taken
    step = np.log(1e9) / (grid - 1)                          # the grid's step in log ε
    disc, conditions = (oscillation_discriminant("lsq", "heavy-ball"),
                        [c.lhs for c in stability_conditions("lsq", "heavy-ball", "active")])
    rec = recursion_for("lsq", "heavy-ball", "active")
    args = float_arguments(rec, parameter_values(m, Optimizer("heavy-ball", lr=0.5, batch=64))[1])
    with mpmath.workdps(50):
        def at(eps, row):
            """The row's inputs at β = 1 − ε, exactly (SymPy Floats of 50 digits)."""
            values = {s: mpmath.mpf(float(np.broadcast_to(a, (10,))[row]))
                      for s, a in zip(Signature.of(rec).inputs, args)}
            return values | {S.beta: 1 - mpmath.mpf(eps)}
        above = mpmath.exp(mpmath.mpf(step) * mpmath.mpf(2) ** -bisections)
        for row in range(10):
            for edge, holds in ((th.oscillation_onset[row], lambda v: disc.subs(v) < 0),
                                (th.stability_edge[row],
                                 lambda v: any(c.subs(v) <= 0 for c in conditions))):
                assert holds(at(edge, row))
                assert not holds(at(mpmath.mpf(edge) * above, row))


def test_threshold_scan_in_blocks_gives_the_same_thresholds(monkeypatch):
    """The grid scan evaluates many grid points at once; split into blocks of 2 points
    (as for a stream of many rows) the thresholds are the same numbers."""
    m = SparseLeastSquares(8, p=np.geomspace(1e-5, 0.3, 12), R0=1.0, sigma2=0.25)
    whole = momentum_thresholds(m, "heavy-ball", lr=0.5, batch=64, grid=31, bisections=20)
    monkeypatch.setattr(row_phases_module, "SCAN_BLOCK", 2 * 12)
    blocks = momentum_thresholds(m, "heavy-ball", lr=0.5, batch=64, grid=31, bisections=20)
    assert np.array_equal(whole.oscillation_onset, blocks.oscillation_onset)
    assert np.array_equal(whole.stability_edge, blocks.stability_edge)
    assert np.all(whole.oscillation_onset > 0) and np.all(whole.stability_edge > 0)


def test_onset_without_noise_is_critical_damping():
    """p = 1 (every step active) and B → ∞: the moments are products of the mean
    map's roots, which turn complex at β = (1 − √(η p))² (critical damping)."""
    lr = 0.1
    th = momentum_thresholds(SparseLeastSquares(8, p=np.array([1.0])), "heavy-ball", lr=lr, batch=10**9)
    assert th.beta_onset[0] == pytest.approx((1 - np.sqrt(lr)) ** 2, abs=1e-6)


# ---- per-row risk at a horizon ------------------------------------------------------

def test_row_risk_sums_to_the_exact_risk_curve():
    p = zipf_frequencies(3000, 1.1)
    m = SparseLeastSquares(8, p=p, R0=1.0, sigma2=0.25)
    o = Optimizer("heavy-ball", lr=0.5, beta=np.linspace(0, 0.9, p.size), batch=64)
    curve = exact_risk(m, o, 777, backend="c")
    rows = row_risk_at(m, o, 777)
    assert rows.shape == (3000,)
    assert np.sum(rows) == pytest.approx(curve[-1], rel=1e-11)
    assert np.sum(row_risk_at(m, o, 0)) == pytest.approx(curve[0], rel=1e-14)


def test_row_risk_is_the_same_on_any_number_of_threads(monkeypatch):
    """Blocks of rows on threads: the same numbers, to the bit, as one thread (blocks of
    1 000 rows here, so that 3 500 rows make 4 blocks); a bad count is refused."""
    monkeypatch.setattr(horizon_risk, "BLOCK", 1000)
    p = zipf_frequencies(3500, 1.1)
    m = SparseLeastSquares(8, p=p, R0=1.0, sigma2=0.25)
    o = Optimizer("heavy-ball", lr=0.5, beta=np.linspace(0, 0.9, p.size), batch=64)
    one = row_risk_at(m, o, 4321, threads=1)
    assert np.array_equal(row_risk_at(m, o, 4321, threads=2), one)
    assert np.array_equal(row_risk_at(m, o, 4321, threads=7), one)
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="threads must be a positive integer"):
            row_risk_at(m, o, 4321, threads=bad)


def test_row_risk_against_rational_arithmetic():
    m = SparseLeastSquares(3, p=[Fraction(1, 3), Fraction(1, 7)], R0=1, sigma2=Fraction(1, 10))
    o = Optimizer("lazy", lr=Fraction(1, 4), beta=[Fraction(1, 2), Fraction(9, 10)], batch=2)
    exact = exact_risk(m, o, 37, backend="exact")[-1]
    assert float(np.sum(row_risk_at(m, o, 37, time="steps"))) == pytest.approx(float(exact), rel=1e-13)


def test_row_risk_flags_overflow_with_inf():
    m = SparseLeastSquares(8, p=np.array([0.5, 0.5]))
    o = Optimizer("heavy-ball", lr=np.array([0.01, 5.0]), beta=0.5, batch=1)
    with pytest.warns(DivergenceWarning, match="1 of 2 rows"):
        r = row_risk_at(m, o, 10**6)
    assert np.isfinite(r[0]) and r[1] == np.inf


def test_row_risk_rejects_a_negative_step():
    m, o = SparseLeastSquares(4, p=0.5), Optimizer("sgd", lr=0.1)
    with pytest.raises(ValueError, match="k must be"):
        row_risk_at(m, o, -1)


# ---- token streams ------------------------------------------------------------------

def test_zipf_frequencies_and_bands():
    p = zipf_frequencies(12345, 1.2)
    assert p.sum() == pytest.approx(1.0) and np.all(np.diff(p) < 0)
    assert p[0] / p[9] == pytest.approx(10 ** 1.2)
    bands = decade_bands(12345)
    covered = np.concatenate([np.arange(p.size)[b.rows] for b in bands])
    assert np.array_equal(covered, np.arange(p.size))
    assert [(b.first, b.last) for b in decade_bands(1000)] == [(1, 9), (10, 99), (100, 1000)]
    for bad, match in [(dict(rows=0), "rows"), (dict(rows=10, exponent=-1), "exponent"),
                       (dict(rows=10, tokens_per_sample=0), "tokens_per_sample")]:
        with pytest.raises(ValueError, match=match):
            zipf_frequencies(**bad)


def test_word_frequencies_are_wordfreq_data_in_rank_order():
    wordfreq = pytest.importorskip("wordfreq")
    for lang in ("en", "de"):
        p = word_frequencies(lang, 2000)
        words = wordfreq.top_n_list(lang, 2000)
        assert p.size == 2000 and np.all(np.diff(p) <= 0) and 0 < p.sum() < 1
        assert list(p[:50]) == [wordfreq.word_frequency(w, lang) for w in words[:50]]
    assert np.array_equal(stream_frequencies("words-en", 300), word_frequencies("en", 300))
    assert np.array_equal(stream_frequencies("zipf", 300, 1.3), zipf_frequencies(300, 1.3))
    with pytest.raises(ValueError, match="lang must be one of wordfreq's languages"):
        word_frequencies("xx", 10)
    with pytest.raises(ValueError, match="n must be at most"):
        word_frequencies("en", 10**8)
    with pytest.raises(ValueError, match="stream must be 'zipf' or 'words-LANG'"):
        ConflictSetup(stream="english")
    with pytest.raises(ValueError, match="rows must be at most"):
        ConflictSetup(stream="words-en", rows=10**8)


def test_the_conflict_runs_on_real_word_frequencies():
    pytest.importorskip("wordfreq")
    setup = ConflictSetup(stream="words-en", rows=3000, horizon=2000, scan=11, frequencies=12)
    result = run_conflict(setup, show=False)
    assert np.array_equal(result.p, word_frequencies("en", 3000))
    assert result.unstable_rows == 0 and result.gap >= 1.0
    assert "words of 'en' (wordfreq)" in table_markdown(result)


# ---- phases and thresholds ----------------------------------------------------------

def test_thresholds_bracket_the_phases():
    """Just above ε_osc the transition has real roots, just below a complex pair;
    just above ε_stab the spectral radius is < 1, just below > 1."""
    p = np.geomspace(1e-6, 0.1, 9)
    m = SparseLeastSquares(8, p=p, R0=1.0, sigma2=0.25)
    for name in ("heavy-ball", "lazy"):
        th = momentum_thresholds(m, name, lr=0.5, batch=64)
        assert np.all(th.stability_edge < th.oscillation_onset)
        for factor, complex_pair in [(1.001, False), (0.999, True)]:
            ev = _eigenvalues(m, Optimizer(name, lr=0.5, beta=1 - factor * th.oscillation_onset, batch=64))
            assert np.all((np.max(np.abs(ev.imag), axis=1) > 0) == complex_pair)
        for factor, stable in [(1.001, True), (0.999, False)]:
            o = Optimizer(name, lr=0.5, beta=1 - factor * th.stability_edge, batch=64)
            assert np.all((spectral_radius(m, o, time="active") < 1) == stable)


def test_row_phases_agree_with_eigenvalues():
    p = np.geomspace(1e-6, 0.2, 200)
    m = SparseLeastSquares(8, p=p, R0=1.0, sigma2=0.25)
    for beta in (0.5, 0.9, 0.97):
        o = Optimizer("heavy-ball", lr=0.5, beta=beta, batch=64)
        ev = _eigenvalues(m, o)
        expected = np.where(np.max(np.abs(ev), axis=1) >= 1, UNSTABLE,
                            np.where(np.max(np.abs(ev.imag), axis=1) > 0, HEAVY_BALL, SGD_LIKE))
        assert np.array_equal(row_phases(m, o), expected)


# ---- the study ----------------------------------------------------------------------

SMALL = ConflictSetup(rows=3000, horizon=600, scan=13, frequencies=12)


@pytest.fixture(scope="module")
def small_result():
    return run_conflict(SMALL, show=False, threshold_points=24)


def test_best_global_beta_beats_every_scanned_momentum(small_result):
    g = small_result.global_momentum
    assert g.risk <= np.min(g.risk_scan) + 1e-15
    total = lambda beta: float(np.sum(_horizon_risk(SMALL, SMALL.model(), beta)))
    assert total(g.beta) == pytest.approx(g.risk, rel=1e-12)
    for beta in (g.beta - 0.01, g.beta + 0.01):
        assert total(beta) > g.risk


def test_adapted_rule_is_optimal_per_frequency(small_result):
    rule = small_result.rules[ADAPTED]
    model = SMALL.model(rule.p_grid)
    best = _horizon_risk(SMALL, model, 1 - rule.eps_grid)
    for factor in (0.97, 1.03):
        eps = np.minimum(rule.eps_grid * factor, 1.0)
        assert np.all(best <= _horizon_risk(SMALL, model, 1 - eps) * (1 + 1e-12))


def test_gap_and_band_split_are_consistent(small_result):
    r = small_result
    assert r.gap > 1.0
    assert r.risk_at_horizon[ADAPTED] < r.risk_at_horizon["best global β"] < r.risk_at_horizon["SGD (β = 0)"]
    for name, per_band in r.band_risk.items():
        assert per_band.sum() == pytest.approx(r.risk_at_horizon[name], rel=1e-12)
    assert r.split_global.curves[:, -1].sum() == pytest.approx(r.risk_at_horizon["best global β"], rel=1e-10)
    assert r.split_adapted.curves[:, -1].sum() == pytest.approx(r.risk_at_horizon[ADAPTED], rel=1e-10)
    assert r.phases_global.sum() == SMALL.rows and r.unstable_rows == 0
    # the frequent rows want no momentum (they sit at the noise floor): f(p_max) = 0
    assert r.rules[ADAPTED](r.p.max()) == pytest.approx(0.0, abs=1e-9)


def test_outputs_are_written(small_result, tmp_path):
    paths = write_conflict(small_result, tmp_path)
    assert {p.name for p in paths} == {"conflict.md", "spectral_conflict.png", "spectral_conflict.pdf",
                                       "spectral_conflict.data.csv"}
    assert "Gap" in (tmp_path / "conflict.md").read_text()
    # the figure's data is the tidy table of its four panels, not the drawn artists
    data = pd.read_csv(tmp_path / "spectral_conflict.data.csv")
    r = small_result
    assert list(data.columns[:7]) == ["panel", "series", "band", "p", "step", "one_minus_beta",
                                      "risk"]
    assert set(data.panel) == {"phases", "band risk over time", "global scan",
                               "band risk at horizon"}
    edge = data[data.series == "stability edge"]
    np.testing.assert_allclose(edge.p, r.thresholds.p, rtol=1e-15)
    np.testing.assert_allclose(edge.one_minus_beta, r.thresholds.stability_edge, rtol=1e-15)
    over_time = data[(data.panel == "band risk over time") & (data.series == ADAPTED)]
    first = r.split_adapted.bands[0]
    curve = over_time[over_time.band == first.label]
    assert curve.step.iloc[0] == 1 and curve.step.iloc[-1] == SMALL.horizon
    np.testing.assert_allclose(curve.risk, r.split_adapted.curves[0, curve.step.astype(int)],
                               rtol=1e-15)
    totals = data[(data.panel == "global scan") & data.one_minus_beta.isna()]
    assert dict(zip(totals.series, totals.risk)) == pytest.approx(r.risk_at_horizon, rel=1e-15)
    at_horizon = data[(data.panel == "band risk at horizon") & (data.series == ADAPTED)]
    np.testing.assert_allclose(at_horizon.risk, r.band_risk[ADAPTED], rtol=1e-15)
    assert set(data.rows) == {SMALL.rows} and set(data.lr) == {SMALL.lr}
    steps = pd.read_csv(tmp_path / "spectral_conflict.data.csv", dtype={"step": str}).step
    assert steps.dropna().str.fullmatch(r"\d+").all()               # written as integers


@pytest.mark.parametrize("bad, match", [
    (dict(rows=0), "rows"), (dict(lr=0), "lr"), (dict(optimizer="sgd"), "momentum"),
    (dict(optimizer="adam"), "optimizer"), (dict(smallest_eps=1.5), "smallest_eps"),
    (dict(horizon=0), "horizon"),
])
def test_setup_rejects_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        ConflictSetup(**bad)


def test_all_unstable_is_a_clear_error():
    setup = ConflictSetup(rows=50, lr=100.0, horizon=5000, scan=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="unstable"):
            best_global_beta(setup, show=False)


def test_cli_conflict(tmp_path, capsys):
    assert main(["conflict", "--rows", "300", "--horizon", "200", "--out", str(tmp_path)]) == 0
    assert "Gap" in capsys.readouterr().out
    assert (tmp_path / "spectral_conflict.png").exists()


def _drawn(ax) -> int:
    return len(ax.lines) + len(ax.collections) + len(ax.patches) + len(ax.containers)


@pytest.mark.parametrize("plot", [plot_phases, plot_band_risk_over_time, plot_global_scan,
                                  plot_band_risk_at_horizon])
def test_every_conflict_panel_draws_into_the_axes_it_is_given(small_result, plot):
    """Each panel is a function of (result, Axes): it draws there and nowhere else
    (no pyplot figure, no extra Axes on the caller's figure)."""

    figure = new_figure((4, 3))
    ax = figure.add_subplot()
    before = plt.get_fignums()
    assert plot(small_result, ax=ax) is ax
    assert _drawn(ax) > 0 and ax.get_title()
    assert figure.axes == [ax] and plt.get_fignums() == before
