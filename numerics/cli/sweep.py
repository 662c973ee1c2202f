"""``sparsemom sweep``: predicted scaling limits against finite-d convergence."""

from __future__ import annotations

import sys

from sparsemom.numerics.inputs.arguments import integer_in, output_dir
from sparsemom.numerics.runtime.dask_map import ClusterError, reachable_scheduler
from sparsemom.numerics.runtime.parallel import max_workers
from sparsemom.numerics.studies.output import default_output_dir
from sparsemom.numerics.studies.sweep import run_sweep, table_markdown, write_sweep


def add_arguments(parser) -> None:
    parser.add_argument("--out", type=output_dir, default=default_output_dir("scaling_sweep"),
                        help="output directory")
    parser.add_argument("--scheduler", default=None,
                        help="Dask scheduler address, e.g. tcp://host:8786 (default: a local "
                        "process pool)")
    parser.add_argument("--workers", type=integer_in(1, max_workers()), default=None,
                        help=f"local processes, at most {max_workers()} (default: all cores; "
                        "never more than there are tasks)")
    parser.add_argument("--atlas-grid", type=integer_in(2, 1001), default=201,
                        help="grid points per axis of the phase-diagram panels")


def validate(args) -> None:
    """The scheduler, when named, answers before the sweep starts (``--workers`` is in
    range by its type)."""
    if args.scheduler is not None:
        reachable_scheduler(args.scheduler)


def run(args) -> int:
    try:
        results = run_sweep(scheduler=args.scheduler, workers=args.workers)
        paths = write_sweep(results, args.out, args.atlas_grid, args.scheduler, args.workers)
    except ClusterError as exc:  # the cluster failed us (not a bad value): one line, status 1
        print(f"sparsemom sweep: error: {exc}", file=sys.stderr)
        return 1
    print(table_markdown(results))
    for path in paths:
        print(path)
    return 0 if all(r.as_predicted for r in results) else 1

