"""Self-checks for the exercises of section 6.1 (a tour of applications: the recommender demo).

6.1.1: LightGCN's normalised bipartite adjacency; 6.1.2: the AUC as a probability over pairs;
6.1.3: top-k recommendation that leaves out what the user already has.
"""
from __future__ import annotations

import torch

from . import ExerciseFailure, exercise

D = torch.float64


def _interactions(seed: int, num_users: int = 7, num_items: int = 5, density: float = 0.4) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    R = (torch.rand(num_users, num_items, generator=g) < density).to(D)
    R[0] = 0  # a user without interactions: its row of the operator must be zero, not NaN
    R[1, 0] = 1
    return R


def _reference_operator(R: torch.Tensor) -> torch.Tensor:
    U, I = R.shape
    A = torch.zeros(U + I, U + I, dtype=D)
    A[:U, U:] = R
    A[U:, :U] = R.T
    d = A.sum(1)
    s = torch.where(d > 0, d.pow(-0.5), torch.zeros_like(d))
    return s[:, None] * A * s[None, :]


# ---------------------------------------------------------------------------------------- 6.1.1


@exercise("6.1.1", "LightGCN's normalised user-item adjacency")
def _bipartite_operator(bipartite_operator):
    """``bipartite_operator(R)``: (U, I) 0/1 interactions -> (U+I, U+I) matrix D^-1/2 A D^-1/2."""
    for seed in (0, 1, 2):
        R = _interactions(seed)
        U, I = R.shape
        out = bipartite_operator(R.clone())
        if not isinstance(out, torch.Tensor):
            raise ExerciseFailure(f"return a torch.Tensor, got {type(out).__name__}")
        if tuple(out.shape) != (U + I, U + I):
            raise ExerciseFailure(f"for R of shape {(U, I)} the operator acts on all U + I = {U + I} nodes: "
                                  f"expected shape {(U + I, U + I)}, got {tuple(out.shape)}")
        out = out.to(D)
        if not torch.isfinite(out).all():
            raise ExerciseFailure("your matrix has NaN or infinite entries: a node without interactions "
                                  "(degree 0) must get a zero row and column, not 1/sqrt(0)")
        ref = _reference_operator(R)
        if out[:U, :U].abs().max() > 1e-9 or out[U:, U:].abs().max() > 1e-9:
            raise ExerciseFailure("the graph is bipartite: users are linked only to items, so the user-user and "
                                  "item-item blocks (and the diagonal: no self-loops in LightGCN) must be zero")
        if (out - out.T).abs().max() > 1e-9:
            raise ExerciseFailure("your matrix is not symmetric: use the symmetric normalisation "
                                  "D^-1/2 A D^-1/2 (not D^-1 A), with both blocks R and R^T")
        if (out - ref).abs().max() > 1e-9:
            raise ExerciseFailure("the zero pattern is right but the weights are not: entry (u, U + i) should be "
                                  "1 / sqrt(deg(u) deg(i)) with the degrees counted in the bipartite graph")
    return "symmetric, bipartite, no self-loops, weights 1/sqrt(d_u d_i)."


# ---------------------------------------------------------------------------------------- 6.1.2


@exercise("6.1.2", "the AUC as a probability over (positive, negative) pairs")
def _pair_auc(pair_auc):
    """``pair_auc(pos, neg)`` -> float: P(s_pos > s_neg) + P(s_pos = s_neg) / 2."""
    from sklearn.metrics import roc_auc_score

    g = torch.Generator().manual_seed(5)
    cases = [
        (torch.randn(9, generator=g, dtype=D) + 1, torch.randn(13, generator=g, dtype=D)),
        (torch.tensor([1.0, 2.0, 2.0, 0.0], dtype=D), torch.tensor([2.0, 0.0, 1.0], dtype=D)),  # ties
        (torch.tensor([3.0, 3.0], dtype=D), torch.tensor([3.0, 3.0, 3.0], dtype=D)),  # all tied: 1/2
    ]
    for pos, neg in cases:
        try:
            value = float(pair_auc(pos.clone(), neg.clone()))
        except (TypeError, ValueError):
            raise ExerciseFailure("pair_auc should return a number") from None
        ref = roc_auc_score([1] * len(pos) + [0] * len(neg), torch.cat([pos, neg]).numpy())
        if abs(value - ref) > 1e-9:
            if abs(value - (1 - ref)) < 1e-9:
                raise ExerciseFailure("you get 1 - AUC: count the pairs where the *positive* scores higher")
            if len(set(pos.tolist()) & set(neg.tolist())):
                raise ExerciseFailure(f"on scores with ties you give {value:.4f}; a tie between a positive and a "
                                      "negative counts one half")
            raise ExerciseFailure(f"on {len(pos)} positives and {len(neg)} negatives you give {value:.4f}; the AUC is the "
                                  "fraction of all (positive, negative) pairs in which the positive scores higher")
    return "equal to the area under the ROC curve, ties included."


# ---------------------------------------------------------------------------------------- 6.1.3


@exercise("6.1.3", "top-k recommendation without the items already seen")
def _recommend(recommend):
    """``recommend(scores, train, k)``: scores (U, I), train (2, E) (user, item) pairs -> (U, k) item
    indices of the k best-scored items each user has not interacted with, best first."""
    g = torch.Generator().manual_seed(7)
    U, I, k = 6, 9, 3
    scores = torch.randn(U, I, generator=g, dtype=D)
    best = scores.argsort(dim=1, descending=True)
    train_pairs = [(u, int(best[u, j])) for u in range(U) for j in range(u % 3 + 1)]  # each user's top items are seen
    train = torch.tensor(train_pairs).T
    out = recommend(scores.clone(), train.clone(), k)
    if not isinstance(out, torch.Tensor):
        raise ExerciseFailure(f"return a torch.Tensor of item indices, got {type(out).__name__}")
    if tuple(out.shape) != (U, k):
        raise ExerciseFailure(f"expected one row of k = {k} items per user, shape {(U, k)}, got {tuple(out.shape)}")
    if out.dtype.is_floating_point:
        raise ExerciseFailure("return item indices (integers, e.g. from topk(...).indices), not scores")
    out = out.long()
    if out.min() < 0 or out.max() >= I:
        raise ExerciseFailure(f"item indices must lie in [0, {I - 1}] (counted from 0, not offset by the number of users)")
    seen = torch.zeros(U, I, dtype=torch.bool)
    seen[train[0], train[1]] = True
    if seen.gather(1, out).any():
        raise ExerciseFailure("you recommend items the user already interacted with in training: mask them "
                              "(set their scores to -inf) before taking the top k")
    masked = scores.masked_fill(seen, float("-inf"))
    ref = masked.topk(k, dim=1).indices
    if not torch.equal(out, ref):
        if torch.equal(out.sort(1).values, ref.sort(1).values):
            raise ExerciseFailure("the right items, in the wrong order: list them best first")
        raise ExerciseFailure("these are not the k highest-scored unseen items of every user")
    return "the k best unseen items of every user, best first."
