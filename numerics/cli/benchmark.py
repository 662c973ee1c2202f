"""``sparsemom benchmark``: row-steps per second of each backend."""

from __future__ import annotations

import json
import sys

from sparsemom.numerics.inputs.arguments import integer_in
from sparsemom.numerics.kernels.compiler import CompileError
from sparsemom.numerics.studies.benchmarks import (
    exact_risk_section,
    machine,
    monte_carlo_section,
    print_exact_risk_benchmark,
    print_monte_carlo_benchmark,
)
from sparsemom.numerics.studies.coupled_benchmark import coupled_section, print_coupled_benchmark
from sparsemom.numerics.studies.tile_benchmark import print_tile_benchmark, tile_section

DESCRIPTION = ("measure the exact-risk backends (and the Monte Carlo simulators) on a Zipf token "
               "stream; with --which tiles, the C kernel's tile on this CPU; with --which "
               "coupled, the kernels of coupled modes")


#: Steps of the stream benchmarks (the coupled one runs 100 times as many by default).
STEPS_DEFAULT = 200
#: Modes of the coupled benchmark's covariance spectrum.
MODES_DEFAULT = 10_000


def validate(args) -> None:
    """``--modes`` sizes only the coupled benchmark: given with another, it is refused."""
    if args.modes is not None and args.which != "coupled":
        raise ValueError(f"argument --modes: only used with --which coupled (got --which "
                         f"{args.which})")


def _modes(args) -> int:
    return MODES_DEFAULT if args.modes is None else args.modes


def _coupled_steps(args) -> int:
    return args.steps * 100 if args.steps == STEPS_DEFAULT else args.steps


def report(args) -> dict:
    """What ``--json`` prints: :func:`~sparsemom.numerics.studies.benchmarks.machine` (CPU,
    ISA, date, versions), the command's options and one section per benchmark run."""
    sections = []
    if args.which in ("exact-risk", "all"):
        sections.append(exact_risk_section(rows=args.rows, steps=args.steps))
    if args.which in ("monte-carlo", "all"):
        sections.append(monte_carlo_section())
    if args.which == "tiles":
        sections.append(tile_section(rows=args.rows, steps=args.steps))
    if args.which == "coupled":
        sections.append(coupled_section(modes=_modes(args), steps=_coupled_steps(args)))
    return {**machine(), "which": args.which, "sections": sections}


def run(args) -> int:
    try:
        if args.json:
            print(json.dumps(report(args), indent=1, ensure_ascii=False))
            return 0
        if args.which in ("exact-risk", "all"):
            print_exact_risk_benchmark(rows=args.rows, steps=args.steps)
        if args.which in ("monte-carlo", "all"):
            print_monte_carlo_benchmark()
        if args.which == "tiles":
            print_tile_benchmark(rows=args.rows, steps=args.steps)
        if args.which == "coupled":
            print_coupled_benchmark(modes=_modes(args), steps=_coupled_steps(args))
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
    parser.add_argument("--modes", type=integer_in(1, 10**6), default=None,
                        help=f"modes of the covariance spectrum (--which coupled only; default "
                             f"{MODES_DEFAULT})")
    parser.add_argument("--rows", type=integer_in(1, 10**7), default=1_000_000, help="rows of the stream")
    parser.add_argument("--steps", type=integer_in(1, 10**5), default=STEPS_DEFAULT,
                        help="steps per run (--which coupled: 100 times the default unless given)")
    parser.add_argument("--json", action="store_true",
                        help="print the measurements as JSON (with the CPU, its vector ISA and "
                             "the date) instead of tables: docs/build.py renders them into "
                             "docs/performance.md")
