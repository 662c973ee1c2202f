"""``sparsemom scaling``: exact SGD loss curves of power-law data over a family of sizes, one
point per phase; their parts, fitted exponents against the predicted ones, and the
compute-optimal frontier."""

from __future__ import annotations

import argparse
import os
import time

from sparsemom.numerics.cli.cluster_options import (
    add_cluster_arguments,
    add_problem_arguments,
    run_map,
    runs_here,
    scheduler_where,
    validate_cluster,
)
from sparsemom.numerics.inputs.arguments import output_dir
from sparsemom.numerics.runtime.memory import check_memory
from sparsemom.numerics.studies.output import default_output_dir
from sparsemom.numerics.studies.scaling.exponents import exponent_rows, rows_markdown
from sparsemom.numerics.studies.scaling.loss_curves import (
    PHASE_POINTS,
    CurveTask,
    curve_tasks,
    problem_bytes,
)
from sparsemom.numerics.studies.scaling.study import run_curves, write_study

DESCRIPTION = __doc__.split("``: ", 1)[1].replace("\n", " ")

#: log₂ of the sizes per problem: the default (quick) family, the ``--full`` one, and the
#: largest accepted (random features need the SVD of a 4d × d matrix).
SIZES = {"power-law": ((6, 14), (6, 16), 20), "random-features": ((6, 10), (6, 12), 13)}


def size_range(text: str) -> tuple[int, int]:
    """``K1:K2`` (``1 ≤ K1``, ``K1 + 2 ≤ K2 ≤ 20``): the sizes ``d = 2^K1 … 2^K2``."""
    try:
        first, last = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K1:K2, two integers (sizes 2^K1 … 2^K2); "
                                         f"got {text!r}") from None
    if not (1 <= first and first + 2 <= last <= 20):
        raise argparse.ArgumentTypeError(f"expected 1 <= K1 and K1 + 2 <= K2 <= 20 (at least 3 "
                                         f"sizes for a frontier); got {text!r}")
    return first, last


def phase_names(text: str) -> tuple[str, ...]:
    """Comma-separated phase names of the study's points."""
    known = [p.phase for p in PHASE_POINTS]
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in known]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"expected phase names among {', '.join(known)}; "
                                         f"got {text!r}")
    return names


def add_arguments(parser) -> None:
    add_problem_arguments(parser)
    parser.add_argument("--phases", type=phase_names, default=None,
                        help="comma-separated phases (default: every phase: "
                        f"{', '.join(p.phase for p in PHASE_POINTS)})")
    family = parser.add_mutually_exclusive_group()
    family.add_argument("--full", action="store_true", help="the paper-size family of sizes")
    family.add_argument("--sizes", type=size_range, default=None,
                        help="K1:K2, sizes d = 2^K1 … 2^K2 (default: power-law 6:14, "
                        "random-features 6:10; with --full 6:16 and 6:12; K2 at most "
                        f"{SIZES['power-law'][2]} and {SIZES['random-features'][2]}, and within "
                        "the free memory)")
    parser.add_argument("--out", type=output_dir, default=default_output_dir("scaling"),
                        help="output directory")
    add_cluster_arguments(parser)


def validate(args) -> None:
    """The sizes within the problem's limit and, for curves run on this machine, within its
    memory (the largest size on every worker at once: the largest tasks start first); a named
    scheduler answers before the study."""
    quick, full, top = SIZES[args.problem]
    args.sizes = args.sizes or (full if args.full else quick)
    if args.sizes[1] > top:
        raise ValueError(f"--sizes for {args.problem} must end at K2 <= {top}; got "
                         f"{args.sizes[0]}:{args.sizes[1]}")
    validate_cluster(args)
    points = _points(args)
    check_sizes_fit(args, points[0], len(points))


def check_sizes_fit(args, point, points: int) -> None:
    """A ``ValueError`` naming ``--sizes`` when the curves run on this machine and the
    largest size at ``point``, on every worker at once (``points`` of them at most: the
    largest tasks start first), needs more than half the free memory."""
    if not runs_here(args):
        return
    largest = CurveTask(args.problem, point, 2 ** args.sizes[1])
    at_once = min(args.workers or os.cpu_count() or 1, points)
    try:
        check_memory(f"{at_once} curve{'s' * (at_once > 1)} of d = {largest.d} at once",
                     at_once * problem_bytes(largest))
    except ValueError as exc:
        raise ValueError(f"argument --sizes: {exc}; use a smaller K2 or fewer --workers") from None


def _points(args) -> list:
    """The phase points of ``--phases``, in the order of ``PHASE_POINTS``."""
    return [p for p in PHASE_POINTS if args.phases is None or p.phase in args.phases]


def run(args) -> int:
    points = _points(args)
    dims = [2**k for k in range(args.sizes[0], args.sizes[1] + 1)]
    tasks = curve_tasks(args.problem, points, dims, args.batch, args.seed)
    run_ = run_map(args, "scaling", run_curves, tasks)
    if run_ is None:
        return 1
    start = time.perf_counter()
    rows = exponent_rows(run_.results)
    fitting = time.perf_counter() - start
    paths = write_study(run_.results, args.out, rows)
    writing = time.perf_counter() - start - fitting
    print(rows_markdown(rows))
    print(f"\n{len(tasks)} curves ({run_.cached} from the cache) in {run_.seconds:.1f} s "
          f"on {scheduler_where(args)} ({run_.computing:.1f} s computing them); "
          f"fits {fitting:.1f} s; figures and tables {writing:.1f} s")
    for path in paths:
        print(path)
    return 0
