"""Every saved figure carries a CSV of the data it shows; plotted_data reads back what a
Matplotlib figure draws."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from sparsemom.numerics.runtime.figure_data import COLUMNS, plotted_data
from sparsemom.numerics.runtime.figure_files import write_figure
from sparsemom.numerics.runtime.plotting import new_figure
from sparsemom.numerics.studies import manifest


def _figure():
    fig = new_figure((6, 3))
    left, right = fig.subplots(1, 2)
    x = np.array([1.0, 2.0, 4.0])
    left.plot(x, x**2, label="square")
    left.errorbar(x, x + 1, yerr=0.5 * np.ones(3), fmt="o", label="means")
    left.scatter([0.5, 1.5], [3.0, 5.0], label="dots")
    left.bar([10.0, 11.0], [2.0, 3.0], width=0.5)
    left.set_title("left")
    grid = np.arange(6.0).reshape(2, 3)
    right.pcolormesh(np.array([0.0, 1, 2, 3]), np.array([0.0, 10, 20]), grid)
    right.contour(*np.meshgrid(np.linspace(0, 1, 20), np.linspace(0, 1, 20)),
                  np.add.outer(np.linspace(0, 1, 20), np.linspace(0, 1, 20)), levels=[1.0])
    right.set_xlabel("κ")
    return fig


def test_every_kind_of_artist_is_read_back_with_its_numbers():
    data = plotted_data(_figure())
    assert tuple(data.columns) == COLUMNS
    line = data[(data.kind == "line") & (data.series == "square")]
    assert list(line.x) == [1, 2, 4] and list(line.y) == [1, 4, 16]
    assert set(line.title) == {"left"}
    means = data[(data.kind == "line") & (data.series == "means")]
    assert list(means.y) == [2, 3, 5]
    bars = data[(data.kind == "paths") & (data.panel == 0)]     # the error-bar segments
    assert sorted(bars.y.round(9)) == sorted([1.5, 2.5, 2.5, 3.5, 4.5, 5.5])
    dots = data[data.series == "dots"]
    assert list(dots.x) == [0.5, 1.5] and list(dots.y) == [3, 5]
    bar = data[data.kind == "bar"]
    assert list(bar.y) == [2, 3] and list(bar.width) == [0.5, 0.5]
    mesh = data[data.kind == "mesh"]
    assert list(mesh.value) == [0, 1, 2, 3, 4, 5]
    assert list(mesh.x) == [0.5, 1.5, 2.5] * 2 and list(mesh.y) == [5] * 3 + [15] * 3
    contour = data[data.kind == "contour"]
    assert len(contour) and np.allclose(contour.x + contour.y, 1.0, atol=1e-2)
    assert set(contour.value) == {1.0} and set(contour.xlabel) == {"κ"}


def test_a_figure_needs_its_table():
    import pytest

    with pytest.raises(TypeError, match="table"):
        write_figure(_figure(), "unused", "demo")


def test_manifest_lists_the_csv_and_the_versions(tmp_path, monkeypatch):
    def tiny(out, full):
        from sparsemom.numerics.studies.paper import Figure, _save
        return _save(Figure("tiny", "a tiny figure"), _figure(), out,
                     table=pd.DataFrame({"x": [1.0]}))

    monkeypatch.setattr(manifest, "FIGURES", {"tiny": tiny})
    monkeypatch.setattr(manifest, "make", lambda name, out, full: tiny(out, full))
    manifest.regenerate(tmp_path, full=False)
    written = json.loads((tmp_path / "manifest.json").read_text())
    assert written["figures"][0]["files"] == ["tiny.png", "tiny.pdf", "tiny.data.csv"]
    versions = written["versions"]
    assert {"python", "sparsemom", "sympy", "numpy", "mpmath", "scipy"} <= set(versions)
    assert versions["sympy"].startswith("1.14")


def test_a_figure_given_its_table_saves_that_table_as_its_data(tmp_path):
    """The data CSV is the tidy table the figure shows, not the artists it draws."""
    table = pd.DataFrame({"series": ["exact", "exact"], "d": [100, 1000], "rate": [0.5, 0.25]})
    paths = write_figure(_figure(), tmp_path, "demo", formats=("png",), table=table)
    assert [p.name for p in paths] == ["demo.png", "demo.data.csv"]
    pd.testing.assert_frame_equal(pd.read_csv(paths[1]), table)


def test_written_pdfs_embed_truetype_fonts(tmp_path):
    """Figures embed TrueType (Type 42) fonts, not Type 3, whatever the rc defaults."""
    fig = new_figure((3, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [1, 0], label=r"$\beta_{eff}$")
    ax.set_xlabel(r"step $k$")
    pdf = write_figure(fig, tmp_path, "fonts", formats=("pdf",),
                       table=pd.DataFrame({"x": [0, 1]}))[0].read_bytes()
    assert b"/FontFile2" in pdf and b"/Type3" not in pdf
