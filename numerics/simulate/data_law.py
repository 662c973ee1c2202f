"""Numeric form of a model's data law, from its symbolic definition.

The per-sample gradient ``G_b = c(m_b, ξ_b, ⟨x_b, e⟩) x_b`` and the risk functional
``R(‖e‖²)`` are written once in ``derivations/laws.py``; simulators evaluate the
lambdified coefficient ``c`` and risk here instead of retyping them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from derivations import symbols as S
from derivations.laws import law
from derivations.optimizers import e
from derivations.vectors import Dot
from numerics.codegen.expressions import stable_form
from numerics.kernels.numeric_function import numeric_function

_projection = sp.Symbol("x_dot_e")   # ⟨x_b, e⟩
_energy = sp.Symbol("energy")        # ‖e‖²


@lru_cache(maxsize=None)
def gradient_coefficient(model: str):
    """``c(mask, noise, ⟨x, e⟩)`` with ``G = c · x`` for one sample of ``model``."""
    sample = law(model).sample(1)
    grad = law(model).sample_gradient(sample, e)
    if set(grad.terms) != {sample.x}:
        raise NotImplementedError(f"per-sample gradient of {model!r} is not along x: {grad}")
    coefficient = grad.coefficient(sample.x).xreplace({Dot(sample.x, e): _projection})
    extra = coefficient.free_symbols - {sample.m, sample.xi, _projection}
    if extra:
        raise NotImplementedError(f"gradient coefficient depends on {extra}")
    return numeric_function(coefficient, (sample.m, sample.xi, _projection))


@lru_cache(maxsize=None)
def active_probability(model: str):
    """``p_B(p, B)``: the chance that a batch of ``B`` samples updates a row (the law's
    ``active_probability``), vectorised in the kernels' stable form
    (``1 − (1 − p)^B = −expm1(B log1p(−p))`` for least squares; at ``p = 1`` the
    logarithm's ``−∞`` gives exactly 1, so its divide warning is not raised)."""
    function = numeric_function(stable_form(law(model).active_probability), (S.p, S.batch))

    def evaluate(p, batch):
        with np.errstate(divide="ignore"):
            return function(p, batch)
    return evaluate


@lru_cache(maxsize=None)
def risk_function(model: str):
    """``R(p, ‖e‖²)``: the model's risk of one row, vectorised."""
    return numeric_function(law(model).risk(_energy), (S.p, _energy))


def risk_weight(model: str) -> sp.Expr:
    """``w(p)`` with ``R = w ‖e‖²``; a ``NotImplementedError`` if the risk is not
    linear in ``‖e‖²`` (then ``E R`` is not ``w E‖e‖²``)."""
    risk = law(model).risk(_energy)
    if sp.diff(risk, _energy, 2) != 0 or risk.subs(_energy, 0) != 0:
        raise NotImplementedError(f"risk of {model!r} is not linear in ‖e‖²: {risk}")
    return sp.diff(risk, _energy)
