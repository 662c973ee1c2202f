"""The critical batch line ``κ = σ``: decay rate against the limiting activity ``P*``.

On ``κ = σ`` a batch holds a row's token with probability ``p_B → P* = 1 − e^{−p*B*}``
(neither ``p_B → 0`` nor ``→ 1``), so the limit depends on the prefactor ``p*``.  Per
``p*`` (at ``B* = 1``) and per momentum exponent ``γ``: the limit's decay rate
``−max Re λ(L)`` per unit of rescaled time, against the exact finite-``d`` rate
``−d^τ log ρ(A_d)`` (``ρ`` the spectral radius of the derived active-iterate transition
at ``d``, 40 digits; ``k = t·d^τ`` active updates), which approaches it as ``d`` grows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import numpy as np

from sparsemom.derivations.limits.asymptotics import ExponentPoint
from sparsemom.derivations.limits.asymptotics import P as ACTIVITY
from sparsemom.derivations.limits.scaling_limits import scaling_limit
from sparsemom.numerics.analysis.scaling_limit import finite_d_problem
from sparsemom.numerics.analysis.stability import spectral_radius
from sparsemom.numerics.results.labelled import Labelled
from sparsemom.numerics.runtime.plotting import axes_or_new
from sparsemom.numerics.verify.checks import CheckResult
from sparsemom.numerics.version import __version__

#: (label, γ) on the line κ = σ = 1: one SGD-like and one heavy-ball family.
GAMMAS = (("below resonance (γ = 1/2)", Fraction(1, 2)), ("above resonance (γ = 2)", Fraction(2)))


@dataclass(frozen=True, repr=False)   # Labelled's one-line repr
class CriticalLine(Labelled):
    """Per ``γ`` (rows) and ``p*`` (columns): ``P*``, the limit's decay rate and the exact
    rate at each ``d`` of ``dimensions`` (``finite[γ, d, p*]``); ``to_dataframe()``: one
    line per rate (``series`` ``"limit"`` on the fine grid, ``d = inf``, or ``"exact"``)."""

    labels: tuple[str, ...]
    p_stars: np.ndarray
    activity: np.ndarray            # P* = 1 − exp(−p* B*)
    limit: np.ndarray               # (γ, p*)
    finite: np.ndarray              # (γ, d, p*)
    fine_activity: np.ndarray       # P* of a fine grid of p* (the limit's line)
    fine_limit: np.ndarray          # (γ, fine p*)
    dimensions: tuple[int, ...]
    phases: tuple[str, ...]
    gammas: tuple[Fraction, ...] = tuple(gamma for _, gamma in GAMMAS)
    fine_p_stars: np.ndarray | None = None     # p* of the fine grid
    metadata: dict = field(default_factory=dict)

    def columns(self) -> dict[str, np.ndarray]:
        families, dims = len(self.labels), len(self.dimensions)
        fine, coarse = self.fine_activity.size, self.p_stars.size
        limit_rows, exact_rows = families * fine, families * dims * coarse
        family = np.concatenate([np.repeat(np.arange(families), fine),
                                 np.repeat(np.arange(families), dims * coarse)])
        d = np.concatenate([np.full(limit_rows, np.inf),
                            np.tile(np.repeat(np.array(self.dimensions, float), coarse),
                                    families)])
        return {
            "series": np.array(["limit"] * limit_rows + ["exact"] * exact_rows),
            "family": np.array(self.labels)[family],
            "gamma": np.array([float(g) for g in self.gammas])[family],
            "phase": np.array(self.phases)[family],
            "d": d,
            "p_star": np.concatenate([np.tile(self.fine_p_stars, families),
                                      np.tile(self.p_stars, families * dims)]),
            "P_star": np.concatenate([np.tile(self.fine_activity, families),
                                      np.tile(self.activity, families * dims)]),
            "decay_rate": np.concatenate([self.fine_limit.ravel(), self.finite.ravel()]),
        }


def limiting_activity(sigma, p_star) -> float:
    """``P*``: the derived limit of the batch activity ``p_B`` on ``κ = σ`` (the prefactor
    of the activity atom of the exponent point)."""
    point = ExponentPoint(sigma, sigma, Fraction(1), 0, p_star=p_star)
    return float(point.atoms()[ACTIVITY][0])


def critical_limit(gamma, p_star, sigma=Fraction(1)):
    """The heavy-ball limit at ``κ = σ``, ``γ``, ``p*`` (largest stable rate); its decay
    rate is ``−growth_rate`` (``−max Re λ(L)``)."""
    return scaling_limit("lsq", "heavy-ball", ExponentPoint(sigma, sigma, gamma, 0,
                                                            p_star=p_star))


def run_critical_line(p_stars=(0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0),
                      dimensions=(10**2, 10**3, 10**4), sigma=Fraction(1),
                      fine: int = 15) -> CriticalLine:
    """The sweep of the module docstring on ``κ = σ``, heavy ball, largest stable rate;
    the limit also on ``fine`` log-spaced ``p*`` spanning ``p_stars``."""
    p_stars = [Fraction(p).limit_denominator(10**6) for p in p_stars]
    grid = [Fraction(x).limit_denominator(10**6)
            for x in np.geomspace(float(min(p_stars)), float(max(p_stars)), fine)]
    fine_limit = np.array([[-critical_limit(gamma, p, sigma).growth_rate for p in grid]
                           for _, gamma in GAMMAS])
    rates = np.empty((len(GAMMAS), len(p_stars)))
    finite = np.empty((len(GAMMAS), len(dimensions), len(p_stars)))
    phases = []
    for i, (_, gamma) in enumerate(GAMMAS):
        for j, p_star in enumerate(p_stars):
            limit = critical_limit(gamma, p_star, sigma)
            rates[i, j] = -limit.growth_rate
            for k, d in enumerate(dimensions):
                model, optimizer = finite_d_problem(limit, d)
                with mpmath.workdps(40):
                    radius = spectral_radius(model, optimizer, time="active", dps=40)
                    radius = radius[0] if np.ndim(radius) else radius
                    finite[i, k, j] = float(-mpmath.log(radius)
                                            * mpmath.mpf(d) ** float(limit.time_exponent))
        phases.append(limit.phase)
    activity = np.array([limiting_activity(sigma, p) for p in p_stars])
    fine_activity = np.array([limiting_activity(sigma, p) for p in grid])
    return CriticalLine(labels=tuple(label for label, _ in GAMMAS),
                        p_stars=np.array(p_stars, dtype=float), activity=activity, limit=rates,
                        finite=finite, fine_activity=fine_activity, fine_limit=fine_limit,
                        dimensions=tuple(dimensions), phases=tuple(phases),
                        fine_p_stars=np.array(grid, dtype=float),
                        metadata={"model": "lsq", "optimizer": "heavy-ball", "sigma": sigma,
                                  "kappa": sigma, "B_star": 1,
                                  "lr_rule": "largest-stable", "sparsemom": __version__})


def checks(result: CriticalLine) -> list[CheckResult]:
    """Per ``γ``: the exact finite-``d`` rates approach the limit's as ``d`` grows."""
    out = []
    for i, label in enumerate(result.labels):
        errors = np.abs(result.finite[i] - result.limit[i][None, :]).max(axis=1)
        out.append(CheckResult(
            "scaling limit", f"critical line κ = σ, {label}",
            bool(np.all(np.diff(errors) < 0)),
            "max over p* of |exact − limit| decay rate: "
            + ", ".join(f"{e:.2e}" for e in errors)
            + f" at d = {', '.join(map(str, result.dimensions))}"))
    return out


def plot_critical_line(result: CriticalLine, *, ax=None):
    """Decay rate against ``P*``: the limit's (a line) and the exact finite-``d`` rates
    (markers, one shape per ``d``, darker for larger ``d``), one colour per ``γ``; the
    legend below the panel.

    Parameters
    ----------
    result : CriticalLine
        The sweep (:func:`run_critical_line`).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.
    """
    ax = axes_or_new(ax)
    for i, label in enumerate(result.labels):
        colour = f"C{i}"
        ax.plot(result.fine_activity, result.fine_limit[i], "-", color=colour, lw=2,
                label=rf"{label}: $d \to \infty$ limit")
        for k, d in enumerate(result.dimensions):
            ax.plot(result.activity, result.finite[i, k], "os^dv"[k % 5], color=colour,
                    ms=4, alpha=0.4 + 0.6 * (k + 1) / len(result.dimensions),
                    label=f"{label}: exact, $d$ = {d:,}")
    ax.set_xlabel(r"limiting activity $P^* = 1 - e^{-p^* B^*}$")
    ax.set_ylabel("decay rate per unit of rescaled time")
    ax.set_yscale("log")
    ax.set_title(r"heavy ball on the critical batch line $\kappa = \sigma = 1$", fontsize=10)
    ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    ax.grid(True, alpha=0.3)
    return ax
