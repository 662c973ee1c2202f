"""Gaussian data with a covariance spectrum, one eigen-mode at a time (model M3 of
``docs/model.md``).

Data ``x ~ N(0, K)``, ``y = ⟨x, θ*⟩ + ξ`` with ``Var ξ = s²``; loss ``½(⟨x, θ⟩ − y)²``.
In the eigenbasis of ``K`` (eigenvalues ``λ_i``, each of multiplicity ``d``) the
coordinates ``x_i`` are independent ``N(0, λ_i I_d)``, and the gradient of one sample
restricted to mode ``j`` is

    G_j = x_j (⟨x_j, e_j⟩ + z_j − ξ),   z_j = Σ_{i≠j} ⟨x_i, e_i⟩ ~ N(0, ϱ_j) given e,

with ``ϱ_j = Σ_{i≠j} λ_i ‖e_i‖²`` (independent of ``x_j`` and ``ξ``).  So the mode is a
law of the engine's vocabulary with one coupled scalar ``z`` (:class:`RowCoupling`,
weight ``λ``): its second moments close, and the modes of the row couple only through
``E ϱ_j`` (block diagonal plus rank one).  The (excess) risk is ``R = Σ_j ½ λ_j ‖e_j‖²``;
the full risk adds the floor ``½ s²``.

Sources: C. Paquette, E. Paquette, B. Adlam, J. Pennington, "Homogenization of SGD in
high-dimensions" (arXiv 2205.07069) and E. Paquette, C. Paquette, L. Xiao, J. Pennington,
"4+3 phases of compute-optimal neural scaling laws" (arXiv 2405.15074) study this model
through its continuized ODEs; here its discrete second moments are derived exactly.
"""

from __future__ import annotations

import sympy as sp

from ..core import symbols as S
from ..core.symbols import Sample
from ..core.vectors import Dot, LinearVector
from .ingredients import Gaussian, Scalar, Vector, gaussian_noise
from .laws import DataLaw, LawParameter, RowCoupling, register_law

#: This module defines laws (the architecture test lets it name them).
DEFINES_LAWS = True

#: The eigenvalue ``λ_j`` of a mode.
eigenvalue = sp.Symbol("lambda_j", positive=True)
#: The variance ``ϱ_j = Σ_{i≠j} λ_i ‖e_i‖²`` of the rest of the row's prediction error.
rest_variance = sp.Symbol("varrho_j", nonnegative=True)


def _mode_gradient(sample: Sample, error: sp.Symbol) -> LinearVector:
    """``G_j = x (⟨x, e⟩ + z − ξ)``."""
    return LinearVector({sample.x: Dot(sample.x, error) + sample.z - sample.xi})


GAUSSIAN_COVARIANCE = DataLaw(
    name="gaussian",
    title="Gaussian data with a covariance spectrum",
    ingredients={"x": Vector(Gaussian(eigenvalue)), "z": Scalar(Gaussian(rest_variance)),
                 "xi": gaussian_noise(S.sigma2)},
    gradient=_mode_gradient,
    risk=lambda energy: eigenvalue * energy / 2,
    parameters=(LawParameter(eigenvalue, lower=0, lower_open=True, keyword="eigenvalue",
                             example=1, doc="eigenvalue of the mode"),
                LawParameter(S.sigma2, lower=0, per_row=False, keyword="sigma2", default=0,
                             doc="label-noise variance")),
    parameter_text=(r"$B$ batch size, "
                    r"$\lambda_j$ the mode's eigenvalue, $d$ its multiplicity, $s^2$ "
                    r"label-noise variance, $\varrho_j = \sum_{i \neq j} \lambda_i \|e_i\|^2$ "
                    r"the rest of the row's prediction variance, $R_0 = \|e_{j,0}\|^2$."),
    source="docs/model.md, model M3",
    coupling=RowCoupling(rest_variance, eigenvalue,
                         doc="variance of the other modes' prediction error"),
)
register_law(GAUSSIAN_COVARIANCE, built_in=True)

__all__ = ["GAUSSIAN_COVARIANCE", "eigenvalue", "rest_variance"]
