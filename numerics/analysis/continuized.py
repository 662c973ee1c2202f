"""The continuized dynamics of a discrete second-moment recursion.

Running the optimizer on a Poisson clock of rate 1 (a step at each jump) turns the
discrete map ``X_{k+1} = T X_k + c`` into the linear ODE ``dX/dt = (T − I) X + c`` — the
generator that continuous-time analyses of SGD integrate (homogenized SGD, C. Paquette,
E. Paquette, B. Adlam, J. Pennington, arXiv 2205.07069; the DANA ODEs of Ferbach, Everett,
Gidel, Paquette & Paquette, arXiv 2505.16098, integrate its first-order part).  After a
time ``t`` the clock has ticked ``k ~ Poisson(t)`` times, so, exactly,

    E R(t) = Σ_k e^{−t} t^k / k! · R_k,

the Poisson average of the exact discrete curve (step ``k`` uses the hyper-parameters of
step ``k``).  The two differ where ``R_k`` bends within ``√k`` steps: the first steps, and
stiff top modes that a discrete step moves by ``O(1)`` (``η λ_max`` near 1).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

#: Poisson mass left out of the average: the curve must reach ``k_max(t)`` with
#: ``P(Poisson(t) > k_max) < TAIL``.
TAIL = 1e-16


def steps_needed(t: float) -> int:
    """The last step ``k`` whose risk the continuized risk at time ``t`` needs."""
    return int(stats.poisson.isf(TAIL, t)) + 1 if t > 0 else 0


def continuized_risk(discrete_risk, times) -> np.ndarray:
    """``E R(t) = Σ_k Pois(k; t) R_k`` at each ``t`` of ``times`` (≥ 0) from the exact
    discrete curve ``discrete_risk[k]`` (``k = 0..steps``); a ``ValueError`` when the curve
    is too short for the largest time (it must reach :func:`steps_needed`) or not finite."""
    risk = np.asarray(discrete_risk, dtype=float)
    times = np.asarray(times, dtype=float)
    if risk.ndim != 1 or risk.size == 0:
        raise ValueError("discrete_risk must be a non-empty 1-d curve R_0, R_1, …")
    if not np.all(np.isfinite(risk)):
        raise ValueError("discrete_risk must be finite (a diverged curve has no continuized "
                         "average)")
    if times.ndim > 1 or np.any(~np.isfinite(times)) or np.any(times < 0):
        raise ValueError("times must be finite and ≥ 0")
    need = steps_needed(float(np.max(times, initial=0)))
    if need > risk.size - 1:
        raise ValueError(f"discrete_risk has {risk.size - 1} steps; the largest time "
                         f"{float(np.max(times)):g} needs {need}")
    k = np.arange(risk.size)
    out = np.empty(times.shape)
    for i, t in np.ndenumerate(times):
        if t == 0:
            out[i] = risk[0]
            continue
        lo, hi = int(stats.poisson.ppf(TAIL, t)), steps_needed(t)
        weights = stats.poisson.pmf(k[lo:hi + 1], t)
        out[i] = float(np.dot(weights, risk[lo:hi + 1]))
    return out
