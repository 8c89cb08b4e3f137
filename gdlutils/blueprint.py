"""The blueprint of geometric deep learning, as composable blocks.

Given a domain :math:`\\Omega` with symmetry group :math:`\\grp`, the blueprint builds a
:math:`\\grp`-invariant function as

.. math:: f = A \\circ \\sigma \\circ B_J \\circ P_{J-1} \\circ \\dots \\circ P_1 \\circ \\sigma \\circ B_1

from four kinds of blocks:

- :math:`B`: **linear** :math:`\\grp`-**equivariant** layers, :math:`B(\\rho(g)x) = \\rho(g)B(x)`
  (:class:`CyclicConv` for translations of a periodic grid, :class:`GroupConv` for signals over
  a finite group, :class:`PermEquivariantLinear` for permutations of sets and graphs);
- :math:`\\sigma`: a **pointwise non-linearity** (:class:`Pointwise`), equivariant for any action
  that only moves points around;
- :math:`P`: **local pooling** / coarsening (:class:`LocalPool`), equivariant for the coarser
  domain's group;
- :math:`A`: a **global pooling**, :math:`\\grp`-**invariant** (:class:`GlobalPool`).

Composing equivariant maps gives an equivariant map, and an invariant map after an equivariant
one gives an invariant one: :class:`Blueprint` assembles the blocks, and the builders
:func:`grid_blueprint`, :func:`set_blueprint` and :func:`group_blueprint` make a model for
three different groups. :func:`equivariant_basis` computes the space of all equivariant linear
maps between two representations, i.e. what a layer :math:`B` may be.

Introduced in: 3.5, :doc:`/book/03_priors/03_5_blueprint` (the blueprint).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import torch
from torch import nn

from gdlutils.groups import element_index, resolve_group, _key
from gdlutils.multiscale import local_pool
from gdlutils.utils import reset_submodules

__all__ = [
    "CyclicConv",
    "GroupConv",
    "PermEquivariantLinear",
    "Pointwise",
    "LocalPool",
    "GlobalPool",
    "Blueprint",
    "grid_blueprint",
    "set_blueprint",
    "group_blueprint",
    "equivariant_basis",
]


class CyclicConv(nn.Module):
    """Translation-equivariant linear layer on the periodic 1-D or 2-D grid (circular convolution).

    .. math:: (Bx)_{o}(u) = \\sum_i \\sum_{v} w_{o,i}(v)\\, x_i(u + v) + b_o,

    with indices mod the grid size (circular padding), so :math:`B(T_t x) = T_t(Bx)` exactly for
    every translation :math:`T_t`.

    Shapes:
        x: ``(B, C_in, n)`` (``ndim=1``) or ``(B, C_in, H, W)`` (``ndim=2``); output: same
        spatial size, ``C_out`` channels.

    Introduced in: 3.5, :doc:`/book/03_priors/03_5_blueprint`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, *, ndim: int = 1, bias: bool = True):
        super().__init__()
        if kernel_size % 2 == 0 or kernel_size < 1:
            raise ValueError(f"kernel_size must be odd (centred filters), got {kernel_size}")
        if ndim not in (1, 2):
            raise ValueError(f"ndim must be 1 or 2, got {ndim}")
        conv = nn.Conv1d if ndim == 1 else nn.Conv2d
        self.ndim = ndim
        self.conv = conv(in_channels, out_channels, kernel_size, padding=kernel_size // 2,
                         padding_mode="circular", bias=bias)

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != self.ndim + 2 or x.shape[1] != self.conv.in_channels:
            raise ValueError(
                f"CyclicConv expects (B, {self.conv.in_channels}, " + ("n)" if self.ndim == 1 else "H, W)")
                + f", got {tuple(x.shape)}"
            )
        return self.conv(x)


class GroupConv(nn.Module):
    """Equivariant linear layer on signals over a finite group (group convolution).

    .. math:: (Bf)_o(g) = \\sum_i \\sum_{h \\in \\grp} \\psi_{o,i}(g^{-1}h)\\, f_i(h) + b_o,

    one learnable filter value per group element and channel pair. It commutes with the regular
    action :math:`(\\rho(k)f)(h) = f(k^{-1}h)` (:func:`gdlutils.groups.regular_action`); every
    linear map that does is of this form (:func:`equivariant_basis` finds :math:`|\\grp|` basis
    maps per channel pair).

    ``group`` is a finite group object (:class:`~gdlutils.groups.CyclicGroup`,
    :class:`~gdlutils.groups.DihedralGroup`, :class:`~gdlutils.groups.SymmetricGroup`,
    :class:`~gdlutils.groups.P4Group`, ...) or its name (``"C4"``, ``"D4"``, ``"S3"``, and
    ``"p4"`` / ``"p4m"`` for their point groups :math:`C_4` / :math:`D_4`, the group axis of
    :mod:`gdlutils.gconv` feature maps): :func:`gdlutils.groups.resolve_group`.

    Shapes:
        x: ``(B, C_in, |G|)`` (order of ``group.elements()``); output: ``(B, C_out, |G|)``.

    Introduced in: 3.5, :doc:`/book/03_priors/03_5_blueprint`; on p4/p4m feature maps in 5.2.
    """

    def __init__(self, group, in_channels: int, out_channels: int, *, bias: bool = True):
        super().__init__()
        group = resolve_group(group)
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"GroupConv: {name} must be a positive integer, got {v!r}")
        elems = group.elements()
        index = element_index(group)
        self.group, self.order = group, len(elems)
        table = [[index[_key(group.compose(group.inverse(g), h))] for h in elems] for g in elems]
        self.register_buffer("table", torch.tensor(table, dtype=torch.long))  # T[g, h] = idx(g^-1 h)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, self.order))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.in_channels * self.order)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[1] != self.in_channels or x.shape[2] != self.order:
            raise ValueError(f"GroupConv expects (B, {self.in_channels}, {self.order}), got {tuple(x.shape)}")
        o, i, g = self.out_channels, self.in_channels, self.order
        # dense matrix of the layer: K[(o, g), (i, h)] = psi_{o,i}(g^-1 h)
        kernel = self.weight[:, :, self.table].permute(0, 2, 1, 3).reshape(o * g, i * g)
        y = (x.reshape(x.shape[0], i * g) @ kernel.T).reshape(x.shape[0], o, g)
        return y if self.bias is None else y + self.bias[:, None]

    def extra_repr(self) -> str:
        return f"{self.group!r}, {self.in_channels}, {self.out_channels}, bias={self.bias is not None}"


from gdlutils.sets import PermEquivariantLinear  # noqa: E402  (its home is gdlutils.sets, 5.4)


class Pointwise(nn.Module):
    """A pointwise non-linearity :math:`\\sigma`, applied entrywise: :math:`(\\sigma(x))(u) = \\sigma(x(u))`.

    Commutes with any action that moves the points of the domain (translations, rotations of
    the grid, permutations, the regular action), because it does not look at positions.

    Introduced in: 3.5, :doc:`/book/03_priors/03_5_blueprint`.
    """

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor] = torch.relu):
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)


class LocalPool(nn.Module):
    """Local pooling :math:`P` on a grid: mean or max over blocks of ``factor`` (per spatial dim).

    Maps signals on :math:`\\Z_n` to signals on the coarser :math:`\\Z_{n/s}` and commutes with
    translations by multiples of :math:`s` (:func:`gdlutils.multiscale.local_pool`); a
    translation by a non-multiple is *not* mapped to a translation of the coarse grid, so a
    deep model with pooling is only exactly invariant to the subgroup :math:`s\\Z_n`.

    Shapes:
        x: ``(B, C, n)`` or ``(B, C, H, W)``; output: ``(B, C, n/s)`` or ``(B, C, H/s, W/s)``.

    Introduced in: 3.5, :doc:`/book/03_priors/03_5_blueprint`.
    """

    def __init__(self, factor: int = 2, *, ndim: int = 1, reduce: str = "mean"):
        super().__init__()
        if reduce not in ("mean", "max"):
            raise ValueError(f"LocalPool: reduce must be 'mean' or 'max', got {reduce!r}")
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
            raise ValueError(f"LocalPool: factor must be a positive integer, got {factor!r}")
        if ndim not in (1, 2):
            raise ValueError(f"LocalPool: ndim must be 1 or 2, got {ndim!r}")
        self.factor, self.ndim, self.reduce = factor, ndim, reduce

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return local_pool(x, self.factor, ndim=self.ndim, reduce=self.reduce)


class GlobalPool(nn.Module):
    """Invariant global pooling :math:`A`: mean, sum or max over the domain dims.

    :math:`A(x) = \\frac{1}{|\\Omega|}\\sum_{u\\in\\Omega} x(u)` (``mean``) is invariant to every
    permutation of the points of :math:`\\Omega`, hence to any group acting by moving them.

    Shapes:
        x: ``(..., C, *domain)`` with ``dims`` the domain dims; output: the rest.

    Introduced in: 3.5, :doc:`/book/03_priors/03_5_blueprint`.
    """

    def __init__(self, dims: Sequence[int] = (-1,), reduce: str = "mean"):
        super().__init__()
        if reduce not in ("mean", "sum", "max"):
            raise ValueError(f"GlobalPool: reduce must be 'mean', 'sum' or 'max', got {reduce!r}")
        self.dims, self.reduce = tuple(dims), reduce

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"GlobalPool expects a torch.Tensor, got {type(x).__name__}")
        if any(not -x.dim() <= d < x.dim() for d in self.dims):
            raise ValueError(f"GlobalPool(dims={self.dims}) needs a tensor with those dims, got shape {tuple(x.shape)}")
        if self.reduce == "mean":
            return x.mean(self.dims)
        if self.reduce == "sum":
            return x.sum(self.dims)
        return x.amax(self.dims)


class Blueprint(nn.Module):
    """A model assembled from blueprint blocks: ``head(A(blocks(x)))``.

    ``blocks`` run in order; a block with ``takes_graph = True`` (such as
    :class:`PermEquivariantLinear`) also receives the extra arguments of :meth:`forward` (the
    adjacency). ``readout`` is the invariant pooling :math:`A`; ``head`` an optional MLP applied
    to the pooled, invariant features (anything after :math:`A` keeps the invariance).

    Shapes:
        x: the input of the first block (e.g. ``(B, C, H, W)`` on a grid, ``(n, C)`` or
        ``(B, n, C)`` on a set or graph); output: ``(B, out)`` or ``(out,)``, invariant.

    Introduced in: 3.5, :doc:`/book/03_priors/03_5_blueprint`.
    """

    def __init__(self, blocks: Sequence[nn.Module], readout: nn.Module, head: nn.Module | None = None):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.readout = readout
        self.head = head if head is not None else nn.Identity()

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def features(self, x: torch.Tensor, *graph: Any) -> torch.Tensor:
        """The equivariant part, :math:`\\sigma \\circ B_J \\circ \\dots \\circ B_1` (before :math:`A`)."""
        for block in self.blocks:
            x = block(x, *graph) if getattr(block, "takes_graph", False) else block(x)
        return x

    def forward(self, x: torch.Tensor, *graph: Any) -> torch.Tensor:
        return self.head(self.readout(self.features(x, *graph)))


def _head(width: int, out_channels: int) -> nn.Module:
    return nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, out_channels))


def grid_blueprint(
    in_channels: int,
    hidden: Sequence[int] = (8, 16),
    out_channels: int = 1,
    *,
    kernel_size: int = 3,
    ndim: int = 1,
    pool_factor: int = 2,
    pool_reduce: str = "mean",
    readout: str = "mean",
) -> Blueprint:
    """A translation-invariant CNN on the periodic grid: [CyclicConv, ReLU, LocalPool] x J, GlobalPool, MLP.

    No pooling after the last convolution; ``pool_factor=1`` removes local pooling (then the
    model is exactly invariant to *every* translation; with pooling, to multiples of
    ``pool_factor ** (J-1)``).

    Shapes:
        x: ``(B, in_channels, n)`` or ``(B, in_channels, H, W)``; output ``(B, out_channels)``.

    Introduced in: 3.5, :doc:`/book/03_priors/03_5_blueprint`.
    """
    blocks: list[nn.Module] = []
    c = in_channels
    for k, h in enumerate(hidden):
        blocks += [CyclicConv(c, h, kernel_size, ndim=ndim), Pointwise()]
        if pool_factor > 1 and k < len(hidden) - 1:
            blocks.append(LocalPool(pool_factor, ndim=ndim, reduce=pool_reduce))
        c = h
    dims = (-1,) if ndim == 1 else (-2, -1)
    return Blueprint(blocks, GlobalPool(dims, readout), _head(c, out_channels))


from gdlutils.sets import set_blueprint  # noqa: E402  (its home is gdlutils.sets, 5.4)


def group_blueprint(
    group,
    in_channels: int,
    hidden: Sequence[int] = (8, 8),
    out_channels: int = 1,
    *,
    readout: str = "mean",
) -> Blueprint:
    """A :math:`\\grp`-invariant model on signals over a finite group: [GroupConv, ReLU] x J, GlobalPool, MLP.

    Shapes:
        x: ``(B, in_channels, |G|)``; output ``(B, out_channels)``.

    Introduced in: 3.5, :doc:`/book/03_priors/03_5_blueprint`.
    """
    blocks: list[nn.Module] = []
    c = in_channels
    for h in hidden:
        blocks += [GroupConv(group, c, h), Pointwise()]
        c = h
    return Blueprint(blocks, GlobalPool((-1,), readout), _head(c, out_channels))


def equivariant_basis(
    group,
    rho_in: Callable[[Any], torch.Tensor],
    rho_out: Callable[[Any], torch.Tensor] | None = None,
    *,
    generators: Sequence[Any] | None = None,
    tol: float = 1e-8,
) -> torch.Tensor:
    """A basis of the linear maps :math:`W` with :math:`W\\rho_\\text{in}(g) = \\rho_\\text{out}(g)W` for all g.

    Solves the linear constraints (one per element of ``generators``, default all elements;
    generators suffice) as the null space of
    :math:`\\rho_\\text{out}(g) \\otimes I - I \\otimes \\rho_\\text{in}(g)^\\top` (row-major
    vectorisation), by SVD. Its dimension is the number of free parameters of an equivariant
    linear layer: :math:`n` for shifts of :math:`\\Z_n` (circulant matrices), 2 for
    permutations of a set (:math:`aI + b\\mathbf 1\\mathbf 1^\\top`), 15 for permutations
    acting on :math:`n \\times n` matrices (:math:`n\\ge4`) :cite:`maron2019invariant`.

    Shapes:
        ``rho_in(g)``: ``(d_in, d_in)``; ``rho_out(g)``: ``(d_out, d_out)``; output:
        ``(k, d_out, d_in)``, an orthonormal basis (Frobenius inner product).

    Introduced in: 3.5, :doc:`/book/03_priors/03_5_blueprint`.
    """
    rho_out = rho_in if rho_out is None else rho_out
    gens = list(group.elements() if generators is None else generators)
    rows = []
    for g in gens:
        a_in = torch.as_tensor(rho_in(g), dtype=torch.float64)
        a_out = torch.as_tensor(rho_out(g), dtype=torch.float64)
        d_in, d_out = a_in.shape[0], a_out.shape[0]
        rows.append(torch.kron(a_out, torch.eye(d_in, dtype=torch.float64))
                    - torch.kron(torch.eye(d_out, dtype=torch.float64), a_in.T.contiguous()))
    m = torch.cat(rows)
    _, s, vh = torch.linalg.svd(m)
    s_full = torch.zeros(vh.shape[0], dtype=torch.float64)
    s_full[: s.numel()] = s
    null = vh[s_full <= tol * max(1.0, float(s.max()) if s.numel() else 1.0)]
    return null.reshape(-1, d_out, d_in)
