"""sparsemom: exact dynamics of stochastic momentum under sparse updates.

``sparsemom derive --model lsq --optimizer heavy-ball`` prints a derived
recursion; ``sparsemom codegen`` regenerates the checked-in kernels
(``--check`` only reports whether they are current); ``sparsemom verify`` runs
the verification rungs and exits non-zero when any check fails;
``sparsemom benchmark`` measures the backends.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import signal
import sys

from sparsemom.numerics import __version__
from sparsemom.numerics.cli.argv import join_negative_values
from sparsemom.numerics.runtime.atomic import NotRegularFile

#: Every subcommand and its module.  A module holds ``add_arguments(parser)`` and
#: ``run(args)``, optionally ``DESCRIPTION`` and ``validate(args)``; it is imported only
#: when its subcommand runs, so ``sparsemom --help`` stays fast.
COMMANDS = {
    "derive": "sparsemom.numerics.cli.derive",
    "codegen": "sparsemom.numerics.cli.codegen",
    "latex": "sparsemom.numerics.cli.latex",
    "benchmark": "sparsemom.numerics.cli.benchmark",
    "verify": "sparsemom.numerics.cli.verify",
    "phase": "sparsemom.numerics.cli.phase",
    "logistic": "sparsemom.numerics.cli.logistic",
    "reproduce": "sparsemom.numerics.cli.reproduce",
    "conflict": "sparsemom.numerics.cli.conflict",
    "sweep": "sparsemom.numerics.cli.sweep",
    "heatmap": "sparsemom.numerics.cli.heatmap",
    "scaling": "sparsemom.numerics.cli.scaling",
    "outscaling": "sparsemom.numerics.cli.outscaling",
    "scaling-plane": "sparsemom.numerics.cli.scaling_plane",
    "apidocs": "sparsemom.numerics.cli.apidocs",
}

#: One line of help per subcommand, for ``sparsemom --help`` (no module imported).
SUMMARIES = {
    "derive": "print a derived second-moment recursion",
    "codegen": "regenerate the generated kernels from the derivations",
    "latex": "write a standalone LaTeX document of every derived object",
    "benchmark": "row-steps per second of each exact_risk backend",
    "verify": "derive every recursion and run the verification rungs",
    "phase": "the d → ∞ phase at exponents (κ, σ, γ[, θ])",
    "logistic": ("logistic rare class: Monte Carlo at d = 100…2000 vs the mean-field prediction "
                 "(harness, convergence rate), phase picture; table and figure"),
    "reproduce": ("derive, codegen, verify every rung, regenerate the figures and write a markdown "
                  "report (quick by default)"),
    "conflict": ("spectral conflict on a Zipf or real-word token stream: phases per frequency, best global "
                 "β vs frequency-adapted β_i = f(p_i), evaluated exactly; table and figure"),
    "sweep": ("scaling-limit sweep: finite-d exact curves vs the limit at 25 exponent points; "
              "table and figure"),
    "heatmap": ("optimal learning rate and risk at a horizon over (κ, γ), exact at finite d, "
                "with the derived region boundaries; figure and CSV"),
    "scaling": ("scaling laws of power-law data: exact SGD loss curves over sizes d = 2^k, one "
                "point per phase, their parts, fitted vs predicted exponents, compute-optimal "
                "frontier; figures, CSV, table (on Dask)"),
    "outscaling": ("SGD vs SGD with momentum vs DANA-decaying on exact curves of power-law data, "
                   "one point per phase: time exponents against the predicted ones; figure, "
                   "CSV, table (on Dask)"),
    "scaling-plane": ("the (α, β) plane of power-law data: compute-optimal exponents from exact "
                      "curves at every grid point, against the predicted ones, and the leading "
                      "part; heatmaps with the phase boundaries (on Dask)"),
    "apidocs": "build the HTML API reference from the docstrings (pdoc)",
}


class _Defaults(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in its help, except where there is none to tell (``None``, a
    flag's ``False``) or its help already says it."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _add(sub, name: str, help_text: str, description: str | None = None):
    """A subcommand whose help lists every option's default."""
    command = sub.add_parser(name, help=help_text, description=description or help_text,
                             formatter_class=_Defaults)
    command.set_defaults(command_parser=command)
    return command


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; a subcommand's options are added only when ``command`` names it."""
    parser = argparse.ArgumentParser(prog="sparsemom", description=__doc__.splitlines()[0],
                                     formatter_class=_Defaults)
    parser.add_argument("--version", action="version", version=f"sparsemom {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        if name != command:
            _add(sub, name, SUMMARIES[name])
            continue
        module = importlib.import_module(module_name)
        command_parser = _add(sub, name, SUMMARIES[name], getattr(module, "DESCRIPTION", None))
        module.add_arguments(command_parser)
        for action in command_parser._actions:     # each numeric option's range, in its help
            if getattr(action.type, "what", None) and action.help:
                action.help += f"; {action.type.what}"
        command_parser.set_defaults(run=module.run, validate=getattr(module, "validate", None))
    return parser


def _single_value_options(parser: argparse.ArgumentParser) -> frozenset[str]:
    """The option strings, of the parser and of its subcommands, that take one value."""
    parsers = [parser, *(sub for action in parser._actions
                         if isinstance(action, argparse._SubParsersAction)
                         for sub in action.choices.values())]
    return frozenset(option for p in parsers for action in p._actions
                     if action.nargs is None and action.option_strings
                     for option in action.option_strings)


def _command(argv: list[str]) -> str | None:
    """The subcommand named in ``argv`` (its first word that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)


#: ``OSError`` numbers that mean the disk (or the user's quota) is full.
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand of ``sparsemom``.  Ctrl-C at any moment (its imports included) ends it
    with one line and status 130, a full disk (or a failed write of a named file: a read-only
    file system, an I/O error) with one ``error:`` line naming the file.

    Parameters
    ----------
    argv : list of str or None
        The arguments after ``sparsemom`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 done, 1 a failed check or run, 2 bad arguments, 130 interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    name = " ".join(["sparsemom", *filter(None, [_command(argv)])])
    try:
        return _main(argv)
    except KeyboardInterrupt:          # Ctrl-C: one line, status 130; files written stay whole
        print(f"{name}: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    except OSError as exc:
        # a full disk, or any failure on a named file (read-only, I/O error, permission)
        if exc.errno not in _DISK_FULL and not (exc.filename and exc.strerror):
            raise
        where = f" writing {exc.filename}" if exc.filename else ""
        print(f"{name}: error: {exc.strerror.lower()}{where}", file=sys.stderr)
        return 2


def _main(argv: list[str]) -> int:
    parser = build_parser(_command(argv))
    argv = join_negative_values(argv, _single_value_options(parser))
    args = parser.parse_args(argv)
    for action in args.command_parser._actions:
        # argparse drops a value "--" (``--grid=--``) and stores [] without reading a value
        if action.nargs is None and isinstance(getattr(args, action.dest, None), list):
            args.command_parser.error(f"argument {'/'.join(action.option_strings)}: "
                                      "expected one value")
    try:
        if getattr(args, "validate", None) is not None:
            args.validate(args)        # every value checked before any work starts
    except ValueError as exc:          # a bad value: one line, argparse's exit status
        args.command_parser.error(str(exc))
    try:
        return args.run(args)
    except NotRegularFile as exc:      # an output file is a device, a fifo, …: refused
        args.command_parser.error(str(exc))
    except BrokenPipeError:            # `sparsemom derive | head`: the reader left; end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
