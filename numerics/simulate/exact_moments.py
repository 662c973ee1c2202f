"""The exact-moment rung: ``E R_k`` by brute-force polynomial expansion.

Independent of the derivation engine's expectation rules, this expands the
error ``e_k`` of every row *in coordinates* as a polynomial in all the data of
``k`` steps — token masks, Gaussian input coordinates, label noise — using the
same model and optimizer *definitions* (the per-sample gradient and the update
rule), squares it, and takes the expectation monomial by monomial:

* Gaussian coordinates: ``E x^n = (n − 1)!!`` (n even), 0 (n odd), independent;
* noise: ``E ξ^n = (s²)^{n/2} (n − 1)!!`` (n even), 0 (n odd);
* token masks: each sample carries at most one token, so the masks of one
  sample are exclusive (``m_i m_j = 0``, ``m_i² = m_i``) and ``E m_i = p_i``.

Everything is rational, so the result is exact.  It is exponential in the
number of steps; use it for ``d ≤ 2``, ``B ≤ 2``, ``k ≤ 3``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import ring

from derivations import symbols as S
from derivations.optimizers import e as E_ATOM
from derivations.optimizers import g as G_ATOM
from derivations.symbols import SampleSymbols
from derivations.vectors import Dot, LinearVector
from numerics.inputs.validation import check_integer
from numerics.simulate.data_law import risk_weight


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


def _double_factorial(n: int) -> int:
    out = 1
    while n > 1:
        out *= n
        n -= 2
    return out


class _Expansion:
    """Polynomial ring of the data of ``steps`` steps, and its moment rules."""

    def __init__(self, rows: int, d: int, batch: int, steps: int):
        names, self.kind = [], []
        self.index = {}
        for t in range(steps):
            for b in range(batch):
                for i in range(rows):
                    self.index[("m", t, b, i)] = len(names)
                    names.append(f"m_{t}_{b}_{i}")
                    self.kind.append(("mask", (t, b), i))
                self.index[("xi", t, b)] = len(names)
                names.append(f"xi_{t}_{b}")
                self.kind.append(("noise", None, None))
                for j in range(d):
                    self.index[("x", t, b, j)] = len(names)
                    names.append(f"x_{t}_{b}_{j}")
                    self.kind.append(("gauss", None, None))
        self.ring, *self.gens = ring(names, QQ)
        self.mask_groups: dict[tuple, list[int]] = {}
        for k, (kind, group, _) in enumerate(self.kind):
            if kind == "mask":
                self.mask_groups.setdefault(group, []).append(k)

    def var(self, *key):
        return self.gens[self.index[key]]

    def reduce(self, poly):
        """Apply ``m² = m`` and ``m_i m_j = 0`` (one token per sample)."""
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
            key = tuple(exps)
            out[key] = out.get(key, 0) + coeff
        return self.ring({m: c for m, c in out.items() if c})

    def expectation(self, poly, p: list[Fraction], sigma2: Fraction) -> Fraction:
        total = Fraction(0)
        for monom, coeff in poly.items():
            value = Fraction(int(coeff.numerator), int(coeff.denominator))
            for k, n in enumerate(monom):
                if not n:
                    continue
                kind, _, row = self.kind[k]
                if kind == "mask":
                    value *= p[row]
                elif n % 2:
                    value = Fraction(0)
                elif kind == "gauss":
                    value *= _double_factorial(n - 1)
                else:
                    value *= sigma2 ** (n // 2) * _double_factorial(n - 1)
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
    p = _require_exact("p", model.p)
    rows = len(p)
    hyper = {}
    for symbol, values in optimizer.values.items():
        x = _require_exact(optimizer.keyword_of(symbol), values)
        hyper[symbol] = x * rows if len(x) == 1 else x
    multipliers = {s: _require_exact(f"{optimizer.keyword_of(s)} schedule", m)
                   for s, m in optimizer.multipliers(steps).items()}
    sigma2 = _require_exact("sigma2", model.sigma2)[0]
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

    data = _Expansion(rows, model.d, optimizer.batch, steps)
    zero = data.ring.zero
    update = rule.apply()

    def exact(x: Fraction):
        return zero + QQ(x.numerator, x.denominator)

    state = [{u: [exact(x) for x in (e0 if u == E_ATOM else start[u])[i]] if u == E_ATOM or
              u in start else [zero] * model.d for u in rule.state} for i in range(rows)]

    weight = risk_weight(model.name)  # E R = w(p) E‖e‖²: the model's risk is linear in ‖e‖²

    def risk() -> Fraction:
        total = Fraction(0)
        for i in range(rows):
            energy = data.reduce(sum((x * x for x in state[i][observed]), zero))
            value = data.expectation(energy, p, sigma2)
            total += _fraction(weight.xreplace({S.p: _rational(p[i])})) * value
        return total

    out = [risk()]
    for t in range(steps):
        for i in range(rows):
            grad = [zero] * model.d
            none_active = zero + 1
            for b in range(optimizer.batch):
                sym = S.sample_symbols(b + 1)
                sample = SampleSymbols(b + 1, sym.mask, sym.noise, sym.x)
                scalars = {sym.mask: data.var("m", t, b, i), sym.noise: data.var("xi", t, b)}
                vectors = {sym.x: [data.var("x", t, b, j) for j in range(model.d)],
                           E_ATOM: state[i][E_ATOM]}
                G = _combine(model.law.sample_gradient(sample, E_ATOM), scalars, vectors, zero,
                             model.d)
                grad = [a + QQ(1, optimizer.batch) * c for a, c in zip(grad, G)]
                none_active = none_active * (1 - data.var("m", t, b, i))
            scalars = {s: exact(x[i] * (multipliers[s][t] if s in multipliers else 1))
                       for s, x in hyper.items()}
            scalars[S.active] = data.reduce(1 - none_active)
            vectors = {**state[i], G_ATOM: grad}
            state[i] = {u: [data.reduce(x) for x in
                            _combine(update[u], scalars, vectors, zero, model.d)]
                        for u in rule.state}
        out.append(risk())
    return out


def _vectors(name: str, values, rows: int, d: int) -> list[list[Fraction]]:
    """Rational vectors, one per row, of shape (rows, d)."""
    out = [[Fraction(x) for x in row] for row in values]
    if len(out) != rows or any(len(row) != d for row in out):
        raise ValueError(f"{name} must have shape ({rows}, {d})")
    return out
