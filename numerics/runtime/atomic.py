"""Atomic file writes: readers see the old file or the whole new one, never a part.

A written file gets the permissions an ordinary ``open(path, "w")`` would give it:
``0666`` less the user's umask (a temporary file from ``mkstemp`` is ``0600``).

Only regular files are written: a symbolic link is followed and its target (a regular
file, or a new one) is replaced, the link kept; a device, fifo, socket or folder is
refused with :class:`NotRegularFile` (a rename over ``/dev/full`` would replace the
device by a regular file).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

#: What a path that is not a regular file is, by its ``st_mode`` test.
_KINDS = ((stat.S_ISDIR, "folder"), (stat.S_ISCHR, "character device"),
          (stat.S_ISBLK, "block device"), (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"))


class NotRegularFile(ValueError):
    """A file to be written is not a regular file, nor a symbolic link to one."""


def current_umask() -> int:
    """The process's umask (read without changing it for longer than two calls)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def regular_target(path) -> Path:
    """The file a write to ``path`` replaces: ``path``, or the end of its chain of
    symbolic links; :class:`NotRegularFile` when that exists and is not a regular file,
    or when the links cannot be resolved (a loop)."""
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target                               # a new file (or a link to one)
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            return target                           # mkstemp names the folder's fault
        raise NotRegularFile(f"{path}: cannot be resolved to a regular file "
                             f"({exc.strerror or exc})") from None
    for test, kind in _KINDS:
        if test(mode):
            shown = f"{path} (a link to {target})" if target != path else f"{path}"
            raise NotRegularFile(f"{shown} is a {kind}, not a regular file: sparsemom "
                                 "writes only regular files (or links to them)")
    return target


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
    os.unlink(_temporary_beside(regular_target(path)))


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside the file ``path`` names (:func:`regular_target`);
    on success give it the umask's permissions and rename it over that file.  An
    ``OSError`` without a file name (a write on a full disk) or naming the temporary file
    is re-raised naming ``path``."""
    path = Path(path)
    target = regular_target(path)
    tmp = _temporary_beside(target)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, target)
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
