"""Scaling-law studies from exact curves (``numerics/studies/scaling``): the risk's parts,
exponent fits, the compute-optimal frontier, the study's cache and its command line."""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import time
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from sparsemom.derivations.definitions.covariance import eigenvalue
from sparsemom.numerics import Optimizer, exact_risk
from sparsemom.numerics.analysis.tuned_lr import risk_at_horizon, tuned_learning_rate
from sparsemom.numerics.cli import cluster_options, scaling
from sparsemom.numerics.cli.cluster_options import scheduler_where
from sparsemom.numerics.cli.main import main
from sparsemom.numerics.inputs.spectra import (
    GaussianCovariance,
    PowerLawRandomFeatures,
    power_law_covariance,
)
from sparsemom.numerics.kernels.coupled_horizon import MAX_STEP, coupled_risk_at
from sparsemom.numerics.runtime import dask_map as dask_map_module
from sparsemom.numerics.runtime import memory, result_cache
from sparsemom.numerics.runtime.dask_map import ClusterError
from sparsemom.numerics.runtime.result_cache import ResultCache
from sparsemom.numerics.studies.scaling import methods as methods_module
from sparsemom.numerics.studies.scaling.exponent_fit import fit_exponent
from sparsemom.numerics.studies.scaling.exponents import exponent_rows
from sparsemom.numerics.studies.scaling.frontier import compute_frontier, curves_at_flops
from sparsemom.numerics.studies.scaling.loss_curves import (
    PHASE_POINTS,
    CurveTask,
    PhasePoint,
    curve_tasks,
    run_curve,
)
from sparsemom.numerics.studies.scaling.method_frontier import (
    frontier_ratio,
    method_frontier_rows,
    method_frontiers,
)
from sparsemom.numerics.studies.scaling.methods import (
    METHODS,
    MethodResult,
    MethodTask,
    dana_time_scale,
    frontier_horizon,
    frontier_tasks,
    horizon,
    method_optimizer,
    method_rows,
    run_method,
)
from sparsemom.numerics.studies.scaling.plane import plane_points, plane_tasks
from sparsemom.numerics.studies.scaling.risk_parts import risk_parts, without_label_noise
from sparsemom.numerics.studies.scaling.study import run_curves, write_method_frontiers, write_study

RULES = [("sgd", dict(lr=0.3)), ("heavy-ball", dict(lr=0.1, beta=0.6)),
         ("nesterov", dict(lr=0.1, beta=0.5)), ("dana", dict(lr=0.2, g3=0.02, delta=0.3))]


# -- the parts -------------------------------------------------------------------------------
@pytest.mark.parametrize("name,hyper", RULES)
def test_the_parts_add_up_to_the_exact_risk(name, hyper):
    """Forcing + noise kernel + label noise + floor = ``exact_risk`` + ``R_∞`` at every step,
    on random features (label noise from the residual) with ``B = 2``."""
    model = PowerLawRandomFeatures(1.0, 0.7, 48, 24, seed=1)
    opt = Optimizer(name, batch=2, **hyper)
    steps = np.arange(0, 301, 7)
    parts = risk_parts(model, opt, steps)
    curve = exact_risk(model, opt, 300, backend="numpy")
    np.testing.assert_allclose(parts.total - parts.floor, curve[steps], rtol=1e-10)
    assert parts.floor == model.risk_floor > 0
    assert abs(parts.kernel[0]) <= 1e-15 * parts.total[0] and parts.label_noise[0] == 0


def test_the_label_noise_part_is_exactly_what_the_noise_adds():
    """The premise of the split, in rationals: the risk is affine in the initial state and in
    ``s²``, so the risk with label noise minus the risk without equals the risk of the noise
    alone (``R_0 = 0``); the float part equals it."""
    lam = [Fraction(1), Fraction(1, 2), Fraction(1, 5)]
    r0 = [Fraction(1), Fraction(1, 3), Fraction(1, 7)]
    opt = Optimizer("heavy-ball", lr=Fraction(1, 4), beta=Fraction(1, 2), batch=2)
    noisy = GaussianCovariance(lam, R0=r0, sigma2=Fraction(1, 10))
    quiet = GaussianCovariance(lam, R0=r0, sigma2=0)
    alone = GaussianCovariance(lam, R0=0, sigma2=Fraction(1, 10))
    with_noise, without, noise = (exact_risk(m, opt, 6, backend="exact")
                                  for m in (noisy, quiet, alone))
    assert [a - b for a, b in zip(with_noise, without)] == list(noise)
    parts = risk_parts(noisy, opt, range(7))
    np.testing.assert_allclose(parts.label_noise, [float(x) for x in noise], rtol=1e-12,
                               atol=1e-15)


def test_the_sgd_forcing_and_kernel_are_the_renewal_equation():
    """SGD on Gaussian modes from the definition: a sample's gradient on mode ``j`` is
    ``x_j(x_j e_j + z_j)`` with ``x_j ~ N(0, λ_j)`` and ``z_j`` the other modes' prediction
    error (variance ``ϱ_j = S − λ_j e_j²``), so with ``E x⁴ = 3λ²`` the batch mean has
    ``E g² = λ²e²(1 + 1/B) + λS/B`` and ``E e'² = a_j e² + u_j S``, ``a_j = (1 − ηλ_j)² +
    η²λ_j²/B``, ``u_j = η²λ_j/B``. Hence the forcing ``F_k = Σ_j (λ_j/2) a_j^k R0_j`` and the
    risk ``r = F + K ∗ (2r)`` with ``K_m = Σ_j (λ_j/2) a_j^m u_j``."""
    model = power_law_covariance(1.0, 0.6, 40)
    lr, batch = 0.4, 3
    parts = risk_parts(model, Optimizer("sgd", lr=lr, batch=batch), range(121))
    lam, r0 = model.values[eigenvalue], model.R0
    a = (1 - lr * lam) ** 2 + lr**2 * lam**2 / batch
    u = lr**2 * lam / batch
    forcing = np.array([np.sum(lam / 2 * a**k * r0) for k in range(121)])
    np.testing.assert_allclose(parts.forcing, forcing, rtol=1e-12)
    kernel = np.array([np.sum(lam / 2 * a**m * u) for m in range(121)])
    risk = parts.forcing + parts.kernel
    for k in range(1, 121):
        assert parts.kernel[k] == pytest.approx(np.dot(kernel[:k][::-1], 2 * risk[:k]),
                                                rel=1e-10)


def test_the_parts_at_a_billion_steps_are_the_floor_and_the_noise():
    """Far past every timescale the target's parts are gone and the risk is the floor plus
    the stationary label-noise excess; no step is iterated."""
    model = power_law_covariance(1.0, 0.75, 512, v=math.inf)
    parts = risk_parts(model, Optimizer("sgd", lr=0.3), [10**9])
    assert parts.forcing[0] < 1e-30 and abs(parts.kernel[0]) < 1e-16
    assert 0 < parts.label_noise[0] < parts.floor


def test_the_parts_at_the_largest_step_are_finite():
    """``k = 2^62`` (the largest step, an int64 with room for ``k + 1``) is the stationary
    risk; a NumPy integer step is taken as the integer it is."""
    model = power_law_covariance(1.0, 0.75, 64, v=math.inf)
    opt = Optimizer("sgd", lr=0.3)
    parts = risk_parts(model, opt, np.array([MAX_STEP, 10**9], dtype=np.int64))
    assert np.isfinite(parts.total).all()
    assert parts.total[0] == pytest.approx(parts.total[1], rel=1e-9)


def test_the_truncated_power_law_puts_the_tail_into_the_label_noise():
    """``v`` coordinates seen through their first ``d``: the rest of the target
    ``Σ_{j>d} j^{−2α−2β}`` is the label noise, summed directly."""
    model = power_law_covariance(0.8, 0.4, 50, sigma2=0.01, v=5000)
    j = np.arange(51, 5001, dtype=float)
    assert float(model.sigma2) == pytest.approx(0.01 + math.fsum(j ** -2.4), rel=1e-12)
    assert float(without_label_noise(model).sigma2) == 0


@pytest.mark.parametrize("call,message", [
    (lambda: risk_parts(power_law_covariance(1, 1, 8), Optimizer("sgd", lr=0.1), []),
     "steps must not be empty"),
    (lambda: risk_parts(power_law_covariance(1, 1, 8), Optimizer("sgd", lr=0.1), [-1]),
     "steps must be"),
    (lambda: risk_parts(power_law_covariance(1, 1, 8), Optimizer("sgd", lr=0.1), [2.5]),
     "steps must be"),
    (lambda: risk_parts(power_law_covariance(1, 1, 8),
                        Optimizer("sgd", lr=0.1, lr_schedule=lambda k: 1.0), [3]),
     "time-invariant"),
    (lambda: risk_parts(power_law_covariance(1, 1, 8), Optimizer("sgd", lr=0.1), [2**63]),
     "steps must be an integer ≤ 2\\^62"),
    (lambda: coupled_risk_at(power_law_covariance(1, 1, 8), Optimizer("sgd", lr=0.1), [10**30]),
     "ks must be an integer ≤ 2\\^62"),
    (lambda: power_law_covariance(1, 1, 8, v=4), "v must be an integer ≥ 8"),
    (lambda: power_law_covariance(0.2, 0.2, 8, v=math.inf), "2\\*alpha \\+ 2\\*beta > 1"),
])
def test_bad_input_is_refused_naming_the_parameter(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# -- fits and frontiers ----------------------------------------------------------------------
def test_a_power_law_is_fitted_exactly_and_a_bent_curve_shows_its_drift():
    x = np.logspace(0, 6, 61)
    fit = fit_exponent(x, 3 * x**-0.7, (10, 1e5))
    assert fit.exponent == pytest.approx(0.7, abs=1e-12) and fit.error < 1e-12
    bent = fit_exponent(x, x**-0.7 + 1e-3, (10, 1e5))
    assert bent.error > 0.05          # the floor bends the curve inside the window
    for window, message in (((10, 10), "0 < lo < hi"), ((1e5, 1.5e5), "holds"),
                            ((-1, 10), "0 < lo < hi")):
        with pytest.raises(ValueError, match=message):
            fit_exponent(x, x**-1.0, window)
    with pytest.raises(ValueError, match="positive and finite"):
        fit_exponent(x, -x, (10, 1e5))


@pytest.mark.parametrize("x,window,message", [
    (np.where(np.arange(61) == 30, np.nan, np.logspace(0, 6, 61)), (10, 1e5),
     "x must be finite"),                               # was dropped from the window silently
    (np.full(61, 100.0), (10, 1e5), "distinct values of x"),       # was a NaN exponent
    (np.repeat(np.logspace(1, 5, 3), 20).tolist() + [1.0], (10, 1e5), "distinct values of x"),
    (np.logspace(0, 6, 61), (10, 100, 1000), "window must be \\(lo, hi\\)"),
    (np.logspace(0, 6, 61), 10, "window must be \\(lo, hi\\)"),
])
def test_a_fit_refuses_x_it_cannot_fit(x, window, message):
    x = np.asarray(x, dtype=float)
    with pytest.raises(ValueError, match=message):
        fit_exponent(x, np.abs(x) ** -0.5 + 1, window)


def test_the_frontier_of_two_power_laws_is_their_balance():
    """``P = t^{−a} + d^{−b}``: the frontier falls as ``f^{−ab/(a+b)}`` and ``d* ∝ f^{a/(a+b)}``
    (minimise ``t^{−a} + d^{−b}`` at ``d t = f``); measured on a family of 13 sizes."""
    a, b = 0.8, 1.6
    dims = [2**k for k in range(4, 17)]
    steps = [np.unique(np.round(np.logspace(0, 12, 400))) for _ in dims]
    losses = [k**-a + d**-b for d, k in zip(dims, steps)]
    frontier = compute_frontier(dims, steps, losses)
    f = frontier.flops
    window = (f[len(f) // 4], f[3 * len(f) // 4])
    assert fit_exponent(f, frontier.loss, window).exponent == pytest.approx(a * b / (a + b),
                                                                           abs=0.01)
    assert fit_exponent(f, 1 / frontier.size, window).exponent == pytest.approx(a / (a + b),
                                                                               abs=0.01)


def _curves(dims=(16, 32, 64)):
    steps = [np.unique(np.round(np.logspace(0, 6, 50))) for _ in dims]
    return list(dims), steps, [k**-1.0 + d**-1.0 for d, k in zip(dims, steps)]


@pytest.mark.parametrize("change,message", [
    (lambda d, k, p: (d, k[:2], p), "one curve per size"),       # was an empty frontier
    (lambda d, k, p: (d, k, [*p[:2], p[2][:-1]]), "steps\\[2\\] and losses\\[2\\]"),
    (lambda d, k, p: (d, [k[0][::-1], *k[1:]], [p[0][::-1], *p[1:]]), "increasing"),
    (lambda d, k, p: (d, [np.array([0.0, 1.0]), *k[1:]], [np.ones(2), *p[1:]]),
     "two positive steps"),                                    # was a NumPy reduction error
    (lambda d, k, p: (d, k, [-p[0], *p[1:]]), "positive and finite"),
    (lambda d, k, p: (d, k, [p[0] * np.nan, *p[1:]]), "positive and finite"),
])
def test_the_frontier_refuses_curves_it_cannot_interpolate(change, message):
    with pytest.raises(ValueError, match=message):
        compute_frontier(*change(*_curves()))


@pytest.mark.parametrize("keyword,message", [
    (dict(batch=0), "batch must be a positive integer"),      # was warnings, an empty frontier
    (dict(batch=1.5), "batch must be a positive integer"),
    (dict(points=1), "points must be an integer ≥ 2"),
])
def test_the_frontier_refuses_a_bad_batch_or_grid(keyword, message):
    with pytest.raises(ValueError, match=message):
        compute_frontier(*_curves(), **keyword)


# -- the study -------------------------------------------------------------------------------
def test_the_predicted_exponents_are_measured_above_the_high_dimensional_line():
    """Phases Ia and II of the truncated power law over d = 2^6 … 2^12: the forcing's time
    exponent, the floor's d exponent and the compute-optimal η within 0.05 (the window's
    drift) of the prediction."""
    points = [p for p in PHASE_POINTS if p.phase in ("Ia", "II")]
    results = [run_curve(t) for t in curve_tasks("power-law", points,
                                                  [2**k for k in range(6, 13)])]
    rows = {(r.phase, r.quantity): r for r in exponent_rows(results)}
    for phase in ("Ia", "II"):
        for quantity in ("forcing time exponent", "floor d exponent",
                         "compute-optimal loss exponent eta"):
            row = rows[(phase, quantity)]
            assert row.measured == pytest.approx(row.predicted, abs=0.05), row


def test_the_exponents_table_is_tidy_and_says_why_a_quantity_is_not_measured(tmp_path):
    """``exponents.csv`` has numbers in numeric columns (the window's ends and the sizes,
    not ``"81.4-6.47e+05"`` and ``"d = 512"``) and the variable each window is of; below
    ``2α = 1`` (phase Ic) the time window ``[10/η, 0.1/(η λ_min)]`` is empty at these sizes,
    and the table says so rather than "too few points"."""
    points = [p for p in PHASE_POINTS if p.phase in ("Ic", "II")]
    results = [run_curve(t) for t in curve_tasks("power-law", points, [64, 128, 256])]
    write_study(results, tmp_path)
    table = pd.read_csv(tmp_path / "exponents.csv")
    assert len(table) == 10
    for column in ("window_lo", "window_hi", "d_min", "d_max", "predicted", "measured"):
        assert pd.api.types.is_float_dtype(table[column]) or \
            pd.api.types.is_integer_dtype(table[column]), column
    assert set(table.variable) == {"t", "d", "f"}
    time_rows = table[table.variable == "t"]
    assert (time_rows.d_min == 256).all() and (time_rows.d_max == 256).all()
    assert (table[table.variable == "d"].d_min == 64).all()
    ic = time_rows[time_rows.phase == "Ic"]
    assert (ic.window_lo > ic.window_hi).all() and ic.measured.isna().all()
    assert ic.note.str.startswith("empty window").all()
    assert (time_rows[time_rows.phase == "II"].note.isna()).all()
    text = (tmp_path / "exponents.md").read_text()
    assert "| power-law | Ic (0.2, 0.8) | forcing time exponent | 2.500 | empty window" in text
    assert "| t ∈ [" in text


def test_an_interrupted_study_resumes_from_its_cache(tmp_path):
    """Results are kept as they arrive: a study that computed half its tasks, run again in
    full, computes only the other half, and its curves equal a run without cache."""
    tasks = curve_tasks("power-law", PHASE_POINTS[:2], [64, 128, 256])
    first = run_curves(tasks[:3], workers=1, cache_dir=tmp_path)
    assert first.cached == 0
    second = run_curves(tasks, workers=2, cache_dir=tmp_path)
    assert second.cached == 3
    again = run_curves(tasks, workers=1, cache_dir=tmp_path)
    assert again.cached == len(tasks)
    fresh = run_curves(tasks, workers=1)
    for kept, new in zip(again.results, fresh.results):
        assert kept.task == new.task
        np.testing.assert_array_equal(kept.total, new.total)


def test_the_cache_ignores_what_it_cannot_trust(tmp_path, monkeypatch):
    cache = ResultCache(tmp_path, "one")
    cache.put("a", [1, 2])
    assert cache.get("a") == [1, 2]
    assert ResultCache(tmp_path, "two").get("a") is None      # another schema
    monkeypatch.setattr(result_cache, "source_fingerprint", lambda: "other code")
    assert ResultCache(tmp_path, "one").get("a") is None      # computed by other code
    (tmp_path / "b.pickle").write_bytes(b"not a pickle")
    assert cache.get("b") is None
    for key in ("", "../x", "a/b", "x" * 201):
        with pytest.raises(ValueError, match="key must be"):
            cache.put(key, 1)


def test_the_command_line_writes_figures_table_and_cache(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["scaling", "--phases", "Ia,III", "--sizes", "6:8", "--scheduler", "pool",
                 "--workers", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| power-law | Ia (0.7, 0.3) | forcing time exponent | 0.714 |" in text
    assert "6 curves (0 from the cache)" in text
    for name in ("loss_curves.png", "loss_curves.data.csv", "frontier.png", "exponents.md",
                 "exponents.csv"):
        assert (out / name).stat().st_size > 0
    assert len(list((out / "cache").glob("*.pickle"))) == 6
    assert main(["scaling", "--phases", "Ia,III", "--sizes", "6:8", "--scheduler", "pool",
                 "--workers", "1", "--out", str(out)]) == 0
    assert "6 curves (6 from the cache)" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["--sizes", "6:7"], "K1 + 2 <= K2"),
    (["--sizes", "6"], "expected K1:K2"),
    (["--sizes", "a:b"], "expected K1:K2"),
    (["--sizes", "0:5"], "1 <= K1"),
    (["--sizes", "-1:5"], "1 <= K1"),
    (["--sizes", "6:21"], "K2 <= 20"),
    (["--phases", "V"], "expected phase names"),
    (["--phases", ","], "expected phase names"),
    (["--problem", "gaussian"], "invalid choice"),
    (["--problem", "random-features", "--sizes", "6:14"], "must end at K2 <= 13"),
    (["--batch", "0"], "--batch"),
    (["--workers", "0"], "--workers"),
])
def test_the_command_line_refuses_bad_values_in_one_line(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main(["scaling", "--out", str(tmp_path), *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_task_key_names_every_parameter():
    task = CurveTask("power-law", PHASE_POINTS[0], 64)
    others = [CurveTask("random-features", PHASE_POINTS[0], 64),
              CurveTask("power-law", PHASE_POINTS[1], 64), CurveTask("power-law", PHASE_POINTS[0], 128),
              CurveTask("power-law", PHASE_POINTS[0], 64, batch=2),
              CurveTask("power-law", PHASE_POINTS[0], 64, seed=1),
              CurveTask("power-law", PHASE_POINTS[0], 64, horizons=10)]
    assert len({task.key, *(t.key for t in others)}) == 7
    near = PhasePoint("Ia", 0.7000001, 0.3)        # ":g" wrote both alphas as "0.7"
    assert CurveTask("power-law", near, 64).key != task.key
    numpy_point = PhasePoint("Ia", np.float64(0.7), np.float64(0.3))
    assert CurveTask("power-law", numpy_point, 64).key == task.key


# -- on a Dask cluster of separate processes -------------------------------------------------
def _start(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", *command], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def test_a_study_survives_a_worker_killed_mid_study(tmp_path):
    """A real ``dask scheduler`` and two ``dask worker`` processes: one worker is killed once
    the first curves are kept; the study finishes on the other, and its exponents table equals
    that of a run on a local process pool."""
    pytest.importorskip("dask.distributed")
    file = tmp_path / "scheduler.json"
    scheduler = _start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                        "--no-dashboard", "--scheduler-file", str(file)])
    workers = []
    try:
        deadline = time.monotonic() + 60
        while not file.exists() or not file.read_text().strip():
            assert time.monotonic() < deadline, "the scheduler did not start within 60 s"
            time.sleep(0.1)
        address = json.loads(file.read_text())["address"]
        workers = [_start(["distributed.cli.dask_worker", address, "--nthreads", "1",
                           "--no-dashboard", "--name", f"w{i}"]) for i in range(2)]
        argv = ["sparsemom.numerics.cli", "scaling", "--phases", "Ia,II,III", "--sizes", "6:12",
                "--out", str(tmp_path / "dask"), "--scheduler", address]
        study = subprocess.Popen([sys.executable, "-m", *argv], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        cache = tmp_path / "dask" / "cache"
        deadline = time.monotonic() + 120
        while not (cache.exists() and any(cache.glob("*.pickle"))):
            assert study.poll() is None and time.monotonic() < deadline, study.stderr.read()
            time.sleep(0.05)
        kept = len(list(cache.glob("*.pickle")))
        workers[0].kill()
        out, err = study.communicate(timeout=300)
        assert study.returncode == 0, err
        assert kept < 21, "the study ended before the worker was killed"
        assert "21 curves (0 from the cache)" in out
    finally:
        for proc in (*workers, scheduler):
            proc.kill()
            proc.wait()
    assert main(["scaling", "--phases", "Ia,II,III", "--sizes", "6:12", "--scheduler", "pool",
                 "--workers", "2", "--out", str(tmp_path / "pool"), "--no-cache"]) == 0
    dask_table = (tmp_path / "dask" / "exponents.csv").read_text()
    assert dask_table == (tmp_path / "pool" / "exponents.csv").read_text()


def test_sizes_too_large_for_the_memory_are_refused_before_any_curve(monkeypatch, capsys,
                                                                      tmp_path):
    """Random features of ``d = 2^12`` hold ``W`` (``4d × d``) and its SVD, about 3 GiB: with
    8 GiB free one worker may build them, two at once (two phases) may not; the study is
    refused in one line naming ``--sizes`` before any curve starts."""
    monkeypatch.setattr(memory, "available_memory", lambda: 8 << 30)
    monkeypatch.setattr(scaling, "run", lambda args: 0)
    argv = ["scaling", "--problem", "random-features", "--sizes", "6:12", "--phases", "Ia,II",
            "--scheduler", "pool", "--out", str(tmp_path)]
    assert main([*argv, "--workers", "1"]) == 0
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--workers", "2"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("sparsemom scaling: error: argument --sizes: 2 curves of d = 4096")
    assert "Traceback" not in "\n".join(err)
    with pytest.raises(SystemExit) as exit_:          # the plane's grid points alike
        main(["scaling-plane", "--problem", "random-features", "--sizes", "6:12", "--grid", "2",
              "--scheduler", "pool", "--workers", "2", "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert "argument --sizes: 2 curves of d = 4096" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["--no-cache", "--cache", "c"], "argument --cache: not allowed with argument --no-cache"),
    (["--full", "--sizes", "6:9"], "argument --sizes: not allowed with argument --full"),
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"],
     "argument --workers: the processes of --scheduler local or pool"),
])
def test_options_that_contradict_are_refused_in_one_line(argv, message, capsys, tmp_path):
    """An option the others would silently override is refused, naming both."""
    with pytest.raises(SystemExit) as exit_:
        main(["scaling", "--out", str(tmp_path), *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1], err


def test_the_summary_names_the_scheduler_and_counts_only_the_curves_computed(tmp_path, capsys):
    argv = ["scaling", "--phases", "II", "--sizes", "6:8", "--scheduler", "pool", "--workers",
            "1", "--out", str(tmp_path)]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert re.search(r"3 curves \(0 from the cache\) in [\d.]+ s on a process pool "
                     r"\([\d.]+ s computing them\)", first), first
    assert main(argv) == 0
    assert "(0.0 s computing them)" in capsys.readouterr().out
    for scheduler, where in (("local", "a Dask LocalCluster"), ("pool", "a process pool"),
                             ("tcp://h:1", "the cluster at tcp://h:1")):
        assert scheduler_where(argparse.Namespace(scheduler=scheduler)) == where


@pytest.fixture
def started(monkeypatch) -> list:
    """Dask "installed", and a LocalCluster that records its worker count and stops the study
    with a ClusterError instead of starting: the counts, in order."""
    counts = []

    def cluster(workers):
        counts.append(workers)
        raise ClusterError("stopped by the test")

    monkeypatch.setattr(cluster_options, "dask_installed", lambda: True)
    monkeypatch.setattr(dask_map_module, "local_cluster", cluster)
    return counts


def test_a_local_cluster_has_no_more_workers_than_curves(started, capsys, tmp_path):
    """``--workers 64`` on a study of 3 curves starts 3 Dask workers (a pool is capped the
    same way), not 64 processes for 2 cores; so do the other studies of the cluster options."""
    assert main(["scaling", "--phases", "II", "--sizes", "6:8", "--scheduler", "local",
                 "--workers", "64", "--out", str(tmp_path)]) == 1
    assert started == [3]
    assert "stopped by the test" in capsys.readouterr().err
    assert main(["outscaling", "--phases", "II", "--size", "6", "--scheduler", "local",
                 "--workers", "64", "--out", str(tmp_path)]) == 1
    assert started == [3, 4]                    # SGD, SGD-M, DANA-constant, DANA-decaying


def test_a_study_whose_curves_are_all_kept_starts_no_cluster(started, capsys, tmp_path):
    """Every curve in the cache: the LocalCluster is never started (and one missing curve
    starts it with one worker)."""
    assert main(["scaling", "--phases", "II", "--sizes", "6:8", "--scheduler", "pool",
                 "--workers", "1", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["scaling", "--phases", "II", "--sizes", "6:8", "--scheduler", "local",
                 "--out", str(tmp_path)]) == 0
    assert started == [] and "3 curves (3 from the cache)" in capsys.readouterr().out
    (tmp_path / "cache" / f"{curve_tasks('power-law', [PHASE_POINTS[3]], [64])[0].key}.pickle").unlink()
    assert main(["scaling", "--phases", "II", "--sizes", "6:8", "--scheduler", "local",
                 "--out", str(tmp_path)]) == 1
    assert started == [1]


# -- SGD, SGD-M and DANA ---------------------------------------------------------------------
def test_momentum_keeps_sgds_exponent_and_dana_improves_it():
    """Phase II of the truncated power law at d = 2^12 (exact curves): SGD and SGD-M
    (β = 0.9 at the same effective step) decay with the forcing's exponent within 0.03;
    DANA-decaying decays faster than both by more than 0.15."""
    point = next(p for p in PHASE_POINTS if p.phase == "II")
    steps = horizon("power-law", point, 4096)
    results = [run_method(MethodTask(m, "power-law", point, 4096, steps)) for m in METHODS]
    rows = {r.method: r for r in method_rows(results)}
    for method in ("sgd", "sgd-m"):
        assert rows[method].measured == pytest.approx(rows[method].predicted, abs=0.03)
    assert rows["dana-decaying"].measured > max(rows["sgd"].measured,
                                                rows["sgd-m"].measured) + 0.15
    assert not any(r.diverged for r in rows.values())


def test_the_method_conventions():
    """SGD-M's effective step ``lr/(1 − β)`` is SGD's; DANA's ``Δ_t = δ/(δ + t)`` with
    ``δ = 4 + (α + β)/α`` and ``γ3_t = 3 η (1 + t)^{−1/(2α)}``."""
    point = PHASE_POINTS[0]
    momentum = method_optimizer("sgd-m", 0.2, point, 64)
    assert float(momentum.lr) / (1 - float(momentum.beta)) == pytest.approx(0.2)
    constant = method_optimizer("dana-constant", 0.2, point, 64)
    g3 = next(value for symbol, value in constant.values.items() if symbol.name == "g3")
    assert float(g3) == pytest.approx(3 * 0.2 / 64)
    dana = method_optimizer("dana-decaying", 0.2, point, 64)
    table = dana.multipliers(101)
    delta = dana_time_scale(point.alpha, point.beta)
    assert delta == pytest.approx(4 + (0.7 + 0.3) / 0.7)
    multiplier = {s.name: np.asarray(v, dtype=float) for s, v in table.items()}
    assert multiplier["delta"][100] == pytest.approx(delta / (delta + 100))
    assert multiplier["g3"][100] == pytest.approx(101 ** (-1 / 1.4))
    with pytest.raises(ValueError, match="method must be one of"):
        method_optimizer("adam", 0.2, point, 64)


def test_the_outscaling_command_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["outscaling", "--phases", "Ia", "--size", "8", "--scheduler", "pool",
                 "--workers", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| Ia (0.7, 0.3) | sgd | 0.714 |" in text and "dana-decaying" in text
    for name in ("methods.png", "methods.data.csv", "methods.md", "methods.csv"):
        assert (out / name).stat().st_size > 0
    table = pd.read_csv(out / "methods.csv")      # the window's ends as numbers, not "a-b"
    assert pd.api.types.is_float_dtype(table.window_lo) and (table.window_lo > 0).all()
    assert "window" not in table
    # at d = 2^8 the window [10/η, DANA's saturation/10] is empty: said so, not "too few
    # points"; DANA-constant is fitted on its own steps, from 2d on
    common = table[table.method != "dana-constant"]
    assert (common.window_lo > common.window_hi).all() and common.measured.isna().all()
    constant = table[table.method == "dana-constant"]
    assert (constant.window_lo == 2 * 256).all() and (constant.window_hi > 512).all()
    assert "| Ia (0.7, 0.3) | sgd | 0.714 | empty window |" in text
    for argv, message in ((["--size", "17"], "--size"), (["--size", "x"], "--size"),
                          (["--problem", "random-features", "--size", "13"], "at most 12"),
                          (["--phases", "IIa"], "expected phase names")):
        with pytest.raises(SystemExit) as exit_:
            main(["outscaling", "--out", str(out), *argv])
        assert exit_.value.code == 2
        assert message in capsys.readouterr().err


# -- the methods' compute-optimal frontiers --------------------------------------------------
@pytest.fixture(scope="module")
def method_family():
    """Every method at phases Ia and II, d = 2^5 … 2^8, each to its frontier horizon."""
    points = [p for p in PHASE_POINTS if p.phase in ("Ia", "II")]
    return [run_method(t) for t in frontier_tasks("power-law", points, [32, 64, 128, 256])]


def test_each_methods_frontier_on_small_sizes(method_family):
    """The frontier is the least loss of the family at each compute, its optimal size inside
    the family; SGD-M's exponents are SGD's within 0.03; DANA-decaying's frontier lies below
    SGD's where both hold compute, and every curve ends with its floor added back."""
    frontiers = method_frontiers(method_family)
    assert len(frontiers) == 2 * len(METHODS)
    for (problem, point, method), family in frontiers.items():
        f = family.fit.frontier
        assert f.flops.size >= 20 and family.dims == [32, 64, 128, 256]
        table = curves_at_flops(family.dims, family.steps, family.losses, 1, f.flops)
        np.testing.assert_allclose(f.loss, table.min(axis=0), rtol=1e-12)
        assert ((f.size > 32) & (f.size < 256)).all()
        for r in family.results:
            assert r.floor > 0 and np.array_equal(r.total, r.excess + r.floor)
    rows = {(r.phase, r.method, r.quantity): r for r in method_frontier_rows(frontiers)}
    for phase in ("Ia", "II"):
        for quantity in ("eta", "xi"):
            sgd, momentum = rows[(phase, "sgd", quantity)], rows[(phase, "sgd-m", quantity)]
            assert momentum.measured == pytest.approx(sgd.measured, abs=0.03)
            assert momentum.predicted == sgd.predicted and "Ferbach" in momentum.source
            assert rows[(phase, "dana-decaying", quantity)].predicted is None
        point = next(p for p in PHASE_POINTS if p.phase == phase)
        flops, ratio = frontier_ratio(frontiers[("power-law", point, "dana-decaying")],
                                      frontiers[("power-law", point, "sgd")])
        assert flops > 0 and ratio < 1


def test_sgds_method_frontier_is_the_sgd_studys_frontier():
    """On the same curves (SGD's study's, given as SGD's method results), the methods'
    frontier path gives SGD's study's frontier and its η and ξ exactly."""
    point = PHASE_POINTS[3]
    curves = [run_curve(CurveTask("power-law", point, d, horizons=24)) for d in (16, 32, 64, 128)]
    as_methods = [MethodResult(MethodTask("sgd", "power-law", point, c.task.d,
                                          int(c.steps[-1])),
                               c.lr, c.smallest_eigenvalue, c.steps, c.total) for c in curves]
    (family,) = method_frontiers(as_methods).values()
    frontier = compute_frontier([16, 32, 64, 128], [c.steps for c in curves],
                                [c.total for c in curves])
    for name in ("flops", "loss", "size"):
        np.testing.assert_array_equal(getattr(family.fit.frontier, name),
                                      getattr(frontier, name))
    study = {r.quantity: r for r in exponent_rows(curves)}
    mine = {r.quantity: r for r in method_frontier_rows({("power-law", point, "sgd"): family})}
    assert frontier.flops.size > 10
    for name, quantity in (("eta", "compute-optimal loss exponent eta"),
                           ("xi", "optimal size exponent xi")):
        assert (mine[name].measured, mine[name].error, mine[name].predicted) == \
            (study[quantity].measured, study[quantity].error, study[quantity].predicted)
        assert mine[name].sgd_measured == mine[name].measured


def test_a_curve_that_ends_below_the_best_leaves_the_frontier_unknown():
    """Curves ``P_d(t) = a_d + 1/t`` of d = 1 … 16 with ``a = 1, 0.1, 0.5, 0.3, 0.6``: d = 2
    is the best wherever its curve runs (to f = 2·10⁴), and past its end, below every other
    size's, the frontier is unknown (not d = 8's, whose neighbours are whole); its curve cut
    at t = 10 (f = 20), the same from there on, and the compute before keeps its points."""
    dims, floors = [1, 2, 4, 8, 16], [1.0, 0.1, 0.5, 0.3, 0.6]
    steps = [np.geomspace(1, 1e4, 100) for _ in dims]
    losses = [a + 1 / t for a, t in zip(floors, steps)]
    whole = compute_frontier(dims, steps, losses)
    assert 5e3 < whole.flops[-1] <= 2e4 and np.allclose(whole.loss, 0.1 + 2 / whole.flops, rtol=0.01)
    steps[1], losses[1] = steps[1][steps[1] <= 10], losses[1][steps[1] <= 10]
    cut = compute_frontier(dims, steps, losses)
    assert 10 < cut.flops[-1] <= 20 and np.allclose(cut.loss, 0.1 + 2 / cut.flops, rtol=0.01)


def test_the_contour_gives_the_iterated_curve(monkeypatch):
    """Past ITERATED_STEPS a constant optimizer's curve is the contour integral's: SGD-M's at
    d = 64 matches the iterated one to 1e-6; DANA (scheduled) is iterated either way."""
    point = PHASE_POINTS[0]
    iterated = run_method(MethodTask("sgd-m", "power-law", point, 64, 5000))
    dana = run_method(MethodTask("dana-decaying", "power-law", point, 64, 5000))
    monkeypatch.setattr(methods_module, "ITERATED_STEPS", 100)
    contour = run_method(MethodTask("sgd-m", "power-law", point, 64, 5000))
    np.testing.assert_allclose(contour.excess, iterated.excess, rtol=1e-6)
    np.testing.assert_array_equal(run_method(MethodTask("dana-decaying", "power-law", point,
                                                        64, 5000)).excess, dana.excess)


def test_frontier_horizons_pass_each_methods_bend():
    """SGD and SGD-M run to ``10/(η λ_min)``; DANA to 40 of DANA-decaying's saturation
    steps, which at d = 2^8 is fewer steps than SGD's."""
    point = PHASE_POINTS[0]
    sgd = frontier_horizon("sgd", "power-law", point, 256)
    assert frontier_horizon("sgd-m", "power-law", point, 256) == sgd
    dana = frontier_horizon("dana-decaying", "power-law", point, 256)
    assert dana == frontier_horizon("dana-constant", "power-law", point, 256) < sgd
    tasks = frontier_tasks("power-law", [point], [16, 32, 64])
    assert [t.d for t in tasks] == [64] * 4 + [32] * 4 + [16] * 4
    assert {t.lr_rule for t in tasks} == {"rule"}


def test_bad_frontier_inputs_are_refused(method_family):
    point = PHASE_POINTS[0]
    sgd = [r for r in method_family if r.task.method == "sgd" and r.task.point == point]
    with pytest.raises(ValueError, match="at least 3 sizes"):
        method_frontiers(sgd[:2])
    with pytest.raises(ValueError, match="two curves of one size"):
        method_frontiers([*sgd, sgd[0]])
    with pytest.raises(ValueError, match="one batch and seed"):
        method_frontiers([*sgd, *[MethodResult(MethodTask("sgd", "power-law", PHASE_POINTS[3],
                                                          r.task.d, r.task.steps, batch=2),
                                               r.lr, r.smallest_eigenvalue, r.steps, r.excess)
                                  for r in sgd]])
    with pytest.raises(ValueError, match="methods"):
        method_frontiers([MethodResult(MethodTask("adam", "power-law", point, 8, 10), 0.1, 0.1,
                                       np.arange(3), np.ones(3))])
    diverged = [MethodResult(r.task, r.lr, r.smallest_eigenvalue, r.steps,
                             np.where(r.steps > 1, np.inf, r.excess), floor=r.floor)
                for r in sgd]
    with pytest.raises(ValueError, match="finite curves"):
        method_frontiers(diverged)
    with pytest.raises(ValueError, match="methods must be among"):
        frontier_tasks("power-law", [point], [16, 32, 64], methods=("adam",))
    with pytest.raises(ValueError, match="at least 3 distinct sizes"):
        frontier_tasks("power-law", [point], [16, 32, 32])
    with pytest.raises(ValueError, match="alpha must be > 1/4"):
        frontier_horizon("dana-decaying", "power-law", PhasePoint("Ic", 0.2, 0.8), 64)
    with pytest.raises(ValueError, match="problem must be one of"):
        frontier_horizon("sgd", "gaussian", point, 64)


def test_the_frontier_tables_are_tidy(method_family, tmp_path):
    """``method_frontiers.csv``: one row per method, phase and exponent, numbers as floats;
    the figure's data: one row per method, phase, series, size and step, ``f = d B t``."""
    frontiers = method_frontiers(method_family)
    rows = method_frontier_rows(frontiers)
    paths = write_method_frontiers(frontiers, tmp_path, rows)
    assert {p.name for p in paths} == {"method_frontiers.png", "method_frontiers.pdf",
                                       "method_frontiers.data.csv", "method_frontiers.md",
                                       "method_frontiers.csv"}
    table = pd.read_csv(tmp_path / "method_frontiers.csv")
    assert len(table) == 2 * len(METHODS) * 2
    assert not table.duplicated(["method", "phase", "quantity"]).any()
    for column in ("measured", "error", "window_lo", "window_hi", "sgd_measured", "alpha"):
        assert pd.api.types.is_float_dtype(table[column]), column
    assert (table.window_lo < table.window_hi).all() and set(table.quantity) == {"eta", "xi"}
    data = pd.read_csv(tmp_path / "method_frontiers.data.csv")
    assert set(data.series) == {"frontier", "curve"} and set(data.method) == set(METHODS)
    assert not data.duplicated(["method", "phase", "series", "d", "t"]).any()
    np.testing.assert_allclose(data.flops, data.d * data.batch * data.t, rtol=1e-12)
    markdown = (tmp_path / "method_frontiers.md").read_text()
    assert markdown.count("\n") == 2 + 2 * len(METHODS)


def test_the_outscaling_frontier_command_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["outscaling", "--phases", "II", "--size", "7", "--frontier", "--sizes", "5:7",
                 "--scheduler", "pool", "--workers", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Compute-optimal frontiers, d = 2^5 … 2^7" in text
    assert re.search(r"\| II \(0\.7, 0\.6\) \| sgd-m \| \d\.\d{3} ± \d\.\d{3} \| 0\.667 \|", text)
    assert "16 curves (0 from the cache)" in text
    for name in ("method_frontiers.png", "method_frontiers.csv", "methods.csv"):
        assert (out / name).stat().st_size > 0
    for argv, message in ((["--sizes", "5:7"], "add --frontier"),
                          (["--frontier", "--lr", "tuned"], "needs --lr rule"),
                          (["--frontier", "--phases", "Ic"], "needs α > 1/4"),
                          (["--frontier", "--sizes", "5:17"], "K2 <= 16"),
                          (["--frontier", "--sizes", "5:6"], "at least 3 sizes")):
        with pytest.raises(SystemExit) as exit_:
            main(["outscaling", "--out", str(out), *argv])
        assert exit_.value.code == 2
        assert message in capsys.readouterr().err


# -- the (α, β) plane ------------------------------------------------------------------------
def test_the_plane_measures_the_predicted_exponents_in_phases_ia_and_ii(tmp_path, capsys):
    """A 3 × 3 grid above the high-dimensional line (sizes 2^8 … 2^11): at every point of
    phases Ia and II the measured η is within 0.03 of the predicted one; the command line
    writes the maps and the table, and refuses bad ranges."""
    out = tmp_path / "plane"
    assert main(["scaling-plane", "--grid", "3", "--alpha", "0.7", "1.1", "--beta", "0.2", "0.6",
                 "--scheduler", "pool", "--workers", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| 0.7 | 0.2 | Ia |" in text
    for name in ("plane.png", "plane.data.csv", "plane.md"):
        assert (out / name).stat().st_size > 0
    cached = run_curves(plane_tasks("power-law", [0.7, 0.9, 1.1], [0.2, 0.4, 0.6],
                                    [2**k for k in range(8, 12)]), cache_dir=out / "cache")
    assert cached.cached == len(cached.results) == 36
    checked = 0
    for p in plane_points(cached.results):
        if p.phase in ("Ia", "II"):
            assert p.eta == pytest.approx(p.predicted_eta, abs=0.03), p
            checked += 1
    assert checked >= 6
    for argv, message in ((["--alpha", "1", "0.5"], "LOW < HIGH"), (["--grid", "1"], "--grid"),
                          (["--beta", "0", "1"], "--beta"), (["--sizes", "8:9"], "K1 + 2")):
        with pytest.raises(SystemExit) as exit_:
            main(["scaling-plane", "--out", str(out), *argv])
        assert exit_.value.code == 2
        assert message in capsys.readouterr().err


def test_the_tuned_learning_rate_is_a_minimum_of_the_exact_risk():
    """SGD on the truncated power law (d = 64) at T = 500: the tuned η beats every point of
    a fine grid within 1e-9 relative and is a local minimum; a range that only diverges, and
    bad ranges, are refused."""
    model = power_law_covariance(0.7, 0.6, 64, v=math.inf)

    def make(lr):
        return Optimizer("sgd", lr=lr)

    tuned = tuned_learning_rate(model, make, 500, (0.02, 1.0))
    assert not tuned.at_edge
    grid = np.geomspace(0.02, 1.0, 101)
    risks = [risk_at_horizon(model, make, lr, 500) for lr in grid]
    assert tuned.risk <= min(risks) * (1 + 1e-9)
    for factor in (0.99, 1.01):
        assert risk_at_horizon(model, make, tuned.lr * factor, 500) >= tuned.risk
    with pytest.raises(ValueError, match="diverges by step"):
        tuned_learning_rate(model, make, 500, (5.0, 50.0))
    for bad in ((0, 1), (1, 0.5), (0.1, math.inf)):
        with pytest.raises(ValueError, match="lr_range must be"):
            tuned_learning_rate(model, make, 500, bad)
