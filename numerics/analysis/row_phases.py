"""Phase of every row of a token stream, and the momentum thresholds per frequency.

Read off the derived active-iterate recursion (the clock of the timescales):

* **unstable**: a Schur–Cohn condition fails (``max |λ| ≥ 1``);
* **heavy-ball**: stable and ``Δ(χ) < 0`` — the transition has a complex pair, the
  moments oscillate: the buffer's memory outlasts the learning of the error;
* **SGD-like**: stable with real roots (over-damped).

Per frequency ``p``, in ``ε = 1 − β``: the **oscillation onset** ``ε_osc(p)``, the
largest ``ε`` with a complex pair (heavy-ball for ``ε < ε_osc``; 0 when no ``β < 1``
oscillates), and the **stability edge** ``ε_stab(p)`` (stable for ``ε > ε_stab``; 0
when every ``β < 1`` is stable, 1 when even ``β = 0`` is unstable).  Both are located
on a logarithmic grid in ``ε`` and refined by bisection on the derived expressions, in
float arithmetic while its sign is certain, then, near the crossing, in mpmath by a
bracketing secant (Illinois).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp

from sparsemom.derivations import symbols as S
from sparsemom.derivations import update_rule
from sparsemom.derivations.engine.definition_cache import cached_by_definition
from sparsemom.derivations.engine.recursion import recursion_for
from sparsemom.derivations.limits.families import Family
from sparsemom.derivations.properties.oscillation import discriminant_of, oscillation_discriminant
from sparsemom.derivations.properties.stability import (
    characteristic_coefficients,
    conditions_of,
    stability_conditions,
)
from sparsemom.numerics.analysis.stability import lambdified
from sparsemom.numerics.codegen.expressions import stable_form, with_stable_idle_powers
from sparsemom.numerics.codegen.signature import Signature
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.inputs.parameters import parameter_values
from sparsemom.numerics.inputs.validation import check_integer
from sparsemom.numerics.kernels.backends import float_arguments, to_mpf
from sparsemom.numerics.kernels.numeric_function import numeric_function

#: Phase codes per row and the family each stands for (``PHASES[code].label`` names it).
PHASES = (Family.SGD, Family.HEAVY_BALL, Family.UNSTABLE)
SGD_LIKE, HEAVY_BALL, UNSTABLE = range(3)
#: ε = 1 − β scanned from 1 down to this value before bisection.
SMALLEST_EPS = 1e-9


#: Digits of the fallback for rows whose sign float64 cannot settle.
FALLBACK_DPS = 50


def precision_pair() -> tuple[type, type]:
    """``(narrow, wide)``: the two float types whose results are compared to certify a
    sign. ``(float64, longdouble)`` where ``longdouble`` is wider than float64 (x86:
    64-bit mantissa; aarch64 Linux: 113); where it is only float64 (macOS on arm64,
    MSVC), ``(float32, float64)``: the same test with the roles one step down (float32
    overflows sooner, so more rows go to the mpmath fallback; none is trusted blindly)."""
    if np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant:
        return np.float64, np.longdouble
    return np.float32, np.float64


@cached_by_definition
def _expressions(model: str, optimizer: str) -> tuple:
    """``(Δ(χ) or None without a buffer, Schur–Cohn left-hand sides)`` on the active
    clock, each as a pair ``(exact, float form)``.  The float form is the same value: the
    generic ``Δ`` and conditions of the characteristic coefficients ``χ_j``, each ``χ_j``
    factored in ``p_B`` (:func:`stable_form`).  Substituted as derived, the ``χ_j`` are
    polynomials in ``(1 − p)^B`` whose terms cancel to ``O(p_B²)`` for rare rows, which
    float64 cannot resolve; factored, they keep their digits (1 029 → 0 doubtful rows of
    10⁶ at β = 0.9)."""
    coefficients = characteristic_coefficients(model, optimizer, "active")
    stable = {chi: stable_form(c) for chi, c in coefficients.items()}
    exact = (c.lhs for c in stability_conditions(model, optimizer, "active"))
    conditions = tuple(zip(exact, conditions_of(stable)))
    if len(coefficients) < 2:
        return None, conditions
    return (oscillation_discriminant(model, optimizer), discriminant_of(stable)), conditions


def _arguments(model, optimizer):
    """``(rows, inputs, float arguments)`` of the active-iterate recursion."""
    optimizer.require_constant("a phase")
    rows, values = parameter_values(model, optimizer)
    rec = recursion_for(model, optimizer, "active")
    return rows, Signature.of(rec).inputs, float_arguments(rec, values)


def float_signs(expr: sp.Expr, inputs: tuple[sp.Symbol, ...], args,
                rows: int) -> tuple[np.ndarray, np.ndarray]:
    """``(expr > 0, doubtful)`` per row from two float precisions
    (:func:`precision_pair`): a row is doubtful where the two differ by half the value or
    more (the clustered roots of a nearly defective transition cancel most digits of
    ``Δ``), or either is not finite; elsewhere the sign is certified."""
    narrow_type, wide_type = precision_pair()
    f = _float_function(expr, inputs)
    with np.errstate(all="ignore"):
        narrow = np.broadcast_to(f(*[np.asarray(a, dtype=narrow_type) for a in args]), (rows,))
        wide = np.broadcast_to(f(*[np.asarray(a, dtype=wide_type) for a in args]), (rows,))
        doubtful = ~(np.abs(narrow - wide) < 0.5 * np.abs(wide))
    return wide > 0, doubtful


@lru_cache(maxsize=None)
def _float_function(expr: sp.Expr, inputs: tuple[sp.Symbol, ...]):
    """``expr`` as a NumPy function for float and ``long double`` arrays: with
    ``(1 − p)^B`` computed as ``1 − p_B`` (:func:`with_stable_idle_powers`, which keeps
    rare rows' digits, so fewer rows go to mpmath) and small powers as products (no
    ``powl``); cached on the expression (the threshold search calls it often)."""
    return numeric_function(with_stable_idle_powers(expr), inputs, "numpy", cse=True,
                            products=True)


def row_arguments(args, rows: int, row: int) -> list[mpmath.mpf]:
    """Row ``row`` of float arguments (scalars or one per row), exactly as mpmath numbers."""
    return [to_mpf(float(np.broadcast_to(a, (rows,))[row])) for a in args]


def positive(expr: sp.Expr, inputs: tuple[sp.Symbol, ...], args, rows: int,
             floating: sp.Expr | None = None) -> np.ndarray:
    """``expr > 0`` per row, with the sign certified: :func:`float_signs` of ``floating``
    (the same value written for float evaluation; default ``expr``), and the doubtful
    rows evaluated again from ``expr`` in mpmath at ``FALLBACK_DPS`` digits.  ``args`` are
    the values of ``inputs`` (a recursion's :class:`Signature` inputs), scalars or one
    per row."""
    out, doubtful = float_signs(expr if floating is None else floating, inputs, args, rows)
    if doubtful.any():
        exact = lambdified(expr, inputs, "mpmath")
        out = out.copy()
        with mpmath.workdps(FALLBACK_DPS):
            for r in np.flatnonzero(doubtful):
                out[r] = exact(*row_arguments(args, rows, r)) > 0
    return out


def _modes(model_name: str, optimizer_name: str, inputs, args, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row: (complex pair, i.e. ``Δ(χ) < 0``; all Schur–Cohn conditions hold)."""
    discriminant, conditions = _expressions(model_name, optimizer_name)
    oscillating = np.zeros(rows, dtype=bool)
    if discriminant is not None:
        exact, floating = discriminant
        oscillating = positive(-exact, inputs, args, rows, floating=-floating)
    stable = np.ones(rows, dtype=bool)
    for exact, floating in conditions:
        stable &= positive(exact, inputs, args, rows, floating=floating)
    return oscillating, stable


def row_phases(model, optimizer) -> np.ndarray:
    """Phase code per row (``PHASES[code]`` is its :class:`Family`): 0 SGD-like, 1 heavy-ball,
    2 unstable, on the active-iterate recursion."""
    rows, inputs, args = _arguments(model, optimizer)
    oscillating, stable = _modes(model.name, optimizer.name, inputs, args, rows)
    phase = np.where(oscillating, HEAVY_BALL, SGD_LIKE).astype(np.int8)
    phase[~stable] = UNSTABLE
    return phase


@dataclass(frozen=True)
class MomentumThresholds:
    """``ε_osc(p)`` and ``ε_stab(p)`` per frequency (see the module docstring)."""

    p: np.ndarray
    oscillation_onset: np.ndarray
    stability_edge: np.ndarray

    @property
    def beta_onset(self) -> np.ndarray:
        """Momentum at which oscillation starts, ``β_osc = 1 − ε_osc``."""
        return 1 - self.oscillation_onset


def _threshold(inside: np.ndarray, hit, root, eps_grid: np.ndarray,
               bisections: int) -> np.ndarray:
    """Per row, the largest ``ε`` where the crossing condition holds (taken to hold on
    ``(0, ε*)``): ``inside[j]`` on the grid from ``ε = 1`` down, then bisection in
    ``log ε`` to the first crossing, to a bracket ``2^-bisections`` of the grid step.

    ``hit(ε)`` gives ``(holds, doubtful)`` per row in float arithmetic. A row whose
    midpoint float cannot settle is near its crossing, where every further step would
    need mpmath; ``root(row, lo, hi, width)`` finishes it there (a bracketing secant,
    far fewer evaluations than bisection) and returns ``ε`` at or below the ``lo`` end
    (where the condition holds) of a bracket no wider than ``width`` in ``log ε``."""
    any_hit = inside.any(axis=0)
    first = np.argmax(inside, axis=0)                                    # largest ε hit
    edge = np.where(any_hit, eps_grid[first], 0.0)
    edge[any_hit & (first == 0)] = 1.0
    refine = any_hit & (first > 0)
    if not refine.any() or bisections == 0:
        return edge
    log_lo, log_hi = np.log(eps_grid[first]), np.log(eps_grid[np.maximum(first - 1, 0)])
    width = (log_hi - log_lo) * 0.5 ** bisections
    active = refine.copy()
    rooted = np.full(edge.shape, np.nan)
    for _ in range(bisections):
        if not active.any():
            break
        mid = 0.5 * (log_lo + log_hi)
        holds, doubtful = hit(np.exp(mid))
        settled = active & ~doubtful
        log_lo = np.where(settled & holds, mid, log_lo)
        log_hi = np.where(settled & ~holds, mid, log_hi)
        for r in np.flatnonzero(active & doubtful):
            rooted[r] = root(r, log_lo[r], log_hi[r], width[r])
        active &= ~doubtful
    edge[refine] = np.where(np.isnan(rooted), np.exp(log_lo), rooted)[refine]
    return edge


def bracketed_root(g, lo: float, hi: float, width: float, max_steps: int = 200) -> mpmath.mpf:
    """``lo'`` with ``g(lo') > 0`` and a point ``hi'`` with ``g(hi') ≤ 0`` within
    ``width`` above it, from ``lo < hi`` near a crossing: the Illinois variant of regula
    falsi (superlinear; the stale end's value halved), each new point kept at least
    ``width / 2`` inside the bracket, so that it closes on the root from both sides.

    The ends' signs were settled in float arithmetic, at the parameters rounded to
    float; an end within that rounding of the crossing may have the other sign here, so
    an end on the wrong side moves outward, by ``width`` doubling, until it brackets.
    Runs at the current mpmath precision; ``g`` maps an ``mpf`` to an ``mpf``."""
    a, b = mpmath.mpf(lo), mpmath.mpf(hi)
    fa, fb = g(a), g(b)
    step = mpmath.mpf(width)
    for _ in range(64):
        if fa > 0 and not fb > 0:
            break
        if not fa > 0:
            a, fa = a - step, g(a - step)
        if fb > 0:
            b, fb = b + step, g(b + step)
        step *= 2
    else:
        raise ArithmeticError(f"no crossing near [{lo}, {hi}]: g = {fa} and {fb} at "
                              f"[{a}, {b}]")
    side, half = 0, mpmath.mpf(width) / 2
    for _ in range(max_steps):
        if b - a <= width:
            break
        c = (a * fb - b * fa) / (fb - fa)
        c = min(max(c, a + half), b - half)
        fc = g(c)
        if fc > 0:
            a, fa = c, fc
            if side == 1:
                fb /= 2
            side = 1
        else:
            b, fb = c, fc
            if side == -1:
                fa /= 2
            side = -1
    return a


def require_momentum(optimizer_name: str) -> None:
    """A ``ValueError`` naming ``optimizer`` unless its update uses the momentum ``β``
    (thresholds in ``β`` need one; :func:`update_rule` names the valid optimizers on a
    typo)."""
    if not update_rule(optimizer_name).uses_beta:
        raise ValueError(f"optimizer must use momentum β (e.g. heavy-ball, nesterov or lazy); "
                         f"got {optimizer_name!r}")


def momentum_thresholds(model, optimizer_name: str, lr, batch: int = 1, grid: int = 181,
                        bisections: int = 48) -> MomentumThresholds:
    """``ε_osc`` and ``ε_stab`` for every row of ``model`` (its ``p``), at learning
    rate ``lr`` and ``batch`` (``lr`` a scalar or per row).  One grid scan serves both
    (every row at every grid point in one evaluation); each bisection evaluates only its
    own expressions."""
    require_momentum(optimizer_name)
    if not model.law.uses_p:
        raise ValueError(f"momentum thresholds are per frequency p; model {model.name!r} has no "
                         "activity probability (its law has no TokenMask)")
    grid = check_integer("grid", grid, minimum=2)
    bisections = check_integer("bisections", bisections, minimum=0)
    rows = np.asarray(model.p).size
    discriminant, conditions = _expressions(model.name, optimizer_name)

    def arguments(eps):
        opt = Optimizer(optimizer_name, lr=lr, beta=1 - np.broadcast_to(eps, (rows,)), batch=batch)
        _, inputs, args = _arguments(model, opt)
        return inputs, args

    def oscillating(eps):
        return float_signs(-discriminant[1], *arguments(eps), rows)

    def unstable(eps):
        """Certainly unstable: some condition certainly fails; certainly stable: every
        one certainly holds; doubtful otherwise."""
        inputs, args = arguments(eps)
        signs = [float_signs(floating, inputs, args, rows) for _, floating in conditions]
        fails = np.logical_or.reduce([~pos & ~doubt for pos, doubt in signs])
        holds = np.logical_and.reduce([pos & ~doubt for pos, doubt in signs])
        return fails, ~fails & ~holds

    inputs, args = arguments(0.5)
    at_beta = inputs.index(S.beta)

    def in_mpmath(expressions):
        """``root`` for :func:`_threshold`: the row's bracket closed on
        ``g = −min_k expressions_k`` (``> 0`` where the crossing condition holds: the
        discriminant negative, or some Schur–Cohn condition failing) at ``β = 1 − e^x``."""
        def root(r, lo, hi, width):
            functions = [lambdified(e, inputs, "mpmath") for e in expressions]
            values = row_arguments(args, rows, r)

            def g(x):
                values[at_beta] = 1 - mpmath.exp(x)
                return -min(f(*values) for f in functions)

            with mpmath.workdps(FALLBACK_DPS):
                eps = mpmath.exp(bracketed_root(g, lo, hi, width))
                nearest = float(eps)
                return nearest if nearest <= eps else float(np.nextafter(nearest, 0.0))
        return root

    eps_grid = np.geomspace(1.0, SMALLEST_EPS, grid)
    oscillates, stable = _scan(model.name, optimizer_name, arguments, eps_grid, rows)
    onset = (_threshold(oscillates, oscillating, in_mpmath([discriminant[0]]), eps_grid,
                        bisections) if discriminant is not None else np.zeros(rows))
    edge = _threshold(~stable, unstable, in_mpmath([exact for exact, _ in conditions]),
                      eps_grid, bisections)
    return MomentumThresholds(np.asarray(model.p, dtype=float), onset, edge)


#: Entries (rows × grid points) evaluated at once by the threshold scan.
SCAN_BLOCK = 1 << 18


def _scan(model_name: str, optimizer_name: str, arguments, eps_grid: np.ndarray,
          rows: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_modes` at every grid point, as ``(grid, rows)`` arrays: grid points
    evaluated together (row ``i`` at point ``j`` is entry ``j · rows + i``) in blocks of
    about ``SCAN_BLOCK`` entries, so that a large expression costs a few calls, not one
    per point, and memory stays bounded."""
    per_block = max(1, SCAN_BLOCK // rows)
    oscillates, stable = [], []
    for start in range(0, eps_grid.size, per_block):
        per_point = [arguments(e) for e in eps_grid[start:start + per_block]]
        inputs = per_point[0][0]
        flat = [np.concatenate([np.broadcast_to(args[k], (rows,)) for _, args in per_point])
                for k in range(len(inputs))]
        o, s = _modes(model_name, optimizer_name, inputs, flat, rows * len(per_point))
        oscillates.append(o.reshape(len(per_point), rows))
        stable.append(s.reshape(len(per_point), rows))
    return np.concatenate(oscillates), np.concatenate(stable)
