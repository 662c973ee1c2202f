"""``sparsemom conflict``: the spectral-conflict study on a Zipf or real-word token stream."""

from __future__ import annotations

from sparsemom.derivations import UPDATE_RULES
from sparsemom.numerics.inputs.arguments import check_setup, integer_in, output_dir, real_in
from sparsemom.numerics.inputs.models import MAX_DIMENSION
from sparsemom.numerics.studies.conflict import (
    ConflictSetup,
    check_some_momentum_stable,
    run_conflict,
    table_markdown,
)
from sparsemom.numerics.studies.conflict_figure import write_conflict
from sparsemom.numerics.studies.output import default_output_dir


def add_arguments(parser) -> None:
    defaults = ConflictSetup()
    momentum_rules = [name for name, rule in UPDATE_RULES.items() if rule.uses_beta]
    parser.add_argument("--out", type=output_dir, default=default_output_dir("spectral_conflict"),
                        help="output directory")
    parser.add_argument("--rows", type=integer_in(1, 10**7), default=defaults.rows,
                        help="vocabulary size V (10^7 rows take 5.6 GB)")
    parser.add_argument("--exponent", type=real_in(0, 100), default=defaults.exponent,
                        help="Zipf exponent s (p_i ∝ i^-s)")
    parser.add_argument("--stream", default=defaults.stream, metavar="STREAM",
                        help="token frequencies: zipf, or words-LANG for the LANG word "
                        "frequencies of wordfreq (e.g. words-en, words-de; pip install "
                        "'sparsemom[words]')")
    parser.add_argument("--optimizer", choices=momentum_rules, default=defaults.optimizer,
                        help="update rule with momentum")
    parser.add_argument("--lr", type=real_in(0, 1e6, lower_open=True), default=defaults.lr,
                        help="learning rate η")
    parser.add_argument("--batch", type=integer_in(1, MAX_DIMENSION), default=defaults.batch,
                        help="batch size B")
    parser.add_argument("--d", type=integer_in(1, MAX_DIMENSION), default=defaults.d,
                        help="dimension of each row")
    parser.add_argument("--sigma2", type=real_in(0, 1e6), default=defaults.sigma2,
                        help="label-noise variance s²")
    parser.add_argument("--horizon", type=integer_in(1, 10**6), default=defaults.horizon,
                        help="steps T (the figure draws every step of the band curves)")


def setup_from(args) -> ConflictSetup:
    return ConflictSetup(rows=args.rows, exponent=args.exponent, d=args.d, batch=args.batch,
                         lr=args.lr, sigma2=args.sigma2, horizon=args.horizon,
                         optimizer=args.optimizer, stream=args.stream)


def validate(args) -> None:
    """Every option checked before the study starts (a ``ValueError`` names it)."""
    check_setup(lambda args: check_some_momentum_stable(setup_from(args)), args)


def run(args) -> int:
    result = run_conflict(setup_from(args))
    paths = write_conflict(result, args.out)
    print(table_markdown(result))
    for path in paths:
        print(f"wrote {path}")
    return 0 if result.unstable_rows == 0 else 1
