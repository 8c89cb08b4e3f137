"""Graphs as a geometric domain: adjacency and Laplacian matrices, permutations, conversions,
Weisfeiler–Lehman colour refinement and small synthetic graph generators.

A graph on :math:`n` nodes is given, as in PyTorch Geometric, by an ``edge_index`` of shape
``(2, E)``: column ``e`` is the directed edge ``edge_index[0, e] -> edge_index[1, e]``
(source, target). An undirected graph lists both directions. Optional ``edge_weight`` of shape
``(E,)`` gives the weight :math:`w_e` (default 1); repeated edges add up.

Matrices (all with self-loops kept as part of :math:`A`, duplicates summed):

.. math::

    A_{uv} = \\sum_{e:\\,(u,v)} w_e, \\qquad D = \\operatorname{diag}(A\\mathbf 1),\\qquad
    L = D - A,\\qquad L_\\text{sym} = I - D^{-1/2} A D^{-1/2},\\qquad
    L_\\text{rw} = I - D^{-1} A,

where :math:`D^{-1}` and :math:`D^{-1/2}` are taken as 0 on isolated nodes (so the normalised
Laplacians have a 1 on the diagonal of an isolated node, as in PyG; networkx puts a 0 there).

Introduced in: 4.1 (graphs and sets); used in 4.4, 5.3 and after.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import torch

__all__ = [
    "check_edge_index",
    "num_nodes_of",
    "degree",
    "adjacency",
    "laplacian",
    "random_permutation",
    "permute_graph",
    "permute_dense",
    "to_undirected",
    "to_networkx",
    "from_networkx",
    "to_pyg",
    "from_pyg",
    "wl_colors",
    "wl_histogram",
    "wl_test",
    "ring_graph",
    "grid_graph",
    "tree_graph",
    "sbm_graph",
]

Format = Literal["dense", "torch_sparse", "scipy"]
Normalization = Literal["sym", "rw"] | None


# ------------------------------------------------------------------ validation
def _min_max(t: torch.Tensor) -> tuple[int, int]:
    """``(min, max)`` of an integer tensor in one pass (NumPy on the CPU: 4x less overhead)."""
    if t.device.type == "cpu":
        a = t.numpy()
        return int(a.min()), int(a.max())
    lo, hi = torch.aminmax(t)
    return int(lo), int(hi)


def check_edge_index(edge_index: Any, num_nodes: int | None = None, *, note: str = "") -> torch.Tensor:
    """Validate ``edge_index`` and return it as a ``torch.long`` tensor of shape ``(2, E)``.

    The one validator of the PyG edge-list convention in gdlutils (the message-passing layers
    call it through :func:`gdlutils.message_passing.check_graph`). Raises ``TypeError`` /
    ``ValueError`` saying what was expected when the type, shape or dtype is wrong, or an index
    lies outside ``[0, num_nodes)``; ``note`` is added to the out-of-range message.

    Introduced in: 4.1.
    """
    if isinstance(edge_index, np.ndarray):
        edge_index = torch.from_numpy(edge_index)
    if not isinstance(edge_index, torch.Tensor):
        raise TypeError(
            f"edge_index must be a torch.Tensor of shape (2, E) holding node indices, got {type(edge_index).__name__}"
        )
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(
            f"edge_index must have shape (2, E) (row 0: sources, row 1: targets), got {tuple(edge_index.shape)}"
            + (" -- did you pass the transpose (E, 2)? use edge_index.t()" if edge_index.dim() == 2 and edge_index.size(1) == 2 else "")
        )
    if edge_index.dtype.is_floating_point or edge_index.dtype.is_complex or edge_index.dtype == torch.bool:
        raise TypeError(f"edge_index must hold integers (node indices, torch.long), got dtype {edge_index.dtype}")
    edge_index = edge_index.long()
    if edge_index.numel() > 0:
        lo, hi = _min_max(edge_index)
        if lo < 0:
            raise ValueError(f"edge_index holds a negative node index ({lo}); indices must lie in [0, num_nodes)")
        if num_nodes is not None and hi >= num_nodes:
            raise ValueError(
                f"edge_index refers to node {hi} but num_nodes = {num_nodes} (there are only {num_nodes} nodes"
                f"{'; ' + note if note else ''}); indices must lie in [0, {num_nodes})"
            )
    return edge_index


def num_nodes_of(edge_index: torch.Tensor, num_nodes: int | None = None) -> int:
    """``num_nodes`` if given, else ``max(edge_index) + 1`` (0 for an empty graph)."""
    if num_nodes is not None:
        if int(num_nodes) != num_nodes or num_nodes < 0:
            raise ValueError(f"num_nodes must be a non-negative integer, got {num_nodes!r}")
        return int(num_nodes)
    return int(edge_index.max()) + 1 if edge_index.numel() > 0 else 0


def _weights(edge_index: torch.Tensor, edge_weight: torch.Tensor | None, dtype=None) -> torch.Tensor:
    E = edge_index.size(1)
    if edge_weight is None:
        return torch.ones(E, dtype=dtype or torch.get_default_dtype(), device=edge_index.device)
    edge_weight = torch.as_tensor(edge_weight)
    if edge_weight.shape != (E,):
        raise ValueError(f"edge_weight must have shape (E,) = ({E},), got {tuple(edge_weight.shape)}")
    return edge_weight.to(dtype) if dtype is not None else edge_weight


def _prepare(edge_index, num_nodes, edge_weight, dtype=None):
    edge_index = check_edge_index(edge_index, num_nodes)
    n = num_nodes_of(edge_index, num_nodes)
    w = _weights(edge_index, edge_weight, dtype)
    if not w.dtype.is_floating_point:
        w = w.to(torch.get_default_dtype())
    return edge_index, n, w


# ------------------------------------------------------------------ matrices
def degree(
    edge_index: torch.Tensor, num_nodes: int | None = None, edge_weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Weighted out-degree :math:`d_u = \\sum_v A_{uv}` (the row sums of :math:`A`).

    For an undirected graph (both directions listed) this is the usual degree.

    Shapes:
        edge_index: ``(2, E)``; edge_weight: ``(E,)``; returns ``(n,)`` (float).

    Introduced in: 4.1.
    """
    edge_index, n, w = _prepare(edge_index, num_nodes, edge_weight)
    return torch.zeros(n, dtype=w.dtype, device=w.device).index_add_(0, edge_index[0], w)


def _coo(rows, cols, vals, n, format: Format):
    if format == "dense":
        out = torch.zeros(n, n, dtype=vals.dtype, device=vals.device)
        return out.index_put_((rows, cols), vals, accumulate=True)
    if format == "torch_sparse":
        return torch.sparse_coo_tensor(torch.stack([rows, cols]), vals, (n, n), check_invariants=False).coalesce()
    if format == "scipy":
        m = sp.coo_matrix(
            (vals.detach().cpu().numpy(), (rows.cpu().numpy(), cols.cpu().numpy())), shape=(n, n)
        ).tocsr()
        m.sum_duplicates()
        return m
    raise ValueError(f"format must be 'dense', 'torch_sparse' or 'scipy', got {format!r}")


def adjacency(
    edge_index: torch.Tensor,
    num_nodes: int | None = None,
    edge_weight: torch.Tensor | None = None,
    format: Format = "dense",
    dtype: torch.dtype | None = None,
):
    """Adjacency matrix :math:`A_{uv} = \\sum_{e: (u, v)} w_e` (row = source, column = target).

    Args:
        format: ``"dense"`` (torch tensor), ``"torch_sparse"`` (coalesced COO tensor) or
            ``"scipy"`` (``scipy.sparse.csr_matrix``).

    Shapes:
        edge_index: ``(2, E)``; edge_weight: ``(E,)``; returns ``(n, n)``.

    Introduced in: 4.1.
    """
    edge_index, n, w = _prepare(edge_index, num_nodes, edge_weight, dtype)
    return _coo(edge_index[0], edge_index[1], w, n, format)


def laplacian(
    edge_index: torch.Tensor,
    num_nodes: int | None = None,
    edge_weight: torch.Tensor | None = None,
    normalization: Normalization = None,
    format: Format = "dense",
    dtype: torch.dtype | None = None,
):
    """Graph Laplacian: combinatorial :math:`L = D - A` (``normalization=None``), symmetric
    normalised :math:`L_\\text{sym} = I - D^{-1/2}AD^{-1/2}` (``"sym"``) or random walk
    :math:`L_\\text{rw} = I - D^{-1}A` (``"rw"``), with :math:`D` the out-degrees.

    Self-loops are part of :math:`A` (they cancel in :math:`D - A`). For an undirected graph
    :math:`L` and :math:`L_\\text{sym}` are symmetric positive semi-definite, with eigenvalues
    in :math:`[0, 2]` for :math:`L_\\text{sym}`.

    Args:
        format: ``"dense"``, ``"torch_sparse"`` or ``"scipy"`` (see :func:`adjacency`).
        dtype: floating dtype of the result (default: that of ``edge_weight``, else float32).

    Shapes:
        edge_index: ``(2, E)``; edge_weight: ``(E,)``; returns ``(n, n)``.

    Introduced in: 4.1; its spectrum in 4.4.
    """
    if normalization not in (None, "sym", "rw"):
        raise ValueError(f"normalization must be None, 'sym' or 'rw', got {normalization!r}")
    edge_index, n, w = _prepare(edge_index, num_nodes, edge_weight, dtype)
    row, col = edge_index
    deg = torch.zeros(n, dtype=w.dtype, device=w.device).index_add_(0, row, w)
    loop = torch.arange(n, device=edge_index.device)
    if normalization is None:
        vals = torch.cat([-w, deg])
    else:
        if normalization == "sym":
            dis = deg.pow(-0.5)
            dis[torch.isinf(dis)] = 0
            off = -dis[row] * w * dis[col]
        else:
            di = deg.pow(-1.0)
            di[torch.isinf(di)] = 0
            off = -di[row] * w
        vals = torch.cat([off, torch.ones(n, dtype=w.dtype, device=w.device)])
    rows = torch.cat([row, loop])
    cols = torch.cat([col, loop])
    return _coo(rows, cols, vals, n, format)


# ------------------------------------------------------------------ permutations
def random_permutation(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A uniformly random permutation of ``range(n)`` (an element of :math:`S_n`)."""
    return torch.randperm(n, generator=generator)


def _check_perm(perm, n):
    perm = torch.as_tensor(perm).long()
    if perm.shape != (n,) or not torch.equal(torch.sort(perm).values, torch.arange(n, device=perm.device)):
        raise ValueError(f"perm must be a permutation of range({n}) with shape ({n},), got shape {tuple(perm.shape)}")
    return perm


def permute_graph(
    perm: torch.Tensor,
    edge_index: torch.Tensor,
    x: torch.Tensor | None = None,
    num_nodes: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Relabel the nodes of a graph: new node ``i`` is old node ``perm[i]``.

    In matrix form, with :math:`P` the permutation matrix :math:`P_{i,\\mathrm{perm}[i]} = 1`,
    features become :math:`PX` (``x[perm]``) and the adjacency :math:`PAP^\\top`. Edge order
    (hence ``edge_weight``) is unchanged.

    Shapes:
        perm: ``(n,)``; edge_index: ``(2, E)``; x: ``(n, ...)``; returns ``((2, E), (n, ...))``.

    Introduced in: 4.1.
    """
    edge_index = check_edge_index(edge_index, num_nodes)
    n = num_nodes_of(edge_index, num_nodes if num_nodes is not None else (x.size(0) if x is not None else None))
    perm = _check_perm(perm, n)
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(n, device=perm.device)
    return inv[edge_index], (x[perm] if x is not None else None)


def permute_dense(perm: torch.Tensor, x: torch.Tensor | None, a: torch.Tensor) -> tuple:
    """Dense form of :func:`permute_graph`: :math:`(X, A) \\mapsto (PX, PAP^\\top)`.

    Shapes:
        perm: ``(n,)``; x: ``(n, ...)`` or None; a: ``(n, n)``.

    Introduced in: 4.1.
    """
    if a.dim() != 2 or a.size(0) != a.size(1):
        raise ValueError(f"a must be a square (n, n) adjacency, got {tuple(a.shape)}")
    perm = _check_perm(perm, a.size(0))
    return (x[perm] if x is not None else None), a[perm][:, perm]


def to_undirected(edge_index: torch.Tensor, num_nodes: int | None = None) -> torch.Tensor:
    """Add the reverse of every edge and drop duplicates (sorted by source, then target).

    Shapes: ``(2, E) -> (2, E')``. Introduced in: 4.1.
    """
    edge_index = check_edge_index(edge_index, num_nodes)
    n = num_nodes_of(edge_index, num_nodes)
    both = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    key = torch.unique(both[0] * max(n, 1) + both[1])
    return torch.stack([key // max(n, 1), key % max(n, 1)])


# ------------------------------------------------------------------ conversions
def to_networkx(
    edge_index: torch.Tensor,
    num_nodes: int | None = None,
    edge_weight: torch.Tensor | None = None,
    directed: bool = False,
):
    """A networkx ``Graph`` (or ``DiGraph`` if ``directed``) on nodes ``0..n-1``; weights go to
    the edge attribute ``"weight"`` (for an undirected graph each pair appears once).

    Introduced in: 4.1.
    """
    import networkx as nx

    edge_index, n, w = _prepare(edge_index, num_nodes, edge_weight)
    G = nx.DiGraph() if directed else nx.Graph()
    G.add_nodes_from(range(n))
    ws = w.tolist()
    for (u, v), wt in zip(edge_index.t().tolist(), ws):
        if edge_weight is None:
            G.add_edge(u, v)
        else:
            G.add_edge(u, v, weight=wt)
    return G


def from_networkx(G, weight: str | None = "weight") -> tuple[torch.Tensor, torch.Tensor | None, int]:
    """``(edge_index, edge_weight, num_nodes)`` of a networkx graph, nodes numbered in
    ``G.nodes`` order. An undirected edge gives both directions (a self-loop once);
    ``edge_weight`` is None when no edge carries the attribute ``weight``.

    Introduced in: 4.1.
    """
    index = {u: i for i, u in enumerate(G.nodes)}
    src, dst, wts = [], [], []
    has_w = False
    for u, v, d in G.edges(data=True):
        wt = d.get(weight, 1.0) if weight else 1.0
        has_w |= bool(weight) and weight in d
        src.append(index[u]), dst.append(index[v]), wts.append(wt)
        if not G.is_directed() and u != v:
            src.append(index[v]), dst.append(index[u]), wts.append(wt)
    edge_index = torch.tensor([src, dst], dtype=torch.long).reshape(2, -1)
    return edge_index, (torch.tensor(wts, dtype=torch.get_default_dtype()) if has_w else None), len(index)


def to_pyg(
    edge_index: torch.Tensor,
    x: torch.Tensor | None = None,
    num_nodes: int | None = None,
    edge_weight: torch.Tensor | None = None,
    **attrs,
):
    """A ``torch_geometric.data.Data`` holding the graph (``edge_weight`` stored as
    ``edge_weight``; other keyword arguments, e.g. ``y``, stored as attributes).

    Introduced in: 4.1.
    """
    from torch_geometric.data import Data

    n = num_nodes if num_nodes is not None else (x.size(0) if x is not None else None)
    edge_index = check_edge_index(edge_index, n)
    return Data(x=x, edge_index=edge_index, edge_weight=edge_weight, num_nodes=num_nodes_of(edge_index, n), **attrs)


def from_pyg(data) -> tuple[torch.Tensor, torch.Tensor | None, int]:
    """``(edge_index, edge_weight, num_nodes)`` of a PyG ``Data`` (``edge_weight`` from the
    attribute ``edge_weight`` if present, else a 1-D ``edge_attr``, else None).

    Introduced in: 4.1.
    """
    w = getattr(data, "edge_weight", None)
    if w is None:
        ea = getattr(data, "edge_attr", None)
        w = ea if ea is not None and ea.dim() == 1 else None
    return data.edge_index, w, int(data.num_nodes)


def _as_graph(g) -> tuple[torch.Tensor, int, torch.Tensor | None]:
    """Accept (edge_index, num_nodes[, x]), a PyG Data or a networkx graph."""
    if isinstance(g, tuple):
        edge_index, n = g[0], g[1]
        x = g[2] if len(g) > 2 else None
        return check_edge_index(edge_index, n), int(n), x
    if hasattr(g, "edge_index"):
        return check_edge_index(g.edge_index, int(g.num_nodes)), int(g.num_nodes), getattr(g, "x", None)
    if hasattr(g, "nodes") and hasattr(g, "edges"):
        ei, _, n = from_networkx(g)
        return ei, n, None
    raise TypeError("a graph must be (edge_index, num_nodes[, x]), a torch_geometric Data or a networkx graph")


# ------------------------------------------------------------------ Weisfeiler-Lehman
_PALETTE: dict = {}


def _colour(palette: dict, key) -> int:
    c = palette.get(key)
    if c is None:
        c = palette[key] = len(palette)
    return c


def _wl_rounds(edge_index: torch.Tensor, n: int, x, iterations: int | None, palette: dict):
    """Yield the colouring after rounds 0, 1, 2, ... (stops when stable or after ``iterations``)."""
    if x is None:
        colors = [_colour(palette, ("init",))] * n
    else:
        x = torch.as_tensor(x)
        if x.size(0) != n:
            raise ValueError(f"x must have one row per node ({n}), got shape {tuple(x.shape)}")
        rows = x.reshape(n, -1).tolist()
        colors = [_colour(palette, ("init", tuple(r))) for r in rows]
    yield colors
    src, dst = edge_index.tolist()
    neigh: list[list[int]] = [[] for _ in range(n)]
    for s, d in zip(src, dst):
        neigh[d].append(s)  # messages flow source -> target
    t = 0
    num = len(set(colors))
    while iterations is None or t < iterations:
        new = [_colour(palette, (colors[i], tuple(sorted(colors[j] for j in neigh[i])))) for i in range(n)]
        t += 1
        new_num = len(set(new))
        colors = new
        yield colors
        if iterations is None and new_num == num:
            return
        num = new_num


def wl_colors(
    edge_index: torch.Tensor,
    num_nodes: int | None = None,
    x: torch.Tensor | None = None,
    iterations: int | None = None,
    palette: dict | None = None,
) -> torch.LongTensor:
    """1-WL (Weisfeiler–Lehman) colour refinement.

    Start from :math:`c^{(0)}_u` (one colour, or one per distinct row of ``x``) and repeat

    .. math:: c^{(t+1)}_u = \\operatorname{hash}\\big(c^{(t)}_u,\\ \\{\\!\\{c^{(t)}_v : v \\to u\\}\\!\\}\\big)

    (the multiset of the colours of the in-neighbours; both directions for undirected graphs)
    for ``iterations`` rounds, or, if ``iterations`` is None, until the partition into colour
    classes stops refining (the *stable colouring*, reached after at most :math:`n` rounds).

    The hash is a dictionary ``palette`` (default: one shared by the whole process) mapping each
    signature to an integer, so colours are *canonical*: the same signature gets the same
    colour in every graph. Two graphs refined for the same number of rounds can therefore be
    compared by their colour histograms (:func:`wl_histogram`); to test two graphs on their
    stable colourings use :func:`wl_test`, which refines their disjoint union.

    Shapes:
        edge_index: ``(2, E)``; x: ``(n, ...)`` optional; returns ``(n,)`` ``torch.long``.

    Introduced in: 4.1; expressive power of GNNs in 5.3.
    """
    edge_index = check_edge_index(edge_index, num_nodes)
    n = num_nodes_of(edge_index, num_nodes if num_nodes is not None else (len(x) if x is not None else None))
    if iterations is not None and (int(iterations) != iterations or iterations < 0):
        raise ValueError(f"iterations must be a non-negative integer or None, got {iterations!r}")
    pal = _PALETTE if palette is None else palette
    colors = None
    for colors in _wl_rounds(edge_index, n, x, iterations, pal):
        pass
    return torch.tensor(colors, dtype=torch.long)


def wl_histogram(colors: torch.Tensor) -> dict[int, int]:
    """The colour histogram ``{colour: count}`` of a colouring (the 1-WL graph invariant), as a
    ``collections.Counter``. Introduced in: 4.1."""
    return Counter(torch.as_tensor(colors).tolist())


def wl_test(graph1, graph2, iterations: int | None = None) -> bool:
    """Does 1-WL distinguish two graphs? ``True`` means the graphs are certainly *not*
    isomorphic; ``False`` means 1-WL cannot tell them apart (they may or may not be).

    Both graphs are refined together as one disjoint union, round by round, until the joint
    partition is stable (or for ``iterations`` rounds); they are distinguished as soon as their
    colour histograms differ. Node features ``x`` (if given) set the initial colours.

    Args:
        graph1, graph2: each a tuple ``(edge_index, num_nodes)`` or
            ``(edge_index, num_nodes, x)``, a PyG ``Data``, or a networkx graph.

    Introduced in: 4.1; used in 5.3.
    """
    e1, n1, x1 = _as_graph(graph1)
    e2, n2, x2 = _as_graph(graph2)
    if n1 != n2:
        return True
    if (x1 is None) != (x2 is None):
        raise ValueError("give node features x for both graphs or for neither")
    ei = torch.cat([e1, e2 + n1], dim=1)
    x = None if x1 is None else torch.cat([torch.as_tensor(x1).reshape(n1, -1), torch.as_tensor(x2).reshape(n2, -1)])
    for colors in _wl_rounds(ei, n1 + n2, x, iterations, {}):
        if Counter(colors[:n1]) != Counter(colors[n1:]):
            return True
    return False


# ------------------------------------------------------------------ generators
def ring_graph(n: int) -> torch.Tensor:
    """The cycle :math:`C_n` (undirected, both directions). Shapes: returns ``(2, 2n)``.

    Introduced in: 4.1 (its Laplacian is the circulant of 4.2).
    """
    if n < 3:
        raise ValueError(f"a ring needs at least 3 nodes, got {n}")
    i = torch.arange(n)
    j = (i + 1) % n
    return torch.stack([torch.cat([i, j]), torch.cat([j, i])])


def grid_graph(height: int, width: int, periodic: bool = False) -> torch.Tensor:
    """The 4-neighbour grid graph on ``height x width`` nodes (node ``r * width + c``);
    ``periodic=True`` gives the torus. Undirected (both directions).

    Introduced in: 4.1 (a grid is a graph with a fixed neighbourhood ordering, 4.2).
    """
    if height < 1 or width < 1:
        raise ValueError(f"grid sides must be positive, got {height} x {width}")
    idx = torch.arange(height * width).reshape(height, width)
    pairs = []
    if periodic:
        if width > 2:
            pairs.append((idx, torch.roll(idx, -1, 1)))
        if height > 2:
            pairs.append((idx, torch.roll(idx, -1, 0)))
    else:
        pairs.append((idx[:, :-1], idx[:, 1:]))
        pairs.append((idx[:-1, :], idx[1:, :]))
    src = torch.cat([a.reshape(-1) for a, _ in pairs]) if pairs else torch.zeros(0, dtype=torch.long)
    dst = torch.cat([b.reshape(-1) for _, b in pairs]) if pairs else torch.zeros(0, dtype=torch.long)
    return torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])


def tree_graph(depth: int, branching: int = 2) -> torch.Tensor:
    """The complete ``branching``-ary tree of the given depth (root 0, breadth-first numbering),
    undirected. Introduced in: 4.1.
    """
    if depth < 0 or branching < 1:
        raise ValueError(f"need depth >= 0 and branching >= 1, got {depth}, {branching}")
    n = sum(branching**d for d in range(depth + 1))
    child = torch.arange(1, n)
    parent = (child - 1) // branching
    return torch.stack([torch.cat([parent, child]), torch.cat([child, parent])])


def sbm_graph(
    sizes: list[int],
    p_in: float,
    p_out: float,
    num_features: int = 0,
    feature_noise: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """A stochastic block model: blocks of the given sizes, an edge inside a block with
    probability ``p_in`` and across blocks with ``p_out`` (undirected, no self-loops).

    With ``num_features > 0`` each node gets :math:`x_u = \\mu_{y_u} + \\sigma\\varepsilon_u`,
    with a random unit mean per block and Gaussian noise of scale ``feature_noise``.

    Returns:
        ``(edge_index, x, y)``: ``(2, E)``, ``(n, num_features)`` or None, block labels ``(n,)``.

    Introduced in: 4.1; node classification in 5.3.
    """
    if not (0 <= p_in <= 1 and 0 <= p_out <= 1):
        raise ValueError(f"probabilities must lie in [0, 1], got p_in={p_in}, p_out={p_out}")
    y = torch.cat([torch.full((s,), b, dtype=torch.long) for b, s in enumerate(sizes)])
    n = len(y)
    iu = torch.triu_indices(n, n, offset=1)
    p = torch.where(y[iu[0]] == y[iu[1]], torch.tensor(p_in), torch.tensor(p_out))
    keep = torch.rand(p.shape, generator=generator) < p
    src, dst = iu[0][keep], iu[1][keep]
    edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
    x = None
    if num_features > 0:
        mu = torch.randn(len(sizes), num_features, generator=generator)
        mu = mu / mu.norm(dim=1, keepdim=True)
        x = mu[y] + feature_noise * torch.randn(n, num_features, generator=generator) / num_features**0.5
    return edge_index, x, y
