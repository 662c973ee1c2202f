"""An optimizer with numbers: an update rule (:mod:`sparsemom.derivations.definitions.optimizers`), its
validated hyper-parameters and their per-step schedules."""

from __future__ import annotations

import numpy as np
import sympy as sp

from sparsemom.derivations import symbols as S
from sparsemom.derivations.definitions.optimizers import (
    STANDARD_HYPER_PARAMETERS,
    UPDATE_RULES,
    HyperParameter,
    update_rule,
)
from sparsemom.numerics.inputs.schedules import Schedule, as_schedule
from sparsemom.numerics.inputs.validation import check_declared, check_integer, common_rows

#: The largest batch: float64 holds every integer up to 2^53 exactly (and ``(1 − p)^B``
#: is computed from ``B`` as a float).
MAX_BATCH = 2**53

#: The standard hyper-parameters every rule accepts: η > 0 and β ∈ [0, 1).
STANDARD = STANDARD_HYPER_PARAMETERS
_API = {S.lr: "lr", S.beta: "beta"}


def _keyword(spec: HyperParameter) -> str:
    return _API.get(spec.symbol, spec.name)


class Optimizer:
    r"""An update rule with its hyper-parameters and schedules.

    A schedule makes step $k$ use $\text{value} \cdot s_k$ on every row
    (:mod:`sparsemom.numerics.inputs.schedules`); every scheduled value is checked against the
    hyper-parameter's interval when the number of steps is known (:meth:`scheduled_values`).
    An unknown or missing hyper-parameter, or a value outside its interval, raises a
    ``ValueError`` naming it.

    Parameters
    ----------
    name : str
        A registered rule (``"sgd"``, ``"heavy-ball"``, ``"nesterov"``, ``"lazy"``,
        ``"heavy-ball-dampened"``, ``"nesterov-dampened"``, ``"qhm"``, ``"ema"``, ``"dana"`` or
        one of :func:`~sparsemom.derivations.definitions.optimizers.register_rule`).
    lr : float or array_like
        $\eta > 0$, scalar or one per row of a token stream.
    beta : float or array_like
        $\beta \in [0, 1)$, scalar or per row; 0 for a rule that does not use it.
    batch : int
        $B \ge 1$, the samples per step.
    lr_schedule : array_like or callable or None
        Multipliers $s_k$ of ``lr`` (a 1-D array at least as long as the run, or
        $k \mapsto s_k$).
    beta_schedule : array_like or callable or None
        Multipliers of ``beta``.
    schedules : dict or None
        Keyword → schedule, for any hyper-parameter (``{"nu": …}``, ``{"avg": polyak()}``).
    **hyper_parameters
        The rule's own hyper-parameters by keyword (``nu=0.7``, ``tau=0.1``), scalars or per
        row; one with a default may be left out.
    """

    def __init__(self, name: str, lr, beta=0, batch: int = 1, *, lr_schedule=None,
                 beta_schedule=None, schedules: dict | None = None, **hyper_parameters):
        self.rule = update_rule(name)
        self._name = name
        self.specs = {_keyword(h): h for h in (*STANDARD_HYPER_PARAMETERS, *self.rule.specs)}
        own = {h.name for h in self.rule.specs}
        unknown = sorted(set(hyper_parameters) - own)
        if unknown:
            raise ValueError(f"optimizer {name!r} has no hyper-parameter(s) {unknown}; its "
                             f"hyper-parameters are lr, beta" +
                             "".join(f", {h}" for h in sorted(own)))
        missing = sorted(h.name for h in self.rule.specs
                         if h.name not in hyper_parameters and h.default is None)
        if missing:
            raise ValueError(f"optimizer {name!r} needs hyper-parameter(s) {missing} "
                             "(no default)")
        given = {"lr": lr, "beta": beta}
        given.update({h.name: hyper_parameters.get(h.name, h.default) for h in self.rule.specs})
        self.values = {self.specs[k].symbol: check_declared(self.specs[k], k, x) for k, x in given.items()}
        self.lr, self.beta = self.values[S.lr], self.values[S.beta]
        if not self.rule.uses_beta and np.any(self.beta != 0):
            raise ValueError(f"beta must be 0 for optimizer {name!r}, whose update does not "
                             f"use it; got beta={beta!r} (use 'heavy-ball' for momentum)")
        self.batch = check_integer("batch", batch, minimum=1, maximum=MAX_BATCH)
        self.rows = common_rows(**{k: self.values[h.symbol] for k, h in self.specs.items()})
        self.schedules = self._schedules(lr_schedule, beta_schedule, schedules or {})

    def _schedules(self, lr_schedule, beta_schedule, schedules: dict) -> dict[sp.Symbol, Schedule]:
        if not isinstance(schedules, dict):
            raise ValueError(f"schedules must be a dict name → schedule; got {schedules!r}")
        named = dict(schedules)
        for key, s in (("lr", lr_schedule), ("beta", beta_schedule)):
            if s is not None:
                if key in named:
                    raise ValueError(f"{key} is scheduled twice ({key}_schedule and schedules)")
                named[key] = s
        unknown = sorted(set(named) - set(self.specs))
        if unknown:
            raise ValueError(f"schedules name unknown hyper-parameter(s) {unknown}; "
                             f"known: {sorted(self.specs)}")
        if "beta" in named and not self.rule.uses_beta:
            raise ValueError(f"beta_schedule: optimizer {self.name!r} does not use beta")
        return {self.specs[k].symbol: as_schedule(f"{k} schedule", s) for k, s in named.items()}

    @property
    def name(self) -> str:
        """The name of the rule, by which every derivation looks it up; a ``ValueError``
        when that name no longer means the rule this optimizer was made (and checked) for
        (the rule was redefined with ``replace=True`` or unregistered)."""
        if UPDATE_RULES.get(self._name) is not self.rule:
            raise ValueError(f"optimizer {self._name!r} was made for a rule that has since been "
                             "redefined or unregistered: make the Optimizer again")
        return self._name

    @property
    def scheduled(self) -> bool:
        """Some hyper-parameter changes from step to step."""
        return bool(self.schedules)

    def require_constant(self, what: str) -> None:
        """A ``ValueError`` when scheduled: ``what`` (a closed form, a stability region, a
        limit, …) is a statement about one time-invariant map."""
        if self.scheduled:
            names = ", ".join(self.keyword_of(s) for s in self.schedules)
            raise ValueError(f"{what} needs constant hyper-parameters; this optimizer schedules "
                             f"{names} (use exact_risk or the Monte Carlo simulators)")

    def keyword_of(self, symbol: sp.Symbol) -> str:
        return next(k for k, h in self.specs.items() if h.symbol == symbol)

    def multipliers(self, steps: int) -> dict[sp.Symbol, np.ndarray]:
        """Per scheduled symbol, its multipliers ``s[0..steps−1]``, after checking that
        every scheduled value ``value · s[k]`` (every row) lies in the hyper-parameter's
        interval; a ``ValueError`` names the first step outside it."""
        out = {}
        for symbol, schedule in self.schedules.items():
            key = self.keyword_of(symbol)
            s = schedule.multipliers(steps, f"{key} schedule")
            base = self.values[symbol]
            if s.size and not _all_within(self.specs[key], key, base, s):
                for k in range(s.size):  # find the first step outside, for the message
                    try:
                        check_declared(self.specs[key], key, base * s[k])
                    except ValueError as exc:
                        raise ValueError(f"{key} schedule at step {k} (multiplier {s[k]}): "
                                         f"{exc}") from None
            out[symbol] = s
        return out

    def __repr__(self) -> str:
        extra = "".join(f", {h.name}={_show(self.values[h.symbol])}" for h in self.rule.specs)
        sched = "".join(f", {self.keyword_of(s)}_schedule={sc!r}"
                        for s, sc in self.schedules.items())
        return (f"Optimizer({self._name!r}, lr={_show(self.lr)}, beta={_show(self.beta)}, "
                f"batch={self.batch}{extra}{sched})")


def _all_within(spec: HyperParameter, key: str, base: np.ndarray, s: np.ndarray) -> bool:
    """Every scheduled value ``base_r · s_k`` (all rows, all steps) lies in the interval
    of ``spec``, decided from the four products of extremes: the interval is convex, and
    a product, exact or rounded to float, is monotone in each factor, so the least and
    greatest of the ``rows × steps`` products are among them."""
    corners = [b * m for b in (base.min(), base.max()) for m in (s.min(), s.max())]
    try:
        check_declared(spec, key, corners)
    except ValueError:
        return False
    return True


def _show(values: np.ndarray):
    if values.ndim == 0:
        return values.item()
    return values[0] if values.size == 1 else f"<{values.size} rows>"
