"""The machine's free memory, for checks made before any work."""

from __future__ import annotations

import os


def available_memory() -> int:
    """Bytes of free physical memory (8 GiB when the system does not say)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def check_memory(what: str, need: int) -> None:
    """A ``ValueError`` before any work when ``what`` needs more than half the free memory
    (``need`` bytes)."""
    free = available_memory()
    if need > free // 2:
        raise ValueError(f"{what} needs about {need / 2**30:.3g} GiB, more than half the free "
                         f"memory ({free / 2**30:.3g} GiB)")
