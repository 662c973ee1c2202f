"""Every subcommand rejects bad values before computing: one ``error:`` line naming the
option, exit status 2 (argparse's convention), no traceback; Ctrl-C ends a run with
one line and status 130."""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

import sparsemom.numerics
from sparsemom.numerics.cli import main
from sparsemom.numerics.runtime.parallel import worker_pool

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
    # an option a run would ignore is refused, not dropped
    (["phase", "--sparsity", "1", "--batch", "0", "--momentum", "1", "--rho", "2"], "--rho"),
    (["benchmark", "--modes", "10", "--which", "exact-risk"], "--modes"),
    # a negative value of a two-value option is read as a value, and its range named
    (["heatmap", "--kappa", "-1", "1"], "must be a finite number in [0, 52]; got '-1'"),
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
    return subprocess.run([sys.executable, "-m", "sparsemom.numerics.cli", *argv], capture_output=True,
                          text=True, timeout=120, **kwargs)


def test_bad_value_in_a_fresh_process_has_no_traceback():
    proc = _run("conflict", "--rows", "0")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "argument --rows" in proc.stderr


def test_every_subcommand_and_option_has_help(capsys):
    from sparsemom.numerics.cli.main import COMMANDS, build_parser

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
        # no default where there is none to tell, none told twice
        assert "(default: None)" not in text and "(default: False)" not in text, name
        assert not re.search(r"default[^()]*\) \(default:", text.replace("\n", " ")), name


def test_help_is_fast_and_imports_no_study():
    code = ("import sys, time; t = time.perf_counter(); from sparsemom.numerics.cli.main import build_parser; "
            "build_parser(None).format_help(); "
            "print(sorted(m for m in sys.modules if m.startswith(('sparsemom.numerics.studies.conflict', "
            "'sparsemom.numerics.studies.sweep', 'sparsemom.numerics.studies.logistic', 'sparsemom.paper_figures', 'matplotlib', 'scipy'))))")
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
    proc = subprocess.Popen([sys.executable, "-m", "sparsemom.numerics.cli", "reproduce", "--out",
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
    """The process pool once kept `python -m sparsemom.paper_figures` alive 45–70 s after Ctrl-C."""
    # an empty cache: the pool's tasks derive (seconds), they are not read from the store
    env = {**os.environ, "CI": "true", "SPARSEMOM_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "sparsemom.paper_figures", "--only", "phase_diagram",
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
    assert err.strip().splitlines()[-1] == "python -m sparsemom.paper_figures: interrupted"


def test_version_is_the_installed_distribution():
    """``sparsemom --version`` and ``sparsemom.numerics.__version__`` name the installed version."""
    assert sparsemom.numerics.__version__ == version("sparsemom")
    proc = subprocess.run([sys.executable, "-m", "sparsemom.numerics.cli", "--version"], capture_output=True,
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


#: Issue 30 §4: values that once started the work and then failed (a traceback, exit 1)
#: or ran for ever; each is now refused before any work, naming the option.
REFUSED_UP_FRONT = [
    # 10⁴ runs at d = 10⁴: 3·10¹² Gaussian draws, many hours, though each step's 10⁸ fit
    (["logistic", "--dimensions", "2", "10000", "--runs", "10000"], "--runs"),
    # an exponent with underscores slipped past the exponent bound: Fraction built 10^8 digits
    (["phase", "--sparsity", "1e99_999_999", "--batch", "0", "--momentum", "0"], "--sparsity"),
    (["logistic", "--dimensions", "2", "3", "--runs", "39"], "--runs"),
    (["logistic", "--dimensions", "2", "10000", "--runs", "100000"], "--runs"),
    (["phase", "--model", "logistic", "--sparsity", "0", "--batch", "0", "--momentum", "0"],
     "--sparsity"),
    (["phase", "--sparsity", "1", "--batch", "0", "--momentum", "1e308"], "--momentum"),
    (["phase", "--sparsity", "1e100000", "--batch", "0", "--momentum", "0"], "--sparsity"),
    (["phase", "--sparsity", "1" * 200_000, "--batch", "0", "--momentum", "0"], "--sparsity"),
    (["phase", "--sparsity", "1", "--batch", "0", "--momentum", "0", "--lr-star", "1e308"],
     "--lr-star"),
    (["phase", "--sparsity", "1", "--batch", "0", "--momentum", "0", "--rho", "27"], "--rho"),
    (["phase", "--sparsity", "1e-100000", "--batch", "0", "--momentum", "0"], "--sparsity"),
    (["phase", "--sparsity", "1e999999999", "--batch", "0", "--momentum", "0"], "--sparsity"),
    (["heatmap", "--sigma", "1E-999999999"], "--sigma"),        # 10^9 digits before
    (["phase", "--sparsity", "0", "--batch", "0", "--momentum", "1", "--p-star", "1/1000",
      "--batch-star", "1000000000000"], "--batch-star"),      # ran for hours
    (["heatmap", "--d", "1000000000000000000000000000000"], "--d"),
    (["heatmap", "--d", "1e30"], "--d"),
    (["heatmap", "--horizon", "1e300"], "--horizon"),
    (["heatmap", "--horizon", "1e12"], "--horizon"),         # T·d^τ beyond 2^53 steps
    (["heatmap", "--sigma2", "1e308"], "--sigma2"),
    (["heatmap", "--sigma", "1e308"], "--sigma"),
    (["heatmap", "--d", "2", "--grid", "2", "--sigma", "100"], "--sigma"),
    (["heatmap", "--grid", "1000000000"], "--grid"),
    (["heatmap", "--gamma", "0", "6"], "--gamma"),           # 1 − β = 1000^-6 is 1 − 1.0
    (["conflict", "--rows", "1000000000000"], "--rows"),
    (["conflict", "--rows", "100000000"], "--rows"),         # 56 GB
    (["conflict", "--horizon", "10000000"], "--horizon"),
    (["conflict", "--horizon", "1000000000000000000"], "--horizon"),
    (["conflict", "--exponent", "1e308"], "--exponent"),
    (["conflict", "--exponent", "7"], "--exponent"),         # rarest row 10^-42: p_B = 0 at 50 digits
    (["conflict", "--lr", "1e308"], "--lr"),
    (["conflict", "--lr", "100"], "--lr"),                   # no momentum of the scan stable
    (["conflict", "--lr", "1e-300"], "--lr"),                # every row taken for unstable
    (["benchmark", "--rows", "100000000"], "--rows"),
    (["benchmark", "--steps", "1" * 5000], "--steps"),
    (["sweep", "--atlas-grid", "1000000"], "--atlas-grid"),
    (["sweep", "--atlas-grid=--"], "--atlas-grid"),          # argparse stored [] for "--"
    (["heatmap", "--out", ""], "--out"),
    (["conflict", "--out", "x" * 256], "--out"),
    (["logistic", "--out", "x" * 256], "--out"),
    (["sweep", "--out", "x" * 256], "--out"),
    (["reproduce", "--out", "x" * 256], "--out"),
    (["apidocs", "--out", "x" * 256], "--out"),
    (["codegen", "--out", "x" * 256], "--out"),
    (["heatmap", "--out", "x" * 256 + "/sub"], "--out"),
    (["latex", "-o", "x" * 256 + ".tex"], "--output"),
    (["latex", "-o", ""], "--output"),
    (["latex", "-o", "x" * 250 + ".tex"], "--output"),        # its temporary name is too long
]


@pytest.mark.parametrize("argv, option", REFUSED_UP_FRONT,
                         ids=[" ".join(a)[:80] for a, _ in REFUSED_UP_FRONT])
def test_a_value_the_work_cannot_handle_is_refused_before_it_starts(argv, option, capsys,
                                                                     monkeypatch, tmp_path):
    import importlib

    from sparsemom.numerics.cli.main import COMMANDS

    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(COMMANDS[argv[0]])
    monkeypatch.setattr(module, "run", lambda args: pytest.fail("the work started"))
    test_bad_value_is_one_error_line_with_status_2(argv, option, capsys)
    assert list(tmp_path.iterdir()) == []                 # no probe left behind


def test_an_unwritable_target_is_found_by_a_probe_not_by_permission_bits(tmp_path, monkeypatch,
                                                                          capsys):
    """``--out /proc/x`` passed ``os.access`` as root and failed after the whole study: a
    folder that refuses new files is found by making one."""
    import tempfile

    from sparsemom.numerics.cli.main import COMMANDS  # noqa: F401  (the parser's modules)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    for argv, option in ((["heatmap", "--out", str(tmp_path)], "--out"),
                         (["heatmap", "--out", str(tmp_path / "new" / "sub")], "--out"),
                         (["latex", "-o", str(tmp_path / "x.tex")], "--output")):
        test_bad_value_is_one_error_line_with_status_2(argv, option, capsys)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_out_under_proc_is_refused(capsys):
    test_bad_value_is_one_error_line_with_status_2(["heatmap", "--out", "/proc/x"], "--out", capsys)
    test_bad_value_is_one_error_line_with_status_2(["latex", "-o", "/proc/x.tex"], "--output",
                                                   capsys)


def test_ctrl_c_while_the_subcommand_imports_is_one_line_and_status_130(monkeypatch, capsys):
    """The subcommand's module is imported inside ``main`` (about 1.5 s of SymPy and
    NumPy): a Ctrl-C there printed a 40-line traceback."""
    import importlib

    from sparsemom.numerics.cli import main as cli_main

    real = importlib.import_module

    def interrupted(name, *args):
        if name.startswith("sparsemom.numerics.cli."):
            raise KeyboardInterrupt
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", interrupted)
    try:
        status = cli_main(["heatmap", "--d", "10"])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped main (a traceback)")
    assert status == 130
    assert capsys.readouterr().err.strip().splitlines() == ["sparsemom heatmap: interrupted"]


@pytest.mark.parametrize("number,text", [("ENOSPC", "No space left on device"),
                                         ("EROFS", "Read-only file system"),
                                         ("EIO", "Input/output error")])
def test_a_failed_write_is_one_error_line_naming_the_file(monkeypatch, capsys, tmp_path,
                                                          number, text):
    """A write that fails for want of space (a 50-line traceback before), on a read-only
    file system or with an I/O error is one line naming the file, status 2, and leaves
    no temporary file."""
    import errno

    def failing(self, *args, **kwargs):
        raise OSError(getattr(errno, number), text)

    target = tmp_path / "hb.tex"
    monkeypatch.setattr(Path, "write_text", failing)
    assert main(["latex", "-o", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"sparsemom latex: error: {text.lower()} writing {target}"]
    assert list(tmp_path.iterdir()) == []


def test_every_numeric_option_has_a_range():
    """Each numeric option of every subcommand is parsed by a type with a finite range
    (``integer_in``, ``real_in``, ``fraction_in``); ``sweep --workers`` is capped by the
    sweep itself."""
    import math
    from fractions import Fraction

    from sparsemom.numerics.cli.main import COMMANDS, build_parser

    numeric = 0
    for name in COMMANDS:
        parser = build_parser(name)
        sub = next(a for a in parser._actions if a.dest == "command").choices[name]
        assert not [a.dest for a in sub._actions if a.type in (int, float, Fraction)], name
        for action in _numeric_actions(parser, name):
            if (name, action.dest) == ("sweep", "workers"):
                continue
            lower, upper = action.type.range
            assert math.isfinite(lower) and math.isfinite(upper) and lower < upper, \
                (name, action.dest)
            numeric += 1
    assert numeric >= 29


def test_an_integer_bound_is_shown_exactly():
    """A bound is shown as written: a power as one (``10^8``, ``2^53``), any other integer in
    full (``2^32 − 1`` was shown as ``4.29497e+09``, which is not the bound)."""
    from sparsemom.numerics.inputs.arguments import integer_in

    assert integer_in(0, 2**32 - 1).what == "an integer in [0, 4294967295]"
    assert integer_in(1, 10**8).what == "an integer in [1, 10^8]"
    assert integer_in(1, 2**53).what == "an integer in [1, 2^53]"


def _numeric_actions(parser, name):
    sub = next(a for a in parser._actions if a.dest == "command").choices[name]
    return [a for a in sub._actions if getattr(a.type, "__name__", "") in
            ("integer", "number", "fraction")]


#: Texts the fuzz draws besides random numbers: extremes, specials and non-numbers.
_SPECIAL = ["", " ", "nan", "-nan", "inf", "-inf", "1e999", "-1e999", "1e308", "-1e308", "1e-308",
            "5e-324", "0", "-0", "0.0", "1/0", "0/1", "-1", "abc", "1e", "0x10", "1_000", " 7 ",
            "1" * 4400, "9" * 101, "1e100000", "1e-100000", "1/" + "3" * 50, "3/7", "-4/5",
            "2.5", "1e6", "٣", "1.5e-7", "10**9", "+3", "--", "1 2", "1e999999999",
            "1E-999999999", "0.5e+99999999", "1e99_999_999", "1e9_999_9", "1_0/3"]


def _draw(rng, option):
    """One text for ``option``: a special, a bound (or just past it), or a random number
    of any sign and magnitude."""
    lower, upper = (float(b) for b in getattr(option.type, "range", (1, 1e9)))
    kind = rng.integers(6)
    if kind == 5:                                  # inside the range, log-uniform
        low = max(lower, 1e-12) if lower >= 0 else 1e-12
        value = 10.0 ** rng.uniform(math.log10(low), math.log10(max(upper, 2 * low)))
        value *= -1 if lower < 0 and rng.random() < 0.5 else 1
        return str(int(value)) if option.type.__name__ == "integer" else f"{value:.8g}"
    if kind == 0:
        return _SPECIAL[rng.integers(len(_SPECIAL))]
    if kind == 1:
        edge = [lower, upper, lower - 1, upper + 1, upper * 10, -upper][rng.integers(6)]
        return str(int(edge)) if option.type.__name__ == "integer" else repr(edge)
    magnitude = 10.0 ** rng.uniform(-30, 30)
    value = magnitude * (1 if rng.random() < 0.8 else -1)
    if option.type.__name__ == "integer" or kind == 2:
        return str(int(round(value))) if abs(value) < 1e40 else f"{value:.0f}"
    return f"{value:.6g}" if kind == 3 else f"{int(value * 7) % 97}/{1 + int(magnitude) % 13}"


#: Arguments every ``phase`` vector needs (replaced when the vector sets them).
_REQUIRED = {"phase": ["--sparsity", "1", "--batch", "0", "--momentum", "1"]}


def _fuzz_vectors(seed: int, per_command: int):
    """``(argv, option names)``: for every subcommand with numeric options, vectors that
    set one or all of them at random (negative values joined as ``--x=-1``)."""
    from sparsemom.numerics.cli.main import COMMANDS, build_parser

    for name in COMMANDS:
        # one stream per subcommand: an option added to one leaves the others' vectors alone
        rng = np.random.default_rng([seed, *name.encode()])
        options = _numeric_actions(build_parser(name), name)
        if not options:
            continue
        for i in range(per_command):
            chosen = [options[i % len(options)]] if i < per_command // 2 else options
            argv, required = [name], list(_REQUIRED.get(name, []))
            for option in chosen:
                flag = option.option_strings[-1]
                if flag in required:
                    j = required.index(flag)
                    del required[j:j + 2]
                texts = [_draw(rng, option) for _ in range(option.nargs or 1)] \
                    if option.nargs != "+" else [_draw(rng, option) for _ in range(2)]
                argv += [f"{flag}={texts[0]}"] if len(texts) == 1 else [flag, *texts]
            if name == "phase" and any(a.startswith("--lr-exponent") for a in argv):
                argv += ["--lr-rule", "free"]
            yield argv + required


class _Hung(Exception):
    pass


def _alarm(signum, frame):
    raise _Hung


def test_cli_fuzz_every_value_is_refused_in_one_line_or_usable(monkeypatch, capsys):
    """A fixed-seed fuzz of every numeric option of every subcommand (random and extreme
    values, specials, long digit strings, non-numbers): each vector ends in status 2
    with one ``error:`` line naming an option, or is accepted and then usable (a
    ``phase`` point is run; a study's validated setup is built), never an exception, never
    past 20 s (``SIGALRM``). 20 vectors per subcommand, seed 30."""
    import importlib

    from sparsemom.numerics.cli.main import COMMANDS

    seen = {}
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        real_run = module.run

        def usable(args, name=name, real_run=real_run):
            seen[name] = seen.get(name, 0) + 1
            if name == "phase":
                return real_run(args)            # symbolic, a second at most
            return 0                             # validate built the study's setup

        monkeypatch.setattr(module, "run", usable)
    previous = signal.signal(signal.SIGALRM, _alarm)
    counts = {}
    try:
        for argv in _fuzz_vectors(seed=30, per_command=20):
            counts[argv[0]] = counts.get(argv[0], 0) + 1
            signal.alarm(20)
            try:
                status = main(argv)
            except SystemExit as exit_:
                status = exit_.code
            except _Hung:
                pytest.fail(f"no answer within 20 s: {argv}")
            finally:
                signal.alarm(0)
            out, err = capsys.readouterr()
            assert status in (0, 2), (argv, status, err[-2000:])
            assert "Traceback" not in err, (argv, err[-2000:])
            if status == 2:
                last = err.strip().splitlines()[-1]
                assert re.match(rf"sparsemom( {argv[0]})?: error: ", last), (argv, err)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert set(counts) == {"benchmark", "phase", "logistic", "conflict", "sweep", "heatmap",
                           "scaling", "outscaling", "scaling-plane"}
    assert seen.get("phase", 0) >= 1            # some accepted points were run
