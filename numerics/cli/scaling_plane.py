"""``sparsemom scaling-plane``: a grid over the (α, β) plane of power-law data: at each point
the exact SGD curves of a family of sizes, their compute-optimal exponents against the
predicted ones, and the part of the excess risk that leads; heatmaps with the phase
boundaries."""

from __future__ import annotations

import numpy as np

from sparsemom.numerics.cli.cluster_options import (
    add_cluster_arguments,
    add_problem_arguments,
    run_map,
    scheduler_where,
    validate_cluster,
)
from sparsemom.numerics.cli.scaling import SIZES, check_sizes_fit, size_range
from sparsemom.numerics.inputs.arguments import integer_in, output_dir, real_in
from sparsemom.numerics.runtime.atomic import write_text_atomic
from sparsemom.numerics.studies.output import default_output_dir
from sparsemom.numerics.studies.scaling.figures import plane_figure
from sparsemom.numerics.studies.scaling.plane import (
    grid_points,
    plane_markdown,
    plane_points,
    plane_tasks,
)
from sparsemom.numerics.studies.scaling.study import run_curves

DESCRIPTION = __doc__.split("``: ", 1)[1].replace("\n", " ")


def add_arguments(parser) -> None:
    add_problem_arguments(parser)
    parser.add_argument("--grid", type=integer_in(2, 64), default=6,
                        help="points per axis")
    parser.add_argument("--alpha", type=real_in(0.05, 3.0), nargs=2, default=(0.15, 1.2),
                        metavar=("LOW", "HIGH"), help="range of α")
    parser.add_argument("--beta", type=real_in(0.05, 3.0), nargs=2, default=(0.15, 1.4),
                        metavar=("LOW", "HIGH"), help="range of β")
    parser.add_argument("--sizes", type=size_range, default=(8, 11),
                        help="K1:K2, sizes d = 2^K1 … 2^K2 at every point")
    parser.add_argument("--out", type=output_dir, default=default_output_dir("scaling_plane"),
                        help="output directory")
    add_cluster_arguments(parser)


def validate(args) -> None:
    for name in ("alpha", "beta"):
        low, high = getattr(args, name)
        if not low < high:
            raise ValueError(f"--{name} needs LOW < HIGH; got {low:g} {high:g}")
    top = SIZES[args.problem][2]
    if args.sizes[1] > top:
        raise ValueError(f"--sizes for {args.problem} must end at K2 <= {top}; got "
                         f"{args.sizes[0]}:{args.sizes[1]}")
    validate_cluster(args)
    points = grid_points(*_axes(args))
    if points:
        check_sizes_fit(args, points[0], len(points))


def _axes(args) -> tuple:
    """The grid's values of ``α`` and of ``β``."""
    return (np.round(np.linspace(*args.alpha, args.grid), 6),
            np.round(np.linspace(*args.beta, args.grid), 6))


def run(args) -> int:
    alphas, betas = _axes(args)
    dims = [2**k for k in range(args.sizes[0], args.sizes[1] + 1)]
    tasks = plane_tasks(args.problem, alphas, betas, dims)
    run_ = run_map(args, "scaling-plane", run_curves, tasks)
    if run_ is None:
        return 1
    points = plane_points(run_.results)
    paths = plane_figure(points, args.problem, args.out)
    table = args.out / "plane.md"
    text = plane_markdown(points)
    write_text_atomic(table, text + "\n")
    print(text)
    print(f"\n{len(tasks)} curves ({run_.cached} from the cache) in {run_.seconds:.1f} s on "
          f"{scheduler_where(args)}")
    for path in (*paths, table):
        print(path)
    return 0
