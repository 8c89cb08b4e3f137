"""Message passing, the readable core: gather, message, scatter.

A graph on :math:`n` nodes is given, as in PyTorch Geometric, by ``edge_index`` of shape
``(2, E)``: column ``e`` is the directed edge :math:`j \\to i` with source
:math:`j` = ``edge_index[0, e]`` and target :math:`i` = ``edge_index[1, e]``. One layer of
message passing computes, for every node :math:`i`,

.. math::

    \\mathbf m_{ij} = \\psi(\\mathbf x_i, \\mathbf x_j, \\mathbf e_{ij}), \\qquad
    \\mathbf h_i = \\bigoplus_{j \\to i} \\mathbf m_{ij},

where :math:`\\bigoplus` is a permutation-invariant aggregation (sum, mean, max, min, or a
softmax-weighted sum). Everything here is whole-tensor gathers (``x[src]``) and scatters
(``index_add_``, ``scatter_reduce``): no Python loop over nodes or edges. The signatures are
PyTorch Geometric's (``scatter``, ``add_self_loops``, ``gcn_norm``, ...), and the tests compare
each function with PyG's on random inputs.

The layers of :mod:`gdlutils.gnn` also have a fast path (a CSR sparse-dense product, in the
private module ``gdlutils._sparse``), tested equal to the functions here.

Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Literal

import torch
from torch import Tensor

from gdlutils.graphs import _check_count, _min_max, check_edge_index, check_edge_weight, num_nodes_of

__all__ = [
    "check_graph",
    "scatter",
    "segment_softmax",
    "propagate",
    "remove_self_loops",
    "add_self_loops",
    "add_remaining_self_loops",
    "gcn_norm",
]

Reduce = Literal["sum", "mean", "max", "min"]
REDUCTIONS = ("sum", "mean", "max", "min")


# ------------------------------------------------------------------ validation (the entrance)
def check_graph(x: Tensor | None, edge_index: Any, num_nodes: int | None = None) -> tuple[Tensor, int]:
    """Validate a graph signal once, at the entrance of a layer or function, and return
    ``(edge_index as torch.long, num_nodes)``.

    ``num_nodes`` defaults to ``x.size(0)`` (or ``max(edge_index) + 1`` when ``x`` is None).
    Checks are vectorised, :math:`O(E)`: one min/max over ``edge_index``.

    Raises:
        TypeError: ``edge_index`` is not a tensor or does not hold integers; ``x`` not a tensor.
        ValueError: ``edge_index`` is not ``(2, E)``; a node index is negative or
            ``>= num_nodes``; ``x`` has a number of rows different from ``num_nodes``.

    Shapes:
        x: ``(n, ...)`` or None; edge_index: ``(2, E)``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
    """
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor of shape (num_nodes, F), got {type(x).__name__}")
    if x is not None and x.dim() == 0:
        raise ValueError("x must have one row per node, got a scalar")
    if num_nodes is None:
        num_nodes = x.size(0) if x is not None else None
    elif x is not None and x.size(0) != num_nodes:
        raise ValueError(f"x has {x.size(0)} rows but the graph has num_nodes = {num_nodes}; expected one row per node")
    edge_index = check_edge_index(edge_index, num_nodes, note=f"x has {num_nodes} rows" if x is not None else "")
    return edge_index, num_nodes_of(edge_index, num_nodes)


def _check_reduce(reduce: Any, name: str = "reduce") -> str:
    if reduce not in REDUCTIONS:
        hint = " ('add' is PyG's older spelling of 'sum')" if reduce == "add" else ""
        raise ValueError(f"{name} must be one of 'sum', 'mean', 'max', 'min', got {reduce!r}{hint}")
    return reduce


def _check_index(index: Any, size: int, dim_size: int | None, what: str = "index") -> tuple[Tensor, int]:
    """A 1-D integer ``index`` of length ``size`` with values in ``[0, dim_size)``; returns
    ``(index as long, dim_size)`` (``dim_size`` defaults to ``max(index) + 1``)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{what} must be a torch.Tensor of shape ({size},) holding integers, got {type(index).__name__}")
    if index.dtype.is_floating_point or index.dtype.is_complex or index.dtype == torch.bool:
        raise TypeError(f"{what} must hold integers (torch.long), got dtype {index.dtype}")
    if index.dim() != 1 or index.numel() != size:
        raise ValueError(f"{what} must have shape ({size},), one entry per row of src, got {tuple(index.shape)}")
    index = index.long()
    lo, hi = _min_max(index) if size else (0, -1)
    dim_size = hi + 1 if dim_size is None else _check_count(dim_size, "dim_size")
    if size and (lo < 0 or hi >= dim_size):
        raise ValueError(f"{what} must lie in [0, dim_size = {dim_size}), got values in [{lo}, {hi}]")
    return index, dim_size


# ------------------------------------------------------------------ scatter / segment operations
def _scatter(src: Tensor, index: Tensor, dim_size: int, reduce: str) -> Tensor:
    """``scatter`` along dim 0 without checks (for callers that have validated ``index``)."""
    out_shape = (dim_size,) + tuple(src.shape[1:])
    if reduce in ("sum", "mean"):
        out = src.new_zeros(out_shape).index_add_(0, index, src)
        if reduce == "mean":
            count = torch.bincount(index, minlength=dim_size).clamp_(min=1).to(src.dtype)
            out = out / count.view((-1,) + (1,) * (src.dim() - 1))
        return out
    idx = index.view((-1,) + (1,) * (src.dim() - 1)).expand_as(src)
    return src.new_zeros(out_shape).scatter_reduce(0, idx, src, reduce="a" + reduce, include_self=False)


def scatter(src: Tensor, index: Tensor, dim: int = 0, dim_size: int | None = None, reduce: Reduce = "sum") -> Tensor:
    """Reduce the slices of ``src`` along ``dim`` into ``dim_size`` buckets, as PyTorch
    Geometric's ``scatter``:

    .. math:: \\text{out}_i = \\bigoplus_{e:\\ \\text{index}_e = i} \\text{src}_e,
              \\qquad \\bigoplus \\in \\{\\text{sum}, \\text{mean}, \\max, \\min\\}.

    Empty buckets give 0 (as in PyG). ``dim_size`` defaults to ``max(index) + 1``. Implemented
    with ``index_add_`` (sum, mean) and ``scatter_reduce`` (max, min), both differentiable.
    Unlike PyG, ``index`` must be 1-D (one bucket per slice of ``src`` along ``dim``).

    Shapes:
        src: ``(..., E, ...)`` (``E`` at ``dim``); index: ``(E,)`` with values in
        ``[0, dim_size)``; returns ``src``'s shape with ``dim_size`` at ``dim``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
    """
    if not isinstance(src, Tensor):
        raise TypeError(f"src must be a torch.Tensor, got {type(src).__name__}")
    if src.dim() == 0:
        raise ValueError("src must have at least one dimension (one slice per entry of index), got a scalar")
    if isinstance(dim, bool) or not isinstance(dim, int) or not -src.dim() <= dim < src.dim():
        raise ValueError(f"dim must be an integer in [{-src.dim()}, {src.dim()}) for src of shape {tuple(src.shape)}, got {dim!r}")
    reduce = _check_reduce(reduce)
    dim = dim % src.dim()
    index, dim_size = _check_index(index, src.size(dim), dim_size)
    if dim == 0:
        return _scatter(src, index, dim_size, reduce)
    return _scatter(src.movedim(dim, 0), index, dim_size, reduce).movedim(0, dim)


def segment_softmax(scores: Tensor, index: Tensor, num_nodes: int | None = None) -> Tensor:
    """Softmax of edge scores over the edges that share a target node (PyG's ``softmax``):

    .. math:: \\alpha_{ij} = \\frac{\\exp(s_{ij} - \\max_{k\\to i} s_{ik})}{\\sum_{k \\to i} \\exp(s_{ik} - \\max_{k\\to i} s_{ik})}.

    The shift by the segment maximum (a constant for the gradient) prevents overflow; a
    :math:`10^{-16}` is added to the denominator exactly as PyTorch Geometric does.

    Shapes:
        scores: ``(E,)`` or ``(E, H)``; index: ``(E,)`` (the target of each edge, in
        ``[0, num_nodes)``); returns the shape of ``scores``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
    """
    if not isinstance(scores, Tensor) or not scores.dtype.is_floating_point or scores.dim() == 0:
        raise TypeError(f"scores must be a floating-point tensor of shape (E,) or (E, H), got {getattr(scores, 'dtype', type(scores).__name__)}")
    index, n = _check_index(index, scores.size(0), num_nodes)
    smax = _scatter(scores.detach(), index, n, "max")
    ex = (scores - smax.index_select(0, index)).exp()
    denom = _scatter(ex, index, n, "sum") + 1e-16
    return ex / denom.index_select(0, index)


def propagate(
    x: Tensor,
    edge_index: Tensor,
    message: Callable[..., Any] | None = None,
    aggr: Reduce | Literal["softmax"] = "sum",
    edge_attr: Tensor | None = None,
    num_nodes: int | None = None,
) -> Tensor:
    """One round of message passing: gather, compute messages, aggregate at the target.

    .. math:: \\mathbf h_i = \\bigoplus_{j \\to i} \\psi(\\mathbf x_i, \\mathbf x_j, \\mathbf e_{ij})

    ``message(x_i, x_j, edge_attr)`` receives the per-edge tensors ``x[dst]``, ``x[src]`` and the
    edge features (or None) and returns the messages; the default message is :math:`\\mathbf x_j`.
    With ``aggr="softmax"`` it must instead return a pair ``(scores, values)`` of shapes
    ``(E, H)`` and ``(E, H, C)``: the result is :math:`\\sum_{j\\to i} \\alpha_{ij} v_{ij}` with
    :math:`\\alpha` = :func:`segment_softmax` of the scores (one softmax per head :math:`H`).

    Shapes:
        x: ``(n, ...)``; edge_index: ``(2, E)``; edge_attr: ``(E, ...)``; returns
        ``(n, ...)`` (the message's trailing shape; ``(n, H, C)`` for softmax).

    Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
    """
    edge_index, n = check_graph(x, edge_index, num_nodes)
    if aggr != "softmax":
        _check_reduce(aggr, "aggr")
    if edge_attr is not None and (not isinstance(edge_attr, Tensor) or edge_attr.dim() == 0 or edge_attr.size(0) != edge_index.size(1)):
        raise ValueError(
            f"edge_attr must be a tensor with one row per edge ({edge_index.size(1)}, ...), got "
            f"{tuple(edge_attr.shape) if isinstance(edge_attr, Tensor) else type(edge_attr).__name__}"
        )
    if message is not None and not callable(message):
        raise TypeError(f"message must be a function message(x_i, x_j, edge_attr), got {type(message).__name__}")
    src, dst = edge_index[0], edge_index[1]
    x_j, x_i = x[src], x[dst]
    if aggr == "softmax":
        if message is None:
            raise ValueError("aggr='softmax' needs a message function returning (scores, values)")
        scores, values = message(x_i, x_j, edge_attr)
        alpha = segment_softmax(scores, dst, num_nodes=n)
        return _scatter(alpha.unsqueeze(-1) * values, dst, n, "sum")
    msg = x_j if message is None else message(x_i, x_j, edge_attr)
    if not isinstance(msg, Tensor) or msg.dim() == 0 or msg.size(0) != edge_index.size(1):
        raise ValueError(f"message must return one row per edge ({edge_index.size(1)}, ...), got {getattr(msg, 'shape', type(msg).__name__)}")
    return _scatter(msg, dst, n, aggr)


# ------------------------------------------------------------------ self-loops and normalisation
def _check_edge_attr(edge_attr: Any, num_edges: int) -> Tensor | None:
    if edge_attr is None:
        return None
    if not isinstance(edge_attr, Tensor):
        hint = " (num_nodes is a keyword argument: add_self_loops(edge_index, num_nodes=n))" if isinstance(edge_attr, (int, float)) else ""
        raise TypeError(f"edge_attr must be a torch.Tensor of shape (E, ...) or None, got {type(edge_attr).__name__}{hint}")
    if edge_attr.dim() == 0 or edge_attr.size(0) != num_edges:
        raise ValueError(f"edge_attr must have one row per edge ({num_edges}, ...), got shape {tuple(edge_attr.shape)}")
    return edge_attr


def _loop_attr(edge_index: Tensor, edge_attr: Tensor, fill_value: Any, n: int) -> Tensor:
    """The attribute of the new self-loops: ``fill_value`` (a number or a tensor of one edge's
    attribute shape; None: 1), or a reduction (``"sum"``, ``"mean"``, ...) of each node's
    incoming edge attributes, as PyG."""
    shape = (n,) + tuple(edge_attr.shape[1:])
    if fill_value is None:
        return edge_attr.new_ones(shape)
    if isinstance(fill_value, str):
        return _scatter(edge_attr, edge_index[1], n, _check_reduce(fill_value, "fill_value"))
    if isinstance(fill_value, (int, float)) and not isinstance(fill_value, bool):
        if not math.isfinite(fill_value):
            raise ValueError(f"fill_value must be finite, got {fill_value}")
        return edge_attr.new_full(shape, fill_value)
    if isinstance(fill_value, Tensor):
        return fill_value.to(edge_attr.dtype).expand(shape).clone()
    raise TypeError(f"fill_value must be None, a number, a tensor or a reduction name, got {type(fill_value).__name__}")


def remove_self_loops(edge_index: Tensor, edge_attr: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """Drop the edges :math:`i \\to i` (and their attributes), as PyG's ``remove_self_loops``.

    Shapes:
        edge_index: ``(2, E)``; edge_attr: ``(E, ...)``; returns ``(2, E')``, ``(E', ...)``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
    """
    edge_index = check_edge_index(edge_index)
    edge_attr = _check_edge_attr(edge_attr, edge_index.size(1))
    keep = edge_index[0] != edge_index[1]
    return edge_index[:, keep], (edge_attr[keep] if edge_attr is not None else None)


def add_self_loops(
    edge_index: Tensor, edge_attr: Tensor | None = None, fill_value: Any = None, num_nodes: int | None = None
) -> tuple[Tensor, Tensor | None]:
    """Append one edge :math:`i \\to i` per node after the existing edges (existing loops are
    kept, so a node may end up with two), as PyG's ``add_self_loops``. The loops' attribute is
    ``fill_value`` (default 1; or ``"sum"``/``"mean"``/``"max"``/``"min"`` of the node's incoming
    edge attributes).

    Shapes:
        edge_index: ``(2, E)``; edge_attr: ``(E, ...)``; returns ``(2, E + n)``, ``(E + n, ...)``.

    Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
    """
    edge_index = check_edge_index(edge_index, num_nodes)
    n = num_nodes_of(edge_index, num_nodes)
    edge_attr = _check_edge_attr(edge_attr, edge_index.size(1))
    loop = torch.arange(n, device=edge_index.device)
    out = torch.cat([edge_index, torch.stack([loop, loop])], dim=1)
    if edge_attr is None:
        return out, None
    return out, torch.cat([edge_attr, _loop_attr(edge_index, edge_attr, fill_value, n)])


def add_remaining_self_loops(
    edge_index: Tensor, edge_attr: Tensor | None = None, fill_value: Any = None, num_nodes: int | None = None
) -> tuple[Tensor, Tensor | None]:
    """Give every node exactly one self-loop, as PyG's ``add_remaining_self_loops``: the other
    edges come first, then the loops :math:`0 \\to 0, \\dots, n-1 \\to n-1`; a node that had a
    loop keeps its attribute, the others get ``fill_value`` (default 1).

    Shapes:
        edge_index: ``(2, E)``; edge_attr: ``(E, ...)``; returns ``(2, E' + n)``,
        ``(E' + n, ...)`` (:math:`E'` the edges that are not loops).

    Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
    """
    edge_index = check_edge_index(edge_index, num_nodes)
    n = num_nodes_of(edge_index, num_nodes)
    edge_attr = _check_edge_attr(edge_attr, edge_index.size(1))
    return _add_remaining_self_loops(edge_index, edge_attr, fill_value, n)


def _add_remaining_self_loops(edge_index: Tensor, edge_attr: Tensor | None, fill_value: Any, n: int):
    """:func:`add_remaining_self_loops` without checks (for callers that have validated)."""
    is_loop = edge_index[0] == edge_index[1]
    loop = torch.arange(n, device=edge_index.device)
    out = torch.cat([edge_index[:, ~is_loop], torch.stack([loop, loop])], dim=1)
    if edge_attr is None:
        return out, None
    loop_attr = _loop_attr(edge_index, edge_attr, fill_value, n)
    loop_attr[edge_index[0, is_loop]] = edge_attr[is_loop]
    return out, torch.cat([edge_attr[~is_loop], loop_attr])


def gcn_norm(
    edge_index: Tensor,
    edge_weight: Tensor | None = None,
    num_nodes: int | None = None,
    improved: bool = False,
    add_self_loops: bool = True,
    dtype: torch.dtype | None = None,
) -> tuple[Tensor, Tensor]:
    """Kipf–Welling renormalisation as edge weights, as PyG's ``gcn_norm``:

    .. math:: \\hat A = \\tilde D^{-1/2}(A + \\lambda I)\\tilde D^{-1/2},\\qquad
              \\hat w_{j\\to i} = \\frac{w_{ji}}{\\sqrt{\\tilde d_j \\tilde d_i}},\\qquad
              \\tilde d_i = \\sum_{j \\to i} w_{ji}

    (in-degrees after adding the loops), :math:`\\lambda` = 1, or 2 if ``improved`` and
    ``edge_weight`` is given (exactly as PyG: without edge weights every entry is 1, loops
    included); the loops come from :func:`add_remaining_self_loops` (an existing loop keeps its
    weight). Nodes with :math:`\\tilde d = 0` get weight 0.

    Shapes:
        edge_index: ``(2, E)``; edge_weight: ``(E,)``; returns ``(2, E')`` and ``(E',)``
        (:math:`E' = E + n` minus existing self-loops when ``add_self_loops``).

    Introduced in: 5.3, :doc:`/book/05_models/05_3_1_message_passing`.
    """
    edge_index = check_edge_index(edge_index, num_nodes)
    n = num_nodes_of(edge_index, num_nodes)
    if edge_weight is not None:
        edge_weight = check_edge_weight(edge_weight, edge_index.size(1))
    return _gcn_norm(edge_index, edge_weight, n, improved, add_self_loops, dtype)


def _gcn_norm(edge_index: Tensor, edge_weight: Tensor | None, n: int, improved: bool, add_self_loops: bool,
              dtype: torch.dtype | None) -> tuple[Tensor, Tensor]:
    """:func:`gcn_norm` without checks (for callers that have validated)."""
    if edge_weight is None:
        w = torch.ones(edge_index.size(1), dtype=dtype or torch.get_default_dtype(), device=edge_index.device)
    else:
        w = edge_weight.to(dtype) if dtype is not None else edge_weight
    if add_self_loops:  # as PyG: without edge weights every entry is 1, loops included
        fill = 2.0 if improved and edge_weight is not None else 1.0
        edge_index, w = _add_remaining_self_loops(edge_index, w, fill, n)
    src, dst = edge_index[0], edge_index[1]
    deg = _scatter(w, dst, n, "sum")
    d_inv_sqrt = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
    return edge_index, d_inv_sqrt[src] * w * d_inv_sqrt[dst]
