"""A figure saved as pictures and as the table of the numbers it draws, atomically."""

from __future__ import annotations

from pathlib import Path

from numerics.runtime.atomic import atomic_path, write_text_atomic
from numerics.runtime.figure_data import plotted_data


def write_figure(fig, directory, stem: str, dpi: int = 120, formats=("png", "pdf")) -> list[Path]:
    """Save a Matplotlib figure as ``directory/stem.<format>`` for each format and the
    numbers it draws as ``directory/stem.data.csv`` (:func:`plotted_data`), each file
    atomically; return the paths."""
    paths = []
    for suffix in formats:
        path = Path(directory) / f"{stem}.{suffix}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format=suffix)
        paths.append(path)
    path = Path(directory) / f"{stem}.data.csv"
    write_text_atomic(path, plotted_data(fig).to_csv(index=False))
    return [*paths, path]
