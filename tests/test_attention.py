"""gdlutils.attention: MultiheadAttention and TransformerEncoderLayer equal their torch.nn
counterparts given the same weights (with and without masks, both the readable message-passing
form and the fast dense form), self-attention is permutation equivariant and positional
encodings break that, and bad input raises a clear error."""
import math

import networkx as nx
import pytest
import torch

from gdlutils.attention import (
    MultiheadAttention, TransformerEncoderLayer, attention_message_passing, complete_graph,
    laplacian_encoding, random_sign_flip, random_walk_encoding, sinusoidal_encoding,
)
from gdlutils.graphs import from_networkx, laplacian
from gdlutils.groups import SymmetricGroup, check_equivariance
from gdlutils.sets import permute_set

B, L, S, E, H = 3, 5, 7, 8, 2


def pair(fast, kdim=None, batch_first=True, bias=True, seed=0):
    torch.manual_seed(seed)
    ref = torch.nn.MultiheadAttention(E, H, kdim=kdim, vdim=kdim, batch_first=batch_first, bias=bias).double().eval()
    ours = MultiheadAttention(E, H, kdim=kdim, vdim=kdim, batch_first=batch_first, bias=bias, fast=fast).double().eval()
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def masks(kind, g):
    attn, pad = None, None
    if kind in ("attn", "both"):
        attn = torch.rand(L, S, generator=g) < 0.5
        attn[:, 0] = False  # every query keeps one key
    if kind in ("pad", "both"):
        pad = torch.rand(B, S, generator=g) < 0.4
        pad[:, 0] = False
    if kind == "perhead":
        attn = torch.rand(B * H, L, S, generator=g) < 0.5
        attn[..., 1] = False
    if kind == "float":
        attn = torch.randn(L, S, generator=g, dtype=torch.float64)
    return attn, pad


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("kind", ["none", "attn", "pad", "both", "perhead", "float"])
@pytest.mark.parametrize("kdim", [None, 3])
def test_equals_torch(fast, kind, kdim):
    ours, ref = pair(fast, kdim)
    g = torch.Generator().manual_seed(1)
    q = torch.randn(B, L, E, generator=g, dtype=torch.float64)
    k = torch.randn(B, S, kdim or E, generator=g, dtype=torch.float64)
    v = torch.randn(B, S, kdim or E, generator=g, dtype=torch.float64)
    attn, pad = masks(kind, g)
    for avg in (True, False):
        a, wa = ours(q, k, v, key_padding_mask=pad, attn_mask=attn, average_attn_weights=avg)
        b, wb = ref(q, k, v, key_padding_mask=pad, attn_mask=attn, average_attn_weights=avg)
        assert (a - b).abs().max() < 1e-6 and (wa - wb).abs().max() < 1e-6
    a, none = ours(q, k, v, key_padding_mask=pad, attn_mask=attn, need_weights=False)
    assert none is None and (a - b).abs().max() < 1e-6


@pytest.mark.parametrize("fast", [True, False])
def test_sequence_first_unbatched_and_gradients(fast):
    ours, ref = pair(fast, batch_first=False, bias=False)
    x = torch.randn(L, B, E, dtype=torch.float64, requires_grad=True)
    a, b = ours(x, x, x)[0], ref(x, x, x)[0]
    assert (a - b).abs().max() < 1e-6
    ga = torch.autograd.grad(a.pow(2).sum(), [x, ours.in_proj_weight])
    gb = torch.autograd.grad(b.pow(2).sum(), [x, ref.in_proj_weight])
    assert all((u - w).abs().max() < 1e-6 for u, w in zip(ga, gb))
    x1 = torch.randn(L, E, dtype=torch.float64)
    assert (ours(x1, x1, x1)[0] - ref(x1, x1, x1)[0]).abs().max() < 1e-6
    causal = torch.ones(L, L, dtype=torch.bool).triu(1)
    assert (ours(x1, x1, x1, attn_mask=causal)[0] - ref(x1, x1, x1, attn_mask=causal)[0]).abs().max() < 1e-6


def test_fast_equals_readable_in_training_without_dropout():
    fast, _ = pair(True)
    slow, _ = pair(False)
    fast.train(), slow.train()
    x = torch.randn(B, L, E, dtype=torch.float64)
    assert (fast(x, x, x)[0] - slow(x, x, x)[0]).abs().max() < 1e-10


def test_attention_on_a_graph_is_masked_attention():
    """Message passing on edge_index == nn.MultiheadAttention with attn_mask = no edge."""
    n = 10
    ei, _, _ = from_networkx(nx.cycle_graph(n))
    ei = torch.cat([ei, torch.arange(n).repeat(2, 1)], 1)  # self-loops: every node attends somewhere
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(n, H, 4, generator=g, dtype=torch.float64) for _ in range(3))
    out, alpha = attention_message_passing(q, k, v, ei)
    blocked = torch.ones(n, n, dtype=torch.bool)
    blocked[ei[1], ei[0]] = False
    scores = torch.einsum("ihd,jhd->hij", q, k) / 2.0 + torch.zeros(n, n, dtype=torch.float64).masked_fill(blocked, -math.inf)
    ref = torch.einsum("hij,jhd->ihd", scores.softmax(-1), v)
    assert (out - ref).abs().max() < 1e-12
    full, _ = attention_message_passing(q, k, v, complete_graph(n))
    assert (full - torch.einsum("hij,jhd->ihd", (scores.masked_fill(blocked, 0) * 0 + torch.einsum("ihd,jhd->hij", q, k) / 2).softmax(-1), v)).abs().max() < 1e-12


@pytest.mark.parametrize("fast", [True, False])
def test_self_attention_equivariant_and_pe_breaks_it(fast):
    layer = TransformerEncoderLayer(E, H, dim_feedforward=16, dropout=0.0, batch_first=True, fast=fast).double().eval()
    n = 12
    x = torch.randn(1, n, E, dtype=torch.float64)
    Sn = SymmetricGroup(n)
    check_equivariance(layer, Sn, x, rho_in=permute_set, samples=10, atol=1e-10)
    pe = sinusoidal_encoding(n, E).double().unsqueeze(0)
    report = check_equivariance(lambda z: layer(z + pe), Sn, x, rho_in=permute_set, samples=10, raise_error=False)
    assert not report.passed and report.max_error > 1e-2


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("fast", [True, False])
def test_encoder_layer_equals_torch(norm_first, fast):
    torch.manual_seed(0)
    ref = torch.nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, batch_first=True, norm_first=norm_first).double().eval()
    ours = TransformerEncoderLayer(E, H, 16, dropout=0.0, batch_first=True, norm_first=norm_first, fast=fast).double().eval()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(B, S, E, dtype=torch.float64)
    pad = torch.zeros(B, S, dtype=torch.bool)
    pad[0, -2:] = True
    a, b = ours(x, src_key_padding_mask=pad), ref(x, src_key_padding_mask=pad)
    assert (a - b).abs().max() < 1e-6


def test_positional_encodings():
    pe = sinusoidal_encoding(50, 16)
    assert pe.shape == (50, 16) and abs(pe[3, 0] - math.sin(3)) < 1e-6 and abs(pe[3, 1] - math.cos(3)) < 1e-6
    # relative position is a fixed rotation of each frequency pair
    f = 10000 ** (-2 / 16)
    rot = torch.tensor([[math.cos(5 * f), -math.sin(5 * f)], [math.sin(5 * f), math.cos(5 * f)]], dtype=pe.dtype)
    assert torch.allclose(pe[:-5, 2:4] @ rot, pe[5:, 2:4], atol=1e-5)
    ei, _, _ = from_networkx(nx.path_graph(6))
    lap = laplacian_encoding(ei, 6, k=8)
    Lm = laplacian(ei, 6, normalization="sym", dtype=torch.float64)
    assert lap.shape == (6, 8) and torch.all(lap[:, 5:] == 0)
    resid = Lm @ lap[:, :5].double() - lap[:, :5].double() * torch.diag(lap[:, :5].double().T @ Lm @ lap[:, :5].double())
    assert resid.abs().max() < 1e-6  # eigenvectors
    assert lap[:, 0].abs().sum() > 0.1
    flipped = random_sign_flip(lap, seed=0)
    assert torch.allclose(flipped.abs(), lap.abs()) and not torch.equal(flipped, lap)
    rw = random_walk_encoding(ei, 6, walk_length=4)
    assert rw.shape == (6, 4) and torch.allclose(rw[:, 0], torch.zeros(6, dtype=rw.dtype))
    assert abs(rw[0, 1] - 0.5) < 1e-6  # end of a path: to its neighbour, then back with probability 1/2
    cyc, _, _ = from_networkx(nx.cycle_graph(7))
    rwc = random_walk_encoding(cyc, 7, walk_length=5)
    assert torch.allclose(rwc, rwc[:1].expand(7, 5))  # vertex-transitive: one code for all nodes


@pytest.mark.parametrize("fast", [True, False])
def test_bad_input(fast):
    ours, _ = pair(fast)
    x = torch.randn(B, L, E, dtype=torch.float64)
    dead = torch.zeros(L, L, dtype=torch.bool)
    dead[2] = True
    with pytest.raises(ValueError, match="attend to nothing"):
        ours(x, x, x, attn_mask=dead)
    pad = torch.zeros(B, L, dtype=torch.bool)
    pad[1] = True
    with pytest.raises(ValueError, match="attend to nothing"):
        ours(x, x, x, key_padding_mask=pad)
    with pytest.raises(ValueError, match="attn_mask must be"):
        ours(x, x, x, attn_mask=torch.zeros(L, L + 1, dtype=torch.bool))
    with pytest.raises(ValueError, match="key_padding_mask must be"):
        ours(x, x, x, key_padding_mask=torch.zeros(B, L + 1, dtype=torch.bool))
    with pytest.raises(TypeError, match="bool"):
        ours(x, x, x, attn_mask=torch.zeros(L, L, dtype=torch.long))
    with pytest.raises(ValueError, match="query"):
        ours(x[..., :3], x, x)
    with pytest.raises(ValueError, match="multiple"):
        MultiheadAttention(7, 2)
    with pytest.raises(ValueError, match="even"):
        sinusoidal_encoding(5, 3)
