"""Self-checks of section 5.6 pass on the reference solutions and fail on plausible wrong ones."""
import math

import numpy as np
import torch

from gdlutils import mesh_conv as mc
from gdlutils.exercises import check, list_exercises


def test_checks_are_registered():
    ids = list_exercises()
    for k in range(1, 10):
        assert f"5.6.{k}" in ids


def test_5_6_1(capsys):
    def ok(V, F, e1, e2, ei):
        q, p = ei
        d = V[q] - V[p]
        return np.arctan2((d * e2[p]).sum(1), (d * e1[p]).sum(1))

    def at_source(V, F, e1, e2, ei):
        q, p = ei
        d = V[p] - V[q]
        return np.arctan2((d * e2[q]).sum(1), (d * e1[q]).sum(1))

    def clockwise(V, F, e1, e2, ei):
        return -ok(V, F, e1, e2, ei)

    assert check("5.6.1", ok)
    assert not check("5.6.1", at_source)
    assert "neighbour's gauge" in capsys.readouterr().out
    assert not check("5.6.1", clockwise)
    assert "sign" in capsys.readouterr().out


def test_5_6_2(capsys):
    def ok(theta, transport, ei, gamma):
        return theta - gamma[ei[1]], transport + gamma[ei[0]] - gamma[ei[1]]

    def plus(theta, transport, ei, gamma):
        return theta + gamma[ei[1]], transport + gamma[ei[0]] - gamma[ei[1]]

    def swapped(theta, transport, ei, gamma):
        return theta - gamma[ei[1]], transport - gamma[ei[0]] + gamma[ei[1]]

    assert check("5.6.2", ok)
    assert not check("5.6.2", plus)
    assert not check("5.6.2", swapped)
    assert "transport" in capsys.readouterr().out


def test_5_6_3():
    def ok(theta, n_theta):
        c = 2 * math.pi * torch.arange(n_theta, dtype=theta.dtype) / n_theta
        d = torch.remainder(theta[:, None] - c + math.pi, 2 * math.pi) - math.pi
        return torch.exp(-0.5 * (d / (math.pi / n_theta)) ** 2)

    def unwrapped(theta, n_theta):
        c = 2 * math.pi * torch.arange(n_theta, dtype=theta.dtype) / n_theta
        return torch.exp(-0.5 * ((theta[:, None] - c) / (math.pi / n_theta)) ** 2)

    def too_wide(theta, n_theta):
        c = 2 * math.pi * torch.arange(n_theta, dtype=theta.dtype) / n_theta
        d = torch.remainder(theta[:, None] - c + math.pi, 2 * math.pi) - math.pi
        return torch.exp(-0.5 * d**2)

    assert check("5.6.3", ok)
    assert not check("5.6.3", unwrapped)
    assert not check("5.6.3", too_wide)


def test_5_6_4(capsys):
    assert check("5.6.4", mc.gem_kernel_basis)

    def only_minus(n_in, n_out, th):
        B = mc.gem_kernel_basis(n_in, n_out, th)
        return B[:2] if len(B) == 4 else B

    def sign_slip(n_in, n_out, th):  # rho_out(th) E rho_in(+th): the input turned the wrong way
        d_in, d_out = (1 if n_in == 0 else 2), (1 if n_out == 0 else 2)
        return np.array([mc._rot(n_out, th) @ np.eye(d_out)[:, [i]] @ np.eye(d_in)[[j]] @ mc._rot(n_in, th)
                         for i in range(d_out) for j in range(d_in)])

    assert not check("5.6.4", only_minus)
    assert "span" in capsys.readouterr().out
    assert not check("5.6.4", sign_slip)
    assert "breaks the constraint" in capsys.readouterr().out


def test_5_6_5(capsys):
    def ok(x, N):
        phi = 2 * math.pi * torch.arange(N, dtype=x.dtype) / N
        f = torch.relu(x[..., :1] + x[..., 1:2] * torch.cos(phi) + x[..., 2:3] * torch.sin(phi))
        return torch.stack([f.mean(-1), 2 / N * (f * torch.cos(phi)).sum(-1), 2 / N * (f * torch.sin(phi)).sum(-1)], -1)

    def no_two(x, N):
        y = ok(x, N)
        return torch.cat([y[..., :1], y[..., 1:] / 2], -1)

    assert check("5.6.5", ok)
    assert not check("5.6.5", lambda x, N: torch.relu(x))
    assert "circle" in capsys.readouterr().out
    assert not check("5.6.5", no_two)


def test_5_6_6(capsys):
    def ok(x, g, M):
        s, z = mc.to_complex(x, M)
        return mc.from_complex(s, z * torch.exp(1j * torch.arange(1, M + 1) * g[:, None, None]))

    def clockwise(x, g, M):
        return ok(x, -g, M)

    def same_speed(x, g, M):
        s, z = mc.to_complex(x, M)
        return mc.from_complex(s, z * torch.exp(1j * g[:, None, None]))

    assert check("5.6.6", ok)
    assert not check("5.6.6", clockwise)
    assert "clockwise" in capsys.readouterr().out
    assert not check("5.6.6", same_speed)
    assert "n times" in capsys.readouterr().out


def test_5_6_7(capsys):
    from gdlutils import mesh as gm

    def ok(labels, faces):
        return np.concatenate([labels, labels[gm.edges(faces)[:, 0]]])

    assert check("5.6.7", ok)
    assert not check("5.6.7", lambda labels, faces: np.concatenate([labels, labels[gm.edges(faces)[:, 1]]]))
    assert "second endpoint" in capsys.readouterr().out
    assert not check("5.6.7", lambda labels, faces: labels)


def test_5_6_8(capsys):
    from gdlutils import mesh as gm

    def lengths(m):
        E = gm.edges(m.faces)
        return np.linalg.norm(m.vertices[E[:, 0]] - m.vertices[E[:, 1]], axis=1)

    assert check("5.6.8", lambda a, b: np.abs(lengths(b) / lengths(a) - 1))
    assert not check("5.6.8", lambda a, b: np.abs(lengths(a) / lengths(b) - 1))
    assert "deformed length" in capsys.readouterr().out
    assert not check("5.6.8", lambda a, b: np.linalg.norm(a.faces[:, :1] * 0.0 + 1, axis=1))


def test_5_6_9(capsys):
    def ok(pred, target, C):
        correct = torch.zeros(C).index_add_(0, target, (pred == target).float())
        count = torch.bincount(target, minlength=C).float()
        return torch.where(count > 0, correct / count.clamp(min=1), torch.full_like(count, float("nan")))

    def zeros_for_empty(pred, target, C):
        correct = torch.zeros(C).index_add_(0, target, (pred == target).float())
        return correct / torch.bincount(target, minlength=C).float().clamp(min=1)

    def by_prediction(pred, target, C):
        return ok(target, pred, C)

    assert check("5.6.9", ok)
    assert not check("5.6.9", zeros_for_empty)
    assert "NaN" in capsys.readouterr().out
    assert not check("5.6.9", by_prediction)
