"""Self-checks of section 5.5: each passes on the reference solution and fails on plausible
wrong answers."""
import pytest
import torch

from gdlutils.exercises import check
from gdlutils.nbody import NBodyData
from gdlutils.groups import transform_points, transform_vectors


def run(id, answer):
    return check(id, answer)


# 5.5.1
def sqd(x):
    return ((x[:, None] - x[None]) ** 2).sum(-1)


@pytest.mark.parametrize("wrong", [
    lambda x: x @ x.T,  # Gram matrix: not translation invariant
    lambda x: torch.cdist(x, x),  # distances, not squared
    lambda x: sqd(x).sort(dim=1).values,  # sorted rows: not permutation-equivariant
    lambda x: sqd(x[:, :2]),  # forgets a coordinate: not rotation invariant
])
def test_5_5_1(wrong):
    assert run("5.5.1", sqd)
    assert not run("5.5.1", wrong)


# 5.5.2
def update(x):
    n = x.shape[0]
    diff = x[:, None] - x[None]
    w = torch.exp(-(diff ** 2).sum(-1, keepdim=True)) * (1 - torch.eye(n, dtype=x.dtype))[..., None]
    return x + (diff * w).sum(1) / (n - 1)


@pytest.mark.parametrize("wrong", [
    lambda x: update(x) - x,  # displacement only
    lambda x: x + (x[None] * torch.exp(-((x[:, None] - x[None]) ** 2).sum(-1, keepdim=True))).sum(1) / (x.shape[0] - 1),  # x_j: not translation-equivariant
    lambda x: x + ((x[:, None] - x[None]) * torch.exp(-((x[:, None] - x[None]) ** 2).sum(-1, keepdim=True))).sum(1) / x.shape[0],  # 1/n
    lambda x: x + ((x[:, None] - x[None]) * torch.exp(-((x[:, None] - x[None]) ** 2).sum(-1, keepdim=True).sqrt())).sum(1) / (x.shape[0] - 1),  # not squared
])
def test_5_5_2(wrong):
    assert run("5.5.2", update)
    assert not run("5.5.2", wrong)


# 5.5.3
def chiral(x):
    return torch.linalg.det(x[1:] - x[0])


@pytest.mark.parametrize("wrong", [
    lambda x: ((x[1] - x[0]) ** 2).sum(),  # O(3)-invariant
    lambda x: torch.linalg.det(x[1:]),  # not translation invariant
    lambda x: x[0, 2] - x[1, 2],  # not rotation invariant
    lambda x: torch.linalg.det(x[1:] - x[0]).abs(),  # reflection-invariant
])
def test_5_5_3(wrong):
    assert run("5.5.3", chiral)
    assert not run("5.5.3", wrong)


# 5.5.4
def fit_time(data):
    return float((data.vel * (data.target - data.loc)).sum() / (data.vel ** 2).sum())


@pytest.mark.parametrize("wrong", [
    lambda data: 1.0,
    lambda data: float(((data.target - data.loc) / data.vel).median()),  # ratio of components
    lambda data: float(((data.target - data.loc).norm(dim=-1) / data.vel.norm(dim=-1)).mean()),  # mean ratio of lengths
])
def test_5_5_4(wrong):
    assert run("5.5.4", fit_time)
    assert not run("5.5.4", wrong)


# 5.5.5
def transform_dataset(data, g):
    return NBodyData(transform_points(g, data.loc), transform_vectors(g, data.vel), data.charges, transform_points(g, data.target))


@pytest.mark.parametrize("wrong", [
    lambda d, g: NBodyData(transform_points(g, d.loc), transform_points(g, d.vel), d.charges, transform_points(g, d.target)),
    lambda d, g: NBodyData(transform_points(g, d.loc), transform_vectors(g, d.vel), d.charges, d.target),
    lambda d, g: NBodyData(d.loc @ g[:3, :3] + g[:3, 3], transform_vectors(g, d.vel), d.charges, d.target @ g[:3, :3] + g[:3, 3]),  # Q^T
])
def test_5_5_5(wrong):
    assert run("5.5.5", transform_dataset)
    assert not run("5.5.5", wrong)


# 5.5.6
def centred(model):
    def f(loc, vel, charges):
        c = loc.mean(1, keepdim=True)
        return model(loc - c, vel, charges) + c
    return f


def forgot_to_add_back(model):
    return lambda loc, vel, q: model(loc - loc.mean(1, keepdim=True), vel, q)


def centres_velocities_too(model):
    def f(loc, vel, q):
        c = loc.mean(1, keepdim=True)
        return model(loc - c, vel - vel.mean(1, keepdim=True), q) + c
    return f


def global_centroid(model):
    def f(loc, vel, q):
        c = loc.mean((0, 1), keepdim=True)
        return model(loc - c, vel, q) + c
    return f


@pytest.mark.parametrize("wrong", [forgot_to_add_back, centres_velocities_too, global_centroid, lambda m: m])
def test_5_5_6(wrong):
    assert run("5.5.6", centred)
    assert not run("5.5.6", wrong)
