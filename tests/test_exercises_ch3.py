"""The chapter 3 self-checks pass on the reference solutions and fail on wrong ones."""
import itertools
import math

import torch

from gdlutils.blueprint import grid_blueprint
from gdlutils.deformations import fourier_modulus, multiscale_features
from gdlutils.exercises import check, list_exercises
from gdlutils.groups import DihedralGroup, act_on_image


def passes(id_, answer):
    return check(id_, answer, quiet=True)


# ---- reference solutions (the same as in the book) ------------------------------------------

def moving_average(x):
    return (torch.roll(x, 1) + x + torch.roll(x, -1)) / 3


def rho_d6(g):
    r, m = g
    t = 2 * math.pi * r / 6
    rot = torch.tensor([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]], dtype=torch.float64)
    return rot @ torch.diag(torch.tensor([-1.0, 1.0], dtype=torch.float64)) if m else rot


def d4_invariant(x):
    return torch.stack([act_on_image(g, x) for g in DihedralGroup(4).elements()]).mean(0).flatten()


def find_isomorphism(a, b):
    n = a.shape[0]
    if b.shape != a.shape:
        return None
    for p in itertools.permutations(range(n)):
        p = torch.tensor(p)
        if torch.equal(a[p][:, p], b):
            return p
    return None


def automorphisms(a):
    n = a.shape[0]
    return [torch.tensor(p) for p in itertools.permutations(range(n)) if torch.equal(a[list(p)][:, list(p)], a)]


def graph_invariant(a):
    return torch.stack([torch.trace(torch.linalg.matrix_power(a, k)) for k in range(1, 5)])


def deformation_size_1d(tau):
    return ((torch.roll(tau, -1) - torch.roll(tau, 1)) / 2).abs().max()


def warp(x, tau):
    n = x.shape[-1]
    pos = torch.arange(n, dtype=torch.float64) - tau
    lo = torch.floor(pos)
    frac = pos - lo
    i0 = lo.long() % n
    return x[i0] * (1 - frac) + x[(i0 + 1) % n] * frac


def stable_invariant(x):
    return multiscale_features(x, 4).mean(-1)


def haar_step(x):
    return (x[0::2] + x[1::2]) / math.sqrt(2), (x[0::2] - x[1::2]) / math.sqrt(2)


def coarsen_image(x, k):
    h, w = x.shape
    return x.reshape(h // k, k, w // k, k).mean((1, 3))


def coarse_adjacency(a, labels):
    s = torch.nn.functional.one_hot(labels).to(a.dtype)
    return s.T @ a @ s


def symmetrize(f):
    return lambda x: sum(f(act_on_image(g, x)) for g in DihedralGroup(4).elements()) / 8


def project_equivariant(w, reps):
    return sum(r.T @ w @ r for r in reps) / len(reps)


REFERENCE = {
    "3.1.1": moving_average, "3.1.2": rho_d6, "3.1.3": d4_invariant,
    "3.2.1": find_isomorphism, "3.2.2": automorphisms, "3.2.3": graph_invariant,
    "3.3.1": deformation_size_1d, "3.3.2": warp, "3.3.3": stable_invariant,
    "3.4.1": haar_step, "3.4.2": coarsen_image, "3.4.3": coarse_adjacency,
    "3.5.2": symmetrize, "3.5.3": project_equivariant,
}

WRONG = {
    "3.1.1": [lambda x: (x[:-2] + x[1:-1] + x[2:]) / 3,  # not periodic: wrong length
              lambda x: (torch.roll(x, 1) + x + torch.roll(x, -1)),  # not an average
              lambda x: x * torch.arange(len(x))],  # not equivariant
    "3.1.2": [lambda g: rho_d6((g[0], 0)),  # ignores the mirror: not faithful
              # mirror after the rotation instead of before: not a homomorphism
              lambda g: torch.diag(torch.tensor([-1.0, 1.0], dtype=torch.float64)) @ rho_d6((g[0], 0)) if g[1] else rho_d6(g),
              # rotation angle 2 pi r / 12: R^3 R^3 != identity
              lambda g: torch.tensor(
                  [[math.cos(math.pi * g[0] / 6), -math.sin(math.pi * g[0] / 6)],
                   [math.sin(math.pi * g[0] / 6), math.cos(math.pi * g[0] / 6)]], dtype=torch.float64)],
    "3.1.3": [lambda x: x.flatten(), lambda x: torch.tensor([1.0]),
              lambda x: torch.stack([torch.rot90(x, k) for k in range(4)]).mean(0).flatten()],
    "3.2.1": [lambda a, b: torch.arange(a.shape[0]) if a.shape == b.shape else None,
              # the inverse permutation (B[p][:, p] == A): the right map read in the wrong direction
              lambda a, b: find_isomorphism(b, a),
              lambda a, b: (torch.arange(a.shape[0]) if sorted(a.sum(0).tolist()) == sorted(b.sum(0).tolist())
                            and a.shape == b.shape else None)],
    "3.2.2": [lambda a: [torch.arange(a.shape[0])], lambda a: automorphisms(a)[:-1]],
    "3.2.3": [lambda a: torch.sort(a.sum(0)).values, lambda a: a.sum(0), lambda a: a.sum().reshape(1)],
    "3.3.1": [lambda tau: tau.abs().max(), lambda tau: (torch.roll(tau, -1) - torch.roll(tau, 1)).abs().max(),
              lambda tau: (tau[1:] - tau[:-1]).abs().max() * 1.1],
    "3.3.2": [lambda x, tau: warp(x, -tau), lambda x, tau: x[(torch.arange(x.shape[0]) - tau.round().long()) % x.shape[0]]],
    "3.3.3": [lambda x: fourier_modulus(x), lambda x: x.norm().reshape(1), lambda x: multiscale_features(x, 4)],
    "3.4.1": [lambda x: ((x[0::2] + x[1::2]) / 2, (x[0::2] - x[1::2]) / 2),
              lambda x: ((x[0::2] + x[1::2]) / math.sqrt(2), (x[1::2] - x[0::2]) / math.sqrt(2))],
    "3.4.2": [lambda x, k: x[::k, ::k], lambda x, k: x.reshape(x.shape[0] // k, k, x.shape[1] // k, k).sum((1, 3))],
    "3.4.3": [lambda a, lab: (lambda s: s.T @ a @ s - torch.diag(torch.diag(s.T @ a @ s)))(
                  torch.nn.functional.one_hot(lab).double()),
              lambda a, lab: (lambda s: (s.T @ a @ s > 0).double())(torch.nn.functional.one_hot(lab).double())],
    "3.5.2": [lambda f: (lambda x: sum(f(act_on_image(g, x)) for g in DihedralGroup(4).elements())),
              lambda f: (lambda x: sum(f(torch.rot90(x, k)) for k in range(4)) / 4)],
    "3.5.3": [lambda w, reps: sum(r @ w for r in reps) / len(reps), lambda w, reps: sum(r.T @ w @ r for r in reps),
              lambda w, reps: (w + w.T) / 2,
              # equivariant, idempotent and trace-preserving, but it keeps only the multiple of the identity
              lambda w, reps: torch.trace(w) / w.shape[0] * torch.eye(w.shape[0], dtype=w.dtype),
              # averaged over half of the group only
              lambda w, reps: sum(r.T @ w @ r for r in reps[: len(reps) // 2]) / (len(reps) // 2)],
}


def test_every_exercise_is_registered():
    ids = [k for k in list_exercises() if k.startswith("3.")]
    assert len(ids) == 15
    assert set(REFERENCE) | {"3.5.1"} == set(ids)


def test_references_pass():
    for id_, answer in REFERENCE.items():
        assert passes(id_, answer), id_


def test_blueprint_exercise():
    torch.manual_seed(0)
    assert passes("3.5.1", grid_blueprint(1, (8, 16), 1, pool_factor=1))
    assert not passes("3.5.1", grid_blueprint(1, (8, 16), 1, pool_factor=2))
    assert not passes("3.5.1", grid_blueprint(1, (8,), 1, pool_factor=1))  # one conv only
    assert not passes("3.5.1", torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(32, 1)))


def test_wrong_answers_fail(capsys):
    for id_, answers in WRONG.items():
        for k, answer in enumerate(answers):
            assert not passes(id_, answer), (id_, k)
    # the failure message is printed, with a hint
    assert not check("3.3.3", lambda x: fourier_modulus(x))
    out = capsys.readouterr().out
    assert "not stable" in out and "✗" in out


def test_pass_message(capsys):
    assert check("3.4.1", haar_step)
    assert "✓ Exercise 3.4.1" in capsys.readouterr().out
