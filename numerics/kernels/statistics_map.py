"""The logistic statistics map as numbers: the derived :class:`~sparsemom.derivations.rare_class.drift.StatisticsMap`
lambdified once, with its logistic-normal integrals evaluated by error-controlled
Gauss–Hermite (:mod:`sparsemom.numerics.kernels.logistic_normal`), and the model's risks read off
the statistics."""

from __future__ import annotations

import numpy as np

from sparsemom.derivations import symbols as S
from sparsemom.derivations.engine.definition_cache import cached_by_definition
from sparsemom.derivations.rare_class import statistics as M2
from sparsemom.derivations.rare_class.drift import statistics_map_for
from sparsemom.numerics.kernels.logistic_normal import INTEGRALS_BACKEND
from sparsemom.numerics.kernels.numeric_function import numeric_function


@cached_by_definition
def compiled_statistics_map(model_name: str, optimizer_name: str, time_rule: str):
    """The derived map ``F`` and the risks, lambdified once (NumPy and the integrals)."""
    stats = statistics_map_for(model_name, optimizer_name, time_rule)
    args = (*stats.state, *stats.parameters, M2.bias)
    step = numeric_function(list(stats.update), args, INTEGRALS_BACKEND, cse=True)
    risks = {name: numeric_function(expr, (M2.s, M2.R_perp, *stats.parameters, M2.bias),
                                   INTEGRALS_BACKEND, cse=True)
             for name, expr in stats.risks.items()}
    return stats, step, risks


def parameter_tuple(model, optimizer) -> tuple[float, ...]:
    """``(lr, beta, B, d, p, rho, b*)`` as floats, in the order of the compiled map."""
    if optimizer.rows != 1:
        raise ValueError("the logistic model has one row: lr and beta must be scalars")
    optimizer.require_constant("the logistic statistics map")
    lr, beta = float(optimizer.lr[()]), float(optimizer.beta[()])
    p, rho = float(model.p), float(model.rho)
    return (lr, beta, float(optimizer.batch), float(model.d), p, rho, bayes_bias(p, rho))


#: b* = log(p/(1 − p)) − ρ²/2, from its symbolic definition.
bayes_bias = numeric_function(M2.bias_value, (S.p, S.rho), "math")


def initial_state(model, names) -> np.ndarray:
    """``X_0``: ``s = s0``, ``R⊥ = R0``, buffers and correlations 0."""
    start = {"s": float(model.s0), "R_perp": float(model.R0)}
    return np.array([start.get(n, 0.0) for n in names])


def risks_of(model, optimizer, s: np.ndarray, R: np.ndarray, time_rule: str = "steps") -> dict:
    """The model's risks (excess cross-entropy, squared error) at statistics ``(s, R⊥)``."""
    _, _, risks = compiled_statistics_map(model.name, optimizer.name, time_rule)
    params = parameter_tuple(model, optimizer)
    return {name: np.broadcast_to(f(s, R, *params), np.shape(s)).astype(float)
            for name, f in risks.items()}
