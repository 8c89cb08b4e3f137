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

Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import torch

__all__ = [
    "check_edge_index",
    "num_nodes_of",
    "check_edge_weight",
    "degree",
    "weighted_degree",
    "adjacency",
    "laplacian",
    "random_permutation",
    "check_permutation",
    "permute_graph",
    "permute_dense",
    "graph_action",
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

    Shapes:
        edge_index: ``(2, E)`` (a NumPy array is accepted); returns ``(2, E)`` ``torch.long``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    if num_nodes is not None:
        num_nodes = _check_count(num_nodes, "num_nodes")
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


def _check_count(value: Any, name: str, minimum: int = 0) -> int:
    """``value`` as a Python int, refusing floats, bools and anything below ``minimum``."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__}); pass e.g. {name}=int({name})")
    value = int(value.__index__())
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def num_nodes_of(edge_index: torch.Tensor, num_nodes: int | None = None) -> int:
    """``num_nodes`` if given (checked to be a non-negative integer), else
    ``max(edge_index) + 1`` (0 for an empty graph).

    Shapes:
        edge_index: ``(2, E)`` (already validated by :func:`check_edge_index`).

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    if num_nodes is not None:
        return _check_count(num_nodes, "num_nodes")
    return _min_max(edge_index)[1] + 1 if edge_index.numel() > 0 else 0


def _weights(edge_index: torch.Tensor, edge_weight: torch.Tensor | None, dtype=None) -> torch.Tensor:
    E = edge_index.size(1)
    if edge_weight is None:
        return torch.ones(E, dtype=dtype or torch.get_default_dtype(), device=edge_index.device)
    return check_edge_weight(edge_weight, E).to(dtype) if dtype is not None else check_edge_weight(edge_weight, E)


def check_edge_weight(edge_weight: Any, num_edges: int, name: str = "edge_weight") -> torch.Tensor:
    """Validate per-edge weights: a real, finite tensor of shape ``(E,)`` (one weight per column
    of ``edge_index``). Returns it (integer weights are converted to the default float dtype).

    Shapes:
        edge_weight: ``(E,)``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    if isinstance(edge_weight, np.ndarray):
        edge_weight = torch.from_numpy(edge_weight)
    if not isinstance(edge_weight, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (E,) = ({num_edges},), got {type(edge_weight).__name__}")
    if edge_weight.shape != (num_edges,):
        raise ValueError(
            f"{name} must have shape (E,) = ({num_edges},), one weight per edge, got {tuple(edge_weight.shape)}"
        )
    if edge_weight.dtype.is_complex or edge_weight.dtype == torch.bool:
        raise TypeError(f"{name} must hold real numbers, got dtype {edge_weight.dtype}")
    if not edge_weight.dtype.is_floating_point:
        edge_weight = edge_weight.to(torch.get_default_dtype())
    if not bool(torch.isfinite(edge_weight).all()):
        raise ValueError(f"{name} holds NaN or infinite values; every edge weight must be finite")
    return edge_weight


def _prepare(edge_index, num_nodes, edge_weight, dtype=None):
    edge_index = check_edge_index(edge_index, num_nodes)
    n = num_nodes_of(edge_index, num_nodes)
    w = _weights(edge_index, edge_weight, dtype)
    if not w.dtype.is_floating_point:
        w = w.to(torch.get_default_dtype())
    return edge_index, n, w


# ------------------------------------------------------------------ matrices
def degree(index: torch.Tensor, num_nodes: int | None = None, dtype: torch.dtype | None = None) -> torch.Tensor:
    """How often each node occurs in ``index``, as PyTorch Geometric's ``degree``:
    :math:`d_i = |\\{e : \\text{index}_e = i\\}|`. ``degree(edge_index[1], n)`` is the in-degree,
    ``degree(edge_index[0], n)`` the out-degree (equal for an undirected graph).

    Shapes:
        index: ``(E,)``; returns ``(num_nodes,)`` of ``dtype`` (default: the default float dtype).

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    if isinstance(index, np.ndarray):
        index = torch.from_numpy(index)
    if not isinstance(index, torch.Tensor) or index.dim() != 1:
        raise ValueError(
            f"index must be a 1-D tensor of node indices, e.g. edge_index[1], got "
            f"{tuple(index.shape) if isinstance(index, torch.Tensor) else type(index).__name__}"
        )
    if index.dtype.is_floating_point or index.dtype.is_complex or index.dtype == torch.bool:
        raise TypeError(f"index must hold integers (node indices), got dtype {index.dtype}")
    index = index.long()
    n = num_nodes_of(index.view(1, -1), num_nodes)
    if index.numel() and (_min_max(index)[0] < 0 or _min_max(index)[1] >= n):
        raise ValueError(f"index holds values in [{_min_max(index)[0]}, {_min_max(index)[1]}] but must lie in [0, num_nodes = {n})")
    out = torch.zeros(n, dtype=dtype or torch.get_default_dtype(), device=index.device)
    return out.index_add_(0, index, torch.ones_like(index, dtype=out.dtype))


def weighted_degree(
    edge_index: torch.Tensor, num_nodes: int | None = None, edge_weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Weighted out-degree :math:`d_u = \\sum_v A_{uv}` (the row sums of :math:`A`; the
    :math:`D` of :func:`laplacian`). For an undirected graph (both directions listed) this is
    the usual degree. Unweighted, it equals ``degree(edge_index[0], num_nodes)``.

    Shapes:
        edge_index: ``(2, E)``; edge_weight: ``(E,)``; returns ``(n,)`` (float).

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
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

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
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

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
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
    """A uniformly random permutation of ``range(n)`` (an element of :math:`S_n`), as
    ``torch.randperm`` (whose ``generator`` argument it mirrors).

    Shapes:
        returns ``(n,)`` ``torch.long``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    n = _check_count(n, "n")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    return torch.randperm(n, generator=generator)


def check_permutation(perm: Any, num_nodes: int) -> torch.Tensor:
    """Validate ``perm`` as a permutation of ``range(num_nodes)`` (``perm[u]`` = :math:`\\pi(u)`)
    and return it as a ``torch.long`` tensor.

    Shapes:
        perm: ``(num_nodes,)``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    if isinstance(perm, (list, tuple, np.ndarray)):
        perm = torch.as_tensor(np.asarray(perm))
    if not isinstance(perm, torch.Tensor):
        raise TypeError(f"perm must be a torch.Tensor of shape ({num_nodes},) holding a permutation, got {type(perm).__name__}")
    if perm.dtype.is_floating_point or perm.dtype.is_complex or perm.dtype == torch.bool:
        raise TypeError(f"perm must hold integers (node indices), got dtype {perm.dtype}")
    if perm.shape != (num_nodes,):
        raise ValueError(
            f"perm must have shape (num_nodes,) = ({num_nodes},), got {tuple(perm.shape)}; "
            "it lists pi(u) for every node u"
        )
    perm = perm.long()
    seen = torch.zeros(num_nodes, dtype=torch.bool, device=perm.device)
    if num_nodes and (_min_max(perm)[0] < 0 or _min_max(perm)[1] >= num_nodes or not bool(seen.index_fill_(0, perm, True).all())):
        raise ValueError(
            f"perm is not a permutation of range({num_nodes}): every node 0..{num_nodes - 1} must appear "
            "exactly once (use graphs.random_permutation(num_nodes) or torch.randperm)"
        )
    return perm


def _inverse(perm: torch.Tensor) -> torch.Tensor:
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(perm.numel(), device=perm.device)
    return inv


def permute_graph(
    perm: torch.Tensor,
    x: torch.Tensor | None,
    edge_index: torch.Tensor | None,
    num_nodes: int | None = None,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The action of a permutation :math:`\\pi` on a graph given by an edge list: node :math:`u`
    becomes node :math:`\\pi(u)` (``perm[u]``). With the permutation matrix
    :math:`P_{\\pi(u), u} = 1`,

    .. math:: X \\mapsto PX,\\quad (PX)_{\\pi(u)} = X_u, \\qquad A \\mapsto PAP^\\top,\\quad
              (j \\to i) \\mapsto (\\pi(j) \\to \\pi(i)).

    The edge list keeps its order (so per-edge weights and features need no change); only the
    labels change, ``edge_index -> perm[edge_index]``. Either ``x`` or ``edge_index`` may be None.
    ``num_nodes`` defaults to ``x.size(0)``, else ``max(edge_index) + 1``.

    Shapes:
        perm: ``(n,)``; x: ``(n, ...)`` or None; edge_index: ``(2, E)`` or None; returns
        ``(x', edge_index')`` of the same shapes.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    if x is not None and not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor of shape (num_nodes, ...) or None, got {type(x).__name__}")
    if x is not None and x.dim() == 0:
        raise ValueError("x must have one row per node, got a scalar")
    if num_nodes is None and x is not None:
        num_nodes = x.size(0)
    elif num_nodes is not None and x is not None and x.size(0) != num_nodes:
        raise ValueError(f"x has {x.size(0)} rows but num_nodes = {num_nodes}; expected one row per node")
    if edge_index is not None:
        edge_index = check_edge_index(edge_index, num_nodes)
        num_nodes = num_nodes_of(edge_index, num_nodes)
    elif num_nodes is None:
        raise ValueError("permute_graph needs x or edge_index (or num_nodes) to know the number of nodes")
    perm = check_permutation(perm, num_nodes)
    px = None if x is None else x[_inverse(perm)]
    return px, (None if edge_index is None else perm[edge_index])


def permute_dense(perm: torch.Tensor, x: torch.Tensor | None, adjacency: torch.Tensor) -> tuple:
    """Dense form of :func:`permute_graph`: :math:`(X, A) \\mapsto (PX, PAP^\\top)` with
    :math:`P_{\\pi(u), u} = 1`, so :math:`(PAP^\\top)_{\\pi(u)\\pi(v)} = A_{uv}`.

    Shapes:
        perm: ``(n,)``; x: ``(n, ...)`` or None; adjacency: ``(n, n)``; returns
        ``(PX, PAP^T)`` of the same shapes.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    if not isinstance(adjacency, torch.Tensor):
        raise TypeError(f"adjacency must be a torch.Tensor of shape (n, n), got {type(adjacency).__name__}")
    if adjacency.dim() != 2 or adjacency.size(0) != adjacency.size(1):
        raise ValueError(f"adjacency must be a square (n, n) matrix, got shape {tuple(adjacency.shape)}")
    n = adjacency.size(0)
    if x is not None and (not isinstance(x, torch.Tensor) or x.dim() == 0 or x.size(0) != n):
        raise ValueError(
            f"x must be a tensor with one row per node ({n}, ...), got "
            f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}"
        )
    inv = _inverse(check_permutation(perm, n))
    return (None if x is None else x[inv]), adjacency[inv][:, inv]


def graph_action(perm: torch.Tensor, inputs: Any) -> Any:
    """The action of :math:`S_n` for :func:`gdlutils.groups.check_equivariance` on graphs given
    by edge lists: on a tuple ``(x, edge_index, *rest)`` it is :func:`permute_graph` (per-edge
    extras in ``rest`` unchanged, since the edge order is kept); on a tensor of node features
    (a layer's output) it is :math:`Y \\mapsto PY`. So one function serves as ``rho_in`` and
    ``rho_out``; for graph-level outputs use :func:`gdlutils.groups.check_invariance`.

    Shapes:
        perm: ``(n,)``; inputs: ``(x (n, ...), edge_index (2, E), ...)`` or ``(n, ...)``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
    """
    if isinstance(inputs, torch.Tensor):
        return permute_graph(perm, inputs, None)[0]
    if not isinstance(inputs, (tuple, list)) or len(inputs) < 2:
        raise TypeError("graph_action acts on a tuple (x, edge_index, *per_edge_extras) or on a tensor of node features")
    x, edge_index, *rest = inputs
    px, pe = permute_graph(perm, x, edge_index)
    return (px, pe, *rest)


def to_undirected(edge_index: torch.Tensor, num_nodes: int | None = None) -> torch.Tensor:
    """Add the reverse of every edge and drop duplicates (sorted by source, then target).

    Shapes: ``(2, E) -> (2, E')``. Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
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

    Shapes:
        edge_index: ``(2, E)``; edge_weight: ``(E,)``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
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

    Shapes:
        returns edge_index ``(2, E)``, edge_weight ``(E,)`` or None, and an int.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
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

    Shapes:
        edge_index: ``(2, E)``; x: ``(n, ...)``; edge_weight: ``(E,)``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    from torch_geometric.data import Data

    n = num_nodes if num_nodes is not None else (x.size(0) if x is not None else None)
    edge_index = check_edge_index(edge_index, n)
    return Data(x=x, edge_index=edge_index, edge_weight=edge_weight, num_nodes=num_nodes_of(edge_index, n), **attrs)


def from_pyg(data) -> tuple[torch.Tensor, torch.Tensor | None, int]:
    """``(edge_index, edge_weight, num_nodes)`` of a PyG ``Data`` (``edge_weight`` from the
    attribute ``edge_weight`` if present, else a 1-D ``edge_attr``, else None).

    Shapes:
        returns edge_index ``(2, E)``, edge_weight ``(E,)`` or None, and an int.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
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

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
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
    ``collections.Counter``.

    Shapes:
        colors: ``(n,)``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`."""
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

    Shapes:
        each graph's edge_index ``(2, E_k)`` and optional x ``(n_k, ...)``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
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

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    n = _check_count(n, "n")
    if n < 3:
        raise ValueError(f"a ring needs at least 3 nodes, got n = {n}")
    i = torch.arange(n)
    j = (i + 1) % n
    return torch.stack([torch.cat([i, j]), torch.cat([j, i])])


def grid_graph(height: int, width: int, periodic: bool = False) -> torch.Tensor:
    """The 4-neighbour grid graph on ``height x width`` nodes (node ``r * width + c``);
    ``periodic=True`` gives the torus. Undirected (both directions).

    Shapes:
        returns ``(2, E)`` with ``height * width`` nodes.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    height, width = _check_count(height, "height"), _check_count(width, "width")
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
    undirected.

    Shapes:
        returns ``(2, 2(n - 1))`` for the :math:`n` nodes of the tree.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    depth, branching = _check_count(depth, "depth"), _check_count(branching, "branching")
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
    seed: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """A stochastic block model: blocks of the given sizes, an edge inside a block with
    probability ``p_in`` and across blocks with ``p_out`` (undirected, no self-loops).

    With ``num_features > 0`` each node gets :math:`x_u = \\mu_{y_u} + \\sigma\\varepsilon_u`,
    with a random unit mean per block and Gaussian noise of scale ``feature_noise``. ``seed``
    fixes the draw (None: PyTorch's global generator).

    Returns:
        ``(edge_index, x, y)``: ``(2, E)``, ``(n, num_features)`` or None, block labels ``(n,)``.

    Shapes:
        returns edge_index ``(2, E)``, x ``(n, num_features)`` or None, y ``(n,)`` with :math:`n` = ``sum(sizes)``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    if not (0 <= p_in <= 1 and 0 <= p_out <= 1):  # also refuses NaN
        raise ValueError(f"probabilities must lie in [0, 1], got p_in={p_in}, p_out={p_out}")
    if isinstance(sizes, torch.Tensor) or not hasattr(sizes, "__len__") or len(sizes) == 0:
        raise ValueError(f"sizes must be a non-empty list of block sizes, got {sizes!r}")
    sizes = [_check_count(s, "each block size", 1) for s in sizes]
    num_features = _check_count(num_features, "num_features")
    if not math.isfinite(feature_noise) or feature_noise < 0:
        raise ValueError(f"feature_noise must be a finite number >= 0, got {feature_noise}")
    generator = None if seed is None else torch.Generator().manual_seed(_check_count(seed, "seed"))
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
