"""An optimizer with numbers: an update rule (:mod:`derivations.optimizers`) and its
validated hyper-parameters."""

from __future__ import annotations

import numpy as np

from derivations.optimizers import update_rule
from numerics.inputs.validation import check_integer, check_per_row, common_rows


class Optimizer:
    """An optimizer with its hyper-parameters.

    ``lr`` (η > 0) and ``beta`` (β ∈ [0, 1)) are scalars or per-row arrays (one
    entry per row of a token stream); ``batch`` (B) is a positive integer.
    ``sgd`` has no momentum buffer, so its ``beta`` must be 0.
    """

    def __init__(self, name: str, lr, beta=0, batch: int = 1):
        self.rule = update_rule(name)
        self.name = name
        self.lr = check_per_row("lr", lr, lower=0, lower_open=True)
        self.beta = check_per_row("beta", beta, lower=0, upper=1, upper_open=True)
        if not self.rule.uses_beta and np.any(self.beta != 0):
            raise ValueError(f"beta must be 0 for optimizer {name!r}, whose update does not "
                             f"use it; got beta={beta!r} (use 'heavy-ball' for momentum)")
        self.batch = check_integer("batch", batch, minimum=1)
        self.rows = common_rows(lr=self.lr, beta=self.beta)

    def __repr__(self) -> str:
        return (f"Optimizer({self.name!r}, lr={_show(self.lr)}, beta={_show(self.beta)}, "
                f"batch={self.batch})")


def _show(values: np.ndarray):
    if values.ndim == 0:
        return values.item()
    return values[0] if values.size == 1 else f"<{values.size} rows>"
