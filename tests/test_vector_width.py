"""The kernels and the machine-limit probe use the CPU's native vector width (AVX-512:
8 doubles, AVX/AVX2: 4, SSE2/NEON: 2, else 1), chosen by the preprocessor at compile
time; nothing here times anything (speed is in `sparsemom benchmark`)."""

from __future__ import annotations

import ctypes
import platform
import subprocess

import numpy as np
import pytest

from sparsemom.derivations import all_recursions
from sparsemom.numerics import exact_risk
from sparsemom.numerics.codegen.sources import C_INCLUDE_DIR, module_name
from sparsemom.numerics.inputs import schedules
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.kernels.backends import generated_c_source
from sparsemom.numerics.kernels.compiler import (
    compiler,
    cpu_flags,
    extra_flags,
    kernel_flags,
    load_kernel,
)
from sparsemom.numerics.kernels.machine_limit import compiled_width, probe_rate, vector_isa
from sparsemom.numerics.studies.tile_benchmark import sweep_tiles


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


def test_kernels_and_probe_use_the_native_width(monkeypatch):
    """With the compiler alone (any flags in ``CC``, which may ask for another width,
    left out), kernels and probe take the CPU's widest vectors."""
    monkeypatch.setenv("CC", compiler()[0])
    lanes = native_lanes()
    assert probe_rate(8, seconds=0.0)[1] == lanes
    assert vector_isa().endswith(f"({lanes} doubles)")
    for rec in all_recursions()[:2]:
        assert _kernel_value(rec, "lanes") == lanes
        assert _kernel_value(rec, "tile_vectors") >= 3


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="x86 targets are compiled on x86 hosts")
@pytest.mark.parametrize("target, lanes", [("-march=x86-64", 2), ("-march=haswell", 4),
                                           ("-march=skylake-avx512", 8)])
def test_the_width_follows_the_target_cpu(target, lanes):
    """vector_width.h read by the preprocessor as a kernel is compiled for SSE2, AVX2
    and AVX-512 CPUs (this host need not be one): 2, 4 and 8 lanes, and a tile of at
    least 3 vectors, so that the FMA latency is hidden. The compiler alone: flags in
    ``CC`` may ask for another width."""
    cc = compiler()[:1]
    proc = subprocess.run([*cc, *kernel_flags(cc), target, "-dM", "-E",
                           f"-I{C_INCLUDE_DIR}", str(C_INCLUDE_DIR / "vector_width.h")],
                          capture_output=True, text=True, check=True)
    macros = dict(line.split()[1:3] for line in proc.stdout.splitlines()
                  if line.startswith("#define ") and len(line.split()) >= 3)
    assert int(macros["LANES"]) == lanes and int(macros["TILE"]) >= 3


@pytest.mark.parametrize("lanes, tile", [(1, 4), (2, 5), (8, 2)])
def test_every_vector_width_gives_the_native_numbers(monkeypatch, lanes, tile):
    """A kernel compiled for another width (as on a CPU with SSE2/NEON, none, or
    AVX-512; set with -DLANES -DTILE) gives the native kernel's risk to rounding: tiles
    with padding lanes (23 rows), per-row and broadcast inputs, a given initial state, a
    scheduled run and active time (whose coefficients call expm1/log1p lane by lane)."""
    rng = np.random.default_rng(4)
    p = 10.0 ** rng.uniform(-9, -0.1, 23)
    model = SparseLeastSquares(d=50, p=p, R0=rng.uniform(1, 3, 23), sigma2=0.3)
    lr, beta = rng.uniform(0.01, 0.05, 23), 0.9
    opt = Optimizer("heavy-ball", lr=lr, beta=beta, batch=4)
    scheduled = Optimizer("heavy-ball", lr=lr, beta=beta, batch=4,
                          lr_schedule=schedules.cosine(40, 0.1))
    initial = {"C": np.linspace(-0.5, 0.5, 23), "V": 1.0}
    runs = [dict(optimizer=opt), dict(optimizer=opt, time="active"),
            dict(optimizer=opt, initial_state=initial), dict(optimizer=scheduled)]
    native = [exact_risk(model, steps=41, backend="c", **run) for run in runs]
    monkeypatch.setenv("CC", f"cc -DLANES={lanes} -DTILE={tile}")
    rec = next(r for r in all_recursions() if r.optimizer == "heavy-ball" and r.time_rule == "steps")
    assert (_kernel_value(rec, "lanes"), _kernel_value(rec, "tile_vectors")) == (lanes, tile)
    for run, expected in zip(runs, native):
        got = exact_risk(model, steps=41, backend="c", **run)
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0)


def test_a_tile_sweep_compiles_and_measures_each_tile():
    """`sparsemom benchmark --which tiles`: each tile is a kernel compiled with that tile
    (inside `extra_flags`, and only there) at the width the kernels have here; every
    rate is a positive, finite number (the rates themselves are the benchmark's)."""
    lanes, default_tile = compiled_width()
    rec = next(r for r in all_recursions() if r.optimizer == "sgd" and r.time_rule == "steps")
    with extra_flags(f"-DLANES={lanes}", "-DTILE=5"):
        assert (_kernel_value(rec, "lanes"), _kernel_value(rec, "tile_vectors")) == (lanes, 5)
    assert _kernel_value(rec, "tile_vectors") == default_tile
    sweep = sweep_tiles(rows=50, steps=4, tiles=(1, 5), rules=("sgd", "dana"), repeat=1)
    assert (sweep.lanes, sweep.default_tile, sweep.tiles) == (lanes, default_tile, (1, 5))
    assert sorted(sweep.rates) == ["dana", "sgd"]
    assert all(len(r) == 2 and np.all(np.isfinite(r)) and min(r) > 0 for r in sweep.rates.values())
    assert sweep.best_tile("sgd") in (1, 5)
