"""The API reference builds from the docstrings, every module once, without a warning."""

import pytest

from sparsemom.numerics.cli import main

pytest.importorskip("pdoc")


def test_api_reference_builds_without_warnings(tmp_path, capsys):
    assert main(["apidocs", "--out", str(tmp_path)]) == 0   # a pdoc warning raises
    pages = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.html")}
    for page in ("index.html", "sparsemom/numerics.html", "sparsemom/derivations.html",
                 "sparsemom/numerics/kernels/exact_risk.html",
                 "sparsemom/numerics/kernels/exact_state.html",
                 "sparsemom/derivations/engine/moments.html",
                 "sparsemom/numerics/studies/heatmap.html"):
        assert page in pages
    assert not any("generated" in page or "__main__" in page for page in pages)
    text = (tmp_path / "sparsemom/numerics/kernels/exact_risk.html").read_text(encoding="utf-8")
    assert "def exact_risk" in text.replace("<span class=\"k\">def</span> ", "def ") or \
        "exact_risk" in text
    assert f"wrote {len(pages)} pages" in capsys.readouterr().out
