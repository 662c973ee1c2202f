"""The whole second-moment state ``X_k`` per row, as data.

:func:`exact_state` iterates the same derived recursion as
:func:`sparsemom.numerics.kernels.exact_risk.exact_risk` and keeps every moment of every row:
``state[k, r, i] = X_k^{(r)}_i`` with the moments named as the recursion's state
(``R``, ``C``, ``V``, ``M_{u,w}``).  The risk is ``E R_k = Σ_r w^{(r)} · X_k^{(r)}``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import mpmath
import numpy as np

from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.kernels import backends, coupled
from sparsemom.numerics.kernels.exact_risk import DivergenceWarning, recursion_problem
from sparsemom.numerics.kernels.run_cost import (
    MAX_HOURS,
    check_curve_memory,
    check_max_hours,
    check_run_time,
    input_bits,
)
from sparsemom.numerics.results.labelled import Labelled, per_row_columns, problem_metadata

STATE_BACKENDS = ("numpy", "mpmath", "exact")


@dataclass(frozen=True)
class MomentTrajectory(Labelled):
    r"""``state[k, r, i]``: moment ``names[i]`` of row ``r`` after ``k`` steps, with
    $E R_k = \sum_{r, i} \text{weights}_{r,i}\, \text{state}_{k,r,i}$.  Float64 arrays (``inf``
    from a row's overflow on) or object arrays of ``mpf`` / ``Fraction``;
    :meth:`to_dataframe` gives the long table.

    Parameters
    ----------
    state : numpy.ndarray
        Shape ``(steps + 1, rows, n)``.
    names : tuple of str
        The moments' names (``("R", "C", "V")``).
    weights : numpy.ndarray
        Shape ``(rows, n)``: the risk weights.
    row_parameters : dict
        The per-row parameters (``p``, ``lr``, …) by keyword.
    metadata : dict
        The scalar parameters, time rule, iterate and backend.
    """

    state: np.ndarray
    names: tuple[str, ...]
    weights: np.ndarray
    row_parameters: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return self.state.shape[0] - 1

    def __repr__(self) -> str:
        """One line: the problem, the shape and the moments (the arrays stay unprinted)."""
        meta = self.metadata
        problem = " × ".join(str(meta[key]) for key in ("model", "optimizer") if key in meta)
        backend = f", backend {meta['backend']}" if "backend" in meta else ""
        return (f"MomentTrajectory({problem + ', ' if problem else ''}{self.rows} rows, "
                f"{self.steps} steps, moments {', '.join(self.names)}{backend})")

    @property
    def rows(self) -> int:
        return self.state.shape[1]

    def moment(self, name: str) -> np.ndarray:
        """``X_k`` of moment ``name`` for every row, shape (steps+1, rows)."""
        if name not in self.names:
            raise ValueError(f"name must be one of the state's moments {self.names}; got {name!r}")
        return self.state[:, :, self.names.index(name)]

    @property
    def row_risk(self) -> np.ndarray:
        """``E R_k`` of each row, ``w^{(r)} · X_k^{(r)}``, shape (steps+1, rows); mpmath
        values summed at the trajectory's own precision (``metadata["dps"]``); ``inf`` from
        the step a row diverged on (as :func:`exact_risk`)."""
        with np.errstate(invalid="ignore", over="ignore"), \
                mpmath.workdps(self.metadata.get("dps", mpmath.mp.dps)):
            risk = (self.state * self.weights[None]).sum(axis=2)
        if risk.dtype.kind == "f":
            # a diverged row (a moment overflowed: ±inf, where a zero weight gives NaN) has
            # an infinite risk, as exact_risk reports it — never NaN
            risk[~np.isfinite(self.state).all(axis=2)] = np.inf
        return risk

    @property
    def risk(self) -> np.ndarray:
        """``E R_k`` summed over rows, shape (steps+1,)."""
        return self.row_risk.sum(axis=1)

    def columns(self) -> dict[str, np.ndarray]:
        """Long form: one line per (step, row) with every moment, the row's risk and the
        per-row parameters."""
        steps, rows = self.steps + 1, self.rows
        out = {"step": np.repeat(np.arange(steps), rows), "row": np.tile(np.arange(rows), steps)}
        out.update({key: np.tile(np.asarray(v), steps) for key, v in self.row_parameters.items()})
        out.update({name: self.state[:, :, i].ravel() for i, name in enumerate(self.names)})
        out["risk"] = self.row_risk.ravel()
        return out


def exact_state(model, optimizer, steps: int, backend: str = "numpy", dps: int = 50,
                time: str = "steps", initial_state: dict | None = None,
                iterate: str = "e", max_hours: float = MAX_HOURS) -> MomentTrajectory:
    r"""Every moment of every row for $k = 0, \dots, \text{steps}$: $X_{k+1} = A X_k + c$ kept at
    every step, so that ``trajectory.risk`` equals :func:`~sparsemom.numerics.kernels.exact_risk.exact_risk`
    of the same backend.

    Memory: ``(steps + 1) · rows · n`` values, refused up front when it would exceed half the
    free memory.  Overflow (unstable parameters) stores ``inf`` from that step on, with a
    :class:`~sparsemom.numerics.kernels.exact_risk.DivergenceWarning`.

    Parameters
    ----------
    model : Model
        The data law with numbers.
    optimizer : Optimizer
        The update rule with its hyper-parameters and schedules.
    steps : int
        The last step $k$.
    backend : str
        ``"numpy"`` (float64, the generated NumPy code), ``"mpmath"`` (``dps`` digits) or
        ``"exact"`` (rationals).
    dps : int
        Digits of the mpmath backend.
    time : str
        ``"steps"`` or ``"active"``.
    initial_state : dict or None
        Second moments of the buffers at step 0, by name.
    iterate : str
        The state vector whose risk :attr:`MomentTrajectory.risk` reports (``"e"``, ``"ebar"``).
    max_hours : float
        The longest estimated run accepted for the exact and mpmath backends.

    Returns
    -------
    MomentTrajectory
        ``state[k, row, i]`` with its names, risk weights and parameters.
    """
    steps = check_integer("steps", steps, minimum=0)
    if backend not in STATE_BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, STATE_BACKENDS))} "
                         f"(the C kernel keeps only the risk); got {backend!r}")
    dps = check_integer("dps", dps, minimum=1)
    max_hours = check_max_hours(max_hours)
    rec, values, rows, run = recursion_problem(model, optimizer, steps, time, initial_state,
                                               iterate)
    check_curve_memory(steps, backend, values_per_step=rows * len(rec.state))
    check_run_time(backend, rows, steps, len(rec.state), max_hours,
                   input_bits(values.values()) if backend == "exact" else 1)
    record: dict = {}
    if rec.coupled and backend == "mpmath":
        _, diverged = coupled.risk_mpmath(rec, values, rows, steps, dps, record=record, **run)
    elif rec.coupled:
        iterate = coupled.risk_numpy if backend == "numpy" else coupled.risk_exact
        _, diverged = iterate(rec, values, rows, steps, record=record, **run)
    elif backend == "numpy":
        _, diverged = backends.risk_numpy(rec, values, rows, steps, record=record, **run)
    elif backend == "mpmath":
        _, diverged = backends.risk_mpmath(rec, values, rows, steps, dps, record=record, **run)
    else:
        _, diverged = backends.risk_exact(rec, values, rows, steps, record=record, **run)
    if diverged >= 0:
        warnings.warn(f"the second moments overflowed float64 at step {diverged}: the "
                      "parameters are outside the stability region", DivergenceWarning,
                      stacklevel=2)
    metadata = {**problem_metadata(model, optimizer), "time": time, "iterate": iterate,
                "backend": backend, "steps": steps}
    if backend == "mpmath":
        metadata["dps"] = dps
    return MomentTrajectory(record["state"], tuple(s.name for s in rec.state),
                            record["weights"], per_row_columns(model, optimizer), metadata)
