"""Figures of meshes and of functions and vector fields on them.

Interactive 3-D figures use plotly (``Mesh3d``); call :func:`use_plotly_in_book` once per
notebook so that the rendered HTML page embeds plotly.js once and every figure stays
interactive. Static figures (for print, or many small panels) use matplotlib.

Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds` (geodesics and manifolds).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["use_plotly_in_book", "mesh_figure", "mesh_grid_figure", "plot_mesh", "plot_mesh_grid"]


def use_plotly_in_book() -> None:
    """Render plotly figures like plotly's ``"notebook"`` renderer: plotly.js is embedded once
    per page (about 4.7 MB), so figures are interactive in Jupyter and in the built HTML book
    with no network; the per-figure MathJax script from a CDN is left out.

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    import re

    import plotly.io as pio
    from plotly.io._base_renderers import NotebookRenderer

    class _BookRenderer(NotebookRenderer):
        """plotly's notebook renderer without the MathJax script it adds to every figure
        (the book serves its own MathJax; a second copy from a CDN fails offline and can clash)."""

        def to_mimebundle(self, fig_dict):
            bundle = super().to_mimebundle(fig_dict)
            bundle["text/html"] = re.sub(r'<script src="[^"]*mathjax[^"]*"></script>', "", bundle["text/html"])
            return bundle

    if "gdl_book" not in pio.renderers:
        pio.renderers["gdl_book"] = _BookRenderer()
    pio.renderers.default = "gdl_book"


def _check_mesh_values(V, F, values, what: str):
    """Validated ``(V, F, values)``: the mesh checks of :mod:`gdlutils.mesh`, values (n,) finite."""
    from .mesh import _as_mesh

    V, F = _as_mesh(V, F)
    if values is not None:
        values = np.asarray(values, dtype=float)
        if values.shape != (len(V),):
            raise ValueError(f"{what}: values must have shape ({len(V)},) (one scalar per vertex), got {values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{what}: values must be finite (found NaN or inf); mask them or replace them first")
    return V, F, values


def _check_panels(meshes, values, titles, what: str) -> None:
    if not (len(meshes) == len(values) == len(titles)) or len(meshes) == 0:
        raise ValueError(
            f"{what}: meshes, values and titles must be non-empty lists of the same length, got "
            f"{len(meshes)}, {len(values)} and {len(titles)}"
        )


def _camera(up: str) -> dict:
    if up not in ("x", "y", "z"):
        raise ValueError(f"up must be 'x', 'y' or 'z', got {up!r}")
    vec = {a: float(a == up) for a in "xyz"}
    eye = {"z": dict(x=1.5, y=-1.5, z=0.9), "y": dict(x=1.3, y=0.7, z=1.6), "x": dict(x=0.9, y=1.5, z=-1.5)}[up]
    return dict(up=vec, eye=eye)


def _mesh3d(V, F, values=None, colorscale="RdBu_r", cmid=None, showscale=False, name="", color="lightgray", colorbar_x=None):
    import plotly.graph_objects as go

    kw = dict(x=V[:, 0], y=V[:, 1], z=V[:, 2], i=F[:, 0], j=F[:, 1], k=F[:, 2], name=name, flatshading=False,
              lighting=dict(ambient=0.55, diffuse=0.7, specular=0.15, roughness=0.6), hoverinfo="skip")
    if values is None:
        kw["color"] = color
    else:
        values = np.asarray(values, dtype=float)
        kw.update(intensity=values, colorscale=colorscale, showscale=showscale)
        if cmid is not None:
            kw["cmid"] = cmid
        if colorbar_x is not None:
            kw["colorbar"] = dict(x=colorbar_x, len=0.6, thickness=12)
    return go.Mesh3d(**kw)


def _vector_lines(V, vectors, scale, color, name):
    import plotly.graph_objects as go

    P = np.asarray(V)
    Q = P + scale * np.asarray(vectors)
    xs = np.stack([P[:, 0], Q[:, 0], np.full(len(P), np.nan)], 1).ravel()
    ys = np.stack([P[:, 1], Q[:, 1], np.full(len(P), np.nan)], 1).ravel()
    zs = np.stack([P[:, 2], Q[:, 2], np.full(len(P), np.nan)], 1).ravel()
    return go.Scatter3d(x=xs, y=ys, z=zs, mode="lines", line=dict(color=color, width=4), name=name, hoverinfo="skip")


def mesh_figure(
    V,
    F,
    values: np.ndarray | None = None,
    *,
    title: str = "",
    colorscale: str = "RdBu_r",
    cmid: float | None = None,
    showscale: bool = True,
    vectors: Sequence[tuple[np.ndarray, np.ndarray, str]] = (),
    vector_scale: float = 1.0,
    markers: np.ndarray | None = None,
    height: int = 420,
    up: str = "z",
):
    """An interactive plotly figure of a mesh, coloured by the per-vertex ``values``.

    Args:
        V, F: the mesh, (n, 3) and (m, 3).
        values: (n,) per-vertex scalars, or None for a plain grey surface.
        vectors: optional ``(points (k, 3), vectors (k, 3), colour)`` triples drawn as segments.
        markers: optional (k, 3) points drawn as black dots (sources, loop vertices...).
        up: the axis ``"x"``, ``"y"`` or ``"z"`` that points up on screen (spot and the torus: ``"y"``).

    Returns:
        ``plotly.graph_objects.Figure``.

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``; values: ``(n,)``.

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    import plotly.graph_objects as go

    _camera(up)
    V, F, values = _check_mesh_values(V, F, values, "mesh_figure")
    fig = go.Figure(_mesh3d(np.asarray(V), np.asarray(F), values, colorscale, cmid, showscale and values is not None))
    for P, vec, color in vectors:
        fig.add_trace(_vector_lines(P, vec, vector_scale, color, color))
    if markers is not None:
        M = np.atleast_2d(markers)
        fig.add_trace(go.Scatter3d(x=M[:, 0], y=M[:, 1], z=M[:, 2], mode="markers", marker=dict(size=4, color="black"), showlegend=False))
    fig.update_layout(
        title=title, height=height, margin=dict(l=0, r=0, t=40 if title else 0, b=0), showlegend=False,
        scene=dict(aspectmode="data", xaxis_visible=False, yaxis_visible=False, zaxis_visible=False, camera=_camera(up)),
    )
    return fig


def mesh_grid_figure(
    meshes: Sequence[tuple[np.ndarray, np.ndarray]],
    values: Sequence[np.ndarray | None],
    titles: Sequence[str],
    *,
    cols: int | None = None,
    colorscale: str = "RdBu_r",
    cmid: float | None = 0.0,
    height: int = 360,
    up: str = "z",
):
    """Several meshes side by side in one interactive figure (one plotly.js payload).

    ``meshes[i] = (V, F)`` is coloured by ``values[i]``. Each panel has its own camera.

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    from plotly.subplots import make_subplots

    _check_panels(meshes, values, titles, "mesh_grid_figure")
    k = len(meshes)
    cols = cols or k
    rows = (k + cols - 1) // cols
    fig = make_subplots(rows=rows, cols=cols, specs=[[{"type": "scene"}] * cols] * rows, subplot_titles=list(titles),
                        horizontal_spacing=0.01, vertical_spacing=0.04)
    for idx, ((V, F), val) in enumerate(zip(meshes, values)):
        fig.add_trace(_mesh3d(np.asarray(V), np.asarray(F), val, colorscale, cmid), row=idx // cols + 1, col=idx % cols + 1)
    scene = dict(aspectmode="data", xaxis_visible=False, yaxis_visible=False, zaxis_visible=False, camera=_camera(up))
    fig.update_layout(height=height * rows, margin=dict(l=0, r=0, t=30, b=0), showlegend=False,
                      **{f"scene{'' if i == 0 else i + 1}": scene for i in range(rows * cols)})
    return fig


def plot_mesh(
    V,
    F,
    values: np.ndarray | None = None,
    *,
    ax=None,
    cmap: str = "RdBu_r",
    elev: float = 20.0,
    azim: float = -60.0,
    vmin: float | None = None,
    vmax: float | None = None,
    title: str = "",
    edgecolor: str | None = None,
    up: str = "z",
):
    """A static matplotlib picture of a mesh coloured by per-vertex ``values`` (face colour =
    mean of its vertices), with simple Lambert shading when ``values`` is None.

    Returns the 3-D ``Axes``.

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``; values: ``(n,)``.

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    import matplotlib.pyplot as plt
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    _camera(up)
    V, F, values = _check_mesh_values(V, F, values, "plot_mesh")
    if up == "y":  # cyclic relabelling of the axes keeps the orientation
        V = V[:, [2, 0, 1]]
    elif up == "x":
        V = V[:, [1, 2, 0]]
    if ax is None:
        fig = plt.figure(figsize=(4, 4))
        ax = fig.add_subplot(projection="3d")
    P = V[F]
    if values is None:
        nrm = np.cross(P[:, 1] - P[:, 0], P[:, 2] - P[:, 0])
        nrm /= np.linalg.norm(nrm, axis=1, keepdims=True) + 1e-300
        light = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
        shade = 0.35 + 0.65 * np.clip(nrm @ light, 0, 1)
        colors = np.repeat(shade[:, None], 3, 1) * np.array([0.85, 0.85, 0.9])
        coll = Poly3DCollection(P, facecolors=colors, edgecolor=edgecolor or "none", linewidths=0.1)
    else:
        fv = np.asarray(values, dtype=float)[F].mean(1)
        lo = fv.min() if vmin is None else vmin
        hi = fv.max() if vmax is None else vmax
        cm = plt.get_cmap(cmap)
        coll = Poly3DCollection(P, facecolors=cm((fv - lo) / (hi - lo + 1e-300)), edgecolor=edgecolor or "none", linewidths=0.1)
    ax.add_collection3d(coll)
    mins, maxs = V.min(0), V.max(0)
    c, r = (mins + maxs) / 2, (maxs - mins).max() / 2
    ax.set_xlim(c[0] - r, c[0] + r)
    ax.set_ylim(c[1] - r, c[1] + r)
    ax.set_zlim(c[2] - r, c[2] + r)
    ax.view_init(elev=elev, azim=azim)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_mesh_grid(meshes, values, titles, *, cols: int | None = None, cmap: str = "RdBu_r", elev=20.0, azim=-60.0, size=3.0, symmetric=True, up: str = "z"):
    """Static grid of meshes coloured by values (matplotlib). Returns the figure.

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    import matplotlib.pyplot as plt

    _check_panels(meshes, values, titles, "plot_mesh_grid")
    k = len(meshes)
    cols = cols or k
    rows = (k + cols - 1) // cols
    fig = plt.figure(figsize=(size * cols, size * rows))
    for i, ((V, F), val, t) in enumerate(zip(meshes, values, titles)):
        ax = fig.add_subplot(rows, cols, i + 1, projection="3d")
        if val is not None and symmetric:
            a = np.abs(np.asarray(val)).max()
            plot_mesh(V, F, val, ax=ax, cmap=cmap, elev=elev, azim=azim, vmin=-a, vmax=a, title=t, up=up)
        else:
            plot_mesh(V, F, val, ax=ax, cmap=cmap, elev=elev, azim=azim, title=t, up=up)
    fig.subplots_adjust(wspace=0, hspace=0.05, left=0, right=1, top=0.92, bottom=0)
    return fig
