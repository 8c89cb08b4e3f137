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

Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Literal, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gdlutils import _sparse
from gdlutils.graphs import _check_count, check_edge_weight, degree
from gdlutils.message_passing import (
    _check_reduce,
    check_graph,
    gcn_norm,
    propagate,
    remove_self_loops,
    add_self_loops,
    scatter,
    segment_softmax,
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
    "GCN2Conv",
    "DeepGCN",
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
    "attention_entropy",
]


# ------------------------------------------------------------------ helpers
def _linear(lin: nn.Linear, x: Tensor) -> Tensor:
    """``lin(x)`` that also accepts a sparse (COO or CSR) ``x``."""
    return _sparse.sparse_linear(lin, x) if _sparse.is_sparse(x) else lin(x)


def _backward_follows(*tensors: Tensor) -> bool:
    """Will a backward pass run through an operation on these tensors?"""
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def _check_x(x: Tensor, in_channels: int | None, name: str) -> None:
    """A layer's node features: a floating-point ``(n, in_channels)`` tensor (dense or sparse)."""
    want = f"(n, {in_channels if in_channels is not None else 'F'})"
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: x must be a torch.Tensor of shape {want}, got {type(x).__name__}")
    if x.dim() != 2 or (in_channels is not None and x.size(1) != in_channels):
        raise ValueError(f"{name}: x must have shape {want} (one row of features per node), got {tuple(x.shape)}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{name}: x must be a floating-point tensor, got dtype {x.dtype}; use x.float()")


def _check_cached(cached_nodes: int, n: int, name: str) -> None:
    if cached_nodes != n:
        raise ValueError(
            f"{name}: the cached graph has {cached_nodes} nodes but x has {n} rows; cached=True is for one "
            "fixed graph: call reset_parameters() or build the layer with cached=False"
        )


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

    Shapes:
        x ``(n, F)``; returns a sparse CSR ``(n, F)``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_3_planetoid`.
    """
    if not isinstance(x, Tensor) or x.dim() != 2 or not x.dtype.is_floating_point:
        raise ValueError(f"x must be a floating-point (n, F) matrix, got {getattr(x, 'shape', type(x).__name__)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x holds NaN or infinite values; features must be finite")
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

    Shapes:
        x any; returns the same shape.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_3_planetoid`.
    """
    if not 0.0 <= p < 1.0:  # also refuses NaN
        raise ValueError(f"dropout probability p must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return x
    # the mask and its scale in place, one product with x: the same numbers as x * (u >= p) / (1 - p)
    return x * torch.rand_like(x).ge_(p).mul_(1.0 / (1.0 - p))


def sparse_dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Dropout of the stored entries of a sparse matrix (kept ones scaled by :math:`1/(1-p)`),
    which equals dense dropout on the non-zeros (zeros stay zero either way).

    Shapes:
        x sparse CSR/COO or dense ``(n, F)``; returns the same layout.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_3_planetoid`.
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability p must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return x
    if not _sparse.is_sparse(x):
        return dropout(x, p, training)
    if x.layout == torch.sparse_csr:
        vals = dropout(x.values(), p, True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.sparse_csr_tensor(x.crow_indices(), x.col_indices(), vals, x.shape, check_invariants=False)
    x = x.coalesce()
    return torch.sparse_coo_tensor(x.indices(), dropout(x.values(), p, True), x.shape, is_coalesced=True)


def mlp(sizes: Sequence[int], batch_norm: bool = False) -> nn.Sequential:
    """A multilayer perceptron ``Linear -> [BatchNorm] -> ReLU -> ... -> Linear`` with the
    given layer widths, :math:`\\mathbf x \\mapsto W_L\\sigma(\\cdots\\sigma(W_1\\mathbf x + b_1)\\cdots) + b_L`.

    Shapes:
        input ``(..., sizes[0])``; output ``(..., sizes[-1])``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
    """
    if isinstance(sizes, (str, Tensor)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
        raise ValueError(f"mlp needs a list of at least an input and an output size, got {sizes!r}")
    sizes = [_check_count(k, "every size", 1) for k in sizes]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


# ------------------------------------------------------------------ convolutional flavour
def _weighted_sum(edge_index: Tensor, weight: Tensor, num_nodes: int) -> Callable[[Tensor], Tensor]:
    """The readable form of a linear aggregation, :math:`\\mathbf h_i = \\sum_{j \\to i} w_{ji}\\mathbf x_j`."""
    def aggregate(h: Tensor) -> Tensor:
        return propagate(h, edge_index, lambda x_i, x_j, w: w.unsqueeze(-1) * x_j, "sum", edge_attr=weight, num_nodes=num_nodes)
    aggregate.num_nodes = num_nodes  # type: ignore[attr-defined]
    return aggregate


def _gcn_propagator(edge_index: Tensor, num_nodes: int, edge_weight: Tensor | None, improved: bool, add_self_loops: bool,
                    normalize: bool, fast: bool, dtype: torch.dtype | None, transpose: bool) -> Callable[[Tensor], Tensor]:
    """:math:`H \\mapsto \\hat A H` for GCN-style layers: the CSR fast path, or the readable
    ``gcn_norm`` + weighted sum (``edge_index`` must have been validated)."""
    if fast:
        return _sparse.gcn_operator(edge_index, num_nodes, edge_weight, improved=improved, add_self_loops=add_self_loops,
                                    normalize=normalize, dtype=dtype, transpose=transpose)
    if normalize:
        return _weighted_sum(*gcn_norm(edge_index, edge_weight, num_nodes, improved, add_self_loops, dtype), num_nodes)
    w = edge_weight if edge_weight is not None else torch.ones(edge_index.size(1), dtype=dtype, device=edge_index.device)
    return _weighted_sum(edge_index, w.to(dtype), num_nodes)


class GCNConv(nn.Module):
    """Graph convolution of Kipf and Welling :cite:`kipf2017semi`:

    .. math:: X' = \\hat A X W + b,\\qquad \\hat A = \\tilde D^{-1/2}(A + I)\\tilde D^{-1/2},

    i.e. :math:`\\mathbf x'_i = \\sum_{j \\in \\mathcal N_i \\cup \\{i\\}} \\frac{w_{ji}}{\\sqrt{\\tilde d_i \\tilde d_j}} W^\\top\\mathbf x_j + b`
    (see :func:`gdlutils.message_passing.gcn_norm`). The aggregation is linear, so the fast path
    is one CSR product :math:`\\hat A (XW)`.

    Args:
        in_channels, out_channels: :math:`F`, :math:`F'`.
        improved: use :math:`A + 2I` when ``edge_weight`` is given (as PyG's ``GCNConv``;
            without edge weights it has no effect).
        cached: build :math:`\\hat A` on the first call and reuse it (one fixed graph only, as
            PyG; :meth:`reset_parameters` clears it).
        add_self_loops, normalize: as in PyG (without normalisation :math:`\\hat A = A`).
        fast: CSR fast path (True) or the generic scatter core (False).

    Shapes:
        x: ``(n, F)`` dense or sparse; edge_index: ``(2, E)``; edge_weight: ``(E,)``;
        returns ``(n, F')``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
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
        self.in_channels = _check_count(in_channels, "in_channels", 1)
        self.out_channels = _check_count(out_channels, "out_channels", 1)
        self.improved, self.cached, self.add_self_loops, self.normalize, self.fast = improved, cached, add_self_loops, normalize, fast
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self._cached_a_hat = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot weights, zero bias (as PyG); clears the cached :math:`\\hat A`."""
        nn.init.xavier_uniform_(self.lin.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self._cached_a_hat = None

    def _normalized_adjacency(self, edge_index: Tensor, num_nodes: int, edge_weight: Tensor | None = None,
                             dtype: torch.dtype | None = None) -> Callable[[Tensor], Tensor]:
        """:math:`\\hat A` as a function :math:`H \\mapsto \\hat A H` (kept when ``cached``);
        ``edge_index`` must have been validated."""
        if self.cached and self._cached_a_hat is not None:
            _check_cached(self._cached_a_hat.num_nodes, num_nodes, "GCNConv")
            return self._cached_a_hat
        a_hat = _gcn_propagator(edge_index, num_nodes, edge_weight, self.improved, self.add_self_loops, self.normalize,
                                self.fast, dtype, transpose=_backward_follows(self.lin.weight))
        if self.cached:
            self._cached_a_hat = a_hat
        return a_hat

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        _check_x(x, self.in_channels, "GCNConv")
        edge_index, n = check_graph(x, edge_index)
        if edge_weight is not None:
            edge_weight = check_edge_weight(edge_weight, edge_index.size(1))
        a_hat = self._normalized_adjacency(edge_index, n, edge_weight, x.dtype)
        out = a_hat(_linear(self.lin, x))  # \hat A X W
        return out + self.bias if self.bias is not None else out

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, cached={self.cached}, fast={self.fast}"


class SGConv(nn.Module):
    """Simplified graph convolution (SGC) of Wu et al. :cite:`wu2019simplifying`: :math:`K`
    propagation steps without nonlinearity, then one linear map,

    .. math:: X' = \\hat A^K X W + b .

    With ``cached=True`` the features :math:`\\hat A^K X` are computed once (as PyG), so
    training is logistic regression on precomputed features.

    Shapes:
        x: ``(n, F)``; edge_index: ``(2, E)``; edge_weight: ``(E,)``; returns ``(n, F')``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_3_planetoid`.
    """

    def __init__(
        self, in_channels: int, out_channels: int, K: int = 1, cached: bool = False,
        add_self_loops: bool = True, bias: bool = True, fast: bool = True,
    ):
        super().__init__()
        self.in_channels = _check_count(in_channels, "in_channels", 1)
        self.out_channels = _check_count(out_channels, "out_channels", 1)
        self.K = _check_count(K, "K")
        self.cached, self.add_self_loops, self.fast = cached, add_self_loops, fast
        self.lin = nn.Linear(in_channels, out_channels, bias=bias)
        self._cached_features: Tensor | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default ``Linear`` initialisation (as PyG's ``SGConv``); clears the cache."""
        self.lin.reset_parameters()
        self._cached_features = None

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        _check_x(x, self.in_channels, "SGConv")
        edge_index, n = check_graph(x, edge_index)
        if edge_weight is not None:
            edge_weight = check_edge_weight(edge_weight, edge_index.size(1))
        if self.cached and self._cached_features is not None:
            _check_cached(self._cached_features.size(0), n, "SGConv")
            return self.lin(self._cached_features)
        h = x.to_dense() if _sparse.is_sparse(x) else x
        if self.fast:
            a_hat = _sparse.gcn_operator(edge_index, n, edge_weight, add_self_loops=self.add_self_loops, dtype=x.dtype)
        else:
            a_hat = _weighted_sum(*gcn_norm(edge_index, edge_weight, n, add_self_loops=self.add_self_loops, dtype=x.dtype), n)
        for _ in range(self.K):
            h = a_hat(h)  # \hat A^K X
        if self.cached:
            self._cached_features = h.detach()
        return self.lin(h)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, K={self.K}, cached={self.cached}"


# ------------------------------------------------------------------ attentional flavour
class GATConv(nn.Module):
    """Graph attention layer of Veličković et al. :cite:`velickovic2018graph`, multi-head:

    .. math::

        \\mathbf z_j = W\\mathbf x_j \\in \\mathbb R^{H\\times C},\\qquad
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
        head_dropout: dropout inside each head, as in the authors' code (``attn_head`` of
            PetarV-/GAT): every head draws its own mask on the layer's input before its
            :math:`W^h`, and another on :math:`\\mathbf z^h` where it is aggregated (the scores use
            the undropped :math:`\\mathbf z^h`). Not in PyG's ``GATConv``, whose models drop the
            input once for all heads; 0 (the default) turns it off.
        cached: keep the graph structure (with self-loops, CSR) of the first call (one fixed
            graph only; PyG's ``GATConv`` has no such option).
        fast: CSR fast path or the generic scatter core.

    Shapes:
        x: ``(n, F)`` dense or sparse; edge_index: ``(2, E)``; returns ``(n, H C)`` or ``(n, C)``;
        with ``return_attention_weights=True`` also ``(edge_index (2, E'), alpha (E', H))``
        (the edges with self-loops, sorted by target on the fast path).

    Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
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
        head_dropout: float = 0.0,
    ):
        super().__init__()
        self.in_channels = _check_count(in_channels, "in_channels", 1)
        self.out_channels = _check_count(out_channels, "out_channels", 1)
        self.heads = _check_count(heads, "heads", 1)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if not 0.0 <= head_dropout < 1.0:
            raise ValueError(f"head_dropout must be in [0, 1), got {head_dropout}")
        self.head_dropout = head_dropout
        self.concat = concat
        self.negative_slope, self.dropout, self.add_self_loops = negative_slope, dropout, add_self_loops
        self.cached, self.fast = cached, fast
        self.lin = nn.Linear(in_channels, heads * out_channels, bias=False)
        self.att_src = nn.Parameter(torch.empty(1, heads, out_channels))
        self.att_dst = nn.Parameter(torch.empty(1, heads, out_channels))
        self.bias = nn.Parameter(torch.empty(heads * out_channels if concat else out_channels)) if bias else None
        self._cached_graph = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot weights and attention vectors, zero bias (as PyG); clears the cache."""
        nn.init.xavier_uniform_(self.lin.weight)
        _glorot(self.att_src)
        _glorot(self.att_dst)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self._cached_graph = None

    def _graph(self, edge_index: Tensor, n: int):
        """The edges with self-loops (fast path: as a CSR graph, sorted by target)."""
        if self.cached and self._cached_graph is not None:
            _check_cached(self._cached_graph[1], n, "GATConv")
            return self._cached_graph[0]
        if self.fast:
            graph = _sparse.attention_graph(edge_index, n, self.add_self_loops, transpose=_backward_follows(self.lin.weight))
        else:
            graph = add_self_loops(remove_self_loops(edge_index)[0], num_nodes=n)[0] if self.add_self_loops else edge_index
        if self.cached:
            self._cached_graph = (graph, n)
        return graph

    def forward(self, x: Tensor, edge_index: Tensor, return_attention_weights: bool = False):
        _check_x(x, self.in_channels, "GATConv")
        edge_index, n = check_graph(x, edge_index)
        graph = self._graph(edge_index, n)
        ei = graph.edge_index if self.fast else graph
        src, dst = ei[0], ei[1]
        H, C = self.heads, self.out_channels
        per_head = self.training and self.head_dropout > 0
        if per_head:  # every head its own input mask: z^h_j = W^h (m^h_j * x_j) / (1 - p)
            z = self._per_head_linear(x)
        else:
            z = _linear(self.lin, x).view(n, H, C)  # z_j = W x_j
        a_src, a_dst = (z * self.att_src).sum(-1), (z * self.att_dst).sum(-1)  # (n, H)
        if per_head:  # the aggregated features get their own mask, the scores above do not
            z = dropout(z, self.head_dropout, True)
        # e_ij = LeakyReLU(a_dst . z_i + a_src . z_j); index_select: its backward is faster than x[idx]'s
        scores = F.leaky_relu(a_src.index_select(0, src) + a_dst.index_select(0, dst), self.negative_slope)
        alpha = _sparse.segment_softmax_csr(scores, graph) if self.fast else segment_softmax(scores, dst, num_nodes=n)
        alpha_d = dropout(alpha, self.dropout, self.training)
        if self.fast:  # sum_j alpha_ij z_j
            out = _sparse.spmm(graph, alpha_d, z)
        else:
            out = scatter(alpha_d.unsqueeze(-1) * z.index_select(0, src), dst, dim_size=n, reduce="sum")
        out = out.reshape(n, H * C) if self.concat else out.mean(1)
        if self.bias is not None:
            out = out + self.bias
        if return_attention_weights:
            return out, (ei, alpha)
        return out

    def _per_head_linear(self, x: Tensor) -> Tensor:
        """``(n, H, C)``: head :math:`h` applies its rows of :math:`W` to its own dropout of ``x``."""
        H, C, p = self.heads, self.out_channels, self.head_dropout
        w = self.lin.weight.view(H, C, self.in_channels)
        if _sparse.is_sparse(x):  # dropout of the stored entries, H masks; one sparse product per head
            x = x if x.layout == torch.sparse_csr else x.to_sparse_csr()
            vals = dropout(x.values().expand(H, -1), p, True)
            return _sparse.per_head_sparse_matmul(x, vals, w.transpose(1, 2))
        xh = dropout(x.unsqueeze(1).expand(-1, H, -1), p, True)  # (n, H, F): independent masks
        return torch.einsum("nhf,hcf->nhc", xh, w)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, heads={self.heads}, concat={self.concat}, fast={self.fast}"


# ------------------------------------------------------------------ message-passing flavour
class GINConv(nn.Module):
    """Graph isomorphism network layer of Xu et al. :cite:`xu2019powerful`, with PyG's signature
    ``GINConv(nn, eps=0.0, train_eps=False)``:

    .. math:: \\mathbf x'_i = \\phi\\Big((1+\\varepsilon)\\,\\mathbf x_i + \\sum_{j \\to i}\\mathbf x_j\\Big)

    with :math:`\\phi` an MLP. Sum aggregation is injective on multisets (for suitable
    :math:`\\phi`), which makes GIN as powerful as the 1-WL test. The sum is linear: the fast
    path is one CSR product :math:`(A + (1+\\varepsilon)I)X`.

    Args:
        nn: the MLP :math:`\\phi` (a ``torch.nn.Module``); eps: initial :math:`\\varepsilon`;
        train_eps: learn :math:`\\varepsilon`; fast: CSR fast path or generic core.
        cached: keep the CSR structure of the first call's graph and reuse it (one fixed graph
            only, as ``cached`` of :class:`GCNConv`; PyG's ``GINConv`` has no such option).

    Shapes:
        x: ``(n, F)``; edge_index: ``(2, E)``; returns ``(n, F')`` (the MLP's output).

    Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
    """

    def __init__(self, nn: torch.nn.Module, eps: float = 0.0, train_eps: bool = False, *, fast: bool = True, cached: bool = False):
        super().__init__()
        if not isinstance(nn, torch.nn.Module):
            raise TypeError(f"GINConv: nn must be a torch.nn.Module (the MLP phi), got {type(nn).__name__}")
        if not math.isfinite(eps):
            raise ValueError(f"GINConv: eps must be finite, got {eps}")
        self.nn = nn
        self.initial_eps, self.fast, self.cached = eps, fast, cached
        self._cached_graph = None
        if train_eps:
            self.eps = torch.nn.Parameter(torch.empty(1))
        else:
            self.register_buffer("eps", torch.empty(1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset the MLP's parameters and :math:`\\varepsilon`; clears the cache."""
        self._cached_graph = None
        reset_submodules(self.nn)
        if hasattr(self.nn, "reset_parameters"):
            self.nn.reset_parameters()
        with torch.no_grad():
            self.eps.fill_(self.initial_eps)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        _check_x(x, None, "GINConv")
        edge_index, n = check_graph(x, edge_index)
        if not self.fast:  # (1 + eps) x_i + sum_j x_j
            return self.nn((1 + self.eps) * x + propagate(x, edge_index, aggr="sum"))
        graph = self._cached_graph
        if graph is None:
            graph = _sparse.CSRGraph(edge_index, n, transpose=self.cached or _backward_follows(x), edge_ids=False)
            if self.cached:
                self._cached_graph = graph
        _check_cached(graph.num_nodes, n, "GINConv")
        return self.nn(_sparse.sum_aggregate(graph, x, 1 + self.eps))  # (A + (1 + eps) I) x in one sparse product


class MeanConv(nn.Module):
    """A mean-aggregating layer, PyG's ``SAGEConv(in_channels, out_channels, aggr="mean")``
    (GraphSAGE-mean, :cite:`hamilton2017inductive`) with the same parameter names, so
    ``load_state_dict(sage.state_dict())`` gives the same outputs:

    .. math:: \\mathbf x'_i = W_l \\frac{1}{|\\mathcal N_i|}\\sum_{j\\to i}\\mathbf x_j + b + W_r\\mathbf x_i

    (``lin_l`` with the bias :math:`b` acts on the neighbour mean, ``lin_r`` on the node itself).
    Mean aggregation forgets multiplicities (:math:`\\{\\!\\{a, b\\}\\!\\}` and
    :math:`\\{\\!\\{a, a, b, b\\}\\!\\}` look the same), so it is strictly weaker than 1-WL.

    Shapes:
        x: ``(n, F)``; edge_index: ``(2, E)``; returns ``(n, F')``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_2_expressivity`.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True, fast: bool = True):
        super().__init__()
        self.in_channels = _check_count(in_channels, "in_channels", 1)
        self.out_channels = _check_count(out_channels, "out_channels", 1)
        self.fast = fast
        self.lin_l = nn.Linear(in_channels, out_channels, bias=bias)
        self.lin_r = nn.Linear(in_channels, out_channels, bias=False)

    def reset_parameters(self) -> None:
        self.lin_l.reset_parameters()
        self.lin_r.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        _check_x(x, self.in_channels, "MeanConv")
        edge_index, n = check_graph(x, edge_index)
        if self.fast:  # the neighbour sum as one CSR product, divided by the in-degree
            graph = _sparse.CSRGraph(edge_index, n, transpose=_backward_follows(x, self.lin_l.weight), edge_ids=False)
            deg = (graph.crow[1:] - graph.crow[:-1]).clamp(min=1).to(x.dtype).unsqueeze(-1)
            mean = _sparse.sum_aggregate(graph, x) / deg
        else:
            mean = propagate(x, edge_index, aggr="mean")
        return self.lin_l(mean) + self.lin_r(x)


class MPNNConv(nn.Module):
    """A general message-passing layer with edge features :cite:`gilmer2017neural`:

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
        aggr: ``"sum"``, ``"mean"``, ``"max"`` or ``"min"``.

    Shapes:
        x: ``(n, F)``; edge_index: ``(2, E)``; edge_attr: ``(E, edge_dim)``; returns ``(n, F')``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
    """

    def __init__(self, in_channels: int, out_channels: int, edge_dim: int = 0, hidden: int | None = None, aggr: str = "sum"):
        super().__init__()
        _check_reduce(aggr, "aggr")
        in_channels, out_channels = _check_count(in_channels, "in_channels", 1), _check_count(out_channels, "out_channels", 1)
        edge_dim = _check_count(edge_dim, "edge_dim")
        hidden = _check_count(hidden or out_channels, "hidden", 1)
        self.in_channels, self.out_channels, self.edge_dim, self.aggr = in_channels, out_channels, edge_dim, aggr
        self.message_mlp = mlp([2 * in_channels + edge_dim, hidden, hidden])
        self.update_mlp = mlp([in_channels + hidden, hidden, out_channels])

    def reset_parameters(self) -> None:
        reset_submodules(self)

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

        m = propagate(x, edge_index, message, self.aggr, edge_attr=edge_attr, num_nodes=n)
        return self.update_mlp(torch.cat([x, m], dim=-1))


# ------------------------------------------------------------------ node-classification models
class GCN(nn.Module):
    """The GCN of Kipf and Welling: ``num_layers`` :class:`GCNConv` layers with ReLU and dropout
    (on the input too), as in the paper and PyG's example. With ``num_layers > 2`` it is the
    deep GCN used to measure over-smoothing.

    ``bias``: every layer adds a bias (True, the default, as PyG's ``GCNConv`` and its example) or
    none (False): the authors' code (tkipf/gcn) builds its ``GraphConvolution`` layers with
    ``bias=False``, :math:`X' = \\hat A X W`; :doc:`/book/05_models/05_3_3_planetoid` uses
    ``bias=False`` to reproduce their numbers.

    Shapes:
        x: ``(n, F)`` dense or sparse; edge_index: ``(2, E)``; returns logits ``(n, classes)``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_3_planetoid`.
    """

    def __init__(self, in_channels: int, hidden: int, out_channels: int, num_layers: int = 2,
                 dropout: float = 0.5, cached: bool = True, fast: bool = True, bias: bool = True):
        super().__init__()
        num_layers = _check_count(num_layers, "num_layers", 1)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        sizes = [in_channels] + [hidden] * (num_layers - 1) + [out_channels]
        self.convs = nn.ModuleList(GCNConv(a, b, cached=cached, fast=fast, bias=bias) for a, b in zip(sizes[:-1], sizes[1:]))
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

    ``per_head_dropout=True`` (the default) drops features as the authors' code (PetarV-/GAT,
    ``attn_head``) does: inside each head, with a mask of its own on the layer's input and one on
    the transformed features it aggregates (:class:`GATConv`'s ``head_dropout``). False drops
    each layer's input once for all heads, as PyG's GAT example. (The authors' attention
    projections also carry a bias, which shifts the scores before the LeakyReLU; we follow PyG
    and leave it out.)

    Shapes:
        x: ``(n, F)`` dense or sparse; edge_index: ``(2, E)``; returns logits ``(n, classes)``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_3_planetoid`.
    """

    def __init__(self, in_channels: int, hidden: int, out_channels: int, heads: int = 8, out_heads: int = 1,
                 dropout: float = 0.6, cached: bool = True, fast: bool = True, per_head_dropout: bool = True):
        super().__init__()
        hd = dropout if per_head_dropout else 0.0
        self.conv1 = GATConv(in_channels, hidden, heads, dropout=dropout, cached=cached, fast=fast, head_dropout=hd)
        self.conv2 = GATConv(hidden * heads, out_channels, out_heads, concat=False, dropout=dropout, cached=cached,
                             fast=fast, head_dropout=hd)
        self.dropout, self.per_head_dropout = dropout, per_head_dropout

    def reset_parameters(self) -> None:
        self.conv1.reset_parameters()
        self.conv2.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        shared = not self.per_head_dropout  # else each head drops its own input inside GATConv
        if shared:
            x = sparse_dropout(x, self.dropout, self.training)
        x = F.elu(self.conv1(x, edge_index))
        if shared:
            x = dropout(x, self.dropout, self.training)
        return self.conv2(x, edge_index)

    def param_groups(self, weight_decay: float) -> list[dict]:
        return [dict(params=self.parameters(), weight_decay=weight_decay)]


# ------------------------------------------------------------------ deep GCNs (5.3.4)
class GCN2Conv(nn.Module):
    """The GCNII layer of Chen et al. :cite:`chen2020simple`: a GCN propagation step with an
    *initial residual* (a fraction :math:`\\alpha` of the first hidden representation
    :math:`X^{(0)}` is mixed back in) and an *identity mapping* (the weight matrix is a
    perturbation :math:`(1-\\beta)I + \\beta W` of the identity),

    .. math:: X' = \\big((1-\\alpha)\\hat A X + \\alpha X^{(0)}\\big)\\big((1-\\beta)I + \\beta W\\big),
              \\qquad \\beta = \\log\\big(\\tfrac{\\theta}{\\ell} + 1\\big),

    with :math:`\\hat A = \\tilde D^{-1/2}(A+I)\\tilde D^{-1/2}` as in :class:`GCNConv` and
    :math:`\\ell` the layer's depth (:math:`\\beta = 1` when ``theta`` and ``layer`` are not
    given). With ``shared_weights=False`` ("GCNII*") the two terms get their own matrices,
    :math:`(1-\\alpha)\\hat AX\\,((1-\\beta)I + \\beta W_1) + \\alpha X^{(0)}((1-\\beta)I + \\beta W_2)`.
    However deep the stack, :math:`X^{(0)}` reaches every layer with weight :math:`\\alpha`,
    so the output cannot collapse to the over-smoothed limit of :math:`\\hat A^k`.

    Same signature, parameter names (``weight1``, ``weight2``) and outputs as PyG's
    ``GCN2Conv``; no bias.

    Args:
        channels: feature size of ``x``, ``x_0`` and the output.
        alpha: strength :math:`\\alpha \\in [0, 1]` of the initial residual.
        theta, layer: give :math:`\\beta = \\log(\\theta/\\ell + 1)` (both or neither).
        shared_weights: one matrix for both terms (GCNII) or two (GCNII*).
        cached, add_self_loops, normalize, fast: as in :class:`GCNConv`.

    Shapes:
        x, x_0: ``(n, channels)``; edge_index: ``(2, E)``; edge_weight: ``(E,)``;
        returns ``(n, channels)``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_4_depth`.
    """

    def __init__(
        self,
        channels: int,
        alpha: float,
        theta: float | None = None,
        layer: int | None = None,
        shared_weights: bool = True,
        cached: bool = False,
        add_self_loops: bool = True,
        normalize: bool = True,
        fast: bool = True,
    ):
        super().__init__()
        self.channels = _check_count(channels, "channels", 1)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"GCN2Conv: alpha must be a number in [0, 1] (the weight of the initial residual), got {alpha!r}")
        if (theta is None) != (layer is None):
            raise ValueError(f"GCN2Conv: give both theta and layer (beta = log(theta / layer + 1)) or neither, got theta={theta!r}, layer={layer!r}")
        self.alpha = float(alpha)
        self.beta = 1.0
        if theta is not None:
            layer = _check_count(layer, "layer", 1)
            if not (isinstance(theta, (int, float)) and math.isfinite(theta) and theta > 0):
                raise ValueError(f"GCN2Conv: theta must be a positive number, got {theta!r}")
            self.beta = math.log(theta / layer + 1)
        self.cached, self.add_self_loops, self.normalize, self.fast = cached, add_self_loops, normalize, fast
        self.weight1 = nn.Parameter(torch.empty(channels, channels))
        self.weight2 = None if shared_weights else nn.Parameter(torch.empty(channels, channels))
        self._cached_a_hat = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot weights (as PyG); clears the cached :math:`\\hat A`."""
        for w in (self.weight1, self.weight2):
            if w is not None:
                _glorot(w)
        self._cached_a_hat = None

    def _normalized_adjacency(self, x: Tensor, edge_index: Tensor, n: int, edge_weight: Tensor | None, dtype: torch.dtype):
        if self.cached and self._cached_a_hat is not None:
            _check_cached(self._cached_a_hat.num_nodes, n, "GCN2Conv")
            return self._cached_a_hat
        a_hat = _gcn_propagator(edge_index, n, edge_weight, False, self.add_self_loops, self.normalize,
                                self.fast, dtype, transpose=_backward_follows(x, self.weight1))
        if self.cached:
            self._cached_a_hat = a_hat
        return a_hat

    def forward(self, x: Tensor, x_0: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        _check_x(x, self.channels, "GCN2Conv")
        if _sparse.is_sparse(x):
            raise TypeError("GCN2Conv: x must be dense (it is a hidden representation); project sparse input features with a Linear layer first")
        _check_x(x_0, self.channels, "GCN2Conv (x_0)")
        if x_0.size(0) != x.size(0):
            raise ValueError(f"GCN2Conv: x_0 must have one row per node like x ({x.size(0)} rows), got {x_0.size(0)}; "
                             "x_0 is the initial representation of the same nodes")
        edge_index, n = check_graph(x, edge_index)
        if edge_weight is not None:
            edge_weight = check_edge_weight(edge_weight, edge_index.size(1))
        a_hat = self._normalized_adjacency(x, edge_index, n, edge_weight, x.dtype)
        h = (1 - self.alpha) * a_hat(x)  # (1 - alpha) \hat A X
        h0 = self.alpha * x_0.to(x.dtype)  # alpha X^(0)
        if self.weight2 is None:
            h = h + h0
            return (1 - self.beta) * h + self.beta * (h @ self.weight1)
        return ((1 - self.beta) * h + self.beta * (h @ self.weight1)) + ((1 - self.beta) * h0 + self.beta * (h0 @ self.weight2))

    def extra_repr(self) -> str:
        return f"{self.channels}, alpha={self.alpha}, beta={self.beta:.4g}, shared_weights={self.weight2 is None}"


class DeepGCN(nn.Module):
    """A deep graph convolutional network for node classification, with or without skip
    connections, to separate over-smoothing from the difficulty of training deep networks:
    an input layer :math:`H^{(0)} = \\mathrm{ReLU}(XW_{\\text{in}} + b)`, ``num_layers``
    propagation layers, and a linear read-out :math:`H^{(L)}W_{\\text{out}} + b`. The
    propagation layers are, for :math:`\\ell = 1, \\dots, L`,

    .. math::
        \\text{none:}\\quad & H^{(\\ell)} = \\mathrm{ReLU}\\big(\\hat A H^{(\\ell-1)} W_\\ell + b_\\ell\\big) \\quad\\text{(plain GCN layers)},\\\\
        \\text{residual:}\\quad & H^{(\\ell)} = H^{(\\ell-1)} + \\mathrm{ReLU}\\big(\\hat A H^{(\\ell-1)} W_\\ell + b_\\ell\\big),\\\\
        \\text{initial:}\\quad & H^{(\\ell)} = \\mathrm{ReLU}\\Big(\\big((1-\\alpha)\\hat A H^{(\\ell-1)} + \\alpha H^{(0)}\\big)\\big((1-\\beta_\\ell)I + \\beta_\\ell W_\\ell\\big)\\Big)
        \\quad\\text{(GCNII)},

    the last one a stack of :class:`GCN2Conv`, with :math:`\\beta_\\ell = \\log(\\theta/\\ell + 1)`; dropout before every layer (on the
    input too) as in Chen et al. :cite:`chen2020simple`. All three variants share everything
    but the skip connection.

    Args:
        in_channels, hidden_channels, out_channels: input features, width of every hidden layer, classes.
        num_layers: number :math:`L` of propagation layers (the input and read-out layers come on top).
        residual: ``"none"``, ``"residual"`` or ``"initial"`` (GCNII).
        dropout: dropout probability before every layer.
        alpha, theta: GCNII's :math:`\\alpha` and :math:`\\theta` (used by ``"initial"`` only).
        cached, fast: passed to the propagation layers (``cached=True`` is for one fixed graph).

    Shapes:
        x: ``(n, F)`` dense or sparse; edge_index: ``(2, E)``; returns logits ``(n, out_channels)``;
        :meth:`embed` returns ``num_layers + 1`` tensors ``(n, hidden_channels)``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_4_depth`.
    """

    RESIDUALS = ("none", "residual", "initial")

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int,
                 residual: Literal["none", "residual", "initial"] = "none", dropout: float = 0.5,
                 alpha: float = 0.1, theta: float = 0.5, cached: bool = True, fast: bool = True):
        super().__init__()
        in_channels = _check_count(in_channels, "in_channels", 1)
        hidden_channels = _check_count(hidden_channels, "hidden_channels", 1)
        out_channels = _check_count(out_channels, "out_channels", 1)
        num_layers = _check_count(num_layers, "num_layers", 1)
        if residual not in self.RESIDUALS:
            raise ValueError(f"DeepGCN: residual must be one of {self.RESIDUALS}, got {residual!r}")
        if not (isinstance(dropout, (int, float)) and 0.0 <= dropout < 1.0):
            raise ValueError(f"DeepGCN: dropout must be in [0, 1), got {dropout!r}")
        self.residual, self.dropout = residual, float(dropout)
        self.lin_in = nn.Linear(in_channels, hidden_channels)
        if residual == "initial":
            self.convs = nn.ModuleList(GCN2Conv(hidden_channels, alpha, theta, layer=k + 1, cached=cached, fast=fast)
                                       for k in range(num_layers))
        else:
            self.convs = nn.ModuleList(GCNConv(hidden_channels, hidden_channels, cached=cached, fast=fast) for _ in range(num_layers))
        self.lin_out = nn.Linear(hidden_channels, out_channels)

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def embed(self, x: Tensor, edge_index: Tensor) -> list[Tensor]:
        """The hidden representations :math:`H^{(0)}, \\dots, H^{(L)}` (before the read-out)."""
        _check_x(x, self.lin_in.in_features, "DeepGCN")
        x = sparse_dropout(x, self.dropout, self.training) if _sparse.is_sparse(x) else dropout(x, self.dropout, self.training)
        h0 = F.relu(_linear(self.lin_in, x))
        hs, h = [h0], h0
        for conv in self.convs:
            z = dropout(h, self.dropout, self.training)
            if self.residual == "initial":
                h = F.relu(conv(z, h0, edge_index))
            elif self.residual == "residual":
                h = h + F.relu(conv(z, edge_index))
            else:
                h = F.relu(conv(z, edge_index))
            hs.append(h)
        return hs

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        h = self.embed(x, edge_index)[-1]
        return self.lin_out(dropout(h, self.dropout, self.training))

    def param_groups(self, weight_decay: float, conv_weight_decay: float | None = None) -> list[dict]:
        """``weight_decay`` on the input and output layers, ``conv_weight_decay`` (default the
        same) on the propagation layers: Chen et al. use 5e-4 and 1e-2 on Cora."""
        conv_wd = weight_decay if conv_weight_decay is None else conv_weight_decay
        return [dict(params=list(self.lin_in.parameters()) + list(self.lin_out.parameters()), weight_decay=weight_decay),
                dict(params=self.convs.parameters(), weight_decay=conv_wd)]


# ------------------------------------------------------------------ graph-level models
def batch_graphs(graphs: Sequence[tuple]) -> tuple[Tensor, Tensor, Tensor]:
    """Merge graphs ``(x, edge_index)`` into one disjoint union, as PyG's ``Batch``: node
    features stacked, edge indices shifted by the number of nodes before them, and
    ``batch[i]`` = the graph node ``i`` belongs to (block-diagonal adjacency).

    Shapes:
        each x ``(n_k, F)``, edge_index ``(2, E_k)``; returns ``(sum n_k, F)``,
        ``(2, sum E_k)``, ``(sum n_k,)``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_2_expressivity`.
    """
    if isinstance(graphs, (Tensor, str)) or not hasattr(graphs, "__len__") or len(graphs) == 0:
        raise ValueError("batch_graphs needs a non-empty list of (x, edge_index) pairs")
    xs, eis, bs, off = [], [], [], 0
    for k, g in enumerate(graphs):
        if not isinstance(g, (tuple, list)) or len(g) != 2:
            raise ValueError(f"graph {k} must be a pair (x, edge_index), got {type(g).__name__}")
        x, ei = g
        ei, n = check_graph(x, ei)
        if xs and x.shape[1:] != xs[0].shape[1:]:
            raise ValueError(f"graph {k}: x has shape {tuple(x.shape)}, the first graph's features {tuple(xs[0].shape)}; all need the same feature size")
        xs.append(x)
        eis.append(ei + off)
        bs.append(torch.full((n,), k, dtype=torch.long, device=ei.device))
        off += n
    return torch.cat(xs), torch.cat(eis, dim=1), torch.cat(bs)


def global_pool(x: Tensor, batch: Tensor, num_graphs: int | None = None, reduce: str = "sum") -> Tensor:
    """Permutation-invariant read-out, one vector per graph of a batch:

    .. math:: \\mathbf h_G = \\bigoplus_{i:\\ \\text{batch}_i = G}\\mathbf x_i,\\qquad
              \\bigoplus \\in \\{\\text{sum}, \\text{mean}, \\max, \\min\\}

    (PyG's ``global_add_pool`` / ``global_mean_pool`` / ``global_max_pool`` in one function).
    ``num_graphs`` defaults to ``max(batch) + 1``.

    Shapes:
        x ``(n, F)``; batch ``(n,)`` with values in ``[0, num_graphs)``; returns ``(num_graphs, F)``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_2_expressivity`.
    """
    if not isinstance(x, Tensor) or x.dim() == 0:
        raise TypeError(f"x must be a tensor of node features (n, F), got {getattr(x, 'shape', type(x).__name__)}")
    if not isinstance(batch, Tensor) or batch.dim() != 1 or batch.numel() != x.size(0) or batch.dtype.is_floating_point:
        raise ValueError(
            f"batch must be an integer tensor of shape (n,) = ({x.size(0)},) giving each node's graph, got "
            f"{tuple(batch.shape) if isinstance(batch, Tensor) else type(batch).__name__}"
            f"{'' if not isinstance(batch, Tensor) else ' dtype ' + str(batch.dtype)}"
        )
    _check_reduce(reduce)
    try:
        return scatter(x, batch, dim_size=num_graphs, reduce=reduce)
    except ValueError as err:  # name the argument the caller knows
        raise ValueError(str(err).replace("index", "batch").replace("dim_size", "num_graphs")) from None


def triangle_counts(edge_index: Tensor, num_nodes: int | None = None) -> Tensor:
    """Number of triangles through each node, :math:`t_i = (A^3)_{ii}/2`, of a simple undirected
    graph (both directions listed; checked). A substructure count that 1-WL cannot compute.

    Shapes:
        edge_index: ``(2, E)``; returns ``(n,)`` float.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_2_expressivity`.
    """
    edge_index, n = check_graph(None, edge_index, num_nodes)
    if n > 2048:
        raise ValueError(f"triangle_counts builds a dense (n, n) matrix and is meant for small graphs (n <= 2048), got n = {n}")
    A = torch.zeros(n, n).index_put_((edge_index[0], edge_index[1]), torch.ones(edge_index.size(1)), accumulate=True)
    if bool((A > 1).any()) or bool(A.diagonal().any()):
        raise ValueError("triangle_counts needs a simple graph: no repeated edges and no self-loops (use to_undirected and remove_self_loops)")
    if not torch.equal(A, A.t()):
        raise ValueError(
            "triangle_counts needs an undirected graph listing both directions of every edge; "
            "got a directed one (use gdlutils.graphs.to_undirected)"
        )
    return (A @ A @ A).diagonal() / 2


class GraphClassifier(nn.Module):
    """A graph-level model: ``num_layers`` message-passing layers, a read-out
    (:func:`global_pool`), and a linear classifier on the pooled features of all layers.

    ``kind="gin"``: :class:`GINConv` (2-layer MLPs) with sum read-out, as powerful as 1-WL;
    ``kind="mean"``: :class:`MeanConv` + ReLU with mean read-out, which cannot count.

    Shapes:
        x: ``(n, F)``; edge_index: ``(2, E)``; batch: ``(n,)``; returns ``(num_graphs, classes)``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_2_expressivity`.
    """

    def __init__(self, in_channels: int, hidden: int, out_channels: int, num_layers: int = 3, kind: Literal["gin", "mean"] = "gin"):
        super().__init__()
        if kind not in ("gin", "mean"):
            raise ValueError(f"kind must be 'gin' or 'mean', got {kind!r}")
        num_layers = _check_count(num_layers, "num_layers", 1)
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
        if num_graphs is None:
            num_graphs = int(batch.max()) + 1 if isinstance(batch, Tensor) and batch.numel() else 0
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

    Shapes:
        logits ``(n, C)``; y ``(n,)``; mask ``(n,)`` bool.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_3_planetoid`.
    """
    if mask is not None and (not isinstance(mask, Tensor) or mask.dtype != torch.bool or mask.shape != y.shape[:1]):
        raise ValueError(f"mask must be a boolean tensor of shape (n,) = ({y.size(0)},), got {getattr(mask, 'shape', type(mask).__name__)}")
    if mask is not None:
        logits, y = logits[mask], y[mask]
    return _accuracy(logits, y)


@dataclass
class NodeClassificationResult:
    """Outcome of :func:`train_node_classifier`: validation and test accuracy of the selected
    model, the epoch it comes from (counted from 0), the wall time, per-epoch curves, and the
    number of epochs trained.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_3_planetoid`.
    """

    val_acc: float
    test_acc: float
    best_epoch: int
    seconds: float
    history: dict = field(default_factory=dict)
    epochs_run: int = 0


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
    early_stopping: int | None = None,
) -> NodeClassificationResult:
    """Full-batch transductive training with Adam and cross-entropy on ``train_mask``; after
    each epoch one evaluation forward (no dropout) gives validation and test accuracy. Two rules
    pick the model whose test accuracy is reported:

    * ``early_stopping=None`` (default): train all ``epochs`` and report the epoch of best
      validation *accuracy* (the first such epoch), as PyG's examples do;
    * ``early_stopping=w``: the rule of Kipf and Welling's code (tkipf/gcn, ``train.py``, which
      uses ``epochs=200``, ``w=10``): stop after epoch :math:`t` (counted from 0) as soon as
      :math:`t > w` and the validation *loss* exceeds the mean of the :math:`w` epochs before it,

      .. math:: L_{\\text{val}}(t) > \\frac1w \\sum_{s=t-w}^{t-1} L_{\\text{val}}(s),

      and report the model of that last epoch. As in their code the validation loss includes the
      weight-decay term :math:`\\sum_g \\frac{\\lambda_g}{2}\\lVert\\theta_g\\rVert^2` of the
      parameter groups.

    The rule does not change training, only where it stops: with ``keep_history=True`` the
    history holds per-epoch ``"loss"`` (training), ``"val"``, ``"test"`` (accuracies) and
    ``"val_loss"`` (with the penalty), from which either rule can be applied afterwards.

    Uses ``model.param_groups(weight_decay)`` when the model defines it.

    Shapes:
        x ``(n, F)`` dense or sparse; edge_index ``(2, E)``; y ``(n,)``; masks ``(n,)`` bool.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_3_planetoid`.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    edge_index, n = check_graph(x, edge_index)
    if not isinstance(y, Tensor) or y.shape != (n,) or y.dtype.is_floating_point:
        raise ValueError(f"y must be an integer tensor of class labels of shape (n,) = ({n},), got {getattr(y, 'shape', type(y).__name__)}")
    for name, m in (("train_mask", train_mask), ("val_mask", val_mask), ("test_mask", test_mask)):
        if not isinstance(m, Tensor) or m.dtype != torch.bool or m.shape != (n,):
            raise ValueError(f"{name} must be a boolean tensor of shape (n,) = ({n},), got {getattr(m, 'shape', type(m).__name__)}")
    if not bool(train_mask.any()):
        raise ValueError("train_mask selects no node: there is nothing to train on")
    epochs = _check_count(epochs, "epochs", 1)
    if early_stopping is not None:
        early_stopping = _check_count(early_stopping, "early_stopping", 1)
        if not bool(val_mask.any()):
            raise ValueError("early_stopping needs a validation loss, but val_mask selects no node")
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a positive finite number, got {lr}")
    groups = model.param_groups(weight_decay) if hasattr(model, "param_groups") else [dict(params=model.parameters(), weight_decay=weight_decay)]
    opt = torch.optim.Adam(groups, lr=lr)
    y_train, y_val = y[train_mask], y[val_mask]
    best = (-1.0, 0.0, -1)
    hist: dict = {"loss": [], "val": [], "test": [], "val_loss": []}
    val_losses: list[float] = []
    t0 = time.perf_counter()
    epoch = -1
    for epoch in range(epochs):
        model.train()
        opt.zero_grad()
        loss = F.cross_entropy(model(x, edge_index)[train_mask], y_train)
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            logits = model(x, edge_index)
            if early_stopping is not None or keep_history:
                penalty = sum(0.5 * g["weight_decay"] * sum(float((p * p).sum()) for p in g["params"]) for g in opt.param_groups)
                val_losses.append(float(F.cross_entropy(logits[val_mask], y_val)) + penalty)
        correct = logits.argmax(-1) == y
        val, test = float(correct[val_mask].float().mean()), float(correct[test_mask].float().mean())
        if early_stopping is None and val > best[0]:
            best = (val, test, epoch)
        if keep_history:
            hist["loss"].append(loss.item())
            hist["val"].append(val)
            hist["test"].append(test)
            hist["val_loss"].append(val_losses[-1])
        if early_stopping is not None:
            best = (val, test, epoch)  # the model of the last epoch trained
            w = early_stopping
            if epoch > w and val_losses[-1] > sum(val_losses[-w - 1:-1]) / w:
                break
    return NodeClassificationResult(best[0], best[1], best[2], time.perf_counter() - t0, hist if keep_history else {}, epoch + 1)


# ------------------------------------------------------------------ attention analysis
def attention_entropy(alpha: Tensor, edge_index: Tensor, num_nodes: int | None = None) -> Tensor:
    """Entropy of each node's attention distribution over the edges that point to it,

    .. math:: H_i = -\\sum_{j \\to i} \\alpha_{ij} \\log \\alpha_{ij}\\qquad (0 \\log 0 = 0),

    with ``alpha`` as :class:`GATConv` returns it (``return_attention_weights=True``), its
    ``edge_index`` (self-loops included) and one column per head. :math:`0 \\le H_i \\le \\log d_i`
    for a node with :math:`d_i` incoming edges: :math:`\\log d_i` exactly for uniform attention
    :math:`\\alpha_{ij} = 1/d_i` (what a mean aggregation does), 0 when all weight sits on one
    edge. Nodes without incoming edges get 0.

    Shapes:
        alpha ``(E,)`` or ``(E, H)``, non-negative, summing to 1 over the edges into each node;
        edge_index ``(2, E)``; returns ``(n,)`` or ``(n, H)``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_3_planetoid`.
    """
    if not isinstance(alpha, Tensor) or not alpha.dtype.is_floating_point or alpha.dim() not in (1, 2):
        raise TypeError(
            f"alpha must be a floating-point tensor of shape (E,) or (E, heads), got "
            f"{tuple(alpha.shape) if isinstance(alpha, Tensor) else type(alpha).__name__}"
            f"{' dtype ' + str(alpha.dtype) if isinstance(alpha, Tensor) else ''}"
        )
    edge_index, n = check_graph(None, edge_index, num_nodes)
    if alpha.size(0) != edge_index.size(1):
        raise ValueError(f"alpha must have one row per edge: edge_index has {edge_index.size(1)} edges, alpha {alpha.size(0)} rows")
    if not bool(torch.isfinite(alpha).all()) or bool((alpha < 0).any()):
        raise ValueError("alpha must hold finite non-negative attention weights (a softmax over each node's incoming edges)")
    dst = edge_index[1]
    total = scatter(alpha, dst, dim_size=n, reduce="sum")
    has_edges = degree(dst, n) > 0
    if has_edges.any() and not torch.allclose(total[has_edges], torch.ones_like(total[has_edges]), atol=1e-4):
        raise ValueError("alpha must sum to 1 over the edges into each node (normalised attention), it does not; "
                         "pass the coefficients returned by GATConv(..., return_attention_weights=True)")
    plogp = torch.where(alpha > 0, alpha * torch.log(alpha.clamp(min=torch.finfo(alpha.dtype).tiny)), torch.zeros_like(alpha))
    return -scatter(plogp, dst, dim_size=n, reduce="sum")
