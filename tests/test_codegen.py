"""Generated sources: regenerated and diffed, value-preserving rewrites, staleness."""

import inspect
import os
import platform
import subprocess

import mpmath
import numpy as np
import pytest
import sympy as sp
from swept_rules import SWEPT_RULES
from sympy.codegen.cfunctions import expm1, log1p

from sparsemom.derivations import TIME_RULES, all_recursions
from sparsemom.derivations import symbols as S
from sparsemom.derivations.engine.moments import R0
from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.numerics.codegen import (
    GENERATED_DIR,
    generated_files,
    kernel_expressions,
    write_sources,
)
from sparsemom.numerics.codegen.expressions import ACTIVE_PROBABILITY, with_stable_idle_powers
from sparsemom.numerics.codegen.signature import Signature
from sparsemom.numerics.codegen.sources import C_INCLUDE_DIR, c_source, python_source
from sparsemom.numerics.kernels.backends import (
    GeneratedCodeWarning,
    StaleGeneratedCode,
    checked_in_module,
    generated_module,
)
from sparsemom.numerics.kernels.compiler import compiler, kernel_flags
from sparsemom.numerics.kernels.numeric_function import numeric_function


def test_checked_in_sources_are_current(tmp_path):
    """Regenerate into a temporary folder and diff against numerics/generated."""
    write_sources(tmp_path)
    fresh = {p.name: p.read_text() for p in tmp_path.iterdir()}
    checked_in = {p.name: p.read_text() for p in GENERATED_DIR.iterdir()
                  if p.suffix in (".py", ".c")}
    assert sorted(fresh) == sorted(checked_in)
    stale = [name for name in fresh if fresh[name] != checked_in[name]]
    assert not stale, f"run `sparsemom codegen`: {stale} differ"


def _compile_warning_free(tmp_path, source: str, *target: str) -> None:
    """Compile ``source`` as a kernel is compiled (``kernel_flags``), for
    ``target`` (flags after them, e.g. another ``-march``), with -Wall -Wextra as
    errors: the optimiser's warnings (-Wmaybe-uninitialized) included."""
    path = tmp_path / "kernel.c"
    path.write_text(source)
    # to assembly only: no link, so no -shared (Clang calls an unused one an error here)
    flags = [f for f in kernel_flags(compiler()) if f != "-shared"]
    proc = subprocess.run([*compiler(), *flags, *target, "-Wall", "-Wextra", "-Werror",
                           f"-I{C_INCLUDE_DIR}", "-S", "-o", os.devnull, str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("time", TIME_RULES)
@pytest.mark.parametrize("name", SWEPT_RULES)
def test_generated_c_compiles_without_warnings(tmp_path, name, time):
    """The C kernel of every swept rule (time-invariant and scheduled tiles, with the
    driver) passes the compiler's -Wall -Wextra as errors at the kernels' own flags:
    nothing computed and unused, nothing read before it is written, no implicit
    conversions the compiler doubts."""
    _compile_warning_free(tmp_path, c_source(recursion_for("lsq", name, time)))


X86_TARGETS = {"sse2": "-march=x86-64", "avx2": "-march=haswell",
               "avx512": "-march=skylake-avx512"}


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="x86 targets are compiled on x86 hosts")
@pytest.mark.parametrize("target", X86_TARGETS)
@pytest.mark.parametrize("name", SWEPT_RULES)
def test_generated_c_compiles_without_warnings_for_every_x86_width(tmp_path, name, target):
    """The same for each branch of vector_width.h this host may not have (an AVX-512
    kernel compiled on an AVX2 machine): 2, 4 and 8 lanes, each with its own tile.
    Compiled only; the numbers of every width are checked in test_vector_width.py."""
    _compile_warning_free(tmp_path, c_source(recursion_for("lsq", name, TIME_RULES[0])),
                          X86_TARGETS[target])


def test_printed_sources_are_kept_per_derivation():
    """Each printed source is made once per derivation and kept (in memory and in the
    derivation store): `codegen --check` and every run-time fallback read it, never print
    it again (a decorator once slipped onto a helper, and `codegen --check` went from
    0.55 s to 1.84 s)."""
    rec = recursion_for("lsq", "heavy-ball", "steps")
    for printer in (python_source, c_source):
        assert printer(rec) is printer(rec)
        assert hasattr(printer, "cache_info") and hasattr(printer.__wrapped__, "__wrapped__")


def test_headers_name_derivation_and_fingerprint():
    files = generated_files()
    for rec in all_recursions():
        for suffix in (".py", ".c"):
            name = f"{rec.model}_{rec.optimizer.replace('-', '_')}_{rec.time_rule}{suffix}"
            head = files[name][:600]
            assert "Do not edit" in head and rec.fingerprint in head and rec.optimizer in head


@pytest.mark.parametrize("rec", all_recursions(), ids=lambda r: r.optimizer)
def test_kernel_expressions_equal_the_derivation(rec):
    """CSE and the p_B rewrite change no value: substituting the intermediates back
    (p_B as 1 − (1 − p)^B) gives the derived entries exactly."""
    kx = kernel_expressions(rec)
    back = {api: s for s, api in kx.signature.renaming.items()}
    subs = {ACTIVE_PROBABILITY: 1 - (1 - S.p) ** S.batch}
    for sym, expr in kx.intermediates:
        if sym != ACTIVE_PROBABILITY:
            subs[sym] = expr.xreplace(back).xreplace(subs)
    original = [*rec.transition, *rec.forcing, *rec.risk_weights, *rec.initial]
    for got, want in zip(kx.outputs, original):
        assert sp.simplify(got.xreplace(back).xreplace(subs) - want) == 0


def test_active_probability_definition():
    """p_B = −expm1(B log1p(−p)) equals 1 − (1 − p)^B (checked at 40 digits)."""
    rec = next(r for r in all_recursions() if r.optimizer == "lazy")
    sym, expr = kernel_expressions(rec).intermediates[0]
    assert sym == ACTIVE_PROBABILITY
    f = sp.lambdify([sp.Symbol("p"), sp.Symbol("batch")], expr, "mpmath")
    for p, B in [("1e-12", 4), ("0.3", 7), ("0.999", 1)]:
        with mpmath.workdps(100):  # the reference, with digits to spare for the cancellation
            want = 1 - (1 - mpmath.mpf(p)) ** B
        with mpmath.workdps(40):
            assert abs(f(mpmath.mpf(p), B) - want) <= mpmath.mpf(10) ** -38 * want


def test_stale_generated_code_is_never_used(monkeypatch):
    """Stale package code is refused (strict lookup); the numbers then come from code
    printed from the current derivation, with a warning naming the fix."""
    rec = all_recursions()[1]
    module = generated_module(rec)
    monkeypatch.setattr(module, "FINGERPRINT", "0" * 64)
    with pytest.raises(StaleGeneratedCode, match="run `sparsemom codegen`"):
        checked_in_module(rec)
    with pytest.warns(GeneratedCodeWarning, match="run `sparsemom codegen`"):
        fresh = generated_module(rec)
    assert fresh is not module and fresh.FINGERPRINT == rec.fingerprint
    args = [0.1, 0.5, 0.3, 2.0, 8.0, 0.1, 1.0]
    assert fresh.coefficients(*args) == module.coefficients(*args)


def test_missing_c_kernel_is_generated_from_the_derivation(monkeypatch, tmp_path):
    from sparsemom.numerics.kernels import backends
    rec = all_recursions()[2]
    monkeypatch.setattr(backends, "GENERATED_DIR", tmp_path)
    with pytest.warns(GeneratedCodeWarning, match="no generated C kernel"):
        assert backends.generated_c_source(rec) == c_source(rec)


def test_signature_names_inputs_and_output_blocks_once():
    rec = recursion_for("lsq", "heavy-ball", "steps")
    sig = Signature.of(rec)
    assert sig.inputs == (*S.PARAMETERS, R0)
    assert sig.names == ("lr", "beta", "p", "batch", "d", "sigma2", "R0")
    n = len(rec.state)
    assert [(name, s.stop - s.start) for name, s in sig.slices().items()] == \
        [("transition", n * n), ("forcing", n), ("risk_weights", n), ("initial", n)]
    kx = kernel_expressions(rec)
    assert kx.block("forcing") == kx.outputs[n * n: n * n + n]
    # the logistic bulk recursion has its own inputs (Fisher constants h, w), named by them
    # with the prefix of inputs outside the API
    bulk = Signature.of(recursion_for("logistic", "heavy-ball", "steps"))
    assert "h_h" in bulk.names and "h_w" in bulk.names and "p" not in bulk.names


def test_an_expression_with_a_symbol_that_is_no_input_is_refused():
    sig = Signature.of(recursion_for("lsq", "sgd", "steps"))
    stray = sp.Symbol("tau")
    with pytest.raises(ValueError, match=r"\['tau'\].*not among the inputs"):
        sig.check_inputs([S.lr * stray, S.p], "the test expression")
    sig.check_inputs([S.lr * S.p + R0], "an expression in the inputs")   # no error


def test_numeric_functions_are_keyed_by_what_they_are_made_from():
    """Every run-time symbolic → numeric conversion goes through numeric_function: the
    same expression and inputs give the same function (one fingerprint), a changed
    expression a new one, and a free symbol that is not an input is refused at once."""
    f = numeric_function(S.lr * S.p + 1, (S.lr, S.p))
    assert f is numeric_function(S.lr * S.p + 1, (S.lr, S.p)) and f(2.0, 3.0) == 7.0
    g = numeric_function(S.lr * S.p + 2, (S.lr, S.p))
    assert g.fingerprint != f.fingerprint and g(2.0, 3.0) == 8.0
    assert numeric_function([S.lr, 2 * S.lr], (S.lr,))(1.5) == [1.5, 3.0]
    with pytest.raises(ValueError, match=r"\['beta'\].*not among the inputs"):
        numeric_function(S.lr * S.beta, (S.lr,))
    with pytest.raises(ValueError, match="backend must be one of"):
        numeric_function(S.lr, (S.lr,), "fortran")


def test_powers_as_products_give_the_same_values_without_powl():
    """``products=True`` prints ``x**n`` (2 ≤ n ≤ 6) as a product: exact on integers, the
    same floats to rounding, in ``long double`` too; a keyed function of its own."""
    expr = (S.lr - S.p) ** 4 / (S.lr + 1) ** 3 + S.p ** 7
    plain = numeric_function(expr, (S.lr, S.p))
    product = numeric_function(expr, (S.lr, S.p), products=True)
    assert product.fingerprint != plain.fingerprint
    source = inspect.getsource(product.function)
    assert "**4" not in source and "**3" not in source and "**7" in source
    assert product(3, 1) == plain(3, 1) == 16 / 64 + 1
    x = np.linspace(0.1, 2, 50)
    np.testing.assert_allclose(product(x, x / 3), plain(x, x / 3), rtol=1e-15)
    wide = product(x.astype(np.longdouble), (x / 3).astype(np.longdouble))
    assert wide.dtype == np.longdouble
    with pytest.raises(ValueError, match="numpy backend only"):
        numeric_function(expr, (S.lr, S.p), "mpmath", products=True)


def test_stable_idle_powers_keep_rare_rows_digits():
    """``(1 − p)^B − 1`` becomes ``expm1(B log1p(−p))``: full relative precision at
    ``p = 1e-12``, where ``1 − p`` in float64 keeps 4 digits of ``p``."""
    expr = (1 - S.p) ** S.batch - 1
    stable = with_stable_idle_powers(expr)
    assert stable == expm1(S.batch * log1p(-S.p))
    f = numeric_function(stable, (S.p, S.batch))
    with mpmath.workdps(40):
        exact = float(mpmath.power(1 - mpmath.mpf("1e-12"), 64) - 1)
    assert abs(f(1e-12, 64) / exact - 1) < 1e-15
    assert abs(numeric_function(expr, (S.p, S.batch))(1e-12, 64) / exact - 1) > 1e-6
