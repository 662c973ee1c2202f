"""``sparsemom logistic``: Monte Carlo of the rare-class model against the mean field."""

from __future__ import annotations

from numerics.analysis.mean_field_convergence import DIMENSIONS, StudySetup, run_study
from numerics.inputs.arguments import integer_at_least, output_dir
from numerics.studies.logistic import table_markdown, write_study
from numerics.studies.output import default_output_dir


def add_arguments(parser) -> None:
    parser.add_argument("--out", type=output_dir, default=default_output_dir("logistic"),
                        help="output directory")
    parser.add_argument("--dimensions", type=integer_at_least(2), nargs="+",
                        default=list(DIMENSIONS), help="dimensions d (at least two, each ≥ 2)")
    parser.add_argument("--runs", type=integer_at_least(2), default=StudySetup.runs,
                        help="Monte Carlo runs per dimension")


def validate(args) -> None:
    """Every option checked before the study starts."""
    if len(set(args.dimensions)) < 2:
        raise ValueError("argument --dimensions: needs at least two different values "
                         f"(a convergence rate); got {args.dimensions}")


def run(args) -> int:
    setup = StudySetup(runs=args.runs)
    points, rate = run_study(setup, tuple(args.dimensions))
    paths = write_study(setup, points, rate, args.out)
    print(table_markdown(points, rate))
    for path in paths:
        print(path)
    return 0 if all(pt.harness.passed for pt in points) and rate > 0 else 1
