"""The notebooks: current with their builder, and every one runs clean in a fresh kernel."""

import importlib.util
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("notebook_builder", ROOT / "notebooks" / "build.py")
builder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(builder)

#: Seconds any single cell may take before the run counts as failed.
CELL_TIMEOUT = 600


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
    nb = builder.build(name)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    maths = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
             if "text/latex" in o.get("data", {})]
    assert maths, "the notebook shows no LaTeX"
    print(f"{name}: {seconds:.1f} s")
