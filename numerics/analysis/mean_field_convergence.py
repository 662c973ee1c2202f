"""Mean field against Monte Carlo for the rare-class model, over dimensions ``d``.

For each ``d`` the same problem in rescaled time ``t = k/d`` (``η = η̄/d``): the
derived statistics map is iterated (:func:`sparsemom.numerics.analysis.mean_field.mean_field`) and
SGD-M is simulated on sampled data (:mod:`sparsemom.numerics.simulate.logistic`).  Per ``d``: the
statistical harness on the excess cross-entropy, the RMS deviation of single runs'
``(s, R⊥)`` from the prediction (the mean-field claim: it vanishes like ``d^{-1/2}``),
and the mean deviation (the ``O(1/d)`` bias of mean field).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparsemom.derivations.definitions.optimizers import update_rule
from sparsemom.numerics.analysis.mean_field import mean_field
from sparsemom.numerics.inputs.models import RareClassLogistic
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.inputs.seeds import check_seed, offset_seed
from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.simulate.harness import compare_with_theory
from sparsemom.numerics.simulate.logistic import monte_carlo_logistic

DIMENSIONS = (100, 200, 500, 1000, 2000)

#: Gaussian samples the logistic Monte Carlo holds at once (``runs × batch × d``, 0.8 GB).
MAX_SAMPLES_PER_STEP = 10**8
#: Gaussian samples of a whole study (``Σ_d runs × batch × d × steps(d)``): NumPy draws
#: about 3.5e7 a second on one core (measured 2026-12-07, Sapphire Rapids), so this is about
#: 48 minutes of drawing alone; the default study draws 1.6e9.
MAX_SAMPLES_PER_STUDY = 10**11


@dataclass(frozen=True)
class StudySetup:
    """One problem family in rescaled time: ``η = lr_scale/d``, ``t ≤ horizon``."""

    p: float = 0.2
    rho: float = 2.0
    optimizer: str = "heavy-ball"
    beta: float = 0.5
    batch: int = 1
    lr_scale: float = 1.0
    horizon: float = 3.0
    records: int = 30
    runs: int = 100
    groups: int = 20
    alpha: float = 0.01
    seed: object = 2026             # an integer ≥ 0, a SeedSequence or a Generator

    def __post_init__(self):
        check_seed(self.seed)
        check_integer("groups", self.groups, minimum=2)
        if check_integer("runs", self.runs, minimum=1) < 2 * self.groups:
            raise ValueError(f"runs must be ≥ {2 * self.groups}: the harness compares "
                             f"{self.groups} groups of at least 2 runs; got {self.runs}")

    def check_dimensions(self, dimensions) -> None:
        """A ``ValueError`` (naming ``dimensions`` or ``runs``) unless the study can run at
        ``dimensions``: two different ones at least (a convergence rate), each ``≥ 2``, and
        the Monte Carlo's ``runs × batch × d`` samples of one step within
        :data:`MAX_SAMPLES_PER_STEP`, and those of the whole study within
        :data:`MAX_SAMPLES_PER_STUDY`."""
        dims = [check_integer("dimensions", d, minimum=2) for d in dimensions]
        if len(set(dims)) < 2:
            raise ValueError("dimensions needs at least two different values (a convergence "
                             f"rate); got {list(dimensions)}")
        if self.runs * self.batch * max(dims) > MAX_SAMPLES_PER_STEP:
            raise ValueError(f"runs × batch × d must be ≤ {MAX_SAMPLES_PER_STEP:.0e} (the "
                             "Monte Carlo draws them at every step); got "
                             f"{self.runs} × {self.batch} × {max(dims)}")
        total = sum(self.runs * self.batch * d * self.steps(d) for d in dims)
        if total > MAX_SAMPLES_PER_STUDY:
            raise ValueError(f"runs × batch × Σ_d d × steps(d) must be ≤ "
                             f"{MAX_SAMPLES_PER_STUDY:.0e} Gaussian samples in all (about 48 "
                             f"minutes of drawing); got {total:.2e}: fewer runs or smaller "
                             "dimensions")

    def steps(self, d: int) -> int:
        """Steps of the horizon at ``d``: ``k = round(horizon·d)`` (``t = k/d``)."""
        return int(round(self.horizon * d))

    def problem(self, d: int):
        beta = update_rule(self.optimizer).example_beta(self.beta)
        return (RareClassLogistic(d, self.p, self.rho),
                Optimizer(self.optimizer, lr=self.lr_scale / d, beta=beta, batch=self.batch))


@dataclass(frozen=True)
class StudyPoint:
    d: int
    times: np.ndarray               # rescaled t = k/d of the records
    predicted: dict                 # name → prediction at the records
    simulated_mean: dict            # name → Monte Carlo mean at the records
    simulated_stderr: dict
    rms_deviation: float            # RMS over runs and records of (s, R⊥) − prediction
    mean_deviation: float           # max over records of |mean excess CE − prediction|
    harness: object                 # harness Comparison on the excess cross-entropy


def run_point(setup: StudySetup, d: int) -> StudyPoint:
    model, opt = setup.problem(d)
    steps = setup.steps(d)
    every = max(1, steps // setup.records)
    prediction = mean_field(model, opt, steps)
    mc = monte_carlo_logistic(model, opt, steps, setup.runs, seed=offset_seed(setup.seed, d),
                              record_every=every)
    grid = mc.steps
    predicted = {"excess cross-entropy": prediction.risks["excess cross-entropy"][grid],
                 "s": prediction.statistic("s")[grid],
                 "R_perp": prediction.statistic("R_perp")[grid]}
    runs = {"excess cross-entropy": mc.risks["excess cross-entropy"], "s": mc.statistic("s"),
            "R_perp": mc.statistic("R_perp")}
    mean = {k: v.mean(axis=0) for k, v in runs.items()}
    stderr = {k: v.std(axis=0, ddof=1) / np.sqrt(v.shape[0]) for k, v in runs.items()}
    deviation = np.stack([runs[k] - predicted[k][None, :] for k in ("s", "R_perp")])
    harness = compare_with_theory(runs["excess cross-entropy"], predicted["excess cross-entropy"],
                                  alpha=setup.alpha, groups=setup.groups)
    return StudyPoint(d, grid / d, predicted, mean, stderr,
                      float(np.sqrt(np.mean(deviation**2))),
                      float(np.max(np.abs(mean["excess cross-entropy"]
                                          - predicted["excess cross-entropy"]))),
                      harness)


def convergence_rate(points) -> float:
    """Least-squares slope ``r`` of ``log RMS = c − r log d``."""
    d = np.log([pt.d for pt in points])
    rms = np.log([pt.rms_deviation for pt in points])
    return float(-np.polyfit(d, rms, 1)[0])


def run_study(setup: StudySetup = StudySetup(), dimensions=DIMENSIONS):
    setup.check_dimensions(dimensions)
    points = [run_point(setup, d) for d in dimensions]
    return points, convergence_rate(points)
