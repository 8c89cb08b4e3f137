"""The self-checks of exercises 5.1.x and 5.2.x pass on reference solutions and fail on wrong ones."""
import torch
import torch.nn.functional as F

from gdlutils.exercises import check


# 5.1.1 -----------------------------------------------------------------------------------------
def conv_matrix(psi, n):
    r = psi.numel() // 2
    C = torch.zeros(n, n, dtype=psi.dtype)
    for u in range(n):
        for j, v in enumerate(range(-r, r + 1)):
            C[u, (u + v) % n] += psi[j]
    return C


def conv_matrix_flipped(psi, n):  # a convolution, not a correlation
    return conv_matrix(psi.flip(0), n)


def test_5_1_1():
    assert check("5.1.1", conv_matrix, quiet=True)
    assert not check("5.1.1", conv_matrix_flipped, quiet=True)
    assert not check("5.1.1", lambda psi, n: torch.zeros(n, n + 1), quiet=True)
    assert not check("5.1.1", lambda psi, n: torch.roll(conv_matrix(psi, n), 1, dims=1), quiet=True)  # centred off by one
    assert not check("5.1.1", lambda psi, n: conv_matrix(psi, n).T, quiet=True)  # the transpose: a convolution again


# 5.1.2 -----------------------------------------------------------------------------------------
def receptive_field(layers):
    rf, jump = 1, 1
    for k, s in layers:
        rf += (k - 1) * jump
        jump *= s
    return rf


def test_5_1_2():
    assert check("5.1.2", receptive_field, quiet=True)
    assert not check("5.1.2", lambda layers: 1 + sum(k - 1 for k, _ in layers), quiet=True)

    def stride_too_early(layers):  # a layer's own stride applied to its own kernel
        rf, jump = 1, 1
        for k, s in layers:
            jump *= s
            rf += (k - 1) * jump
        return rf

    assert not check("5.1.2", stride_too_early, quiet=True)
    assert not check("5.1.2", lambda layers: receptive_field(layers) - 1, quiet=True)  # off by one


# 5.1.3 -----------------------------------------------------------------------------------------
def blur_pool(x):
    k = torch.tensor([1.0, 2.0, 1.0], dtype=x.dtype)
    k = (k[:, None] * k[None, :]) / 16
    w = k.expand(x.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="circular"), w, groups=x.shape[1])[..., ::2, ::2]


def test_5_1_3(capsys):
    assert check("5.1.3", blur_pool, quiet=True)
    assert not check("5.1.3", lambda x: x[..., ::2, ::2], quiet=True)  # no blur: unstable
    assert not check("5.1.3", lambda x: F.avg_pool2d(x, 3, 2, 1), quiet=True)  # zero padding: not exact
    assert not check("5.1.3", lambda x: F.max_pool2d(x, 2), quiet=True)  # max pooling: stable-looking, still aliases
    assert not check("5.1.3", lambda x: F.max_pool2d(x, 2))
    assert "period 2" in capsys.readouterr().out

    def blur_width_only(x):  # blurs along one axis only
        w = torch.tensor([1.0, 2.0, 1.0], dtype=x.dtype).view(1, 1, 1, 3).expand(x.shape[1], 1, 1, 3) / 4
        return F.conv2d(F.pad(x, (1, 1, 0, 0), mode="circular"), w, groups=x.shape[1])[..., ::2, ::2]

    assert not check("5.1.3", blur_width_only, quiet=True)
    # a box filter (2 x 2 average) is the simplest low-pass filter: it passes
    assert check("5.1.3", lambda x: F.avg_pool2d(x, 2), quiet=True)


# 5.2.1 -----------------------------------------------------------------------------------------
def lift_bank(w):
    return torch.stack([torch.rot90(w, r, dims=(-2, -1)) for r in range(4)], dim=1)


def test_5_2_1():
    assert check("5.2.1", lift_bank, quiet=True)
    wrong_direction = lambda w: torch.stack([torch.rot90(w, -r, dims=(-2, -1)) for r in range(4)], dim=1)
    assert not check("5.2.1", wrong_direction, quiet=True)


def test_5_2_1_copies_fail():
    # four identical copies: equivariance fails for every non-trivial rotation (unless symmetric filters)
    assert not check("5.2.1", lambda w: torch.stack([w] * 4, dim=1), quiet=True)


# 5.2.2 -----------------------------------------------------------------------------------------
def act_p4(r, y):
    return torch.roll(torch.rot90(y, r, dims=(-2, -1)), r, dims=-3)


def test_5_2_2():
    assert check("5.2.2", act_p4, quiet=True)
    assert not check("5.2.2", lambda r, y: torch.rot90(y, r, dims=(-2, -1)), quiet=True)  # forgets the axis
    assert not check("5.2.2", lambda r, y: torch.roll(torch.rot90(y, r, dims=(-2, -1)), -r, dims=-3), quiet=True)


# 5.2.3 -----------------------------------------------------------------------------------------
def symmetrize(model):
    def f(x):
        return torch.stack([model(torch.rot90(x, r, dims=(-2, -1))) for r in range(4)]).mean(0)

    return f


def test_5_2_3():
    assert check("5.2.3", symmetrize, quiet=True)
    assert not check("5.2.3", lambda model: model, quiet=True)  # not invariant
    max_sym = lambda model: (lambda x: torch.stack([model(torch.rot90(x, r, dims=(-2, -1))) for r in range(4)]).amax(0))
    assert not check("5.2.3", max_sym, quiet=True)  # invariant but not the average
