"""The random ingredients a data law draws for each sample, from a vocabulary whose
expectations the engine computes exactly.

Distributions of one real number, each with its moments ``E X^k`` as SymPy expressions
(:meth:`Distribution.moment`) and its cumulants (:meth:`Distribution.cumulant`):

* :class:`Gaussian` ``N(0, σ²)``: ``E X^{2j} = σ^{2j} (2j − 1)!!``, odd moments 0;
* :class:`Discrete` — finitely many values with probabilities: ``E X^k = Σ_i q_i x_i^k``
  (Bernoulli, Rademacher, sparse ``±1/√q`` features, …);
* :class:`StudentT` with ``ν`` degrees of freedom and a scale ``c``: ``E X^{2j} =
  c^{2j} ν^j Π_{i=1}^{j} (2i − 1)/(ν − 2i)`` (finite for ``2j < ν``), odd moments 0;
* :class:`Moments` — a law known only by the moments it declares (``{2: s², 4: m₄}``):
  exact derivations use them (a moment it does not declare is an error naming it); the
  simulators cannot draw from it.

Ingredients of one sample (independent of each other and across samples):

* :class:`TokenMask` — the row's token is in the sample: ``m ∈ {0, 1}``, ``E m = p`` (the
  row's activity probability); a step updates the row when any sample of its batch
  holds the token.  At most one per law; a law without one has dense gradients.
* :class:`Mask` — another Bernoulli indicator, ``E m = q`` for a given expression ``q``.
* :class:`Scalar` — a real number drawn from a distribution (label noise).
* :class:`Vector` — a vector of ``R^d`` with i.i.d. entries drawn from a distribution of
  mean zero (``Vector(Gaussian(σ²))`` is ``N(0, σ² I_d)``); its inner products are
  integrated by the cumulant expansion of :mod:`sparsemom.derivations.engine.wick`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from ..core import symbols as S


class Distribution:
    """A distribution of one real number, known by its moments."""

    #: The SymPy expressions that define it (fingerprinted, checked for free symbols).
    arguments: tuple

    def moment(self, k: int) -> sp.Expr:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def cumulant(self, k: int) -> sp.Expr:
        """``κ_k`` from the moments: ``κ_n = m_n − Σ_{j=1}^{n−1} C(n−1, j−1) κ_j m_{n−j}``."""
        return _cumulant(self, k)

    def requirements(self, order: int) -> list[tuple[sp.Expr, bool, str]]:
        """``(f, strict, why)``: it is a distribution with finite moments up to ``order``
        where every ``f ≥ 0`` (``f > 0`` when strict)."""
        return []

    @property
    def free_symbols(self) -> set:
        return set().union(*(sp.sympify(a).free_symbols for a in self.arguments))


@lru_cache(maxsize=None)
def _cumulant(distribution: Distribution, k: int) -> sp.Expr:
    moments = [sp.Integer(1)] + [distribution.moment(j) for j in range(1, k + 1)]
    kappa = [sp.Integer(0)] * (k + 1)
    for n in range(1, k + 1):
        kappa[n] = sp.expand(moments[n] - sum(sp.binomial(n - 1, j - 1) * kappa[j] * moments[n - j]
                                              for j in range(1, n)))
    return kappa[k]


@dataclass(frozen=True)
class Gaussian(Distribution):
    r"""$N(0, \sigma^2)$: moments $E X^{2k} = \sigma^{2k} (2k - 1)!!$, odd moments 0.

    Parameters
    ----------
    variance : sympy.Expr or number
        $\sigma^2$, a number or an expression in the law's parameters.
    """

    variance: object = 1

    @property
    def arguments(self) -> tuple:
        return (sp.sympify(self.variance),)

    def moment(self, k: int) -> sp.Expr:
        if k % 2:
            return sp.Integer(0)
        return sp.sympify(self.variance) ** (k // 2) * sp.factorial2(k - 1)

    def cumulant(self, k: int) -> sp.Expr:
        return sp.sympify(self.variance) if k == 2 else sp.Integer(0)

    def requirements(self, order: int) -> list[tuple[sp.Expr, bool, str]]:
        return [(sp.sympify(self.variance), False, "a variance is ≥ 0")]


@dataclass(frozen=True)
class Discrete(Distribution):
    r"""Finitely many ``values`` $x_i$ taken with ``probabilities`` $\pi_i$:
    $E X^k = \sum_i \pi_i x_i^k$.

    Parameters
    ----------
    values : tuple
        The values (numbers or expressions).
    probabilities : tuple
        Their probabilities, which must sum to 1.
    """

    values: tuple
    probabilities: tuple

    def __post_init__(self):
        object.__setattr__(self, "values", tuple(sp.sympify(x) for x in self.values))
        object.__setattr__(self, "probabilities", tuple(sp.sympify(q) for q in self.probabilities))
        if len(self.values) != len(self.probabilities) or not self.values:
            raise ValueError(f"Discrete needs as many probabilities as values (at least one); "
                             f"got {len(self.values)} values and {len(self.probabilities)} "
                             "probabilities")
        if sp.simplify(sum(self.probabilities) - 1) != 0:
            raise ValueError(f"Discrete probabilities must sum to 1; they sum to "
                             f"{sp.simplify(sum(self.probabilities))}")

    @property
    def arguments(self) -> tuple:
        return (*self.values, *self.probabilities)

    def moment(self, k: int) -> sp.Expr:
        return sp.expand(sum(q * x**k for x, q in zip(self.values, self.probabilities)))

    def requirements(self, order: int) -> list[tuple[sp.Expr, bool, str]]:
        return [(q, False, f"the probability of {x} is ≥ 0")
                for x, q in zip(self.values, self.probabilities) if not q.is_nonnegative]


def rademacher() -> Discrete:
    r"""$\pm 1$ with probability ½ each ($E X^2 = E X^4 = 1$).

    Returns
    -------
    Discrete
        The distribution.
    """
    return Discrete((-1, 1), (sp.Rational(1, 2), sp.Rational(1, 2)))


def sparse_sign(q) -> Discrete:
    r"""$\pm 1/\sqrt{q}$ with probability $q/2$ each, else 0: $E X^2 = 1$, $E X^4 = 1/q$.

    Parameters
    ----------
    q : sympy.Expr or number
        The probability of a non-zero value, in $(0, 1]$.

    Returns
    -------
    Discrete
        The distribution.
    """
    q = sp.sympify(q)
    return Discrete((-1 / sp.sqrt(q), 0, 1 / sp.sqrt(q)), (q / 2, 1 - q, q / 2))


@dataclass(frozen=True)
class StudentT(Distribution):
    r"""Student's t with $\nu$ degrees of freedom times ``scale``: heavy tailed, its moments of
    order $k$ exist for $k < \nu$ only (declare $\nu$'s interval accordingly).

    Parameters
    ----------
    dof : sympy.Expr or number
        $\nu$, the degrees of freedom.
    scale : sympy.Expr or number
        The factor the t variable is multiplied by.
    """

    dof: object
    scale: object = 1

    @property
    def arguments(self) -> tuple:
        return (sp.sympify(self.dof), sp.sympify(self.scale))

    def moment(self, k: int) -> sp.Expr:
        if k % 2:
            return sp.Integer(0)
        nu, c = self.arguments
        return c**k * nu ** (k // 2) * sp.Mul(*(sp.Integer(2 * i - 1) / (nu - 2 * i)
                                                for i in range(1, k // 2 + 1)))

    def requirements(self, order: int) -> list[tuple[sp.Expr, bool, str]]:
        """``ν > order``: the moments of order ``k`` are finite for ``k < ν`` only."""
        nu = sp.sympify(self.dof)
        return [(nu - max(order, 0), True, f"moments of order {order} of a Student t are "
                 "finite only for degrees of freedom above it")]


@dataclass(frozen=True)
class Moments(Distribution):
    r"""A distribution given by its moments $E X^k$ ($k \ge 1$); odd moments not given are 0 when
    ``symmetric``, any other moment not given is an error (named when a derivation needs it).

    Parameters
    ----------
    moments : Mapping[int, sympy.Expr]
        Order $k \ge 1$ → $E X^k$.
    symmetric : bool
        Odd moments not given are 0.
    """

    moments: tuple
    symmetric: bool = True

    def __post_init__(self):
        given = dict(self.moments)
        if not given or not all(isinstance(k, int) and k >= 1 for k in given):
            raise ValueError(f"Moments needs a mapping of orders k ≥ 1 to E X^k; got {given!r}")
        object.__setattr__(self, "moments", tuple(sorted((k, sp.sympify(v))
                                                         for k, v in given.items())))

    @property
    def arguments(self) -> tuple:
        return tuple(v for _, v in self.moments)

    def moment(self, k: int) -> sp.Expr:
        given = dict(self.moments)
        if k in given:
            return given[k]
        if k % 2 and self.symmetric:
            return sp.Integer(0)
        raise ValueError(f"the derivation needs the moment E X^{k} of a Moments distribution, "
                         f"which declares only the orders {sorted(given)}")


class Ingredient:
    """A random quantity of one sample (see the module docstring)."""

    #: ``"vector"`` (an element of ``R^d``) or ``"scalar"``.
    shape: str = "scalar"

    @property
    def free_symbols(self) -> set:
        return set()

    def canonical(self) -> tuple:
        """What defines the ingredient (for a law's definition fingerprint)."""
        return (type(self).__name__,)

    def requirements(self, order: int) -> list[tuple[sp.Expr, bool, str]]:
        """What must hold for the ingredient to exist with finite moments up to ``order``
        (see :meth:`Distribution.requirements`)."""
        distribution = getattr(self, "distribution", None)
        return [] if distribution is None else distribution.requirements(order)


@dataclass(frozen=True)
class TokenMask(Ingredient):
    r"""$m = 1$ when the sample holds the row's token: $E m^k = p$ for $k \ge 1$ (the row's
    activity probability ``p``).
    """

    @property
    def probability(self) -> sp.Expr:
        return S.p

    def canonical(self) -> tuple:
        return ("TokenMask",)


@dataclass(frozen=True)
class Mask(Ingredient):
    r"""A Bernoulli indicator: $E m^k = q$ for $k \ge 1$.

    Parameters
    ----------
    probability : sympy.Expr or number
        $q$, in $[0, 1]$.
    """

    probability: object

    @property
    def free_symbols(self) -> set:
        return sp.sympify(self.probability).free_symbols

    def canonical(self) -> tuple:
        return ("Mask", sp.sympify(self.probability))

    def requirements(self, order: int) -> list[tuple[sp.Expr, bool, str]]:
        q = sp.sympify(self.probability)
        return [(q, False, "a probability is ≥ 0"), (1 - q, False, "a probability is ≤ 1")]


@dataclass(frozen=True)
class Scalar(Ingredient):
    """A real number drawn from ``distribution`` (a label noise, a scale).

    Parameters
    ----------
    distribution : Distribution
        Its law (:class:`Gaussian`, :class:`Discrete`, :class:`StudentT`, :class:`Moments`).
    """

    distribution: Distribution

    @property
    def free_symbols(self) -> set:
        return self.distribution.free_symbols

    def canonical(self) -> tuple:
        return ("Scalar", type(self.distribution).__name__, self.distribution.arguments)


@dataclass(frozen=True)
class Vector(Ingredient):
    r"""A vector of $\mathbb{R}^d$ with i.i.d. entries drawn from ``distribution`` (mean zero).

    Parameters
    ----------
    distribution : Distribution
        The law of each entry.
    """

    distribution: Distribution
    shape = "vector"

    @property
    def free_symbols(self) -> set:
        return self.distribution.free_symbols

    def canonical(self) -> tuple:
        return ("Vector", type(self.distribution).__name__, self.distribution.arguments)


def gaussian_vector(variance=1) -> Vector:
    r"""$N(0, \sigma^2 I_d)$.

    Parameters
    ----------
    variance : sympy.Expr or number
        $\sigma^2$.

    Returns
    -------
    Vector
        The ingredient.
    """
    return Vector(Gaussian(variance))


def gaussian_noise(variance) -> Scalar:
    r"""$N(0, \sigma^2)$ label noise.

    Parameters
    ----------
    variance : sympy.Expr or number
        $\sigma^2$.

    Returns
    -------
    Scalar
        The ingredient.
    """
    return Scalar(Gaussian(variance))


__all__ = ["Distribution", "Gaussian", "Discrete", "StudentT", "Moments", "rademacher", "sparse_sign",
           "Ingredient", "TokenMask", "Mask", "Scalar", "Vector", "gaussian_vector",
           "gaussian_noise"]
