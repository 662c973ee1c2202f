"""Numeric evaluation of the derived dynamics: exact risk curves and simulators.

Layers, each importing only from those above it: ``runtime`` (files, progress, pools,
plotting) → ``inputs`` (validated arguments and parameters) → ``results`` (arrays with
names and metadata, as tables) → ``codegen``/``generated``
(derivations printed as source) → ``kernels`` (compiled and NumPy evaluation of the
recursions) → ``simulate`` (Monte Carlo and the exact-moment oracle) → ``analysis``
(closed forms, stability, limits, mean field) → ``verify`` (checks and the statistical
harness) → ``studies`` (figures and their data) → ``cli``.
"""

from sparsemom.numerics.runtime.lazy_exports import lazy_exports
from sparsemom.numerics.version import __version__

#: The public names and the module each comes from, imported on first use (PEP 562), so
#: ``import sparsemom.numerics`` (and ``sparsemom --help``) does not load SymPy, pandas or a kernel.
_EXPORTS = {
    "Model": "sparsemom.numerics.inputs.models",
    "SparseLeastSquares": "sparsemom.numerics.inputs.models",
    "RareClassLogistic": "sparsemom.numerics.inputs.models",
    "Optimizer": "sparsemom.numerics.inputs.optimizer",
    "GaussianCovariance": "sparsemom.numerics.inputs.spectra",
    "PowerLawRandomFeatures": "sparsemom.numerics.inputs.spectra",
    "power_law_covariance": "sparsemom.numerics.inputs.spectra",
    "BACKENDS": "sparsemom.numerics.kernels.exact_risk",
    "BackendFallbackWarning": "sparsemom.numerics.kernels.exact_risk",
    "DivergenceWarning": "sparsemom.numerics.kernels.exact_risk",
    "exact_risk": "sparsemom.numerics.kernels.exact_risk",
    "exact_state": "sparsemom.numerics.kernels.exact_state",
    "coupled_risk_at": "sparsemom.numerics.kernels.coupled_horizon",
    "MomentTrajectory": "sparsemom.numerics.kernels.exact_state",
    "closed_form_risk": "sparsemom.numerics.analysis.closed_form",
    "conditions_hold": "sparsemom.numerics.analysis.stability",
    "is_stable": "sparsemom.numerics.analysis.stability",
    "spectral_radius": "sparsemom.numerics.analysis.stability",
}

__all__ = [*_EXPORTS, "__version__"]

__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
