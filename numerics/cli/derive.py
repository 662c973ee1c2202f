"""``sparsemom derive``: print a derived recursion."""

from __future__ import annotations

import sys

import sympy as sp

from sparsemom.derivations import LAWS, TIME_RULES, UPDATE_RULES, derive_recursion
from sparsemom.derivations.core.printing import display_latex
from sparsemom.derivations.engine.moments import MODE, MODES
from sparsemom.derivations.rare_class.drift import derive_statistics_map, unsupported_by_model
from sparsemom.numerics.inputs.arguments import check_model_takes, check_model_time

DESCRIPTION = ("print the exact second-moment recursion (and the mean map and risk) of a model "
               "under an optimizer, derived from their definitions")


def _print_recursion(model: str, optimizer: str, time: str, fmt: str, out) -> None:
    rec = derive_recursion(model, optimizer, time)
    law, rule = LAWS[model], UPDATE_RULES[optimizer]
    render = {"pretty": lambda x: sp.pretty(x, use_unicode=True, wrap_line=False),
              "latex": display_latex, "text": sp.sstr}[fmt]
    print(f"# {law.title} ({model}) under {optimizer}: {rule.summary}; time rule {time!r}",
          file=out)
    if not law.closed_moments:
        stats = derive_statistics_map(model, optimizer, time)
        _print_map(f"statistics map, fingerprint {stats.fingerprint[:16]}", "statistics:", "",
                   stats, "expected next statistics given the current ones (exact at every d):",
                   render, out)
        print("# linearisation at the optimum: its bulk block (below) in the Fisher constants "
              "h, w", file=out)
    _print_map(f"fingerprint {rec.fingerprint[:16]}", "state (expectations):", "E ", rec,
               "second moments:", render, out)
    if rec.coupled:
        print("coupling (the modes of a row, j = 1..M, move together through it):", file=out)
        print(render(rec.coupling_equation()), file=out)
    print("means:", file=out)
    for eq in rec.mean_equations():
        print(render(eq), file=out)
    risk = rec.risk.subs(rec.state[0], sp.Symbol(f"{rec.state[0].name}_k"))
    if rec.coupled:
        risk = sp.Sum(risk, (MODE, 1, MODES))
    print("risk:", render(sp.Eq(sp.Symbol("E R_k"), risk)), file=out)


def _print_map(header: str, state_title: str, prefix: str, derived, equations_title: str,
               render, out) -> None:
    """A derived map: its header, what each state symbol stands for, its equations."""
    print(f"# {header}", file=out)
    print(state_title, file=out)
    for x, meaning in zip(derived.state, derived.meaning):
        print(f"  {x} = {prefix}{sp.sstr(meaning)}", file=out)
    print(equations_title, file=out)
    for eq in derived.equations():
        print(render(eq), file=out)


def validate(args) -> None:
    if args.optimizer != "all":
        check_model_takes(args.model, args.optimizer)
    check_model_time(args.model, args.time)


def run(args) -> int:
    optimizers = ([name for name in UPDATE_RULES if unsupported_by_model(args.model, name) is None]
                  if args.optimizer == "all" else [args.optimizer])
    for i, name in enumerate(optimizers):
        if i:
            print(file=sys.stdout)
        _print_recursion(args.model, name, args.time, args.format, sys.stdout)
    return 0


def add_arguments(parser) -> None:
    models, optimizers = sorted(LAWS), list(UPDATE_RULES)
    parser.add_argument("--model", choices=models, default="lsq", help="data law")
    parser.add_argument("--optimizer", choices=[*optimizers, "all"], default="heavy-ball",
                        help="update rule, or all of them (all the model supports)")
    parser.add_argument("--time", choices=list(TIME_RULES), default="steps",
                        help="every step, or active iterates (idle stretches integrated out)")
    parser.add_argument("--format", choices=["pretty", "latex", "text"], default="pretty",
                        help="how equations are printed")
