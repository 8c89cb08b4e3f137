"""Spatio-temporal signals: a signal on a fixed graph that evolves in time, and the models
that forecast it.

The data are a sequence of graph signals :math:`X_1, \\dots, X_T`, one value per node
(:math:`X_t \\in \\mathbb R^{N}`) on one fixed graph. Two symmetries shape a model of it:

* **permutations of the nodes**: relabelling the nodes relabels the forecast, so every layer is
  permutation equivariant, :math:`F(PX, PAP^\\top) = PF(X, A)` (a graph convolution);
* **shifts in time**: the same update at every step, :math:`H_t = F(H_{t-1}, X_t)`
  (a recurrence, whose weights are shared over time).

Putting a graph convolution inside a GRU cell gives a graph-convolutional recurrent network
(GConvGRU of Seo et al., 2018; DCRNN of Li et al., 2018, uses diffusion convolutions in the same
place): :class:`GConvGRUCell`, :class:`GConvGRU` and the one-step forecaster
:class:`GConvGRUForecaster`. The linear baselines (:func:`fit_ar`, :func:`predict_ar`: an
autoregression on the last weeks of every node, optionally with the average of its neighbours)
and the trivial ones (:func:`mean_forecast`, :func:`last_value_forecast`) sit beside them.

Data: :func:`load_chickenpox` (weekly chickenpox cases of the 20 Hungarian counties,
Rozemberczki et al., 2021), :func:`sliding_windows`, :func:`chronological_split`.

Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor, nn

from gdlutils.graphs import _check_count, check_edge_index
from gdlutils.message_passing import remove_self_loops, scatter
from gdlutils.spectral import ChebConv, ScaledLaplacian, _ChebBasis, scaled_laplacian
from gdlutils.utils import _check_seed

__all__ = [
    "Chickenpox",
    "load_chickenpox",
    "sliding_windows",
    "chronological_split",
    "mse",
    "mean_forecast",
    "last_value_forecast",
    "neighbour_mean",
    "ar_design",
    "fit_ar",
    "predict_ar",
    "GConvGRUCell",
    "GConvGRU",
    "GConvGRUForecaster",
    "fit_forecaster",
]


# ------------------------------------------------------------------------------ validation
def _check_float(x, name: str, dims: tuple[int, ...], shape_text: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape {shape_text}, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}; use {name}.float()")
    if x.dim() not in dims:
        raise ValueError(f"{name} must have shape {shape_text}, got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} holds NaN or infinite values; the series must be finite")
    return x


# ------------------------------------------------------------------------------------ data
@dataclass(frozen=True)
class Chickenpox:
    """The chickenpox data set: a signal on the county graph of Hungary, one value per week.

    Attributes:
        signal: ``(T, N)`` float32, the standardised weekly case counts (the file's ``FX``),
            row ``t`` is week ``t``, column ``i`` county ``i``.
        edge_index: ``(2, E)`` long, the county adjacency as directed pairs (both directions of
            every border, plus one self-loop per county, as in the file).
        node_names: the ``N`` county names, in the order of the columns of ``signal``.

    Shapes:
        signal ``(T, N)``; edge_index ``(2, E)``.

    Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
    """

    signal: Tensor
    edge_index: Tensor
    node_names: tuple[str, ...]

    @property
    def num_nodes(self) -> int:
        return self.signal.size(1)

    @property
    def num_weeks(self) -> int:
        return self.signal.size(0)


def load_chickenpox() -> Chickenpox:
    """Weekly chickenpox cases in the 20 counties of Hungary (2005--2014), on the county graph.

    Reads ``temporal/chickenpox.json`` through :func:`gdlutils.data.fetch` (so offline with
    ``GDL_DATA``): the file PyTorch Geometric Temporal's ``ChickenpoxDatasetLoader`` reads
    (Rozemberczki et al., 2021). ``edges`` become ``edge_index`` unchanged (``edges[k] =
    (source, target)``), ``node_ids`` (a name -> column map) become ``node_names`` and ``FX``
    becomes ``signal``. The values are already standardised per county by the data set's
    authors (mean 0, standard deviation 1 per column).

    Returns:
        Chickenpox: ``signal`` ``(521, 20)``, ``edge_index`` ``(2, 102)`` (82 directed border
        pairs and 20 self-loops), ``node_names``.

    Shapes:
        returns signal ``(T, N)`` and edge_index ``(2, E)``.

    Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
    """
    from gdlutils.data import fetch

    with open(fetch("temporal/chickenpox.json"), encoding="utf-8") as f:
        raw = json.load(f)
    signal = torch.tensor(raw["FX"], dtype=torch.float32)
    edge_index = torch.tensor(raw["edges"], dtype=torch.long).t().contiguous()
    ids = raw["node_ids"]
    names = [""] * len(ids)
    for name, column in ids.items():
        names[column] = name
    edge_index = check_edge_index(edge_index, signal.size(1))
    return Chickenpox(signal, edge_index, tuple(names))


def sliding_windows(signal: Tensor, lags: int = 4) -> tuple[Tensor, Tensor]:
    """Cut a ``(T, N)`` series into forecasting examples: the last ``lags`` weeks as input,
    the next week as target,

    .. math:: \\text{inputs}[s, i, k] = x_{s+k}(i),\\quad k = 0..L-1, \\qquad
              \\text{targets}[s, i] = x_{s+L}(i),

    so ``inputs[s, :, -1]`` is the week just before the target. There are :math:`S = T - L`
    windows (PyTorch Geometric Temporal's ``ChickenpoxDatasetLoader(lags=4)`` builds the same
    517 snapshots).

    Shapes:
        signal ``(T, N)``; returns inputs ``(S, N, lags)`` and targets ``(S, N)``.

    Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
    """
    _check_float(signal, "signal", (2,), "(T, N): one row per time step, one column per node")
    lags = _check_count(lags, "lags", 1)
    T = signal.size(0)
    if T <= lags:
        raise ValueError(f"sliding_windows needs more time steps than lags: T = {T}, lags = {lags}; use fewer lags")
    inputs = signal.unfold(0, lags, 1)[: T - lags]  # (S, N, lags): window s holds steps s .. s+lags-1
    targets = signal[lags:]
    return inputs.contiguous(), targets.contiguous()


def chronological_split(inputs: Tensor, targets: Tensor, train_ratio: float = 0.9):
    """Split windows in time order: the first ``int(train_ratio * S)`` for training, the rest
    for testing (as PyTorch Geometric Temporal's ``temporal_signal_split``).

    Never shuffle a forecasting split: a random split would train on weeks that come after
    the test weeks. Here every training target precedes every test target; the inputs of the
    first test windows are weeks the model was trained to predict, which is allowed (a
    forecaster knows the past).

    Returns:
        ``((train_inputs, train_targets), (test_inputs, test_targets))``.

    Shapes:
        inputs ``(S, ...)``, targets ``(S, ...)``; returns the two parts along dim 0.

    Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
    """
    for t, name in ((inputs, "inputs"), (targets, "targets")):
        if not isinstance(t, Tensor) or t.dim() < 1:
            raise TypeError(f"{name} must be a torch.Tensor with one row per window, got {type(t).__name__}")
    if inputs.size(0) != targets.size(0):
        raise ValueError(f"inputs and targets must have as many windows: {inputs.size(0)} != {targets.size(0)}")
    if isinstance(train_ratio, bool) or not isinstance(train_ratio, (int, float)) or not 0 < train_ratio < 1:
        raise ValueError(f"train_ratio must be a number strictly between 0 and 1, got {train_ratio!r}")
    n_train = int(train_ratio * inputs.size(0))
    if n_train == 0 or n_train == inputs.size(0):
        raise ValueError(
            f"train_ratio = {train_ratio} leaves an empty part of {inputs.size(0)} windows; choose a ratio that keeps both"
        )
    return (inputs[:n_train], targets[:n_train]), (inputs[n_train:], targets[n_train:])


def mse(prediction: Tensor, target: Tensor) -> float:
    """Mean squared error :math:`\\frac{1}{SN}\\sum_{s,i}(\\hat y_{s,i} - y_{s,i})^2` over all
    windows and nodes, as a float.

    Shapes:
        prediction and target of the same shape, e.g. ``(S, N)``.

    Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
    """
    if not isinstance(prediction, Tensor) or not isinstance(target, Tensor):
        raise TypeError("mse expects two torch.Tensors of the same shape")
    if prediction.shape != target.shape:
        raise ValueError(f"prediction and target must have the same shape, got {tuple(prediction.shape)} and {tuple(target.shape)}")
    return float(((prediction.double() - target.double()) ** 2).mean())


# ------------------------------------------------------------------------------- baselines
def _check_windows(inputs: Tensor) -> Tensor:
    return _check_float(inputs, "inputs", (3,), "(S, N, lags): windows x nodes x past weeks")


def mean_forecast(inputs: Tensor) -> Tensor:
    """Predict the long-run mean of a standardised series, 0, whatever the past.

    Its test MSE is the mean square of the test targets (about their variance).

    Shapes:
        inputs ``(S, N, lags)``; returns ``(S, N)`` zeros.

    Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
    """
    return torch.zeros_like(_check_windows(inputs)[..., -1])


def last_value_forecast(inputs: Tensor) -> Tensor:
    """The persistence forecast :math:`\\hat x_{t+1} = x_t` (the last week of the window).

    For a stationary series of variance 1 and lag-1 autocorrelation :math:`\\rho_1` its
    expected squared error is :math:`2(1 - \\rho_1)`: better than the mean (error 1) only
    when :math:`\\rho_1 > 1/2`, and 3 for :math:`\\rho_1 = -1/2`.

    Shapes:
        inputs ``(S, N, lags)``; returns ``(S, N)``.

    Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
    """
    return _check_windows(inputs)[..., -1].clone()


def neighbour_mean(inputs: Tensor, edge_index: Tensor) -> Tensor:
    """Average of the neighbours' values, self-loops left out:
    :math:`\\bar x_i = \\frac{1}{|\\mathcal N_i|}\\sum_{j \\to i,\\ j \\ne i} x_j` (0 for a node
    without neighbours), computed with :func:`gdlutils.message_passing.scatter` along the node
    dimension.

    Shapes:
        inputs ``(..., N, F)`` (nodes in the second-to-last dimension); edge_index ``(2, E)``;
        returns the shape of ``inputs``.

    Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
    """
    inputs = _check_float(inputs, "inputs", (2, 3, 4), "(..., N, F)")
    n = inputs.size(-2)
    edge_index, _ = remove_self_loops(check_edge_index(edge_index, n))
    src, dst = edge_index
    return scatter(inputs.index_select(-2, src), dst, dim=inputs.dim() - 2, dim_size=n, reduce="mean")


def ar_design(inputs: Tensor, edge_index: Tensor | None = None) -> Tensor:
    """The regressors of the linear autoregression of every node: its own ``lags`` past
    values, with ``edge_index`` also the neighbour-averaged past values (:func:`neighbour_mean`),
    and a constant 1,

    .. math:: a_{s,i} = \\big(x_{s}(i), \\dots, x_{s+L-1}(i),\\
              [\\bar x_{s}(i), \\dots, \\bar x_{s+L-1}(i)],\\ 1\\big).

    Shapes:
        inputs ``(S, N, L)``; returns ``(S, N, P)`` with ``P = L + 1`` or ``2 L + 1``.

    Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
    """
    inputs = _check_windows(inputs)
    parts = [inputs]
    if edge_index is not None:
        parts.append(neighbour_mean(inputs, edge_index))
    parts.append(torch.ones_like(inputs[..., :1]))
    return torch.cat(parts, dim=-1)


def fit_ar(inputs: Tensor, targets: Tensor, edge_index: Tensor | None = None) -> Tensor:
    """Least-squares fit of one linear autoregression per node on the training windows,

    .. math:: w_i = \\arg\\min_w \\sum_s \\big(a_{s,i}^\\top w - y_{s,i}\\big)^2,

    with :math:`a_{s,i}` from :func:`ar_design` (own lags, optionally neighbour-averaged lags,
    intercept). Solved in float64 with ``torch.linalg.lstsq``, all nodes at once.

    Shapes:
        inputs ``(S, N, L)``; targets ``(S, N)``; returns coefficients ``(N, P)``.

    Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
    """
    a = ar_design(inputs, edge_index).double()
    targets = _check_float(targets, "targets", (2,), "(S, N)")
    if targets.shape != inputs.shape[:2]:
        raise ValueError(f"targets must have shape (S, N) = {tuple(inputs.shape[:2])}, got {tuple(targets.shape)}")
    S, N, P = a.shape
    if S < P:
        raise ValueError(f"fit_ar needs at least as many windows as coefficients: {S} windows for {P} coefficients")
    # one least-squares problem per node: (N, S, P) w = (N, S, 1)
    sol = torch.linalg.lstsq(a.transpose(0, 1), targets.double().t().unsqueeze(-1), driver="gelsd").solution
    return sol.squeeze(-1).to(inputs.dtype)


def predict_ar(coef: Tensor, inputs: Tensor, edge_index: Tensor | None = None) -> Tensor:
    """Forecast with the coefficients of :func:`fit_ar`:
    :math:`\\hat y_{s,i} = a_{s,i}^\\top w_i`.

    Shapes:
        coef ``(N, P)``; inputs ``(S, N, L)``; returns ``(S, N)``.

    Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
    """
    a = ar_design(inputs, edge_index)
    if not isinstance(coef, Tensor) or coef.shape != a.shape[1:]:
        raise ValueError(
            f"coef must have shape (N, P) = {tuple(a.shape[1:])} for these inputs"
            f"{' with' if edge_index is not None else ' without'} neighbours, got "
            f"{tuple(coef.shape) if isinstance(coef, Tensor) else type(coef).__name__}; "
            "fit and predict with the same edge_index (or both without)"
        )
    return (a * coef.to(a.dtype)).sum(-1)


# ------------------------------------------------------------------- graph-recurrent model
def _cheb(conv: ChebConv, x: Tensor, edge_index: Tensor, lap: ScaledLaplacian | None) -> Tensor:
    """``conv`` applied to every graph signal in a batch.

    A single signal ``(N, F)`` goes through :class:`gdlutils.spectral.ChebConv` itself. For a
    batch ``(B, N, F)`` the Chebyshev basis :math:`T_k(\\tilde L)X` of all B signals is computed
    at once (windows and channels folded into the columns of one ``(N, B F)`` matrix, the same
    recursion ChebConv runs) and ``conv``'s own weights are applied; the tests check it equals
    ChebConv on every signal of the batch."""
    if x.dim() == 2:
        return conv(x, edge_index)
    B, N, F = x.shape
    if lap is None:
        lap = scaled_laplacian(edge_index, N, normalization=conv.normalization, dtype=x.dtype)
    z = x.transpose(0, 1).reshape(N, B * F)
    zs = [z] + (list(_ChebBasis.apply(z, conv.K, lap)) if conv.K > 1 else [])
    out = 0
    for lin, zk in zip(conv.lins, zs):
        out = out + lin(zk.reshape(N, B, F).transpose(0, 1))
    return out + conv.bias if conv.bias is not None else out


class GConvGRUCell(nn.Module):
    """A GRU cell whose matrix products are graph convolutions (GConvGRU, Seo et al., 2018).

    With :math:`G_x`, :math:`G_h` Chebyshev graph convolutions
    (:class:`gdlutils.spectral.ChebConv`, :math:`K` terms, so :math:`(K-1)`-hop filters), one
    for the input and one for the state, each producing the three gates stacked (reset
    :math:`r`, update :math:`z`, new :math:`n`, PyTorch's order):

    .. math::

        r &= \\operatorname{sigmoid}(G_{x}^{r}(X) + G_{h}^{r}(H)),\\qquad
        z = \\operatorname{sigmoid}(G_{x}^{z}(X) + G_{h}^{z}(H)),\\\\
        n &= \\tanh\\big(G_{x}^{n}(X) + r \\odot G_{h}^{n}(H)\\big),\\qquad
        H' = (1 - z) \\odot n + z \\odot H .

    With ``reset_after=False`` the reset gate acts before the convolution,
    :math:`n = \\tanh(G_x^n(X) + G_h^n(r \\odot H))`, as in Cho et al. (2014) and in Seo et
    al.'s GConvGRU; the default (``True``) is the form of ``torch.nn.GRUCell``. Every
    convolution is permutation equivariant and acts node-wise on the gates, so the cell is:
    :math:`\\text{cell}(PX, PH; PAP^\\top) = P\\,\\text{cell}(X, H; A)`. With ``K = 1`` (or a
    graph whose only edges are self-loops, where :math:`\\tilde L = 0`) the convolutions are
    node-wise linear maps and the cell is ``torch.nn.GRUCell`` applied to every node:
    ``conv_x.lins[0].weight`` is ``weight_ih``, ``conv_h.lins[0].weight`` is ``weight_hh``,
    and the biases are ``bias_ih``, ``bias_hh``.

    Args:
        in_channels, out_channels: input features and state size :math:`H` per node.
        K: Chebyshev terms (``K = 1``: no graph; ``K = 2``: self and one-hop neighbours).
        normalization: the Laplacian of :class:`~gdlutils.spectral.ChebConv`.
        bias: learn the biases.
        reset_after: where the reset gate acts (see above).

    Shapes:
        x ``(N, in_channels)`` or a batch ``(B, N, in_channels)`` of signals on the same graph;
        edge_index ``(2, E)``; h ``(N, out_channels)`` / ``(B, N, out_channels)`` or None
        (zeros); returns the new state of the shape of h.

    Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
    """

    def __init__(self, in_channels: int, out_channels: int, K: int = 2, normalization: str | None = "sym",
                 bias: bool = True, reset_after: bool = True) -> None:
        super().__init__()
        self.in_channels = _check_count(in_channels, "in_channels", 1)
        self.out_channels = _check_count(out_channels, "out_channels", 1)
        self.K = _check_count(K, "K", 1)
        self.reset_after = bool(reset_after)
        self.conv_x = ChebConv(in_channels, 3 * out_channels, K, normalization=normalization, bias=bias)
        self.conv_h = ChebConv(out_channels, 3 * out_channels, K, normalization=normalization, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot weights and zero biases in both convolutions (ChebConv's initialisation)."""
        self.conv_x.reset_parameters()
        self.conv_h.reset_parameters()

    def _check(self, x: Tensor, edge_index, h: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
        shape = "(N, in_channels) or (B, N, in_channels)"
        if not isinstance(x, Tensor):
            raise TypeError(f"GConvGRUCell: x must be a torch.Tensor of shape {shape}, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"GConvGRUCell: x must be a floating-point tensor, got dtype {x.dtype}")
        if x.dim() not in (2, 3) or x.size(-1) != self.in_channels:
            raise ValueError(f"GConvGRUCell: x must have shape {shape} with in_channels = {self.in_channels}, got {tuple(x.shape)}")
        edge_index = check_edge_index(edge_index, x.size(-2), note=f"x has {x.size(-2)} nodes")
        want = x.shape[:-1] + (self.out_channels,)
        if h is None:
            h = x.new_zeros(want)
        elif not isinstance(h, Tensor) or h.shape != want:
            raise ValueError(
                f"GConvGRUCell: h must have shape {tuple(want)} (one state of size out_channels = {self.out_channels} "
                f"per node, batched like x), got {tuple(h.shape) if isinstance(h, Tensor) else type(h).__name__}"
            )
        return x, edge_index, h

    def forward(self, x: Tensor, edge_index: Tensor, h: Tensor | None = None, *,
                laplacian: ScaledLaplacian | None = None) -> Tensor:
        x, edge_index, h = self._check(x, edge_index, h)
        return self._step(x, edge_index, h, laplacian)

    def _step(self, x: Tensor, edge_index: Tensor, h: Tensor, lap: ScaledLaplacian | None) -> Tensor:
        H = self.out_channels
        x_r, x_z, x_n = _cheb(self.conv_x, x, edge_index, lap).split(H, dim=-1)
        h_r, h_z, h_n = _cheb(self.conv_h, h, edge_index, lap).split(H, dim=-1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        if self.reset_after:  # torch.nn.GRUCell: r gates the convolved state
            n = torch.tanh(x_n + r * h_n)
        else:  # Cho et al. / Seo et al.: r gates the state before the convolution
            n = torch.tanh(x_n + self._conv_n(r * h, edge_index, lap))
        return (1 - z) * n + z * h

    def _conv_n(self, rh: Tensor, edge_index: Tensor, lap: ScaledLaplacian | None) -> Tensor:
        """The new-gate block :math:`G_h^n(r \\odot H)` (the last third of ``conv_h``)."""
        return _cheb(self.conv_h, rh, edge_index, lap)[..., 2 * self.out_channels:]

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, K={self.K}, reset_after={self.reset_after}"


class GConvGRU(nn.Module):
    """A :class:`GConvGRUCell` run over a sequence of graph signals: one cell, the same weights
    at every step (equivariance to shifts in time), graph convolutions inside (equivariance to
    permutations of the nodes).

    .. math:: H_t = \\text{cell}(X_t, H_{t-1}; A),\\qquad t = 1, \\dots, T,\\quad H_0 = 0 .

    Args:
        as :class:`GConvGRUCell`.

    Shapes:
        x ``(T, N, in_channels)`` or ``(T, B, N, in_channels)`` (time first, as ``torch.nn.GRU``);
        edge_index ``(2, E)``; h0 of the shape of one step's state or None; returns
        ``(outputs, h_T)`` with outputs ``(T, [B,] N, out_channels)``.

    Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
    """

    def __init__(self, in_channels: int, out_channels: int, K: int = 2, normalization: str | None = "sym",
                 bias: bool = True, reset_after: bool = True) -> None:
        super().__init__()
        self.cell = GConvGRUCell(in_channels, out_channels, K, normalization, bias, reset_after)

    @property
    def in_channels(self) -> int:
        return self.cell.in_channels

    @property
    def out_channels(self) -> int:
        return self.cell.out_channels

    def reset_parameters(self) -> None:
        """Reset the cell's convolutions."""
        self.cell.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if not isinstance(x, Tensor) or x.dim() not in (3, 4):
            raise ValueError(
                "GConvGRU: x must have shape (T, N, in_channels) or (T, B, N, in_channels), time first; got "
                f"{tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__}"
            )
        if x.size(0) == 0:
            raise ValueError("GConvGRU: x has no time steps (T = 0)")
        _, edge_index, h = self.cell._check(x[0], edge_index, h0)
        lap = None
        if x.dim() == 4 and self.cell.K > 1:  # one Laplacian for every step and both convolutions
            lap = scaled_laplacian(edge_index, x.size(-2), normalization=self.cell.conv_x.normalization, dtype=x.dtype)
        states = []
        for t in range(x.size(0)):
            h = self.cell._step(x[t], edge_index, h, lap)
            states.append(h)
        return torch.stack(states), h


class GConvGRUForecaster(nn.Module):
    """One-step forecaster: read the last ``lags`` values of every node with a
    :class:`GConvGRU` (one value per node and step), then a linear read-out of the last state,

    .. math:: \\hat y_i = w^\\top H_L(i) + b .

    Every part is permutation equivariant, so relabelling the nodes relabels the forecast. With
    ``K = 1`` the graph is ignored: it is a GRU run on every node separately, with weights
    shared by all nodes (the control that tells whether the graph helps).

    Shapes:
        inputs ``(S, N, lags)`` (windows of :func:`sliding_windows`); edge_index ``(2, E)``;
        returns ``(S, N)``.

    Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
    """

    def __init__(self, hidden_channels: int = 32, K: int = 2, normalization: str | None = "sym",
                 reset_after: bool = True) -> None:
        super().__init__()
        self.rnn = GConvGRU(1, hidden_channels, K, normalization, reset_after=reset_after)
        self.readout = nn.Linear(hidden_channels, 1)

    def reset_parameters(self) -> None:
        """Reset the recurrent layer and the read-out."""
        self.rnn.reset_parameters()
        self.readout.reset_parameters()

    def forward(self, inputs: Tensor, edge_index: Tensor) -> Tensor:
        inputs = _check_windows(inputs)
        x = inputs.permute(2, 0, 1).unsqueeze(-1)  # (lags, S, N, 1): time first, one channel
        _, h = self.rnn(x, edge_index)
        return self.readout(h).squeeze(-1)


def fit_forecaster(model: nn.Module, inputs: Tensor, targets: Tensor, edge_index: Tensor, *, epochs: int = 200,
                   lr: float = 0.01, seed: int | None = None,
                   callback: Callable[[int, nn.Module], None] | None = None) -> list[float]:
    """Train a forecaster ``model(inputs, edge_index) -> (S, N)`` on the training windows by
    full-batch Adam on the mean squared error (one gradient step per epoch over all windows,
    as PyTorch Geometric Temporal's examples do), after ``reset_parameters()`` with ``seed``.
    ``callback(epoch, model)``, if given, is called after every step (in training mode; switch
    to ``model.eval()`` and ``torch.no_grad()`` inside it to measure a validation error).

    Returns:
        the training MSE before every step.

    Shapes:
        inputs ``(S, N, lags)``; targets ``(S, N)``; edge_index ``(2, E)``.

    Introduced in: 6.3, :doc:`/book/06_applications/06_3_spatiotemporal`.
    """
    if not isinstance(model, nn.Module) or not hasattr(model, "reset_parameters"):
        raise TypeError(f"model must be an nn.Module with reset_parameters(), got {type(model).__name__}")
    _check_windows(inputs)
    _check_float(targets, "targets", (2,), "(S, N)")
    if targets.shape != inputs.shape[:2]:
        raise ValueError(f"targets must have shape (S, N) = {tuple(inputs.shape[:2])}, got {tuple(targets.shape)}")
    epochs = _check_count(epochs, "epochs", 1)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    _check_seed(seed)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable as callback(epoch, model), got {type(callback).__name__}")
    if seed is not None:
        torch.manual_seed(seed)
    model.reset_parameters()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = ((model(inputs, edge_index) - targets) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if callback is not None:
            callback(len(losses), model)
            model.train()
    model.eval()
    return losses
