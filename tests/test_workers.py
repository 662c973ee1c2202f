"""The local process pool is bounded: never more processes than tasks, and a number of
workers outside ``1..max(64, 4 × cores)`` is refused before any work (``--workers 64``
forked 64 processes for the sweep's 25 tasks)."""

from __future__ import annotations

import os

import pytest

from sparsemom.numerics.cli import main
from sparsemom.numerics.runtime import parallel
from sparsemom.numerics.runtime.parallel import check_workers, max_workers, parallel_map


def _square(x):
    return x * x


@pytest.fixture
def pool_sizes(monkeypatch):
    """The number of processes of every pool :func:`parallel_map` starts."""
    sizes = []
    original = parallel.worker_pool

    def recording(workers, *args, **kwargs):
        sizes.append(workers)
        return original(workers, *args, **kwargs)

    monkeypatch.setattr(parallel, "worker_pool", recording)
    return sizes


def test_the_pool_has_no_more_processes_than_tasks(pool_sizes):
    assert parallel_map(_square, [1, 2, 3], workers=16) == [1, 4, 9]
    assert pool_sizes == [3]


def test_the_default_pool_has_no_more_processes_than_tasks(pool_sizes, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert parallel_map(_square, [2, 3], workers=None) == [4, 9]
    assert pool_sizes == [2]


def test_the_range_is_at_least_64_and_four_times_the_cores(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert max_workers() == 64
    monkeypatch.setattr(os, "cpu_count", lambda: 48)
    assert max_workers() == 192
    check_workers(192)
    with pytest.raises(ValueError, match=r"workers must be >= 1 and <= 192 .*; got 193"):
        check_workers(193)


@pytest.mark.parametrize("workers", [0, -1, 10**6, 2.5, True])
def test_workers_out_of_range_are_refused_before_any_task(workers, pool_sizes):
    ran = []
    with pytest.raises(ValueError, match="workers must be >= 1 and <= "):
        parallel_map(ran.append, [1, 2], workers=workers)
    assert ran == [] and pool_sizes == []


def test_sweep_workers_out_of_range_is_one_error_line(capsys, pool_sizes):
    with pytest.raises(SystemExit) as exit_:
        main(["sweep", "--workers", str(max_workers() + 1)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("sparsemom sweep: error: argument --workers:")
    assert f"[1, {max_workers()}]" in last and "Traceback" not in err
    assert pool_sizes == []
