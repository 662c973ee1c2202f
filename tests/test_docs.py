"""The documentation as checked text: every Python example of the README and of the user
guide (``docs/*.md``) runs, each page in a fresh interpreter (its blocks in order, sharing
one namespace, as a reader pastes them into one notebook), from a folder that is not the
checkout; every page the README's "Where to go next" should list is linked; every link
between pages resolves; and the performance page's tables are those its JSON renders."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
#: A Markdown link target: ``[text](target)``.
LINK = re.compile(r"\]\(([^)\s]+)\)")


def python_blocks(page: Path) -> list[str]:
    return PYTHON_BLOCK.findall(page.read_text(encoding="utf-8"))


def build_script():
    """``docs/build.py`` as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("docs_build", DOCS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLE_PAGES = [page for page in PAGES if python_blocks(page)]


@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=[p.name for p in EXAMPLE_PAGES])
def test_every_python_example_runs(page, tmp_path):
    """The blocks of one page run in order in one fresh process, warnings as errors
    except where a block says what it expects (it catches them itself)."""
    code = "\n\n".join(python_blocks(page)) + "\nprint('examples ran')\n"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", code],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{page.name}:\n{proc.stderr[-4000:]}"
    assert proc.stdout.rstrip().endswith("examples ran")


def test_the_readme_points_to_every_guide_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Where to go next\n(.*?)(?=^## )", readme, re.S | re.M)
    assert section, "the README has no 'Where to go next' section"
    linked = {Path(target).name for target in LINK.findall(section.group(1))
              if target.startswith("docs/")}
    missing = sorted(p.name for p in DOCS.glob("*.md") if p.name not in linked)
    assert not missing, f"guide pages the README does not point to: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_relative_link_resolves(page):
    """A link to another page or file of the repository names one that exists (anchors and
    web addresses aside)."""
    targets = [t.split("#")[0] for t in LINK.findall(page.read_text(encoding="utf-8"))
               if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    missing = [t for t in targets if not (page.parent / t).exists()]
    assert not missing, f"{page.name} links to missing files: {missing}"


def test_the_performance_tables_are_generated_from_the_benchmark_json():
    """``docs/performance.md`` holds between its markers exactly what ``docs/build.py``
    renders from ``docs/benchmark.json`` (reports of ``sparsemom benchmark --json``), with
    each report's CPU, vector ISA and date named."""
    build = build_script()
    reports = json.loads((DOCS / "benchmark.json").read_text(encoding="utf-8"))
    assert [r["which"] for r in reports] == list(build.BENCHMARKS)
    page = (DOCS / "performance.md").read_text(encoding="utf-8")
    assert build.performance_block(reports) in page, \
        "docs/performance.md is stale: run python docs/build.py --tables-only"
    for report in reports:
        assert report["cpu"] in page and report["isa"] in page and report["date"] in page
        assert report["sections"] and all(s["rows"] for s in report["sections"])


def test_benchmark_json_names_the_machine_and_the_rows(capsys):
    """``sparsemom benchmark --json`` prints one JSON report: where and when it ran (CPU,
    cores, vector ISA, date) and each benchmark's rows with their unit."""
    from sparsemom.numerics.cli import main

    assert main(["benchmark", "--which", "exact-risk", "--rows", "50", "--steps", "2",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cpu"] and report["cores"] >= 1 and report["isa"] and report["date"]
    (section,) = report["sections"]
    assert section["name"] == "exact-risk" and section["unit"] == "row-steps/s"
    cases = [row["case"] for row in section["rows"]]
    assert cases[0] == "c, 1 thread" and cases[-1] == "machine limit, 1 core"
    assert all(row["value"] > 0 for row in section["rows"])
    assert build_script().performance_block([report]).count("\n| ") == len(cases) + 1
