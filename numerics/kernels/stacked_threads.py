"""NumPy's stacked linear algebra over the modes in threads.

``np.linalg`` functions on a stack of small matrices (``eigvals`` of 10⁴ blocks 3 × 3) loop
in C without the GIL, one matrix after the other: chunks of the stack in threads take all
cores, and each matrix's result is the same whatever the chunking.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: Matrices per thread below which one thread does the whole stack (a thread costs more).
MIN_CHUNK = 1024


def stacked_map(function, stack: np.ndarray, threads: int) -> np.ndarray:
    """``function(stack)`` for a function of a stack of matrices that acts on each one alone
    (``np.linalg.eigvals``), computed on up to ``threads`` chunks of the stack at once."""
    chunks = min(threads, stack.shape[0] // MIN_CHUNK)
    if chunks <= 1:
        return function(stack)
    with ThreadPoolExecutor(chunks) as pool:
        return np.concatenate(list(pool.map(function, np.array_split(stack, chunks))))
