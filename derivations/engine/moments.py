"""Second-moment recursions as objects: ``X_{k+1} = A X_k + c`` and the mean map.

The engine (:mod:`sparsemom.derivations.engine.recursion`) and the linearisation of a mean-field law
(:mod:`sparsemom.derivations.rare_class.linearisation`) both produce a :class:`MomentRecursion`; this
module holds it and the algebra they share (reading a linear map off expressions,
integrating out idle stretches).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from ..core import symbols as S
from ..core.printing import aligned, display_latex, equation
from ..core.rational_field import from_idle_symbol, in_field, solve
from ..definitions.optimizers import e, v

#: Time rules: every step, or active iterates (idle stretches integrated out).
TIME_RULES = ("steps", "active")

#: Names of the second moments of the error and the classic momentum buffer ``v``.
MOMENT_NAMES = {(e, e): "R", (e, v): "C", (v, v): "V"}


def moment_name(u: sp.Symbol, w: sp.Symbol) -> str:
    """The name of ``E⟨u, w⟩``: ``R``, ``C``, ``V`` for ``e`` and ``v``, else ``M_{u,w}``
    (e.g. ``M_{e,y}``, ``M_{y,y}`` for a buffer ``y``)."""
    return MOMENT_NAMES.get((u, w)) or f"M_{{{u.name},{w.name}}}"
#: ``S_k``, the coupled sum of a row's modes, its mode index ``j`` and their number ``M``.
COUPLED_SUM = sp.Symbol("S_k")
MODE = sp.Symbol("j", integer=True, positive=True)
MODES = sp.Symbol("M", integer=True, positive=True)
#: Initial squared error ‖e_0‖² (the buffer starts at v_0 = 0).
R0 = sp.Symbol("R_0", nonnegative=True)


@dataclass(frozen=True)
class MomentRecursion:
    r"""$X_{k+1} = A X_k + c$ for the second moments, with the mean map $M$ of the first moments;
    the risk is $E R_k = w^\top X_k$.

    Parameters
    ----------
    model : str
        The law's name.
    optimizer : str
        The rule's name.
    time_rule : str
        ``"steps"`` or ``"active"``.
    state : tuple of sympy.Symbol
        The moment symbols $X = (R, C, V, \dots)$.
    meaning : tuple of sympy.Expr
        What each is in expectation: a :class:`~sparsemom.derivations.core.vectors.Dot` of
        two state vectors.
    transition : sympy.ImmutableMatrix
        $A$.
    forcing : sympy.ImmutableMatrix
        $c$.
    mean_state : tuple of sympy.Symbol
        The first moments of the mean map.
    mean_transition : sympy.ImmutableMatrix
        $M$: $E[\text{state}'] = M\, E[\text{state}]$.
    risk : sympy.Expr
        $E R$ in terms of ``state``.
    initial : tuple of sympy.Expr
        $X_0$ in terms of $R_0 = \lVert e_0 \rVert^2$ (buffers start at 0, an averaged iterate
        at $e_0$).
    parameters : tuple of sympy.Symbol
        The symbols the matrices use, in the order numeric code passes them (the model's, then
        ``lr``, ``beta``, then the rule's own hyper-parameters).
    hyper_parameters : tuple of sympy.Symbol
        Those of ``parameters`` that belong to the optimizer (what a schedule may change per
        step).
    unit_interval : tuple of sympy.Symbol
        The hyper-parameters declared within $[0, 1]$ (float code keeps $1 - h$ apart).
    coupling : sympy.ImmutableMatrix or None
        For a coupled law (:class:`~sparsemom.derivations.definitions.laws.RowCoupling`): the
        column $u$ ($n \times 1$) of the rank-one coupling of the modes of a row,
        $X_j' = A_j X_j + c_j + u_j \sum_i q_i X_i$ ($A_j$ already holds $-u_j q_j$, so the sum
        runs over every mode of the row); ``None`` for independent rows.
    coupling_weights : sympy.ImmutableMatrix or None
        The row $q$ ($1 \times n$) of that coupling.
    """

    model: str
    optimizer: str
    time_rule: str
    state: tuple[sp.Symbol, ...]
    meaning: tuple[sp.Expr, ...]
    transition: sp.ImmutableMatrix
    forcing: sp.ImmutableMatrix
    mean_state: tuple[sp.Symbol, ...]
    mean_transition: sp.ImmutableMatrix
    risk: sp.Expr
    initial: tuple[sp.Expr, ...]
    parameters: tuple[sp.Symbol, ...] = field(default=S.PARAMETERS)
    hyper_parameters: tuple[sp.Symbol, ...] = (S.lr, S.beta)
    #: The hyper-parameters declared within ``[0, 1]`` (float code keeps ``1 − h`` apart).
    unit_interval: tuple[sp.Symbol, ...] = ()
    #: For a coupled law (:class:`~sparsemom.derivations.definitions.laws.RowCoupling`): the
    #: column ``u`` (n × 1) and the row ``q`` (1 × n) of the rank-one coupling of the modes of
    #: a row, ``X_j' = A_j X_j + c_j + u_j Σ_i q_i X_i`` (``A_j`` already holds ``−u_j q_j``,
    #: so the sum runs over every mode of the row, ``j`` included); ``None`` for rows that
    #: are independent.
    coupling: sp.ImmutableMatrix | None = None
    coupling_weights: sp.ImmutableMatrix | None = None

    def __post_init__(self):
        # Every expression rebuilt from its arguments, as unpickling rebuilds it: ``factor``
        # leaves forms such as ``-(ηp − 3)/3`` that SymPy re-evaluates to ``1 − ηp/3`` when
        # rebuilt, so a recursion read from the derivation store would otherwise differ
        # from (and have another fingerprint than) the same recursion derived in memory.
        for name in ("transition", "forcing", "mean_transition", "coupling", "coupling_weights"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name,
                                   sp.ImmutableMatrix(getattr(self, name).applyfunc(rebuilt)))
        object.__setattr__(self, "risk", rebuilt(sp.sympify(self.risk)))
        object.__setattr__(self, "initial", tuple(rebuilt(sp.sympify(x)) for x in self.initial))

    @property
    def coupled(self) -> bool:
        """The modes of a row couple (:attr:`coupling` is set)."""
        return self.coupling is not None

    @property
    def risk_weights(self) -> sp.ImmutableMatrix:
        """Row vector ``w`` with ``E R = w · X``."""
        return sp.ImmutableMatrix([[sp.diff(self.risk, s) for s in self.state]])

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the recursion's canonical form (identifies generated code), the
        parameters in call order and those within ``[0, 1]`` included: two rules with the
        same matrices but their hyper-parameters in another order, or declared on other
        intervals, have other generated functions."""
        parts = (self.model, self.optimizer, self.time_rule, self.state, self.transition,
                 self.forcing, self.mean_transition, self.risk, self.initial, self.parameters,
                 self.hyper_parameters, self.unit_interval)
        if self.coupled:
            parts += (self.coupling, self.coupling_weights)
        return hashlib.sha256(sp.srepr(parts).encode()).hexdigest()

    def equations(self) -> list[sp.Eq]:
        """``X_{k+1} = A X_k + c`` written out, one equation per moment (``+ u S_k`` for a
        coupled mode, :meth:`coupling_equation`)."""
        now = [sp.Symbol(f"{s.name}_k") for s in self.state]
        nxt = [sp.Symbol(f"{s.name}_k+1") for s in self.state]
        extra = [self.coupling[i] * COUPLED_SUM for i in range(len(now))] if self.coupled \
            else [sp.S.Zero] * len(now)
        return [equation(n, affine_form(self.transition.row(i), now, self.forcing[i])
                         + sp.factor(extra[i]))
                for i, n in enumerate(nxt)]

    def coupling_equation(self) -> sp.Eq:
        """``S_k = Σ_{j=1}^{M} q_j · X_{j,k}`` over the ``M`` modes of the row (each mode's
        moments written as the mode's own ``R_k``, …)."""
        if not self.coupled:
            raise ValueError(f"{self.model!r} has independent rows: no coupling")
        now = [sp.Symbol(f"{s.name}_k") for s in self.state]
        term = sum((q * x for q, x in zip(self.coupling_weights, now)), sp.S.Zero)
        return equation(COUPLED_SUM, sp.Sum(term, (MODE, 1, MODES)))

    def _repr_latex_(self) -> str:
        """Jupyter: the recursion, one aligned equation per moment."""
        rows = [f"{display_latex(eq.lhs)} = {display_latex(eq.rhs)}" for eq in self.equations()]
        return aligned(rows, f"{self.model}, {self.optimizer}, time rule {self.time_rule!r}")

    def mean_equations(self) -> list[sp.Eq]:
        """``(ē, v̄)_{k+1} = M (ē, v̄)_k`` for the means ``ē = E e``, ``v̄ = E v``."""
        now = [sp.Symbol(f"{s.name}bar_k") for s in self.mean_state]
        nxt = [sp.Symbol(f"{s.name}bar_k+1") for s in self.mean_state]
        return [equation(n, affine_form(self.mean_transition.row(i), now))
                for i, n in enumerate(nxt)]


#: The largest recursion (number of moments) whose symbolic closed forms — the generating
#: function, Sylvester's formula, the stationary state — are derived: one buffer, three
#: moments.  With two buffers (six moments) their expressions grow combinatorially (minutes
#: to hours); exact_risk and the numeric stability tools serve any size.
SYMBOLIC_MOMENTS = 3


class TooLargeForClosedForms(ValueError):
    """A symbolic closed form was asked of a recursion with more than
    :data:`SYMBOLIC_MOMENTS` moments."""


def require_symbolic_size(recursion: "MomentRecursion", what: str) -> None:
    """A :class:`TooLargeForClosedForms` (a ``ValueError``) when ``recursion`` has more
    than :data:`SYMBOLIC_MOMENTS` moments."""
    n = len(recursion.state)
    if n > SYMBOLIC_MOMENTS:
        raise TooLargeForClosedForms(
            f"{what} is derived for recursions of at most {SYMBOLIC_MOMENTS} moments (one "
            f"buffer); {recursion.optimizer!r} has {n}, whose symbolic {what} grows "
            "combinatorially. Use exact_risk (any size, exact on every backend) and "
            "sparsemom.numerics.is_stable / spectral_radius")


def require_uncoupled(recursion: "MomentRecursion", what: str) -> None:
    """A ``ValueError`` when ``recursion`` is one coupled mode of a row: ``what`` of its block
    alone is not that of the row (the modes move together through ``u qᵀ``)."""
    if recursion.coupled:
        raise ValueError(
            f"{what} is derived for rows that are independent; {recursion.model!r} describes one "
            "mode of a row whose modes couple (block diagonal plus rank one). Use exact_risk / "
            "exact_state (every backend) and sparsemom.numerics.is_stable / spectral_radius, "
            "which know the coupling")


def rebuilt(expr: sp.Basic) -> sp.Basic:
    """``expr`` rebuilt bottom-up from its arguments (``func(*args)``), as pickling does."""
    if not expr.args or isinstance(expr, sp.MatrixBase):
        return expr
    return expr.func(*(rebuilt(a) for a in expr.args))


def affine_form(row, symbols: list[sp.Symbol], constant: sp.Expr = sp.S.Zero) -> sp.Expr:
    """``Σ_j row_j · symbols_j + constant`` with every coefficient factored: the row of
    ``A X + c`` collected in the state (read off ``A`` and ``c``, nothing expanded)."""
    return sp.Add(*(sp.factor(a) * x for a, x in zip(row, symbols)), sp.factor(constant))


def _factored(expr: sp.Expr) -> sp.Expr:
    """``factor(expr)``, a lone idle power kept as ``(1 − p)^{jB}`` (not ``(−1)^{jB} (p − 1)^{jB}``)."""
    return S.with_idle_powers(sp.factor(expr))


def linear_map(rows: list[sp.Expr], variables: list[sp.Symbol], what: str):
    """Coefficient matrix and constant of expressions affine in ``variables``."""
    matrix, constant = [], []
    for row in rows:
        poly = sp.Poly(row, *variables)
        if poly.total_degree() > 1:
            raise ArithmeticError(f"{what} is not linear in {variables}: {row}")
        matrix.append([_factored(poly.coeff_monomial(x)) for x in variables])
        constant.append(_factored(poly.coeff_monomial(1)))
    return sp.ImmutableMatrix(matrix), sp.ImmutableMatrix(constant)


def moments_of(vectors, pairs, to_state, transform) -> list[sp.Expr]:
    """``transform(⟨u, w⟩)`` for each pair of vectors, written in the state symbols."""
    return [transform(vectors[u].dot(vectors[w])).xreplace(to_state) for u, w in pairs]


def geometric_stretch(active: sp.ImmutableMatrix, idle: sp.ImmutableMatrix,
                       p_b: sp.Expr) -> sp.ImmutableMatrix:
    """``p_B · active · (I − (1 − p_B) idle)^{-1}``: an active step after a
    geometric number of idle steps."""
    n = idle.shape[0]
    # active M⁻¹ = (M⁻ᵀ activeᵀ)ᵀ with M = I − (1 − p_B) idle, solved in the field of
    # rational functions; each entry factored (as factor(cancel(·)) of the product gives it)
    M, act, scale = in_field((sp.eye(n) - (1 - p_b) * idle).T, active.T, sp.Matrix([[p_b]]))
    stretched = (scale[0, 0] * solve(M, act)).transpose()
    return sp.ImmutableMatrix(active.shape[0], n, lambda i, j: from_idle_symbol(sp.factor(
        M.domain.to_sympy(stretched[i, j].element))))
