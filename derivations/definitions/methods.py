"""Momentum methods of the literature and of optimizer libraries, defined through the
public rule API (:func:`~sparsemom.derivations.definitions.optimizers.register_rule`) exactly as a user
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
  ``θ ← θ − η v``;
* ``dana`` — dimension-adapted Nesterov acceleration (Ferbach, Everett, Gidel, Paquette &
  Paquette, "Dimension-adapted Momentum Outscales SGD", arXiv:2505.16098), in the form of
  its authors' optax transformation ``dana_optimizer(g1, g2, g3, Delta)`` (public repository
  ``LosVolterrosHermanos/Experimental``, ``optimizers.py``):

      y ← (1 − Δ_k) y + γ1_k g,    θ ← θ − (γ2_k g + γ3_k y),

  with the updated ``y`` in the step.  Its state vectors are ``θ`` and the one buffer ``y``.
  Here ``γ2`` is ``lr`` and ``γ1``, ``γ3``, ``Δ`` are the keywords ``g1`` (default 1),
  ``g3`` and ``delta``; ``beta`` is unused.  The coefficients depend on the step only
  through these four values, so DANA-decaying (``γ3_k ∝ (1 + k)^{−1/(2α)}``,
  ``Δ_k = (1 + k/6)^{−1}`` in the authors' runs) is this rule with schedules
  (:func:`sparsemom.numerics.inputs.schedules.dana_decaying`), and DANA-constant is it without.
"""

from __future__ import annotations

import sympy as sp

from ..core import symbols as S
from .optimizers import HyperParameter, UpdateRule, e, register_rule, v

#: Rules defined here through the public API: the symbols of this module are those rules'
#: own (a user may reuse them), not the engine's (:func:`~sparsemom.derivations.definitions.optimizers.engine_symbols`).
DEFINES_RULES = True

#: PyTorch's dampening τ ∈ [0, 1] of the gradient entering the buffer (keyword ``tau``).
tau = sp.Symbol("tau", nonnegative=True)
#: Ma & Yarats' immediate-discount factor ν ∈ [0, 1].
nu = sp.Symbol("nu", nonnegative=True)
#: DANA's coefficients: γ1 (gradient into the buffer), γ3 (buffer into θ), Δ (buffer decay).
g1 = sp.Symbol("g1", nonnegative=True)
g3 = sp.Symbol("g3", nonnegative=True)
delta = sp.Symbol("delta", nonnegative=True)
#: DANA's buffer.
y = sp.Symbol("y")


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


def _dana(x, grad):
    y_new = (1 - delta) * x[y] + g1 * grad
    return {e: x[e] - S.lr * grad - g3 * y_new, y: y_new}


_DAMPENING = HyperParameter(tau, lower=0, upper=1, default=0,
                            doc="dampening (PyTorch's): the buffer takes (1 − τ) g")
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
    UpdateRule("dana", (e, y), _dana, "y ← (1 − Δ) y + γ1 g, θ ← θ − (η g + γ3 y)",
               # the symbols the derived objects print (g_1, g_3, δ: Δ is the document's det)
               r"y \leftarrow (1 - \delta) y + g_{1} g,\ "
               r"\theta \leftarrow \theta - (\eta g + g_{3} y)",
               hyper_parameters=(
                   HyperParameter(g1, lower=0, default=1,
                                  doc="gradient into the buffer (the authors' γ1)"),
                   HyperParameter(g3, lower=0, doc="buffer into the iterate (γ3)",
                                  example=sp.Rational(1, 1000)),
                   HyperParameter(delta, lower=0, upper=1, doc="buffer decay per step (Δ)",
                                  example=sp.Rational(1, 2))),
               source="Ferbach et al., Dimension-adapted Momentum Outscales SGD, "
                      "arXiv:2505.16098; LosVolterrosHermanos/Experimental optimizers.py "
                      "dana_optimizer"),
)

for _method in METHODS:
    register_rule(_method, built_in=True)
