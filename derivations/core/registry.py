"""Definitions registered by name — update rules and data laws alike.

A :class:`Registry` maps names to definitions (objects with a ``name`` and a
``definition``: the SHA-256 of what they are).  Registering an equal definition again is a
no-op, another definition under a taken name needs ``replace=True``, and built-in entries
are never replaced or removed; every refusal is a ``ValueError`` naming the entry.
"""

from __future__ import annotations


class Registry:
    """Definitions of one ``kind`` (``"rule"``, ``"law"``) by name; ``looked_up_as`` is how
    a lookup names the argument (``"optimizer name"``, ``"model"``)."""

    def __init__(self, kind: str, looked_up_as: str):
        self.kind = kind
        self.looked_up_as = looked_up_as
        #: The registered definitions by name (a plain dict, read everywhere).
        self.entries: dict = {}
        self._built_in: set[str] = set()

    def check_name(self, name) -> None:
        """A name is letters, digits, ``-`` and ``_``."""
        if not isinstance(name, str) or not name \
                or not all(ch.isalnum() or ch in "-_" for ch in name):
            raise ValueError(f"{self.kind} name must be letters, digits, '-' and '_'; "
                             f"got {name!r}")

    def add(self, entry, *, replace: bool, built_in: bool):
        """Register ``entry`` (already checked) and return the registered definition: the
        one registered before when their definitions are equal."""
        old = self.entries.get(entry.name)
        if old is not None and old is not entry:
            if entry.name in self._built_in:
                raise ValueError(f"{self.kind} name {entry.name!r} is already registered: it is "
                                 "built in and cannot be replaced; choose another name")
            if old.definition == entry.definition:
                return old
            if not replace:
                raise ValueError(f"{self.kind} name {entry.name!r} is already registered with "
                                 "another definition; pass replace=True to replace it")
        self.entries[entry.name] = entry
        if built_in:
            self._built_in.add(entry.name)
        return entry

    def is_built_in(self, name: str) -> bool:
        """``name`` was registered with the package (it cannot be replaced or removed)."""
        return name in self._built_in

    def get(self, name: str):
        """The definition called ``name``; a ``ValueError`` lists the valid names."""
        if name not in self.entries:
            raise ValueError(f"{self.looked_up_as} must be one of "
                             f"{', '.join(map(repr, self.entries))}; got {name!r}")
        return self.entries[name]

    def remove(self, name: str) -> None:
        """Forget ``name`` (built-in entries stay)."""
        self.get(name)
        if name in self._built_in:
            raise ValueError(f"{self.kind} {name!r} is built in and cannot be unregistered")
        del self.entries[name]
