"""The self-checks of exercises 4.4.x-4.6.x pass on reference solutions and fail on wrong ones."""
from __future__ import annotations

import numpy as np
import pytest

from gdlutils import mesh as gm
from gdlutils.exercises import check


def _passes(id, answer):
    return check(id, answer, quiet=True)


# 4.4.1
def test_analysis():
    assert _passes("4.4.1", lambda phi, M, f: phi.T @ (M @ f))
    assert not _passes("4.4.1", lambda phi, M, f: phi.T @ f)  # forgot the mass matrix
    assert not _passes("4.4.1", lambda phi, M, f: (phi.T @ (M @ f))[:-1])
    # least squares without the mass matrix: right on the span, wrong best approximation outside it
    assert not _passes("4.4.1", lambda phi, M, f: np.linalg.lstsq(phi, f, rcond=None)[0])
    assert not _passes("4.4.1", lambda phi, M, f: (M @ phi).T @ (M @ f))  # the mass matrix twice


# 4.4.2
def test_hks():
    assert _passes("4.4.2", lambda lam, phi, t: (phi**2) @ np.exp(-np.outer(lam, t)))
    assert not _passes("4.4.2", lambda lam, phi, t: phi @ np.exp(-np.outer(lam, t)))  # not squared
    assert not _passes("4.4.2", lambda lam, phi, t: (phi**2) @ np.exp(-np.outer(lam, t)).T[:1].T)
    assert not _passes("4.4.2", lambda lam, phi, t: (phi[:, 1:] ** 2) @ np.exp(-np.outer(lam[1:], t)))  # drops phi_0
    assert not _passes("4.4.2", lambda lam, phi, t: (phi**2) @ np.exp(-np.outer(np.sqrt(np.abs(lam)), t)))  # e^{-sqrt(lam) t}


# 4.4.3
def _unit_field(V, F, u):
    g = gm.gradient(V, F, u)
    n = np.linalg.norm(g, axis=1, keepdims=True)
    return -np.divide(g, n, out=np.zeros_like(g), where=n > 0)


def test_unit_field():
    assert _passes("4.4.3", _unit_field)
    assert not _passes("4.4.3", lambda V, F, u: -_unit_field(V, F, u))  # towards the source
    assert not _passes("4.4.3", lambda V, F, u: -gm.gradient(V, F, u))  # not normalised
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN where the gradient vanishes
        assert not _passes("4.4.3", lambda V, F, u: -gm.gradient(V, F, u) / np.linalg.norm(gm.gradient(V, F, u), axis=1, keepdims=True))


# 4.5.1
def test_change_gauge():
    def good(c, g):
        return np.stack([np.cos(g) * c[:, 0] + np.sin(g) * c[:, 1], -np.sin(g) * c[:, 0] + np.cos(g) * c[:, 1]], 1)

    assert _passes("4.5.1", good)
    assert not _passes("4.5.1", lambda c, g: good(c, -g))  # rotated the wrong way
    assert not _passes("4.5.1", lambda c, g: c)
    assert not _passes("4.5.1", lambda c, g: good(c, 2 * g))  # the angle counted twice


# 4.5.2
def test_equivariant_kernel():
    def good(t):
        u = np.array([np.cos(t), np.sin(t)])
        return np.outer(u, u)

    assert _passes("4.5.2", good)
    assert not _passes("4.5.2", lambda t: np.eye(2))  # equivariant but constant
    assert not _passes("4.5.2", lambda t: np.array([[np.cos(t), 0.0], [0.0, 1.0]]))
    assert not _passes("4.5.2", lambda t: np.zeros((2, 2)))


# 4.5.3
def test_holonomy():
    def good(V, F, loop):
        pairs, rho = gm.transport_angles(V, F)
        table = {(int(a), int(b)): r for (a, b), r in zip(pairs, rho)}
        table.update({(b, a): -r for (a, b), r in list(table.items())})
        return float(np.angle(np.exp(1j * sum(table[(int(f), int(g))] for f, g in zip(loop, np.roll(loop, -1))))))

    def forgets_sign(V, F, loop):
        pairs, rho = gm.transport_angles(V, F)
        table = {(int(a), int(b)): r for (a, b), r in zip(pairs, rho)}
        table.update({(b, a): r for (a, b), r in list(table.items())})
        return float(np.angle(np.exp(1j * sum(table[(int(f), int(g))] for f, g in zip(loop, np.roll(loop, -1))))))

    def open_loop(V, F, loop):  # off by one: the step from the last face back to the first is missing
        pairs, rho = gm.transport_angles(V, F)
        table = {(int(a), int(b)): r for (a, b), r in zip(pairs, rho)}
        table.update({(b, a): -r for (a, b), r in list(table.items())})
        return float(sum(table[(int(f), int(g))] for f, g in zip(loop[:-1], loop[1:])))

    assert _passes("4.5.3", good)
    assert not _passes("4.5.3", forgets_sign)
    assert not _passes("4.5.3", open_loop)


# 4.6.1
def test_euler():
    def good(F):
        e = np.sort(np.concatenate([F[:, [0, 1]], F[:, [1, 2]], F[:, [2, 0]]]), axis=1)
        return len(np.unique(F)) - len(np.unique(e, axis=0)) + len(F)

    assert _passes("4.6.1", good)
    assert not _passes("4.6.1", lambda F: len(np.unique(F)) - 3 * len(F) + len(F))
    assert not _passes("4.6.1", lambda F: int(F.max()) + 1 - 3 * len(F) // 2 + len(F))  # fails on the sheet


# 4.6.2
def test_defect():
    assert _passes("4.6.2", gm.angle_defect)
    assert not _passes("4.6.2", lambda V, F: np.pi - (2 * np.pi - gm.angle_defect(V, F)))
    # the Gaussian curvature (defect per unit area) instead of the defect itself
    assert not _passes("4.6.2", lambda V, F: gm.angle_defect(V, F) / np.bincount(F.ravel(), minlength=len(V)))
    assert not _passes("4.6.2", lambda V, F: 2 * np.pi - gm.angle_defect(V, F))  # the angle sum


# 4.6.3
def test_e3_features():
    def good(pos, ei):
        d = np.linalg.norm(pos[ei[0]] - pos[ei[1]], axis=1)
        return np.stack([np.bincount(ei[0], minlength=len(pos)), np.bincount(ei[0], weights=d, minlength=len(pos))], 1)

    assert _passes("4.6.3", good)
    assert not _passes("4.6.3", lambda pos, ei: pos)  # coordinates
    assert not _passes("4.6.3", lambda pos, ei: np.linalg.norm(pos, axis=1, keepdims=True))  # not translation invariant
    assert not _passes("4.6.3", lambda pos, ei: np.bincount(ei[0], minlength=len(pos))[:, None] * 1.0)  # ignores scale


def test_all_ids_registered():
    from gdlutils.exercises import list_exercises

    ids = list_exercises()
    for i in ("4.4.1", "4.4.2", "4.4.3", "4.5.1", "4.5.2", "4.5.3", "4.6.1", "4.6.2", "4.6.3"):
        assert i in ids
