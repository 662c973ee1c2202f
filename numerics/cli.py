"""The ``sparsemom`` command line.

``sparsemom derive --model lsq --optimizer heavy-ball`` prints a derived
recursion; ``sparsemom codegen`` regenerates the checked-in kernels
(``--check`` only reports whether they are current); ``sparsemom verify`` runs
the verification rungs and exits non-zero when any check fails;
``sparsemom benchmark`` measures the backends.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

import sympy as sp

from derivations import MODELS, TIME_RULES, UPDATE_RULES, all_recursions, derive_recursion


def _print_recursion(model: str, optimizer: str, time: str, fmt: str, out) -> None:
    rec = derive_recursion(model, optimizer, time)
    law, rule = MODELS[model], UPDATE_RULES[optimizer]
    render = {"pretty": lambda x: sp.pretty(x, use_unicode=True, wrap_line=False),
              "latex": sp.latex, "text": sp.sstr}[fmt]
    print(f"# {law.title} ({model}) under {optimizer}: {rule.summary}; time rule {time!r}",
          file=out)
    if law.statistics == "mean field":
        from derivations.drift import derive_statistics_map

        stats = derive_statistics_map(model, optimizer, time)
        _print_map(f"statistics map, fingerprint {stats.fingerprint[:16]}", "statistics:", "",
                   stats, "expected next statistics given the current ones (exact at every d):",
                   render, out)
        print("# linearisation at the optimum: its bulk block (below) in the Fisher constants "
              "h, w", file=out)
    _print_map(f"fingerprint {rec.fingerprint[:16]}", "state (expectations):", "E ", rec,
               "second moments:", render, out)
    print("means:", file=out)
    for eq in rec.mean_equations():
        print(render(eq), file=out)
    print("risk:", render(sp.Eq(sp.Symbol("E R_k"), rec.risk.subs(rec.state[0], sp.Symbol(
        f"{rec.state[0].name}_k")))), file=out)


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


def _derive(args) -> int:
    optimizers = list(UPDATE_RULES) if args.optimizer == "all" else [args.optimizer]
    for i, name in enumerate(optimizers):
        if i:
            print(file=sys.stdout)
        _print_recursion(args.model, name, args.time, args.format, sys.stdout)
    return 0


def _verify(args) -> int:
    from numerics.progress import progress
    from numerics.verification import run_all

    start = time.perf_counter()
    recursions = all_recursions()
    print(f"derived {len(recursions)} recursions (models × optimizers × time rules) "
          f"in {time.perf_counter() - start:.1f} s")
    failures = 0
    counts: dict[str, list[int]] = {}
    for result in progress(run_all(), desc="verifying", unit="check"):
        print(result)
        tally = counts.setdefault(result.rung, [0, 0])
        tally[0] += result.passed
        tally[1] += 1
        failures += not result.passed
    print("\nsummary:")
    for rung, (ok, total) in counts.items():
        print(f"  {rung:18s} {ok}/{total} passed")
    print(f"  total time {time.perf_counter() - start:.1f} s")
    return 1 if failures else 0


def _codegen(args) -> int:
    from numerics.codegen import GENERATED_DIR, stale_sources, write_sources

    if args.check:
        stale = stale_sources()
        for name in stale:
            print(f"stale: {GENERATED_DIR / name}")
        print("generated code is current" if not stale else
              f"{len(stale)} generated files differ: run `sparsemom codegen`")
        return 1 if stale else 0
    for path in write_sources():
        print(f"wrote {path}")
    return 0


def _latex(args) -> int:
    from pathlib import Path

    from derivations.latex import latex_document

    from .atomic import write_text_atomic

    text = latex_document(args.model, args.optimizer, args.time)
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.output)
    write_text_atomic(out, text)
    print(f"wrote {out}")
    return 0


def _benchmark(args) -> int:
    from numerics.benchmarks import print_exact_risk_benchmark, print_monte_carlo_benchmark

    if args.which in ("exact-risk", "all"):
        print_exact_risk_benchmark(rows=args.rows, steps=args.steps)
    if args.which in ("monte-carlo", "all"):
        print_monte_carlo_benchmark()
    return 0


def _exponent(text: str):
    from fractions import Fraction

    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"not a number or fraction: {text!r}") from None


def _phase(args) -> int:
    import json

    from derivations.asymptotics import ExponentPoint
    from derivations.scaling_limits import scaling_limit

    if args.lr_rule == "free" and args.lr_exponent is None:
        raise SystemExit("--lr-rule free needs --lr-exponent THETA")
    if args.lr_rule != "free" and args.lr_exponent is not None:
        raise SystemExit("--lr-exponent is only used with --lr-rule free")
    try:
        point = ExponentPoint(args.sparsity, args.batch, args.momentum, args.lr_exponent or 0,
                              args.p_star, args.batch_star, args.eps_star, args.lr_star, args.noise,
                              args.rho)
        limit = scaling_limit(args.model, args.optimizer, point, args.lr_rule)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    report = limit.as_dict()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"phase:       {report['phase']}  (family: {report['family']})")
    print(f"exponents:   kappa={point.kappa}, sigma={point.sigma}, gamma={point.gamma}, "
          f"theta={limit.point.theta} ({args.lr_rule}; eta*={limit.point.lr_star}"
          + (f"; batches {point.regime})" if args.model == "lsq" else ")"))
    print(f"timescales:  tau_R ~ d^{limit.retention_exponent}, tau_L ~ d^{limit.learning_exponent} "
          "(active updates)")
    print(f"time:        k = t * d^{limit.time_exponent} active updates"
          + (" (discrete-time limit)" if limit.discrete else ""))
    print(f"limit:       {report['limit_latex']}")
    print("region:      " + "\n             ".join(report["inequalities"]))
    for note in limit.notes:
        print(f"note:        {note}")
    return 0


#: Studies with their own module (``add_arguments``, ``run``): name, module, help.
STUDIES = (
    ("logistic", "numerics.logistic_study", "logistic rare class: Monte Carlo at d = 100…2000 vs the "
     "mean-field prediction (harness, convergence rate), phase picture; table and figure"),
    ("reproduce", "paper_figures.reproduce", "derive, codegen, verify every rung, regenerate the figures "
     "and write a markdown report (quick by default)"),
    ("conflict", "numerics.spectral_conflict", "spectral conflict on a Zipf token stream: phases per "
     "frequency, best global β vs frequency-adapted β_i = f(p_i), evaluated exactly; table and figure"),
    ("sweep", "numerics.sweep", "scaling-limit sweep: finite-d exact curves vs the limit at 25 exponent "
     "points; table and figure"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sparsemom", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    derive = sub.add_parser("derive", help="print a derived second-moment recursion")
    derive.add_argument("--model", choices=sorted(MODELS), default="lsq")
    derive.add_argument("--optimizer", choices=[*UPDATE_RULES, "all"], default="heavy-ball")
    derive.add_argument("--time", choices=list(TIME_RULES), default="steps",
                        help="every step, or active iterates (idle stretches integrated out)")
    derive.add_argument("--format", choices=["pretty", "latex", "text"], default="pretty")
    derive.set_defaults(run=_derive)

    codegen = sub.add_parser("codegen", help="regenerate numerics/generated from the derivations")
    codegen.add_argument("--check", action="store_true",
                         help="only report whether the checked-in sources are current")
    codegen.set_defaults(run=_codegen)

    latex = sub.add_parser("latex", help="write a standalone LaTeX document of every derived "
                           "object (recursion, generating function, closed form, stability, "
                           "timescales, stationary risk)")
    latex.add_argument("--model", choices=sorted(MODELS), default="lsq")
    latex.add_argument("--optimizer", choices=list(UPDATE_RULES), default="heavy-ball")
    latex.add_argument("--time", choices=list(TIME_RULES), default="steps")
    latex.add_argument("-o", "--output", default="-", help="output .tex file (- for stdout)")
    latex.set_defaults(run=_latex)

    bench = sub.add_parser("benchmark", help="row-steps per second of each exact_risk backend")
    bench.add_argument("--which", choices=["exact-risk", "monte-carlo", "all"], default="all")
    bench.add_argument("--rows", type=int, default=1_000_000)
    bench.add_argument("--steps", type=int, default=200)
    bench.set_defaults(run=_benchmark)

    verify = sub.add_parser("verify", help="derive every recursion and run the verification rungs")
    verify.set_defaults(run=_verify)

    phase = sub.add_parser("phase", help="the d → ∞ phase at exponents (κ, σ, γ[, θ]): region, "
                           "family, timescale exponents, limit dynamics")
    phase.add_argument("--model", choices=sorted(MODELS), default="lsq",
                       help="lsq, or logistic (rare class p = p*·d^-KAPPA with KAPPA > 0: its "
                       "linearisation at the optimum with h → p, w → p²·e^(rho²))")
    phase.add_argument("--optimizer", choices=list(UPDATE_RULES), default="heavy-ball")
    phase.add_argument("--sparsity", type=_exponent, required=True, metavar="KAPPA",
                       help="p = p*·d^-KAPPA")
    phase.add_argument("--batch", type=_exponent, required=True, metavar="SIGMA",
                       help="B = B*·d^SIGMA")
    phase.add_argument("--momentum", type=_exponent, required=True, metavar="GAMMA",
                       help="1 - beta = eps*·d^-GAMMA")
    phase.add_argument("--lr-rule", choices=["largest-stable", "free"], default="largest-stable")
    phase.add_argument("--lr-exponent", type=_exponent, default=None, metavar="THETA",
                       help="lr = eta*·d^THETA (with --lr-rule free)")
    phase.add_argument("--p-star", type=_exponent, default=1)
    phase.add_argument("--batch-star", type=_exponent, default=1)
    phase.add_argument("--eps-star", type=_exponent, default=1)
    phase.add_argument("--lr-star", type=_exponent, default=1)
    phase.add_argument("--noise", type=_exponent, default=0, metavar="S2", help="label-noise variance s²")
    phase.add_argument("--rho", type=_exponent, default=1, help="logistic: rho = ‖mu‖")
    phase.add_argument("--json", action="store_true", help="print a JSON object")
    phase.set_defaults(run=_phase)

    for name, module, text in STUDIES:
        study = importlib.import_module(module)
        study_parser = sub.add_parser(name, help=text)
        study.add_arguments(study_parser)
        study_parser.set_defaults(run=study.run)

    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # `sparsemom derive | head`: the reader left; end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
