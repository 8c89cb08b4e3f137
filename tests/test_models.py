"""Tests of gdlutils.models: shapes, parameter budgets, symmetry of each architecture."""
import pytest
import torch

from gdlutils.gconv import group_order
from gdlutils.groups import DihedralGroup, TranslationGroup2D, act_on_image, check_equivariance, check_invariance, rotate_image
from gdlutils.models import CNN, GCNN, MLP, P4CNN, P4MCNN, ResidualBlock, comparable_channels
from gdlutils.training import count_parameters


def test_shapes_and_errors():
    x = torch.randn(3, 1, 8, 8)
    for m in (MLP(64), CNN(), P4CNN(), P4MCNN()):
        assert m(x).shape == (3, 10)
    with pytest.raises(ValueError, match="64 input entries"):
        MLP(64)(torch.randn(3, 1, 9, 9))
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        CNN()(torch.randn(3, 2, 8, 8))
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        P4CNN()(torch.randn(3, 8, 8))


def test_comparable_parameter_counts():
    cnn = count_parameters(CNN(channels=(16, 32)))
    for group in ("p4", "p4m"):
        g = count_parameters(GCNN(channels=comparable_channels((16, 32), group), group=group))
        assert abs(g - cnn) / cnn < 0.15, (group, g, cnn)
    assert comparable_channels((16, 32), "p4") == (8, 16)


@pytest.mark.parametrize("group", ["p4", "p4m"])
@pytest.mark.parametrize("size", [8, 12])
def test_gcnn_exactly_invariant(group, size):
    torch.manual_seed(0)
    model = GCNN(channels=(4, 6, 8), group=group).double().eval()
    x = torch.randn(4, 1, size, size, dtype=torch.double)
    els = list(range(4)) if group == "p4" else DihedralGroup(4).elements()
    act = rotate_image if group == "p4" else act_on_image
    check_invariance(model, els, x, act, atol=1e-10, rtol=1e-10)


def test_cnn_is_not_rotation_invariant_but_circular_cnn_is_shift_invariant():
    torch.manual_seed(0)
    x = torch.randn(2, 1, 8, 8, dtype=torch.double)
    cnn = CNN(channels=(4, 8)).double().eval()
    report = check_invariance(cnn, [1], x, rotate_image, raise_error=False)
    assert not report.passed
    # circular padding, no pooling: invariant to every cyclic shift
    circ = CNN(channels=(4,), padding_mode="circular", residual_blocks=1).double().eval()
    check_invariance(circ, TranslationGroup2D(8), x, lambda g, x: torch.roll(x, g, dims=(-2, -1)), atol=1e-10, rtol=1e-10)


def test_residual_block_shift_equivariant():
    torch.manual_seed(0)
    block = ResidualBlock(3, padding_mode="circular").double().eval()
    x = torch.randn(2, 3, 6, 6, dtype=torch.double)
    G = TranslationGroup2D(6)
    check_equivariance(block, G, x, G.act, atol=1e-10, rtol=1e-10)
    with pytest.raises(ValueError, match="odd"):
        ResidualBlock(3, kernel_size=2)


@pytest.mark.parametrize("make", [lambda: CNN(1, 10, (4, 8), residual_blocks=1), lambda: GCNN(1, 10, (4, 4), group="p4")])
def test_reset_parameters_redraws_every_layer(make):
    torch.manual_seed(0)
    model = make()
    before = {k: v.clone() for k, v in model.state_dict().items() if v.is_floating_point()}
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0.123)
    model.reset_parameters()
    for name, p in model.named_parameters():
        assert not torch.all(p == 0.123), f"{name} was not reset"
        assert p.shape == before[name].shape
