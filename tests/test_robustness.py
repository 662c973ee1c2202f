"""Regression tests for faults a user meets: an unusable kernel cache, a compiler with
flags, file permissions, a model without closed moments, a curve beyond memory, a dense
simulation that would run for hours."""

from __future__ import annotations

import os
import stat
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from sparsemom.numerics.inputs.models import RareClassLogistic, SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.kernels import compiler
from sparsemom.numerics.kernels.exact_risk import BackendFallbackWarning, exact_risk
from sparsemom.numerics.runtime.atomic import write_text_atomic
from sparsemom.numerics.simulate.monte_carlo import LongSimulationWarning, monte_carlo_risk

#: The module (the package re-exports its function under the same name).
exact_risk_module = sys.modules["sparsemom.numerics.kernels.exact_risk"]
MODEL = SparseLeastSquares(6, [0.3, 0.02], R0=[1.0, 2.0], sigma2=0.1)
OPT = Optimizer("heavy-ball", lr=0.05, beta=0.6, batch=3)


@pytest.fixture
def fresh_backend(monkeypatch):
    """No memory of an earlier C failure, no kernel loaded in this process."""
    monkeypatch.setattr(exact_risk_module, "_C_UNAVAILABLE", None)
    compiler._compiled.cache_clear()
    yield
    compiler._compiled.cache_clear()


@pytest.mark.parametrize("kind", ["file in its place", "missing parent under a file",
                                  "cannot be created"])
def test_unusable_cache_falls_back_to_numpy_with_one_warning(kind, tmp_path, monkeypatch, fresh_backend):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    if kind == "file in its place":
        cache = blocker
    elif kind == "missing parent under a file":
        cache = blocker / "sub" / "kernels"
    else:  # not even root may create folders in /proc (a read-only cache, whoever runs this)
        cache = "/proc/sparsemom-kernel-cache"
    monkeypatch.setenv("SPARSEMOM_CACHE_DIR", str(cache))
    with pytest.warns(BackendFallbackWarning, match="kernel cache"):
        risk = exact_risk(MODEL, OPT, 30)
    np.testing.assert_allclose(risk, exact_risk(MODEL, OPT, 30, backend="numpy"), rtol=1e-14)


def test_compiler_with_flags_is_split_like_make(monkeypatch, tmp_path, fresh_backend):
    monkeypatch.setenv("CC", "gcc -O2")
    monkeypatch.setenv("SPARSEMOM_CACHE_DIR", str(tmp_path))
    assert compiler.compiler() == ("gcc", "-O2")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        risk = exact_risk(MODEL, OPT, 30, backend="c")
    np.testing.assert_allclose(risk, exact_risk(MODEL, OPT, 30, backend="numpy"), rtol=1e-12)
    assert list((tmp_path / "kernels").glob("*.so"))


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(umask, mode, tmp_path):
    old = os.umask(umask)
    try:
        write_text_atomic(tmp_path / "report.md", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "report.md").stat().st_mode) == mode


def test_exact_risk_of_the_logistic_model_names_mean_field():
    with pytest.raises(ValueError, match="mean_field"):
        exact_risk(RareClassLogistic(10, 0.1, 1.5), Optimizer("sgd", 0.1), 5)


def test_a_curve_beyond_memory_is_refused_up_front():
    with pytest.raises(ValueError, match=r"steps=1000000000000 needs .* GiB.*exact_risk_at"):
        exact_risk(MODEL, OPT, 10**12)


def test_a_very_long_dense_simulation_warns_before_it_starts():
    rare = SparseLeastSquares(8, 1e-7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LongSimulationWarning)
        with pytest.raises(LongSimulationWarning, match="sparse_monte_carlo_risk"):
            monte_carlo_risk(rare, Optimizer("heavy-ball", 0.1, 0.5), 10, 1000, seed=1, time="active")


def test_a_damaged_manifest_is_rebuilt_with_a_warning(tmp_path):
    from sparsemom.numerics.studies.manifest import previous_entries

    path = tmp_path / "manifest.json"
    for damaged in ('{"figures": [', '{"figures": [1, 2]}', "[]", "\xff\xfe"):
        path.write_text(damaged, encoding="latin-1")
        with pytest.warns(RuntimeWarning, match="damaged"):
            assert previous_entries(path) == []
    path.write_text('{"figures": [{"name": "phase_diagram"}]}')
    assert previous_entries(path) == [{"name": "phase_diagram"}]


def test_long_stages_print_one_line_each_when_not_in_a_terminal(capsys, monkeypatch):
    from sparsemom.numerics.runtime.progress import progress

    monkeypatch.setenv("CI", "true")
    assert list(progress(["derive", "codegen"], desc="stages", lines=True)) == ["derive", "codegen"]
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("stages: 1/2 done (")
    assert list(progress(range(3), desc="quiet")) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def test_the_project_carries_its_own_mathematics():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "shared/SPEC.md" not in readme and "docs/model.md" in readme
    model = (root / "docs" / "model.md").read_text(encoding="utf-8")
    for topic in ("Sparse least squares", "rare class", "Optimizers", "Time rules", "checked"):
        assert topic in model


def test_a_failed_write_names_the_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    """A write that fails for want of space raises ``OSError`` without a file name (the
    command line then could not say which file): the atomic writer names its target."""
    import errno

    from sparsemom.numerics.runtime.atomic import probe_atomic_write, write_text_atomic

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    target = tmp_path / "table.csv"
    probe_atomic_write(target)                       # a folder files can be made in
    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OSError) as exc:
        write_text_atomic(target, "x")
    assert exc.value.errno == errno.ENOSPC and exc.value.filename == str(target)
    assert list(tmp_path.iterdir()) == []
