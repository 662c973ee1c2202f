"""Numeric high-dimensional limits and the finite-``d`` curves that approach them.

* :func:`limit_curve` solves the derived limit ``dX̃/dt = L X̃ + f`` with
  ``scipy.integrate.solve_ivp`` (or iterates the limiting map when the time
  exponent is 0) and returns ``R̃(t) = lim E R_k / R_0`` at ``k = t·d^τ`` active
  updates.  Every limit of the active-iterate recursion is a finite linear system
  (idle stretches are integrated out exactly), so no renewal equation arises.
* :func:`finite_d_curve` evaluates the exact recursion at ``d`` with
  ``p = p*·d^(−κ)``, ``B = round(B*·d^σ)``, ``1 − β = ε*·d^(−γ)``, ``η = η*·d^θ``
  at the same rescaled times (binary powering, :func:`sparsemom.numerics.kernels.exact_risk.exact_risk_at`).
* :func:`convergence` measures ``err(d) = max_t |finite − limit|`` over
  ``d = 10²…10⁶`` and fits ``err ∝ d^(−rate)``; for an unstable point it measures
  the growth rate ``log(E R_k/R_0)/t`` against the predicted ``a``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy.integrate import solve_ivp

from sparsemom.derivations import symbols as S
from sparsemom.derivations.definitions.optimizers import update_rule
from sparsemom.derivations.limits.asymptotics import eps
from sparsemom.derivations.limits.families import Family
from sparsemom.derivations.limits.scaling_limits import ScalingLimit
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.kernels.exact_risk import exact_risk_at, exact_state_at
from sparsemom.numerics.results.labelled import Labelled, plain
from sparsemom.numerics.version import __version__

DIMENSIONS = (10**2, 10**3, 10**4, 10**5, 10**6)


def _matrix(limit: ScalingLimit):
    L = np.array(limit.matrix.evalf(30).tolist(), dtype=float)
    f = np.array(limit.forcing.evalf(30).tolist(), dtype=float).ravel()
    x0 = np.array([float(x) for x in limit.initial])
    return L, f, x0


@dataclass(frozen=True, repr=False)   # Labelled's one-line repr
class LimitCurve(Labelled):
    """Every balanced component of the limit, ``components[j, i] = X̃_i(times[j])``
    (``names[i]`` as the limit's state; ``R̃ = X̃_0``), at rescaled times ``t`` with
    ``k = t·d^τ`` active updates; ``metadata`` names the point, its region and ``τ``."""

    times: np.ndarray
    components: np.ndarray
    names: tuple[str, ...]
    metadata: dict

    def component(self, name: str) -> np.ndarray:
        if name not in self.names:
            raise ValueError(f"name must be one of the limit's components {self.names}; "
                             f"got {name!r}")
        return self.components[:, self.names.index(name)]

    def columns(self) -> dict[str, np.ndarray]:
        return {"t": self.times, **{n: self.components[:, i] for i, n in enumerate(self.names)}}


def limit_components(limit: ScalingLimit, times) -> LimitCurve:
    """``X̃(t)`` of the limit at ``times`` (integers when the limit is a map): the ODE
    ``dX̃/dt = L X̃ + f`` solved by ``solve_ivp`` (DOP853, rtol 1e-11), or the map iterated."""
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or np.any(~np.isfinite(times)) or np.any(times < 0):
        raise ValueError("times must be a 1-D array of finite values >= 0")
    L, f, x0 = _matrix(limit)
    out = np.empty((len(times), len(x0)))
    if limit.discrete:
        steps = np.rint(times).astype(int)
        X, k, I = x0.copy(), 0, np.eye(len(x0))
        for i in np.argsort(steps):
            while k < steps[i]:
                X, k = (I + L) @ X + f, k + 1
            out[i] = X
    elif len(times):
        order = np.argsort(times)
        sol = solve_ivp(lambda _, X: L @ X + f, (0.0, float(times.max()) or 1.0), x0,
                        t_eval=times[order], method="DOP853", rtol=1e-11, atol=1e-14)
        if not sol.success:
            raise ArithmeticError(f"limit ODE solver failed: {sol.message}")
        out[order] = sol.y.T
    point = {f.name: plain(getattr(limit.point, f.name)) for f in fields(limit.point)}
    metadata = {"model": limit.model, "optimizer": limit.optimizer, **point,
                "phase": limit.phase, "family": str(limit.family),
                "time_exponent": str(limit.time_exponent), "lr_rule": limit.lr_rule,
                "sparsemom": __version__}
    return LimitCurve(times, out, tuple(limit.state), metadata)


def limit_curve(limit: ScalingLimit, times) -> np.ndarray:
    """``R̃(t)`` of the limit at ``times`` (integers when the limit is a map)."""
    return limit_components(limit, times).components[:, 0]


def ansatz_at_dimension(point, d: int) -> dict:
    """The derived ansatz of an :class:`~sparsemom.derivations.limits.asymptotics.ExponentPoint` at ``d``
    as numbers: ``p``, ``lr``, ``beta = 1 − ε``, ``sigma2`` (floats) and ``batch`` rounded
    to a whole number of samples (at least 1)."""
    v = {atom: float(x) for atom, x in point.at_dimension(d).items()}
    return {"p": v[S.p], "lr": v[S.lr], "beta": 1.0 - v[eps], "sigma2": v[S.sigma2],
            "batch": max(1, int(round(v[S.batch])))}


def finite_d_problem(limit: ScalingLimit, d: int):
    """``(model, optimizer)`` at dimension ``d`` on the ansatz of ``limit.point``."""
    v = ansatz_at_dimension(limit.point, d)
    model = SparseLeastSquares(d=d, p=v["p"], R0=1.0, sigma2=v["sigma2"])
    momentum = update_rule(limit.optimizer).has_momentum
    return model, Optimizer(limit.optimizer, lr=v["lr"], beta=v["beta"] if momentum else 0.0,
                            batch=v["batch"])


def in_limit_units(limit: ScalingLimit, d: int, risk, initial):
    """``E R_k`` in the limit's units: ``risk / initial / d^{state exponent of R}``
    (``initial = E R_0``; the limit starts from ``R̃(0) = 1``)."""
    return risk / initial / d ** float(limit.state_exponents[0])


def finite_d_components(limit: ScalingLimit, d: int, times, dps: int = 40) -> LimitCurve:
    """Every balanced component of the exact recursion at dimension ``d``, at
    ``k = round(t·d^τ)`` active updates, in the limit's units:
    ``X_i / R_0 / d^{state exponent i}`` for the limit's components ``X_i``."""
    model, optimizer = finite_d_problem(limit, d)
    times = np.asarray(times, dtype=float)
    scale = d ** float(limit.time_exponent)
    ks = [int(round(t * scale)) for t in times]
    states, _ = exact_state_at(model, optimizer, ks, time="active", dps=dps)
    m = len(limit.state)
    units = np.array([float(d) ** float(a) for a in limit.state_exponents[:m]])
    R0 = float(np.asarray(model.R0).ravel()[0])
    values = np.array([[float(x) for x in per_row[0][:m]] for per_row in states]) / R0 / units
    return LimitCurve(times, values, tuple(limit.state),
                      {**limit_components(limit, []).metadata, "d": d})


def finite_d_curve(limit: ScalingLimit, d: int, times, dps: int = 40) -> np.ndarray:
    """``E R_k / E R_0`` at ``k = round(t·d^τ)`` active updates, exactly at ``d``.

    Returned in the limit's units: divided by ``d^{state exponent of R}``."""
    model, optimizer = finite_d_problem(limit, d)
    scale = d ** float(limit.time_exponent)
    ks = [int(round(t * scale)) for t in np.asarray(times, dtype=float)]
    risk = exact_risk_at(model, optimizer, [0, *ks], time="active", dps=dps)
    return in_limit_units(limit, d, np.array([float(r / risk[0]) for r in risk[1:]]), 1.0)


@dataclass(frozen=True)
class Convergence:
    """``errors[i] = max_t |finite_d(t) − limit(t)|`` at ``dimensions[i]``, fitted
    ``errors ∝ d^(−rate)`` (least squares in log–log); for an unstable point the
    errors are ``max_t |log finite_d(t) − log limit(t)|``."""

    dimensions: tuple[int, ...]
    errors: tuple[float, ...]
    rate: float
    observed_family: str


def rescaled_times(limit: ScalingLimit, points: int = 40) -> np.ndarray:
    """A grid covering the decay (or growth) of the limit: up to ``t`` where
    ``R̃`` has fallen by ``e^{-6}`` under the slowest rate (at most 200)."""
    L, _, _ = _matrix(limit)
    rates = -np.linalg.eigvals(L).real
    slow = rates[rates > 1e-12].min() if np.any(rates > 1e-12) else 1.0
    horizon = min(6.0 / slow, 200.0) if limit.family != Family.UNSTABLE else 3.0 / max(abs(rates).max(), 1e-12)
    if limit.discrete:
        return np.unique(np.rint(np.linspace(0, max(horizon, points), points + 1)[1:]))
    return np.linspace(0.0, horizon, points + 1)[1:]


def convergence(limit: ScalingLimit, dimensions=DIMENSIONS, points: int = 40,
                dps: int = 40) -> Convergence:
    """Finite-``d`` exact curves against the limit (see the module docstring)."""
    times = rescaled_times(limit, points)
    target = limit_curve(limit, times)
    curves = [finite_d_curve(limit, d, times, dps) for d in dimensions]
    if limit.family == Family.UNSTABLE:
        # growth: compare on a log scale (the curves span decades)
        errors = [float(np.max(np.abs(np.log(c) - np.log(target)))) for c in curves]
        observed = "unstable" if curves[-1][-1] > 1 else "stable"
    else:
        errors = [float(np.max(np.abs(c - target))) for c in curves]
        observed = limit.family
    errs = np.maximum(np.array(errors), 1e-300)
    slope = np.polyfit(np.log(np.array(dimensions, dtype=float)), np.log(errs), 1)[0]
    return Convergence(tuple(dimensions), tuple(float(e) for e in errors), float(-slope), observed)
