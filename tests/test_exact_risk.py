"""exact_risk: the public API, float vs exact agreement, rows, divergence."""

from fractions import Fraction as F

import numpy as np
import pytest
from swept_rules import SWEPT_RULES

from sparsemom.derivations.definitions.optimizers import UPDATE_RULES
from sparsemom.numerics import DivergenceWarning, exact_risk
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer


def test_public_api_example():
    p = np.array([0.3, 0.01, 0.2])
    R0 = np.array([1.0, 2.0, 0.5])
    m = SparseLeastSquares(d=50, p=p, R0=R0, sigma2=0.1)
    o = Optimizer("heavy-ball", lr=0.01, beta=0.8, batch=4)
    r = exact_risk(m, o, steps=60)
    assert r.shape == (61,) and r.dtype == np.float64
    assert r[0] == 0.5 * np.sum(p * R0)
    assert np.all(np.isfinite(r)) and r[-1] < r[0]


@pytest.mark.parametrize("name", SWEPT_RULES)
def test_float_matches_exact(name):
    beta = UPDATE_RULES[name].example_beta([F(1, 2), F(9, 10)])
    m = SparseLeastSquares(d=7, p=[F(1, 2), F(1, 50)], R0=[1, 3], sigma2=F(1, 10))
    o = Optimizer(name, lr=[F(1, 10), F(1, 5)], beta=beta, batch=3,
                  **UPDATE_RULES[name].example_hyper_parameters())
    exact = exact_risk(m, o, 40, backend="exact")
    approx = exact_risk(m, o, 40)
    assert isinstance(exact[-1], F)
    np.testing.assert_allclose(approx, exact.astype(float), rtol=1e-13)


def test_stream_is_sum_of_rows():
    p, R0, lr, beta = [0.5, 0.05, 0.002], [1.0, 2.0, 3.0], [0.1, 0.3, 0.5], [0.5, 0.9, 0.95]
    stream = exact_risk(SparseLeastSquares(10, p, R0, 0.2),
                        Optimizer("lazy", lr=lr, beta=beta, batch=2), 50)
    rows = sum(exact_risk(SparseLeastSquares(10, p[i], R0[i], 0.2),
                          Optimizer("lazy", lr=lr[i], beta=beta[i], batch=2), 50)
               for i in range(3))
    np.testing.assert_allclose(stream, rows, rtol=1e-14)


def test_zero_steps():
    assert exact_risk(SparseLeastSquares(3, 0.5, 2.0), Optimizer("sgd", lr=0.1), 0).tolist() == [0.5]


def test_noise_floor():
    """With s² > 0 and a stable step the risk settles at a positive floor."""
    r = exact_risk(SparseLeastSquares(5, 0.5, 1.0, sigma2=0.5),
                   Optimizer("heavy-ball", lr=0.05, beta=0.5), 4000)
    assert 0 < r[-1] < r[0] and abs(r[-1] - r[-2]) < 1e-12 * r[-1]


def test_divergence_is_flagged_not_nan():
    """sgd with lr above 2B/(d + 2 + (B − 1)p) blows up: inf and a warning, never NaN."""
    m = SparseLeastSquares(d=10, p=0.5)
    with pytest.warns(DivergenceWarning, match="overflowed float64 at step"):
        r = exact_risk(m, Optimizer("sgd", lr=0.5), 5000)
    assert not np.any(np.isnan(r)) and np.isinf(r[-1])
    first = int(np.argmax(np.isinf(r)))
    assert np.all(np.isfinite(r[:first])) and np.all(np.diff(r[:first]) > 0)


def test_exact_backend_keeps_exact_inputs():
    r = exact_risk(SparseLeastSquares(2, F(1, 2), R0=1), Optimizer("sgd", lr=F(1, 4)), 1,
                   backend="exact")
    # E‖e_1‖² = (1 − 2ηp + η²p(d + 2)) R0 with d = 2, B = 1.
    assert r[1] == F(1, 2) * F(1, 2) * (1 - 2 * F(1, 4) * F(1, 2) + F(1, 16) * F(1, 2) * 4)
