"""``sparsemom apidocs``: the API reference, built from the docstrings with pdoc."""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from pathlib import Path

from sparsemom.numerics.inputs.arguments import output_dir
from sparsemom.numerics.studies.output import default_output_dir

DESCRIPTION = ("build the HTML API reference of the derivations and numerics packages from "
               "their docstrings (pdoc; pip install 'sparsemom[docs]'); a warning fails the build")

#: The documented packages (the generated kernels are documented by their generator).
PACKAGES = ("sparsemom.derivations", "sparsemom.numerics")
SKIPPED = ("sparsemom.numerics.generated",)


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


def build_api_docs(out: Path) -> list[Path]:
    """Write the reference into ``out`` (HTML, one page per module); a ``RuntimeError``
    lists the warnings pdoc raised, if any."""
    try:
        import pdoc
        import pdoc.render
    except ImportError as exc:  # an optional dependency, imported where it is used
        raise ImportError("the API reference needs pdoc: pip install 'sparsemom[docs]'") from exc
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pdoc.render.configure(docformat="restructuredtext", math=True, search=False,
                          footer_text="sparsemom API reference")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.pdoc(*documented_specs(), output_directory=out)
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
