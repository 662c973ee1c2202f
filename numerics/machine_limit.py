"""The machine's limit for a linear recursion: peak fused multiply-adds per second.

A probe kernel (compiled like the generated kernels, same flags) runs many
independent FMA chains on the widest vectors the compiler targets; its rate,
divided by the FMAs one row-step needs (``n²`` for ``A X`` with the forcing
folded in, plus the risk weights), bounds the row-steps per second one core can
reach.
"""

from __future__ import annotations

import ctypes
import time

from .compiler import load_kernel

_PROBE = r"""
#define LANES 8
typedef double vec __attribute__((vector_size(LANES * sizeof(double))));
/* 12 independent chains x = x * a + b: enough to cover FMA latency. */
double sparsemom_fma_probe(long iterations)
{
    vec x[12], a, b;
    for (int l = 0; l < LANES; ++l) { a[l] = 0.999999; b[l] = 1e-7; }
    for (int k = 0; k < 12; ++k) for (int l = 0; l < LANES; ++l) x[k][l] = k + l;
    for (long i = 0; i < iterations; ++i)
        for (int k = 0; k < 12; ++k)
            x[k] = x[k] * a + b;
    double s = 0;
    for (int k = 0; k < 12; ++k) for (int l = 0; l < LANES; ++l) s += x[k][l];
    return s;
}
const char *sparsemom_fma_probe_fingerprint(void) { return "fma-probe-1"; }
"""


def peak_fma_per_second(seconds: float = 0.5) -> float:
    """Measured double-precision FMAs per second on one core."""
    kernel = load_kernel(_PROBE, "sparsemom_fma_probe", "fma-probe-1")
    fn = kernel.function
    fn.restype = ctypes.c_double
    fn.argtypes = [ctypes.c_long]
    iterations = 1_000_000
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        fn(iterations)
        elapsed = time.perf_counter() - start
        best = max(best, iterations * 12 * 8 / elapsed)
    return best
