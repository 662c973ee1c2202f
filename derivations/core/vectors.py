"""Abstract vectors in R^d and their inner products.

A vector is a finite linear combination ``Σ c_i u_i`` of *vector atoms* ``u_i``
(SymPy symbols standing for vectors: the error ``e``, the buffer ``v``, the batch
gradient ``g``, a Gaussian input ``x_b``) with scalar SymPy coefficients.  The
inner product is bilinear, ``⟨Σ c_i u_i, Σ c'_j w_j⟩ = Σ c_i c'_j Dot(u_i, w_j)``,
and :class:`Dot` is symmetric, so every expectation the engine takes is one of
a polynomial in ``Dot`` atoms.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp


class Dot(sp.Function):
    r"""Inner product $\langle u, w \rangle$ of two vector atoms (symmetric: arguments sorted).

    Parameters
    ----------
    u, w : sympy.Symbol
        The vector atoms.
    """

    nargs = 2
    is_commutative = True

    @classmethod
    def eval(cls, u, w):
        if sp.default_sort_key(w) < sp.default_sort_key(u):
            return cls(w, u)
        return None

    def _latex(self, printer):
        u, w = self.args
        if u == w:
            return rf"\left\|{printer._print(u)}\right\|^{{2}}"
        return rf"\left\langle {printer._print(u)}, {printer._print(w)}\right\rangle"

    def _sympystr(self, printer):
        u, w = (printer._print(a) for a in self.args)
        return f"‖{u}‖²" if u == w else f"⟨{u}, {w}⟩"


class NonLinearStep(ValueError):
    """An update rule's step did something a linear map of its vectors cannot do
    (multiplied two vectors, raised one to a power, added a scalar to one)."""


def _scalar(vector: "LinearVector", value, what: str):
    """``value`` as a SymPy scalar; a :class:`NonLinearStep` naming the term when it is a
    vector or not a number a coefficient can be."""
    if isinstance(value, LinearVector):
        raise NonLinearStep(f"a rule must be linear in its state vectors: the step {what} the "
                            f"vector {vector!r} by the vector {value!r}")
    try:
        return sp.sympify(value, strict=True)
    except sp.SympifyError:
        raise NonLinearStep(f"a rule must be linear in its state vectors: the step {what} the "
                            f"vector {vector!r} by {value!r}, which is not a scalar") from None


class LinearVector:
    r"""A vector $\sum_u c_u u$ over vector atoms $u$ with SymPy coefficients $c_u$ (what an update
    rule's step and a law's gradient return).

    Parameters
    ----------
    terms : Mapping[sympy.Symbol, sympy.Expr] or None
        Atom → coefficient (zero coefficients dropped; ``None``: the zero vector).
    """

    __slots__ = ("terms",)

    def __init__(self, terms: Mapping[sp.Symbol, sp.Expr] | None = None):
        self.terms: dict[sp.Symbol, sp.Expr] = {
            atom: sp.sympify(c) for atom, c in (terms or {}).items() if c != 0
        }

    @classmethod
    def atom(cls, u: sp.Symbol) -> "LinearVector":
        return cls({u: sp.Integer(1)})

    def __add__(self, other: "LinearVector") -> "LinearVector":
        if not isinstance(other, LinearVector):
            if isinstance(other, (int, sp.Expr)) and other == 0:  # sum() starts from 0
                return self
            raise NonLinearStep(f"a rule must be linear in its state vectors: a vector plus the "
                                f"scalar {other!r} is not a vector (scale a vector instead)")
        out = dict(self.terms)
        for atom, c in other.terms.items():
            out[atom] = out.get(atom, 0) + c
        return LinearVector(out)

    __radd__ = __add__

    def __neg__(self) -> "LinearVector":
        return LinearVector({u: -c for u, c in self.terms.items()})

    def __sub__(self, other: "LinearVector") -> "LinearVector":
        return self + (-other)

    def __rsub__(self, other) -> "LinearVector":
        return (-self) + other

    def __mul__(self, scalar) -> "LinearVector":
        scalar = _scalar(self, scalar, "multiplies")
        return LinearVector({u: scalar * c for u, c in self.terms.items()})

    __rmul__ = __mul__

    def __pow__(self, exponent):
        raise NonLinearStep(f"a rule must be linear in its state vectors: the step raises the "
                            f"vector {self!r} to the power {exponent!r}")

    def __rtruediv__(self, other):
        raise NonLinearStep(f"a rule must be linear in its state vectors: the step divides "
                            f"{other!r} by the vector {self!r}")

    def __truediv__(self, scalar) -> "LinearVector":
        """``self / c`` for a non-zero scalar ``c`` (exact: ``1/2`` stays ``1/2``)."""
        scalar = _scalar(self, scalar, "divides")
        if scalar == 0:
            raise ZeroDivisionError("a LinearVector divided by 0")
        return self * (1 / scalar)

    def subs(self, mapping: dict) -> "LinearVector":
        """Substitute scalar symbols in the coefficients; atoms mapped to 0 are dropped."""
        return LinearVector({u: sp.expand(c.xreplace(mapping)) for u, c in self.terms.items()
                             if mapping.get(u, u) != 0})

    def coefficient(self, atom: sp.Symbol) -> sp.Expr:
        """The scalar coefficient of ``atom`` (0 when absent)."""
        return sp.expand(self.terms.get(atom, sp.Integer(0)))

    def dot(self, other: "LinearVector") -> sp.Expr:
        """⟨self, other⟩ expanded bilinearly into :class:`Dot` atoms."""
        return sp.Add(
            *(
                cu * cw * Dot(u, w)
                for u, cu in self.terms.items()
                for w, cw in other.terms.items()
            )
        )

    def __repr__(self) -> str:
        return str(sp.Add(*(c * u for u, c in self.terms.items())))
