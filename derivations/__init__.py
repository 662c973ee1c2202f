"""Symbolic derivations of sparsemom (SymPy only): data laws and update rules, and the
exact recursions, closed forms, stability conditions, timescales and scaling limits
derived from them.

Subpackages, each importing only from those before it: ``core`` (symbols, vectors,
printing, exact arithmetic) → ``definitions`` (laws and their ingredients, update rules,
methods) → ``engine`` (batch expectation, moment recursions, caches) → ``rare_class``
(model M2's statistics and how it closes) → ``properties`` (closed forms, stability,
timescales) → ``limits`` (scaling limits, regions, phases) → ``output`` (LaTeX)."""

from .core import symbols
from .core.vectors import Dot, LinearVector
from .definitions import covariance as _covariance  # noqa: F401  (registers the Gaussian law)
from .definitions import ingredients, methods
from .definitions.ingredients import (
    Discrete,
    Gaussian,
    Mask,
    Moments,
    Scalar,
    StudentT,
    TokenMask,
    Vector,
    gaussian_noise,
    gaussian_vector,
    rademacher,
    sparse_sign,
)
from .definitions.laws import (
    LAWS,
    DataLaw,
    LawParameter,
    RowCoupling,
    law,
    register_law,
    unregister_law,
)
from .definitions.optimizers import (
    BUILT_IN_RULES,
    UPDATE_RULES,
    HyperParameter,
    UpdateRule,
    register_rule,
    unregister_rule,
    update_rule,
)
from .engine.recursion import (
    TIME_RULES,
    MomentRecursion,
    all_recursions,
    derive_recursion,
    recursion_for,
)
from .properties.closed_forms import (
    ClosedForm,
    characteristic_polynomial,
    closed_form,
    generating_function,
    stationary_risk,
    stationary_state,
)
from .properties.stability import stability_conditions
from .properties.timescales import Timescales, timescales
from .rare_class import law as _rare_class_law  # noqa: F401  (registers the rare-class law)

__all__ = [
    "methods", "ingredients", "LAWS", "DataLaw", "LawParameter", "RowCoupling", "law",
    "register_law",
    "unregister_law", "Discrete", "Gaussian", "Mask", "Moments", "Scalar", "StudentT", "TokenMask",
    "Vector", "gaussian_noise", "gaussian_vector", "rademacher",
    "sparse_sign", "UPDATE_RULES", "BUILT_IN_RULES",
    "UpdateRule", "HyperParameter", "register_rule", "unregister_rule", "update_rule",
    "TIME_RULES", "MomentRecursion", "all_recursions", "derive_recursion", "recursion_for",
    "Dot", "LinearVector", "symbols", "ClosedForm", "characteristic_polynomial", "closed_form",
    "generating_function", "stationary_risk", "stationary_state", "stability_conditions",
    "Timescales", "timescales",
]
