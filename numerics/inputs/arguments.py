"""Command-line value types: each checks one condition and names it on failure.

argparse turns an :class:`argparse.ArgumentTypeError` raised here into one line,
``sparsemom SUBCOMMAND: error: argument --rows: must be a positive integer; got '0'``,
and exit status 2, before any work starts.
"""

from __future__ import annotations

import argparse
import os
from fractions import Fraction
from pathlib import Path

from derivations.drift import unsupported_by_model
from numerics.runtime.atomic import NotRegularFile, regular_target

#: A negative number as a user types it: ``-4``, ``-0.5``, ``-4/5``.


def _bad(what: str, text: str):
    return argparse.ArgumentTypeError(f"must be {what}; got {text!r}")


def integer_at_least(minimum: int):
    """An integer ``≥ minimum``."""
    what = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise _bad(what, text) from None
        if value < minimum:
            raise _bad(what, text)
        return value

    parse.__name__ = "integer"
    return parse


positive_int = integer_at_least(1)


def real_in(lower: float | None = None, upper: float | None = None, *, lower_open=False,
            upper_open=False):
    """A finite real number within the given bounds."""
    parts = []
    if lower is not None:
        parts.append(f"{'>' if lower_open else '≥'} {lower}")
    if upper is not None:
        parts.append(f"{'<' if upper_open else '≤'} {upper}")
    what = "a finite number" + (f" {' and '.join(parts)}" if parts else "")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise _bad(what, text) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise _bad(what, text)
        if lower is not None and (value <= lower if lower_open else value < lower):
            raise _bad(what, text)
        if upper is not None and (value >= upper if upper_open else value > upper):
            raise _bad(what, text)
        return value

    parse.__name__ = "number"
    return parse


def fraction(text: str) -> Fraction:
    """An exact rational: ``3/2``, ``-4/5``, ``0.1`` (read as 1/10)."""
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise _bad("a number or a fraction such as 3/2", text) from None


def _writable_folder(folder: Path) -> bool:
    """``folder`` exists and is writable, or can be created under a writable parent."""
    while not folder.exists():
        if folder.parent == folder:
            return False
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def output_dir(text: str) -> Path:
    """A folder that exists and is writable, or can be created."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise _bad("a folder (this is a file)", text)
    if not _writable_folder(path):
        raise _bad("a folder that can be written", text)
    return path


def output_file(text: str) -> str:
    """``-`` (standard output) or a regular file (or a link to one: its target is written)
    whose folder exists and is writable."""
    if text == "-":
        return text
    try:
        path = regular_target(text)
    except NotRegularFile as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK | os.X_OK):
        raise _bad("a file in an existing, writable folder", text)
    if path.exists() and not os.access(path, os.W_OK):
        raise _bad("a writable file", text)
    return text


def check_model_takes(model: str, optimizer: str) -> None:
    """A ``ValueError`` for ``--optimizer`` when ``model`` has no derivation for it (a
    mean-field law takes only rules its statistics map supports)."""
    reason = unsupported_by_model(model, optimizer)
    if reason:
        raise ValueError(f"argument --optimizer: model {model!r} does not support "
                         f"{optimizer!r}: {reason}")


def check_setup(setup_from, args):
    """``setup_from(args)``, the study's validated setup; its ``ValueError`` (whose message
    starts with the parameter's name) re-raised naming the option ``--name``."""
    try:
        return setup_from(args)
    except ValueError as exc:
        raise ValueError(f"argument --{str(exc).split()[0]}: {exc}") from None
