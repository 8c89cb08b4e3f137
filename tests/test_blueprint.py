"""Tests of gdlutils.blueprint: each block's equivariance, the assembled models' invariance."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlutils.blueprint import (
    CyclicConv,
    GlobalPool,
    GroupConv,
    LocalPool,
    PermEquivariantLinear,
    Pointwise,
    equivariant_basis,
    grid_blueprint,
    group_blueprint,
    set_blueprint,
)
from gdlutils.groups import (
    CyclicGroup,
    DihedralGroup,
    SymmetricGroup,
    TranslationGroup2D,
    check_equivariance,
    check_invariance,
    permutation_matrix,
    regular_action,
    regular_representation,
    translate_image,
)


def shift(g, x):
    return torch.roll(x, g, dims=-1)


def test_cyclic_conv_is_equivariant_and_matches_circulant():
    torch.manual_seed(0)
    conv = CyclicConv(2, 3, 5)
    x = torch.randn(4, 2, 16)
    check_equivariance(conv, CyclicGroup(16), x, shift)
    conv2 = CyclicConv(1, 2, 3, ndim=2)
    check_equivariance(conv2, TranslationGroup2D(8), torch.randn(2, 1, 8, 8), translate_image, samples=20)
    # dense reference: y_o(u) = sum_i sum_v w[o,i,v] x_i(u + v - 2) + b
    w, b = conv.conv.weight.detach(), conv.conv.bias.detach()
    ref = torch.stack([sum(w[:, :, v, None] * torch.roll(x, -(v - 2), -1)[:, None] for v in range(5)).sum(2)])[0] + b[:, None]
    assert torch.allclose(conv(x), ref, atol=1e-5)
    with pytest.raises(ValueError):
        CyclicConv(1, 1, 4)
    with pytest.raises(ValueError):
        conv(torch.randn(4, 3, 16))


@pytest.mark.parametrize("group", [CyclicGroup(6), DihedralGroup(4), SymmetricGroup(3)], ids=repr)
def test_group_conv_equivariant(group):
    torch.manual_seed(0)
    layer = GroupConv(group, 2, 3)
    x = torch.randn(5, 2, len(group))
    rho = regular_action(group)
    check_equivariance(layer, group, x, rho)
    # the regular action is the regular representation
    g = group.elements()[1]
    assert torch.allclose(rho(g, x), x @ regular_representation(group)(g).T.float())


def test_group_conv_on_cyclic_is_circular_convolution():
    torch.manual_seed(1)
    layer = GroupConv(CyclicGroup(8), 1, 1, bias=False)
    x = torch.randn(1, 1, 8)
    psi = layer.weight.detach()[0, 0]
    ref = torch.stack([sum(psi[(h - g) % 8] * x[0, 0, h] for h in range(8)) for g in range(8)])
    assert torch.allclose(layer(x)[0, 0], ref, atol=1e-6)


def _random_adjacency(n: int, p: float) -> torch.Tensor:
    """A random undirected simple graph (symmetric 0/1, empty diagonal), from the global seed."""
    a = torch.triu((torch.rand(n, n) < p).float(), 1)
    return a + a.T


def test_perm_layer_equivariant():
    torch.manual_seed(0)
    n = 9
    s = SymmetricGroup(n)
    a = _random_adjacency(n, 0.3)
    x = torch.randn(n, 4)
    layer = PermEquivariantLinear(4, 5)
    check_equivariance(layer, s, (x, a), s.permute_graph, s.permute_rows, samples=30)
    set_layer = PermEquivariantLinear(4, 5, graph=False)
    check_equivariance(set_layer, s, x, s.permute_rows, samples=30)
    with pytest.raises(ValueError):
        layer(x)


def test_pooling_blocks():
    x = torch.randn(2, 3, 8)
    assert torch.equal(Pointwise()(x), torch.relu(x))
    assert LocalPool(2)(x).shape == (2, 3, 4)
    check_invariance(GlobalPool((-1,), "max"), CyclicGroup(8), x, shift)
    with pytest.raises(ValueError):
        GlobalPool(reduce="median")


@pytest.mark.parametrize("ndim", [1, 2])
def test_grid_blueprint_invariance(ndim):
    torch.manual_seed(0)
    model = grid_blueprint(1, (4, 8), 2, ndim=ndim)
    if ndim == 1:
        x = torch.randn(3, 1, 16)
        rep = check_invariance(model, CyclicGroup(16), x, shift, raise_error=False)
        errs = dict(rep.errors)
        assert all(errs[t] < 1e-5 for t in range(0, 16, 2))  # pooling by 2: even shifts are exact
        assert max(errs[t] for t in range(1, 16, 2)) > 1e-4  # odd shifts are not
        check_invariance(grid_blueprint(1, (4, 8), 2, pool_factor=1), CyclicGroup(16), x, shift)
    else:
        x = torch.randn(2, 1, 8, 8)
        even = [(dy, dx) for dy in range(0, 8, 2) for dx in range(0, 8, 2)]
        check_invariance(model, even, x, translate_image)
    assert model(x).shape[-1] == 2


def test_set_and_group_blueprints():
    torch.manual_seed(0)
    n = 7
    s = SymmetricGroup(n)
    a = _random_adjacency(n, 0.4)
    x = torch.randn(n, 3)
    model = set_blueprint(3)
    check_invariance(model, s, (x, a), s.permute_graph, samples=40)
    d4 = DihedralGroup(4)
    gm = group_blueprint(d4, 2, (4, 4), 3)
    f = torch.randn(5, 2, 8)
    check_invariance(gm, d4, f, regular_action(d4))
    assert gm(f).shape == (5, 3)
    gm.reset_parameters()


@settings(max_examples=10, deadline=None)
@given(st.integers(2, 7))
def test_property_equivariant_basis_dimensions(n):
    c = CyclicGroup(n)
    basis = equivariant_basis(c, regular_representation(c), generators=[1])
    assert basis.shape == (n, n, n)  # circulant matrices
    rho = regular_representation(c)
    for w in basis:
        assert torch.allclose(rho(1) @ w, w @ rho(1), atol=1e-10)


def test_equivariant_basis_permutations():
    s = SymmetricGroup(4)
    p = lambda g: permutation_matrix(g)
    gens = [torch.tensor([1, 0, 2, 3]), torch.tensor([1, 2, 3, 0])]  # generate S_4
    assert equivariant_basis(s, p).shape[0] == 2  # a I + b 1 1^T (DeepSets), all 24 elements
    assert equivariant_basis(s, p, generators=gens).shape[0] == 2  # generators suffice
    assert equivariant_basis(s, lambda g: torch.kron(p(g), p(g)), generators=gens).shape[0] == 15  # Maron et al.
    d4 = DihedralGroup(4)
    assert equivariant_basis(d4, regular_representation(d4)).shape[0] == 8  # group convolutions
    # invariant maps (trivial output rep): one per orbit of the input action
    triv = lambda g: torch.ones(1, 1, dtype=torch.float64)
    assert equivariant_basis(s, p, triv).shape[0] == 1
