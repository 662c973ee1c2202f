"""A figure saved as pictures and as the table of the data it shows, atomically."""

from __future__ import annotations

from pathlib import Path

from sparsemom.numerics.runtime.atomic import atomic_path, write_text_atomic


def write_figure(fig, directory, stem: str, dpi: int = 120, formats=("png", "pdf"), *,
                 table) -> list[Path]:
    """Save a Matplotlib figure as ``directory/stem.<format>`` for each format and its data
    ``table`` (a tidy ``DataFrame`` of what the figure shows: one row per observation,
    named series and parameter columns) as ``directory/stem.data.csv``, each file
    atomically; return the paths."""
    paths = []
    for suffix in formats:
        path = Path(directory) / f"{stem}.{suffix}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format=suffix)
        paths.append(path)
    path = Path(directory) / f"{stem}.data.csv"
    write_text_atomic(path, table.to_csv(index=False))
    return [*paths, path]
