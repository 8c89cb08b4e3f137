"""Self-checks of section 5.7 pass on the reference solutions and fail on plausible wrong ones."""
import torch

from gdlutils.exercises import check, list_exercises


def test_checks_are_registered():
    ids = list_exercises()
    for k in (1, 2, 3):
        assert f"5.7.{k}" in ids


def _elman(x, h0, w_ih, w_hh, b_ih, b_hh):
    h, out = h0, []
    for t in range(x.shape[0]):
        h = torch.tanh(x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        out.append(h)
    return torch.stack(out)


def test_5_7_1(capsys):
    def late(x, h0, w_ih, w_hh, b_ih, b_hh):  # returns h_0 .. h_{T-1}
        states = _elman(x, h0, w_ih, w_hh, b_ih, b_hh)
        return torch.cat([h0[None], states[:-1]])

    def no_transpose(x, h0, w_ih, w_hh, b_ih, b_hh):
        h, out = h0, []
        for t in range(x.shape[0]):
            h = torch.tanh(x[t] @ w_ih + b_ih + h @ w_hh + b_hh)
            out.append(h)
        return torch.stack(out)

    def one_bias(x, h0, w_ih, w_hh, b_ih, b_hh):
        return _elman(x, h0, w_ih, w_hh, b_ih, 0 * b_hh)

    assert check("5.7.1", _elman)
    assert not check("5.7.1", late)
    assert "one step late" in capsys.readouterr().out
    assert not check("5.7.1", no_transpose)
    assert "transposes" in capsys.readouterr().out
    assert not check("5.7.1", one_bias)


def test_5_7_2(capsys):
    assert check("5.7.2", lambda alpha, c: 1 - (1 - alpha) ** (1 / c))
    assert not check("5.7.2", lambda alpha, c: alpha / c)
    assert "first-order" in capsys.readouterr().out
    assert not check("5.7.2", lambda alpha, c: alpha)
    assert not check("5.7.2", lambda alpha, c: 1 - (1 - alpha) ** c)


def test_5_7_3(capsys):
    def ok(w, T):
        return torch.stack([torch.linalg.matrix_norm(torch.linalg.matrix_power(w, k), ord=2) for k in range(T)])

    def power_of_norm(w, T):
        return torch.linalg.matrix_norm(w, ord=2) ** torch.arange(T, dtype=w.dtype)

    def frobenius(w, T):
        return torch.stack([torch.linalg.matrix_norm(torch.linalg.matrix_power(w, k)) for k in range(T)])

    def off_by_one(w, T):
        return ok(w, T + 1)[1:]

    assert check("5.7.3", ok)
    assert not check("5.7.3", power_of_norm)
    assert "upper bound" in capsys.readouterr().out
    assert not check("5.7.3", frobenius)
    assert not check("5.7.3", off_by_one)
    assert "identity" in capsys.readouterr().out
