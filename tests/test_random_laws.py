"""Property test of the data-law API (issue 31): random laws — a token mask or none, a
further mask, scalars and one or two vectors drawn from Gaussian, Student-t and discrete
(symmetric, and mean-zero skewed) distributions, gradients mixing the vectors, inner
products of the sample's vectors, the scalars and the error ``e`` (weight decay),
coefficients with per-row parameters — registered through the public API and checked
against an exact oracle written here from the law's definition, not from the engine.

The oracle.  A step of a linear rule maps the state ``s = (e, v, …)`` of one row (a vector
of ``R^{n d}``) to ``s' = M s + c`` with ``(M, c)`` a function of the step's data only
(the gradient is affine in ``e``), independent of the past; so ``m = E s`` and ``S = E s
s^T`` follow ``m' = E[M] m + E[c]``, ``S' = E[M S M^T] + E[M m c^T] + E[c m^T M^T] +
E[c c^T]`` exactly, with the expectations over one step's data taken by enumerating every
outcome of every sample of the batch in rationals (``d = 2``, every coordinate).  No
isotropy is assumed: the oracle works in coordinates.  A Gaussian ``N(0, c²/3)`` is
replaced by ``±c`` with probability ``1/6`` each and ``0`` with ``2/3`` (three-point
Gauss–Hermite: its moments agree with the Gaussian's up to order 5), and Student-t with
``ν = 16``, scale ``c`` by ``±2c`` with probability ``1/7`` each (moments up to order 5
agree); this is exact because the generator keeps the degree of the gradient in every
such ingredient at most 2, so the second moments use its moments up to order 4.  The
rules (SGD, heavy ball, Nesterov, lazy) are written out here as well.

The engine's exact backend must equal the oracle in rationals; so must the exact-moment
expansion (``sparsemom.numerics.simulate.exact_moments``); a law the engine refuses as not closing
must indeed depend on more than ``‖e_0‖²`` (checked with two initial errors of the same
norm); the float backends agree with the exact one.
"""

from __future__ import annotations

import itertools
import random
from fractions import Fraction as F

import numpy as np
import pytest
import sympy as sp

from sparsemom.derivations import (
    DataLaw,
    Discrete,
    Gaussian,
    LawParameter,
    Mask,
    Scalar,
    StudentT,
    TokenMask,
    Vector,
    register_law,
    unregister_law,
)
from sparsemom.derivations.core.vectors import Dot, LinearVector
from sparsemom.derivations.engine.wick import MomentsDoNotClose
from sparsemom.numerics import Model, Optimizer, exact_risk
from sparsemom.numerics.simulate.exact_moments import expanded_risk

D, STEPS = 2, 3
#: Two initial errors with ‖e_0‖² = 1: off the axes, and on one.
E0, E0_AXIS = (F(3, 5), F(4, 5)), (F(1), F(0))
LR, BETA = F(1, 4), F(1, 2)

# -- parameters: symbol, spec, the two rows' values -------------------------------------
lam = sp.Symbol("lam", positive=True)
c = sp.Symbol("c", positive=True)
q = sp.Symbol("qm", positive=True)
sig = sp.Symbol("sig", positive=True)
PARAMETERS = {
    lam: (LawParameter(lam, lower=0, lower_open=True), (F(1, 2), F(3, 2))),
    c: (LawParameter(c, lower=0, lower_open=True), (F(2, 3), F(1))),
    q: (LawParameter(q, lower=0, upper=1, lower_open=True), (F(1, 3), F(3, 4))),
    sig: (LawParameter(sig, lower=0, lower_open=True, per_row=False), (F(1, 2), F(1, 2))),
}


class Law:
    """A distribution both as the engine's ingredient and as the oracle's finite support
    (a function of the row's parameter values); ``limited``: its support matches the
    distribution's moments up to order 5 only."""

    def __init__(self, distribution, support, limited=False):
        self.distribution, self.support, self.limited = distribution, support, limited


def _values(row):
    return {s: values[row] for s, (_, values) in PARAMETERS.items()}


#: Distributions of vector entries (mean zero) and of scalars (any mean).
ENTRIES = [
    Law(Gaussian(c**2 / 3), lambda r: [(-r[c], F(1, 6)), (F(0), F(2, 3)), (r[c], F(1, 6))],
        limited=True),
    Law(Gaussian(sp.Rational(1, 3)), lambda r: [(F(-1), F(1, 6)), (F(0), F(2, 3)),
                                                (F(1), F(1, 6))], limited=True),
    Law(StudentT(16, sig), lambda r: [(-2 * r[sig], F(1, 7)), (F(0), F(5, 7)),
                                      (2 * r[sig], F(1, 7))], limited=True),
    Law(Discrete((-c, c), (sp.Rational(1, 2), sp.Rational(1, 2))),
        lambda r: [(-r[c], F(1, 2)), (r[c], F(1, 2))]),
    Law(Discrete((-1, 0, 1), (q / 2, 1 - q, q / 2)),
        lambda r: [(F(-1), r[q] / 2), (F(0), 1 - r[q]), (F(1), r[q] / 2)]),
    Law(Discrete((-2, 1), (sp.Rational(1, 3), sp.Rational(2, 3))),     # skewed: κ3 = −2
        lambda r: [(F(-2), F(1, 3)), (F(1), F(2, 3))]),
]
SCALARS = ENTRIES + [
    Law(Discrete((0, 2), (sp.Rational(1, 2), sp.Rational(1, 2))),
        lambda r: [(F(0), F(1, 2)), (F(2), F(1, 2))]),
    Law(Discrete((1, 3), (q, 1 - q)), lambda r: [(F(1), r[q]), (F(3), 1 - r[q])]),
]


# -- a random law: ingredients, gradient terms ------------------------------------------
def _random_law(rng: random.Random, name: str):
    """``(DataLaw, spec)``; ``spec`` holds what the oracle needs: each ingredient's kind
    and support, the gradient's terms ``(vector or 'e', [monomials])`` with monomials
    ``(constant, parameter or None, [(scalar atom, power)], dot or None)``, risk weight."""
    kinds = {}
    if rng.random() < 0.6:
        kinds["m"] = ("token", None)
    if rng.random() < 0.3:
        kinds["k"] = ("mask", rng.choice([q, sp.Rational(1, 3)]))
    for i in range(rng.choice([0, 1, 2])):
        kinds[f"s{i}"] = ("scalar", rng.choice(SCALARS))
    vectors = [f"x{i}" for i in range(rng.choice([1, 1, 2]))]
    for v in vectors:
        kinds[v] = ("vector", rng.choice(ENTRIES))
    scalars = [n for n, (k, _) in kinds.items() if k != "vector"]
    token = [n for n, (k, _) in kinds.items() if k == "token"]

    def monomial(vector_term: bool):
        const = F(rng.choice([-2, -1, 1, 1, 2, 3]), rng.choice([1, 2, 3]))
        parameter = rng.choice([None, None, lam, c])
        atoms = [(n, rng.choice([1, 1, 2])) for n in rng.sample(scalars, rng.randint(0, min(2, len(scalars))))]
        dot = None
        if vector_term and rng.random() < 0.8:
            u = rng.choice(vectors)
            w = rng.choice(["e", "e", *vectors])
            dot = (u, w)
        return const, parameter, atoms, dot

    terms = [(v, [monomial(True) for _ in range(rng.choice([1, 2]))]) for v in vectors]
    if rng.random() < 0.4:
        terms.append(("e", [monomial(False)]))
    if token and rng.random() < 0.8:      # the usual sparse law: G = 0 without the token
        terms = [(v, [(k, p, [*a, (token[0], 1)], dt) for k, p, a, dt in ms]) for v, ms in terms]
    weight = rng.choice([F(1, 2), F(1)])
    risk_parameter = rng.choice([None, lam])
    spec = dict(kinds=kinds, terms=terms, weight=weight, risk_parameter=risk_parameter)

    def gradient(sample, error):
        atom = lambda n: error if n == "e" else sample.atoms[n]   # noqa: E731
        out = {}
        for v, monomials in terms:
            coefficient = sp.Integer(0)
            for const, parameter, atoms, dot in monomials:
                x = sp.Rational(const.numerator, const.denominator) * (parameter or 1)
                for n, power in atoms:
                    x *= sample.atoms[n] ** power
                if dot:
                    x *= Dot(atom(dot[0]), atom(dot[1]))
                coefficient += x
            out[atom(v)] = out.get(atom(v), 0) + coefficient
        return LinearVector(out)

    ingredients = {}
    for n, (kind, what) in kinds.items():
        ingredients[n] = {"token": lambda: TokenMask(), "mask": lambda: Mask(what),
                          "scalar": lambda: Scalar(what.distribution),
                          "vector": lambda: Vector(what.distribution)}[kind]()
    w = sp.Rational(weight.numerator, weight.denominator) * (risk_parameter or 1)
    law = DataLaw(name=name, title="a random law", ingredients=ingredients, gradient=gradient,
                  risk=lambda energy: w * energy,
                  parameters=[spec for spec, _ in PARAMETERS.values()])
    return law, spec


def _degree_ok(spec) -> bool:
    """Every ingredient whose support matches moments up to order 5 only enters the
    gradient with degree ≤ 2 (the second moments then use its moments up to order 4)."""
    for n, (kind, what) in spec["kinds"].items():
        if kind not in ("scalar", "vector") or not what.limited:
            continue
        for v, monomials in spec["terms"]:
            for _, _, atoms, dot in monomials:
                degree = (v == n) + sum(p for a, p in atoms if a == n) + \
                    (dot.count(n) if dot else 0)
                if degree > 2:
                    return False
    return True


# -- the oracle -------------------------------------------------------------------------
def _sample_outcomes(spec, r):
    """Every outcome of one sample and its probability: ``({ingredient: value}, prob)``,
    a vector's value a tuple of ``D`` coordinates."""
    names, supports = [], []
    for n, (kind, what) in spec["kinds"].items():
        names.append(n)
        if kind == "token":
            supports.append([(F(0), 1 - r[PARAMETER_P]), (F(1), r[PARAMETER_P])])
        elif kind == "mask":
            prob = r[what] if isinstance(what, sp.Symbol) else F(int(what.p), int(what.q))
            supports.append([(F(0), 1 - prob), (F(1), prob)])
        elif kind == "scalar":
            supports.append(what.support(r))
        else:
            supports.append([(tuple(x for x, _ in combo), _product(w for _, w in combo))
                             for combo in itertools.product(what.support(r), repeat=D)])
    for combo in itertools.product(*supports):
        yield dict(zip(names, (x for x, _ in combo))), _product(w for _, w in combo)


def _product(xs):
    out = F(1)
    for x in xs:
        out *= x
    return out


def _dot(u, w):
    return sum(a * b for a, b in zip(u, w))


def _sample_gradient(spec, outcome, r, e):
    vec = lambda n: e if n == "e" else outcome[n]   # noqa: E731
    out = [F(0)] * D
    for v, monomials in spec["terms"]:
        coefficient = F(0)
        for const, parameter, atoms, dot in monomials:
            x = const * (r[parameter] if parameter is not None else 1)
            for n, power in atoms:
                x *= outcome[n] ** power
            if dot:
                x *= _dot(vec(dot[0]), vec(dot[1]))
            coefficient += x
        out = [o + coefficient * y for o, y in zip(out, vec(v))]
    return out


def _axpy(a, x, y):
    return [a * xi + yi for xi, yi in zip(x, y)]


#: The rules, written from their definitions: state (e, v), gradient g, activity a.
def _sgd(e, v, g, a):
    return _axpy(-LR, g, e), v


def _heavy_ball(e, v, g, a):
    v = _axpy(BETA, v, g)
    return _axpy(-LR, v, e), v


def _nesterov(e, v, g, a):
    v = _axpy(BETA, v, g)
    return _axpy(-LR, _axpy(BETA, v, g), e), v


def _lazy(e, v, g, a):
    v = [(1 - a) * vi + a * (BETA * vi + gi) for vi, gi in zip(v, g)]
    return _axpy(-a * LR, v, e), v


RULES = {"sgd": _sgd, "heavy-ball": _heavy_ball, "nesterov": _nesterov, "lazy": _lazy}
PARAMETER_P = sp.Symbol("p")


def oracle_risk(spec, rule: str, batch: int, row: int, e0, steps: int = STEPS) -> list[F]:
    """``w E‖e_k‖²`` of one row for ``k = 0..steps`` (module docstring)."""
    r = {**_values(row), PARAMETER_P: (F(1, 3), F(1, 2))[row]}
    step = RULES[rule]
    n = 2 * D                       # state (e, v)
    outcomes = list(_sample_outcomes(spec, r))
    EM = [[F(0)] * n for _ in range(n)]
    Ec = [F(0)] * n
    EMM = {}                        # (i, j, k, l) → E M_ij M_kl
    EMc = [[[F(0)] * n for _ in range(n)] for _ in range(n)]   # E M_ij c_k
    Ecc = [[F(0)] * n for _ in range(n)]
    EMM = [[[[F(0)] * n for _ in range(n)] for _ in range(n)] for _ in range(n)]
    for batch_outcome in itertools.product(outcomes, repeat=batch):
        prob = _product(w for _, w in batch_outcome)
        a = F(1)
        if "m" in spec["kinds"]:
            a = F(1) - _product(1 - o["m"] for o, _ in batch_outcome)

        def apply(s):
            e, v = s[:D], s[D:]
            g = [F(0)] * D
            for o, _ in batch_outcome:
                g = _axpy(F(1, batch), _sample_gradient(spec, o, r, e), g)
            e, v = step(e, v, g, a)
            return [*e, *v]

        cvec = apply([F(0)] * n)
        M = [[None] * n for _ in range(n)]
        for j in range(n):
            col = apply([F(int(i == j)) for i in range(n)])
            for i in range(n):
                M[i][j] = col[i] - cvec[i]
        for i in range(n):
            Ec[i] += prob * cvec[i]
            for j in range(n):
                EM[i][j] += prob * M[i][j]
                Ecc[i][j] += prob * cvec[i] * cvec[j]
                pm = prob * M[i][j]
                if pm:
                    for k in range(n):
                        EMc[i][j][k] += pm * cvec[k]
                        for l in range(n):
                            EMM[i][j][k][l] += pm * M[k][l]
    m = [*e0, *([F(0)] * D)]
    S = [[mi * mj for mj in m] for mi in m]
    weight = spec["weight"] * (r[spec["risk_parameter"]] if spec["risk_parameter"] else 1)
    out = [weight * sum(S[i][i] for i in range(D))]
    for _ in range(steps):
        S = [[sum(EMM[i][j][k][l] * S[j][l] for j in range(n) for l in range(n))
              + sum(EMc[i][j][k] * m[j] + EMc[k][j][i] * m[j] for j in range(n)) + Ecc[i][k]
              for k in range(n)] for i in range(n)]
        m = [sum(EM[i][j] * m[j] for j in range(n)) + Ec[i] for i in range(n)]
        out.append(weight * sum(S[i][i] for i in range(D)))
    return out


# -- the test ---------------------------------------------------------------------------
CASES = 40


#: The most outcomes of one step the oracle enumerates.
OUTCOMES = 3000


def _case(seed: int):
    rng = random.Random(seed)
    while True:
        law, spec = _random_law(rng, f"random-law-{seed}")
        count = sum(1 for _ in _sample_outcomes(spec, _values(0) | {PARAMETER_P: F(1, 3)}))
        if _degree_ok(spec) and count <= OUTCOMES:
            batch = rng.choice([1, 2]) if count**2 <= OUTCOMES else 1
            return law, spec, rng.choice(list(RULES)), batch


@pytest.mark.parametrize("seed", range(CASES))
def test_a_random_law_is_derived_exactly(seed):
    law, spec, rule, batch = _case(seed)
    register_law(law)
    try:
        values = {h.name: list(x) if h.per_row else x[0]
                  for h, x in PARAMETERS.values()}
        model = Model(law.name, D, R0=[1, 1], **values, **({"p": [F(1, 3), F(1, 2)]}
                                                            if law.uses_p else {}))
        hyper = {"beta": BETA} if rule != "sgd" else {}
        opt = Optimizer(rule, lr=LR, batch=batch, **hyper)
        oracle = [sum(x) for x in zip(*(oracle_risk(spec, rule, batch, i, E0)
                                       for i in range(2)))]
        try:
            exact = list(exact_risk(model, opt, STEPS, backend="exact"))
        except (MomentsDoNotClose, ValueError) as exc:
            axis = [sum(x) for x in zip(*(oracle_risk(spec, rule, batch, i, E0_AXIS)
                                          for i in range(2)))]
            assert axis != oracle, f"refused a law whose moments close: {exc}"
            return
        assert exact == oracle, (spec, rule, batch)
        steps = STEPS if batch == 1 else 2            # the expansion grows fast with B
        assert expanded_risk(model, opt, steps, [E0, E0]) == oracle[:steps + 1]
        floats = np.array(exact_risk(model, opt, 12, backend="numpy"), dtype=float)
        ref = np.array(exact_risk(model, opt, 12, backend="exact"), dtype=float)
        np.testing.assert_allclose(floats, ref, rtol=1e-12, atol=1e-300)
    finally:
        unregister_law(law.name)
