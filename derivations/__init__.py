"""Symbolic derivations of sparsemom (SymPy only): data laws and update rules, and the
exact recursions, closed forms, stability conditions, timescales and scaling limits
derived from them."""

from . import ingredients, methods, rare_class, rare_class_law, symbols
from .closed_forms import (
    ClosedForm,
    characteristic_polynomial,
    closed_form,
    generating_function,
    stationary_risk,
    stationary_state,
)
from .ingredients import (
    Discrete,
    Gaussian,
    Mask,
    Scalar,
    StudentT,
    TokenMask,
    Vector,
    gaussian_noise,
    gaussian_vector,
)
from .laws import LAWS, DataLaw, Law, LawParameter, law, register_law, unregister_law
from .optimizers import (
    BUILT_IN_RULES,
    UPDATE_RULES,
    HyperParameter,
    UpdateRule,
    register_rule,
    unregister_rule,
    update_rule,
)
from .recursion import TIME_RULES, MomentRecursion, all_recursions, derive_recursion, recursion_for
from .stability import stability_conditions
from .timescales import Timescales, timescales
from .vectors import Dot, LinearVector

__all__ = [
    "methods", "ingredients", "rare_class", "rare_class_law", "LAWS", "Law", "DataLaw", "LawParameter", "law",
    "register_law", "unregister_law", "Discrete", "Gaussian", "Mask", "Scalar", "StudentT",
    "TokenMask", "Vector", "gaussian_noise", "gaussian_vector", "UPDATE_RULES", "BUILT_IN_RULES", "UpdateRule", "HyperParameter", "register_rule",
    "unregister_rule", "update_rule", "TIME_RULES", "MomentRecursion", "all_recursions",
    "derive_recursion", "recursion_for", "Dot", "LinearVector", "symbols", "ClosedForm",
    "characteristic_polynomial", "closed_form", "generating_function", "stationary_risk",
    "stationary_state", "stability_conditions", "Timescales", "timescales",
]
