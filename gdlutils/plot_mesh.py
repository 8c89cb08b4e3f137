"""Figures of meshes and of functions and vector fields on them.

Interactive 3-D figures use plotly (``Mesh3d``); call :func:`use_plotly_in_book` once per
notebook so that the rendered HTML page embeds plotly.js once and every figure stays
interactive. Static figures (for print, or many small panels) use matplotlib. Colour-mapped
figures carry a colour bar; vector fields are drawn as arrows (a segment and a cone).

Figures with a slider (:func:`heat_diffusion_figure`, :func:`gauge_figure`) hold every frame,
computed in Python when the figure is built, so that they work in the static HTML book without
a kernel; their data is stored in single precision to keep a page light.

Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds` (geodesics and manifolds).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["use_plotly_in_book", "mesh_figure", "mesh_grid_figure", "heat_diffusion_figure", "gauge_figure", "plot_mesh",
           "plot_mesh_grid"]


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
    return go.Scatter3d(x=xs.astype(np.float32), y=ys.astype(np.float32), z=zs.astype(np.float32), mode="lines",
                        line=dict(color=color, width=4), name=name, hoverinfo="skip")


def _arrowheads(V, vectors, scale, color, name):
    """Cones at the tips of the segments of :func:`_vector_lines`, a third of the arrow long."""
    import plotly.graph_objects as go

    P = np.asarray(V)
    D = scale * np.asarray(vectors)
    Q = P + D
    return go.Cone(x=Q[:, 0].astype(np.float32), y=Q[:, 1].astype(np.float32), z=Q[:, 2].astype(np.float32),
                   u=(D[:, 0] / 3).astype(np.float32), v=(D[:, 1] / 3).astype(np.float32), w=(D[:, 2] / 3).astype(np.float32),
                   anchor="tip", sizemode="raw", sizeref=1.0, colorscale=[[0, color], [1, color]], showscale=False,
                   name=name, hoverinfo="skip", lighting=dict(ambient=0.8))


def _arrows(V, vectors, scale, color, name):
    """A vector field as arrows: segments from the points plus cone arrowheads (two traces)."""
    return [_vector_lines(V, vectors, scale, color, name), _arrowheads(V, vectors, scale, color, name)]


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
        vectors: optional ``(points (k, 3), vectors (k, 3), colour)`` triples drawn as arrows.
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
        fig.add_traces(_arrows(P, vec, vector_scale, color, color))
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
    showscale: bool = True,
):
    """Several meshes side by side in one interactive figure (one plotly.js payload).

    ``meshes[i] = (V, F)`` is coloured by ``values[i]``, with a colour bar at the right of its
    panel (``showscale=False`` leaves them out). Each panel has its own camera.

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
        r, c = divmod(idx, cols)
        trace = _mesh3d(np.asarray(V), np.asarray(F), val, colorscale, cmid, showscale=showscale and val is not None)
        if showscale and val is not None:
            trace.colorbar = dict(x=(c + 1) / cols - 0.01, xanchor="right", y=1 - (r + 0.5) / rows, len=0.6 / rows, thickness=10)
        fig.add_trace(trace, row=r + 1, col=c + 1)
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


def plot_mesh_grid(meshes, values, titles, *, cols: int | None = None, cmap: str = "RdBu_r", elev=20.0, azim=-60.0, size=3.0, symmetric=True, up: str = "z",
                   colorbar: bool = True):
    """Static grid of meshes coloured by values (matplotlib), each with a horizontal colour bar
    under it (``colorbar=False`` leaves them out). Returns the figure.

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
        if val is None:
            plot_mesh(V, F, None, ax=ax, elev=elev, azim=azim, title=t, up=up)
            continue
        if symmetric:
            a = np.abs(np.asarray(val)).max()
            lo, hi = -a, a
        else:  # the range plot_mesh uses: of the face colours, means of their vertices
            face_values = np.asarray(val, dtype=float)[np.asarray(F)].mean(1)
            lo, hi = face_values.min(), face_values.max()
        plot_mesh(V, F, val, ax=ax, cmap=cmap, elev=elev, azim=azim, vmin=lo, vmax=hi, title=t, up=up)
        if colorbar:
            mappable = plt.cm.ScalarMappable(norm=plt.Normalize(lo, hi), cmap=cmap)
            fig.colorbar(mappable, ax=ax, orientation="horizontal", shrink=0.6, pad=0.0, aspect=25)
    fig.subplots_adjust(wspace=0, hspace=0.05, left=0, right=1, top=0.92, bottom=0.02)
    return fig


# ---------------------------------------------------------------- figures with a slider
def _close_camera(up: str) -> dict:
    """:func:`_camera` moved closer: one mesh fills a figure of its own."""
    camera = _camera(up)
    camera["eye"] = {axis: 0.85 * value for axis, value in camera["eye"].items()}
    return camera


def _float32(a):
    return np.asarray(a, dtype=np.float32)


def heat_diffusion_figure(V, F, L, M, source: int, times: Sequence[float], *, steps: int = 20, floor: float = 1e-3,
                          colorscale: str = "Inferno", height: int = 520, up: str = "z"):
    r"""Slide the diffusion time and watch a unit of heat spread from one vertex.

    Frame :math:`k` shows :math:`\log_{10}(f_{t_k} + \varepsilon)` on the mesh, where
    :math:`f_0 = M^{-1}e_s` is a unit of heat at the vertex :math:`s` (``source``) and

    .. math:: f_t = e^{-tM^{-1}L} f_0 \approx \Big((M + \tfrac{t}{S}L)^{-1}M\Big)^{S} f_0,

    computed by :func:`gdlutils.mesh.heat_diffusion` with :math:`S` = ``steps`` backward-Euler steps: the heat
    kernel :math:`k_t(\cdot, x_s)`. The colour range is the same in every frame, so one sees the
    heat spread and flatten; a logarithmic scale shows its Gaussian-like tail, whose radius grows
    like :math:`\sqrt{t}`.

    Args:
        V, F: the mesh; L, M: its cotangent Laplacian and mass matrix (:func:`gdlutils.mesh.laplacian_and_mass`).
        source: the vertex holding the heat at :math:`t = 0`.
        times: increasing positive diffusion times, one frame each.
        floor: :math:`\varepsilon`, the smallest heat the colour scale resolves.

    Returns:
        ``plotly.graph_objects.Figure`` with one frame per time; trace 0 is the mesh (frames set
        its ``intensity``), trace 1 the source.

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``; L, M: ``(n, n)`` sparse.

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    import plotly.graph_objects as go

    from .mesh import heat_diffusion
    from .plot import _add_slider

    _camera(up)
    V, F, _ = _check_mesh_values(V, F, None, "heat_diffusion_figure")
    if int(source) != source or not 0 <= source < len(V):
        raise ValueError(f"heat_diffusion_figure: source must be a vertex index in [0, {len(V)}), got {source!r}")
    times = [float(t) for t in times]
    if not times or times[0] <= 0 or any(b <= a for a, b in zip(times, times[1:])):
        raise ValueError(f"heat_diffusion_figure: times must be positive and increasing, got {times}")
    if not floor > 0:
        raise ValueError(f"heat_diffusion_figure: floor must be positive, got {floor!r}")
    f0 = np.zeros(len(V))
    f0[int(source)] = 1.0 / M.diagonal()[int(source)]
    logs = np.stack([np.log10(np.maximum(heat_diffusion(L, M, f0, t, steps=steps), 0.0) + floor) for t in times])
    lo, hi = float(logs.min()), float(logs.max())

    def surface(k):
        return go.Mesh3d(intensity=_float32(logs[k]), cmin=lo, cmax=hi)

    fig = go.Figure(_mesh3d(_float32(V), F, _float32(logs[0]), colorscale, None, showscale=True))
    fig.data[0].update(cmin=lo, cmax=hi, colorbar=dict(title=dict(text="log<sub>10</sub> heat", side="right"), len=0.7, thickness=12))
    s = V[int(source)]
    fig.add_trace(go.Scatter3d(x=[s[0]], y=[s[1]], z=[s[2]], mode="markers", marker=dict(size=5, color="cyan"), name="source", showlegend=False))
    _add_slider(fig, [dict(data=[surface(k)], traces=[0]) for k in range(len(times))], [f"{t:g}" for t in times], "diffusion time t = ")
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=10, b=0), showlegend=False,
                      scene=dict(aspectmode="data", xaxis_visible=False, yaxis_visible=False, zaxis_visible=False, camera=_close_camera(up)))
    return fig


def gauge_figure(V, F, field, e1, e2, *, angles: Sequence[float] = tuple(range(0, 361, 30)), points=None, vector_scale: float = 0.04,
                 height: int = 520, up: str = "z"):
    r"""Slide a gauge rotation and watch the coefficients of a field change while the field stays.

    At each vertex the gauge :math:`(e_1, e_2)` is turned by the angle :math:`\theta` (the same at
    every vertex), :math:`e_1' = \cos\theta\, e_1 + \sin\theta\, e_2`,
    :math:`e_2' = -\sin\theta\, e_1 + \cos\theta\, e_2`, so the coefficients of the tangent field
    :math:`X = c_1 e_1 + c_2 e_2 = c_1' e_1' + c_2' e_2'` turn the opposite way:

    .. math:: \begin{pmatrix} c_1' \\ c_2' \end{pmatrix} = \rho(\theta)^{-1}\begin{pmatrix} c_1 \\ c_2 \end{pmatrix},
        \qquad \rho(\theta) = \begin{pmatrix}\cos\theta & -\sin\theta\\ \sin\theta & \cos\theta\end{pmatrix}.

    Frame :math:`k` colours the mesh by :math:`c_1'` and draws :math:`e_1'` (red arrows) at
    ``points``; the field :math:`X` (black arrows) is the same in every frame.

    Args:
        V, F: the mesh. field: ``(n, 3)`` tangent vectors at the vertices. e1, e2: ``(n, 3)`` the gauge
            (e.g. :func:`gdlutils.mesh.vertex_tangent_frames`).
        angles: slider positions in degrees.
        points: indices of the vertices that get arrows (default: 300 evenly spread ones).
        vector_scale: length of a unit vector on screen.

    Returns:
        ``plotly.graph_objects.Figure`` with one frame per angle; traces ``[mesh, field segments,
        field cones, frame segments, frame cones]``; frames update traces 0, 3 and 4.

    Shapes:
        V, field, e1, e2: ``(n, 3)``; F: ``(m, 3)``.

    Introduced in: 4.5, :doc:`/book/04_domains/04_5_gauges`.
    """
    import plotly.graph_objects as go

    from .plot import _add_slider

    _camera(up)
    V, F, _ = _check_mesh_values(V, F, None, "gauge_figure")
    field, e1, e2 = (np.asarray(a, dtype=float) for a in (field, e1, e2))
    for name, a in (("field", field), ("e1", e1), ("e2", e2)):
        if a.shape != V.shape or not np.all(np.isfinite(a)):
            raise ValueError(f"gauge_figure: {name} must be finite with shape {V.shape} (one 3-D vector per vertex), got {a.shape}")
    if points is None:
        points = np.linspace(0, len(V) - 1, min(300, len(V))).astype(int)
    points = np.asarray(points)
    c1, c2 = (field * e1).sum(1), (field * e2).sum(1)
    angles = [float(a) for a in angles]
    radians = np.deg2rad(angles)
    coeff = np.stack([np.cos(t) * c1 + np.sin(t) * c2 for t in radians])  # c1' = <X, e1'>
    lim = float(np.abs(coeff).max()) or 1.0

    def frame_arrows(t):
        e1_rot = np.cos(t) * e1[points] + np.sin(t) * e2[points]
        return _arrows(V[points], e1_rot, vector_scale, "red", "e1'")

    def frame(k):
        return [go.Mesh3d(intensity=_float32(coeff[k]), cmin=-lim, cmax=lim)] + frame_arrows(radians[k])

    fig = go.Figure(_mesh3d(_float32(V), F, _float32(coeff[0]), "RdBu_r", None, showscale=True))
    fig.data[0].update(cmin=-lim, cmax=lim, colorbar=dict(title=dict(text="c<sub>1</sub>'", side="right"), len=0.7, thickness=12))
    fig.add_traces(_arrows(V[points], field[points], vector_scale, "black", "X"))
    fig.add_traces(frame_arrows(radians[0]))
    _add_slider(fig, [dict(data=frame(k), traces=[0, 3, 4]) for k in range(len(angles))], [f"{a:g}°" for a in angles],
                "gauge rotation θ = ")
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=10, b=0), showlegend=False,
                      scene=dict(aspectmode="data", xaxis_visible=False, yaxis_visible=False, zaxis_visible=False, camera=_close_camera(up)))
    return fig
