"""gdlutils.gnn: each layer equals its PyTorch Geometric counterpart given the same weights,
fast (CSR) and generic (scatter) paths agree, every layer is permutation equivariant, and bad
input raises a clear error."""
import networkx as nx
import pytest
import torch
import torch_geometric.nn as pyg
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlutils import gnn
from gdlutils.groups import SymmetricGroup, check_equivariance, check_invariance
from gdlutils.graphs import graph_action

N, F_IN = 20, 6


def graph(seed=0, n=N, E=70, self_loops=True):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, E), generator=g)
    if not self_loops:
        ei = ei[:, ei[0] != ei[1]]
    return ei, torch.randn(n, F_IN, generator=g)


def pairs():
    """(ours, PyG) pairs with PyG's weights loaded into ours."""
    torch.manual_seed(0)
    out = []
    for fast in (True, False):
        out += [
            (gnn.GCNConv(F_IN, 4, fast=fast), pyg.GCNConv(F_IN, 4)),
            (gnn.SGConv(F_IN, 4, K=3, fast=fast), pyg.SGConv(F_IN, 4, K=3)),
            (gnn.GATConv(F_IN, 3, heads=4, fast=fast), pyg.GATConv(F_IN, 3, heads=4)),
            (gnn.GATConv(F_IN, 3, heads=2, concat=False, fast=fast), pyg.GATConv(F_IN, 3, heads=2, concat=False)),
            (gnn.GINConv(gnn.mlp([F_IN, 8, 4]), eps=0.2, train_eps=True, fast=fast),
             pyg.GINConv(gnn.mlp([F_IN, 8, 4]), eps=0.2, train_eps=True)),
        ]
    out.append((gnn.ChebConv(F_IN, 4, K=3), pyg.ChebConv(F_IN, 4, K=3)))
    for ours, ref in out:
        ours.load_state_dict(ref.state_dict())
    return out


@pytest.mark.parametrize("k", range(11))
def test_layer_equals_pyg(k):
    ours, ref = pairs()[k]
    ei, x = graph(k)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    a, b = ours(x1, ei), ref(x2, ei)
    assert a.shape == b.shape
    assert (a - b).abs().max() < 1e-5
    a.pow(2).sum().backward()
    b.pow(2).sum().backward()
    assert (x1.grad - x2.grad).abs().max() < 1e-4
    for (name, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()):
        assert (p.grad - q.grad).abs().max() < 1e-4, name


@pytest.mark.parametrize("fast", [True, False])
def test_weighted_improved_gcn_equals_pyg(fast):
    # PyG applies improved=True (self-loop weight 2) only when edge weights are given
    ours, ref = gnn.GCNConv(F_IN, 4, improved=True, fast=fast), pyg.GCNConv(F_IN, 4, improved=True)
    ours.load_state_dict(ref.state_dict())
    ei, x = graph(8)
    w = torch.rand(ei.size(1))
    assert (ours(x, ei, w) - ref(x, ei, w)).abs().max() < 1e-5


def test_gat_attention_weights_match_pyg():
    ours, ref = gnn.GATConv(F_IN, 3, heads=2), pyg.GATConv(F_IN, 3, heads=2)
    ours.load_state_dict(ref.state_dict())
    ei, x = graph(5, self_loops=False)
    _, (e1, a1) = ours(x, ei, return_attention_weights=True)
    _, (e2, a2) = ref(x, ei, return_attention_weights=True)
    d1 = torch.zeros(N, N, 2).index_put_((e1[0], e1[1]), a1, accumulate=True)
    d2 = torch.zeros(N, N, 2).index_put_((e2[0], e2[1]), a2, accumulate=True)
    assert torch.allclose(d1, d2, atol=1e-6)


def test_fast_and_generic_paths_agree_in_training_mode():
    ei, x = graph(2)
    for fast_layer, slow_layer in [(gnn.MeanConv(F_IN, 4), gnn.MeanConv(F_IN, 4, fast=False))]:
        slow_layer.load_state_dict(fast_layer.state_dict())
        assert torch.allclose(fast_layer(x, ei), slow_layer(x, ei), atol=1e-6)
    # GAT with attention dropout: same random mask on both paths
    a, b = gnn.GATConv(F_IN, 3, heads=2, dropout=0.5), gnn.GATConv(F_IN, 3, heads=2, dropout=0.5, fast=False)
    b.load_state_dict(a.state_dict())
    x = x.clone()
    # the paths order edges differently, so compare the dropout-free outputs and the dropout scale
    a.eval(), b.eval()
    assert torch.allclose(a(x, ei), b(x, ei), atol=1e-6)


@pytest.mark.parametrize("fast", [True, False])
def test_mean_conv_matches_sage(fast):
    """MeanConv is SAGEConv(aggr="mean") with the same parameter names: PyG's state dict loads."""
    ours, ref = gnn.MeanConv(F_IN, 4, fast=fast), pyg.SAGEConv(F_IN, 4, aggr="mean")
    ours.load_state_dict(ref.state_dict())
    ei, x = graph(3)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    a, b = ours(x1, ei), ref(x2, ei)
    assert (a - b).abs().max() < 1e-5
    a.pow(2).sum().backward()
    b.pow(2).sum().backward()
    assert (x1.grad - x2.grad).abs().max() < 1e-5


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("options", [dict(improved=True), dict(normalize=False), dict(add_self_loops=False), dict(bias=False)])
def test_gcn_options_equal_pyg(fast, weighted, options):
    torch.manual_seed(2)
    ours, ref = gnn.GCNConv(F_IN, 4, fast=fast, **options), pyg.GCNConv(F_IN, 4, **options)
    ours.load_state_dict(ref.state_dict())
    ei, x = graph(9)
    w = torch.rand(ei.size(1)) if weighted else None
    assert (ours(x, ei, w) - ref(x, ei, w)).abs().max() < 1e-5


def test_gin_signature_is_pygs():
    import inspect

    ours = list(inspect.signature(gnn.GINConv).parameters)[:3]
    assert ours == list(inspect.signature(pyg.GINConv).parameters)[:3] == ["nn", "eps", "train_eps"]
    layer = gnn.GINConv(nn=gnn.mlp([F_IN, 4]), eps=0.5)
    assert float(layer.eps) == 0.5


def test_mpnn_matches_loop_reference():
    torch.manual_seed(0)
    layer = gnn.MPNNConv(F_IN, 5, edge_dim=2, aggr="sum")
    ei, x = graph(4)
    e = torch.randn(ei.size(1), 2)
    out = layer(x, ei, e)
    ref = torch.zeros(N, 5)
    for i in range(N):
        m = torch.zeros(5)
        for k in range(ei.size(1)):
            if ei[1, k] == i:
                j = ei[0, k]
                m = m + layer.message_mlp(torch.cat([x[i], x[j], e[k]]))
        ref[i] = layer.update_mlp(torch.cat([x[i], m]))
    assert torch.allclose(out, ref, atol=1e-5)


def test_sparse_input_equals_dense():
    torch.manual_seed(0)
    x = (torch.rand(N, 30) < 0.1).float()
    ei, _ = graph(6)
    xs = gnn.sparse_features(x, normalize=False)
    for layer in [gnn.GCNConv(30, 4), gnn.GATConv(30, 2, heads=3)]:
        assert torch.allclose(layer(xs, ei), layer(x, ei), atol=1e-6)
    s = x.sum(1, keepdim=True)
    assert torch.allclose(gnn.sparse_features(x).to_dense(), torch.where(s > 0, x / s.clamp(min=1), x))


def layer_zoo():
    torch.manual_seed(1)
    return {
        "GCN": gnn.GCNConv(F_IN, 4), "SGC": gnn.SGConv(F_IN, 4, K=2), "Cheb": gnn.ChebConv(F_IN, 4, K=3),
        "GAT": gnn.GATConv(F_IN, 2, heads=2), "GIN": gnn.GINConv(gnn.mlp([F_IN, 8, 4])),
        "Mean": gnn.MeanConv(F_IN, 4), "MPNN": gnn.MPNNConv(F_IN, 4),
    }


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 15))
def test_every_layer_is_permutation_equivariant(seed, n):
    ei, x = graph(seed, n=n, E=3 * n)
    for name, layer in layer_zoo().items():
        layer.eval()
        check_equivariance(lambda x, ei: layer(x, ei), SymmetricGroup(n), (x, ei), graph_action,
                           graph_action, samples=3, seed=seed, atol=1e-5, name=name)


def test_graph_classifier_is_invariant():
    ei, x = graph(7)
    batch = torch.zeros(N, dtype=torch.long)
    for kind in ["gin", "mean"]:
        model = gnn.GraphClassifier(F_IN, 8, 3, kind=kind).eval()
        check_invariance(lambda x, ei: model(x, ei, batch), SymmetricGroup(N), (x, ei), graph_action, samples=4)


def test_batch_graphs_and_pool():
    g1, g2 = graph(1, n=4, E=5), graph(2, n=3, E=4)
    x, ei, b = gnn.batch_graphs([(g1[1], g1[0]), (g2[1], g2[0])])
    assert x.shape == (7, F_IN) and b.tolist() == [0] * 4 + [1] * 3 and int(ei[:, 5:].min()) >= 4
    assert torch.allclose(gnn.global_pool(x, b, 2), torch.stack([g1[1].sum(0), g2[1].sum(0)]))


def test_triangle_counts_match_networkx():
    G = nx.karate_club_graph()
    ei = torch.tensor(list(G.edges())).t()
    ei = torch.cat([ei, ei.flip(0)], 1)
    t = gnn.triangle_counts(ei, G.number_of_nodes())
    assert t.tolist() == [float(nx.triangles(G)[i]) for i in range(G.number_of_nodes())]


def test_train_node_classifier_learns_a_separable_task():
    torch.manual_seed(0)
    from gdlutils.utils import seed_everything

    seed_everything(0)
    n = 60
    y = torch.arange(n) % 2
    same = (y[:, None] == y[None, :]) & (torch.rand(n, n) < 0.2)
    ei = same.nonzero().t()
    x = torch.randn(n, 4) + y[:, None].float()
    masks = [torch.arange(n) % 3 == k for k in range(3)]
    r = gnn.train_node_classifier(gnn.GCN(4, 8, 2), x, ei, y, *masks, epochs=50)
    assert r.val_acc > 0.9 and r.test_acc > 0.8 and 0 <= r.best_epoch < 50  # chance: 0.5


def test_bad_inputs():
    ei, x = graph()
    layer = gnn.GCNConv(F_IN, 4)
    with pytest.raises(ValueError, match=r"shape \(n, 6\)"):
        layer(torch.randn(N, 5), ei)
    with pytest.raises(ValueError, match=r"\(2, E\)"):
        layer(x, ei.t())
    with pytest.raises(TypeError, match="integer"):
        gnn.GATConv(F_IN, 2)(x, ei.float())
    with pytest.raises(ValueError, match="only 20 nodes"):
        gnn.GINConv(gnn.mlp([F_IN, 4]))(x, torch.tensor([[0, 25], [1, 2]]))
    with pytest.raises(ValueError, match="edge_attr"):
        gnn.MPNNConv(F_IN, 4, edge_dim=2)(x, ei, torch.randn(3, 2))
    cached = gnn.GCNConv(F_IN, 4, cached=True)
    cached(x, ei)
    with pytest.raises(ValueError, match="cached"):
        cached(torch.randn(N + 1, F_IN), ei)
    with pytest.raises(ValueError, match="kind"):
        gnn.GraphClassifier(F_IN, 4, 2, kind="max")


@pytest.mark.parametrize("improved", [False, True])
@pytest.mark.parametrize("cached", [False, True])
def test_gcn_unweighted_fast_path_equals_generic_core(improved, cached):
    """The unweighted fast path (diagonal scalings around one 0/1 CSR product) against the
    scatter core, on a graph with self-loops, duplicate edges and isolated nodes."""
    torch.manual_seed(3)
    fast = gnn.GCNConv(F_IN, 4, improved=improved, cached=cached)
    slow = gnn.GCNConv(F_IN, 4, improved=improved, fast=False)
    slow.load_state_dict(fast.state_dict())
    ei, x = graph(11, n=N, E=90)
    ei = torch.cat([ei, ei[:, :10], torch.tensor([[3, 3], [3, 3]])], dim=1)  # duplicates, a double loop
    x = torch.cat([x, torch.randn(5, F_IN)])  # 5 isolated nodes
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    for _ in range(2):  # the second call uses the cache when cached=True
        a, b = fast(x1, ei), slow(x2, ei)
        assert (a - b).abs().max() < 1e-5
    a.sum().backward()
    b.sum().backward()
    assert (x1.grad - x2.grad).abs().max() < 1e-5
    assert (fast.lin.weight.grad - slow.lin.weight.grad).abs().max() < 1e-5


def test_masked_accuracy():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [0.0, 5.0]])
    y = torch.tensor([0, 0, 0, 1])
    mask = torch.tensor([True, True, False, False])
    assert gnn.accuracy(logits, y, mask) == 0.5
    assert gnn.accuracy(logits, y) == 0.75
    assert gnn.accuracy(logits, y, torch.zeros(4, dtype=torch.bool)) != gnn.accuracy(logits, y, torch.zeros(4, dtype=torch.bool))  # nan


def test_gin_cached_reuses_the_structure():
    torch.manual_seed(5)
    ref = pyg.GINConv(gnn.mlp([F_IN, 8, 4]), eps=0.1, train_eps=True)
    ours = gnn.GINConv(gnn.mlp([F_IN, 8, 4]), eps=0.1, train_eps=True, cached=True)
    ours.load_state_dict(ref.state_dict())
    ei, x = graph(2)
    for _ in range(2):  # the second call uses the cached structure
        x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
        a, b = ours(x1, ei), ref(x2, ei)
        assert (a - b).abs().max() < 1e-5
        a.pow(2).sum().backward()
        b.pow(2).sum().backward()
        assert (x1.grad - x2.grad).abs().max() < 1e-4
        assert (ours.eps.grad - ref.eps.grad).abs().max() < 1e-4
    assert ours._cached_graph is not None
    with pytest.raises(ValueError, match="cached"):
        ours(torch.randn(x.size(0) + 1, F_IN), ei)
    ours.reset_parameters()
    assert ours._cached_graph is None


@pytest.mark.parametrize("features", [7, 20, 97])
def test_sparse_input_gradients_equal_dense(features):
    """The first layer's weight gradient through a sparse CSR input (X^T G from a transposed
    pattern) equals the dense one, for fewer, as many and more features than nodes."""
    torch.manual_seed(features)
    x = (torch.rand(N, features) < 0.2).float()
    ei, _ = graph(7)
    xs = gnn.sparse_features(x)
    xd = xs.to_dense()
    for make in (lambda: gnn.GCNConv(features, 4), lambda: gnn.GATConv(features, 2, heads=3)):
        a, b = make(), make()
        b.load_state_dict(a.state_dict())
        for _ in range(2):
            a.zero_grad(), b.zero_grad()
            a(xs, ei).pow(2).sum().backward()
            b(xd, ei).pow(2).sum().backward()
            assert (a.lin.weight.grad - b.lin.weight.grad).abs().max() < 1e-5


# ------------------------------------------------------------------ the authors' options (5.3.3)
def test_gat_head_dropout_draws_a_mask_per_head():
    """head_dropout=p: with identical heads (same weights), the heads' outputs differ in training
    (independent masks), are identical in evaluation, and equal PyG's layer there."""
    ei, x = graph(4)
    ref = pyg.GATConv(F_IN, 3, heads=4)
    with torch.no_grad():  # four copies of one head
        ref.lin.weight.copy_(ref.lin.weight[:3].repeat(4, 1))
        ref.att_src.copy_(ref.att_src[:, :1].expand(-1, 4, -1))
        ref.att_dst.copy_(ref.att_dst[:, :1].expand(-1, 4, -1))
    for fast in (True, False):
        ours = gnn.GATConv(F_IN, 3, heads=4, head_dropout=0.5, fast=fast)
        ours.load_state_dict(ref.state_dict())
        for inp in (x, x.to_sparse_csr()):  # dense and sparse (bag-of-words) inputs
            heads = ours(inp, ei).view(N, 4, 3)
            assert (heads[:, 0] - heads[:, 1]).abs().max() > 1e-3  # shared masks would give equal heads
        ours.eval()
        out = ours(x, ei)
        assert torch.allclose(out.view(N, 4, 3)[:, 0], out.view(N, 4, 3)[:, 1])
        assert (out - ref(x, ei)).abs().max() < 1e-5


def test_per_head_sparse_matmul_equals_dense_with_gradients():
    from gdlutils import _sparse

    torch.manual_seed(1)
    dense = torch.rand(9, 7) * (torch.rand(9, 7) < 0.4)
    x = dense.to_sparse_csr()
    vals = torch.rand(3, x.values().numel())
    w1 = torch.randn(3, 7, 2, requires_grad=True)
    w2 = w1.detach().clone().requires_grad_()
    out = _sparse.per_head_sparse_matmul(x, vals, w1)
    rows = torch.repeat_interleave(torch.arange(9), x.crow_indices()[1:] - x.crow_indices()[:-1])
    ref = []
    for h in range(3):
        xh = torch.zeros(9, 7).index_put_((rows, x.col_indices().long()), vals[h])
        ref.append(xh @ w2[h])
    ref = torch.stack(ref, 1)
    assert torch.allclose(out, ref, atol=1e-6)
    g = torch.randn_like(out)
    (out * g).sum().backward()
    (ref * g).sum().backward()
    assert torch.allclose(w1.grad, w2.grad, atol=1e-5)


def test_gat_model_dropout_schemes_agree_in_evaluation():
    ei, x = graph(7)
    a = gnn.GAT(F_IN, 4, 3, heads=2, per_head_dropout=True)
    b = gnn.GAT(F_IN, 4, 3, heads=2, per_head_dropout=False)
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    assert torch.allclose(a(x, ei), b(x, ei))
    assert a.conv1.head_dropout == 0.6 and b.conv1.head_dropout == 0.0
    with pytest.raises(ValueError, match="head_dropout"):
        gnn.GATConv(F_IN, 2, head_dropout=1.0)


def test_gcn_without_bias_is_the_authors_layer():
    m = gnn.GCN(F_IN, 4, 3, bias=False)
    assert all(c.bias is None for c in m.convs)
    ref = pyg.GCNConv(F_IN, 4, bias=False)
    m.convs[0].load_state_dict(ref.state_dict())
    ei, x = graph(3)
    assert (m.convs[0](x, ei) - ref(x, ei)).abs().max() < 1e-5
    assert all(c.bias is not None for c in gnn.GCN(F_IN, 4, 3).convs)


def _separable_task(n=60):
    from gdlutils.utils import seed_everything

    seed_everything(0)
    y = torch.arange(n) % 2
    same = (y[:, None] == y[None, :]) & (torch.rand(n, n) < 0.2)
    x = torch.randn(n, 4) + y[:, None].float()
    return x, same.nonzero().t(), y, [torch.arange(n) % 3 == k for k in range(3)]


def test_early_stopping_follows_kipf_and_wellings_rule():
    x, ei, y, masks = _separable_task()
    from gdlutils.utils import seed_everything

    w = 5
    seed_everything(1)
    r = gnn.train_node_classifier(gnn.GCN(4, 8, 2), x, ei, y, *masks, epochs=300, lr=0.05, keep_history=True,
                                  early_stopping=w)
    L = r.history["val_loss"]
    assert len(L) == r.epochs_run == r.best_epoch + 1
    stop = [t for t in range(len(L)) if t > w and L[t] > sum(L[t - w:t]) / w]
    assert r.epochs_run < 300 and stop == [r.epochs_run - 1]  # stops at the first epoch the rule fires
    assert r.test_acc == r.history["test"][-1] and r.val_acc == r.history["val"][-1]  # the last model
    # the validation loss includes the weight-decay term: with weight_decay=0 it is the bare cross-entropy
    r0 = gnn.train_node_classifier(gnn.GCN(4, 8, 2), x, ei, y, *masks, epochs=20, weight_decay=0.0, keep_history=True,
                                   early_stopping=50)
    assert r0.epochs_run == 20 and min(r0.history["val_loss"]) > 0
    # the rule does not change training: applied afterwards to a full run's history it gives the same model
    seed_everything(1)
    full = gnn.train_node_classifier(gnn.GCN(4, 8, 2), x, ei, y, *masks, epochs=300, lr=0.05, keep_history=True)
    assert full.history["val_loss"][: len(L)] == L and full.history["test"][r.best_epoch] == r.test_acc
    with pytest.raises(ValueError, match="early_stopping"):
        gnn.train_node_classifier(gnn.GCN(4, 8, 2), x, ei, y, *masks, early_stopping=0)


def test_best_validation_rule_reports_the_first_best_epoch():
    x, ei, y, masks = _separable_task()
    r = gnn.train_node_classifier(gnn.GCN(4, 8, 2), x, ei, y, *masks, epochs=40, keep_history=True)
    v = r.history["val"]
    assert r.best_epoch == v.index(max(v)) and r.test_acc == r.history["test"][r.best_epoch] and r.epochs_run == 40


# ------------------------------------------------------------------ attention entropy
def test_attention_entropy_uniform_one_hot_and_loop():
    ei, x = graph(9, self_loops=False)
    layer = gnn.GATConv(F_IN, 2, heads=3)
    _, (e, alpha) = layer(x, ei, return_attention_weights=True)
    deg = torch.bincount(e[1], minlength=N).double()
    uniform = (1.0 / deg[e[1]]).float()
    assert torch.allclose(gnn.attention_entropy(uniform, e, N), deg.log().float(), atol=1e-5)
    # one-hot: all weight on the first edge into each node
    first = torch.zeros(e.size(1))
    seen = set()
    for k, i in enumerate(e[1].tolist()):
        if i not in seen:
            first[k], _ = 1.0, seen.add(i)
    assert gnn.attention_entropy(first, e, N).abs().max() == 0
    # a direct loop over nodes and heads
    H = gnn.attention_entropy(alpha, e, N)
    assert H.shape == (N, 3)
    for i in range(N):
        a = alpha[e[1] == i]
        assert torch.allclose(H[i], -(a * a.log()).sum(0), atol=1e-6)
    assert bool((H <= deg.log()[:, None].float() + 1e-5).all()) and bool((H >= 0).all())
    # a node without incoming edges: 0
    assert gnn.attention_entropy(torch.ones(1), torch.tensor([[0], [1]]), 3).tolist() == [0.0, 0.0, 0.0]


def test_attention_entropy_bad_input():
    e = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(TypeError, match="floating-point"):
        gnn.attention_entropy(torch.tensor([1, 1]), e)
    with pytest.raises(ValueError, match="one row per edge"):
        gnn.attention_entropy(torch.ones(3), e)
    with pytest.raises(ValueError, match="sum to 1"):
        gnn.attention_entropy(torch.tensor([0.5, 0.5]), e)
    with pytest.raises(ValueError, match="non-negative"):
        gnn.attention_entropy(torch.tensor([-1.0, 1.0]), e)


def test_dropout_is_inverted_dropout():
    """gnn.dropout gives exactly x * (u >= p) / (1 - p) for the same uniform draws u, gradient too,
    and keeps a fraction 1 - p of the entries."""
    x = torch.randn(200, 50, requires_grad=True)
    torch.manual_seed(3)
    a = gnn.dropout(x, 0.6)
    torch.manual_seed(3)
    b = x * (torch.rand_like(x) >= 0.6) * (1 / 0.4)
    assert torch.equal(a, b)
    g = torch.randn_like(a)
    assert torch.equal(torch.autograd.grad(a, x, g)[0], torch.autograd.grad(b, x, g)[0])
    assert abs(float((a != 0).float().mean()) - 0.4) < 0.02
    assert gnn.dropout(x, 0.6, training=False) is x
