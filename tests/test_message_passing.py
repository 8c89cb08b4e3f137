"""gdlutils.message_passing: scatter/softmax against dense formulas, propagate against a
Python-loop reference, the CSR fast path against the generic core, and bad-input errors."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlutils.groups import SymmetricGroup, check_equivariance
from gdlutils.message_passing import (
    CSRGraph,
    add_remaining_self_loops,
    check_graph,
    gcn_norm,
    graph_action,
    permute_nodes,
    propagate,
    scatter,
    segment_softmax,
    spmm,
)


def random_graph(n=12, E=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, n, (2, E), generator=g), torch.randn(n, 5, generator=g, dtype=torch.float64)


def loop_aggregate(x, ei, reduce):
    n = x.size(0)
    out = torch.zeros_like(x)
    for i in range(n):
        msgs = [x[j] for j, t in zip(ei[0].tolist(), ei[1].tolist()) if t == i]
        if not msgs:
            continue
        m = torch.stack(msgs)
        out[i] = {"sum": m.sum(0), "mean": m.mean(0), "max": m.max(0).values, "min": m.min(0).values}[reduce]
    return out


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min"])
def test_propagate_matches_loop(reduce):
    ei, x = random_graph()
    assert torch.allclose(propagate(x, ei, aggr=reduce), loop_aggregate(x, ei, reduce))


def test_scatter_matches_pyg():
    from torch_geometric.utils import scatter as pyg_scatter

    g = torch.Generator().manual_seed(1)
    src, idx = torch.randn(50, 3, generator=g), torch.randint(0, 9, (50,), generator=g)
    for r in ["sum", "mean", "max", "min"]:
        assert torch.allclose(scatter(src, idx, 10, r), pyg_scatter(src, idx, 0, dim_size=10, reduce=r), atol=1e-6)


def test_segment_softmax_matches_pyg_and_sums_to_one():
    from torch_geometric.utils import softmax as pyg_softmax

    ei, _ = random_graph()
    s = torch.randn(ei.size(1), 3)
    a = segment_softmax(s, ei[1], 12)
    assert torch.allclose(a, pyg_softmax(s, ei[1], num_nodes=12), atol=1e-6)
    sums = scatter(a, ei[1], 12)
    has_in = torch.bincount(ei[1], minlength=12) > 0
    assert torch.allclose(sums[has_in], torch.ones_like(sums[has_in]), atol=1e-6)


def test_softmax_propagate_equals_explicit_attention():
    ei, x = random_graph()
    x = x.float()
    att = torch.randn(2, 5)

    def message(xi, xj, e):
        scores = torch.stack([(xi * att[0]).sum(-1), (xj * att[1]).sum(-1)], -1)
        return scores, torch.stack([xj, 2 * xj], 1)

    out = propagate(x, ei, message, "softmax")
    scores, values = message(x[ei[1]], x[ei[0]], None)
    alpha = segment_softmax(scores, ei[1], 12)
    assert torch.allclose(out, scatter(alpha[..., None] * values, ei[1], 12), atol=1e-6)


def test_gcn_norm_matches_pyg():
    from torch_geometric.nn.conv.gcn_conv import gcn_norm as pyg_gcn_norm

    ei, _ = random_graph()
    ei = torch.cat([ei, torch.tensor([[3], [3]])], 1)  # one existing self-loop
    w = torch.rand(ei.size(1))
    e1, w1 = gcn_norm(ei, 12, w)
    e2, w2 = pyg_gcn_norm(ei, w, 12)
    d1 = torch.zeros(12, 12).index_put_((e1[0], e1[1]), w1, accumulate=True)
    d2 = torch.zeros(12, 12).index_put_((e2[0], e2[1]), w2, accumulate=True)
    assert torch.allclose(d1, d2, atol=1e-6)


def test_add_remaining_self_loops_keeps_weight():
    ei = torch.tensor([[0, 1, 2], [1, 1, 0]])
    e, w = add_remaining_self_loops(ei, 3, torch.tensor([1.0, 5.0, 2.0]))
    loops = e[0] == e[1]
    assert loops.sum() == 3 and w[loops].tolist() == [1.0, 5.0, 1.0]


@pytest.mark.parametrize("weighted", [False, True])
def test_spmm_matches_core_and_gradients(weighted):
    ei, x = random_graph(n=15, E=60, seed=3)
    x.requires_grad_(True)
    w = torch.rand(ei.size(1), dtype=torch.float64, requires_grad=True) if weighted else None
    graph = CSRGraph(ei, 15)
    fast = spmm(graph, w, x)
    ref = propagate(x, ei, (lambda xi, xj, e: e[:, None] * xj) if weighted else None, "sum", edge_attr=w)
    assert torch.allclose(fast, ref)
    inputs = (w, x) if weighted else (x,)
    g_fast = torch.autograd.grad(fast.pow(2).sum(), inputs)
    g_ref = torch.autograd.grad(ref.pow(2).sum(), inputs)
    for a, b in zip(g_fast, g_ref):
        assert torch.allclose(a, b)


def test_multihead_spmm_gradcheck():
    ei, _ = random_graph(n=8, E=25, seed=4)
    w = torch.rand(25, 3, dtype=torch.float64, requires_grad=True)
    z = torch.randn(8, 3, 2, dtype=torch.float64, requires_grad=True)
    graph = CSRGraph(ei, 8)
    assert torch.autograd.gradcheck(lambda w, z: spmm(graph, w, z), (w, z))
    ref = torch.stack([propagate(z[:, h], ei, lambda xi, xj, e: e[:, None] * xj, edge_attr=w[:, h]) for h in range(3)], 1)
    assert torch.allclose(spmm(graph, w, z), ref)


def test_presorted_graph():
    ei, x = random_graph()
    ei = ei[:, torch.argsort(ei[1], stable=True)]
    assert torch.allclose(spmm(CSRGraph.from_sorted(ei, 12), None, x), propagate(x, ei))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 9), E=st.integers(0, 30), seed=st.integers(0, 10_000), reduce=st.sampled_from(["sum", "mean", "max"]))
def test_propagate_is_permutation_equivariant(n, E, seed, reduce):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, E), generator=g)
    x = torch.randn(n, 3, generator=g, dtype=torch.float64)
    f = lambda x, ei: propagate(x, ei, aggr=reduce)  # noqa: E731
    check_equivariance(f, SymmetricGroup(n), (x, ei), graph_action, lambda p, y: SymmetricGroup.permute_rows(p, y), samples=5, seed=seed)


def test_permute_nodes_relabels_adjacency():
    ei, x = random_graph()
    perm = torch.randperm(12, generator=torch.Generator().manual_seed(0))
    px, pe = permute_nodes(perm, x, ei)
    A = torch.zeros(12, 12).index_put_((ei[0], ei[1]), torch.ones(ei.size(1)), accumulate=True)
    PA = torch.zeros(12, 12).index_put_((pe[0], pe[1]), torch.ones(ei.size(1)), accumulate=True)
    assert torch.equal(PA, SymmetricGroup.permute_adjacency(perm, A)) and torch.equal(px, x[perm])


def test_bad_inputs():
    x = torch.randn(4, 2)
    with pytest.raises(ValueError, match=r"shape \(2, E\)"):
        check_graph(x, torch.zeros(3, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="transpose"):
        propagate(x, torch.zeros(5, 2, dtype=torch.long))
    with pytest.raises(TypeError, match="integer"):
        propagate(x, torch.zeros(2, 5))
    with pytest.raises(TypeError, match="torch.Tensor"):
        propagate(x, [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="only 4 nodes"):
        propagate(x, torch.tensor([[0, 4], [1, 0]]))
    with pytest.raises(ValueError, match="negative"):
        propagate(x, torch.tensor([[0, -1], [1, 0]]))
    with pytest.raises(ValueError, match="rows"):
        check_graph(x, torch.tensor([[0, 1], [1, 0]]), num_nodes=5)
    with pytest.raises(ValueError, match="reduce"):
        scatter(x, torch.tensor([0, 1, 0, 1]), 2, "median")
    with pytest.raises(ValueError, match="rows"):
        spmm(CSRGraph(torch.tensor([[0, 1], [1, 0]]), 3), None, x)


@pytest.mark.parametrize("key_max", [1, 7, 1000, 2**16, 2**16 + 1, 10**6])
def test_stable_argsort_matches_torch(key_max):
    from gdlutils.message_passing import _stable_argsort

    g = torch.Generator().manual_seed(key_max)
    keys = torch.randint(0, key_max, (5000,), generator=g)
    keys[:3] = key_max - 1  # the largest key is present
    assert torch.equal(_stable_argsort(keys, key_max), torch.argsort(keys, stable=True))
    assert _stable_argsort(keys[:0], key_max).numel() == 0
