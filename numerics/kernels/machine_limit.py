"""The machine's limit for a linear recursion: peak fused multiply-adds per second.

A probe kernel (compiled like the generated kernels, same flags and the same
native vector width) runs many independent FMA chains; the best of a few
accumulator counts is the limit (a count that spills or stalls is slower, never
faster, so the maximum is a conservative peak); its rate,
divided by the FMAs one row-step needs (``n²`` for ``A X`` with the forcing
folded in, plus the risk weights), bounds the row-steps per second one core can
reach.
"""

from __future__ import annotations

import ctypes
import time

from sparsemom.numerics.kernels.compiler import load_kernel


def _probe_source(chains: int) -> str:
    """``chains`` independent FMA chains ``x = x·a + b`` on the native vector width
    (``vector_width.h``, as the generated kernels)."""
    return rf"""#include "vector_width.h"
long sparsemom_fma_probe_{chains}_lanes(void) {{ return LANES; }}
long sparsemom_fma_probe_{chains}_tile(void) {{ return TILE; }}
double sparsemom_fma_probe_{chains}(long iterations)
{{
    vec x[{chains}], a, b;
    for (int l = 0; l < LANES; ++l) {{ a[l] = 0.999999; b[l] = 1e-7; }}
    for (int k = 0; k < {chains}; ++k) for (int l = 0; l < LANES; ++l) x[k][l] = k + l;
    for (long i = 0; i < iterations; ++i)
        for (int k = 0; k < {chains}; ++k)
            x[k] = x[k] * a + b;
    double s = 0;
    for (int k = 0; k < {chains}; ++k) for (int l = 0; l < LANES; ++l) s += x[k][l];
    return s;
}}
const char *sparsemom_fma_probe_{chains}_fingerprint(void) {{ return "fma-probe-3-{chains}"; }}
"""


#: Accumulator counts tried: enough chains to cover latency × ports on current CPUs,
#: few enough to stay in registers (16 vector registers on AVX2/SSE, 32 on AVX-512).
CHAINS = (8, 12, 16)


def probe_rate(chains: int, seconds: float = 0.3) -> tuple[float, int]:
    """(FMAs per second, lanes) of the probe with ``chains`` accumulators, best of runs."""
    kernel = load_kernel(_probe_source(chains), f"sparsemom_fma_probe_{chains}",
                         f"fma-probe-3-{chains}")
    fn = kernel.function
    fn.restype = ctypes.c_double
    fn.argtypes = [ctypes.c_long]
    lanes_fn = getattr(kernel.library, f"sparsemom_fma_probe_{chains}_lanes")
    lanes_fn.restype = ctypes.c_long
    lanes = int(lanes_fn())
    iterations = 2_000_000
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        fn(iterations)
        elapsed = time.perf_counter() - start
        best = max(best, iterations * chains * lanes / elapsed)
    return best, lanes


def peak_fma_per_second(seconds: float = 0.9) -> float:
    """Measured double-precision FMAs per second on one core: the best probe over
    :data:`CHAINS` accumulator counts at the native vector width."""
    return max(probe_rate(chains, seconds / len(CHAINS))[0] for chains in CHAINS)


#: Vector instruction sets by the doubles per vector the kernels are compiled with.
ISA_OF_LANES = {8: "AVX-512", 4: "AVX/AVX2", 2: "SSE2/NEON", 1: "scalar"}


def compiled_width() -> tuple[int, int]:
    """(doubles per vector, vectors per tile) of the kernels as compiled here
    (``-march=native`` and any flags in ``CC``: ``CC="gcc -mno-avx512f"`` on an AVX-512
    CPU compiles for AVX2)."""
    kernel = load_kernel(_probe_source(CHAINS[0]), f"sparsemom_fma_probe_{CHAINS[0]}",
                         f"fma-probe-3-{CHAINS[0]}")
    values = []
    for what in ("lanes", "tile"):
        fn = getattr(kernel.library, f"sparsemom_fma_probe_{CHAINS[0]}_{what}")
        fn.restype = ctypes.c_long
        values.append(int(fn()))
    return values[0], values[1]


def compiled_lanes() -> int:
    """Doubles per vector of the kernels as compiled here (:func:`compiled_width`)."""
    return compiled_width()[0]


def vector_isa() -> str:
    """The vector instruction set the kernels are compiled for (named by their width),
    e.g. ``"AVX-512 (8 doubles)"``."""
    lanes = compiled_lanes()
    return f"{ISA_OF_LANES.get(lanes, 'unknown')} ({lanes} doubles)"
