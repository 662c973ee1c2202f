"""The verification rungs that ``sparsemom verify`` runs and reports.

* exact moments: :func:`~numerics.exact_risk` in rational arithmetic vs the
  brute-force expansion of :mod:`numerics.exact_moments` — must be *equal*;
* Monte Carlo smoke: the dense simulator vs ``exact_risk``; every step's
  z-score within a Bonferroni bound (a smoke check; the statistical harness
  with controlled false-alarm rates is separate).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction as F

import numpy as np
from scipy import stats

from derivations import UPDATE_RULES, Optimizer, SparseLeastSquares

from .exact_moments import expanded_risk
from .exact_risk import exact_risk
from .simulate import monte_carlo_risk


@dataclass(frozen=True)
class CheckResult:
    rung: str
    case: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class ExactMomentCase:
    """One exact-rung case: rational parameters and initial error vectors per row."""

    optimizer: str
    d: int
    batch: int
    steps: int
    p: tuple
    lr: tuple
    beta: tuple
    sigma2: F
    initial_errors: tuple

    def build(self):
        R0 = [sum(x * x for x in row) for row in self.initial_errors]
        one = len(self.p) == 1
        model = SparseLeastSquares(self.d, self.p[0] if one else list(self.p),
                                   R0=R0[0] if one else R0, sigma2=self.sigma2)
        opt = Optimizer(self.optimizer, lr=self.lr[0] if len(self.lr) == 1 else list(self.lr),
                        beta=self.beta[0] if len(self.beta) == 1 else list(self.beta),
                        batch=self.batch)
        return model, opt

    @property
    def label(self) -> str:
        rows = f"{len(self.p)} rows" if len(self.p) > 1 else f"p={self.p[0]}"
        return (f"{self.optimizer}, d={self.d}, B={self.batch}, k≤{self.steps}, {rows}, "
                f"s²={self.sigma2}")


def exact_moment_cases() -> Iterator[ExactMomentCase]:
    """Every optimizer at d ∈ {1, 2}, B ∈ {1, 2}, k ≤ 3, and token streams with
    per-row ``lr``/``beta`` (two rows, one token per sample)."""
    e0 = {1: ((F(3, 2),),), 2: ((F(3, 5), F(-4, 5)),)}
    for name in UPDATE_RULES:
        beta = (F(0),) if name == "sgd" else (F(3, 5),)
        for d in (1, 2):
            for batch in (1, 2):
                yield ExactMomentCase(name, d, batch, 3, (F(1, 3),), (F(1, 4),), beta,
                                      F(1, 5), e0[d])
        stream_beta = (F(0), F(0)) if name == "sgd" else (F(1, 2), F(4, 5))
        yield ExactMomentCase(name, 1, 2, 3, (F(1, 2), F(1, 5)), (F(1, 3), F(1, 2)),
                              stream_beta, F(1, 10), ((F(1),), (F(-2),)))


def check_exact_moments(case: ExactMomentCase) -> CheckResult:
    model, opt = case.build()
    derived = list(exact_risk(model, opt, case.steps, backend="exact"))
    expanded = expanded_risk(model, opt, case.steps, case.initial_errors)
    equal = derived == expanded
    detail = (f"E R_{case.steps} = {derived[-1]} (both)" if equal
              else f"recursion {derived} ≠ expansion {expanded}")
    return CheckResult("exact moments", case.label, equal, detail)


#: Monte Carlo smoke cases: a single row and a two-row stream, per-row lr/beta.
SMOKE_RUNS = 20_000
SMOKE_STEPS = 30
SMOKE_FAMILY_ALPHA = 1e-3


def monte_carlo_smoke_cases():
    for name in UPDATE_RULES:
        beta = 0.0 if name == "sgd" else [0.7, 0.5]
        yield name, SparseLeastSquares(d=5, p=[0.3, 0.05], R0=[1.0, 2.0], sigma2=0.1), \
            Optimizer(name, lr=[0.1, 0.2], beta=beta, batch=3)


def check_monte_carlo_smoke(name, model, opt, seed: int = 2026) -> CheckResult:
    exact = exact_risk(model, opt, SMOKE_STEPS)
    mc = monte_carlo_risk(model, opt, SMOKE_STEPS, SMOKE_RUNS, seed=seed)
    z = np.abs(mc.mean[1:] - exact[1:]) / mc.stderr[1:]
    bound = stats.norm.isf(SMOKE_FAMILY_ALPHA / (2 * SMOKE_STEPS))
    passed = bool(np.all(z < bound)) and mc.diverged == 0
    return CheckResult("Monte Carlo smoke", f"{name}, {model!r}", passed,
                       f"max |z| = {z.max():.2f} < {bound:.2f} over {SMOKE_STEPS} steps, "
                       f"{SMOKE_RUNS} runs")


def run_all() -> Iterator[CheckResult]:
    for case in exact_moment_cases():
        yield check_exact_moments(case)
    for name, model, opt in monte_carlo_smoke_cases():
        yield check_monte_carlo_smoke(name, model, opt)
