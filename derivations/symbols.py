"""The SymPy symbols shared by every derivation.

Parameters carry the names of the mathematics (η, β, p, B, d, s²); the Python
names follow the public API (``lr``, ``beta``, ``p``, ``batch``, ``d``,
``sigma2``).  Random quantities of one batch (masks, noise, Gaussian inputs and
the step-activity indicator) are created per sample by :func:`sample_symbols`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

lr = sp.Symbol("eta", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
p = sp.Symbol("p", positive=True)
batch = sp.Symbol("B", positive=True, integer=True)
d = sp.Symbol("d", positive=True, integer=True)
sigma2 = sp.Symbol("s^2", nonnegative=True)
#: Norm ρ = ‖μ‖ of the rare-class mean (logistic model).
rho = sp.Symbol("rho", positive=True)
#: Rare-class limit of the logistic fourth-moment constant: w / p² → W = e^{ρ²}.
fisher_w = sp.Symbol("W", positive=True)

#: Step-activity indicator a = 1 − Π_b (1 − m_b): 1 when any sample of the
#: batch carries the row's token.
active = sp.Symbol("a", nonnegative=True)

#: Probability that a step is active, p_B = 1 − (1 − p)^B.
active_probability = 1 - (1 - p) ** batch

#: Parameters of the least-squares recursion, in the order numeric code uses.
PARAMETERS = (lr, beta, p, batch, d, sigma2)


@dataclass(frozen=True)
class SampleSymbols:
    """The random quantities of sample ``b`` of a batch.

    ``mask`` is the Bernoulli(p) activity m_b, ``noise`` the label noise ξ_b,
    ``x`` the Gaussian input vector x_b ~ N(0, I_d) (a vector atom).
    """

    index: int
    mask: sp.Symbol
    noise: sp.Symbol
    x: sp.Symbol


def sample_symbols(b: int) -> SampleSymbols:
    """Symbols for sample ``b`` (1-based) of a batch."""
    return SampleSymbols(
        index=b,
        mask=sp.Symbol(f"m_{b}", nonnegative=True),
        noise=sp.Symbol(f"xi_{b}", real=True),
        x=sp.Symbol(f"x_{b}"),
    )


def is_idle_power(x: sp.Expr) -> bool:
    """``(1 − p)^{jB}`` for an integer ``j``: the chance of ``j`` idle batches."""
    return bool(x.is_Pow and x.base == 1 - p and (x.exp / batch).is_Integer)


def replace_idle_powers(expr: sp.Expr, idle: sp.Expr) -> sp.Expr:
    """Write every ``(1 − p)^{jB}`` in ``expr`` as ``idle^j`` (``idle`` stands for
    ``(1 − p)^B``: a symbol for fast algebra, or ``1 − p_B`` for stable numerics)."""
    return sp.sympify(expr).replace(is_idle_power, lambda x: idle ** (x.exp / batch))
