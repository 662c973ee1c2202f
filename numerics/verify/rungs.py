"""The verification rungs that ``sparsemom verify`` runs and reports.

* exact moments: :func:`~sparsemom.numerics.kernels.exact_risk` in rational arithmetic vs the
  brute-force expansion of :mod:`sparsemom.numerics.simulate.exact_moments` — must be *equal*;
* Monte Carlo: the dense simulator vs ``exact_risk`` for every optimizer and
  time rule, through the statistical harness (:mod:`sparsemom.numerics.simulate.harness`);
  :func:`law_checks` gives the same rung (dense and sparse) for any model whose law has
  closed moments, to register as a suite;
* the logistic model's rungs (:mod:`sparsemom.numerics.verify.logistic`): quadrature vs
  mpmath, exact one-step drift, linearisation, mean field vs Monte Carlo.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction as F

import mpmath
import numpy as np

from sparsemom.derivations import TIME_RULES, UPDATE_RULES
from sparsemom.numerics.analysis.closed_form import closed_form_risk
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.kernels.exact_risk import exact_risk
from sparsemom.numerics.simulate.exact_moments import expanded_risk
from sparsemom.numerics.simulate.harness import compare_with_theory
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk
from sparsemom.numerics.simulate.sparse import sparse_monte_carlo_risk
from sparsemom.numerics.verify.checks import Check, CheckResult, register_suite, run_registered
from sparsemom.numerics.verify.logistic import checks as logistic_checks


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
                        **UPDATE_RULES[self.optimizer].example_hyper_parameters(),
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
    for name, rule in UPDATE_RULES.items():
        beta = (rule.example_beta(F(3, 5)),)
        for d in (1, 2):
            for batch in (1, 2):
                yield ExactMomentCase(name, d, batch, 3, (F(1, 3),), (F(1, 4),), beta,
                                      F(1, 5), e0[d])
        stream_beta = tuple(rule.example_beta(b) for b in (F(1, 2), F(4, 5)))
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


#: Monte Carlo rung: every optimizer and time rule on a two-row stream with
#: per-row lr/beta, compared through the statistical harness.
MC_RUNS = 20_000
MC_STEPS = 30
MC_ALPHA = 0.01


def monte_carlo_case(name: str, time: str):
    """``(name, time, model, optimizer)`` of the Monte Carlo rung for one rule."""
    beta = UPDATE_RULES[name].example_beta([0.7, 0.5])
    return (name, time, SparseLeastSquares(d=5, p=[0.4, 0.15], R0=[1.0, 2.0], sigma2=0.1),
            Optimizer(name, lr=[0.1, 0.2], beta=beta, batch=3,
                      **UPDATE_RULES[name].example_hyper_parameters()))


def monte_carlo_cases():
    for name in UPDATE_RULES:
        for time in TIME_RULES:
            yield monte_carlo_case(name, time)


#: The Monte Carlo simulators by name.
SIMULATORS = {"dense": monte_carlo_risk, "sparse": sparse_monte_carlo_risk}


def check_monte_carlo(name, time, model, opt, seed: int = 2026,
                      simulator: str = "dense") -> CheckResult:
    """A simulator (``"dense"`` or ``"sparse"``, time ``"steps"`` only) of any model whose
    law has closed moments against ``exact_risk``, through the statistical harness."""
    if simulator not in SIMULATORS:
        raise ValueError(f"simulator must be one of {', '.join(map(repr, SIMULATORS))}; "
                         f"got {simulator!r}")
    if simulator == "sparse" and time != "steps":
        raise ValueError(f"time must be 'steps' for the sparse simulator; got {time!r}")
    exact = exact_risk(model, opt, MC_STEPS, time=time)
    options = {"time": time} if simulator == "dense" else {}
    mc = SIMULATORS[simulator](model, opt, MC_STEPS, MC_RUNS, seed=seed, keep_trajectories=True,
                               **options)
    result = compare_with_theory(mc.trajectories, exact, alpha=MC_ALPHA)
    label = f"{name}, time={time}, {model!r}" + (", sparse" if simulator == "sparse" else "")
    return CheckResult("Monte Carlo", label, result.passed and mc.diverged == 0,
                       f"{result}; {MC_RUNS} runs")



def law_checks(model, rules=None) -> Iterator[Check]:
    """Monte Carlo checks of ``model`` — any law with closed moments, e.g. one registered
    with :func:`sparsemom.derivations.register_law` — against ``exact_risk``: the dense simulator
    under every time rule and the sparse one, for each of ``rules`` (default: every
    registered rule) with its example hyper-parameters, ``lr = 0.1``, ``B = 3``.  Register
    them as a suite: ``register_suite("my law", lambda: law_checks(Model(my_law, …)))``."""
    for name in UPDATE_RULES if rules is None else rules:
        rule = UPDATE_RULES[name]
        opt = Optimizer(name, lr=0.1, beta=rule.example_beta(0.6), batch=3,
                        **rule.example_hyper_parameters())
        for time in TIME_RULES:
            yield Check("Monte Carlo", f"{model.name}, {name}, time={time}",
                        lambda name=name, time=time, opt=opt: check_monte_carlo(name, time,
                                                                                model, opt))
        yield Check("Monte Carlo", f"{model.name}, {name}, sparse",
                    lambda name=name, opt=opt: check_monte_carlo(name, "steps", model, opt,
                                                                 simulator="sparse"))


def check_closed_form(name: str, time: str) -> CheckResult:
    """Closed form at 50 digits vs the exact rational recursion."""
    beta = UPDATE_RULES[name].example_beta(F(3, 4))
    model = SparseLeastSquares(7, [F(1, 3), F(1, 40)], R0=[1, F(5, 2)], sigma2=F(1, 10))
    opt = Optimizer(name, lr=F(1, 30), beta=beta, batch=2,
                    **UPDATE_RULES[name].example_hyper_parameters())
    ks = [1, 10, 80]
    exact = exact_risk(model, opt, max(ks), backend="exact", time=time)
    closed = closed_form_risk(model, opt, ks, time=time, dps=50)
    with mpmath.workdps(60):
        err = max(abs(c / (mpmath.mpf(exact[k].numerator) / exact[k].denominator) - 1)
                  for c, k in zip(closed, ks))
    return CheckResult("closed form", f"{name}, time={time}", bool(err < mpmath.mpf("1e-40")),
                       f"max relative error {mpmath.nstr(err, 3)} < 1e-40 at k = {ks}")


def check_backends(name: str, time: str) -> CheckResult:
    """C vs NumPy vs mpmath (30 digits) on a stream with rare tokens."""
    rng = np.random.default_rng(1)
    rows = 50
    p = 10.0 ** rng.uniform(-8, -0.3, rows)
    beta = UPDATE_RULES[name].example_beta(rng.uniform(0, 0.9, rows))
    model = SparseLeastSquares(20, p, R0=rng.uniform(0.5, 2, rows), sigma2=0.3)
    opt = Optimizer(name, lr=rng.uniform(0.01, 0.1, rows) * (1 - np.asarray(beta)), beta=beta,
                    batch=4, **UPDATE_RULES[name].example_hyper_parameters())
    c = exact_risk(model, opt, 100, backend="c", time=time)
    num = exact_risk(model, opt, 100, backend="numpy", time=time)
    mp = exact_risk(model, opt, 100, backend="mpmath", dps=30, time=time).astype(float)
    err = max(np.max(np.abs(c / mp - 1)), np.max(np.abs(num / mp - 1)))
    return CheckResult("backends", f"{name}, time={time}", bool(err <= 1e-12),
                       f"max relative difference c/numpy vs mpmath {err:.1e} ≤ 1e-12")


def checks() -> Iterator[Check]:
    """Every least-squares rung, for every registered rule (built-in or user-defined)."""
    for case in exact_moment_cases():
        yield Check("exact moments", case.label, lambda case=case: check_exact_moments(case))
    for name in UPDATE_RULES:
        for time in TIME_RULES:
            yield Check("closed form", f"{name}, time={time}",
                        lambda name=name, time=time: check_closed_form(name, time))
            yield Check("backends", f"{name}, time={time}",
                        lambda name=name, time=time: check_backends(name, time))
    for name in UPDATE_RULES:
        for time in TIME_RULES:
            yield Check("Monte Carlo", f"{name}, time={time}",
                        lambda name=name, time=time: check_monte_carlo(*monte_carlo_case(name, time)))


register_suite("least squares", checks)
register_suite("logistic rare class", logistic_checks)


def run_all(workers: int = 1) -> Iterator[CheckResult]:
    """Run every registered suite (least squares, the logistic model's, then any a user
    registered) in ``workers`` processes; a check that raises is reported as a FAIL with
    its message."""
    yield from run_registered(workers)
