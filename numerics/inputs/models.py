"""Models with numbers: a data law (:mod:`sparsemom.derivations.definitions.laws`) and its validated parameters.

``Model(law, d, R0=…, **parameters)`` serves every law, built in or registered with
:func:`sparsemom.derivations.definitions.laws.register_law`: the keywords are the law's parameters (and ``p``,
the rows' activity probabilities, when the law uses it), each checked against its declared
interval when the model is made (a ``ValueError`` names the parameter).  Per-row values
are arrays (one entry per row of a token stream).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from sparsemom.derivations import symbols as S
from sparsemom.derivations.definitions.laws import LAWS, LEAST_SQUARES, LawParameter
from sparsemom.derivations.definitions.laws import law as law_named
from sparsemom.derivations.rare_class.law import RARE_CLASS
from sparsemom.numerics.inputs.validation import (
    check_declared,
    check_integer,
    check_per_row,
    common_rows,
)

#: The largest dimension ``d`` (and batch): the kernels compute in float64, which holds
#: every integer up to ``2^53`` exactly.
MAX_DIMENSION = 2**53
#: The activity probability of a row, when the law uses it and does not declare it itself.
ACTIVITY = LawParameter(S.p, lower=0, upper=1, lower_open=True, keyword="p",
                        doc="activity probability of the row")


class Model:
    r"""A data law with numbers: one row or a token stream of rows, each with its parameters.

    Each value is validated before any work (a ``ValueError`` names the parameter and the
    interval): the law's parameters within their declared intervals, scalar or per row as
    declared (``p`` in $(0, 1]$ per row when the law uses it); a parameter with a default may
    be left out.

    Parameters
    ----------
    law : str or DataLaw
        A registered law or its name (``"lsq"``, ``"gaussian"``, …).
    d : int
        The dimension of a row, in $[m, 2^{53}]$ with $m$ = ``min_dimension`` (1; 2 for the
        rare-class model).
    R0 : float or array_like
        $R_0 = \lVert e_0 \rVert^2 \ge 0$, scalar or one per row.
    **parameters
        The law's parameters by keyword, scalars or arrays over the rows.
    """

    min_dimension = 1

    def __init__(self, law, d: int, R0=1, **parameters):
        self.law = law_named(law) if isinstance(law, str) else law
        if LAWS.get(getattr(self.law, "name", None)) is not self.law:
            raise ValueError(f"law must be a registered law (sparsemom.derivations.register_law) or its "
                             f"name; got {law!r}")
        self._name = self.law.name
        self.title = self.law.title
        self.d = check_integer("d", d, minimum=self.min_dimension, maximum=MAX_DIMENSION)
        self.R0 = check_per_row("R0", R0, lower=0)
        specs = self.specs
        unknown = sorted(set(parameters) - {h.name for h in specs})
        if unknown:
            raise ValueError(f"model {self.law.name!r} has no parameter(s) {unknown}; its "
                             f"parameters are {[h.name for h in specs]} (and d, R0)")
        self.values: dict[sp.Symbol, np.ndarray] = {}
        taken = sorted(h.name for h in specs if h.name.startswith("_") or hasattr(self, h.name)
                       or h.name == "rows")
        if taken:
            raise ValueError(f"law {self.law.name!r}: parameter name(s) {taken} are names of "
                             "the numeric Model's own attributes; register the law with other "
                             "names (LawParameter(..., keyword=...))")
        for h in specs:
            value = parameters.get(h.name, h.default)
            if value is None:
                raise ValueError(f"model {self.law.name!r} needs parameter {h.name!r} "
                                 f"({h.doc or 'no default'}) in {h.interval()}")
            values = check_declared(h, h.name, value)
            if values.ndim and not h.per_row:
                raise ValueError(f"{h.name} must be a scalar for the {self.law.title} model "
                                 "(one value for all rows)")
            self.values[h.symbol] = values
            setattr(self, h.name, values)
        self.rows = common_rows(**{h.name: self.values[h.symbol] for h in specs}, R0=self.R0)
        if self.law.closed_moments:
            self._check_requirements()

    def _check_requirements(self) -> None:
        """Every ``f ≥ 0`` (``> 0``) of :attr:`DataLaw.requirements` holds at every row: the
        ingredients are distributions with the moments the derivation uses.  Exact values
        are compared exactly, others in float64."""
        values = {S.d: np.array(self.d, dtype=object), **self.values}
        for name, f, strict, why in self.law.requirements:
            symbols = sorted(f.free_symbols, key=sp.default_sort_key)
            arrays = [values[s] for s in symbols]
            try:
                result = np.asarray(sp.lambdify(symbols, f, "numpy")(*arrays))
                bad = ~(result > 0 if strict else result >= 0)
            except (TypeError, AttributeError):      # not rational: in float64
                floats = [np.asarray(a, dtype=float) for a in arrays]
                with np.errstate(all="ignore"):
                    result = np.asarray(sp.lambdify(symbols, f, "numpy")(*floats), dtype=float)
                bad = ~(result > 0 if strict else result >= 0)
            if np.any(bad):
                row = int(np.flatnonzero(np.broadcast_to(bad, (self.rows,)))[0])
                at = ", ".join(f"{s} = {_show(np.broadcast_to(v, (self.rows,))[row])}"
                               for s, v in zip(symbols, arrays))
                where = f" (row {row})" if self.rows > 1 else ""
                raise ValueError(f"model {self.law.name!r}: ingredient {name!r} needs {f} "
                                 f"{'>' if strict else '≥'} 0 ({why}); at {at}{where} it is "
                                 f"{_show(np.broadcast_to(result, (self.rows,))[row])}")

    @property
    def specs(self) -> tuple[LawParameter, ...]:
        """The model's parameters: ``p`` (when the law uses it and does not declare it),
        then the law's own."""
        own = self.law.specs
        extra = (ACTIVITY,) if self.law.uses_p and S.p not in self.law.symbols else ()
        return (*extra, *own)

    @property
    def name(self) -> str:
        """The name of the law, by which every derivation looks it up; a ``ValueError`` when
        that name no longer means the law this model was made (and checked) for."""
        if LAWS.get(self._name) is not self.law:
            raise ValueError(f"model {self._name!r} was made for a law that has since been "
                             "redefined or unregistered; make the Model again")
        return self._name

    def parameter_values(self) -> dict[sp.Symbol, np.ndarray]:
        """Numeric values of the model's symbols (per-row arrays or scalars)."""
        return {S.d: np.array(self.d), **self.values}

    def __repr__(self) -> str:
        shown = ", ".join(f"{h.name}={_show(self.values[h.symbol])}" for h in self.specs)
        return f"Model({self._name!r}, d={self.d}, R0={_show(self.R0)}, {shown})"


class SparseLeastSquares(Model):
    r"""Sparse least squares (model M1, :data:`sparsemom.derivations.definitions.laws.LEAST_SQUARES`)
    with numbers: $x \sim N(0, I_d)$ when the sample holds the row's token (probability $p$),
    $y = \langle x, \theta^\ast \rangle + \xi$, excess risk $R = \tfrac12 p \lVert e \rVert^2$ per
    row.  ``Model("lsq", d, p=p, R0=R0, sigma2=sigma2)``.

    Parameters
    ----------
    d : int
        The row dimension, in $[1, 2^{53}]$.
    p : float or array_like
        The activity probability in $(0, 1]$, scalar or one per row of a token stream.
    R0 : float or array_like
        $\lVert e_0 \rVert^2 \ge 0$, scalar or per row.
    sigma2 : float
        $s^2 \ge 0$, the label-noise variance (one for all rows).
    """

    def __init__(self, d: int, p, R0=1, sigma2=0):
        super().__init__(LEAST_SQUARES, d, R0=R0, p=p, sigma2=sigma2)

    def __repr__(self) -> str:
        rows = f"{self.rows} rows" if self.rows > 1 else f"p={self.p.ravel()[0]}"
        return f"SparseLeastSquares(d={self.d}, {rows}, sigma2={self.sigma2})"


class RareClassLogistic(Model):
    r"""Logistic regression with a rare class (model M2,
    :data:`sparsemom.derivations.rare_class.statistics.RARE_CLASS`): $x = y \mu + z$,
    $y \sim \text{Bernoulli}(p)$, $\lVert \mu \rVert = \rho$, bias held at
    $b^\ast = \log\frac{p}{1 - p} - \frac{\rho^2}{2}$ so that $\theta^\ast = \mu$.  There is no
    label-noise parameter: the labels are the mixture's own.

    Parameters
    ----------
    d : int
        $d \ge 2$: a signal direction and its orthogonal bulk.
    p : float
        The rare-class probability, in $(0, 1)$.
    rho : float
        $\rho > 0$.
    s0 : float or None
        The initial signal error $s_0 = \langle \theta_0 - \mu, \hat\mu \rangle$ (default
        $-\rho$: $\theta_0 = 0$).
    R0 : float
        The initial bulk energy $\lVert \theta_{0\perp} \rVert^2 \ge 0$.
    """

    min_dimension = 2

    def __init__(self, d: int, p, rho, s0=None, R0=0):
        super().__init__(RARE_CLASS, d, R0=R0, p=p, rho=rho)
        self.p, self.rho = self.p[()], self.rho[()]
        self.s0 = -self.rho if s0 is None else _scalar("s0", check_per_row("s0", s0))
        self.R0 = _scalar("R0", self.R0)

    def __repr__(self) -> str:
        return (f"RareClassLogistic(d={self.d}, p={self.p}, rho={self.rho}, s0={self.s0}, "
                f"R0={self.R0})")


def _scalar(name: str, values: np.ndarray):
    if values.ndim:
        raise ValueError(f"{name} must be a scalar for the logistic model (one row)")
    return values[()]


def _show(values: np.ndarray):
    values = np.asarray(values)
    if values.ndim == 0:
        return values.item()
    return values.ravel()[0] if values.size == 1 else f"<{values.size} rows>"


#: The numeric model class of each built-in law's name (a registered law: :class:`Model`).
MODELS = {LEAST_SQUARES.name: SparseLeastSquares, RARE_CLASS.name: RareClassLogistic}


def model_class(name: str):
    """The model class called ``name``; a ``ValueError`` lists the valid names."""
    if name not in MODELS:
        raise ValueError(f"model must be one of {', '.join(map(repr, MODELS))}; got {name!r}")
    return MODELS[name]
