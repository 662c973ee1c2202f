"""Kernel cache: keyed, atomic, validated before loading, safe under concurrency."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sparsemom.derivations import derive_recursion
from sparsemom.derivations.core.user_cache import cache_root
from sparsemom.derivations.engine import store
from sparsemom.numerics.kernels import compiler
from sparsemom.numerics.kernels.backends import generated_c_source

REC = derive_recursion("lsq", "nesterov")
SYMBOL = "sparsemom_lsq_nesterov_steps"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSEMOM_CACHE_DIR", str(tmp_path))
    compiler._compiled.cache_clear()
    yield tmp_path
    compiler._compiled.cache_clear()


def build():
    return compiler.load_kernel(generated_c_source(REC), SYMBOL, REC.fingerprint)


def test_xdg_cache_location(monkeypatch, tmp_path):
    monkeypatch.delenv("SPARSEMOM_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert compiler.cache_dir() == tmp_path / "sparsemom" / "kernels"


def test_build_once_then_reuse(cache):
    kernel = build()
    files = list((cache / "kernels").glob("*.so"))
    assert files == [kernel.path] and kernel.path.name.startswith(SYMBOL)
    mtime = kernel.path.stat().st_mtime_ns
    compiler._compiled.cache_clear()
    assert build().path == kernel.path and kernel.path.stat().st_mtime_ns == mtime
    assert not [p for p in (cache / "kernels").iterdir() if p.name.startswith(".build-")]


def replace_atomically(path: Path, data: bytes) -> None:
    """Damage a cache entry the way another process would: a new file renamed in
    (writing in place would corrupt this process's own mapping of the library)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


RUN_NESTEROV = (
    "import numpy as np\n"
    "from sparsemom.numerics import SparseLeastSquares, Optimizer\n"
    "from sparsemom.numerics import exact_risk\n"
    "r = exact_risk(SparseLeastSquares(7, [0.3, 0.01]), Optimizer('nesterov', lr=0.05,"
    " beta=0.8), 40, backend='c')\n"
    "print(repr(r.tolist()))\n"
)


def run_in_fresh_process(cache: Path, code: str = RUN_NESTEROV, copies: int = 1):
    env = {**os.environ, "SPARSEMOM_CACHE_DIR": str(cache)}
    root = Path(__file__).resolve().parent.parent
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, cwd=root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(copies)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    return [o[0] for o in outs]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other-kernel"])
def test_damaged_cache_entry_is_rebuilt(cache, damage):
    path = build().path
    want = run_in_fresh_process(cache)
    good = path.read_bytes()
    if damage == "garbage":
        replace_atomically(path, b"not a shared object" * 100)
    elif damage == "truncated":
        replace_atomically(path, good[:2000])
    else:  # a valid library carrying another derivation's fingerprint
        other = derive_recursion("lsq", "sgd")
        wrong = compiler.load_kernel(generated_c_source(other), "sparsemom_lsq_sgd_steps",
                                     other.fingerprint)
        replace_atomically(path, wrong.path.read_bytes())
    assert run_in_fresh_process(cache) == want
    assert path.read_bytes()[:4] == b"\x7fELF" and REC.fingerprint.encode() in path.read_bytes()


def test_concurrent_builders_do_not_clash(cache):
    """Four processes build the same kernel into an empty cache at once."""
    outs = run_in_fresh_process(cache, copies=4)
    assert len(set(outs)) == 1
    assert len(list((cache / "kernels").glob("*.so"))) == 1
    assert not [p for p in (cache / "kernels").iterdir() if p.name.startswith(".build-")]


def test_compile_error_is_reported(cache, monkeypatch):
    monkeypatch.setenv("CC", str(cache / "missing-cc"))
    with pytest.raises(compiler.CompileError, match="not usable"):
        build()
    compiler._compiler_identity.cache_clear()
    compiler._openmp_works.cache_clear()


def test_one_cache_root_holds_kernels_and_derivations(monkeypatch, tmp_path):
    """Compiled kernels and stored derivations live under one root: the platform's user
    cache folder (XDG on Linux), or ``$SPARSEMOM_CACHE_DIR`` when set."""
    monkeypatch.delenv("SPARSEMOM_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "sparsemom"
    assert {compiler.cache_dir().parent, store.store_dir().parent} == {cache_root()}
    monkeypatch.setenv("SPARSEMOM_CACHE_DIR", str(tmp_path / "mine"))
    assert compiler.cache_dir() == tmp_path / "mine" / "kernels"
    assert store.store_dir() == tmp_path / "mine" / "derivations"
