"""The options a study shares to say where its tasks run and where its results are kept:
``--scheduler`` (a Dask LocalCluster, a local process pool, or a scheduler address),
``--workers``, ``--cache`` and ``--no-cache``; the problem options of the scaling studies
(``--problem``, ``--batch``, ``--seed``); and running a study's map with one error line when
its cluster fails."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from sparsemom.numerics.inputs.arguments import integer_in, output_dir
from sparsemom.numerics.runtime.dask_map import (
    ClusterError,
    OnDemandCluster,
    dask_installed,
    reachable_scheduler,
)
from sparsemom.numerics.runtime.parallel import max_workers
from sparsemom.numerics.studies.scaling.loss_curves import PROBLEMS

#: ``--scheduler`` values for a Dask LocalCluster and for a local process pool, each of
#: ``--workers`` processes.
LOCAL, POOL = "local", "pool"


def add_cluster_arguments(parser) -> None:
    """``--scheduler``, ``--workers``, ``--cache``, ``--no-cache``."""
    parser.add_argument("--scheduler", default=None,
                        help=f"Dask scheduler address, e.g. tcp://host:8786; '{LOCAL}' for a "
                        f"Dask LocalCluster; '{POOL}' for a local process pool (default: "
                        f"'{LOCAL}' when Dask is installed, else '{POOL}')")
    parser.add_argument("--workers", type=integer_in(1, max_workers()), default=None,
                        help=f"local processes of --scheduler {LOCAL} or {POOL}, at most "
                        f"{max_workers()} (default: all cores)")
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--no-cache", action="store_true", help="keep no results")
    kept.add_argument("--cache", type=output_dir, default=None,
                      help="folder of the results kept by key, so that an interrupted study "
                      "resumes (default: OUT/cache)")


def add_problem_arguments(parser) -> None:
    """``--problem`` (of :data:`~sparsemom.numerics.studies.scaling.loss_curves.PROBLEMS`),
    ``--batch``, ``--seed``."""
    parser.add_argument("--problem", choices=PROBLEMS, default="power-law",
                        help="the truncated power law (first d coordinates of an infinite "
                        "population) or power-law random features (v = 4d)")
    parser.add_argument("--batch", type=integer_in(1, 1024), default=1, help="batch size B")
    parser.add_argument("--seed", type=integer_in(0, 2**32 - 1), default=0,
                        help="seed of the random features")


def run_map(args, command: str, run_tasks, tasks):
    """``run_tasks(tasks, scheduler, workers, cache)`` on the study's scheduler; ``None``
    after one error line naming ``command`` when the cluster cannot run them."""
    try:
        with scheduler_of(args, len(tasks)) as where:
            return run_tasks(tasks, where, args.workers, cache_folder(args))
    except ClusterError as exc:
        print(f"sparsemom {command}: error: {exc}", file=sys.stderr)
        return None


def validate_cluster(args) -> None:
    """A local cluster needs Dask; a named scheduler must answer before the study starts, and
    takes no ``--workers`` (its cluster has its own)."""
    if args.scheduler == LOCAL and not dask_installed():
        raise ValueError("--scheduler local needs Dask: pip install 'sparsemom[dask]'")
    if not runs_here(args):
        if args.workers is not None:
            raise ValueError(f"argument --workers: the processes of --scheduler {LOCAL} or "
                             f"{POOL}; the cluster at {args.scheduler} has its own workers")
        reachable_scheduler(args.scheduler)


def runs_here(args) -> bool:
    """The tasks run on this machine (a LocalCluster or a process pool), not on the cluster
    of a scheduler address."""
    return args.scheduler in (None, LOCAL, POOL)


def scheduler_name(args) -> str:
    """The scheduler the study uses: ``--scheduler``, else :data:`LOCAL` when Dask is
    installed, else :data:`POOL`."""
    return args.scheduler or (LOCAL if dask_installed() else POOL)


def scheduler_where(args) -> str:
    """Where the tasks run, for a study's summary."""
    name = scheduler_name(args)
    if name == POOL:
        return "a process pool"
    return "a Dask LocalCluster" if name == LOCAL else f"the cluster at {name}"


def cache_folder(args):
    """Where results are kept (``None``: not kept)."""
    return None if args.no_cache else (args.cache or args.out / "cache")


@contextmanager
def scheduler_of(args, tasks: int):
    """What :func:`~sparsemom.numerics.studies.scaling.study.run_tasks` takes as its
    scheduler: a LocalCluster for the block, started only if some task is not kept already
    (:class:`~sparsemom.numerics.runtime.dask_map.OnDemandCluster`: no more workers than the
    ``tasks`` left, as a pool), ``None`` (the process pool) or the address."""
    name = scheduler_name(args)
    if name == LOCAL:
        cluster = OnDemandCluster(min(args.workers or os.cpu_count() or 1, tasks))
        try:
            yield cluster
        finally:
            cluster.close()
    else:
        yield None if name == POOL else name
