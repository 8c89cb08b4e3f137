"""Self-checks for the exercises of section 5.8 (gating, LSTMs and chrono initialisation)."""
from __future__ import annotations

import math

import torch
from torch import nn

from . import ExerciseFailure, exercise
from .ch5 import _tensor


def _random_cell(cls, I, H, gen):
    cell = cls(I, H).double()
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.7)
    return cell


@exercise("5.8.1", "one step of an LSTM")
def _lstm_step(lstm_step):
    """``lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh)`` -> (h', c'), as torch.nn.LSTMCell."""
    gen = torch.Generator().manual_seed(81)
    cell = _random_cell(nn.LSTMCell, 3, 4, gen)
    x = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    h = torch.randn(5, 4, generator=gen, dtype=torch.float64)
    c = torch.randn(5, 4, generator=gen, dtype=torch.float64)
    want_h, want_c = cell(x, (h, c))
    out = lstm_step(x, h, c, cell.weight_ih.detach(), cell.weight_hh.detach(), cell.bias_ih.detach(), cell.bias_hh.detach())
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise ExerciseFailure("lstm_step should return the pair (h_new, c_new)")
    got_h, got_c = (_tensor(t, "lstm_step").double() for t in out)
    if got_c.shape != want_c.shape or not torch.allclose(got_c, want_c, atol=1e-9):
        raise ExerciseFailure(
            "your new cell state differs from torch.nn.LSTMCell's: c' = f * c + i * g with the four blocks of "
            "x W_ih^T + b_ih + h W_hh^T + b_hh in PyTorch's order (i, f, g, o), g through tanh, the others through sigmoid"
        )
    if not torch.allclose(got_h, want_h, atol=1e-9):
        raise ExerciseFailure("your cell state is right but h' is not: h' = o * tanh(c'), with the *new* cell state")


@exercise("5.8.2", "chrono initialisation of the biases")
def _chrono_bias(chrono_bias):
    """``chrono_bias(hidden_size, t_max, seed)`` -> the (4 H,) summed bias, order (i, f, g, o)."""
    H, t_max = 4000, 60
    b = _tensor(chrono_bias(H, t_max, 0), "chrono_bias").double().flatten()
    if b.numel() != 4 * H:
        raise ExerciseFailure(f"for hidden_size={H} the bias has 4 * {H} = {4 * H} entries (i, f, g, o), got {b.numel()}")
    b_i, b_f, b_g, b_o = b.split(H)
    if b_g.abs().max() > 0 or b_o.abs().max() > 0:
        raise ExerciseFailure("the cell-candidate (g) and output-gate (o) biases, blocks 3 and 4, should be zero")
    if (b_f <= -1e-6).sum() > 0 and (b_i >= -1e-6).all():
        raise ExerciseFailure("the input and forget blocks look swapped: PyTorch's order is (i, f, g, o)")
    if not torch.allclose(b_i, -b_f):
        raise ExerciseFailure("the input-gate bias should be minus the forget-gate bias, b_i = -b_f")
    u = b_f.exp()
    if u.min() < 1 - 1e-6 or u.max() > t_max - 1 + 1e-6:
        raise ExerciseFailure(f"exp(b_f) should lie in [1, t_max - 1] = [1, {t_max - 1}]; yours spans "
                              f"[{u.min().item():.3g}, {u.max().item():.3g}]")
    cdf = ((u.sort().values - 1) / (t_max - 2)).clamp(0, 1)
    ks = (cdf - torch.arange(1, H + 1, dtype=torch.float64) / H).abs().max().item()
    if ks > 2.0 / math.sqrt(H):
        raise ExerciseFailure(
            f"exp(b_f) should be uniform on [1, t_max - 1] (b_f is the log of a uniform draw, not uniform itself); "
            f"its distance to the uniform distribution is {ks:.3f}"
        )


@exercise("5.8.3", "PyTorch's GRU step")
def _gru_step(gru_step):
    """``gru_step(x, h, w_ih, w_hh, b_ih, b_hh)`` -> h', as torch.nn.GRUCell."""
    gen = torch.Generator().manual_seed(83)
    cell = _random_cell(nn.GRUCell, 4, 4, gen)
    x = torch.randn(6, 4, generator=gen, dtype=torch.float64)
    h = torch.randn(6, 4, generator=gen, dtype=torch.float64)
    want = cell(x, h)
    w_ih, w_hh, b_ih, b_hh = (p.detach() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh))
    got = _tensor(gru_step(x, h, w_ih, w_hh, b_ih, b_hh), "gru_step").double()
    if got.shape != want.shape:
        raise ExerciseFailure(f"h' should have shape {tuple(want.shape)}, got {tuple(got.shape)}")
    if not torch.allclose(got, want, atol=1e-9):
        H = 4
        gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        r = torch.sigmoid(gi[:, :H] + gh[:, :H])
        z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n_cho = torch.tanh(gi[:, 2 * H:] + (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:])
        if torch.allclose(got, (1 - z) * n_cho + z * h, atol=1e-9):
            raise ExerciseFailure("this is Cho et al.'s GRU (reset gate applied to h before W_hn); PyTorch applies "
                                  "it after: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))")
        n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        if torch.allclose(got, z * n + (1 - z) * h, atol=1e-9):
            raise ExerciseFailure("the roles of z and 1 - z are swapped: in PyTorch z is the fraction of the old state kept")
        raise ExerciseFailure("your h' differs from torch.nn.GRUCell's; gate blocks are in the order (r, z, n)")
