"""Latent graphs: graphs built from the data (k-nearest neighbours in feature space), the
EdgeConv layer, and the dynamic graph CNN (DGCNN) that rebuilds its graph at every layer.

When a point cloud or a set comes without edges, a graph can still be *inferred*: connect each
point to its :math:`k` nearest neighbours (:func:`knn_graph`). Computed on the input
coordinates, it is a fixed geometric graph; computed on each layer's features
(:class:`DynamicEdgeConv`), it is a latent graph that the network learns, as in DGCNN of
Wang et al. Building the graph is permutation equivariant (relabelling the points relabels the
edges), so a GNN on an inferred graph is still permutation equivariant.

Introduced in: 5.4, :doc:`/book/05_models/05_4_3_latent_graphs`.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn

from gdlutils.message_passing import check_graph, propagate, scatter
from gdlutils.utils import reset_submodules

__all__ = ["knn_graph", "EdgeConv", "DynamicEdgeConv", "DGCNN", "synthetic_shapes", "SHAPE_NAMES"]

#: Bound on the entries of one block of distances in :func:`knn_graph` (2^24 floats = 64 MB).
MAX_BLOCK = 1 << 24


def _segments(batch: Tensor | None, n: int, device) -> list[tuple[int, int]]:
    if batch is None:
        return [(0, n)]
    if not isinstance(batch, Tensor) or batch.shape != (n,) or batch.dtype in (torch.float32, torch.float64, torch.bool):
        raise ValueError(f"knn_graph: batch must be an integer ({n},) vector, got {getattr(batch, 'shape', type(batch))}")
    if n and (bool((batch[1:] < batch[:-1]).any()) or int(batch[0]) < 0):
        raise ValueError("knn_graph: batch must be sorted and non-negative (the points of each set contiguous)")
    sizes = torch.bincount(batch).tolist() if n else []
    ends = torch.tensor(sizes).cumsum(0).tolist()
    return [(e - s, e) for s, e in zip(sizes, ends) if s > 0]


def knn_graph(
    x: Tensor,
    k: int,
    batch: Tensor | None = None,
    loop: bool = False,
    flow: str = "source_to_target",
    *,
    chunk_size: int | None = None,
) -> Tensor:
    """The k-nearest-neighbour graph of a point cloud (or of any features), with PyTorch
    Geometric's ``knn_graph`` arguments: each point :math:`i` receives an edge from each of its
    :math:`k` nearest points :math:`j` in Euclidean distance (``flow="source_to_target"``:
    ``edge_index[0]`` = neighbour :math:`j`, ``edge_index[1]`` = centre :math:`i`).

    Points of different sets (``batch``) are never neighbours; ``loop=True`` counts a point as
    its own neighbour. Distances come from ``torch.cdist`` and the neighbours from ``topk``, one
    block of rows at a time, so that no block holds more than ``MAX_BLOCK`` distances: 10^5 points
    never allocate the :math:`n \\times n` matrix. Ties are broken by ``topk``.

    Shapes:
        x: ``(N, d)``; batch: ``(N,)`` sorted; returns ``(2, N k)``, sorted by centre, with the
        neighbours of each centre from nearest to farthest.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_3_latent_graphs`.
    """
    if not isinstance(x, Tensor) or x.dim() != 2 or not x.is_floating_point():
        raise ValueError(f"knn_graph: x must be a float (N, d) tensor of points, got {getattr(x, 'shape', type(x))}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("knn_graph: x has NaN or infinite entries")
    if int(k) != k or k < 1:
        raise ValueError(f"knn_graph: k must be a positive integer, got {k!r}")
    if flow not in ("source_to_target", "target_to_source"):
        raise ValueError(f"knn_graph: flow must be 'source_to_target' or 'target_to_source', got {flow!r}")
    n = x.size(0)
    segments = _segments(batch, n, x.device)
    smallest = min((e - s for s, e in segments), default=0)
    if k > smallest - (0 if loop else 1):
        raise ValueError(
            f"knn_graph: k = {k} needs every set to have at least {k + (0 if loop else 1)} points "
            f"({'' if loop else 'k neighbours besides the point itself; '}the smallest has {smallest}); use a smaller k"
        )
    xd = x.detach()
    nbrs = []
    for s, e in segments:
        pts = xd[s:e]
        m = e - s
        rows = chunk_size or max(1, MAX_BLOCK // m)
        for r0 in range(0, m, rows):
            r1 = min(m, r0 + rows)
            dist = torch.cdist(pts[r0:r1], pts)  # (rows, m): one block of distances
            if not loop:
                dist[torch.arange(r1 - r0), torch.arange(r0, r1)] = float("inf")
            nbrs.append(dist.topk(k, dim=1, largest=False).indices + s)  # (rows, k), nearest first
    col = torch.cat(nbrs).reshape(-1)
    centre = torch.arange(n, device=x.device).repeat_interleave(k)
    edge_index = torch.stack([col, centre])
    return edge_index if flow == "source_to_target" else edge_index.flip(0)


class EdgeConv(nn.Module):
    """The edge convolution of DGCNN :cite:`wang2019dynamic`, with PyTorch Geometric's arguments:

    .. math:: \\mathbf x'_i = \\bigoplus_{j \\to i} h_\\Theta\\big(\\mathbf x_i \\,\\|\\, \\mathbf x_j - \\mathbf x_i\\big)

    with :math:`h_\\Theta` the MLP ``nn`` (input width :math:`2C`) and :math:`\\bigoplus` =
    ``aggr`` (max in DGCNN): each message sees the centre (global shape) and the offset to the
    neighbour (local shape). The readable form is one :func:`gdlutils.message_passing.propagate`;
    on a graph from :func:`knn_graph` (every node receives exactly :math:`k` edges, sorted by
    target) the aggregation runs as a reduction over a ``(n, k, C)`` view instead of a scatter
    (``gdlutils._latent_graphs``), with the same result.

    Shapes:
        x: ``(n, C)``; edge_index: ``(2, E)``; returns ``(n, C')``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_3_latent_graphs`.
    """

    def __init__(self, nn: nn.Module, aggr: str = "max", *, fast: bool = True):
        super().__init__()
        if aggr not in ("sum", "mean", "max"):
            raise ValueError(f"EdgeConv: aggr must be 'sum', 'mean' or 'max', got {aggr!r}")
        self.nn, self.aggr, self.fast = nn, aggr, fast

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def message(self, x_i: Tensor, x_j: Tensor, edge_attr=None) -> Tensor:
        return self.nn(torch.cat([x_i, x_j - x_i], dim=-1))

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 2:
            raise ValueError(f"EdgeConv: x must be (n, C), got {getattr(x, 'shape', type(x))}")
        if self.fast:
            from gdlutils._latent_graphs import regular_degree, regular_edge_conv

            edge_index, n = check_graph(x, edge_index)
            k = regular_degree(edge_index, n)
            if k is not None:
                return regular_edge_conv(self.nn, x, edge_index[0].view(n, k), self.aggr)
        return propagate(x, edge_index, message=self.message, aggr=self.aggr)


class DynamicEdgeConv(nn.Module):
    """EdgeConv on the k-NN graph of its own input features :cite:`wang2019dynamic`, as PyTorch
    Geometric's ``DynamicEdgeConv``: the graph is rebuilt at every call, so stacked layers see
    graphs in ever more learned feature spaces (a latent graph). As in PyG and the authors' code
    each point counts as one of its own :math:`k` neighbours. The k-NN search is not
    differentiated (the graph is discrete); gradients flow through the messages.

    Shapes:
        x: ``(N, C)``; batch: ``(N,)`` sorted; returns ``(N, C')``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_3_latent_graphs`.
    """

    def __init__(self, nn: nn.Module, k: int, aggr: str = "max", *, fast: bool = True):
        super().__init__()
        self.conv = EdgeConv(nn, aggr, fast=fast)
        self.nn, self.k = self.conv.nn, k

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()

    def forward(self, x: Tensor, batch: Tensor | None = None) -> Tensor:
        return self.conv(x, knn_graph(x, self.k, batch, loop=True))


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers)


class DGCNN(nn.Module):
    """A small dynamic graph CNN for point-cloud classification :cite:`wang2019dynamic`: EdgeConv
    layers of widths ``hidden`` whose k-NN graph is rebuilt from each layer's input features
    (``dynamic=True``) or computed once on the input coordinates and kept (``dynamic=False``, a
    fixed geometric graph); the outputs of all layers are concatenated, mapped pointwise to
    ``emb_channels``, max-pooled over each cloud (permutation invariant) and classified by an MLP.

    ``last_graphs`` holds the edge indices used at the last call, to look at the latent graph.

    Shapes:
        pos: ``(N, in_channels)``; batch: ``(N,)``; returns ``(num_clouds, out_channels)``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_3_latent_graphs`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden: Sequence[int] = (64, 64, 64),
        k: int = 20,
        *,
        emb_channels: int = 256,
        dynamic: bool = True,
    ):
        super().__init__()
        self.k, self.dynamic = k, dynamic
        widths = [in_channels] + list(hidden)
        self.convs = nn.ModuleList(EdgeConv(_mlp([2 * a, b]), "max") for a, b in zip(widths[:-1], widths[1:]))
        self.emb = _mlp([sum(hidden), emb_channels])
        self.head = nn.Sequential(_mlp([emb_channels, emb_channels // 2]), nn.Linear(emb_channels // 2, out_channels))
        self.last_graphs: list[Tensor] = []

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def forward(self, pos: Tensor, batch: Tensor | None = None, num_clouds: int | None = None) -> Tensor:
        if batch is None:
            batch = torch.zeros(pos.size(0), dtype=torch.long, device=pos.device)
        num_clouds = int(batch.max()) + 1 if num_clouds is None else num_clouds
        x, outs, graphs = pos, [], []
        edge_index = None
        for conv in self.convs:
            if edge_index is None or self.dynamic:
                edge_index = knn_graph(x, self.k, batch, loop=True)
            graphs.append(edge_index)
            x = conv(x, edge_index)
            outs.append(x)
        self.last_graphs = graphs
        h = self.emb(torch.cat(outs, dim=-1))
        return self.head(scatter(h, batch, dim_size=num_clouds, reduce="max"))


# ------------------------------------------------------------------ generated shapes
SHAPE_NAMES = ("sphere", "cube", "cylinder", "cone", "torus", "ellipsoid", "helix", "plane")


def _sample_shape(kind: int, m: int, g: torch.Generator) -> Tensor:
    u, v = torch.rand(m, generator=g), torch.rand(m, generator=g)
    t, p = 2 * math.pi * u, 2 * math.pi * v
    if kind in (0, 5):  # sphere / ellipsoid: uniform directions
        d = torch.randn(m, 3, generator=g)
        d = d / d.norm(dim=1, keepdim=True)
        return d if kind == 0 else d * torch.tensor([1.0, 0.6, 0.3])
    if kind == 1:  # cube surface: a point on a random face
        pts = torch.rand(m, 3, generator=g) * 2 - 1
        axis = torch.randint(0, 3, (m,), generator=g)
        pts[torch.arange(m), axis] = torch.randint(0, 2, (m,), generator=g).float() * 2 - 1
        return pts * 0.7
    if kind == 2:  # cylinder side
        return torch.stack([torch.cos(t), torch.sin(t), 2 * v - 1], 1) * torch.tensor([0.7, 0.7, 1.0])
    if kind == 3:  # cone side
        h = torch.sqrt(v)
        return torch.stack([h * torch.cos(t), h * torch.sin(t), 1 - 2 * h], 1)
    if kind == 4:  # torus
        return torch.stack([(1 + 0.4 * torch.cos(p)) * torch.cos(t), (1 + 0.4 * torch.cos(p)) * torch.sin(t), 0.4 * torch.sin(p)], 1) * 0.7
    if kind == 6:  # helix (a thick curve)
        s = 4 * math.pi * u
        return torch.stack([torch.cos(s), torch.sin(s), u * 2 - 1], 1) * 0.8 + 0.08 * torch.randn(m, 3, generator=g)
    return torch.stack([2 * u - 1, 2 * v - 1, torch.zeros(m)], 1)  # plane (square)


def _random_rotation(g: torch.Generator) -> Tensor:
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=g, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))
    if torch.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q.float()


def synthetic_shapes(
    num_per_class: int,
    num_points: int = 128,
    *,
    classes: Sequence[str] = SHAPE_NAMES,
    noise: float = 0.02,
    seed: int | None = 0,
) -> tuple[Tensor, Tensor]:
    """Point clouds sampled from parametric surfaces and curves (sphere, cube, cylinder, cone,
    torus, ellipsoid, helix, plane), each randomly rotated, scaled by a factor in [0.7, 1.3],
    centred and perturbed with Gaussian noise of standard deviation ``noise``: a classification
    task generated by code, in the spirit of ModelNet.

    Shapes:
        returns points ``(num_clouds, num_points, 3)`` and labels ``(num_clouds,)``, clouds in
        class order (shuffle before training).

    Introduced in: 5.4, :doc:`/book/05_models/05_4_3_latent_graphs`.
    """
    unknown = [c for c in classes if c not in SHAPE_NAMES]
    if unknown or not classes:
        raise ValueError(f"synthetic_shapes: classes must be a non-empty subset of {SHAPE_NAMES}, got {unknown or classes}")
    if num_per_class < 1 or num_points < 2:
        raise ValueError(f"synthetic_shapes: need num_per_class >= 1 and num_points >= 2, got {num_per_class}, {num_points}")
    g = torch.Generator()
    if seed is None:
        g.seed()  # fresh, non-reproducible draws
    else:
        g.manual_seed(seed)
    clouds, labels = [], []
    for label, name in enumerate(classes):
        kind = SHAPE_NAMES.index(name)
        for _ in range(num_per_class):
            pts = _sample_shape(kind, num_points, g) @ _random_rotation(g).T
            pts = pts * (0.7 + 0.6 * torch.rand(1, generator=g)) + noise * torch.randn(num_points, 3, generator=g)
            clouds.append(pts - pts.mean(0))
            labels.append(label)
    return torch.stack(clouds), torch.tensor(labels)
