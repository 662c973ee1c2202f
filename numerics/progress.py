"""Progress bars for long work: shown in a terminal, silent in CI and in pipes."""

from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm


def show_progress() -> bool:
    """True when stderr is a terminal and the ``CI`` variable is unset."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def progress(iterable, disable: bool = False, **kwargs):
    """``tqdm(iterable)`` in a terminal; silent in CI, in pipes, or when ``disable``."""
    return tqdm(iterable, disable=disable or not show_progress(), **kwargs)
