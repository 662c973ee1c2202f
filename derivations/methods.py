"""Momentum methods of the literature and of optimizer libraries, defined through the
public rule API (:func:`~derivations.optimizers.register_rule`) exactly as a user
defines one: no part of the engine knows them by name.

Every method here is linear in its state, so its second moments obey an exact
recursion like the classic ones.  Conventions (``g`` the batch gradient):

* ``heavy-ball-dampened`` — PyTorch's ``torch.optim.SGD(momentum=β, dampening=τ)``:
  ``v ← β v + (1 − τ) g``, ``θ ← θ − η v``;
* ``nesterov-dampened`` — the same buffer with Nesterov's look-ahead,
  ``θ ← θ − η (g + β v)`` (PyTorch's formula; PyTorch itself refuses ``nesterov=True``
  with ``τ ≠ 0``, and ``τ = 0`` is :data:`nesterov`);
* ``qhm`` — quasi-hyperbolic momentum (Ma & Yarats, "Quasi-hyperbolic momentum and
  Adam for deep learning", ICLR 2019, eq. (2)): ``v ← β v + (1 − β) g``,
  ``θ ← θ − η [(1 − ν) g + ν v]``;
* ``ema`` — momentum as an exponential moving average of gradients (optax
  ``ema(decay=β, debias=False)`` followed by ``scale(−η)``): ``v ← β v + (1 − β) g``,
  ``θ ← θ − η v``.
"""

from __future__ import annotations

import sympy as sp

from . import symbols as S
from .optimizers import HyperParameter, UpdateRule, e, register_rule, v

#: PyTorch's dampening τ ∈ [0, 1] of the gradient entering the buffer (keyword ``tau``).
tau = sp.Symbol("tau", nonnegative=True)
#: Ma & Yarats' immediate-discount factor ν ∈ [0, 1].
nu = sp.Symbol("nu", nonnegative=True)


def _heavy_ball_dampened(x, grad):
    v_new = S.beta * x[v] + (1 - tau) * grad
    return {e: x[e] - S.lr * v_new, v: v_new}


def _nesterov_dampened(x, grad):
    v_new = S.beta * x[v] + (1 - tau) * grad
    return {e: x[e] - S.lr * (grad + S.beta * v_new), v: v_new}


def _qhm(x, grad):
    v_new = S.beta * x[v] + (1 - S.beta) * grad
    return {e: x[e] - S.lr * ((1 - nu) * grad + nu * v_new), v: v_new}


def _ema(x, grad):
    v_new = S.beta * x[v] + (1 - S.beta) * grad
    return {e: x[e] - S.lr * v_new, v: v_new}


_DAMPENING = HyperParameter(tau, lower=0, upper=1, default=0,
                            doc="PyTorch's dampening τ: the buffer takes (1 − τ) g")
_TORCH = "PyTorch torch.optim.SGD (momentum, dampening), https://pytorch.org/docs/stable/generated/torch.optim.SGD.html"

METHODS = (
    UpdateRule("heavy-ball-dampened", (e, v), _heavy_ball_dampened,
               "v ← β v + (1 − τ) g, θ ← θ − η v",
               r"v \leftarrow \beta v + (1 - \tau) g,\ \theta \leftarrow \theta - \eta v",
               hyper_parameters=(_DAMPENING,), source=_TORCH),
    UpdateRule("nesterov-dampened", (e, v), _nesterov_dampened,
               "v ← β v + (1 − τ) g, θ ← θ − η (g + β v)",
               r"v \leftarrow \beta v + (1 - \tau) g,\ \theta \leftarrow \theta - \eta (g + \beta v)",
               hyper_parameters=(_DAMPENING,), source=_TORCH + " (nesterov=True formula)"),
    UpdateRule("qhm", (e, v), _qhm, "v ← β v + (1 − β) g, θ ← θ − η ((1 − ν) g + ν v)",
               r"v \leftarrow \beta v + (1 - \beta) g,\ "
               r"\theta \leftarrow \theta - \eta \left((1 - \nu) g + \nu v\right)",
               hyper_parameters=(HyperParameter(nu, lower=0, upper=1, default=sp.Rational(7, 10),
                                                doc="immediate discount ν (0.7 recommended)"),),
               source="Ma & Yarats, Quasi-hyperbolic momentum and Adam for deep learning, "
                      "ICLR 2019, arXiv:1810.06801"),
    UpdateRule("ema", (e, v), _ema, "v ← β v + (1 − β) g, θ ← θ − η v",
               r"v \leftarrow \beta v + (1 - \beta) g,\ \theta \leftarrow \theta - \eta v",
               source="optax.ema(decay=β, debias=False) then optax.scale(−η)"),
)

for _method in METHODS:
    register_rule(_method, built_in=True)
