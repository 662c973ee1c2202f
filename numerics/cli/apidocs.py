"""``sparsemom apidocs``: the API reference, built from the docstrings with pdoc.

Docstrings are numpy style (``Parameters``/``Returns`` sections) with formulas in LaTeX
(``$…$``, ``.. math::``) that MathJax renders.  In a source checkout the reference also
carries the user guide: the README and every page of ``docs/`` become the pages of a
module ``guide`` (one module per page, its docstring an ``.. include::`` of the page),
written beside the packages, with the links between pages pointing at their HTML.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
import tempfile
import warnings
from pathlib import Path

from sparsemom.numerics.inputs.arguments import output_dir
from sparsemom.numerics.studies.output import PACKAGE_ROOT, default_output_dir

DESCRIPTION = ("build the HTML API reference of the sparsemom packages from their docstrings, "
               "with the user guide of docs/ in a source checkout (pdoc; pip install "
               "'sparsemom[docs]'); a warning fails the build")

#: The documented packages (the generated kernels are documented by their generator).
PACKAGES = ("sparsemom.derivations", "sparsemom.numerics")
SKIPPED = ("sparsemom.numerics.generated",)
#: The module holding the user guide's pages.
GUIDE = "guide"


def documented_specs() -> list[str]:
    """pdoc's module specifications: the packages, and their direct submodules that the
    packages' ``__all__`` would hide (pdoc walks deeper packages itself); ``__main__``
    modules (they run a program) and the generated kernels left out."""
    from pdoc.extract import walk_specs

    specs = list(PACKAGES)
    shown = set(walk_specs(PACKAGES))
    for package in PACKAGES:
        path = importlib.import_module(package).__path__
        specs += [f"{package}.{m.name}" for m in pkgutil.iter_modules(path)
                  if f"{package}.{m.name}" not in shown and m.name != "__main__"]
    return specs + [f"!{name}" for name in SKIPPED] + ["!.*__main__"]


def guide_pages(docs: Path = PACKAGE_ROOT / "docs") -> dict[str, Path]:
    """Module name → Markdown page of the user guide: ``docs/*.md`` (``models-and-rules.md``
    → ``models_and_rules``), empty when ``docs`` is not there (an installed copy)."""
    if not (docs / "model.md").is_file():
        return {}
    return {page.stem.replace("-", "_"): page for page in sorted(docs.glob("*.md"))}


def write_guide_package(folder: Path, pages: dict[str, Path], readme: Path) -> None:
    """The package :data:`GUIDE` in ``folder``: its docstring includes ``readme``, each
    submodule's one page (``.. include::`` with an absolute path)."""
    package = folder / GUIDE
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(f'""".. include:: {readme.resolve()}\n"""\n',
                                         encoding="utf-8")
    for name, page in pages.items():
        (package / f"{name}.py").write_text(f'""".. include:: {page.resolve()}\n"""\n',
                                            encoding="utf-8")


def link_guide_pages(out: Path, pages: dict[str, Path]) -> None:
    """Point the guide's links at the HTML pages: ``docs/x-y.md`` (from the README) and
    ``x-y.md`` (between pages) → ``guide/x_y.html`` / ``x_y.html``, ``../README.md`` →
    ``../guide.html``, anchors kept."""
    names = {page.name: name for name, page in pages.items()}

    def target(match: re.Match, prefix: str) -> str:
        path, anchor = match.group(1), match.group(2) or ""
        if path in ("README.md", "../README.md"):
            return f'href="{"../" if prefix else ""}{GUIDE}.html{anchor}"'
        name = names.get(path.removeprefix("docs/"))
        if name is None:
            return match.group(0)
        return f'href="{"" if prefix else GUIDE + "/"}{name}.html{anchor}"'

    link = re.compile(r'href="((?:\.\./|docs/)?[\w.-]+\.md)(#[\w.-]*)?"')
    index = out / f"{GUIDE}.html"
    index.write_text(link.sub(lambda m: target(m, ""), index.read_text(encoding="utf-8")),
                     encoding="utf-8")
    for name in pages:
        html = out / GUIDE / f"{name}.html"
        html.write_text(link.sub(lambda m: target(m, "../"), html.read_text(encoding="utf-8")),
                        encoding="utf-8")


#: A Sphinx-style short reference as pdoc renders it: ``:class:`~a.b.C``` →
#: ``<code>~<a href="…">a.b.C</a></code>`` (or without the link when it does not resolve).
SHORT_REFERENCE = re.compile(r'<code>~(<a [^>]*>)?(?:[\w]+\.)*([\w]+(?:\(\))?)(</a>)?</code>')


def shorten_references(out: Path) -> None:
    """Show a ``~``-reference by its last name, as Sphinx does (``~a.b.C`` → ``C``)."""
    for page in Path(out).rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        short = SHORT_REFERENCE.sub(lambda m: f"<code>{m[1] or ''}{m[2]}{m[3] or ''}</code>", html)
        if short != html:
            page.write_text(short, encoding="utf-8")


def build_api_docs(out: Path, docs: Path = PACKAGE_ROOT / "docs") -> list[Path]:
    """Write the reference into ``out`` (HTML, one page per module), with the user guide of
    ``docs`` (:func:`guide_pages`) when there is one; a ``RuntimeError`` lists the warnings
    pdoc raised, if any.

    Parameters
    ----------
    out : Path
        The output folder (made if missing).
    docs : Path
        The folder of the guide's Markdown pages, beside the README.

    Returns
    -------
    list of Path
        Every HTML page written.
    """
    try:
        import pdoc
        import pdoc.render
    except ImportError as exc:  # an optional dependency, imported where it is used
        raise ImportError("the API reference needs pdoc: pip install 'sparsemom[docs]'") from exc
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pdoc.render.configure(docformat="numpy", math=True, search=False,
                          footer_text="sparsemom API reference")
    pages = guide_pages(Path(docs))
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        specs = documented_specs()
        if pages:
            write_guide_package(Path(folder), pages, Path(docs).parent / "README.md")
            sys.path.insert(0, folder)
            specs = [GUIDE, *specs]
        try:
            pdoc.pdoc(*specs, output_directory=out)
        finally:
            if pages:
                sys.path.remove(folder)
                for name in [m for m in sys.modules if m == GUIDE or m.startswith(GUIDE + ".")]:
                    del sys.modules[name]
    if pages:
        link_guide_pages(out, pages)
    shorten_references(out)
    if caught:
        raise RuntimeError("pdoc warned:\n" + "\n".join(f"{w.category.__name__}: {w.message}"
                                                         for w in caught))
    return sorted(out.rglob("*.html"))


def validate(args) -> None:
    """pdoc must be importable before any work starts."""
    try:
        import pdoc  # noqa: F401  (an optional dependency)
    except ImportError:
        raise ValueError("the API reference needs pdoc: pip install 'sparsemom[docs]'") from None


def add_arguments(parser) -> None:
    parser.add_argument("--out", type=output_dir, default=default_output_dir("api"),
                        help="output directory")


def run(args) -> int:
    pages = build_api_docs(args.out)
    print(f"wrote {len(pages)} pages into {args.out} (open {Path(args.out) / 'index.html'})")
    return 0
