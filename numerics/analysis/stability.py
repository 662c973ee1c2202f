"""Numeric stability: the spectral radius of the derived transition matrix per row,
and the symbolic Schur–Cohn conditions evaluated per row.

Both work in float64 by default; with ``dps`` they work in mpmath at ``dps``
digits (float inputs taken exactly), which resolves points very close to the
boundary, where float64 cannot tell the sign of ``1 − ρ``.
"""

from __future__ import annotations

from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp

from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.derivations.properties.stability import stability_conditions
from sparsemom.numerics.analysis.coupled_stability import coupled_is_stable, coupled_spectral_radius
from sparsemom.numerics.codegen.signature import Signature
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.kernels.backends import (
    coefficient_arrays,
    float_arguments,
    generated_module,
    to_mpf,
)
from sparsemom.numerics.kernels.numeric_function import numeric_function


def _rows_of_args(model, optimizer, time):
    optimizer.require_constant("a spectral radius or stability region")
    rows, values = parameter_values(model, optimizer)
    rec = recursion_for(model, optimizer, time)
    return rows, rec, float_arguments(rec, values)


def _per_row(args, rows):
    return [[to_mpf(float(np.broadcast_to(a, (rows,))[r])) for a in args] for r in range(rows)]


def eigenvalues(model, optimizer, time: str = "steps") -> np.ndarray:
    """Eigenvalues of the derived transition ``A`` of every row (float64), shape ``(rows, n)``."""
    rows, rec, args = _rows_of_args(model, optimizer, time)
    return np.linalg.eigvals(coefficient_arrays(rec, args, rows)[0].transpose(2, 0, 1))


def spectral_radius(model, optimizer, time: str = "steps", dps: int | None = None):
    r"""$\rho(A) = \max |\lambda|$ over the eigenvalues of the derived transition $A$, per row; for
    coupled modes the radius of the whole row's $\mathrm{blockdiag}(A_j) + u q^\top$
    (:mod:`sparsemom.numerics.analysis.coupled_stability`).

    Parameters
    ----------
    model : Model
        The model (one row or a token stream; coupled modes for model M3).
    optimizer : Optimizer
        The optimizer, with constant hyper-parameters.
    time : str
        ``"steps"`` (the step map) or ``"active"`` (the active-iterate map).
    dps : int or None
        ``None``: float64; else mpmath at ``dps`` digits.

    Returns
    -------
    float or numpy.ndarray
        The radius (a float for one row, an array over the rows otherwise; ``mpf`` with
        ``dps``).
    """
    if _coupled(model, time, dps):
        return coupled_spectral_radius(model, optimizer)
    rows, rec, args = _rows_of_args(model, optimizer, time)
    n = len(rec.state)
    if dps is None:
        radius = np.max(np.abs(eigenvalues(model, optimizer, time)), axis=1)
    else:
        radius = np.empty(rows, dtype=object)
        with mpmath.workdps(dps):
            for r, row in enumerate(_per_row(args, rows)):
                a = generated_module(rec).coefficients_mp(*row)[0]
                M = mpmath.matrix([[a[i * n + j] for j in range(n)] for i in range(n)])
                roots, _ = mpmath.eig(M)
                radius[r] = max(abs(x) for x in roots)
    return radius[0] if rows == 1 else radius


def is_stable(model, optimizer, time: str = "steps", dps: int | None = None):
    r"""$\rho(A) < 1$: the second moments converge.  For coupled modes $\rho(T) < 1$ for the whole
    row's $T = \mathrm{blockdiag}(A_j) + u q^\top$, by its positivity certificate
    (:mod:`sparsemom.numerics.analysis.coupled_stability`); for Gaussian data: every mode stable
    on its own and the kernel mass $\sum_j q_j^\top (I - A_j)^{-1} u_j < 1$.

    Parameters
    ----------
    model : Model
        The model (one row or a token stream; coupled modes for model M3).
    optimizer : Optimizer
        The optimizer, with constant hyper-parameters.
    time : str
        ``"steps"`` (the step map) or ``"active"`` (the active-iterate map).
    dps : int or None
        ``None``: float64; else mpmath at ``dps`` digits.

    Returns
    -------
    bool or numpy.ndarray
        One bool for one row (or coupled modes), else one per row.
    """
    if _coupled(model, time, dps):
        return coupled_is_stable(model, optimizer)
    radius = np.asarray(spectral_radius(model, optimizer, time, dps))
    return bool(radius < 1) if radius.ndim == 0 else np.array(radius < 1, dtype=bool)


def _coupled(model, time: str, dps) -> bool:
    """The model's rows are coupled modes (refusing what their analysis does not take)."""
    if getattr(model.law, "coupling", None) is None:
        return False
    if time != "steps" or dps is not None:
        raise ValueError(f"the coupled modes of {model.name!r} are analysed in float64 with time "
                         f"'steps'; got time={time!r}, dps={dps!r}")
    return True


@lru_cache(maxsize=None)
def lambdified(expr: sp.Expr, inputs: tuple[sp.Symbol, ...], module: str):
    """``expr`` (a derived expression in a recursion's inputs, :class:`Signature`) as a
    function of ``inputs`` in ``module`` ("numpy" or "mpmath"), through
    :func:`~sparsemom.numerics.kernels.numeric_function.numeric_function`; cached on the expression
    itself (evaluation loops call it often)."""
    return numeric_function(expr, inputs, module, cse=True)


def _lambdified_conditions(model: str, optimizer: str, time: str, module: str):
    inputs = Signature.of(recursion_for(model, optimizer, time)).inputs
    return [lambdified(c.lhs, inputs, module) for c in stability_conditions(model, optimizer, time)]


def conditions_hold(model, optimizer, time: str = "steps", dps: int | None = None):
    r"""The symbolic Schur–Cohn inequalities (:func:`~sparsemom.derivations.properties.stability.stability_conditions`)
    evaluated per row: all $f_i > 0$ exactly when $\rho(A) < 1$.

    Parameters
    ----------
    model : Model
        The model (one row or a token stream; coupled modes for model M3).
    optimizer : Optimizer
        The optimizer, with constant hyper-parameters.
    time : str
        ``"steps"`` (the step map) or ``"active"`` (the active-iterate map).
    dps : int or None
        ``None``: float64; else mpmath at ``dps`` digits.

    Returns
    -------
    bool or numpy.ndarray
        One bool for one row, else one per row.
    """
    rows, rec, args = _rows_of_args(model, optimizer, time)
    if dps is None:
        ok = np.ones(rows, dtype=bool)
        with np.errstate(all="ignore"):
            for f in _lambdified_conditions(model.name, optimizer.name, time, "numpy"):
                ok &= np.broadcast_to(np.asarray(f(*args)) > 0, (rows,))
    else:
        funcs = _lambdified_conditions(model.name, optimizer.name, time, "mpmath")
        with mpmath.workdps(dps):
            ok = np.array([all(f(*row) > 0 for f in funcs) for row in _per_row(args, rows)])
    return bool(ok[0]) if rows == 1 else ok
