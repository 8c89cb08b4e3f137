"""Self-checks of section 5.8 pass on the reference solutions and fail on plausible wrong ones."""
import torch

from gdlutils.exercises import check, list_exercises


def test_checks_are_registered():
    ids = list_exercises()
    for k in (1, 2, 3):
        assert f"5.8.{k}" in ids


def _lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh, order="ifgo", tanh_c=True):
    blocks = dict(zip(order, (x @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, dim=-1)))
    i, f, o = (torch.sigmoid(blocks[k]) for k in "ifo")
    g = torch.tanh(blocks["g"])
    c = f * c + i * g
    return o * (torch.tanh(c) if tanh_c else c), c


def test_5_8_1(capsys):
    assert check("5.8.1", _lstm_step)
    assert not check("5.8.1", lambda *a: _lstm_step(*a, order="igfo"))  # TensorFlow-style order
    assert not check("5.8.1", lambda *a: _lstm_step(*a, order="fiog"))
    assert not check("5.8.1", lambda *a: _lstm_step(*a, tanh_c=False))
    assert "h' = o * tanh(c')" in capsys.readouterr().out


def _chrono(H, t_max, seed, how="ok"):
    g = torch.Generator().manual_seed(seed)
    u = 1 + (t_max - 2) * torch.rand(H, generator=g, dtype=torch.float64)
    if how == "log_uniform":  # b_f uniform on [0, log(t_max - 1)] instead of the log of a uniform
        b_f = torch.rand(H, generator=g, dtype=torch.float64) * torch.log(torch.tensor(t_max - 1.0))
    elif how == "t_max":
        b_f = torch.log(1 + (t_max - 1) * torch.rand(H, generator=g, dtype=torch.float64))
    else:
        b_f = torch.log(u)
    z = torch.zeros(H, dtype=torch.float64)
    if how == "swapped":
        return torch.cat([b_f, -b_f, z, z])
    if how == "no_input":
        return torch.cat([z, b_f, z, z])
    return torch.cat([-b_f, b_f, z, z])


def test_5_8_2(capsys):
    assert check("5.8.2", _chrono)
    assert not check("5.8.2", lambda *a: _chrono(*a, how="log_uniform"))
    assert "log of a uniform" in capsys.readouterr().out
    assert not check("5.8.2", lambda *a: _chrono(*a, how="swapped"))
    assert "swapped" in capsys.readouterr().out
    assert not check("5.8.2", lambda *a: _chrono(*a, how="no_input"))
    assert not check("5.8.2", lambda *a: _chrono(*a, how="t_max"))


def _gru(x, h, w_ih, w_hh, b_ih, b_hh, variant="pytorch"):
    H = h.shape[-1]
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r = torch.sigmoid(gi[:, :H] + gh[:, :H])
    z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    if variant == "cho":
        n = torch.tanh(gi[:, 2 * H:] + (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:])
    else:
        n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    if variant == "swapped_z":
        return z * n + (1 - z) * h
    return (1 - z) * n + z * h


def test_5_8_3(capsys):
    assert check("5.8.3", _gru)
    assert not check("5.8.3", lambda *a: _gru(*a, variant="cho"))
    assert "Cho" in capsys.readouterr().out
    assert not check("5.8.3", lambda *a: _gru(*a, variant="swapped_z"))
    assert "swapped" in capsys.readouterr().out
