"""sparsemom: exact second-moment dynamics of stochastic momentum under sparse updates.

One import package: ``import sparsemom as sm``.  Its subpackages are the repository's
folders — :mod:`sparsemom.derivations` (SymPy: data laws, update rules, and what is
derived from them), :mod:`sparsemom.numerics` (numbers from the derived objects: kernels,
simulators, analyses, studies, the ``sparsemom`` command) and
:mod:`sparsemom.paper_figures` — and the names a notebook reaches for first are here:
``sm.derive_recursion``, ``sm.register_rule``, ``sm.register_law``, ``sm.Model``,
``sm.Optimizer``, ``sm.exact_risk``, ….  They are imported on first use (PEP 562), so
``import sparsemom`` (and the command line) loads neither SymPy nor a kernel.
"""

from pathlib import Path

# A source checkout (``python -m pytest`` or a notebook run at its root, installed or not):
# the subpackages are the folders beside this one.
_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "derivations" / "__init__.py").is_file():
    __path__.append(str(_CHECKOUT))  # noqa: F821 (a package's __path__)

from sparsemom.numerics.runtime.lazy_exports import lazy_exports  # noqa: E402
from sparsemom.numerics.version import __version__  # noqa: E402

_DERIVATIONS = (
    "LAWS", "UPDATE_RULES", "BUILT_IN_RULES", "TIME_RULES", "DataLaw", "LawParameter",
    "RowCoupling",
    "UpdateRule", "HyperParameter", "register_law", "unregister_law", "register_rule",
    "unregister_rule", "law", "update_rule", "Discrete", "Gaussian", "Mask", "Moments",
    "Scalar", "StudentT", "TokenMask", "Vector", "gaussian_noise", "gaussian_vector",
    "rademacher", "sparse_sign", "MomentRecursion", "derive_recursion", "recursion_for",
    "all_recursions", "Dot", "LinearVector", "symbols", "ClosedForm",
    "characteristic_polynomial", "closed_form", "generating_function", "stationary_risk",
    "stationary_state", "stability_conditions", "Timescales", "timescales",
)
_NUMERICS = (
    "Model", "SparseLeastSquares", "RareClassLogistic", "GaussianCovariance",
    "PowerLawRandomFeatures", "power_law_covariance", "Optimizer", "BACKENDS",
    "BackendFallbackWarning", "DivergenceWarning", "exact_risk", "exact_state", "coupled_risk_at",
    "MomentTrajectory", "closed_form_risk", "conditions_hold", "is_stable", "spectral_radius",
)
#: Every public name and the subpackage it comes from.
_EXPORTS = {**{n: "sparsemom.derivations" for n in _DERIVATIONS},
            **{n: "sparsemom.numerics" for n in _NUMERICS}}

__all__ = [*_EXPORTS, "__version__"]

__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
