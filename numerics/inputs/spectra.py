"""Gaussian data with a covariance spectrum, with numbers (model M3 of ``docs/model.md``).

:class:`GaussianCovariance` is the law :data:`~sparsemom.derivations.definitions.covariance.GAUSSIAN_COVARIANCE`
with its modes as the rows of a :class:`~sparsemom.numerics.inputs.models.Model`: the
eigenvalues ``λ_j`` of ``K``, the initial errors ``R0_j = ‖e_{j,0}‖²`` projected on the
eigenvectors, the label-noise variance ``s²`` and the multiplicity ``d`` of every mode.

Two problem constructors, with the conventions of E. Paquette, C. Paquette, L. Xiao,
J. Pennington, "4+3 phases of compute-optimal neural scaling laws" (arXiv 2405.15074):

* :func:`power_law_covariance` — ``K = diag(j^{−2α})``, target ``θ*_j = j^{−β}``,
  ``θ_0 = 0``: ``λ_j = j^{−2α}``, ``R0_j = j^{−2β}``, ``j = 1..d``;
* :class:`PowerLawRandomFeatures` — data ``x ~ N(0, D)`` in ``R^v`` with ``D = diag(j^{−2α})``,
  target ``y = ⟨x, b⟩`` with ``b_j = j^{−β}``, features ``φ = Wᵀx ∈ R^d`` for a fixed
  ``W ∈ R^{v×d}`` of i.i.d. ``N(0, 1/d)`` entries, model ``⟨φ, θ⟩`` from ``θ_0 = 0``.  With
  ``D^{1/2} W = U Σ Vᵀ`` (thin SVD), the features' covariance ``K = Wᵀ D W = V Σ² Vᵀ`` has
  eigenvalues ``λ_j = σ_j²``; the best ``θ* = V Σ^{−1} Uᵀ D^{1/2} b`` leaves the residual
  ``y − ⟨φ, θ*⟩``, which is Gaussian and uncorrelated with ``φ``, hence independent of it:
  exactly label noise of variance ``s² = 2 R_∞``, ``R_∞ = ½ ‖(I − U Uᵀ) D^{1/2} b‖²``.  The
  initial error ``e_0 = −θ*`` has projections ``λ_j R0_j = (Uᵀ D^{1/2} b)_j²``.  Modes with
  ``σ_j = 0`` (when ``v < d``) neither move nor count and are left out.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from sparsemom.derivations.definitions.covariance import GAUSSIAN_COVARIANCE
from sparsemom.numerics.inputs.models import MAX_DIMENSION, Model
from sparsemom.numerics.inputs.seeds import check_seed, seed_sequence
from sparsemom.numerics.inputs.validation import check_integer, check_real
from sparsemom.numerics.runtime.memory import check_memory

#: Bytes per mode of a model's arrays (eigenvalues, initial errors, their checked copies).
MODE_BYTES = 64
#: Bytes per entry of ``W`` while its SVD runs (``W``, ``D^{1/2} W``, the factors, LAPACK's work).
SVD_BYTES = 48
#: Precisions of the random-features spectrum: NumPy's SVD, or mpmath's at ``dps`` digits.
SPECTRUM_PRECISIONS = ("float64", "mpmath")


class GaussianCovariance(Model):
    r"""$x \sim N(0, K)$, $y = \langle x, \theta^\ast \rangle + \xi$ in $K$'s eigenbasis: one row of
    coupled modes (model M3).  The excess risk is
    $R = \tfrac12 \sum_j \lambda_j \lVert e_j \rVert^2$; :attr:`risk_floor` $= \tfrac12 s^2$ is
    what no $\theta$ removes.

    Parameters
    ----------
    eigenvalues : array_like
        $\lambda_j > 0$, one per mode.
    R0 : float or array_like
        The initial errors $\lVert e_{j,0} \rVert^2 \ge 0$ projected on the modes (scalar or
        one per mode).
    sigma2 : float
        $s^2 \ge 0$, the label-noise variance.
    multiplicity : int
        $d$, the dimension of every mode (1: the eigenvalues are those of $K$, each once).
    """

    def __init__(self, eigenvalues, R0=1, sigma2=0, multiplicity: int = 1):
        super().__init__(GAUSSIAN_COVARIANCE, multiplicity, R0=R0, eigenvalue=eigenvalues,
                         sigma2=sigma2)

    @property
    def modes(self) -> int:
        return self.rows

    @property
    def risk_floor(self) -> float:
        """``R_∞ = ½ s²``: the risk of the best ``θ``."""
        return float(self.sigma2) / 2

    def forcing_components(self) -> dict[str, np.ndarray]:
        """The initial errors split by where the target's weight on each mode comes from,
        each ``≥ 0`` per mode (what their sum leaves of ``R0`` is cross terms); empty when
        there is nothing to split: here the target lies on ``K``'s eigenvectors, so all of
        it is pure point."""
        return {}

    def __repr__(self) -> str:
        return (f"GaussianCovariance({self.modes} modes, multiplicity {self.d}, "
                f"sigma2={float(self.sigma2):.6g})")


def power_law_covariance(alpha, beta, d: int, sigma2=0, v=None) -> GaussianCovariance:
    r"""$\lambda_j = j^{-2\alpha}$, $R_{0,j} = j^{-2\beta}$ ($\theta^\ast_j = j^{-\beta}$,
    $\theta_0 = 0$), $j = 1, \dots, d$.  $2\alpha + 2\beta > 1$ keeps the initial risk
    $\tfrac12 \sum_j j^{-2\alpha - 2\beta}$ bounded as $d \to \infty$ (not required at
    finite $d$).

    Parameters
    ----------
    alpha : float
        $\alpha > 0$, the spectrum's exponent.
    beta : float
        $\beta$, the target's exponent (real).
    d : int
        The number of modes.
    sigma2 : float
        $s^2 \ge 0$, the label-noise variance.
    v : int, ``math.inf`` or None
        The population's dimension $v \ge d$ when the model sees only the first $d$
        coordinates of $x \in \mathbb{R}^v$: the rest of the target,
        $\sum_{j>d} x_j \theta^\ast_j$, is Gaussian and independent of the first $d$, so it
        is label noise of variance $\sum_{j=d+1}^{v} j^{-2\alpha-2\beta}$ (the Hurwitz zeta
        $\zeta(2\alpha + 2\beta, d + 1)$ for $v = \infty$, which needs $2\alpha + 2\beta > 1$),
        added to ``sigma2``. ``None``: $v = d$.

    Returns
    -------
    GaussianCovariance
        The model.
    """
    alpha = check_real("alpha", alpha, lower=0, lower_open=True)
    beta = check_real("beta", beta)
    d = check_integer("d", d, minimum=1, maximum=MAX_DIMENSION)
    sigma2 = check_real("sigma2", sigma2, lower=0)
    tail = _tail_variance(alpha, beta, d, v)
    check_memory(f"a power-law covariance of d = {d} modes", MODE_BYTES * d)
    j = np.arange(1, d + 1, dtype=float)
    return GaussianCovariance(j ** (-2 * alpha), R0=j ** (-2 * beta), sigma2=sigma2 + tail)


def _tail_variance(alpha: float, beta: float, d: int, v) -> float:
    """``Σ_{j=d+1}^{v} j^{−2α−2β}``: the target beyond the ``d`` coordinates the model sees
    (:func:`power_law_covariance`)."""
    if v is None:
        return 0.0
    power = 2 * alpha + 2 * beta
    if v == math.inf:
        if not power > 1:
            raise ValueError(f"v = inf needs 2*alpha + 2*beta > 1 (else the target's tail has "
                             f"infinite variance); got {power:g}")
        return float(mpmath.zeta(power, d + 1))
    v = check_integer("v", v, minimum=d, maximum=MAX_DIMENSION)
    if power == 1:
        return float(mpmath.harmonic(v) - mpmath.harmonic(d))
    return float(mpmath.zeta(power, d + 1) - mpmath.zeta(power, v + 1))


def random_features_bytes(v: int, d: int) -> int:
    """Bytes that :class:`PowerLawRandomFeatures` of ``v`` data dimensions and ``d`` features
    needs while it builds its spectrum: ``W`` and its SVD, and the per-mode arrays."""
    return SVD_BYTES * v * d + MODE_BYTES * (v + d)


class PowerLawRandomFeatures(GaussianCovariance):
    r"""Power-law random features with $W$ fixed (see the module docstring): data
    $x \sim N(0, D)$ in $\mathbb{R}^v$, $D = \mathrm{diag}(j^{-2\alpha})$, target
    $b_j = j^{-\beta}$, features $\varphi = W^\top x$; with $D^{1/2} W = U \Sigma V^\top$ the
    modes have $\lambda_j = \sigma_j^2$ and the unrepresentable part of the target is label
    noise of variance $2 R_\infty$.  Keeps $W$, $D$ (:attr:`data_variances`), $b$
    (:attr:`target`), $\theta^\ast$ (:attr:`optimum`) and :attr:`risk_floor` $R_\infty$.

    Parameters
    ----------
    alpha : float
        $\alpha > 0$.
    beta : float
        $\beta$ (real).
    v : int
        The data dimension, $\ge 1$.
    d : int
        The number of features, $\ge 1$.
    seed : int, SeedSequence or Generator
        Draws $W$ (an int $\ge 0$ gives ``SeedSequence(seed)``).
    precision : str
        ``"float64"`` (NumPy's SVD) or ``"mpmath"`` (``dps`` digits; $O((v + d)^3)$ in
        software: for $v, d$ up to a few hundred).
    dps : int
        Digits of the mpmath SVD.
    """

    def __init__(self, alpha, beta, v: int, d: int, seed=0, precision: str = "float64",
                 dps: int = 50):
        self.alpha = check_real("alpha", alpha, lower=0, lower_open=True)
        self.beta = check_real("beta", beta)
        self.v = check_integer("v", v, minimum=1, maximum=MAX_DIMENSION)
        self.features = check_integer("d", d, minimum=1, maximum=MAX_DIMENSION)
        if precision not in SPECTRUM_PRECISIONS:
            raise ValueError(f"precision must be one of {SPECTRUM_PRECISIONS}; got {precision!r}")
        dps = check_integer("dps", dps, minimum=15)
        check_memory(f"random features of v = {self.v}, d = {self.features} (W and its SVD)",
                     random_features_bytes(self.v, self.features))
        rng = np.random.default_rng(seed_sequence(check_seed(seed)))
        self.W = rng.standard_normal((self.v, self.features)) / np.sqrt(self.features)
        j = np.arange(1, self.v + 1, dtype=float)
        self.data_variances = j ** (-2 * self.alpha)
        self.target = j ** (-self.beta)
        spectrum = (_spectrum_float64 if precision == "float64" else _spectrum_mpmath)(
            np.sqrt(self.data_variances)[:, None] * self.W, np.sqrt(self.data_variances) * self.target,
            dps)
        sigma, projections, residual, self._basis, diagonal, far = spectrum
        keep = sigma > 0
        # s² = ‖(I − U Uᵀ) D^{1/2} b‖²: the inherited risk_floor ½ s² is R_∞
        super().__init__(sigma[keep] ** 2, R0=projections[keep] ** 2 / sigma[keep] ** 2,
                         sigma2=residual)
        self._components = {"pure_point": (diagonal - far)[keep] / sigma[keep] ** 2,
                            "absolutely_continuous": far[keep] / sigma[keep] ** 2}

    def forcing_components(self) -> dict[str, np.ndarray]:
        r"""The target's weight on mode $k$ (in initial errors, $/\sigma_k^2$), split by the
        data coordinates it comes from: with $t = D^{1/2} b$ and $D^{1/2} W = U \Sigma V^	op$,
        $(U^	op t)_k^2 = \sum_j U_{jk}^2 t_j^2 + 	ext{cross terms}$, the cross terms of mean
        zero over $W$ (flipping the sign of row $j$ of $W$ leaves $W$'s law, $\Sigma$ and
        every $U_{ik}^2$ unchanged and flips $U_{jk}$). Of the diagonal sum, the coordinates
        $j < k/$:data:`FAR` (stiffer by at least ``FAR^{2α}``) make the **absolutely
        continuous** part — their weight on a mode is $\propto \lambda_k/d$, the embedding
        term of [4+3] — and the rest, $j \ge k/$``FAR``, the **pure-point** part. A fixed
        ``FAR`` moves weight between neighbouring coordinates only, which changes no
        exponent."""
        return {name: value.copy() for name, value in self._components.items()}

    @property
    def optimum(self) -> np.ndarray:
        """``θ* = V Σ^{−1} Uᵀ D^{1/2} b`` in feature coordinates."""
        V, sigma, projections = self._basis
        keep = sigma > 0
        return V[:, keep] @ (projections[keep] / sigma[keep])

    def __repr__(self) -> str:
        return (f"PowerLawRandomFeatures(alpha={self.alpha}, beta={self.beta}, v={self.v}, "
                f"d={self.features}, {self.modes} modes, R_inf={self.risk_floor:.6g})")


#: The coordinates ``j < k/FAR`` of the data make mode ``k``'s absolutely continuous part
#: (:meth:`PowerLawRandomFeatures.forcing_components`).
FAR = 4
#: Columns of ``U`` squared at a time by :func:`_diagonal_weights`.
COLUMN_BLOCK = 256


def _diagonal_weights(U: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(Σ_j U_jk² t_j², Σ_{j < k/FAR} U_jk² t_j²)`` per column ``k = 1 … d`` (``j`` from 1),
    a block of columns at a time."""
    v, d = U.shape
    weights = target ** 2
    diagonal, far = np.empty(d), np.empty(d)
    for start in range(0, d, COLUMN_BLOCK):
        block = U[:, start:start + COLUMN_BLOCK] ** 2 * weights[:, None]
        # partial[n] = Σ_{j ≤ n}, from partial[0] = 0
        partial = np.concatenate([np.zeros((1, block.shape[1])), np.cumsum(block, axis=0)])
        columns = np.arange(block.shape[1])
        below = -(-(start + 1 + columns) // FAR) - 1    # j < k/FAR: the first ⌈k/FAR⌉ − 1
        diagonal[start:start + columns.size] = partial[-1]
        far[start:start + columns.size] = partial[below, columns]
    return diagonal, far


def _spectrum_float64(M: np.ndarray, target: np.ndarray, dps: int):
    """``(σ, Uᵀt, ‖(I − UUᵀ)t‖², (V, σ, Uᵀt), diagonal, far)`` of ``M = U Σ Vᵀ`` and
    ``t = D^{1/2} b`` (:func:`_diagonal_weights`)."""
    U, sigma, Vt = np.linalg.svd(M, full_matrices=False)
    sigma = np.where(sigma > sigma.max(initial=0) * max(M.shape) * np.finfo(float).eps, sigma, 0)
    projections = U.T @ target
    residual = float(np.sum((target - U @ projections) ** 2))
    return (sigma, projections, residual, (Vt.T, sigma, projections),
            *_diagonal_weights(U, target))


def _spectrum_mpmath(M: np.ndarray, target: np.ndarray, dps: int):
    """As :func:`_spectrum_float64`, the SVD at ``dps`` digits (results rounded to float64)."""
    with mpmath.workdps(dps):
        A = mpmath.matrix(M.tolist())
        U, S, V = mpmath.svd_r(A, full_matrices=False, compute_uv=True)
        t = mpmath.matrix(target.tolist())
        proj = U.T * t
        rest = t - U * proj
        residual = float(mpmath.fsum(x ** 2 for x in rest))
        sigma = np.array([float(S[i]) for i in range(S.rows)])
        projections = np.array([float(proj[i]) for i in range(proj.rows)])
        Vt = np.array([[float(V[i, j]) for j in range(V.cols)] for i in range(V.rows)])
        Uf = np.array([[float(U[i, j]) for j in range(U.cols)] for i in range(U.rows)])
    tol = sigma.max(initial=0) * max(M.shape) * 10.0 ** (-dps + 2)
    sigma = np.where(sigma > tol, sigma, 0)
    return (sigma, projections, residual, (Vt.T, sigma, projections),
            *_diagonal_weights(Uf, target))
