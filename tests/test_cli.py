"""The sparsemom command line."""

import subprocess
import sys

import pytest
from swept_rules import SWEPT_RULES

from sparsemom.numerics.cli import main


@pytest.mark.parametrize("name", SWEPT_RULES)
def test_derive_prints_recursion(name, capsys):
    assert main(["derive", "--model", "lsq", "--optimizer", name]) == 0
    out = capsys.readouterr().out
    assert f"under {name}" in out and "R = E ‖e‖²" in out and "Rₖ₊₁" in out


def test_derive_latex(capsys):
    assert main(["derive", "--optimizer", "heavy-ball", "--format", "latex"]) == 0
    out = capsys.readouterr().out
    assert r"V_{k+1} = " in out and r"\beta^{2}" in out


def test_bad_optimizer_is_a_usage_error():
    proc = subprocess.run([sys.executable, "-m", "sparsemom.numerics.cli", "derive", "--optimizer", "adam"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "invalid choice: 'adam'" in proc.stderr


def test_codegen_check_reports_current(capsys):
    assert main(["codegen", "--check"]) == 0
    assert "generated code is current" in capsys.readouterr().out


def test_codegen_check_detects_a_stale_file(tmp_path, capsys):
    from sparsemom.numerics import codegen
    for name, text in codegen.generated_files().items():
        (tmp_path / name).write_text(text)
    (tmp_path / "lsq_sgd_steps.c").write_text("/* edited by hand */\n")
    assert main(["codegen", "--check", "--out", str(tmp_path)]) == 1
    assert "stale:" in capsys.readouterr().out


def test_progress_bars_silent_without_a_terminal(capsys, monkeypatch):
    from sparsemom.numerics.runtime.progress import progress, show_progress
    monkeypatch.setenv("CI", "true")
    assert not show_progress()
    assert list(progress(range(3))) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def test_derive_active_time_rule(capsys):
    assert main(["derive", "--optimizer", "lazy", "--time", "active"]) == 0
    assert "time rule 'active'" in capsys.readouterr().out


def test_phase_json_has_the_documented_fields(capsys):
    import json

    from sparsemom.numerics.cli import main

    assert main(["phase", "--optimizer", "heavy-ball", "--sparsity", "27/10", "--batch", "3/2",
                 "--momentum", "5/2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["phase"] == "incoherent sparse above resonance"
    assert report["family"] == "heavy-ball"
    assert report["time_exponent"] == report["retention_exponent"] == report["learning_exponent"] == 1.3
    assert "frac{d\\tilde{R}}{dt}" in report["limit_latex"]
    assert report["inequalities"] == ["gamma - kappa + sigma - 1 > 0", "kappa - sigma > 0"]


def test_phase_rejects_bad_input(capsys):
    import pytest

    from sparsemom.numerics.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["phase", "--sparsity", "1", "--batch", "1", "--momentum", "1", "--lr-rule", "free"])
    assert exit_.value.code == 2 and "needs --lr-exponent" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["phase", "--sparsity", "-1", "--batch", "1", "--momentum", "1"])
    assert exit_.value.code == 2
    assert "argument --sparsity: must be a number or a fraction such as 3/2 in [0, 100]" in \
        capsys.readouterr().err


def test_derive_logistic_prints_the_statistics_map_and_the_linearisation(capsys):
    assert main(["derive", "--model", "logistic", "--optimizer", "heavy-ball", "--format",
                 "text"]) == 0
    out = capsys.readouterr().out
    assert "expected next statistics" in out and "LogisticNormalMoment" in out
    assert "Eq(V_perp_k+1" in out and "Fisher constants h, w" in out


def test_logistic_study_writes_table_and_figure(tmp_path, capsys):
    assert main(["logistic", "--dimensions", "40", "80", "--runs", "40", "--out",
                 str(tmp_path)]) == 0
    table = (tmp_path / "logistic.md").read_text()
    assert "| 40 | agrees |" in table and "RMS deviation ∝ d^-" in table
    assert (tmp_path / "logistic.png").stat().st_size > 10_000
    assert (tmp_path / "logistic.pdf").stat().st_size > 10_000
