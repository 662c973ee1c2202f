"""Benchmarks (scripts, not tests): ``sparsemom benchmark``.

``exact-risk``: row-steps per second of ``exact_risk`` on a Zipf token stream
(heavy-ball), for the C kernel (one and all threads; one thread with a cosine learning-rate
schedule), the generated NumPy
backend, a plain full-array NumPy loop (the baseline), and mpmath at 50 digits;
next to the machine's limit (:mod:`sparsemom.numerics.kernels.machine_limit`).
"""

from __future__ import annotations

import datetime
import os
import platform
import time

import mpmath
import numpy as np

from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.numerics.codegen.expressions import scheduled_expressions
from sparsemom.numerics.codegen.sources import multiply_adds_per_row_step
from sparsemom.numerics.inputs import schedules
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.kernels.backends import coefficient_arrays, float_arguments
from sparsemom.numerics.kernels.exact_risk import exact_risk
from sparsemom.numerics.kernels.machine_limit import compiled_width, peak_fma_per_second, vector_isa
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk
from sparsemom.numerics.simulate.sparse import sparse_monte_carlo_risk
from sparsemom.numerics.simulate.token_stream import zipf_frequencies
from sparsemom.numerics.version import __version__


def _plain_numpy_loop(model, optimizer, steps: int) -> np.ndarray:
    """Baseline: the generated coefficients iterated over full arrays, step by step."""
    rows, values = parameter_values(model, optimizer)
    rec = recursion_for(model, optimizer)
    A, c, w, X = coefficient_arrays(rec, float_arguments(rec, values), rows)
    risk = [float(np.sum(w * X))]
    for _ in range(steps):
        X = np.einsum("ijr,jr->ir", A, X) + c
        risk.append(float(np.sum(w * X)))
    return np.array(risk)


def _rate(fn, row_steps: int, repeat: int = 3) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return row_steps / best, out


def benchmark_exact_risk(rows: int = 1_000_000, steps: int = 200, mp_rows: int = 200,
                         mp_steps: int = 100) -> list[tuple[str, float, str]]:
    """Measured row-steps per second of each backend; rows of ``(name, rate, note)``."""
    model = SparseLeastSquares(d=64, p=zipf_frequencies(rows), R0=1.0, sigma2=0.01)
    opt = Optimizer("heavy-ball", lr=0.01, beta=0.9, batch=8)
    exact_risk(model, opt, 1, backend="c")  # compile / load once, outside the timing
    work = rows * steps
    results = []
    rate_c1, ref = _rate(lambda: exact_risk(model, opt, steps, backend="c", threads=1), work)
    results.append(("c, 1 thread", rate_c1, ""))
    scheduled = Optimizer("heavy-ball", lr=0.01, beta=0.9, batch=8,
                          lr_schedule=schedules.cosine(steps, 0.1))
    exact_risk(model, scheduled, 1, backend="c")
    rate_s1, _ = _rate(lambda: exact_risk(model, scheduled, steps, backend="c", threads=1), work)
    results.append(("c, 1 thread, cosine lr schedule", rate_s1, ""))
    cores = os.cpu_count() or 1
    rate_cn, _ = _rate(lambda: exact_risk(model, opt, steps, backend="c", threads=cores), work)
    results.append((f"c, {cores} threads", rate_cn, ""))
    rate_np, out = _rate(lambda: exact_risk(model, opt, steps, backend="numpy"), work, 1)
    results.append(("numpy (generated, blocked)", rate_np,
                    f"max rel. diff to c {np.max(np.abs(out / ref - 1)):.1e}"))
    rate_base, out = _rate(lambda: _plain_numpy_loop(model, opt, steps), work, 1)
    results.append(("plain numpy loop (baseline)", rate_base,
                    f"c is {rate_c1 / rate_base:.0f}x faster on 1 thread"))
    small = SparseLeastSquares(d=64, p=zipf_frequencies(mp_rows), R0=1.0, sigma2=0.01)
    rate_mp, _ = _rate(lambda: exact_risk(small, opt, mp_steps, backend="mpmath", dps=50),
                       mp_rows * mp_steps, 1)
    results.append(("mpmath, dps=50", rate_mp, f"{mp_rows} rows x {mp_steps} steps"))
    rec = recursion_for(model, opt)
    n = len(rec.state)
    fma = n * n + 1
    # The scheduled step rebuilds each entry of A and c from its (monomial, factor) terms
    # (one FMA each) before applying A: FMAs per row-step of the scheduled kernel.
    fma_scheduled = sum(len(t) for t in scheduled_expressions(rec).terms) + n * n
    peak = peak_fma_per_second()
    limit = peak / fma
    results.append(("machine limit, 1 core", limit,
                    f"{peak / 1e9:.1f} GFMA/s measured at {vector_isa()} width / {fma} FMA per "
                    "row-step"))
    pair = multiply_adds_per_row_step(rec)
    results[0] = (*results[0][:2], f"{rate_c1 / limit:.2f} of the 1-core limit; two steps at "
                  f"once, {pair:g} FMA per row-step: {rate_c1 / (peak / pair):.2f} of the peak")
    results[1] = (*results[1][:2], f"{rate_s1 / rate_c1:.2f}x the time-invariant kernel; "
                  f"{rate_s1 / (peak / fma_scheduled):.2f} of the limit at its {fma_scheduled} "
                  "FMA per row-step")
    results[2] = (*results[2][:2], f"{rate_cn / (limit * cores):.2f} of the {cores}-core limit; "
                  f"{rate_cn / rate_c1:.2f}x the 1-thread run")
    return results


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``), for naming where a claim was measured."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> dict:
    """Where and when a benchmark ran: the CPU's name, its cores, the vector ISA and tile the
    kernels are compiled for here, the date (UTC), the host's 1-minute load average when it
    started (other jobs on a shared host lower the 2-thread rows) and the versions that
    matter."""
    lanes, tile = compiled_width()
    return {"cpu": cpu_name(), "cores": os.cpu_count() or 1, "isa": vector_isa(),
            "lanes": lanes, "tile": tile,
            "date": datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
            "load": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
            "python": platform.python_version(), "numpy": np.__version__,
            "mpmath": mpmath.__version__, "sparsemom": __version__}


def section(name: str, title: str, unit: str, rows) -> dict:
    """One benchmark's rows ``(case, value, note)`` as data: ``{"name", "title", "unit",
    "rows": [{"case", "value", "note"}, …]}`` (what ``sparsemom benchmark --json`` prints)."""
    return {"name": name, "title": title, "unit": unit,
            "rows": [{"case": case, "value": float(value), "note": note}
                     for case, value, note in rows]}


def exact_risk_section(rows: int = 1_000_000, steps: int = 200) -> dict:
    """:func:`benchmark_exact_risk` as a :func:`section`."""
    return section("exact-risk", f"exact_risk, heavy-ball, Zipf(1.1) token stream of {rows} "
                   f"rows, {steps} steps", "row-steps/s",
                   benchmark_exact_risk(rows=rows, steps=steps))


def monte_carlo_section() -> dict:
    """:func:`benchmark_monte_carlo` as a :func:`section`."""
    return section("monte-carlo", "Monte Carlo: heavy-ball, uniform token stream, d = 8, B = 8",
                   "s", benchmark_monte_carlo())


def print_exact_risk_benchmark(**kwargs) -> None:
    rows = kwargs.get("rows", 1_000_000)
    steps = kwargs.get("steps", 200)
    print(f"exact_risk, heavy-ball, Zipf(1.1) token stream of {rows} rows, {steps} steps, "
          f"mpmath {mpmath.__version__}")
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores, vector ISA {vector_isa()}, "
          f"tiles of {compiled_width()[1]} vectors")
    print(f"{'backend':32s} {'row-steps/s':>12s}  note")
    for name, rate, note in benchmark_exact_risk(**kwargs):
        print(f"{name:32s} {rate:12.3g}  {note}")


def best_seconds(fn, repeat: int = 1) -> float:
    """The shortest wall time of ``repeat`` calls of ``fn``."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def benchmark_monte_carlo(rows: int = 100_000, d: int = 8, batch: int = 8, runs: int = 4,
                          dense_steps: int = 10, sparse_steps: int = 2_000,
                          scaling_runs: int = 20) -> list[tuple]:
    """Seconds per step of the dense and sparse simulators (uniform stream, heavy-ball);
    sparse per-step time for 1e3…``rows`` rows; the sparse simulator's whole time at
    ``rows`` rows over its time at 1e3 rows (``scaling_runs`` runs, best of 3: its cost
    should not grow with the rows); and the time each of Monte Carlo and the exact theory
    needs for the risk curve within 1 % relative."""
    opt = Optimizer("heavy-ball", lr=0.05, beta=0.9, batch=batch)
    out = []

    def stream(r: int) -> SparseLeastSquares:
        return SparseLeastSquares(d, np.full(r, 1.0 / r), R0=1.0, sigma2=0.1)

    model = stream(rows)
    dense = best_seconds(lambda: monte_carlo_risk(model, opt, dense_steps, runs, 0)) / dense_steps
    sparse = best_seconds(lambda: sparse_monte_carlo_risk(model, opt, sparse_steps, runs, 0)) \
        / sparse_steps
    out.append((f"dense, {rows} rows, {runs} runs", dense, ""))
    out.append((f"sparse, {rows} rows, {runs} runs", sparse, f"{dense / sparse:.0f}x faster"))
    for r in (1_000, 10_000):
        m = stream(r)
        out.append((f"sparse, {r} rows, {runs} runs",
                    best_seconds(lambda: sparse_monte_carlo_risk(m, opt, sparse_steps, runs, 0))
                    / sparse_steps, "per step"))
    small, large = sparse_cost_against_rows(rows, d, batch, scaling_runs, sparse_steps)
    out.append((f"sparse, 1000 rows, {scaling_runs} runs, {sparse_steps} steps", small,
                "whole run, best of 3"))
    out.append((f"sparse, {rows} rows, {scaling_runs} runs, {sparse_steps} steps", large,
                f"{large / small:.2f}x the time at 1000 rows (target <= 1.5)"))
    # Monte Carlo vs theory for one curve within 1 % (one row, 200 steps).
    one = SparseLeastSquares(d, 0.3, R0=1.0, sigma2=0.1)
    steps, pilot = 200, 2_000
    mc_time = best_seconds(lambda: monte_carlo_risk(one, opt, steps, pilot, 1))
    traj = monte_carlo_risk(one, opt, steps, pilot, 1, keep_trajectories=True).trajectories
    rel_sd = np.max(traj[:, 1:].std(axis=0) / traj[:, 1:].mean(axis=0))
    needed = int(np.ceil((rel_sd / 0.01) ** 2))  # runs for a standard error of 1 %
    mc_needed = mc_time * needed / pilot
    theory = best_seconds(lambda: exact_risk(one, opt, steps), repeat=5)
    out.append(("Monte Carlo to 1 % (extrapolated)", mc_needed,
                f"{needed} runs from a {pilot}-run pilot"))
    out.append(("exact theory (exact_risk)", theory, f"theory {mc_needed / theory:.0f}x faster"))
    return out


def sparse_cost_against_rows(rows: int = 100_000, d: int = 8, batch: int = 8, runs: int = 20,
                             steps: int = 2_000) -> tuple[float, float]:
    """Seconds (best of 3) of the whole sparse simulation of a uniform stream of 1 000 rows
    and of ``rows`` rows (heavy-ball): the same tokens per step, so the same time if nothing
    is done per row."""
    opt = Optimizer("heavy-ball", lr=0.05, beta=0.9, batch=batch)
    small, large = (SparseLeastSquares(d, np.full(r, 1.0 / r), R0=1.0, sigma2=0.1)
                    for r in (1_000, rows))
    return tuple(best_seconds(lambda m=m: sparse_monte_carlo_risk(m, opt, steps, runs, 0), repeat=3)
                 for m in (small, large))


def print_monte_carlo_benchmark(**kwargs) -> None:
    print("Monte Carlo: heavy-ball, uniform token stream, d = 8, B = 8 (seconds)")
    for name, seconds, note in benchmark_monte_carlo(**kwargs):
        print(f"{name:44s} {seconds:12.3g}  {note}")
