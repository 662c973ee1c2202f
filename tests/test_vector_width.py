"""The kernels and the machine-limit probe use the CPU's native vector width (AVX-512:
8 doubles, AVX/AVX2: 4, SSE2/NEON: 2, else 1), chosen by the preprocessor at compile
time; nothing here times anything (speed is in `sparsemom benchmark`)."""

from __future__ import annotations

import ctypes
import os

import pytest

from derivations import all_recursions
from numerics.codegen.sources import module_name
from numerics.kernels.backends import generated_c_source
from numerics.kernels.compiler import cpu_flags, load_kernel
from numerics.kernels.machine_limit import probe_rate, vector_isa


def native_lanes() -> int:
    """Doubles per vector of the widest vector instruction set the CPU reports."""
    flags = set(cpu_flags().split())
    for isa, lanes in (("avx512f", 8), ("avx2", 4), ("avx", 4), ("sse2", 2), ("asimd", 2),
                       ("neon", 2)):
        if isa in flags:
            return lanes
    return 1


def _kernel_value(rec, what: str) -> int:
    symbol = f"sparsemom_{module_name(rec)}"
    kernel = load_kernel(generated_c_source(rec), symbol, rec.fingerprint)
    fn = getattr(kernel.library, f"{symbol}_{what}")
    fn.restype = ctypes.c_long
    return int(fn())


@pytest.mark.skipif("CC" in os.environ, reason="CC may ask for another width")
def test_kernels_and_probe_use_the_native_width():
    lanes = native_lanes()
    assert probe_rate(8, seconds=0.0)[1] == lanes
    assert vector_isa().endswith(f"({lanes} doubles)")
    for rec in all_recursions()[:2]:
        assert _kernel_value(rec, "lanes") == lanes
        assert _kernel_value(rec, "tile_vectors") >= 3
