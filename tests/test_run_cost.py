"""``exact_risk`` estimates its cost before any work: the C kernel's per-thread risk
buffers count towards the memory (steps = 10⁹ passed the check, then MemoryError or the
OOM killer), and an exact or mpmath run estimated above ``max_hours`` is refused with
the estimate (10⁸ rows started a 13–136 h run without a word)."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.kernels import backends, run_cost
from sparsemom.numerics.kernels.exact_risk import exact_risk
from sparsemom.numerics.kernels.exact_state import exact_state

OPT = Optimizer("heavy-ball", lr=0.05, beta=0.6, batch=3)
SMALL = SparseLeastSquares(6, [0.3, 0.02], R0=[1.0, 2.0], sigma2=0.1)


class WorkStarted(AssertionError):
    """A backend was called: the check came too late."""


@pytest.fixture
def no_work(monkeypatch):
    """Every backend fails the test if it is reached; 16 GiB of free memory."""
    def started(*args, **kwargs):
        raise WorkStarted("a backend started")

    for name in ("risk_c", "risk_numpy", "risk_mpmath", "risk_exact"):
        monkeypatch.setattr(backends, name, started)
    monkeypatch.setattr(run_cost, "available_memory", lambda: 16 << 30)


@pytest.mark.parametrize("backend", ["c", "auto"])
def test_the_c_kernels_per_thread_buffers_count_towards_memory(backend, no_work):
    # the curve alone is 0.75 GiB, well below half of 16 GiB; two threads' buffers of
    # 10⁸ + 1 vectors of (at most) 64 bytes are 11.9 GiB more
    with pytest.raises(ValueError, match=r"steps=100000000 needs 12\.7 GiB \(0\.7 GiB for the "
                       r"curve, 11\.9 GiB for the C kernel's buffers \(2 threads × 100000001 "
                       r"vectors of up to 64 bytes\); .*fewer threads"):
        exact_risk(SMALL, OPT, 10**8, backend=backend, threads=2)


def test_one_thread_fits_where_two_do_not(no_work):
    with pytest.raises(WorkStarted):    # 0.75 + 5.96 GiB < 8 GiB: the check lets it through
        exact_risk(SMALL, OPT, 10**8, backend="c", threads=1)
    with pytest.raises(WorkStarted):    # NumPy keeps no buffer per thread
        exact_risk(SMALL, OPT, 10**8, backend="numpy")


def test_the_buffers_count_the_threads_the_kernel_will_use(no_work, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with pytest.raises(WorkStarted):    # 2 rows: one thread (default_threads), 6.7 GiB
        exact_risk(SMALL, OPT, 10**8, backend="c")
    many = SparseLeastSquares(10**6, np.full(40_000, 1e-4), R0=1.0, sigma2=0.1)
    with pytest.raises(ValueError, match=r"11\.9 GiB for the C kernel's buffers \(2 threads"):
        exact_risk(many, OPT, 10**8, backend="c")   # 40 000 rows: both cores


def test_steps_of_a_billion_are_refused_before_any_work(no_work):
    with pytest.raises(ValueError, match=r"steps=1000000000 needs .* C kernel's buffers"):
        exact_risk(SMALL, OPT, 10**9, backend="c")


def test_the_schedules_count_towards_memory(no_work, monkeypatch):
    scheduled = Optimizer("heavy-ball", lr=0.05, beta=0.6, batch=3,
                          lr_schedule=lambda k: 1.0 / (1.0 + k))

    def started(self, steps):
        raise WorkStarted("the multipliers of every step were being computed")

    monkeypatch.setattr(Optimizer, "multipliers", started)
    with pytest.raises(ValueError, match=r"GiB for the schedules"):
        exact_risk(SMALL, scheduled, 9 * 10**8, backend="numpy")


ROWS = 10**5   # × 10⁴ steps × 3² products: 9·10⁹, over 12 h exact, over 2 h mpmath


@pytest.fixture(scope="module")
def many_rows():
    return SparseLeastSquares(10**6, np.full(ROWS, 1e-4), R0=1.0, sigma2=0.1)


@pytest.mark.parametrize("backend, estimate", [("exact", r"\d+ days"), ("mpmath", r"2\.5 h")])
def test_a_long_exact_run_is_refused_with_its_estimate(backend, estimate, many_rows, no_work):
    message = (f"backend='{backend}' would take at least {estimate} for {ROWS} rows × 10000 "
               r"steps × 3² moment products")
    with pytest.raises(ValueError, match=message) as error:
        exact_risk(many_rows, OPT, 10**4, backend=backend)
    assert "backend='c' or 'numpy'" in str(error.value) and "max_hours" in str(error.value)


def test_max_hours_lets_a_long_run_start(many_rows, no_work):
    with pytest.raises(WorkStarted):
        exact_risk(many_rows, OPT, 10**4, backend="mpmath", max_hours=3)
    with pytest.raises(WorkStarted):
        exact_risk(many_rows, OPT, 10**4, backend="exact", max_hours=math.inf)
    with pytest.raises(ValueError, match=r"would take at least \d+ days"):
        exact_risk(many_rows, OPT, 10**4, backend="exact", max_hours=12)


def test_float_backends_are_not_held_to_max_hours(many_rows, no_work):
    with pytest.raises(WorkStarted):
        exact_risk(many_rows, OPT, 10**4, backend="numpy", max_hours=1e-9)


@pytest.mark.parametrize("bad", [0, -1, math.nan, "1", True, None])
def test_max_hours_must_be_a_positive_number(bad):
    with pytest.raises(ValueError, match="max_hours must be a positive number"):
        exact_risk(SMALL, OPT, 3, backend="exact", max_hours=bad)


def test_short_runs_are_unchanged():
    exact = exact_risk(SMALL, OPT, 12, backend="exact")
    np.testing.assert_allclose(exact_risk(SMALL, OPT, 12, backend="mpmath").astype(float),
                               np.array(exact, dtype=float), rtol=1e-13)
    np.testing.assert_array_equal(exact_state(SMALL, OPT, 12, backend="exact").risk, exact)


def test_the_exact_estimate_grows_with_the_size_of_its_rationals(no_work):
    """The exact backend's rationals grow with the steps: a run costs ``~bits²·steps³``, not
    ``steps`` (one row of float inputs: 1.55 s at 400 steps, 41 s at 800, about 17 h at
    10 000, estimated at 0.45 s before). Such a run is refused before any work, in
    ``exact_risk`` and ``exact_state``; the same steps with small fractions (5 bits) are
    estimated far lower."""
    from fractions import Fraction as F

    one_row = SparseLeastSquares(d=4, p=0.5, R0=1.0, sigma2=0.1)
    for run in (exact_risk, exact_state):
        with pytest.raises(ValueError, match=r"backend='exact' would take at least \d\.\d h .* "
                           r"on rationals growing from 5\d-bit inputs"):
            run(one_row, OPT, 10_000, backend="exact")
    floats = run_cost.estimated_seconds("exact", 1, 10_000, 3, bits=53)
    fractions = run_cost.estimated_seconds("exact", 1, 10_000, 3, bits=5)
    assert floats > 3600 and fractions < floats / 100
    assert run_cost.input_bits([np.array([F(1, 20), F(3, 5)])]) == 5
    assert run_cost.input_bits([np.array(0.1)]) == 56    # 0.1 = 3602879701896397 / 2^55


def test_the_scheduled_kernels_table_counts_towards_memory(no_work, monkeypatch):
    """A scheduled C run builds a steps × monomials table (about 25 doubles a step for
    qhm): it was left out of the check, which passed runs that then ran out of memory."""
    monkeypatch.setattr(run_cost, "available_memory", lambda: 1 << 30)
    steps = 3 * 10**6          # the table alone is about 0.6 GiB, over half of 1 GiB
    qhm = Optimizer("qhm", lr=0.05, beta=0.6, lr_schedule=np.ones(steps))
    with pytest.raises(ValueError, match=r"for the scheduled kernel's table"):
        exact_risk(SMALL, qhm, steps, backend="c", threads=1)
    with pytest.raises(WorkStarted):
        exact_risk(SMALL, qhm, steps, backend="numpy")
