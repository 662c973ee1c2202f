"""``sparsemom sweep``: predicted scaling limits against finite-d convergence."""

from __future__ import annotations

from numerics.inputs.arguments import integer_in, output_dir, positive_int
from numerics.runtime.parallel import reachable_scheduler
from numerics.studies.output import default_output_dir
from numerics.studies.sweep import run_sweep, table_markdown, write_sweep


def add_arguments(parser) -> None:
    parser.add_argument("--out", type=output_dir, default=default_output_dir("scaling_sweep"),
                        help="output directory")
    parser.add_argument("--scheduler", default=None,
                        help="Dask scheduler address, e.g. tcp://host:8786 (default: a local "
                        "process pool)")
    parser.add_argument("--workers", type=positive_int, default=None,
                        help="local processes (default: all cores)")
    parser.add_argument("--atlas-grid", type=integer_in(2, 1001), default=201,
                        help="grid points per axis of the phase-diagram panels")


def validate(args) -> None:
    """The scheduler, when named, must answer before the sweep starts."""
    if args.scheduler is not None:
        reachable_scheduler(args.scheduler)


def run(args) -> int:
    results = run_sweep(scheduler=args.scheduler, workers=args.workers)
    paths = write_sweep(results, args.out, args.atlas_grid, args.scheduler, args.workers)
    print(table_markdown(results))
    for path in paths:
        print(path)
    return 0 if all(r.as_predicted for r in results) else 1

