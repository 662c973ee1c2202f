"""The check runner: a raising check is a FAIL with its message; checks follow a rule's
properties, so a user-registered rule without momentum is checked, not crashed on;
``reproduce`` reports regenerated kernels as CHANGED, not as a PASS."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from sparsemom.derivations import symbols as S
from sparsemom.derivations.definitions.optimizers import (
    UpdateRule,
    e,
    register_rule,
    unregister_rule,
)
from sparsemom.numerics.studies import reproduce
from sparsemom.numerics.verify import rungs as verification
from sparsemom.numerics.verify.checks import Check, CheckResult, run_checks


def test_a_raising_check_is_a_fail_with_its_message():
    def broken():
        raise ValueError("beta must be 0 for this rule")

    ok = Check("rung", "fine", lambda: CheckResult("rung", "fine", True, "ok"))
    results = list(run_checks([Check("rung", "broken", broken), ok]))
    assert [r.passed for r in results] == [False, True]
    assert results[0].status == "FAIL"
    assert str(results[0]) == "[FAIL] rung               broken: raised ValueError: beta must be 0 for this rule"


def test_status_must_agree_with_passed():
    with pytest.raises(ValueError, match="contradicts"):
        CheckResult("r", "c", True, "d", status="FAIL")
    assert CheckResult("r", "c", True, "d", status="CHANGED").status == "CHANGED"


@pytest.fixture
def damped_sgd():
    """A user rule without momentum and with a fractional coefficient."""
    rule = register_rule(UpdateRule("damped-sgd", (e,), lambda x, g: {e: x[e] - S.lr * g * 3 / 4},
                                    "θ ← θ − (3η/4) g", r"\theta \leftarrow \theta - \tfrac{3\eta}{4} g"))
    yield rule
    unregister_rule(rule.name)


def test_verify_checks_an_added_rule_without_momentum(damped_sgd):
    mine = [c for c in verification.checks() if c.case.startswith(damped_sgd.name)
            and c.rung in ("exact moments", "closed form", "backends")]
    assert {c.rung for c in mine} == {"exact moments", "closed form", "backends"}
    results = list(run_checks(mine))
    assert all(r.passed for r in results), "\n".join(map(str, results))


def test_reproduce_reports_regenerated_kernels_as_changed(monkeypatch, tmp_path):
    from sparsemom.numerics import codegen

    monkeypatch.setattr(codegen, "generated_files", lambda: {"lsq_sgd_steps.c": ""})
    monkeypatch.setattr(codegen, "stale_sources", lambda: ["lsq_sgd_steps.c"])
    monkeypatch.setattr(codegen, "write_sources", lambda *a, **k: [tmp_path / "lsq_sgd_steps.c"])
    monkeypatch.setattr(codegen, "source_checkout", lambda: True)
    result = reproduce.codegen()
    assert result.status == "CHANGED" and result.passed
    assert "lsq_sgd_steps.c" in result.detail
    text = reproduce.report_markdown([result], [], [], False, 1.0, Path(tmp_path), "abc")
    assert "## Changed" in text and "| CHANGED | codegen" in text
    assert "0/0 passed" in text


def test_latex_of_a_rule_that_does_not_learn_says_infinity(monkeypatch):
    """τ_L was once printed as \\text{False} for a rule whose curvature vanishes."""
    from sparsemom.derivations.definitions.optimizers import v
    from sparsemom.derivations.output.latex import latex_document, latex_equations
    from sparsemom.derivations.properties.timescales import timescales

    rule = register_rule(UpdateRule("frozen", (e, v), lambda x, g: {e: x[e], v: S.beta * x[v] + g},
                                    "v ← β v + g, θ unchanged", r"v \leftarrow \beta v + g"))
    try:
        assert timescales("lsq", "frozen").learning == sp.oo
        text = latex_document("lsq", "frozen")
        assert "False" not in text and "True" not in text
        assert r"\tau_L = \infty" in text
        assert all(isinstance(rel, sp.Basic) and rel not in (sp.true, sp.false)
                   for _, rel, _ in latex_equations("lsq", "frozen"))
    finally:
        unregister_rule(rule.name)


def test_a_registered_suite_runs_with_every_verification():
    """A user's suite joins `sparsemom verify`/`reproduce` (they run the registry); its
    failing and raising checks are FAILs with their messages, a broken suite one FAIL."""
    from sparsemom.numerics.verify.checks import (
        SUITES,
        Check,
        CheckResult,
        register_suite,
        run_registered,
        unregister_suite,
    )

    def mine():
        yield Check("mine", "passes", lambda: CheckResult("mine", "passes", True, "ok"))
        yield Check("mine", "raises", lambda: 1 / 0)

    def broken():
        raise RuntimeError("cannot list my checks")
        yield  # pragma: no cover

    assert list(SUITES)[:2] == ["least squares", "logistic rare class"]
    built_in = dict(SUITES)
    SUITES.clear()                      # run only the user's suites here (fast)
    try:
        register_suite("mine", mine)
        register_suite("broken", broken)
        with pytest.raises(ValueError, match="already registered"):
            register_suite("mine", broken)
        results = list(run_registered())
        unregister_suite("mine")
        unregister_suite("broken")
    finally:
        SUITES.clear()
        SUITES.update(built_in)
    assert [(r.case, r.status) for r in results] == [
        ("passes", "PASS"), ("raises", "FAIL"), ("collecting the suite's checks", "FAIL")]
    assert "ZeroDivisionError" in results[1].detail and "cannot list" in results[2].detail
    assert "mine" not in SUITES and "broken" not in SUITES
    with pytest.raises(ValueError, match="no check suite"):
        unregister_suite("mine")
