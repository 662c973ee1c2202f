"""``sparsemom latex``: a standalone LaTeX document of the derivation."""

from __future__ import annotations

import sys
from pathlib import Path

from sparsemom.derivations import LAWS, TIME_RULES, UPDATE_RULES
from sparsemom.derivations.output.latex import STYLES, latex_document
from sparsemom.numerics.inputs.arguments import check_model_takes, check_model_time, output_file
from sparsemom.numerics.runtime.atomic import write_text_atomic

DESCRIPTION = ("write a standalone amsmath document: recursion, generating function, closed "
               "form, stability conditions, timescales, stationary risk")


def validate(args) -> None:
    check_model_takes(args.model, args.optimizer)
    check_model_time(args.model, args.time)


def run(args) -> int:
    text = latex_document(args.model, args.optimizer, args.time, args.style)
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.output)
    write_text_atomic(out, text)
    print(f"wrote {out}")
    return 0


def add_arguments(parser) -> None:
    models, optimizers = sorted(LAWS), list(UPDATE_RULES)
    parser.add_argument("--model", choices=models, default="lsq", help="data law")
    parser.add_argument("--optimizer", choices=optimizers, default="heavy-ball", help="update rule")
    parser.add_argument("--time", choices=list(TIME_RULES), default="steps", help="time rule")
    parser.add_argument("--style", choices=list(STYLES), default="exact",
                        help="exact: every equation parses back to its relation; paper: the "
                        "paper's notation (p_B and q shorthand, the recursion as a matrix "
                        "equation, long relations over lines, numbered and labelled)")
    parser.add_argument("-o", "--output", type=output_file, default="-",
                        help="output .tex file (- for standard output)")
