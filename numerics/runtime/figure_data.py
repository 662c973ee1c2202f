"""The numbers a Matplotlib figure draws, read back from its artists as one table.

Every saved figure gets a CSV of exactly what it shows (``write_figure``), whatever drew
it: lines and markers (``x, y``), scatter points, error-bar and boundary segments,
filled areas and contour lines (their path vertices, ``part`` numbering the pieces),
bars (``x, y`` = left and height, ``width``), and colour meshes and images (``x, y`` the
cell centres, ``value`` the colour value).  Columns: ``panel`` (axes index),
``title``, ``xlabel``, ``ylabel``, ``kind``, ``series`` (the artist's label),
``part``, ``x``, ``y``, ``value``, ``width``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import Collection, PathCollection, QuadMesh
from matplotlib.patches import Rectangle

COLUMNS = ("panel", "title", "xlabel", "ylabel", "kind", "series", "part", "x", "y", "value",
           "width")


def _label(artist, kind: str, index: int, containers: dict) -> str:
    """The artist's legend label, or its container's (an error bar's line and bars carry
    the label of the ``errorbar`` call), or ``"<kind> <index>"``."""
    for label in (artist.get_label() or "", containers.get(id(artist), "")):
        if label and not label.startswith("_"):
            return label
    return f"{kind} {index}"


def _rows(kind, series, x, y, part=0, value=None, width=None) -> dict:
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    n = x.size
    return {"kind": [kind] * n, "series": [series] * n, "part": np.full(n, part),
            "x": x, "y": y,
            "value": np.full(n, np.nan) if value is None else np.asarray(value, float).ravel(),
            "width": np.full(n, np.nan) if width is None else np.asarray(width, float).ravel()}


def _mesh(artist: QuadMesh, series: str) -> dict:
    corners = artist.get_coordinates()              # (ny+1, nx+1, 2)
    centres = (corners[:-1, :-1] + corners[1:, 1:]) / 2
    values = np.ma.filled(np.ma.asarray(artist.get_array(), dtype=float), np.nan)
    return _rows("mesh", series, centres[..., 0], centres[..., 1], value=values)


def _image(artist, series: str) -> dict:
    values = np.ma.filled(np.ma.asarray(artist.get_array(), dtype=float), np.nan)
    left, right, bottom, top = artist.get_extent()
    ny, nx = values.shape[:2]
    xs = left + (np.arange(nx) + 0.5) * (right - left) / nx
    ys = bottom + (np.arange(ny) + 0.5) * (top - bottom) / ny
    if artist.origin == "upper":
        ys = ys[::-1]
    X, Y = np.meshgrid(xs, ys)
    return _rows("image", series, X, Y, value=values[..., 0] if values.ndim == 3 else values)


def _collection(artist: Collection, series: str) -> list[dict]:
    if isinstance(artist, QuadMesh):
        return [_mesh(artist, series)]
    if isinstance(artist, PathCollection) and len(artist.get_paths()) <= 1:
        offsets = np.asarray(artist.get_offsets(), dtype=float).reshape(-1, 2)
        return [_rows("points", series, offsets[:, 0], offsets[:, 1])]
    kind = "contour" if hasattr(artist, "levels") else "paths"
    levels = getattr(artist, "levels", None)
    out = []
    for part, path in enumerate(artist.get_paths()):
        vertices = np.asarray(path.vertices, dtype=float).reshape(-1, 2)
        if not vertices.size:
            continue
        value = None
        if levels is not None and part < len(levels):
            value = np.full(len(vertices), float(levels[part]))
        out.append(_rows(kind, series, vertices[:, 0], vertices[:, 1], part, value))
    return out


def plotted_data(fig) -> pd.DataFrame:
    """Every number drawn in ``fig``, in long form (see the module docstring)."""
    blocks = []
    for panel, ax in enumerate(fig.axes):
        header = {"panel": panel, "title": ax.get_title(), "xlabel": ax.get_xlabel(),
                  "ylabel": ax.get_ylabel()}
        containers = {id(child): container.get_label() for container in ax.containers
                      for child in container.get_children()}
        found = []
        for i, line in enumerate(ax.get_lines()):
            found.append(_rows("line", _label(line, "line", i, containers), line.get_xdata(),
                               line.get_ydata()))
        for i, artist in enumerate(ax.collections):
            found.extend(_collection(artist, _label(artist, "collection", i, containers)))
        for i, image in enumerate(ax.images):
            found.append(_image(image, _label(image, "image", i, containers)))
        bars = [p for p in ax.patches if isinstance(p, Rectangle)]
        if bars:
            found.append(_rows("bar", "bars", [b.get_x() for b in bars],
                               [b.get_height() for b in bars],
                               width=[b.get_width() for b in bars]))
        for block in found:
            n = len(block["x"])
            blocks.append(pd.DataFrame({**{k: [v] * n for k, v in header.items()}, **block}))
    if not blocks:
        return pd.DataFrame({c: [] for c in COLUMNS})
    return pd.concat(blocks, ignore_index=True)[list(COLUMNS)]
