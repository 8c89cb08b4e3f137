"""Self-checks for the exercises of section 5.4 (Deep Sets, Transformers, latent graphs).

5.4.1-5.4.3: sets (notebook 5.4 I); 5.4.4-5.4.6: attention and positional encodings (5.4 II);
5.4.7-5.4.9: latent graphs (5.4 III).
"""
from __future__ import annotations

import math

import torch

from ..attention import sinusoidal_encoding
from ..latent_graphs import knn_graph
from ..sets import permute_set, set_pool, stack_sets, to_dense_batch
from . import ExerciseFailure, exercise


def _tensor(value, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ExerciseFailure(f"{what} should return a torch.Tensor, got {type(value).__name__}")
    return value


def _edges(ei: torch.Tensor, what: str) -> set:
    ei = _tensor(ei, what)
    if ei.dim() != 2 or ei.size(0) != 2:
        raise ExerciseFailure(f"{what} should return an edge_index of shape (2, E), got {tuple(ei.shape)}")
    return {tuple(e) for e in ei.t().tolist()}


# ---------------------------------------------------------------------------------------- 5.4 I
@exercise("5.4.1", "the matrix of an equivariant linear layer")
def _equivariant_matrix(equivariant_matrix):
    """``equivariant_matrix(n, lam, gamma)``: the matrix of x -> lam x + gamma (sum x) 1."""
    gen = torch.Generator().manual_seed(41)
    for n, lam, gamma in [(5, 2.0, 0.5), (3, -1.0, 3.0), (7, 0.3, -0.2)]:
        M = _tensor(equivariant_matrix(n, lam, gamma), "equivariant_matrix").to(torch.float64)
        if M.shape != (n, n):
            raise ExerciseFailure(f"for n = {n} the matrix should be ({n}, {n}), got {tuple(M.shape)}")
        x = torch.randn(n, generator=gen, dtype=torch.float64)
        want = lam * x + gamma * x.sum()
        if (M @ x - want).abs().max() > 1e-5 * (1 + want.abs().max()):
            perm = torch.randperm(n, generator=gen)
            equi = (M @ permute_set(perm, x.view(n, 1)).view(n) - permute_set(perm, (M @ x).view(n, 1)).view(n)).abs().max() < 1e-5
            raise ExerciseFailure(
                f"with n = {n}, lam = {lam}, gamma = {gamma}, M @ x differs from lam x + gamma (sum x) 1; "
                + ("your matrix is equivariant: check the scale of the off-diagonal part (a sum, not a mean) and of the diagonal"
                   if equi else "your matrix is not even permutation equivariant: every diagonal entry must be equal, and every off-diagonal one")
            )


@exercise("5.4.2", "mean pooling of padded sets")
def _masked_mean(masked_mean):
    """``masked_mean(x, mask)``: (B, n, C), (B, n) bool (True = present) -> (B, C) means over present elements."""
    gen = torch.Generator().manual_seed(42)
    sets = [torch.randn(k, 3, generator=gen, dtype=torch.float64) for k in (1, 4, 6, 2)]
    dense, mask = to_dense_batch(*stack_sets(sets), fill_value=0.0)
    dense = dense + (~mask).unsqueeze(-1) * 5.0  # padding holds garbage, not zeros
    got = _tensor(masked_mean(dense.clone(), mask.clone()), "masked_mean")
    want = torch.stack([s.mean(0) for s in sets])
    if got.shape != want.shape:
        raise ExerciseFailure(f"4 padded sets with 3 channels should give (4, 3), got {tuple(got.shape)}")
    if (got - want).abs().max() > 1e-9:
        ok_rows = [(got[b] - want[b]).abs().max().item() < 1e-9 for b in range(4)]
        raise ExerciseFailure(
            f"the means are wrong for sets of sizes {[len(s) for s, ok in zip(sets, ok_rows) if not ok]} "
            "(padded to 6, the padding holds arbitrary values): multiply by the mask before summing and divide by the "
            "number of present elements, not by the padded length"
        )


@exercise("5.4.3", "variance as a sum decomposition")
def _set_variance(set_variance):
    """``set_variance(x, batch)``: (N, C), (N,) -> (num_sets, C) biased variance per set."""
    gen = torch.Generator().manual_seed(43)
    sets = [torch.randn(k, 2, generator=gen, dtype=torch.float64) * 3 + 1 for k in (3, 1, 5)]
    x, batch = stack_sets(sets)
    got = _tensor(set_variance(x.clone(), batch.clone()), "set_variance")
    want = torch.stack([s.var(0, unbiased=False) for s in sets])
    if got.shape != want.shape:
        raise ExerciseFailure(f"3 sets with 2 channels should give (3, 2), got {tuple(got.shape)}")
    if (got - want).abs().max() > 1e-9:
        unbiased = torch.stack([s.var(0, unbiased=True) if len(s) > 1 else torch.full((2,), float("nan"), dtype=s.dtype) for s in sets])
        hint = ("you computed the unbiased variance (divided by n - 1): use the mean of the squares minus the square of the mean"
                if torch.allclose(got[[0, 2]], unbiased[[0, 2]]) else
                "compare with mean(x^2) - mean(x)^2 computed set by set (pool per set with batch, not over the whole tensor)")
        raise ExerciseFailure(f"the variances of sets of sizes 3, 1, 5 are wrong; {hint}")
    perm = torch.randperm(x.size(0), generator=gen)
    if (set_variance(x[perm], batch[perm]) - want).abs().max() > 1e-9:
        raise ExerciseFailure("shuffling the elements (with their batch ids) changes your answer: it must not depend on the order")


# ---------------------------------------------------------------------------------------- 5.4 II
@exercise("5.4.4", "an attention mask as a graph")
def _mask_to_edge_index(mask_to_edge_index):
    """``mask_to_edge_index(attn_mask)``: bool (L, S), True = not allowed -> (2, E) with row 0 = key j, row 1 = query i."""
    gen = torch.Generator().manual_seed(44)
    mask = torch.rand(4, 6, generator=gen) < 0.5
    got = _edges(mask_to_edge_index(mask.clone()), "mask_to_edge_index")
    want = {(j, i) for i in range(4) for j in range(6) if not mask[i, j]}
    if got == want:
        return
    if got == {(i, j) for j, i in want}:
        raise ExerciseFailure("your edges point the wrong way: messages flow from the key j (edge_index[0]) to the query i (edge_index[1])")
    if got == {(j, i) for i in range(4) for j in range(6) if mask[i, j]}:
        raise ExerciseFailure("you kept the masked pairs: in nn.MultiheadAttention's convention True means *not* allowed to attend")
    raise ExerciseFailure(f"for a (4, 6) mask with {len(want)} allowed pairs you returned {len(got)} edges, not the allowed (key, query) pairs")


@exercise("5.4.5", "the spectrum of a cycle")
def _cycle_spectrum(cycle_spectrum):
    """``cycle_spectrum(n)``: eigenvalues of L = D - A of the n-cycle, ascending, as a tensor."""
    for n in (5, 8, 41):
        got = _tensor(cycle_spectrum(n), "cycle_spectrum").to(torch.float64).reshape(-1)
        k = torch.arange(n, dtype=torch.float64)
        want = torch.sort(2 - 2 * torch.cos(2 * math.pi * k / n)).values
        if got.shape != (n,):
            raise ExerciseFailure(f"the {n}-cycle has {n} eigenvalues, you returned {got.numel()}")
        if (got - want).abs().max() > 1e-5:
            if (torch.sort(got).values - want).abs().max() < 1e-5:
                raise ExerciseFailure(f"the values are right for n = {n} but not in ascending order")
            if (got - want / 2).abs().max() < 1e-5:
                raise ExerciseFailure("these are the eigenvalues of the normalised Laplacian; the exercise asks for L = D - A")
            raise ExerciseFailure(f"wrong eigenvalues for n = {n}: the cycle is circulant, so its eigenvectors are Fourier modes")


@exercise("5.4.6", "relative positions are rotations")
def _relative_rotation(relative_rotation):
    """``relative_rotation(t, dim)``: R (dim, dim) with PE[p + t] = PE[p] @ R for the sinusoidal encoding."""
    for t, dim in [(1, 8), (5, 16), (17, 6)]:
        R = _tensor(relative_rotation(t, dim), "relative_rotation").to(torch.float64)
        if R.shape != (dim, dim):
            raise ExerciseFailure(f"for dim = {dim} R should be ({dim}, {dim}), got {tuple(R.shape)}")
        pe = sinusoidal_encoding(60, dim).double()
        err = (pe[:-t] @ R - pe[t:]).abs().max().item()
        if err > 1e-6:
            back = (pe[t:] @ R - pe[:-t]).abs().max().item()
            raise ExerciseFailure(
                f"with t = {t}, dim = {dim}: PE[p] @ R differs from PE[p + t] by {err:.2e}; "
                + ("your R moves positions backwards (transpose it, or flip the sign of the sines)" if back < 1e-6
                   else "R is block diagonal, one 2x2 rotation per frequency (sin(a + b) = sin a cos b + cos a sin b)")
            )


# ---------------------------------------------------------------------------------------- 5.4 III
@exercise("5.4.7", "a brute-force k-NN graph")
def _knn_edges(knn_edges):
    """``knn_edges(x, k)``: (n, d) -> (2, n k): edge j -> i for the k nearest j != i of each i."""
    gen = torch.Generator().manual_seed(47)
    x = torch.randn(40, 3, generator=gen, dtype=torch.float64)
    got = _edges(knn_edges(x.clone(), 4), "knn_edges")
    want = _edges(knn_graph(x, 4), "knn_graph")
    if got == want:
        return
    if got == {(i, j) for j, i in want}:
        raise ExerciseFailure("your edges point from the centre to its neighbours; the convention is neighbour j (row 0) -> centre i (row 1)")
    if any(j == i for j, i in got):
        raise ExerciseFailure("your graph has self-loops: a point is not one of its own k nearest neighbours here")
    raise ExerciseFailure(f"for 40 points and k = 4 you returned {len(got)} edges, {len(got & want)} of the 160 right ones")


@exercise("5.4.8", "the EdgeConv edge features")
def _edge_features(edge_features):
    """``edge_features(x, edge_index)``: (n, C), (2, E) -> (E, 2C) rows [x_i, x_j - x_i] for edge j -> i."""
    gen = torch.Generator().manual_seed(48)
    x = torch.randn(10, 3, generator=gen, dtype=torch.float64)
    ei = torch.randint(0, 10, (2, 25), generator=gen)
    got = _tensor(edge_features(x.clone(), ei.clone()), "edge_features")
    j, i = ei
    want = torch.cat([x[i], x[j] - x[i]], 1)
    if got.shape != want.shape:
        raise ExerciseFailure(f"25 edges and 3 channels should give (25, 6), got {tuple(got.shape)}")
    if (got - want).abs().max() > 1e-12:
        if (got - torch.cat([x[j], x[i] - x[j]], 1)).abs().max() < 1e-12:
            raise ExerciseFailure("you swapped the roles: the centre is the target i = edge_index[1], the neighbour j = edge_index[0]")
        if (got[:, :3] - x[i]).abs().max() < 1e-12:
            raise ExerciseFailure("the first half (the centre x_i) is right; the second half should be the offset x_j - x_i")
        raise ExerciseFailure("the rows should be [x_i, x_j - x_i] with i = edge_index[1] (centre) and j = edge_index[0] (neighbour)")


@exercise("5.4.9", "how much a graph changes")
def _edge_jaccard(edge_jaccard):
    """``edge_jaccard(ei_a, ei_b)``: |A & B| / |A | B| of the sets of directed edges."""
    a = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    cases = [
        (a, a, 1.0),
        (a, a.flip(0), 0.0),  # reversed edges are different directed edges
        (a, torch.tensor([[0, 1, 0], [1, 2, 2]]), 2 / 5),
        (torch.tensor([[0, 0, 1], [1, 1, 2]]), torch.tensor([[0], [1]]), 1 / 2),  # duplicates count once
    ]
    for ea, eb, want in cases:
        got = float(edge_jaccard(ea.clone(), eb.clone()))
        if abs(got - want) > 1e-9:
            raise ExerciseFailure(
                f"for A = {ea.t().tolist()} and B = {eb.t().tolist()} you returned {got:.3f}; edges are directed pairs "
                "(j, i), counted once, and the score is |A and B| / |A or B|"
            )
