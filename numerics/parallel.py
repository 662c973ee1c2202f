"""Map a function over tasks: a local process pool by default, a Dask cluster when
given a scheduler address, with a progress bar in a terminal.

Results come back in task order whichever executor ran them.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed

from .progress import progress


def parallel_map(func, tasks, scheduler: str | None = None, workers: int | None = None,
                 description: str = "tasks") -> list:
    """``[func(t) for t in tasks]`` in parallel.

    ``scheduler``: a ``dask.distributed`` scheduler address (``"tcp://host:8786"``)
    or a ``Client``/``LocalCluster``; ``None`` uses a local process pool of
    ``workers`` processes (default: all cores).  ``workers=1`` runs in-process.
    """
    tasks = list(tasks)
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1; got {workers}")
    if scheduler is not None:
        return _dask_map(func, tasks, scheduler, description)
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(tasks) <= 1:
        return [func(t) for t in progress(tasks, desc=description)]
    results = [None] * len(tasks)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(func, t): i for i, t in enumerate(tasks)}
        for future in progress(as_completed(futures), total=len(tasks), desc=description):
            results[futures[future]] = future.result()
    return results


def _dask_map(func, tasks, scheduler, description):
    from dask.distributed import Client, as_completed as dask_completed

    own = not isinstance(scheduler, Client)  # an address or a cluster: connect, and close after
    client = Client(scheduler) if own else scheduler
    try:
        futures = client.map(func, tasks, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        results = [None] * len(tasks)
        for future in progress(dask_completed(futures), total=len(tasks), desc=description):
            results[index[future.key]] = future.result()
        return results
    finally:
        if own:
            client.close()
