"""gdlutils.graphs against networkx, scipy and PyG, plus permutation properties."""
import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch_geometric.utils import get_laplacian, to_dense_adj

from gdlutils import graphs as G


def random_graph(n=12, p=0.3, seed=0, weighted=False):
    nxg = nx.gnp_random_graph(n, p, seed=seed)
    rng = np.random.default_rng(seed)
    if weighted:
        for u, v in nxg.edges:
            nxg[u][v]["weight"] = float(rng.uniform(0.5, 2.0))
    return nxg


@pytest.mark.parametrize("weighted", [False, True])
def test_matrices_match_networkx(weighted):
    nxg = random_graph(15, 0.35, seed=1, weighted=weighted)
    ei, w, n = G.from_networkx(nxg)
    assert (w is not None) == weighted
    A = G.adjacency(ei, n, w).double()
    assert np.allclose(A.numpy(), nx.to_numpy_array(nxg, nodelist=range(n)))
    L = G.laplacian(ei, n, w).double()
    assert np.allclose(L.numpy(), nx.laplacian_matrix(nxg, nodelist=range(n)).toarray())
    Ls = G.laplacian(ei, n, w, "sym").double()
    iso = [u for u in nxg if nxg.degree(u) == 0]
    ref = nx.normalized_laplacian_matrix(nxg, nodelist=range(n)).toarray()
    ref[iso, iso] = 1.0  # networkx puts 0 on isolated nodes, we (and PyG) put 1
    assert np.allclose(Ls.numpy(), ref, atol=1e-6)
    deg = G.weighted_degree(ei, n, w)
    assert np.allclose(deg.numpy(), [d for _, d in nxg.degree(weight="weight" if weighted else None)])


@pytest.mark.parametrize("norm", [None, "sym", "rw"])
def test_laplacian_matches_pyg_and_formats_agree(norm):
    torch.manual_seed(0)
    n = 20
    ei = torch.randint(n, (2, 80))
    ei = ei[:, ei[0] != ei[1]]  # PyG drops self-loops, we keep them in A (they cancel in D - A only)
    w = torch.rand(ei.size(1))
    ours = G.laplacian(ei, n, w, norm)
    pei, pw = get_laplacian(ei, w, normalization=norm, num_nodes=n)
    ref = to_dense_adj(pei, edge_attr=pw, max_num_nodes=n)[0]
    assert torch.allclose(ours, ref, atol=1e-6)
    sp_ = G.laplacian(ei, n, w, norm, format="scipy").toarray()
    ts = G.laplacian(ei, n, w, norm, format="torch_sparse").to_dense()
    assert np.allclose(sp_, ours.numpy(), atol=1e-6) and torch.allclose(ts, ours, atol=1e-6)
    if norm == "rw":  # L_rw = D^-1 L
        deg = G.weighted_degree(ei, n, w)
        Lc = G.laplacian(ei, n, w)
        assert torch.allclose(ours[deg > 0], (Lc / deg[:, None])[deg > 0], atol=1e-6)


def test_isolated_nodes_and_spectrum():
    ei = G.ring_graph(6)
    L = G.laplacian(ei, 8, normalization="sym")
    assert L[6, 6] == 1 and L[7, 7] == 1  # isolated nodes
    lam = torch.linalg.eigvalsh(G.laplacian(G.grid_graph(4, 5), normalization="sym").double())
    assert lam.min() > -1e-10 and lam.max() < 2 + 1e-10


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 9), st.integers(0, 10_000))
def test_laplacian_permutation_equivariant(n, seed):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(n, (2, 3 * n), generator=g)
    x = torch.randn(n, 2, generator=g)
    perm = G.random_permutation(n, g)
    x2, ei2 = G.permute_graph(perm, x, ei)
    P = torch.eye(n)[:, perm]  # P[perm[u], u] = 1
    for norm in (None, "sym", "rw"):
        L, L2 = G.laplacian(ei, n, normalization=norm), G.laplacian(ei2, n, normalization=norm)
        assert torch.allclose(L2, P @ L @ P.T, atol=1e-6)
    assert torch.allclose(x2, P @ x)
    xd, A2 = G.permute_dense(perm, x, G.adjacency(ei, n))
    assert torch.equal(A2, G.adjacency(ei2, n)) and torch.equal(xd, x2)
    # WL colours are permutation-equivariant
    assert torch.equal(G.wl_colors(ei2, n)[perm], G.wl_colors(ei, n))


def test_conversions_roundtrip():
    nxg = nx.karate_club_graph()
    ei, w, n = G.from_networkx(nxg)
    back = G.to_networkx(ei, n)
    assert nx.is_isomorphic(back, nx.Graph(nxg)) and back.number_of_edges() == nxg.number_of_edges()
    data = G.to_pyg(ei, torch.ones(n, 1), edge_weight=w, y=torch.zeros(n))
    ei2, w2, n2 = G.from_pyg(data)
    assert torch.equal(ei2, ei) and torch.equal(w2, w) and n2 == n
    assert torch.equal(G.to_undirected(ei[:, ei[0] < ei[1]], n), G.to_undirected(ei, n))
    D = G.to_networkx(torch.tensor([[0, 1], [1, 2]]), 3, directed=True)
    assert isinstance(D, nx.DiGraph) and D.has_edge(0, 1) and not D.has_edge(1, 0)


def test_bad_input_raises_clearly():
    with pytest.raises(ValueError, match=r"shape \(2, E\)"):
        G.adjacency(torch.zeros(3, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="num_nodes = 3"):
        G.laplacian(torch.tensor([[0, 5], [1, 2]]), 3)
    with pytest.raises(TypeError, match="integers"):
        G.adjacency(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="normalization"):
        G.laplacian(G.ring_graph(4), normalization="left")
    with pytest.raises(ValueError, match="edge_weight"):
        G.adjacency(G.ring_graph(4), edge_weight=torch.ones(3))
    with pytest.raises(ValueError, match="permutation"):
        G.permute_graph(torch.tensor([0, 0, 1, 2]), None, G.ring_graph(4))


def test_wl_known_pairs():
    c6 = (G.ring_graph(6), 6)
    two_triangles = (torch.cat([G.ring_graph(3), G.ring_graph(3) + 3], 1), 6)
    assert not G.wl_test(c6, two_triangles)  # the classic 1-WL failure
    assert G.wl_test(nx.path_graph(5), nx.star_graph(4))
    assert not G.wl_test(nx.petersen_graph(), nx.petersen_graph())
    # node features break the tie
    x1 = torch.tensor([[1.0], [0], [0], [0], [0], [0]])
    assert G.wl_test((*c6, x1), (*two_triangles, x1))
    # regular graphs: one colour; path: symmetric colours
    assert len(set(G.wl_colors(*c6).tolist())) == 1
    col = G.wl_colors(*G.from_networkx(nx.path_graph(5))[::2]).tolist()
    assert col == col[::-1] and len(set(col)) == 3
    # canonical palette: the same graph numbered differently gets the same histogram
    ei, _, n = G.from_networkx(nx.karate_club_graph())
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    _, ei2 = G.permute_graph(perm, None, ei, num_nodes=n)
    assert G.wl_histogram(G.wl_colors(ei, n, iterations=3)) == G.wl_histogram(G.wl_colors(ei2, n, iterations=3))


def test_wl_agrees_with_networkx_hash():
    atlas = [g for g in nx.graph_atlas_g() if g.number_of_nodes() == 6][::7]
    rng = np.random.default_rng(0)
    for _ in range(60):
        a, b = rng.choice(len(atlas), 2, replace=False)
        g1, g2 = atlas[a], atlas[b]
        same_hash = nx.weisfeiler_lehman_graph_hash(g1, iterations=6) == nx.weisfeiler_lehman_graph_hash(g2, iterations=6)
        assert G.wl_test(g1, g2) == (not same_hash)


def test_generators():
    assert G.ring_graph(7).shape == (2, 14)
    nxg = G.to_networkx(G.grid_graph(3, 4), 12)
    assert nx.is_isomorphic(nxg, nx.grid_2d_graph(3, 4))
    assert G.grid_graph(4, 5, periodic=True).shape[1] == 2 * 2 * 20
    t = G.to_networkx(G.tree_graph(3, 2), 15)
    assert nx.is_tree(t) and t.number_of_nodes() == 15
    ei, x, y = G.sbm_graph([30, 30], 0.5, 0.02, num_features=4, seed=0)
    assert x.shape == (60, 4) and y.shape == (60,)
    same = (y[ei[0]] == y[ei[1]]).float().mean()
    assert same > 0.8  # mostly intra-block edges
    assert torch.equal(G.to_undirected(ei, 60), G.to_undirected(ei.flip(0), 60))


def test_permutation_convention_and_homomorphism():
    """P[pi(u), u] = 1: node u moves to pi(u); acting with h then g equals acting with g o h
    (compose(g, h) = g[h]), i.e. the action is a left action (a homomorphism)."""
    n = 6
    g = torch.Generator().manual_seed(3)
    ei = torch.randint(n, (2, 15), generator=g)
    x = torch.randn(n, 2, generator=g)
    A = G.adjacency(ei, n)
    p, q = G.random_permutation(n, g), G.random_permutation(n, g)
    P = torch.zeros(n, n)
    P[p, torch.arange(n)] = 1
    px, pa = G.permute_dense(p, x, A)
    assert torch.equal(px, P @ x) and torch.equal(pa, P @ A @ P.T)
    assert torch.equal(px[p], x)  # (PX)[pi(u)] = X[u]
    # the edge (j, i) becomes (pi(j), pi(i))
    assert torch.equal(G.permute_graph(p, None, ei)[1], p[ei])
    # homomorphism: rho(p) rho(q) = rho(p o q)
    y1 = G.permute_graph(p, *G.permute_graph(q, x, ei))
    y2 = G.permute_graph(p[q], x, ei)
    assert torch.equal(y1[0], y2[0]) and torch.equal(y1[1], y2[1])
    d1 = G.permute_dense(p, *G.permute_dense(q, x, A))
    d2 = G.permute_dense(p[q], x, A)
    assert torch.equal(d1[0], d2[0]) and torch.equal(d1[1], d2[1])
    # graph_action: tuples and node signals
    px2, pe2, w = G.graph_action(p, (x, ei, torch.ones(15)))
    assert torch.equal(px2, px) and torch.equal(pe2, p[ei]) and torch.equal(w, torch.ones(15))
    assert torch.equal(G.graph_action(p, x), px)


def test_generators_validate_and_sbm_seed():
    a = G.sbm_graph([5, 6], 0.5, 0.1, seed=7)[0]
    b = G.sbm_graph([5, 6], 0.5, 0.1, seed=7)[0]
    assert torch.equal(a, b)
    assert G.ring_graph(torch.tensor(5)).shape == (2, 10)  # a 0-d integer tensor is an integer
