"""Recurrent networks on sequences, time warping, and the chrono initialisation.

A sequence :math:`x_1, \\dots, x_T` is a signal on the 1-D grid of time steps, a grid that
grows as time goes on. A recurrent network applies one and the same update

.. math::

    h_t = F(h_{t-1}, x_t)

at every step, so it commutes with shifts in time (when the initial state is the fixed point
of the zero input). Tallec and Ollivier (2018) ask for more: invariance to *time warping*,
:math:`t \\mapsto c(t)` for a monotone :math:`c`. Discretising the continuous-time model
:math:`\\dot h = -h + \\tanh(W x + U h + b)` gives the *leaky* RNN with a leak
:math:`\\alpha = \\delta t`; letting the leak depend on the input gives a *gate*, and with two
gates and a cell state the LSTM. Their chrono initialisation sets the forget-gate bias so
that the memory time scales of the units spread over :math:`[1, T_{\\max}]`.

This module holds the cells written plainly, one time step per loop iteration, so that a
reader sees the formulas of the book in the code:

* :class:`RNN`, :class:`GRU`, :class:`LSTM` take the argument names, parameter names and gate
  orders of ``torch.nn.RNN``/``GRU``/``LSTM``; ``load_state_dict`` copies weights both ways and
  the outputs agree to round-off (the tests check 1e-6). To *train*, use PyTorch's fused
  layers: they are the same function, much faster;
* :class:`LeakyRNN` (fixed or learned leak) and :class:`GatedRNN` (leak computed by a gate);
* time warps (:func:`time_warp`, :func:`uniform_warp`, :func:`random_warp`) and two data
  generators, :func:`adding_task` and :func:`copy_task`;
* :func:`chrono_init` for a ``torch.nn.LSTM`` or our :class:`LSTM`; the same rule spreads
  the leaks of :class:`LeakyRNN` and the gate bias of :class:`GatedRNN` (their
  ``reset_parameters(t_max=...)``).

Introduced in: 5.7, :doc:`/book/05_models/05_7_rnns`.
"""
from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

from gdlutils.utils import _check_seed

__all__ = [
    "RNN",
    "GRU",
    "LSTM",
    "LeakyRNN",
    "GatedRNN",
    "time_warp",
    "uniform_warp",
    "random_warp",
    "adding_task",
    "copy_task",
    "chrono_init",
]


# ------------------------------------------------------------------------------ validation


def _check_positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _generator(seed: int | None) -> torch.Generator:
    _check_seed(seed)
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(seed)
    return gen


def _as_time_major(input: Tensor, input_size: int, batch_first: bool, name: str) -> tuple[Tensor, bool]:
    """Validate a recurrent layer's input and return it as ``(T, B, input_size)`` plus whether
    it was unbatched (rank 2)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a torch.Tensor, got {type(input).__name__}")
    if not input.is_floating_point():
        raise TypeError(f"{name}: input must be a floating-point tensor, got dtype {input.dtype}")
    if input.dim() not in (2, 3):
        raise ValueError(
            f"{name}: input must have rank 3, (T, B, input_size) or (B, T, input_size) with "
            f"batch_first=True, or rank 2 (T, input_size) for one sequence; got shape {tuple(input.shape)}"
        )
    if input.size(-1) != input_size:
        raise ValueError(
            f"{name}: the last dimension of input must be input_size = {input_size}, got shape "
            f"{tuple(input.shape)}"
        )
    if input.dim() == 2:
        return input.unsqueeze(1), True
    return (input.transpose(0, 1) if batch_first else input), False


def _check_state(h: Tensor | None, shape: tuple[int, ...], unbatched: bool, ref: Tensor, name: str) -> Tensor:
    if h is None:
        return ref.new_zeros(shape)
    if not isinstance(h, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(h).__name__}")
    want = (shape[0], shape[2]) if unbatched else shape
    if tuple(h.shape) != tuple(want):
        raise ValueError(
            f"{name} must have shape (num_layers, batch, hidden_size) = {tuple(want)}, got {tuple(h.shape)}"
        )
    return h.unsqueeze(1) if unbatched else h


def _finish(out: Tensor, batch_first: bool, unbatched: bool) -> Tensor:
    if unbatched:
        return out.squeeze(1)
    return out.transpose(0, 1) if batch_first else out


class _Recurrent(nn.Module):
    """Shared parameter layout of :class:`RNN`, :class:`GRU`, :class:`LSTM`: per layer ``k``,
    ``weight_ih_l{k}`` (gates * hidden, in), ``weight_hh_l{k}`` (gates * hidden, hidden) and,
    with ``bias``, ``bias_ih_l{k}`` and ``bias_hh_l{k}``, as in ``torch.nn``."""

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False) -> None:
        super().__init__()
        self.input_size = _check_positive_int(input_size, "input_size")
        self.hidden_size = _check_positive_int(hidden_size, "hidden_size")
        self.num_layers = _check_positive_int(num_layers, "num_layers")
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        g = self.gates * hidden_size
        for k in range(num_layers):
            n_in = input_size if k == 0 else hidden_size
            setattr(self, f"weight_ih_l{k}", nn.Parameter(torch.empty(g, n_in)))
            setattr(self, f"weight_hh_l{k}", nn.Parameter(torch.empty(g, hidden_size)))
            if bias:
                setattr(self, f"bias_ih_l{k}", nn.Parameter(torch.empty(g)))
                setattr(self, f"bias_hh_l{k}", nn.Parameter(torch.empty(g)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform on :math:`[-1/\\sqrt{H}, 1/\\sqrt{H}]`, PyTorch's default for recurrent layers."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def _layer(self, k: int) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        w_ih, w_hh = getattr(self, f"weight_ih_l{k}"), getattr(self, f"weight_hh_l{k}")
        b_ih = getattr(self, f"bias_ih_l{k}") if self.bias else None
        b_hh = getattr(self, f"bias_hh_l{k}") if self.bias else None
        return w_ih, w_hh, b_ih, b_hh

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, bias={self.bias}, "
                f"batch_first={self.batch_first}")


def _affine(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    return x @ w.T if b is None else x @ w.T + b


class RNN(_Recurrent):
    """The Elman RNN, step by step, equal to ``torch.nn.RNN`` given the same weights.

    For every layer :math:`k` (the input of layer :math:`k > 0` is the hidden state of layer
    :math:`k-1`) and every step :math:`t`:

    .. math::

        h_t = \\sigma(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}),

    with :math:`\\sigma = \\tanh` or ReLU (``nonlinearity``). The same update at every step makes
    the layer equivariant to shifts in time.

    Shapes:
        input ``(T, B, input_size)`` (``(B, T, input_size)`` with ``batch_first``, or
        ``(T, input_size)`` for one sequence); ``hx`` ``(num_layers, B, hidden_size)``;
        returns ``output`` ``(T, B, hidden_size)`` (the last layer's states at every step,
        batch first if asked) and ``h_n`` ``(num_layers, B, hidden_size)``.

    Introduced in: 5.7, :doc:`/book/05_models/05_7_rnns`.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: Literal["tanh", "relu"] = "tanh", bias: bool = True,
                 batch_first: bool = False) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x, unbatched = _as_time_major(input, self.input_size, self.batch_first, "RNN")
        T, B, _ = x.shape
        h0 = _check_state(hx, (self.num_layers, B, self.hidden_size), unbatched, x, "hx")
        act = torch.tanh if self.nonlinearity == "tanh" else torch.relu
        h_n = []
        for k in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._layer(k)
            h, states = h0[k], []
            for t in range(T):
                h = act(_affine(x[t], w_ih, b_ih) + _affine(h, w_hh, b_hh))
                states.append(h)
            x = torch.stack(states)
            h_n.append(h)
        return _finish(x, self.batch_first, unbatched), _finish_state(torch.stack(h_n), unbatched)


def _finish_state(h: Tensor, unbatched: bool) -> Tensor:
    return h.squeeze(1) if unbatched else h


class GRU(_Recurrent):
    """The gated recurrent unit, step by step, equal to ``torch.nn.GRU`` given the same weights.

    Gates in PyTorch's order (reset :math:`r`, update :math:`z`, new :math:`n`), stacked in
    ``weight_ih_l{k}`` and ``weight_hh_l{k}``:

    .. math::

        r_t &= \\operatorname{sigmoid}(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}),\\\\
        z_t &= \\operatorname{sigmoid}(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}),\\\\
        n_t &= \\tanh\\big(W_{in} x_t + b_{in} + r_t \\odot (W_{hn} h_{t-1} + b_{hn})\\big),\\\\
        h_t &= (1 - z_t) \\odot n_t + z_t \\odot h_{t-1}.

    With ``reset_after=True`` (the default, PyTorch's and cuDNN's variant) the reset gate
    multiplies the recurrent product :math:`W_{hn} h_{t-1} + b_{hn}`; in Cho et al. (2014) it
    multiplies the state *before* the product,
    :math:`n_t = \\tanh(W_{in} x_t + b_{in} + W_{hn}(r_t \\odot h_{t-1}) + b_{hn})`, which
    ``reset_after=False`` computes. The two are different functions of the same weights; the
    first lets the products :math:`W_{hn} h_{t-1}` of all steps' gates be computed in one
    matrix product per step, which is why fused implementations prefer it.
    :math:`z_t` is a learned leak: :math:`h_t` is a convex combination of the old state and a
    candidate, the gated RNN of :class:`GatedRNN`.

    Shapes:
        as :class:`RNN`.

    Introduced in: 5.8, :doc:`/book/05_models/05_8_lstms`.
    """

    gates = 3

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, reset_after: bool = True) -> None:
        self.reset_after = bool(reset_after)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x, unbatched = _as_time_major(input, self.input_size, self.batch_first, "GRU")
        T, B, _ = x.shape
        H = self.hidden_size
        h0 = _check_state(hx, (self.num_layers, B, H), unbatched, x, "hx")
        h_n = []
        for k in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._layer(k)
            h, states = h0[k], []
            for t in range(T):
                gi = _affine(x[t], w_ih, b_ih)  # (B, 3H): input parts of r, z, n
                i_r, i_z, i_n = gi.split(H, dim=-1)
                w_hr, w_hz, w_hn = w_hh.split(H, dim=0)
                b_hr, b_hz, b_hn = b_hh.split(H) if b_hh is not None else (None, None, None)
                r = torch.sigmoid(i_r + _affine(h, w_hr, b_hr))
                z = torch.sigmoid(i_z + _affine(h, w_hz, b_hz))
                if self.reset_after:  # PyTorch: r gates the recurrent product
                    n = torch.tanh(i_n + r * _affine(h, w_hn, b_hn))
                else:  # Cho et al. (2014): r gates the state
                    n = torch.tanh(i_n + _affine(r * h, w_hn, b_hn))
                h = (1 - z) * n + z * h
                states.append(h)
            x = torch.stack(states)
            h_n.append(h)
        return _finish(x, self.batch_first, unbatched), _finish_state(torch.stack(h_n), unbatched)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", reset_after={self.reset_after}"


class LSTM(_Recurrent):
    """Long short-term memory, step by step, equal to ``torch.nn.LSTM`` given the same weights.

    Gates in PyTorch's order (input :math:`i`, forget :math:`f`, cell candidate :math:`g`,
    output :math:`o`), stacked in ``weight_ih_l{k}`` and ``weight_hh_l{k}``:

    .. math::

        i_t &= \\operatorname{sigmoid}(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}),\\\\
        f_t &= \\operatorname{sigmoid}(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}),\\\\
        g_t &= \\tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}),\\\\
        o_t &= \\operatorname{sigmoid}(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}),\\\\
        c_t &= f_t \\odot c_{t-1} + i_t \\odot g_t,\\qquad h_t = o_t \\odot \\tanh(c_t).

    The cell state is a leaky integrator whose leak :math:`1 - f_t` is computed from the data;
    a constant forget gate :math:`f` remembers for about :math:`1/(1-f)` steps.

    Shapes:
        input as :class:`RNN`; ``hx`` a pair ``(h_0, c_0)``, each ``(num_layers, B, hidden_size)``;
        returns ``output`` and ``(h_n, c_n)``.

    Introduced in: 5.8, :doc:`/book/05_models/05_8_lstms`.
    """

    gates = 4

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        x, unbatched = _as_time_major(input, self.input_size, self.batch_first, "LSTM")
        T, B, _ = x.shape
        shape = (self.num_layers, B, self.hidden_size)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTM: hx must be a pair (h_0, c_0) of tensors of shape (num_layers, batch, hidden_size)")
        h0 = _check_state(None if hx is None else hx[0], shape, unbatched, x, "h_0")
        c0 = _check_state(None if hx is None else hx[1], shape, unbatched, x, "c_0")
        h_n, c_n = [], []
        for k in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._layer(k)
            h, c, states = h0[k], c0[k], []
            for t in range(T):
                i, f, g, o = (_affine(x[t], w_ih, b_ih) + _affine(h, w_hh, b_hh)).chunk(4, dim=-1)
                i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
                c = f * c + i * g
                h = o * torch.tanh(c)
                states.append(h)
            x = torch.stack(states)
            h_n.append(h)
            c_n.append(c)
        return (_finish(x, self.batch_first, unbatched),
                (_finish_state(torch.stack(h_n), unbatched), _finish_state(torch.stack(c_n), unbatched)))


# ------------------------------------------------------------------- leaky and gated RNNs


class LeakyRNN(nn.Module):
    """The leaky RNN: the Euler discretisation of :math:`\\dot h = -h + \\tanh(W x + U h + b)`.

    With a time step :math:`\\alpha = \\delta t` the continuous model becomes

    .. math::

        h_t = (1 - \\alpha) \\odot h_{t-1} + \\alpha \\odot \\tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}),

    one leak :math:`\\alpha \\in (0, 1]` per unit. :math:`\\alpha = 1` is the Elman :class:`RNN`;
    a time warp that slows time down by a factor :math:`c` is undone by :math:`\\alpha = 1/c`
    (Tallec and Ollivier, 2018). With ``learn_alpha=True`` the leak is a parameter,
    :math:`\\alpha = \\operatorname{sigmoid}(a)` with ``alpha_logit`` :math:`a`, so it stays
    in :math:`(0, 1)` while it is learned; otherwise it is a fixed buffer (and may be 1).

    Shapes:
        input ``(T, B, input_size)`` (``(B, T, input_size)`` with ``batch_first``, or
        ``(T, input_size)``); ``hx`` ``(1, B, hidden_size)``; returns ``output``
        ``(T, B, hidden_size)`` and ``h_n`` ``(1, B, hidden_size)``, as ``torch.nn.RNN``.

    Introduced in: 5.7, :doc:`/book/05_models/05_7_rnns`.
    """

    def __init__(self, input_size: int, hidden_size: int, alpha: float = 1.0, learn_alpha: bool = False,
                 bias: bool = True, batch_first: bool = False) -> None:
        super().__init__()
        self.input_size = _check_positive_int(input_size, "input_size")
        self.hidden_size = _check_positive_int(hidden_size, "hidden_size")
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.learn_alpha = bool(learn_alpha)
        alpha = float(alpha)
        if not 0.0 < alpha <= 1.0 or (learn_alpha and alpha == 1.0):
            raise ValueError(
                f"alpha must lie in (0, 1] (in (0, 1) when learn_alpha=True, since a learned leak "
                f"is sigmoid(alpha_logit)); got {alpha}"
            )
        self._alpha0 = alpha
        self.weight_ih_l0 = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(hidden_size, hidden_size))
        if bias:
            self.bias_ih_l0 = nn.Parameter(torch.empty(hidden_size))
            self.bias_hh_l0 = nn.Parameter(torch.empty(hidden_size))
        logit = torch.full((hidden_size,), math.log(alpha / (1 - alpha)) if alpha < 1 else math.inf)
        if learn_alpha:
            self.alpha_logit = nn.Parameter(logit)
        else:
            self.register_buffer("alpha_logit", logit)
        self.reset_parameters()

    @property
    def alpha(self) -> Tensor:
        """The leak :math:`\\alpha = \\operatorname{sigmoid}(a)` of every unit, shape ``(hidden_size,)``."""
        return torch.sigmoid(self.alpha_logit)

    def reset_parameters(self, t_max: int | float | None = None, seed: int | None = None) -> None:
        """Weights as ``torch.nn.RNN``; the leak back to ``alpha``, or, with ``t_max``, spread
        as in chrono initialisation: ``alpha_logit`` :math:`= -\\log u`,
        :math:`u \\sim U[1, T_{\\max} - 1]`, i.e. :math:`\\alpha = 1/(1+u)`, time scales
        :math:`1/\\alpha` between 2 and :math:`T_{\\max}`."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for name, p in self.named_parameters():
            if name != "alpha_logit":
                nn.init.uniform_(p, -bound, bound)
        a = self._alpha0
        with torch.no_grad():
            if t_max is None:
                self.alpha_logit.fill_(math.log(a / (1 - a)) if a < 1 else math.inf)
            else:
                self.alpha_logit.copy_(-_chrono_draw(self.hidden_size, t_max, _generator(seed)))

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x, unbatched = _as_time_major(input, self.input_size, self.batch_first, "LeakyRNN")
        T, B, _ = x.shape
        h = _check_state(hx, (1, B, self.hidden_size), unbatched, x, "hx")[0]
        b_ih = self.bias_ih_l0 if self.bias else None
        b_hh = self.bias_hh_l0 if self.bias else None
        alpha = self.alpha
        states = []
        for t in range(T):
            candidate = torch.tanh(_affine(x[t], self.weight_ih_l0, b_ih) + _affine(h, self.weight_hh_l0, b_hh))
            h = (1 - alpha) * h + alpha * candidate
            states.append(h)
        out = torch.stack(states)
        return _finish(out, self.batch_first, unbatched), _finish_state(h[None], unbatched)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, alpha={self._alpha0}, learn_alpha={self.learn_alpha}, "
                f"batch_first={self.batch_first}")


class GatedRNN(nn.Module):
    """The gated RNN: a leaky RNN whose leak is computed from the data at every step.

    Asking a leaky RNN to be invariant to *any* monotone time warp :math:`c(t)`, not only to
    a uniform one, makes the leak :math:`\\alpha = c'(t)` vary in time; since the network
    cannot see :math:`c`, it must estimate it from the input and the state, with a gate:

    .. math::

        g_t &= \\operatorname{sigmoid}(W_{ig} x_t + W_{hg} h_{t-1} + b_g),\\\\
        h_t &= (1 - g_t) \\odot h_{t-1} + g_t \\odot \\tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}).

    This is the update of a GRU without its reset gate (:math:`z_t = 1 - g_t`), and the
    forget/input pair of an LSTM with :math:`f_t = 1 - g_t`, :math:`i_t = g_t`. Chrono
    initialisation of the gate: :math:`b_g = -\\log(U[1, T_{\\max} - 1])`, so that the
    initial leaks :math:`g \\approx 1/u` spread the memory time scales over
    :math:`[1, T_{\\max}]` (pass ``t_max`` to :meth:`reset_parameters`).

    Shapes:
        as :class:`LeakyRNN`.

    Introduced in: 5.7, :doc:`/book/05_models/05_7_rnns`.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, batch_first: bool = False) -> None:
        super().__init__()
        self.input_size = _check_positive_int(input_size, "input_size")
        self.hidden_size = _check_positive_int(hidden_size, "hidden_size")
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        H = hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.empty(H, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.empty(H, H))
        self.weight_ig = nn.Parameter(torch.empty(H, input_size))
        self.weight_hg = nn.Parameter(torch.empty(H, H))
        self.bias_g = nn.Parameter(torch.empty(H))
        if bias:
            self.bias_ih_l0 = nn.Parameter(torch.empty(H))
            self.bias_hh_l0 = nn.Parameter(torch.empty(H))
        self.reset_parameters()

    def reset_parameters(self, t_max: int | None = None, seed: int | None = None) -> None:
        """Weights uniform on :math:`[-1/\\sqrt{H}, 1/\\sqrt{H}]`; the gate bias as well, or,
        with ``t_max``, chrono: :math:`b_g = -\\log u`, :math:`u \\sim U[1, T_{\\max} - 1]`."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)
        if t_max is not None:
            with torch.no_grad():
                self.bias_g.copy_(-_chrono_draw(self.hidden_size, t_max, _generator(seed)))

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x, unbatched = _as_time_major(input, self.input_size, self.batch_first, "GatedRNN")
        T, B, _ = x.shape
        h = _check_state(hx, (1, B, self.hidden_size), unbatched, x, "hx")[0]
        b_ih = self.bias_ih_l0 if self.bias else None
        b_hh = self.bias_hh_l0 if self.bias else None
        states = []
        for t in range(T):
            g = torch.sigmoid(x[t] @ self.weight_ig.T + h @ self.weight_hg.T + self.bias_g)
            candidate = torch.tanh(_affine(x[t], self.weight_ih_l0, b_ih) + _affine(h, self.weight_hh_l0, b_hh))
            h = (1 - g) * h + g * candidate
            states.append(h)
        out = torch.stack(states)
        return _finish(out, self.batch_first, unbatched), _finish_state(h[None], unbatched)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, batch_first={self.batch_first}"


# ------------------------------------------------------------------------------ time warps


def time_warp(x: Tensor, durations: Tensor, mode: Literal["repeat", "pad"] = "repeat",
              batch_first: bool = True) -> tuple[Tensor, Tensor]:
    """Warp sequences in time: step :math:`t` of sequence :math:`b` lasts ``durations[b, t]`` steps.

    A warp is a monotone map :math:`c` of time; on a grid of integer steps it is given by how
    long each step lasts, :math:`d_t = c(t+1) - c(t) \\ge 1`. With ``mode="repeat"`` step
    :math:`t` is held for :math:`d_t` steps (the signal is stretched); with ``mode="pad"`` it is
    shown once and followed by :math:`d_t - 1` zeros (the same events, further apart). Warped
    sequences of different total lengths are padded with zeros at the end to the longest;
    ``lengths`` gives each one's length :math:`\\sum_t d_t`. Apply the same ``durations`` to
    the input and to a per-step target to keep them aligned.

    Shapes:
        x ``(B, T, *)`` (``(T, B, *)`` if not ``batch_first``), any dtype; durations
        ``(B, T)`` integers :math:`\\ge 1`; returns the warped ``(B, T', *)`` (same layout as
        ``x``), :math:`T' = \\max_b \\sum_t d_{bt}`, and ``lengths`` ``(B,)``.

    Introduced in: 5.7, :doc:`/book/05_models/05_7_rnns`.
    """
    if not isinstance(x, Tensor) or not isinstance(durations, Tensor):
        raise TypeError("time_warp: x and durations must be torch.Tensors")
    if mode not in ("repeat", "pad"):
        raise ValueError(f"time_warp: mode must be 'repeat' or 'pad', got {mode!r}")
    if x.dim() < 2:
        raise ValueError(f"time_warp: x must have rank >= 2, (B, T, ...) or (T, B, ...); got shape {tuple(x.shape)}")
    if not batch_first:
        x = x.transpose(0, 1)
    B, T = x.shape[:2]
    if durations.dtype.is_floating_point or durations.dtype == torch.bool or durations.is_complex():
        raise TypeError(f"time_warp: durations must be an integer tensor, got dtype {durations.dtype}")
    if tuple(durations.shape) != (B, T):
        raise ValueError(
            f"time_warp: durations must have shape (batch, time) = {(B, T)} to match x, got {tuple(durations.shape)}"
        )
    if T == 0 or int(durations.min()) < 1:
        raise ValueError("time_warp: every duration must be >= 1 (a warp is strictly increasing) and T >= 1")
    durations = durations.to(device=x.device, dtype=torch.long)
    ends = durations.cumsum(1)  # (B, T): step t occupies [ends - d, ends)
    lengths = ends[:, -1]
    T_out = int(lengths.max())
    tau = torch.arange(T_out, device=x.device).expand(B, T_out).contiguous()
    src = torch.searchsorted(ends, tau, right=True)  # source step of every warped step
    valid = src < T
    src = src.clamp(max=T - 1)
    if mode == "pad":
        starts = ends - durations
        valid = valid & (starts.gather(1, src) == tau)
    index = src.view(B, T_out, *([1] * (x.dim() - 2))).expand(B, T_out, *x.shape[2:])
    out = x.gather(1, index)
    mask = valid.view(B, T_out, *([1] * (x.dim() - 2)))
    out = torch.where(mask, out, torch.zeros((), dtype=x.dtype, device=x.device))
    if not batch_first:
        out = out.transpose(0, 1)
    return out, lengths


def uniform_warp(x: Tensor, c: int, mode: Literal["repeat", "pad"] = "repeat", batch_first: bool = True) -> Tensor:
    """Slow time down by the integer factor ``c``: every step lasts ``c`` steps (:func:`time_warp`).

    Shapes:
        x ``(B, T, *)`` (or ``(T, B, *)``); returns ``(B, c T, *)`` (or ``(c T, B, *)``).

    Introduced in: 5.7, :doc:`/book/05_models/05_7_rnns`.
    """
    _check_positive_int(c, "c")
    if not isinstance(x, Tensor) or x.dim() < 2:
        raise ValueError("uniform_warp: x must be a tensor of rank >= 2, (B, T, ...) or (T, B, ...)")
    B, T = (x.shape[0], x.shape[1]) if batch_first else (x.shape[1], x.shape[0])
    return time_warp(x, torch.full((B, T), c, dtype=torch.long), mode=mode, batch_first=batch_first)[0]


def random_warp(batch_size: int, seq_len: int, max_warp: int, seed: int | None = None) -> Tensor:
    """Durations of random monotone warps: i.i.d. uniform on :math:`\\{1, \\dots, c_{\\max}\\}`.

    Shapes:
        returns ``(batch_size, seq_len)`` long, for :func:`time_warp`.

    Introduced in: 5.7, :doc:`/book/05_models/05_7_rnns`.
    """
    _check_positive_int(batch_size, "batch_size")
    _check_positive_int(seq_len, "seq_len")
    _check_positive_int(max_warp, "max_warp")
    return torch.randint(1, max_warp + 1, (batch_size, seq_len), generator=_generator(seed))


# ------------------------------------------------------------------------------------ tasks


def adding_task(batch_size: int, seq_len: int, seed: int | None = None) -> tuple[Tensor, Tensor]:
    """The adding problem (Hochreiter and Schmidhuber, 1997), in the variant of Arjovsky et
    al. (2016) used by Tallec and Ollivier (2018).

    Channel 0 holds values :math:`v_t \\sim U[0, 1]`; channel 1 is zero except for two markers,
    one at a uniform position in the first half and one in the second half. The target is the
    sum of the two marked values, :math:`y = v_{t_1} + v_{t_2}`. A model that ignores the input
    can do no better than the mean, :math:`\\mathbb E y = 1`, with mean squared error
    :math:`\\operatorname{Var} y = 2 \\cdot \\tfrac{1}{12} = \\tfrac16`.

    Shapes:
        returns x ``(batch_size, seq_len, 2)`` and y ``(batch_size, 1)``, float32, batch first.

    Introduced in: 5.8, :doc:`/book/05_models/05_8_lstms`.
    """
    _check_positive_int(batch_size, "batch_size")
    _check_positive_int(seq_len, "seq_len", minimum=2)
    gen = _generator(seed)
    values = torch.rand(batch_size, seq_len, generator=gen)
    half = seq_len // 2
    first = torch.randint(0, half, (batch_size,), generator=gen)
    second = torch.randint(half, seq_len, (batch_size,), generator=gen)
    markers = torch.zeros(batch_size, seq_len)
    rows = torch.arange(batch_size)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    y = (values * markers).sum(1, keepdim=True)
    return torch.stack([values, markers], dim=-1), y


def copy_task(batch_size: int, seq_len: int = 10, delay: int = 20, num_symbols: int = 8, max_warp: int = 1,
              uniform: bool = False, mode: Literal["repeat", "pad"] = "repeat",
              seed: int | None = None) -> tuple[Tensor, Tensor]:
    """The copy task (Hochreiter and Schmidhuber, 1997), optionally time-warped (Tallec and
    Ollivier, 2018).

    Tokens: ``0`` is blank, ``1 .. num_symbols`` are symbols, ``num_symbols + 1`` the
    delimiter. A sequence of ``seq_len`` symbols (consecutive symbols differ, so that a
    repeat-warp leaves them readable) is warped, every symbol lasting ``c`` steps
    (``uniform=True``, ``c = max_warp``) or a random :math:`c_t \\in \\{1..c_{\\max}\\}`
    (:func:`random_warp`), held (``mode="repeat"``) or followed by blanks (``"pad"``); it fills
    a segment of ``seq_len * max_warp`` steps (blanks after it), then come ``delay`` blanks, the
    delimiter and ``seq_len - 1`` blanks. The model must output the unwarped symbols at the last
    ``seq_len`` steps (from the delimiter on).

    Shapes:
        returns x ``(batch_size, T)`` long tokens with
        ``T = seq_len * max_warp + delay + seq_len``, and y ``(batch_size, seq_len)`` long
        symbols in ``0 .. num_symbols - 1`` (the symbol's token minus one), targets of the last
        ``seq_len`` outputs.

    Introduced in: 5.8, :doc:`/book/05_models/05_8_lstms`.
    """
    _check_positive_int(batch_size, "batch_size")
    _check_positive_int(seq_len, "seq_len")
    _check_positive_int(delay, "delay", minimum=0)
    _check_positive_int(num_symbols, "num_symbols", minimum=2)
    _check_positive_int(max_warp, "max_warp")
    gen = _generator(seed)
    # consecutive symbols differ: a random walk of non-zero steps modulo num_symbols
    start = torch.randint(0, num_symbols, (batch_size, 1), generator=gen)
    steps = torch.randint(1, num_symbols, (batch_size, seq_len - 1), generator=gen)
    symbols = torch.cat([start, start + steps.cumsum(1)], dim=1) % num_symbols
    if uniform:
        durations = torch.full((batch_size, seq_len), max_warp, dtype=torch.long)
    else:
        durations = torch.randint(1, max_warp + 1, (batch_size, seq_len), generator=gen)
    warped, _ = time_warp(symbols + 1, durations, mode=mode)
    T = seq_len * max_warp + delay + seq_len
    x = torch.zeros(batch_size, T, dtype=torch.long)
    x[:, : warped.size(1)] = warped
    x[:, seq_len * max_warp + delay] = num_symbols + 1
    return x, symbols


# -------------------------------------------------------------------------------- chrono


def _check_t_max(t_max) -> None:
    if isinstance(t_max, bool) or not isinstance(t_max, (int, float)):
        raise TypeError(f"t_max must be a number, got {type(t_max).__name__}")
    if not math.isfinite(t_max) or t_max < 2:
        raise ValueError(
            f"t_max must be a finite number >= 2 (the longest dependency, in steps, the memory "
            f"should reach; chrono draws log U[1, t_max - 1]); got {t_max}"
        )


def _chrono_draw(n: int, t_max: int | float, gen: torch.Generator) -> Tensor:
    _check_t_max(t_max)
    return torch.log(1 + (t_max - 2) * torch.rand(n, generator=gen, dtype=torch.float64))


def chrono_init(lstm: nn.Module, t_max: int | float, seed: int | None = None) -> nn.Module:
    """Chrono initialisation (Tallec and Ollivier, 2018) of every layer of an LSTM, in place.

    For every layer, draw per unit

    .. math::

        b_f = \\log u,\\quad u \\sim U[1, T_{\\max} - 1],\\qquad b_i = -b_f,

    and set all other biases (cell candidate, output gate) to zero. A unit whose forget gate
    starts at :math:`f = \\operatorname{sigmoid}(b_f) = u/(1+u)` forgets at rate
    :math:`1 - f = 1/(1+u)`: it remembers for about :math:`1 + u` steps, and the time scales
    spread between 2 and :math:`T_{\\max}`, the longest dependency expected. PyTorch keeps two
    bias vectors per layer, ``bias_ih_l{k}`` and ``bias_hh_l{k}``, and adds them; the rule is
    applied to their sum: ``bias_ih`` receives it and ``bias_hh`` is zeroed. Gate order is
    PyTorch's, :math:`(i, f, g, o)`. Bidirectional layers (``_reverse``) are set too.

    Works on ``torch.nn.LSTM`` and on :class:`LSTM`; returns ``lstm``.

    Shapes:
        no tensors in; biases ``(4 H,)`` per layer and direction are overwritten.

    Introduced in: 5.8, :doc:`/book/05_models/05_8_lstms`.
    """
    if not isinstance(lstm, (nn.LSTM, LSTM)):
        raise TypeError(f"chrono_init expects a torch.nn.LSTM or gdlutils.sequences.LSTM, got {type(lstm).__name__}")
    if not lstm.bias:
        raise ValueError("chrono_init needs an LSTM with biases: build it with bias=True")
    _check_t_max(t_max)
    gen = _generator(seed)
    H = lstm.hidden_size
    with torch.no_grad():
        for name, b_ih in lstm.named_parameters():
            if not name.startswith("bias_ih"):
                continue
            b_hh = getattr(lstm, name.replace("bias_ih", "bias_hh"))
            b_f = _chrono_draw(H, t_max, gen).to(b_ih.dtype)
            b_ih.zero_()
            b_hh.zero_()
            b_ih[H: 2 * H] = b_f
            b_ih[:H] = -b_f
    return lstm
