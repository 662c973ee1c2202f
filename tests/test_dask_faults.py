"""Dask faults end with one clear error, never a hang or a traceback: a server that is
not a Dask scheduler (silent, or HTTP), a cluster without workers or that loses them all,
a scheduler lost in the middle of a sweep. Every server here listens on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from sparsemom.numerics.cli import main
from sparsemom.numerics.runtime import dask_map as dask_map_module
from sparsemom.numerics.runtime.dask_map import ClusterError
from sparsemom.numerics.runtime.parallel import parallel_map

distributed = pytest.importorskip("dask.distributed")


def _square(x):
    return x * x


def _slow_square(x):
    time.sleep(1.0)
    return x * x


class _SilentServer:
    """Accepts connections on 127.0.0.1 and never says a word."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.address = f"tcp://127.0.0.1:{self.socket.getsockname()[1]}"
        self.accepted = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.accepted.append(self.socket.accept()[0])
            except OSError:
                return

    def close(self):
        self.socket.close()
        for conn in self.accepted:
            conn.close()


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _HTTPServer:
    """A plain HTTP server on 127.0.0.1 (it answers a Dask handshake with 400)."""

    def __init__(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
        self.address = f"tcp://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=[_SilentServer, _HTTPServer], ids=["silent", "http"])
def not_a_scheduler(request, monkeypatch):
    monkeypatch.setattr(dask_map_module, "CONNECT_TIMEOUT", 1.0)
    server = request.param()
    yield server.address
    server.close()


def _bounded(call, seconds: float = 120):
    """``call()``'s result or exception, in a thread; a test failure if it does not
    return within ``seconds`` (the fault this file is about: a hang)."""
    outcome = []

    def run():
        try:
            outcome.append(("value", call()))
        except BaseException as exc:  # noqa: BLE001  (handed back to the test)
            outcome.append(("error", exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still waiting after {seconds} s"
    kind, value = outcome[0]
    if kind == "error":
        raise value
    return value


def test_sweep_refuses_a_server_that_is_not_a_scheduler(not_a_scheduler, monkeypatch, capsys):
    started = []
    monkeypatch.setattr("sparsemom.numerics.cli.sweep.run_sweep", lambda **kw: started.append(kw))
    with pytest.raises(SystemExit) as exit_:
        _bounded(lambda: main(["sweep", "--scheduler", not_a_scheduler]))
    assert exit_.value.code == 2 and started == []
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("sparsemom sweep: error: argument --scheduler: no Dask scheduler "
                           f"answers at {not_a_scheduler}")
    assert "Traceback" not in err


def test_parallel_map_refuses_a_server_that_is_not_a_scheduler(not_a_scheduler):
    with pytest.raises(ClusterError, match=f"no Dask scheduler answers at {not_a_scheduler}"):
        _bounded(lambda: parallel_map(_square, [1, 2], scheduler=not_a_scheduler))


@pytest.fixture
def tcp_cluster():
    """A cluster in this process, listening on 127.0.0.1, with one single-thread worker."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        yield cluster


def test_a_cluster_without_workers_is_a_clear_timeout(tcp_cluster, monkeypatch):
    monkeypatch.setenv("SPARSEMOM_DASK_WORKER_TIMEOUT", "1")
    tcp_cluster.scale(0)
    with pytest.raises(ClusterError, match=r"has had no worker for 1 s "
                       r"\(SPARSEMOM_DASK_WORKER_TIMEOUT\).*dask worker"):
        _bounded(lambda: parallel_map(_square, [1, 2], scheduler=tcp_cluster.scheduler_address))


def test_losing_every_worker_is_a_clear_timeout(tcp_cluster, monkeypatch):
    monkeypatch.setenv("SPARSEMOM_DASK_WORKER_TIMEOUT", "1")
    with distributed.Client(tcp_cluster) as client:
        assert parallel_map(_square, [3], scheduler=client) == [9]  # the worker runs tasks
        threading.Timer(1.5, tcp_cluster.scale, args=(0,)).start()  # mid-way through 20 s
        with pytest.raises(ClusterError, match="has had no worker for 1 s"):
            _bounded(lambda: parallel_map(_slow_square, range(20), scheduler=client))


def test_a_bad_worker_timeout_is_refused(monkeypatch, tcp_cluster, capsys):
    monkeypatch.setenv("SPARSEMOM_DASK_WORKER_TIMEOUT", "soon")
    with pytest.raises(SystemExit) as exit_:
        main(["sweep", "--scheduler", tcp_cluster.scheduler_address])
    assert exit_.value.code == 2
    assert "SPARSEMOM_DASK_WORKER_TIMEOUT must be a positive" in capsys.readouterr().err


def _start_scheduler(tmp_path):
    """A Dask scheduler in a process of its own on 127.0.0.1: (process, address)."""
    file = tmp_path / "scheduler.json"
    proc = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                             "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                             "--scheduler-file", str(file)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            return proc, json.loads(file.read_text())["address"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            time.sleep(0.1)
    proc.kill()
    pytest.fail("the scheduler did not start within 60 s")


def _tasks_on(address: str) -> int:
    with distributed.Client(address, timeout=10) as client:
        return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def test_losing_the_scheduler_mid_sweep_is_one_error_line(tmp_path):
    scheduler, address = _start_scheduler(tmp_path)
    try:
        env = {**os.environ, "SPARSEMOM_DASK_WORKER_TIMEOUT": "600"}
        sweep = subprocess.Popen([sys.executable, "-m", "sparsemom.numerics.cli", "sweep", "--scheduler",
                                  address, "--out", str(tmp_path / "out")],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env)
        try:
            deadline = time.monotonic() + 120
            while not _tasks_on(address):  # the sweep's tasks wait on the scheduler
                assert sweep.poll() is None and time.monotonic() < deadline, sweep.stderr.read()
                time.sleep(0.2)
            scheduler.kill()
            out, err = sweep.communicate(timeout=120)
        finally:
            if sweep.poll() is None:
                sweep.kill()
                sweep.wait()
    finally:
        scheduler.kill()
        scheduler.wait()
    assert sweep.returncode not in (0, None)
    assert "Traceback" not in err, err
    # one line, naming the scheduler; which of the two losses Dask reports first (the
    # cancelled futures or the closed connection) depends on timing
    (line,) = err.strip().splitlines()
    assert line.startswith("sparsemom sweep: error: ") and f"Dask scheduler at {address}" in line, err
    assert ("was lost or cancelled the tasks" in line
            or "lost the connection to the Dask scheduler" in line), err
