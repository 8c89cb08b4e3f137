"""Self-checks for the exercises of chapter 5 (geometric deep learning models).

5.1.x: convolutional networks; 5.2.x: group-equivariant CNNs. (Later sections append their
checks below.)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..gconv import act_on_group_map
from ..groups import check_equivariance, check_invariance, rotate_image
from . import ExerciseFailure, exercise


def _tensor(value, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ExerciseFailure(f"{what} should return a torch.Tensor, got {type(value).__name__}")
    return value


# ---------------------------------------------------------------------------------------- 5.1


@exercise("5.1.1", "convolution as a circulant matrix")
def _conv_matrix(conv_matrix):
    """``conv_matrix(psi, n)``: the n x n matrix C with (C x)_u = sum_{v=-r..r} psi[v + r] x[(u + v) mod n]."""
    gen = torch.Generator().manual_seed(11)
    for n, k in [(7, 3), (10, 5), (6, 1)]:
        psi = torch.randn(k, generator=gen, dtype=torch.float64)
        x = torch.randn(n, generator=gen, dtype=torch.float64)
        C = _tensor(conv_matrix(psi.clone(), n), "conv_matrix").to(torch.float64)
        if C.shape != (n, n):
            raise ExerciseFailure(f"for n = {n} the matrix should have shape ({n}, {n}), got {tuple(C.shape)}")
        r = k // 2
        ref = F.conv1d(F.pad(x.view(1, 1, n), (r, r), mode="circular"), psi.view(1, 1, k)).view(n)
        err = (C @ x - ref).abs().max().item()
        if err > 1e-9:
            shifted = torch.roll(C, 1, dims=(0, 1))
            circulant = torch.allclose(shifted, C)
            raise ExerciseFailure(
                f"with n = {n} and a filter of length {k}, C @ x differs from the circular "
                f"cross-correlation by {err:.2e}; "
                + ("your matrix is circulant, so check the direction of the filter (correlation, not convolution) and its centring"
                   if circulant else "your matrix is not circulant: every row should be the previous one shifted by one")
            )


def _receptive_field_reference(layers) -> int:
    """Brute force: which input positions influence the central output of a 1-D conv stack."""
    size = 1 + sum((k - 1) for k, _ in layers) * 4
    for _, s in layers:
        size *= s
    size = max(size, 64) + 1
    x = torch.zeros(1, 1, size, requires_grad=True)
    h = x
    for k, s in layers:
        h = F.conv1d(h, torch.ones(1, 1, k), stride=s)
    h[0, 0, h.shape[-1] // 2].backward()
    return int((x.grad[0, 0] != 0).sum())


@exercise("5.1.2", "receptive field of a stack of convolutions")
def _receptive_field(receptive_field):
    """``receptive_field(layers)`` with ``layers = [(kernel_size, stride), ...]``: input pixels seen by one output."""
    cases = [[(3, 1)], [(3, 1), (3, 1)], [(5, 1), (3, 1), (3, 1)], [(3, 1), (2, 2), (3, 1)],
             [(3, 2), (3, 2), (3, 1)], [(7, 2), (3, 1), (2, 2), (3, 1)]]
    for layers in cases:
        got = receptive_field(list(layers))
        want = _receptive_field_reference(layers)
        if int(got) != want:
            raise ExerciseFailure(
                f"for the stack {layers} (kernel, stride) your answer {got} is "
                + ("too small" if got < want else "too large")
                + "; remember that after a stride-s layer, one step of the next layer spans s input pixels"
            )


@exercise("5.1.3", "anti-aliased subsampling")
def _blur_pool(blur_pool):
    """``blur_pool(x)``: (B, C, H, W) -> (B, C, H/2, W/2), equivariant to shifts by 2, stable to shifts by 1."""
    gen = torch.Generator().manual_seed(13)
    x = torch.randn(16, 3, 16, 16, generator=gen, dtype=torch.float64)
    y = _tensor(blur_pool(x), "blur_pool")
    if y.shape != (16, 3, 8, 8):
        raise ExerciseFailure(f"a (16, 3, 16, 16) input should give (16, 3, 8, 8), got {tuple(y.shape)}")
    err2 = (blur_pool(torch.roll(x, (2, 2), (-2, -1))) - torch.roll(y, (1, 1), (-2, -1))).abs().max().item()
    if err2 > 1e-8:
        raise ExerciseFailure(
            f"shifting the input by 2 pixels should shift the output by exactly 1 (error {err2:.2e}); "
            "use circular padding and keep every other pixel starting from index 0"
        )
    # the highest frequency (stripes of period 2) is what subsampling folds onto a constant: a low-pass
    # filter applied before the subsampling removes it, whatever comes after
    stripes = ((-1.0) ** torch.arange(16, dtype=torch.float64)).expand(2, 3, 16, 16)
    for axis, s in (("width", stripes), ("height", stripes.transpose(-2, -1))):
        ys = _tensor(blur_pool(s.clone()), "blur_pool")
        kept = (ys.norm() / (s.norm() / 2)).item()
        if not kept < 0.1:
            raise ExerciseFailure(
                f"on stripes of period 2 along the {axis} (the highest frequency, +1, -1, +1, ...) your output keeps "
                f"{kept:.2f} of the input's size: subsampling turns this frequency into a constant (aliasing), so it "
                "must be filtered out before the subsampling, along both axes"
            )
    sens = lambda f: ((f(torch.roll(x, 1, -1)) - f(x)).norm() / f(x).norm()).item()
    mine, plain = sens(blur_pool), sens(lambda t: t[..., ::2, ::2])
    if not mine < 0.75 * plain:
        raise ExerciseFailure(
            f"a 1-pixel shift changes your output by {mine:.2f} (relative), plain subsampling by {plain:.2f}: "
            "low-pass filter (blur) the signal before you subsample it"
        )
    return f"1-pixel sensitivity {mine:.2f} vs {plain:.2f} for plain subsampling."


# ---------------------------------------------------------------------------------------- 5.2


@exercise("5.2.1", "the lifting filter bank")
def _lift_bank(lift_bank):
    """``lift_bank(w)``: (C_out, C_in, k, k) -> (C_out, 4, C_in, k, k), slot r = filter for rotation r."""
    gen = torch.Generator().manual_seed(21)
    w = torch.randn(3, 2, 5, 5, generator=gen, dtype=torch.float64)
    bank = _tensor(lift_bank(w.clone()), "lift_bank")
    if bank.shape != (3, 4, 2, 5, 5):
        raise ExerciseFailure(f"a (3, 2, 5, 5) filter bank should give shape (3, 4, 2, 5, 5), got {tuple(bank.shape)}")
    if not torch.allclose(bank[:, 0], w):
        raise ExerciseFailure("slot 0 (the identity rotation) should hold the filters unchanged")
    x = torch.randn(2, 2, 9, 9, generator=gen, dtype=torch.float64)

    def layer(x):
        return F.conv2d(x, bank.reshape(12, 2, 5, 5), padding=2).view(x.shape[0], 3, 4, 9, 9)

    report = check_equivariance(layer, range(4), x, rotate_image, lambda g, y: act_on_group_map(g, y, "p4"),
                                atol=1e-9, rtol=1e-9, raise_error=False)
    if not report.passed:
        bad = [g for g, _ in report.failures]
        raise ExerciseFailure(
            f"the lifting layer built from your bank is not equivariant for rotations {bad} "
            "(rotating the input should rotate each output image and move slot s to slot s + r); "
            "slot r should hold the filter rotated by r quarter turns in the same direction as rotate_image"
        )


@exercise("5.2.2", "the action of rotations on p4 feature maps")
def _act_p4(act_p4):
    """``act_p4(r, y)`` for y of shape (..., 4, N, N): rotate each image and shift the rotation axis."""
    gen = torch.Generator().manual_seed(22)
    y = torch.randn(2, 3, 4, 5, 5, generator=gen)
    for r in range(4):
        got = _tensor(act_p4(r, y.clone()), "act_p4")
        want = act_on_group_map(r, y, "p4")
        if got.shape != want.shape:
            raise ExerciseFailure(f"act_p4({r}, y) should keep the shape {tuple(y.shape)}, got {tuple(got.shape)}")
        if not torch.allclose(got, want):
            spatial_ok = torch.allclose(got.sort(dim=-3).values, want.sort(dim=-3).values)
            raise ExerciseFailure(
                f"act_p4({r}, y) is wrong: "
                + ("the images are rotated correctly but sit in the wrong slots of the rotation axis"
                   if spatial_ok else "the images themselves are not rotated as rotate_image would")
            )
    for a in range(4):
        for b in range(4):
            if not torch.allclose(act_p4(a, act_p4(b, y)), act_p4((a + b) % 4, y)):
                raise ExerciseFailure(f"not a group action: act_p4({a}, act_p4({b}, y)) != act_p4({(a + b) % 4}, y)")


class _TinyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.lin = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x):
        return self.lin(torch.relu(self.conv(x)).flatten(1))


@exercise("5.2.3", "invariance by averaging over the group")
def _symmetrize(symmetrize):
    """``symmetrize(model)`` returns a function x -> (1/4) sum_r model(rotate_image(r, x))."""
    torch.manual_seed(23)
    model = _TinyCNN().double().eval()
    x = torch.randn(5, 1, 8, 8, dtype=torch.float64)
    f = symmetrize(model)
    if not callable(f):
        raise ExerciseFailure("symmetrize(model) should return a function (or module) of the images")
    out = _tensor(f(x), "symmetrize(model)(x)")
    if out.shape != (5, 10):
        raise ExerciseFailure(f"for a batch of 5 images and 10 classes expected output shape (5, 10), got {tuple(out.shape)}")
    report = check_invariance(f, range(4), x, rotate_image, atol=1e-9, rtol=1e-9, raise_error=False)
    if not report.passed:
        raise ExerciseFailure(
            f"the symmetrised model is not invariant: rotations {[g for g, _ in report.failures]} change its output; "
            "average over all four rotations of the input"
        )
    with torch.no_grad():
        mean = torch.stack([model(rotate_image(r, x)) for r in range(4)]).mean(0)
    if not torch.allclose(out, mean, atol=1e-9):
        raise ExerciseFailure("invariant, but not the group average of the model's outputs (use the mean, not the max or the sum)")


# ---------------------------------------------------------------------------------------- 5.3
# Graph neural networks (5.3.1-5.3.3: message passing; 5.3.4-5.3.6: expressivity;
# 5.3.7-5.3.9: node classification on citation graphs).


def _random_digraph(n: int, E: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, n, (2, E), generator=g)


@exercise("5.3.1", "mean aggregation with a scatter")
def _mean_aggregate(mean_aggregate):
    """``mean_aggregate(x, edge_index)``: mean of x_j over the in-neighbours j -> i, zero if none."""
    from ..message_passing import propagate

    for n, E, seed in [(6, 10, 0), (12, 40, 1), (5, 0, 2)]:
        ei = _random_digraph(n, E, seed)
        x = torch.randn(n, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        out = _tensor(mean_aggregate(x.clone(), ei.clone()), "mean_aggregate")
        if out.shape != x.shape:
            raise ExerciseFailure(f"on a graph with {n} nodes the output should have shape {tuple(x.shape)}, got {tuple(out.shape)}")
        ref = propagate(x, ei, aggr="mean")
        if E and not torch.allclose(out.double(), ref, atol=1e-8) and torch.allclose(
            out.double(), propagate(x, ei.flip(0), aggr="mean"), atol=1e-8
        ):
            raise ExerciseFailure("you aggregated at the sources; messages flow from edge_index[0] to edge_index[1]")
        lonely = torch.bincount(ei[1], minlength=n) == 0
        if lonely.any() and not torch.allclose(out[lonely].double(), torch.zeros_like(ref[lonely])):
            raise ExerciseFailure("a node with no in-neighbour should get a zero vector (no NaN, no own feature)")
        if not torch.allclose(out.double(), ref, atol=1e-8):
            raise ExerciseFailure(f"wrong values on a random graph with {n} nodes and {E} edges (repeated edges count twice)")


@exercise("5.3.2", "the renormalised adjacency matrix")
def _gcn_matrix(gcn_matrix):
    """``gcn_matrix(edge_index, n)``: dense D~^-1/2 (A + I) D~^-1/2 with A_ij = 1 for j -> i."""
    from ..message_passing import gcn_norm

    for n, seed, directed in [(7, 0, False), (10, 1, True)]:
        ei = _random_digraph(n, 3 * n, seed)
        ei = ei[:, ei[0] != ei[1]]
        if not directed:
            ei = torch.unique(torch.cat([ei, ei.flip(0)], 1), dim=1)
        else:
            ei = torch.unique(ei, dim=1)
        M = _tensor(gcn_matrix(ei.clone(), n), "gcn_matrix").double()
        if M.shape != (n, n):
            raise ExerciseFailure(f"expected a ({n}, {n}) matrix, got {tuple(M.shape)}")
        e2, w2 = gcn_norm(ei, num_nodes=n, dtype=torch.float64)
        ref = torch.zeros(n, n, dtype=torch.float64).index_put_((e2[1], e2[0]), w2, accumulate=True)
        if not torch.allclose(M, ref, atol=1e-6):
            if torch.allclose(M, ref.t(), atol=1e-6):
                raise ExerciseFailure("on a directed graph your matrix is transposed: row i should collect the edges j -> i")
            if not torch.allclose(M.diagonal(), ref.diagonal(), atol=1e-6):
                raise ExerciseFailure("the diagonal is wrong: did you add the self-loops (A + I) before computing degrees?")
            raise ExerciseFailure(f"wrong entries on a {'directed' if directed else 'undirected'} graph with {n} nodes")


@exercise("5.3.3", "attention as a segment softmax")
def _edge_softmax(edge_softmax):
    """``edge_softmax(scores, index, n)``: per-target softmax of (E, H) scores, stable."""
    from ..message_passing import segment_softmax

    for n, E, H, scale in [(5, 20, 2, 1.0), (8, 30, 3, 1.0), (6, 25, 1, 1000.0)]:
        g = torch.Generator().manual_seed(E)
        index = torch.randint(0, n, (E,), generator=g)
        s = scale * torch.randn(E, H, generator=g, dtype=torch.float64)
        out = _tensor(edge_softmax(s.clone(), index.clone(), n), "edge_softmax")
        if out.shape != s.shape:
            raise ExerciseFailure(f"expected shape {tuple(s.shape)}, got {tuple(out.shape)}")
        if not torch.isfinite(out).all():
            raise ExerciseFailure(f"non-finite values for scores of size ~{scale:g}: subtract the segment maximum first")
        if not torch.allclose(out.double(), segment_softmax(s, index, n), atol=1e-8):
            raise ExerciseFailure(f"the coefficients should sum to one over the edges sharing a target (scores ~{scale:g}, {H} heads)")


def _graph_pair(pair, what: str):
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
        raise ExerciseFailure(f"{what} should return two graphs ((edge_index1, n1), (edge_index2, n2))")
    out = []
    for g in pair:
        if not (isinstance(g, (tuple, list)) and len(g) == 2):
            raise ExerciseFailure("each graph should be a pair (edge_index, num_nodes)")
        ei, n = torch.as_tensor(g[0]).long(), int(g[1])
        if ei.dim() != 2 or ei.size(0) != 2 or (ei.numel() and (ei.min() < 0 or ei.max() >= n)):
            raise ExerciseFailure("edge_index should be (2, E) with indices in [0, num_nodes)")
        out.append((ei, n))
    return out


def _nx(ei, n):
    import networkx as nx

    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_edges_from(ei.t().tolist())
    return G


@exercise("5.3.4", "a pair 1-WL cannot tell apart")
def _wl_hard_pair(wl_hard_pair):
    """``wl_hard_pair()``: two non-isomorphic graphs, other than C6 / two triangles, that 1-WL confuses."""
    import networkx as nx

    from ..graphs import wl_test

    (e1, n1), (e2, n2) = _graph_pair(wl_hard_pair(), "wl_hard_pair()")
    G1, G2 = _nx(e1, n1), _nx(e2, n2)
    if nx.is_isomorphic(G1, G2):
        raise ExerciseFailure("your two graphs are isomorphic: 1-WL is right not to separate them")
    if wl_test((e1, n1), (e2, n2)):
        raise ExerciseFailure("1-WL distinguishes your graphs (compare their degree sequences first)")
    c6, two_c3 = nx.cycle_graph(6), nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3))
    if {nx.is_isomorphic(G1, c6), nx.is_isomorphic(G2, c6)} == {True, False} and (
        nx.is_isomorphic(G1, two_c3) or nx.is_isomorphic(G2, two_c3)
    ):
        raise ExerciseFailure("that is the pair of the text: find another one")
    return f"{n1} nodes, {G1.number_of_edges()} and {G2.number_of_edges()} edges."


@exercise("5.3.5", "graphs a mean-aggregating GNN confuses but 1-WL does not")
def _mean_fails(mean_fails_pair):
    """``mean_fails_pair()``: two graphs with the same number of nodes, told apart by 1-WL, on which
    a mean-aggregation GNN with constant input features gives the same output."""
    from ..gnn import GraphClassifier
    from ..graphs import wl_test

    (e1, n1), (e2, n2) = _graph_pair(mean_fails_pair(), "mean_fails_pair()")
    if n1 != n2:
        raise ExerciseFailure("use graphs with the same number of nodes (otherwise counting nodes separates them)")
    if not wl_test((e1, n1), (e2, n2)):
        raise ExerciseFailure("1-WL cannot tell your graphs apart either: find a pair that it does separate")
    torch.manual_seed(0)
    for _ in range(3):
        model = GraphClassifier(1, 8, 4, num_layers=3, kind="mean").double().eval()
        with torch.no_grad():
            o1 = model(torch.ones(n1, 1, dtype=torch.float64), e1, torch.zeros(n1, dtype=torch.long))
            o2 = model(torch.ones(n2, 1, dtype=torch.float64), e2, torch.zeros(n2, dtype=torch.long))
        if not torch.allclose(o1, o2, atol=1e-9):
            raise ExerciseFailure("a random mean-aggregation GNN separates your graphs; what do all neighbourhoods look like "
                                  "when every node has the same number of neighbours?")


@exercise("5.3.6", "structural features beyond 1-WL")
def _structural_features(node_features):
    """``node_features(edge_index, n)``: (n, k) permutation-equivariant features that let 1-WL separate
    a 6-cycle from two triangles."""
    from ..graphs import ring_graph, wl_test
    from ..groups import SymmetricGroup, check_equivariance
    from ..graphs import permute_graph

    c6 = ring_graph(6)
    two_c3 = torch.cat([ring_graph(3), ring_graph(3) + 3], dim=1)
    f1 = _tensor(node_features(c6.clone(), 6), "node_features")
    f2 = _tensor(node_features(two_c3.clone(), 6), "node_features")
    if f1.dim() != 2 or f1.size(0) != 6:
        raise ExerciseFailure(f"expected one row of features per node, shape (6, k); got {tuple(f1.shape)}")
    if not wl_test((c6, 6, f1), (two_c3, 6, f2)):
        raise ExerciseFailure("with your features 1-WL still confuses the 6-cycle and two triangles")
    gen = torch.Generator().manual_seed(0)
    G_ei = torch.tensor([[0, 1, 1, 2, 2, 0, 2, 3, 3, 4, 4, 5, 5, 3, 0, 5], [1, 0, 2, 1, 0, 2, 3, 2, 4, 3, 5, 4, 3, 5, 5, 0]])
    for _ in range(5):
        p = torch.randperm(6, generator=gen)
        _, pe = permute_graph(p, None, G_ei)
        a = _tensor(node_features(pe, 6), "node_features").double()
        b = permute_graph(p, _tensor(node_features(G_ei, 6), "node_features").double(), None)[0]
        if a.shape != b.shape or not torch.allclose(a, b, atol=1e-8):
            raise ExerciseFailure("your features are not permutation equivariant: relabelling the nodes must permute the rows "
                                  "(node ids and random numbers are not allowed here)")


@exercise("5.3.7", "model selection at the best validation accuracy")
def _select(test_at_best_val):
    """``test_at_best_val(val_curve, test_curve)``: test accuracy at the first epoch of highest validation accuracy."""
    cases = [([0.1, 0.5, 0.4], [0.2, 0.6, 0.9], 0.6), ([0.3, 0.7, 0.7, 0.2], [0.1, 0.4, 0.8, 0.9], 0.4), ([0.5], [0.55], 0.55)]
    for val, test, expected in cases:
        got = test_at_best_val(list(val), list(test))
        if got is None or abs(float(got) - expected) > 1e-12:
            if abs(float(got or -1) - max(test)) < 1e-12:
                raise ExerciseFailure("you returned the best *test* accuracy: that peeks at the test set")
            raise ExerciseFailure(f"for val = {val} and test = {test} the answer should use the first epoch of best validation")


@exercise("5.3.8", "edge homophily")
def _homophily(edge_homophily):
    """``edge_homophily(edge_index, y)``: the fraction of edges whose two ends have the same label."""
    ei = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    y = torch.tensor([0, 0, 1, 1])
    cases = [(ei, y, 4 / 6), (ei, torch.tensor([0, 1, 0, 1]), 0.0), (ei, torch.zeros(4, dtype=torch.long), 1.0)]
    g = torch.Generator().manual_seed(3)
    ei2 = torch.randint(0, 30, (2, 100), generator=g)
    y2 = torch.randint(0, 3, (30,), generator=g)
    cases.append((ei2, y2, float((y2[ei2[0]] == y2[ei2[1]]).float().mean())))
    for e, lab, expected in cases:
        got = float(edge_homophily(e.clone(), lab.clone()))
        if abs(got - expected) > 1e-6:
            raise ExerciseFailure(f"expected {expected:.3f} on a graph with {e.size(1)} edges, got {got:.3f}")


@exercise("5.3.9", "SGC features by repeated propagation")
def _sgc(sgc_features):
    """``sgc_features(x, edge_index, K)``: A_hat^K x with A_hat from gcn_norm."""
    from ..gnn import SGConv

    for K, seed in [(0, 0), (1, 1), (3, 2)]:
        ei = _random_digraph(15, 40, seed)
        x = torch.randn(15, 4, generator=torch.Generator().manual_seed(seed))
        out = _tensor(sgc_features(x.clone(), ei.clone(), K), "sgc_features")
        layer = SGConv(4, 4, K=K, bias=False)
        with torch.no_grad():
            layer.lin.weight.copy_(torch.eye(4))
            ref = layer(x, ei)
        if out.shape != ref.shape or not torch.allclose(out, ref, atol=1e-5):
            raise ExerciseFailure(f"wrong features for K = {K} on a random graph (self-loops, symmetric normalisation, K steps)")
