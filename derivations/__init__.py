"""Symbolic derivations of sparsemom: model and optimizer definitions, and the
exact second-moment recursions derived from them with SymPy."""

from . import symbols
from .models import MODELS, RareClassLogistic, SparseLeastSquares, model_class
from .optimizers import (BUILT_IN_RULES, UPDATE_RULES, Optimizer, UpdateRule, register_rule,
                         unregister_rule, update_rule)
from .recursion import TIME_RULES, MomentRecursion, all_recursions, derive_recursion, recursion_for
from .closed_forms import (ClosedForm, characteristic_polynomial, closed_form,
                           generating_function, stationary_risk, stationary_state)
from .stability import stability_conditions
from .timescales import Timescales, timescales
from .vectors import Dot, LinearVector

__all__ = [
    "MODELS", "SparseLeastSquares", "RareClassLogistic", "model_class", "UPDATE_RULES", "BUILT_IN_RULES", "Optimizer",
    "UpdateRule", "register_rule", "unregister_rule", "update_rule", "TIME_RULES", "MomentRecursion", "all_recursions", "derive_recursion", "recursion_for", "Dot",
    "LinearVector", "symbols", "ClosedForm", "characteristic_polynomial", "closed_form",
    "generating_function", "stationary_risk", "stationary_state", "stability_conditions",
    "Timescales", "timescales",
]
