"""Tests of gdlutils.deformations: warps, deformation size, invariant features and their stability."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlutils.deformations import (
    deformation_size,
    fourier_modulus,
    gabor_filters,
    gaussian_lowpass,
    multiscale_features,
    perturb_edges,
    random_warp,
    smooth_displacement,
    warp_image,
    warp_signal,
)
from gdlutils.groups import CyclicGroup, TranslationGroup2D, check_equivariance, check_invariance, translate_image


def gen(s=0):
    return torch.Generator().manual_seed(s)


@pytest.mark.parametrize("shape", [64, (16, 24)])
@pytest.mark.parametrize("size", [0.0, 0.01, 0.2])
def test_displacement_has_the_requested_size(shape, size):
    tau = smooth_displacement(shape, size, generator=gen(1))
    assert tau.shape == ((64,) if shape == 64 else (2, 16, 24))
    assert math.isclose(deformation_size(tau), size, abs_tol=1e-12)
    assert abs(float(tau.mean(dim=tuple(range(-(tau.dim() if tau.dim() == 1 else 2), 0))).abs().max())) < 1e-12


def test_deformation_size_reference():
    n = 100
    u = torch.arange(n, dtype=torch.float64)
    tau = 2.0 * torch.sin(2 * math.pi * 3 * u / n)
    # centred difference of a sine: exact derivative times sin(h w)/(h w)
    w = 2 * math.pi * 3 / n
    assert math.isclose(deformation_size(tau), 2.0 * math.sin(w), rel_tol=1e-9)
    assert deformation_size(torch.full((n,), 4.0)) == 0
    # 2-D: a linear-like field tau = A u has Jacobian A; use a rotation-free shear on the torus
    h = w2 = 32
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w2, dtype=torch.float64), indexing="ij")
    t = torch.stack([0.5 * torch.sin(2 * math.pi * xx / w2), torch.zeros_like(xx)])
    expected = 0.5 * math.sin(2 * math.pi / w2)
    assert math.isclose(deformation_size(t), expected, rel_tol=1e-9)
    with pytest.raises(ValueError):
        deformation_size(torch.zeros(3, 4, 4))


def test_constant_warp_is_a_translation():
    x = torch.randn(3, 40, generator=gen(2), dtype=torch.float64)
    for interp in ("fourier", "linear"):
        assert torch.allclose(warp_signal(x, torch.full((40,), 5.0, dtype=torch.float64), interp), torch.roll(x, 5, -1), atol=1e-10)
    img = torch.randn(2, 12, 10, generator=gen(3), dtype=torch.float64)
    tau = torch.stack([torch.full((12, 10), 2.0), torch.full((12, 10), -3.0)]).double()
    for interp in ("fourier", "bilinear"):
        assert torch.allclose(warp_image(img, tau, interp), translate_image((2, -3), img), atol=1e-10)


def test_fourier_interpolation_is_exact_on_bandlimited_signals():
    n = 64
    u = torch.arange(n, dtype=torch.float64)
    x = torch.cos(2 * math.pi * 5 * u / n) + 0.3 * torch.sin(2 * math.pi * 11 * u / n)
    tau = smooth_displacement(n, 0.05, generator=gen(4))
    p = u - tau
    exact = torch.cos(2 * math.pi * 5 * p / n) + 0.3 * torch.sin(2 * math.pi * 11 * p / n)
    assert torch.allclose(warp_signal(x, tau), exact, atol=1e-10)
    lin = warp_signal(x, tau, "linear")
    assert (lin - exact).abs().max() > 1e-3  # linear interpolation is only approximate


def test_warp_bad_input():
    with pytest.raises(ValueError):
        warp_signal(torch.randn(10), torch.zeros(9))
    with pytest.raises(ValueError):
        warp_image(torch.randn(4, 5), torch.zeros(2, 5, 4))
    with pytest.raises(ValueError):
        warp_signal(torch.randn(10), torch.zeros(10), "cubic")
    with pytest.raises(ValueError):
        smooth_displacement((2, 3, 4), 0.1)


def test_fourier_modulus_matches_numpy_and_is_invariant():
    import numpy as np

    x = torch.randn(4, 32, generator=gen(5), dtype=torch.float64)
    ref = np.abs(np.fft.fft(x.numpy(), norm="ortho"))
    assert np.allclose(fourier_modulus(x).numpy(), ref)
    check_invariance(fourier_modulus, CyclicGroup(32), x, lambda g, s: CyclicGroup.shift(g, s), atol=1e-12)
    img = torch.randn(8, 8, generator=gen(6), dtype=torch.float64)
    check_invariance(lambda z: fourier_modulus(z, 2), TranslationGroup2D(8), img, translate_image, atol=1e-12)


def test_filters():
    phi = gaussian_lowpass(32, 2.0)
    assert phi[0] == 1 and torch.all(phi > 0) and torch.all(phi <= 1)
    # the spatial Gaussian of width sigma sums to 1 and has variance sigma^2
    g = torch.fft.ifft(phi).real
    u = torch.fft.fftfreq(32, 1 / 32).double()
    assert math.isclose(float(g.sum()), 1.0, rel_tol=1e-9)
    assert math.isclose(float((g * u**2).sum()), 4.0, rel_tol=1e-3)
    psi = gabor_filters((16, 16), 3, 4)
    assert psi.shape == (12, 16, 16) and float(psi.max()) <= 1


@pytest.mark.parametrize("ndim", [1, 2])
def test_multiscale_features_equivariant(ndim):
    shape = (2, 32) if ndim == 1 else (2, 16, 16)
    x = torch.randn(shape, generator=gen(7), dtype=torch.float64)
    f = lambda z: multiscale_features(z, 3, ndim=ndim)
    if ndim == 1:
        check_equivariance(f, CyclicGroup(32), x, lambda g, s: CyclicGroup.shift(g, s), atol=1e-10)
    else:
        check_equivariance(f, TranslationGroup2D(16), x, translate_image, samples=10, atol=1e-10)
    assert f(x).shape == ((2, 4, 32) if ndim == 1 else (2, 13, 16, 16))


def test_multiscale_is_stable_and_fourier_modulus_is_not():
    n = 256
    x = torch.randn(n, generator=gen(8), dtype=torch.float64)
    size = 0.01
    fm, ms = [], []
    for s in range(3):
        xt, _ = random_warp(x, size, generator=gen(20 + s))
        a, b = fourier_modulus(x), fourier_modulus(xt)
        fm.append(float((a - b).norm() / a.norm()))
        a, b = multiscale_features(x, 4).mean(-1), multiscale_features(xt, 4).mean(-1)
        ms.append(float((a - b).norm() / a.norm()))
    assert max(ms) < 2 * size  # Lipschitz with a small constant
    assert min(fm) > 5 * size  # the Fourier modulus moves by much more
    assert min(fm) > 10 * max(ms)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.0, 0.3))
def test_property_warp_preserves_constants_and_translation(seed, size):
    xt, tau = random_warp(torch.full((2, 16, 16), 3.0, dtype=torch.float64), size, ndim=2, generator=gen(seed))
    assert torch.allclose(xt, torch.full_like(xt, 3.0), atol=1e-9)
    assert math.isclose(deformation_size(tau), size, abs_tol=1e-9)


def test_perturb_edges():
    a = torch.zeros(6, 6)
    b = perturb_edges(a, 4, generator=gen(0))
    assert torch.equal(b, b.T) and b.diagonal().sum() == 0 and b.sum() == 8
    assert torch.equal(perturb_edges(b, 0), b)
    with pytest.raises(ValueError):
        perturb_edges(a, 100)
