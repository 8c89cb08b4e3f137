"""gdlutils.gnn.GCN2Conv and DeepGCN (5.3.4): GCN2Conv equals PyTorch Geometric's GCN2Conv given
the same weights (values and gradients, every option, both aggregation paths), the layers and
models are permutation equivariant, the initial residual keeps the features from collapsing,
and bad input raises a clear error."""
import math

import pytest
import torch
import torch_geometric.nn as pyg

from gdlutils import gnn
from gdlutils.groups import SymmetricGroup, check_equivariance
from gdlutils.graphs import graph_action
from gdlutils.spectral import dirichlet_energy

N, C = 20, 6


def graph(seed=0, n=N, E=70):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, E), generator=g)
    return ei, torch.randn(n, C, generator=g), torch.randn(n, C, generator=g), torch.rand(E, generator=g)


OPTIONS = [
    dict(alpha=0.1),
    dict(alpha=0.2, theta=0.5, layer=3),
    dict(alpha=0.1, theta=1.0, layer=1, shared_weights=False),
    dict(alpha=0.5, add_self_loops=False),
    dict(alpha=0.3, normalize=False),
]


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("k", range(len(OPTIONS)))
@pytest.mark.parametrize("weighted", [False, True])
def test_gcn2conv_equals_pyg(k, fast, weighted):
    torch.manual_seed(k)
    ref = pyg.GCN2Conv(C, **OPTIONS[k])
    ours = gnn.GCN2Conv(C, **OPTIONS[k], fast=fast)
    ours.load_state_dict(ref.state_dict())
    assert ours.beta == pytest.approx(ref.beta)
    ei, x, x0, w = graph(k)
    w = w if weighted else None
    xs = [x.clone().requires_grad_() for _ in range(2)]
    x0s = [x0.clone().requires_grad_() for _ in range(2)]
    a, b = ours(xs[0], x0s[0], ei, w), ref(xs[1], x0s[1], ei, w)
    assert a.shape == b.shape == (N, C)
    assert (a - b).abs().max() < 1e-5
    a.pow(2).sum().backward()
    b.pow(2).sum().backward()
    assert (xs[0].grad - xs[1].grad).abs().max() < 1e-4
    assert (x0s[0].grad - x0s[1].grad).abs().max() < 1e-4
    for (name, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()):
        assert (p.grad - q.grad).abs().max() < 1e-4, name


def test_gcn2conv_parameters_and_formula():
    """Names and shapes as PyG; beta = log(theta / layer + 1); alpha = 1 returns X0 (I(1-b) + bW)."""
    layer = gnn.GCN2Conv(C, alpha=0.1, theta=0.5, layer=4, shared_weights=False)
    assert [n for n, _ in layer.named_parameters()] == ["weight1", "weight2"]
    assert layer.beta == pytest.approx(math.log(0.5 / 4 + 1))
    assert gnn.GCN2Conv(C, alpha=0.1).beta == 1.0
    ei, x, x0, _ = graph(3)
    one = gnn.GCN2Conv(C, alpha=1.0, theta=1.0, layer=2)
    b = one.beta
    expected = x0 @ ((1 - b) * torch.eye(C) + b * one.weight1)
    assert torch.allclose(one(x, x0, ei), expected, atol=1e-6)


def test_gcn2conv_cached_and_equivariant():
    ei, x, x0, _ = graph(5)
    layer = gnn.GCN2Conv(C, alpha=0.2, theta=0.5, layer=2, cached=True)
    first = layer(x, x0, ei)
    assert torch.equal(layer(x, x0, ei), first)
    with pytest.raises(ValueError, match="cached"):
        layer(torch.randn(N + 1, C), torch.randn(N + 1, C), ei)
    plain = gnn.GCN2Conv(C, alpha=0.2, theta=0.5, layer=2)
    report = check_equivariance(lambda x, x0, ei: plain(x, x0, ei), SymmetricGroup(N), (x, x0, ei),
                                lambda p, a: (graph_action(p, a[0]), *graph_action(p, (a[1], a[2]))),
                                graph_action, samples=10, name="GCN2Conv")
    assert report.passed, report


@pytest.mark.parametrize("residual", ["none", "residual", "initial"])
def test_deep_gcn_shapes_equivariance_and_training(residual):
    ei, x, _, _ = graph(7)
    torch.manual_seed(0)
    model = gnn.DeepGCN(C, 8, 3, num_layers=5, residual=residual, cached=False).eval()
    hs = model.embed(x, ei)
    assert len(hs) == 6 and all(h.shape == (N, 8) for h in hs)
    assert model(x, ei).shape == (N, 3)
    report = check_equivariance(lambda x, ei: model(x, ei), SymmetricGroup(N), (x, ei), graph_action,
                                graph_action, samples=10, name=residual)
    assert report.passed, report
    # one parameter group per kind, every parameter in exactly one
    groups = model.param_groups(5e-4, 1e-2)
    ids = [id(p) for g in groups for p in g["params"]]
    assert sorted(ids) == sorted(id(p) for p in model.parameters())
    # it learns: a few steps of Adam reduce the loss on random labels
    y = torch.randint(0, 3, (N,), generator=torch.Generator().manual_seed(1))
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x, ei), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def _rayleigh(h, ei):
    d = (torch.bincount(ei[1], minlength=h.size(0)).to(h.dtype) + 1).sqrt()[:, None]
    return (dirichlet_energy(h / d, ei) / h.pow(2).sum()).item()


def test_initial_residual_prevents_collapse():
    """Untrained and without weights (beta -> 0: identity mapping), 64 plain propagation steps
    drive the Rayleigh quotient to ~0 while the initial residual keeps it at a fixed positive level."""
    g = torch.Generator().manual_seed(0)
    n = 60
    ei = torch.randint(0, n, (2, 300), generator=g)
    ei = torch.cat([ei, ei.flip(0)], 1)
    ei = ei[:, ei[0] != ei[1]]
    x0 = torch.randn(n, 4, generator=g, dtype=torch.float64)
    plain, initial = x0.clone(), x0.clone()
    layer = gnn.GCN2Conv(4, alpha=0.1, theta=1e-12, layer=1).double()  # beta ~ 1e-12: no weights
    smooth = gnn.GCN2Conv(4, alpha=0.0, theta=1e-12, layer=1).double()
    for _ in range(64):
        plain = smooth(plain, x0, ei)
        initial = layer(initial, x0, ei)
    assert _rayleigh(plain, ei) < 1e-6
    assert _rayleigh(initial, ei) > 0.05


def test_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        gnn.GCN2Conv(C, alpha=1.5)
    with pytest.raises(ValueError, match="theta and layer"):
        gnn.GCN2Conv(C, alpha=0.1, theta=0.5)
    with pytest.raises(ValueError, match="layer"):
        gnn.GCN2Conv(C, alpha=0.1, theta=0.5, layer=0)
    with pytest.raises(ValueError, match="theta"):
        gnn.GCN2Conv(C, alpha=0.1, theta=-1.0, layer=2)
    layer = gnn.GCN2Conv(C, alpha=0.1)
    ei, x, x0, _ = graph()
    with pytest.raises(ValueError, match="one row per node"):
        layer(x, x0[:-1], ei)
    with pytest.raises(ValueError, match=r"\(n, 6\)"):
        layer(x[:, :3], x0, ei)
    with pytest.raises(TypeError, match="dense"):
        layer(x.to_sparse(), x0, ei)
    with pytest.raises(ValueError, match="residual"):
        gnn.DeepGCN(C, 8, 3, num_layers=2, residual="dense")
    with pytest.raises(ValueError, match="dropout"):
        gnn.DeepGCN(C, 8, 3, num_layers=2, dropout=1.0)
    with pytest.raises(ValueError, match="num_layers"):
        gnn.DeepGCN(C, 8, 3, num_layers=0)
