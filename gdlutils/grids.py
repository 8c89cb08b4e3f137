"""Grids: the shift operator, circulant matrices, the discrete Fourier transform, and
convolution written three ways (sliding window, circulant matrix, FFT).

On the periodic 1-D grid :math:`\\mathbb{Z}_n` a signal is a vector :math:`x \\in \\R^n`. The
shift :math:`S` moves it one step, :math:`(Sx)_u = x_{u-1}`, and the (circular) convolution
with a filter :math:`w` is

.. math:: (x \\star w)_u = \\sum_{v} w_v\\, x_{(u - v) \\bmod n} = (C(w)\\,x)_u,\\qquad
          C(w)_{uv} = w_{(u - v) \\bmod n},

with :math:`C(w)` the circulant matrix of :math:`w`. Every circulant commutes with :math:`S`
and, conversely, a matrix that commutes with :math:`S` is circulant. All circulants are
diagonalised by the Fourier basis :math:`\\Phi_{uk} = e^{2\\pi i uk/n}/\\sqrt n`:
:math:`C(w) = \\Phi\\,\\operatorname{diag}(\\hat w)\\,\\Phi^*` with :math:`\\hat w = \\mathrm{fft}(w)`,
which is the convolution theorem :math:`\\widehat{x\\star w} = \\hat x \\odot \\hat w`.

In 2-D (the torus :math:`\\mathbb{Z}_h \\times \\mathbb{Z}_w`) the same holds with two shifts
and doubly block-circulant matrices.

Introduced in: 4.2, :doc:`/book/04_domains/04_2_grids` (grids and Euclidean spaces).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "shift_matrix",
    "shift",
    "circulant",
    "is_circulant",
    "commutator_norm",
    "fourier_basis",
    "circulant_eigenvalues",
    "pad_kernel",
    "conv1d_sliding",
    "conv1d_circulant",
    "conv1d_fft",
    "conv2d_sliding",
    "conv2d_matrix",
    "conv2d_fft",
]


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"grid size must be a positive integer, got {n!r} of type {type(n).__name__}")
    if n < 1:
        raise ValueError(f"grid size must be a positive integer, got {n!r}")
    return int(n)


def shift_matrix(n: int, k: int = 1, dtype: torch.dtype = torch.float64) -> Tensor:
    """The cyclic shift by ``k`` steps: :math:`(S^k x)_u = x_{(u-k) \\bmod n}` (``torch.roll(x, k)``).

    Shapes: returns ``(n, n)``. Introduced in: 4.2, :doc:`/book/04_domains/04_2_grids`.
    """
    n = _check_n(n)
    return torch.roll(torch.eye(n, dtype=dtype), int(k), dims=0)


def shift(x: Tensor, k: int = 1, dims: int | tuple[int, ...] = -1) -> Tensor:
    """Shift a signal on the periodic grid: :math:`x_u \\mapsto x_{u-k}` along ``dims``
    (``k`` may be a tuple for several dimensions).

    Shapes: x: any; returns the same shape. Introduced in: 4.2, :doc:`/book/04_domains/04_2_grids`.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"shift expects a torch.Tensor, got {type(x).__name__}")
    ks = (k,) if not isinstance(k, (tuple, list)) else tuple(k)
    ds = (dims,) if not isinstance(dims, (tuple, list)) else tuple(dims)
    if len(ks) != len(ds) or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in ks + ds):
        raise ValueError(f"shift: k and dims must be integers, or tuples of integers of the same length; got k={k!r}, dims={dims!r}")
    if any(not -x.dim() <= d < x.dim() for d in ds):
        raise ValueError(f"shift: dims {dims!r} out of range for a tensor of shape {tuple(x.shape)}")
    return torch.roll(x, shifts=k, dims=dims)


def circulant(w: Tensor, n: int | None = None) -> Tensor:
    """The circulant matrix :math:`C(w)_{uv} = w_{(u-v) \\bmod n}` (first column :math:`w`,
    each column the previous one shifted down by one), so :math:`C(w)x = x \\star w`.

    A filter shorter than ``n`` is zero-padded (:func:`pad_kernel`).

    Shapes: w: ``(m,)``, m <= n; returns ``(n, n)``. Introduced in: 4.2, :doc:`/book/04_domains/04_2_grids`.
    """
    w = torch.as_tensor(w)
    if w.dim() != 1:
        raise ValueError(f"w must be a 1-D filter, got shape {tuple(w.shape)}")
    w = pad_kernel(w, n if n is not None else w.numel())
    n = w.numel()
    idx = (torch.arange(n)[:, None] - torch.arange(n)[None, :]) % n
    return w[idx]


def is_circulant(M: Tensor, atol: float = 1e-10) -> bool:
    """Whether a square matrix is circulant: :math:`M_{uv}` depends only on :math:`(u-v) \\bmod n`.

    Shapes:
        M: ``(n, n)``.

    Introduced in: 4.2, :doc:`/book/04_domains/04_2_grids`."""
    if M.dim() != 2 or M.size(0) != M.size(1):
        raise ValueError(f"M must be square, got {tuple(M.shape)}")
    return bool(torch.allclose(M, circulant(M[:, 0]), atol=atol, rtol=0))


def commutator_norm(A: Tensor, B: Tensor) -> float:
    """:math:`\\lVert AB - BA\\rVert_F`: zero iff the two matrices commute.

    Shapes:
        A, B: ``(n, n)``.

    Introduced in: 4.2, :doc:`/book/04_domains/04_2_grids`."""
    if A.shape != B.shape or A.dim() != 2:
        raise ValueError(f"A and B must be square matrices of the same shape, got {tuple(A.shape)}, {tuple(B.shape)}")
    return float(torch.linalg.matrix_norm(A @ B - B @ A))


def fourier_basis(n: int) -> Tensor:
    """The unitary Fourier basis :math:`\\Phi_{uk} = e^{2\\pi i uk/n}/\\sqrt n` (column ``k``
    is the complex exponential of frequency ``k``). :math:`\\Phi^* x` equals
    ``torch.fft.fft(x, norm="ortho")``; every circulant is :math:`\\Phi\\,\\mathrm{diag}\\,\\Phi^*`.

    Shapes: returns ``(n, n)`` complex128. Introduced in: 4.2, :doc:`/book/04_domains/04_2_grids`.
    """
    n = _check_n(n)
    k = torch.arange(n, dtype=torch.float64)
    return torch.exp(2j * math.pi * torch.outer(k, k) / n) / math.sqrt(n)


def circulant_eigenvalues(w: Tensor, n: int | None = None) -> Tensor:
    """Eigenvalues of :math:`C(w)` in the order of the columns of :func:`fourier_basis`:
    :math:`\\lambda_k = \\sum_u w_u e^{-2\\pi i uk/n} = \\mathrm{fft}(w)_k`.

    Shapes: w: ``(m,)``; returns ``(n,)`` complex. Introduced in: 4.2, :doc:`/book/04_domains/04_2_grids`.
    """
    w = torch.as_tensor(w)
    return torch.fft.fft(pad_kernel(w, n if n is not None else w.numel()))


def pad_kernel(w: Tensor, n: int | tuple[int, int]) -> Tensor:
    """Zero-pad a filter to the grid size (1-D ``(m,) -> (n,)``, 2-D ``(a, b) -> (h, w)``).

    Shapes:
        w: ``(m,)`` or ``(a, b)``; output: ``(n,)`` or ``(h, w)``.

    Introduced in: 4.2, :doc:`/book/04_domains/04_2_grids`."""
    if not isinstance(w, Tensor):
        raise TypeError(f"pad_kernel expects a torch.Tensor filter, got {type(w).__name__}")
    size = (_check_n(n),) if not isinstance(n, (tuple, list)) else tuple(_check_n(s) for s in n)
    if w.dim() != len(size):
        raise ValueError(f"filter of shape {tuple(w.shape)} does not match grid of size {size}")
    if any(s < k for s, k in zip(size, w.shape)):
        raise ValueError(f"filter of shape {tuple(w.shape)} is larger than the grid {size}")
    out = torch.zeros(size, dtype=w.dtype, device=w.device)
    out[tuple(slice(0, k) for k in w.shape)] = w
    return out


def _check_signal(x: Tensor, w: Tensor, d: int) -> None:
    if not isinstance(x, Tensor) or not isinstance(w, Tensor):
        raise TypeError("x and w must be torch tensors")
    if w.dim() != d:
        raise ValueError(f"a {d}-D convolution needs a {d}-D filter, got shape {tuple(w.shape)}")
    if x.dim() < d:
        raise ValueError(f"x must have at least {d} dimensions (..., grid), got shape {tuple(x.shape)}")
    if any(k > s for k, s in zip(w.shape, x.shape[-d:])):
        raise ValueError(f"filter {tuple(w.shape)} is larger than the grid {tuple(x.shape[-d:])}")


def conv1d_sliding(x: Tensor, w: Tensor) -> Tensor:
    """Circular convolution by sliding the filter: :math:`y_u = \\sum_{v<m} w_v x_{u-v}`, one
    shifted copy of ``x`` per filter tap (cost :math:`O(nm)`).

    Shapes: x: ``(..., n)``; w: ``(m,)``; returns ``(..., n)``. Introduced in: 4.2, :doc:`/book/04_domains/04_2_grids`.
    """
    _check_signal(x, w, 1)
    return sum(w[v] * torch.roll(x, v, dims=-1) for v in range(w.numel()))


def conv1d_circulant(x: Tensor, w: Tensor) -> Tensor:
    """Circular convolution as a matrix product :math:`y = C(w)\\,x` (cost :math:`O(n^2)`).

    Shapes: x: ``(..., n)``; w: ``(m,)``; returns ``(..., n)``. Introduced in: 4.2, :doc:`/book/04_domains/04_2_grids`.
    """
    _check_signal(x, w, 1)
    C = circulant(w.to(x.dtype), x.size(-1))
    return x @ C.T


def conv1d_fft(x: Tensor, w: Tensor) -> Tensor:
    """Circular convolution by the convolution theorem: :math:`y = \\mathrm{ifft}(\\mathrm{fft}(x)
    \\odot \\mathrm{fft}(w))` (cost :math:`O(n \\log n)`).

    Shapes: x: ``(..., n)``; w: ``(m,)``; returns ``(..., n)`` (real if both inputs are).
    Introduced in: 4.2, :doc:`/book/04_domains/04_2_grids`.
    """
    _check_signal(x, w, 1)
    n = x.size(-1)
    y = torch.fft.ifft(torch.fft.fft(x, dim=-1) * torch.fft.fft(pad_kernel(w, n).to(x.dtype)), dim=-1)
    return y if (x.is_complex() or w.is_complex()) else y.real


def conv2d_sliding(x: Tensor, w: Tensor) -> Tensor:
    """2-D circular convolution on the torus: :math:`y_{ij} = \\sum_{a,b} w_{ab}\\, x_{i-a,\\,j-b}`.

    Shapes: x: ``(..., H, W)``; w: ``(a, b)``; returns ``(..., H, W)``. Introduced in: 4.2, :doc:`/book/04_domains/04_2_grids`.
    """
    _check_signal(x, w, 2)
    return sum(
        w[a, b] * torch.roll(x, (a, b), dims=(-2, -1)) for a in range(w.size(0)) for b in range(w.size(1))
    )


def conv2d_matrix(w: Tensor, size: tuple[int, int]) -> Tensor:
    """The doubly block-circulant matrix :math:`M` with :math:`\\mathrm{vec}(y) = M\\,\\mathrm{vec}(x)`
    for :func:`conv2d_sliding` (row-major ``vec``): a circulant of circulant blocks, i.e.
    :math:`M = \\sum_{a,b} w_{ab}\\, S_H^a \\otimes S_W^b`.

    Shapes: w: ``(a, b)``; returns ``(H W, H W)``. Introduced in: 4.2, :doc:`/book/04_domains/04_2_grids`.
    """
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise ValueError(f"conv2d_matrix: size must be a pair (H, W), got {size!r}")
    H, W = _check_n(size[0]), _check_n(size[1])
    if not isinstance(w, Tensor):
        raise TypeError(f"conv2d_matrix expects a torch.Tensor filter, got {type(w).__name__}")
    if w.dim() != 2:
        raise ValueError(f"w must be a 2-D filter, got shape {tuple(w.shape)}")
    wp = pad_kernel(w, (H, W))
    iy = (torch.arange(H)[:, None] - torch.arange(H)[None, :]) % H  # (H, H)
    ix = (torch.arange(W)[:, None] - torch.arange(W)[None, :]) % W  # (W, W)
    M = wp[iy[:, None, :, None], ix[None, :, None, :]]  # (H, W, H, W)
    return M.reshape(H * W, H * W)


def conv2d_fft(x: Tensor, w: Tensor) -> Tensor:
    """2-D circular convolution by the 2-D FFT: :math:`y = \\mathrm{ifft2}(\\mathrm{fft2}(x)\\odot\\mathrm{fft2}(w))`.

    Shapes: x: ``(..., H, W)``; w: ``(a, b)``; returns ``(..., H, W)``. Introduced in: 4.2, :doc:`/book/04_domains/04_2_grids`.
    """
    _check_signal(x, w, 2)
    wp = pad_kernel(w.to(x.dtype), tuple(x.shape[-2:]))
    y = torch.fft.ifft2(torch.fft.fft2(x) * torch.fft.fft2(wp))
    return y if (x.is_complex() or w.is_complex()) else y.real
