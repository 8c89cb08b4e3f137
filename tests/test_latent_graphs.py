"""gdlutils.latent_graphs: the chunked k-NN graph equals a brute-force reference and
scikit-learn's NearestNeighbors, EdgeConv equals PyG's EdgeConv (fast and readable forms), the
layers are permutation equivariant, and bad input raises a clear error."""
import pytest
import torch
import torch_geometric.nn as pyg
from sklearn.neighbors import NearestNeighbors

from gdlutils.graphs import permute_graph
from gdlutils.groups import SymmetricGroup, check_equivariance, check_invariance
from gdlutils.latent_graphs import DGCNN, DynamicEdgeConv, EdgeConv, knn_graph, synthetic_shapes
from gdlutils.sets import permute_set


def brute_knn(x, k, loop=False):
    d = ((x[:, None] - x[None]) ** 2).sum(-1)
    if not loop:
        d.fill_diagonal_(float("inf"))
    nbr = d.argsort(1)[:, :k]
    return torch.stack([nbr.reshape(-1), torch.arange(len(x)).repeat_interleave(k)])


@pytest.mark.parametrize("d", [2, 3, 16])
@pytest.mark.parametrize("loop", [False, True])
def test_knn_equals_brute_force_and_sklearn(d, loop):
    x = torch.randn(300, d, generator=torch.Generator().manual_seed(d), dtype=torch.float64)
    k = 7
    for chunk in (None, 13):
        ei = knn_graph(x, k, loop=loop, chunk_size=chunk)
        assert torch.equal(ei, brute_knn(x, k, loop))
    nn_ = NearestNeighbors(n_neighbors=k + (0 if loop else 1)).fit(x.numpy())
    idx = nn_.kneighbors(x.numpy(), return_distance=False)
    idx = idx if loop else idx[:, 1:]
    assert torch.equal(ei[0].view(300, k), torch.from_numpy(idx))


def test_knn_batch_and_flow():
    x = torch.randn(50, 3)
    batch = torch.tensor([0] * 20 + [1] * 30)
    ei = knn_graph(x, 5, batch)
    assert bool((batch[ei[0]] == batch[ei[1]]).all())
    assert torch.equal(ei[:, :100], brute_knn(x[:20], 5))
    assert torch.equal(ei[:, 100:], brute_knn(x[20:], 5) + 20)
    assert torch.equal(knn_graph(x, 5, batch, flow="target_to_source"), ei.flip(0))


def test_knn_is_permutation_equivariant():
    """Relabelling the points relabels the edges: edge (j, i) becomes (pi(j), pi(i))."""
    x = torch.randn(40, 3, generator=torch.Generator().manual_seed(1))
    perm = torch.randperm(40, generator=torch.Generator().manual_seed(2))
    ei = knn_graph(x, 4)
    ei_p = knn_graph(permute_set(perm, x), 4)
    moved = {(perm[j].item(), perm[i].item()) for j, i in ei.t().tolist()}
    assert moved == {tuple(e) for e in ei_p.t().tolist()}


def test_knn_blocks_bound_memory(monkeypatch):
    """No block of distances exceeds MAX_BLOCK entries (set small here; 2^24 by default, so that
    10^5 points never allocate the n x n matrix, 40 GB in float32: see benchmarks/bench_sets.py)."""
    import gdlutils.latent_graphs as lg

    monkeypatch.setattr(lg, "MAX_BLOCK", 50_000)
    calls = []
    orig = torch.cdist

    def spy(a, b, *args, **kw):
        calls.append(a.size(0) * b.size(0))
        return orig(a, b, *args, **kw)

    x = torch.rand(5_000, 3, generator=torch.Generator().manual_seed(0))
    torch.cdist = spy
    try:
        ei = lg.knn_graph(x[:, :3], 2)
    finally:
        torch.cdist = orig
    assert max(calls) <= 50_000 and len(calls) == 500 and ei.shape == (2, 10_000)
    sub = torch.randint(0, 5_000, (50,), generator=torch.Generator().manual_seed(3))
    d = torch.cdist(x[sub], x)
    d[torch.arange(50), sub] = float("inf")
    assert torch.equal(ei[0].view(-1, 2)[sub], d.topk(2, largest=False).indices)


@pytest.mark.parametrize("aggr", ["max", "mean", "sum"])
@pytest.mark.parametrize("fast", [True, False])
def test_edge_conv_equals_pyg(aggr, fast):
    torch.manual_seed(0)
    x = torch.randn(60, 4)
    mlp = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 5))
    ours, ref = EdgeConv(mlp, aggr, fast=fast), pyg.EdgeConv(mlp, aggr=aggr if aggr != "sum" else "add")
    for ei in (knn_graph(x, 6), torch.randint(0, 60, (2, 300), generator=torch.Generator().manual_seed(1))):
        x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
        a, b = ours(x1, ei), ref(x2, ei)
        assert (a - b).abs().max() < 1e-5
        a.pow(2).sum().backward()
        b.pow(2).sum().backward()
        assert (x1.grad - x2.grad).abs().max() < 1e-4


def test_edge_conv_other_mlp_and_dynamic():
    torch.manual_seed(0)
    x = torch.randn(30, 3)
    mlp = torch.nn.Linear(6, 4)  # not a Sequential: the fast path's generic branch
    ei = knn_graph(x, 5, loop=True)
    ref = pyg.EdgeConv(mlp)  # (PyG's constructor resets the MLP's weights: build it first)
    assert (EdgeConv(mlp)(x, ei) - ref(x, ei)).abs().max() < 1e-5
    dyn = DynamicEdgeConv(torch.nn.Sequential(torch.nn.Linear(6, 4)), k=5)
    ref = pyg.EdgeConv(dyn.nn)
    assert torch.allclose(dyn(x), ref(x, ei), atol=1e-5)


def test_layers_are_equivariant():
    x = torch.randn(25, 3, dtype=torch.float64)
    Sn = SymmetricGroup(25)
    dyn = DynamicEdgeConv(torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU()), k=4).double()
    check_equivariance(dyn, Sn, x, rho_in=permute_set, samples=10, atol=1e-10)
    model = DGCNN(3, 4, hidden=(8, 8), k=4, emb_channels=16).double()
    check_invariance(model, Sn, x, rho_in=permute_set, samples=5, atol=1e-10)
    fixed = DGCNN(3, 4, hidden=(8, 8), k=4, emb_channels=16, dynamic=False).double()
    fixed(x)
    assert all(torch.equal(g, fixed.last_graphs[0]) for g in fixed.last_graphs)
    model(x)
    assert not torch.equal(model.last_graphs[0], model.last_graphs[1])


def test_synthetic_shapes():
    pts, y = synthetic_shapes(3, 64, seed=0)
    assert pts.shape == (24, 64, 3) and torch.equal(y, torch.arange(8).repeat_interleave(3))
    assert pts.mean(1).abs().max() < 1e-5
    assert torch.equal(synthetic_shapes(3, 64, seed=0)[0], pts)


def test_bad_input():
    x = torch.randn(10, 3)
    with pytest.raises(ValueError, match="k = 10"):
        knn_graph(x, 10)
    with pytest.raises(ValueError, match="smallest has 3"):
        knn_graph(x, 3, torch.tensor([0] * 7 + [1] * 3))
    with pytest.raises(ValueError, match="sorted"):
        knn_graph(x, 2, torch.tensor([1] * 5 + [0] * 5))
    with pytest.raises(ValueError, match="NaN"):
        knn_graph(torch.full((4, 2), float("nan")), 1)
    with pytest.raises(ValueError, match=r"\(N, d\)"):
        knn_graph(torch.randn(10), 2)
    with pytest.raises(ValueError, match="aggr"):
        EdgeConv(torch.nn.Linear(6, 2), aggr="min")
    with pytest.raises(ValueError, match="classes"):
        synthetic_shapes(2, classes=("blob",))
