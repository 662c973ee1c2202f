"""``sparsemom benchmark``: row-steps per second of each backend."""

from __future__ import annotations

import sys

from sparsemom.numerics.inputs.arguments import integer_in
from sparsemom.numerics.kernels.compiler import CompileError
from sparsemom.numerics.studies.benchmarks import (
    print_exact_risk_benchmark,
    print_monte_carlo_benchmark,
)
from sparsemom.numerics.studies.coupled_benchmark import print_coupled_benchmark
from sparsemom.numerics.studies.tile_benchmark import print_tile_benchmark

DESCRIPTION = ("measure the exact-risk backends (and the Monte Carlo simulators) on a Zipf token "
               "stream; with --which tiles, the C kernel's tile on this CPU; with --which "
               "coupled, the kernels of coupled modes")


#: Steps of the stream benchmarks (the coupled one runs 100 times as many by default).
STEPS_DEFAULT = 200


def run(args) -> int:
    try:
        if args.which in ("exact-risk", "all"):
            print_exact_risk_benchmark(rows=args.rows, steps=args.steps)
        if args.which in ("monte-carlo", "all"):
            print_monte_carlo_benchmark()
        if args.which == "tiles":
            print_tile_benchmark(rows=args.rows, steps=args.steps)
        if args.which == "coupled":
            print_coupled_benchmark(modes=args.modes, steps=args.steps * 100
                                    if args.steps == STEPS_DEFAULT else args.steps)
    except CompileError as exc:  # the C kernel it measures cannot be built here: one line
        print(f"sparsemom benchmark: error: {exc}", file=sys.stderr)
        return 1
    return 0


def add_arguments(parser) -> None:
    parser.add_argument("--which", choices=["exact-risk", "monte-carlo", "all", "tiles",
                                            "coupled"],
                        default="all",
                        help="what to measure (all: exact-risk and monte-carlo; tiles: the C "
                             "kernel at tiles 1-8 for 1, 3 and 6 moments: 18 kernels, about 10 s at "
                             "--rows 200000; coupled: the coupled-mode kernels of Gaussian data "
                             "with a covariance spectrum, --modes modes)")
    parser.add_argument("--modes", type=integer_in(1, 10**6), default=10_000,
                        help="modes of the covariance spectrum (--which coupled)")
    parser.add_argument("--rows", type=integer_in(1, 10**7), default=1_000_000, help="rows of the stream")
    parser.add_argument("--steps", type=integer_in(1, 10**5), default=STEPS_DEFAULT,
                        help="steps per run (--which coupled: 100 times the default unless given)")
