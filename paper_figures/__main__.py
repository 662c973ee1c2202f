"""``python -m sparsemom.paper_figures [--full] [--only NAME ...] [--out DIR]``: regenerate every
paper figure as PNG and PDF into ``paper_figures/out/`` with ``manifest.json``.

Quick sizes by default (what ``sparsemom reproduce`` runs); ``--full`` for the paper.
Exit status 1 if a check on a figure's data fails.
"""

from __future__ import annotations

import argparse
import sys

from sparsemom.numerics.inputs.arguments import output_dir
from sparsemom.numerics.studies.manifest import regenerate
from sparsemom.numerics.studies.output import default_output_dir
from sparsemom.numerics.studies.paper import FIGURES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparsemom.paper_figures",
                                     description="regenerate every paper figure as PNG and PDF, "
                                     "with manifest.json; exit 1 if a check on a figure's data fails",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--full", action="store_true", help="paper-size runs (default: quick)")
    parser.add_argument("--only", nargs="+", choices=sorted(FIGURES), help="regenerate these only")
    parser.add_argument("--out", type=output_dir, default=default_output_dir(), help="output directory")
    args = parser.parse_args(argv)
    try:
        figures = regenerate(args.out, args.full, args.only)
    except KeyboardInterrupt:  # workers are terminated by their pool; files written stay whole
        print("python -m sparsemom.paper_figures: interrupted", file=sys.stderr)
        return 130
    for fig in figures:
        mark = "PASS" if fig.passed else "FAIL"
        print(f"[{mark}] {fig.name:22s} {fig.seconds:7.1f} s  {', '.join(str(p) for p in fig.paths)}")
        for check in fig.checks:
            print(f"         {check}")
    print(f"manifest: {args.out / 'manifest.json'}")
    return 0 if all(f.passed for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
