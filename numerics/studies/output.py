"""Where studies write, and which code revision wrote it."""

from __future__ import annotations

import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def default_output_dir(study: str = "") -> Path:
    """Where studies write by default: ``paper_figures/out/<study>`` in a source checkout
    (the folder holding ``pyproject.toml``), ``./sparsemom-out/<study>`` when installed."""
    if (PACKAGE_ROOT / "pyproject.toml").is_file() and (PACKAGE_ROOT / "paper_figures").is_dir():
        base = PACKAGE_ROOT / "paper_figures" / "out"
    else:
        base = Path("sparsemom-out")
    return base / study if study else base


def git_revision() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=PACKAGE_ROOT, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


#: The distributions whose versions decide the numbers and the printed formulas.
VERSIONED = ("sparsemom", "sympy", "mpmath", "numpy", "scipy", "matplotlib", "pandas")


def package_versions() -> dict[str, str]:
    """Python's and each :data:`VERSIONED` distribution's version (``"not installed"``)."""
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found
