"""Map a function over tasks: a local process pool by default, a Dask cluster when
given a scheduler address, with a progress bar in a terminal.

Results come back in task order whichever executor ran them.
"""

from __future__ import annotations

import multiprocessing
import numbers
import os
import signal
import threading
from contextlib import contextmanager

from sparsemom.numerics.runtime.dask_map import dask_map
from sparsemom.numerics.runtime.progress import progress


def max_workers() -> int:
    """The most local worker processes accepted: ``max(64, 4 × cores)`` (more would only
    compete for the cores, and each is a forked process with its own memory)."""
    return max(64, 4 * (os.cpu_count() or 1))


def check_workers(workers: int | None) -> None:
    """A ``ValueError`` naming ``workers`` unless it is ``None`` (all cores) or an integer
    in ``1..max_workers()``."""
    if workers is None:
        return
    top = max_workers()
    if (isinstance(workers, bool) or not isinstance(workers, numbers.Integral)
            or not 1 <= workers <= top):
        raise ValueError(f"workers must be >= 1 and <= {top} (the larger of 64 and 4 × the "
                         f"{os.cpu_count() or 1} cores); got {workers!r}")


def parallel_map(func, tasks, scheduler: str | None = None, workers: int | None = None,
                 description: str = "tasks", on_result=None) -> list:
    """``[func(t) for t in tasks]`` in parallel.

    ``scheduler``: a ``dask.distributed`` scheduler address (``"tcp://host:8786"``)
    or a ``Client``/``LocalCluster``; ``None`` uses a local process pool of
    ``workers`` processes (default: all cores; :func:`check_workers` gives the range),
    never more than there are tasks.  ``workers=1`` runs in-process.  ``on_result(i, value)``,
    when given, is called in this process as each result arrives (a study keeps them as they
    come, so an interrupted one resumes).  On a cluster a
    :class:`~sparsemom.numerics.runtime.dask_map.ClusterError` says when it cannot run the tasks
    (:func:`~sparsemom.numerics.runtime.dask_map.dask_map`).
    """
    tasks = list(tasks)
    check_workers(workers)
    if scheduler is not None:
        return dask_map(func, tasks, scheduler, description, on_result)
    workers = min(workers or os.cpu_count() or 1, len(tasks))
    results = [None] * len(tasks)
    if workers == 1 or len(tasks) <= 1:
        for i, task in enumerate(progress(tasks, desc=description)):
            results[i] = func(task)
            if on_result is not None:
                on_result(i, results[i])
        return results
    # a multiprocessing pool, because leaving its `with` block terminates the workers:
    # Ctrl-C (or an error) ends the map at once instead of waiting for running tasks
    with worker_pool(workers) as pool:
        done = pool.imap_unordered(_indexed, [(i, func, t) for i, t in enumerate(tasks)])
        for i, value in progress(done, total=len(tasks), desc=description):
            results[i] = value
            if on_result is not None:
                on_result(i, value)
    return results


@contextmanager
def worker_pool(workers: int, context=multiprocessing):
    """``context.Pool(workers)`` whose workers leave Ctrl-C to this process, terminated
    however the block ends.  A Ctrl-C while the pool starts is held back and delivered
    once the block is entered: one that landed inside ``Pool()`` left a half-made pool
    that was never terminated, whose maintenance thread forked new workers while the
    process exited, orphans that kept its pipes open (about one Ctrl-C in 80, measured; one in 4 with multiprocessing’s debug log slowing Pool()).
    The hold is a deferring Python handler, not a blocked signal mask: another thread of
    the process (a BLAS thread, say) could still take the signal for the main thread."""
    held: list[int] = []
    previous = _hold_interrupts(held)
    try:
        pool = context.Pool(workers, initializer=ignore_interrupts)
    except BaseException:
        _restore(previous)
        raise
    with pool:  # held until inside: a Ctrl-C between Pool() and here would skip terminate
        _restore(previous)
        if held:
            signal.raise_signal(signal.SIGINT)  # as if it came now: the pool is terminated
        yield pool


def _hold_interrupts(held: list[int]):
    """Have Ctrl-C appended to ``held`` instead of acted on; the handler it replaced, or
    ``None`` where this cannot be done (not the main thread; a handler not from Python)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:
        return None
    signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    return previous


def _restore(previous) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)


def ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the parent, which terminates them (no worker tracebacks)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _indexed(job):
    """``(i, func(task))`` for ``job = (i, func, task)``: results carry their place."""
    i, func, task = job
    return i, func(task)
