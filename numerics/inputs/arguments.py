"""Command-line value types: each checks one condition and names it on failure.

argparse turns an :class:`argparse.ArgumentTypeError` raised here into one line,
``sparsemom SUBCOMMAND: error: argument --rows: must be an integer in [1, 10^7]; got '0'``,
and exit status 2, before any work starts.  Every numeric type carries the range the
work that reads it can handle (``parse.range``, and ``parse.what`` for the help), and
reads at most :data:`MAX_NUMBER_TEXT` characters.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import tempfile
from fractions import Fraction
from pathlib import Path

from sparsemom.derivations.definitions.laws import law
from sparsemom.derivations.rare_class.drift import unsupported_by_model
from sparsemom.numerics.runtime.atomic import NotRegularFile, probe_atomic_write, regular_target

#: The longest text a numeric option is read from: any float64 written out in full
#: (17 significant digits, sign, exponent) or a fraction of two 40-digit integers fits.
#: A longer text is refused before it is parsed (Python's ``int`` takes time quadratic
#: in the digits: a text of a million digits would hang the command).
MAX_NUMBER_TEXT = 100

#: The largest decimal exponent an exact fraction is read with: ``Fraction("1e999999999")``
#: builds a number of 10⁹ digits (minutes, gigabytes) before any range is checked.
MAX_FRACTION_EXPONENT = 400

_EXPONENT = re.compile(r"[eE]\s*([+-]?\d+)\s*$")
#: The texts an exact fraction is read from: ``3/2``, ``-4/5``, ``0.1``, ``1e-3`` (plain
#: digits only: ``Fraction`` would also take ``1e99_999_999``, which the exponent bound
#: above must see before the number is built).
_RATIONAL_TEXT = re.compile(r"\s*[+-]?(\d+/\d+|(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)\s*")


def _bad(what: str, text: str):
    if len(text) > MAX_NUMBER_TEXT:
        text = f"{text[:20]}… ({len(text)} characters)"
    return argparse.ArgumentTypeError(f"must be {what}; got {text!r}")


def _shown(bound) -> str:
    """A bound as a reader takes it in: ``10^8``, ``2^53``, ``1e-12``, ``26``, ``4294967295``."""
    if isinstance(bound, (float, Fraction)) and bound == int(bound):
        bound = int(bound)
    if isinstance(bound, int) and bound >= 10**6:
        for base in (10, 2):
            power = round(math.log(bound, base))
            if base**power == bound:
                return f"{base}^{power}"
    if isinstance(bound, (int, Fraction)):
        return str(bound)          # exactly: ``:g`` rounds 2^32 − 1 to 4.29497e+09
    return f"{bound:g}"


def _interval(lower, upper, lower_open: bool, upper_open: bool) -> str:
    return f"{'(' if lower_open else '['}{_shown(lower)}, {_shown(upper)}{')' if upper_open else ']'}"


def _described(parse, kind: str, what: str, bounds: tuple | None = None):
    """``parse`` named ``kind`` (argparse's word for a bad value), with the condition it
    checks (``what``, shown in the help) and its ``range`` when bounded."""
    parse.__name__ = kind
    parse.what = what
    if bounds is not None:
        parse.range = bounds
    return parse


def _number_text(text: str, what: str) -> str:
    """``text`` if it is short enough to be parsed as a number (see :data:`MAX_NUMBER_TEXT`)."""
    if len(text) > MAX_NUMBER_TEXT:
        raise _bad(what, text)
    return text


def _integer(minimum: int, maximum: int | None, what: str):
    def parse(text: str) -> int:
        try:
            value = int(_number_text(text, what))
        except ValueError:
            raise _bad(what, text) from None
        if value < minimum or (maximum is not None and value > maximum):
            raise _bad(what, text)
        return value

    return _described(parse, "integer", what)


def integer_in(minimum: int, maximum: int):
    """An integer ``minimum ≤ n ≤ maximum`` (the range the work that reads it can handle)."""
    parse = _integer(minimum, maximum, f"an integer in {_interval(minimum, maximum, False, False)}")
    parse.range = (minimum, maximum)
    return parse


def integer_at_least(minimum: int):
    """An integer ``≥ minimum`` with no upper bound of its own (for a value the command
    caps itself); :func:`integer_in` for every other."""
    return _integer(minimum, None, "a positive integer" if minimum == 1 else
                    f"an integer ≥ {minimum}")


positive_int = integer_at_least(1)


def real_in(lower: float, upper: float, *, lower_open=False, upper_open=False):
    """A finite real number within the given bounds."""
    what = f"a finite number in {_interval(lower, upper, lower_open, upper_open)}"

    def parse(text: str) -> float:
        try:
            value = float(_number_text(text, what))
        except ValueError:
            raise _bad(what, text) from None
        if not math.isfinite(value):
            raise _bad(what, text)
        if value <= lower if lower_open else value < lower:
            raise _bad(what, text)
        if value >= upper if upper_open else value > upper:
            raise _bad(what, text)
        return value

    return _described(parse, "number", what, (lower, upper))


def fraction_in(lower, upper, *, lower_open=False, max_denominator: int = 10**6):
    """An exact rational ``3/2``, ``-4/5``, ``0.1`` (read as 1/10) within the bounds and
    with a denominator ``≤ max_denominator`` (``1e-100000`` would be a fraction whose
    digits no printer takes)."""
    lower, upper = Fraction(lower), Fraction(upper)
    what = (f"a number or a fraction such as 3/2 in {_interval(lower, upper, lower_open, False)}"
            f" with a denominator ≤ {_shown(max_denominator)}")

    def parse(text: str) -> Fraction:
        if not _RATIONAL_TEXT.fullmatch(_number_text(text, what)):
            raise _bad(what, text)
        exponent = _EXPONENT.search(text)
        if exponent and abs(int(exponent.group(1))) > MAX_FRACTION_EXPONENT:
            raise _bad(what, text)
        try:
            value = Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise _bad(what, text) from None
        if value <= lower if lower_open else value < lower:
            raise _bad(what, text)
        if value > upper or value.denominator > max_denominator:
            raise _bad(what, text)
        return value

    return _described(parse, "fraction", what, (lower, upper))


def _exists(path: Path) -> bool:
    """``path`` exists (a name the system refuses, e.g. one too long, does not)."""
    try:
        return path.exists()
    except OSError:
        return False


def _nearest_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    while not _exists(path) and path.parent != path:
        path = path.parent
    return path


def _limit(folder: Path, name: str, default: int) -> int:
    """A file-system limit (``PC_NAME_MAX``, ``PC_PATH_MAX``) under ``folder``."""
    try:
        return os.pathconf(folder, name)
    except (OSError, ValueError):
        return default


def _check_names(text: str, path: Path) -> None:
    """Refuse an empty path, a name part longer than the file system takes, and a path
    longer than the system takes."""
    if not text:
        raise _bad("a path (an empty one would mean the current folder)", text)
    existing = _nearest_existing(path.absolute())
    longest = _limit(existing, "PC_NAME_MAX", 255)
    if any(len(os.fsencode(part)) > longest for part in path.parts):
        raise _bad(f"a path whose every name has at most {longest} bytes", text)
    longest = _limit(existing, "PC_PATH_MAX", 4096)
    if len(os.fsencode(path.absolute())) >= longest:
        raise _bad(f"a path shorter than {longest} bytes", text)


def output_dir(text: str) -> Path:
    """A folder that exists and can be written, or can be created: a probe file (or
    folder) is made and removed in it (or in its nearest existing folder); permission
    bits do not tell, e.g. for root under ``/proc``."""
    path = Path(text)
    _check_names(text, path)
    try:
        if path.exists() and not path.is_dir():
            raise _bad("a folder (this is a file)", text)
        existing = _nearest_existing(path.absolute())
        if not existing.is_dir():
            raise _bad("a folder that can be written (a part of it is a file)", text)
        if existing == path.absolute():   # a file of its own name, whatever the folder holds
            fd, probe = tempfile.mkstemp(dir=existing, prefix=".sparsemom-probe-")
            os.close(fd)
            os.unlink(probe)
        else:
            os.rmdir(tempfile.mkdtemp(dir=existing, prefix=".sparsemom-probe-"))
    except OSError as exc:
        raise _bad(f"a folder in which files can be made (making one: {exc.strerror.lower()})",
                   text) from None
    return path


def output_file(text: str) -> str:
    """``-`` (standard output) or a regular file (or a link to one: its target is written)
    whose folder exists and is writable: the temporary file of the atomic write is made
    and removed there first."""
    if text == "-":
        return text
    _check_names(text, Path(text))
    try:
        path = regular_target(text)
    except NotRegularFile as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    try:
        if not path.parent.is_dir():
            raise _bad("a file in an existing, writable folder", text)
        if path.exists() and not os.access(path, os.W_OK):
            raise _bad("a writable file", text)
        probe_atomic_write(path)
    except OSError as exc:
        raise _bad(f"a file in a folder in which files can be made (making one: "
                   f"{exc.strerror.lower()})", text) from None
    return text


def check_model_takes(model: str, optimizer: str) -> None:
    """A ``ValueError`` for ``--optimizer`` when ``model`` has no derivation for it (a
    mean-field law takes only rules its statistics map supports)."""
    reason = unsupported_by_model(model, optimizer)
    if reason:
        raise ValueError(f"argument --optimizer: model {model!r} does not support "
                         f"{optimizer!r}: {reason}")


def check_model_time(model: str, time: str) -> None:
    """A ``ValueError`` for ``--time`` when ``model``'s modes couple (one clock: ``steps``)."""
    if law(model).coupling is not None and time != "steps":
        raise ValueError(f"argument --time: the modes of model {model!r} couple and share one "
                         f"clock: use --time steps; got {time!r}")


def check_setup(setup_from, args):
    """``setup_from(args)``, the study's validated setup; its ``ValueError`` (whose message
    starts with the parameter's name) re-raised naming the option ``--name``."""
    try:
        return setup_from(args)
    except ValueError as exc:
        raise ValueError(f"argument --{str(exc).split()[0]}: {exc}") from None
