"""E(n)-equivariant message passing: EGNN and the baselines of its N-body experiment.

A *geometric graph* carries, on every node :math:`i`, features :math:`\\mathbf h_i` that do not
change when the whole configuration is moved (charges, atom types, speeds: invariant) and
coordinates :math:`\\mathbf x_i \\in \\mathbb R^d` that move with it (equivariant). Under an
element :math:`x \\mapsto Qx + t` of :math:`E(d)` and a permutation :math:`P` of the nodes, a
layer :math:`(\\mathbf h, \\mathbf x) \\mapsto (\\mathbf h', \\mathbf x')` should satisfy

.. math:: \\mathbf h'(P\\mathbf h, P\\mathbf x Q^\\top + t) = P\\mathbf h', \\qquad
          \\mathbf x'(P\\mathbf h, P\\mathbf x Q^\\top + t) = P\\mathbf x' Q^\\top + t.

The E(n)-equivariant graph neural network (EGNN) of Satorras, Hoogeboom and Welling (2021)
achieves this with messages that see the geometry only through squared distances and move
coordinates only along differences :math:`\\mathbf x_i - \\mathbf x_j` (:class:`EGNNConv`).

What is here:

- :class:`EGNNConv` (equations 3-6 of the paper, and the velocity form of equation 7) and the
  stack :class:`EGNN`, on the gather/scatter core of :mod:`gdlutils.message_passing`;
- the N-body models of the paper's Table 2, each a map ``(loc, vel, charges) -> positions``:
  :class:`NBodyEGNN`, :class:`NBodyGNN` (a plain message-passing network that reads
  coordinates as features, hence not equivariant), :class:`NBodyRadialField` (the radial field
  of Köhler et al. 2019) and :class:`LinearDynamics` (:math:`\\mathbf x + t\\mathbf v` with a
  fitted :math:`t`);
- :func:`fully_connected_edge_index` for batches of complete graphs, and :func:`fit_nbody`, the
  training protocol of the paper (Adam, MSE, batches of 100, model chosen at the best
  validation epoch).

The data set is in :mod:`gdlutils.nbody`; the groups :class:`gdlutils.groups.E3` and
:class:`gdlutils.groups.O3` and their actions in :mod:`gdlutils.groups`.

Introduced in: 5.5, :doc:`/book/05_models/05_5_1_egnn`.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from gdlutils import _fast_equivariant as _fast
from gdlutils.message_passing import check_graph, scatter
from gdlutils.utils import reset_submodules

__all__ = [
    "EGNNConv",
    "EGNN",
    "fully_connected_edge_index",
    "NBodyEGNN",
    "NBodyGNN",
    "NBodyRadialField",
    "LinearDynamics",
    "nbody_mse",
    "NBodyResult",
    "fit_nbody",
]


def _check_float(t, shape_text: str, what: str, last: int | None = None) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{what} must be a torch.Tensor of shape {shape_text}, got {type(t).__name__}")
    if not t.is_floating_point():
        raise TypeError(f"{what} must be a floating-point tensor, got dtype {t.dtype}")
    if t.dim() != 2 or (last is not None and t.shape[1] != last):
        raise ValueError(f"{what} must have shape {shape_text}, got {tuple(t.shape)}")
    return t


def _small_init(linear: nn.Linear, gain: float = 0.001) -> None:
    """Xavier init scaled down, as the reference code does for the last coordinate layer: the
    network starts close to the identity on coordinates, which keeps the first steps stable."""
    nn.init.xavier_uniform_(linear.weight, gain=gain)
    if linear.bias is not None:
        nn.init.zeros_(linear.bias)


class EGNNConv(nn.Module):
    """One E(n)-equivariant graph convolutional layer (Satorras et al. 2021, equations 3-6):

    .. math::

        \\mathbf m_{ij} &= \\phi_e\\big(\\mathbf h_i, \\mathbf h_j, \\lVert \\mathbf x_i - \\mathbf x_j\\rVert^2, a_{ij}\\big) \\\\
        \\mathbf x_i' &= \\mathbf x_i + C \\textstyle\\sum_{j \\to i} (\\mathbf x_i - \\mathbf x_j)\\, \\phi_x(\\mathbf m_{ij}) \\\\
        \\mathbf h_i' &= \\phi_h\\big(\\mathbf h_i, \\textstyle\\sum_{j \\to i} \\mathbf m_{ij}\\big)

    with :math:`C = 1/|\\mathcal N(i)|` (``coords_aggr="mean"``, as the reference code) or
    :math:`C = 1` (``"sum"``). With ``velocity=True`` it is the dynamics form (equation 7),
    :math:`\\mathbf x_i' = \\mathbf x_i + \\phi_v(\\mathbf h_i)\\,\\mathbf v_i + C\\sum_j(\\mathbf x_i -
    \\mathbf x_j)\\phi_x(\\mathbf m_{ij})` for the initial velocities :math:`\\mathbf v_i`.
    Messages see positions only through distances (invariant) and coordinates move only
    along differences and velocities (equivariant), so the layer is E(n)- and
    permutation-equivariant. With ``residual=True`` (and ``in_channels == out_channels``) the
    update is :math:`\\mathbf h_i + \\phi_h(\\cdot)` (the reference code's ``recurrent``).

    :math:`\\phi_e` is Linear-SiLU-Linear-SiLU, :math:`\\phi_x` Linear-SiLU-Linear(no bias, tiny
    initial weights), :math:`\\phi_h` and :math:`\\phi_v` Linear-SiLU-Linear, as in the paper.

    Args:
        in_channels, out_channels: sizes of :math:`\\mathbf h` and :math:`\\mathbf h'`.
        hidden_channels: width of the MLPs and of :math:`\\mathbf m_{ij}` (default ``out_channels``).
        edge_dim: size of the edge attributes :math:`a_{ij}` (0: none).
        velocity: use the velocity form (``forward`` then needs ``vel``).
        coords_aggr: ``"mean"`` or ``"sum"``.
        residual: add :math:`\\mathbf h_i` to the update.

    Shapes:
        h: ``(N, in_channels)``; x: ``(N, d)``; edge_index: ``(2, E)``; edge_attr:
        ``(E, edge_dim)``; vel: ``(N, d)``; returns ``(h', x')`` of shapes
        ``(N, out_channels)``, ``(N, d)``.

    Introduced in: 5.5, :doc:`/book/05_models/05_5_1_egnn`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden_channels: int | None = None,
        edge_dim: int = 0,
        velocity: bool = False,
        coords_aggr: str = "mean",
        residual: bool = True,
    ):
        super().__init__()
        for name, value in [("in_channels", in_channels), ("out_channels", out_channels)]:
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"EGNNConv: {name} must be a positive integer, got {value!r}")
        if not isinstance(edge_dim, int) or edge_dim < 0:
            raise ValueError(f"EGNNConv: edge_dim must be an integer >= 0, got {edge_dim!r}")
        if coords_aggr not in ("mean", "sum"):
            raise ValueError(f"EGNNConv: coords_aggr must be 'mean' or 'sum', got {coords_aggr!r}")
        hidden = hidden_channels or out_channels
        self.in_channels, self.out_channels, self.hidden_channels = in_channels, out_channels, hidden
        self.edge_dim, self.velocity, self.coords_aggr = edge_dim, velocity, coords_aggr
        self.residual = residual and in_channels == out_channels
        self.phi_e = nn.Sequential(nn.Linear(2 * in_channels + 1 + edge_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.phi_x = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 1, bias=False))
        self.phi_h = nn.Sequential(nn.Linear(in_channels + hidden, hidden), nn.SiLU(), nn.Linear(hidden, out_channels))
        self.phi_v = nn.Sequential(nn.Linear(in_channels, hidden), nn.SiLU(), nn.Linear(hidden, 1)) if velocity else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_submodules(self)
        _small_init(self.phi_x[-1])

    def _check(self, h, x, edge_index, edge_attr, vel) -> tuple[Tensor, int]:
        _check_float(h, f"(N, in_channels={self.in_channels})", "EGNNConv: h", self.in_channels)
        _check_float(x, "(N, d)", "EGNNConv: x")
        if x.shape[0] != h.shape[0]:
            raise ValueError(f"EGNNConv: h has {h.shape[0]} rows but x has {x.shape[0]}; expected one row per node in both")
        edge_index, n = check_graph(h, edge_index)
        num_edges = edge_index.shape[1]
        if self.edge_dim:
            if edge_attr is None:
                raise ValueError(f"EGNNConv was built with edge_dim={self.edge_dim}: pass edge_attr of shape (E, {self.edge_dim})")
            _check_float(edge_attr, f"(E={num_edges}, edge_dim={self.edge_dim})", "EGNNConv: edge_attr", self.edge_dim)
            if edge_attr.shape[0] != num_edges:
                raise ValueError(f"EGNNConv: edge_attr must have one row per edge ({num_edges}), got {edge_attr.shape[0]}")
        elif edge_attr is not None:
            raise ValueError("EGNNConv was built with edge_dim=0 but edge_attr was given; build it with edge_dim=...")
        if self.velocity:
            if vel is None:
                raise ValueError("EGNNConv was built with velocity=True: pass vel, the (N, d) initial velocities")
            _check_float(vel, f"(N={x.shape[0]}, d={x.shape[1]})", "EGNNConv: vel", x.shape[1])
            if vel.shape[0] != x.shape[0]:
                raise ValueError(f"EGNNConv: vel must have shape {tuple(x.shape)}, got {tuple(vel.shape)}")
        elif vel is not None:
            raise ValueError("EGNNConv was built with velocity=False but vel was given; build it with velocity=True")
        return edge_index, n

    def forward(
        self, h: Tensor, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None, vel: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        edge_index, n = self._check(h, x, edge_index, edge_attr, vel)
        src, dst = edge_index[0], edge_index[1]  # message j -> i: j = src, i = dst
        diff = x[dst] - x[src]  # x_i - x_j
        radial = (diff * diff).sum(-1, keepdim=True)  # ||x_i - x_j||^2, invariant
        parts = [h[dst], h[src], radial] + ([edge_attr] if edge_attr is not None else [])
        m = self.phi_e(torch.cat(parts, dim=-1))  # m_ij   (eq. 3)
        x_new = x + scatter(diff * self.phi_x(m), dst, dim_size=n, reduce=self.coords_aggr)  # (eq. 4)
        if self.velocity:
            x_new = x_new + self.phi_v(h) * vel  # (eq. 7)
        m_i = scatter(m, dst, dim_size=n, reduce="sum")  # (eq. 5)
        h_new = self.phi_h(torch.cat([h, m_i], dim=-1))  # (eq. 6)
        return (h + h_new if self.residual else h_new), x_new

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, hidden_channels={self.hidden_channels}, "
                f"edge_dim={self.edge_dim}, velocity={self.velocity}, coords_aggr={self.coords_aggr!r}")


class EGNN(nn.Module):
    """A stack of :class:`EGNNConv` layers after a linear embedding of the node features:
    :math:`\\mathbf h^0 = W\\mathbf h`, then :math:`(\\mathbf h^{l+1}, \\mathbf x^{l+1}) =
    \\mathrm{EGCL}(\\mathbf h^l, \\mathbf x^l)` for :math:`l = 0, \\dots, L-1` (the paper's ``EGNN``;
    ``EGNN_vel`` with ``velocity=True``, where every layer reads the same initial velocities).

    :meth:`forward` is the readable message-passing form on any graph; :meth:`forward_dense`
    computes the same function on a batch of complete graphs of equal size, stored densely
    (the fast path used for training on the N-body task; tested equal).

    Shapes:
        h: ``(N, in_channels)``; x, vel: ``(N, d)``; edge_index: ``(2, E)``; edge_attr
        ``(E, edge_dim)``; returns ``(h, x)`` of shapes ``(N, hidden_channels)``, ``(N, d)``.

    Introduced in: 5.5, :doc:`/book/05_models/05_5_1_egnn`.
    """

    def __init__(self, in_channels: int, hidden_channels: int = 64, num_layers: int = 4, edge_dim: int = 0,
                 velocity: bool = False, coords_aggr: str = "mean"):
        super().__init__()
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"EGNN: num_layers must be a positive integer, got {num_layers!r}")
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f"EGNN: in_channels must be a positive integer, got {in_channels!r}")
        self.in_channels, self.hidden_channels, self.edge_dim, self.velocity = in_channels, hidden_channels, edge_dim, velocity
        self.embedding = nn.Linear(in_channels, hidden_channels)
        self.layers = nn.ModuleList(
            EGNNConv(hidden_channels, hidden_channels, hidden_channels, edge_dim=edge_dim, velocity=velocity, coords_aggr=coords_aggr)
            for _ in range(num_layers)
        )

    def reset_parameters(self) -> None:
        self.embedding.reset_parameters()
        for layer in self.layers:
            layer.reset_parameters()

    def forward(self, h: Tensor, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None,
                vel: Tensor | None = None) -> tuple[Tensor, Tensor]:
        _check_float(h, f"(N, in_channels={self.in_channels})", "EGNN: h", self.in_channels)
        h = self.embedding(h)
        for layer in self.layers:
            h, x = layer(h, x, edge_index, edge_attr, vel)
        return h, x

    def forward_dense(self, h: Tensor, x: Tensor, edge_attr: Tensor | None = None,
                      vel: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The same map on ``B`` complete graphs of ``n`` nodes each (every ordered pair
        :math:`j \\ne i` an edge), stored densely.

        Equal to :meth:`forward` with ``edge_index = fully_connected_edge_index(n, B)`` and the
        inputs flattened to ``(B * n, ...)``; edge ``(j, i)``'s attributes at
        ``edge_attr[b, i, k]`` where ``j`` is the ``k``-th node other than ``i``.

        Shapes:
            h: ``(B, n, in_channels)``; x, vel: ``(B, n, d)``; edge_attr:
            ``(B, n, n - 1, edge_dim)``; returns ``(B, n, hidden_channels)``, ``(B, n, d)``.
        """
        if not isinstance(h, Tensor) or h.dim() != 3 or h.shape[-1] != self.in_channels:
            raise ValueError(f"EGNN.forward_dense: h must have shape (B, n, {self.in_channels}), got {getattr(h, 'shape', h)}")
        if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[:2] != h.shape[:2]:
            raise ValueError(f"EGNN.forward_dense: x must have shape (B, n, d) with (B, n) = {tuple(h.shape[:2])}, got {getattr(x, 'shape', x)}")
        b, n = x.shape[:2]
        if self.edge_dim and (edge_attr is None or edge_attr.shape != (b, n, n - 1, self.edge_dim)):
            raise ValueError(f"EGNN.forward_dense: edge_attr must have shape {(b, n, n - 1, self.edge_dim)}, got "
                             f"{None if edge_attr is None else tuple(edge_attr.shape)}")
        if self.velocity and (vel is None or vel.shape != x.shape):
            raise ValueError(f"EGNN.forward_dense: vel must have shape {tuple(x.shape)}, got {None if vel is None else tuple(vel.shape)}")
        h = self.embedding(h)
        for layer in self.layers:
            h, x = _fast.dense_egnn_conv(layer, h, x, edge_attr, vel)
        return h, x


def fully_connected_edge_index(num_nodes: int, batch_size: int = 1, device: torch.device | str | None = None) -> Tensor:
    """Edges of ``batch_size`` disjoint complete graphs on ``num_nodes`` nodes each (nodes of
    graph ``b`` numbered ``b * num_nodes + k``), every ordered pair :math:`j \\to i`,
    :math:`j \\ne i`, once; sorted by target :math:`i`, then source :math:`j`.

    Shapes:
        returns ``(2, batch_size * num_nodes * (num_nodes - 1))``.

    Introduced in: 5.5, :doc:`/book/05_models/05_5_1_egnn`.
    """
    if not isinstance(num_nodes, int) or num_nodes < 2:
        raise ValueError(f"fully_connected_edge_index: num_nodes must be an integer >= 2, got {num_nodes!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"fully_connected_edge_index: batch_size must be a positive integer, got {batch_size!r}")
    nbr = _fast.neighbours(num_nodes, device)  # (n, n - 1)
    tgt = torch.arange(num_nodes, device=device).repeat_interleave(num_nodes - 1)
    src = nbr.reshape(-1)
    offset = (torch.arange(batch_size, device=device) * num_nodes).repeat_interleave(src.numel())
    return torch.stack([src.repeat(batch_size) + offset, tgt.repeat(batch_size) + offset])


# ---------------------------------------------------------------------------------------------
# The N-body models of Table 2: maps (loc, vel, charges) -> predicted positions
# ---------------------------------------------------------------------------------------------


def _check_nbody(loc, vel, charges, what: str) -> None:
    if not all(isinstance(t, Tensor) for t in (loc, vel, charges)):
        raise TypeError(f"{what}: loc, vel and charges must be torch tensors")
    if loc.dim() != 3 or loc.shape[-1] != 3 or vel.shape != loc.shape:
        raise ValueError(f"{what}: loc and vel must both have shape (B, n, 3), got {tuple(loc.shape)} and {tuple(vel.shape)}")
    if charges.shape != loc.shape[:2]:
        raise ValueError(f"{what}: charges must have shape (B, n) = {tuple(loc.shape[:2])}, got {tuple(charges.shape)}")
    if loc.shape[1] < 2:
        raise ValueError(f"{what}: a system needs at least 2 particles, got {loc.shape[1]}")


def _pair_features(charges: Tensor, loc: Tensor | None = None) -> Tensor:
    """Dense edge attributes ``(B, n, n - 1, k)``: :math:`q_i q_j` and, with ``loc``, the
    initial squared distance :math:`\\lVert x_i - x_j \\rVert^2` (as the reference code)."""
    nbr = _fast.neighbours(charges.shape[1], charges.device)
    feats = [(charges.unsqueeze(-1) * charges[:, nbr]).unsqueeze(-1)]
    if loc is not None:
        diff = loc.unsqueeze(2) - loc[:, nbr]
        feats.append((diff * diff).sum(-1, keepdim=True))
    return torch.cat(feats, -1)


class NBodyEGNN(nn.Module):
    """EGNN for the charged N-body task, as the paper's experiment sets it up: node feature
    the speed :math:`\\lVert \\mathbf v_i \\rVert`, edge attributes :math:`(q_i q_j,
    \\lVert \\mathbf x_i - \\mathbf x_j \\rVert^2)`, coordinates the positions, the velocity form of
    every layer, and the final coordinates as the prediction.

    ``dense=True`` runs :meth:`EGNN.forward_dense` (the fast path), ``dense=False`` the
    message-passing form on one ``edge_index`` holding the whole batch.

    Shapes:
        loc, vel: ``(B, n, 3)``; charges: ``(B, n)``; returns ``(B, n, 3)``.

    Introduced in: 5.5, :doc:`/book/05_models/05_5_2_nbody`.
    """

    def __init__(self, hidden_channels: int = 64, num_layers: int = 4, dense: bool = True):
        super().__init__()
        self.egnn = EGNN(1, hidden_channels, num_layers, edge_dim=2, velocity=True)
        self.dense = dense

    def reset_parameters(self) -> None:
        self.egnn.reset_parameters()

    def forward(self, loc: Tensor, vel: Tensor, charges: Tensor) -> Tensor:
        _check_nbody(loc, vel, charges, "NBodyEGNN")
        b, n, d = loc.shape
        speed = vel.norm(dim=-1, keepdim=True)
        edge_attr = _pair_features(charges, loc)
        if self.dense:
            return self.egnn.forward_dense(speed, loc, edge_attr, vel)[1]
        edge_index = fully_connected_edge_index(n, b, loc.device)
        _, x = self.egnn(speed.reshape(b * n, 1), loc.reshape(b * n, d), edge_index,
                         edge_attr.reshape(-1, 2), vel.reshape(b * n, d))
        return x.view(b, n, d)


class NBodyGNN(nn.Module):
    """The non-equivariant baseline: a message-passing network that reads positions and
    velocities as plain node features :math:`[\\mathbf x_i, \\mathbf v_i] \\in \\mathbb R^6` and
    :math:`q_i q_j` as edge attribute, and decodes the positions from the last node features.

    Each layer is the feature half of :class:`EGNNConv` without the geometry,
    :math:`\\mathbf h_i \\leftarrow \\mathbf h_i + \\phi_h(\\mathbf h_i, \\sum_j \\phi_e(\\mathbf h_i,
    \\mathbf h_j, a_{ij}))`, and the decoder is Linear-SiLU-Linear, as in the paper's GNN. It is
    permutation-equivariant but *not* E(3)-equivariant: nothing ties a rotated input to a
    rotated output.

    Shapes:
        loc, vel: ``(B, n, 3)``; charges: ``(B, n)``; returns ``(B, n, 3)``.

    Introduced in: 5.5, :doc:`/book/05_models/05_5_1_egnn`.
    """

    def __init__(self, hidden_channels: int = 64, num_layers: int = 4):
        super().__init__()
        hid = hidden_channels
        self.embedding = nn.Linear(6, hid)
        self.phi_e = nn.ModuleList(
            nn.Sequential(nn.Linear(2 * hid + 1, hid), nn.SiLU(), nn.Linear(hid, hid), nn.SiLU()) for _ in range(num_layers))
        self.phi_h = nn.ModuleList(
            nn.Sequential(nn.Linear(2 * hid, hid), nn.SiLU(), nn.Linear(hid, hid)) for _ in range(num_layers))
        self.decoder = nn.Sequential(nn.Linear(hid, hid), nn.SiLU(), nn.Linear(hid, 3))

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def forward(self, loc: Tensor, vel: Tensor, charges: Tensor) -> Tensor:
        _check_nbody(loc, vel, charges, "NBodyGNN")
        b, n, _ = loc.shape
        edge_index = fully_connected_edge_index(n, b, loc.device)
        src, dst = edge_index
        edge_attr = _pair_features(charges).reshape(-1, 1)
        h = self.embedding(torch.cat([loc, vel], -1).reshape(b * n, 6))
        for phi_e, phi_h in zip(self.phi_e, self.phi_h):
            m = phi_e(torch.cat([h[dst], h[src], edge_attr], -1))
            h = h + phi_h(torch.cat([h, scatter(m, dst, dim_size=b * n, reduce="sum")], -1))
        return self.decoder(h).view(b, n, 3)


class NBodyRadialField(nn.Module):
    """The Radial Field model (Köhler, Klein and Noé 2019) in the velocity form the EGNN paper
    compares with: every layer moves each particle along the differences to the others, scaled
    by a learned function of the distance and the edge attributes, plus a learned multiple of
    its velocity,

    .. math:: \\mathbf x_i \\leftarrow \\mathbf x_i + \\frac{1}{n-1}\\sum_{j \\ne i}(\\mathbf x_i - \\mathbf x_j)\\,
              \\phi\\big(\\lVert \\mathbf x_i - \\mathbf x_j\\rVert, q_iq_j, \\lVert \\mathbf x_i^0 - \\mathbf x_j^0\\rVert^2\\big)
              + \\phi_v(\\lVert \\mathbf v_i\\rVert)\\,\\mathbf v_i .

    E(3)-equivariant like EGNN, but with no node features: messages cannot depend on what the
    other particles are doing beyond their distance.

    Shapes:
        loc, vel: ``(B, n, 3)``; charges: ``(B, n)``; returns ``(B, n, 3)``.

    Introduced in: 5.5, :doc:`/book/05_models/05_5_2_nbody`.
    """

    def __init__(self, hidden_channels: int = 64, num_layers: int = 4):
        super().__init__()
        hid = hidden_channels
        self.phi = nn.ModuleList(
            nn.Sequential(nn.Linear(3, hid), nn.SiLU(), nn.Linear(hid, 1, bias=False), nn.Tanh()) for _ in range(num_layers))
        self.phi_v = nn.ModuleList(nn.Sequential(nn.Linear(1, hid), nn.SiLU(), nn.Linear(hid, 1)) for _ in range(num_layers))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_submodules(self)
        for phi in self.phi:
            _small_init(phi[2])

    def forward(self, loc: Tensor, vel: Tensor, charges: Tensor) -> Tensor:
        _check_nbody(loc, vel, charges, "NBodyRadialField")
        b, n, d = loc.shape
        edge_index = fully_connected_edge_index(n, b, loc.device)
        src, dst = edge_index
        edge_attr = _pair_features(charges, loc).reshape(-1, 2)
        speed = vel.norm(dim=-1, keepdim=True).reshape(b * n, 1)
        x, v = loc.reshape(b * n, d), vel.reshape(b * n, d)
        for phi, phi_v in zip(self.phi, self.phi_v):
            diff = x[dst] - x[src]
            dist = diff.norm(dim=-1, keepdim=True)
            x = x + scatter(diff * phi(torch.cat([dist, edge_attr], -1)), dst, dim_size=b * n, reduce="mean") + phi_v(speed) * v
        return x.view(b, n, d)


class LinearDynamics(nn.Module):
    """The linear baseline :math:`\\hat{\\mathbf x}_i = \\mathbf x_i + t\\,\\mathbf v_i`: straight-line
    motion for a time :math:`t`. :meth:`fit` sets :math:`t` by least squares on training data,
    :math:`t^* = \\sum \\mathbf v\\cdot(\\mathbf x_T - \\mathbf x) / \\sum \\lVert \\mathbf v\\rVert^2`
    (the reference code learns it by gradient descent, which converges to the same value).

    Shapes:
        loc, vel: ``(B, n, 3)``; charges: ``(B, n)`` (unused); returns ``(B, n, 3)``.

    Introduced in: 5.5, :doc:`/book/05_models/05_5_2_nbody`.
    """

    def __init__(self, time: float = 1.0):
        super().__init__()
        self.time = nn.Parameter(torch.tensor(float(time)))

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.time.fill_(1.0)

    def forward(self, loc: Tensor, vel: Tensor, charges: Tensor) -> Tensor:
        _check_nbody(loc, vel, charges, "LinearDynamics")
        return loc + self.time.to(loc.dtype) * vel

    @torch.no_grad()
    def fit(self, data) -> "LinearDynamics":
        """Least-squares :math:`t` on ``data`` (an :class:`gdlutils.nbody.NBodyData`)."""
        num = (data.vel * (data.target - data.loc)).sum()
        den = (data.vel * data.vel).sum()
        if not den > 0:
            raise ValueError("LinearDynamics.fit: all velocities are zero, t is undetermined")
        self.time.fill_(float(num / den))
        return self


# ---------------------------------------------------------------------------------------------
# Training protocol
# ---------------------------------------------------------------------------------------------


@torch.no_grad()
def nbody_mse(model: nn.Module, data, batch_size: int = 1000) -> float:
    """Mean squared error of the predicted positions over all particles and coordinates,
    :math:`\\frac{1}{3nS}\\sum \\lVert \\hat{\\mathbf x}_i - \\mathbf x_i^T\\rVert^2` (the paper's metric).

    Introduced in: 5.5, :doc:`/book/05_models/05_5_2_nbody`.
    """
    was_training = model.training
    model.eval()
    param = next(model.parameters(), None)
    dtype = param.dtype if param is not None else data.loc.dtype
    device = param.device if param is not None else data.loc.device
    total = 0.0
    for start in range(0, len(data), batch_size):
        part = data[start:start + batch_size].to(device=device, dtype=dtype)
        total += float(((model(part.loc, part.vel, part.charges) - part.target) ** 2).sum())
    model.train(was_training)
    return total / data.target.numel()


@dataclass
class NBodyResult:
    """What :func:`fit_nbody` measured: the validation MSE every ``eval_every`` epochs, the
    best one and its epoch, the test MSE of the model kept at that epoch, and the time spent."""

    val_mse: list[tuple[int, float]] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    best_val_mse: float = math.inf
    test_mse: float = math.nan
    seconds: float = 0.0


def fit_nbody(
    model: nn.Module,
    train,
    val,
    test=None,
    *,
    epochs: int = 100,
    lr: float = 5e-4,
    batch_size: int = 100,
    weight_decay: float = 1e-12,
    eval_every: int = 5,
    seed: int | None = 0,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> NBodyResult:
    """Train an N-body model with the paper's protocol: Adam, MSE loss on the predicted
    positions, shuffled mini-batches of ``batch_size`` systems; every ``eval_every`` epochs the
    validation MSE is measured and the parameters of the best epoch are kept (the model is left
    with them). The test MSE is that of the kept model.

    Introduced in: 5.5, :doc:`/book/05_models/05_5_2_nbody`.
    """
    for name, value in [("epochs", epochs), ("batch_size", batch_size), ("eval_every", eval_every)]:
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"fit_nbody: {name} must be a positive integer, got {value!r}")
    if len(train) == 0 or len(val) == 0:
        raise ValueError("fit_nbody: the training and validation sets must not be empty")
    if not (lr > 0):
        raise ValueError(f"fit_nbody: lr must be positive, got {lr!r}")
    start = time.perf_counter()
    device = torch.device(device) if device is not None else torch.device("cpu")
    model.to(device=device, dtype=dtype)
    train_d = train.to(device=device, dtype=dtype)
    generator = torch.Generator().manual_seed(0 if seed is None else seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    result = NBodyResult()
    best_state = copy.deepcopy(model.state_dict())
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(train_d), generator=generator).to(device)
        epoch_loss = 0.0
        for i in range(0, len(order), batch_size):
            batch = train_d[order[i:i + batch_size]]
            loss = ((model(batch.loc, batch.vel, batch.charges) - batch.target) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_loss += float(loss.detach()) * len(batch)
        result.train_loss.append(epoch_loss / len(train_d))
        if epoch % eval_every == 0 or epoch == epochs:
            mse = nbody_mse(model, val)
            result.val_mse.append((epoch, mse))
            if mse < result.best_val_mse:
                result.best_val_mse, result.best_epoch = mse, epoch
                best_state = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    if test is not None:
        result.test_mse = nbody_mse(model, test)
    result.seconds = time.perf_counter() - start
    return result
