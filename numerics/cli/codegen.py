"""``sparsemom codegen``: regenerate the generated kernels."""

from __future__ import annotations

from sparsemom.numerics.codegen import GENERATED_DIR, source_checkout, stale_sources, write_sources
from sparsemom.numerics.inputs.arguments import output_dir

DESCRIPTION = ("print every derived recursion as NumPy, mpmath and C source into "
               "numerics/generated (in a source checkout) or into --out")


def output_folder(args):
    """Where ``sparsemom codegen`` writes: ``--out``, else the package's ``generated/``
    when it runs from a source checkout (an installed copy is never rewritten)."""
    if args.out is not None:
        return args.out
    if args.check or source_checkout():
        return GENERATED_DIR
    raise ValueError("--out is needed: sparsemom runs from an installed package, whose "
                     "generated code is not rewritten (run codegen in a source checkout, or "
                     "name a folder with --out)")


def validate(args) -> None:
    """The output folder is decided (and refused) before anything is generated."""
    output_folder(args)


def run(args) -> int:
    folder = output_folder(args)
    if args.check:
        stale = stale_sources(folder)
        for name in stale:
            print(f"stale: {folder / name}")
        print("generated code is current" if not stale else
              f"{len(stale)} generated files differ: run `sparsemom codegen`")
        return 1 if stale else 0
    for path in write_sources(folder):
        print(f"wrote {path}")
    return 0


def add_arguments(parser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="only report whether the sources are current (exit 1 if not)")
    parser.add_argument("--out", type=output_dir, default=None,
                        help="folder to write into (default: the package's generated/ in a "
                        "checkout)")
