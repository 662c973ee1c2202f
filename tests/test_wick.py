"""Gaussian expectations by Wick/Isserlis against known moments of N(0, I_d)."""

import sympy as sp

from sparsemom.derivations.core.symbols import d
from sparsemom.derivations.core.vectors import Dot
from sparsemom.derivations.engine.wick import gaussian_expectation

x, y, e, v = sp.symbols("x y e v")
G = {x: 1}
GG = {x: 1, y: 2}


def E(*dots, gaussian=G):
    return gaussian_expectation(list(dots), gaussian, d)


def test_second_moment_is_identity():
    assert E(Dot(x, e), Dot(x, v)) == Dot(e, v)
    assert E(Dot(x, x)) == d


def test_fourth_moment_factor_d_plus_2():
    assert sp.expand(E(Dot(x, x), Dot(x, e), Dot(x, e)) - (d + 2) * Dot(e, e)) == 0
    assert sp.expand(E(Dot(x, x), Dot(x, x)) - d * (d + 2)) == 0
    assert sp.expand(E(Dot(x, e), Dot(x, e), Dot(x, v), Dot(x, v))
                     - (Dot(e, e) * Dot(v, v) + 2 * Dot(e, v) ** 2)) == 0


def test_odd_moments_vanish():
    assert E(Dot(x, e)) == 0
    assert E(Dot(x, e), Dot(x, e), Dot(x, v)) == 0


def test_independent_samples_do_not_pair():
    assert E(Dot(x, e), Dot(y, v), gaussian=GG) == 0
    assert E(Dot(x, y), Dot(x, y), gaussian=GG) == d
    assert sp.expand(E(Dot(x, y), Dot(x, e), Dot(y, e), gaussian=GG) - Dot(e, e)) == 0
