"""Self-checks of section 6.1 pass on the reference solutions and fail on plausible wrong ones."""
import pytest
import torch

from gdlutils.exercises import check, list_exercises


def test_checks_are_registered():
    ids = list_exercises()
    for k in (1, 2, 3):
        assert f"6.1.{k}" in ids


# 6.1.1
def operator(R, loops=False, norm="sym", blocks="both", guard=True):
    U, I = R.shape
    A = torch.zeros(U + I, U + I, dtype=R.dtype)
    A[:U, U:] = R
    if blocks == "both":
        A[U:, :U] = R.T
    if loops:
        A = A + torch.eye(U + I, dtype=R.dtype)
    d = A.sum(1)
    if norm == "row":
        inv = torch.where(d > 0, 1 / d, torch.zeros_like(d)) if guard else 1 / d
        return inv[:, None] * A
    s = torch.where(d > 0, d.pow(-0.5), torch.zeros_like(d)) if guard else d.pow(-0.5)
    return s[:, None] * A * s[None, :]


@pytest.mark.parametrize("wrong", [
    lambda R: operator(R, loops=True),  # GCN's self-loops
    lambda R: operator(R, norm="row"),  # D^-1 A
    lambda R: operator(R, blocks="upper"),  # forgets R^T
    lambda R: operator(R, guard=False),  # 1/sqrt(0) for a user without interactions
    lambda R: operator(R) * 2,  # wrong weights
])
def test_6_1_1(wrong):
    assert check("6.1.1", operator)
    assert not check("6.1.1", wrong)


# 6.1.2
def pair_auc(pos, neg):
    diff = pos[:, None] - neg[None, :]
    return float((diff > 0).double().mean() + 0.5 * (diff == 0).double().mean())


@pytest.mark.parametrize("wrong", [
    lambda pos, neg: float((pos[:, None] > neg[None, :]).double().mean()),  # ties count 0
    lambda pos, neg: float((pos[:, None] >= neg[None, :]).double().mean()),  # ties count 1
    lambda pos, neg: pair_auc(neg, pos),  # swapped
    lambda pos, neg: float(((pos > 0).double().sum() + (neg <= 0).double().sum()) / (len(pos) + len(neg))),  # accuracy at 0
])
def test_6_1_2(wrong):
    assert check("6.1.2", pair_auc)
    assert not check("6.1.2", wrong)


# 6.1.3
def recommend(scores, train, k):
    seen = torch.zeros_like(scores, dtype=torch.bool)
    seen[train[0], train[1]] = True
    return scores.masked_fill(seen, float("-inf")).topk(k, dim=1).indices


@pytest.mark.parametrize("wrong", [
    lambda s, t, k: s.topk(k, dim=1).indices,  # recommends seen items
    lambda s, t, k: recommend(s, t, k).flip(1),  # worst of the k first
    lambda s, t, k: recommend(s, t, k + 1),  # off by one
    lambda s, t, k: recommend(-s, t, k),  # lowest scores
    lambda s, t, k: recommend(s, t, k) + s.shape[0],  # items offset by the number of users
    lambda s, t, k: recommend(s, t, k).double(),  # indices as floats
])
def test_6_1_3(wrong):
    assert check("6.1.3", recommend)
    assert not check("6.1.3", wrong)
