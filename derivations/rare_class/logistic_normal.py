"""Gaussian integrals of the sigmoid, kept as named SymPy objects.

For ``G ~ N(m, v)`` and the sigmoid ``σ(c) = 1/(1 + e^{−c})``:

* :class:`LogisticNormalMoment` ``S_k(m, v) = E[σ(G)^k]`` (moments of the
  logistic-normal law; ``S_0 = 1``);
* :class:`SoftplusNormalMean` ``L(m, v) = E[log(1 + e^G)]``.

Every expectation of the logistic model reduces to these: integrands are
polynomials in ``σ`` (``σ' = σ(1 − σ)``, so derivatives stay polynomials) or the
softplus (the cross-entropy).  Both objects know their derivatives,
``∂_m E[F(G)] = E[F'(G)]`` and ``∂_v E[F(G)] = ½ E[F''(G)]``, so SymPy
differentiates (linearises) expressions that contain them exactly.

At the Bayes logit of the rare-class mixture the two classes' moments are tied by
a change of measure (:func:`bayes_identity`), and for a rare class
(``λ = p/(1 − p) → 0``) :func:`rare_class_expansion` expands them in powers of
``λ`` with Gaussian moment generating functions.
"""

from __future__ import annotations

import sympy as sp

#: σ(c) as a polynomial variable: integrands are polynomials in it.
sig = sp.Symbol("sigma_c")


def sigmoid_derivative(poly: sp.Expr, order: int = 1) -> sp.Expr:
    """``d^n/dc^n P(σ(c))`` for a polynomial ``P`` in :data:`sig`, by ``σ' = σ − σ²``."""
    out = sp.expand(poly)
    for _ in range(order):
        out = sp.expand(sp.diff(out, sig) * (sig - sig**2))
    return out


def gaussian_expectation(poly: sp.Expr, mean: sp.Expr, variance: sp.Expr) -> sp.Expr:
    """``E[P(σ(G))]``, ``G ~ N(mean, variance)``, for a polynomial ``P`` in :data:`sig`:
    ``Σ_k a_k S_k(mean, variance)``."""
    poly = sp.Poly(sp.expand(poly), sig)
    return sp.Add(*(coeff * LogisticNormalMoment(k, mean, variance)
                    for (k,), coeff in poly.terms()))


class LogisticNormalMoment(sp.Function):
    r"""``S_k(m, v) = E[σ(G)^k]`` with ``G ~ N(m, v)`` (``k`` a non-negative integer).

    ``∂S_k/∂m = E[(σ^k)'] = k (S_k − S_{k+1})``,
    ``∂S_k/∂v = ½ E[(σ^k)'']``; ``S_0 = 1``; ``S_k(m, 0) = σ(m)^k``.
    """

    nargs = 3

    @classmethod
    def eval(cls, k, mean, variance):
        if not (k.is_Integer and k >= 0):
            raise ValueError(f"moment order k must be a non-negative integer; got {k}")
        if k == 0:
            return sp.Integer(1)
        if variance.is_zero:
            return (1 / (1 + sp.exp(-mean))) ** k
        return None

    def fdiff(self, argindex=1):
        k, mean, variance = self.args
        if argindex == 1:
            raise sp.ArgumentIndexError(self, argindex)
        order = 1 if argindex == 2 else 2
        scale = 1 if argindex == 2 else sp.Rational(1, 2)
        return scale * gaussian_expectation(sigmoid_derivative(sig**k, order), mean, variance)

    def _latex(self, printer, exp=None):
        k, mean, variance = self.args
        body = (rf"\mathcal{{S}}_{{{printer._print(k)}}}\left({printer._print(mean)}, "
                rf"{printer._print(variance)}\right)")
        return body if exp is None else rf"{body}^{{{printer._print(exp)}}}"


class SoftplusNormalMean(sp.Function):
    r"""``L(m, v) = E[log(1 + e^G)]`` with ``G ~ N(m, v)``.

    ``∂L/∂m = E[σ(G)] = S_1``, ``∂L/∂v = ½ E[σ'(G)] = ½ (S_1 − S_2)``.
    """

    nargs = 2

    @classmethod
    def eval(cls, mean, variance):
        if variance.is_zero:
            return sp.log(1 + sp.exp(mean))
        return None

    def fdiff(self, argindex=1):
        mean, variance = self.args
        if argindex == 1:
            return LogisticNormalMoment(1, mean, variance)
        return sp.Rational(1, 2) * gaussian_expectation(sigmoid_derivative(sig), mean, variance)

    def _latex(self, printer, exp=None):
        mean, variance = self.args
        body = rf"\mathcal{{L}}\left({printer._print(mean)}, {printer._print(variance)}\right)"
        return body if exp is None else rf"{body}^{{{printer._print(exp)}}}"


def bayes_identity(expr: sp.Expr, p: sp.Expr, logit_mean: sp.Expr, shift: sp.Expr,
                   variance: sp.Expr) -> sp.Expr:
    """Rewrite class-1 moments at the Bayes logit as class-0 moments.

    With ``c* = log λ + ρ t − ρ²/2`` (``λ = p/(1 − p)``), ``t ~ N(0, 1)`` in class 0
    and ``t ~ N(ρ, 1)`` in class 1, the densities satisfy ``p φ_1 = (1 − p) e^{c*} φ_0``,
    so for every function ``h``: ``p E_1[(1 − σ) h] = (1 − p) E_0[σ h]``.  With
    ``h = σ^k`` this is ``S¹_{k+1} = S¹_k − ((1 − p)/p) S⁰_{k+1}`` (``S¹_0 = 1``),
    which eliminates every class-1 moment ``S_k(logit_mean + shift, variance)``.
    """
    class1 = {}
    for k in range(1, _max_order(expr) + 1):
        below = class1.get(k - 1, sp.Integer(1))
        class1[k] = below - (1 - p) / p * LogisticNormalMoment(k, logit_mean, variance)
    return expr.replace(
        lambda x: isinstance(x, LogisticNormalMoment) and x.args[1] == logit_mean + shift
        and x.args[2] == variance,
        lambda x: class1[int(x.args[0])])


def _max_order(expr: sp.Expr) -> int:
    orders = [int(x.args[0]) for x in expr.atoms(LogisticNormalMoment)]
    return max(orders, default=0)


def rare_class_expansion(expr: sp.Expr, ratio: sp.Symbol, log_ratio_mean: sp.Expr,
                         variance: sp.Expr, order: int) -> sp.Expr:
    """Expand class-0 moments ``S_k(log λ + w̄, v)`` in powers of ``λ`` up to ``λ^order``.

    ``σ(log λ + w) = Σ_{j≥1} (−1)^{j+1} λ^j e^{jw}`` for ``λ e^w < 1``, and
    ``E[e^{jw}] = e^{j w̄ + j² v/2}`` for ``w ~ N(w̄, v)``; the neglected region
    ``λ e^w ≥ 1`` has Gaussian-small probability as ``λ → 0``, so the truncated
    series is the asymptotic expansion of ``S_k`` in ``λ``.  ``ratio`` is the symbol
    ``λ``; moments whose mean is ``log(ratio) + log_ratio_mean`` are expanded.
    """
    lam = ratio
    return expr.replace(
        lambda x: isinstance(x, LogisticNormalMoment) and x.args[1] == sp.log(lam) + log_ratio_mean
        and x.args[2] == variance,
        lambda x: _moment_series(int(x.args[0]), lam, log_ratio_mean, variance, order))


def _moment_series(k: int, lam: sp.Symbol, mean: sp.Expr, variance: sp.Expr, order: int) -> sp.Expr:
    """``E[σ(log λ + w)^k]`` to ``O(λ^{order+1})``: ``σ^k = (λ e^w)^k (1 + λ e^w)^{−k}``,
    a series in ``x = λ e^w`` whose ``x^j`` term has mean ``λ^j e^{j w̄ + j² v/2}``."""
    x = sp.Dummy("x")
    series = sp.series((x / (1 + x)) ** k, x, 0, order + 1).removeO()
    poly = sp.Poly(series, x)
    return sp.Add(*(c * lam**j * sp.exp(j * mean + j**2 * variance / 2) for (j,), c in poly.terms()))
