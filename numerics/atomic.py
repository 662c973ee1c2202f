"""Atomic file writes: readers see the old file or the whole new one, never a part."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success rename it over ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".",
                               prefix=f".{path.name}.", suffix=path.suffix or ".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
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
    """Save a Matplotlib figure as ``directory/stem.<format>`` for each format,
    each file atomically; return the paths."""
    paths = []
    for suffix in formats:
        path = Path(directory) / f"{stem}.{suffix}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format=suffix)
        paths.append(path)
    return paths
