"""The raw command line before argparse reads it (no SymPy, no NumPy: ``--help`` stays fast)."""

from __future__ import annotations

import re

#: A negative number, a fraction ``-4/5`` or a range ``-1:5`` (argparse reads them as options).
NEGATIVE_NUMBER = re.compile(r"^-(\d+(\.\d*)?|\.\d+)(/\d+|:-?\d+)?$")


def join_negative_values(argv: list[str], single: frozenset[str] | None = None) -> list[str]:
    """``--lr-exponent -4/5`` → ``--lr-exponent=-4/5``: argparse would read ``-4/5`` as
    an option (it only knows ``-4`` and ``-0.5`` as numbers).  Only after an option of
    ``single`` (those taking one value; default: any): ``--kappa -1 1`` (two values) stays,
    and argparse reads ``-1`` as its first value."""
    out: list[str] = []
    for token in argv:
        if (out and NEGATIVE_NUMBER.match(token) and out[-1].startswith("--")
                and "=" not in out[-1] and (single is None or out[-1] in single)):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out
