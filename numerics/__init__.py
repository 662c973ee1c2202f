"""Numeric evaluation of the derived dynamics: exact risk curves and simulators.

Layers, each importing only from those above it: ``runtime`` (files, progress, pools,
plotting) → ``inputs`` (validated arguments and parameters) → ``codegen``/``generated``
(derivations printed as source) → ``kernels`` (compiled and NumPy evaluation of the
recursions) → ``simulate`` (Monte Carlo and the exact-moment oracle) → ``analysis``
(closed forms, stability, limits, mean field) → ``verify`` (checks and the statistical
harness) → ``studies`` (figures and their data) → ``cli``.
"""

from importlib.metadata import PackageNotFoundError, version

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

__all__ = ["SparseLeastSquares", "RareClassLogistic", "Optimizer", "BACKENDS", "BackendFallbackWarning", "DivergenceWarning", "exact_risk",
           "closed_form_risk", "conditions_hold", "is_stable", "spectral_radius", "__version__"]

try:
    #: The installed distribution's version (``pyproject.toml``).
    __version__ = version("sparsemom")
except PackageNotFoundError:  # a source tree used without installing it
    __version__ = "0+unknown"
