"""Results of pure tasks kept on disk by key, so that an interrupted study resumes.

One pickle per key in a folder, written atomically as each result arrives
(:func:`~sparsemom.numerics.runtime.atomic.atomic_path`): a study killed at any moment leaves
whole files only, and its next run computes just the keys that are missing. A file records
the ``schema`` it was written under: the study's name, the package version and the
fingerprint of the package's source (:func:`source_fingerprint`), so a result computed by
other code is not reused; one written under another schema, or that does not unpickle, is
treated as missing and overwritten.
"""

from __future__ import annotations

import hashlib
import pickle
import re
from functools import lru_cache
from pathlib import Path

from sparsemom.numerics.runtime.atomic import atomic_path
from sparsemom.numerics.version import __version__

#: What a key may hold: it names a file.
KEY = re.compile(r"[A-Za-z0-9._+-]{1,200}")


#: The package folders whose source the results depend on, and the files that count.
SOURCE_FOLDERS = ("derivations", "numerics")
SOURCE_SUFFIXES = (".py", ".c", ".h")


@lru_cache(maxsize=1)
def source_fingerprint() -> str:
    """SHA-256 of every source file (``.py``, ``.c``, ``.h``) of the package's ``derivations``
    and ``numerics``, by relative path: any change of the code that computes a result changes
    it (computed once per process)."""
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for folder in SOURCE_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in SOURCE_SUFFIXES and path.is_file():
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


class ResultCache:
    """``get``/``put`` of picklable results by key in ``folder`` (module docstring)."""

    def __init__(self, folder, schema: str):
        self.folder = Path(folder)
        self.schema = f"{schema} {__version__} {source_fingerprint()}"

    def path(self, key: str) -> Path:
        """The file of ``key`` (a ``ValueError`` unless it is a plain file name)."""
        if not KEY.fullmatch(key):
            raise ValueError(f"key must be 1-200 letters, digits or ._+-; got {key!r}")
        return self.folder / f"{key}.pickle"

    def get(self, key: str):
        """The result kept for ``key``, or ``None``."""
        path = self.path(key)
        try:
            with open(path, "rb") as file:
                schema, value = pickle.load(file)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError,
                AttributeError, ImportError):
            return None
        return value if schema == self.schema else None

    def put(self, key: str, value) -> None:
        """Keep ``value`` for ``key`` (atomically)."""
        path = self.path(key)
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as file:
                pickle.dump((self.schema, value), file, protocol=pickle.HIGHEST_PROTOCOL)
