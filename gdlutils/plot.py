"""Figures that recur in the book.

- :func:`use_book_style`: one consistent matplotlib look for every notebook.
- :func:`five_g_map`: the map domain → symmetry group → architecture (chapter 1).
- :func:`loglog_curves`: error-versus-size curves on log-log axes with fitted slopes (2.2).

Plots return the matplotlib ``Axes`` (or ``Figure``) so notebooks can decorate them.

Introduced in: 1, :doc:`/book/01_introduction/01_erlangen` (Introduction).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["use_book_style", "five_g_map", "FIVE_G", "loglog_curves"]

#: The rows of the "5G" map, each a triple (domain, symmetry group, architectures).
FIVE_G: list[tuple[str, str, str]] = [
    ("Grids", "translations", "CNNs"),
    ("Groups", "the group $\\mathfrak{G}$ itself\n(e.g. rotations SO(3))", "group CNNs,\nspherical CNNs"),
    ("Graphs & sets", r"permutations $\Sigma_n$", "GNNs, DeepSets,\nTransformers"),
    ("Geodesics & manifolds", "isometries", "intrinsic mesh CNNs"),
    ("Gauges & bundles", "gauge changes SO(2)", "gauge-equivariant CNNs"),
    ("Time", "time warping", "RNNs, LSTMs"),
]


def use_book_style() -> None:
    """Set the book's matplotlib defaults (sizes, grid, colour cycle).

    Introduced in: Welcome, :doc:`/book/welcome`.
    """
    plt.rcParams.update(
        {
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 10,
            "legend.frameon": False,
        }
    )


def five_g_map(rows: Sequence[tuple[str, str, str]] = FIVE_G, ax=None):
    """Draw the map domain → symmetry group → architecture as three columns of boxes.

    Args:
        rows: ``(domain, group, architectures)`` triples; default :data:`FIVE_G`.
        ax: axes to draw on (a new figure if ``None``).

    Returns:
        matplotlib.axes.Axes

    Introduced in: 1, :doc:`/book/01_introduction/01_erlangen`.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9.5, 0.95 * len(rows) + 0.9))
    colours = plt.get_cmap("tab10").colors
    xs = [0.14, 0.5, 0.86]
    headers = [r"Domain $\Omega$", r"Symmetry group $\mathfrak{G}$", "Architecture"]
    n = len(rows)
    ys = np.linspace(0.86, 0.06, n)
    for x, h in zip(xs, headers):
        ax.text(x, 0.97, h, ha="center", va="center", fontsize=11, fontweight="bold")
    for i, (y, row) in enumerate(zip(ys, rows)):
        for j, (x, label) in enumerate(zip(xs, row)):
            ax.text(
                x,
                y,
                label,
                ha="center",
                va="center",
                fontsize=9.5,
                bbox=dict(boxstyle="round,pad=0.45", fc=colours[i % 10], alpha=0.18 + 0.12 * j, ec=colours[i % 10]),
            )
        for x0, x1 in [(xs[0], xs[1]), (xs[1], xs[2])]:
            ax.annotate("", xy=(x1 - 0.13, y), xytext=(x0 + 0.13, y), arrowprops=dict(arrowstyle="->", color="0.35"))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    return ax


def loglog_curves(
    x: Sequence[float],
    curves: Mapping[str, Sequence[float]],
    *,
    slopes: Mapping[str, float] | None = None,
    xlabel: str = "number of samples n",
    ylabel: str = "relative error",
    ax=None,
):
    """Plot several ``y(x)`` curves on log-log axes, labelled with their fitted slopes.

    Introduced in: 2.2, :doc:`/book/02_high_dimensions/02_2_curse_of_dimensionality`.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or not np.all(x > 0):
        raise ValueError(f"loglog_curves: x must be a 1-D list of positive numbers, got {x!r}")
    for label, y in curves.items():
        if np.shape(y) != x.shape:
            raise ValueError(f"loglog_curves: curve {label!r} has shape {np.shape(y)}, expected {x.shape} like x")
    if ax is None:
        _, ax = plt.subplots()
    cmap = plt.get_cmap("viridis")
    for i, (label, y) in enumerate(curves.items()):
        text = label if not slopes or label not in slopes else f"{label} (slope {slopes[label]:+.2f})"
        ax.loglog(x, y, "o-", color=cmap(i / max(len(curves) - 1, 1)), label=text, ms=4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return ax
