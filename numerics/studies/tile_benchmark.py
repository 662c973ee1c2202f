"""The tile of the C kernel, measured on this CPU (``sparsemom benchmark --which tiles``).

A kernel advances ``TILE`` vectors of ``LANES`` rows together (``vector_width.h``): enough
independent recurrences to hide the FMA latency, few enough that state and coefficients
stay in registers. The best tile depends on the CPU and the recursion's size, so this
sweep compiles the kernels of SGD, heavy-ball and DANA (1, 3 and 6 moments) at the
native width for each tile and measures ``exact_risk`` row-steps per second on one thread;
the tile ``vector_width.h`` chooses for this width is marked, with the best.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from sparsemom.derivations import UPDATE_RULES
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.kernels.compiler import extra_flags
from sparsemom.numerics.kernels.exact_risk import exact_risk
from sparsemom.numerics.kernels.machine_limit import ISA_OF_LANES, compiled_width
from sparsemom.numerics.runtime.progress import progress
from sparsemom.numerics.simulate.token_stream import zipf_frequencies
from sparsemom.numerics.studies.benchmarks import section

#: Tiles tried (vectors of rows per tile).
TILES = (1, 2, 3, 4, 6, 8)
#: Recursions of 1, 3 and 6 moments.
TILE_RULES = ("sgd", "heavy-ball", "dana")


@dataclass(frozen=True)
class TileSweep:
    """``rates[rule][i]``: row-steps per second at ``tiles[i]`` (best of ``repeat``), at
    ``lanes`` doubles per vector, where ``vector_width.h`` chooses ``default_tile``."""

    lanes: int
    default_tile: int
    tiles: tuple[int, ...]
    rates: dict[str, tuple[float, ...]]
    rows: int
    steps: int

    def best_tile(self, rule: str) -> int:
        return self.tiles[int(np.argmax(self.rates[rule]))]

    def default_fraction(self, rule: str) -> float:
        """The default tile's rate over the best tile's (1 when it is the best)."""
        rates = self.rates[rule]
        if self.default_tile not in self.tiles:
            return float("nan")
        return rates[self.tiles.index(self.default_tile)] / max(rates)


def _optimizer(rule: str) -> Optimizer:
    spec = UPDATE_RULES[rule]
    return Optimizer(rule, lr=0.01, beta=spec.example_beta(0.9), batch=8,
                     **spec.example_hyper_parameters())


def sweep_tiles(rows: int = 200_000, steps: int = 200, tiles=TILES, rules=TILE_RULES,
                repeat: int = 3) -> TileSweep:
    """Row-steps per second of ``exact_risk(backend="c", threads=1)`` on a Zipf(1.1) stream
    of ``rows`` rows for ``steps`` steps, per rule and tile (kernels compiled with
    ``-DLANES=<native> -DTILE=<tile>``; the first call of each, which compiles, untimed)."""
    lanes, default_tile = compiled_width()
    model = SparseLeastSquares(d=64, p=zipf_frequencies(rows), R0=1.0, sigma2=0.01)
    cases = [(rule, tile) for rule in rules for tile in tiles]
    rates: dict[str, list[float]] = {rule: [] for rule in rules}
    for rule, tile in progress(cases, desc="tiles"):
        opt = _optimizer(rule)
        with extra_flags(f"-DLANES={lanes}", f"-DTILE={tile}"):
            exact_risk(model, opt, 1, backend="c", threads=1)
            best = np.inf
            for _ in range(repeat):
                start = time.perf_counter()
                exact_risk(model, opt, steps, backend="c", threads=1)
                best = min(best, time.perf_counter() - start)
        rates[rule].append(rows * steps / best)
    return TileSweep(lanes, default_tile, tuple(tiles),
                     {rule: tuple(r) for rule, r in rates.items()}, rows, steps)


def tile_section(rows: int = 200_000, steps: int = 200) -> dict:
    """:func:`sweep_tiles` as a :func:`~sparsemom.numerics.studies.benchmarks.section`: one
    row per recursion and tile, the default tile and the best marked in the note."""
    sweep = sweep_tiles(rows, steps)
    cases = []
    for rule, rates in sweep.rates.items():
        best = sweep.best_tile(rule)
        for tile, rate in zip(sweep.tiles, rates):
            marks = [m for m, on in (("default", tile == sweep.default_tile),
                                     ("best", tile == best)) if on]
            cases.append((f"{rule}, tile {tile}", rate, ", ".join(marks)))
    isa = ISA_OF_LANES.get(sweep.lanes, "unknown")
    return section("tiles", f"C kernel tile, {isa} ({sweep.lanes} doubles), {rows} rows x "
                   f"{steps} steps, 1 thread", "row-steps/s", cases)


def print_tile_benchmark(rows: int = 200_000, steps: int = 200) -> None:
    """The sweep as a table (10⁹ row-steps/s), the default tile marked ``*``, the best
    ``^``, and how far the default is from the best per rule."""
    sweep = sweep_tiles(rows, steps)
    isa = ISA_OF_LANES.get(sweep.lanes, "unknown")
    print(f"C kernel tile, {isa} ({sweep.lanes} doubles), {rows} rows x {steps} steps, "
          f"1 thread, 1e9 row-steps/s; * the tile vector_width.h chooses ({sweep.default_tile}),"
          " ^ the best")
    print(f"{'recursion':12s}" + "".join(f"{'tile ' + str(t):>11s}" for t in sweep.tiles)
          + "   default/best")
    for rule, rates in sweep.rates.items():
        best = sweep.best_tile(rule)
        cells = "".join(f"{r / 1e9:9.2f}{'*' if t == sweep.default_tile else ' '}"
                        f"{'^' if t == best else ' '}" for t, r in zip(sweep.tiles, rates))
        print(f"{rule:12s}{cells}   {sweep.default_fraction(rule):.2f}")
