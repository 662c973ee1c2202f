"""Numeric evaluation of the derived dynamics: exact risk curves and simulators."""

from .exact_risk import BACKENDS, BackendFallbackWarning, DivergenceWarning, exact_risk

__all__ = ["BACKENDS", "BackendFallbackWarning", "DivergenceWarning", "exact_risk"]
