"""Atomic file writes: readers see the old file or the whole new one, never a part.

A written file gets the permissions an ordinary ``open(path, "w")`` would give it:
``0666`` less the user's umask (a temporary file from ``mkstemp`` is ``0600``).
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


def current_umask() -> int:
    """The process's umask (read without changing it for longer than two calls)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temporary_beside(path: Path) -> str:
    """A new empty temporary file in ``path``'s folder, named after ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".",
                               prefix=f".{path.name}.", suffix=path.suffix or ".tmp")
    os.close(fd)
    return tmp


def probe_atomic_write(path) -> None:
    """Make and remove the temporary file :func:`atomic_path` would write ``path``
    through: an ``OSError`` says why that cannot be done (a folder that refuses new
    files whatever its permission bits say, a name too long once decorated, …)."""
    os.unlink(_temporary_beside(Path(path)))


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success give it the umask's
    permissions and rename it over ``path``.  An ``OSError`` without a file name (a
    write on a full disk) or naming the temporary file is re-raised naming ``path``."""
    path = Path(path)
    tmp = _temporary_beside(path)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno and exc.filename in (None, tmp):
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise


def write_text_atomic(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
