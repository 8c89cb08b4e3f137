"""Self-checks of sections 4.1-4.3 pass on reference solutions and fail on wrong ones."""
import torch

from gdlutils import graphs as G
from gdlutils import sphere as S
from gdlutils.exercises import check, list_exercises


def test_registered():
    ids = list_exercises()
    for key in ["4.1.1", "4.1.2", "4.1.3", "4.2.1", "4.2.2", "4.2.3", "4.3.1", "4.3.2", "4.3.3"]:
        assert key in ids


def test_4_1_1(capsys):
    def mean(x, ei):
        out = torch.zeros_like(x).index_add_(0, ei[1], x[ei[0]])
        deg = torch.zeros(x.size(0), dtype=x.dtype).index_add_(0, ei[1], torch.ones(ei.size(1), dtype=x.dtype))
        return out / deg.clamp_min(1)[:, None]

    assert check("4.1.1", mean)
    assert not check("4.1.1", lambda x, ei: torch.zeros_like(x).index_add_(0, ei[1], x[ei[0]]))  # sum, not mean
    assert "mean of its neighbours" in capsys.readouterr().out
    assert not check("4.1.1", lambda x, ei: x.mean(0, keepdim=True).expand_as(x))
    assert not check("4.1.1", lambda x, ei: mean(x, ei.flip(0)))  # aggregates at the sources: wrong direction
    assert "directed" in capsys.readouterr().out

    def with_self(x, ei):  # the node's own feature averaged in (A + I)
        loops = torch.arange(x.size(0))
        return mean(x, torch.cat([ei, torch.stack([loops, loops])], 1))

    assert not check("4.1.1", with_self)


def test_4_1_2(capsys):
    c6 = G.ring_graph(6)
    two_c3 = torch.cat([G.ring_graph(3), G.ring_graph(3) + 3], 1)
    assert check("4.1.2", ((c6, 6), (two_c3, 6)))
    assert not check("4.1.2", ((c6, 6), (G.ring_graph(6), 6)))
    assert "isomorphic" in capsys.readouterr().out
    path = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    star = torch.tensor([[0, 1, 0, 2], [1, 0, 2, 0]])
    assert not check("4.1.2", ((G.ring_graph(3), 3), (path, 3)))
    assert "does distinguish" in capsys.readouterr().out
    assert not check("4.1.2", ((torch.tensor([[0], [1]]), 3), (star, 3)))  # directed


def test_4_1_3(capsys):
    truth = {"sum_rows": "invariant", "sort_rows": "invariant", "relu_rows": "equivariant", "first_row": "neither",
             "minus_mean": "equivariant", "flatten_mlp": "neither", "AX": "equivariant", "trace_A3": "invariant"}
    assert check("4.1.3", truth)
    assert not check("4.1.3", {**truth, "minus_mean": "invariant"})
    assert not check("4.1.3", {"sum_rows": "invariant"})
    assert "missing" in capsys.readouterr().out
    # the classic confusions: sorting the rows taken for equivariant, A X taken for invariant
    assert not check("4.1.3", {**truth, "sort_rows": "equivariant"})
    assert not check("4.1.3", {**truth, "AX": "invariant", "trace_A3": "equivariant"})


def test_4_2(capsys):
    deconv = lambda y, w: torch.fft.ifft(torch.fft.fft(y) / torch.fft.fft(w, n=y.numel())).real
    assert check("4.2.1", deconv)
    assert not check("4.2.1", lambda y, w: torch.fft.ifft(torch.fft.fft(y) / torch.fft.fft(w)).real)  # not padded
    assert not check("4.2.1", lambda y, w: torch.fft.ifft(torch.fft.fft(y) * torch.fft.fft(w, n=y.numel())).real)
    assert not check("4.2.1", lambda y, w: torch.fft.ifft(torch.fft.fft(y) / torch.fft.fft(w, n=y.numel()).conj()).real)
    ring = lambda n: 2 - 2 * torch.cos(2 * torch.pi * torch.arange(n) / n)
    assert check("4.2.2", ring)
    assert not check("4.2.2", lambda n: 2 - 2 * torch.cos(torch.pi * torch.arange(n) / n))
    assert not check("4.2.2", lambda n: 2 * torch.cos(2 * torch.pi * torch.arange(n) / n))  # the adjacency's spectrum
    assert not check("4.2.2", lambda n: 1 - torch.cos(2 * torch.pi * torch.arange(n) / n))  # missing the factor 2
    assert not check("4.2.2", lambda n: 2 - 2 * torch.cos(2 * torch.pi * torch.arange(n - 1) / n))  # one too few
    xcorr = lambda x, w: torch.fft.ifft(torch.fft.fft(x) * torch.fft.fft(w, n=x.numel()).conj()).real
    assert check("4.2.3", xcorr)
    capsys.readouterr()
    assert not check("4.2.3", lambda x, w: torch.fft.ifft(torch.fft.fft(x) * torch.fft.fft(w, n=x.numel())).real)
    assert "convolution" in capsys.readouterr().out
    assert not check("4.2.3", lambda x, w: torch.fft.ifft(torch.fft.fft(x) * torch.fft.fft(w).conj()).real)  # not padded
    assert not check("4.2.3", lambda x, w: torch.fft.ifft(torch.fft.fft(x).conj() * torch.fft.fft(w, n=x.numel())).real)


def test_4_3(capsys):
    def gconv(F, psi):
        n = F.numel()
        return torch.stack([sum(F[h] * psi[(h - g) % n] for h in range(n)) for g in range(n)])

    assert check("4.3.1", gconv)
    assert not check("4.3.1", lambda F, psi: torch.stack([sum(F[h] * psi[(g - h) % F.numel()] for h in range(F.numel())) for g in range(F.numel())]))
    assert not check("4.3.1", lambda F, psi: torch.fft.ifft(torch.fft.fft(F) * torch.fft.fft(psi)).real)  # a convolution
    assert not check("4.3.1", lambda F, psi: torch.stack([sum(F[h] * psi[(h - g) % F.numel()] for h in range(F.numel() - 1))
                                                          for g in range(F.numel())]))  # off by one: misses h = n - 1
    I = S.icosahedral_group()
    assert check("4.3.2", lambda p: int(((I.matrices @ p) - p).norm(dim=1).lt(1e-9).sum()))
    assert not check("4.3.2", lambda p: 5)
    assert not check("4.3.2", lambda p: 60 // int(((I.matrices @ p) - p).norm(dim=1).lt(1e-9).sum()))  # the orbit size
    assert not check("4.3.2", lambda p: int(((I.matrices @ p) - p).norm(dim=1).lt(1e-9).sum()) - 1)  # forgets identity
    v, _ = S.sampled_sphere(2)
    A = S.GroupAction(I, v)
    psi = torch.randn(len(v), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert check("4.3.3", lambda f: S.lifting_conv(f, psi, A).max())
    capsys.readouterr()
    assert not check("4.3.3", lambda f: f.sort().values)  # invariant to any shuffle: ignores geometry
    assert "shuffled" in capsys.readouterr().out
    assert not check("4.3.3", lambda f: f[:5])  # not invariant
    assert not check("4.3.3", lambda f: torch.stack([f.sum(), f.pow(2).sum()]))  # moments: blind to the geometry
    assert not check("4.3.3", lambda f: S.lifting_conv(f, psi, A)[:3])  # a lifted signal: equivariant, not invariant


def test_starter_placeholders_fail():
    """The starter cells of 4.1-4.3 call check on a placeholder: each must be rejected."""
    ring4 = (G.ring_graph(4), 4)
    placeholders = {
        "4.1.1": lambda x, edge_index: x,
        "4.1.2": (ring4, ring4),
        "4.1.3": {},
        "4.2.1": lambda y, w: y,
        "4.2.2": lambda n: torch.zeros(n),
        "4.2.3": lambda x, w: x,
        "4.3.1": lambda F, psi: F,
        "4.3.2": lambda p: 1,
        "4.3.3": lambda f: f.sum(),
    }
    for id_, answer in placeholders.items():
        assert not check(id_, answer, quiet=True), id_
