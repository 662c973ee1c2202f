"""Benchmark of the coupled-mode kernels: ``sparsemom benchmark --which coupled``.

Mode-steps per second of ``exact_risk`` on a power-law covariance (heavy ball; DANA-decaying
with its schedules), for the C kernel on one and on all threads and for NumPy, next to the
machine's limit: the measured FMA peak of one core over the multiply-adds of one mode-step
(the non-zero entries of ``A``, ``u``, ``q`` and ``w``).
"""

from __future__ import annotations

import os
import time

import numpy as np

from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.numerics.inputs import schedules
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.inputs.spectra import power_law_covariance
from sparsemom.numerics.kernels.exact_risk import exact_risk
from sparsemom.numerics.kernels.machine_limit import peak_fma_per_second, vector_isa
from sparsemom.numerics.studies.benchmarks import cpu_name


def multiply_adds_per_mode_step(rec) -> int:
    """FMAs of one coupled mode-step: ``A x`` (non-zero entries), ``u S``, ``q · x``, ``w · x``."""
    count = sum(1 for x in rec.transition if x != 0)
    for block in (rec.coupling, rec.coupling_weights, rec.risk_weights):
        count += sum(1 for x in block if x != 0)
    return count


def _best_seconds(fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def benchmark_coupled(modes: int = 10_000, steps: int = 2_000) -> list[tuple[str, float, str]]:
    """``(name, mode-steps/s, note)`` per case (module docstring)."""
    model = power_law_covariance(1.0, 0.75, modes, sigma2=0.01)
    heavy = Optimizer("heavy-ball", lr=0.05, beta=0.9, batch=4)
    dana = Optimizer("dana", lr=0.3, g3=0.05, delta=1.0, batch=4,
                     schedules=schedules.dana_decaying(1.0))
    work = modes * steps
    peak = peak_fma_per_second()
    out = []
    for name, opt, threads in (("c, heavy ball, 1 thread", heavy, 1),
                               (f"c, heavy ball, {os.cpu_count()} threads", heavy, None),
                               ("c, DANA-decaying, 1 thread", dana, 1)):
        exact_risk(model, opt, 2, backend="c", threads=threads or os.cpu_count())
        seconds = _best_seconds(lambda o=opt, t=threads: exact_risk(
            model, o, steps, backend="c", threads=t or os.cpu_count()))
        fma = multiply_adds_per_mode_step(recursion_for(model, opt))
        limit = peak / fma * (1 if threads == 1 else (os.cpu_count() or 1))
        out.append((name, work / seconds,
                    f"{work / seconds / limit:.2f} of the limit ({fma} FMA per mode-step)"))
    seconds = _best_seconds(lambda: exact_risk(model, heavy, steps // 10, backend="numpy"), 1)
    out.append(("numpy, heavy ball", work / 10 / seconds, ""))
    fma = multiply_adds_per_mode_step(recursion_for(model, heavy))
    out.append(("machine limit, 1 core, heavy ball", peak / fma,
                f"{peak / 1e9:.1f} GFMA/s at {vector_isa()} width / {fma} FMA per mode-step"))
    return out


def print_coupled_benchmark(modes: int = 10_000, steps: int = 2_000) -> None:
    print(f"exact_risk of coupled modes: power-law covariance, {modes} modes, {steps} steps")
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores, vector ISA {vector_isa()}")
    print(f"{'case':36s} {'mode-steps/s':>12s}  note")
    for name, rate, note in benchmark_coupled(modes, steps):
        print(f"{name:36s} {rate:12.3g}  {note}")
