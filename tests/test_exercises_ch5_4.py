"""Self-checks of section 5.4 pass on the reference solutions and fail on plausible wrong ones."""
import math

import torch

from gdlutils.exercises import check, list_exercises
from gdlutils.sets import set_pool


def test_checks_are_registered():
    ids = list_exercises()
    for k in range(1, 10):
        assert f"5.4.{k}" in ids


def test_5_4_1(capsys):
    ok = lambda n, l, g: l * torch.eye(n) + g * torch.ones(n, n)
    assert check("5.4.1", ok)
    assert not check("5.4.1", lambda n, l, g: l * torch.eye(n) + g / n * torch.ones(n, n))  # mean, not sum
    assert "scale" in capsys.readouterr().out
    assert not check("5.4.1", lambda n, l, g: l * torch.eye(n) + g * torch.triu(torch.ones(n, n)))
    assert "not even" in capsys.readouterr().out


def test_5_4_2(capsys):
    def ok(x, mask):
        m = mask.unsqueeze(-1).to(x.dtype)
        return (x * m).sum(1) / m.sum(1)

    assert check("5.4.2", ok)
    assert not check("5.4.2", lambda x, mask: x.mean(1))
    assert not check("5.4.2", lambda x, mask: (x * mask.unsqueeze(-1)).sum(1) / x.size(1))
    assert "padded length" in capsys.readouterr().out


def test_5_4_3(capsys):
    def ok(x, batch):
        m, m2 = set_pool(torch.cat([x, x**2], 1), batch, reduce="mean").chunk(2, 1)
        return m2 - m**2

    assert check("5.4.3", ok)
    assert not check("5.4.3", lambda x, b: ok(x, torch.zeros_like(b)).expand(3, -1))  # ignores the batch
    assert not check("5.4.3", lambda x, b: torch.stack([x[b == k].var(0) if (b == k).sum() > 1 else torch.zeros(2, dtype=x.dtype) for k in range(3)]))
    assert "unbiased" in capsys.readouterr().out
    assert not check("5.4.3", lambda x, b: ok(x, torch.arange(len(b)) % 3))  # order-dependent sets


def test_5_4_4(capsys):
    ok = lambda m: (~m).nonzero().flip(1).t()
    assert check("5.4.4", ok)
    assert not check("5.4.4", lambda m: (~m).nonzero().t())
    assert "wrong way" in capsys.readouterr().out
    assert not check("5.4.4", lambda m: m.nonzero().flip(1).t())
    assert "not* allowed" in capsys.readouterr().out


def test_5_4_5(capsys):
    ok = lambda n: torch.sort(2 - 2 * torch.cos(2 * math.pi * torch.arange(n) / n)).values
    assert check("5.4.5", ok)
    assert not check("5.4.5", lambda n: 2 - 2 * torch.cos(2 * math.pi * torch.arange(n) / n))
    assert "ascending" in capsys.readouterr().out
    assert not check("5.4.5", lambda n: ok(n) / 2)
    assert "normalised" in capsys.readouterr().out


def test_5_4_6(capsys):
    def ok(t, dim):
        R = torch.zeros(dim, dim, dtype=torch.float64)
        for m in range(dim // 2):
            a = t * 10000 ** (-2 * m / dim)
            R[2 * m : 2 * m + 2, 2 * m : 2 * m + 2] = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        return R

    assert check("5.4.6", ok)
    assert not check("5.4.6", lambda t, dim: ok(t, dim).T)
    assert "backwards" in capsys.readouterr().out
    assert not check("5.4.6", lambda t, dim: torch.eye(dim))


def _brute(x, k):
    d = torch.cdist(x, x)
    d.fill_diagonal_(float("inf"))
    nbr = d.topk(k, largest=False).indices
    return torch.stack([nbr.reshape(-1), torch.arange(len(x)).repeat_interleave(k)])


def test_5_4_7(capsys):
    assert check("5.4.7", _brute)
    assert not check("5.4.7", lambda x, k: _brute(x, k).flip(0))
    assert "centre" in capsys.readouterr().out
    with_self = lambda x, k: torch.stack([torch.cdist(x, x).topk(k, largest=False).indices.reshape(-1), torch.arange(len(x)).repeat_interleave(k)])
    assert not check("5.4.7", with_self)
    assert "self-loops" in capsys.readouterr().out


def test_5_4_8(capsys):
    ok = lambda x, ei: torch.cat([x[ei[1]], x[ei[0]] - x[ei[1]]], 1)
    assert check("5.4.8", ok)
    assert not check("5.4.8", lambda x, ei: ok(x, ei.flip(0)))
    assert "swapped" in capsys.readouterr().out
    assert not check("5.4.8", lambda x, ei: torch.cat([x[ei[1]], x[ei[0]]], 1))
    assert "offset" in capsys.readouterr().out


def test_5_4_9():
    def ok(a, b):
        A, B = set(map(tuple, a.t().tolist())), set(map(tuple, b.t().tolist()))
        return len(A & B) / len(A | B)

    assert check("5.4.9", ok)
    undirected = lambda a, b: ok(torch.cat([a, a.flip(0)], 1), torch.cat([b, b.flip(0)], 1))
    assert not check("5.4.9", undirected)
    assert not check("5.4.9", lambda a, b: (lambda A, B: len(A & B) / len(A))(set(map(tuple, a.t().tolist())), set(map(tuple, b.t().tolist()))))
    with_duplicates = lambda a, b: sum(e in set(map(tuple, b.t().tolist())) for e in map(tuple, a.t().tolist())) / len(set(map(tuple, torch.cat([a, b], 1).t().tolist())))
    assert not check("5.4.9", with_duplicates)
