"""Numeric evaluation of the derived dynamics: exact risk curves and simulators."""

from .exact_risk import BACKENDS, DivergenceWarning, exact_risk

__all__ = ["BACKENDS", "DivergenceWarning", "exact_risk"]
