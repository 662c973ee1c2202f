"""Run-time compilation of generated C kernels, cached and loaded with ctypes.

A kernel is compiled with the system C compiler (``$CC``, else ``cc``) at ``-O3
-march=native`` (with OpenMP when the compiler has it) into ``kernels`` in the user cache
(:func:`sparsemom.derivations.core.user_cache.cache_root`: ``$SPARSEMOM_CACHE_DIR``, else
the platform's, ``~/.cache/sparsemom`` on Linux). The file name is keyed by the SHA-256 of the source and
of the C headers it includes (``numerics/codegen/c``), the compiler's identity, the
flags and the CPU's feature flags. A library is compiled to a temporary file in the same
folder and renamed into place atomically, so concurrent builders never see a half-
written file. Each library ends in a trailer (magic + SHA-256 of everything before it);
a cached library is loaded only if the trailer checks out and its embedded fingerprint
matches, and is rebuilt otherwise. (The dynamic loader ignores trailing bytes.)

Every run of the compiler is time-limited (:func:`compile_timeout`: 300 s, or
``$SPARSEMOM_COMPILE_TIMEOUT`` seconds) and runs in its own process group, which is
killed when the limit passes: a compiler that hangs is a :class:`CompileError`, never a
hang.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shlex
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from sparsemom.derivations.core.user_cache import cache_root
from sparsemom.numerics.codegen.sources import C_INCLUDE_DIR, c_headers
from sparsemom.numerics.runtime.atomic import current_umask
from sparsemom.numerics.runtime.limits import seconds_from_environment

FLAGS = ("-O3", "-march=native", "-fPIC", "-shared", "-fopenmp-simd", "-std=gnu11")
OPENMP_FLAG = "-fopenmp"


class CompileError(RuntimeError):
    """The C compiler is missing, failed, hung or produced no library."""


#: Seconds one run of the compiler may take, unless ``$SPARSEMOM_COMPILE_TIMEOUT`` says
#: otherwise: a kernel compiles in under a second at ``-O3`` (each shipped one in 0.2-0.65 s
#: on a 2-core Xeon, 2026-12-07), so the limit ends only compilers that hang.
COMPILE_TIMEOUT = 300.0
COMPILE_TIMEOUT_VARIABLE = "SPARSEMOM_COMPILE_TIMEOUT"


def compile_timeout() -> float:
    """Seconds one run of the compiler may take: ``$SPARSEMOM_COMPILE_TIMEOUT`` (a
    positive number) or :data:`COMPILE_TIMEOUT`."""
    return seconds_from_environment(COMPILE_TIMEOUT_VARIABLE, COMPILE_TIMEOUT)


def _shown(cc: tuple[str, ...]) -> str:
    return shlex.join(cc)


#: How often a wait for the compiler looks for a pending Ctrl-C (seconds).
SIGNAL_CHECK_SECONDS = 0.2


def _run_compiler(cc: tuple[str, ...], arguments: list[str], what: str):
    """``cc arguments`` (a ``CompletedProcess`` with text output), in a process group of
    its own that is killed whole when it outlasts :func:`compile_timeout` or this process
    is interrupted; a :class:`CompileError` naming the compiler when it cannot be started
    or times out (``what``: the task, for the message)."""
    try:
        limit = compile_timeout()
    except ValueError as exc:   # a bad limit: no compile (``auto`` falls back to NumPy)
        raise CompileError(str(exc)) from None
    try:
        proc = subprocess.Popen([*cc, *arguments], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
    except OSError as exc:
        raise CompileError(f"C compiler {_shown(cc)!r} not usable: {exc.strerror or exc}") from exc
    deadline = time.monotonic() + limit
    try:
        while True:
            # Waited in short slices: a Ctrl-C that the kernel hands to another thread (a
            # BLAS or OpenMP worker) does not wake this one, which then sees it at the next
            # slice; one long wait would hold it until the time limit.
            try:
                out, err = proc.communicate(timeout=min(SIGNAL_CHECK_SECONDS,
                                                        max(deadline - time.monotonic(), 0)))
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() >= deadline:
                    raise
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise CompileError(f"C compiler {_shown(cc)!r} did not finish {what} within the "
                           f"limit of {limit:g} s (set {COMPILE_TIMEOUT_VARIABLE} to allow "
                           "more); it was stopped") from None
    except BaseException:  # Ctrl-C: the compiler, in its own session, did not get it
        _kill_group(proc)
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill ``proc``'s process group (the compiler and whatever it started), reap it and
    close its pipes."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def cache_dir() -> Path:
    """The folder of compiled kernels: ``kernels`` in the user cache (:func:`cache_root`)."""
    return cache_root() / "kernels"


_EXTRA_FLAGS: ContextVar[tuple[str, ...]] = ContextVar("sparsemom_extra_flags", default=())


def compiler() -> tuple[str, ...]:
    """The C compiler command: ``$CC`` split like make and the shell do (``CC="gcc -O2"``
    is the program ``gcc`` with the flag ``-O2``), else ``cc``; then the flags of any
    enclosing :func:`extra_flags` block. A ``$CC`` the shell could not split (an
    unclosed quote) is a :class:`CompileError` naming it."""
    text = os.environ.get("CC", "")
    try:
        words = tuple(shlex.split(text or "cc")) or ("cc",)
    except ValueError as exc:
        raise CompileError(f"CC={text!r} cannot be split into a command like the shell "
                           f"would ({exc}): fix its quoting") from None
    return words + _EXTRA_FLAGS.get()


@contextmanager
def extra_flags(*flags: str) -> Iterator[None]:
    """Kernels loaded inside the block are compiled with ``flags`` after the compiler
    command (``extra_flags("-DLANES=4", "-DTILE=2")``: another tile), and cached apart
    from the others (the command is part of the key)."""
    token = _EXTRA_FLAGS.set(_EXTRA_FLAGS.get() + tuple(flags))
    try:
        yield
    finally:
        _EXTRA_FLAGS.reset(token)


def cpu_flags() -> str:
    """The CPU's feature flags (``/proc/cpuinfo``), part of every kernel's cache key."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(("flags", "Features")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


@lru_cache(maxsize=None)
def _compiler_identity(cc: tuple[str, ...]) -> str:
    proc = _run_compiler(cc, ["--version"], "--version")
    if proc.returncode != 0:
        raise CompileError(f"C compiler {_shown(cc)!r} not usable: {proc.stderr.strip()}")
    return " ".join([proc.stdout.splitlines()[0] if proc.stdout else cc[0], *cc[1:]])


@lru_cache(maxsize=None)
def _openmp_works(cc: tuple[str, ...]) -> bool:
    src = "#include <omp.h>\nint f(void) { return omp_get_max_threads(); }\n"
    with tempfile.TemporaryDirectory() as tmp:
        c, so = Path(tmp) / "probe.c", Path(tmp) / "probe.so"
        c.write_text(src)
        proc = _run_compiler(cc, [*FLAGS, OPENMP_FLAG, str(c), "-o", str(so)],
                            "the OpenMP probe")
        return proc.returncode == 0 and so.is_file()


def kernel_flags(cc: tuple[str, ...]) -> tuple[str, ...]:
    """The flags ``cc`` compiles a kernel with: :data:`FLAGS`, and OpenMP where ``cc``
    has it."""
    return (*FLAGS, *((OPENMP_FLAG,) if _openmp_works(cc) else ()))


TRAILER_MAGIC = b"SPARSEMOM-KERNEL-SHA256:"


def _with_trailer(library: bytes) -> bytes:
    return library + TRAILER_MAGIC + hashlib.sha256(library).digest()


def _is_intact(path: Path, symbol: str, fingerprint: str) -> bool:
    """Checked before ``dlopen``: a whole shared object as written (ELF header,
    matching trailer) that carries ``symbol`` and ``fingerprint``."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    size = len(TRAILER_MAGIC) + 32
    body, magic, digest = data[:-size], data[-size:-32], data[-32:]
    return (len(data) > size and body[:4] == b"\x7fELF" and magic == TRAILER_MAGIC
            and hashlib.sha256(body).digest() == digest
            and fingerprint.encode() in body and symbol.encode() in body)


def _build(cc, flags, source: str, symbol: str, tmp: Path, path: Path) -> None:
    """Compile ``source`` in ``tmp`` and rename the library (with its trailer) to ``path``."""
    c_file = tmp / f"{symbol}.c"
    c_file.write_text(source, encoding="utf-8")
    built = tmp / f"{symbol}.so"
    proc = _run_compiler(cc, [*flags, f"-I{C_INCLUDE_DIR}", str(c_file), "-o", str(built), "-lm"],
                        f"compiling {symbol}")
    if proc.returncode != 0:
        raise CompileError(f"compiling {symbol} failed:\n{proc.stderr}")
    if not built.is_file():
        raise CompileError(f"C compiler {_shown(cc)!r} reported success compiling {symbol} "
                           "but produced no library: is CC a C compiler?")
    final = tmp / f"{symbol}.kernel"
    final.write_bytes(_with_trailer(built.read_bytes()))
    final.chmod(0o755 & ~current_umask())
    os.replace(final, path)  # atomic: readers see the old file or the whole new one


class Kernel:
    """A loaded kernel: ``function`` (ctypes), and whether it has OpenMP."""

    def __init__(self, library: ctypes.CDLL, symbol: str, openmp: bool, path: Path):
        self.library = library
        self.function = getattr(library, symbol)
        self.openmp = openmp
        self.path = path


def _load(path: Path, symbol: str, fingerprint: str, openmp: bool) -> Kernel | None:
    if not _is_intact(path, symbol, fingerprint):
        return None
    try:
        lib = ctypes.CDLL(str(path))
        check = getattr(lib, f"{symbol}_fingerprint")
    except (OSError, AttributeError):
        return None
    check.restype = ctypes.c_char_p
    if check().decode() != fingerprint:
        return None
    return Kernel(lib, symbol, openmp, path)


def load_kernel(source: str, symbol: str, fingerprint: str) -> Kernel:
    """Compile (or fetch from the cache) and load the kernel ``symbol`` of ``source``
    with the current compiler (``$CC`` read at each call)."""
    return _compiled(source, symbol, fingerprint, compiler())


@lru_cache(maxsize=None)
def _compiled(source: str, symbol: str, fingerprint: str, cc: tuple[str, ...]) -> Kernel:
    identity = _compiler_identity(cc)
    flags = kernel_flags(cc)
    openmp = OPENMP_FLAG in flags
    headers = "\0".join(f"{name}\0{text}" for name, text in c_headers().items())
    key = hashlib.sha256("\0".join([source, headers, identity, " ".join(flags), cpu_flags()])
                         .encode()).hexdigest()[:24]
    folder = cache_dir()
    path = folder / f"{symbol}-{key}.so"
    kernel = _load(path, symbol, fingerprint, openmp)
    if kernel is not None:
        return kernel
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder, prefix=".build-") as tmp:
            _build(cc, flags, source, symbol, Path(tmp), path)
    except OSError as exc:
        raise CompileError(f"kernel cache {folder} is not usable ({exc.strerror or exc}); "
                           "set SPARSEMOM_CACHE_DIR to a writable folder") from exc
    kernel = _load(path, symbol, fingerprint, openmp)
    if kernel is None:
        raise CompileError(f"compiled {path} does not carry fingerprint {fingerprint}")
    return kernel
