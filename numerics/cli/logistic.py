"""``sparsemom logistic``: Monte Carlo of the rare-class model against the mean field."""

from __future__ import annotations

from sparsemom.numerics.analysis.mean_field_convergence import DIMENSIONS, StudySetup, run_study
from sparsemom.numerics.inputs.arguments import check_setup, integer_in, output_dir
from sparsemom.numerics.studies.logistic import table_markdown, write_study
from sparsemom.numerics.studies.output import default_output_dir


def add_arguments(parser) -> None:
    parser.add_argument("--out", type=output_dir, default=default_output_dir("logistic"),
                        help="output directory")
    parser.add_argument("--dimensions", type=integer_in(2, 10**4), nargs="+",
                        default=list(DIMENSIONS), help="dimensions d (at least two, each ≥ 2)")
    parser.add_argument("--runs", type=integer_in(2 * StudySetup.groups, 10**5),
                        default=StudySetup.runs,
                        help=f"Monte Carlo runs per dimension (the harness compares "
                        f"{StudySetup.groups} groups of at least 2)")


def setup_from(args) -> StudySetup:
    setup = StudySetup(runs=args.runs)
    setup.check_dimensions(args.dimensions)
    return setup


def validate(args) -> None:
    """Every option checked before the study starts."""
    check_setup(setup_from, args)


def run(args) -> int:
    setup = setup_from(args)
    points, rate = run_study(setup, tuple(args.dimensions))
    paths = write_study(setup, points, rate, args.out)
    print(table_markdown(points, rate))
    for path in paths:
        print(path)
    return 0 if all(pt.harness.passed for pt in points) and rate > 0 else 1
