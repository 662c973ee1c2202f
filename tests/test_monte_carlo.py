"""The dense Monte Carlo simulator: reproducibility, divergence accounting, and the
Monte Carlo rung that `sparsemom verify` runs."""

import numpy as np
import pytest

from sparsemom.numerics.inputs.models import SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk
from sparsemom.numerics.verify.rungs import check_monte_carlo, monte_carlo_cases

CASES = list(monte_carlo_cases())


@pytest.mark.parametrize("case", CASES[::3], ids=lambda c: f"{c[0]}-{c[1]}")
def test_verify_rung(case):
    result = check_monte_carlo(*case)
    assert result.passed, result.detail


def test_reproducible_from_seed():
    _, _, model, opt = CASES[2]
    a = monte_carlo_risk(model, opt, 5, 3000, seed=11)
    b = monte_carlo_risk(model, opt, 5, 3000, seed=11)
    c = monte_carlo_risk(model, opt, 5, 3000, seed=12)
    assert np.array_equal(a.mean, b.mean) and not np.array_equal(a.mean, c.mean)


def test_diverged_runs_are_counted_not_averaged():
    model, opt = SparseLeastSquares(d=10, p=0.5), Optimizer("sgd", lr=2.0)
    with pytest.warns(RuntimeWarning, match="runs overflowed"):
        mc = monte_carlo_risk(model, opt, 600, 200, seed=1)
    assert mc.diverged > 0 and not np.any(np.isnan(mc.mean))


def test_unknown_time_rule():
    with pytest.raises(ValueError, match="time must be one of 'steps', 'active'"):
        monte_carlo_risk(SparseLeastSquares(3, 0.5), Optimizer("sgd", lr=0.1), 5, 10, 0,
                         time="wall")


def _simulators():
    from sparsemom.numerics.inputs.models import RareClassLogistic
    from sparsemom.numerics.simulate.logistic import monte_carlo_logistic
    from sparsemom.numerics.simulate.sparse import sparse_monte_carlo_risk
    model = SparseLeastSquares(d=3, p=[0.5, 0.25], R0=1.0, sigma2=0.1)
    opt = Optimizer("heavy-ball", lr=0.2, beta=0.5, batch=2)
    logistic = RareClassLogistic(6, 0.2, 1.5)
    return {
        "dense": lambda seed: monte_carlo_risk(model, opt, 4, 1500, seed=seed),
        "sparse": lambda seed: sparse_monte_carlo_risk(model, opt, 4, 1500, seed=seed),
        "logistic": lambda seed: monte_carlo_logistic(logistic, opt, 4, 5, seed=seed),
    }


def _values(result):
    return result.statistics if hasattr(result, "statistics") else result.mean


@pytest.mark.parametrize("simulator", ["dense", "sparse", "logistic"])
def test_seed_is_an_int_a_seed_sequence_or_a_generator(simulator):
    """SeedSequence(n) is the int n (bit for bit); a SeedSequence is not advanced by a
    run (the same object gives the same result again, 1500 runs span two blocks); a
    Generator is drawn from (equal generators agree, one generator twice differs)."""
    run = _simulators()[simulator]
    by_int = run(11)
    same = np.random.SeedSequence(11)
    assert np.array_equal(_values(run(same)), _values(by_int))
    assert np.array_equal(_values(run(same)), _values(by_int))
    assert by_int.metadata["seed"] == 11 and run(same).metadata["seed"] == 11
    child = np.random.SeedSequence(11).spawn(2)[1]
    spawned = run(child)
    assert not np.array_equal(_values(spawned), _values(by_int))
    assert spawned.metadata["seed"] == "SeedSequence(entropy=11, spawn_key=(1,))"
    generator = np.random.default_rng(5)
    first, second = run(generator), run(generator)
    assert not np.array_equal(_values(first), _values(second))
    assert np.array_equal(_values(run(np.random.default_rng(5))), _values(first))
    assert first.metadata["seed"].startswith("SeedSequence(entropy=[")


@pytest.mark.parametrize("simulator", ["dense", "sparse", "logistic"])
@pytest.mark.parametrize("seed", [1.5, "3", None, True, -1, np.random.RandomState(0)],
                         ids=["float", "str", "None", "bool", "negative", "RandomState"])
def test_a_seed_of_another_kind_is_refused(simulator, seed):
    with pytest.raises(ValueError, match=r"seed must be an integer ≥ 0(, a numpy.random."
                                         r"SeedSequence or a numpy.random.Generator)?; got"):
        _simulators()[simulator](seed)


def test_studies_take_every_kind_of_seed_and_check_it_up_front():
    from sparsemom.numerics.analysis.mean_field_convergence import StudySetup
    from sparsemom.numerics.analysis.phase_map import phase_map
    from sparsemom.numerics.inputs.seeds import offset_seed
    with pytest.raises(ValueError, match="seed must be an integer ≥ 0, a numpy"):
        StudySetup(seed=2.5)
    with pytest.raises(ValueError, match="seed must be an integer ≥ 0, a numpy"):
        phase_map("lsq", "heavy-ball", 0.5, [0.25], [0.5], seed="x")
    StudySetup(seed=np.random.SeedSequence(1))
    StudySetup(seed=np.random.default_rng(1))
    # the studies' per-dimension seeds: n + d for an int (as before), a child otherwise
    assert offset_seed(2026, 100).entropy == 2126
    sequence = np.random.SeedSequence(7, spawn_key=(3,))
    assert offset_seed(sequence, 100).spawn_key == (3, 100)
    assert offset_seed(sequence, 100).generate_state(4).tolist() == \
        offset_seed(sequence, 100).generate_state(4).tolist()
    assert offset_seed(sequence, 100).generate_state(4).tolist() != \
        offset_seed(sequence, 200).generate_state(4).tolist()
