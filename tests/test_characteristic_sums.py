"""Sums over modes through the blocks' characteristic recurrences (in differences), and the
renewal equation built on them: against the blocks iterated directly and mpmath."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

import sparsemom as sm
from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.inputs.spectra import GaussianCovariance, power_law_covariance
from sparsemom.numerics.kernels import renewal
from sparsemom.numerics.kernels.characteristic_sums import (
    characteristic_coefficients,
    difference_starts,
    sequence_sums,
)
from sparsemom.numerics.kernels.coupled import risk_c
from sparsemom.numerics.kernels.stacked_threads import MIN_CHUNK, stacked_map
from sparsemom.numerics.studies.coupled_benchmark import benchmark_coupled


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_the_coefficients_are_the_characteristic_polynomial(n):
    """Integer blocks: Faddeev–LeVerrier is exact in float64 there, so ``==`` SymPy's
    characteristic polynomial."""
    rng = np.random.default_rng(n)
    A = rng.integers(-3, 4, size=(5, n, n)).astype(float)
    got = characteristic_coefficients(A)
    for j in range(5):
        poly = sp.Matrix(A[j].astype(int)).charpoly(sp.Symbol("x")).all_coeffs()
        assert [Fraction(int(c)) for c in poly[1:]] == [Fraction(x) for x in got[j]]


def _stable_blocks(rng, modes: int, n: int, radius: float) -> np.ndarray:
    """Random real blocks of spectral radius ``radius``."""
    A = rng.normal(size=(modes, n, n))
    return A * (radius / np.max(np.abs(np.linalg.eigvals(A)), axis=1))[:, None, None]


def _iterated(A, a, b, steps):
    x, out = np.array(b, dtype=float), np.empty(steps)
    for m in range(steps):
        out[m] = np.einsum("ji,ji->", a, x)
        x = np.einsum("jik,jk->ji", A, x)
    return out


@pytest.mark.parametrize("modes", [1, 7, 37, 301])
@pytest.mark.parametrize("n", [1, 2, 3, 6])
@pytest.mark.parametrize("threads", [1, 2, 5])
def test_sequence_sums_equal_the_iterated_blocks(modes, n, threads):
    """Modes that fill no tile or leave padding lanes, orders 1 to 6, one to four
    sequences, more threads than groups, and step counts across the kernel's blocks of
    256 (1, 255, 256, 257, 600)."""
    rng = np.random.default_rng(100 * modes + n)
    A = _stable_blocks(rng, modes, n, 0.995)
    B = A - np.eye(n)
    chi = characteristic_coefficients(B)
    pairs = [(rng.normal(size=(modes, n)), rng.normal(size=(modes, n))) for _ in range(4)]
    for count in (1, 2, 4):
        starts = [difference_starts(B, a, b) for a, b in pairs[:count]]
        for steps in (1, 255, 256, 257, 600):
            got = sequence_sums(chi, starts, steps, threads)
            for q, (a, b) in enumerate(pairs[:count]):
                expected = _iterated(A, a, b, steps)
                scale = np.sum(np.abs(a) * np.abs(b))
                np.testing.assert_allclose(got[q], expected, rtol=0, atol=1e-11 * scale)


@pytest.mark.parametrize("lanes, tile", [(1, 1), (2, 3), (8, 2)])
def test_every_vector_width_gives_the_native_sums(monkeypatch, lanes, tile):
    rng = np.random.default_rng(7)
    A = _stable_blocks(rng, 45, 3, 0.99)
    B = A - np.eye(3)
    chi = characteristic_coefficients(B)
    starts = [difference_starts(B, rng.normal(size=(45, 3)), rng.normal(size=(45, 3)))
              for _ in range(2)]
    native = sequence_sums(chi, starts, 300, 1)
    monkeypatch.setenv("CC", f"cc -DLANES={lanes} -DTILE={tile}")
    np.testing.assert_allclose(sequence_sums(chi, starts, 300, 2), native, rtol=1e-13,
                               atol=1e-13 * np.max(np.abs(native)))


def test_subnormals_are_flushed_without_changing_the_sums():
    """A fast mode (``A = ½``) reaches subnormal numbers within 1100 steps; the kernel
    flushes them (an absolute change below 1e-300) and leaves the caller's floating-point
    mode as it was (NumPy still computes with subnormals afterwards)."""
    got = sequence_sums(characteristic_coefficients(np.array([[[-0.5]]])),
                        [np.array([[1.0]])], 1200, 2)
    np.testing.assert_allclose(got[0], 0.5 ** np.arange(1200), rtol=1e-13, atol=1e-300)
    assert (np.array([1e-310]) * 1.0)[0] == 1e-310


def test_bad_input_is_refused_before_any_work():
    chi = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"starts must be 2 arrays of shape \(3, 2\)"):
        sequence_sums(chi, [np.zeros((3, 2)), np.zeros((3, 3))], 5)
    for call, message in [(lambda: sequence_sums(chi, [chi], -1), "steps"),
                          (lambda: sequence_sums(chi, [chi], 5, 0), "threads"),
                          (lambda: sequence_sums(chi, [chi], 2.5), "steps"),
                          (lambda: sequence_sums(np.zeros((0, 2)), [], 5), "chi must have"),
                          (lambda: sequence_sums(np.zeros(4), [chi], 5), "chi must have")]:
        with pytest.raises(ValueError, match=message):
            call()


# -- the renewal equation on these sums -----------------------------------------------------
@pytest.mark.parametrize("name,hyper", [
    ("heavy-ball", dict(lr=5e-5, beta=0.9999)),
    ("heavy-ball", dict(lr=0.05, beta=0.9)),
    ("dana", dict(lr=0.3, g3=0.05, delta=1e-3)),
])
def test_heavy_momentum_keeps_its_digits(name, hyper):
    """Roots clustered at 1 (``1 − β = 10⁻⁴``): the risk by the renewal equation in
    differences against mpmath at 30 digits, within 1e-11 relative (the shift form
    ``s_{m+n} = −Σ χ_i s_{m+n−i}`` lost 6 digits here; iterating the blocks in float64 is
    within about 1e-12)."""
    model = power_law_covariance(1.0, 0.75, 40, sigma2=0.01)
    opt = sm.Optimizer(name, batch=4, **hyper)
    got = sm.exact_risk(model, opt, 1500, backend="c", threads=1)
    mp = np.array(sm.exact_risk(model, opt, 1500, backend="mpmath", dps=30), dtype=float)
    np.testing.assert_allclose(got, mp, rtol=1e-11, atol=0)


def test_a_block_at_rounding_of_neutral_takes_the_iterated_runs():
    """A mode whose block is the identity in float64 (``η λ = 10⁻²⁰``) is not strictly
    stable: the renewal sums come from runs of the uncoupled kernel, and both equal the
    direct iteration."""
    model = GaussianCovariance([1.0, 0.3, 1e-20], R0=[1.0, 2.0, 1.0], sigma2=0.1)
    opt = sm.Optimizer("heavy-ball", lr=0.2, beta=0.6, batch=2)
    rec = recursion_for(model, opt)
    rows, values = parameter_values(model, opt, coupled=True)
    a = renewal.float_coefficients(rec, values, rows)
    assert renewal._characteristic_sums(rec, values, rows, 10, 1, None, a,
                                        [a["coupling_weights"]]) is None
    direct = risk_c(rec, values, rows, 300, 1)[0]
    np.testing.assert_allclose(sm.exact_risk(model, opt, 300, backend="c"), direct,
                               rtol=1e-12)


def test_the_coupled_benchmark_measures_every_case():
    """`sparsemom benchmark --which coupled` on a small problem: every row a positive,
    finite rate with its note (the rates themselves are the benchmark's)."""
    rows = benchmark_coupled(modes=64, steps=50)
    names = [name for name, _, _ in rows]
    assert any("characteristic-sums kernel" in name for name in names)
    assert any("renewal" in name for name in names) and any("DANA" in name for name in names)
    assert all(np.isfinite(rate) and rate > 0 for _, rate, _ in rows)


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_stacked_linear_algebra_in_threads_is_the_same_per_matrix(threads):
    """``stacked_map`` splits a stack of matrices over threads: every matrix's eigenvalues
    are exactly those of the whole stack at once, in order, for stacks that do and do not
    split evenly (and below one chunk per thread)."""
    rng = np.random.default_rng(7)
    for size in (5, MIN_CHUNK * 2 + 3, MIN_CHUNK * 5):
        stack = rng.standard_normal((size, 3, 3))
        assert np.array_equal(stacked_map(np.linalg.eigvals, stack, threads),
                              np.linalg.eigvals(stack))
