"""Expected risk ``E R(θ_k)`` from the derived second-moment recursion.

Iterates ``X_{k+1} = A X_k + c`` row by row from ``X_0 = (R_0, 0, 0)`` and sums
``E R_k = Σ_rows w · X_k`` (``w · X = ½ p R`` for least squares).
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np

from sparsemom.derivations.engine.moments import R0
from sparsemom.derivations.engine.recursion import observing, recursion_for
from sparsemom.numerics.inputs.initial_state import initial_moments
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.kernels import backends, coupled, renewal
from sparsemom.numerics.kernels.characteristic_sums import default_threads
from sparsemom.numerics.kernels.compiler import CompileError
from sparsemom.numerics.kernels.run_cost import (
    MAX_HOURS,
    check_curve_memory,
    check_max_hours,
    check_run_time,
    input_bits,
)

BACKENDS = ("auto", "numpy", "c", "mpmath", "exact")


class DivergenceWarning(RuntimeWarning):
    """The expected risk overflowed float64: the parameters are unstable."""


class BackendFallbackWarning(RuntimeWarning):
    """``backend="auto"`` could not use the C compiler and fell back to NumPy."""


_C_UNAVAILABLE: str | None = None


def exact_risk(model, optimizer, steps: int, backend: str = "auto", dps: int = 50,
               threads: int | None = None, time: str = "steps",
               initial_state: dict | None = None, iterate: str = "e",
               max_hours: float = MAX_HOURS) -> np.ndarray:
    r"""$E R(\theta_k)$ for $k = 0, \dots, \text{steps}$: the derived recursion
    $X_{k+1} = A X_k + c$ of every row iterated from $X_0$, $E R_k = \sum_{\text{rows}} w^\top X_k$.

    Schedules of the optimizer are iterated exactly: step $k$ uses $X_{k+1} = A_k X_k + c_k$ with
    the scheduled values of step $k$ (time ``"steps"`` only: with active time each row has its
    own clock).  Coupled modes (model M3) iterate $X_{j,k+1} = A_j X_{j,k} + c_j + u_j S_k$,
    $S_k = \sum_i q_i^\top X_{i,k}$; with constant hyper-parameters and a stable row the C
    backend solves the renewal equation instead.

    Divergence: in float64 backends, when the risk overflows (unstable parameters) every entry
    from that step on is ``inf`` — never NaN — and a :class:`DivergenceWarning` names the
    first such step.  Cost, checked before any work (a ``ValueError`` with the estimate): the
    arrays over the steps (the curve, the schedules, the C kernel's buffer per thread) must fit
    in half the free memory, and the exact and mpmath backends must be estimated to finish
    within ``max_hours`` hours (:func:`sparsemom.numerics.kernels.run_cost.estimated_seconds`).

    Parameters
    ----------
    model : Model
        The data law with numbers (:class:`~sparsemom.numerics.inputs.models.Model`).
    optimizer : Optimizer
        The update rule with its hyper-parameters and schedules.
    steps : int
        The last step $k$.
    backend : str
        ``"c"`` (generated C kernel, compiled at run time), ``"numpy"`` (generated NumPy
        code), ``"auto"`` (C when a compiler works, else NumPy with a
        :class:`BackendFallbackWarning`), ``"mpmath"`` (``dps`` digits) or ``"exact"``
        (rational arithmetic).
    dps : int
        Digits of the mpmath backend.
    threads : int or None
        Threads of the C kernel (default: all cores for large token streams).
    time : str
        ``"steps"`` (every step) or ``"active"`` ($k$ = active steps taken; idle stretches
        integrated out exactly).
    initial_state : dict or None
        Second moments of the buffers at step 0 by name (``{"C": C0, "V": V0}``; default 0;
        :mod:`sparsemom.numerics.inputs.initial_state`).
    iterate : str
        The state vector whose risk is returned: ``"e"`` ($\theta_k$), or e.g. ``"ebar"`` for
        the averaged iterate of a rule made by
        :func:`sparsemom.derivations.definitions.averaging.averaged`.
    max_hours : float
        The longest estimated run accepted for the exact and mpmath backends (``math.inf``:
        no limit).

    Returns
    -------
    numpy.ndarray
        Shape ``(steps + 1,)``: float64, or an object array of ``mpf`` (mpmath) or
        ``Fraction`` (exact).
    """
    steps = check_integer("steps", steps, minimum=0)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}; got {backend!r}")
    dps = check_integer("dps", dps, minimum=1)
    if threads is not None:
        threads = check_integer("threads", threads, minimum=1)
    max_hours = check_max_hours(max_hours)
    schedules = len(getattr(optimizer, "schedules", {}))
    check_curve_memory(steps, backend, schedules=schedules)  # before the schedules are made
    rec, values, rows, run = recursion_problem(model, optimizer, steps, time, initial_state,
                                               iterate)
    check_curve_memory(steps, backend, schedules=schedules,
                       kernel_threads=threads or backends.default_threads(rows),
                       schedule_table=_schedule_table(rec) if schedules else 0)
    check_run_time(backend, rows, steps, len(rec.state), max_hours,
                   input_bits(values.values()) if backend == "exact" else 1)
    multipliers = run["multipliers"]

    if rec.coupled:
        risk, diverged = _coupled_risk(rec, values, rows, steps, backend, dps, threads, run)
        if diverged >= 0:
            warnings.warn(f"expected risk overflowed float64 at step {diverged}: the "
                          "parameters are outside the stability region", DivergenceWarning,
                          stacklevel=2)
        return risk
    if backend == "exact":
        return backends.risk_exact(rec, values, rows, steps, **run)[0]
    if backend == "mpmath":
        return backends.risk_mpmath(rec, values, rows, steps, dps, **run)[0]
    if backend == "auto" and multipliers and not _has_scheduled_kernel(rec):
        backend = "numpy"       # no scheduled C kernel for a non-polynomial rule
    if backend == "auto" and _C_UNAVAILABLE is None:
        try:
            risk, diverged = backends.risk_c(rec, values, rows, steps, threads, **run)
        except CompileError as exc:
            _mark_c_unavailable(exc)
            backend = "numpy"
    elif backend == "auto":
        backend = "numpy"
    if backend == "c":
        risk, diverged = backends.risk_c(rec, values, rows, steps, threads, **run)
    elif backend == "numpy":
        risk, diverged = backends.risk_numpy(rec, values, rows, steps, **run)
    if diverged >= 0:
        warnings.warn(f"expected risk overflowed float64 at step {diverged}: the parameters "
                      "are outside the stability region", DivergenceWarning, stacklevel=2)
    return risk


def _coupled_risk(rec, values, rows, steps, backend, dps, threads, run):
    """The risk of coupled modes (:mod:`sparsemom.numerics.kernels.coupled`) on ``backend``
    (``"auto"``: the C kernel when a compiler works, else NumPy)."""
    if backend == "exact":
        return coupled.risk_exact(rec, values, rows, steps, **run)
    if backend == "mpmath":
        return coupled.risk_mpmath(rec, values, rows, steps, dps, **run)
    if backend == "auto" and _C_UNAVAILABLE is None:
        try:
            return _coupled_c(rec, values, rows, steps, threads, run)
        except CompileError as exc:
            _mark_c_unavailable(exc)
    if backend == "c":
        return _coupled_c(rec, values, rows, steps, threads, run)
    return coupled.risk_numpy(rec, values, rows, steps, **run)


def _coupled_c(rec, values, rows, steps, threads, run):
    """Constant hyper-parameters, a row that converges and blocks that do not grow on their
    own (the renewal equation's runs stay bounded): the renewal equation
    (:mod:`~sparsemom.numerics.kernels.renewal`); else the direct C kernel, one fused pass
    per step (which also reports divergence)."""
    if run["multipliers"]:
        return coupled.risk_c(rec, values, rows, steps, threads, **run)
    a = coupled.float_coefficients(rec, values, rows)
    coupled.block_radius(a, default_threads(rows, steps + 1) if threads is None else threads)
    if coupled.converges(rec, values, rows, bounded_blocks=True, coefficients=a):
        return renewal.risk_renewal(rec, values, rows, steps, threads, run["initial"], a)
    return coupled.risk_c(rec, values, rows, steps, threads, **run)


def _has_scheduled_kernel(rec) -> bool:
    """``rec`` has a scheduled C kernel, read from the data of its generated module (shipped,
    or printed once per derivation at run time): no symbolic work on a call."""
    return _schedule_table(rec) > 0


def _schedule_table(rec) -> int:
    """Doubles per step of the scheduled C kernel's table (:func:`backends.schedule_monomials`:
    the monomials twice, for the product and its temporary, and the multipliers and
    complements); 0 without a scheduled kernel."""
    module = backends.generated_module(rec)
    if module.SCHEDULED_MONOMIALS is None:
        return 0
    return (2 * len(module.SCHEDULED_MONOMIALS) + len(module.SCHEDULED_HYPER_PARAMETERS)
            + len(module.SCHEDULED_COMPLEMENTS))


def recursion_problem(model, optimizer, steps: int, time: str, initial_state, iterate: str):
    """``(recursion, values, rows, run)`` of a validated problem: the derived recursion
    observing ``iterate`` under ``time``, the parameter values, the number of rows and the
    backends' keywords (schedule multipliers and initial moments)."""
    require_closed_moments(model)
    rows, values = parameter_values(model, optimizer, coupled=True)
    if optimizer.scheduled and time != "steps":
        raise ValueError(f"time must be 'steps' for a scheduled optimizer (a schedule counts "
                         f"every step; active iterates have a clock per row); got {time!r}")
    multipliers = optimizer.multipliers(steps)
    rec = observing(model.name, optimizer.name, time, iterate)
    initial = initial_moments(rec, initial_state, rows, values[R0])
    return rec, values, rows, dict(multipliers=multipliers, initial=initial)


def require_closed_moments(model) -> None:
    """``exact_risk`` iterates an exact second-moment recursion: a model whose
    statistics only close in the mean-field limit (the logistic rare class) has none."""
    if not getattr(getattr(model, "law", None), "closed_moments", False):
        raise ValueError(
            f"model must have exact second-moment dynamics (SparseLeastSquares); "
            f"{type(model).__name__} has a mean-field statistics map instead: use "
            "sparsemom.numerics.analysis.mean_field.mean_field(model, optimizer, steps) for its predicted "
            "trajectory and risks")


def _mark_c_unavailable(exc: Exception) -> None:
    global _C_UNAVAILABLE
    _C_UNAVAILABLE = str(exc).splitlines()[0]
    warnings.warn(f"C backend unavailable ({_C_UNAVAILABLE}); using the NumPy backend",
                  BackendFallbackWarning, stacklevel=3)


def exact_risk_at(model, optimizer, ks, time: str = "steps", dps: int = 40) -> list:
    """``E R_k`` (summed over rows) at the steps ``ks`` only, at ``dps`` digits.

    ``X_k = A^k X_0 + (I + A + … + A^{k−1}) c`` by binary powering of the
    augmented matrix ``[[A, c], [0, 1]]`` built from the generated mpmath
    coefficients: ``O(log k)`` products per requested step, so curves over
    ``10^12`` steps cost no more than over ``10^3``.  Overflow cannot happen in
    mpmath: unstable parameters give growing values.
    """
    states, weights = exact_state_at(model, optimizer, ks, time, dps)
    with mpmath.workdps(dps):
        return [mpmath.fsum(mpmath.fdot(w, x) for w, x in zip(weights, per_row))
                for per_row in states]


def exact_state_at(model, optimizer, ks, time: str = "steps", dps: int = 40):
    """``(states, weights)``: ``states[i][r]`` the moments ``X_{ks[i]}`` of row ``r`` (lists
    of ``mpf``, in the order of the recursion's state) and ``weights[r]`` the row's risk
    weights, by the binary powering of :func:`exact_risk_at`."""
    ks = [check_integer("ks", k, minimum=0) for k in ks]
    dps = check_integer("dps", dps, minimum=1)
    if getattr(model.law, "coupling", None) is not None:
        raise ValueError(f"the rows of {model.name!r} are the coupled modes of one row: their "
                         "risk at any horizon is sparsemom.coupled_risk_at (a contour integral "
                         "of the whole row's resolvent)")
    if optimizer.scheduled:
        raise ValueError("exact_risk_at powers one time-invariant map: the optimizer must have "
                         "no schedule (use exact_risk for scheduled optimizers)")
    rows, values = parameter_values(model, optimizer)
    rec = recursion_for(model, optimizer, time)
    n = len(rec.state)
    order = sorted(set(ks))
    found: dict[int, list] = {k: [] for k in order}
    weights = []
    with mpmath.workdps(dps):
        for A, c, w, X in backends.mpmath_rows(rec, values, rows):
            weights.append(w)
            aug = mpmath.matrix(n + 1, n + 1)
            for i in range(n):
                for j in range(n):
                    aug[i, j] = A[i * n + j]
                aug[i, n] = c[i]
            aug[n, n] = 1
            state, done = mpmath.matrix([*X, 1]), 0
            for k in order:
                state = aug ** (k - done) * state  # mpmath: binary powering
                done = k
                found[k].append([state[i] for i in range(n)])
    return [found[k] for k in ks], weights
