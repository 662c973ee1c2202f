"""The logistic model's predicted trajectory: the derived statistics map, iterated.

``X_{k+1} = F(X_k)`` with ``X = (s, u, R⊥, C⊥, V⊥)`` (``(s, R⊥)`` for sgd) is the
derived :class:`~sparsemom.derivations.rare_class.drift.StatisticsMap`, lambdified once with its
logistic-normal integrals evaluated by error-controlled Gauss–Hermite
(:mod:`sparsemom.numerics.kernels.logistic_normal`).  Along the trajectory the model's risks are
evaluated from the statistics: the excess cross-entropy (population KL from the
Bayes posterior) and the squared error ``s² + R⊥``.  This is the mean-field
counterpart of :func:`sparsemom.numerics.kernels.exact_risk.exact_risk`: exact as ``d → ∞`` with
``η = O(1/d)``; at finite ``d`` it is the prediction Monte Carlo is compared with.

A trajectory whose statistics overflow (unstable parameters) is reported as
diverged at that step, with ``inf`` from there on — never NaN.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import root

from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.kernels.statistics_map import (
    compiled_statistics_map,
    initial_state,
    parameter_tuple,
    risks_of,
)
from sparsemom.numerics.results.labelled import Labelled, problem_metadata

#: Statistics beyond this magnitude count as diverged.
DIVERGENCE = 1e100


@dataclass(frozen=True, repr=False)   # Labelled's one-line repr
class MeanFieldTrajectory(Labelled):
    """Predicted statistics ``state[k, i]`` (``names[i]``) and risks at steps ``0..steps``;
    ``metadata`` holds the parameters and the time rule (``to_dataframe()``: one line per
    step with every statistic and risk)."""

    names: tuple[str, ...]
    state: np.ndarray
    risks: dict
    diverged_at: int | None
    metadata: dict = field(default_factory=dict)

    def statistic(self, name: str) -> np.ndarray:
        return self.state[:, self.names.index(name)]

    def columns(self) -> dict[str, np.ndarray]:
        out = {"step": np.arange(self.state.shape[0])}
        out.update({name: self.state[:, i] for i, name in enumerate(self.names)})
        out.update(self.risks)
        return out


def mean_field(model, optimizer, steps: int, time_rule: str = "steps") -> MeanFieldTrajectory:
    """Iterate the derived statistics map ``steps`` times from ``X_0``."""
    steps = check_integer("steps", steps, minimum=0)
    stats, step, _ = compiled_statistics_map(model.name, optimizer.name, time_rule)
    names = tuple(x.name for x in stats.state)
    params = parameter_tuple(model, optimizer)
    state = np.full((steps + 1, len(names)), np.inf)
    state[0] = initial_state(model, names)
    diverged = None
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            nxt = np.array(step(*state[k], *params), dtype=float)
            if not np.all(np.isfinite(nxt)) or np.max(np.abs(nxt)) > DIVERGENCE:
                diverged = k + 1
                warnings.warn(f"mean-field statistics diverged at step {diverged}: the "
                              "parameters are unstable", RuntimeWarning, stacklevel=2)
                break
            state[k + 1] = nxt
    live = slice(0, diverged if diverged is not None else steps + 1)
    risks = {name: np.full(steps + 1, np.inf) for name in stats.risks}
    s, R = state[live, names.index("s")], state[live, names.index("R_perp")]
    for name, values in risks_of(model, optimizer, s, R, time_rule).items():
        risks[name][live] = values
    metadata = {**problem_metadata(model, optimizer), "time": time_rule}
    return MeanFieldTrajectory(names, state, risks, diverged, metadata)


def expected_next(model, optimizer, state: dict, time_rule: str = "steps") -> dict:
    """``F(X)``: the derived expected statistics after one step from ``X`` (by name)."""
    stats, step, _ = compiled_statistics_map(model.name, optimizer.name, time_rule)
    names = [x.name for x in stats.state]
    missing = set(names) - set(state)
    if missing:
        raise ValueError(f"state is missing {sorted(missing)}")
    values = step(*(float(state[n]) for n in names), *parameter_tuple(model, optimizer))
    return dict(zip(names, (float(x) for x in values)))


def fixed_point(model, optimizer, guess: dict, time_rule: str = "steps") -> dict:
    """The stationary statistics ``X* = F(X*)`` of the full map, by
    ``scipy.optimize.root`` (hybrid Powell) from ``guess``; an ``ArithmeticError``
    when it does not converge."""
    stats, step, _ = compiled_statistics_map(model.name, optimizer.name, time_rule)
    names = [x.name for x in stats.state]
    params = parameter_tuple(model, optimizer)
    start = np.array([float(guess.get(n, 0.0)) for n in names])
    scale = np.maximum(np.abs(start), max(1e-3 * np.max(np.abs(start)), 1e-12))
    residual = lambda y: (np.array(step(*(y * scale), *params), dtype=float) - y * scale) / scale  # noqa: E731
    found = root(residual, start / scale,
                 method="hybr", options={"xtol": 1e-13})
    if not found.success:
        raise ArithmeticError(f"no fixed point found: {found.message}")
    return dict(zip(names, found.x * scale))
