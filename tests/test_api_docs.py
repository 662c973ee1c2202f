"""The API reference: it builds from the docstrings, every module once, with the user
guide's pages and without a warning; and every public function and class has a numpy-style
docstring (``Parameters`` naming exactly what it takes, ``Returns`` when it returns a value)."""

import importlib
import importlib.util
import inspect
import pkgutil
import re

import pytest

import sparsemom
from sparsemom.numerics.cli import main

GUIDE_PAGES = ("guide.html", "guide/model.html", "guide/models_and_rules.html",
               "guide/optax_pytorch.html", "guide/performance.html")


def test_api_reference_builds_without_warnings(tmp_path, capsys):
    assert main(["apidocs", "--out", str(tmp_path)]) == 0   # a pdoc warning raises
    pages = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.html")}
    for page in ("index.html", "sparsemom/numerics.html", "sparsemom/derivations.html",
                 "sparsemom/numerics/kernels/exact_risk.html",
                 "sparsemom/numerics/kernels/exact_state.html",
                 "sparsemom/derivations/engine/moments.html",
                 "sparsemom/numerics/studies/heatmap.html", *GUIDE_PAGES):
        assert page in pages
    assert not any("numerics/generated" in page or "__main__" in page for page in pages)
    text = (tmp_path / "sparsemom/numerics/kernels/exact_risk.html").read_text(encoding="utf-8")
    assert "exact_risk" in text
    # numpy sections rendered as headings, formulas left to MathJax
    assert "<h6 id=\"parameters\">Parameters</h6>" in text and "<h6 id=\"returns\">" in text
    assert "$X_{k+1} = A X_k + c$" in text and "mathjax" in text.lower()
    # the guide's links point at its HTML pages
    guide = (tmp_path / "guide.html").read_text(encoding="utf-8")
    assert 'href="guide/models_and_rules.html"' in guide and ".md\"" not in guide
    assert f"wrote {len(pages)} pages" in capsys.readouterr().out


def _public_objects() -> dict[str, object]:
    """Every function and class named in ``sparsemom.__all__`` or in the ``__all__`` of a
    package of ``sparsemom`` (its subpackages and theirs), once each, by its first name."""
    packages, found = ["sparsemom"], {}
    for name in ("sparsemom.derivations", "sparsemom.numerics", "sparsemom.paper_figures"):
        packages.append(name)
        packages += [f"{name}.{m.name}" for m in pkgutil.iter_modules(
            importlib.import_module(name).__path__) if m.ispkg and m.name != "generated"]
    seen = set()
    for package in packages:
        module = importlib.import_module(package) if package != "sparsemom" else sparsemom
        for attribute in getattr(module, "__all__", ()):
            obj = getattr(module, attribute)
            if id(obj) in seen or inspect.ismodule(obj) or not callable(obj):
                continue
            seen.add(id(obj))
            found[f"{package}.{attribute}"] = obj
    return found

PUBLIC = _public_objects()
#: A numpy-style section: its title, a line of dashes, then its body up to the next title.
SECTION = re.compile(r"^(\w[\w ]*)\n-{3,}\n(.*?)(?=^\w[\w ]*\n-{3,}\n|\Z)", re.S | re.M)


def _sections(doc: str) -> dict[str, str]:
    return {title: body for title, body in SECTION.findall(doc)}


def _documented_parameters(body: str) -> set[str]:
    """The names of a Parameters section: its unindented lines ``name : type`` (or
    ``a, b : type``; ``**name`` for keywords)."""
    names = set()
    for line in body.splitlines():
        if line and not line[0].isspace():
            names.update(n.strip().lstrip("*") for n in line.split(" : ")[0].split(","))
    return names


def _signature_parameters(obj) -> list[inspect.Parameter] | None:
    """The parameters a caller passes (``self`` aside); ``None`` when there is no
    signature to read (an exception class without its own ``__init__``)."""
    if inspect.isclass(obj) and issubclass(obj, BaseException) and "__init__" not in vars(obj):
        return None
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [p for p in signature.parameters.values() if p.name != "self"]


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_name_has_a_numpy_style_docstring(name):
    """Every public function and class says what it is, and, numpy style, a ``Parameters``
    section naming exactly the parameters it takes and, for a function that returns a
    value (its return annotation is not ``None``), a ``Returns`` section."""
    obj = PUBLIC[name]
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{name} has no docstring"
    sections = _sections(doc)
    parameters = _signature_parameters(obj)
    if parameters:
        assert "Parameters" in sections, f"{name}: no Parameters section"
        documented = _documented_parameters(sections["Parameters"])
        expected = {p.name for p in parameters}
        assert documented == expected, \
            f"{name}: Parameters documents {sorted(documented)}, the signature has {sorted(expected)}"
    if not inspect.isclass(obj):
        annotation = inspect.signature(obj).return_annotation
        if annotation not in (None, "None"):
            assert {"Returns", "Yields"} & set(sections), f"{name}: no Returns section"
