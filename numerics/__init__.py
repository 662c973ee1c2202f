"""Numeric evaluation of the derived dynamics: exact risk curves and simulators.

Layers, each importing only from those above it: ``runtime`` (files, progress, pools,
plotting) → ``inputs`` (validated arguments and parameters) → ``results`` (arrays with
names and metadata, as tables) → ``codegen``/``generated``
(derivations printed as source) → ``kernels`` (compiled and NumPy evaluation of the
recursions) → ``simulate`` (Monte Carlo and the exact-moment oracle) → ``analysis``
(closed forms, stability, limits, mean field) → ``verify`` (checks and the statistical
harness) → ``studies`` (figures and their data) → ``cli``.
"""

from importlib import import_module

from numerics.version import __version__

#: The public names and the module each comes from, imported on first use (PEP 562), so
#: ``import numerics`` (and ``sparsemom --help``) does not load SymPy, pandas or a kernel.
_EXPORTS = {
    "Model": "numerics.inputs.models",
    "SparseLeastSquares": "numerics.inputs.models",
    "RareClassLogistic": "numerics.inputs.models",
    "Optimizer": "numerics.inputs.optimizer",
    "BACKENDS": "numerics.kernels.exact_risk",
    "BackendFallbackWarning": "numerics.kernels.exact_risk",
    "DivergenceWarning": "numerics.kernels.exact_risk",
    "exact_risk": "numerics.kernels.exact_risk",
    "exact_state": "numerics.kernels.exact_state",
    "MomentTrajectory": "numerics.kernels.exact_state",
    "closed_form_risk": "numerics.analysis.closed_form",
    "conditions_hold": "numerics.analysis.stability",
    "is_stable": "numerics.analysis.stability",
    "spectral_radius": "numerics.analysis.stability",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'numerics' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
