"""The exact-moment rung: ``E R_k`` by brute-force polynomial expansion.

Independent of the derivation engine's expectation rules, this expands the
error ``e_k`` of every row *in coordinates* as a polynomial in all the data of
``k`` steps — every ingredient the law declares, a vector as its ``d`` coordinates —
using the same model and optimizer *definitions* (the law's per-sample gradient and
the update rule), squares it, and takes the expectation monomial by monomial from the
ingredients' distributions alone:

* a vector coordinate, a scalar: ``E X^n`` the ``n``-th moment of its distribution
  (coordinates independent; e.g. Gaussian ``(n − 1)!! σ^n``);
* other masks: ``E m^n = q``;
* token masks: each sample carries at most one token, so the masks of one sample are
  exclusive (``m_i m_j = 0``, ``m_i² = m_i``) and ``E m_i = p_i``.

Every ingredient except the token mask is shared by the rows of a sample; each row's
risk depends only on its own marginal law, which is the law's.  Everything is rational,
so the result is exact.  It is exponential in the number of steps; use it for ``d ≤ 2``,
``B ≤ 2``, ``k ≤ 3``.

A law whose modes couple (:class:`~sparsemom.derivations.definitions.laws.RowCoupling`,
Gaussian data) is expanded as the *whole row*, never through the engine's reduction:
each mode ``i`` has its own data ``x_i`` (the law's vector ingredient, with mode ``i``'s
parameters), the other scalar ingredients (label noise) are shared by all modes of a
sample, and the coupled scalar of mode ``j`` is the rest of the row's prediction error
``z_j = Σ_{i≠j} ⟨x_i, e_i⟩`` in the same data — the model ``x ~ N(0, K)``,
``G = x(⟨x, e⟩ − ξ)`` written in ``K``'s eigenbasis.  Cross-mode moments are thus kept,
and the oracle tests the engine's claim that the diagonal blocks plus the rank-one
coupling are exact.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import ring

from sparsemom.derivations import symbols as S
from sparsemom.derivations.core.vectors import Dot, LinearVector
from sparsemom.derivations.definitions.ingredients import Mask, TokenMask
from sparsemom.derivations.definitions.optimizers import e as E_ATOM
from sparsemom.derivations.definitions.optimizers import g as G_ATOM
from sparsemom.numerics.inputs.validation import check_integer


def _require_exact(name: str, values: np.ndarray) -> list[Fraction]:
    if values.dtype != object:
        raise ValueError(f"{name} must be given exactly (int or Fraction) for the exact rung")
    return [Fraction(x) for x in values.ravel()]


def _rational(x: Fraction) -> sp.Rational:
    return sp.Rational(x.numerator, x.denominator)


def _fraction(x: sp.Expr) -> Fraction:
    if not x.is_Rational:
        raise ArithmeticError(f"risk did not evaluate to a rational number: {x}")
    return Fraction(int(x.p), int(x.q))


class _Expansion:
    """Polynomial ring of the data of ``steps`` steps of a law, and its moment rules."""

    def __init__(self, law, rows: int, d: int, batch: int, steps: int, coupled: str | None = None):
        names, self.kind = [], []
        self.index = {}
        self.law = law

        def add(key, kind):
            self.index[key] = len(names)
            names.append("_".join(map(str, key)))
            self.kind.append(kind)

        for t in range(steps):
            for b in range(batch):
                for name, ingredient in law.ingredients.items():
                    if isinstance(ingredient, TokenMask):
                        for i in range(rows):
                            add((name, t, b, i), ("token", (t, b), i))
                    elif ingredient.shape == "vector" and coupled is not None:
                        for i in range(rows):       # each mode its own coordinates
                            for j in range(d):
                                add((name, t, b, i, j), ("moment", name, i))
                    elif ingredient.shape == "vector":
                        for j in range(d):
                            add((name, t, b, j), ("moment", name, None))
                    elif name == coupled:           # z_j: the other modes' ⟨x_i, e_i⟩
                        continue
                    else:
                        add((name, t, b), ("mask" if isinstance(ingredient, Mask) else "moment",
                                           name, None))
        self.ring, *self.gens = ring(names or ["unused"], QQ)
        self.mask_groups: dict[tuple, list[int]] = {}
        for k, (kind, group, _) in enumerate(self.kind):
            if kind == "token":
                self.mask_groups.setdefault(group, []).append(k)

    def var(self, *key):
        return self.gens[self.index[key]]

    def reduce(self, poly):
        """Apply ``m² = m`` to every mask and ``m_i m_j = 0`` (one token per sample)."""
        out = {}
        for monom, coeff in poly.items():
            exps = list(monom)
            dead = False
            for members in self.mask_groups.values():
                on = [k for k in members if exps[k]]
                if len(on) > 1:
                    dead = True
                    break
                for k in on:
                    exps[k] = 1
            if dead:
                continue
            for k, (kind, _, _) in enumerate(self.kind):
                if kind == "mask" and exps[k]:
                    exps[k] = 1
            key = tuple(exps)
            out[key] = out.get(key, 0) + coeff
        return self.ring({m: c for m, c in out.items() if c})

    def expectation(self, poly, p: list[Fraction], values: dict,
                    mode_values: list[dict] | None = None) -> Fraction:
        """``E poly`` with the row's parameter ``values`` (symbol → rational); a variable
        of mode ``i`` of a coupled row with ``mode_values[i]``."""
        moments: dict[tuple, Fraction] = {}

        def moment(name: str, n: int, mode) -> Fraction:
            if (name, n, mode) not in moments:
                x = self.law.ingredients[name]
                expr = x.probability if isinstance(x, Mask) else x.distribution.moment(n)
                at = values if mode is None else mode_values[mode]
                moments[name, n, mode] = _fraction(sp.nsimplify(sp.sympify(expr).xreplace(at)))
            return moments[name, n, mode]

        total = Fraction(0)
        for monom, coeff in poly.items():
            value = Fraction(int(coeff.numerator), int(coeff.denominator))
            for k, n in enumerate(monom):
                if not n:
                    continue
                kind, name, row = self.kind[k]
                value *= p[row] if kind == "token" else moment(name, n, row)
                if not value:
                    break
            total += value
        return total


def _interpret(expr: sp.Expr, scalars: dict, vectors: dict, zero):
    """Evaluate a SymPy scalar expression with ring elements and coordinate vectors."""
    if expr.is_Rational:
        return zero + QQ(int(expr.p), int(expr.q))
    if expr.is_Symbol:
        return scalars[expr]
    if isinstance(expr, Dot):
        u, w = (vectors[a] for a in expr.args)
        return sum((a * b for a, b in zip(u, w)), zero)
    if expr.is_Add:
        return sum((_interpret(a, scalars, vectors, zero) for a in expr.args), zero)
    if expr.is_Mul:
        out = zero + 1
        for a in expr.args:
            out = out * _interpret(a, scalars, vectors, zero)
        return out
    if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0:
        return _interpret(expr.base, scalars, vectors, zero) ** int(expr.exp)
    raise TypeError(f"cannot expand {expr!r} as a polynomial in the data")


def _combine(vector: LinearVector, scalars: dict, vectors: dict, zero, dim: int):
    out = [zero] * dim
    for atom, coeff in vector.terms.items():
        c = _interpret(coeff, scalars, vectors, zero)
        out = [o + c * x for o, x in zip(out, vectors[atom])]
    return out


def expanded_risk(model, optimizer, steps: int, initial_errors,
                  initial_buffers: dict | None = None, iterate: str = "e") -> list[Fraction]:
    """``E R_k`` for ``k = 0..steps`` by expanding in the data (exact rationals).

    ``initial_errors``: one rational vector ``e_0`` per row (shape rows × d), with
    ``‖e_0‖²`` equal to the model's ``R0``; ``initial_buffers``: buffer name → rational
    vectors per row (rows × d), for a start with non-zero buffers (default 0).  Every
    hyper-parameter of the optimizer, and every multiplier of its schedules, must be
    exact.  Buffers the rule starts at ``e_0`` (an averaged iterate) start there unless
    given.  ``iterate`` names the state vector whose risk is expanded (default ``e``).
    """
    steps = check_integer("steps", steps, minimum=0)
    law = model.law
    model.name   # refuses a model whose law was redefined
    coupled, vector = _coupled_ingredients(law)
    rows = model.rows
    own = {h.symbol: _require_exact(h.name, model.values[h.symbol]) for h in model.specs}
    own = {s: x * rows if len(x) == 1 else x for s, x in own.items()}
    p = own.get(S.p, [Fraction(1)] * rows)
    hyper = {}
    for symbol, values in optimizer.values.items():
        x = _require_exact(optimizer.keyword_of(symbol), values)
        hyper[symbol] = x * rows if len(x) == 1 else x
    multipliers = {s: _require_exact(f"{optimizer.keyword_of(s)} schedule", m)
                   for s, m in optimizer.multipliers(steps).items()}
    R0 = _require_exact("R0", model.R0)
    R0 = R0 * rows if len(R0) == 1 else R0
    e0 = _vectors("initial_errors", initial_errors, rows, model.d)
    if [sum(x * x for x in row) for row in e0] != R0:
        raise ValueError("initial_errors must have squared norms equal to the model's R0")
    rule = optimizer.rule
    buffers = {u.name: u for u in rule.buffers}
    unknown = sorted(set(initial_buffers or {}) - set(buffers))
    if unknown:
        raise ValueError(f"initial_buffers names {unknown}, which are not buffers of "
                         f"{optimizer.name!r} ({sorted(buffers)})")
    start = {u: e0 for u in rule.start_equal_to_error}
    start.update({buffers[name]: _vectors(f"initial_buffers[{name!r}]", x, rows, model.d)
                  for name, x in (initial_buffers or {}).items()})
    observed = rule.vector(iterate)

    data = _Expansion(law, rows, model.d, optimizer.batch, steps, coupled)
    zero = data.ring.zero
    update = rule.apply()

    def exact(x: Fraction):
        return zero + QQ(x.numerator, x.denominator)

    state = [{u: [exact(x) for x in (e0 if u == E_ATOM else start[u])[i]] if u == E_ATOM or
              u in start else [zero] * model.d for u in rule.state} for i in range(rows)]

    weight = law.risk_weight()  # E R = w E‖e‖²: a law's risk is linear in ‖e‖²
    row_values = [{S.d: sp.Integer(model.d), **{s: _rational(x[i]) for s, x in own.items()}}
                  for i in range(rows)]

    def risk() -> Fraction:
        total = Fraction(0)
        for i in range(rows):
            energy = data.reduce(sum((x * x for x in state[i][observed]), zero))
            value = data.expectation(energy, p, row_values[i], row_values)
            total += _fraction(weight.xreplace(row_values[i])) * value
        return total

    def coordinates(name: str, t: int, b: int, i: int) -> list:
        key = (name, t, b, i) if coupled is not None else (name, t, b)
        return [data.var(*key, j) for j in range(model.d)]

    out = [risk()]
    for t in range(steps):
        errors = [state[i][E_ATOM] for i in range(rows)]   # all modes at step t
        # each mode's prediction error ⟨x_m, e_m⟩ in every sample of the step, once
        predictions = [[sum((a * c for a, c in zip(coordinates(vector, t, b, m), errors[m])),
                            zero) for m in range(rows)]
                       for b in range(optimizer.batch)] if coupled is not None else []
        for i in range(rows):
            grad = [zero] * model.d
            none_active = zero + 1
            for b in range(optimizer.batch):
                sample = law.sample(b + 1)
                scalars = {s: zero + QQ(int(x.p), int(x.q)) for s, x in row_values[i].items()}
                vectors = {E_ATOM: state[i][E_ATOM]}
                for name, ingredient in law.ingredients.items():
                    atom = sample.atoms[name]
                    if isinstance(ingredient, TokenMask):
                        scalars[atom] = data.var(name, t, b, i)
                        none_active = none_active * (1 - scalars[atom])
                    elif ingredient.shape == "vector":
                        vectors[atom] = coordinates(name, t, b, i)
                    elif name == coupled:     # z_i = Σ_{m≠i} ⟨x_m, e_m⟩, the same data
                        scalars[atom] = sum((predictions[b][m] for m in range(rows) if m != i),
                                            zero)
                    else:
                        scalars[atom] = data.var(name, t, b)
                G = _combine(law.sample_gradient(sample, E_ATOM), scalars, vectors, zero,
                             model.d)
                grad = [a + QQ(1, optimizer.batch) * c for a, c in zip(grad, G)]
            if not law.token_mask:
                none_active = zero     # dense gradients: every step is active
            scalars = {s: exact(x[i] * (multipliers[s][t] if s in multipliers else 1))
                       for s, x in hyper.items()}
            scalars[S.active] = data.reduce(1 - none_active)
            vectors = {**state[i], G_ATOM: grad}
            state[i] = {u: [data.reduce(x) for x in
                            _combine(update[u], scalars, vectors, zero, model.d)]
                        for u in rule.state}
        out.append(risk())
    return out


def _coupled_ingredients(law) -> tuple[str | None, str | None]:
    """The names of the scalar ingredient through which a coupled law's modes meet and of
    its vector ingredient ``x`` (``(None, None)`` for a law of independent rows).  The
    oracle realizes the scalar as ``Σ_{i≠j} ⟨x_i, e_i⟩``
    over the law's one vector ingredient ``x``, whose variance must be the coupling
    weight (so that its variance is ``ϱ_j = Σ_{i≠j} w_i ‖e_i‖²``), and shares every other
    scalar ingredient between the modes, so none may depend on a mode's parameters."""
    coupling = law.coupling
    if coupling is None:
        return None, None
    vectors = {key: x for key, x in law.ingredients.items() if x.shape == "vector"}
    if len(vectors) != 1 or sp.simplify(next(iter(vectors.values())).distribution.moment(2)
                                        - coupling.weight) != 0:
        raise ValueError(f"the exact-moment oracle writes the coupled scalar of law {law.name!r} "
                         f"as the other modes' ⟨x_i, e_i⟩: it needs one vector ingredient whose "
                         f"variance is the coupling weight {coupling.weight}")
    per_mode = {h.symbol for h in law.parameters if getattr(h, "per_row", True)}
    name = None
    for key, x in law.ingredients.items():
        if x.shape == "vector" or isinstance(x, Mask):
            continue
        free = sp.sympify(x.distribution.moment(2)).free_symbols
        if coupling.variance in free:
            name = key
        elif free & per_mode:
            raise ValueError(f"the exact-moment oracle shares scalar ingredient {key!r} between "
                             f"the modes of a row; its law depends on a mode's parameters")
    return name, next(iter(vectors))


def _vectors(name: str, values, rows: int, d: int) -> list[list[Fraction]]:
    """Rational vectors, one per row, of shape (rows, d)."""
    out = [[Fraction(x) for x in row] for row in values]
    if len(out) != rows or any(len(row) != d for row in out):
        raise ValueError(f"{name} must have shape ({rows}, {d})")
    return out
