"""Self-checks for the exercises of section 5.3 that live outside ``ch5.py``.

5.3.10-5.3.12: depth, over-smoothing and initial residuals (notebook 5.3 IV,
:doc:`/book/05_models/05_3_4_depth`). (5.3.1-5.3.9 are in ``ch5.py``.)
"""
from __future__ import annotations

import math

import torch

from ..message_passing import gcn_norm
from . import ExerciseFailure, exercise


def _tensor(value, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ExerciseFailure(f"{what} should return a torch.Tensor, got {type(value).__name__}")
    return value


def _graph(n: int, extra: int, seed: int) -> torch.Tensor:
    """A connected, undirected, irregular graph without self-loops: a path plus random chords,
    both directions listed; it has odd cycles (a triangle 0-1-2), so it is not bipartite."""
    g = torch.Generator().manual_seed(seed)
    src = torch.cat([torch.arange(n - 1), torch.tensor([0]), torch.randint(0, n, (extra,), generator=g)])
    dst = torch.cat([torch.arange(1, n), torch.tensor([2]), torch.randint(0, n, (extra,), generator=g)])
    keep = src != dst
    ei = torch.stack([src[keep], dst[keep]])
    ei = torch.cat([ei, ei.flip(0)], 1)
    return torch.unique(ei, dim=1)


def _a_hat(ei: torch.Tensor, n: int) -> torch.Tensor:
    e, w = gcn_norm(ei, num_nodes=n, dtype=torch.float64)
    return torch.zeros(n, n, dtype=torch.float64).index_put_((e[1], e[0]), w, accumulate=True)


def _scalar(value, what: str) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ExerciseFailure(f"{what} should return one number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ExerciseFailure(f"{what} should return a finite number, got {value!r}")
    return float(value)


@exercise("5.3.10", "the normalised Dirichlet energy")
def _normalized_energy(normalized_energy):
    """``normalized_energy(h, edge_index)``: trace(H^T (I - A_hat) H) / ||H||_F^2."""
    for n, extra, seed in [(9, 6, 0), (14, 12, 1)]:
        ei = _graph(n, extra, seed)
        h = torch.randn(n, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        ref = (torch.trace(h.T @ (torch.eye(n, dtype=torch.float64) - _a_hat(ei, n)) @ h) / h.pow(2).sum()).item()
        got = _scalar(normalized_energy(h.clone(), ei.clone()), "normalized_energy")
        if abs(got - ref) > 1e-6:
            scaled = _scalar(normalized_energy(3.0 * h, ei.clone()), "normalized_energy")
            if abs(scaled - got) > 1e-6 * max(1.0, abs(got)):
                raise ExerciseFailure("the measure should not change when H is multiplied by 3: divide by the squared norm of H")
            if abs(got - 2 * ref) < 1e-6:
                raise ExerciseFailure("twice the expected value: with both directions of every edge listed, the sum over edges needs the factor 1/2")
            raise ExerciseFailure(f"wrong value on an irregular graph with {n} nodes: did you scale row i by 1/sqrt(d~_i) "
                                  "with d~_i = 1 + degree (the self-loop counted)?")
    # the over-smoothing limit sqrt(d~) has energy zero
    ei = _graph(10, 8, 2)
    d = torch.bincount(ei[1], minlength=10).double() + 1
    zero = _scalar(normalized_energy(d.sqrt()[:, None].repeat(1, 2), ei.clone()), "normalized_energy")
    if abs(zero) > 1e-8:
        raise ExerciseFailure(f"the over-smoothed signal sqrt(d~) should have energy 0, got {zero:.3g}")


@exercise("5.3.11", "a GCNII layer by hand")
def _gcn2_layer(gcn2_layer):
    """``gcn2_layer(x, x0, edge_index, weight, alpha, beta)``: ((1-a) A_hat x + a x0)((1-b) I + b W)."""
    for n, c, seed, alpha, beta in [(8, 3, 0, 0.1, 0.4), (12, 4, 1, 0.3, 0.9)]:
        ei = _graph(n, 5, seed)
        g = torch.Generator().manual_seed(seed + 10)
        x, x0 = torch.randn(n, c, generator=g, dtype=torch.float64), torch.randn(n, c, generator=g, dtype=torch.float64)
        w = torch.randn(c, c, generator=g, dtype=torch.float64)
        out = _tensor(gcn2_layer(x.clone(), x0.clone(), ei.clone(), w.clone(), alpha, beta), "gcn2_layer").double()
        if out.shape != (n, c):
            raise ExerciseFailure(f"expected shape ({n}, {c}), got {tuple(out.shape)}")
        eye = torch.eye(c, dtype=torch.float64)
        h = (1 - alpha) * _a_hat(ei, n) @ x + alpha * x0
        ref = h @ ((1 - beta) * eye + beta * w)
        if torch.allclose(out, ref, atol=1e-8):
            continue
        if torch.allclose(out, h @ ((1 - beta) * eye + beta * w.T), atol=1e-8):
            raise ExerciseFailure("the weight is applied transposed: a row vector of features is multiplied as h @ W")
        if torch.allclose(out, (1 - alpha) * _a_hat(ei, n) @ x @ ((1 - beta) * eye + beta * w) + alpha * x0, atol=1e-8):
            raise ExerciseFailure("the initial residual alpha x0 must be added before the identity mapping, not after")
        raise ExerciseFailure(f"wrong values (alpha = {alpha}, beta = {beta}): is A_hat the renormalised adjacency with self-loops?")


@exercise("5.3.12", "the over-smoothing limit")
def _oversmoothing_limit(oversmoothing_limit):
    """``oversmoothing_limit(x, edge_index)``: lim_k A_hat^k x on a connected, non-bipartite graph."""
    for n, extra, seed in [(9, 4, 3), (15, 10, 4)]:
        ei = _graph(n, extra, seed)
        x = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        ref = torch.linalg.matrix_power(_a_hat(ei, n), 2000) @ x
        out = _tensor(oversmoothing_limit(x.clone(), ei.clone()), "oversmoothing_limit").double()
        if out.shape != x.shape:
            raise ExerciseFailure(f"expected shape {tuple(x.shape)}, got {tuple(out.shape)}")
        if torch.allclose(out, ref, atol=1e-6):
            continue
        if torch.allclose(out, x.mean(0, keepdim=True).expand_as(x), atol=1e-6):
            raise ExerciseFailure("every row equal to the mean is the limit of the random walk D^-1 A, not of the "
                                  "symmetric A_hat: its top eigenvector is sqrt(d~), not constant")
        raise ExerciseFailure(f"wrong limit on a graph with {n} nodes: project x onto the top eigenvector of A_hat "
                              "(eigenvalue 1), built from the degrees with self-loops")
