"""c vs numpy vs mpmath vs exact: every backend runs the same derived recursion."""

import os
import subprocess
import sys
import warnings
from fractions import Fraction as F

import mpmath
import numpy as np
import pytest
from swept_rules import SWEPT_RULES

from sparsemom.derivations import TIME_RULES, UPDATE_RULES
from sparsemom.numerics import DivergenceWarning, exact_risk
from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer


def stable_stream(name, rows, seed):
    """Random stable parameters: tokens from common to very rare (p down to 1e-9)."""
    rng = np.random.default_rng(seed)
    p = 10.0 ** rng.uniform(-9, np.log10(0.9), rows)
    d, batch = int(rng.integers(1, 200)), int(rng.integers(1, 9))
    lr = rng.uniform(0.05, 0.5, rows) * batch / (d + 2 + batch)
    beta = UPDATE_RULES[name].example_beta(rng.uniform(0.0, 0.95, rows))
    lr = lr * (1 - np.asarray(beta))
    model = SparseLeastSquares(d=d, p=p, R0=rng.uniform(0, 3, rows), sigma2=rng.uniform(0, 1))
    return model, Optimizer(name, lr=lr, beta=beta, batch=batch,
                            **UPDATE_RULES[name].example_hyper_parameters())


@pytest.mark.parametrize("time", TIME_RULES)
@pytest.mark.parametrize("name", SWEPT_RULES)
@pytest.mark.parametrize("rows, seed", [(1, 0), (23, 1), (25, 2), (300, 3)])
def test_c_numpy_mpmath_agree(name, rows, seed, time):
    model, opt = stable_stream(name, rows, seed)
    steps = 150
    c = exact_risk(model, opt, steps, backend="c", time=time)
    numpy = exact_risk(model, opt, steps, backend="numpy", time=time)
    mp = exact_risk(model, opt, steps, backend="mpmath", dps=30, time=time).astype(float)
    assert np.all(np.isfinite(c)) and c[-1] < c[0]
    np.testing.assert_allclose(c, mp, rtol=1e-12, atol=0)
    np.testing.assert_allclose(numpy, mp, rtol=1e-12, atol=0)
    assert np.array_equal(exact_risk(model, opt, steps, backend="auto", time=time), c)


@pytest.mark.parametrize("time", TIME_RULES)
@pytest.mark.parametrize("name", SWEPT_RULES)
def test_mpmath_matches_exact_rationals(name, time):
    beta = UPDATE_RULES[name].example_beta([F(1, 2), F(9, 10), F(0)])
    model = SparseLeastSquares(d=9, p=[F(1, 3), F(1, 1000), F(1)], R0=[1, F(5, 2), 2],
                               sigma2=F(3, 10))
    opt = Optimizer(name, lr=[F(1, 20), F(1, 7), F(1, 30)], beta=beta, batch=3,
                    **UPDATE_RULES[name].example_hyper_parameters())
    exact = exact_risk(model, opt, 60, backend="exact", time=time)
    mp = exact_risk(model, opt, 60, backend="mpmath", dps=50, time=time)
    with mpmath.workdps(60):
        rel = max(abs(m - mpmath.mpf(e.numerator) / e.denominator)
                  / (mpmath.mpf(e.numerator) / e.denominator) for m, e in zip(mp, exact))
    assert rel <= mpmath.mpf("1e-45")


def test_c_threads_deterministic_and_consistent():
    model, opt = stable_stream("heavy-ball", 100_000, 4)
    one = exact_risk(model, opt, 50, backend="c", threads=1)
    two = exact_risk(model, opt, 50, backend="c", threads=2)
    assert np.array_equal(two, exact_risk(model, opt, 50, backend="c", threads=2))
    np.testing.assert_allclose(one, two, rtol=1e-13)


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("name", SWEPT_RULES)
def test_divergence_flagged_in_every_float_backend(backend, name):
    """One unstable row among stable ones: inf from the overflow step on, a warning
    naming it, never NaN; in both backends the step is where the risk (mpmath) passes
    float64's largest value, or the step before it, when a moment of the state overflows
    before the weighted risk does (the association differs between backends)."""
    p = np.array([0.5, 0.01, 0.3])
    lr = np.array([0.05, 0.05, 3.0])  # the last row is far outside the stability region
    beta = UPDATE_RULES[name].example_beta(np.array([0.5, 0.9, 0.5]))
    model, opt = SparseLeastSquares(20, p), Optimizer(
        name, lr=lr, beta=beta, batch=2, **UPDATE_RULES[name].example_hyper_parameters())
    with pytest.warns(DivergenceWarning, match=r"overflowed float64 at step (\d+)") as rec:
        r = exact_risk(model, opt, 2000, backend=backend)
    step = int(str(rec[0].message).split("step ")[1].split(":")[0])
    assert not np.any(np.isnan(r))
    assert np.all(np.isinf(r[step:])) and np.all(np.isfinite(r[:step]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        other = exact_risk(model, opt, 2000, backend="numpy" if backend == "c" else "c")
    true = exact_risk(model, opt, step + 2, backend="mpmath", dps=30)
    first_over = next(k for k, x in enumerate(true) if x > np.finfo(float).max)
    for flagged in (step, int(np.argmax(np.isinf(other)))):
        assert flagged in (first_over - 1, first_over)


def test_auto_falls_back_to_numpy_without_a_compiler(tmp_path):
    code = (
        "import warnings, numpy as np\n"
        "from sparsemom.numerics import SparseLeastSquares, Optimizer\n"
        "from sparsemom.numerics import exact_risk, BackendFallbackWarning\n"
        "m, o = SparseLeastSquares(5, [0.2, 0.1]), Optimizer('lazy', lr=0.1, beta=0.5)\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    r = exact_risk(m, o, 30)\n"
        "    r2 = exact_risk(m, o, 30)\n"
        "assert [x.category for x in w] == [BackendFallbackWarning], w\n"
        "assert np.array_equal(r, exact_risk(m, o, 30, backend='numpy'))\n"
        "print(w[0].message)\n"
    )
    env = {**os.environ, "CC": str(tmp_path / "no-such-cc"), "SPARSEMOM_CACHE_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(__file__)))
    assert proc.returncode == 0, proc.stderr
    assert "C backend unavailable" in proc.stdout and "using the NumPy backend" in proc.stdout


def test_backend_arguments_validated():
    model, opt = SparseLeastSquares(3, 0.5), Optimizer("sgd", lr=0.1)
    with pytest.raises(ValueError, match="dps must be a positive integer"):
        exact_risk(model, opt, 3, backend="mpmath", dps=0)
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        exact_risk(model, opt, 3, backend="c", threads=0)
