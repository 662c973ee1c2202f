"""The raw command line before argparse reads it (no SymPy, no NumPy: ``--help`` stays fast)."""

from __future__ import annotations

import re

NEGATIVE_NUMBER = re.compile(r"^-(\d+(\.\d*)?|\.\d+)(/\d+)?$")


def join_negative_values(argv: list[str]) -> list[str]:
    """``--lr-exponent -4/5`` → ``--lr-exponent=-4/5``: argparse would read ``-4/5`` as
    an option (it only knows ``-4`` and ``-0.5`` as numbers)."""
    out: list[str] = []
    for token in argv:
        if (out and NEGATIVE_NUMBER.match(token) and out[-1].startswith("--")
                and "=" not in out[-1]):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out
