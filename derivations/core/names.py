"""Derivations are keyed by names: a law or rule, or a numeric model or optimizer that
carries one, is looked up by its ``name``."""

from __future__ import annotations


def name_of(thing) -> str:
    """``thing`` itself if it is a name, else its ``name`` attribute."""
    if isinstance(thing, str):
        return thing
    name = getattr(thing, "name", None)
    if not isinstance(name, str):
        raise ValueError(f"expected a name or an object with a name; got {thing!r}")
    return name
