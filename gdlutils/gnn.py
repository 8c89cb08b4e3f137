"""Graph neural network layers and models: the convolutional, attentional and message-passing
flavours of permutation-equivariant layers, plus the training helpers of chapter 5.3.

Every layer is a function :math:`F(X, A)` with :math:`F(PX, PAP^\\top) = PF(X, A)` for every
permutation matrix :math:`P`, built from *local* aggregations over the neighbours
:math:`\\mathcal N_i = \\{j : j \\to i\\}` of each node:

* convolutional (GCN, SGC, ChebNet): :math:`\\mathbf h_i = \\phi\\big(\\mathbf x_i, \\sum_j c_{ij}\\psi(\\mathbf x_j)\\big)` with fixed :math:`c_{ij}`;
* attentional (GAT): the same with learned :math:`c_{ij} = a(\\mathbf x_i, \\mathbf x_j)`;
* message passing (GIN, MPNN): :math:`\\mathbf h_i = \\phi\\big(\\mathbf x_i, \\bigoplus_j \\psi(\\mathbf x_i, \\mathbf x_j, \\mathbf e_{ij})\\big)`.

Each layer computes its aggregation in two ways that the tests show agree: the generic
gather-scatter core of :mod:`gdlutils.message_passing` (``fast=False``, the readable
reference) and, where the aggregation is linear in the node features, one CSR sparse-dense
product (``fast=True``, the default). Parameter names follow PyTorch Geometric, so
``ours.load_state_dict(pyg_layer.state_dict())`` gives the same outputs.

Introduced in: 5.3 (graph neural networks).
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Literal, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gdlutils.message_passing import (
    CSRGraph,
    _csr_struct,
    add_self_loops,
    check_graph,
    gcn_norm,
    propagate,
    remove_self_loops,
    scatter,
    segment_softmax,
    spmm,
    sum_aggregate,
)
from gdlutils.spectral import ChebConv
from gdlutils.training import accuracy as _accuracy
from gdlutils.utils import reset_submodules

__all__ = [
    "GCNConv",
    "SGConv",
    "ChebConv",
    "GATConv",
    "GINConv",
    "MPNNConv",
    "MeanConv",
    "mlp",
    "GCN",
    "GAT",
    "GraphClassifier",
    "sparse_features",
    "dropout",
    "sparse_dropout",
    "batch_graphs",
    "global_pool",
    "triangle_counts",
    "NodeClassificationResult",
    "train_node_classifier",
    "accuracy",
]


# ------------------------------------------------------------------ helpers
def _is_sparse(x: Tensor) -> bool:
    return x.layout in (torch.sparse_coo, torch.sparse_csr)


_TRANSPOSE_CACHE: dict = {}


def _transposed_pattern(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """CSR pattern of x^T and the permutation of x's stored values into it, cached per pattern
    (sparse dropout changes the values, never the pattern)."""
    crow, col = x.crow_indices(), x.col_indices()
    key = (crow.data_ptr(), col.data_ptr(), col.numel(), tuple(x.shape))
    hit = _TRANSPOSE_CACHE.get(key)
    if hit is not None:
        return hit[1]
    rows = torch.repeat_interleave(torch.arange(x.size(0), device=col.device), crow[1:] - crow[:-1])
    pattern = _csr_struct(col.long(), rows, x.size(1), n_cols=x.size(0))  # rows of x^T = columns of x
    if len(_TRANSPOSE_CACHE) > 8:
        _TRANSPOSE_CACHE.clear()
    _TRANSPOSE_CACHE[key] = (col, pattern)
    return pattern


class _SparseDenseMM(torch.autograd.Function):
    """X W for a sparse CSR X (no gradient for X), with the gradient X^T G of W computed from a
    cached transposed pattern instead of transposing X at every step."""

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
            xt = torch.sparse_csr_tensor(crow_t, col_t, x.values()[order], (x.size(1), x.size(0)), check_invariants=False)
        return xt @ grad, None


def _linear(lin: nn.Linear, x: Tensor) -> Tensor:
    """``lin(x)`` that also accepts a sparse (COO or CSR) ``x``."""
    if _is_sparse(x):
        if x.layout == torch.sparse_csr and not x.requires_grad:
            out = _SparseDenseMM.apply(lin.weight.t(), x)
        else:
            out = torch.sparse.mm(x, lin.weight.t())
        return out + lin.bias if lin.bias is not None else out
    return lin(x)


def _backward_follows(*tensors: Tensor) -> bool:
    """Will a backward pass run through an operation on these tensors?"""
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def _check_x(x: Tensor, in_channels: int, name: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: x must be a torch.Tensor of shape (n, {in_channels}), got {type(x).__name__}")
    if x.dim() != 2 or x.size(1) != in_channels:
        raise ValueError(f"{name}: x must have shape (n, {in_channels}), got {tuple(x.shape)}")


def _glorot(t: Tensor) -> None:
    # PyG's glorot for attention vectors: U(-a, a), a = sqrt(6 / (fan_in + fan_out)) on the last two dims
    a = math.sqrt(6.0 / (t.size(-2) + t.size(-1)))
    with torch.no_grad():
        t.uniform_(-a, a)


def sparse_features(x: Tensor, normalize: bool = True) -> Tensor:
    """Bag-of-words features as a sparse CSR matrix, optionally row-normalised
    (:math:`x_i / \\sum_k x_{ik}`, rows of zeros left as zeros: PyG's ``NormalizeFeatures``).

    Citation-graph features are > 98 % zeros; a sparse first layer costs :math:`O(\\text{nnz}\\,F')`
    instead of :math:`O(nFF')`.

    Shapes: x ``(n, F)``; returns a sparse CSR ``(n, F)``. Introduced in: 5.3.
    """
    if x.dim() != 2:
        raise ValueError(f"x must be a (n, F) matrix, got shape {tuple(x.shape)}")
    if normalize:
        s = x.sum(-1, keepdim=True)
        x = x / s.clamp(min=1e-12) * (s != 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
        return x.to_sparse_csr()


def dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Inverted dropout, :math:`x \\odot m / (1-p)` with :math:`m_k \\sim \\text{Bernoulli}(1-p)`: the
    same distribution as ``torch.nn.functional.dropout``, drawn with ``torch.rand`` (several times
    faster than ``bernoulli_`` on CPU).

    Shapes: x any; returns the same shape. Introduced in: 5.3.
    """
    if not training or p == 0.0:
        return x
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    return x * (torch.rand_like(x) >= p) * (1.0 / (1.0 - p))


def sparse_dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Dropout of the stored entries of a sparse matrix (kept ones scaled by :math:`1/(1-p)`),
    which equals dense dropout on the non-zeros (zeros stay zero either way).

    Shapes: x sparse CSR/COO or dense ``(n, F)``; returns the same layout. Introduced in: 5.3.
    """
    if not training or p == 0.0:
        return x
    if not _is_sparse(x):
        return dropout(x, p, training)
    if x.layout == torch.sparse_csr:
        vals = dropout(x.values(), p, True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.sparse_csr_tensor(x.crow_indices(), x.col_indices(), vals, x.shape, check_invariants=False)
    x = x.coalesce()
    return torch.sparse_coo_tensor(x.indices(), dropout(x.values(), p, True), x.shape, is_coalesced=True)


def mlp(sizes: Sequence[int], batch_norm: bool = False) -> nn.Sequential:
    """A multilayer perceptron ``Linear -> [BatchNorm] -> ReLU -> ... -> Linear``.

    Introduced in: 5.3.
    """
    if len(sizes) < 2:
        raise ValueError(f"mlp needs at least an input and an output size, got {list(sizes)}")
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


# ------------------------------------------------------------------ convolutional flavour
class GCNConv(nn.Module):
    """Graph convolution of Kipf and Welling {cite}`kipf2017semi`:

    .. math:: X' = \\hat A X W + b,\\qquad \\hat A = \\tilde D^{-1/2}(A + I)\\tilde D^{-1/2},

    i.e. :math:`\\mathbf x'_i = \\sum_{j \\in \\mathcal N_i \\cup \\{i\\}} \\frac{w_{ji}}{\\sqrt{\\tilde d_i \\tilde d_j}} W^\\top\\mathbf x_j + b`
    (see :func:`gdlutils.message_passing.gcn_norm`). The aggregation is linear, so the fast path
    is one CSR product :math:`\\hat A (XW)`.

    Args:
        in_channels, out_channels: :math:`F`, :math:`F'`.
        improved: use :math:`A + 2I` (PyG's ``GCNConv`` does so only when ``edge_weight`` is
            given; here it always does).
        cached: build :math:`\\hat A` on the first call and reuse it (fixed graph only).
        add_self_loops, normalize: as in PyG (without normalisation :math:`\\hat A = A`).
        fast: CSR fast path (True) or the generic scatter core (False).

    Shapes:
        x: ``(n, F)`` dense or sparse; edge_index: ``(2, E)``; edge_weight: ``(E,)``;
        returns ``(n, F')``.

    Introduced in: 5.3.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        improved: bool = False,
        cached: bool = False,
        add_self_loops: bool = True,
        normalize: bool = True,
        bias: bool = True,
        fast: bool = True,
    ):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.improved, self.cached, self.add_self_loops, self.normalize, self.fast = improved, cached, add_self_loops, normalize, fast
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self._cache: tuple | None = None
        self._scaled_cache: tuple | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot weights, zero bias (as PyG); clears the cache."""
        nn.init.xavier_uniform_(self.lin.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self._cache = self._scaled_cache = None

    def _operator(self, edge_index: Tensor, n: int, edge_weight: Tensor | None, dtype) -> tuple:
        if self.cached and self._cache is not None:
            if self._cache[2] != n:
                raise ValueError(f"cached operator has {self._cache[2]} nodes but x has {n} rows; use cached=False")
            return self._cache
        if self.normalize:
            ei, w = gcn_norm(edge_index, n, edge_weight, self.add_self_loops, self.improved, dtype)
        else:
            ei, w = edge_index, (edge_weight if edge_weight is not None else torch.ones(edge_index.size(1), dtype=dtype))
            if self.add_self_loops:
                ei, w = add_self_loops(ei, n, w, 2.0 if self.improved else 1.0)
        op = (ei, w, n, CSRGraph(ei, n, validate=False) if self.fast else None)
        if self.cached:
            self._cache = op
        return op

    def _scaled_operator(self, edge_index: Tensor, n: int, dtype) -> tuple:
        r"""For an unweighted graph: the 0/1 pattern of :math:`A` without its self-loops, the
        loop weights :math:`\lambda_i` (1 where a loop existed, else 1 or 2) and
        :math:`\tilde D^{-1/2}`, so that :math:`\hat A = \tilde D^{-1/2}(A + \Lambda)\tilde D^{-1/2}`."""
        if self.cached and self._scaled_cache is not None:
            if self._scaled_cache[0] != n:
                raise ValueError(f"cached operator has {self._scaled_cache[0]} nodes but x has {n} rows; use cached=False")
            return self._scaled_cache[1:]
        src, dst = edge_index[0], edge_index[1]
        fill = 2.0 if self.improved else 1.0
        is_loop = src == dst
        if bool(is_loop.any()):  # as add_remaining_self_loops: an existing (unit) loop is kept
            loop_w = torch.full((n, 1), fill, dtype=dtype, device=edge_index.device)
            loop_w[src[is_loop]] = 1.0
            edge_index = edge_index[:, ~is_loop]
        else:
            loop_w = fill
        graph = CSRGraph(edge_index, n, validate=False, transpose=_backward_follows(self.lin.weight), edge_ids=False)
        deg = (graph.crow[1:] - graph.crow[:-1]).to(dtype).unsqueeze(-1) + loop_w  # >= 1: no division by zero
        op = (graph, loop_w, deg.rsqrt_())
        if self.cached:
            self._scaled_cache = (n, *op)
        return op

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        _check_x(x, self.in_channels, "GCNConv")
        edge_index, n = check_graph(x, edge_index)
        if self.fast and edge_weight is None and self.normalize and self.add_self_loops:
            # unweighted fast path: the normalisation is two diagonal scalings around one
            # unweighted CSR product, D^-1/2 (A + L) D^-1/2 H, in one autograd node
            graph, loop_w, s = self._scaled_operator(edge_index, n, x.dtype)
            out = sum_aggregate(graph, _linear(self.lin, x), loop_w, s)
            return out + self.bias if self.bias is not None else out
        ei, w, n, graph = self._operator(edge_index, n, edge_weight, x.dtype)
        h = _linear(self.lin, x)
        if self.fast:
            out = spmm(graph, w, h)
        else:
            out = propagate(h, ei, lambda xi, xj, e: e.unsqueeze(-1) * xj, "sum", edge_attr=w)
        return out + self.bias if self.bias is not None else out

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, cached={self.cached}, fast={self.fast}"


class SGConv(nn.Module):
    """Simplified graph convolution (SGC) of Wu et al. {cite}`wu2019simplifying`: :math:`K`
    propagation steps without nonlinearity, then one linear map,

    .. math:: X' = \\hat A^K X W + b .

    With ``cached=True`` the features :math:`\\hat A^K X` are computed once (as PyG), so
    training is logistic regression on precomputed features.

    Shapes:
        x: ``(n, F)``; edge_index: ``(2, E)``; edge_weight: ``(E,)``; returns ``(n, F')``.

    Introduced in: 5.3.
    """

    def __init__(
        self, in_channels: int, out_channels: int, K: int = 1, cached: bool = False,
        add_self_loops: bool = True, bias: bool = True, fast: bool = True,
    ):
        super().__init__()
        if int(K) != K or K < 0:
            raise ValueError(f"K must be a non-negative integer, got {K!r}")
        self.in_channels, self.out_channels, self.K = in_channels, out_channels, int(K)
        self.cached, self.add_self_loops, self.fast = cached, add_self_loops, fast
        self.lin = nn.Linear(in_channels, out_channels, bias=bias)
        self._cache: Tensor | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default ``Linear`` initialisation (as PyG's ``SGConv``); clears the cache."""
        self.lin.reset_parameters()
        self._cache = None

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        _check_x(x, self.in_channels, "SGConv")
        edge_index, n = check_graph(x, edge_index)
        if self.cached and self._cache is not None:
            if self._cache.size(0) != n:
                raise ValueError(f"cached features have {self._cache.size(0)} rows but x has {n}; use cached=False")
            h = self._cache
        else:
            if _is_sparse(x):
                x = x.to_dense()
            ei, w = gcn_norm(edge_index, n, edge_weight, self.add_self_loops, False, x.dtype)
            graph = CSRGraph(ei, n, validate=False) if self.fast else None
            h = x
            for _ in range(self.K):
                h = spmm(graph, w, h) if self.fast else propagate(h, ei, lambda xi, xj, e: e.unsqueeze(-1) * xj, "sum", edge_attr=w)
            if self.cached:
                self._cache = h.detach()
        return self.lin(h)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, K={self.K}, cached={self.cached}"


# ------------------------------------------------------------------ attentional flavour
class GATConv(nn.Module):
    """Graph attention layer of Veličković et al. {cite}`velickovic2018graph`, multi-head:

    .. math::

        \\mathbf z_j = W\\mathbf x_j \\in \\R^{H\\times C},\\qquad
        e^h_{ij} = \\operatorname{LeakyReLU}\\big(\\mathbf a_{\\text{dst}}^{h\\top}\\mathbf z^h_i + \\mathbf a_{\\text{src}}^{h\\top}\\mathbf z^h_j\\big),\\qquad
        \\alpha^h_{ij} = \\operatorname{softmax}_{j \\in \\mathcal N_i \\cup\\{i\\}} e^h_{ij},

    .. math:: \\mathbf x'_i = \\big\\Vert_{h=1}^H \\sum_{j} \\alpha^h_{ij}\\mathbf z^h_j + b
              \\quad(\\text{or the mean over heads if } \\texttt{concat=False}).

    Self-loops are removed then one per node is added (as PyG). Once :math:`\\alpha` is known the
    aggregation is linear in :math:`\\mathbf z`: the fast path is one CSR product per head with
    the attention coefficients as the sparse values (gradients flow to :math:`\\alpha` too).

    Args:
        in_channels, out_channels: :math:`F` and :math:`C` (per head).
        heads: :math:`H`; concat: concatenate heads (output :math:`HC`) or average (:math:`C`).
        negative_slope: of the LeakyReLU; dropout: on the attention coefficients (training).
        cached: keep the graph structure (with self-loops, CSR) of the first call.
        fast: CSR fast path or the generic scatter core.

    Shapes:
        x: ``(n, F)`` dense or sparse; edge_index: ``(2, E)``; returns ``(n, H C)`` or ``(n, C)``;
        with ``return_attention_weights=True`` also ``(edge_index (2, E'), alpha (E', H))``
        (the edges with self-loops, sorted by target on the fast path).

    Introduced in: 5.3.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        heads: int = 1,
        concat: bool = True,
        negative_slope: float = 0.2,
        dropout: float = 0.0,
        add_self_loops: bool = True,
        bias: bool = True,
        cached: bool = False,
        fast: bool = True,
    ):
        super().__init__()
        if heads < 1:
            raise ValueError(f"heads must be positive, got {heads}")
        self.in_channels, self.out_channels, self.heads, self.concat = in_channels, out_channels, heads, concat
        self.negative_slope, self.dropout, self.add_self_loops = negative_slope, dropout, add_self_loops
        self.cached, self.fast = cached, fast
        self.lin = nn.Linear(in_channels, heads * out_channels, bias=False)
        self.att_src = nn.Parameter(torch.empty(1, heads, out_channels))
        self.att_dst = nn.Parameter(torch.empty(1, heads, out_channels))
        self.bias = nn.Parameter(torch.empty(heads * out_channels if concat else out_channels)) if bias else None
        self._cache: tuple | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot weights and attention vectors, zero bias (as PyG); clears the cache."""
        nn.init.xavier_uniform_(self.lin.weight)
        _glorot(self.att_src)
        _glorot(self.att_dst)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self._cache = None

    def _structure(self, edge_index: Tensor, n: int) -> tuple:
        if self.cached and self._cache is not None:
            if self._cache[1] != n:
                raise ValueError(f"cached graph has {self._cache[1]} nodes but x has {n} rows; use cached=False")
            return self._cache
        ei = edge_index
        if self.add_self_loops:
            ei, _ = remove_self_loops(ei)
            ei, _ = add_self_loops(ei, n)
        graph = None
        if self.fast:  # reorder the edges by target once, so attention values are already in CSR order
            ei = CSRGraph(ei, n, validate=False).sorted_edge_index()
            graph = CSRGraph.from_sorted(ei, n, validate=False, transpose=_backward_follows(self.lin.weight))
            ei = graph.edge_index
        st = (ei, n, graph)
        if self.cached:
            self._cache = st
        return st

    def forward(self, x: Tensor, edge_index: Tensor, return_attention_weights: bool = False):
        _check_x(x, self.in_channels, "GATConv")
        edge_index, n = check_graph(x, edge_index)
        ei, n, graph = self._structure(edge_index, n)
        H, C = self.heads, self.out_channels
        z = _linear(self.lin, x).view(n, H, C)
        a_src = (z * self.att_src).sum(-1)  # (n, H)
        a_dst = (z * self.att_dst).sum(-1)
        src, dst = ei[0], ei[1]
        if self.fast:  # index_select: its backward (index_add_) is ~3x faster than that of x[idx]
            scores = F.leaky_relu(a_src.index_select(0, src) + a_dst.index_select(0, dst), self.negative_slope)
            alpha = segment_softmax(scores, dst, n, ptr=graph.crow)
            alpha_d = dropout(alpha, self.dropout, self.training)
            out = spmm(graph, alpha_d, z)
        else:
            def message(z_i, z_j, e):  # e holds the two halves of the score, (E, 2, H)
                return F.leaky_relu(e[:, 0] + e[:, 1], self.negative_slope), z_j

            edge_terms = torch.stack([a_src[src], a_dst[dst]], dim=1)  # (E, 2, H)
            scores = F.leaky_relu(edge_terms[:, 0] + edge_terms[:, 1], self.negative_slope)
            alpha = segment_softmax(scores, dst, n)
            if self.training and self.dropout > 0:
                alpha_d = dropout(alpha, self.dropout, True)
                out = scatter(alpha_d.unsqueeze(-1) * z[src], dst, n, "sum")
            else:
                out = propagate(z, ei, message, "softmax", edge_attr=edge_terms)
        out = out.reshape(n, H * C) if self.concat else out.mean(1)
        if self.bias is not None:
            out = out + self.bias
        if return_attention_weights:
            return out, (ei, alpha)
        return out

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, heads={self.heads}, concat={self.concat}, fast={self.fast}"


# ------------------------------------------------------------------ message-passing flavour
class GINConv(nn.Module):
    """Graph isomorphism network layer of Xu et al. {cite}`xu2019powerful`:

    .. math:: \\mathbf x'_i = \\phi\\Big((1+\\varepsilon)\\,\\mathbf x_i + \\sum_{j \\to i}\\mathbf x_j\\Big)

    with :math:`\\phi` an MLP. Sum aggregation is injective on multisets (for suitable
    :math:`\\phi`), which makes GIN as powerful as the 1-WL test. The sum is linear: the fast
    path is one CSR product :math:`AX`.

    Args:
        nn_: the MLP :math:`\\phi` (``torch.nn.Module``); eps: initial :math:`\\varepsilon`;
        train_eps: learn :math:`\\varepsilon`; fast: CSR fast path or generic core.
        cached: keep the CSR structure of the first call's graph and reuse it (fixed graph
            only, as ``cached`` of :class:`GCNConv`; PyG's ``GINConv`` has no such option).

    Shapes:
        x: ``(n, F)``; edge_index: ``(2, E)``; returns ``(n, F')`` (the MLP's output).

    Introduced in: 5.3.
    """

    def __init__(self, nn_: nn.Module, eps: float = 0.0, train_eps: bool = False, fast: bool = True, cached: bool = False):
        super().__init__()
        self.nn = nn_
        self.initial_eps, self.fast, self.cached = eps, fast, cached
        self._cache: CSRGraph | None = None
        if train_eps:
            self.eps = nn.Parameter(torch.empty(1))
        else:
            self.register_buffer("eps", torch.empty(1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset the MLP's parameters and :math:`\\varepsilon`; clears the cache."""
        self._cache = None
        reset_submodules(self.nn)
        if hasattr(self.nn, "reset_parameters"):
            self.nn.reset_parameters()
        with torch.no_grad():
            self.eps.fill_(self.initial_eps)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 2:
            raise ValueError(f"GINConv: x must be a (n, F) tensor, got {getattr(x, 'shape', type(x))}")
        if not self.fast:
            edge_index, _ = check_graph(x, edge_index)
            return self.nn(propagate(x, edge_index, aggr="sum") + (1 + self.eps) * x)
        graph = self._cache if self.cached else None
        if graph is None:
            edge_index, n = check_graph(x, edge_index)
            graph = CSRGraph(edge_index, n, validate=False, transpose=self.cached or _backward_follows(x), edge_ids=False)
            if self.cached:
                self._cache = graph
        elif graph.num_nodes != x.size(0):
            raise ValueError(f"cached graph has {graph.num_nodes} nodes but x has {x.size(0)} rows; use cached=False")
        return self.nn(sum_aggregate(graph, x, 1 + self.eps))  # (A + (1 + eps) I) x in one sparse product


class MeanConv(nn.Module):
    """A mean-aggregating layer (GraphSAGE-mean style, {cite}`hamilton2017inductive`):

    .. math:: \\mathbf x'_i = W_1\\mathbf x_i + W_2 \\frac{1}{|\\mathcal N_i|}\\sum_{j\\to i}\\mathbf x_j + b .

    Mean aggregation forgets multiplicities (:math:`\\{\\!\\{a, b\\}\\!\\}` and
    :math:`\\{\\!\\{a, a, b, b\\}\\!\\}` look the same), so it is strictly weaker than 1-WL.

    Shapes:
        x: ``(n, F)``; edge_index: ``(2, E)``; returns ``(n, F')``.

    Introduced in: 5.3.
    """

    def __init__(self, in_channels: int, out_channels: int, fast: bool = True):
        super().__init__()
        self.in_channels, self.out_channels, self.fast = in_channels, out_channels, fast
        self.lin_root = nn.Linear(in_channels, out_channels)
        self.lin_neigh = nn.Linear(in_channels, out_channels, bias=False)

    def reset_parameters(self) -> None:
        self.lin_root.reset_parameters()
        self.lin_neigh.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        _check_x(x, self.in_channels, "MeanConv")
        edge_index, n = check_graph(x, edge_index)
        if self.fast:
            deg = torch.bincount(edge_index[1], minlength=n).clamp(min=1).to(x.dtype)
            agg = spmm(CSRGraph(edge_index, n, validate=False), 1.0 / deg[edge_index[1]], x)
        else:
            agg = propagate(x, edge_index, aggr="mean")
        return self.lin_root(x) + self.lin_neigh(agg)


class MPNNConv(nn.Module):
    """A general message-passing layer with edge features {cite}`gilmer2017neural`:

    .. math::

        \\mathbf m_{ij} = \\psi\\big([\\mathbf x_i \\Vert \\mathbf x_j \\Vert \\mathbf e_{ij}]\\big), \\qquad
        \\mathbf x'_i = \\phi\\Big(\\big[\\mathbf x_i \\;\\Vert\\; \\textstyle\\bigoplus_{j \\to i}\\mathbf m_{ij}\\big]\\Big)

    with MLPs :math:`\\psi` (message) and :math:`\\phi` (update) and aggregation
    :math:`\\bigoplus` in sum/mean/max. Messages depend non-linearly on both end points, so there is
    no sparse-product shortcut: the layer runs on the generic scatter core.

    Args:
        in_channels, out_channels: the sizes :math:`F` and :math:`F'`.
        edge_dim: the size of :math:`\\mathbf e_{ij}` (0: no edge features).
        hidden: the width of both MLPs (default :math:`F'`).
        aggr: ``"sum"``, ``"mean"`` or ``"max"``.

    Shapes:
        x: ``(n, F)``; edge_index: ``(2, E)``; edge_attr: ``(E, edge_dim)``; returns ``(n, F')``.

    Introduced in: 5.3.
    """

    def __init__(self, in_channels: int, out_channels: int, edge_dim: int = 0, hidden: int | None = None, aggr: str = "sum"):
        super().__init__()
        if aggr not in ("sum", "add", "mean", "max"):
            raise ValueError(f"aggr must be 'sum', 'mean' or 'max', got {aggr!r}")
        hidden = hidden or out_channels
        self.in_channels, self.out_channels, self.edge_dim, self.aggr = in_channels, out_channels, edge_dim, aggr
        self.message_mlp = mlp([2 * in_channels + edge_dim, hidden, hidden])
        self.update_mlp = mlp([in_channels + hidden, hidden, out_channels])

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                m.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        _check_x(x, self.in_channels, "MPNNConv")
        edge_index, n = check_graph(x, edge_index)
        if self.edge_dim:
            if edge_attr is None or edge_attr.dim() != 2 or edge_attr.shape != (edge_index.size(1), self.edge_dim):
                raise ValueError(
                    f"MPNNConv: edge_attr must have shape (E, edge_dim) = ({edge_index.size(1)}, {self.edge_dim}), "
                    f"got {None if edge_attr is None else tuple(edge_attr.shape)}"
                )
        elif edge_attr is not None:
            raise ValueError("MPNNConv was built with edge_dim=0 but edge_attr was given")

        def message(x_i, x_j, e):
            parts = [x_i, x_j] + ([e] if e is not None else [])
            return self.message_mlp(torch.cat(parts, dim=-1))

        m = propagate(x, edge_index, message, self.aggr, edge_attr=edge_attr)
        return self.update_mlp(torch.cat([x, m], dim=-1))


# ------------------------------------------------------------------ node-classification models
class GCN(nn.Module):
    """The GCN of Kipf and Welling: ``num_layers`` :class:`GCNConv` layers with ReLU and dropout
    (on the input too), as in the paper and PyG's example. With ``num_layers > 2`` it is the
    deep GCN used to measure over-smoothing.

    Shapes:
        x: ``(n, F)`` dense or sparse; edge_index: ``(2, E)``; returns logits ``(n, classes)``.

    Introduced in: 5.3.
    """

    def __init__(self, in_channels: int, hidden: int, out_channels: int, num_layers: int = 2,
                 dropout: float = 0.5, cached: bool = True, fast: bool = True):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        sizes = [in_channels] + [hidden] * (num_layers - 1) + [out_channels]
        self.convs = nn.ModuleList(GCNConv(a, b, cached=cached, fast=fast) for a, b in zip(sizes[:-1], sizes[1:]))
        self.dropout = dropout

    def reset_parameters(self) -> None:
        for c in self.convs:
            c.reset_parameters()

    def embed(self, x: Tensor, edge_index: Tensor) -> list[Tensor]:
        """Node features after each layer (before the final logits' layer too)."""
        outs = []
        x = sparse_dropout(x, self.dropout, self.training)
        for k, conv in enumerate(self.convs):
            x = conv(x, edge_index)
            outs.append(x)
            if k < len(self.convs) - 1:
                x = dropout(F.relu(x), self.dropout, self.training)
        return outs

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.embed(x, edge_index)[-1]

    def param_groups(self, weight_decay: float) -> list[dict]:
        """Weight decay on the first layer only, as in Kipf and Welling's code."""
        return [dict(params=self.convs[0].parameters(), weight_decay=weight_decay),
                dict(params=[p for c in self.convs[1:] for p in c.parameters()], weight_decay=0.0)]


class GAT(nn.Module):
    """The two-layer GAT of Veličković et al. for transductive node classification: ``heads``
    heads of ``hidden`` features (concatenated, ELU), then ``out_heads`` averaged output heads;
    dropout ``dropout`` on inputs and on attention coefficients of both layers.

    Shapes:
        x: ``(n, F)`` dense or sparse; edge_index: ``(2, E)``; returns logits ``(n, classes)``.

    Introduced in: 5.3.
    """

    def __init__(self, in_channels: int, hidden: int, out_channels: int, heads: int = 8, out_heads: int = 1,
                 dropout: float = 0.6, cached: bool = True, fast: bool = True):
        super().__init__()
        self.conv1 = GATConv(in_channels, hidden, heads, dropout=dropout, cached=cached, fast=fast)
        self.conv2 = GATConv(hidden * heads, out_channels, out_heads, concat=False, dropout=dropout, cached=cached, fast=fast)
        self.dropout = dropout

    def reset_parameters(self) -> None:
        self.conv1.reset_parameters()
        self.conv2.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        x = sparse_dropout(x, self.dropout, self.training)
        x = F.elu(self.conv1(x, edge_index))
        x = dropout(x, self.dropout, self.training)
        return self.conv2(x, edge_index)

    def param_groups(self, weight_decay: float) -> list[dict]:
        return [dict(params=self.parameters(), weight_decay=weight_decay)]


# ------------------------------------------------------------------ graph-level models
def batch_graphs(graphs: Sequence[tuple]) -> tuple[Tensor, Tensor, Tensor]:
    """Merge graphs ``(x, edge_index)`` into one disjoint union: node features stacked, edge
    indices shifted, and ``batch[i]`` = the graph node ``i`` belongs to.

    Shapes: each x ``(n_k, F)``, edge_index ``(2, E_k)``; returns ``(sum n_k, F)``,
    ``(2, sum E_k)``, ``(sum n_k,)``. Introduced in: 5.3.
    """
    xs, eis, bs, off = [], [], [], 0
    for k, (x, ei) in enumerate(graphs):
        ei, n = check_graph(x, ei)
        xs.append(x)
        eis.append(ei + off)
        bs.append(torch.full((n,), k, dtype=torch.long))
        off += n
    return torch.cat(xs), torch.cat(eis, dim=1), torch.cat(bs)


def global_pool(x: Tensor, batch: Tensor, num_graphs: int | None = None, reduce: str = "sum") -> Tensor:
    """Permutation-invariant read-out :math:`\\mathbf h_G = \\bigoplus_{i \\in G}\\mathbf x_i` per graph.

    Shapes: x ``(n, F)``; batch ``(n,)``; returns ``(num_graphs, F)``. Introduced in: 5.3.
    """
    num_graphs = int(batch.max()) + 1 if num_graphs is None else num_graphs
    return scatter(x, batch, num_graphs, reduce)


def triangle_counts(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Number of triangles through each node, :math:`t_i = (A^3)_{ii}/2`, of a simple undirected
    graph (both directions listed). A substructure count that 1-WL cannot compute.

    Shapes: edge_index ``(2, E)``; returns ``(n,)`` float. Introduced in: 5.3.
    """
    edge_index, n = check_graph(None, edge_index, num_nodes)
    graph = CSRGraph(edge_index, n)
    A = graph.matrix(torch.ones(edge_index.size(1)))
    # (A^2)_{ij} for each edge j->i, summed over the edges at i: sum_j A_ij (A^2)_ji = (A^3)_ii
    a2 = (A @ A.to_dense()) if n <= 2048 else None
    if a2 is None:
        raise ValueError("triangle_counts is meant for small graphs (n <= 2048)")
    src, dst = edge_index
    return scatter(a2[dst, src], dst, n, "sum") / 2


class GraphClassifier(nn.Module):
    """A graph-level model: ``num_layers`` message-passing layers, a read-out
    (:func:`global_pool`), and a linear classifier on the pooled features of all layers.

    ``kind="gin"``: :class:`GINConv` (2-layer MLPs) with sum read-out, as powerful as 1-WL;
    ``kind="mean"``: :class:`MeanConv` + ReLU with mean read-out, which cannot count.

    Shapes:
        x: ``(n, F)``; edge_index: ``(2, E)``; batch: ``(n,)``; returns ``(num_graphs, classes)``.

    Introduced in: 5.3.
    """

    def __init__(self, in_channels: int, hidden: int, out_channels: int, num_layers: int = 3, kind: Literal["gin", "mean"] = "gin"):
        super().__init__()
        if kind not in ("gin", "mean"):
            raise ValueError(f"kind must be 'gin' or 'mean', got {kind!r}")
        self.kind = kind
        sizes = [in_channels] + [hidden] * num_layers
        if kind == "gin":
            self.convs = nn.ModuleList(GINConv(mlp([a, b, b])) for a, b in zip(sizes[:-1], sizes[1:]))
        else:
            self.convs = nn.ModuleList(MeanConv(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.readout = "sum" if kind == "gin" else "mean"
        self.head = nn.Linear(sum(sizes), out_channels)

    def embed(self, x: Tensor, edge_index: Tensor, batch: Tensor, num_graphs: int | None = None) -> Tensor:
        """The graph embedding: pooled features of the input and of every layer, concatenated."""
        num_graphs = int(batch.max()) + 1 if num_graphs is None else num_graphs
        pooled = [global_pool(x, batch, num_graphs, self.readout)]
        for conv in self.convs:
            x = conv(x, edge_index)
            if self.kind == "mean":
                x = F.relu(x)
            pooled.append(global_pool(x, batch, num_graphs, self.readout))
        return torch.cat(pooled, dim=-1)

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor, num_graphs: int | None = None) -> Tensor:
        return self.head(self.embed(x, edge_index, batch, num_graphs))


# ------------------------------------------------------------------ training
def accuracy(logits: Tensor, y: Tensor, mask: Tensor | None = None) -> float:
    """Fraction of correct argmax predictions on the nodes of ``mask`` (all if None):
    :func:`gdlutils.training.accuracy` restricted to a node mask.

    Shapes: logits ``(n, C)``; y ``(n,)``; mask ``(n,)`` bool.
    """
    if mask is not None:
        logits, y = logits[mask], y[mask]
    return _accuracy(logits, y)


@dataclass
class NodeClassificationResult:
    """Outcome of :func:`train_node_classifier`: accuracies of the model at its best validation
    epoch, that epoch, the wall time, and per-epoch curves."""

    val_acc: float
    test_acc: float
    best_epoch: int
    seconds: float
    history: dict = field(default_factory=dict)


def train_node_classifier(
    model: nn.Module,
    x: Tensor,
    edge_index: Tensor,
    y: Tensor,
    train_mask: Tensor,
    val_mask: Tensor,
    test_mask: Tensor,
    epochs: int = 200,
    lr: float = 0.01,
    weight_decay: float = 5e-4,
    keep_history: bool = False,
) -> NodeClassificationResult:
    """Full-batch transductive training with Adam and cross-entropy on ``train_mask``; after
    each epoch one evaluation forward gives validation and test accuracy, and the test accuracy
    reported is the one at the epoch of best validation accuracy (first such epoch) -- the
    model-selection rule of Kipf and Welling and PyG's examples.

    Uses ``model.param_groups(weight_decay)`` when the model defines it.

    Shapes: x ``(n, F)`` dense or sparse; edge_index ``(2, E)``; y ``(n,)``; masks ``(n,)`` bool.

    Introduced in: 5.3.
    """
    groups = model.param_groups(weight_decay) if hasattr(model, "param_groups") else [dict(params=model.parameters(), weight_decay=weight_decay)]
    opt = torch.optim.Adam(groups, lr=lr)
    y_train = y[train_mask]
    best = (-1.0, 0.0, -1)
    hist: dict = {"loss": [], "val": [], "test": []}
    t0 = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        opt.zero_grad()
        loss = F.cross_entropy(model(x, edge_index)[train_mask], y_train)
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            pred = model(x, edge_index).argmax(-1)
        correct = pred == y
        val = float(correct[val_mask].float().mean())
        if val > best[0]:
            best = (val, float(correct[test_mask].float().mean()), epoch)
        if keep_history:
            hist["loss"].append(loss.item())
            hist["val"].append(val)
            hist["test"].append(float(correct[test_mask].float().mean()))
    return NodeClassificationResult(best[0], best[1], best[2], time.perf_counter() - t0, hist if keep_history else {})
