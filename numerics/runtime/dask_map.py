"""Map a function over tasks on a Dask cluster, with every wait bounded.

A server that is not a Dask scheduler (it accepts and says nothing, or speaks HTTP) is
refused within :data:`CONNECT_TIMEOUT` (``Client`` itself would wait for its handshake
forever); a cluster without workers for :func:`worker_timeout` seconds, or whose
scheduler is lost, ends the map with a :class:`ClusterError` that says so. An error
raised by a task itself is raised as it is.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import socket
import threading
import time
from contextlib import ExitStack, contextmanager
from urllib.parse import urlsplit

from sparsemom.numerics.runtime.limits import seconds_from_environment
from sparsemom.numerics.runtime.progress import progress

#: Seconds to connect to a scheduler and hear it answer.
CONNECT_TIMEOUT = 10.0
#: Seconds a map waits while the cluster has no worker (they may still be starting),
#: unless ``$SPARSEMOM_DASK_WORKER_TIMEOUT`` says otherwise.
WORKER_TIMEOUT = 300.0
WORKER_TIMEOUT_VARIABLE = "SPARSEMOM_DASK_WORKER_TIMEOUT"
#: Seconds between looks at the tasks, and between asking the scheduler for its workers.
_POLL, _HEALTH = 0.05, 1.0


class ClusterError(RuntimeError):
    """The Dask cluster cannot run the tasks: no scheduler answers, the scheduler was
    lost, or no worker has been connected for :func:`worker_timeout` seconds."""


def worker_timeout() -> float:
    """Seconds a map waits with no worker in the cluster: ``$SPARSEMOM_DASK_WORKER_TIMEOUT``
    (a positive number) or :data:`WORKER_TIMEOUT`."""
    return seconds_from_environment(WORKER_TIMEOUT_VARIABLE, WORKER_TIMEOUT)


def reachable_scheduler(address: str, timeout: float | None = None) -> None:
    """A ``ValueError`` naming ``--scheduler`` unless Dask is installed and a Dask
    scheduler answers at ``address`` (``tcp://host:port``) within ``timeout`` seconds
    (default :data:`CONNECT_TIMEOUT`); ``$SPARSEMOM_DASK_WORKER_TIMEOUT``, when set, must be
    valid."""
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    if importlib.util.find_spec("distributed") is None:
        raise ValueError("argument --scheduler: needs Dask: pip install 'sparsemom[dask]'")
    parsed = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host = port = None
    if not host or not port:
        raise ValueError(f"argument --scheduler: expected tcp://host:port; got {address!r}")
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise ValueError(f"argument --scheduler: no scheduler answers at {address} "
                         f"({exc.strerror or exc})") from None
    try:
        check_scheduler(address, timeout)
    except ClusterError as exc:
        raise ValueError(f"argument --scheduler: {exc}") from None
    worker_timeout()


def check_scheduler(address: str, timeout: float | None = None) -> None:
    """A :class:`ClusterError` unless a Dask scheduler at ``address`` completes the
    handshake and names itself within ``timeout`` seconds (default
    :data:`CONNECT_TIMEOUT`; asked in a thread of its own, so that it works inside a
    running event loop, a notebook's)."""
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    answer: list = []
    thread = threading.Thread(target=lambda: answer.append(_identity(address, timeout)),
                              daemon=True)
    thread.start()
    thread.join(3 * timeout)  # each of the three steps is bounded by ``timeout``
    kind = answer[0] if answer else f"no answer within {timeout:g} s"
    if kind != "Scheduler":
        raise ClusterError(f"no Dask scheduler answers at {address} ({kind})")


def _identity(address: str, timeout: float) -> str:
    """The ``type`` the server at ``address`` gives itself (``"Scheduler"``), or what
    went wrong (connecting as a ``Client`` would: with the TLS settings of Dask's
    configuration, if any)."""
    from dask.distributed import Security, connect

    async def ask():
        security = Security().get_connection_args("client")
        comm = await asyncio.wait_for(connect(address, timeout=timeout, **security), timeout)
        try:
            await asyncio.wait_for(comm.write({"op": "identity", "reply": True}), timeout)
            return await asyncio.wait_for(comm.read(), timeout)
        finally:
            comm.abort()

    try:
        reply = asyncio.run(ask())
    except (asyncio.TimeoutError, TimeoutError):
        return f"no answer within {timeout:g} s"
    except Exception as exc:  # any failure of the exchange: not a scheduler that answers
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return reply.get("type", "no type") if isinstance(reply, dict) else "an unknown reply"


def dask_map(func, tasks: list, scheduler, description: str, on_result=None) -> list:
    """``[func(t) for t in tasks]`` on the cluster of ``scheduler`` (an address, a
    ``LocalCluster`` or a ``Client``), results in task order (``on_result(i, value)`` called
    here as each arrives); a :class:`ClusterError` when the cluster cannot run them."""
    from dask.distributed import Client

    own = not isinstance(scheduler, Client)  # an address or a cluster: connect, and close after
    if isinstance(scheduler, str):
        check_scheduler(scheduler)
    limit = worker_timeout()
    client = Client(scheduler, timeout=CONNECT_TIMEOUT) if own else scheduler
    address = client.scheduler.address if client.scheduler else str(scheduler)
    try:
        futures = client.map(func, tasks, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        results = [None] * len(tasks)
        for future in progress(_completed(client, futures, address, limit),
                               total=len(tasks), desc=description):
            i = index[future.key]
            results[i] = future.result()
            if on_result is not None:
                on_result(i, results[i])
        return results
    except ClusterError:
        if own:  # the client's own log of the lost connection would repeat the error
            with _quiet_client_log():
                client.close()
            own = False
        raise
    finally:
        if own:
            client.close()


def dask_installed() -> bool:
    """``dask.distributed`` can be imported (the ``dask`` extra is installed)."""
    return importlib.util.find_spec("distributed") is not None


@contextmanager
def local_cluster(workers: int | None = None):
    """A Dask ``LocalCluster`` of ``workers`` processes (default: every core), one thread
    each and no dashboard, closed when the block ends."""
    from dask.distributed import LocalCluster

    with _quiet_client_log():
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=None)
    try:
        yield cluster
    finally:
        with _quiet_client_log():
            cluster.close()


class OnDemandCluster:
    """A Dask ``LocalCluster`` started only when a map has tasks to run (:meth:`for_tasks`),
    with no more than ``workers`` processes nor more than those tasks; :meth:`close` closes
    it (a study whose results are all kept starts none)."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        self._stack = ExitStack()
        self.cluster = None

    def for_tasks(self, tasks: int):
        """The cluster, started on the first call with ``min(workers, tasks)`` workers."""
        if self.cluster is None:
            self.cluster = self._stack.enter_context(local_cluster(max(1, min(self.workers,
                                                                               tasks))))
        return self.cluster

    def close(self) -> None:
        self._stack.close()


@contextmanager
def _quiet_client_log():
    """The Dask client's log held to critical messages inside the block."""
    log = logging.getLogger("distributed.client")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def _completed(client, futures: list, address: str, limit: float):
    """The futures as they finish (a task's own error included); a :class:`ClusterError`
    when one is cancelled (the scheduler was lost), a worker failed it repeatedly, or the
    cluster has had no worker for ``limit`` seconds."""
    from dask.distributed import KilledWorker

    pending = list(futures)
    idle_since = None
    next_look = time.monotonic()
    while pending:
        finished = [f.done() for f in pending]
        done = [f for f, over in zip(pending, finished) if over]
        if done:
            pending = [f for f, over in zip(pending, finished) if not over]
            for future in done:
                if future.cancelled():
                    raise ClusterError(f"the Dask scheduler at {address} was lost or cancelled "
                                       "the tasks; nothing was computed after that")
                if future.status == "error" and isinstance(future.exception(), KilledWorker):
                    raise ClusterError(f"Dask workers died running a task ({future.exception()})")
                yield future
            continue
        now = time.monotonic()
        if now >= next_look:
            next_look = now + _HEALTH
            if _worker_count(client, address):
                idle_since = None
            elif idle_since is None:
                idle_since = now
            elif now - idle_since >= limit:
                raise ClusterError(f"the Dask scheduler at {address} has had no worker for "
                                   f"{limit:g} s ({WORKER_TIMEOUT_VARIABLE}): start workers with "
                                   f"`dask worker {address}`, or run without --scheduler")
        time.sleep(_POLL)


def _worker_count(client, address: str) -> int:
    """The workers the scheduler has now; a :class:`ClusterError` when it cannot be asked."""
    try:
        return len(client.nthreads())
    except Exception as exc:  # a closed client, a lost connection: the scheduler is gone
        raise ClusterError(f"lost the connection to the Dask scheduler at {address} "
                           f"({type(exc).__name__}: {exc})") from None
