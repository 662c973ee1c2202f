"""Test session setup: compiled kernels and stored derivations go to a private cache, not
the user's, shared by the session's processes (the xdist workers inherit the folder from
the controller, notebook kernels and CLI subprocesses from their test process) and
removed when the session ends."""

import atexit
import os
import shutil
import tempfile

_CACHE = os.environ.get("SPARSEMOM_TEST_CACHE", "")
if not os.path.isdir(_CACHE):
    _CACHE = tempfile.mkdtemp(prefix="sparsemom-test-cache-")
    os.environ["SPARSEMOM_TEST_CACHE"] = _CACHE
    atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
os.environ["SPARSEMOM_CACHE_DIR"] = _CACHE

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
