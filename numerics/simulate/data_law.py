"""Numeric form of a data law, from its symbolic definition, for the simulators.

A law (:mod:`sparsemom.derivations.definitions.laws`) declares the ingredients of one sample and its gradient
``G = Σ_u c_u u`` over the sample's vectors ``u`` (and the error ``e``); each coefficient
``c_u`` is a function of the sample's scalars (masks, noise), the projections ``⟨u, e⟩``,
the inner products ``⟨u, w⟩`` of its vectors and the parameters (``p``, ``B``, ``d`` and
the law's own).  :class:`NumericLaw` lambdifies the coefficients, the ingredients'
distribution parameters, the risk weight ``w`` (``R = w ‖e‖²``) and the active
probability once per law (:func:`numeric_function`: no formula is typed twice);
:class:`LawSampler` binds a model's numbers (scalars or one value per row) and draws
every ingredient of a block of samples, each sample for one row:

* ``TokenMask``: ``m ~ Bernoulli(p_i)``; ``Mask``: ``m ~ Bernoulli(q)``, ``q`` at the row's
  parameters;
* ``Scalar`` (one number), ``Vector`` (``d`` i.i.d. entries) from its distribution:
  ``Gaussian(σ²)``: ``σ · N(0, 1)``; ``Discrete(x, q)``: ``x_k`` with probability ``q_k``;
  ``StudentT(ν, c)``: ``c · t_ν``.

Samples of a leading shape ``S`` hold scalars as ``S + (1,)`` and vectors as ``S + (d,)``;
``rows`` (``None``: the last axis of ``S`` runs over all rows; else one row index per
sample) places each sample's parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from sparsemom.derivations import symbols as S
from sparsemom.derivations.core.vectors import Dot
from sparsemom.derivations.definitions.ingredients import (
    Discrete,
    Gaussian,
    Mask,
    StudentT,
    TokenMask,
)
from sparsemom.derivations.definitions.optimizers import e
from sparsemom.numerics.codegen.expressions import stable_form
from sparsemom.numerics.kernels.numeric_function import numeric_function


def _bernoulli(arguments):
    (q,) = arguments
    if np.any((q < 0) | (q > 1)):
        raise ValueError(f"probability must be in [0, 1]; got {_shown(q)}")
    return lambda rng, size, q: (rng.random(size) < q).astype(float), q


def _gaussian(arguments):
    (variance,) = arguments
    if np.any(variance < 0):
        raise ValueError(f"Gaussian variance must be >= 0; got {_shown(variance)}")
    if np.ndim(variance) == 0 and variance == 1:
        return (lambda rng, size: rng.standard_normal(size),)
    return lambda rng, size, sd: sd * rng.standard_normal(size), np.sqrt(variance)


def _discrete(arguments):
    half = len(arguments) // 2
    values, probabilities = arguments[:half], arguments[half:]
    if any(np.any((q < 0) | (q > 1)) for q in probabilities):
        raise ValueError(f"Discrete probabilities must be in [0, 1]; got "
                         f"{[_shown(q) for q in probabilities]}")
    thresholds = tuple(np.cumsum(np.broadcast_arrays(*probabilities), axis=0)[:-1])

    def draw(rng, size, *arguments):
        """``x_k`` where ``u ~ U(0, 1)`` falls in ``[Σ_{j<k} q_j, Σ_{j≤k} q_j)``."""
        u = rng.random(size)
        out = np.empty(size)
        out[...] = arguments[0]
        for value, threshold in zip(arguments[1:half], arguments[half:]):
            np.copyto(out, value, where=u >= threshold)
        return out
    return draw, *values, *thresholds


def _student_t(arguments):
    dof, scale = arguments
    if np.any(dof <= 0):
        raise ValueError(f"StudentT dof must be > 0; got {_shown(dof)}")
    if np.ndim(scale) == 0 and scale == 1:
        return lambda rng, size, dof: rng.standard_t(dof, size), dof
    return lambda rng, size, dof, scale: scale * rng.standard_t(dof, size), dof, scale


#: How each kind of ingredient or distribution is drawn: ``prepare(arguments)`` checks the
#: evaluated arguments (scalars or one value per row) and returns ``(draw, *inputs)`` with
#: ``draw(rng, size, *inputs at the samples' rows)``.
SAMPLING: dict[type, Callable] = {TokenMask: _bernoulli, Mask: _bernoulli, Gaussian: _gaussian,
                                  Discrete: _discrete, StudentT: _student_t}


def _distribution_of(ingredient):
    """What is drawn for ``ingredient`` (itself for a mask) and its SymPy arguments."""
    if isinstance(ingredient, (TokenMask, Mask)):
        return ingredient, (sp.sympify(ingredient.probability),)
    return ingredient.distribution, tuple(ingredient.distribution.arguments)


def _shown(x) -> str:
    x = np.asarray(x)
    return str(x.item()) if x.ndim == 0 else f"{x.min():.6g} … {x.max():.6g} over the rows"


@dataclass(frozen=True)
class _Ingredient:
    """One ingredient: its name, its atom in a sample, what is drawn (a key of
    :data:`SAMPLING`), whether it is a vector, and its arguments as a numeric function of
    the model's symbols."""

    name: str
    atom: sp.Symbol
    kind: type
    vector: bool
    arguments: Callable


class NumericLaw:
    """A law's numeric functions (see the module docstring); :func:`numeric_law` caches
    one per law."""

    def __init__(self, law):
        if not law.closed_moments:
            raise ValueError(f"model must have a law with closed second moments for these "
                             f"Monte Carlo simulators; the {law.title} law closes through its "
                             "own statistics (its closure): simulate it with its own simulator "
                             "(sparsemom.numerics.simulate.logistic for the rare class)")
        self.law = law
        sample = law.sample(1)
        self.parameters = law.model_symbols
        self.ingredients = []
        for name, ingredient in law.ingredients.items():
            kind, arguments = _distribution_of(ingredient)
            if type(kind) not in SAMPLING:
                raise ValueError(f"law {law.name!r}: ingredient {name!r} draws from "
                                 f"{type(kind).__name__}, which the simulators cannot sample "
                                 f"(they sample {', '.join(t.__name__ for t in SAMPLING)})")
            self.ingredients.append(_Ingredient(name, sample.atoms[name], type(kind),
                                                ingredient.shape == "vector",
                                                numeric_function(arguments, self.parameters)))
        self.token = sample.atoms[law.token_mask] if law.token_mask else None
        gradient = law.sample_gradient(sample, e)
        self.terms = tuple(gradient.terms)              # vector atoms (and e) of G
        coefficients = [sp.sympify(c) for c in gradient.terms.values()]
        dots = sorted(set().union(*(c.atoms(Dot) for c in coefficients)), key=sp.default_sort_key)
        self.dots = tuple(dot.args for dot in dots)     # (u, w): ⟨u, w⟩
        names = {dot: sp.Dummy(f"dot{i}") for i, dot in enumerate(dots)}
        self.scalars = tuple(x.atom for x in self.ingredients if not x.vector)
        self.coefficients = numeric_function([c.xreplace(names) for c in coefficients],
                                             (*self.scalars, *names.values(), *self.parameters))
        #: ``G = 0`` for a sample without the row's token (rows outside a batch are idle).
        self.idle_without_token = law.idle_without_token
        self.risk_weight = numeric_function(law.risk_weight(), self.parameters)
        self.active_probability = numeric_function(stable_form(law.active_probability),
                                                   self.parameters)


@lru_cache(maxsize=None)
def numeric_law(law) -> NumericLaw:
    """The :class:`NumericLaw` of ``law`` (a registered :class:`~sparsemom.derivations.definitions.laws.DataLaw`;
    cached per law object, so a redefined law gets its own)."""
    return NumericLaw(law)


@dataclass(frozen=True)
class LawSampler:
    """A model's law with its numbers, for a batch of ``batch`` samples per step.

    ``values`` maps ``p`` (when used), ``B``, ``d`` and the law's parameters to floats or
    per-row arrays; ``draws`` holds, per ingredient, how it is drawn and its per-row
    inputs; ``risk_weights`` is ``w`` per row (``R_i = w_i ‖e_i‖²``).
    """

    numeric: NumericLaw
    rows: int
    d: int
    batch: int
    values: dict
    draws: tuple
    risk_weights: np.ndarray

    @property
    def has_token(self) -> bool:
        """Samples hold the row's token with probability ``p`` (sparse updates); otherwise
        every step updates every row."""
        return self.numeric.token is not None

    @property
    def values_per_sample(self) -> int:
        """Numbers drawn per sample (a vector counts ``d``)."""
        return sum(self.d if x.vector else 1 for x in self.numeric.ingredients)

    def active_probability(self, batch: int | None = None) -> np.ndarray:
        """``P(a batch of batch samples updates row i)`` per row (``p_B = 1 − (1 − p)^B``
        with a token mask, in the kernels' stable form; 1 without)."""
        values = {**self.values, S.batch: float(self.batch if batch is None else batch)}
        with np.errstate(divide="ignore"):  # p = 1: log1p(−1) = −∞ gives exactly 1
            out = self.numeric.active_probability(*(values[s] for s in self.numeric.parameters))
        return np.broadcast_to(np.asarray(out, dtype=float), (self.rows,))

    def draw(self, rng: np.random.Generator, shape: tuple, rows=None,
             token=None) -> dict[sp.Symbol, np.ndarray]:
        """Every ingredient of samples of leading shape ``shape`` (in declaration order),
        with the parameters at the samples' rows: a map from the sample's atoms and the
        parameter symbols to arrays.  ``token`` (e.g. ``1.0``) replaces the drawn token
        mask (a sparse stream draws which row a sample holds itself)."""
        out = {s: _at(x, rows) for s, x in self.values.items()}
        for ingredient, (draw, *inputs) in zip(self.numeric.ingredients, self.draws):
            if ingredient.atom == self.numeric.token and token is not None:
                out[ingredient.atom] = token
                continue
            size = (*shape, self.d if ingredient.vector else 1)
            out[ingredient.atom] = draw(rng, size, *(_at(x, rows) for x in inputs))
        return out

    def gradient(self, samples: dict, error: np.ndarray) -> np.ndarray:
        """``G = Σ_u c_u u`` per sample, ``error`` (``e``) broadcast against the vectors."""
        numeric = self.numeric
        vectors = {**samples, e: error}
        dots = [np.sum(vectors[u] * vectors[w], axis=-1, keepdims=True) for u, w in numeric.dots]
        coefficients = numeric.coefficients(*(samples[s] for s in numeric.scalars), *dots,
                                            *(samples[s] for s in numeric.parameters))
        total = None
        for c, atom in zip(coefficients, numeric.terms):
            term = c * vectors[atom]
            total = term if total is None else total + term
        return np.zeros_like(error) if total is None else total


def _at(x, rows):
    """Per-row values placed at samples: all rows on the last leading axis (``rows is
    None``) or one row per sample; scalars as they are."""
    if np.ndim(x) == 0:
        return x
    return x[:, None] if rows is None else x[rows, None]


def law_sampler(model, batch: int, rows: int | None = None) -> LawSampler:
    """The :class:`LawSampler` of ``model`` with ``batch`` samples per step over ``rows``
    rows (default: the model's; more when an optimizer has per-row values); a
    ``ValueError`` names an ingredient whose distribution is invalid at the model's
    parameters (a negative variance, a probability outside [0, 1], …)."""
    model.name   # refuses a model whose law was redefined
    if model.law.coupling is not None:
        raise ValueError(f"law {model.law.name!r} describes one mode of a row whose modes "
                         "couple; sample the whole row with sparsemom.numerics.simulate.covariance "
                         "(modes_monte_carlo_risk, features_monte_carlo_risk)")
    numeric = numeric_law(model.law)
    rows = model.rows if rows is None else rows
    values = {S.d: float(model.d), S.batch: float(batch)}
    for symbol, x in model.values.items():
        x = np.asarray(x, dtype=float)
        values[symbol] = x[()] if x.ndim == 0 else np.broadcast_to(x, (rows,))
    arguments = [values[s] for s in numeric.parameters]
    draws = []
    for ingredient in numeric.ingredients:
        evaluated = [np.asarray(a, dtype=float) for a in ingredient.arguments(*arguments)]
        where = f"law {model.law.name!r}: ingredient {ingredient.name!r}"
        if not all(np.all(np.isfinite(a)) for a in evaluated):
            raise ValueError(f"{where} has non-finite parameters at this model: "
                             f"{[_shown(a) for a in evaluated]}")
        try:
            draws.append(SAMPLING[ingredient.kind](evaluated))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    weights = numeric.risk_weight(*arguments)
    return LawSampler(numeric, rows, model.d, batch, values, tuple(draws),
                      np.broadcast_to(np.asarray(weights, dtype=float), (rows,)))
