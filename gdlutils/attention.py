"""Self-attention as message passing, the Transformer encoder block, and positional encodings.

Scaled dot-product attention of queries :math:`q_i` over keys and values :math:`k_j, v_j`,

.. math:: \\mathbf h_i = \\sum_{j \\to i} \\alpha_{ij} \\mathbf v_j, \\qquad
          \\alpha_{ij} = \\operatorname{softmax}_{j \\to i}\\Big(\\frac{\\langle \\mathbf q_i, \\mathbf k_j\\rangle}{\\sqrt d}\\Big),

is one round of message passing with softmax aggregation: on the complete graph (every
:math:`j` sends to every :math:`i`) it is the attention of a Transformer, and a mask removes
edges, so masked attention is attention on any graph (:func:`attention_message_passing`, written
with :func:`gdlutils.message_passing.segment_softmax` and :func:`~gdlutils.message_passing.scatter`).
Without positional information it is permutation equivariant; positional encodings
(:func:`sinusoidal_encoding`, :func:`laplacian_encoding`, :func:`random_walk_encoding`) break
that on purpose.

:class:`MultiheadAttention` and :class:`TransformerEncoderLayer` take the arguments, parameter
names and mask conventions of ``torch.nn.MultiheadAttention`` and
``torch.nn.TransformerEncoderLayer`` (a boolean mask is True where attending is *not* allowed),
so ``ours.load_state_dict(theirs.state_dict())`` gives the same outputs. Their readable form is
the message passing above (``fast=False``); the default ``fast=True`` computes the same numbers
as dense batched matrix products (``gdlutils._attention``).

Introduced in: 5.4, :doc:`/book/05_models/05_4_2_transformers`.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gdlutils.graphs import check_edge_index, num_nodes_of
from gdlutils.message_passing import scatter, segment_softmax

__all__ = [
    "complete_graph",
    "attention_message_passing",
    "MultiheadAttention",
    "TransformerEncoderLayer",
    "sinusoidal_encoding",
    "laplacian_encoding",
    "random_sign_flip",
    "random_walk_encoding",
    "csl_graphs",
]


def complete_graph(num_nodes: int, loop: bool = True) -> Tensor:
    """The complete directed graph on ``num_nodes`` nodes: every :math:`j` sends to every
    :math:`i` (and to itself with ``loop=True``), the graph of unmasked self-attention.

    Shapes:
        returns ``(2, n^2)`` (``(2, n(n-1))`` without loops), sorted by target.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_2_transformers`.
    """
    if int(num_nodes) != num_nodes or num_nodes < 1:
        raise ValueError(f"complete_graph: num_nodes must be a positive integer, got {num_nodes!r}")
    idx = torch.arange(num_nodes)
    dst, src = torch.meshgrid(idx, idx, indexing="ij")
    ei = torch.stack([src.reshape(-1), dst.reshape(-1)])
    return ei if loop else ei[:, ei[0] != ei[1]]


def attention_message_passing(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    edge_index: Tensor,
    *,
    bias: Tensor | None = None,
    dropout: float = 0.0,
    training: bool = False,
) -> tuple[Tensor, Tensor]:
    """Multi-head scaled dot-product attention along the edges of a graph.

    For each edge :math:`j \\to i` (``edge_index[0]`` = key/source :math:`j`, ``edge_index[1]``
    = query/target :math:`i`) and head :math:`h`, the score is
    :math:`s_{ij}^h = \\langle q_i^h, k_j^h\\rangle / \\sqrt d + b_{ij}^h`; the scores are
    normalised over the edges into each :math:`i` (:func:`~gdlutils.message_passing.segment_softmax`)
    and the values summed (:func:`~gdlutils.message_passing.scatter`):
    :math:`h_i^h = \\sum_{j \\to i} \\alpha_{ij}^h v_j^h`. Queries and keys may be different sets
    (cross-attention: a bipartite graph). A ``bias`` of :math:`-\\infty` switches an edge off for
    one head. Every query needs at least one edge (in every head): a softmax over nothing is
    undefined, and this raises a ``ValueError`` instead of returning NaN.

    Shapes:
        q: ``(L, H, d)``; k: ``(S, H, d)``; v: ``(S, H, d_v)``; edge_index: ``(2, E)``; bias:
        ``(E, H)``; returns ``(L, H, d_v)`` and the attention weights ``(E, H)``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_2_transformers`.
    """
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, Tensor) or t.dim() != 3:
            raise ValueError(f"attention_message_passing: {name} must be (nodes, heads, channels), got {getattr(t, 'shape', type(t))}")
    L, H, d = q.shape
    if k.shape[1:] != (H, d) or v.shape[:2] != (k.size(0), H):
        raise ValueError(f"attention_message_passing: k must be (S, {H}, {d}) and v (S, {H}, d_v), got {tuple(k.shape)} and {tuple(v.shape)}")
    S = k.size(0)
    edge_index = check_edge_index(edge_index)
    if edge_index.numel() and (int(edge_index[0].max()) >= S or int(edge_index[1].max()) >= L):
        raise ValueError(f"attention_message_passing: edge_index must have sources < {S} (keys) and targets < {L} (queries)")
    src, dst = edge_index[0], edge_index[1]
    scores = (q[dst] * k[src]).sum(-1) / math.sqrt(d)  # (E, H): the message's score
    if bias is not None:
        if bias.shape != scores.shape:
            raise ValueError(f"attention_message_passing: bias must be (E, H) = {tuple(scores.shape)}, got {tuple(bias.shape)}")
        scores = scores + bias
    live = scatter(torch.isfinite(scores).to(q.dtype), dst, dim_size=L, reduce="sum")  # (L, H) edges in
    if bool((live == 0).any()):
        i, h = (live == 0).nonzero()[0].tolist()
        raise ValueError(
            f"attention: query {i} (head {h}) may attend to nothing (every key masked); the softmax over an "
            "empty set is undefined. Allow at least one key per query (e.g. the query itself)."
        )
    alpha = segment_softmax(scores, dst, num_nodes=L)  # (E, H)
    if dropout > 0.0 and training:
        alpha = F.dropout(alpha, p=dropout)
    out = scatter(alpha.unsqueeze(-1) * v[src], dst, dim_size=L, reduce="sum")  # (L, H, d_v)
    return out, alpha


# ------------------------------------------------------------------ nn.MultiheadAttention
def _mask_bias(
    attn_mask: Tensor | None,
    key_padding_mask: Tensor | None,
    B: int,
    H: int,
    L: int,
    S: int,
    dtype: torch.dtype,
    device,
) -> Tensor | None:
    """Both masks of ``nn.MultiheadAttention`` as one additive bias ``(B, H, L, S)`` (0 or
    -inf for boolean masks, True = not allowed; float masks are added), or None."""
    bias = None
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            raise TypeError(f"attn_mask must be a tensor, got {type(attn_mask).__name__}")
        if attn_mask.shape == (L, S):
            m = attn_mask.view(1, 1, L, S)
        elif attn_mask.shape == (B * H, L, S):
            m = attn_mask.view(B, H, L, S)
        else:
            raise ValueError(
                f"attn_mask must be (L, S) = ({L}, {S}) or (batch * num_heads, L, S) = ({B * H}, {L}, {S}), "
                f"got {tuple(attn_mask.shape)}"
            )
        bias = _as_bias(m, "attn_mask", dtype)
    if key_padding_mask is not None:
        if not isinstance(key_padding_mask, Tensor) or key_padding_mask.shape != (B, S):
            raise ValueError(f"key_padding_mask must be (batch, S) = ({B}, {S}), got {getattr(key_padding_mask, 'shape', type(key_padding_mask))}")
        kp = _as_bias(key_padding_mask.view(B, 1, 1, S), "key_padding_mask", dtype)
        bias = kp if bias is None else bias + kp
    return None if bias is None else bias.to(device).expand(B, H, L, S)


def _as_bias(mask: Tensor, name: str, dtype: torch.dtype) -> Tensor:
    if mask.dtype == torch.bool:
        return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(mask, float("-inf"))
    if mask.is_floating_point():
        return mask.to(dtype)
    raise TypeError(f"{name} must be bool (True = not allowed to attend) or float (added to the scores), got {mask.dtype}")


class MultiheadAttention(nn.Module):
    """Multi-head attention with the arguments, parameters and masks of ``torch.nn.MultiheadAttention``.

    .. math:: \\operatorname{MHA}(Q, K, V) = [\\mathbf h^1 \\| \\dots \\| \\mathbf h^H] W_O + b_O, \\qquad
              \\mathbf h^h = \\operatorname{attention}(Q W_Q^h, K W_K^h, V W_V^h)

    where each head's attention is :func:`attention_message_passing` on the complete bipartite
    graph from the keys to the queries, minus the pairs a mask forbids. ``attn_mask`` is ``(L, S)``
    or ``(batch * num_heads, L, S)``, ``key_padding_mask`` is ``(batch, S)``; boolean masks are
    True where attending is *not* allowed, float masks are added to the scores. A query that may
    attend to nothing raises ``ValueError`` (``torch.nn.MultiheadAttention`` returns NaN there).

    ``fast=False`` runs the readable message-passing form; ``fast=True`` (default) the same
    computation as dense batched products (``gdlutils._attention``); they agree to float precision.

    Shapes:
        query: ``(L, N, E)`` (``(N, L, E)`` with ``batch_first``, or unbatched ``(L, E)``); key:
        ``(S, N, kdim)``; value: ``(S, N, vdim)``; returns ``(L, N, E)`` and, with
        ``need_weights``, the weights ``(N, L, S)`` (``(N, H, L, S)`` if not averaged).

    Introduced in: 5.4, :doc:`/book/05_models/05_4_2_transformers`.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        *,
        fast: bool = True,
    ):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be a positive multiple of num_heads ({num_heads})")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self.head_dim = embed_dim // num_heads
        self.batch_first, self.fast = batch_first, fast
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = nn.Parameter(torch.empty(embed_dim, embed_dim))
            self.k_proj_weight = nn.Parameter(torch.empty(embed_dim, self.kdim))
            self.v_proj_weight = nn.Parameter(torch.empty(embed_dim, self.vdim))
            self.register_parameter("in_proj_weight", None)
        self.in_proj_bias = nn.Parameter(torch.empty(3 * embed_dim)) if bias else None
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: Xavier-uniform projections, zero biases."""
        if self._qkv_same_embed_dim:
            nn.init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                nn.init.xavier_uniform_(w)
        self.out_proj.reset_parameters()
        if self.in_proj_bias is not None:
            nn.init.zeros_(self.in_proj_bias)
            nn.init.zeros_(self.out_proj.bias)

    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            wq, wk, wv = self.in_proj_weight.split(E)
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        bq, bk, bv = self.in_proj_bias.split(E) if self.in_proj_bias is not None else (None, None, None)
        return F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)

    def _validate(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        for name, t, c in (("query", query, self.embed_dim), ("key", key, self.kdim), ("value", value, self.vdim)):
            if not isinstance(t, Tensor):
                raise TypeError(f"MultiheadAttention: {name} must be a tensor, got {type(t).__name__}")
            if t.dim() != query.dim() or t.dim() not in (2, 3) or t.size(-1) != c:
                raise ValueError(
                    f"MultiheadAttention: {name} must be ({'L/S, ' if t.dim() == 2 else 'batch and sequence dims, '}{c}) "
                    f"with as many dims as query ({query.dim()}), got {tuple(t.shape)}"
                )
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"MultiheadAttention: key and value need the same sequence and batch dims, got {tuple(key.shape)} and {tuple(value.shape)}")
        if query.dim() == 3:
            b = 0 if self.batch_first else 1
            if query.size(b) != key.size(b):
                raise ValueError(f"MultiheadAttention: query and key have different batch sizes ({query.size(b)} vs {key.size(b)})")

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        self._validate(query, key, value)
        unbatched = query.dim() == 2
        if unbatched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None and key_padding_mask.dim() == 1:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        B, L, _ = query.shape
        S, H, d = key.size(1), self.num_heads, self.head_dim
        if is_causal and attn_mask is None:
            attn_mask = torch.ones(L, S, dtype=torch.bool, device=query.device).triu(1)
        bias = _mask_bias(attn_mask, key_padding_mask, B, H, L, S, query.dtype, query.device)
        q, k, v = self._project(query, key, value)
        q, k, v = q.view(B, L, H, d), k.view(B, S, H, d), v.view(B, S, H, d)
        p = self.dropout if self.training else 0.0
        if self.fast:
            from gdlutils._attention import dense_attention

            out, weights = dense_attention(q, k, v, bias, p, need_weights)
        else:
            out, weights = self._message_passing(q, k, v, bias, need_weights)
        out = self.out_proj(out.reshape(B, L, H * d))
        if weights is not None and average_attn_weights:
            weights = weights.mean(1)
        if unbatched:
            return out.squeeze(0), (weights.squeeze(0) if weights is not None else None)
        return (out if self.batch_first else out.transpose(0, 1)), weights

    def _message_passing(self, q: Tensor, k: Tensor, v: Tensor, bias: Tensor | None, need_weights: bool):
        """The readable form: the batch as one graph whose edges are the allowed (key, query) pairs."""
        B, L, H, d = q.shape
        S = k.size(1)
        allowed = torch.ones(B, L, S, dtype=torch.bool, device=q.device)
        if bias is not None:
            allowed = torch.isfinite(bias).any(1)  # an edge exists if some head may use it
        b, i, j = allowed.nonzero(as_tuple=True)
        edge_index = torch.stack([b * S + j, b * L + i])  # key (source) -> query (target), batch-offset
        edge_bias = bias.permute(0, 2, 3, 1)[b, i, j] if bias is not None else None  # (E, H)
        out, alpha = attention_message_passing(
            q.reshape(B * L, H, d), k.reshape(B * S, H, d), v.reshape(B * S, H, d), edge_index,
            bias=edge_bias, dropout=self.dropout, training=self.training,
        )
        weights = None
        if need_weights:
            weights = q.new_zeros(B, L, S, H)
            weights[b, i, j] = alpha
            weights = weights.permute(0, 3, 1, 2)
        return out.view(B, L, H, d), weights


class TransformerEncoderLayer(nn.Module):
    """A Transformer encoder block with the arguments and parameters of ``torch.nn.TransformerEncoderLayer``:

    .. math:: H = \\operatorname{LN}(X + \\operatorname{MHA}(X, X, X)), \\qquad
              \\operatorname{out} = \\operatorname{LN}(H + W_2\\,\\sigma(W_1 H + b_1) + b_2)

    (``norm_first=True`` moves each LayerNorm in front of its sub-block). Without positional
    encodings it is permutation equivariant: self-attention is message passing on the complete
    graph, and the feed-forward part acts on each element on its own.

    Shapes:
        src: ``(S, N, d_model)`` (``(N, S, d_model)`` with ``batch_first``); src_mask ``(S, S)``;
        src_key_padding_mask ``(N, S)``; returns the shape of ``src``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_2_transformers`.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        *,
        fast: bool = True,
    ):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, fast=fast)
        self.linear1 = nn.Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        if isinstance(activation, str):
            if activation not in ("relu", "gelu"):
                raise ValueError(f"activation must be 'relu', 'gelu' or a callable, got {activation!r}")
            activation = F.relu if activation == "relu" else F.gelu
        self.activation = activation

    def reset_parameters(self) -> None:
        for m in (self.self_attn, self.linear1, self.linear2, self.norm1, self.norm2):
            m.reset_parameters()

    def forward(self, src: Tensor, src_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff(self.norm2(x))
        x = self.norm1(x + self._sa(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff(x))

    def _sa(self, x, mask, pad, is_causal) -> Tensor:
        return self.dropout1(self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=pad, need_weights=False, is_causal=is_causal)[0])

    def _ff(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


# ------------------------------------------------------------------ positional encodings
def sinusoidal_encoding(num_positions: int, dim: int, base: float = 10000.0) -> Tensor:
    """The sinusoidal positional encoding of Vaswani et al. :cite:`vaswani2017attention`:

    .. math:: \\mathrm{PE}_{p, 2m} = \\sin\\big(p / \\text{base}^{2m/\\text{dim}}\\big), \\qquad
              \\mathrm{PE}_{p, 2m+1} = \\cos\\big(p / \\text{base}^{2m/\\text{dim}}\\big).

    Each pair of channels rotates at its own frequency, so :math:`\\mathrm{PE}_{p+t}` is a fixed
    rotation of :math:`\\mathrm{PE}_p` (relative positions are linear functions of the code).

    Shapes:
        returns ``(num_positions, dim)``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_2_transformers`.
    """
    if int(num_positions) != num_positions or num_positions < 1 or int(dim) != dim or dim < 2 or dim % 2:
        raise ValueError(f"sinusoidal_encoding: num_positions must be >= 1 and dim an even number >= 2, got {num_positions}, {dim}")
    p = torch.arange(num_positions, dtype=torch.float64).unsqueeze(1)
    freq = base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    pe = torch.zeros(num_positions, dim, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(p * freq)
    pe[:, 1::2] = torch.cos(p * freq)
    return pe.to(torch.get_default_dtype())


def laplacian_encoding(edge_index: Tensor, num_nodes: int | None = None, k: int = 8, normalization: str | None = "sym") -> Tensor:
    """Laplacian eigenvector positional encoding :cite:`dwivedi2023benchmarking`: the eigenvectors
    of the :math:`k` smallest non-trivial eigenvalues of the (normalised) Laplacian,
    :math:`\\mathrm{PE} = [u_1, \\dots, u_k]` (zero columns when the graph has fewer than
    :math:`k + 1` nodes).

    The encoding is defined only up to symmetries of the eigendecomposition: each :math:`u_m` may
    be replaced by :math:`-u_m` (sign ambiguity; train with :func:`random_sign_flip`), and within
    an eigenspace of dimension > 1 by any orthonormal basis of it (basis ambiguity, which sign
    flips do not cover). A model that reads the encoding is therefore not exactly permutation
    equivariant: that is the point (it breaks the symmetry that makes 1-WL blind), and the price.

    Shapes:
        edge_index: ``(2, E)`` (both directions of each edge); returns ``(n, k)``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_2_transformers`.
    """
    from gdlutils.spectral import laplacian_eigh

    if int(k) != k or k < 1:
        raise ValueError(f"laplacian_encoding: k must be a positive integer, got {k!r}")
    n = num_nodes_of(check_edge_index(edge_index, num_nodes), num_nodes)
    _, U = laplacian_eigh(edge_index, n, normalization=normalization)
    pe = U[:, 1 : k + 1]
    if pe.size(1) < k:
        pe = torch.cat([pe, pe.new_zeros(n, k - pe.size(1))], dim=1)
    return pe.to(torch.get_default_dtype())


def random_sign_flip(pe: Tensor, batch: Tensor | None = None, seed: int | None = None) -> Tensor:
    """Multiply each column of a positional encoding by a random sign :math:`\\pm 1`, independently
    per graph (per value of ``batch``): the data augmentation that teaches a model the sign
    ambiguity of Laplacian eigenvectors :cite:`dwivedi2023benchmarking`.

    Shapes:
        pe: ``(n, k)``; batch: ``(n,)``; returns ``(n, k)``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_2_transformers`.
    """
    if not isinstance(pe, Tensor) or pe.dim() != 2:
        raise ValueError(f"random_sign_flip: pe must be (n, k), got {getattr(pe, 'shape', type(pe))}")
    if batch is None:
        batch = torch.zeros(pe.size(0), dtype=torch.long, device=pe.device)
    if batch.shape != (pe.size(0),):
        raise ValueError(f"random_sign_flip: batch must be ({pe.size(0)},), got {tuple(batch.shape)}")
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    num_graphs = int(batch.max()) + 1 if batch.numel() else 0
    signs = torch.randint(0, 2, (num_graphs, pe.size(1)), generator=g).to(pe.device, pe.dtype) * 2 - 1
    return pe * signs[batch]


def random_walk_encoding(edge_index: Tensor, num_nodes: int | None = None, walk_length: int = 16) -> Tensor:
    """Random-walk positional encoding :cite:`dwivedi2023benchmarking`: the probabilities that a
    random walk started at :math:`i` is back at :math:`i` after :math:`1, \\dots, K` steps,

    .. math:: \\mathrm{PE}_i = \\big[(RW)_{ii}, (RW^2)_{ii}, \\dots, (RW^K)_{ii}\\big], \\qquad RW = A D^{-1}.

    Unlike Laplacian eigenvectors it has no sign or basis ambiguity, so a model that reads it stays
    permutation equivariant; it is weaker (vertex-transitive graphs get one constant code).
    Dense: meant for graphs of up to a few thousand nodes.

    Shapes:
        edge_index: ``(2, E)``; returns ``(n, walk_length)``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_2_transformers`.
    """
    from gdlutils.graphs import adjacency

    if int(walk_length) != walk_length or walk_length < 1:
        raise ValueError(f"random_walk_encoding: walk_length must be a positive integer, got {walk_length!r}")
    n = num_nodes_of(check_edge_index(edge_index, num_nodes), num_nodes)
    if n > 8192:
        raise ValueError(f"random_walk_encoding is dense: {n} nodes is too many (at most 8192)")
    A = adjacency(edge_index, n, dtype=torch.float64)
    if A.is_sparse:
        A = A.to_dense()
    deg = A.sum(0)
    P = A / deg.clamp(min=1)  # column-stochastic where deg > 0: P = A D^-1
    out, M = [], P
    for _ in range(walk_length):
        out.append(M.diagonal())
        M = M @ P
    return torch.stack(out, dim=1).to(torch.get_default_dtype())


# ------------------------------------------------------------------ a data set that needs positions
CSL_SKIPS = (2, 3, 4, 5, 6, 9, 11, 12, 13, 16)


def csl_graphs(num_nodes: int = 41, skips=CSL_SKIPS, relabellings: int = 15, seed: int | None = 0) -> tuple[list[Tensor], Tensor]:
    """The Circular Skip Links graphs :cite:`murphy2019relational` (as in
    :cite:`dwivedi2023benchmarking`): for each skip :math:`r` the 4-regular graph on
    :math:`\\mathbb Z_n` with edges :math:`\\{i, i+1\\}` and :math:`\\{i, i+r\\}` (mod :math:`n`),
    each under ``relabellings`` random relabellings of its nodes; the class is the index of
    :math:`r`. All of them are 4-regular, so 1-WL (and every message-passing network without
    positional information) gives all of them the same colouring.

    Shapes:
        returns ``len(skips) * relabellings`` edge indices ``(2, 4n)`` (both directions) and
        labels ``(len(skips) * relabellings,)``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_2_transformers`.
    """
    if num_nodes < 5 or any(not 1 < r < num_nodes - 1 or 2 * r == num_nodes for r in skips):
        raise ValueError(f"csl_graphs: need num_nodes >= 5 and skips r with 1 < r < num_nodes - 1, 2r != num_nodes; got {num_nodes}, {skips}")
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    i = torch.arange(num_nodes)
    graphs, labels = [], []
    for label, r in enumerate(skips):
        und = torch.cat([torch.stack([i, (i + 1) % num_nodes]), torch.stack([i, (i + r) % num_nodes])], 1)
        base = torch.cat([und, und.flip(0)], 1)
        for _ in range(relabellings):
            perm = torch.randperm(num_nodes, generator=g)  # node u becomes perm[u]
            graphs.append(perm[base])
            labels.append(label)
    return graphs, torch.tensor(labels)
