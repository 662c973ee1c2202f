"""Every subcommand rejects bad values before computing: one ``error:`` line naming the
option, exit status 2 (argparse's convention), no traceback; Ctrl-C ends a run with
one line and status 130."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from importlib.metadata import version
from pathlib import Path

import pytest

import numerics
from numerics.cli import main
from numerics.runtime.parallel import worker_pool

#: (argv, the option the error line must name)
BAD = [
    (["benchmark", "--rows", "0"], "--rows"),
    (["benchmark", "--steps", "0"], "--steps"),
    (["benchmark", "--which", "everything"], "--which"),
    (["logistic", "--runs", "0"], "--runs"),
    (["logistic", "--dimensions", "100"], "--dimensions"),
    (["logistic", "--dimensions", "1", "100"], "--dimensions"),
    (["conflict", "--rows", "0"], "--rows"),
    (["conflict", "--exponent", "-1"], "--exponent"),
    (["conflict", "--optimizer", "adam"], "--optimizer"),
    (["conflict", "--optimizer", "sgd"], "--optimizer"),
    (["conflict", "--lr", "0"], "--lr"),
    (["conflict", "--lr", "nan"], "--lr"),
    (["conflict", "--d", "0"], "--d"),
    (["conflict", "--batch", "-2"], "--batch"),
    (["conflict", "--sigma2", "-1"], "--sigma2"),
    (["conflict", "--horizon", "0"], "--horizon"),
    (["conflict", "--out", "/etc/passwd"], "--out"),
    (["heatmap", "--d", "1"], "--d"),
    (["heatmap", "--grid", "1"], "--grid"),
    (["heatmap", "--kappa", "2", "1"], "--kappa"),
    (["heatmap", "--gamma", "1", "nan"], "--gamma"),
    (["heatmap", "--rule", "forever"], "--rule"),
    (["heatmap", "--horizon", "0"], "--horizon"),
    (["heatmap", "--sigma", "-1"], "--sigma"),
    (["heatmap", "--sigma2", "-1"], "--sigma2"),
    (["heatmap", "--optimizer", "sgd"], "--optimizer"),
    (["heatmap", "--out", "/etc/passwd"], "--out"),
    (["sweep", "--workers", "0"], "--workers"),
    (["sweep", "--atlas-grid", "1"], "--atlas-grid"),
    (["sweep", "--scheduler", "tcp://127.0.0.1:9"], "--scheduler"),
    (["sweep", "--scheduler", "not an address"], "--scheduler"),
    (["sweep", "--out", "/etc/passwd/sub"], "--out"),
    (["reproduce", "--out", "/etc/passwd"], "--out"),
    (["latex", "-o", "/nonexistent-folder/x.tex"], "--output"),
    (["latex", "--optimizer", "adam"], "--optimizer"),
    (["codegen", "--out", "/etc/passwd"], "--out"),
    (["derive", "--time", "forever"], "--time"),
    (["phase", "--sparsity", "-1", "--batch", "0", "--momentum", "1"], "--sparsity"),
    (["phase", "--sparsity", "1", "--batch", "x", "--momentum", "1"], "--batch"),
    (["phase", "--sparsity", "1", "--batch", "0", "--momentum", "1", "--eps-star", "0"], "--eps-star"),
    (["phase", "--sparsity", "1", "--batch", "0", "--momentum", "1", "--lr-rule", "free"],
     "--lr-exponent"),
]


@pytest.mark.parametrize("argv, option", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_value_is_one_error_line_with_status_2(argv, option, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"sparsemom {argv[0]}: error:") and option in last, err
    assert "Traceback" not in err


def _run(*argv, **kwargs):
    return subprocess.run([sys.executable, "-m", "numerics.cli", *argv], capture_output=True,
                          text=True, timeout=120, **kwargs)


def test_bad_value_in_a_fresh_process_has_no_traceback():
    proc = _run("conflict", "--rows", "0")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "argument --rows" in proc.stderr


def test_every_subcommand_and_option_has_help(capsys):
    from numerics.cli.main import COMMANDS, build_parser

    for name in COMMANDS:
        parser = build_parser(name)
        command = parser.parse_args([name, *(
            ["--sparsity", "0", "--batch", "0", "--momentum", "0"] if name == "phase" else [])])
        sub = command.command_parser
        assert sub.description and "``" not in sub.description, name
        for action in sub._actions:
            if action.dest in ("help",):
                continue
            assert action.help, f"{name} {action.option_strings} has no help"
        text = sub.format_help()
        assert "``" not in text and ":func:" not in text, name
        if any(a.default not in (None, False) for a in sub._actions if a.dest != "help"):
            assert "(default:" in text, name


def test_help_is_fast_and_imports_no_study():
    code = ("import sys, time; t = time.perf_counter(); from numerics.cli.main import build_parser; "
            "build_parser(None).format_help(); "
            "print(sorted(m for m in sys.modules if m.startswith(('numerics.studies.conflict', "
            "'numerics.studies.sweep', 'numerics.studies.logistic', 'paper_figures', 'matplotlib', 'scipy'))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def _pool_workers(pid: int) -> list[int]:
    """Children of ``pid`` running its own command line: its forked pool workers (a
    compiler or other helper it starts has another command line)."""
    parent = Path(f"/proc/{pid}/cmdline").read_bytes()
    workers = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and (stat.parent / "cmdline").read_bytes() == parent:
                workers.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue  # a process that ended while we looked
    return workers


def _default_sigint() -> None:
    """The child reacts to Ctrl-C even when the tests run in a background job (whose
    SIGINT is ignored, and an ignored SIGINT is inherited: Python keeps it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupted_while_starting(bystander, made):
    """A multiprocessing context whose ``Pool()`` is interrupted once it has workers: the
    Ctrl-C is taken by ``bystander``, another thread of the process (as a BLAS thread
    does)."""

    class Interrupted:
        def Pool(self, *args, **kwargs):
            made.append(multiprocessing.Pool(*args, **kwargs))
            signal.pthread_kill(bystander.ident, signal.SIGINT)
            time.sleep(0.2)                               # the handler runs in here
            return made[-1]

    return Interrupted()


def _no_pool_workers_left() -> bool:
    deadline = time.perf_counter() + 10
    while multiprocessing.active_children() and time.perf_counter() < deadline:
        time.sleep(0.05)
    return not multiprocessing.active_children()


@pytest.mark.parametrize("handler", [signal.default_int_handler, signal.SIG_IGN],
                         ids=["acted-on", "ignored"])
def test_ctrl_c_while_a_pool_starts_is_delivered_once_the_pool_can_be_terminated(handler):
    """Ctrl-C inside ``Pool()``, taken by another thread of the process: it is held and
    delivered inside the ``with`` block to the handler the process had, so the pool is
    terminated and no worker outlives it (it once left a pool whose maintenance thread
    forked orphans). A process that ignores Ctrl-C (started in the background, say)
    goes on ignoring it, and its pool works. The test sets that handler itself: a test
    process started in the background inherits an ignored SIGINT."""
    assert threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, handler)
    other = threading.Event()
    bystander = threading.Thread(target=other.wait)     # a thread that does not block SIGINT
    bystander.start()
    made = []
    try:
        if handler is signal.SIG_IGN:
            with worker_pool(2, _interrupted_while_starting(bystander, made)) as pool:
                assert pool.map(abs, [-1, 2, -3]) == [1, 2, 3]
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        else:
            with pytest.raises(KeyboardInterrupt):
                with worker_pool(2, _interrupted_while_starting(bystander, made)):
                    time.sleep(5)                         # not reached: raised on entry
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        other.set()
        bystander.join()
        signal.signal(signal.SIGINT, previous)
    assert made
    assert _no_pool_workers_left()


def test_ctrl_c_ends_reproduce_with_one_line_and_status_130(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "numerics.cli", "reproduce", "--out",
                             str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "CI": "true"}, preexec_fn=_default_sigint)
    deadline = time.perf_counter() + 120
    while not _pool_workers(proc.pid):  # at work: the derive stage's pool runs
        assert proc.poll() is None, "reproduce ended before its derive pool started"
        assert time.perf_counter() < deadline, "no derive pool within 120 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "sparsemom reproduce: interrupted"


def test_ctrl_c_ends_paper_figures_promptly_with_workers_terminated(tmp_path):
    """The process pool once kept `python -m paper_figures` alive 45–70 s after Ctrl-C."""
    # an empty cache: the pool's tasks derive (seconds), they are not read from the store
    env = {**os.environ, "CI": "true", "SPARSEMOM_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "paper_figures", "--only", "phase_diagram",
                             "--out", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True, preexec_fn=_default_sigint)
    deadline = time.perf_counter() + 120
    while not _pool_workers(proc.pid):  # wait until the phase diagram's pool runs
        assert proc.poll() is None, "paper_figures ended before its process pool started"
        assert time.perf_counter() < deadline, "no process pool within 120 s"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: the whole process group
    start = time.perf_counter()
    out, err = proc.communicate(timeout=60)
    assert time.perf_counter() - start < 15
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err, err[-3000:]
    assert err.strip().splitlines()[-1] == "python -m paper_figures: interrupted"


def test_version_is_the_installed_distribution():
    """``sparsemom --version`` and ``numerics.__version__`` name the installed version."""
    assert numerics.__version__ == version("sparsemom")
    proc = subprocess.run([sys.executable, "-m", "numerics.cli", "--version"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"sparsemom {version('sparsemom')}"


def test_a_missing_optional_package_is_one_line_naming_the_extra(monkeypatch, capsys):
    """pdoc (apidocs) and wordfreq (real word streams) are extras: without them the
    command says which extra to install, in one line, before any work."""
    monkeypatch.setitem(sys.modules, "pdoc", None)        # import pdoc → ImportError
    monkeypatch.setitem(sys.modules, "wordfreq", None)
    for argv, extra in ((["apidocs"], "sparsemom[docs]"),
                        (["conflict", "--stream", "words-en"], "sparsemom[words]")):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        err = capsys.readouterr().err
        assert exc.value.code == 2 and extra in err and "Traceback" not in err
        assert [line for line in err.splitlines() if "error:" in line] == \
            [line for line in err.splitlines() if extra in line]
