"""Monte Carlo of the optimizer on Gaussian data with a covariance spectrum.

Two simulators of the actual stochastic optimizer, each recording the excess risk
``R(θ_k) = ½ (θ_k − θ*)ᵀ K (θ_k − θ*)`` of every run (the expectation over a new sample,
given ``θ_k``), whose mean :func:`~sparsemom.numerics.kernels.exact_risk.exact_risk` predicts:

* :func:`modes_monte_carlo_risk` — in ``K``'s eigenbasis: a sample is ``x_j ~ N(0, λ_j I_d)``
  for every mode at once and ``ξ ~ N(0, s²)``, the gradient ``(1/B) Σ_b x_b (⟨x_b, e⟩ − ξ_b)``;
* :func:`features_monte_carlo_risk` — power-law random features in feature space, nothing
  diagonalised: ``x ~ N(0, D)`` in ``R^v``, ``y = ⟨x, b⟩``, features ``φ = Wᵀx`` and the
  gradient ``(1/B) Σ_b φ_b (⟨φ_b, θ⟩ − y_b)`` of the squared loss; the risk uses ``K = WᵀDW``
  and ``θ*`` (:class:`~sparsemom.numerics.inputs.spectra.PowerLawRandomFeatures`).

The update is the rule's own (:func:`~sparsemom.numerics.simulate.update.apply_update`), with
the scheduled values of every step.
"""

from __future__ import annotations

import numpy as np

from sparsemom.derivations.definitions.optimizers import e
from sparsemom.numerics.inputs.seeds import check_seed, seed_sequence
from sparsemom.numerics.inputs.spectra import GaussianCovariance, PowerLawRandomFeatures
from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.kernels.numeric_function import numeric_function
from sparsemom.numerics.simulate.monte_carlo import (
    MonteCarloResult,
    simulate_in_blocks,
    simulation_metadata,
    summarise,
)
from sparsemom.numerics.simulate.update import apply_update


def modes_monte_carlo_risk(model: GaussianCovariance, optimizer, steps: int, runs: int, seed,
                           keep_trajectories: bool = False) -> MonteCarloResult:
    """``runs`` trajectories in the eigenbasis of ``K`` (module docstring); mean and
    standard error of the excess risk at ``k = 0..steps``.  ``e_{j,0} = (√R0_j, 0, …)``
    (the law is rotation invariant within a mode)."""
    if not isinstance(model, GaussianCovariance):
        raise ValueError(f"model must be a GaussianCovariance; got {type(model).__name__}")
    steps, runs, seed = _checked(steps, runs, seed, optimizer)
    lam = np.repeat(np.broadcast_to(np.asarray(model.eigenvalue, dtype=float), (model.modes,)),
                    model.d)
    e0 = np.zeros((model.modes, model.d))
    e0[:, 0] = np.sqrt(np.broadcast_to(np.asarray(model.R0, dtype=float), (model.modes,)))
    noise = float(np.sqrt(float(model.sigma2)))
    scale = np.sqrt(lam)
    weight = np.repeat(_risk_weights(model), model.d)   # the law's R = w ‖e‖², per mode

    def sample(rng, n, B):
        x = rng.standard_normal((n, B, lam.size)) * scale
        return x, noise * rng.standard_normal((n, B))

    def risk(error):
        return np.sum(weight * error ** 2, axis=-1)

    return _simulate(model, optimizer, steps, runs, seed, e0.ravel(), sample, risk,
                     keep_trajectories, "eigenbasis")


def _risk_weights(model) -> np.ndarray:
    """The law's risk weight ``w`` of ``R = w ‖e‖²`` (derived: ``λ_j / 2``) at every mode."""
    law = model.law
    symbols = tuple(law.symbols)
    f = numeric_function(law.risk_weight(), symbols)
    values = [np.asarray(model.values[s], dtype=float) for s in symbols]
    return np.broadcast_to(np.asarray(f(*values), dtype=float), (model.modes,))


def features_monte_carlo_risk(model: PowerLawRandomFeatures, optimizer, steps: int, runs: int,
                              seed, keep_trajectories: bool = False) -> MonteCarloResult:
    """``runs`` trajectories of power-law random features in feature space (module
    docstring), from ``θ_0 = 0``; mean and standard error of the excess risk."""
    if not isinstance(model, PowerLawRandomFeatures):
        raise ValueError(f"model must be a PowerLawRandomFeatures; got {type(model).__name__}")
    steps, runs, seed = _checked(steps, runs, seed, optimizer)
    W, b, optimum = model.W, model.target, model.optimum
    sd = np.sqrt(model.data_variances)
    K = W.T @ (model.data_variances[:, None] * W)
    def sample(rng, n, B):
        """Features and the residual ``y − ⟨φ, θ*⟩``: ``⟨φ, θ⟩ − y = ⟨φ, e⟩ − residual``."""
        x = rng.standard_normal((n, B, model.v)) * sd
        phi = x @ W
        return phi, x @ b - phi @ optimum

    def risk(error):
        return 0.5 * np.einsum("...i,ij,...j->...", error, K, error)

    return _simulate(model, optimizer, steps, runs, seed, -optimum, sample, risk,
                     keep_trajectories, "features")


def _checked(steps, runs, seed, optimizer):
    steps = check_integer("steps", steps, minimum=0)
    runs = check_integer("runs", runs, minimum=2)
    check_seed(seed)
    if any(np.ndim(x) for x in optimizer.values.values()):
        raise ValueError("per-row hyper-parameters are not simulated for coupled modes: give "
                         "the optimizer scalar values")
    return steps, runs, seed_sequence(seed)


def _simulate(model, optimizer, steps, runs, seed, e0, sample, risk, keep, simulator):
    """Trajectories of ``e = θ − θ*`` from ``e0``: per step ``(features, residual) =
    sample(rng, runs, B)``, ``g = (1/B) Σ_b φ_b (⟨φ_b, e⟩ − residual_b)``, the rule's update."""
    rule, B = optimizer.rule, optimizer.batch
    multipliers = optimizer.multipliers(steps)
    base = {s: float(x) for s, x in optimizer.values.items()}

    def block(n, rng):
        state = {u: np.zeros((n, e0.size)) for u in rule.state}
        state[e][:] = e0
        for u in rule.start_equal_to_error:
            state[u] = state[e].copy()
        out = np.empty((n, steps + 1))
        out[:, 0] = risk(state[e])
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(steps):
                values = {s: x * float(multipliers[s][t]) if s in multipliers else x
                          for s, x in base.items()}
                features, residual = sample(rng, n, B)
                prediction = np.einsum("nbi,ni->nb", features, state[e])
                grad = np.einsum("nbi,nb->ni", features, prediction - residual) / B
                state = apply_update(optimizer.name, state, grad, values, 1.0)
                out[:, t + 1] = risk(state[e])
        return out

    trajectories = simulate_in_blocks(runs, steps, seed, block)
    return summarise(trajectories, keep,
                     simulation_metadata(model, optimizer, simulator, seed, "steps", "e"))
