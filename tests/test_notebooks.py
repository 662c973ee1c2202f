"""The notebooks: current with their builder, and every one runs clean in a fresh kernel."""

import importlib.util
import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("notebook_builder", ROOT / "notebooks" / "build.py")
builder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(builder)


@pytest.mark.parametrize("name", sorted(builder.NOTEBOOKS))
def test_checked_in_notebook_is_current(name):
    """Regenerate and diff: the .ipynb is exactly what the builder writes."""
    path = ROOT / "notebooks" / f"{name}.ipynb"
    assert path.exists(), f"missing {path}: run `python notebooks/build.py`"
    assert path.read_text(encoding="utf-8") == builder.text(name), \
        f"{path.name} is stale: run `python notebooks/build.py`"


@pytest.mark.parametrize("name", sorted(builder.NOTEBOOKS))
def test_notebook_runs_and_its_claims_hold(name):
    """Execute in a fresh kernel; any error or failed assertion fails the test."""
    start = time.perf_counter()
    nb = builder.executed(name)
    seconds = time.perf_counter() - start
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    maths = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
             if "text/latex" in o.get("data", {})]
    assert maths, "the notebook shows no LaTeX"
    assert _images(nb), "the notebook shows no figure"
    for output in maths:                  # \text{...} never holds an unescaped underscore
        latex = "".join(output["data"]["text/latex"])
        assert not re.search(r"\\text\{[^}]*(?<!\\)_", latex), latex
        assert r"\text{}\quad" not in latex
    print(f"{name}: {seconds:.1f} s")


def _images(nb) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if "image/png" in o.get("data", {})]


@pytest.mark.parametrize("name", sorted(builder.NOTEBOOKS))
def test_executed_copy_is_published_and_current(name):
    """``notebooks/executed/`` holds each notebook run, with its figures, from the current
    builder (same cells); regenerate with ``python notebooks/build.py --execute``."""
    path = builder.EXECUTED / f"{name}.ipynb"
    assert path.exists(), f"missing {path}: run `python notebooks/build.py --execute`"
    published = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    current = builder.build(name)
    assert [(c.cell_type, c.source) for c in published.cells] == \
        [(c.cell_type, c.source) for c in current.cells], \
        f"{path.name} is stale: run `python notebooks/build.py --execute`"
    assert _images(published), f"{path.name} has no figure"
    errors = [o for c in published.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    warnings = [o.get("text", "") for c in published.cells if c.cell_type == "code"
                for o in c.get("outputs", []) if o.get("name") == "stderr"
                and "Warning" in o.get("text", "")]
    assert not warnings, f"{path.name} prints warnings: {warnings[0][:300]}"
