"""Scaling studies run as maps over pure tasks, their results kept by key.

:func:`run_tasks` computes a study's task function (a loss curve,
:func:`~sparsemom.numerics.studies.scaling.loss_curves.run_curve`; a method's curve,
:func:`~sparsemom.numerics.studies.scaling.methods.run_method`) for every task that the cache
does not already hold — on a local process pool, a Dask ``LocalCluster`` or the cluster of a
scheduler address — and keeps each result as it arrives
(:class:`~sparsemom.numerics.runtime.result_cache.ResultCache`), so a study that is
interrupted, or loses a worker, resumes where it stopped. :func:`write_study` and
:func:`write_methods` and :func:`write_method_frontiers` write the figures, their data
and the tables.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sparsemom.numerics.runtime.atomic import write_text_atomic
from sparsemom.numerics.runtime.dask_map import OnDemandCluster
from sparsemom.numerics.runtime.parallel import parallel_map
from sparsemom.numerics.runtime.result_cache import ResultCache
from sparsemom.numerics.studies.scaling.exponents import exponent_rows, rows_markdown, rows_table
from sparsemom.numerics.studies.scaling.figures import (
    frontier_figure,
    loss_curves_figure,
    method_frontiers_figure,
    methods_figure,
)
from sparsemom.numerics.studies.scaling.loss_curves import run_curve
from sparsemom.numerics.studies.scaling.method_frontier import (
    frontier_rows_markdown,
    frontier_rows_table,
)
from sparsemom.numerics.studies.scaling.methods import method_rows_markdown, run_method

#: The schemas of the cached results (change one when its result class changes).
SCHEMA = "scaling-curves-2"
METHODS_SCHEMA = "scaling-methods-2"


@dataclass(frozen=True)
class StudyRun:
    """The results in task order; how many came from the cache; wall seconds of the map;
    seconds the curves computed by this run took (their sum over the workers)."""

    results: list
    cached: int
    seconds: float
    computing: float = 0.0


def run_tasks(function, tasks, scheduler=None, workers: int | None = None, cache_dir=None,
              schema: str = SCHEMA) -> StudyRun:
    """``function(task)`` for every task that the cache does not already hold, in task order
    (module docstring). ``scheduler``: ``None`` (a local process pool of ``workers``), a Dask
    ``LocalCluster``/``Client``, an
    :class:`~sparsemom.numerics.runtime.dask_map.OnDemandCluster` (started only when a task
    is missing) or a scheduler address; ``cache_dir``: the folder of kept results (``None``:
    none kept), each task's under its ``key``."""
    tasks = list(tasks)
    cache = ResultCache(cache_dir, schema) if cache_dir is not None else None
    results = [cache.get(t.key) if cache else None for t in tasks]
    missing = [i for i, r in enumerate(results) if r is None]

    def keep(i: int, value) -> None:
        if cache is not None:
            cache.put(tasks[missing[i]].key, value)

    start = time.perf_counter()
    if missing and isinstance(scheduler, OnDemandCluster):
        scheduler = scheduler.for_tasks(len(missing))
    computed = parallel_map(function, [tasks[i] for i in missing], scheduler, workers,
                            "exact curves", on_result=keep) if missing else []
    for i, value in zip(missing, computed):
        results[i] = value
    return StudyRun(results, len(tasks) - len(missing), time.perf_counter() - start,
                    sum(value.seconds for value in computed))


def run_curves(tasks, scheduler=None, workers: int | None = None, cache_dir=None) -> StudyRun:
    """:func:`run_tasks` of :func:`~sparsemom.numerics.studies.scaling.loss_curves.run_curve`."""
    return run_tasks(run_curve, tasks, scheduler, workers, cache_dir, SCHEMA)


def run_methods(tasks, scheduler=None, workers: int | None = None, cache_dir=None) -> StudyRun:
    """:func:`run_tasks` of :func:`~sparsemom.numerics.studies.scaling.methods.run_method`."""
    return run_tasks(run_method, tasks, scheduler, workers, cache_dir, METHODS_SCHEMA)


def write_study(results, out, rows=None) -> list[Path]:
    """The figures of ``results`` (loss curves with their parts, the compute-optimal
    frontier), their data, and the exponents table as Markdown and CSV, into ``out``
    (``rows``: :func:`~sparsemom.numerics.studies.scaling.exponents.exponent_rows`, when the
    caller has them)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = exponent_rows(results) if rows is None else rows
    paths = [*loss_curves_figure(results, out), *frontier_figure(results, rows, out)]
    table = out / "exponents.md"
    write_text_atomic(table, rows_markdown(rows) + "\n")
    csv = out / "exponents.csv"
    write_text_atomic(csv, rows_table(rows).to_csv(index=False))
    return [*paths, table, csv]


def write_methods(results, out, rows) -> list[Path]:
    """The methods figure with its data and the table of their exponents (Markdown, CSV)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = methods_figure(results, rows, out)
    table = out / "methods.md"
    write_text_atomic(table, method_rows_markdown(rows) + "\n")
    csv = out / "methods.csv"
    write_text_atomic(csv, pd.DataFrame([r.__dict__ for r in rows]).to_csv(index=False))
    return [*paths, table, csv]


def write_method_frontiers(frontiers, out, rows) -> list[Path]:
    """The methods' frontier figure with its data and the table of their frontier exponents
    (Markdown, CSV: one row per method, phase point and exponent)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = method_frontiers_figure(frontiers, out)
    table = out / "method_frontiers.md"
    write_text_atomic(table, frontier_rows_markdown(rows) + "\n")
    csv = out / "method_frontiers.csv"
    write_text_atomic(csv, frontier_rows_table(rows).to_csv(index=False))
    return [*paths, table, csv]
