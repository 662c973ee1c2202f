"""``sparsemom outscaling``: SGD, SGD with momentum (dimension-free β) and DANA-decaying on
exact curves of power-law data, one point per phase; their time exponents against the
predicted ones, and with --frontier every method's compute-optimal frontier over a family of
sizes."""

from __future__ import annotations

from sparsemom.numerics.cli.cluster_options import (
    add_cluster_arguments,
    add_problem_arguments,
    run_map,
    scheduler_where,
    validate_cluster,
)
from sparsemom.numerics.cli.scaling import check_sizes_fit, phase_names, size_range
from sparsemom.numerics.inputs.arguments import integer_in, output_dir
from sparsemom.numerics.studies.output import default_output_dir
from sparsemom.numerics.studies.scaling.loss_curves import PHASE_POINTS
from sparsemom.numerics.studies.scaling.method_frontier import (
    frontier_rows_markdown,
    method_frontier_rows,
    method_frontiers,
)
from sparsemom.numerics.studies.scaling.methods import (
    LR_RULES,
    METHODS,
    MethodTask,
    frontier_tasks,
    horizon,
    method_rows,
    method_rows_markdown,
)
from sparsemom.numerics.studies.scaling.study import (
    run_methods,
    write_method_frontiers,
    write_methods,
)

DESCRIPTION = __doc__.split("``: ", 1)[1].replace("\n", " ")

#: log₂ of the size per problem: the default, and the largest accepted.
SIZE = {"power-law": (14, 16), "random-features": (10, 12)}
#: The default phases: those above the high-dimensional line, where exponents are predicted.
ABOVE_THE_LINE = tuple(p.phase for p in PHASE_POINTS if 2 * p.alpha > 1)
#: log₂ of the frontier's sizes per problem, by default.
FRONTIER_SIZES = {"power-law": (6, 12), "random-features": (6, 10)}


def add_arguments(parser) -> None:
    add_problem_arguments(parser)
    parser.add_argument("--phases", type=phase_names, default=ABOVE_THE_LINE,
                        help=f"comma-separated phases (default: {','.join(ABOVE_THE_LINE)})")
    parser.add_argument("--size", type=integer_in(4, 16), default=None,
                        help="K: the size d = 2^K (default: power-law 14, random-features 10)")
    parser.add_argument("--lr", choices=LR_RULES, default="rule",
                        help="each method's base learning rate: the authors' rule, or tuned "
                        "to the least exact risk at the horizon (per method and size)")
    parser.add_argument("--frontier", action="store_true",
                        help="also every method's compute-optimal frontier over the sizes "
                        "--sizes, at the authors' learning rate")
    parser.add_argument("--sizes", type=size_range, default=None,
                        help="K1:K2, the frontier's sizes d = 2^K1 … 2^K2 (with --frontier; "
                        "default: power-law 6:12, random-features 6:10; K2 at most the "
                        "--size limit)")
    parser.add_argument("--out", type=output_dir, default=default_output_dir("outscaling"),
                        help="output directory")
    add_cluster_arguments(parser)


def validate(args) -> None:
    default, top = SIZE[args.problem]
    args.size = args.size or default
    if args.size > top:
        raise ValueError(f"--size for {args.problem} must be at most {top}; got {args.size}")
    if args.sizes is not None and not args.frontier:
        raise ValueError("argument --sizes: the frontier's sizes; add --frontier")
    if args.frontier:
        if args.lr != "rule":
            raise ValueError("argument --frontier: needs --lr rule (a tuned learning rate "
                             "iterates every candidate to the frontier's horizon, past the "
                             "bend to the floor)")
        args.sizes = args.sizes or FRONTIER_SIZES[args.problem]
        if args.sizes[1] > top:
            raise ValueError(f"--sizes for {args.problem} must end at K2 <= {top}; got "
                             f"{args.sizes[0]}:{args.sizes[1]}")
        low = [p.phase for p in _points(args) if not 4 * p.alpha > 1]
        if low:
            raise ValueError(f"argument --phases: DANA's frontier needs α > 1/4 (its effective "
                             f"time t^(2 - 1/(2α)) grows); not {', '.join(low)}")
    validate_cluster(args)
    if args.frontier:
        points = _points(args)
        check_sizes_fit(args, points[0], len(points) * len(METHODS))


def _points(args) -> list:
    """The phase points of ``--phases``, in the order of ``PHASE_POINTS``."""
    return [p for p in PHASE_POINTS if p.phase in args.phases]


def run(args) -> int:
    d = 2**args.size
    tasks = []
    for point in _points(args):
        steps = horizon(args.problem, point, d, args.batch, args.seed)
        tasks += [MethodTask(m, args.problem, point, d, steps, args.batch, args.seed, args.lr)
                  for m in METHODS]
    family = []
    if args.frontier:
        dims = [2**k for k in range(args.sizes[0], args.sizes[1] + 1)]
        family = frontier_tasks(args.problem, _points(args), dims, args.batch, args.seed)
    run_ = run_map(args, "outscaling", run_methods, [*tasks, *family])
    if run_ is None:
        return 1
    results = run_.results[:len(tasks)]
    rows = method_rows(results)
    paths = write_methods(results, args.out, rows)
    print(method_rows_markdown(rows))
    if family:
        frontiers = method_frontiers(run_.results[len(tasks):])
        frontier_rows = method_frontier_rows(frontiers)
        paths += write_method_frontiers(frontiers, args.out, frontier_rows)
        print(f"\nCompute-optimal frontiers, d = 2^{args.sizes[0]} … 2^{args.sizes[1]}:\n")
        print(frontier_rows_markdown(frontier_rows))
    print(f"\n{len(tasks) + len(family)} curves ({run_.cached} from the cache) in "
          f"{run_.seconds:.1f} s on {scheduler_where(args)} ({run_.computing:.1f} s computing "
          "them)")
    for path in paths:
        print(path)
    return 0
