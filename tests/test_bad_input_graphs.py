"""Bad input to the graph and message-passing modules (graphs, message_passing, gnn, spectral,
training) raises a clear error: each case names the call, the exception type and the key words
its message must contain (what was expected, or how to fix it). No silent wrong answers."""
from __future__ import annotations

import math

import pytest
import torch

from gdlutils import gnn, graphs, message_passing as mp, spectral, training

RING = graphs.ring_graph(4)  # 4 nodes, 8 directed edges
X = torch.randn(4, 3)
PERM = torch.tensor([1, 2, 3, 0])
W = torch.ones(8)
DIRECTED = torch.tensor([[0, 1, 2], [1, 2, 0]])  # a directed triangle


def _cached_gcn_on_another_graph():
    layer = gnn.GCNConv(3, 2, cached=True)
    layer(X, RING)
    layer(torch.randn(5, 3), graphs.ring_graph(5))


def _train_with_float_mask():
    y = torch.tensor([0, 1, 0, 1])
    mask = torch.ones(4)
    gnn.train_node_classifier(gnn.GCN(3, 4, 2), X, RING, y, mask, mask.bool(), mask.bool(), epochs=1)


CASES = [
    # ------------------------------------------------------------------ graphs: generators
    ("ring_graph float", lambda: graphs.ring_graph(3.5), TypeError, ["n must be an integer", "3.5"]),
    ("ring_graph bool", lambda: graphs.ring_graph(True), TypeError, ["integer"]),
    ("ring_graph too small", lambda: graphs.ring_graph(2), ValueError, ["at least 3 nodes"]),
    ("grid_graph zero side", lambda: graphs.grid_graph(0, 3), ValueError, ["positive"]),
    ("grid_graph float side", lambda: graphs.grid_graph(2.5, 3), TypeError, ["height must be an integer"]),
    ("tree_graph negative depth", lambda: graphs.tree_graph(-1), ValueError, ["depth"]),
    ("sbm probability > 1", lambda: graphs.sbm_graph([3, 3], 1.5, 0.1), ValueError, ["probabilities", "[0, 1]"]),
    ("sbm probability NaN", lambda: graphs.sbm_graph([3, 3], math.nan, 0.1), ValueError, ["probabilities"]),
    ("sbm empty block", lambda: graphs.sbm_graph([3, 0], 0.5, 0.1), ValueError, ["block size", ">= 1"]),
    ("sbm float seed", lambda: graphs.sbm_graph([3, 3], 0.5, 0.1, seed=1.5), TypeError, ["seed must be an integer"]),
    ("sbm negative noise", lambda: graphs.sbm_graph([3, 3], 0.5, 0.1, 2, feature_noise=-1.0), ValueError, ["feature_noise"]),
    ("random_permutation negative", lambda: graphs.random_permutation(-1), ValueError, ["n must be an integer >= 0"]),
    ("random_permutation int generator", lambda: graphs.random_permutation(3, generator=0), TypeError, ["torch.Generator"]),
    # ------------------------------------------------------------------ graphs: edge_index and weights
    ("edge_index as a list", lambda: graphs.adjacency([[0, 1], [1, 0]]), TypeError, ["torch.Tensor", "(2, E)"]),
    ("edge_index float", lambda: graphs.adjacency(RING.float()), TypeError, ["integers", "float32"]),
    ("edge_index transposed", lambda: graphs.laplacian(RING.t()), ValueError, ["(2, E)", "transpose", "edge_index.t()"]),
    ("edge_index out of range", lambda: graphs.adjacency(RING, 3), ValueError, ["refers to node 3", "num_nodes = 3"]),
    ("edge_index negative", lambda: graphs.adjacency(torch.tensor([[0, -1], [1, 0]])), ValueError, ["negative node index"]),
    ("num_nodes negative", lambda: graphs.adjacency(RING, -1), ValueError, ["num_nodes must be an integer >= 0"]),
    ("num_nodes float", lambda: graphs.adjacency(RING, 4.0), TypeError, ["num_nodes must be an integer"]),
    ("edge_weight wrong length", lambda: graphs.adjacency(RING, edge_weight=torch.ones(3)), ValueError, ["edge_weight", "(8,)"]),
    ("edge_weight NaN", lambda: graphs.laplacian(RING, edge_weight=torch.full((8,), math.nan)), ValueError, ["NaN", "finite"]),
    ("edge_weight bool", lambda: graphs.adjacency(RING, edge_weight=torch.ones(8, dtype=torch.bool)), TypeError, ["real numbers"]),
    ("laplacian normalization", lambda: graphs.laplacian(RING, normalization="left"), ValueError, ["normalization", "'sym'"]),
    ("adjacency format", lambda: graphs.adjacency(RING, format="csr"), ValueError, ["format", "'scipy'"]),
    ("degree of a 2-D index", lambda: graphs.degree(RING), ValueError, ["1-D", "edge_index[1]"]),
    ("degree of a float index", lambda: graphs.degree(RING[1].float()), TypeError, ["integers"]),
    ("degree out of range", lambda: graphs.degree(RING[1], 2), ValueError, ["[0, num_nodes = 2)"]),
    ("weighted_degree weight shape", lambda: graphs.weighted_degree(RING, edge_weight=torch.ones(8, 2)), ValueError, ["(8,)"]),
    ("to_undirected float", lambda: graphs.to_undirected(RING.double()), TypeError, ["integers"]),
    ("wl_colors negative iterations", lambda: graphs.wl_colors(RING, iterations=-1), ValueError, ["iterations"]),
    ("wl_test features on one side", lambda: graphs.wl_test((RING, 4, X), (RING, 4)), ValueError, ["both graphs"]),
    # ------------------------------------------------------------------ graphs: permutations
    ("permute_graph non-permutation", lambda: graphs.permute_graph(torch.tensor([0, 0, 1, 2]), X, RING), ValueError,
     ["not a permutation of range(4)", "exactly once"]),
    ("permute_graph index out of range", lambda: graphs.permute_graph(torch.tensor([0, 1, 2, 4]), X, RING), ValueError,
     ["not a permutation"]),
    ("permute_graph wrong length", lambda: graphs.permute_graph(torch.tensor([1, 0, 2]), X, RING), ValueError,
     ["perm must have shape", "(4,)"]),
    ("permute_graph float perm", lambda: graphs.permute_graph(PERM.float(), X, RING), TypeError, ["integers"]),
    ("permute_graph nothing to permute", lambda: graphs.permute_graph(PERM, None, None), ValueError, ["needs x or edge_index"]),
    ("permute_graph x rows", lambda: graphs.permute_graph(PERM, X, RING, num_nodes=5), ValueError, ["4 rows", "num_nodes = 5"]),
    ("permute_dense non-square", lambda: graphs.permute_dense(PERM, None, torch.ones(4, 3)), ValueError, ["square"]),
    ("permute_dense x rows", lambda: graphs.permute_dense(PERM, torch.ones(3, 2), torch.ones(4, 4)), ValueError,
     ["one row per node"]),
    ("permute_dense non-permutation", lambda: graphs.permute_dense(torch.tensor([0, 1, 1, 3]), None, torch.ones(4, 4)),
     ValueError, ["not a permutation"]),
    ("graph_action on a number", lambda: graphs.graph_action(PERM, 5), TypeError, ["tuple (x, edge_index"]),
    # ------------------------------------------------------------------ message_passing
    ("scatter float index", lambda: mp.scatter(X, torch.tensor([0.0, 1, 0, 1])), TypeError, ["index", "integers"]),
    ("scatter index length", lambda: mp.scatter(X, torch.tensor([0, 1, 0])), ValueError, ["index must have shape (4,)"]),
    ("scatter dim_size too small", lambda: mp.scatter(X, torch.tensor([0, 1, 2, 3]), dim_size=2), ValueError,
     ["[0, dim_size = 2)", "[0, 3]"]),
    ("scatter reduce='add'", lambda: mp.scatter(X, torch.tensor([0, 1, 0, 1]), reduce="add"), ValueError, ["'sum'", "PyG"]),
    ("scatter reduce unknown", lambda: mp.scatter(X, torch.tensor([0, 1, 0, 1]), reduce="median"), ValueError,
     ["reduce must be one of"]),
    ("scatter dim out of range", lambda: mp.scatter(X, torch.tensor([0, 1, 0, 1]), dim=2), ValueError, ["dim must be"]),
    ("scatter of a list", lambda: mp.scatter([1.0, 2.0], torch.tensor([0, 1])), TypeError, ["src must be a torch.Tensor"]),
    ("scatter negative dim_size", lambda: mp.scatter(X, torch.tensor([0, 1, 0, 1]), dim_size=-1), ValueError, ["dim_size"]),
    ("segment_softmax integer scores", lambda: mp.segment_softmax(torch.ones(8, dtype=torch.long), RING[1]), TypeError,
     ["floating-point"]),
    ("segment_softmax out of range", lambda: mp.segment_softmax(torch.ones(8), RING[1], num_nodes=2), ValueError,
     ["dim_size = 2"]),
    ("propagate aggr unknown", lambda: mp.propagate(X, RING, aggr="median"), ValueError, ["aggr must be one of"]),
    ("propagate edge_attr rows", lambda: mp.propagate(X, RING, edge_attr=torch.ones(3, 2)), ValueError,
     ["edge_attr", "one row per edge (8"]),
    ("propagate message shape", lambda: mp.propagate(X, RING, message=lambda xi, xj, e: xj[:3]), ValueError,
     ["message must return one row per edge"]),
    ("propagate softmax without message", lambda: mp.propagate(X, RING, aggr="softmax"), ValueError, ["(scores, values)"]),
    ("propagate x not a tensor", lambda: mp.propagate([[1.0]] * 4, RING), TypeError, ["x must be a torch.Tensor"]),
    ("propagate x rows vs edges", lambda: mp.propagate(X[:3], RING), ValueError, ["refers to node 3", "x has 3 rows"]),
    ("check_graph num_nodes vs x", lambda: mp.check_graph(X, RING, num_nodes=5), ValueError, ["4 rows", "num_nodes = 5"]),
    ("remove_self_loops transposed", lambda: mp.remove_self_loops(RING.t()), ValueError, ["transpose"]),
    ("remove_self_loops attr length", lambda: mp.remove_self_loops(RING, torch.ones(5)), ValueError, ["one row per edge (8"]),
    ("add_self_loops(ei, -1)", lambda: mp.add_self_loops(RING, -1), TypeError, ["edge_attr", "num_nodes is a keyword"]),
    ("add_self_loops num_nodes negative", lambda: mp.add_self_loops(RING, num_nodes=-1), ValueError, ["num_nodes"]),
    ("add_self_loops num_nodes too small", lambda: mp.add_self_loops(RING, num_nodes=3), ValueError, ["refers to node 3"]),
    ("add_self_loops fill NaN", lambda: mp.add_self_loops(RING, W, math.nan), ValueError, ["fill_value must be finite"]),
    ("add_self_loops fill unknown", lambda: mp.add_self_loops(RING, W, "median"), ValueError, ["fill_value must be one of"]),
    ("add_remaining_self_loops range", lambda: mp.add_remaining_self_loops(RING, num_nodes=2), ValueError,
     ["refers to node 3", "[0, 2)"]),
    ("gcn_norm out-of-range index", lambda: mp.gcn_norm(torch.tensor([[0, 5], [1, 2]]), num_nodes=3), ValueError,
     ["refers to node 5", "num_nodes = 3"]),
    ("gcn_norm weight shape", lambda: mp.gcn_norm(RING, torch.ones(8, 1)), ValueError, ["edge_weight", "(8,)"]),
    ("gcn_norm infinite weight", lambda: mp.gcn_norm(RING, torch.full((8,), math.inf)), ValueError, ["finite"]),
    ("gcn_norm list weight", lambda: mp.gcn_norm(RING, [1.0] * 8), TypeError, ["edge_weight must be a torch.Tensor"]),
    # ------------------------------------------------------------------ gnn layers
    ("GCNConv wrong feature size", lambda: gnn.GCNConv(5, 2)(X, RING), ValueError, ["GCNConv", "shape (n, 5)"]),
    ("GCNConv integer features", lambda: gnn.GCNConv(3, 2)(X.long(), RING), TypeError, ["floating-point", "x.float()"]),
    ("GCNConv float channels", lambda: gnn.GCNConv(2.5, 4), TypeError, ["in_channels must be an integer"]),
    ("GCNConv zero channels", lambda: gnn.GCNConv(3, 0), ValueError, ["out_channels must be an integer >= 1"]),
    ("GCNConv edge_weight shape", lambda: gnn.GCNConv(3, 2)(X, RING, torch.ones(3)), ValueError, ["edge_weight", "(8,)"]),
    ("GCNConv cached on another graph", _cached_gcn_on_another_graph, ValueError, ["cached graph has 4 nodes", "cached=False"]),
    ("GCNConv transposed edges", lambda: gnn.GCNConv(3, 2)(X, RING.t()), ValueError, ["(2, E)", "transpose"]),
    ("SGConv negative K", lambda: gnn.SGConv(3, 2, K=-1), ValueError, ["K must be an integer >= 0"]),
    ("GATConv zero heads", lambda: gnn.GATConv(3, 2, heads=0), ValueError, ["heads must be an integer >= 1"]),
    ("GATConv dropout 1", lambda: gnn.GATConv(3, 2, dropout=1.0), ValueError, ["dropout", "[0, 1)"]),
    ("GATConv float edges", lambda: gnn.GATConv(3, 2)(X, RING.float()), TypeError, ["integers"]),
    ("GINConv nn not a module", lambda: gnn.GINConv(3), TypeError, ["nn must be a torch.nn.Module"]),
    ("GINConv eps NaN", lambda: gnn.GINConv(gnn.mlp([3, 2]), eps=math.nan), ValueError, ["eps must be finite"]),
    ("GINConv 1-D features", lambda: gnn.GINConv(gnn.mlp([3, 2]))(X[:, 0], RING), ValueError, ["GINConv", "(n, F)"]),
    ("GINConv edge out of range", lambda: gnn.GINConv(gnn.mlp([3, 2]))(X, torch.tensor([[0, 9], [1, 2]])), ValueError,
     ["refers to node 9", "only 4 nodes"]),
    ("MeanConv wrong features", lambda: gnn.MeanConv(2, 2)(X, RING), ValueError, ["MeanConv", "(n, 2)"]),
    ("MPNNConv aggr='add'", lambda: gnn.MPNNConv(3, 2, aggr="add"), ValueError, ["aggr", "'sum'"]),
    ("MPNNConv edge_attr shape", lambda: gnn.MPNNConv(3, 2, edge_dim=2)(X, RING, torch.ones(8, 3)), ValueError,
     ["edge_attr must have shape (E, edge_dim) = (8, 2)"]),
    ("MPNNConv unexpected edge_attr", lambda: gnn.MPNNConv(3, 2)(X, RING, torch.ones(8, 1)), ValueError, ["edge_dim=0"]),
    ("mlp one size", lambda: gnn.mlp([5]), ValueError, ["at least an input and an output size"]),
    ("mlp zero width", lambda: gnn.mlp([5, 0]), ValueError, ["every size must be an integer >= 1"]),
    ("GCN zero layers", lambda: gnn.GCN(3, 4, 2, num_layers=0), ValueError, ["num_layers"]),
    ("GraphClassifier kind", lambda: gnn.GraphClassifier(3, 4, 2, kind="max"), ValueError, ["kind", "'gin' or 'mean'"]),
    ("dropout p = 1", lambda: gnn.dropout(X, 1.0), ValueError, ["dropout probability", "[0, 1)"]),
    ("sparse_features 1-D", lambda: gnn.sparse_features(torch.ones(4)), ValueError, ["(n, F)"]),
    ("sparse_features NaN", lambda: gnn.sparse_features(torch.full((2, 2), math.nan)), ValueError, ["NaN", "finite"]),
    ("global_pool float batch", lambda: gnn.global_pool(X, torch.zeros(4)), ValueError, ["batch", "integer tensor", "float32"]),
    ("global_pool batch length", lambda: gnn.global_pool(X, torch.zeros(3, dtype=torch.long)), ValueError,
     ["batch must be an integer tensor of shape (n,) = (4,)"]),
    ("global_pool too few graphs", lambda: gnn.global_pool(X, torch.tensor([0, 0, 1, 1]), num_graphs=1), ValueError,
     ["batch must lie in [0, num_graphs = 1)"]),
    ("global_pool reduce", lambda: gnn.global_pool(X, torch.zeros(4, dtype=torch.long), reduce="avg"), ValueError,
     ["reduce must be one of"]),
    ("triangle_counts directed", lambda: gnn.triangle_counts(DIRECTED, 3), ValueError, ["undirected", "to_undirected"]),
    ("triangle_counts self-loop", lambda: gnn.triangle_counts(torch.tensor([[0, 0, 1], [0, 1, 0]]), 2), ValueError,
     ["simple graph", "self-loops"]),
    ("batch_graphs empty", lambda: gnn.batch_graphs([]), ValueError, ["non-empty list"]),
    ("batch_graphs feature sizes", lambda: gnn.batch_graphs([(X, RING), (torch.ones(4, 2), RING)]), ValueError,
     ["same feature size"]),
    ("train_node_classifier float mask", _train_with_float_mask, ValueError, ["train_mask must be a boolean tensor"]),
    ("accuracy float mask", lambda: gnn.accuracy(torch.ones(4, 2), torch.zeros(4, dtype=torch.long), torch.ones(4)),
     ValueError, ["mask must be a boolean tensor"]),
    # ------------------------------------------------------------------ spectral
    ("heat_filter negative time", lambda: spectral.heat_filter(-1.0), ValueError, ["t must be a finite diffusion time"]),
    ("heat_filter NaN", lambda: spectral.heat_filter(math.nan), ValueError, ["finite"]),
    ("chebyshev_coefficients K = 0", lambda: spectral.chebyshev_coefficients(abs, 0), ValueError, ["K must be an integer >= 1"]),
    ("chebyshev_coefficients lambda_max", lambda: spectral.chebyshev_coefficients(abs, 3, lambda_max=0.0), ValueError,
     ["lambda_max must be a positive"]),
    ("chebyshev_coefficients not a function", lambda: spectral.chebyshev_coefficients(3, 3), TypeError, ["g must be a function"]),
    ("ChebConv K = 0", lambda: spectral.ChebConv(3, 2, K=0), ValueError, ["K must be an integer >= 1"]),
    ("ChebConv edge out of range", lambda: spectral.ChebConv(3, 2, K=2)(X, torch.tensor([[0, 7], [1, 0]])), ValueError,
     ["refers to node 7"]),
    ("gft rows", lambda: spectral.gft(torch.ones(3), torch.eye(4)), ValueError, ["one row per node"]),
    ("laplacian_eigh float k", lambda: spectral.laplacian_eigh(RING, k=2.5), TypeError, ["k must be an integer"]),
    ("dirichlet_energy weight", lambda: spectral.dirichlet_energy(X, RING, torch.ones(2)), ValueError, ["edge_weight", "(8,)"]),
    ("scaled_laplacian normalization", lambda: spectral.scaled_laplacian(RING, normalization="x"), ValueError,
     ["normalization"]),
    # ------------------------------------------------------------------ training
    ("training.accuracy float labels", lambda: training.accuracy(torch.ones(4, 2), torch.zeros(4)), TypeError,
     ["integer class labels", "target.long()"]),
    ("training.accuracy shapes", lambda: training.accuracy(torch.ones(4, 2), torch.zeros(3, dtype=torch.long)), ValueError,
     ["logits (N, num_classes) and labels (N,)"]),
    ("count_parameters of a function", lambda: training.count_parameters(abs), TypeError, ["torch.nn.Module"]),
    ("batches zero size", lambda: list(training.batches((X,), batch_size=0)), ValueError, ["batch_size must be a positive"]),
    ("fit negative lr", lambda: training.fit(torch.nn.Linear(3, 2), (X, torch.zeros(4, dtype=torch.long)), lr=-1.0,
                                             progress=False), ValueError, ["lr must be a positive"]),
]


@pytest.mark.parametrize("name, call, exc, words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_clearly(name, call, exc, words):
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, f"{name}: {word!r} not in the message {message!r}"


def test_enough_cases():
    assert len(CASES) >= 55
