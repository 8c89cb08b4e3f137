"""Self-checks for the exercises of section 5.7 (recurrent neural networks and time warping)."""
from __future__ import annotations

import math

import torch
from torch import nn

from . import ExerciseFailure, exercise
from .ch5 import _tensor


@exercise("5.7.1", "an Elman RNN, one step at a time")
def _elman(elman_rnn):
    """``elman_rnn(x, h0, w_ih, w_hh, b_ih, b_hh)``: x (T, B, I), h0 (B, H) -> states (T, B, H)."""
    gen = torch.Generator().manual_seed(71)
    # input_size == hidden_size, so that a forgotten transpose still has the right shapes
    for I, H, T, B in [(4, 4, 6, 3), (3, 5, 4, 2)]:
        ref = nn.RNN(I, H).double()
        with torch.no_grad():
            for p in ref.parameters():
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.5)
        x = torch.randn(T, B, I, generator=gen, dtype=torch.float64)
        h0 = torch.randn(B, H, generator=gen, dtype=torch.float64)
        want = ref(x, h0[None])[0]
        got = _tensor(elman_rnn(x, h0, ref.weight_ih_l0.detach(), ref.weight_hh_l0.detach(),
                                ref.bias_ih_l0.detach(), ref.bias_hh_l0.detach()), "elman_rnn")
        if tuple(got.shape) != (T, B, H):
            raise ExerciseFailure(f"with T={T}, B={B}, H={H} the states should have shape {(T, B, H)}, got {tuple(got.shape)}")
        err = (got.double() - want).abs().max().item()
        if err > 1e-9:
            if torch.allclose(got[1:].double(), want[:-1], atol=1e-9):
                hint = "your states are one step late: output h_1 .. h_T (after reading x_t), not h_0 .. h_{T-1}"
            else:
                hint = ("compare with h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) for a batch of row "
                        "vectors: check the transposes and that both biases are added")
            raise ExerciseFailure(f"with input_size={I}, hidden_size={H} your states differ from torch.nn.RNN by {err:.2e}; {hint}")


@exercise("5.7.2", "the leak that undoes a uniform time warp")
def _warped_leak(warped_leak):
    """``warped_leak(alpha, c)``: the leak alpha_c with (1 - alpha_c)^c = 1 - alpha."""
    for alpha, c in [(0.5, 2), (0.9, 3), (0.2, 10), (0.05, 4), (0.7, 1)]:
        got = warped_leak(alpha, c)
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise ExerciseFailure(f"warped_leak({alpha}, {c}) should return a number, got {type(got).__name__}") from None
        # simulate: a unit with zero input, leak got, over c steps must keep the fraction 1 - alpha
        kept = (1 - got) ** c
        if not math.isfinite(got) or abs(kept - (1 - alpha)) > 1e-9:
            raise ExerciseFailure(
                f"with alpha={alpha} and c={c}, a unit with your leak {got:.4g} keeps {kept:.4g} of its state "
                f"after c steps of zero input, but the unwarped unit keeps {1 - alpha:.4g} after one step"
                + ("; alpha / c is only the first-order (small alpha) answer" if abs(got - alpha / c) < 1e-12 else "")
            )


@exercise("5.7.3", "how gradients decay with the time lag")
def _jacobian_norms(jacobian_norms):
    """``jacobian_norms(w, T)``: spectral norms of d h_T / d h_{T-k}, k = 0..T-1, for h_t = W h_{t-1} + x_t."""
    gen = torch.Generator().manual_seed(73)
    n, T = 5, 12
    # a non-normal matrix: ||W^k|| is not ||W||^k
    w = torch.triu(torch.randn(n, n, generator=gen, dtype=torch.float64)) * 0.6
    w.diagonal().copy_(torch.linspace(0.3, 0.9, n, dtype=torch.float64))
    got = _tensor(jacobian_norms(w.clone(), T), "jacobian_norms").double().flatten()
    if got.numel() != T:
        raise ExerciseFailure(f"for T={T} return {T} norms (lags k = 0..{T - 1}), got {got.numel()}")
    # reference: d h_T / d h_{T-k} = W^k, of spectral norm sigma_max(W^k)
    want = torch.stack([torch.linalg.matrix_norm(torch.linalg.matrix_power(w, k), ord=2) for k in range(T)])
    if not torch.allclose(got, want, rtol=1e-6, atol=1e-9):
        norm_w = torch.linalg.matrix_norm(w, ord=2)
        if torch.allclose(got, norm_w ** torch.arange(T, dtype=torch.float64), rtol=1e-6):
            raise ExerciseFailure("you returned ||W||^k, an upper bound: the Jacobian is W^k, take the norm of the power")
        if abs(got[0].item() - 1.0) > 1e-9:
            raise ExerciseFailure(f"at lag k = 0 the Jacobian is the identity, of norm 1; you returned {got[0].item():.4g}")
        raise ExerciseFailure("your norms differ from the spectral norms (largest singular value) of W^k; "
                              "check the norm (ord=2, not Frobenius) and the order of the lags")

