"""Deformations of signals and images, and features that are (or are not) stable to them.

A *deformation* (warp) of the domain is a smooth displacement field :math:`\\tau`; it acts on a
signal by

.. math:: (\\rho(\\tau)x)(u) = x(u - \\tau(u)),

which for a constant :math:`\\tau` is a translation. Its *size* is measured by how far it is
from a translation, :math:`c(\\tau) = \\lVert \\nabla \\tau \\rVert_\\infty` (the largest
local stretch; a translation has size 0). A feature map :math:`f` is *stable* to deformations
when :math:`\\lVert f(\\rho(\\tau)x) - f(x)\\rVert \\le C\\, c(\\tau)\\, \\lVert x\\rVert`.

The translation-invariant Fourier modulus :func:`fourier_modulus` is not stable (a stretch by
:math:`1+\\epsilon` moves frequency :math:`\\omega` by :math:`\\epsilon\\omega`, which for high
frequencies is a complete change); the local, multiscale :func:`multiscale_features`
(averaged wavelet moduli, a first-order scattering transform :cite:`mallat2012group`) is.

Coordinates are in samples (pixels), on the periodic grid, so :math:`\\tau` is in pixels and
:math:`\\nabla \\tau` is dimensionless.

Introduced in: 3.3, :doc:`/book/03_priors/03_3_deformation_stability` (deformation stability).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

__all__ = [
    "smooth_displacement",
    "deformation_size",
    "warp_signal",
    "warp_image",
    "random_warp",
    "fourier_modulus",
    "gaussian_lowpass",
    "gabor_filters",
    "multiscale_features",
    "perturb_edges",
]


def _grid_shape(shape) -> tuple[int, ...]:
    sizes = (shape,) if isinstance(shape, (int, np.integer)) else shape
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise TypeError(f"expected a grid shape: a length n or a pair (H, W) of integers, got {shape!r}") from None
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
        raise TypeError(f"grid sizes must be integers, got {shape!r}")
    if len(sizes) not in (1, 2) or min(sizes) < 2:
        raise ValueError(f"expected a 1-D length or a 2-D (H, W) grid shape with sizes >= 2, got {shape!r}")
    return tuple(int(s) for s in sizes)


def _finite_nonneg(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a real number, got {value!r} of type {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return float(value)


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _check_tensor(x, what: str, min_dim: int = 1) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() < min_dim:
        raise ValueError(f"{what} must have at least {min_dim} dims, got shape {tuple(x.shape)}")
    if x.is_floating_point() and not torch.isfinite(x).all():
        raise ValueError(f"{what} must be finite (found NaN or inf)")


def _freqs(n: int, dtype=torch.float64) -> torch.Tensor:
    """Integer frequencies 0, 1, ..., -1 of an n-point periodic grid."""
    return torch.fft.fftfreq(n, d=1.0 / n).to(dtype)


def smooth_displacement(
    shape: int | tuple[int, int],
    size: float,
    *,
    max_freq: int = 3,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """A random smooth periodic displacement field :math:`\\tau` with :math:`c(\\tau)` = ``size``.

    :math:`\\tau` is a random trigonometric polynomial with frequencies
    :math:`1 \\le |k| \\le` ``max_freq`` (no constant part, so no global translation),
    rescaled so that :func:`deformation_size` returns exactly ``size``.

    Shapes:
        output: ``(n,)`` for ``shape = n``; ``(2, H, W)`` for ``shape = (H, W)``
        (the two components :math:`(\\tau_y, \\tau_x)`, in pixels).

    Introduced in: 3.3, :doc:`/book/03_priors/03_3_deformation_stability`.
    """
    shape = _grid_shape(shape)
    size = _finite_nonneg(size, "smooth_displacement: size (the deformation size c(tau))")
    max_freq = _positive_int(max_freq, "smooth_displacement: max_freq")
    comps = len(shape)
    coef = torch.randn((comps, *shape), generator=generator, dtype=torch.float64) + 1j * torch.randn(
        (comps, *shape), generator=generator, dtype=torch.float64
    )
    ks = torch.meshgrid(*[_freqs(n) for n in shape], indexing="ij")
    radius = torch.stack([k.abs() for k in ks]).amax(0)
    mask = (radius >= 1) & (radius <= max_freq)
    tau = torch.fft.ifftn(coef * mask, dim=tuple(range(1, comps + 1))).real
    c = deformation_size(tau[0] if comps == 1 else tau)
    if c == 0:  # grid too small for any non-constant mode
        raise ValueError(f"grid {shape} too small for a deformation with max_freq={max_freq}")
    tau = tau * (size / c)
    return (tau[0] if comps == 1 else tau).to(dtype)


def _periodic_diff(t: torch.Tensor, dim: int) -> torch.Tensor:
    # centred finite difference on the periodic grid (spacing 1 sample)
    return (torch.roll(t, -1, dims=dim) - torch.roll(t, 1, dims=dim)) / 2


def deformation_size(tau: torch.Tensor) -> float:
    """:math:`c(\\tau) = \\lVert\\nabla\\tau\\rVert_\\infty`, with centred periodic differences.

    For a 1-D field, :math:`\\max_u |\\tau'(u)|`; for a 2-D field, the largest operator
    (spectral) norm of the 2x2 Jacobian :math:`\\partial \\tau_i / \\partial u_j` over the grid.

    Shapes:
        tau: ``(n,)`` or ``(2, H, W)``.

    Introduced in: 3.3, :doc:`/book/03_priors/03_3_deformation_stability`.
    """
    _check_tensor(tau, "deformation_size: tau")
    if tau.dim() == 1:
        return float(_periodic_diff(tau, 0).abs().max())
    if tau.dim() == 3 and tau.shape[0] == 2:
        jac = torch.stack(
            [torch.stack([_periodic_diff(tau[i], j) for j in range(2)], -1) for i in range(2)], -2
        )  # (H, W, 2, 2)
        return float(torch.linalg.matrix_norm(jac.double(), ord=2).max())
    raise ValueError(f"tau must have shape (n,) or (2, H, W), got {tuple(tau.shape)}")


def _fourier_matrix(pos: torch.Tensor, n: int) -> torch.Tensor:
    # E[p, k] = exp(2 pi i k pos_p / n) / n: evaluates the trigonometric interpolant at pos
    k = _freqs(n)
    return torch.exp(2j * math.pi * pos.double().reshape(-1, 1) * k / n) / n


def warp_signal(x: torch.Tensor, tau: torch.Tensor, interpolation: str = "fourier") -> torch.Tensor:
    """Deform a periodic 1-D signal: :math:`x_\\tau(u) = x(u - \\tau(u))`.

    ``interpolation="fourier"`` (default) evaluates the band-limited (trigonometric)
    interpolant of ``x`` at :math:`u - \\tau(u)`, so a constant :math:`\\tau` is an exact
    (sub-pixel) translation and high frequencies are not damped; ``"linear"`` is cheaper but
    low-passes the signal by up to :math:`\\cos(\\pi\\omega)` at sub-pixel offsets, an
    artefact that would swamp the effect of a small deformation.

    Shapes:
        x: ``(..., n)``; tau: ``(n,)`` (in samples); output: ``(..., n)``.

    Introduced in: 3.3, :doc:`/book/03_priors/03_3_deformation_stability`.
    """
    _check_tensor(x, "warp_signal: x")
    _check_tensor(tau, "warp_signal: tau")
    n = x.shape[-1]
    if tau.shape != (n,):
        raise ValueError(f"warp_signal: tau must have shape ({n},) to warp a signal of length {n}, got {tuple(tau.shape)}")
    pos = torch.arange(n, dtype=torch.float64) - tau.double()
    if interpolation == "fourier":
        xh = torch.fft.fft(x.double(), dim=-1)
        out = (xh @ _fourier_matrix(pos, n).T).real
        return out.to(x.dtype) if x.is_floating_point() else out
    if interpolation != "linear":
        raise ValueError(f"interpolation must be 'fourier' or 'linear', got {interpolation!r}")
    lo = torch.floor(pos)
    frac = (pos - lo).to(x.dtype) if x.is_floating_point() else pos - lo
    i0 = lo.long() % n
    i1 = (i0 + 1) % n
    return x[..., i0] * (1 - frac) + x[..., i1] * frac


def warp_image(x: torch.Tensor, tau: torch.Tensor, interpolation: str = "fourier") -> torch.Tensor:
    """Deform a periodic image: :math:`x_\\tau(u) = x(u - \\tau(u))`.

    ``interpolation`` is ``"fourier"`` (band-limited, default) or ``"bilinear"``; see
    :func:`warp_signal`.

    Shapes:
        x: ``(..., H, W)``; tau: ``(2, H, W)`` (:math:`\\tau_y, \\tau_x` in pixels); output:
        ``(..., H, W)``.

    Introduced in: 3.3, :doc:`/book/03_priors/03_3_deformation_stability`.
    """
    _check_tensor(x, "warp_image: x (shape (..., H, W))", 2)
    _check_tensor(tau, "warp_image: tau")
    h, w = x.shape[-2:]
    if tau.shape != (2, h, w):
        raise ValueError(f"tau must have shape (2, {h}, {w}) for {h}x{w} images, got {tuple(tau.shape)}")
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    py, px = yy - tau[0].double(), xx - tau[1].double()
    if interpolation == "fourier":
        xh = torch.fft.fft2(x.double())
        ey, ex = _fourier_matrix(py, h), _fourier_matrix(px, w)  # (HW, H), (HW, W)
        out = torch.einsum("...ab,pa,pb->...p", xh, ey, ex).real.reshape(*x.shape[:-2], h, w)
        return out.to(x.dtype) if x.is_floating_point() else out
    if interpolation != "bilinear":
        raise ValueError(f"interpolation must be 'fourier' or 'bilinear', got {interpolation!r}")
    y0, x0 = torch.floor(py), torch.floor(px)
    fy, fx = (py - y0).to(x.dtype), (px - x0).to(x.dtype)
    y0, x0 = y0.long() % h, x0.long() % w
    y1, x1 = (y0 + 1) % h, (x0 + 1) % w
    flat = x.reshape(*x.shape[:-2], h * w)

    def at(a, b):
        return flat[..., (a * w + b).reshape(-1)].reshape(*x.shape[:-2], h, w)

    return (at(y0, x0) * (1 - fy) * (1 - fx) + at(y0, x1) * (1 - fy) * fx
            + at(y1, x0) * fy * (1 - fx) + at(y1, x1) * fy * fx)


def random_warp(
    x: torch.Tensor,
    size: float,
    *,
    ndim: int = 1,
    max_freq: int = 3,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Warp ``x`` by a random smooth deformation of size ``size``; returns ``(x_tau, tau)``.

    ``ndim = 1`` warps the last dim (:func:`warp_signal`), ``ndim = 2`` the last two
    (:func:`warp_image`).

    Shapes:
        x: ``(..., n)`` or ``(..., H, W)``; outputs: ``x_tau`` like ``x``; ``tau`` ``(n,)`` or
        ``(2, H, W)``.

    Introduced in: 3.3, :doc:`/book/03_priors/03_3_deformation_stability`.
    """
    _check_tensor(x, "random_warp: x")
    if ndim == 2 and x.dim() < 2:
        raise ValueError(f"random_warp: ndim=2 warps the last two dims (H, W); x has shape {tuple(x.shape)}")
    if ndim == 1:
        tau = smooth_displacement(x.shape[-1], size, max_freq=max_freq, generator=generator)
        return warp_signal(x, tau), tau
    if ndim == 2:
        tau = smooth_displacement(tuple(x.shape[-2:]), size, max_freq=max_freq, generator=generator)
        return warp_image(x, tau), tau
    raise ValueError(f"ndim must be 1 or 2, got {ndim}")


def fourier_modulus(x: torch.Tensor, ndim: int = 1) -> torch.Tensor:
    """The modulus of the (orthonormal) DFT, :math:`|\\hat x(\\omega)|`, over the last ``ndim`` dims.

    Exactly invariant to circular translations (a shift multiplies :math:`\\hat x(\\omega)` by
    the phase :math:`e^{-2\\pi i \\omega t/n}`) and preserves the energy, but not stable to
    deformations.

    Shapes:
        x: ``(..., n)`` or ``(..., H, W)``; output: same shape.

    Introduced in: 3.3, :doc:`/book/03_priors/03_3_deformation_stability`.
    """
    if ndim not in (1, 2):
        raise ValueError(f"fourier_modulus: ndim must be 1 or 2, got {ndim!r}")
    _check_tensor(x, "fourier_modulus: x", ndim)
    return torch.fft.fftn(x, dim=tuple(range(-ndim, 0)), norm="ortho").abs()


def gaussian_lowpass(shape: int | tuple[int, int], sigma: float) -> torch.Tensor:
    """Fourier transfer function of a periodic Gaussian blur of width ``sigma`` samples.

    :math:`\\hat\\phi(\\omega) = \\exp(-2\\pi^2\\sigma^2 \\lVert\\omega/n\\rVert^2)` on the
    integer frequencies, so :math:`\\hat\\phi(0) = 1` (the blur preserves the mean).

    Shapes:
        output: ``(n,)`` or ``(H, W)`` real.

    Introduced in: 3.3, :doc:`/book/03_priors/03_3_deformation_stability`.
    """
    shape = _grid_shape(shape)
    sigma = _finite_nonneg(sigma, "gaussian_lowpass: sigma")
    ks = torch.meshgrid(*[_freqs(n) / n for n in shape], indexing="ij")
    r2 = sum(k**2 for k in ks)
    return torch.exp(-2 * math.pi**2 * sigma**2 * r2)


def gabor_filters(shape: int | tuple[int, int], scales: int, orientations: int = 4) -> torch.Tensor:
    """Fourier transfer functions of analytic Gabor (Morlet-like) wavelets :math:`\\hat\\psi_{j,\\theta}`.

    Scale :math:`j = 0..J-1` is centred on the frequency :math:`\\xi_j = 0.375 \\cdot 2^{-j}`
    (cycles per sample) with a Gaussian bandwidth proportional to :math:`\\xi_j` (constant
    quality factor, the defining property of a wavelet family); in 2-D, orientation
    :math:`\\theta_l = \\pi l / L`.

    Shapes:
        output: ``(J, n)`` in 1-D, ``(J * L, H, W)`` in 2-D.

    Introduced in: 3.3, :doc:`/book/03_priors/03_3_deformation_stability`.
    """
    shape = _grid_shape(shape)
    scales = _positive_int(scales, "gabor_filters: scales")
    orientations = _positive_int(orientations, "gabor_filters: orientations")
    ks = torch.meshgrid(*[_freqs(n) / n for n in shape], indexing="ij")
    filters = []
    for j in range(scales):
        xi = 0.375 / 2**j
        width = 0.4 * xi
        if len(shape) == 1:
            filters.append(torch.exp(-((ks[0] - xi) ** 2) / (2 * width**2)))
        else:
            for l in range(orientations):
                th = math.pi * l / orientations
                cy, cx = xi * math.sin(th), xi * math.cos(th)
                filters.append(torch.exp(-((ks[0] - cy) ** 2 + (ks[1] - cx) ** 2) / (2 * width**2)))
    return torch.stack(filters)


@lru_cache(maxsize=32)
def _cached_gabor(shape: tuple, scales: int, orientations: int) -> torch.Tensor:
    return gabor_filters(shape, scales, orientations)


@lru_cache(maxsize=32)
def _cached_lowpass(shape: tuple, sigma: float) -> torch.Tensor:
    return gaussian_lowpass(shape, sigma)


def multiscale_features(x: torch.Tensor, scales: int = 4, *, ndim: int = 1, sigma: float | None = None,
                        orientations: int = 4) -> torch.Tensor:
    """Local multiscale features: averaged wavelet moduli :math:`|x \\star \\psi_j| \\star \\phi`.

    A first-order scattering transform :cite:`mallat2012group`: each wavelet
    :math:`\\psi_j` isolates a frequency band, the modulus removes the phase (which a
    translation changes), and the Gaussian average :math:`\\phi` of width ``sigma``
    (default :math:`2^{J}`) makes the result locally translation invariant. Because each band's
    width grows with its frequency, a deformation of size :math:`c(\\tau)` moves energy by a
    fraction :math:`\\lesssim c(\\tau)` of the band: the features are Lipschitz-stable.
    The low-pass average :math:`x \\star \\phi` is included as channel 0. All convolutions
    are periodic, so the map is exactly translation equivariant.

    Shapes:
        x: ``(..., n)`` (``ndim=1``) or ``(..., H, W)`` (``ndim=2``); output:
        ``(..., 1 + J, n)`` or ``(..., 1 + J*L, H, W)``.

    Introduced in: 3.3, :doc:`/book/03_priors/03_3_deformation_stability`.
    """
    if ndim not in (1, 2):
        raise ValueError(f"multiscale_features: ndim must be 1 or 2, got {ndim!r}")
    _check_tensor(x, "multiscale_features: x", ndim)
    scales = _positive_int(scales, "multiscale_features: scales")
    if sigma is not None:
        _finite_nonneg(sigma, "multiscale_features: sigma")
    shape = tuple(x.shape[-ndim:])
    dims = tuple(range(-ndim, 0))
    sigma = 2.0**scales if sigma is None else sigma
    psi = _cached_gabor(shape, scales, orientations).to(x.device)
    phi = _cached_lowpass(shape, float(sigma)).to(x.device)
    xh = torch.fft.fftn(x.double(), dim=dims)
    u = torch.fft.ifftn(xh.unsqueeze(-ndim - 1) * psi, dim=dims).abs()  # (..., J, *shape)
    s = torch.fft.ifftn(torch.fft.fftn(u, dim=dims) * phi, dim=dims).real
    low = torch.fft.ifftn(xh * phi, dim=dims).real.unsqueeze(-ndim - 1)
    return torch.cat([low, s], dim=-ndim - 1).to(x.dtype if x.is_floating_point() else torch.float64)


def perturb_edges(
    adjacency: torch.Tensor, num_flips: int, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A "deformation" of a graph domain: flip ``num_flips`` random node pairs (add or remove).

    Keeps the graph undirected and without self loops.

    Shapes:
        adjacency: ``(n, n)`` symmetric 0/1; output: ``(n, n)``.

    Introduced in: 3.3, :doc:`/book/03_priors/03_3_deformation_stability`.
    """
    if not isinstance(adjacency, torch.Tensor):
        raise TypeError(f"perturb_edges: adjacency must be a torch.Tensor, got {type(adjacency).__name__}")
    if adjacency.dim() != 2 or adjacency.shape[0] != adjacency.shape[1]:
        raise ValueError(f"perturb_edges: adjacency must be square (n, n), got {tuple(adjacency.shape)}")
    if not torch.equal(adjacency, adjacency.T) or not bool(((adjacency == 0) | (adjacency == 1)).all()):
        raise ValueError("perturb_edges: adjacency must be a symmetric 0/1 matrix (an undirected, unweighted graph)")
    n = adjacency.shape[0]
    iu = torch.triu_indices(n, n, 1)
    if isinstance(num_flips, bool) or not isinstance(num_flips, (int, np.integer)):
        raise TypeError(f"perturb_edges: num_flips must be an integer, got {num_flips!r}")
    if not 0 <= num_flips <= iu.shape[1]:
        raise ValueError(f"num_flips must be in [0, {iu.shape[1]}], got {num_flips}")
    pick = torch.randperm(iu.shape[1], generator=generator)[:num_flips]
    a = adjacency.clone()
    i, j = iu[0, pick], iu[1, pick]
    a[i, j] = 1 - a[i, j]
    a[j, i] = a[i, j]
    return a
