"""Atomic file writes: readers see the old file or the whole new one, never a part.

A written file gets the permissions an ordinary ``open(path, "w")`` would give it:
``0666`` less the user's umask (a temporary file from ``mkstemp`` is ``0600``).
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from numerics.runtime.figure_data import plotted_data


def current_umask() -> int:
    """The process's umask (read without changing it for longer than two calls)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success give it the umask's
    permissions and rename it over ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".",
                               prefix=f".{path.name}.", suffix=path.suffix or ".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text_atomic(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_figure(fig, directory, stem: str, dpi: int = 120, formats=("png", "pdf")) -> list[Path]:
    """Save a Matplotlib figure as ``directory/stem.<format>`` for each format and the
    numbers it draws as ``directory/stem.data.csv`` (:func:`plotted_data`), each file
    atomically; return the paths."""
    paths = []
    for suffix in formats:
        path = Path(directory) / f"{stem}.{suffix}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format=suffix)
        paths.append(path)
    path = Path(directory) / f"{stem}.data.csv"
    write_text_atomic(path, plotted_data(fig).to_csv(index=False))
    return [*paths, path]
