"""The derivation store: what one process derived, another reads back equal; what it
cannot key exactly (a rule defined at run time, a changed package) it derives afresh."""

import os
import pickle
import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction as F

import pytest
import sympy as sp

from sparsemom.derivations import UpdateRule, derive_recursion, register_rule, unregister_rule
from sparsemom.derivations import symbols as S
from sparsemom.derivations.definitions.optimizers import e
from sparsemom.derivations.engine import store
from sparsemom.derivations.limits.asymptotics import ExponentPoint
from sparsemom.derivations.properties.closed_forms import closed_form


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSEMOM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("SPARSEMOM_DERIVATION_CACHE", raising=False)
    return tmp_path / "derivations"


def _calls(function):
    """``function`` under the store, and a list that grows by one per real derivation."""
    calls = []

    def derive(model, optimizer, time_rule="steps"):
        calls.append((model, optimizer, time_rule))
        return function(model, optimizer, time_rule)

    derive.__module__, derive.__qualname__ = "tests.store", function.__name__
    return store.stored(derive), calls


def test_a_stored_derivation_is_read_back_equal_without_deriving(folder):
    stored, calls = _calls(derive_recursion.__wrapped__.__wrapped__)
    first = stored("lsq", "heavy-ball", "active")
    again = stored("lsq", "heavy-ball", "active")
    assert calls == [("lsq", "heavy-ball", "active")]
    assert again == first and again.fingerprint == first.fingerprint
    assert len(list(folder.glob("*.pickle"))) == 1


def test_another_process_reads_what_this_one_stored(folder):
    rec = derive_recursion("lsq", "nesterov", "steps")
    closed_form(rec)
    code = ("import sparsemom.derivations.engine.recursion as r, sparsemom.derivations.properties.closed_forms as c\n"
            "calls = []\n"
            "inner = r.derive_recursion.__wrapped__.__wrapped__\n"
            "rec = r.derive_recursion('lsq', 'nesterov', 'steps')\n"
            "import pickle, sys\n"
            "sys.stdout.buffer.write(pickle.dumps((rec, c.closed_form(rec))))\n")
    env = {**os.environ, "SPARSEMOM_CACHE_DIR": str(folder.parent)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)
    rec2, form2 = pickle.loads(out.stdout)
    assert rec2 == rec and form2 == closed_form(rec)
    names = {p.name.split("-")[0] for p in folder.glob("*.pickle")}
    assert {"derive_recursion", "closed_form"} <= names


def _third_step(scale):
    return lambda x, grad: {e: x[e] - S.lr * scale * grad}


def test_a_rule_defined_at_run_time_is_stored_by_its_definition(folder):
    """A user's rule is derived once (a new process reads it back); a rule redefined under
    the same name (``replace=True``) is a new key and is derived again, and re-registering
    the first definition finds its entry again."""
    first = UpdateRule("store-probe", (e,), _third_step(sp.Rational(1, 3)), "θ ← θ − (η/3) g",
                       r"\theta \leftarrow \theta - \tfrac{\eta}{3} g")
    other = UpdateRule("store-probe", (e,), _third_step(sp.Rational(1, 4)), "θ ← θ − (η/4) g",
                       r"\theta \leftarrow \theta - \tfrac{\eta}{4} g")
    register_rule(first)
    try:
        stored, calls = _calls(derive_recursion.__wrapped__.__wrapped__)
        a = stored("lsq", "store-probe")
        assert stored("lsq", "store-probe") == a and len(calls) == 1
        assert len(list(folder.glob("*.pickle"))) == 1
        register_rule(other, replace=True)
        b = stored("lsq", "store-probe")
        assert len(calls) == 2 and b.transition != a.transition
        register_rule(UpdateRule("store-probe", (e,), _third_step(sp.Rational(1, 3)),
                                 first.summary, first.latex), replace=True)
        assert stored("lsq", "store-probe") == a and len(calls) == 2
    finally:
        unregister_rule("store-probe")
    assert len(list(folder.glob("*.pickle"))) == 2


def test_a_damaged_entry_is_derived_again(folder):
    stored, calls = _calls(derive_recursion.__wrapped__.__wrapped__)
    first = stored("lsq", "sgd")
    (entry,) = folder.glob("*.pickle")
    entry.write_bytes(entry.read_bytes()[:20])
    assert stored("lsq", "sgd") == first and len(calls) == 2


def test_a_changed_package_or_sympy_is_a_new_key(folder, monkeypatch):
    stored, calls = _calls(derive_recursion.__wrapped__.__wrapped__)
    stored("lsq", "sgd")
    monkeypatch.setattr(store, "_SOURCE", "another text of derivations/")
    stored("lsq", "sgd")
    monkeypatch.setattr(store, "_VERSIONS", f"sympy 0.0, {sp.__version__}")
    stored("lsq", "sgd")
    assert len(calls) == 3 and len(list(folder.glob("*.pickle"))) == 3


def test_an_entry_under_another_key_is_not_used(folder):
    """Two keys sharing a file name (a truncated hash) can never swap values."""
    stored, calls = _calls(derive_recursion.__wrapped__.__wrapped__)
    stored("lsq", "sgd")
    (entry,) = folder.glob("*.pickle")
    key, value = pickle.loads(entry.read_bytes())
    entry.write_bytes(pickle.dumps(("another key", value)))
    stored("lsq", "sgd")
    assert len(calls) == 2


def test_the_store_can_be_turned_off(folder, monkeypatch):
    monkeypatch.setenv("SPARSEMOM_DERIVATION_CACHE", "off")
    stored, calls = _calls(derive_recursion.__wrapped__.__wrapped__)
    stored("lsq", "sgd")
    stored("lsq", "sgd")
    assert len(calls) == 2 and not folder.exists()


def test_a_value_holding_a_dummy_is_not_stored(folder):
    @store.stored
    def with_dummy(model: str):
        return sp.Dummy("q") + 1

    with_dummy("lsq")
    assert not folder.exists() or not list(folder.glob("*.pickle"))


def test_an_unwritable_folder_only_costs_the_store(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SPARSEMOM_CACHE_DIR", str(blocker))
    stored, calls = _calls(derive_recursion.__wrapped__.__wrapped__)
    assert stored("lsq", "sgd") == derive_recursion("lsq", "sgd")


def test_code_outside_the_package_is_in_the_key_when_named(folder, tmp_path):
    """``stored_with(folder)``: a change to that code (a code generator) is a new key."""
    code = tmp_path / "generator"
    code.mkdir()
    (code / "printer.py").write_text("WIDTH = 4\n")
    calls = []

    def source(model: str):
        calls.append(model)
        return f"source for {model}"

    source.__module__ = "tests.store"
    store.stored_with(code)(source)("lsq")
    store.stored_with(code)(source)("lsq")
    (code / "printer.py").write_text("WIDTH = 8\n")
    store.stored_with(code)(source)("lsq")
    assert calls == ["lsq", "lsq"]


def test_frozen_records_of_the_package_are_keyed_by_every_field():
    """An ExponentPoint is keyed by all its exact fields; a record from elsewhere is not
    keyed at all (its meaning is not in the package's source)."""
    base = ExponentPoint(F(1, 2), F(1, 4), F(1, 3), F(0))
    assert store._canonical(base) == store._canonical(ExponentPoint(F(1, 2), F(1, 4), F(1, 3), F(0)))
    keys = {store._canonical(base),
            store._canonical(ExponentPoint(F(1, 2), F(1, 4), F(1, 3), F(0), lr_star=F(2))),
            store._canonical(ExponentPoint(F(1, 2), F(1, 4), F(1, 3), F(0), rho=F(1, 2))),
            store._canonical(ExponentPoint(F(1, 2), F(1, 4), F(2, 3), F(0)))}
    assert len(keys) == 4 and None not in keys

    @dataclass(frozen=True)
    class Elsewhere:
        kappa: F

    assert store._canonical(Elsewhere(F(1, 2))) is None
