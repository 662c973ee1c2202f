"""The scaling-limit sweep: exponent points in every phase and near each boundary.

For each point: the predicted phase, family and time exponent
(:func:`sparsemom.derivations.limits.scaling_limits.scaling_limit`), the exact finite-``d`` risk
curves at ``d = 10²…10⁶`` against the limit in rescaled time, and the fitted
convergence rate (:func:`sparsemom.numerics.analysis.scaling_limit.convergence`).  Points run in a
process pool, or on a Dask cluster given its scheduler address.  Writes
``sweep.csv``, ``sweep.md`` and ``sweep.png``/``.pdf`` (phase diagrams with the
points, error against ``d``).

Run: ``sparsemom sweep [--out DIR] [--scheduler ADDRESS] [--workers N]``.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from pathlib import Path

from sparsemom.derivations.limits.asymptotics import ExponentPoint
from sparsemom.derivations.limits.families import Family
from sparsemom.derivations.limits.scaling_limits import scaling_limit
from sparsemom.numerics.analysis.scaling_limit import DIMENSIONS, convergence
from sparsemom.numerics.runtime.atomic import write_text_atomic
from sparsemom.numerics.runtime.parallel import parallel_map
from sparsemom.numerics.studies.sweep_figure import sweep_figure


@dataclass(frozen=True)
class SweepPoint:
    """One point: optimizer, exponents, learning-rate rule (``theta`` for ``free``),
    and why it is in the sweep."""

    label: str
    optimizer: str
    kappa: str
    sigma: str
    gamma: str
    lr_rule: str = "largest-stable"
    theta: str = "0"
    eps_star: str = "1"

    def exponent_point(self) -> ExponentPoint:
        return ExponentPoint(Fraction(self.kappa), Fraction(self.sigma), Fraction(self.gamma),
                             Fraction(self.theta), eps_star=Fraction(self.eps_star))


#: σ = 3/2 unless stated: resonance at γ = 1 + κ − σ, memory from γ = κ − σ,
#: coherence for κ < σ − 1, sparse batches for κ > σ (lazy: resonance at γ = 1).
SWEEP_POINTS = (
    SweepPoint("coherent", "heavy-ball", "1/8", "3/2", "4/5"),
    SweepPoint("coherent, near the coherence boundary", "heavy-ball", "2/5", "3/2", "4/5"),
    SweepPoint("coherent, slow momentum decay", "heavy-ball", "1/4", "3/2", "3/10"),
    SweepPoint("dense above resonance", "heavy-ball", "23/20", "3/2", "1"),
    SweepPoint("dense above resonance, near it", "heavy-ball", "23/20", "3/2", "3/4"),
    SweepPoint("dense at resonance (boundary)", "heavy-ball", "23/20", "3/2", "13/20"),
    SweepPoint("dense below resonance, near it", "heavy-ball", "23/20", "3/2", "11/20"),
    SweepPoint("dense below resonance", "heavy-ball", "23/20", "3/2", "1/10"),
    SweepPoint("critical batch sigma = kappa", "heavy-ball", "3/2", "3/2", "1/2"),
    SweepPoint("sparse above resonance", "heavy-ball", "27/10", "3/2", "5/2"),
    SweepPoint("sparse above resonance, near it", "heavy-ball", "27/10", "3/2", "23/10"),
    SweepPoint("sparse below resonance, near it", "heavy-ball", "27/10", "3/2", "21/10"),
    SweepPoint("sparse below resonance", "heavy-ball", "27/10", "3/2", "8/5"),
    SweepPoint("sparse memoryless, near memory", "heavy-ball", "27/10", "3/2", "11/10"),
    SweepPoint("sparse memoryless", "heavy-ball", "27/10", "3/2", "2/5"),
    SweepPoint("single-sample batches, below resonance", "heavy-ball", "1/2", "0", "1"),
    SweepPoint("single-sample batches, above resonance", "heavy-ball", "1/2", "0", "2"),
    SweepPoint("unstable: dense, lr above the noise bound", "heavy-ball", "23/20", "3/2", "1/10",
               "free", "3/5"),
    SweepPoint("unstable: sparse, lr above the noise bound", "heavy-ball", "27/10", "3/2", "8/5",
               "free", "-4/5"),
    SweepPoint("nesterov dense above resonance", "nesterov", "23/20", "3/2", "1"),
    SweepPoint("nesterov sparse below resonance", "nesterov", "27/10", "3/2", "8/5"),
    SweepPoint("lazy sparse above resonance (gamma > 1)", "lazy", "27/10", "3/2", "3/2"),
    SweepPoint("lazy sparse below resonance (gamma < 1)", "lazy", "27/10", "3/2", "1/2"),
    SweepPoint("sgd sparse", "sgd", "27/10", "3/2", "0"),
    SweepPoint("sgd dense", "sgd", "23/20", "3/2", "0"),
)


@dataclass(frozen=True)
class SweepResult:
    point: SweepPoint
    phase: str
    family: str
    time_exponent: Fraction
    theta: Fraction
    observed: str
    as_predicted: bool
    errors: tuple[float, ...]
    rate: float


def run_point(point: SweepPoint, dimensions=DIMENSIONS) -> SweepResult:
    """Predict, then measure finite-``d`` convergence (picklable: runs in workers)."""
    limit = scaling_limit("lsq", point.optimizer, point.exponent_point(), point.lr_rule)
    conv = convergence(limit, dimensions)
    approaching = conv.errors[-1] < conv.errors[0]
    if limit.family == Family.UNSTABLE:
        as_predicted = conv.observed_family == Family.UNSTABLE and approaching
        observed = "blows up at the predicted rate" if as_predicted else "does not blow up as predicted"
    else:
        as_predicted = approaching
        observed = "converges to the limit" if as_predicted else "does not converge"
    return SweepResult(point, limit.phase, limit.family, limit.time_exponent, limit.point.theta,
                       observed, as_predicted, conv.errors, conv.rate)


def run_sweep(points=SWEEP_POINTS, scheduler=None, workers=None, dimensions=DIMENSIONS):
    """Every point, in parallel (process pool, or Dask at ``scheduler``)."""
    return parallel_map(partial(run_point, dimensions=dimensions), points, scheduler=scheduler,
                        workers=workers, description="sweep")


def table_markdown(results) -> str:
    """The sweep table (markdown)."""
    dims = len(results[0].errors)
    head = ("| point | optimizer | κ, σ, γ | θ | predicted phase | family | τ | finite d | "
            + " | ".join(f"err d=1e{round(math.log10(d))}" for d in DIMENSIONS[:dims])
            + " | rate |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        p = r.point
        errs = " | ".join(f"{e:.2e}" for e in r.errors)
        lines.append(f"| {p.label} | {p.optimizer} | {p.kappa}, {p.sigma}, {p.gamma} | {r.theta} | "
                     f"{r.phase} | {r.family} | {r.time_exponent} | {r.observed} | {errs} | {r.rate:.3f} |")
    return "\n".join(lines) + "\n"


def table_csv(results) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["label", "optimizer", "kappa", "sigma", "gamma", "theta", "phase", "family",
                "time_exponent", "observed", *[f"err_d{d}" for d in DIMENSIONS[:len(results[0].errors)]],
                "rate"])
    for r in results:
        p = r.point
        w.writerow([p.label, p.optimizer, p.kappa, p.sigma, p.gamma, str(r.theta), r.phase, r.family,
                    str(r.time_exponent), r.observed, *[f"{e:.6e}" for e in r.errors], f"{r.rate:.6f}"])
    return out.getvalue()


def write_sweep(results, out: Path, atlas_grid: int = 201, scheduler=None, workers=None) -> list[Path]:
    """Write the table (CSV, markdown) and the figure; return the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "sweep.csv", out / "sweep.md"]
    write_text_atomic(paths[0], table_csv(results))
    write_text_atomic(paths[1], table_markdown(results))
    paths += sweep_figure(results, out, atlas_grid, scheduler=scheduler, workers=workers)
    return paths
