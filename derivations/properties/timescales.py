"""Timescales of momentum under sparse updates, in active updates (active iterates).

Both are read off the derived active-iterate mean map
``(ē, v̄) ↦ M (ē, v̄)``, ``M = [[1 − η m_ee, −η m_ev], [m_ve, β̄]] + O(η²)``:

* **retention** ``τ_R = 1 / (1 − β̄)``: the number of active updates a gradient
  survives in the buffer, ``β̄ = M_vv |_{η=0}`` its retention per active update
  (``β̄ = p_B β / (1 − (1 − p_B) β)`` for dense decay, ``β̄ = β`` for lazy
  momentum, 0 without a buffer);
* **learning** ``τ_L = 1 / (2 η κ)``: the number of active updates to cut the
  squared error ``E‖e‖²`` by a factor e when the buffer follows the error
  adiabatically (``v̄ = m_ve ē / (1 − β̄)``), with effective curvature per active
  update ``κ = m_ee + m_ev m_ve / (1 − β̄)``;
  (``τ_L = ∞`` when ``κ = 0``: a rule that does not learn);
* their **ratio** ``τ_R / τ_L = 2 η κ τ_R``: ≪ 1 SGD-like (memory short against
  learning), ≈ 1 heavy-ball, ≫ 1 unstable.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..core import symbols as S
from ..core.names import name_of
from ..core.printing import aligned, display_latex
from ..core.rational_field import from_idle_symbol, in_idle_symbol
from ..definitions.laws import law as law_named
from ..engine.definition_cache import cached_by_definition
from ..engine.recursion import recursion_for
from ..engine.store import stored


@dataclass(frozen=True)
class Timescales:
    r"""The retention and learning timescales (module docstring) as SymPy expressions:
    $\tau_R = 1/(1 - \bar\beta)$, $\tau_L = 1/(2 \eta \kappa)$, and :attr:`ratio`
    $\tau_R / \tau_L$.

    Parameters
    ----------
    effective_retention : sympy.Expr
        $\bar\beta$, the buffer's retention per active update.
    curvature : sympy.Expr
        $\kappa$, the effective curvature per active update.
    retention : sympy.Expr
        $\tau_R$.
    learning : sympy.Expr
        $\tau_L$ (``oo`` for a rule that does not learn).
    """

    effective_retention: sp.Expr
    curvature: sp.Expr
    retention: sp.Expr
    learning: sp.Expr

    @property
    def ratio(self) -> sp.Expr:
        return _simplify(self.retention / self.learning)

    def _repr_latex_(self) -> str:
        """Jupyter: the four definitions and the ratio, aligned."""
        rows = [rf"\bar\beta = {display_latex(self.effective_retention)}",
                rf"\kappa = {display_latex(self.curvature)}",
                rf"\tau_R = {display_latex(self.retention)}",
                rf"\tau_L = {display_latex(self.learning)}",
                rf"\tau_R / \tau_L = {display_latex(self.ratio)}"]
        return aligned(rows, "timescales (per active update)")


def _simplify(x: sp.Expr) -> sp.Expr:
    return from_idle_symbol(sp.factor(sp.cancel(in_idle_symbol(x))))


@cached_by_definition
@stored
def _timescales(model: str, optimizer: str) -> Timescales:
    M = recursion_for(model, optimizer, "active").mean_transition
    at0 = {S.lr: 0}
    m_ee = _simplify(-sp.diff(M[0, 0], S.lr).xreplace(at0))
    if M.shape[0] == 1:
        beta_bar, kappa = sp.Integer(0), m_ee
    else:
        beta_bar = _simplify(M[1, 1].xreplace(at0))
        m_ev = -sp.diff(M[0, 1], S.lr).xreplace(at0)
        m_ve = M[1, 0].xreplace(at0)
        kappa = _simplify(m_ee + m_ev * m_ve / (1 - beta_bar))
    retention = _simplify(1 / (1 - beta_bar))
    # κ = 0: the update does not reduce the error at first order; it never learns.
    learning = sp.oo if kappa == 0 else _simplify(1 / (2 * S.lr * kappa))
    return Timescales(beta_bar, kappa, retention, learning)


def timescales(model, optimizer) -> Timescales:
    r"""The retention and learning timescales of ``optimizer`` on ``model``, counted in active
    updates: $\tau_R = 1/(1 - \bar\beta)$ and $\tau_L = 1/(2 \eta \kappa)$ with
    $\kappa = m_{ee} + m_{ev} m_{ve} / (1 - \bar\beta)$ (module docstring).

    Parameters
    ----------
    model : str or Model
        The data law (a name or an instance).
    optimizer : str or Optimizer
        The update rule (a name or an instance).

    Returns
    -------
    Timescales
        $\bar\beta$, $\kappa$, $\tau_R$, $\tau_L$.
    """
    model = name_of(model)
    optimizer = name_of(optimizer)
    if law_named(model).coupling is not None:
        raise ValueError(f"timescales count a row's own active updates; the modes of "
                         f"{model!r} couple and move together (use is_stable, spectral_radius "
                         "and exact_risk)")
    return _timescales(model, optimizer)
