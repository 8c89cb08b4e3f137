"""Functions and layers on sets: Deep Sets, the permutation-equivariant linear layer, set
pooling, and the Set Transformer blocks.

A set of :math:`n` elements with :math:`C` features is stored as a matrix
:math:`X \\in \\mathbb R^{n \\times C}` whose row order carries no information. Its symmetry
group is :math:`S_n`; following the book's convention a permutation is a tensor ``perm`` with
``perm[u]`` :math:`= \\pi(u)`, its matrix has :math:`P_{\\pi(u), u} = 1`, so
:math:`(PX)_{\\pi(u)} = X_u`, computed by :func:`permute_set` as ``x[inverse(perm)]``.

- invariant functions (one output per set) are, essentially, sum decompositions
  :math:`f(X) = \\rho\\big(\\bigoplus_u \\varphi(x_u)\\big)` (:class:`DeepSets`, :func:`set_pool`);
- the linear equivariant maps are :math:`X\\Theta_1 + \\tfrac1n \\mathbf 1\\mathbf 1^\\top X\\Theta_2`
  (:class:`PermEquivariantLinear`, which with one channel is :math:`\\lambda I + \\gamma \\mathbf 1\\mathbf 1^\\top`);
- attention gives non-linear equivariant layers (:class:`MAB`, :class:`SAB`, :class:`ISAB`) and an
  invariant pooling (:class:`PMA`), the blocks of the Set Transformer of Lee et al.

Batches of sets come in two layouts: *flat* ``(N, C)`` with a ``batch`` vector (as PyTorch
Geometric; sets of different sizes) or *dense* ``(B, n, C)`` with an optional ``mask``
``(B, n)`` that is True where an element is present (as PyG's ``to_dense_batch``).

Introduced in: 5.4, :doc:`/book/05_models/05_4_1_deep_sets`.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from gdlutils.attention import MultiheadAttention
from gdlutils.gnn import mlp
from gdlutils.message_passing import scatter
from gdlutils.utils import reset_submodules

__all__ = [
    "permute_set",
    "stack_sets",
    "to_dense_batch",
    "set_pool",
    "PermEquivariantLinear",
    "set_blueprint",
    "DeepSets",
    "MAB",
    "SAB",
    "ISAB",
    "PMA",
    "SetTransformer",
]

_REDUCES = ("sum", "mean", "max")


# ------------------------------------------------------------------ actions and batches
def permute_set(perm: Tensor, x: Tensor) -> Tensor:
    """The action of :math:`\\pi \\in S_n` on a set (or a dense batch of sets): :math:`X \\mapsto PX`.

    With ``perm[u]`` :math:`=\\pi(u)` and :math:`P_{\\pi(u), u} = 1`, element :math:`u` moves to
    position :math:`\\pi(u)`: :math:`(PX)_{\\pi(u)} = X_u`, i.e. ``x[inverse(perm)]`` along the
    set dimension (``-2``). Use it as ``rho_in`` of :func:`gdlutils.groups.check_equivariance`.

    Shapes:
        perm: ``(n,)``; x: ``(n, C)`` or ``(B, n, C)``; returns the shape of ``x``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_1_deep_sets`.
    """
    if not isinstance(x, Tensor) or x.dim() not in (2, 3):
        raise ValueError(f"permute_set: x must be a set (n, C) or a batch of sets (B, n, C), got {getattr(x, 'shape', type(x))}")
    n = x.size(-2)
    perm = torch.as_tensor(perm, device=x.device).long()
    if perm.shape != (n,) or not torch.equal(torch.sort(perm).values, torch.arange(n, device=x.device)):
        raise ValueError(f"permute_set: perm must be a permutation of range({n}) (the set size), got shape {tuple(perm.shape)}")
    return x.index_select(-2, torch.argsort(perm))


def stack_sets(sets: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
    """Sets of different sizes as one flat tensor and a ``batch`` vector (``batch[u]`` = the set
    element ``u`` belongs to), the layout :func:`set_pool` and :class:`DeepSets` take.

    Shapes:
        sets: ``K`` tensors ``(n_k, C)``; returns ``(sum n_k, C)`` and ``(sum n_k,)``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_1_deep_sets`.
    """
    sets = list(sets)
    if not sets or not all(isinstance(s, Tensor) and s.dim() == 2 for s in sets):
        raise ValueError("stack_sets expects a non-empty list of (n_k, C) tensors")
    if len({s.size(1) for s in sets}) != 1:
        raise ValueError(f"stack_sets: all sets need the same number of channels, got {sorted({s.size(1) for s in sets})}")
    sizes = torch.tensor([s.size(0) for s in sets], device=sets[0].device)
    return torch.cat(sets), torch.repeat_interleave(torch.arange(len(sets), device=sets[0].device), sizes)


def _check_batch(x: Tensor, batch: Tensor | None, what: str) -> tuple[Tensor, int]:
    if isinstance(x, (list, tuple)):
        raise TypeError(
            f"{what}: got a list of {len(x)} sets; sets of different sizes need one flat tensor and a "
            "batch vector: x, batch = gdlutils.sets.stack_sets(sets)"
        )
    if not isinstance(x, Tensor) or x.dim() != 2:
        raise ValueError(f"{what}: x must be a flat (N, C) tensor of set elements, got {getattr(x, 'shape', type(x))}")
    if batch is None:
        return torch.zeros(x.size(0), dtype=torch.long, device=x.device), 1
    if not isinstance(batch, Tensor) or batch.dim() != 1 or batch.size(0) != x.size(0):
        raise ValueError(f"{what}: batch must be a (N,) = ({x.size(0)},) vector, got {getattr(batch, 'shape', type(batch))}")
    if batch.dtype in (torch.float16, torch.float32, torch.float64, torch.bool):
        raise TypeError(f"{what}: batch must hold integer set ids, got dtype {batch.dtype}")
    if batch.numel() and int(batch.min()) < 0:
        raise ValueError(f"{what}: batch holds negative set ids")
    return batch.long(), (int(batch.max()) + 1 if batch.numel() else 0)


def to_dense_batch(x: Tensor, batch: Tensor | None = None, fill_value: float = 0.0) -> tuple[Tensor, Tensor]:
    """Flat sets to a dense, padded batch, as PyTorch Geometric's ``to_dense_batch``.

    ``batch`` must be sorted (the elements of each set contiguous). The mask is True where an
    element is present (so ``~mask`` is a ``key_padding_mask`` of :class:`~gdlutils.attention.MultiheadAttention`).

    Shapes:
        x: ``(N, C)``; batch: ``(N,)``; returns ``(B, n_max, C)`` and ``(B, n_max)`` bool.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_1_deep_sets`.
    """
    batch, num_sets = _check_batch(x, batch, "to_dense_batch")
    if batch.numel() > 1 and bool((batch[1:] < batch[:-1]).any()):
        raise ValueError("to_dense_batch: batch must be sorted (elements of each set contiguous); sort x and batch by batch")
    sizes = torch.bincount(batch, minlength=num_sets)
    n_max = int(sizes.max()) if num_sets else 0
    start = torch.cumsum(sizes, 0) - sizes
    pos = torch.arange(x.size(0), device=x.device) - start[batch]
    out = x.new_full((num_sets, n_max, x.size(1)), fill_value)
    out[batch, pos] = x
    mask = torch.zeros(num_sets, n_max, dtype=torch.bool, device=x.device)
    mask[batch, pos] = True
    return out, mask


def set_pool(x: Tensor, batch: Tensor | None = None, reduce: str = "sum", num_sets: int | None = None) -> Tensor:
    """Permutation-invariant pooling of each set: :math:`\\bigoplus_{u \\in S} x_u` with
    :math:`\\bigoplus` a sum, mean or max.

    Written with :func:`gdlutils.message_passing.scatter`: a set is a graph with no edges, and
    pooling is one message from every element to a node that stands for the whole set.

    Shapes:
        x: ``(N, C)``; batch: ``(N,)`` (None: one set); returns ``(num_sets, C)``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_1_deep_sets`.
    """
    if reduce not in _REDUCES:
        raise ValueError(f"set_pool: reduce must be one of {_REDUCES}, got {reduce!r}")
    batch, found = _check_batch(x, batch, "set_pool")
    num_sets = found if num_sets is None else num_sets
    if found > num_sets:
        raise ValueError(f"set_pool: batch holds set id {found - 1} but num_sets = {num_sets}")
    return scatter(x, batch, dim_size=num_sets, reduce=reduce)


# ------------------------------------------------------------------ linear equivariant layer
class PermEquivariantLinear(nn.Module):
    """Permutation-equivariant linear layer on sets (and graphs).

    .. math:: B(X) = X\\Theta_1 + \\tfrac{1}{n}\\mathbf 1 \\mathbf 1^\\top X \\Theta_2 \\;[+ A X \\Theta_3] + \\mathbf 1 b^\\top,

    the general linear permutation-equivariant map on sets :cite:`zaheer2017deep` (each element's
    own features plus the set's mean; with one channel in and out it is the matrix
    :math:`\\lambda I + \\tfrac{\\gamma}{n} \\mathbf 1\\mathbf 1^\\top`), with an optional
    neighbourhood term :math:`AX\\Theta_3` when an adjacency matrix is given (then
    :math:`B(PX, PAP^\\top) = PB(X, A)`).

    Shapes:
        x: ``(n, C_in)`` or ``(B, n, C_in)``; adjacency: ``(n, n)`` or ``(B, n, n)``; output:
        ``(..., n, C_out)``.

    Introduced in: 3.5; GNN layers in 5.3, Deep Sets in 5.4, :doc:`/book/05_models/05_4_1_deep_sets`.
    """

    takes_graph = True

    def __init__(self, in_channels: int, out_channels: int, *, graph: bool = True, bias: bool = True):
        super().__init__()
        self.own = nn.Linear(in_channels, out_channels, bias=bias)
        self.mean = nn.Linear(in_channels, out_channels, bias=False)
        self.nbr = nn.Linear(in_channels, out_channels, bias=False) if graph else None
        self.in_channels = in_channels

    def reset_parameters(self) -> None:
        for m in (self.own, self.mean, self.nbr):
            if m is not None:
                m.reset_parameters()

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() not in (2, 3) or x.shape[-1] != self.in_channels:
            raise ValueError(f"PermEquivariantLinear expects (..., n, {self.in_channels}), got {tuple(x.shape)}")
        y = self.own(x) + self.mean(x.mean(-2, keepdim=True))
        if self.nbr is not None:
            if adjacency is None:
                raise ValueError("this layer was built with graph=True: pass the adjacency matrix")
            if adjacency.shape[-1] != x.shape[-2] or adjacency.shape[-2] != x.shape[-2]:
                raise ValueError(f"adjacency must be (..., {x.shape[-2]}, {x.shape[-2]}), got {tuple(adjacency.shape)}")
            y = y + self.nbr(adjacency.to(x.dtype) @ x)
        return y


def set_blueprint(
    in_channels: int,
    hidden: Sequence[int] = (16, 16),
    out_channels: int = 1,
    *,
    graph: bool = True,
    readout: str = "mean",
):
    """A permutation-invariant model on sets/graphs: [PermEquivariantLinear, ReLU] x J, GlobalPool, MLP.

    Call as ``model(X, A)`` (or ``model(X)`` with ``graph=False``). No local pooling (graph
    coarsening is not, in general, permutation equivariant). Returns a
    :class:`gdlutils.blueprint.Blueprint`.

    Shapes:
        X: ``(n, in_channels)`` or ``(B, n, in_channels)``; output ``(out_channels,)`` or
        ``(B, out_channels)``.

    Introduced in: 3.5; Deep Sets in 5.4, :doc:`/book/05_models/05_4_1_deep_sets`.
    """
    from gdlutils.blueprint import Blueprint, GlobalPool, Pointwise, _head  # blueprint imports this module

    blocks: list[nn.Module] = []
    c = in_channels
    for h in hidden:
        blocks += [PermEquivariantLinear(c, h, graph=graph), Pointwise()]
        c = h
    return Blueprint(blocks, GlobalPool((-2,), readout), _head(c, out_channels))


# ------------------------------------------------------------------ Deep Sets
class DeepSets(nn.Module):
    """Deep Sets :cite:`zaheer2017deep`: the sum decomposition

    .. math:: f(X) = \\rho\\Big(\\bigoplus_{u \\in X} \\varphi(x_u)\\Big)

    with :math:`\\varphi` and :math:`\\rho` MLPs of ``num_layers`` linear layers each (width
    ``hidden_channels``, ReLU between) and :math:`\\bigoplus` a sum, mean or max
    (:func:`set_pool`). Invariant to every permutation of each set, because the pooling is.

    Shapes:
        x: ``(N, in_channels)``; batch: ``(N,)`` (None: one set); returns ``(num_sets, out_channels)``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_1_deep_sets`.
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, *, reduce: str = "sum", num_layers: int = 4):
        super().__init__()
        if reduce not in _REDUCES:
            raise ValueError(f"DeepSets: reduce must be one of {_REDUCES}, got {reduce!r}")
        if num_layers < 1:
            raise ValueError(f"DeepSets: num_layers must be >= 1, got {num_layers}")
        self.in_channels, self.reduce = in_channels, reduce
        self.phi = mlp([in_channels] + [hidden_channels] * num_layers)
        self.rho = mlp([hidden_channels] * num_layers + [out_channels])

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def forward(self, x: Tensor, batch: Tensor | None = None, num_sets: int | None = None) -> Tensor:
        _check_batch(x, batch, "DeepSets")
        if x.size(1) != self.in_channels:
            raise ValueError(f"DeepSets: x must be (N, {self.in_channels}), got {tuple(x.shape)}")
        return self.rho(set_pool(self.phi(x), batch, reduce=self.reduce, num_sets=num_sets))


# ------------------------------------------------------------------ Set Transformer
def _check_dense(x: Tensor, channels: int, what: str) -> None:
    if isinstance(x, (list, tuple)):
        raise TypeError(f"{what}: got a list of sets; pad them with gdlutils.sets.to_dense_batch(*stack_sets(sets)) and pass the mask")
    if not isinstance(x, Tensor) or x.dim() != 3 or x.size(-1) != channels:
        raise ValueError(f"{what}: x must be a dense batch (B, n, {channels}), got {getattr(x, 'shape', type(x))}")


def _padding(mask: Tensor | None, x: Tensor, what: str) -> Tensor | None:
    """Element mask (True = present) to a key padding mask (True = ignore)."""
    if mask is None:
        return None
    if mask.dtype != torch.bool or mask.shape != x.shape[:2]:
        raise ValueError(f"{what}: mask must be a bool (B, n) = {tuple(x.shape[:2])} tensor (True = element present), got {mask.dtype} {tuple(mask.shape)}")
    if not bool(mask.any(1).all()):
        raise ValueError(f"{what}: a set in the batch has no element (a row of mask is all False)")
    return ~mask


class MAB(nn.Module):
    """Multihead attention block of the Set Transformer :cite:`lee2019set`:

    .. math:: H = X' + \\operatorname{Multihead}(X', Y, Y), \\qquad \\operatorname{MAB}(X, Y) = H + \\operatorname{ReLU}(H W + b),

    with :math:`X' = X W_q` a linear map to ``out_channels`` (as the authors' code does, so that
    the residual is defined when the widths differ) and, with ``layer_norm=True``, a LayerNorm
    after each sum (the paper's form; the authors' max-regression model has none). Equivariant in
    the rows of :math:`X` and invariant to permutations of the rows of :math:`Y`.

    Shapes:
        x: ``(B, n, in_channels)``; y: ``(B, m, y_channels)``; y_mask: ``(B, m)`` bool (True =
        present); returns ``(B, n, out_channels)``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_1_deep_sets`.
    """

    def __init__(self, in_channels: int, y_channels: int, out_channels: int, num_heads: int, *, layer_norm: bool = False):
        super().__init__()
        self.in_channels, self.y_channels = in_channels, y_channels
        self.lin_q = nn.Linear(in_channels, out_channels)
        self.attn = MultiheadAttention(out_channels, num_heads, kdim=y_channels, vdim=y_channels, batch_first=True)
        self.lin_o = nn.Linear(out_channels, out_channels)
        self.norm0 = nn.LayerNorm(out_channels) if layer_norm else nn.Identity()
        self.norm1 = nn.LayerNorm(out_channels) if layer_norm else nn.Identity()

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def forward(self, x: Tensor, y: Tensor, y_mask: Tensor | None = None) -> Tensor:
        _check_dense(x, self.in_channels, type(self).__name__)
        _check_dense(y, self.y_channels, type(self).__name__)
        q = self.lin_q(x)
        h = self.norm0(q + self.attn(q, y, y, key_padding_mask=_padding(y_mask, y, type(self).__name__), need_weights=False)[0])
        return self.norm1(h + torch.relu(self.lin_o(h)))


class SAB(nn.Module):
    """Set attention block :math:`\\operatorname{SAB}(X) = \\operatorname{MAB}(X, X)` :cite:`lee2019set`:
    self-attention among the elements, permutation equivariant. Cost :math:`O(n^2)`.

    Shapes:
        x: ``(B, n, in_channels)``; mask: ``(B, n)`` bool (True = present); returns ``(B, n, out_channels)``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_1_deep_sets`.
    """

    def __init__(self, in_channels: int, out_channels: int, num_heads: int, *, layer_norm: bool = False):
        super().__init__()
        self.mab = MAB(in_channels, in_channels, out_channels, num_heads, layer_norm=layer_norm)

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        return self.mab(x, x, mask)


class ISAB(nn.Module):
    """Induced set attention block :cite:`lee2019set`: ``num_inducing`` learned points :math:`I`
    attend to the set, and the set attends to the result,

    .. math:: \\operatorname{ISAB}(X) = \\operatorname{MAB}(X, H), \\quad H = \\operatorname{MAB}(I, X),

    permutation equivariant at cost :math:`O(nm)` instead of :math:`O(n^2)`.

    Shapes:
        x: ``(B, n, in_channels)``; mask: ``(B, n)`` bool; returns ``(B, n, out_channels)``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_1_deep_sets`.
    """

    def __init__(self, in_channels: int, out_channels: int, num_heads: int, num_inducing: int, *, layer_norm: bool = False):
        super().__init__()
        self.inducing = nn.Parameter(torch.empty(1, num_inducing, out_channels))
        self.mab0 = MAB(out_channels, in_channels, out_channels, num_heads, layer_norm=layer_norm)
        self.mab1 = MAB(in_channels, out_channels, out_channels, num_heads, layer_norm=layer_norm)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.inducing)
        reset_submodules(self)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        h = self.mab0(self.inducing.expand(x.size(0), -1, -1), x, mask)
        return self.mab1(x, h)


class PMA(nn.Module):
    """Pooling by multihead attention :cite:`lee2019set`: ``num_seeds`` learned seed vectors
    :math:`S` attend to the set, :math:`\\operatorname{PMA}(X) = \\operatorname{MAB}(S, X)`.

    Permutation *invariant* (the seeds do not move; a weighted average over the elements does not
    see their order); with one seed it is a learned, input-dependent pooling.

    Shapes:
        x: ``(B, n, channels)``; mask: ``(B, n)`` bool; returns ``(B, num_seeds, channels)``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_1_deep_sets`.
    """

    def __init__(self, channels: int, num_heads: int, num_seeds: int = 1, *, layer_norm: bool = False):
        super().__init__()
        self.seeds = nn.Parameter(torch.empty(1, num_seeds, channels))
        self.mab = MAB(channels, channels, channels, num_heads, layer_norm=layer_norm)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.seeds)
        reset_submodules(self)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        _check_dense(x, self.seeds.size(-1), "PMA")
        return self.mab(self.seeds.expand(x.size(0), -1, -1), x, mask)


class SetTransformer(nn.Module):
    """The Set Transformer :cite:`lee2019set`: an encoder of ``num_sabs`` :class:`SAB` blocks (or
    :class:`ISAB` with ``num_inducing``), a decoder :class:`PMA` with one seed, and a linear map:

    .. math:: f(X) = \\operatorname{PMA}(\\operatorname{SAB}(\\operatorname{SAB}(X)))\\,W + b,

    invariant to permutations of each set (equivariant encoder, invariant pooling). The
    max-regression model of the paper has two SABs, width 64, 4 heads and no LayerNorm.

    Shapes:
        x: ``(B, n, in_channels)``; mask: ``(B, n)`` bool (True = present); returns ``(B, out_channels)``.

    Introduced in: 5.4, :doc:`/book/05_models/05_4_1_deep_sets`.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        num_heads: int = 4,
        *,
        num_sabs: int = 2,
        num_inducing: int | None = None,
        layer_norm: bool = False,
    ):
        super().__init__()
        blocks = []
        c = in_channels
        for _ in range(num_sabs):
            if num_inducing is None:
                blocks.append(SAB(c, hidden_channels, num_heads, layer_norm=layer_norm))
            else:
                blocks.append(ISAB(c, hidden_channels, num_heads, num_inducing, layer_norm=layer_norm))
            c = hidden_channels
        self.encoder = nn.ModuleList(blocks)
        self.pool = PMA(c, num_heads, 1, layer_norm=layer_norm)
        self.lin = nn.Linear(c, out_channels)

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        for block in self.encoder:
            x = block(x, mask)
            if mask is not None:
                x = x * mask.unsqueeze(-1)  # padded rows stay zero (they are never attended to)
        return self.lin(self.pool(x, mask).squeeze(1))
