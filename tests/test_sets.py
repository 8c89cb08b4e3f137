"""gdlutils.sets: Deep Sets and the Set Transformer blocks are permutation invariant /
equivariant (checked with gdlutils.groups), pooling equals a brute-force reference, the action
follows the book's convention, and bad input raises a clear error."""
import pytest
import torch

from gdlutils import blueprint
from gdlutils.groups import SymmetricGroup, check_equivariance, check_invariance
from gdlutils.sets import (
    ISAB, MAB, PMA, SAB, DeepSets, PermEquivariantLinear, SetTransformer, permute_set, set_blueprint,
    set_pool, stack_sets, to_dense_batch,
)

torch.manual_seed(0)


def test_one_home_for_blueprint_pieces():
    assert blueprint.PermEquivariantLinear is PermEquivariantLinear
    assert blueprint.set_blueprint is set_blueprint
    model = set_blueprint(3, graph=False)
    assert isinstance(model, blueprint.Blueprint)


def test_permute_set_convention():
    """perm[u] = pi(u) and (PX)[pi(u)] = X[u]; P_{pi sigma} = P_pi P_sigma."""
    x = torch.arange(5.0).view(5, 1)
    perm = torch.tensor([2, 0, 1, 4, 3])
    px = permute_set(perm, x)
    for u in range(5):
        assert px[perm[u], 0] == x[u, 0]
    P = torch.zeros(5, 5)
    P[perm, torch.arange(5)] = 1
    assert torch.equal(px, P @ x)
    sigma = torch.tensor([1, 2, 3, 4, 0])
    assert torch.equal(permute_set(perm[sigma], x), permute_set(perm, permute_set(sigma, x)))


def test_set_pool_against_loops():
    sets = [torch.randn(n, 3) for n in (1, 4, 7)]
    x, batch = stack_sets(sets)
    for reduce, f in (("sum", lambda s: s.sum(0)), ("mean", lambda s: s.mean(0)), ("max", lambda s: s.amax(0))):
        assert torch.allclose(set_pool(x, batch, reduce=reduce), torch.stack([f(s) for s in sets]), atol=1e-6)


def test_to_dense_batch():
    sets = [torch.randn(n, 2) for n in (2, 5, 3)]
    dense, mask = to_dense_batch(*stack_sets(sets))
    assert dense.shape == (3, 5, 2) and mask.sum().item() == 10
    for b, s in enumerate(sets):
        assert torch.equal(dense[b, : len(s)], s) and bool(mask[b, : len(s)].all()) and not bool(mask[b, len(s):].any())


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_deep_sets_invariant_and_not_trivial(reduce):
    torch.manual_seed(0)
    model = DeepSets(3, 16, 2, reduce=reduce).double()
    x = torch.randn(12, 3, dtype=torch.float64)
    check_invariance(model, SymmetricGroup(12), x, rho_in=permute_set, samples=20, atol=1e-12)
    # ... but it does see the set: moving its elements changes the output. (Moving one element
    # alone need not change a max-pooled output: that element may attain no channel's maximum,
    # which made an unseeded version of this test fail now and then.)
    assert (model(x + 1.0) - model(x)).abs().max() > 1e-6


def test_equivariant_linear_is_lambda_I_plus_gamma_11T():
    layer = PermEquivariantLinear(1, 1, graph=False).double()
    n = 6
    M = torch.stack([layer(e.view(n, 1)).view(n) - layer.own.bias for e in torch.eye(n, dtype=torch.float64)], 1)
    lam, gamma = layer.own.weight.item(), layer.mean.weight.item()
    assert torch.allclose(M, lam * torch.eye(n, dtype=torch.float64) + gamma / n * torch.ones(n, n, dtype=torch.float64))
    check_equivariance(lambda x: layer(x), SymmetricGroup(n), torch.randn(n, 1, dtype=torch.float64), rho_in=permute_set, atol=1e-12)


def test_set_transformer_blocks_symmetry():
    n = 9
    x = torch.randn(2, n, 4, dtype=torch.float64)
    S = SymmetricGroup(n)
    for block in (SAB(4, 8, 2), ISAB(4, 8, 2, num_inducing=3), MAB(4, 4, 8, 2, layer_norm=True)):
        block = block.double().eval()
        f = (lambda z, b=block: b(z, z)) if isinstance(block, MAB) else block
        check_equivariance(f, S, x, rho_in=permute_set, samples=10, atol=1e-10)
    pma = PMA(4, 2, num_seeds=2).double()
    check_invariance(pma, S, x, rho_in=permute_set, samples=10, atol=1e-10)
    model = SetTransformer(4, 8, 1).double()
    check_invariance(model, S, x, rho_in=permute_set, samples=10, atol=1e-10)


def test_set_transformer_mask_equals_unpadded():
    model = SetTransformer(1, 16, 1, num_heads=4).double().eval()
    sets = [torch.randn(n, 1, dtype=torch.float64) for n in (3, 7, 1)]
    dense, mask = to_dense_batch(*stack_sets(sets), fill_value=123.0)
    out = model(dense, mask)
    for b, s in enumerate(sets):
        assert torch.allclose(out[b], model(s.unsqueeze(0))[0], atol=1e-10)


def test_bad_input():
    sets = [torch.randn(3, 2), torch.randn(4, 2)]
    with pytest.raises(TypeError, match="batch vector"):
        set_pool(sets)
    with pytest.raises(TypeError, match="batch vector"):
        DeepSets(2, 4, 1)(sets)
    with pytest.raises(ValueError, match="reduce"):
        set_pool(torch.randn(3, 2), reduce="median")
    with pytest.raises(ValueError, match=r"\(N,\)"):
        set_pool(torch.randn(3, 2), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="sorted"):
        to_dense_batch(torch.randn(3, 2), torch.tensor([1, 0, 1]))
    with pytest.raises(ValueError, match="permutation"):
        permute_set(torch.tensor([0, 0, 1]), torch.randn(3, 2))
    with pytest.raises(TypeError, match="to_dense_batch"):
        SAB(2, 4, 2)(sets)
    with pytest.raises(ValueError, match="mask"):
        SAB(2, 4, 2)(torch.randn(2, 4, 2), torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="no element"):
        SAB(2, 4, 2)(torch.randn(2, 4, 2), torch.tensor([[True] * 4, [False] * 4]))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        DeepSets(2, 4, 1)(torch.randn(3, 5))
