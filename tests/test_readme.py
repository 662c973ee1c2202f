"""The README and the user guide (``docs/*.md``) as a checked map of the repository: every
path they name exists (outputs that git ignores excepted), every ``sparsemom.…``/``sm.…``
name they quote resolves, the README's Layout tree lists what is there (every module of
``derivations/``, every layer of ``numerics/`` in import order, every built-in method) and
the counts they quote match the files."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from test_architecture import DERIVATION_LAYERS, LAYERS

from sparsemom.derivations.definitions.methods import METHODS
from sparsemom.derivations.definitions.optimizers import BUILT_IN_RULES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: The README and every page of the user guide, by name.
PAGES = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8")
         for p in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))}
#: A name in the Layout tree: a folder (``numerics/``) or a file (``laws.py``, ``docs/model.md``).
TREE_NAME = re.compile(r"[\w.-]+(/[\w.-]+)*(/|\.[a-z]+)")
NUMBER_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve").split()


def _section(title: str, page: str = "README.md") -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", PAGES[page], re.S | re.M)
    assert match, f"{page} has no section {title!r}"
    return match.group(1)


def layout_tree() -> list[tuple[str, str]]:
    """``(path, description)`` of every entry of the Layout section's tree, children as
    ``parent/child``: an entry line, indented by 0, 2 or 4 spaces (a folder's children one
    step deeper), is names (separated by one space) then, after two or more spaces, a
    description, continued on lines indented by more than 4."""
    block = re.search(r"```\n(.*?)```", _section("Layout"), re.S)
    assert block, "the Layout section has no tree"
    rows, parents = [], {}                  # [paths, description] per entry line; folder per depth
    for line in block.group(1).splitlines():
        indent = len(line) - len(line.lstrip())
        if indent > 4 and rows:
            rows[-1][1] += " " + line.strip()
            continue
        assert indent in (0, 2, 4), f"Layout: {line!r} is indented by {indent}"
        depth = indent // 2
        names, description = (re.split(r"\s{2,}", line.strip(), maxsplit=1) + [""])[:2]
        paths = []
        for name in names.split(" "):
            assert TREE_NAME.fullmatch(name), f"Layout: {name!r} in {line!r} is not a path"
            parent = "" if depth == 0 else parents.get(depth - 1)
            assert parent is not None and (depth == 0 or parent), \
                f"Layout: {line!r} is indented under no folder"
            paths.append(parent + name)
        parents = {k: v for k, v in parents.items() if k < depth}
        parents[depth] = paths[-1] if paths[-1].endswith("/") else ""
        rows.append([paths, description])
    return [(path, description) for paths, description in rows for path in paths]


def test_every_layout_entry_exists():
    entries = layout_tree()
    assert len(entries) > 30, "the Layout tree was not parsed"
    missing = [path for path, _ in entries
               if not ((ROOT / path).is_dir() if path.endswith("/") else (ROOT / path).is_file())]
    assert not missing, f"the README Layout names missing paths: {missing}"


def test_layout_lists_every_derivation_module():
    listed = {path for path, _ in layout_tree()}
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "derivations").rglob("*.py")
               if p.name != "__init__.py"}
    missing = sorted(modules - listed)
    assert not missing, f"modules missing from the README Layout: {missing}"


def test_layout_lists_every_derivations_layer_in_import_order():
    """The subpackages of ``derivations/``, as the architecture test checks them."""
    layers = [path.split("/")[1] for path, _ in layout_tree()
              if re.fullmatch(r"derivations/\w+/", path)]
    assert layers == list(DERIVATION_LAYERS), \
        f"the README Layout lists the layers as {layers}, not {DERIVATION_LAYERS}"


def test_layout_lists_every_numerics_layer_in_import_order():
    """The layers of ``numerics/``, as the architecture test checks them (lowest first)."""
    layers = [path.split("/")[1] for path, _ in layout_tree()
              if re.fullmatch(r"numerics/\w+/", path)]
    packages = {p.parent.name for p in (ROOT / "numerics").glob("*/__init__.py")}
    missing = sorted(packages - set(layers))
    assert not missing, f"numerics packages missing from the README Layout: {missing}"
    assert layers == list(LAYERS), f"the README Layout lists the layers as {layers}, not {LAYERS}"


def test_every_built_in_method_is_named():
    """Each rule ``derivations/definitions/methods.py`` registers is named on its Layout line (by its
    name or the last part of it: ``dampened``), and every built-in rule in the README."""
    description = dict(layout_tree())["derivations/definitions/methods.py"]
    words = set(re.findall(r"[\w-]+", description))
    unnamed = [m.name for m in METHODS if not {m.name, m.name.split("-")[-1]} & words]
    assert not unnamed, f"the README Layout line of methods.py does not name {unnamed}"
    quoted = set(re.findall(r"`([\w-]+)`", README))
    missing = [rule.name for rule in (*BUILT_IN_RULES, *METHODS) if rule.name not in quoted]
    assert not missing, f"built-in rules the README never names: {missing}"


def test_counts_quoted_for_the_notebooks_match():
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    description = dict(layout_tree())["notebooks/"]
    count = re.search(r"the (\w+) notebooks", description)
    assert count, f"the Layout does not count the notebooks: {description!r}"
    assert NUMBER_WORDS.index(count.group(1)) == len(notebooks), \
        f"the Layout counts {count.group(1)} notebooks; notebooks/ holds {len(notebooks)}"
    first, last = re.search(r"Notebooks (\d\d)–(\d\d)",
                            _section("Notebooks", "docs/studies-and-figures.md")).groups()
    assert (first, last) == (notebooks[0].name[:2], notebooks[-1].name[:2]), \
        f"the Notebooks section names {first}–{last}; notebooks/ holds {len(notebooks)}"


def _ignored_folders() -> list[str]:
    """Folders inside the tree that git ignores (run outputs such as ``paper_figures/out/``)."""
    lines = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.endswith("/") and "/" in line[:-1]]


@pytest.mark.parametrize("page", PAGES)
def test_every_repository_path_a_page_names_exists(page):
    """Any word of the README or a guide page with a ``/`` whose first part is an entry of
    the repository's top folder (``derivations/…``, ``notebooks/build.py``, ``.ci/run``)
    exists (``docs/_build/``, the built reference, aside)."""
    top = {p.name for p in ROOT.iterdir()}
    ignored = [*_ignored_folders(), "docs/_build/"]
    named = {m.rstrip(".,:;") for m in re.findall(r"(?<![\w/.$-])((?:[\w.-]+/)+[\w.-]*)",
                                                  PAGES[page])}
    checked = [path for path in named if path.split("/")[0] in top
               and not any((path.rstrip("/") + "/").startswith(folder) for folder in ignored)]
    if page == "README.md":
        assert len(checked) > 20, "no repository paths found in the README"
    missing = sorted(path for path in checked if not (ROOT / path).exists())
    assert not missing, f"{page} names missing paths: {missing}"


DOTTED = sorted({name for text in PAGES.values()
                 for name in re.findall(r"(?<![\w.])(sparsemom(?:\.\w+)+|sm\.\w+)", text)})


@pytest.mark.parametrize("name", DOTTED)
def test_every_dotted_name_the_docs_quote_resolves(name):
    """Every ``sparsemom.…`` name the README or a guide page quotes, and every ``sm.…``
    (``import sparsemom as sm``), resolves."""
    parts = ["sparsemom", *name.split(".")[1:]] if name.startswith("sm.") else name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
            break
        except ModuleNotFoundError:
            continue
    for attribute in parts[i:]:
        assert hasattr(obj, attribute), f"README quotes {name}: {attribute!r} is not in {obj}"
        obj = getattr(obj, attribute)
