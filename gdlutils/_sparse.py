"""The fast backend of the GNN layers (private): CSR sparse structures and sparse-dense products.

Everything here computes what :mod:`gdlutils.message_passing` computes in readable form (a
gather-scatter), only faster, and the tests check that both agree. Nothing here validates its
input: the layers validate ``edge_index`` once, at their entrance
(:func:`gdlutils.message_passing.check_graph`), and then call this module.

The layers use it through:

* :func:`gcn_operator` -- the normalised adjacency :math:`\\hat A` of GCN/SGC as a callable
  :math:`H \\mapsto \\hat A H` (built once; keep it for a fixed graph: ``cached=True``);
* :class:`CSRGraph` with :func:`sum_aggregate` / :func:`spmm` / :func:`segment_softmax_csr` --
  the CSR pattern of a graph and the aggregations on it (GIN, mean, attention);
* :func:`sparse_linear` -- :math:`XW` for sparse bag-of-words features.

Pieces: counting sorts (SciPy's private ``coo_tocsr``/``csr_tocsc``, falling back to a stable
sort if they move), sums as ``embedding_bag`` (FBGEMM), custom autograd functions so that a
whole aggregation is one node of the graph. Measured speeds are in ``benchmarks/README.md``.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gdlutils.graphs import _min_max
from gdlutils.message_passing import _gcn_norm

# ------------------------------------------------------------------ CSR structure
try:  # SciPy's COO -> CSR and CSR -> CSC conversions: counting sorts in C++, O(E + n), stable
    from scipy.sparse._sparsetools import coo_tocsr as _scipy_coo_tocsr
    from scipy.sparse._sparsetools import csr_tocsc as _scipy_csr_tocsc
except ImportError:  # pragma: no cover - the private module moved: use the sort below
    _scipy_coo_tocsr = _scipy_csr_tocsc = None


def _stable_argsort(keys: Tensor, key_max: int) -> Tensor:
    """``torch.argsort(keys, stable=True)`` for non-negative integer keys below ``key_max``.

    On the CPU, keys that fit in 16 bits go through NumPy's stable sort, which is a radix sort
    for 16-bit types (faster than ``torch.argsort``; see ``benchmarks/README.md``). Same result
    (tested)."""
    if keys.device.type == "cpu" and key_max <= 2**16:
        return torch.from_numpy(np.argsort(keys.numpy().astype(np.uint16), kind="stable"))
    # int32 keys sort about twice as fast as int64 ones
    return torch.argsort(keys.int() if key_max < 2**31 else keys, stable=True)


def _csr_struct(
    rows: Tensor, cols: Tensor, n_rows: int, checked: bool = False, n_cols: int | None = None, ids: bool = True
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Group the entries ``(rows[e], cols[e])`` by row: ``crow`` (row pointers, ``(n_rows + 1,)``),
    ``col = cols[order]`` and ``order``, the stable permutation that sorts ``rows``.

    Indices must lie in ``[0, n_rows)`` (checked by the callers). On the CPU this is SciPy's
    ``coo_tocsr``, a counting sort (:math:`O(E + n)`, against :math:`O(E \\log E)` for a
    comparison sort); indices are then int32, which ``torch.sparse_csr_tensor`` accepts.
    Elsewhere (GPU) a stable ``argsort``.

    ``ids=False``: the caller needs no ``order`` (an unweighted pattern), so the counting sort
    carries 1-byte placeholders instead of 4-byte edge ids (less memory traffic); ``order`` may
    then come back None."""
    global _scipy_coo_tocsr
    E = rows.numel()
    if rows.device.type == "cpu" and _scipy_coo_tocsr is not None and max(E, n_rows) < 2**31 - 1:
        r64, c64 = rows.numpy(), cols.numpy()
        n_cols = n_rows if n_cols is None else n_cols
        if E and not checked:
            # unless the caller says it has validated them (``checked``), keep the C++ loops (here
            # and in _transpose_struct) from writing out of bounds (a few % of the sort's time)
            (r_lo, r_hi), (c_lo, c_hi) = _min_max(rows), _min_max(cols)
            if r_lo < 0 or r_hi >= n_rows or c_lo < 0 or c_hi >= n_cols:
                raise ValueError(f"CSR indices must lie in [0, {n_rows}) x [0, {n_cols})")
        r, c = r64.astype(np.int32), c64.astype(np.int32)
        data = np.arange(E, dtype=np.int32) if ids else np.empty(E, np.int8)  # placeholders: never read back
        crow, col, order = np.empty(n_rows + 1, np.int32), np.empty(E, np.int32), np.empty(E, data.dtype)
        try:
            _scipy_coo_tocsr(n_rows, n_rows, E, r, c, data, crow, col, order)
            return torch.from_numpy(crow), torch.from_numpy(col), (torch.from_numpy(order) if ids else None)
        except (TypeError, ValueError):  # pragma: no cover - a SciPy whose private API changed
            _scipy_coo_tocsr = None
    order = _stable_argsort(rows, n_rows)
    return _row_pointers(rows, n_rows), cols[order], order


def _row_pointers(rows: Tensor, n_rows: int) -> Tensor:
    """CSR row pointers ``(n_rows + 1,)`` of entries with these row indices (any order)."""
    crow = torch.zeros(n_rows + 1, dtype=torch.long, device=rows.device)
    torch.cumsum(torch.bincount(rows, minlength=n_rows), 0, out=crow[1:])
    return crow


def _transpose_struct(
    crow: Tensor, col: Tensor, order: Tensor | None, rows: Tensor, cols: Tensor, n: int, ids: bool = True
) -> tuple[Tensor, Tensor, Tensor | None]:
    """The CSR structure of the transpose, ``(crow_t, col_t, order_t)`` with ``order_t`` the
    original edge ids, from the CSR structure ``(crow, col, order)`` of the pattern whose
    entries are ``(rows[e], cols[e])``. On the CPU SciPy's ``csr_tocsc`` reads the CSR arrays
    in order, cheaper than sorting ``cols`` afresh.
    Within a row of the transpose the entries may come in another order than
    ``_csr_struct(cols, rows, n)``'s (same matrix). ``ids=False``: no ``order_t`` needed (it
    may come back None), as for :func:`_csr_struct`."""
    global _scipy_csr_tocsc
    E = col.numel()
    if col.device.type == "cpu" and _scipy_csr_tocsc is not None and max(E, n) < 2**31 - 1:
        if not ids:
            data = np.empty(E, np.int8)  # placeholders
        else:
            data = np.arange(E, dtype=np.int32) if order is None else order.numpy().astype(np.int32, copy=False)
        crow_t, col_t, order_t = np.empty(n + 1, np.int32), np.empty(E, np.int32), np.empty(E, data.dtype)
        try:
            _scipy_csr_tocsc(n, n, crow.numpy().astype(np.int32, copy=False), col.numpy().astype(np.int32, copy=False),
                             data, crow_t, col_t, order_t)
            return torch.from_numpy(crow_t), torch.from_numpy(col_t), (torch.from_numpy(order_t) if ids else None)
        except (TypeError, ValueError):  # pragma: no cover - a SciPy whose private API changed
            _scipy_csr_tocsc = None
    return _csr_struct(cols, rows, n)


def _bag_sum(crow: Tensor, col: Tensor, x: Tensor, weight: Tensor | None = None) -> Tensor:
    """The CSR product :math:`Px`, :math:`(Px)_i = \\sum_{k=\\text{crow}_i}^{\\text{crow}_{i+1}-1} w_k\\,x_{\\text{col}_k}`,
    as ``torch.nn.functional.embedding_bag`` in sum mode: a bag per row, gathering rows of ``x``.
    On the CPU its kernel (FBGEMM) is faster and steadier than the MKL CSR product behind
    ``sparse_csr @ dense`` (figures in ``benchmarks/README.md``). ``x`` must be 2-D; ``weight`` (one per entry, in CSR order) optional."""
    return F.embedding_bag(col, x, crow[:-1], mode="sum", per_sample_weights=weight)


def _csr(crow: Tensor, col: Tensor, values: Tensor, n: int) -> Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
        size = (values.size(0), n, n) if values.dim() == 2 else (n, n)
        return torch.sparse_csr_tensor(crow, col, values, size, check_invariants=False)


_NOT_KEPT = object()  # CSRGraph built with edge_ids=False: the edge ids are computed on demand


class CSRGraph:
    """The sparsity pattern of ``edge_index`` as a CSR matrix whose rows are *targets*, so that
    a weighted aggregation :math:`\\mathbf h_i = \\sum_{j \\to i} w_{ji}\\mathbf x_j` is one sparse
    matrix product :math:`H = P X` with :math:`P_{ij} = w_{ji}`.

    Built with one counting sort of the targets (:math:`O(E + n)`, SciPy's ``coo_tocsr``); the
    transposed pattern needed by the backward pass (:math:`P^\\top`, rows = sources) is built on
    first use, or at once with ``transpose=True`` (cheaper: the edges are still in the cache --
    layers do so when a backward pass will follow). Edge weights stay in the original edge
    order, so one structure serves any weights (GCN's normalisation, GAT's attention
    coefficients). Keep the object to reuse it across calls on a fixed graph.

    ``edge_ids=False`` is for unweighted aggregation (:func:`sum_aggregate`: GIN, GCN without
    edge weights), which never needs to know which edge a CSR entry came from: the sorts then
    carry no edge ids; ``order`` is computed on demand if asked.

    ``edge_index`` must have been validated by the caller (the layers do it once, at their
    entrance, with :func:`gdlutils.message_passing.check_graph`): this is a private backend.
    ``CSRGraph.from_sorted(edge_index, n)`` skips the sort for an ``edge_index`` whose targets
    are already in non-decreasing order (see :meth:`sorted_edge_index`).

    Shapes:
        edge_index: ``(2, E)``.

    Introduced in: 5.3.
    """

    def __init__(
        self,
        edge_index: Tensor,
        num_nodes: int,
        _presorted: bool = False,
        *,
        transpose: bool = False,
        edge_ids: bool = True,
    ):
        self.edge_index = edge_index
        self.num_nodes = int(num_nodes)
        self.num_edges = edge_index.size(1)
        self._order: Tensor | None | object
        if _presorted:
            self.crow, self.col, self._order = _row_pointers(edge_index[1], self.num_nodes), edge_index[0], None
        else:
            self.crow, self.col, order = _csr_struct(edge_index[1], edge_index[0], self.num_nodes, checked=True, ids=edge_ids)
            self._order = _NOT_KEPT if order is None else order
        self._t: tuple[Tensor, Tensor] | None = None  # the transposed pattern (crow_t, col_t)
        self._order_t: Tensor | None | object = _NOT_KEPT
        self._batched: dict = {}
        if transpose:  # now, while the structure is in the cache (cheaper than in the backward pass)
            self._transposed_pattern()

    @classmethod
    def from_sorted(cls, edge_index: Tensor, num_nodes: int, *, transpose: bool = False) -> "CSRGraph":
        """A CSRGraph of an ``edge_index`` already sorted by target (no sort needed)."""
        return cls(edge_index, num_nodes, _presorted=True, transpose=transpose)

    @property
    def order(self) -> Tensor | None:
        """The stable permutation that sorts the edges by target, so that CSR entry ``k`` is
        edge ``order[k]`` (None when the edges were already sorted). For a graph built with
        ``edge_ids=False`` it is computed on first use, by sorting again."""
        if self._order is _NOT_KEPT:
            self._order = _csr_struct(self.edge_index[1], self.edge_index[0], self.num_nodes, checked=True)[2]
        return self._order  # type: ignore[return-value]

    def sorted_edge_index(self) -> Tensor:
        """The edges reordered by target (the CSR order)."""
        return self.edge_index if self.order is None else self.edge_index[:, self.order]

    def _transposed_pattern(self) -> tuple[Tensor, Tensor]:
        """``(crow_t, col_t)`` of :math:`P^\\top`, without the edge ids unless they are kept."""
        if self._t is None:
            keep_ids = self._order is not _NOT_KEPT
            crow_t, col_t, order_t = _transpose_struct(
                self.crow, self.col, self._order if keep_ids else None, self.edge_index[1], self.edge_index[0],
                self.num_nodes, ids=keep_ids,
            )
            self._t = (crow_t, col_t)
            if order_t is not None:
                self._order_t = order_t
        return self._t

    @property
    def transposed(self) -> tuple[Tensor, Tensor, Tensor]:
        """The CSR structure ``(crow_t, col_t, order_t)`` of :math:`P^\\top` (rows = sources),
        ``order_t`` the edge id of each of its entries."""
        crow_t, col_t = self._transposed_pattern()
        if self._order_t is _NOT_KEPT:  # built without edge ids: transpose again, with them
            crow_t, col_t, self._order_t = _transpose_struct(
                self.crow, self.col, self.order, self.edge_index[1], self.edge_index[0], self.num_nodes
            )
            self._t = (crow_t, col_t)
        return crow_t, col_t, self._order_t  # type: ignore[return-value]

    def _values(self, weight: Tensor | None, transpose: bool = False) -> Tensor:
        if weight is None:  # unweighted: all ones, in any order
            return torch.ones(self.num_edges, device=self.edge_index.device)
        order = self.transposed[2] if transpose else self.order
        return weight if order is None else weight[order]

    def matrix(self, weight: Tensor, transpose: bool = False) -> Tensor:
        """:math:`P` (or :math:`P^\\top`) as a ``torch.sparse_csr`` tensor with the given edge weights ``(E,)``."""
        crow, col, _ = self.transposed if transpose else (self.crow, self.col, self.order)
        return _csr(crow, col, self._values(weight, transpose), self.num_nodes)

    def batched_pattern(self, heads: int) -> tuple[Tensor, Tensor]:
        """``crow`` and ``col`` repeated ``heads`` times (batched CSR, one matrix per head)."""
        if heads not in self._batched:
            self._batched[heads] = (self.crow.expand(heads, -1).contiguous(), self.col.expand(heads, -1).contiguous())
        return self._batched[heads]


class _SpMM(torch.autograd.Function):
    """out = P(w) x, with gradients for x (P^T g) and w (<g_i, x_j> per edge, a sampled product)."""

    @staticmethod
    def forward(ctx, weight: Tensor, x: Tensor, graph: CSRGraph):
        ctx.graph = graph
        ctx.save_for_backward(weight, x)
        return _bag_sum(graph.crow, graph.col, x, graph._values(weight))

    @staticmethod
    def backward(ctx, grad: Tensor):
        weight, x = ctx.saved_tensors
        graph: CSRGraph = ctx.graph
        gw = gx = None
        if ctx.needs_input_grad[1]:
            crow_t, col_t, _ = graph.transposed
            gx = _bag_sum(crow_t, col_t, grad.contiguous(), graph._values(weight, transpose=True))
        if ctx.needs_input_grad[0]:
            s = torch.sparse.sampled_addmm(graph.matrix(weight), grad.contiguous(), x.t(), beta=0.0)
            gw = _unsort(s.values(), graph.order)
        return gw, gx, None


class _SumAggregate(torch.autograd.Function):
    """out = S (A + Lambda) S x for the 0/1 pattern A of the graph (rows = targets), self-term
    weights Lambda and an optional diagonal scaling S; gradient S (A^T + Lambda) S g for x and
    sum(g * S S x) for the self-term weights. One sparse product forward and one backward, and a
    single autograd node: at 10^4 edges the per-node overhead of autograd is a visible share."""

    @staticmethod
    def forward(ctx, x: Tensor, self_weight: Tensor | float, graph: CSRGraph, scale: Tensor | None):
        ctx.graph = graph
        ctx.save_for_backward(x, scale, self_weight if isinstance(self_weight, Tensor) else None)
        ctx.self_number = None if isinstance(self_weight, Tensor) else self_weight
        u = x if scale is None else x * scale
        out = _add_self(_bag_sum(graph.crow, graph.col, u), u, self_weight)
        return out if scale is None else out.mul_(scale)

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, scale, sw = ctx.saved_tensors
        graph: CSRGraph = ctx.graph
        self_weight = ctx.self_number if sw is None else sw
        gu = grad if scale is None else grad * scale
        gx = gw = None
        if ctx.needs_input_grad[0]:
            crow_t, col_t = graph._transposed_pattern()  # no edge ids needed: unweighted
            gx = _add_self(_bag_sum(crow_t, col_t, gu.contiguous()), gu, self_weight)
            if scale is not None:
                gx.mul_(scale)
        if ctx.needs_input_grad[1]:  # d out / d lambda_i = s_i u_i = s_i^2 x_i
            u = x if scale is None else x * scale
            gw = (gu * u).sum(-1, keepdim=True)
            if sw.numel() == 1:
                gw = gw.sum().reshape(sw.shape)
        return gx, gw, None, None


def _add_self(out: Tensor, u: Tensor, self_weight: Tensor | float) -> Tensor:
    """out += self_weight * u, in place (``out`` is a fresh product)."""
    if isinstance(self_weight, Tensor) and self_weight.numel() == 1 and self_weight.device.type == "cpu":
        self_weight = float(self_weight)
    if isinstance(self_weight, Tensor):
        return out.addcmul_(self_weight, u)
    return out if self_weight == 0.0 else out.add_(u, alpha=self_weight)


def _unsort(values: Tensor, order: Tensor | None) -> Tensor:
    if order is None:
        return values
    out = torch.empty_like(values)
    out[order] = values
    return out


class _MultiHeadSpMM(torch.autograd.Function):
    """out[:, h] = P(w[:, h]) z[:, h] for every head h; gradients for z and w."""

    @staticmethod
    def forward(ctx, weight: Tensor, z: Tensor, graph: CSRGraph):
        H = weight.size(1)
        zt = z.transpose(0, 1).contiguous()  # (H, n, C)
        w = graph._values(weight).t().contiguous()  # (H, E) in CSR order
        out = torch.stack([_csr(graph.crow, graph.col, w[h], graph.num_nodes) @ zt[h] for h in range(H)], dim=1)
        ctx.graph = graph
        ctx.save_for_backward(weight, w, zt)
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):
        weight, w, zt = ctx.saved_tensors
        graph: CSRGraph = ctx.graph
        H, n = w.size(0), graph.num_nodes
        gt = grad.transpose(0, 1).contiguous()  # (H, n, C)
        gw = gz = None
        if ctx.needs_input_grad[1]:
            crow_t, col_t, _ = graph.transposed
            wt = graph._values(weight, transpose=True).t().contiguous()
            gz = torch.stack([_csr(crow_t, col_t, wt[h], n) @ gt[h] for h in range(H)], dim=1)
        if ctx.needs_input_grad[0]:
            crow_b, col_b = graph.batched_pattern(H)
            s = torch.sparse.sampled_addmm(_csr(crow_b, col_b, w, n), gt, zt.transpose(1, 2), beta=0.0)
            gw = _unsort(s.values().t(), graph.order)
        return gw, gz, None


def spmm(graph: CSRGraph, weight: Tensor | None, x: Tensor) -> Tensor:
    """Fast weighted sum aggregation :math:`\\mathbf h_i = \\sum_{j \\to i} w_{ji}\\mathbf x_j`
    as one CSR sparse-dense product (differentiable in ``x`` and ``weight``).

    Equals ``propagate(x, edge_index, lambda xi, xj, w: w[:, None] * xj, edge_attr=w)``
    (tested). With a weight of shape ``(E, H)`` and ``x`` of shape ``(n, H, C)`` it runs one
    product per head (multi-head attention); the gradient of the weights is a *sampled*
    dense product :math:`(G X^\\top)_{ij}` evaluated only on the edges.

    Shapes:
        weight: ``(E,)`` or ``(E, H)`` (None: all ones); x: ``(n, F)`` or ``(n, H, C)``;
        returns the shape of ``x``.

    Introduced in: 5.3.
    """
    if x.size(0) != graph.num_nodes:
        raise ValueError(f"x has {x.size(0)} rows but the graph has {graph.num_nodes} nodes")
    if weight is None:  # plain sum: no weights to gather or differentiate
        return sum_aggregate(graph, x)
    if weight.size(0) != graph.num_edges:
        raise ValueError(f"weight must have one entry per edge ({graph.num_edges}), got shape {tuple(weight.shape)}")
    weight = weight.to(x.dtype)
    if weight.dim() == 1:
        if x.dim() == 1:
            return _SpMM.apply(weight, x[:, None], graph)[:, 0]
        shape = x.shape
        return _SpMM.apply(weight, x.reshape(shape[0], -1), graph).reshape(shape)
    if weight.dim() == 2 and x.dim() == 3 and x.size(1) == weight.size(1):
        return _MultiHeadSpMM.apply(weight, x, graph)
    raise ValueError(f"weight (E, H) needs x of shape (n, H, C); got weight {tuple(weight.shape)}, x {tuple(x.shape)}")


def sum_aggregate(
    graph: CSRGraph, x: Tensor, self_weight: float | Tensor = 0.0, scale: Tensor | None = None
) -> Tensor:
    """The unweighted neighbourhood sum with a self term and a symmetric diagonal scaling,

    .. math:: \\mathbf h_i = s_i\\Big(\\lambda_i s_i\\mathbf x_i + \\sum_{j \\to i} s_j\\mathbf x_j\\Big),
              \\qquad H = S(A + \\Lambda)SX,

    as one CSR product forward and one backward (a single autograd node). GIN's aggregation is
    ``self_weight = 1 + eps`` without scaling; GCN's renormalised :math:`\\hat A X` is
    ``self_weight = 1`` (the self-loops) with ``scale`` :math:`= \\tilde D^{-1/2}`. Equals
    :func:`propagate` with sum aggregation plus the self term (tested), and is differentiable in
    ``x`` and in a tensor ``self_weight`` (GIN's trainable :math:`\\varepsilon`); ``scale`` is
    treated as a constant.

    Shapes:
        x: ``(n,)``, ``(n, F)`` or ``(n, ...)``; self_weight: a number, ``(1,)`` or ``(n, 1)``;
        scale: ``(n, 1)`` or None; returns the shape of ``x``.

    Introduced in: 5.3.
    """
    if x.size(0) != graph.num_nodes:
        raise ValueError(f"x has {x.size(0)} rows but the graph has {graph.num_nodes} nodes")
    n = graph.num_nodes
    if isinstance(self_weight, Tensor) and self_weight.shape not in ((), (1,), (n, 1)):
        raise ValueError(f"self_weight must be a number or a tensor of shape (1,) or ({n}, 1), got {tuple(self_weight.shape)}")
    if scale is not None and scale.shape != (n, 1):
        raise ValueError(f"scale must have shape ({n}, 1), got {tuple(scale.shape)}")
    x2 = x if x.dim() == 2 else x.reshape(n, math.prod(x.shape[1:]))  # (n,) -> (n, 1); works for n = 0
    if isinstance(self_weight, Tensor) and self_weight.dtype != x.dtype:
        self_weight = self_weight.to(x.dtype)  # differentiable cast, so the gradient keeps its dtype
    if scale is not None:
        scale = scale.detach().to(x.dtype)
    out = _SumAggregate.apply(x2, self_weight, graph, scale)
    return out.reshape(x.shape) if x.dim() != 2 else out


# ------------------------------------------------------------------ attention on sorted segments
def segment_softmax_csr(scores: Tensor, graph: CSRGraph) -> Tensor:
    """:func:`gdlutils.message_passing.segment_softmax` for edges sorted by target (``graph``
    built with :meth:`CSRGraph.from_sorted`): the maximum and the sum run as
    ``torch.segment_reduce`` over contiguous segments instead of scatters (PyG's ``softmax``
    has the same ``ptr`` option). Same result (tested)."""
    ptr = graph.crow.long()
    dst = graph.edge_index[1]
    smax = torch.segment_reduce(scores.detach(), "max", offsets=ptr)  # (-inf for empty segments: unused)
    ex = (scores - smax.index_select(0, dst)).exp()
    denom = torch.segment_reduce(ex, "sum", offsets=ptr) + 1e-16
    return ex / denom.index_select(0, dst)


def attention_graph(edge_index: Tensor, num_nodes: int, add_self_loops: bool, transpose: bool) -> CSRGraph:
    """The CSR structure of GAT: self-loops removed and one per node added (if ``add_self_loops``),
    edges reordered by target so that attention coefficients come out in CSR order."""
    if add_self_loops:
        edge_index = edge_index[:, edge_index[0] != edge_index[1]]
        loop = torch.arange(num_nodes, device=edge_index.device)
        edge_index = torch.cat([edge_index, torch.stack([loop, loop])], dim=1)
    ei = CSRGraph(edge_index, num_nodes).sorted_edge_index()
    return CSRGraph.from_sorted(ei, num_nodes, transpose=transpose)


# ------------------------------------------------------------------ GCN's normalised adjacency
class LinearAggregation:
    """A linear aggregation :math:`H \\mapsto S\\big(P(w) + \\Lambda\\big)S H` on a CSR pattern,
    applied by calling it: edge weights ``weight`` (None: the 0/1 pattern), self-term weights
    ``self_weight`` and a diagonal ``scale`` (None: identity). GCN's :math:`\\hat A` is one."""

    def __init__(self, graph: CSRGraph, weight: Tensor | None = None, self_weight: float | Tensor = 0.0,
                 scale: Tensor | None = None):
        self.graph, self.weight, self.self_weight, self.scale = graph, weight, self_weight, scale
        self.num_nodes = graph.num_nodes

    def __call__(self, x: Tensor) -> Tensor:
        if self.weight is None:
            return sum_aggregate(self.graph, x, self.self_weight, self.scale)
        return spmm(self.graph, self.weight, x)


def gcn_operator(
    edge_index: Tensor,
    num_nodes: int,
    edge_weight: Tensor | None = None,
    *,
    improved: bool = False,
    add_self_loops: bool = True,
    normalize: bool = True,
    dtype: torch.dtype | None = None,
    transpose: bool = False,
) -> LinearAggregation:
    """:math:`\\hat A = \\tilde D^{-1/2}(A + \\lambda I)\\tilde D^{-1/2}` (as
    :func:`gdlutils.message_passing.gcn_norm`; :math:`A` itself without ``normalize``, as PyG)
    as a callable :math:`H \\mapsto \\hat A H`.

    Unweighted graphs (the common case) never materialise the normalised weights: :math:`\\hat A H`
    is two diagonal scalings around one product with the 0/1 pattern,
    :math:`S(A + \\Lambda)SH` with :math:`S = \\tilde D^{-1/2}` and :math:`\\Lambda` the loop
    weights (an existing loop keeps weight 1, as ``add_remaining_self_loops``), in one autograd
    node. ``transpose``: build the transposed pattern now (a backward pass will follow)."""
    dtype = dtype or torch.get_default_dtype()
    n = num_nodes
    if not normalize:
        w = edge_weight.to(dtype) if edge_weight is not None else None
        return LinearAggregation(CSRGraph(edge_index, n, transpose=transpose, edge_ids=w is not None), w)
    if edge_weight is not None or not add_self_loops:
        ei, w = _gcn_norm(edge_index, edge_weight, n, improved, add_self_loops, dtype)  # validated by the layer
        return LinearAggregation(CSRGraph(ei, n, transpose=transpose), w)
    fill = 1.0  # unweighted: every entry of A + I is 1, as gcn_norm (and PyG) without edge weights
    is_loop = edge_index[0] == edge_index[1]
    if bool(is_loop.any()):  # as add_remaining_self_loops: an existing (unit) loop is kept
        loop_w = torch.full((n, 1), fill, dtype=dtype, device=edge_index.device)
        loop_w[edge_index[0, is_loop]] = 1.0
        edge_index = edge_index[:, ~is_loop]
    else:
        loop_w = fill
    graph = CSRGraph(edge_index, n, transpose=transpose, edge_ids=False)
    deg = (graph.crow[1:] - graph.crow[:-1]).to(dtype).unsqueeze(-1) + loop_w  # >= 1: no division by zero
    return LinearAggregation(graph, None, loop_w, deg.rsqrt_())


# ------------------------------------------------------------------ sparse input features
class _SparseDenseMM(torch.autograd.Function):
    """X W for a sparse CSR X (no gradient for X), with the gradient X^T G of W from the
    transposed pattern built by one counting sort (cheaper than transposing X with torch)."""

    @staticmethod
    def forward(ctx, w: Tensor, x: Tensor):
        ctx.x = x
        return x @ w

    @staticmethod
    def backward(ctx, grad: Tensor):
        x = ctx.x
        crow_t, col_t, order = _transposed_pattern(x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            xt = torch.sparse_csr_tensor(crow_t, col_t, x.values().index_select(0, order), (x.size(1), x.size(0)),
                                         check_invariants=False)
        return xt @ grad, None


def _transposed_pattern(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``(crow_t, col_t, order)``: the CSR pattern of ``x.T`` and where its entries sit among ``x``'s
    stored values. Kept on ``x`` after the first call (a sparse feature matrix is fixed; only its
    pattern is kept, the values are read afresh)."""
    transposed = getattr(x, "_gdl_transposed_pattern", None)
    if transposed is None:
        crow, col = x.crow_indices(), x.col_indices()
        rows = torch.repeat_interleave(torch.arange(x.size(0), device=col.device), crow[1:] - crow[:-1])
        crow_t, col_t, order = _csr_struct(col.long(), rows, x.size(1), checked=True, n_cols=x.size(0))
        transposed = (crow_t, col_t, order.long())
        try:
            x._gdl_transposed_pattern = transposed
        except (AttributeError, RuntimeError):  # pragma: no cover - a tensor that takes no attributes
            pass
    return transposed


class _PerHeadSparseMM(torch.autograd.Function):
    """``out[:, h] = X_h W_h`` for CSR matrices ``X_h`` that share ``x``'s pattern and carry the
    values ``values[h]`` (no gradient for them): the transposed pattern for the gradients of the
    ``W_h`` is built once for all heads."""

    @staticmethod
    def forward(ctx, w: Tensor, x: Tensor, values: Tensor):
        ctx.x, ctx.values = x, values
        crow, col = x.crow_indices(), x.col_indices()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outs = [torch.sparse_csr_tensor(crow, col, values[h], x.shape, check_invariants=False) @ w[h]
                    for h in range(w.size(0))]
        return torch.stack(outs, dim=1)

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, values = ctx.x, ctx.values
        crow_t, col_t, order = _transposed_pattern(x)
        vt = values.index_select(1, order)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gw = [torch.sparse_csr_tensor(crow_t, col_t, vt[h], (x.size(1), x.size(0)), check_invariants=False) @ grad[:, h]
                  for h in range(vt.size(0))]
        return torch.stack(gw), None, None


def per_head_sparse_matmul(x: Tensor, values: Tensor, w: Tensor) -> Tensor:
    """``(n, H, C)``: head ``h`` multiplies the CSR matrix with ``x``'s pattern and the values
    ``values[h]`` by ``w[h]`` (``(H, F, C)``); the values get no gradient."""
    if x.layout != torch.sparse_csr:
        x = x.to_sparse_csr()
    return _PerHeadSparseMM.apply(w, x, values)


def is_sparse(x: Tensor) -> bool:
    """Is ``x`` a sparse (COO or CSR) tensor?"""
    return x.layout in (torch.sparse_coo, torch.sparse_csr)


def sparse_matmul(x: Tensor, w: Tensor) -> Tensor:
    """:math:`XW` for a sparse (COO or CSR) ``x`` and a dense ``w``."""
    if x.layout == torch.sparse_csr and not x.requires_grad:
        return _SparseDenseMM.apply(w, x)
    return torch.sparse.mm(x, w)


def sparse_linear(lin: nn.Linear, x: Tensor) -> Tensor:
    """``lin(x)`` for a sparse (COO or CSR) ``x``: :math:`XW^\\top + b`."""
    out = sparse_matmul(x, lin.weight.t())
    return out + lin.bias if lin.bias is not None else out
