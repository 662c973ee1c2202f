"""Optimal learning rate and last-iterate risk over exponent space ``(κ, γ)``.

At batch exponent ``σ`` and dimension ``d``, each grid point has ``p = d^{−κ}``,
``B = round(d^σ)`` (one batch size for the whole map) and ``1 − β = d^{−γ}``.  Its
learning rate ``η*`` minimises the exact finite-``d`` risk ``E R_k / E R_0`` at the
horizon set by the rule (:func:`~sparsemom.numerics.analysis.optimal_lr.optimal_learning_rates`):

* ``active``: ``k = T`` active iterates;
* ``dynamical``: ``k = T·d^τ`` active iterates, ``τ`` the time exponent of the point's
  ``d → ∞`` limit (one horizon in the limit's own time);
* ``samples``: a budget of ``T·d`` samples, i.e. ``⌈T·d / B⌉`` steps (every step counted).

The derived regions (:func:`~sparsemom.numerics.analysis.phase_map.phase_map`) give every point
its phase and, affine per region, ``τ`` and the exponent ``θ = −α`` of the largest stable
rate (:func:`~sparsemom.numerics.analysis.region_exponents.region_exponents`):
``η*·d^α`` is then ``O(1)`` inside each region when the predicted exponent is right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from sparsemom.derivations.limits.asymptotics import ExponentPoint
from sparsemom.numerics.analysis.optimal_lr import optimal_learning_rates
from sparsemom.numerics.analysis.phase_map import PhaseMap, phase_map
from sparsemom.numerics.analysis.region_exponents import region_exponents
from sparsemom.numerics.analysis.scaling_limit import ansatz_at_dimension
from sparsemom.numerics.inputs.models import MAX_DIMENSION
from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.results.labelled import Labelled
from sparsemom.numerics.runtime.atomic import write_text_atomic
from sparsemom.numerics.runtime.figure_files import write_figure
from sparsemom.numerics.runtime.plotting import axes_or_new, new_figure
from sparsemom.numerics.studies.sweep_figure import draw_region_boundaries
from sparsemom.numerics.version import __version__

HORIZON_RULES = ("active", "dynamical", "samples")


#: Grid points per axis: ``grid²`` phases, each classified symbolically.
MAX_GRID = 201

#: ``d^-κ`` must stay above ``2^-RESOLVED_BITS``: ``p`` a number the float64 recursion
#: resolves.
RESOLVED_BITS = 52
#: ``d^-γ`` must stay above ``2^-BETA_BITS``: ``β = 1 − d^-γ`` is a float64 near 1 (an
#: absolute rounding of up to ``2^-54``), so ``1 − β`` keeps a relative error ≤ ``2^-21``
#: (5e-7) at the box's edge; near ``2^-52`` it was off by 12 % (d = 1000, γ = 5.2).
BETA_BITS = 33

#: The horizon ``k`` of a grid point must stay ≤ ``2^HORIZON_BITS`` (an integer float64
#: holds exactly; binary powering takes ``log2 k`` squarings).
HORIZON_BITS = 53


@dataclass(frozen=True)
class HeatmapSetup:
    """The grid (``grid × grid`` cell centres of the box ``kappa × gamma``), ``σ``, ``d``,
    the optimizer, the horizon rule and its multiplier ``T``, and the scanned rates."""

    optimizer: str = "heavy-ball"
    sigma: Fraction = Fraction(1, 2)
    d: int = 1000
    grid: int = 21
    kappa: tuple[float, float] = (0.0, 2.0)
    gamma: tuple[float, float] = (0.0, 2.0)
    rule: str = "dynamical"
    horizon: float = 4.0
    sigma2: float = 0.0
    lr_range: tuple[float, float] = (1e-13, 1e4)

    def __post_init__(self):
        object.__setattr__(self, "sigma", Fraction(self.sigma).limit_denominator(10**6))
        check_integer("d", self.d, minimum=2, maximum=MAX_DIMENSION)
        check_integer("grid", self.grid, minimum=2, maximum=MAX_GRID)
        if self.rule not in HORIZON_RULES:
            raise ValueError(f"rule must be one of {', '.join(map(repr, HORIZON_RULES))}; "
                             f"got {self.rule!r}")
        if not (math.isfinite(self.horizon) and self.horizon > 0):
            raise ValueError(f"horizon must be a finite number > 0; got {self.horizon!r}")
        if self.sigma < 0:
            raise ValueError(f"sigma must be >= 0 (B = d^sigma ≥ 1); got {self.sigma}")
        for name in ("kappa", "gamma"):
            lo, hi = getattr(self, name)
            if not (0 <= lo < hi and math.isfinite(hi)):
                raise ValueError(f"{name} must be a range (low, high) with 0 <= low < high; "
                                 f"got {getattr(self, name)!r}")
        if self.sigma2 < 0:
            raise ValueError(f"sigma2 must be >= 0; got {self.sigma2}")
        bits, batch_bits = math.log2(self.d), math.log2(MAX_DIMENSION)
        if self.sigma * bits > batch_bits:
            raise ValueError(f"sigma must be ≤ {batch_bits / bits:.4g} at d = {self.d} "
                             f"(B = d^sigma ≤ 2^{batch_bits:g}, an integer float64 holds); "
                             f"got {self.sigma}")
        for name, limit, why in (("kappa", RESOLVED_BITS, "p = d^-kappa resolved in float64"),
                                 ("gamma", BETA_BITS, "1 − beta = d^-gamma to 5e-7 relative "
                                                      "from the float64 beta")):
            if getattr(self, name)[1] * bits > limit:
                raise ValueError(f"{name} must end at ≤ {limit / bits:.4g} at d = {self.d} "
                                 f"(d^-{name} ≥ 2^-{limit}: {why}); got {getattr(self, name)!r}")
        longest = self.longest_horizon_bits()
        if longest > HORIZON_BITS:
            raise ValueError(f"horizon must keep the horizon in steps ≤ 2^{HORIZON_BITS}; "
                             f"T = {self.horizon:g} under rule {self.rule!r} at d = {self.d} "
                             f"gives up to 2^{longest:.1f}")

    def longest_horizon_bits(self) -> float:
        """``log2`` of the largest horizon ``k`` of the grid: ``T`` (active), ``T·d^τ`` with
        ``τ ≤ max(1, κ, γ)`` (dynamical; the time exponent of every limit of the box) or
        ``T·d/B`` (samples)."""
        bits = math.log2(self.d)
        if self.rule == "active":
            return math.log2(self.horizon)
        if self.rule == "dynamical":
            return math.log2(self.horizon) + max(1, self.kappa[1], self.gamma[1]) * bits
        return math.log2(self.horizon) + bits - float(self.sigma) * bits + 1

    def ansatz(self, kappa, gamma) -> dict:
        """``p``, ``beta``, ``batch``, ``sigma2`` at ``(κ, γ)``: the derived ansatz
        (:meth:`~sparsemom.derivations.limits.asymptotics.ExponentPoint.at_dimension`, prefactors 1 but
        ``s²``) at ``d``."""
        point = ExponentPoint(Fraction(kappa).limit_denominator(10**6), self.sigma,
                              Fraction(gamma).limit_denominator(10**6), 0,
                              sigma2_star=self.sigma2)
        return ansatz_at_dimension(point, self.d)

    @property
    def batch(self) -> int:
        """``B`` of the whole map (it depends on ``σ`` only)."""
        return self.ansatz(0, 0)["batch"]

    def axis(self, name: str) -> list[Fraction]:
        """Cell centres of one axis, as exact fractions (no point on a grid boundary)."""
        lo, hi = getattr(self, name)
        step = (hi - lo) / self.grid
        return [Fraction(lo + (i + 0.5) * step).limit_denominator(10**6)
                for i in range(self.grid)]


@dataclass(frozen=True, repr=False)   # Labelled's one-line repr
class HeatmapResult(Labelled):
    """Per grid point ``[i, j]`` (``γ_i``, ``κ_j``): the phase index into ``phases``,
    ``τ``, ``α``, the horizon ``k`` (active iterates, or steps for ``samples``), ``η*``,
    ``η*·d^α``, ``E R_k/E R_0`` at ``η*`` and whether ``η*`` is at the end of the scan."""

    setup: HeatmapSetup
    phases: PhaseMap
    tau: np.ndarray
    alpha: np.ndarray
    horizon: np.ndarray
    lr: np.ndarray
    risk: np.ndarray
    at_edge: np.ndarray
    metadata: dict = field(default_factory=dict)

    @property
    def lr_scaled(self) -> np.ndarray:
        return self.lr * float(self.setup.d) ** self.alpha

    def columns(self) -> dict[str, np.ndarray]:
        K, G = np.meshgrid(self.phases.kappas, self.phases.gammas)
        names = np.array(self.phases.phases, dtype=object)[self.phases.labels]
        return {"kappa": K.ravel(), "gamma": G.ravel(), "phase": names.ravel(),
                "tau": self.tau.ravel(), "alpha": self.alpha.ravel(),
                "horizon": self.horizon.ravel(), "lr_opt": self.lr.ravel(),
                "lr_scaled": self.lr_scaled.ravel(), "risk": self.risk.ravel(),
                "at_edge": self.at_edge.ravel()}


def horizons(setup: HeatmapSetup, tau: np.ndarray) -> np.ndarray:
    """The horizon ``k`` of every grid point under ``setup.rule`` (at least 1)."""
    if setup.rule == "active":
        k = np.full(tau.shape, setup.horizon)
    elif setup.rule == "dynamical":
        k = setup.horizon * float(setup.d) ** tau
    else:
        k = np.full(tau.shape, setup.horizon * setup.d / setup.batch)
    k = np.maximum(1, np.ceil(k - 1e-9))
    if np.max(k) > 2.0**HORIZON_BITS:
        raise ValueError(f"horizon must keep the horizon in steps ≤ 2^{HORIZON_BITS}; T = "
                         f"{setup.horizon:g} under rule {setup.rule!r} gives {np.max(k):.3g}")
    return k.astype(np.int64)


def run_heatmap(setup: HeatmapSetup) -> HeatmapResult:
    """Phases, exponents and the optimal learning rate at every grid point."""
    pm = phase_map("lsq", setup.optimizer, setup.sigma, setup.axis("kappa"), setup.axis("gamma"))
    exponents = region_exponents(pm, "lsq", setup.optimizer)
    k = horizons(setup, exponents["tau"])
    K, G = np.meshgrid(pm.kappas, pm.gammas)
    points = [setup.ansatz(kappa, gamma) for kappa, gamma in zip(K.ravel(), G.ravel())]
    best = optimal_learning_rates(
        setup.optimizer, setup.d, [v["p"] for v in points], [v["beta"] for v in points],
        setup.batch, k.ravel(), time="steps" if setup.rule == "samples" else "active",
        sigma2=points[0]["sigma2"], lr_range=setup.lr_range)
    shape = pm.labels.shape
    metadata = {"optimizer": setup.optimizer, "sigma": setup.sigma, "d": setup.d,
                "batch": setup.batch, "rule": setup.rule, "T": setup.horizon,
                "sigma2": setup.sigma2, "p": "d^-kappa", "beta": "1 - d^-gamma",
                "sparsemom": __version__}
    return HeatmapResult(setup, pm, exponents["tau"], -exponents["theta"], k,
                         best.lr.reshape(shape), best.risk.reshape(shape),
                         best.at_edge.reshape(shape), metadata)


def plot_heatmap(result: HeatmapResult, values: np.ndarray, *, ax=None, label: str = "",
                 cmap: str = "viridis"):
    """``values`` over the ``(κ, γ)`` grid of ``result`` with the derived region
    boundaries on top (white) and, red crosses, the points whose optimal ``η*`` lies at
    the end of the scanned range.

    Parameters
    ----------
    result : HeatmapResult
        The study (:func:`run_heatmap`).
    values : numpy.ndarray
        One value per grid point, ``(len(γ), len(κ))``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when ``None``.
    label : str
        The panel's title and its colour bar's label.
    cmap : str
        A Matplotlib colormap name.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into; the colour bar is an inset of it.
    """
    ax = axes_or_new(ax)
    mesh = ax.pcolormesh(result.phases.kappas, result.phases.gammas, values, cmap=cmap,
                         shading="nearest", rasterized=True)
    # the colour bar lives inside ``ax`` (an inset): no Axes is added to the caller's figure
    ax.figure.colorbar(mesh, cax=ax.inset_axes([1.02, 0.0, 0.04, 1.0]), label=label)
    draw_region_boundaries(ax, result.phases, "white", lw=1.4)
    edge = np.argwhere(result.at_edge)
    if len(edge):
        ax.plot(result.phases.kappas[edge[:, 1]], result.phases.gammas[edge[:, 0]], "x",
                color="red", ms=4, label=r"$\eta^*$ at the end of the scanned range")
        ax.legend(fontsize=7, loc="upper left")
    ax.set_xlabel(r"sparsity exponent $\kappa$  ($p = d^{-\kappa}$)")
    ax.set_ylabel(r"momentum-decay exponent $\gamma$  ($1-\beta = d^{-\gamma}$)")
    ax.set_title(label, fontsize=10)
    return ax


def heatmap_figure(result: HeatmapResult, out: Path) -> list[Path]:
    """Three panels — ``log10 η*``, ``log10 η*·d^α`` and ``log10 E R_k/E R_0`` — written
    as PNG, PDF and the table of every point (``heatmap.csv``, also as the figure's
    ``heatmap.data.csv``)."""
    s = result.setup
    fig = new_figure((20, 5.6))
    axes = fig.subplots(1, 3, gridspec_kw={"wspace": 0.45})
    plot_heatmap(result, np.log10(result.lr), ax=axes[0], label=r"$\log_{10}\eta^*$",
                 cmap="viridis")
    plot_heatmap(result, np.log10(result.lr_scaled), ax=axes[1],
                 label=r"$\log_{10}(\eta^* d^{\alpha})$, $\alpha$ of the largest stable rate",
                 cmap="plasma")
    plot_heatmap(result, np.log10(result.risk), ax=axes[2],
                 label=r"$\log_{10}\, E R_k / E R_0$ at $\eta^*$", cmap="magma")
    horizon = {"active": f"$k$ = {s.horizon:g} active iterates",
               "dynamical": rf"$k = {s.horizon:g}\,d^{{\tau}}$ active iterates",
               "samples": rf"${s.horizon:g}\,d$ samples"}[s.rule]
    fig.suptitle(rf"{s.optimizer}: optimal learning rate at $d$ = {s.d}, $\sigma$ = {s.sigma} "
                 f"($B$ = {s.batch}), horizon {horizon}; exact finite-$d$ recursion, "
                 "derived region boundaries in white")
    fig.subplots_adjust(left=0.05, right=0.95, bottom=0.11, top=0.88)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = out / "heatmap.csv"
    frame = result.to_dataframe()
    write_text_atomic(table, frame.to_csv(index=False))
    return [table, *write_figure(fig, out, "heatmap", dpi=120, table=frame)]
