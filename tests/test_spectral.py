"""gdlutils.spectral against dense eigendecompositions and torch_geometric.nn.ChebConv."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch_geometric.nn import ChebConv as PygChebConv

from gdlutils import graphs as G
from gdlutils import spectral as S


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item()


@pytest.mark.parametrize("norm", ["sym", "rw", None])
@pytest.mark.parametrize("K", [1, 2, 3, 6])
@pytest.mark.parametrize("weighted", [False, True])
def test_chebconv_matches_pyg(norm, K, weighted):
    torch.manual_seed(K)
    n, E = 40, 200
    ei = torch.randint(n, (2, E))  # directed, with self-loops and duplicates
    w = torch.rand(E) + 0.1 if weighted else None
    x = torch.randn(n, 5, requires_grad=True)
    ref = PygChebConv(5, 3, K, normalization=norm)
    torch.nn.init.normal_(ref.bias)
    ours = S.ChebConv(5, 3, K, normalization=norm)
    ours.load_state_dict(ref.state_dict())
    lam = 2.5 if norm == "rw" else None  # None: PyG default 2 max(L) (a bound on the spectrum)
    a, b = ref(x, ei, w, lambda_max=lam), ours(x, ei, w, lam)
    assert rel(b, a) < 1e-5
    ga = torch.autograd.grad(a.square().sum(), [x, *ref.parameters()])
    gb = torch.autograd.grad(b.square().sum(), [x, *ours.parameters()])
    for u, v in zip(gb, ga):
        assert rel(u, v) < 1e-5


def test_chebconv_batch_lambda_and_cache_and_edge_weight_grad():
    torch.manual_seed(0)
    ei = torch.cat([G.ring_graph(6), G.grid_graph(2, 3) + 6], 1)
    batch = torch.tensor([0] * 6 + [1] * 6)
    x = torch.randn(12, 4)
    ref = PygChebConv(4, 2, 4)
    ours = S.ChebConv(4, 2, 4, cached=True)
    ours.load_state_dict(ref.state_dict())
    lam = torch.tensor([1.5, 3.0])
    assert rel(ours(x, ei, None, lam, batch=batch), ref(x, ei, batch=batch, lambda_max=lam)) < 1e-5
    # cached: the Laplacian of the first call is reused
    ours2 = S.ChebConv(4, 2, 4, cached=True)
    ours2.load_state_dict(ref.state_dict())
    y1 = ours2(x, ei)
    assert torch.equal(ours2(x, ei[:, :3]), y1)
    ours2.reset_parameters()
    assert ours2._cache is None
    # gradients w.r.t. edge weights (slow path) agree with PyG
    w = torch.rand(ei.size(1), requires_grad=True)
    a = ref(x, ei, w).square().sum()
    b = ours(x, ei, w).square().sum()
    assert rel(torch.autograd.grad(b, w)[0], torch.autograd.grad(a, w)[0]) < 1e-5


def test_chebconv_gradcheck_double():
    torch.manual_seed(1)
    ei = torch.randint(8, (2, 20))
    conv = S.ChebConv(3, 2, 4, normalization="rw").double()
    x = torch.randn(8, 3, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: conv(x, ei, None, 3.0), (x,))


def test_chebconv_bad_input():
    with pytest.raises(ValueError, match="K must be"):
        S.ChebConv(3, 3, 0)
    conv = S.ChebConv(3, 3, 2)
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        conv(torch.randn(5, 4), G.ring_graph(5))
    with pytest.raises(ValueError, match="num_nodes = 5"):
        conv(torch.randn(5, 3), torch.tensor([[0, 7], [1, 2]]))


def test_gft_and_spectral_filter():
    ei = G.ring_graph(16)
    lam, U = S.laplacian_eigh(ei)
    # the ring's Laplacian eigenvalues are 2 - 2 cos(2 pi k / n)
    ref = np.sort(2 - 2 * np.cos(2 * np.pi * np.arange(16) / 16))
    assert np.allclose(lam.numpy(), ref, atol=1e-10)
    x = torch.randn(16, 3, dtype=torch.double)
    assert torch.allclose(S.igft(S.gft(x, U), U), x)
    assert torch.allclose(S.gft(x, U).norm(), x.norm())  # Parseval
    L = G.laplacian(ei).double()
    assert torch.allclose(S.spectral_filter(x, lam, U, lambda l: l), L @ x)
    heat = S.spectral_filter(x, lam, U, S.heat_filter(0.7))
    assert torch.allclose(heat, torch.linalg.matrix_exp(-0.7 * L) @ x)
    assert S.dirichlet_energy(heat, ei) < S.dirichlet_energy(x, ei)
    assert torch.allclose(S.dirichlet_energy(x[:, 0], ei), x[:, 0] @ L @ x[:, 0])


def test_sparse_eigsh_matches_dense():
    ei = G.grid_graph(8, 9)
    lam, U = S.laplacian_eigh(ei, normalization="sym")
    lam_k, U_k = S.laplacian_eigh(ei, normalization="sym", k=6)
    assert np.allclose(lam_k.numpy(), lam[:6].numpy(), atol=1e-8)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 7), st.integers(0, 1000))
def test_chebyshev_filter_equals_spectral_polynomial(K, seed):
    g = torch.Generator().manual_seed(seed)
    n = 12
    ei = G.to_undirected(torch.randint(n, (2, 20), generator=g), n)
    ei = ei[:, ei[0] != ei[1]]
    theta = torch.randn(K, generator=g, dtype=torch.double)
    x = torch.randn(n, 2, generator=g, dtype=torch.double)
    lam, U = S.laplacian_eigh(ei, n, normalization="sym")

    def g_of(l):
        t = (l - 1.0).clamp(-1, 1)  # lambda_max = 2
        return sum(th * torch.cos(k * torch.arccos(t)) for k, th in enumerate(theta))

    out = S.chebyshev_filter(x, ei, theta)
    assert torch.allclose(out, S.spectral_filter(x, lam, U, g_of), atol=1e-10)
    # permutation equivariance of the filter
    perm = torch.randperm(n, generator=g)
    x2, ei2 = G.permute_graph(perm, x, ei)
    assert torch.allclose(S.chebyshev_filter(x2, ei2, theta), G.graph_action(perm, out), atol=1e-10)


def test_chebyshev_coefficients_interpolate():
    theta = S.chebyshev_coefficients(lambda l: np.exp(-2 * l), 12)
    l = np.linspace(0, 2, 50)
    approx = sum(t * np.cos(k * np.arccos(l - 1)) for k, t in enumerate(theta.numpy()))
    assert np.abs(approx - np.exp(-2 * l)).max() < 1e-8
    # exact for polynomials of degree < K
    theta = S.chebyshev_coefficients(lambda l: 3 * l**2 - l, 3)
    approx = sum(t * np.cos(k * np.arccos(l - 1)) for k, t in enumerate(theta.numpy()))
    assert np.allclose(approx, 3 * l**2 - l)


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 12), st.integers(1, 5), st.integers(0, 1000))
def test_chebconv_permutation_equivariant(n, K, seed):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    ei = torch.randint(n, (2, 3 * n), generator=g)
    x = torch.randn(n, 3, generator=g, dtype=torch.double)
    conv = S.ChebConv(3, 2, K).double()
    perm = torch.randperm(n, generator=g)
    x2, ei2 = G.permute_graph(perm, x, ei)
    assert torch.allclose(conv(x2, ei2), G.graph_action(perm, conv(x, ei)), atol=1e-10)
    # a matrix of coefficients per order gives the layer without bias
    theta = torch.stack([lin.weight.T for lin in conv.lins])
    assert torch.allclose(S.chebyshev_filter(x, ei, theta), conv(x, ei) - conv.bias, atol=1e-10)
