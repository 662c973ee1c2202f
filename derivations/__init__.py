"""Symbolic derivations of sparsemom: model and optimizer definitions, and the
exact second-moment recursions derived from them with SymPy."""

from . import symbols
from .models import MODELS, SparseLeastSquares, model_class
from .optimizers import UPDATE_RULES, Optimizer, UpdateRule, update_rule
from .recursion import TIME_RULES, MomentRecursion, all_recursions, derive_recursion, recursion_for
from .vectors import Dot, LinearVector

__all__ = [
    "MODELS", "SparseLeastSquares", "model_class", "UPDATE_RULES", "Optimizer", "UpdateRule",
    "update_rule", "TIME_RULES", "MomentRecursion", "all_recursions", "derive_recursion", "recursion_for", "Dot",
    "LinearVector", "symbols",
]
