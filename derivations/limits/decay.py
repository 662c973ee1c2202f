"""Whether linear dynamics decay, decided exactly (no floating-point eigenvalues).

``dX/dt = L X`` decays when every eigenvalue of ``L`` has negative real part; the map
``X' = (I + L) X`` when every eigenvalue of ``I + L`` lies inside the unit circle.
Both are read off the characteristic polynomial with the Routh–Hurwitz criterion
(after the Cayley transform ``μ = (1 + s)/(1 − s)`` for the map).
"""

from __future__ import annotations

import sympy as sp


def linear_dynamics_decay(L: sp.Matrix, discrete: bool) -> bool:
    """``dX/dt = L X`` decays (every ``Re λ < 0``), or for a map ``X' = (I + L) X``
    every ``|1 + λ| < 1``: decided exactly by the Hurwitz criterion on the
    characteristic polynomial (for the map after the Cayley transform
    ``μ = (1 + s)/(1 − s)``, which sends the unit disc to ``Re s < 0``)."""
    x = sp.Symbol("x")
    n = L.shape[0]
    if not discrete:
        return hurwitz_stable(L.charpoly(x).all_coeffs())
    polynomial = (sp.eye(n) + L).charpoly(x).as_expr()
    cayley = sp.Poly(sp.expand(sp.cancel(polynomial.subs(x, (1 + x) / (1 - x)) * (1 - x) ** n)), x)
    if cayley.degree() < n:      # an eigenvalue μ = −1 lies on the circle
        return False
    return hurwitz_stable(cayley.all_coeffs())


def hurwitz_stable(coeffs: list[sp.Expr]) -> bool:
    """Every root of ``a_0 x^n + … + a_n`` (exact coefficients, ``a_0 ≠ 0``) has negative
    real part: the leading Hurwitz minors ``Δ_1, …, Δ_n`` (for ``a_0 > 0``) are all
    positive (Routh–Hurwitz)."""
    if not is_positive(coeffs[0]):
        coeffs = [-c for c in coeffs]
    n = len(coeffs) - 1
    a = lambda k: coeffs[k] if 0 <= k <= n else sp.Integer(0)  # noqa: E731
    hurwitz = sp.Matrix(n, n, lambda i, j: a(2 * j - i + 1))
    return all(is_positive(hurwitz[:k, :k].det(method="berkowitz")) for k in range(1, n + 1))


def is_positive(value: sp.Expr) -> bool:
    """Sign of an exact constant: SymPy's assumptions when they decide it, else its value
    to 50 significant digits (an exact zero, after simplification, is not positive)."""
    value = sp.sympify(value)
    if value.is_positive is not None:
        return bool(value.is_positive)
    approx = sp.N(value, 50)
    if approx.is_real and abs(approx) > sp.Float("1e-40", 50):
        return bool(approx > 0)
    if sp.simplify(value) == 0:
        return False
    raise ArithmeticError(f"cannot decide the sign of {value}")
