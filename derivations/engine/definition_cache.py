"""Derivations cached by what they are derived from, not by the names they are asked by.

Public functions take names (``derive_recursion("lsq", "my-rule")``), and a name can
come to mean another rule: a notebook cell that redefines a rule unregisters the old
one and registers the new one under the same name.  A cache keyed by names alone would
then hand back the old rule's derivation — a silent wrong answer.  Here each argument
that names a registered update rule or data law also puts that object into the key, so a
redefined rule or law is derived afresh and an unchanged one is never derived twice.
"""

from __future__ import annotations

import inspect
from functools import wraps

from ..definitions.laws import LAWS
from ..definitions.optimizers import UPDATE_RULES


def cached_by_definition(function):
    """Memoise ``function`` on its arguments and on the rule objects its string
    arguments name now (arguments bound to the signature, defaults applied)."""
    signature = inspect.signature(function)
    results: dict = {}

    @wraps(function)
    def cached(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = tuple(bound.arguments.values())
        key = (values, tuple((UPDATE_RULES.get(x), LAWS.get(x)) if isinstance(x, str) else None
                             for x in values))
        if key not in results:
            results[key] = function(*args, **kwargs)
        return results[key]

    cached.cache_clear = results.clear
    return cached
