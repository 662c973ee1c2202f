"""The one folder sparsemom keeps what it computes once per user: stored derivations
(``derivations``) and compiled kernels (``kernels``) live under it.

``$SPARSEMOM_CACHE_DIR`` when set, else the platform's user cache folder for
``sparsemom`` (:func:`platformdirs.user_cache_dir`: ``$XDG_CACHE_HOME/sparsemom``, by
default ``~/.cache/sparsemom``, on Linux; ``~/Library/Caches/sparsemom`` on macOS;
``%LOCALAPPDATA%\\sparsemom\\Cache`` on Windows).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir


def cache_root() -> Path:
    """The user cache folder of sparsemom (read at every call: a changed environment
    variable takes effect at once)."""
    root = os.environ.get("SPARSEMOM_CACHE_DIR")
    return Path(root) if root else Path(user_cache_dir("sparsemom", appauthor=False))
