"""``sparsemom reproduce``: derive, regenerate, verify and redraw, with a report."""

from __future__ import annotations

from sparsemom.numerics.inputs.arguments import output_dir
from sparsemom.numerics.studies.output import default_output_dir
from sparsemom.numerics.studies.reproduce import reproduce


def add_arguments(parser) -> None:
    parser.add_argument("--full", action="store_true", help="paper-size runs (default: quick)")
    parser.add_argument("--out", type=output_dir, default=default_output_dir(),
                        help="folder for the figures and report.md")


def run(args) -> int:
    status, report = reproduce(args.out, args.full)
    print(f"\nreport: {report}  ({'all checks passed' if status == 0 else 'SOME CHECKS FAILED'})")
    return status
