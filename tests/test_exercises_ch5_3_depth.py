"""Self-checks 5.3.10-5.3.12 (notebook 5.3 IV, depth) pass on the reference solutions and fail on
plausible wrong answers."""
import torch

from gdlutils.exercises import check, list_exercises
from gdlutils.message_passing import gcn_norm
from gdlutils.spectral import dirichlet_energy


def a_hat(ei, n):
    e, w = gcn_norm(ei, num_nodes=n, dtype=torch.float64)
    return torch.zeros(n, n, dtype=torch.float64).index_put_((e[1], e[0]), w, accumulate=True)


def test_registered():
    ids = list_exercises()
    for k in (10, 11, 12):
        assert f"5.3.{k}" in ids


def test_5_3_10(capsys):
    def ok(h, ei):
        d = torch.bincount(ei[1], minlength=h.size(0)).to(h.dtype) + 1
        return dirichlet_energy(h / d.sqrt()[:, None], ei) / h.pow(2).sum()

    def unscaled(h, ei):  # the plain Dirichlet energy, no degree normalisation
        return dirichlet_energy(h, ei) / h.pow(2).sum()

    def no_norm(h, ei):
        d = torch.bincount(ei[1], minlength=h.size(0)).to(h.dtype) + 1
        return dirichlet_energy(h / d.sqrt()[:, None], ei)

    def double(h, ei):
        return 2 * ok(h, ei)

    def no_loop_degree(h, ei):  # d instead of d~ = d + 1
        d = torch.bincount(ei[1], minlength=h.size(0)).to(h.dtype)
        return dirichlet_energy(h / d.sqrt()[:, None], ei) / h.pow(2).sum()

    assert check("5.3.10", ok)
    assert check("5.3.10", lambda h, ei: torch.trace(h.T @ (torch.eye(h.size(0), dtype=h.dtype) - a_hat(ei, h.size(0))) @ h) / h.pow(2).sum())
    capsys.readouterr()
    assert not check("5.3.10", unscaled)
    assert not check("5.3.10", no_norm)
    assert "multiplied by 3" in capsys.readouterr().out
    assert not check("5.3.10", double)
    assert "1/2" in capsys.readouterr().out
    assert not check("5.3.10", no_loop_degree)


def test_5_3_11(capsys):
    def ok(x, x0, ei, w, alpha, beta):
        h = (1 - alpha) * a_hat(ei, x.size(0)) @ x + alpha * x0
        return h @ ((1 - beta) * torch.eye(w.size(0), dtype=w.dtype) + beta * w)

    def transposed(x, x0, ei, w, alpha, beta):
        return ok(x, x0, ei, w.T, alpha, beta)

    def residual_after(x, x0, ei, w, alpha, beta):
        return ok(x, torch.zeros_like(x0), ei, w, alpha, beta) + alpha * x0

    def no_self_loops(x, x0, ei, w, alpha, beta):
        n = x.size(0)
        A = torch.zeros(n, n, dtype=x.dtype).index_put_((ei[1], ei[0]), torch.ones(ei.size(1), dtype=x.dtype), accumulate=True)
        d = A.sum(1).rsqrt()
        h = (1 - alpha) * (d[:, None] * A * d[None, :]) @ x + alpha * x0
        return h @ ((1 - beta) * torch.eye(w.size(0), dtype=w.dtype) + beta * w)

    assert check("5.3.11", ok)
    assert not check("5.3.11", transposed)
    assert "transposed" in capsys.readouterr().out
    assert not check("5.3.11", residual_after)
    assert "before" in capsys.readouterr().out
    assert not check("5.3.11", no_self_loops)
    assert not check("5.3.11", lambda x, x0, ei, w, alpha, beta: ok(x, x0, ei, w, beta, alpha))  # alpha and beta swapped


def test_5_3_12(capsys):
    def ok(x, ei):
        d = torch.bincount(ei[1], minlength=x.size(0)).to(x.dtype) + 1
        v = d.sqrt()[:, None] / d.sum().sqrt()
        return v @ (v.T @ x)

    def mean(x, ei):  # the random-walk limit
        return x.mean(0, keepdim=True).expand_as(x)

    def no_loops(x, ei):
        d = torch.bincount(ei[1], minlength=x.size(0)).to(x.dtype)
        v = d.sqrt()[:, None] / d.sum().sqrt()
        return v @ (v.T @ x)

    def degree_not_sqrt(x, ei):
        d = torch.bincount(ei[1], minlength=x.size(0)).to(x.dtype) + 1
        v = d[:, None] / d.norm()
        return v @ (v.T @ x)

    assert check("5.3.12", ok)
    assert not check("5.3.12", mean)
    assert "random walk" in capsys.readouterr().out
    assert not check("5.3.12", no_loops)
    assert not check("5.3.12", degree_not_sqrt)
    assert not check("5.3.12", lambda x, ei: x)  # no propagation at all
