"""Time limits a user may set in the environment."""

from __future__ import annotations

import math
import os


def seconds_from_environment(variable: str, default: float) -> float:
    """``$variable`` as a positive, finite number of seconds, or ``default`` when it is
    unset or blank; a ``ValueError`` naming the variable otherwise."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 < value < math.inf):
        raise ValueError(f"{variable} must be a positive number of seconds; got {text!r}")
    return value
