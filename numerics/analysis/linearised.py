"""Numbers for the logistic model's linearisation at the optimum.

The Fisher constants ``h = E[σ'(c*)]``, ``w = E[σ'(c*)²]``, ``h_∥`` of
:mod:`sparsemom.derivations.rare_class.linearisation` are evaluated from their derived definitions
(class-0 logistic-normal moments, Gauss–Hermite); the linearised affine map
``X ↦ J X + c`` and the closed-form stationary bulk energy of its bulk recursion
are lambdified from the derived matrices — nothing is retyped.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sparsemom.derivations import symbols as S
from sparsemom.derivations.engine.definition_cache import cached_by_definition
from sparsemom.derivations.properties.closed_forms import stationary_state
from sparsemom.derivations.rare_class import statistics as M2
from sparsemom.derivations.rare_class.linearisation import (
    CONSTANTS,
    constant_definitions,
    linearise,
)
from sparsemom.numerics.kernels.logistic_normal import INTEGRALS_BACKEND
from sparsemom.numerics.kernels.numeric_function import numeric_function
from sparsemom.numerics.kernels.statistics_map import bayes_bias, parameter_tuple

_MODEL_ARGS = (S.p, S.rho, M2.bias)


def fisher_constants(model) -> dict[str, float]:
    """``{"h": …, "w": …, "h_parallel": …}`` at the model's ``p`` and ``ρ``."""
    p, rho = float(model.p), float(model.rho)
    return {c.name: float(_constant(c)(p, rho, bayes_bias(p, rho))) for c in CONSTANTS}


@lru_cache(maxsize=None)
def _constant(symbol):
    return numeric_function(constant_definitions()[symbol], _MODEL_ARGS, INTEGRALS_BACKEND)


@cached_by_definition
def _linear_map(optimizer_name: str):
    lin = linearise(optimizer_name)
    args = (S.lr, S.beta, S.batch, S.d, S.rho, *CONSTANTS)
    return (lin, numeric_function(lin.transition, args),
            numeric_function(lin.forcing, args),
            numeric_function(stationary_state(lin.bulk), args))


def _arguments(model, optimizer):
    lr, beta, batch, d, _, rho, _ = parameter_tuple(model, optimizer)
    constants = fisher_constants(model)
    return (lr, beta, batch, d, rho, *(constants[c.name] for c in CONSTANTS))


def linear_map(model, optimizer) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """``(names, J, c)`` of the linearised statistics map at the model's parameters."""
    lin, J, c, _ = _linear_map(optimizer.name)
    args = _arguments(model, optimizer)
    return (tuple(x.name for x in lin.state), np.array(J(*args), dtype=float),
            np.array(c(*args), dtype=float).ravel())


def stationary_bulk(model, optimizer) -> dict[str, float]:
    """Closed-form stationary ``(R⊥, C⊥, V⊥)`` of the linearised bulk recursion."""
    lin, _, _, stationary = _linear_map(optimizer.name)
    values = np.array(stationary(*_arguments(model, optimizer)), dtype=float).ravel()
    return {x.name: float(v) for x, v in zip(lin.bulk.state, values)}
