"""Numeric values of the recursion's symbols for a model and an optimizer."""

from __future__ import annotations

import numpy as np
import sympy as sp

from sparsemom.derivations import symbols as S
from sparsemom.derivations.engine.moments import R0
from sparsemom.numerics.inputs.validation import common_rows


def parameter_values(model, optimizer, coupled: bool = False
                     ) -> tuple[int, dict[sp.Symbol, np.ndarray]]:
    """``(rows, {symbol: values})`` for every parameter symbol and ``R_0``.

    Per-row arrays of the model (its law's parameters, ``R0``) and of the optimizer (``lr``,
    ``beta``, the rule's own hyper-parameters) must agree in length; a ``ValueError``
    names them otherwise.  Scheduled values are the base values (step 0's multiplier
    is applied by the backends).

    The rows of a law with a coupling are the modes of one row, which move together: only
    a caller that iterates the coupling says ``coupled=True``; every other (per-row
    analyses) gets a ``ValueError`` instead of numbers for independent rows.
    """
    if getattr(model.law, "coupling", None) is not None and not coupled:
        raise ValueError(
            f"this analysis treats rows as independent; the rows of {model.name!r} are the "
            "coupled modes of one row. Use exact_risk / exact_state (every backend), "
            "sparsemom.numerics.is_stable / spectral_radius and the covariance simulators "
            "(sparsemom.numerics.simulate.covariance)")
    law_names = {h.name for h in model.specs} | {str(h.symbol) for h in model.specs}
    shared = sorted(law_names & ({optimizer.keyword_of(s) for s in optimizer.values}
                                 | {str(s) for s in optimizer.values}))
    if shared:
        raise ValueError(f"model {model.name!r} and optimizer {optimizer.name!r} both have "
                         f"parameters named {shared}: rename one of them")
    rows = common_rows(**{h.name: model.values[h.symbol] for h in model.specs}, R0=model.R0,
                       **{optimizer.keyword_of(s): x for s, x in optimizer.values.items()})
    values = dict(model.parameter_values())
    values.update(optimizer.values)
    values.update({S.batch: np.array(optimizer.batch), R0: model.R0})
    return rows, values
