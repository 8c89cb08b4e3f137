"""Figures that recur in the book.

- :func:`use_book_style`: one consistent matplotlib look for every notebook.
- :func:`five_g_map`: the map domain → symmetry group → architecture (chapter 1).
- :func:`loglog_curves`: error-versus-size curves on log-log axes with fitted slopes (2.2).
- :func:`rotated_digit_figure`: an interactive plotly figure: rotate a digit with a slider and
  watch a P4-CNN's feature maps and outputs (5.2).
- :func:`oversmoothing_figure`: an interactive plotly figure: slide the depth and watch node
  features over-smooth on a small graph (5.3).
- :func:`load_timeline`, :func:`timeline_figure`: the table of landmarks of chapter 7 and its
  interactive timeline (hover for the citation) (7).

Static plots return the matplotlib ``Axes`` (or ``Figure``) so notebooks can decorate them.
Interactive figures return a ``plotly.graph_objects.Figure`` whose frames are computed in Python
when the figure is built, so that its slider works in the static HTML book, with no kernel
(call :func:`gdlutils.plot_mesh.use_plotly_in_book` once per notebook).

Introduced in: 1, :doc:`/book/01_introduction/01_erlangen` (Introduction).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["use_book_style", "five_g_map", "FIVE_G", "loglog_curves", "rotated_digit_figure", "oversmoothing_figure",
           "load_timeline", "timeline_figure", "TIMELINE_COLUMNS", "TIMELINE_AREAS"]

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


# ---------------------------------------------------------------- interactive figures (plotly)
def _add_slider(fig, frames, labels: Sequence[str], prefix: str) -> None:
    """Attach precomputed ``frames`` to ``fig`` with a slider that shows frame k at step k.

    Each step animates to its frame at once (``redraw`` so that 3-D and heatmap traces update too).
    """
    import plotly.graph_objects as go

    fig.frames = [go.Frame(data=f["data"], traces=f["traces"], name=str(i)) for i, f in enumerate(frames)]
    steps = [
        dict(method="animate", label=str(label),
             args=[[str(i)], dict(mode="immediate", frame=dict(duration=0, redraw=True), transition=dict(duration=0))])
        for i, label in enumerate(labels)
    ]
    fig.update_layout(sliders=[dict(active=0, currentvalue=dict(prefix=prefix), pad=dict(t=40, b=10), x=0.03, len=0.94, steps=steps)])


def _rotate_image_by(x, degrees: float):
    """``x`` turned counter-clockwise (as displayed by ``imshow``) by ``degrees`` about its centre.

    Quarter turns are exact (:func:`gdlutils.groups.rotate_image`); other angles are bilinear
    resampling, zero outside the image.
    """
    import torch
    import torch.nn.functional as tF

    from .groups import rotate_image

    quarter, rest = divmod(float(degrees), 90.0)
    if rest == 0.0:
        return rotate_image(int(quarter) % 4, x)
    t = np.deg2rad(degrees)
    # affine_grid: output pixel at normalised (x right, y down) samples the input at theta @ (x, y, 1)
    theta = torch.tensor([[np.cos(t), -np.sin(t), 0.0], [np.sin(t), np.cos(t), 0.0]], dtype=x.dtype)
    grid = tF.affine_grid(theta[None].expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
    return tF.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def rotated_digit_figure(image, gcnn, cnn, *, angles: Sequence[float] = tuple(range(0, 361, 15)), channel: int = 0, height: int = 560):
    r"""Rotate a digit with a slider and watch a group CNN and a plain CNN respond.

    For each angle :math:`\theta` the figure holds the rotated input :math:`x_\theta` (exact
    quarter turns, bilinear resampling in between), the first (lifting) feature map of the group
    CNN, channel ``channel``, at each rotation :math:`h\in C_4`,

    .. math:: [\Phi x_\theta](u, h) = \sum_{v} x_\theta(v)\, \psi(h^{-1}(v - u)),

    and the relative change of each model's logits,

    .. math:: \delta(\theta) = \frac{\lVert f(x_\theta) - f(x_0)\rVert}{\lVert f(x_0)\rVert}.

    At the quarter turns (marked) the feature maps rotate and cycle along :math:`h` and the group
    CNN's :math:`\delta` is zero up to rounding (exact invariance); in between, the pixel grid is not
    mapped onto itself and :math:`\delta` is only small. A plain CNN has no such zeros.

    Args:
        image: one image ``(1, N, N)`` or ``(N, N)``.
        gcnn: a :class:`gdlutils.models.GCNN` on p4 (its ``features[0]`` is the lifting layer).
            Both models are evaluated in ``eval()`` mode and left in the mode they were in.
        cnn: any model ``(B, 1, N, N) -> (B, num_classes)``, e.g. :class:`gdlutils.models.CNN`.
        angles: slider positions in degrees (counter-clockwise); should contain 0 and the quarter turns.
        channel: which lifting channel to show.

    Returns:
        ``plotly.graph_objects.Figure`` with one frame per angle and traces
        ``[input, feature map at h = 0, 1, 2, 3, delta of gcnn, delta of cnn, quarter-turn markers,
        current angle]``; frames update traces 0-4 and 8.

    Shapes:
        image: ``(N, N)`` or ``(1, N, N)``; models take ``(B, 1, N, N)``.

    Introduced in: 5.2, :doc:`/book/05_models/05_2_group_cnns`.
    """
    import plotly.graph_objects as go
    import torch
    from plotly.subplots import make_subplots

    x = torch.as_tensor(image)
    if x.dim() == 2:
        x = x[None]
    if x.dim() != 3 or x.shape[0] != 1 or x.shape[1] != x.shape[2]:
        raise ValueError(f"rotated_digit_figure: image must be one square image (N, N) or (1, N, N), got shape {tuple(x.shape)}")
    angles = [float(a) for a in angles]
    if not angles or angles[0] != 0.0 or any(b <= a for a, b in zip(angles, angles[1:])):
        raise ValueError(f"rotated_digit_figure: angles must increase from 0, got {angles[:5]}...")
    if getattr(gcnn, "group", None) != "p4":
        raise TypeError(f"rotated_digit_figure: gcnn must be a GCNN on p4 (e.g. gdlutils.models.P4CNN), got {type(gcnn).__name__}")
    lifting = gcnn.features[0]
    param = next(gcnn.parameters())
    x = x.to(dtype=param.dtype, device=param.device)
    training = gcnn.training, cnn.training
    gcnn.eval(), cnn.eval()  # batch norm with its running statistics: each image on its own
    try:
        with torch.no_grad():
            xs = torch.stack([_rotate_image_by(x[None], a)[0] for a in angles])  # (K, 1, N, N)
            maps = lifting(xs)[:, channel].cpu().numpy()  # (K, 4, N, N)
            deltas = {}
            for name, model in (("group CNN", gcnn), ("plain CNN", cnn)):
                p = next(model.parameters())
                out = model(xs.to(dtype=p.dtype, device=p.device)).double()
                deltas[name] = ((out - out[:1]).norm(dim=1) / out[0].norm()).cpu().numpy()
    finally:
        gcnn.train(training[0]), cnn.train(training[1])
    xs = xs[:, 0].cpu().numpy()
    lim = float(np.abs(maps).max()) or 1.0

    # Laid out to read at phone width (about 390 px) as well as on a desktop: short panel titles, the
    # caption of the feature maps and the legend in the gap between the rows (the legend wraps
    # there rather than covering the curves), a thin colour bar, and no fixed width (plotly autosizes).
    fig = make_subplots(rows=2, cols=5, specs=[[{}] * 5, [{"colspan": 5}, None, None, None, None]],
                        row_heights=[0.38, 0.62], vertical_spacing=0.24, horizontal_spacing=0.02,
                        subplot_titles=["x<sub>θ</sub>"] + [f"h = {90 * h}°" for h in range(4)] + [""])
    fig.update_annotations(font_size=11)  # the panel titles: "h = 270°" fits a fifth of a phone screen
    fig.add_annotation(text=f"lifting feature map (channel {channel}) at rotation h", xref="paper", yref="paper",
                       x=1.0, xanchor="right", y=0.70, yanchor="top", showarrow=False, font=dict(size=11))

    def panels(k):
        return [go.Heatmap(z=xs[k], colorscale="gray_r", zmin=0, zmax=float(xs.max()), showscale=False)] + [
            go.Heatmap(z=maps[k, h], colorscale="RdBu_r", zmin=-lim, zmax=lim, showscale=h == 3,
                       colorbar=dict(len=0.38, y=1.0, yanchor="top", thickness=8, tickfont=dict(size=9)))
            for h in range(4)]

    for i, trace in enumerate(panels(0)):
        fig.add_trace(trace, row=1, col=i + 1)
    colours = {"group CNN": "#1f77b4", "plain CNN": "#d62728"}
    for name, d in deltas.items():
        fig.add_trace(go.Scatter(x=angles, y=d, mode="lines", name=name, line=dict(color=colours[name])), row=2, col=1)
    quarter = [i for i, a in enumerate(angles) if a % 90 == 0]
    fig.add_trace(go.Scatter(x=[angles[i] for i in quarter], y=[deltas["group CNN"][i] for i in quarter], mode="markers",
                             marker=dict(symbol="star", size=11, color=colours["group CNN"]),
                             name="quarter turns (exact)"), row=2, col=1)

    def current(k):
        return go.Scatter(x=[angles[k]] * 2, y=[deltas["group CNN"][k], deltas["plain CNN"][k]], mode="markers",
                          marker=dict(size=12, color="black", symbol="circle-open", line=dict(width=2)),
                          name="current angle", showlegend=False)

    fig.add_trace(current(0), row=2, col=1)
    frames = [dict(data=panels(k) + [current(k)], traces=[0, 1, 2, 3, 4, 8]) for k in range(len(angles))]
    _add_slider(fig, frames, [f"{a:g}°" for a in angles], "rotation θ = ")
    for c in range(1, 6):
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{c}", showticklabels=False, row=1, col=c)
        fig.update_xaxes(showticklabels=False, row=1, col=c)
    fig.update_xaxes(title_text="rotation θ of the input (degrees)", title_font_size=12, tickvals=list(range(0, 361, 90)),
                     row=2, col=1)
    top = 1.12 * max(float(d.max()) for d in deltas.values())
    fig.update_yaxes(title_text="change of the logits δ(θ)", title_font_size=12, range=[0, top], row=2, col=1)
    fig.update_layout(height=height, autosize=True, margin=dict(l=50, r=10, t=40, b=20),
                      legend=dict(orientation="h", yanchor="bottom", y=0.48, x=0, font=dict(size=11),
                                  bgcolor="rgba(255,255,255,0.7)"))
    return fig


def oversmoothing_figure(edge_index, x, *, num_layers: int = 30, pos=None, seed: int = 0, height: int = 460):
    r"""Slide the depth and watch node features over-smooth on a small graph.

    Layer :math:`k` replaces each node's feature by the mean over itself and its neighbours,

    .. math:: x^{(k+1)} = \tilde D^{-1}\tilde A\, x^{(k)}, \qquad \tilde A = A + I,

    the propagation of a mean-aggregating GNN without weights or non-linearities. On a connected
    graph :math:`x^{(k)}` tends to a constant (the :math:`\tilde d`-weighted mean of :math:`x`), so
    the nodes' colours merge and the Dirichlet energy
    :math:`E(x) = \tfrac12\sum_{(u,v)}(x_u - x_v)^2` (:func:`gdlutils.spectral.dirichlet_energy`)
    decays geometrically.

    Args:
        edge_index: ``(2, E)`` undirected graph (both directions listed), connected.
        x: ``(n,)`` one scalar feature per node.
        num_layers: the slider runs over depths ``0..num_layers``.
        pos: ``(n, 2)`` node positions; default a seeded spring layout (networkx).
        seed: seed of the layout.

    Returns:
        ``plotly.graph_objects.Figure`` with ``num_layers + 1`` frames and traces ``[edges, nodes,
        energy curve, current depth]``; frame k sets the node colours to :math:`x^{(k)}`.

    Shapes:
        edge_index: ``(2, E)``; x: ``(n,)``; pos: ``(n, 2)``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
    """
    import plotly.graph_objects as go
    import torch
    from plotly.subplots import make_subplots

    from .graphs import adjacency, check_edge_index
    from .spectral import dirichlet_energy

    x = torch.as_tensor(x, dtype=torch.float64)
    if x.dim() != 1 or not torch.isfinite(x).all():
        raise ValueError(f"oversmoothing_figure: x must be one finite scalar per node, shape (n,), got shape {tuple(x.shape)}")
    n = x.shape[0]
    edge_index = check_edge_index(edge_index, n)
    if int(num_layers) != num_layers or num_layers < 1:
        raise ValueError(f"oversmoothing_figure: num_layers must be a positive integer, got {num_layers!r}")
    A = adjacency(edge_index, n, format="dense").to(torch.float64) + torch.eye(n, dtype=torch.float64)
    P = A / A.sum(1, keepdim=True)
    feats = [x]
    for _ in range(int(num_layers)):
        feats.append(P @ feats[-1])
    energy = np.array([dirichlet_energy(f, edge_index).item() for f in feats])
    feats = torch.stack(feats).numpy()
    if pos is None:
        from .graphs import to_networkx
        import networkx as nx

        layout = nx.spring_layout(to_networkx(edge_index, n), seed=seed)
        pos = np.array([layout[i] for i in range(n)])
    pos = np.asarray(pos, dtype=float)
    if pos.shape != (n, 2):
        raise ValueError(f"oversmoothing_figure: pos must have shape ({n}, 2), got {pos.shape}")
    src, dst = edge_index.numpy()
    ex = np.stack([pos[src, 0], pos[dst, 0], np.full(len(src), np.nan)], 1).ravel()
    ey = np.stack([pos[src, 1], pos[dst, 1], np.full(len(src), np.nan)], 1).ravel()
    lo, hi = float(feats.min()), float(feats.max())
    fig = make_subplots(rows=1, cols=2, column_widths=[0.58, 0.42], horizontal_spacing=0.16,
                        subplot_titles=["node features x<sup>(k)</sup>", "Dirichlet energy E(x<sup>(k)</sup>)"])
    fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", line=dict(color="lightgray", width=1), hoverinfo="skip", showlegend=False), row=1, col=1)

    def nodes(k):
        return go.Scatter(x=pos[:, 0], y=pos[:, 1], mode="markers", showlegend=False,
                          marker=dict(size=13, color=feats[k], colorscale="RdBu_r", cmin=lo, cmax=hi, line=dict(width=0.5, color="black"),
                                      colorbar=dict(title="x", x=0.84 * 0.58 + 0.01, xanchor="left", len=0.8, thickness=10)),
                          text=[f"node {i}: {v:.3f}" for i, v in enumerate(feats[k])], hoverinfo="text")

    def current(k):
        return go.Scatter(x=[k], y=[energy[k]], mode="markers", marker=dict(size=11, color="black"), showlegend=False)

    fig.add_trace(nodes(0), row=1, col=1)
    depths = list(range(int(num_layers) + 1))
    fig.add_trace(go.Scatter(x=depths, y=energy, mode="lines", line=dict(color="gray"), showlegend=False), row=1, col=2)
    fig.add_trace(current(0), row=1, col=2)
    _add_slider(fig, [dict(data=[nodes(k), current(k)], traces=[1, 3]) for k in depths], [str(k) for k in depths], "depth k = ")
    fig.update_xaxes(visible=False, row=1, col=1)
    fig.update_yaxes(visible=False, row=1, col=1)
    fig.update_xaxes(title_text="depth k (layers)", row=1, col=2)
    fig.update_yaxes(type="log", dtick=1, exponentformat="power", row=1, col=2)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10))
    return fig


#: The columns of the history table ``gdlutils/timeline.csv`` (shipped with the package).
TIMELINE_COLUMNS = ("year", "event", "area", "citation", "chapter")
#: The areas of the history table, in the order of the timeline's rows (bottom to top).
TIMELINE_AREAS = ("geometry", "learning", "grids", "groups", "graphs", "sets", "manifolds", "sequences", "applications")


def load_timeline(path=None) -> list[dict]:
    """Read the history table: one dict per event with the keys of :data:`TIMELINE_COLUMNS`.

    ``year`` is an ``int`` (negative before the common era), the other fields are strings:
    ``citation`` is a key of the book's ``references.bib`` and ``chapter`` the section of the
    book where the idea is used (e.g. ``"5.3"``).

    Args:
        path: a CSV file; default the table shipped with the package, ``gdlutils/timeline.csv``
            (so it works offline and in Colab).

    Returns:
        list of dict, in the order of the file.

    Introduced in: 7, :doc:`/book/07_history/07_history`.
    """
    import csv
    import io
    from pathlib import Path

    if path is None:
        from importlib.resources import files

        text = files("gdlutils").joinpath("timeline.csv").read_text(encoding="utf-8")
    else:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"load_timeline: no file at {str(path)!r}; pass the path of timeline.csv")
        text = path.read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != TIMELINE_COLUMNS:
        raise ValueError(f"load_timeline: expected the columns {TIMELINE_COLUMNS}, got {tuple(reader.fieldnames or ())}")
    table = []
    for line, row in enumerate(reader, start=2):
        try:
            row["year"] = int(row["year"])
        except ValueError:
            raise ValueError(f"load_timeline: line {line}: year must be an integer, got {row['year']!r}") from None
        if row["area"] not in TIMELINE_AREAS:
            raise ValueError(f"load_timeline: line {line}: area must be one of {TIMELINE_AREAS}, got {row['area']!r}")
        table.append(row)
    return table


def _year_label(year: int) -> str:
    return str(year) if year >= 0 else f"{-year} BCE"


def timeline_figure(table, *, height: int = 520):
    r"""An interactive timeline: one marker per event, one row per area, hover for the citation.

    Years before 1900 are drawn on a compressed axis (the position of year :math:`y` is
    :math:`1900 - 10\log_2(1 + (1900 - y)/10)` before 1900, :math:`y` after), so that Euclid,
    Klein and the last decade of deep learning fit on one page; the ticks show the true years.

    Args:
        table: a list of dicts with the keys of :data:`TIMELINE_COLUMNS` (:func:`load_timeline`).
        height: of the figure in pixels.

    Returns:
        ``plotly.graph_objects.Figure`` with one scatter trace per area present, in the order of
        :data:`TIMELINE_AREAS`; each marker's hover text holds the year, event, citation key and
        book section, and its ``customdata`` the citation key.

    Introduced in: 7, :doc:`/book/07_history/07_history`.
    """
    import plotly.graph_objects as go

    rows = list(table)
    if not rows:
        raise ValueError("timeline_figure: table is empty; pass load_timeline()")
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping) or any(k not in row for k in TIMELINE_COLUMNS):
            raise TypeError(f"timeline_figure: row {i} must be a dict with the keys {TIMELINE_COLUMNS}, got {row!r}")
        if row["area"] not in TIMELINE_AREAS:
            raise ValueError(f"timeline_figure: row {i}: area must be one of {TIMELINE_AREAS}, got {row['area']!r}")

    def position(year):
        year = float(year)
        return year if year >= 1900 else 1900 - 10 * np.log2(1 + (1900 - year) / 10)

    fig = go.Figure()
    colours = dict(zip(TIMELINE_AREAS, plt.get_cmap("tab10").colors))
    for level, area in enumerate(TIMELINE_AREAS):
        events = [r for r in rows if r["area"] == area]
        if not events:
            continue
        # events of the same area and year are spread a little vertically, so none hides another
        same = {}
        offsets = []
        for r in events:
            k = same.get(r["year"], 0)
            same[r["year"]] = k + 1
            offsets.append(0.18 * k)
        fig.add_trace(go.Scatter(
            x=[position(r["year"]) for r in events], y=[level + o for o in offsets], mode="markers", name=area,
            marker=dict(size=11, color="rgb({:.0f},{:.0f},{:.0f})".format(*(255 * c for c in colours[area])),
                        line=dict(width=0.5, color="black")),
            customdata=[r["citation"] for r in events],
            text=[f"<b>{_year_label(r['year'])}</b>: {r['event']}<br>cite: {r['citation']} · book section {r['chapter']}"
                  for r in events],
            hoverinfo="text"))
    ticks = [-300, 1000, 1600, 1872, 1918, 1950, 1970, 1990, 2000, 2010, 2020]
    fig.update_xaxes(tickvals=[position(t) for t in ticks], ticktext=[_year_label(t) for t in ticks],
                     title_text="year (compressed before 1900)")
    present = [a for a in TIMELINE_AREAS if any(r["area"] == a for r in rows)]
    fig.update_yaxes(tickvals=[TIMELINE_AREAS.index(a) for a in present], ticktext=present, showgrid=True)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), showlegend=False, hovermode="closest")
    return fig
