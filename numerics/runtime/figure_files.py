"""A figure saved as pictures and as the table of the numbers it draws, atomically."""

from __future__ import annotations

from pathlib import Path

from numerics.runtime.atomic import atomic_path, write_text_atomic
from numerics.runtime.figure_data import plotted_data


def write_figure(fig, directory, stem: str, dpi: int = 120, formats=("png", "pdf"),
                 table=None) -> list[Path]:
    """Save a Matplotlib figure as ``directory/stem.<format>`` for each format and its data
    as ``directory/stem.data.csv``, each file atomically; return the paths.  The data is
    ``table`` (a tidy ``DataFrame`` of what the figure shows: one row per observation,
    named series and parameter columns) when given, else the numbers the figure draws
    (:func:`plotted_data`)."""
    paths = []
    for suffix in formats:
        path = Path(directory) / f"{stem}.{suffix}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format=suffix)
        paths.append(path)
    path = Path(directory) / f"{stem}.data.csv"
    data = plotted_data(fig) if table is None else table
    write_text_atomic(path, data.to_csv(index=False))
    return [*paths, path]
