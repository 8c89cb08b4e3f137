"""Self-checks of chapters 1-2 pass on the reference solutions and fail on wrong ones."""
import numpy as np
import pytest
import torch

from gdlutils.exercises import check, list_exercises
from gdlutils.learning import RandomSmoothFunction, knn_regression_error, loglog_slope, sample_cube


def test_checks_are_registered():
    ids = list_exercises()
    for key in ["1.1.1", "1.1.2", "2.1.1", "2.1.2", "2.2.1", "2.2.2", "2.2.3"]:
        assert key in ids


def test_unknown_exercise_is_a_clear_error():
    with pytest.raises(KeyError, match="no exercise"):
        check("9.9.9", None)


def test_1_1_1(capsys):
    assert check("1.1.1", lambda X: torch.tanh(X).sum(0))
    assert not check("1.1.1", lambda X: X[0].sum())
    assert "reordering" in capsys.readouterr().out
    assert not check("1.1.1", lambda X: torch.zeros(2))  # constant: ignores its input
    assert not check("1.1.1", lambda X: 1 / 0)  # the reader's code raising is a failure, not a crash
    capsys.readouterr()
    assert not check("1.1.1", lambda X: torch.tanh(X))  # equivariant, not invariant
    assert "one output per point" in capsys.readouterr().out


def test_1_1_2(capsys):
    assert check("1.1.2", lambda x: 0.25 * torch.roll(x, 1) + 0.5 * x + 0.25 * torch.roll(x, -1))
    zero_padded = lambda x: torch.nn.functional.conv1d(x[None, None], torch.ones(1, 1, 3, dtype=x.dtype) / 3, padding=1)[0, 0]
    assert not check("1.1.2", zero_padded.__call__)
    assert "ends of the signal" in capsys.readouterr().out
    assert not check("1.1.2", lambda x: x.clone())


def test_2_1_1():
    assert check("2.1.1", [(1.0, -1.0), (-2.0, 0.0), (1.0, 1.0)])
    assert not check("2.1.1", [(1.0, -1.0), (-1.0, 0.0), (1.0, 1.0)])
    assert not check("2.1.1", [(1.0, -1.0)])


def test_2_1_2():
    def solve(t, v):
        s = np.diff(v) / np.diff(t)
        return s[0], np.diff(s), v[0] - s[0] * t[0]

    assert check("2.1.2", solve)
    assert not check("2.1.2", lambda t, v: (0.0, np.zeros(len(t) - 2), 0.0))


def test_2_2_1():
    assert check("2.2.1", lambda eps, d: 1 - (1 - eps) ** d)
    assert not check("2.2.1", lambda eps, d: eps * d)


def test_2_2_2():
    def estimate_slope(d):
        f = RandomSmoothFunction(d, seed=7)
        ns = [200, 600, 2000, 6000]
        return loglog_slope(ns, [knn_regression_error(f, d, n, seed=8) for n in ns])

    assert check("2.2.2", estimate_slope)
    assert not check("2.2.2", lambda d: -1.0 / d)


def test_2_2_3():
    from sklearn.neighbors import KNeighborsRegressor

    def with_projection(f, n):
        xtr, xte = sample_cube(n, f.d, seed=0), sample_cube(1000, f.d, seed=1)
        knn = KNeighborsRegressor(n_neighbors=1).fit(xtr @ f.A.T, f(xtr))
        return np.mean((knn.predict(xte @ f.A.T) - f(xte)) ** 2) / np.var(f(xte))

    assert check("2.2.3", with_projection)
    assert not check("2.2.3", lambda f, n: knn_regression_error(f, f.d, n))
