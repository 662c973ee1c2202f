"""The forcing of random features split into its pure-point and absolutely continuous parts
(``PowerLawRandomFeatures.forcing_components``, ``risk_parts``' ``forcing_split``)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sparsemom.numerics import Optimizer
from sparsemom.numerics.inputs import spectra
from sparsemom.numerics.inputs.spectra import PowerLawRandomFeatures, power_law_covariance
from sparsemom.numerics.studies.scaling.risk_parts import risk_parts


def _definition(U, t, far):
    """``(Σ_j U_jk² t_j², Σ_{j < k/far} U_jk² t_j²)`` by loops over ``j, k`` from 1."""
    v, d = U.shape
    diagonal, continuous = np.zeros(d), np.zeros(d)
    for k in range(1, d + 1):
        for j in range(1, v + 1):
            w = U[j - 1, k - 1] ** 2 * t[j - 1] ** 2
            diagonal[k - 1] += w
            if j * far < k:
                continuous[k - 1] += w
    return diagonal, continuous


@pytest.mark.parametrize("v,d,block", [(40, 13, 2), (13, 13, 5), (9, 30, 7), (64, 17, 256)])
def test_the_weights_are_their_definition_for_any_column_block(v, d, block, monkeypatch):
    """The diagonal and far sums equal the loops of their definition, whatever the column
    blocks (``COLUMN_BLOCK`` 2, 5, 7 and the default), ``v`` above, at and below ``d``."""
    monkeypatch.setattr(spectra, "COLUMN_BLOCK", block)
    rng = np.random.default_rng(v * d)
    U = np.linalg.qr(rng.standard_normal((v, min(v, d))))[0]
    t = rng.standard_normal(v)
    for got, want in zip(spectra._diagonal_weights(U, t), _definition(U, t, spectra.FAR)):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-300)


def test_the_cross_terms_have_mean_zero_over_the_signs_of_ws_rows():
    """Flipping the sign of rows of ``W`` leaves its law unchanged: over all ``2^v`` sign
    patterns (``v = 8``, ``d = 3``) the spectrum and both weights stay put, and the cross
    terms ``(Uᵀt)_k² − Σ_j U_jk² t_j²`` average to zero (to rounding), so the floor's
    average is ``‖t‖² − Σ_k Σ_j U_jk² t_j²``."""
    v, d = 8, 3
    rng = np.random.default_rng(11)
    j = np.arange(1, v + 1, dtype=float)
    M = np.sqrt(j ** -1.4)[:, None] * rng.standard_normal((v, d))
    t = j ** (-0.7 - 0.6)
    reference = spectra._spectrum_float64(M, t, 15)
    cross, mean_residual = np.zeros(d), 0.0
    for signs in itertools.product((1.0, -1.0), repeat=v):
        s = np.array(signs)
        sigma, projections, residual, _, diagonal, far = spectra._spectrum_float64(
            s[:, None] * M, t, 15)
        np.testing.assert_allclose(sigma, reference[0], rtol=1e-12)
        np.testing.assert_allclose(diagonal, reference[4], rtol=1e-10)
        np.testing.assert_allclose(far, reference[5], rtol=1e-10, atol=1e-18)
        cross += projections ** 2 - diagonal
        mean_residual += residual / 2 ** v
    assert np.max(np.abs(cross / 2 ** v)) < 1e-14 * np.max(reference[1] ** 2)
    assert mean_residual == pytest.approx(np.sum(t ** 2) - np.sum(reference[4]), rel=1e-12)
    assert np.max(np.abs(reference[1] ** 2 - reference[4])) > 1e-3 * np.max(reference[4])


@pytest.mark.parametrize("name,hyper", [("sgd", dict(lr=0.3)),
                                        ("heavy-ball", dict(lr=0.1, beta=0.6)),
                                        ("dana", dict(lr=0.2, g3=0.02, delta=0.3))])
def test_the_components_sum_to_the_forcing(name, hyper):
    """Pure point + absolutely continuous + cross = the forcing at every step; the first two
    are non-negative, and the absolutely continuous part is zero on the first ``FAR`` modes
    (no coordinate is ``FAR`` times stiffer)."""
    model = PowerLawRandomFeatures(0.7, 0.6, 96, 24, seed=2)
    components = model.forcing_components()
    assert set(components) == {"pure_point", "absolutely_continuous"}
    assert (components["absolutely_continuous"][:spectra.FAR] == 0).all()
    parts = risk_parts(model, Optimizer(name, batch=2, **hyper), np.arange(0, 400, 9))
    split = parts.forcing_split
    assert set(split) == {"pure_point", "absolutely_continuous", "cross"}
    np.testing.assert_allclose(sum(split.values()), parts.forcing, rtol=1e-12, atol=1e-15)
    assert (split["pure_point"] >= 0).all() and (split["absolutely_continuous"] >= 0).all()
    assert split["absolutely_continuous"][-1] > split["pure_point"][-1]   # it leads late


def test_a_covariance_has_no_split_and_the_mpmath_spectrum_agrees():
    """The truncated power law's target lies on its eigenvectors: no split. The mpmath SVD
    gives the float64 components to 1e-12."""
    parts = risk_parts(power_law_covariance(0.7, 0.6, 32), Optimizer("sgd", lr=0.3),
                       [0, 10, 100])
    assert parts.forcing_split == {}
    fast = PowerLawRandomFeatures(0.7, 0.6, 24, 8, seed=3).forcing_components()
    slow = PowerLawRandomFeatures(0.7, 0.6, 24, 8, seed=3, precision="mpmath").forcing_components()
    for name in fast:
        np.testing.assert_allclose(fast[name], slow[name], rtol=1e-12, atol=1e-14)
