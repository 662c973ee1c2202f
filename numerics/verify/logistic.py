"""Verification rungs of the logistic rare-class model, as ``sparsemom verify`` runs them.

* high precision: Gauss–Hermite (error-controlled order) vs ``mpmath.quad`` at 50
  digits for every logistic-normal moment and the softplus mean on a grid of means
  and variances covering rare classes (``b*`` down to ≈ −9) — relative error ≤ 1e-12;
* one-step drift: ``E[X_1 | X_0]`` from sampled batches at finite ``d`` vs the
  derived statistics map, through the statistical harness (exact at every ``d``);
* linearisation: ``F(δX) − (J δX + c) = O(δ²)`` (the remainder over ``δ²`` is
  constant to 2 % for ``δ = 10⁻², 10⁻³, 10⁻⁴``);
* mean field: Monte Carlo vs the iterated map at two dimensions through the
  harness, and the concentration rate of single runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import mpmath
import numpy as np

from sparsemom.derivations.definitions.optimizers import UPDATE_RULES
from sparsemom.derivations.rare_class.drift import unsupported_by_statistics_map
from sparsemom.numerics.analysis.linearised import linear_map
from sparsemom.numerics.analysis.mean_field import expected_next
from sparsemom.numerics.analysis.mean_field_convergence import (
    StudySetup,
    convergence_rate,
    run_point,
)
from sparsemom.numerics.inputs.models import RareClassLogistic
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.kernels.logistic_normal import (
    gauss_hermite,
    logistic_normal_moment,
    mpmath_references,
    sigmoid_power,
    softplus_normal_mean,
)
from sparsemom.numerics.simulate.harness import compare_with_theory
from sparsemom.numerics.simulate.logistic import NAMES, one_step_statistics, statistics_of
from sparsemom.numerics.verify.checks import Check, CheckResult

QUADRATURE_MEANS = (-9.2, -5.0, -2.0, 0.0, 1.5)
QUADRATURE_VARIANCES = (0.25, 1.0, 4.0, 9.0, 16.0)
#: The powers ``k`` of ``S_k`` checked.
POWERS = (1, 2, 3, 4)


def check_quadrature() -> CheckResult:
    worst, orders = 0.0, []
    for m in QUADRATURE_MEANS:
        for v in QUADRATURE_VARIANCES:
            moments, softplus_mean = mpmath_references(m, v, POWERS, dps=50)
            for k, ref in zip(POWERS, moments):
                worst = max(worst, abs(float(mpmath.mpf(logistic_normal_moment(k, m, v)) / ref - 1)))
                orders.append(gauss_hermite(sigmoid_power(k), m, v).order)
            worst = max(worst, abs(float(mpmath.mpf(softplus_normal_mean(m, v)) / softplus_mean - 1)))
    return CheckResult("quadrature", f"S_1..S_4 and L at {len(QUADRATURE_MEANS)}×"
                       f"{len(QUADRATURE_VARIANCES)} (mean, variance)", worst <= 1e-12,
                       f"max relative error vs mpmath.quad (50 digits) {worst:.1e} ≤ 1e-12; "
                       f"Gauss–Hermite orders {min(orders)}–{max(orders)}")


def check_one_step(name: str, batch: int, draws: int = 40_000, d: int = 12) -> CheckResult:
    rule = UPDATE_RULES[name]
    model = RareClassLogistic(d, 0.2, 1.5)
    opt = Optimizer(name, lr=0.3, beta=rule.example_beta(0.6), batch=batch)
    rng = np.random.default_rng(5)
    error = 0.4 * rng.standard_normal(d)
    buffer = 0.3 * rng.standard_normal(d) if rule.has_momentum else None
    predicted = expected_next(model, opt, dict(zip(NAMES, statistics_of(error, buffer))))
    columns = [NAMES.index(n) for n in predicted]
    samples = one_step_statistics(model, opt, error, buffer, draws=draws, seed=11)[:, columns]
    result = compare_with_theory(samples, np.array(list(predicted.values())), alpha=0.01)
    return CheckResult("one-step drift", f"{name}, B={batch}, d={d}", result.passed,
                       f"{result}; {draws} batches")


def check_linearisation(name: str) -> CheckResult:
    model = RareClassLogistic(50, 0.1, 2.0)
    opt = Optimizer(name, lr=0.02, beta=UPDATE_RULES[name].example_beta(0.5))
    names, J, c = linear_map(model, opt)
    direction = np.array([0.3, -0.2, 0.5, 0.1, 0.4])[: len(names)]
    ratios = []
    for delta in (1e-2, 1e-3, 1e-4):
        X = delta * direction
        full = np.array(list(expected_next(model, opt, dict(zip(names, X))).values()))
        ratios.append(float(np.max(np.abs(full - (J @ X + c))) / delta**2))
    passed = ratios[-1] > 0 and bool(np.allclose(ratios, ratios[-1], rtol=0.02))
    return CheckResult("linearisation", name, passed,
                       "remainder/δ² at δ = 1e-2, 1e-3, 1e-4: "
                       + ", ".join(f"{r:.4g}" for r in ratios) + " (constant: first-order exact)")


def check_mean_field(dimensions=(100, 400), runs: int = 100) -> CheckResult:
    setup = StudySetup(runs=runs, horizon=2.0, records=20)
    points = [run_point(setup, d) for d in dimensions]
    rate = convergence_rate(points)
    passed = all(pt.harness.passed for pt in points) and 0.3 < rate < 0.7
    detail = "; ".join(f"d={pt.d}: {pt.harness}" for pt in points)
    return CheckResult("mean field", f"heavy-ball, p={setup.p}, ρ={setup.rho}, η=1/d",
                       passed, f"{detail}; RMS deviation ∝ d^-{rate:.2f} (expected 1/2)")


def checks() -> Iterator[Check]:
    """The logistic rungs, for every registered rule."""
    yield Check("quadrature", "S_1..S_4 and L", check_quadrature)
    for name, rule in UPDATE_RULES.items():
        if unsupported_by_statistics_map(rule):
            continue
        batch = 3 if rule.has_momentum else 1
        yield Check("one-step drift", f"{name}, B={batch}",
                    lambda name=name, batch=batch: check_one_step(name, batch))
        yield Check("linearisation", name, lambda name=name: check_linearisation(name))
    yield Check("mean field", "heavy-ball", check_mean_field)
