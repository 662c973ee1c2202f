"""A figure saved as pictures and as the table of the data it shows, atomically."""

from __future__ import annotations

from pathlib import Path

import matplotlib

from sparsemom.numerics.runtime.atomic import atomic_path, write_text_atomic

#: TrueType (Type 42) fonts embedded in PDF and PostScript, as journals ask (Matplotlib's
#: default, Type 3, is refused by some submission systems and does not stay editable).
EMBEDDED_FONTS = {"pdf.fonttype": 42, "ps.fonttype": 42}


def write_figure(fig, directory, stem: str, dpi: int = 120, formats=("png", "pdf"), *,
                 table) -> list[Path]:
    """Save a Matplotlib figure as ``directory/stem.<format>`` for each format and its data
    ``table`` (a tidy ``DataFrame`` of what the figure shows: one row per observation,
    named series and parameter columns) as ``directory/stem.data.csv``, each file
    atomically; return the paths."""
    paths = []
    for suffix in formats:
        path = Path(directory) / f"{stem}.{suffix}"
        with atomic_path(path) as tmp, matplotlib.rc_context(EMBEDDED_FONTS):
            fig.savefig(tmp, dpi=dpi, format=suffix)
        paths.append(path)
    path = Path(directory) / f"{stem}.data.csv"
    write_text_atomic(path, table.to_csv(index=False))
    return [*paths, path]
