"""The one import package: ``import sparsemom as sm`` is light, and its public names are
those of its subpackages, each resolving."""

from __future__ import annotations

import inspect
import subprocess
import sys
import types

import sparsemom as sm
import sparsemom.derivations as derivations
import sparsemom.numerics as numerics


def test_every_public_name_resolves_and_is_documented():
    for name in sm.__all__:
        value = getattr(sm, name)
        if callable(value) or isinstance(value, types.ModuleType):
            assert (inspect.getdoc(value) or "").strip(), f"sm.{name} has no docstring"


def test_the_top_level_names_are_the_subpackages_public_names():
    """``sm`` re-exports every public name of ``sparsemom.derivations`` and
    ``sparsemom.numerics`` (their modules excepted), as the same objects."""
    wanted = {n for n in derivations.__all__
              if not isinstance(getattr(derivations, n), types.ModuleType) or n == "symbols"}
    wanted |= set(numerics.__all__) - {"__version__"}
    assert wanted <= set(sm.__all__), sorted(wanted - set(sm.__all__))
    for name in wanted:
        source = derivations if name in derivations.__all__ else numerics
        assert getattr(sm, name) is getattr(source, name), name


def test_import_sparsemom_loads_neither_sympy_nor_numpy():
    code = ("import sys, sparsemom; print(sorted(m for m in ('sympy', 'numpy', 'pandas') "
            "if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr
    assert isinstance(sm.__version__, str) and sm.__version__
