"""The installed distribution's version (``pyproject.toml``)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sparsemom")
except PackageNotFoundError:  # a source tree used without installing it
    __version__ = "0+unknown"
