"""The three kinds of momentum dynamics, one vocabulary for the d → ∞ limits and for
the phase of a row at finite d.

* ``sgd`` (shown "SGD-like"): the buffer forgets faster than the error learns; real
  modes, the dynamics of plain SGD with an effective learning rate;
* ``heavy-ball``: retention and learning on one timescale; oscillating modes;
* ``unstable``: the second moments grow.
"""

from __future__ import annotations

from enum import StrEnum


class Family(StrEnum):
    SGD = "sgd"
    HEAVY_BALL = "heavy-ball"
    UNSTABLE = "unstable"

    @property
    def label(self) -> str:
        """How tables and figures name the family."""
        return {"sgd": "SGD-like", "heavy-ball": "heavy-ball", "unstable": "unstable"}[self.value]
