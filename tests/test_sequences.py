"""Tests of gdlutils.sequences: the plain cells against torch.nn (weights copied both ways),
leaky and gated RNNs, time warps, the task generators and chrono initialisation."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gdlutils import sequences as S

TOL = 1e-6


CASES = [
    dict(input_size=3, hidden_size=5),
    dict(input_size=3, hidden_size=5, num_layers=3),
    dict(input_size=4, hidden_size=6, num_layers=2, batch_first=True),
    dict(input_size=2, hidden_size=4, bias=False),
]


def _inputs(kwargs, T=7, B=4, dtype=torch.float64):
    g = torch.Generator().manual_seed(1)
    shape = (B, T, kwargs["input_size"]) if kwargs.get("batch_first") else (T, B, kwargs["input_size"])
    return torch.randn(shape, generator=g, dtype=dtype)


def _state(kwargs, B=4, dtype=torch.float64, seed=2):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(kwargs.get("num_layers", 1), B, kwargs["hidden_size"], generator=g, dtype=dtype)


RNN_CASES = [(S.RNN, nn.RNN, kw) for kw in CASES + [dict(input_size=3, hidden_size=5, num_layers=2, nonlinearity="relu")]]
GRU_CASES = [(S.GRU, nn.GRU, kw) for kw in CASES]


@pytest.mark.parametrize("ours_cls,ref_cls,kwargs", RNN_CASES + GRU_CASES)
@pytest.mark.parametrize("direction", ["torch_to_ours", "ours_to_torch"])
def test_rnn_and_gru_equal_torch(ours_cls, ref_cls, kwargs, direction):
    ours, ref = ours_cls(**kwargs).double(), ref_cls(**kwargs).double()
    src, dst = (ref, ours) if direction == "torch_to_ours" else (ours, ref)
    dst.load_state_dict(src.state_dict())
    x, h0 = _inputs(kwargs), _state(kwargs)
    for hx in (None, h0):
        out, h = ours(x, hx)
        out_ref, h_ref = ref(x, hx)
        assert out.shape == out_ref.shape and h.shape == h_ref.shape
        assert (out - out_ref).abs().max() < TOL and (h - h_ref).abs().max() < TOL


def test_gru_cho_variant_differs_and_matches_formula():
    torch.manual_seed(3)
    pt = S.GRU(3, 5).double()
    cho = S.GRU(3, 5, reset_after=False).double()
    cho.load_state_dict(pt.state_dict())
    x = _inputs(dict(input_size=3))
    h0 = _state(dict(hidden_size=5), seed=4)
    # the two variants are different functions of the same weights
    assert (pt(x, h0)[0] - cho(x, h0)[0]).abs().max() > 1e-3
    # Cho et al. (2014), one step written out: the reset gate acts on the state before W_hn
    H = 5
    w_ih, w_hh, b_ih, b_hh = cho.weight_ih_l0, cho.weight_hh_l0, cho.bias_ih_l0, cho.bias_hh_l0
    h = h0[0]
    gi, gh = x[0] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r = torch.sigmoid(gi[:, :H] + gh[:, :H])
    z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = torch.tanh(gi[:, 2 * H:] + (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:])
    h1 = (1 - z) * n + z * h
    assert torch.allclose(cho(x[:1], h0)[0][0], h1, atol=1e-12)


@pytest.mark.parametrize("kwargs", CASES)
@pytest.mark.parametrize("direction", ["torch_to_ours", "ours_to_torch"])
def test_lstm_equals_torch(kwargs, direction):
    ours, ref = S.LSTM(**kwargs).double(), nn.LSTM(**kwargs).double()
    src, dst = (ref, ours) if direction == "torch_to_ours" else (ours, ref)
    dst.load_state_dict(src.state_dict())
    x = _inputs(kwargs)
    hc = (_state(kwargs, seed=5), _state(kwargs, seed=6))
    for hx in (None, hc):
        out, (h, c) = ours(x, hx)
        out_ref, (h_ref, c_ref) = ref(x, hx)
        assert (out - out_ref).abs().max() < TOL
        assert (h - h_ref).abs().max() < TOL and (c - c_ref).abs().max() < TOL


def test_float32_and_gradients_match_torch():
    torch.manual_seed(0)
    ours, ref = S.LSTM(3, 8, num_layers=2), nn.LSTM(3, 8, num_layers=2)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(20, 5, 3)
    ours(x)[0].square().sum().backward()
    ref(x)[0].square().sum().backward()
    assert (ours(x)[0] - ref(x)[0]).abs().max() < TOL
    for (n1, p1), (n2, p2) in zip(ours.named_parameters(), ref.named_parameters()):
        assert n1 == n2 and (p1.grad - p2.grad).abs().max() < 1e-5, n1


def test_unbatched_input_like_torch():
    torch.manual_seed(0)
    ours, ref = S.GRU(3, 4, num_layers=2), nn.GRU(3, 4, num_layers=2)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(6, 3)
    out, h = ours(x)
    out_ref, h_ref = ref(x)
    assert out.shape == (6, 4) and h.shape == (2, 4)
    assert (out - out_ref).abs().max() < TOL and (h - h_ref).abs().max() < TOL


def test_lstm_gate_order_is_ifgo():
    """A big bias on one block of four must act as that gate: i, f, g, o in this order."""
    lstm = S.LSTM(1, 1)
    with torch.no_grad():
        for p in lstm.parameters():
            p.zero_()
    x = torch.zeros(1, 1, 1)
    c0 = torch.ones(1, 1, 1)
    h0 = torch.zeros(1, 1, 1)
    with torch.no_grad():
        lstm.bias_ih_l0.copy_(torch.tensor([-50.0, 50.0, 0.0, 50.0]))  # i closed, f open, o open
    _, (h, c) = lstm(x, (h0, c0))
    assert torch.allclose(c, c0) and torch.allclose(h, torch.tanh(c0))
    with torch.no_grad():
        lstm.bias_ih_l0.copy_(torch.tensor([50.0, -50.0, 50.0, 50.0]))  # write g = tanh(50) = 1, forget
    _, (h, c) = lstm(x, (h0, 5 * c0))
    assert torch.allclose(c, torch.ones(1, 1, 1))


# ------------------------------------------------------------------------ leaky / gated


def test_leaky_rnn_with_alpha_one_is_the_elman_rnn():
    torch.manual_seed(0)
    leaky, rnn = S.LeakyRNN(3, 5), nn.RNN(3, 5)
    rnn.load_state_dict({k: v for k, v in leaky.state_dict().items() if k != "alpha_logit"})
    x = torch.randn(9, 2, 3)
    assert (leaky(x)[0] - rnn(x)[0]).abs().max() < TOL


def test_leaky_rnn_is_the_euler_step():
    torch.manual_seed(0)
    leaky = S.LeakyRNN(2, 4, alpha=0.25).double()
    x = torch.randn(5, 3, 2, dtype=torch.float64)
    out, h_n = leaky(x)
    h = torch.zeros(3, 4, dtype=torch.float64)
    for t in range(5):
        dh = -h + torch.tanh(x[t] @ leaky.weight_ih_l0.T + leaky.bias_ih_l0 + h @ leaky.weight_hh_l0.T + leaky.bias_hh_l0)
        h = h + 0.25 * dh
        assert torch.allclose(out[t], h, atol=1e-12)
    assert torch.allclose(h_n[0], h)


def test_leaky_rnn_learns_alpha_and_checks_it():
    leaky = S.LeakyRNN(2, 3, alpha=0.5, learn_alpha=True)
    assert "alpha_logit" in dict(leaky.named_parameters())
    leaky(torch.randn(4, 1, 2))[0].sum().backward()
    assert leaky.alpha_logit.grad is not None and leaky.alpha_logit.grad.abs().sum() > 0
    assert torch.allclose(leaky.alpha, torch.full((3,), 0.5))
    assert "alpha_logit" not in dict(S.LeakyRNN(2, 3).named_parameters())
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="alpha"):
            S.LeakyRNN(2, 3, alpha=bad)
    with pytest.raises(ValueError, match="learn_alpha"):
        S.LeakyRNN(2, 3, alpha=1.0, learn_alpha=True)


def test_gated_rnn_formula_and_chrono_bias():
    torch.manual_seed(0)
    m = S.GatedRNN(2, 3).double()
    x = torch.randn(4, 2, 2, dtype=torch.float64)
    out, _ = m(x)
    h = torch.zeros(2, 3, dtype=torch.float64)
    for t in range(4):
        g = torch.sigmoid(x[t] @ m.weight_ig.T + h @ m.weight_hg.T + m.bias_g)
        cand = torch.tanh(x[t] @ m.weight_ih_l0.T + m.bias_ih_l0 + h @ m.weight_hh_l0.T + m.bias_hh_l0)
        h = (1 - g) * h + g * cand
    assert torch.allclose(out[-1], h, atol=1e-12)
    m = S.GatedRNN(2, 2000)
    m.reset_parameters(t_max=50, seed=0)
    u = torch.exp(-m.bias_g.detach().double())
    assert u.min() >= 1 - 1e-5 and u.max() <= 49 + 1e-4
    assert abs(u.mean().item() - 25) < 1.0  # U[1, 49] has mean 25, sd 13.9/sqrt(2000) = 0.3


def test_gated_rnn_with_closed_gate_holds_its_state():
    m = S.GatedRNN(2, 3)
    with torch.no_grad():
        m.bias_g.fill_(-60.0)
    h0 = torch.randn(1, 4, 3)
    out, h = m(torch.randn(10, 4, 2), h0)
    assert torch.allclose(h, h0, atol=1e-6)


# -------------------------------------------------------------------------------- warps


def test_time_warp_repeat_and_pad():
    x = torch.tensor([[1, 2, 3], [4, 5, 6]])
    d = torch.tensor([[1, 2, 3], [2, 1, 1]])
    y, lengths = S.time_warp(x, d, mode="repeat")
    assert lengths.tolist() == [6, 4]
    assert y.tolist() == [[1, 2, 2, 3, 3, 3], [4, 4, 5, 6, 0, 0]]
    y, _ = S.time_warp(x, d, mode="pad")
    assert y.tolist() == [[1, 2, 0, 3, 0, 0], [4, 0, 5, 6, 0, 0]]


def test_time_warp_features_and_time_major_agree():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, 2, generator=g)
    d = S.random_warp(3, 5, 4, seed=1)
    y, lengths = S.time_warp(x, d)
    y_tm, _ = S.time_warp(x.transpose(0, 1), d, batch_first=False)
    assert torch.equal(y_tm.transpose(0, 1), y)
    for b in range(3):  # against repeat_interleave, sequence by sequence
        ref = torch.repeat_interleave(x[b], d[b], dim=0)
        assert torch.equal(y[b, : lengths[b]], ref) and (y[b, lengths[b]:] == 0).all()


def test_uniform_warp_and_random_warp():
    x = torch.arange(6.0).view(2, 3)
    assert torch.equal(S.uniform_warp(x, 2), torch.repeat_interleave(x, 2, dim=1))
    assert S.uniform_warp(x, 3, mode="pad")[0].tolist() == [0, 0, 0, 1, 0, 0, 2, 0, 0]
    d = S.random_warp(1000, 7, 3, seed=0)
    assert d.shape == (1000, 7) and d.min() == 1 and d.max() == 3
    assert torch.equal(d, S.random_warp(1000, 7, 3, seed=0))
    assert not torch.equal(d, S.random_warp(1000, 7, 3, seed=1))


def test_time_warp_bad_input():
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="durations must have shape"):
        S.time_warp(x, torch.ones(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=">= 1"):
        S.time_warp(x, torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="integer"):
        S.time_warp(x, torch.ones(2, 3))
    with pytest.raises(ValueError, match="mode"):
        S.time_warp(x, torch.ones(2, 3, dtype=torch.long), mode="stretch")
    with pytest.raises(ValueError, match="rank"):
        S.time_warp(torch.zeros(3), torch.ones(1, 3, dtype=torch.long))


# -------------------------------------------------------------------------------- tasks


def test_adding_task():
    x, y = S.adding_task(4000, 30, seed=0)
    assert x.shape == (4000, 30, 2) and y.shape == (4000, 1)
    markers = x[..., 1]
    assert torch.equal(markers.sum(1), torch.full((4000,), 2.0))
    assert (markers[:, :15].sum(1) == 1).all() and (markers[:, 15:].sum(1) == 1).all()
    assert torch.allclose(y[:, 0], (x[..., 0] * markers).sum(1))
    # the memoryless baseline: predicting E y = 1 costs Var y = 1/6
    assert abs(y.mean().item() - 1) < 0.02 and abs(((y - 1) ** 2).mean().item() - 1 / 6) < 0.01
    assert torch.equal(S.adding_task(3, 10, seed=5)[0], S.adding_task(3, 10, seed=5)[0])
    assert not torch.equal(S.adding_task(3, 10, seed=5)[0], S.adding_task(3, 10, seed=6)[0])


def test_copy_task_layout():
    x, y = S.copy_task(64, seq_len=5, delay=7, num_symbols=4, seed=0)
    assert x.shape == (64, 5 + 7 + 5) and y.shape == (64, 5)
    assert torch.equal(x[:, :5], y + 1)
    assert (x[:, 5:12] == 0).all() and (x[:, 12] == 5).all() and (x[:, 13:] == 0).all()
    assert (y[:, 1:] != y[:, :-1]).all() and y.min() >= 0 and y.max() <= 3


@pytest.mark.parametrize("mode", ["repeat", "pad"])
def test_copy_task_warped_reads_back(mode):
    x, y = S.copy_task(32, seq_len=6, delay=3, num_symbols=5, max_warp=4, mode=mode, seed=1)
    assert x.shape == (32, 24 + 3 + 6)
    seg = x[:, :24]
    for b in range(32):
        s = seg[b][seg[b] > 0]
        if mode == "repeat":
            s = torch.unique_consecutive(s)
        assert torch.equal(s - 1, y[b])
    xu, yu = S.copy_task(8, seq_len=6, delay=3, num_symbols=5, max_warp=4, uniform=True, seed=1)
    assert torch.equal(xu[:, :24], S.uniform_warp(yu + 1, 4))


def test_task_bad_input():
    with pytest.raises(ValueError, match="seq_len"):
        S.adding_task(4, 1)
    with pytest.raises(TypeError, match="seed"):
        S.adding_task(4, 10, seed=1.5)
    with pytest.raises(ValueError, match="num_symbols"):
        S.copy_task(4, num_symbols=1)
    with pytest.raises(TypeError, match="batch_size"):
        S.copy_task(4.0)


# ------------------------------------------------------------------------------- chrono


@pytest.mark.parametrize("cls", [nn.LSTM, S.LSTM])
def test_chrono_init_distribution_and_gate_order(cls):
    H, t_max = 800, 100
    lstm = cls(3, H, num_layers=2)
    S.chrono_init(lstm, t_max, seed=0)
    for k in range(2):
        b = (getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}")).detach().double()
        assert (getattr(lstm, f"bias_hh_l{k}") == 0).all()
        b_i, b_f, b_g, b_o = b.split(H)
        assert torch.allclose(b_i, -b_f) and (b_g == 0).all() and (b_o == 0).all()
        u = b_f.exp()
        assert u.min() >= 1 - 1e-5 and u.max() <= t_max - 1 + 1e-3
        # exp(b_f) ~ U[1, 99]: Kolmogorov-Smirnov distance to the uniform CDF, 1.36/sqrt(n) at 5%
        u_sorted = u.sort().values
        cdf = (u_sorted - 1) / (t_max - 2)
        ks = (cdf - torch.arange(1, H + 1, dtype=torch.float64) / H).abs().max()
        assert ks < 1.63 / math.sqrt(H)  # 1% level
    # the two layers get different draws; a seed reproduces them
    assert not torch.equal(lstm.bias_ih_l0, lstm.bias_ih_l1)
    other = cls(3, H, num_layers=2)
    S.chrono_init(other, t_max, seed=0)
    assert torch.equal(other.bias_ih_l1, lstm.bias_ih_l1)


def test_chrono_forget_gate_remembers_up_to_t_max():
    """With chrono, the forget gates' memory time scales 1/(1 - f) = 1 + u lie in [2, t_max]."""
    lstm = nn.LSTM(1, 500)
    S.chrono_init(lstm, 40, seed=1)
    with torch.no_grad():
        lstm.weight_hh_l0.zero_()
        lstm.weight_ih_l0.zero_()
    f = torch.sigmoid(lstm.bias_ih_l0[500:1000].detach().double())
    scale = 1 / (1 - f)
    assert scale.min() >= 2 - 1e-6 and scale.max() <= 40 + 1e-6 and scale.max() > 35


def test_chrono_init_bad_input():
    with pytest.raises(ValueError, match="t_max"):
        S.chrono_init(nn.LSTM(2, 3), 1)
    with pytest.raises(ValueError, match="t_max"):
        S.chrono_init(nn.LSTM(2, 3), float("inf"))
    with pytest.raises(TypeError, match="LSTM"):
        S.chrono_init(nn.GRU(2, 3), 10)
    with pytest.raises(ValueError, match="bias=True"):
        S.chrono_init(nn.LSTM(2, 3, bias=False), 10)
    lstm = nn.LSTM(2, 3)
    before = lstm.bias_ih_l0.detach().clone()
    with pytest.raises(ValueError):
        S.chrono_init(lstm, 0)
    assert torch.equal(lstm.bias_ih_l0, before)  # nothing changed on bad input


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("layer", [S.RNN(3, 4), S.GRU(3, 4), S.LSTM(3, 4), S.LeakyRNN(3, 4), S.GatedRNN(3, 4)])
def test_layers_reject_bad_input(layer):
    with pytest.raises(ValueError, match="rank"):
        layer(torch.zeros(2, 3, 4, 3))
    with pytest.raises(ValueError, match="input_size"):
        layer(torch.zeros(5, 2, 7))
    with pytest.raises(TypeError, match="floating"):
        layer(torch.zeros(5, 2, 3, dtype=torch.long))
    with pytest.raises((ValueError, TypeError), match="shape|pair"):
        hx = torch.zeros(1, 9, 4)
        layer(torch.zeros(5, 2, 3), (hx, hx) if isinstance(layer, S.LSTM) else hx)


def test_constructor_bad_input():
    with pytest.raises(ValueError, match="nonlinearity"):
        S.RNN(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        S.LSTM(2, 0)
    with pytest.raises(TypeError, match="num_layers"):
        S.GRU(2, 3, num_layers=1.0)


def test_reset_parameters_redraws():
    m = S.LSTM(2, 3)
    before = m.weight_hh_l0.detach().clone()
    m.reset_parameters()
    assert not torch.equal(before, m.weight_hh_l0)
    bound = 1 / math.sqrt(3)
    assert all((p.abs() <= bound).all() for p in m.parameters())
