"""A loss-curve study run as a map over pure tasks, its results kept by key.

:func:`run_curves` computes :func:`~sparsemom.numerics.studies.scaling.loss_curves.run_curve`
for every task that the cache does not already hold — on a local process pool, a Dask
``LocalCluster`` or the cluster of a scheduler address — and keeps each result as it arrives
(:class:`~sparsemom.numerics.runtime.result_cache.ResultCache`), so a study that is
interrupted, or loses a worker, resumes where it stopped. :func:`write_study` writes its
figures, their data and the exponents table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sparsemom.numerics.runtime.atomic import write_text_atomic
from sparsemom.numerics.runtime.parallel import parallel_map
from sparsemom.numerics.runtime.result_cache import ResultCache
from sparsemom.numerics.studies.scaling.exponents import exponent_rows, rows_markdown, rows_table
from sparsemom.numerics.studies.scaling.figures import frontier_figure, loss_curves_figure
from sparsemom.numerics.studies.scaling.loss_curves import run_curve

#: The schema of the cached curve results (change it when CurveResult changes).
SCHEMA = "scaling-curves-2"


@dataclass(frozen=True)
class StudyRun:
    """The results in task order; how many came from the cache; wall seconds of the map;
    seconds the curves computed by this run took (their sum over the workers)."""

    results: list
    cached: int
    seconds: float
    computing: float = 0.0


def run_curves(tasks, scheduler=None, workers: int | None = None,
               cache_dir=None) -> StudyRun:
    """Every task's :class:`~sparsemom.numerics.studies.scaling.loss_curves.CurveResult`,
    in task order (module docstring). ``scheduler``: ``None`` (a local process pool of
    ``workers``), a Dask ``LocalCluster``/``Client`` or a scheduler address; ``cache_dir``:
    the folder of kept results (``None``: none kept)."""
    tasks = list(tasks)
    cache = ResultCache(cache_dir, SCHEMA) if cache_dir is not None else None
    results = [cache.get(t.key) if cache else None for t in tasks]
    missing = [i for i, r in enumerate(results) if r is None]

    def keep(i: int, value) -> None:
        if cache is not None:
            cache.put(tasks[missing[i]].key, value)

    start = time.perf_counter()
    computed = parallel_map(run_curve, [tasks[i] for i in missing], scheduler, workers,
                            "exact curves", on_result=keep) if missing else []
    for i, value in zip(missing, computed):
        results[i] = value
    return StudyRun(results, len(tasks) - len(missing), time.perf_counter() - start,
                    sum(value.seconds for value in computed))


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
