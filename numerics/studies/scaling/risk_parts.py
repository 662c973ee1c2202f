"""The exact risk curve of Gaussian data split into its parts, at any horizons.

With constant hyper-parameters the second moments of the modes are affine in the initial
state ``X_0`` and in the label noise ``s²`` (through the forcing ``c ∝ s²``), so the excess
risk splits exactly into what the target does and what the label noise adds; and the
target's part obeys the renewal equation ``S = F + K ∗ S`` (``docs/model.md``, model M3),
whose forcing ``F_k = Σ_j w_j · A_j^k X_{j,0}`` runs every mode by its block ``A_j`` alone:
without any of the gradient noise the row's risk feeds back (its own share included,
``A_j`` being the mode's map with ``u_j q_jᵀ`` taken out; for SGD
``A_j = (1 − ηλ_j)² + η²λ_j²/B``, the discrete counterpart of the gradient-flow forcing
``e^{−2ηλ_j t}`` of the continuized Volterra equation). So

    E R_k = forcing_k + kernel_k + label_noise_k + floor,

* ``forcing``: ``Σ_j w_j · A_j^k X_{j,0}`` (block powers by repeated squaring);
* ``kernel``: the target-only risk minus the forcing — SGD's own noise, fed back through
  the renewal kernel ``K_m = Σ_j q_j A_j^m u_j``;
* ``label_noise``: the risk minus the target-only risk (``X_0 = 0`` with the forcing);
* ``floor``: ``R_∞ = ½ s²``, what no ``θ`` removes.

The forcing is linear in the initial errors, so it splits further by the model's
:meth:`~sparsemom.numerics.inputs.spectra.GaussianCovariance.forcing_components` (for random
features the pure-point and the absolutely continuous parts, and the cross terms, of mean
zero over the features, as the remainder): :attr:`RiskParts.forcing_split`.

The two risks come from :func:`~sparsemom.numerics.kernels.coupled_horizon.coupled_risk_at`
(a contour integral per horizon: ``k = 10^{12}`` costs what ``k = 10^3`` does), so a curve
over ``d^{2α}`` steps never iterates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sparsemom.derivations.definitions.covariance import eigenvalue
from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.inputs.spectra import GaussianCovariance
from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.kernels import coupled
from sparsemom.numerics.kernels.coupled_horizon import MAX_STEP, TOLERANCE, coupled_risk_at

#: The parts of :class:`RiskParts`, in the order they are summed and plotted.
PARTS = ("forcing", "kernel", "label_noise", "floor")
#: The parts of the forcing (:attr:`RiskParts.forcing_split`) a model may have.
FORCING_COMPONENTS = ("pure_point", "absolutely_continuous", "cross")


@dataclass(frozen=True)
class RiskParts:
    """The parts of ``E R_k`` at ``steps`` (module docstring); :attr:`total` their sum;
    :attr:`forcing_split` the forcing by component (names of :data:`FORCING_COMPONENTS`,
    summing to ``forcing``), empty when the model has only its pure-point part."""

    steps: np.ndarray
    forcing: np.ndarray
    kernel: np.ndarray
    label_noise: np.ndarray
    floor: float
    forcing_split: dict = field(default_factory=dict)

    @property
    def total(self) -> np.ndarray:
        """``E R_k`` including the floor."""
        return self.forcing + self.kernel + self.label_noise + self.floor

    def part(self, name: str) -> np.ndarray:
        """One part by its name in :data:`PARTS`, as an array over :attr:`steps`."""
        if name not in PARTS:
            raise ValueError(f"part must be one of {PARTS}; got {name!r}")
        return np.broadcast_to(np.asarray(getattr(self, name), dtype=float), self.steps.shape)


def without_label_noise(model: GaussianCovariance, R0=None) -> GaussianCovariance:
    """The same modes with ``s² = 0``, and the model's initial errors or ``R0``."""
    return GaussianCovariance(model.values[eigenvalue], R0=model.R0 if R0 is None else R0,
                              sigma2=0, multiplicity=model.d)


def forcing_split(model: GaussianCovariance, optimizer, steps, forcing: np.ndarray) -> dict:
    """The forcing of each of ``model``'s forcing components (initial errors ``R0`` split,
    :meth:`~sparsemom.numerics.inputs.spectra.GaussianCovariance.forcing_components`), and
    ``cross``, what the forcing ``forcing`` at ``steps`` holds beyond their sum; empty when
    the model has no components."""
    components = model.forcing_components()
    if not components:
        return {}
    split = {name: forcing_at(without_label_noise(model, R0), optimizer, steps)
             for name, R0 in components.items()}
    split["cross"] = forcing - sum(split.values())
    return split


def forcing_at(model: GaussianCovariance, optimizer, steps) -> np.ndarray:
    """``F_k = Σ_j w_j · A_j^k X_{j,0}`` at each of ``steps``: every mode run by its block from
    its initial moments, with neither coupling nor label noise; ``A_j^k`` by repeated squaring
    of the derived float64 blocks (``⌈log₂ k⌉`` batched products)."""
    ks = _steps(steps)
    rows, values = parameter_values(model, optimizer, coupled=True)
    a = coupled.float_coefficients(recursion_for(model, optimizer, "steps"), values, rows)
    A = a["transition"].transpose(2, 0, 1)
    w, x0 = a["risk_weights"].T, a["initial"].T
    out = np.empty(ks.size, dtype=float)
    order = np.argsort(ks)
    x, done = x0.copy(), 0       # x = A^done x0
    # through the sorted steps: x ← A^(k − done) x by the binary digits of the gap
    for i in order:
        gap = int(ks[i]) - done
        square = A
        while gap:
            if gap & 1:
                x = np.einsum("mij,mj->mi", square, x)
            gap >>= 1
            if gap:
                square = square @ square
        done = int(ks[i])
        out[i] = float(np.sum(w * x))
    return out


def risk_parts(model: GaussianCovariance, optimizer, steps, tolerance: float = TOLERANCE) -> RiskParts:
    """:class:`RiskParts` of ``model`` under ``optimizer`` (constant hyper-parameters, a row
    that converges) at ``steps`` (module docstring).

    Parameters
    ----------
    model : GaussianCovariance
        The modes (their label noise ``s²`` gives the floor and the label-noise part).
    optimizer : Optimizer
        Constant hyper-parameters.
    steps : int or sequence of int
        The horizons ``0 ≤ k ≤ 2^62``, in any order.
    tolerance : float
        The contour integrals' agreement, relative to the risk
        (:func:`~sparsemom.numerics.kernels.coupled_horizon.coupled_risk_at`).

    Returns
    -------
    RiskParts
        The parts; ``total`` equals ``exact_risk`` plus the floor at every step, and the
        forcing's components sum to the forcing.
    """
    if not isinstance(model, GaussianCovariance):
        raise ValueError(f"model must be a GaussianCovariance (its parts are those of coupled "
                         f"Gaussian modes); got {type(model).__name__}")
    optimizer.require_constant("risk_parts (one time-invariant map)")
    ks = _steps(steps)
    target_only = without_label_noise(model)
    target = coupled_risk_at(target_only, optimizer, ks, tolerance)
    total = coupled_risk_at(model, optimizer, ks, tolerance) if model.risk_floor > 0 else target
    forcing = forcing_at(target_only, optimizer, ks)
    return RiskParts(ks, forcing, target - forcing, total - target, model.risk_floor,
                     forcing_split(model, optimizer, ks, forcing))


def _steps(steps) -> np.ndarray:
    """``steps`` as a 1-d int64 array of integers ``0 ≤ k ≤ 2^62`` (a ``ValueError`` names
    it)."""
    values = [check_integer("steps", k, minimum=0, maximum=MAX_STEP)
              for k in np.atleast_1d(steps).tolist()]
    if not values:
        raise ValueError("steps must not be empty")
    return np.array(values, dtype=np.int64)
