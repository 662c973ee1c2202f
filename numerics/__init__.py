"""Numeric evaluation of the derived dynamics: exact risk curves and simulators.

Layers, each importing only from those above it: ``runtime`` (files, progress, pools,
plotting) → ``inputs`` (validated arguments and parameters) → ``results`` (arrays with
names and metadata, as tables) → ``codegen``/``generated``
(derivations printed as source) → ``kernels`` (compiled and NumPy evaluation of the
recursions) → ``simulate`` (Monte Carlo and the exact-moment oracle) → ``analysis``
(closed forms, stability, limits, mean field) → ``verify`` (checks and the statistical
harness) → ``studies`` (figures and their data) → ``cli``.
"""

from numerics.analysis.closed_form import closed_form_risk
from numerics.analysis.stability import conditions_hold, is_stable, spectral_radius
from numerics.inputs.models import RareClassLogistic, SparseLeastSquares
from numerics.inputs.optimizer import Optimizer
from numerics.kernels.exact_risk import (
           BACKENDS,
           BackendFallbackWarning,
           DivergenceWarning,
           exact_risk,
)
from numerics.kernels.exact_state import MomentTrajectory, exact_state
from numerics.version import __version__

__all__ = ["SparseLeastSquares", "RareClassLogistic", "Optimizer", "BACKENDS", "BackendFallbackWarning", "DivergenceWarning", "exact_risk",
           "exact_state", "MomentTrajectory",
           "closed_form_risk", "conditions_hold", "is_stable", "spectral_radius", "__version__"]
