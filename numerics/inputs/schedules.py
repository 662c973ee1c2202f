"""Per-step schedules of hyper-parameters: ``value_k = base · s[k]``.

A schedule is a sequence of multipliers ``s[0], s[1], …`` — a 1-D array (at least as
long as the run) or a callable ``k ↦ s[k]`` — applied to a hyper-parameter's base value
at step ``k`` (the step from ``θ_k`` to ``θ_{k+1}``), on every row alike.  Numbers given
exactly (ints, :class:`~fractions.Fraction`) stay exact, so the exact backend iterates
the scheduled recursion in rational arithmetic.

Ready-made schedules (each a :class:`Schedule`):

* :func:`constant` — ``s[k] = 1``;
* :func:`warmup` — linear warm-up ``s[k] = min(1, (k + 1)/k_w)``;
* :func:`cosine` — ``s[k] = f + (1 − f)·½(1 + cos(π min(k, K)/K))`` (optax's
  ``cosine_decay_schedule(1, K, alpha=f)``);
* :func:`step_decay` — ``s[k] = γ^{⌊k/k_s⌋}``;
* :func:`inverse_time` — ``s[k] = 1/(1 + k/k_0)``;
* :func:`logarithmic` — ``s[k] = 1/log₂(k + 2)``: the slowly decaying factor of the
  log-time schedules of the momentum-scaling literature (e.g. ``1 − β_k ∝ 1/log k``);
* :func:`power_law` — ``s[k] = (1 + k/k_0)^a`` (the DANA authors' ``powerlaw_schedule``
  with initial value 1 and no saturation), and :func:`dana_decaying`, the schedules of
  DANA-decaying;
* :func:`polyak` — ``s[k] = (k + 1)/(k + 2)``, the weight of uniform iterate averaging.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from sparsemom.numerics.inputs.validation import as_values, check_integer


@dataclass(frozen=True)
class Schedule:
    """Multipliers ``s[k]``: ``values`` (a 1-D array) or ``function`` (``k ↦ s[k]``)."""

    description: str
    values: np.ndarray | None = None
    function: Callable[[int], object] | None = None

    def multipliers(self, steps: int, name: str) -> np.ndarray:
        """``s[0..steps−1]``: exact (object array of ``Fraction``) when every value is
        exact, else float64; a ``ValueError`` names ``name`` when too short or not finite."""
        if self.values is not None:
            if self.values.size < steps:
                raise ValueError(f"{name} has {self.values.size} multipliers; the run needs "
                                 f"one per step, {steps}")
            return self.values[:steps]
        return as_values(name, [self.function(k) for k in range(steps)]) if steps else \
            np.empty(0)

    def __repr__(self) -> str:
        return f"Schedule({self.description})"


def as_schedule(name: str, schedule) -> Schedule:
    """A :class:`Schedule` from an array of multipliers, a callable or a Schedule."""
    if isinstance(schedule, Schedule):
        return schedule
    if callable(schedule):
        return Schedule(getattr(schedule, "__name__", "callable"), function=schedule)
    values = as_values(name, schedule)
    if values.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of per-step multipliers or a callable "
                         "k ↦ multiplier; got a scalar")
    return Schedule(f"{values.size} multipliers", values=values)


def constant() -> Schedule:
    """``s[k] = 1``."""
    return Schedule("constant", function=lambda k: 1)


def warmup(steps: int) -> Schedule:
    """Linear warm-up over ``steps`` steps: ``s[k] = min(1, (k + 1)/steps)`` (exact)."""
    steps = check_integer("steps", steps, minimum=1)
    return Schedule(f"warm-up over {steps} steps",
                    function=lambda k: min(Fraction(1), Fraction(k + 1, steps)))


def cosine(decay_steps: int, final: float = 0.0) -> Schedule:
    """Cosine decay to ``final`` over ``decay_steps``, then constant (optax's
    ``cosine_decay_schedule(init_value=1, decay_steps, alpha=final)``)."""
    decay_steps = check_integer("decay_steps", decay_steps, minimum=1)
    if not 0 <= final <= 1:
        raise ValueError(f"final must be in [0, 1]; got {final!r}")

    def s(k: int) -> float:
        c = 0.5 * (1 + math.cos(math.pi * min(k, decay_steps) / decay_steps))
        return final + (1 - final) * c
    return Schedule(f"cosine decay over {decay_steps} steps to {final}", function=s)


def step_decay(every: int, factor) -> Schedule:
    """``s[k] = factor^{⌊k/every⌋}`` (exact for an exact ``factor``)."""
    every = check_integer("every", every, minimum=1)
    factor = as_values("factor", factor)
    if factor.ndim or not 0 < factor.item() <= 1:
        raise ValueError(f"factor must be a number in (0, 1]; got {factor!r}")
    f = factor.item()
    return Schedule(f"× {f} every {every} steps", function=lambda k: f ** (k // every))


def inverse_time(k0) -> Schedule:
    """``s[k] = 1/(1 + k/k0)`` (exact for an exact ``k0``)."""
    k0 = as_values("k0", k0)
    if k0.ndim or not k0.item() > 0:
        raise ValueError(f"k0 must be a positive number; got {k0!r}")
    scale = k0.item()
    return Schedule(f"1/(1 + k/{scale})", function=lambda k: 1 / (1 + k / scale)
                    if isinstance(scale, float) else Fraction(1) / (1 + Fraction(k) / scale))


def logarithmic() -> Schedule:
    """``s[k] = 1/log₂(k + 2)`` (``s[0] = 1``)."""
    return Schedule("1/log2(k + 2)", function=lambda k: 1 / math.log2(k + 2))


def polyak() -> Schedule:
    """``s[k] = (k + 1)/(k + 2)`` (exact): with base 1, the averaging weight that makes the
    averaged iterate the uniform average of ``θ_0 … θ_k``."""
    return Schedule("(k + 1)/(k + 2)", function=lambda k: Fraction(k + 1, k + 2))


def power_law(power: float, time_scale: float = 1.0) -> Schedule:
    """``s[k] = (1 + k/time_scale)^power``."""
    if not time_scale > 0:
        raise ValueError(f"time_scale must be > 0; got {time_scale!r}")
    power, time_scale = float(power), float(time_scale)
    return Schedule(f"(1 + k/{time_scale:g})^{power:g}",
                    function=lambda k: (1 + k / time_scale) ** power)


def dana_decaying(alpha: float, delta_time_scale: float = 6.0) -> dict[str, Schedule]:
    """The schedules of DANA-decaying (the rule ``dana`` of :mod:`sparsemom.derivations.definitions.methods`), as
    its authors run it: ``γ3_k = γ3 (1 + k)^{−1/(2α)}`` and ``Δ_k = Δ (1 + k/6)^{−1}``
    (``α`` the power-law exponent of the data spectrum).  Pass as ``schedules=``."""
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0; got {alpha!r}")
    return {"g3": power_law(-1 / (2 * alpha)), "delta": power_law(-1.0, delta_time_scale)}


__all__ = ["Schedule", "as_schedule", "constant", "warmup", "cosine", "step_decay",
           "inverse_time", "logarithmic", "power_law", "dana_decaying", "polyak"]
