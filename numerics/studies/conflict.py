"""The spectral conflict: one momentum for every token frequency, or one per frequency.

A token stream — Zipf (``p_i ∝ i^(−s)``, up to 10⁶ rows, one token per sample) or the
word frequencies of a real language — trained
by SGD with momentum at a common learning rate.  Rows are independent and the risk
is the sum of the rows' risks, so everything below is exact — the derived
second-moment recursion evaluated per row, no sampling:

* **phases** of every row at a momentum (:mod:`sparsemom.numerics.analysis.row_phases`) and, per
  frequency, the momentum at which oscillation starts and the stability edge;
* the **best global momentum** ``β*``: minimises the total risk ``Σ_i E R_i(T)`` at
  the horizon ``T`` (log-grid scan in ``1 − β``, then Brent's method between the
  best point's neighbours);
* the **frequency-adapted momentum** ``β_i = f(p_i)``: because rows are independent,
  the best per-row momentum depends on ``p_i`` only; ``f`` is that optimum on a grid of
  frequencies (scan, then golden section), interpolated in ``(log p, log(1 − β))``,
  and then evaluated exactly on every row (per-row ``beta``);
* the **gap** ``Σ_i E R_i(T; β*) / Σ_i E R_i(T; f(p_i))`` and the risk split by
  frequency band (decades of rank) over time (the generated C kernel, per band).

``sparsemom conflict`` writes a table and a figure.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import minimize_scalar

from sparsemom.numerics.analysis.golden import golden_section
from sparsemom.numerics.analysis.row_phases import (
    FALLBACK_DPS,
    PHASES,
    UNSTABLE,
    momentum_thresholds,
    require_momentum,
    row_phases,
)
from sparsemom.numerics.analysis.stability import is_stable
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.inputs.validation import check_integer, check_per_row
from sparsemom.numerics.kernels.exact_risk import DivergenceWarning, exact_risk
from sparsemom.numerics.kernels.horizon_risk import row_risk_at
from sparsemom.numerics.runtime.progress import progress
from sparsemom.numerics.simulate.token_stream import (
    Band,
    check_stream,
    decade_bands,
    stream_frequencies,
)

#: Decades of frequency a Zipf stream may span (``rows^-exponent ≥ 10^-RAREST_DECADES``):
#: the row phases are certified in mpmath at ``FALLBACK_DPS`` (50) digits, where
#: ``p_B = 1 − (1 − p)^B`` of a rarer row is 0 (a division by zero at ``p < 1e-51``).
RAREST_DECADES = FALLBACK_DPS - 10


@dataclass(frozen=True)
class ConflictSetup:
    """A token stream of ``rows`` rows trained for ``horizon`` steps: ``stream`` is
    ``"zipf"`` (exponent ``exponent``) or ``"words-LANG"`` (a language's word frequencies,
    :func:`~sparsemom.numerics.simulate.token_stream.word_frequencies`)."""

    rows: int = 1_000_000
    exponent: float = 1.1
    d: int = 8
    batch: int = 64
    lr: float = 0.5
    sigma2: float = 0.25
    R0: float = 1.0
    horizon: int = 20_000
    optimizer: str = "heavy-ball"
    scan: int = 31                  # global β: points of the log-grid in 1 − β
    frequencies: int = 48           # grid of p for f(p)
    smallest_eps: float = 1e-3      # 1 − β scanned down to this
    stream: str = "zipf"

    def __post_init__(self):
        check_integer("rows", self.rows, minimum=1)
        check_per_row("exponent", self.exponent, lower=0)
        check_integer("d", self.d, minimum=1)
        check_integer("batch", self.batch, minimum=1)
        check_per_row("lr", self.lr, lower=0, lower_open=True)
        check_per_row("sigma2", self.sigma2, lower=0)
        check_per_row("R0", self.R0, lower=0)
        check_integer("horizon", self.horizon, minimum=1)
        check_integer("scan", self.scan, minimum=3)
        check_integer("frequencies", self.frequencies, minimum=2)
        check_per_row("smallest_eps", self.smallest_eps, lower=0, upper=1, lower_open=True, upper_open=True)
        check_stream(self.stream, self.rows)
        require_momentum(self.optimizer)
        if self.stream == "zipf" and self.exponent * math.log10(self.rows) > RAREST_DECADES:
            raise ValueError(f"exponent must be ≤ {RAREST_DECADES}/log10(rows) = "
                             f"{RAREST_DECADES / math.log10(self.rows):.4g} at {self.rows} rows "
                             f"(the rarest row's frequency rows^-exponent ≥ 1e-{RAREST_DECADES}, "
                             f"which the row phases resolve); got {self.exponent}")

    def frequencies_of_rows(self) -> np.ndarray:
        return stream_frequencies(self.stream, self.rows, self.exponent)

    def model(self, p: np.ndarray | None = None) -> SparseLeastSquares:
        p = self.frequencies_of_rows() if p is None else p
        return SparseLeastSquares(d=self.d, p=p, R0=self.R0, sigma2=self.sigma2)

    def optimizer_with(self, beta) -> Optimizer:
        return Optimizer(self.optimizer, lr=self.lr, beta=beta, batch=self.batch)


def check_some_momentum_stable(setup: ConflictSetup) -> None:
    """A ``ValueError`` naming ``lr`` unless the rarest row's step ``lr·p`` is at least
    ``10^-RAREST_DECADES`` (the row phases tell a smaller one from 0 no better than an
    unstable row: at 50 digits, ``lr·p`` of 1e-55 is classified unstable) and some
    momentum of the scan (``1 − β`` in ``[smallest_eps, 1]``) is stable on the most
    frequent row, the least stable one: otherwise every total risk overflows and the
    study has nothing to compare."""
    frequencies = setup.frequencies_of_rows()
    rarest = float(np.min(frequencies))
    if setup.lr * rarest < 10.0**-RAREST_DECADES:
        raise ValueError(f"lr must be ≥ 1e-{RAREST_DECADES}/p = {10.0**-RAREST_DECADES / rarest:.3g} "
                         f"for the rarest row (p = {rarest:.3g}), whose phase is resolved "
                         f"only above lr·p = 1e-{RAREST_DECADES}; got {setup.lr}")
    p = float(np.max(frequencies))
    eps = np.geomspace(1.0, setup.smallest_eps, setup.scan)
    with np.errstate(all="ignore"):
        stable = is_stable(setup.model(np.full(eps.size, p)), setup.optimizer_with(1.0 - eps))
    if not np.any(stable):
        raise ValueError(f"lr = {setup.lr} leaves every momentum with 1 − β in "
                         f"[{setup.smallest_eps}, 1] unstable on the most frequent row "
                         f"(p = {p:.3g}, d = {setup.d}, B = {setup.batch}): lower lr")


def _horizon_risk(setup: ConflictSetup, model, beta) -> np.ndarray:
    """Per-row ``E R(T)``; unstable rows (overflow) are ``inf`` — a risk of ``inf``
    loses every comparison, so no warning is needed inside a search."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        return row_risk_at(model, setup.optimizer_with(beta), setup.horizon)


@dataclass(frozen=True)
class GlobalMomentum:
    """The scan of the total risk at ``T`` over a common ``β`` and its minimiser."""

    eps_scan: np.ndarray            # 1 − β of the scan
    risk_scan: np.ndarray           # Σ_i E R_i(T) (inf: some row overflowed float64)
    beta: float
    risk: float


def best_global_beta(setup: ConflictSetup, model=None, show: bool = True) -> GlobalMomentum:
    """``β*`` minimising ``Σ_i E R_i(T)`` over a common momentum."""
    model = setup.model() if model is None else model
    eps = np.geomspace(1.0, setup.smallest_eps, setup.scan)
    total = lambda e: float(np.sum(_horizon_risk(setup, model, 1.0 - e)))
    scan = np.array([total(e) for e in progress(eps, disable=not show, desc="global β scan",
                                                  leave=False)])
    if not np.isfinite(scan).any():
        raise ValueError(f"every momentum with 1 − β in [{setup.smallest_eps}, 1] is unstable at "
                         f"lr = {setup.lr}: lower lr")
    best = int(np.argmin(scan))
    lo, hi = np.log(eps[min(best + 1, eps.size - 1)]), np.log(eps[max(best - 1, 0)])
    if lo < hi:
        res = minimize_scalar(lambda x: total(np.exp(x)), bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-5})
        if res.fun < scan[best]:
            return GlobalMomentum(eps, scan, 1.0 - float(np.exp(res.x)), float(res.fun))
    return GlobalMomentum(eps, scan, 1.0 - float(eps[best]), float(scan[best]))


@dataclass(frozen=True)
class FrequencyRule:
    """``β = f(p)``: ``1 − β`` tabulated on ``p_grid``, interpolated linearly in
    ``(log p, log(1 − β))`` and held constant beyond the grid."""

    p_grid: np.ndarray
    eps_grid: np.ndarray
    name: str = "horizon-optimal per frequency"

    def __call__(self, p) -> np.ndarray:
        logp = np.log(np.asarray(p, dtype=float))
        return 1.0 - np.exp(np.interp(logp, np.log(self.p_grid), np.log(self.eps_grid)))


def _grid_of_p(p: np.ndarray, points: int) -> np.ndarray:
    """``points`` log-spaced frequencies spanning ``p`` (one when all are equal)."""
    return np.geomspace(p.min(), p.max(), points) if p.max() > p.min() else p[:1].copy()


def horizon_optimal_rule(setup: ConflictSetup, p: np.ndarray) -> FrequencyRule:
    """``f(p)``: per frequency of the grid, the ``β`` minimising ``E R(T)`` of a row
    with that frequency (log-grid scan in ``1 − β``, then golden section in
    ``log(1 − β)`` between the best point's neighbours)."""
    grid = _grid_of_p(p, setup.frequencies)
    eps = np.geomspace(1.0, setup.smallest_eps, 2 * setup.scan - 1)
    P, E = np.meshgrid(grid, eps, indexing="ij")
    risk = _horizon_risk(setup, setup.model(P.ravel()), 1.0 - E.ravel()).reshape(P.shape)
    best = np.argmin(risk, axis=1)
    lo = np.log(eps[np.minimum(best + 1, eps.size - 1)])
    hi = np.log(eps[np.maximum(best - 1, 0)])
    f = lambda x, model=setup.model(grid): _horizon_risk(setup, model, 1.0 - np.exp(x))
    x = golden_section(f, lo, hi)
    refined = f(x)
    best_scan = risk[np.arange(grid.size), best]
    eps_star = np.where(refined <= best_scan, np.exp(x), eps[best])
    return FrequencyRule(grid, eps_star)


def onset_rule(setup: ConflictSetup, p: np.ndarray) -> FrequencyRule:
    """``f(p) = β_osc(p)``: per frequency, the largest momentum without oscillation of
    the moments (critical damping on the active clock), kept inside the stability
    region."""
    grid = _grid_of_p(p, setup.frequencies)
    th = momentum_thresholds(setup.model(grid), setup.optimizer, setup.lr, setup.batch)
    eps = np.maximum(th.oscillation_onset, np.nextafter(th.stability_edge, 1))
    return FrequencyRule(grid, np.clip(eps, setup.smallest_eps, 1.0), "oscillation onset per frequency")


@dataclass(frozen=True)
class BandSplit:
    """Risk of each band: over time (``curves[b, k]``, steps ``0..T``) and at ``T``."""

    bands: list[Band]
    curves: np.ndarray


def band_curves(setup: ConflictSetup, p: np.ndarray, beta, show: bool = True) -> BandSplit:
    """``Σ_{i ∈ band} E R_i(k)``, ``k = 0..T``, for each decade band (C kernel)."""
    bands = decade_bands(p.size)
    beta = np.broadcast_to(np.asarray(beta, dtype=float), p.shape)
    curves = np.empty((len(bands), setup.horizon + 1))
    for j, band in enumerate(progress(bands, disable=not show, desc="band curves", leave=False)):
        sub = band.rows
        curves[j] = exact_risk(setup.model(p[sub]), setup.optimizer_with(np.ascontiguousarray(beta[sub])),
                               setup.horizon)
    return BandSplit(bands, curves)


@dataclass(frozen=True)
class ConflictResult:
    setup: ConflictSetup
    p: np.ndarray = field(repr=False)
    global_momentum: GlobalMomentum
    rules: dict                     # name → FrequencyRule
    risk_at_horizon: dict           # assignment name → Σ_i E R_i(T)
    band_risk: dict                 # assignment name → per-band risk at T
    split_global: BandSplit
    split_adapted: BandSplit
    phases_global: np.ndarray       # (bands, 3): rows per phase at β*
    phases_adapted: np.ndarray      # (bands, 3) at β_i = f(p_i)
    thresholds: object              # MomentumThresholds on a p-grid

    @property
    def gap(self) -> float:
        """``Σ E R(T; β*) / Σ E R(T; f(p_i))``: how much more risk one global β leaves."""
        return self.risk_at_horizon["best global β"] / self.risk_at_horizon[ADAPTED]

    @property
    def unstable_rows(self) -> int:
        """Rows outside the stability region at β* or at f(p_i) (0 for a sound result:
        a finite risk at ``T`` does not by itself prove stability)."""
        return int(self.phases_global[:, UNSTABLE].sum() + self.phases_adapted[:, UNSTABLE].sum())


ADAPTED = "β_i = f(p_i)"
ONSET = "β_i = β_osc(p_i)"


def _per_band(values: np.ndarray, bands: list[Band]) -> np.ndarray:
    return np.array([float(np.sum(values[b.rows])) for b in bands])


def _phase_counts(phases: np.ndarray, bands: list[Band]) -> np.ndarray:
    return np.array([np.bincount(phases[b.rows], minlength=len(PHASES)) for b in bands])


def run_conflict(setup: ConflictSetup = ConflictSetup(), show: bool = True,
                 threshold_points: int = 96) -> ConflictResult:
    """Everything in the module docstring, for ``setup``."""
    check_some_momentum_stable(setup)
    p = setup.frequencies_of_rows()
    model = setup.model(p)
    bands = decade_bands(p.size)
    glob = best_global_beta(setup, model, show)
    adapted = horizon_optimal_rule(setup, p)
    onset = onset_rule(setup, p)
    assignments = {"SGD (β = 0)": 0.0, "best global β": glob.beta,
                   ADAPTED: adapted(p), ONSET: onset(p)}
    risk_rows = {name: _horizon_risk(setup, model, beta) for name, beta in assignments.items()}
    grid = _grid_of_p(p, threshold_points)
    return ConflictResult(
        setup=setup, p=p, global_momentum=glob, rules={ADAPTED: adapted, ONSET: onset},
        risk_at_horizon={k: float(np.sum(v)) for k, v in risk_rows.items()},
        band_risk={k: _per_band(v, bands) for k, v in risk_rows.items()},
        split_global=band_curves(setup, p, glob.beta, show),
        split_adapted=band_curves(setup, p, assignments[ADAPTED], show),
        phases_global=_phase_counts(row_phases(model, setup.optimizer_with(glob.beta)), bands),
        phases_adapted=_phase_counts(row_phases(model, setup.optimizer_with(assignments[ADAPTED])), bands),
        thresholds=momentum_thresholds(setup.model(grid), setup.optimizer, setup.lr, setup.batch))


def quick_setup(setup: ConflictSetup = ConflictSetup()) -> ConflictSetup:
    """The same problem on 10⁵ rows (what ``sparsemom reproduce`` runs by default)."""
    return replace(setup, rows=100_000)


def stream_label(setup: ConflictSetup) -> str:
    """``Zipf s = 1.1`` or ``words of 'en'``: the stream, for titles."""
    if setup.stream == "zipf":
        return f"Zipf s = {setup.exponent}"
    return f"words of {setup.stream.partition('-')[2]!r} (wordfreq)"


def table_markdown(result: ConflictResult) -> str:
    s = result.setup
    lines = [f"# Spectral conflict: {s.rows:,} rows, {stream_label(s)}, {s.optimizer}, "
             f"lr = {s.lr}, B = {s.batch}, d = {s.d}, σ² = {s.sigma2}, T = {s.horizon:,} steps",
             "", "| assignment of β | Σ E R(T) | vs best global β |", "|---|---|---|"]
    ref = result.risk_at_horizon["best global β"]
    for name, risk in result.risk_at_horizon.items():
        shown = f"{name} ({result.global_momentum.beta:.4f})" if name == "best global β" else name
        lines.append(f"| {shown} | {risk:.6g} | {risk / ref:.4f} |")
    lines += ["", f"**Gap**: one global β leaves {result.gap:.4f}× the risk of the frequency-adapted "
              f"β_i = f(p_i) at T (difference {ref - result.risk_at_horizon[ADAPTED]:.4g}). "
              f"Rows outside the stability region at β* or f(p_i): {result.unstable_rows}.", "",
              "| band | p range | risk at T, β* | risk at T, f(p_i) | phases at β* (SGD/HB/unstable) "
              "| phases at f(p_i) |", "|---|---|---|---|---|---|"]
    for j, band in enumerate(result.split_global.bands):
        pb = result.p[band.rows]
        lines.append(f"| {band.label} | {pb.min():.2e}–{pb.max():.2e} | "
                     f"{result.band_risk['best global β'][j]:.4g} | {result.band_risk[ADAPTED][j]:.4g} | "
                     f"{'/'.join(map(str, result.phases_global[j]))} | "
                     f"{'/'.join(map(str, result.phases_adapted[j]))} |")
    rule = result.rules[ADAPTED]
    lines += ["", "f(p) on its grid (1 − β):", "",
              "| p | 1 − f(p) |", "|---|---|"]
    lines += [f"| {a:.3e} | {e:.4g} |" for a, e in zip(rule.p_grid[::6], rule.eps_grid[::6])]
    return "\n".join(lines) + "\n"
