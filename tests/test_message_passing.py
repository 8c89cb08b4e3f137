"""gdlutils.message_passing: each PyG-named function against PyG's own on random inputs,
propagate against a Python-loop reference; the private CSR backend (gdlutils._sparse) against
the readable core."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gdlutils._sparse as mp
from gdlutils._sparse import CSRGraph, segment_softmax_csr, spmm, sum_aggregate
from gdlutils.graphs import graph_action
from gdlutils.groups import SymmetricGroup, check_equivariance
from gdlutils.message_passing import (
    add_remaining_self_loops,
    add_self_loops,
    check_graph,
    gcn_norm,
    propagate,
    remove_self_loops,
    scatter,
    segment_softmax,
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


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min"])
def test_scatter_matches_pyg(seed, reduce):
    from torch_geometric.utils import scatter as pyg_scatter

    g = torch.Generator().manual_seed(seed)
    src, idx = torch.randn(50, 3, generator=g), torch.randint(0, 9, (50,), generator=g)
    assert torch.allclose(scatter(src, idx, dim_size=10, reduce=reduce), pyg_scatter(src, idx, 0, dim_size=10, reduce=reduce), atol=1e-6)
    # positional as PyG: (src, index, dim, dim_size, reduce); dim_size defaults to max + 1
    assert torch.allclose(scatter(src, idx, 0, None, reduce), pyg_scatter(src, idx, 0, None, reduce), atol=1e-6)
    # another dim
    src3 = torch.randn(4, 50, 2, generator=g)
    for dim in (1, -2):
        assert torch.allclose(scatter(src3, idx, dim, 10, reduce), pyg_scatter(src3, idx, dim, dim_size=10, reduce=reduce), atol=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_self_loop_helpers_match_pyg(seed):
    import torch_geometric.utils as U

    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, 10, (2, 40), generator=g)
    ei[:, :3] = torch.tensor([[1, 4, 4], [1, 4, 4]])  # existing loops, one repeated
    w = torch.rand(40, generator=g)
    wf = torch.rand(40, 3, generator=g)
    for ours, ref in [
        (remove_self_loops(ei), U.remove_self_loops(ei)),
        (remove_self_loops(ei, w), U.remove_self_loops(ei, w)),
        (add_self_loops(ei, num_nodes=12), U.add_self_loops(ei, num_nodes=12)),
        (add_self_loops(ei, w, 2.5, 12), U.add_self_loops(ei, w, 2.5, 12)),
        (add_self_loops(ei, wf, "mean", 12), U.add_self_loops(ei, wf, "mean", 12)),
        (add_self_loops(ei, wf, torch.tensor([1.0, 2.0, 3.0]), 12), U.add_self_loops(ei, wf, torch.tensor([1.0, 2.0, 3.0]), 12)),
        (add_remaining_self_loops(ei, num_nodes=12), U.add_remaining_self_loops(ei, num_nodes=12)),
        (add_remaining_self_loops(ei, w, 2.0, 12), U.add_remaining_self_loops(ei, w, 2.0, 12)),
        (add_remaining_self_loops(ei, wf, None, 12), U.add_remaining_self_loops(ei, wf, None, 12)),
    ]:
        assert torch.equal(ours[0], ref[0])
        assert (ours[1] is None) == (ref[1] is None)
        if ours[1] is not None:
            assert torch.allclose(ours[1], ref[1])


@pytest.mark.parametrize("seed", range(3))
def test_degree_matches_pyg(seed):
    from torch_geometric.utils import degree as pyg_degree

    from gdlutils.graphs import degree

    idx = torch.randint(0, 9, (60,), generator=torch.Generator().manual_seed(seed))
    assert torch.equal(degree(idx, 11), pyg_degree(idx, 11))
    assert torch.equal(degree(idx), pyg_degree(idx))
    assert torch.equal(degree(idx, 11, torch.long), pyg_degree(idx, 11, torch.long))


def test_segment_softmax_matches_pyg_and_sums_to_one():
    from torch_geometric.utils import softmax as pyg_softmax

    ei, _ = random_graph()
    s = torch.randn(ei.size(1), 3)
    a = segment_softmax(s, ei[1], num_nodes=12)
    assert torch.allclose(a, pyg_softmax(s, ei[1], num_nodes=12), atol=1e-6)
    sums = scatter(a, ei[1], dim_size=12)
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
    alpha = segment_softmax(scores, ei[1], num_nodes=12)
    assert torch.allclose(out, scatter(alpha[..., None] * values, ei[1], dim_size=12), atol=1e-6)


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("improved", [False, True])
@pytest.mark.parametrize("loops", [False, True])
def test_gcn_norm_matches_pyg(seed, weighted, improved, loops):
    from torch_geometric.nn.conv.gcn_conv import gcn_norm as pyg_gcn_norm

    ei, _ = random_graph(seed=seed)
    ei = torch.cat([ei, torch.tensor([[3], [3]])], 1)  # one existing self-loop
    w = torch.rand(ei.size(1)) if weighted else None
    e1, w1 = gcn_norm(ei, w, 12, improved, loops)
    e2, w2 = pyg_gcn_norm(ei, w, 12, improved, loops)
    assert torch.equal(e1, e2) and torch.allclose(w1, w2, atol=1e-6)


def test_add_remaining_self_loops_keeps_weight():
    ei = torch.tensor([[0, 1, 2], [1, 1, 0]])
    e, w = add_remaining_self_loops(ei, torch.tensor([1.0, 5.0, 2.0]), num_nodes=3)
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
    check_equivariance(f, SymmetricGroup(n), (x, ei), graph_action, graph_action, samples=5, seed=seed)


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
        scatter(x, torch.tensor([0, 1, 0, 1]), dim_size=2, reduce="median")
    with pytest.raises(ValueError, match="rows"):
        spmm(CSRGraph(torch.tensor([[0, 1], [1, 0]]), 3), None, x)


@pytest.mark.parametrize("key_max", [1, 7, 1000, 2**16, 2**16 + 1, 10**6])
def test_stable_argsort_matches_torch(key_max):
    from gdlutils._sparse import _stable_argsort

    g = torch.Generator().manual_seed(key_max)
    keys = torch.randint(0, key_max, (5000,), generator=g)
    keys[:3] = key_max - 1  # the largest key is present
    assert torch.equal(_stable_argsort(keys, key_max), torch.argsort(keys, stable=True))
    assert _stable_argsort(keys[:0], key_max).numel() == 0


# ------------------------------------------------------------------ fast paths (counting-sort CSR,
# fused sum aggregation, sorted-segment softmax, multi-head product)


def csr_cases():
    """(rows, cols, n): random, repeated entries, isolated nodes, empty, and n > 2**16."""
    ei, _ = random_graph(n=12, E=40, seed=5)
    g = torch.Generator().manual_seed(6)
    iso = torch.randint(2, 9, (2, 30), generator=g)  # nodes 0, 1 and 9..14 are isolated
    rep = torch.tensor([[3, 3, 1, 3, 0, 1, 3], [2, 2, 2, 0, 2, 2, 0]])  # repeated edges, ties
    big = torch.randint(0, 70_000, (2, 500), generator=g)
    big[:, 0] = 69_999
    return [
        (ei[1], ei[0], 12),
        (iso[1], iso[0], 15),
        (rep[1], rep[0], 4),
        (torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long), 5),
        (big[1], big[0], 70_000),
    ]


def csr_reference(rows, cols, n):
    order = torch.argsort(rows, stable=True)
    crow = torch.zeros(n + 1, dtype=torch.long)
    crow[1:] = torch.cumsum(torch.bincount(rows, minlength=n), 0)
    return crow, cols[order], order


def assert_csr_equal(got, ref):
    assert len(got) == 3
    for a, b in zip(got, ref):
        assert torch.equal(a.long(), b.long())


@pytest.mark.parametrize("use_scipy", [True, False])
@pytest.mark.parametrize("case", range(5))
def test_csr_struct_matches_stable_argsort(case, use_scipy, monkeypatch):
    if not use_scipy:
        monkeypatch.setattr(mp, "_scipy_coo_tocsr", None)
    elif mp._scipy_coo_tocsr is None:
        pytest.skip("SciPy's coo_tocsr is not importable")
    rows, cols, n = csr_cases()[case]
    assert_csr_equal(mp._csr_struct(rows, cols, n), csr_reference(rows, cols, n))


def test_csr_struct_scipy_and_fallback_agree(monkeypatch):
    for rows, cols, n in csr_cases():
        fast = mp._csr_struct(rows, cols, n)
        with monkeypatch.context() as m:
            m.setattr(mp, "_scipy_coo_tocsr", None)
            slow = mp._csr_struct(rows, cols, n)
        assert_csr_equal(fast, slow)


def assert_valid_transpose(t, ei, n):
    """(crow_t, col_t, order_t) is a CSR of A^T (rows = sources) whose order_t are edge ids:
    every edge once, in the row of its source, with its target as column."""
    crow_t, col_t, order_t = (a.long() for a in t)
    E = ei.size(1)
    assert torch.equal(crow_t, csr_reference(ei[0], ei[1], n)[0])
    assert torch.equal(torch.sort(order_t).values, torch.arange(E))
    row_of = torch.repeat_interleave(torch.arange(n), crow_t[1:] - crow_t[:-1])
    assert torch.equal(ei[0][order_t], row_of) and torch.equal(ei[1][order_t], col_t)


@pytest.mark.parametrize("use_scipy", [True, False])
@pytest.mark.parametrize("presorted", [False, True])
@pytest.mark.parametrize("eager", [False, True])
def test_csrgraph_transposed_pattern(use_scipy, presorted, eager, monkeypatch):
    if not use_scipy:
        monkeypatch.setattr(mp, "_scipy_csr_tocsc", None)
        monkeypatch.setattr(mp, "_scipy_coo_tocsr", None)
    for rows, cols, n in csr_cases():
        ei = torch.stack([cols, rows])  # edges cols -> rows
        if presorted:
            ei = ei[:, torch.argsort(ei[1], stable=True)]
            g = CSRGraph.from_sorted(ei, n, transpose=eager)
        else:
            g = CSRGraph(ei, n, transpose=eager)
        assert_valid_transpose(g.transposed, ei, n)
        x = torch.randn(n, 3, dtype=torch.float64)
        ref = torch.zeros(n, 3, dtype=torch.float64).index_add_(0, ei[0], x[ei[1]])  # A^T x
        ones = torch.ones(ei.size(1), dtype=torch.float64)
        assert torch.allclose(g.matrix(ones, transpose=True) @ x, ref)


@pytest.mark.parametrize("use_scipy", [True, False])
@pytest.mark.parametrize("eager", [False, True])
def test_csrgraph_without_edge_ids(use_scipy, eager, monkeypatch):
    """edge_ids=False (unweighted layers): the same pattern, its transpose as well; the edge ids
    are computed on demand and equal those of a graph that kept them."""
    if not use_scipy:
        monkeypatch.setattr(mp, "_scipy_csr_tocsc", None)
        monkeypatch.setattr(mp, "_scipy_coo_tocsr", None)
    for rows, cols, n in csr_cases():
        ei = torch.stack([cols, rows])
        kept, lean = CSRGraph(ei, n), CSRGraph(ei, n, transpose=eager, edge_ids=False)
        assert torch.equal(lean.crow.long(), kept.crow.long()) and torch.equal(lean.col.long(), kept.col.long())
        crow_t, col_t = lean._transposed_pattern()
        assert torch.equal(crow_t.long(), kept.transposed[0].long()) and torch.equal(col_t.long(), kept.transposed[1].long())
        x = torch.randn(n, 3, dtype=torch.float64)
        assert torch.allclose(sum_aggregate(lean, x, 0.5), sum_aggregate(kept, x, 0.5))
        # asking for what was not kept recomputes it
        assert torch.equal(lean.order.long(), kept.order.long())
        assert_valid_transpose(lean.transposed, ei, n)
        assert torch.equal(lean.sorted_edge_index(), kept.sorted_edge_index())
        w = torch.rand(ei.size(1), dtype=torch.float64)
        assert torch.allclose(spmm(CSRGraph(ei, n, edge_ids=False), w, x), spmm(kept, w, x))


def test_csr_struct_without_ids_same_pattern():
    for rows, cols, n in csr_cases():
        crow, col, order = mp._csr_struct(rows, cols, n, ids=False)
        ref = csr_reference(rows, cols, n)
        assert torch.equal(crow.long(), ref[0]) and torch.equal(col.long(), ref[1])
        assert order is None or torch.equal(order.long(), ref[2])


def dense_adjacency(ei, n):
    """A[i, j] = number of edges j -> i, float64."""
    return torch.zeros(n, n, dtype=torch.float64).index_put_(
        (ei[1], ei[0]), torch.ones(ei.size(1), dtype=torch.float64), accumulate=True
    )


def sum_aggregate_reference(ei, n, x, self_weight, scale):
    A = dense_adjacency(ei, n)
    lam = torch.as_tensor(self_weight, dtype=torch.float64).reshape(-1) * torch.ones(n, dtype=torch.float64)
    S = torch.eye(n, dtype=torch.float64) if scale is None else torch.diag(scale.reshape(-1).double())
    return S @ (A + torch.diag(lam)) @ S @ x


def sum_aggregate_graph():
    ei, x = random_graph(n=12, E=40, seed=8)
    ei = torch.cat([ei, torch.tensor([[4, 4, 2], [4, 4, 7]])], 1)  # self-loops, a repeated edge
    return ei, x, CSRGraph(ei, 14)  # nodes 12, 13 isolated


def self_weights(n):
    g = torch.Generator().manual_seed(9)
    return [
        0.0,
        1.0,
        2.5,
        torch.tensor([0.7], dtype=torch.float64),
        torch.rand(n, 1, generator=g, dtype=torch.float64) + 0.5,
    ]


@pytest.mark.parametrize("with_scale", [False, True])
@pytest.mark.parametrize("sw_case", range(5))
def test_sum_aggregate_matches_dense(sw_case, with_scale):
    ei, _, graph = sum_aggregate_graph()
    n = 14
    g = torch.Generator().manual_seed(10)
    x = torch.randn(n, 5, generator=g, dtype=torch.float64)
    scale = torch.rand(n, 1, generator=g, dtype=torch.float64) + 0.1 if with_scale else None
    sw = self_weights(n)[sw_case]
    out = sum_aggregate(graph, x, sw, scale)
    assert out.shape == x.shape
    assert torch.allclose(out, sum_aggregate_reference(ei, n, x, sw, scale))
    # x of shape (n,) and (n, 2, 3): the same as the (n, F) computation, reshaped
    x1 = x[:, 0].clone()
    out1 = sum_aggregate(graph, x1, sw, scale)
    assert out1.shape == (n,)
    assert torch.allclose(out1, sum_aggregate_reference(ei, n, x1[:, None], sw, scale)[:, 0])
    x3 = torch.randn(n, 2, 3, generator=g, dtype=torch.float64)
    out3 = sum_aggregate(graph, x3, sw, scale)
    assert out3.shape == (n, 2, 3)
    assert torch.allclose(out3, sum_aggregate_reference(ei, n, x3.reshape(n, 6), sw, scale).reshape(n, 2, 3))


@pytest.mark.parametrize("with_scale", [False, True])
@pytest.mark.parametrize("sw_shape", ["float", (1,), (14, 1)])
def test_sum_aggregate_gradcheck(sw_shape, with_scale):
    _, _, graph = sum_aggregate_graph()
    n = 14
    g = torch.Generator().manual_seed(11)
    x = torch.randn(n, 3, generator=g, dtype=torch.float64, requires_grad=True)
    scale = torch.rand(n, 1, generator=g, dtype=torch.float64) + 0.1 if with_scale else None
    if sw_shape == "float":
        assert torch.autograd.gradcheck(lambda x: sum_aggregate(graph, x, 1.3, scale), (x,))
        return
    sw = (torch.rand(sw_shape, generator=g, dtype=torch.float64) + 0.5).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x, sw: sum_aggregate(graph, x, sw, scale), (x, sw))
    # only the self weight needs a gradient
    assert torch.autograd.gradcheck(lambda sw: sum_aggregate(graph, x.detach(), sw, scale), (sw,))


def test_sum_aggregate_gradients_match_dense():
    ei, _, graph = sum_aggregate_graph()
    n = 14
    g = torch.Generator().manual_seed(12)
    x = torch.randn(n, 4, generator=g, dtype=torch.float64, requires_grad=True)
    sw = torch.rand(n, 1, generator=g, dtype=torch.float64, requires_grad=True)
    scale = torch.rand(n, 1, generator=g, dtype=torch.float64) + 0.1
    c = torch.randn(n, 4, generator=g, dtype=torch.float64)
    fast = torch.autograd.grad((sum_aggregate(graph, x, sw, scale) * c).sum(), (x, sw))
    ref = torch.autograd.grad((sum_aggregate_reference(ei, n, x, sw, scale) * c).sum(), (x, sw))
    for a, b in zip(fast, ref):
        assert a.shape == b.shape and torch.allclose(a, b)


def test_sum_aggregate_bad_shapes():
    _, _, graph = sum_aggregate_graph()
    n = 14
    x = torch.randn(n, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="rows"):
        sum_aggregate(graph, torch.randn(n + 1, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="self_weight"):
        sum_aggregate(graph, x, torch.ones(n, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="scale"):
        sum_aggregate(graph, x, 1.0, torch.ones(n, dtype=torch.float64))


def sorted_softmax_graph():
    g = torch.Generator().manual_seed(13)
    n = 12
    # targets avoid nodes 0, 5 and 11 (first, middle and last segments empty)
    targets = torch.tensor([1, 2, 3, 4, 6, 7, 8, 9, 10])
    dst = targets[torch.randint(0, len(targets), (35,), generator=g)]
    src = torch.randint(0, n, (35,), generator=g)
    graph = CSRGraph(torch.stack([src, dst]), n)
    ei = graph.sorted_edge_index()
    assert bool((ei[1, 1:] >= ei[1, :-1]).all())
    return ei, n, graph.crow  # noqa: the crow of the unsorted graph equals the sorted one's


@pytest.mark.parametrize("heads", [None, 3])
def test_segment_softmax_ptr_matches_scatter(heads):
    ei, n, crow = sorted_softmax_graph()
    g = torch.Generator().manual_seed(14)
    shape = (ei.size(1),) if heads is None else (ei.size(1), heads)
    scores = (3 * torch.randn(shape, generator=g, dtype=torch.float64)).requires_grad_(True)
    c = torch.randn(shape, generator=g, dtype=torch.float64)
    fast = segment_softmax_csr(scores, CSRGraph.from_sorted(ei, n))
    ref = segment_softmax(scores, ei[1], num_nodes=n)
    assert fast.shape == scores.shape and torch.allclose(fast, ref)
    # and the explicit per-node softmax
    for i in ei[1].unique().tolist():
        m = ei[1] == i
        assert torch.allclose(fast[m], torch.softmax(scores[m], 0))
    g_fast = torch.autograd.grad((fast * c).sum(), scores)[0]
    g_ref = torch.autograd.grad((ref * c).sum(), scores)[0]
    assert torch.allclose(g_fast, g_ref)


def multihead_reference(ei, w, z):
    return torch.stack(
        [propagate(z[:, h], ei, lambda xi, xj, e: e[:, None] * xj, edge_attr=w[:, h]) for h in range(w.size(1))], 1
    )


@pytest.mark.parametrize("heads", [1, 3])
@pytest.mark.parametrize("presorted", [True, False])
def test_multihead_spmm_matches_per_head_core(heads, presorted):
    g = torch.Generator().manual_seed(15)
    n = 10
    ei = torch.randint(0, 8, (2, 22), generator=g)  # nodes 8, 9 isolated
    ei = torch.cat([ei, torch.tensor([[2, 2, 5, 5, 0], [2, 2, 1, 1, 0]])], 1)  # self-loops, repeated edges
    if presorted:
        ei = ei[:, torch.argsort(ei[1], stable=True)]
        graph = CSRGraph.from_sorted(ei, n)
    else:
        assert not bool((ei[1, 1:] >= ei[1, :-1]).all())
        graph = CSRGraph(ei, n)
    E = ei.size(1)
    w = torch.rand(E, heads, generator=g, dtype=torch.float64, requires_grad=True)
    z = torch.randn(n, heads, 2, generator=g, dtype=torch.float64, requires_grad=True)
    out = spmm(graph, w, z)
    ref = multihead_reference(ei, w, z)
    assert out.shape == (n, heads, 2) and torch.allclose(out, ref)
    c = torch.randn(n, heads, 2, generator=g, dtype=torch.float64)
    g_fast = torch.autograd.grad((out * c).sum(), (w, z))
    g_ref = torch.autograd.grad((ref * c).sum(), (w, z))
    for a, b in zip(g_fast, g_ref):
        assert torch.allclose(a, b)
    assert torch.autograd.gradcheck(lambda w, z: spmm(graph, w, z), (w, z))


def test_check_edge_index_errors_and_min_max():
    from gdlutils.graphs import _min_max, check_edge_index

    with pytest.raises(ValueError, match=r"negative node index \(-2\)"):
        check_edge_index(torch.tensor([[0, -2, 1], [1, 0, -1]]), 5)
    with pytest.raises(ValueError, match=r"refers to node 7 but num_nodes = 5.*\[0, 5\)"):
        check_edge_index(torch.tensor([[0, 7, 1], [1, 0, 6]]), 5)
    ok = check_edge_index(torch.tensor([[0, 4], [4, 0]], dtype=torch.int32), 5)
    assert ok.dtype == torch.long and ok.tolist() == [[0, 4], [4, 0]]
    g = torch.Generator().manual_seed(16)
    base = torch.randint(-1000, 1000, (2, 300), generator=g)
    tensors = [
        base,
        base.t(),  # non-contiguous
        base[:, ::3],  # strided
        base[1],
        base.int(),
        base.to(torch.int16),
        base.abs().to(torch.uint8),
        torch.tensor([[42]]),
        torch.tensor([2**40, -(2**40)]),
    ]
    for t in tensors:
        assert _min_max(t) == (int(t.min()), int(t.max()))


def test_sum_aggregate_empty_graph_and_dtype_promotion():
    g = CSRGraph(torch.zeros(2, 0, dtype=torch.long), 0)
    assert spmm(g, None, torch.zeros(0)).shape == (0,)
    assert sum_aggregate(g, torch.zeros(0, 2, 3)).shape == (0, 2, 3)
    ei, x, graph = sum_aggregate_graph()
    x32 = torch.randn(14, 3)
    sw = torch.rand(14, 1, dtype=torch.float64, requires_grad=True)
    out = sum_aggregate(graph, x32, sw)
    assert out.dtype == torch.float32
    ref = sum_aggregate_reference(ei, 14, x32.double(), sw.detach(), None)
    assert torch.allclose(out.double(), ref, atol=1e-5)
    out.sum().backward()
    assert sw.grad is not None and sw.grad.dtype == torch.float64


@pytest.mark.parametrize("rows, cols", [([0, 5], [1, 0]), ([0, 1], [1, 2**33]), ([0, -1], [1, 0]), ([0, 1], [-2, 0])])
def test_csr_struct_refuses_out_of_range_indices(rows, cols):
    """The counting sort runs in C++: an index outside [0, n) must raise, not write out of bounds
    (2**33 would wrap to 0 in int32)."""
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        mp._csr_struct(torch.tensor(rows), torch.tensor(cols), 3)
