"""Faulty compilers: one that hangs is stopped at the compile time limit (its whole
process group killed), one named with broken quoting or one that builds nothing is
named as the fault; ``backend="auto"`` falls back to NumPy with a warning, ``"c"``
raises a :class:`CompileError` naming the compiler."""

from __future__ import annotations

import ctypes
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.kernels import compiler
from sparsemom.numerics.kernels.exact_risk import BackendFallbackWarning, exact_risk

exact_risk_module = sys.modules["sparsemom.numerics.kernels.exact_risk"]
MODEL = SparseLeastSquares(6, [0.3, 0.02], R0=[1.0, 2.0], sigma2=0.1)
OPT = Optimizer("heavy-ball", lr=0.05, beta=0.6, batch=3)

#: A "compiler" that answers ``--version`` (unless HANG_AT_VERSION is set) and otherwise
#: starts a child that sleeps, records the child's pid and waits for it: killing the
#: script alone would leave the child holding the output pipes.
HANGING_CC = """#!/bin/sh
if [ "$1" = --version ] && [ -z "$HANG_AT_VERSION" ]; then echo "fake cc 1.0"; exit 0; fi
sleep 3600 &
echo $! >> "$CHILD_PIDS"
wait
"""

#: Run in a fresh process (so a hang is a failed test, not a hung suite): the risk of
#: the backend, or the error, and the warnings, as JSON.
SCRIPT = """
import json, sys, threading, warnings
# a thread besides the main one, as BLAS starts them (the Ctrl-C test signals it)
threading.Thread(target=threading.Event().wait, daemon=True).start()
import numpy as np
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.kernels.exact_risk import exact_risk
model = SparseLeastSquares(6, [0.3, 0.02], R0=[1.0, 2.0], sigma2=0.1)
opt = Optimizer("heavy-ball", lr=0.05, beta=0.6, batch=3)
out = {}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        out["risk"] = exact_risk(model, opt, 30, backend=sys.argv[1]).tolist()
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
out["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
out["numpy"] = exact_risk(model, opt, 30, backend="numpy").tolist()
print(json.dumps(out))
"""


@pytest.fixture
def fresh_compiler(monkeypatch, tmp_path):
    """A kernel cache of its own, no compiler facts or C failure remembered."""
    monkeypatch.setenv("SPARSEMOM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(exact_risk_module, "_C_UNAVAILABLE", None)
    for cached in (compiler._compiled, compiler._compiler_identity, compiler._openmp_works):
        cached.cache_clear()
    yield
    for cached in (compiler._compiled, compiler._compiler_identity, compiler._openmp_works):
        cached.cache_clear()


def _alive(pid: int) -> bool:
    """``pid`` runs (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _gone(pids: list[int]) -> bool:
    """Every pid in ``pids`` has ended (waited for at most 10 s: init reaps orphans)."""
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(_alive(p) for p in pids)


@pytest.mark.parametrize("hang_at_version", [False, True], ids=["after --version", "at --version"])
@pytest.mark.parametrize("backend", ["auto", "c"])
def test_a_hanging_compiler_is_stopped_at_the_time_limit(backend, hang_at_version, tmp_path):
    cc = tmp_path / "hanging-cc"
    cc.write_text(HANGING_CC)
    cc.chmod(0o755)
    children = tmp_path / "children"
    children.write_text("")
    env = {**os.environ, "CC": str(cc), "SPARSEMOM_COMPILE_TIMEOUT": "1",
           "SPARSEMOM_CACHE_DIR": str(tmp_path / "cache"), "CHILD_PIDS": str(children)}
    if hang_at_version:
        env["HANG_AT_VERSION"] = "1"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, backend], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    if backend == "auto":
        assert out["risk"] == out["numpy"]
        (warning,) = out["warnings"]
        assert warning.startswith("BackendFallbackWarning") and "within the limit of 1 s" in warning
    else:
        assert out["error"].startswith("CompileError") and str(cc) in out["error"]
        assert "within the limit of 1 s" in out["error"]
        assert "SPARSEMOM_COMPILE_TIMEOUT" in out["error"]
    pids = [int(line) for line in children.read_text().split()]
    assert pids and _gone(pids)  # the compiler's own child was killed with it


def test_the_time_limit_must_be_a_positive_number(monkeypatch, fresh_compiler):
    for bad in ("soon", "0", "-1", "inf", "nan"):
        monkeypatch.setenv("SPARSEMOM_COMPILE_TIMEOUT", bad)
        with pytest.raises(ValueError, match="SPARSEMOM_COMPILE_TIMEOUT must be a positive"):
            compiler.compile_timeout()
    monkeypatch.setenv("SPARSEMOM_COMPILE_TIMEOUT", "2.5")
    assert compiler.compile_timeout() == 2.5
    monkeypatch.delenv("SPARSEMOM_COMPILE_TIMEOUT")
    assert compiler.compile_timeout() == compiler.COMPILE_TIMEOUT


def test_the_time_limit_is_documented():
    page = Path(__file__).resolve().parents[1] / "docs" / "generated-code.md"
    assert "SPARSEMOM_COMPILE_TIMEOUT" in page.read_text(encoding="utf-8")


def test_unsplittable_cc_is_named_for_c(monkeypatch, fresh_compiler):
    monkeypatch.setenv("CC", "gcc '-O2")
    with pytest.raises(compiler.CompileError, match=r"CC=\"gcc '-O2\" cannot be split.*quoting"):
        exact_risk(MODEL, OPT, 30, backend="c")


def test_unsplittable_cc_falls_back_for_auto(monkeypatch, fresh_compiler):
    monkeypatch.setenv("CC", "gcc '-O2")
    with pytest.warns(BackendFallbackWarning, match=r"CC=\"gcc '-O2\" cannot be split"):
        risk = exact_risk(MODEL, OPT, 30)
    np.testing.assert_array_equal(risk, exact_risk(MODEL, OPT, 30, backend="numpy"))


def test_a_compiler_that_builds_nothing_is_blamed_not_the_cache(monkeypatch, fresh_compiler):
    monkeypatch.setenv("CC", "/bin/true")
    with pytest.raises(compiler.CompileError, match="'/bin/true' reported success .* but "
                       "produced no library") as error:
        exact_risk(MODEL, OPT, 30, backend="c")
    assert "cache" not in str(error.value)
    exact_risk_module._C_UNAVAILABLE = None
    with pytest.warns(BackendFallbackWarning, match="produced no library"):
        risk = exact_risk(MODEL, OPT, 30)
    np.testing.assert_array_equal(risk, exact_risk(MODEL, OPT, 30, backend="numpy"))


def _tgkill(pid: int, tid: int, sig: int) -> None:
    """Send ``sig`` to one thread ``tid`` of process ``pid`` (Linux ``tgkill``)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(TGKILL[platform.machine()], pid, tid, sig) != 0:
        raise OSError(ctypes.get_errno(), "tgkill failed")


#: The ``tgkill`` system call's number, per architecture.
TGKILL = {"x86_64": 234, "aarch64": 131}


@pytest.mark.parametrize("target", ["process", "worker thread"])
def test_ctrl_c_during_a_compile_stops_the_compiler(tmp_path, target):
    """The compiler runs in a session of its own (so the time limit can kill its whole
    group), out of reach of a terminal's Ctrl-C: the interrupted process kills it, also
    when the kernel hands the signal to a thread other than the one waiting for the
    compiler (NumPy's BLAS threads: that thread's wait was not woken, and the Ctrl-C took
    effect only at the compile time limit)."""
    if target == "worker thread" and (sys.platform != "linux" or platform.machine() not in TGKILL):
        pytest.skip("tgkill is Linux's; the thread's number is known here for x86_64 and aarch64")
    cc = tmp_path / "hanging-cc"
    cc.write_text(HANGING_CC)
    cc.chmod(0o755)
    children = tmp_path / "children"
    children.write_text("")
    env = {**os.environ, "CC": str(cc), "SPARSEMOM_COMPILE_TIMEOUT": "600",
           "SPARSEMOM_CACHE_DIR": str(tmp_path / "cache"), "CHILD_PIDS": str(children)}
    # A terminal's process reacts to Ctrl-C, also when this suite runs in a background job
    # (whose SIGINT is ignored, and an ignored SIGINT is inherited: Python keeps it ignored).
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, "c"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while not children.read_text().split():  # the compiler has started its child
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        threads = sorted(int(t) for t in os.listdir(f"/proc/{proc.pid}/task")) \
            if target == "worker thread" else []
        assert target == "process" or len(threads) >= 2, threads
        if threads:
            _tgkill(proc.pid, next(t for t in threads if t != proc.pid), signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    pids = [int(line) for line in children.read_text().split()]
    assert _gone(pids)


def test_benchmark_with_a_compiler_that_builds_nothing_is_one_error_line(monkeypatch, capsys,
                                                                         fresh_compiler):
    """``sparsemom benchmark`` measures the C kernel: a compiler that cannot build it ended
    in a traceback."""
    from sparsemom.numerics.cli.main import main

    monkeypatch.setenv("CC", "/bin/true")
    status = main(["benchmark", "--which", "exact-risk", "--rows", "10", "--steps", "2"])
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err, err
    (line,) = err.strip().splitlines()
    assert line.startswith("sparsemom benchmark: error:") and "/bin/true" in line, err


def test_a_bad_time_limit_is_a_compile_error_auto_falls_back(monkeypatch, fresh_compiler):
    """``SPARSEMOM_COMPILE_TIMEOUT=soon`` raised a ValueError from inside ``exact_risk``:
    ``c`` now names the variable, ``auto`` runs on NumPy with a warning."""
    monkeypatch.setenv("SPARSEMOM_COMPILE_TIMEOUT", "soon")
    model = SparseLeastSquares(d=4, p=[0.5, 0.25])
    optimizer = Optimizer("heavy-ball", lr=0.1, beta=0.5)
    with pytest.raises(compiler.CompileError, match="SPARSEMOM_COMPILE_TIMEOUT must be"):
        exact_risk(model, optimizer, 3, backend="c")
    with pytest.warns(BackendFallbackWarning):
        got = exact_risk(model, optimizer, 3, backend="auto")
    np.testing.assert_array_equal(got, exact_risk(model, optimizer, 3, backend="numpy"))
