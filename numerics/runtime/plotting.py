"""Figures drawn with Matplotlib's object API.

The library never calls ``matplotlib.use`` nor keeps pyplot state: a
:class:`~matplotlib.figure.Figure` made here is independent of the user's backend
(inline plots in a notebook keep working) and is saved by
:func:`sparsemom.numerics.runtime.figure_files.write_figure`.

Every ``plot_*`` panel function takes its data first and ``ax=None``: it draws into
``ax``, or into the Axes of a new figure (:func:`axes_or_new`) when none is given, and
returns that Axes. Such a figure is outside pyplot: save it with
``ax.figure.savefig(path)``, or show it in Jupyter with ``ax.figure`` as a cell's last
expression once the inline backend is on (``%matplotlib inline``, or any pyplot figure
drawn before). To compose panels in a notebook, pass pyplot's Axes:
``fig, ax = plt.subplots(); plot_x(data, ax=ax)``.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: Size in inches of the figure a ``plot_*`` function makes when it is given no Axes.
PANEL_SIZE = (6.4, 4.8)

#: Error bars drawn above lines and markers (Matplotlib draws lines at ``zorder`` 2).
ERRORBAR_ZORDER = 3


def new_figure(figsize: tuple[float, float]) -> Figure:
    """An empty figure of ``figsize`` inches, outside pyplot's figure manager."""
    return Figure(figsize=figsize)


def axes_or_new(ax: Axes | None = None, figsize: tuple[float, float] = PANEL_SIZE) -> Axes:
    """The Axes a ``plot_*`` function draws into.

    Parameters
    ----------
    ax : matplotlib.axes.Axes or None
        The caller's Axes; ``None`` for a new one.
    figsize : (float, float)
        Size in inches of the new figure (when ``ax`` is ``None``).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax`` itself, or the single Axes of a new :func:`new_figure`.
    """
    return new_figure(figsize).add_subplot() if ax is None else ax


def math_symbol(name: str, index: str = "") -> str:
    """A state name as mathtext (without the ``$``): ``R`` → ``R``, ``R_perp`` →
    ``R_{perp}``; ``index`` joins the subscript (``R`` with ``k`` → ``R_{k}``, ``R_perp``
    → ``R_{perp,k}``), so a name's underscore never shows literally."""
    base, _, sub = name.partition("_")
    subscript = ",".join(part for part in (sub, index) if part)
    return f"{base}_{{{subscript}}}" if subscript else base


def math_power(base: str, exponent) -> str:
    """``base^{exponent}`` as mathtext (without the ``$``), ``base`` alone for exponent 1:
    ``("d", Fraction(13, 20))`` → ``d^{13/20}``."""
    return base if exponent == 1 else f"{base}^{{{exponent}}}"
