"""Numeric evaluation of the derived dynamics: exact risk curves and simulators."""

from .exact_risk import BACKENDS, BackendFallbackWarning, DivergenceWarning, exact_risk

from .closed_form import closed_form_risk
from .stability import conditions_hold, is_stable, spectral_radius

__all__ = ["BACKENDS", "BackendFallbackWarning", "DivergenceWarning", "exact_risk",
           "closed_form_risk", "conditions_hold", "is_stable", "spectral_radius"]
