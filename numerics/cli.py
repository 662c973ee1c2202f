"""sparsemom: exact dynamics of stochastic momentum under sparse updates.

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
import signal
import sys
import time

import sympy as sp

from derivations import MODELS, TIME_RULES, UPDATE_RULES, all_recursions, derive_recursion

from .arguments import fraction, join_negative_values, output_dir, output_file, positive_int


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


def _codegen_folder(args):
    """Where ``sparsemom codegen`` writes: ``--out``, else the package's ``generated/``
    when it runs from a source checkout (an installed copy is never rewritten)."""
    from numerics.codegen import GENERATED_DIR, source_checkout

    if args.out is not None:
        return args.out
    if args.check or source_checkout():
        return GENERATED_DIR
    raise ValueError("--out is needed: sparsemom runs from an installed package, whose "
                     "generated code is not rewritten (run codegen in a source checkout, or "
                     "name a folder with --out)")


def _codegen(args) -> int:
    from numerics.codegen import stale_sources, write_sources

    folder = _codegen_folder(args)
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


def _phase_point(args):
    """The exponent point of ``sparsemom phase`` (a ``ValueError`` names a bad value)."""
    from derivations.asymptotics import ExponentPoint

    if args.lr_rule == "free" and args.lr_exponent is None:
        raise ValueError("--lr-rule free needs --lr-exponent THETA")
    if args.lr_rule != "free" and args.lr_exponent is not None:
        raise ValueError("--lr-exponent is only used with --lr-rule free")
    try:
        return ExponentPoint(args.sparsity, args.batch, args.momentum, args.lr_exponent or 0,
                             args.p_star, args.batch_star, args.eps_star, args.lr_star, args.noise,
                             args.rho)
    except ValueError as exc:  # name the option, not the field
        field = str(exc).split()[0]
        raise ValueError(f"argument {_PHASE_OPTIONS.get(field, field)}: {exc}") from None


#: ExponentPoint's fields and the ``sparsemom phase`` options that set them.
_PHASE_OPTIONS = {"kappa": "--sparsity", "sigma": "--batch", "gamma": "--momentum",
                  "theta": "--lr-exponent", "p_star": "--p-star", "batch_star": "--batch-star",
                  "eps_star": "--eps-star", "lr_star": "--lr-star", "sigma2_star": "--noise",
                  "rho": "--rho"}


def _phase(args) -> int:
    import json

    from derivations.scaling_limits import scaling_limit

    point = _phase_point(args)
    limit = scaling_limit(args.model, args.optimizer, point, args.lr_rule)
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
    if limit.family == "unstable":
        unit = "per active update" if limit.discrete else f"per unit of t (k = t·d^{limit.time_exponent})"
        print(f"growth:      rate {report['growth_rate']:.4g} {unit}")
    print("region:      " + "\n             ".join(report["inequalities"]))
    for note in limit.notes:
        print(f"note:        {note}")
    return 0


#: Studies with their own module (``add_arguments``, ``validate``, ``run``), imported
#: only when their subcommand runs: name, module, one-line help.
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


def _add(sub, name: str, help_text: str, description: str | None = None):
    """A subcommand whose help lists every option's default."""
    command = sub.add_parser(name, help=help_text, description=description or help_text,
                             formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    command.set_defaults(command_parser=command)
    return command


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; a study's options are added only when ``command`` is that study
    (its module is imported then, so ``sparsemom --help`` stays fast)."""
    parser = argparse.ArgumentParser(prog="sparsemom", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    models, optimizers = sorted(MODELS), list(UPDATE_RULES)
    derive = _add(sub, "derive", "print a derived second-moment recursion",
                  "print the exact second-moment recursion (and the mean map and risk) of a model "
                  "under an optimizer, derived from their definitions")
    derive.add_argument("--model", choices=models, default="lsq", help="data law")
    derive.add_argument("--optimizer", choices=[*optimizers, "all"], default="heavy-ball",
                        help="update rule, or all of them")
    derive.add_argument("--time", choices=list(TIME_RULES), default="steps",
                        help="every step, or active iterates (idle stretches integrated out)")
    derive.add_argument("--format", choices=["pretty", "latex", "text"], default="pretty",
                        help="how equations are printed")
    derive.set_defaults(run=_derive)

    codegen = _add(sub, "codegen", "regenerate the generated kernels from the derivations",
                   "print every derived recursion as NumPy, mpmath and C source into "
                   "numerics/generated (in a source checkout) or into --out")
    codegen.add_argument("--check", action="store_true",
                         help="only report whether the sources are current (exit 1 if not)")
    codegen.add_argument("--out", type=output_dir, default=None,
                         help="folder to write into (default: the package's generated/ in a checkout)")
    codegen.set_defaults(run=_codegen, validate=_codegen_folder)

    latex = _add(sub, "latex", "write a standalone LaTeX document of every derived object",
                 "write a standalone amsmath document: recursion, generating function, closed "
                 "form, stability conditions, timescales, stationary risk")
    latex.add_argument("--model", choices=models, default="lsq", help="data law")
    latex.add_argument("--optimizer", choices=optimizers, default="heavy-ball", help="update rule")
    latex.add_argument("--time", choices=list(TIME_RULES), default="steps", help="time rule")
    latex.add_argument("-o", "--output", type=output_file, default="-",
                       help="output .tex file (- for standard output)")
    latex.set_defaults(run=_latex)

    bench = _add(sub, "benchmark", "row-steps per second of each exact_risk backend",
                 "measure the exact-risk backends (and the Monte Carlo simulators) on a Zipf "
                 "token stream")
    bench.add_argument("--which", choices=["exact-risk", "monte-carlo", "all"], default="all",
                       help="what to measure")
    bench.add_argument("--rows", type=positive_int, default=1_000_000, help="rows of the stream")
    bench.add_argument("--steps", type=positive_int, default=200, help="steps per run")
    bench.set_defaults(run=_benchmark)

    verify = _add(sub, "verify", "derive every recursion and run the verification rungs",
                  "run every verification rung (exact moments, closed forms, backends, Monte "
                  "Carlo, logistic quadrature, drift, linearisation, mean field); exit 1 on a failure")
    verify.set_defaults(run=_verify)

    phase = _add(sub, "phase", "the d → ∞ phase at exponents (κ, σ, γ[, θ])",
                 "the d → ∞ limit at an exponent point: region, family, timescale exponents, "
                 "limit dynamics and the inequalities bounding the region")
    phase.add_argument("--model", choices=models, default="lsq",
                       help="lsq, or logistic (rare class p = p*·d^-KAPPA with KAPPA > 0: its "
                       "linearisation at the optimum with h → p, w → p²·e^(rho²))")
    phase.add_argument("--optimizer", choices=optimizers, default="heavy-ball", help="update rule")
    phase.add_argument("--sparsity", type=fraction, required=True, metavar="KAPPA",
                       help="p = p*·d^-KAPPA")
    phase.add_argument("--batch", type=fraction, required=True, metavar="SIGMA",
                       help="B = B*·d^SIGMA")
    phase.add_argument("--momentum", type=fraction, required=True, metavar="GAMMA",
                       help="1 - beta = eps*·d^-GAMMA")
    phase.add_argument("--lr-rule", choices=["largest-stable", "free"], default="largest-stable",
                       help="learning-rate exponent: the largest stable one, or --lr-exponent")
    phase.add_argument("--lr-exponent", type=fraction, default=None, metavar="THETA",
                       help="lr = eta*·d^THETA (with --lr-rule free; negative values as -4/5)")
    phase.add_argument("--p-star", type=fraction, default=1, help="prefactor p*")
    phase.add_argument("--batch-star", type=fraction, default=1, help="prefactor B*")
    phase.add_argument("--eps-star", type=fraction, default=1, help="prefactor eps*")
    phase.add_argument("--lr-star", type=fraction, default=1, help="prefactor eta*")
    phase.add_argument("--noise", type=fraction, default=0, metavar="S2",
                       help="label-noise variance s²")
    phase.add_argument("--rho", type=fraction, default=1, help="logistic: rho = ‖mu‖")
    phase.add_argument("--json", action="store_true", help="print a JSON object")
    phase.set_defaults(run=_phase, validate=_phase_point)

    for name, module, text in STUDIES:
        study_parser = _add(sub, name, text)
        if name == command:
            study = importlib.import_module(module)
            study.add_arguments(study_parser)
            study_parser.set_defaults(run=study.run, validate=getattr(study, "validate", None))
    return parser


def _command(argv: list[str]) -> str | None:
    """The subcommand named in ``argv`` (its first word that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    argv = join_negative_values(argv)
    parser = build_parser(_command(argv))
    args = parser.parse_args(argv)
    try:
        if getattr(args, "validate", None) is not None:
            args.validate(args)        # every value checked before any work starts
    except ValueError as exc:          # a bad value: one line, argparse's exit status
        args.command_parser.error(str(exc))
    try:
        return args.run(args)
    except BrokenPipeError:            # `sparsemom derive | head`: the reader left; end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:          # Ctrl-C: one line, status 130; files written stay whole
        print(f"sparsemom {args.command}: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT


if __name__ == "__main__":
    sys.exit(main())
