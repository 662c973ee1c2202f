"""Benchmark of the coupled-mode kernels: ``sparsemom benchmark --which coupled``.

Mode-steps per second of ``exact_risk`` on a power-law covariance (heavy ball through the
renewal equation and through the direct kernel; DANA-decaying with its schedules), on one and
on all threads, and NumPy, next to the machine's limit: the measured FMA peak of one core over
the multiply-adds of one coupled mode-step (the non-zero entries of ``A``, ``u``, ``q``, ``w``).
"""

from __future__ import annotations

import os

from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.numerics.codegen.mode_polynomials import mode_polynomials
from sparsemom.numerics.inputs import schedules
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.inputs.spectra import power_law_covariance
from sparsemom.numerics.kernels.characteristic_sums import sequence_sums
from sparsemom.numerics.kernels.coupled import float_coefficients, risk_c
from sparsemom.numerics.kernels.exact_risk import exact_risk
from sparsemom.numerics.kernels.machine_limit import peak_fma_per_second, vector_isa
from sparsemom.numerics.kernels.renewal import characteristic_inputs
from sparsemom.numerics.studies.benchmarks import best_seconds, cpu_name, section


def multiply_adds_per_mode_step(rec) -> int:
    """FMAs of one coupled mode-step: ``A x`` (non-zero entries), ``u S``, ``q · x``, ``w · x``."""
    count = sum(1 for x in rec.transition if x != 0)
    for block in (rec.coupling, rec.coupling_weights, rec.risk_weights):
        count += sum(1 for x in block if x != 0)
    return count


#: Timed calls per case (the best is kept), each after one untimed call that compiles.
REPEAT = 3


def benchmark_coupled(modes: int = 10_000, steps: int = 2_000) -> list[tuple[str, float, str]]:
    """``(name, mode-steps/s, note)`` per case (module docstring).  Heavy ball with constant
    hyper-parameters goes through the renewal equation (its sums over modes by the blocks'
    characteristic recurrences, :mod:`~sparsemom.numerics.kernels.characteristic_sums`, whose
    kernel is also timed alone: the whole call adds the certificate, the setup and the
    renewal solve);
    the direct kernel (one fused pass per step) is measured on its own too, and serves
    DANA-decaying."""
    model = power_law_covariance(1.0, 0.75, modes, sigma2=0.01)
    heavy = Optimizer("heavy-ball", lr=0.05, beta=0.9, batch=4)
    dana = Optimizer("dana", lr=0.3, g3=0.05, delta=1.0, batch=4,
                     schedules=schedules.dana_decaying(1.0))
    cores = os.cpu_count() or 1
    work = modes * steps
    peak = peak_fma_per_second()
    rec = recursion_for(model, heavy)
    fma = multiply_adds_per_mode_step(rec)
    n = len(rec.state)
    recurrence_ops = 2 * 2 * n    # two sequences of n FMAs and n adds (characteristic_sums)
    rows, values = parameter_values(model, heavy, coupled=True)
    out = []

    def timed(name: str, run, note) -> None:
        """One row per thread count: ``run(threads)`` timed after an untimed call that
        compiles; the note ``note(rate, threads)``, and the speed-up over one thread."""
        first = None
        for threads in (1, cores):
            run(threads, 2)
            rate = work / best_seconds(lambda t=threads: run(t, steps), REPEAT)
            first = first or rate
            gain = f"; {rate / first:.2f}x the 1-thread run" if threads > 1 else ""
            out.append((f"{name}, {threads} thread(s)", rate, note(rate, threads) + gain))

    timed("c, heavy ball, renewal (the whole exact_risk call)",
          lambda t, k: exact_risk(model, heavy, k, backend="c", threads=t),
          lambda rate, t: f"{rate / (peak * t / fma):.2f} of the limit at {fma} FMA per "
                          f"mode-step; its characteristic recurrences do {recurrence_ops} "
                          f"operations: {rate * recurrence_ops / (peak * t):.2f} of the peak")
    a = float_coefficients(rec, values, rows)
    chi, starts, _ = characteristic_inputs(rec, values, rows, None, a, [a["coupling_weights"]])
    timed("c, its characteristic-sums kernel",
          lambda t, k: sequence_sums(chi, starts, k + 1, t),
          lambda rate, t: f"{rate / (peak * t / fma):.2f} of the limit at {fma} FMA per "
                          f"mode-step; {recurrence_ops} operations: "
                          f"{rate * recurrence_ops / (peak * t):.2f} of the peak")
    ops = mode_polynomials(rec).operations_per_mode_step()
    timed("c, heavy ball, direct", lambda t, k: risk_c(rec, values, rows, k, t),
          lambda rate, t: f"{rate / (peak * t / fma):.2f} of the limit ({fma} FMA per "
                          f"mode-step); its polynomial step does {ops} operations")
    exact_risk(model, dana, 2, backend="c", threads=1)
    rate = work / best_seconds(lambda: exact_risk(model, dana, steps, backend="c", threads=1),
                               REPEAT)
    ops = mode_polynomials(recursion_for(model, dana)).operations_per_mode_step()
    out.append(("c, DANA-decaying, direct, 1 thread", rate,
                f"{rate / (peak / ops):.2f} of the limit at its {ops} operations per mode-step "
                f"(A built from λ, λ² every step); {rate / (peak / fma):.2f} of the "
                f"time-invariant {fma}-FMA limit"))
    rate = work / 10 / best_seconds(lambda: exact_risk(model, heavy, steps // 10,
                                                        backend="numpy"), 1)
    out.append(("numpy, heavy ball, direct", rate, ""))
    out.append(("machine limit, 1 core, heavy ball", peak / fma,
                f"{peak / 1e9:.1f} GFMA/s at {vector_isa()} width / {fma} FMA per mode-step"))
    return out


def coupled_section(modes: int = 10_000, steps: int = 20_000) -> dict:
    """:func:`benchmark_coupled` as a :func:`~sparsemom.numerics.studies.benchmarks.section`."""
    return section("coupled", f"exact_risk of coupled modes: power-law covariance, {modes} "
                   f"modes, {steps} steps", "mode-steps/s", benchmark_coupled(modes, steps))


def print_coupled_benchmark(modes: int = 10_000, steps: int = 20_000) -> None:
    print(f"exact_risk of coupled modes: power-law covariance, {modes} modes, {steps} steps")
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores, vector ISA {vector_isa()}")
    print(f"{'case':40s} {'mode-steps/s':>12s}  note")
    for name, rate, note in benchmark_coupled(modes, steps):
        print(f"{name:40s} {rate:12.3g}  {note}")
