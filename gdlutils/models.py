"""Small reference models for images: an MLP, a CNN, and group-equivariant CNNs (p4, p4m).

All take images of shape ``(B, C, N, N)`` and return class logits ``(B, num_classes)``; they are
sized so that their parameter counts are comparable (:func:`comparable_channels`), which makes
comparisons between them a comparison of *priors*, not of capacity:

- :class:`MLP`: no spatial prior at all (the image is flattened);
- :class:`CNN`: local filters shared over positions (translation equivariance), pooling, and a
  global average over positions at the end (translation invariance);
- :class:`GCNN` (and :func:`P4CNN`, :func:`P4MCNN`): lifting and group convolutions of
  :mod:`gdlutils.gconv`, pooled over the group and over positions: exactly invariant to the
  rotations (and mirrors) of the square.

Introduced in: 5.1, :doc:`/book/05_models/05_1_cnns` (MLP, CNN, residual blocks) and 5.2 (group CNNs).
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from .gconv import GroupBatchNorm, GroupConv2d, GroupPool, GroupSpatialPool2d, LiftingConv2d, _check_group, group_order
from .utils import reset_submodules

__all__ = ["MLP", "CNN", "ResidualBlock", "GCNN", "P4CNN", "P4MCNN", "comparable_channels"]


def _check_images(x, in_channels: int, what: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != in_channels:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{what} expects images of shape (B, {in_channels}, H, W), got {shape}")


def comparable_channels(channels: Sequence[int], group: str) -> tuple[int, ...]:
    """Channel widths for a G-CNN with about the parameter count of a CNN with ``channels``.

    A group convolution between :math:`C` and :math:`C'` channels has :math:`|H|\\,C C' k^2`
    weights, so dividing every width by :math:`\\sqrt{|H|}` keeps the count (the feature maps,
    with :math:`|H|` slots per channel, then hold :math:`\\sqrt{|H|}` times more numbers).

    Introduced in: 5.2, :doc:`/book/05_models/05_2_group_cnns`.
    """
    s = math.sqrt(group_order(group))
    return tuple(max(1, round(c / s)) for c in channels)


class MLP(nn.Module):
    """Multi-layer perceptron on flattened inputs: :math:`x \\mapsto W_L\\sigma(\\dots\\sigma(W_1 x + b_1)\\dots) + b_L`.

    Args:
        in_channels: size of the flattened input (e.g. ``64`` for 8x8 grey images).
        hidden: widths of the hidden layers.
        num_classes: output size.
        dropout: dropout probability after each hidden layer.

    Shapes:
        input: ``(B, ...)`` with ``in_channels`` entries per sample; output: ``(B, num_classes)``.

    Introduced in: 5.1, :doc:`/book/05_models/05_1_cnns`.
    """

    def __init__(self, in_channels: int, hidden: Sequence[int] = (64,), num_classes: int = 10, dropout: float = 0.0):
        super().__init__()
        if isinstance(in_channels, bool) or not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f"MLP: in_channels must be a positive integer (the flattened input size), got {in_channels!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be a probability in [0, 1), got {dropout!r}")
        self.in_channels = int(in_channels)
        layers: list[nn.Module] = []
        width = self.in_channels
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                m.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"MLP expects {self.in_channels} input entries per sample (in_channels), got {x.shape[1]}")
        return self.net(x)


class ResidualBlock(nn.Module):
    """Residual block :math:`x \\mapsto \\sigma\\big(x + \\mathrm{BN}(W_2 * \\sigma(\\mathrm{BN}(W_1 * x)))\\big)` (He et al. 2016).

    Both convolutions keep the size (``padding = k // 2``), so the block is exactly
    translation-equivariant with ``padding_mode="circular"`` (a sum and a composition of
    equivariant maps), approximately with zeros.

    Shapes:
        input: ``(B, C, H, W)``; output: same.

    Introduced in: 5.1, :doc:`/book/05_models/05_1_cnns`.
    """

    def __init__(self, channels: int, kernel_size: int = 3, padding_mode: str = "zeros", batch_norm: bool = True):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd to keep the size, got {kernel_size}")
        pad = kernel_size // 2
        norm = (lambda: nn.BatchNorm2d(channels)) if batch_norm else nn.Identity
        self.channels = channels
        self.conv1 = nn.Conv2d(channels, channels, kernel_size, padding=pad, padding_mode=padding_mode, bias=not batch_norm)
        self.bn1 = norm()
        self.conv2 = nn.Conv2d(channels, channels, kernel_size, padding=pad, padding_mode=padding_mode, bias=not batch_norm)
        self.bn2 = norm()

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images(x, self.channels, "ResidualBlock")
        h = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(x + self.bn2(self.conv2(h)))


class CNN(nn.Module):
    """A plain convolutional classifier: ``[conv - BN - ReLU - max-pool]`` blocks, a global
    average over positions, and a linear read-out.

    .. math:: x \\mapsto W \\Big(\\frac{1}{|\\Omega|}\\sum_{u\\in\\Omega} \\Phi(x)(u)\\Big) + b

    with :math:`\\Phi` the stack of blocks. Convolutions are translation-equivariant, the final
    average makes the logits (approximately, because of padding and pooling) translation
    invariant. Pooling (2x2) follows every block except the last while the size allows.

    Args:
        in_channels, num_classes: input channels and classes.
        channels: widths of the convolutional blocks.
        kernel_size: odd filter size.
        padding_mode: ``"zeros"`` or ``"circular"``.
        batch_norm: use batch normalisation.
        residual_blocks: number of :class:`ResidualBlock` appended after the last block.

    Shapes:
        input: ``(B, in_channels, H, W)``; output: ``(B, num_classes)``.

    Introduced in: 5.1, :doc:`/book/05_models/05_1_cnns`.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, channels: Sequence[int] = (16, 32),
                 kernel_size: int = 3, padding_mode: str = "zeros", batch_norm: bool = True, residual_blocks: int = 0):
        super().__init__()
        if not channels:
            raise ValueError("channels must list at least one block width")
        self.in_channels = int(in_channels)
        layers: list[nn.Module] = []
        width = self.in_channels
        for i, c in enumerate(channels):
            layers.append(nn.Conv2d(width, c, kernel_size, padding=kernel_size // 2, padding_mode=padding_mode, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c))
            layers.append(nn.ReLU())
            if i < len(channels) - 1:
                layers.append(nn.MaxPool2d(2))
            width = c
        for _ in range(residual_blocks):
            layers.append(ResidualBlock(width, kernel_size, padding_mode, batch_norm))
        self.features = nn.Sequential(*layers)
        self.readout = nn.Linear(width, num_classes)

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images(x, self.in_channels, "CNN")
        return self.readout(self.features(x).mean(dim=(-2, -1)))


class GCNN(nn.Module):
    """A group-equivariant CNN (Cohen & Welling 2016) that is invariant to the point group.

    ``LiftingConv2d - GroupBatchNorm - ReLU``, then ``[GroupSpatialPool2d(2) - GroupConv2d -
    GroupBatchNorm - ReLU]`` blocks, then :class:`~gdlutils.gconv.GroupPool` (max over the rotations/mirrors),
    a global average over positions and a linear read-out:

    .. math:: x \\mapsto W \\Big(\\frac{1}{|\\Omega|}\\sum_{u\\in\\Omega} \\max_{h\\in H} \\Phi(x)(u, h)\\Big) + b .

    Every block commutes with the action of p4 (p4m), so the logits are exactly invariant to
    rotating (mirroring) the input by multiples of 90°, for square inputs whose size stays
    divisible by 2 at every pooling.

    Args:
        in_channels, num_classes: input channels and classes.
        channels: widths of the blocks, in group channels (each holds :math:`|H|` maps); use
            :func:`comparable_channels` to match a :class:`CNN`.
        group: ``"p4"`` or ``"p4m"``.
        kernel_size: odd filter size.
        padding_mode: passed to the convolutions.

    Shapes:
        input: ``(B, in_channels, N, N)``; output: ``(B, num_classes)``.

    Introduced in: 5.2, :doc:`/book/05_models/05_2_group_cnns`.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, channels: Sequence[int] = (8, 16),
                 group: str | gdlutils.groups.P4Group | gdlutils.groups.CyclicGroup | gdlutils.groups.DihedralGroup = "p4", kernel_size: int = 3, padding_mode: str = "zeros"):
        super().__init__()
        if not channels:
            raise ValueError("channels must list at least one block width")
        group = _check_group(group)
        self.in_channels, self.group = int(in_channels), group
        layers: list[nn.Module] = [
            LiftingConv2d(in_channels, channels[0], kernel_size, group=group, padding_mode=padding_mode, bias=False),
            GroupBatchNorm(channels[0], group),
            nn.ReLU(),
        ]
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            layers += [
                GroupSpatialPool2d(2),
                GroupConv2d(c_in, c_out, kernel_size, group=group, padding_mode=padding_mode, bias=False),
                GroupBatchNorm(c_out, group),
                nn.ReLU(),
            ]
        self.features = nn.Sequential(*layers)
        self.group_pool = GroupPool("max", group)
        self.readout = nn.Linear(channels[-1], num_classes)

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def group_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last group feature map. Shapes: ``(B, C_in, N, N)`` -> ``(B, C, |H|, N', N')``."""
        _check_images(x, self.in_channels, f"GCNN({self.group})")
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.group_pool(self.group_features(x)).mean(dim=(-2, -1)))


def P4CNN(in_channels: int = 1, num_classes: int = 10, channels: Sequence[int] = (8, 16), **kwargs) -> GCNN:
    """:class:`GCNN` on p4 (rotations by 90°). Introduced in: 5.2, :doc:`/book/05_models/05_2_group_cnns`."""
    return GCNN(in_channels, num_classes, channels, group="p4", **kwargs)


def P4MCNN(in_channels: int = 1, num_classes: int = 10, channels: Sequence[int] = (6, 11), **kwargs) -> GCNN:
    """:class:`GCNN` on p4m (rotations by 90° and mirrors). Introduced in: 5.2, :doc:`/book/05_models/05_2_group_cnns`."""
    return GCNN(in_channels, num_classes, channels, group="p4m", **kwargs)
