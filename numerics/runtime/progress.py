"""Progress for long work: a bar in a terminal or a notebook, one line per finished
stage elsewhere (a log file, CI), so long stages are never silent."""

from __future__ import annotations

import os
import sys
import time

from tqdm.auto import tqdm


def in_notebook() -> bool:
    """Running inside a Jupyter kernel (tqdm.auto draws a widget there)."""
    return "ipykernel" in sys.modules


def show_progress() -> bool:
    """True in a terminal (stderr a tty) or a notebook, and the ``CI`` variable unset."""
    return (sys.stderr.isatty() or in_notebook()) and not os.environ.get("CI")


def progress(iterable, disable: bool = False, lines: bool = False, **kwargs):
    """``tqdm(iterable)`` in a terminal or notebook; elsewhere silent, or with
    ``lines=True`` one line per finished item with its time (for long stages)."""
    if disable or show_progress() or not lines:
        return tqdm(iterable, disable=disable or not show_progress(), **kwargs)
    return _stage_lines(iterable, kwargs.get("desc", "stage"), kwargs.get("total"))


def _stage_lines(iterable, desc: str, total):
    total = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
    start = last = time.perf_counter()
    for i, item in enumerate(iterable, 1):
        yield item
        now = time.perf_counter()
        count = f"{i}/{total}" if total else f"{i}"
        print(f"{desc}: {count} done ({now - last:.1f} s, {now - start:.0f} s in all)",
              file=sys.stderr, flush=True)
        last = now
