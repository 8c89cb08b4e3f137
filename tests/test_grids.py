"""gdlutils.grids against scipy, numpy's FFT and torch's conv with circular padding."""
import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from gdlutils import grids as R


def test_circulant_matches_scipy_and_shift():
    w = torch.randn(7, dtype=torch.double)
    assert np.allclose(R.circulant(w).numpy(), scipy.linalg.circulant(w.numpy()))
    S = R.shift_matrix(7)
    x = torch.randn(7, dtype=torch.double)
    assert torch.allclose(S @ x, torch.roll(x, 1)) and torch.allclose(S @ x, R.shift(x))
    assert torch.allclose(R.circulant(torch.eye(7, dtype=torch.double)[1]), S)
    assert R.commutator_norm(R.circulant(w), S) < 1e-12
    assert R.is_circulant(R.circulant(w)) and not R.is_circulant(torch.randn(7, 7, dtype=torch.double))


def test_fourier_basis_diagonalises_circulants():
    n = 12
    Phi = R.fourier_basis(n)
    assert torch.allclose(Phi.conj().T @ Phi, torch.eye(n, dtype=torch.cdouble), atol=1e-12)
    x = torch.randn(n, dtype=torch.double)
    assert torch.allclose(Phi.conj().T @ x.to(torch.cdouble), torch.fft.fft(x, norm="ortho"))
    w = torch.randn(5, dtype=torch.double)
    C = R.circulant(w, n).to(torch.cdouble)
    D = Phi.conj().T @ C @ Phi
    assert torch.allclose(D, torch.diag(R.circulant_eigenvalues(w, n)), atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 16), st.integers(1, 5), st.integers(0, 1000))
def test_three_1d_convolutions_agree(n, m, seed):
    m = min(m, n)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, n, dtype=torch.double, generator=g)
    w = torch.randn(m, dtype=torch.double, generator=g)
    a, b, c = R.conv1d_sliding(x, w), R.conv1d_circulant(x, w), R.conv1d_fft(x, w)
    assert torch.allclose(a, b) and torch.allclose(a, c)
    # reference: numpy FFT
    ref = np.real(np.fft.ifft(np.fft.fft(x.numpy()) * np.fft.fft(np.pad(w.numpy(), (0, n - m)))))
    assert np.allclose(a.numpy(), ref)
    # shift equivariance
    assert torch.allclose(R.conv1d_fft(torch.roll(x, 3, -1), w), torch.roll(c, 3, -1))


def test_three_2d_convolutions_agree_with_torch_conv2d():
    torch.manual_seed(0)
    x = torch.randn(3, 6, 7, dtype=torch.double)
    w = torch.randn(3, 3, dtype=torch.double)
    a = R.conv2d_sliding(x, w)
    b = (R.conv2d_matrix(w, (6, 7)) @ x.reshape(3, -1).T).T.reshape(3, 6, 7)
    c = R.conv2d_fft(x, w)
    assert torch.allclose(a, b) and torch.allclose(a, c)
    # torch computes a correlation with a centred window: flip the filter and pad circularly
    ref = F.conv2d(F.pad(x[:, None], (2, 0, 2, 0), mode="circular"), w.flip(0, 1)[None, None])[:, 0]
    assert torch.allclose(a, ref)


def test_bad_input():
    with pytest.raises(ValueError, match="larger than the grid"):
        R.conv1d_fft(torch.randn(4), torch.randn(6))
    with pytest.raises(ValueError, match="2-D filter"):
        R.conv2d_sliding(torch.randn(5, 5), torch.randn(3))
    with pytest.raises(ValueError, match="square"):
        R.is_circulant(torch.randn(3, 4))
    with pytest.raises(ValueError, match="positive integer"):
        R.shift_matrix(0)
