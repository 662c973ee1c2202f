"""Figures drawn with Matplotlib's object API.

The library never calls ``matplotlib.use`` nor keeps pyplot state: a
:class:`~matplotlib.figure.Figure` made here is independent of the user's backend
(inline plots in a notebook keep working) and is saved by
:func:`sparsemom.numerics.runtime.atomic.write_figure`.
"""

from __future__ import annotations

from matplotlib.figure import Figure


def new_figure(figsize: tuple[float, float]) -> Figure:
    """An empty figure of ``figsize`` inches, outside pyplot's figure manager."""
    return Figure(figsize=figsize)
