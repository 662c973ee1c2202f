"""``sparsemom outscaling``: SGD, SGD with momentum (dimension-free β) and DANA-decaying on
exact curves of power-law data, one point per phase; their time exponents against the
predicted ones."""

from __future__ import annotations

from sparsemom.numerics.cli.cluster_options import (
    add_cluster_arguments,
    add_problem_arguments,
    run_map,
    scheduler_where,
    validate_cluster,
)
from sparsemom.numerics.cli.scaling import phase_names
from sparsemom.numerics.inputs.arguments import integer_in, output_dir
from sparsemom.numerics.studies.output import default_output_dir
from sparsemom.numerics.studies.scaling.loss_curves import PHASE_POINTS
from sparsemom.numerics.studies.scaling.methods import (
    LR_RULES,
    METHODS,
    MethodTask,
    horizon,
    method_rows,
    method_rows_markdown,
)
from sparsemom.numerics.studies.scaling.study import run_methods, write_methods

DESCRIPTION = __doc__.split("``: ", 1)[1].replace("\n", " ")

#: log₂ of the size per problem: the default, and the largest accepted.
SIZE = {"power-law": (14, 16), "random-features": (10, 12)}
#: The default phases: those above the high-dimensional line, where exponents are predicted.
ABOVE_THE_LINE = tuple(p.phase for p in PHASE_POINTS if 2 * p.alpha > 1)


def add_arguments(parser) -> None:
    add_problem_arguments(parser)
    parser.add_argument("--phases", type=phase_names, default=ABOVE_THE_LINE,
                        help=f"comma-separated phases (default: {','.join(ABOVE_THE_LINE)})")
    parser.add_argument("--size", type=integer_in(4, 16), default=None,
                        help="K: the size d = 2^K (default: power-law 14, random-features 10)")
    parser.add_argument("--lr", choices=LR_RULES, default="rule",
                        help="each method's base learning rate: the authors' rule, or tuned "
                        "to the least exact risk at the horizon (per method and size)")
    parser.add_argument("--out", type=output_dir, default=default_output_dir("outscaling"),
                        help="output directory")
    add_cluster_arguments(parser)


def validate(args) -> None:
    default, top = SIZE[args.problem]
    args.size = args.size or default
    if args.size > top:
        raise ValueError(f"--size for {args.problem} must be at most {top}; got {args.size}")
    validate_cluster(args)


def run(args) -> int:
    d = 2**args.size
    tasks = []
    for point in (p for p in PHASE_POINTS if p.phase in args.phases):
        steps = horizon(args.problem, point, d, args.batch, args.seed)
        tasks += [MethodTask(m, args.problem, point, d, steps, args.batch, args.seed, args.lr)
                  for m in METHODS]
    run_ = run_map(args, "outscaling", run_methods, tasks)
    if run_ is None:
        return 1
    rows = method_rows(run_.results)
    paths = write_methods(run_.results, args.out, rows)
    print(method_rows_markdown(rows))
    print(f"\n{len(tasks)} curves ({run_.cached} from the cache) in {run_.seconds:.1f} s on "
          f"{scheduler_where(args)}")
    for path in paths:
        print(path)
    return 0
