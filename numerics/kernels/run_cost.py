"""What an ``exact_risk`` run will cost, estimated before it starts, and refused when too
much: the memory of the curve, the schedules and the C kernel's per-thread buffers, and
the time of the exact and mpmath backends (pure Python, one row at a time).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from sparsemom.numerics.runtime.memory import available_memory

#: Bytes per stored risk value, by backend (float64, mpf, Fraction: typical sizes).
BYTES_PER_VALUE = {"auto": 8, "numpy": 8, "c": 8, "mpmath": 120, "exact": 200}

#: Bytes of one vector of the C kernel's per-thread risk buffer: the widest native vector
#: (AVX-512, 8 doubles, ``numerics/codegen/c/vector_width.h``); a narrower CPU needs less.
C_VECTOR_BYTES = 64

#: Multiply-adds per second of the exact and mpmath backends, over ``rows · steps ·
#: moments²`` (the ``A X`` products): about 4× the fastest rate measured, so that an
#: estimate never exceeds the true time on a faster machine. Measured once (2026-12-07,
#: a 2-core Xeon shared with other jobs, 64 rows, 10 and 100 steps, every built-in rule
#: with 1 or 3 moments, float and Fraction inputs): exact 1.5e3-4.5e4/s (slowest at 100
#: steps: the rationals grow with the steps), mpmath 6e4-2.5e5/s (dps 15 and 50 alike).
OPERATIONS_PER_SECOND = {"exact": 2e5, "mpmath": 1e6}

#: Hours of estimated run time above which the exact and mpmath backends are refused
#: unless the caller raises ``max_hours``.
MAX_HOURS = 1.0


def check_curve_memory(steps: int, backend: str, values_per_step: int = 1,
                       schedules: int = 0, kernel_threads: int | None = None,
                       schedule_table: int = 0) -> None:
    """Refuse, before any work, a run whose arrays over the steps would take more than
    half the free memory: the curve (``values_per_step`` values per step), the multipliers
    of ``schedules`` scheduled hyper-parameters and, given ``kernel_threads`` and a backend
    that runs the C kernel (``auto``, ``c``), its risk buffer of ``steps + 1`` vectors per
    thread, and the scheduled C kernel's table of ``schedule_table`` doubles per step (its
    monomials, built with a temporary of the same size, and the multipliers' columns)."""
    parts = {"the curve": (steps + 1) * values_per_step * BYTES_PER_VALUE[backend]}
    if schedule_table and backend in ("auto", "c"):
        parts["the scheduled kernel's table"] = schedule_table * steps * 8
    if schedules:
        parts["the schedules"] = schedules * steps * 8
    if kernel_threads is not None and backend in ("auto", "c"):
        count = kernel_threads
        parts[f"the C kernel's buffers ({count} thread{'s' * (count > 1)} × {steps + 1} "
              f"vectors of up to {C_VECTOR_BYTES} bytes)"] = count * (steps + 1) * C_VECTOR_BYTES
    need = sum(parts.values())
    free = available_memory()
    if need > free // 2:
        shown = ", ".join(f"{size / 2**30:.1f} GiB for {what}" for what, size in parts.items())
        raise ValueError(
            f"steps={steps} needs {need / 2**30:.1f} GiB ({shown}; {backend} backend), more "
            f"than half of the {free / 2**30:.1f} GiB of free memory; ask for fewer steps "
            "(or fewer threads), or for the risk at chosen steps only with "
            "sparsemom.numerics.kernels.exact_risk.exact_risk_at")


#: Growth of the exact backend with the steps: its rationals gain about as many bits per
#: step as the inputs have, so step ``k`` multiplies numbers of ``~k·bits`` bits and a run
#: costs ``~c·bits²·steps³`` per moment product. ``c`` is half the value fitted on
#: 2026-12-07 (heavy-ball, one row, float inputs of 53 bits: 0.05 / 0.25 / 1.55 s at 100 /
#: 200 / 400 steps; 1/20-type fractions of 5 bits: 0.008 / 0.013 / 0.04 s), so the estimate
#: stays below the measured time.
EXACT_GROWTH = 5e-13


def input_bits(values) -> int:
    """The most bits of a numerator or denominator among (the first 1 000 entries of) each
    input, read as an exact rational (a float at its binary value): fewer entries give
    fewer bits, so an estimate from them stays a lower bound."""
    bits = 1
    for value in values:
        for x in np.ravel(np.asarray(value, dtype=object))[:1000]:
            q = Fraction(x)
            bits = max(bits, q.numerator.bit_length(), q.denominator.bit_length())
    return bits


def estimated_seconds(backend: str, rows: int, steps: int, moments: int, bits: int = 1) -> float:
    """A lower bound on the run time of the exact or mpmath backend: ``rows · steps ·
    moments²`` multiply-adds at :data:`OPERATIONS_PER_SECOND`, and for ``exact`` the growth
    of its rationals, ``rows · moments² · EXACT_GROWTH · bits² · steps³`` (``bits``: of the
    inputs, :func:`input_bits`)."""
    seconds = float(rows) * steps * moments**2 / OPERATIONS_PER_SECOND[backend]
    if backend == "exact":
        seconds += float(rows) * moments**2 * EXACT_GROWTH * bits**2 * float(steps) ** 3
    return seconds


def check_max_hours(max_hours) -> float:
    """``max_hours`` as a float, a ``ValueError`` unless it is a positive number
    (``math.inf``: no limit)."""
    if isinstance(max_hours, bool) or not isinstance(max_hours, (int, float)) \
            or math.isnan(max_hours) or max_hours <= 0:
        raise ValueError(f"max_hours must be a positive number of hours (math.inf for no "
                         f"limit); got {max_hours!r}")
    return float(max_hours)


def check_run_time(backend: str, rows: int, steps: int, moments: int,
                   max_hours: float, bits: int = 1) -> None:
    """Refuse, before any work, an exact or mpmath run estimated (:func:`estimated_seconds`)
    to take more than ``max_hours`` hours."""
    if backend not in OPERATIONS_PER_SECOND:
        return
    seconds = estimated_seconds(backend, rows, steps, moments, bits)
    if seconds > max_hours * 3600:
        raise ValueError(
            f"backend={backend!r} would take at least {_duration(seconds)} for {rows} rows × "
            f"{steps} steps × {moments}² moment products (at most "
            f"{OPERATIONS_PER_SECOND[backend]:.0e} per second"
            f"{f', on rationals growing from {bits}-bit inputs' if backend == 'exact' else ''}"
            f"), more than max_hours="
            f"{max_hours:g}: use backend='c' or 'numpy' (float64), "
            "fewer rows or steps, or pass a larger max_hours to run it anyway")


def _duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 3:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"
