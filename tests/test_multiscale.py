"""Tests of gdlutils.multiscale: Haar transforms, pooling and graph coarsening."""
import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlutils.multiscale import (
    coarsen_graph,
    haar_decompose,
    haar_decompose_2d,
    haar_reconstruct,
    haar_reconstruct_2d,
    haar_step,
    heavy_edge_matching,
    local_pool,
    pool_graph_signal,
    unpool_graph_signal,
    upsample,
)


def haar_matrix(n):
    """Dense orthonormal Haar matrix (rows: coarsest average, then details coarse to fine)."""
    if n == 1:
        return np.ones((1, 1))
    h = haar_matrix(n // 2)
    top = np.kron(h, [1, 1])
    bottom = np.kron(np.eye(n // 2), [1, -1])
    return np.vstack([top, bottom]) / math.sqrt(2)


def test_haar_against_dense_matrix():
    n = 16
    x = torch.randn(n, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    a, details = haar_decompose(x)
    coeffs = torch.cat([a] + details[::-1]).numpy()
    h = haar_matrix(n)
    assert np.allclose(h @ h.T, np.eye(n))
    assert np.allclose(coeffs, h @ x.numpy())


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_property_haar_perfect_reconstruction_and_energy(levels, seed):
    x = torch.randn(3, 2**levels * 3, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    a, d = haar_decompose(x, levels)
    assert torch.allclose(haar_reconstruct(a, d), x)
    energy = a.pow(2).sum() + sum(t.pow(2).sum() for t in d)
    assert torch.allclose(energy, x.pow(2).sum())
    img = torch.randn(2, 2**levels, 2 ** (levels + 1), dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    a2, d2 = haar_decompose_2d(img, levels)
    assert torch.allclose(haar_reconstruct_2d(a2, d2), img)
    energy = a2.pow(2).sum() + sum(t.pow(2).sum() for lvl in d2 for t in lvl)
    assert torch.allclose(energy, img.pow(2).sum())


def test_haar_2d_bands():
    img = torch.randn(8, 8, dtype=torch.float64)
    ll, [(lh, hl, hh)] = haar_decompose_2d(img, 1)
    assert torch.allclose(ll / 2, local_pool(img, 2, ndim=2))
    # a horizontal stripe pattern (varies along rows only) has no horizontal-difference or diagonal detail
    stripes = torch.tensor([1.0, -1.0] * 4, dtype=torch.float64)[:, None].expand(8, 8)
    _, [(lh, hl, hh)] = haar_decompose_2d(stripes, 1)
    assert lh.abs().max() > 1 and hl.abs().max() < 1e-12 and hh.abs().max() < 1e-12
    with pytest.raises(ValueError):
        haar_decompose_2d(torch.randn(6, 8), 2)
    with pytest.raises(ValueError):
        haar_decompose(torch.randn(12), 3)
    with pytest.raises(ValueError):
        haar_step(torch.randn(5))


def test_local_pool_against_torch():
    x = torch.randn(2, 3, 12, 8)
    assert torch.allclose(local_pool(x, 2, ndim=2), torch.nn.functional.avg_pool2d(x, 2))
    assert torch.allclose(local_pool(x, 4, ndim=2, reduce="max"), torch.nn.functional.max_pool2d(x, 4))
    y = torch.randn(2, 3, 12)
    assert torch.allclose(local_pool(y, 3), torch.nn.functional.avg_pool1d(y, 3))
    assert torch.allclose(local_pool(upsample(y, 3), 3), y)
    assert upsample(x, 2, ndim=2).shape == (2, 3, 24, 16)
    with pytest.raises(ValueError):
        local_pool(y, 5)
    with pytest.raises(ValueError):
        local_pool(y, 2, reduce="median")


def test_local_pool_equivariance_to_coarse_shifts():
    x = torch.randn(4, 24, dtype=torch.float64)
    for t in range(0, 24, 3):
        assert torch.allclose(local_pool(torch.roll(x, t, -1), 3), torch.roll(local_pool(x, 3), t // 3, -1))
    # but not for a shift that is not a multiple of the factor
    assert not torch.allclose(local_pool(torch.roll(x, 1, -1), 3), local_pool(x, 3))


def _is_matching(adj, labels):
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) > 2:
            return False
        if len(members) == 2 and adj[members[0], members[1]] == 0:
            return False
    return True


@pytest.mark.parametrize("graph", [nx.grid_2d_graph(6, 7), nx.karate_club_graph(), nx.cycle_graph(9)], ids=["grid", "karate", "cycle"])
def test_heavy_edge_matching_and_coarsening(graph):
    a = nx.to_numpy_array(graph, weight=None)
    labels = heavy_edge_matching(torch.tensor(a))
    assert _is_matching(a, labels)
    assert sorted(np.unique(labels)) == list(range(labels.max() + 1))
    c = coarsen_graph(torch.tensor(a), 3)
    sizes = c.sizes
    assert sizes[0] == len(a) and all(sizes[i + 1] < sizes[i] for i in range(3))
    assert all(sizes[i + 1] >= sizes[i] / 2 for i in range(3))
    for l in range(3):  # A' = S^T A S, dense reference; total weight is preserved
        s = c.assignments[l].toarray()
        assert np.allclose(c.adjacencies[l + 1].toarray(), s.T @ c.adjacencies[l].toarray() @ s)
        assert math.isclose(c.adjacencies[l + 1].sum(), a.sum())
    # coarsening keeps connectivity (the merged nodes are adjacent)
    g1 = nx.from_scipy_sparse_array(c.adjacencies[1])
    assert nx.number_connected_components(g1) == nx.number_connected_components(graph)
    assert c.assignment(2).shape == (len(a), sizes[2])


def test_edge_index_input_and_signal_pooling():
    g = nx.karate_club_graph()
    a = nx.to_numpy_array(g, weight=None)
    ei = torch.tensor(np.array(np.nonzero(a)))
    c1 = coarsen_graph(ei, 2, num_nodes=34)
    c2 = coarsen_graph(sp.csr_matrix(a), 2)
    assert c1.sizes == c2.sizes and all(np.array_equal(x, y) for x, y in zip(c1.labels, c2.labels))
    x = torch.randn(34, 3, dtype=torch.float64)
    lab = c1.labels[0]
    s = torch.tensor(c1.assignments[0].toarray())
    assert torch.allclose(pool_graph_signal(x, lab, "sum"), s.T @ x)
    assert torch.allclose(pool_graph_signal(x, c1.assignments[0], "mean"), (s.T @ x) / s.sum(0)[:, None])
    mx = pool_graph_signal(x, lab, "max")
    for k in range(s.shape[1]):
        assert torch.allclose(mx[k], x[s[:, k] > 0].max(0).values)
    assert torch.allclose(unpool_graph_signal(pool_graph_signal(x, lab), lab), s @ ((s.T @ x) / s.sum(0)[:, None]))
    with pytest.raises(ValueError):
        coarsen_graph(torch.tensor([[0.0, 1.0], [0.0, 0.0]]))  # not symmetric
    with pytest.raises(ValueError):
        pool_graph_signal(x, lab[:-1])
