"""The ``sparsemom`` command line: a thin layer over the Python API."""

from sparsemom.numerics.cli.main import main

__all__ = ["main"]
