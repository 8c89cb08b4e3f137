"""Self-checks of section 6.3 pass on the reference solutions and fail on plausible wrong ones."""
import torch

from gdlutils.exercises import check, list_exercises
from gdlutils.temporal import chronological_split, neighbour_mean, sliding_windows


def test_checks_are_registered():
    ids = list_exercises()
    for k in (1, 2, 3, 4):
        assert f"6.3.{k}" in ids


def _windows(signal, lags):
    S = signal.shape[0] - lags
    x = torch.stack([signal[s:s + lags].t() for s in range(S)])
    return x, signal[lags:]


def test_6_3_1(capsys):
    assert check("6.3.1", _windows)
    assert check("6.3.1", sliding_windows)

    def off_by_one(signal, lags):  # target = the last input week
        x, _ = _windows(signal, lags)
        return x, signal[lags - 1:-1]

    def nodes_last(signal, lags):  # (S, lags, N)
        x, y = _windows(signal, lags)
        return x.transpose(1, 2), y

    def newest_first(signal, lags):
        x, y = _windows(signal, lags)
        return x.flip(-1), y

    assert not check("6.3.1", off_by_one)
    assert "off by one" in capsys.readouterr().out
    assert not check("6.3.1", nodes_last)
    assert not check("6.3.1", newest_first)
    assert "oldest first" in capsys.readouterr().out


def test_6_3_2(capsys):
    assert check("6.3.2", chronological_split)

    def shuffled(x, y, ratio):
        perm = torch.randperm(len(x))
        n = int(ratio * len(x))
        return (x[perm[:n]], y[perm[:n]]), (x[perm[n:]], y[perm[n:]])

    def test_first(x, y, ratio):  # trains on the end of the series, tests on its start
        n = len(x) - int(ratio * len(x))
        return (x[n:], y[n:]), (x[:n], y[:n])

    def overlapping(x, y, ratio):  # test windows include the training period
        n = int(ratio * len(x))
        return (x[:n], y[:n]), (x, y)

    assert not check("6.3.2", shuffled)
    assert "leak" in capsys.readouterr().out
    assert not check("6.3.2", test_first)
    assert not check("6.3.2", overlapping)


def test_6_3_3(capsys):
    assert check("6.3.3", neighbour_mean)

    def summed(x, edge_index):
        keep = edge_index[0] != edge_index[1]
        src, dst = edge_index[:, keep]
        return torch.zeros_like(x).index_add_(0, dst, x[src])

    def reversed_direction(x, edge_index):
        return neighbour_mean(x, edge_index.flip(0))

    def with_self_loops(x, edge_index):
        src, dst = edge_index
        out = torch.zeros_like(x).index_add_(0, dst, x[src])
        return out / torch.bincount(dst, minlength=x.shape[0]).clamp(min=1)[:, None]

    assert not check("6.3.3", summed)
    assert "summed" in capsys.readouterr().out
    assert not check("6.3.3", reversed_direction)
    assert "direction" in capsys.readouterr().out
    assert not check("6.3.3", with_self_loops)


def test_6_3_4(capsys):
    assert check("6.3.4", lambda rho: 2 * (1 - rho))
    assert not check("6.3.4", lambda rho: 1 - rho)
    assert not check("6.3.4", lambda rho: 2 * (1 + rho))
    assert not check("6.3.4", lambda rho: 1.0)
    assert "persistence error" in capsys.readouterr().out
