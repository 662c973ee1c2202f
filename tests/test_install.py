"""A non-editable install works: the wheel carries the generated sources, so `derive`,
`exact_risk` (auto) and a figure run from site-packages without a stale-code error,
and `codegen` never writes into site-packages."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the wheel installed (its dependencies seen through a .pth line)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("sparsemom", "derivations", "numerics", "paper_figures"):
        shutil.copytree(ROOT / folder, source / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "out"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"),
                    str(source)], check=True, capture_output=True, timeout=600)
    wheel = next((tmp / "dist").glob("sparsemom-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # the test environment's packages (sympy, numpy, …) without its editable sparsemom
    (Path(purelib) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", str(wheel)], check=True, capture_output=True, timeout=600)
    return python, Path(purelib), tmp


def _run(python, *args, cwd):
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_wheel_ships_the_generated_sources(installed):
    python, purelib, tmp = installed
    shipped = sorted(p.name for p in (purelib / "sparsemom" / "numerics" / "generated").iterdir() if p.suffix in (".c", ".py"))
    checked_in = sorted(p.name for p in (ROOT / "numerics" / "generated").iterdir() if p.suffix in (".c", ".py"))
    assert shipped == checked_in


def test_installed_package_derives_and_computes(installed):
    python, purelib, tmp = installed
    code = """
import warnings, sparsemom.numerics
warnings.simplefilter("error")
assert "site-packages" in sparsemom.numerics.__file__, sparsemom.numerics.__file__
from sparsemom.numerics import Optimizer, SparseLeastSquares
from sparsemom.numerics import exact_risk
r = exact_risk(SparseLeastSquares(8, [0.3, 0.01]), Optimizer("heavy-ball", 0.05, 0.5, batch=2), 20)
print(r.shape, r[-1] < r[0])
"""
    proc = _run(python, "-c", code, cwd=tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["(21,)", "True"]
    proc = _run(python, "-m", "sparsemom.numerics.cli", "derive", "--optimizer", "lazy", cwd=tmp)
    assert proc.returncode == 0 and "lazy" in proc.stdout, proc.stderr[-3000:]


def test_installed_codegen_needs_a_folder(installed):
    python, purelib, tmp = installed
    proc = _run(python, "-m", "sparsemom.numerics.cli", "codegen", cwd=tmp)
    assert proc.returncode == 2 and "--out is needed" in proc.stderr
    out = tmp / "regenerated"
    proc = _run(python, "-m", "sparsemom.numerics.cli", "codegen", "--out", str(out), cwd=tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    shipped = {p.name: p.read_text() for p in (purelib / "sparsemom" / "numerics" / "generated").iterdir()
               if p.suffix in (".c", ".py")}
    assert {p.name: p.read_text() for p in out.iterdir()} == shipped  # the wheel is current


def test_installed_figure(installed):
    python, purelib, tmp = installed
    proc = _run(python, "-m", "sparsemom.paper_figures", "--only", "stability_region", "--out",
                str(tmp / "figures"), cwd=tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp / "figures" / "stability_region.png").stat().st_size > 10_000


def test_installed_package_ships_the_c_driver_and_compiles_with_it(installed):
    """Generated kernels include the hand-written driver (numerics/codegen/c): the wheel
    carries it, and a kernel compiles from the installed copy into an empty cache."""
    python, purelib, tmp = installed
    shipped = sorted(p.name for p in (purelib / "sparsemom" / "numerics" / "codegen" / "c").glob("*.h"))
    assert shipped == sorted(p.name for p in (ROOT / "numerics" / "codegen" / "c").glob("*.h"))
    assert "recursion_kernel.h" in shipped and "vector_width.h" in shipped
    code = f"""
import os
os.environ["SPARSEMOM_CACHE_DIR"] = {str(tmp / "fresh-cache")!r}
from sparsemom.numerics import Optimizer, SparseLeastSquares, exact_risk
m, o = SparseLeastSquares(8, [0.3, 0.01]), Optimizer("nesterov", 0.05, 0.5, batch=2)
c, ref = exact_risk(m, o, 20, backend="c"), exact_risk(m, o, 20, backend="numpy")
print(abs(c - ref).max() <= 1e-12 * abs(ref).max(), len(os.listdir(os.environ["SPARSEMOM_CACHE_DIR"])) > 0)
"""
    proc = _run(python, "-c", code, cwd=tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["True", "True"]


def test_the_wheel_is_one_import_package_that_runs_the_readme(installed):
    """The wheel installs one top-level package, ``sparsemom`` (no ``derivations``,
    ``numerics`` or ``paper_figures`` beside a user's own modules), typed; the README's
    first example runs against it, from a folder that is not the checkout."""
    python, purelib, tmp = installed
    top = sorted(p.name for p in purelib.iterdir() if (p / "__init__.py").is_file())
    assert top == ["sparsemom"]
    assert (purelib / "sparsemom" / "py.typed").is_file()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    use = readme[readme.index("## A first result"):]
    example = use[use.index("```python\n") + len("```python\n"):use.index("```", use.index("```python\n") + 3)]
    assert "import sparsemom as sm" in example
    proc = _run(python, "-c", example + "\nprint(r.shape, type(sm.__version__).__name__)", cwd=tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[-2:] == ["(61,)", "str"]
    assert _run(python, "-c", "import numerics", cwd=tmp).returncode != 0


def test_the_package_list_names_every_package():
    """Every folder with an ``__init__.py`` under the package's folders is listed in
    ``pyproject.toml`` (``numerics/studies/scaling`` was not: a wheel had no scaling study),
    and every listed package exists."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {name: ROOT / folder for name, folder in tool["package-dir"].items()}
    found = set()
    for name, folder in folders.items():
        for init in folder.rglob("__init__.py"):
            if "__pycache__" in init.parts or "out" in init.relative_to(folder).parts:
                continue
            parts = init.parent.relative_to(folder).parts
            found.add(".".join((name, *parts)))
    assert found == set(tool["packages"])
