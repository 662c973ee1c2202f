"""Test session setup: compiled kernels go to a private cache, not the user's."""

import os
import tempfile

_CACHE = tempfile.mkdtemp(prefix="sparsemom-test-kernels-")
os.environ["SPARSEMOM_CACHE_DIR"] = _CACHE

import shutil  # noqa: E402

import pytest  # noqa: E402

#: Set by .ci/run: the LaTeX-compile tests must run (pdflatex installed), never skip.
REQUIRE_PDFLATEX = os.environ.get("SPARSEMOM_REQUIRE_PDFLATEX") == "1"


@pytest.fixture
def pdflatex() -> str:
    """Path of ``pdflatex``; without it the compile tests skip with the reason (an
    optional system tool), unless ``SPARSEMOM_REQUIRE_PDFLATEX=1`` makes that a failure."""
    path = shutil.which("pdflatex")
    if path:
        return path
    reason = ("pdflatex is not installed (optional: Debian's texlive-latex-base); "
              "the LaTeX compile test needs it")
    if REQUIRE_PDFLATEX:
        pytest.fail(reason + " and SPARSEMOM_REQUIRE_PDFLATEX=1")
    pytest.skip(reason)
