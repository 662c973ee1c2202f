"""Progress bars for long work: shown in a terminal, silent in CI and in pipes."""

from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm


def show_progress() -> bool:
    """True when stderr is a terminal and the ``CI`` variable is unset."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def progress(iterable, **kwargs):
    """``tqdm(iterable)`` in a terminal; the bare iterable otherwise."""
    return tqdm(iterable, disable=not show_progress(), **kwargs)
