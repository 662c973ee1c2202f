"""The SymPy symbols shared by every derivation.

Parameters carry the names of the mathematics (η, β, p, B, d, s²); the Python
names follow the public API (``lr``, ``beta``, ``p``, ``batch``, ``d``,
``sigma2``).  The random quantities of one batch (a law's ingredients: masks, noise,
random vectors) are :class:`~sympy.Dummy` symbols made by :func:`sample_symbols`: they never appear in a
derived result, and no symbol a user writes (a buffer ``x_1``, a hyper-parameter
``m_1``) can be mistaken for one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
#: Unit vector along the rare-class mean μ (a vector atom of the logistic statistics).
mu_hat = sp.Symbol("mu_hat")

#: Step-activity indicator a = 1 − Π_b (1 − m_b): 1 when any sample of the
#: batch carries the row's token.
active = sp.Symbol("a", nonnegative=True)

#: Probability that a step is active, p_B = 1 − (1 − p)^B.
active_probability = 1 - (1 - p) ** batch

#: Parameters of the least-squares recursion, in the order numeric code uses.
PARAMETERS = (lr, beta, p, batch, d, sigma2)


class Sample:
    """The random quantities of sample ``b`` of a batch: one ``Dummy`` symbol per ingredient
    of the data law, read by the ingredient's name (``sample.x``, ``sample["xi"]``)."""

    __slots__ = ("index", "atoms")

    def __init__(self, index: int, atoms: dict[str, sp.Symbol]):
        self.index = index
        self.atoms = dict(atoms)

    def __getattr__(self, name: str) -> sp.Symbol:
        try:
            return self.atoms[name]
        except KeyError:
            raise AttributeError(f"the law has no ingredient {name!r}; its ingredients are "
                                 f"{sorted(self.atoms)}") from None

    def __getitem__(self, name: str) -> sp.Symbol:
        return getattr(self, name)

    def __repr__(self) -> str:
        return f"Sample({self.index}, {sorted(self.atoms)})"


@dataclass(frozen=True)
class IndexedSymbols:
    """A family of symbols ``prefix_1``, ``prefix_2``, … (``prefix_12`` for entry (1, 2))
    the engine makes as it needs them (roots ``lambda_i``, matrix entries ``a_ij``,
    characteristic coefficients ``chi_j``).  Every family is listed in :data:`FAMILIES`,
    so a rule's hyper-parameter is refused a name of one of them."""

    prefix: str
    assumptions: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        FAMILIES.append(self)

    def __call__(self, *index: int) -> sp.Symbol:
        return sp.Symbol(f"{self.prefix}_{''.join(map(str, index))}", **self.assumptions)

    def holds(self, name: str) -> bool:
        """``name`` is the name of a symbol of this family."""
        return re.fullmatch(rf"{re.escape(self.prefix)}_\d+", name) is not None


#: Every :class:`IndexedSymbols` family the engine has made.
FAMILIES: list[IndexedSymbols] = []

_ATOMS: dict[tuple, sp.Dummy] = {}


def sample_symbols(b: int, ingredients) -> Sample:
    """Symbols for sample ``b`` (1-based) of a batch of a law with ``ingredients`` (name →
    :class:`~sparsemom.derivations.definitions.ingredients.Ingredient`): the same ``Dummy`` symbols at every call
    in a process (printed ``_x_1``, ``_xi_1``).  Masks are nonnegative, scalars real."""
    atoms = {}
    for name, ingredient in ingredients.items():
        kind = type(ingredient).__name__
        key = (name, kind, b)
        if key not in _ATOMS:
            assumptions = ({"nonnegative": True} if kind.endswith("Mask") else
                           {} if ingredient.shape == "vector" else {"real": True})
            _ATOMS[key] = sp.Dummy(f"{name}_{b}", **assumptions)
        atoms[name] = _ATOMS[key]
    return Sample(b, atoms)


def is_idle_power(x: sp.Expr) -> bool:
    """``(1 − p)^{jB}`` for an integer ``j``: the chance of ``j`` idle batches."""
    return bool(x.is_Pow and x.base == 1 - p and (x.exp / batch).is_Integer)


def with_idle_powers(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every ``(p − 1)^{jB}`` — the form ``factor`` gives a lone ``(1 − p)^{jB}``,
    as ``(−1)^{jB} (p − 1)^{jB}`` — written ``(−1)^{jB} (1 − p)^{jB}`` (the signs cancel)."""
    return sp.sympify(expr).replace(
        lambda x: bool(x.is_Pow and x.base == p - 1 and (x.exp / batch).is_Integer),
        lambda x: (-1) ** x.exp * (1 - p) ** x.exp)


def replace_idle_powers(expr: sp.Expr, idle: sp.Expr) -> sp.Expr:
    """Write every ``(1 − p)^{jB}`` in ``expr`` as ``idle^j`` (``idle`` stands for
    ``(1 − p)^B``: a symbol for fast algebra, or ``1 − p_B`` for stable numerics)."""
    return with_idle_powers(expr).replace(is_idle_power, lambda x: idle ** (x.exp / batch))


#: The coefficients ``chi_j`` of a characteristic polynomial ``λ^n + χ_1 λ^{n−1} + … + χ_n``.
CHI = IndexedSymbols("chi")
