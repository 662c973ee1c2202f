"""Public names of a package imported on first use (PEP 562), so importing the package
(``import sparsemom``, ``sparsemom --help``) loads neither SymPy nor a kernel."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module


def lazy_exports(namespace: dict, exports: dict[str, str]) -> tuple[Callable, Callable]:
    """``(__getattr__, __dir__)`` for the package whose globals are ``namespace``: a name
    of ``exports`` (name → module holding it) is imported when first read and kept."""

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        value = getattr(import_module(exports[name]), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__
