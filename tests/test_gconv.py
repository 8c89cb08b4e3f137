"""Tests of gdlutils.gconv: exact p4 / p4m equivariance of every layer, references, shape errors."""
import pytest
import torch
from gdlutils.groups import CyclicGroup, DihedralGroup, P4Group
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlutils.gconv import (
    GroupBatchNorm,
    GroupConv2d,
    GroupPool,
    GroupSpatialPool2d,
    LiftingConv2d,
    act_on_group_map,
    group_filter_bank,
    group_order,
    lifting_filter_bank,
    point_group_elements,
)
from gdlutils.groups import (
    DihedralGroup,
    P4Group,
    act_on_image,
    check_equivariance,
    check_invariance,
    rotate_image,
    translate_image,
)

TOL = dict(atol=1e-10, rtol=1e-10)


def _elements(group):
    """All point-group elements, in the notation of gdlutils.groups' image actions."""
    return list(range(4)) if group == "p4" else DihedralGroup(4).elements()


def _act_img(group):
    return rotate_image if group == "p4" else act_on_image


def _act_map(group):
    return lambda g, y: act_on_group_map(g, y, group)


# ------------------------------------------------------------------------------ the action


@pytest.mark.parametrize("group", ["p4", "p4m"])
def test_act_on_group_map_is_a_group_action(group):
    D4 = DihedralGroup(4)
    y = torch.randn(2, 3, group_order(group), 5, 5)
    els = point_group_elements(group)
    for g in els:
        for h in els:
            lhs = act_on_group_map(g, act_on_group_map(h, y, group), group)
            rhs = act_on_group_map(D4.compose(g, h), y, group)
            assert torch.equal(lhs, rhs)
    assert torch.equal(act_on_group_map((0, 0), y, group), y)


def test_act_on_group_map_p4_is_rotate_and_roll():
    y = torch.randn(2, 3, 4, 6, 6)
    for r in range(4):
        expected = torch.roll(torch.rot90(y, r, dims=(-2, -1)), r, dims=-3)
        assert torch.equal(act_on_group_map(r, y, "p4"), expected)
        assert torch.equal(act_on_group_map((r, 0), y, "p4"), expected)


@pytest.mark.parametrize("mirror", [False, True])
def test_act_on_group_map_with_translations_is_an_action(mirror):
    group = "p4m" if mirror else "p4"
    G = P4Group(4, mirror=mirror)
    y = torch.randn(1, 2, group_order(group), 4, 4)
    gen = torch.Generator().manual_seed(0)
    for g, h in zip(G.sample(20, gen), G.sample(20, gen)):
        lhs = act_on_group_map(g, act_on_group_map(h, y, group), group)
        assert torch.equal(lhs, act_on_group_map(G.compose(g, h), y, group))


# ------------------------------------------------------------------------------ filter banks


@pytest.mark.parametrize("group", ["p4", "p4m"])
def test_filter_banks_match_modules(group):
    torch.manual_seed(0)
    lift = LiftingConv2d(2, 3, 3, group=group)
    bank = lifting_filter_bank(lift.weight, group)
    assert bank.shape == (3, group_order(group), 2, 3, 3)
    assert torch.equal(lift.expanded_weight(), bank.reshape(3 * group_order(group), 2, 3, 3))
    gc = GroupConv2d(2, 3, 5, group=group)
    bank = group_filter_bank(gc.weight, group)
    n = group_order(group)
    assert torch.equal(gc.expanded_weight(), bank.reshape(3 * n, 2 * n, 5, 5))


def test_lifting_equals_rotated_conv2d_reference():
    """Slot r of the lifting output is conv2d with the filter rotated r quarter turns."""
    torch.manual_seed(1)
    lift = LiftingConv2d(2, 3, 5).double()
    x = torch.randn(2, 2, 9, 9, dtype=torch.double)
    out = lift(x)
    for r in range(4):
        ref = F.conv2d(x, torch.rot90(lift.weight, r, dims=(-2, -1)), lift.bias, padding=2)
        assert torch.allclose(out[:, :, r], ref, atol=1e-12)


def test_group_conv_dense_reference():
    """Group correlation against its definition, summed over the group in plain Python."""
    torch.manual_seed(2)
    gc = GroupConv2d(2, 2, 3).double()
    y = torch.randn(1, 2, 4, 6, 6, dtype=torch.double)
    out = gc(y)
    for s in range(4):
        ref = 0
        for s_in in range(4):
            w = torch.rot90(gc.weight[:, :, (s_in - s) % 4], s, dims=(-2, -1))
            ref = ref + F.conv2d(y[:, :, s_in], w, padding=1)
        assert torch.allclose(out[:, :, s], ref + gc.bias.view(1, -1, 1, 1), atol=1e-12)


# ------------------------------------------------------------------------------ equivariance


@pytest.mark.parametrize("group", ["p4", "p4m"])
@pytest.mark.parametrize("size", [7, 8, 9])
@pytest.mark.parametrize("kernel", [1, 3, 5])
def test_lifting_and_group_conv_exactly_equivariant(group, size, kernel):
    torch.manual_seed(size + kernel)
    lift = LiftingConv2d(2, 3, kernel, group=group).double()
    gc = GroupConv2d(3, 2, kernel, group=group).double()
    x = torch.randn(2, 2, size, size, dtype=torch.double)
    check_equivariance(lift, _elements(group), x, _act_img(group), _act_map(group), **TOL)
    y = torch.randn(2, 3, group_order(group), size, size, dtype=torch.double)
    check_equivariance(gc, _elements(group), y, _act_map(group), **TOL)


@pytest.mark.parametrize("mirror", [False, True])
def test_full_p4_equivariance_on_the_torus(mirror):
    """With circular padding the layers commute with every element of p4 / p4m on a 5x5 torus."""
    group = "p4m" if mirror else "p4"
    torch.manual_seed(3)
    G = P4Group(5, mirror=mirror)
    net = torch.nn.Sequential(
        LiftingConv2d(1, 2, 3, group=group, padding_mode="circular"),
        GroupConv2d(2, 2, 3, group=group, padding_mode="circular"),
    ).double()
    x = torch.randn(1, 1, 5, 5, dtype=torch.double)
    report = check_equivariance(net, G, x, G.act, _act_map(group), **TOL)
    assert len(report.errors) == len(G)


@pytest.mark.parametrize("group", ["p4", "p4m"])
@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_other_padding_modes_equivariant(group, mode):
    torch.manual_seed(4)
    lift = LiftingConv2d(1, 2, 3, group=group, padding_mode=mode).double()
    x = torch.randn(1, 1, 7, 7, dtype=torch.double)
    check_equivariance(lift, _elements(group), x, _act_img(group), _act_map(group), **TOL)


@pytest.mark.parametrize("size,stride", [(9, 2), (7, 3)])
def test_strided_equivariant_when_grid_is_symmetric(size, stride):
    torch.manual_seed(5)
    lift = LiftingConv2d(1, 2, 3, stride=stride).double()
    x = torch.randn(1, 1, size, size, dtype=torch.double)
    check_equivariance(lift, range(4), x, rotate_image, _act_map("p4"), **TOL)


@pytest.mark.parametrize("group", ["p4", "p4m"])
def test_pooling_and_batchnorm_equivariant(group):
    torch.manual_seed(6)
    y = torch.randn(4, 3, group_order(group), 8, 8, dtype=torch.double)
    # group pooling: the H axis disappears, images still rotate
    for red in ("max", "mean"):
        check_equivariance(GroupPool(red, group), _elements(group), y, _act_map(group), _act_img(group), **TOL)
    check_equivariance(GroupSpatialPool2d(2), _elements(group), y, _act_map(group), **TOL)
    check_equivariance(GroupSpatialPool2d(2, "mean"), _elements(group), y, _act_map(group), **TOL)
    bn = GroupBatchNorm(3, group).double()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 2.0)
        bn.bias.normal_()
    bn.train()
    check_equivariance(bn, _elements(group), y, _act_map(group), atol=1e-9, rtol=1e-9)
    bn.eval()
    check_equivariance(bn, _elements(group), y, _act_map(group), **TOL)


def test_batchnorm_statistics_shared_over_group():
    y = torch.randn(5, 2, 4, 6, 6, dtype=torch.double) * 3 + 1
    out = GroupBatchNorm(2).double()(y)
    assert torch.allclose(out.mean(dim=(0, 2, 3, 4)), torch.zeros(2, dtype=torch.double), atol=1e-10)
    assert torch.allclose(out.var(dim=(0, 2, 3, 4), unbiased=False), torch.ones(2, dtype=torch.double), atol=1e-4)


@settings(max_examples=15, deadline=None)
@given(
    size=st.integers(3, 10),
    c_in=st.integers(1, 3),
    c_out=st.integers(1, 3),
    group=st.sampled_from(["p4", "p4m"]),
    seed=st.integers(0, 10_000),
)
def test_invariant_stack_property(size, c_in, c_out, group, seed):
    """lift -> group conv -> group pool -> global mean is invariant for any size and channels."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        LiftingConv2d(c_in, c_out, 3, group=group),
        torch.nn.ReLU(),
        GroupConv2d(c_out, c_out, 3, group=group),
        GroupPool("max", group),
    ).double()
    f = lambda x: net(x).mean(dim=(-2, -1))
    x = torch.randn(2, c_in, size, size, dtype=torch.double)
    check_invariance(f, _elements(group), x, _act_img(group), **TOL)


def test_gradients_flow_to_the_shared_weights():
    lift = LiftingConv2d(1, 2, 3)
    gc = GroupConv2d(2, 2, 3)
    gc(lift(torch.randn(2, 1, 6, 6))).sum().backward()
    assert lift.weight.grad is not None and lift.weight.grad.abs().sum() > 0
    assert gc.weight.grad.shape == gc.weight.shape and gc.bias.grad.shape == (2,)


# ------------------------------------------------------------------------------ errors


def test_shape_errors_are_clear():
    lift = LiftingConv2d(1, 2, 3)
    gc = GroupConv2d(2, 2, 3)
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        lift(torch.randn(2, 3, 8, 8))
    with pytest.raises(ValueError, match="GroupConv2d"):
        lift(torch.randn(2, 1, 4, 8, 8))
    with pytest.raises(ValueError, match=r"\(B, 2, 4, H, W\)"):
        gc(torch.randn(2, 2, 8, 8, 8))
    with pytest.raises(ValueError, match="LiftingConv2d"):
        gc(torch.randn(2, 2, 8, 8))
    with pytest.raises(ValueError, match="odd"):
        LiftingConv2d(1, 2, 4)
    with pytest.raises(ValueError, match="group must be"):
        GroupConv2d(1, 2, 3, group="p6")
    with pytest.raises(ValueError, match="padding_mode"):
        GroupConv2d(1, 2, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match=r"\(\.\.\., 8, H, W\)"):
        act_on_group_map((1, 0), torch.randn(1, 1, 4, 5, 5), "p4m")
    with pytest.raises(ValueError, match="H == W"):
        act_on_group_map(1, torch.randn(1, 1, 4, 5, 6), "p4")
    with pytest.raises(TypeError, match="p4m element"):
        act_on_group_map(1, torch.randn(1, 1, 8, 5, 5), "p4m")
    with pytest.raises(ValueError, match="divisible"):
        GroupSpatialPool2d(2)(torch.randn(1, 1, 4, 7, 7))
    with pytest.raises(ValueError, match=r"\(B, 3, 4, H, W\)"):
        GroupBatchNorm(3)(torch.randn(2, 3, 8, 5, 5))
    with pytest.raises(ValueError, match="group feature maps"):
        GroupPool()(torch.randn(2, 3, 5, 5))
    with pytest.raises(ValueError, match="square filters"):
        lifting_filter_bank(torch.randn(2, 1, 3, 5))



@pytest.mark.parametrize("group", ["p4", "p4m"])
def test_gradcheck_through_the_filter_bank(group):
    torch.manual_seed(7)
    x = torch.randn(1, 2, group_order(group), 5, 5, dtype=torch.double)
    layer = GroupConv2d(2, 2, 3, group=group).double()
    weight = layer.weight.detach().clone().requires_grad_(True)

    def f(w):
        return F.conv2d(x.reshape(1, -1, 5, 5), w.reshape(-1)[layer._bank_index], padding=1)

    assert torch.autograd.gradcheck(f, (weight,))


@pytest.mark.parametrize("name, obj", [("p4", P4Group(8)), ("p4m", P4Group(8, mirror=True)), ("p4", CyclicGroup(4)), ("p4m", DihedralGroup(4))])
def test_group_objects_and_names_are_interchangeable(name, obj):
    """gconv takes the group objects of gdlutils.groups as well as their names, and a P4Group
    element acts on group feature maps with the same encoding (r[, m], dy, dx)."""
    torch.manual_seed(3)
    a = LiftingConv2d(1, 2, 3, group=name)
    b = LiftingConv2d(1, 2, 3, group=obj)
    b.load_state_dict(a.state_dict())
    x = torch.randn(1, 1, 8, 8)
    assert b.group == name and torch.equal(a(x), b(x))
    assert group_order(obj) == group_order(name)
    y = torch.randn(1, 2, group_order(name), 8, 8, dtype=torch.double)
    if isinstance(obj, P4Group):
        for g in obj.sample(5, torch.Generator().manual_seed(0)):
            assert torch.equal(act_on_group_map(g, y, obj), act_on_group_map(g, y, name))
        # lifting correlation is equivariant with the P4Group's own elements and image action
        c = LiftingConv2d(1, 2, 3, group=obj, padding_mode="circular").double()
        check_equivariance(c, obj, x.double(), obj.act, lambda g, z: act_on_group_map(g, z, obj), samples=6, **TOL)
