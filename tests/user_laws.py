"""Data laws a user defines through the public API (issue 31).  Notebook 07 shows this
file's cells verbatim (``notebooks/build.py`` reads the code after each ``# %%`` line)
and ``tests/test_user_laws.py`` imports them, so each law is written once.  Nothing
is registered here: the notebook and the tests register the laws they use."""

# %%
from dataclasses import replace

import sympy as sp

from sparsemom.derivations import (
    DataLaw,
    Dot,
    Gaussian,
    LawParameter,
    LinearVector,
    Scalar,
    StudentT,
    TokenMask,
    Vector,
    gaussian_noise,
    rademacher,
    sparse_sign,
)
from sparsemom.derivations import symbols as S


def least_squares(sample, e):
    """``G = m x (⟨x, e⟩ − ξ)``: the loss ½(⟨x, θ⟩ − y)² at ``y = ⟨x, θ*⟩ + ξ``."""
    return LinearVector({sample.x: sample.m * (Dot(sample.x, e) - sample.xi)})


# %%
tau2 = sp.Symbol("tau^2", nonnegative=True)
HETEROSCEDASTIC = DataLaw(
    name="heteroscedastic", title="least squares with per-row label noise",
    ingredients={"m": TokenMask(), "x": Vector(Gaussian(1)), "xi": gaussian_noise(tau2)},
    gradient=least_squares, risk=lambda energy: S.p * energy / 2,
    parameters=[LawParameter(tau2, lower=0, keyword="tau2", doc="label-noise variance of the row")])

# %%
omega = sp.Symbol("omega", positive=True)
SCALED_ROWS = replace(
    HETEROSCEDASTIC, name="scaled-rows", title="least squares with per-row input scale",
    ingredients={**HETEROSCEDASTIC.ingredients, "x": Vector(Gaussian(omega))},
    risk=lambda energy: S.p * omega * energy / 2,           # ½ p E⟨x, e⟩² = ½ p ω ‖e‖²
    parameters=[*HETEROSCEDASTIC.parameters,
                LawParameter(omega, lower=0, lower_open=True, doc="input variance of the row")])

# %%
q = sp.Symbol("q_x", positive=True)
RADEMACHER = replace(
    HETEROSCEDASTIC, name="rademacher", title="least squares with Rademacher features",
    ingredients={**HETEROSCEDASTIC.ingredients, "x": Vector(rademacher())})
SPARSE_SIGN = replace(
    HETEROSCEDASTIC, name="sparse-sign", title="least squares with sparse sign features",
    ingredients={**HETEROSCEDASTIC.ingredients, "x": Vector(sparse_sign(q))},
    parameters=[*HETEROSCEDASTIC.parameters,
                LawParameter(q, lower=0, upper=1, lower_open=True, keyword="q_x",
                             doc=r"fraction of non-zero feature entries ($\mu_4 = 1/q_x$)")])

# %%
nu, scale = sp.Symbol("nu", positive=True), sp.Symbol("sigma_t", positive=True)
STUDENT_T = DataLaw(
    name="student-t", title="dense least squares with Student-t label noise",
    ingredients={"x": Vector(Gaussian(1)), "xi": Scalar(StudentT(nu, scale))},
    gradient=lambda sample, e: LinearVector({sample.x: Dot(sample.x, e) - sample.xi}),
    risk=lambda energy: energy / 2,
    parameters=[LawParameter(nu, lower=2, lower_open=True,
                             doc=r"degrees of freedom of the label noise $\xi = \sigma_t t_\nu$"),
                LawParameter(scale, lower=0, lower_open=True, per_row=False, keyword="sigma_t",
                             doc="scale of the label noise")],
    source="K. L. Lange, R. J. A. Little, J. M. G. Taylor (1989), Robust statistical modeling "
           "using the t distribution, J. Amer. Statist. Assoc. 84(408), 881-896")
