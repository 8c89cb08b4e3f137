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
    w = torch.randn(40, dtype=torch.float64)
    assert not check("1.1.1", lambda X: torch.tanh(X.flatten() @ w[: X.numel()]))  # an MLP on the flattened set
    assert "reordering" in capsys.readouterr().out


def test_1_1_2(capsys):
    assert check("1.1.2", lambda x: 0.25 * torch.roll(x, 1) + 0.5 * x + 0.25 * torch.roll(x, -1))
    zero_padded = lambda x: torch.nn.functional.conv1d(x[None, None], torch.ones(1, 1, 3, dtype=x.dtype) / 3, padding=1)[0, 0]
    assert not check("1.1.2", zero_padded.__call__)
    assert "ends of the signal" in capsys.readouterr().out
    assert not check("1.1.2", lambda x: x.clone())
    assert not check("1.1.2", lambda x: 2 * x)  # equivariant, but acts on each value alone
    assert "each value separately" in capsys.readouterr().out
    assert not check("1.1.2", lambda x: (torch.roll(x, 2) + x + torch.roll(x, -2)) / 3)  # neighbours two steps away
    assert "position 2" in capsys.readouterr().out
    assert not check("1.1.2", lambda x: torch.tanh(torch.roll(x, 1) + x))  # equivariant but not a weighted combination
    assert "linear" in capsys.readouterr().out
    assert check("1.1.2", lambda x: torch.roll(x, 1) - x, quiet=True)  # any weights pass, even a difference


def test_2_1_1():
    assert check("2.1.1", [(1.0, -1.0), (-2.0, 0.0), (1.0, 1.0)])
    assert not check("2.1.1", [(1.0, -1.0), (-1.0, 0.0), (1.0, 1.0)])
    assert not check("2.1.1", [(1.0, -1.0)])
    assert not check("2.1.1", [(1.0, 0.0), (-2.0, 1.0), (1.0, 2.0)])  # right slopes, kinks shifted by one
    assert not check("2.1.1", [(1.0, -1.0), (-2.0, 0.0), (-1.0, 1.0)])  # wrong sign of the last slope change


def test_2_1_2():
    def solve(t, v):
        s = np.diff(v) / np.diff(t)
        return s[0], np.diff(s), v[0] - s[0] * t[0]

    assert check("2.1.2", solve)
    assert not check("2.1.2", lambda t, v: (0.0, np.zeros(len(t) - 2), 0.0))

    def slopes_not_changes(t, v):  # the slopes themselves instead of their changes at the knots
        a0, a, c = solve(t, v)
        return a0, (np.diff(v) / np.diff(t))[1:], c

    def forgets_offset(t, v):  # c = v_0, as if t_0 were 0
        a0, a, c = solve(t, v)
        return a0, a, v[0]

    def all_knots(t, v):  # a unit at every knot: one too many
        a0, a, c = solve(t, v)
        return a0, np.concatenate([[0.0], a]), c

    for wrong in (slopes_not_changes, forgets_offset, all_knots):
        assert not check("2.1.2", wrong, quiet=True), wrong.__name__


def test_2_2_1():
    assert check("2.2.1", lambda eps, d: 1 - (1 - eps) ** d)
    assert not check("2.2.1", lambda eps, d: eps * d)
    assert not check("2.2.1", lambda eps, d: (1 - eps) ** d)  # the inner ball, not the shell
    assert not check("2.2.1", lambda eps, d: 1 - (1 - eps) ** (d - 1))  # off by one in the exponent
    assert not check("2.2.1", lambda eps, d: 1 - (1 - eps / 2) ** d)  # eps taken as a diameter


def test_2_2_2():
    def estimate_slope(d):
        f = RandomSmoothFunction(d, seed=7)
        ns = [200, 600, 2000, 6000]
        return loglog_slope(ns, [knn_regression_error(f, d, n, seed=8) for n in ns])

    assert check("2.2.2", estimate_slope)
    assert not check("2.2.2", lambda d: -1.0 / d)
    ns = [200, 600, 2000, 6000]

    def rmse_slope(d):  # root of the error: half the slope
        f = RandomSmoothFunction(d, seed=7)
        return loglog_slope(ns, [np.sqrt(knn_regression_error(f, d, n, seed=8)) for n in ns])

    def swapped_axes(d):  # log n fitted against log error
        f = RandomSmoothFunction(d, seed=7)
        return loglog_slope([knn_regression_error(f, d, n, seed=8) for n in ns], ns)

    def linear_scale(d):  # slope of the error against n, not in log-log
        f = RandomSmoothFunction(d, seed=7)
        return np.polyfit(ns, [knn_regression_error(f, d, n, seed=8) for n in ns], 1)[0]

    def on_training_points(d):  # 1-NN on its own training points: error 0
        from sklearn.neighbors import KNeighborsRegressor

        f = RandomSmoothFunction(d, seed=7)
        errs = []
        for n in ns:
            x = sample_cube(n, d, seed=8)
            errs.append(np.mean((KNeighborsRegressor(n_neighbors=1).fit(x, f(x)).predict(x) - f(x)) ** 2) + 1e-300)
        return loglog_slope(ns, errs)

    for wrong in (rmse_slope, swapped_axes, linear_scale, on_training_points):
        assert not check("2.2.2", wrong, quiet=True), wrong.__name__


def test_2_2_3(capsys):
    from sklearn.neighbors import KNeighborsRegressor

    def with_projection(f, n):
        xtr, xte = sample_cube(n, f.d, seed=0), sample_cube(1000, f.d, seed=1)
        knn = KNeighborsRegressor(n_neighbors=1).fit(xtr @ f.A.T, f(xtr))
        return np.mean((knn.predict(xte @ f.A.T) - f(xte)) ** 2) / np.var(f(xte))

    assert check("2.2.3", with_projection)
    assert not check("2.2.3", lambda f, n: knn_regression_error(f, f.d, n))

    def on_training_points(f, n):  # evaluated on the points it was fitted on
        xtr = sample_cube(n, f.d, seed=0)
        knn = KNeighborsRegressor(n_neighbors=1).fit(xtr @ f.A.T, f(xtr))
        return np.mean((knn.predict(xtr @ f.A.T) - f(xtr)) ** 2) / np.var(f(xtr))

    assert not check("2.2.3", on_training_points)
    assert "fresh test points" in capsys.readouterr().out
    assert not check("2.2.3", lambda f, n: np.sqrt(with_projection(f, n)), quiet=True)  # root mean squared error

    def random_projection(f, n):  # a 2-D projection, but not the one the target depends on
        B = np.random.default_rng(0).normal(size=f.A.shape)
        xtr, xte = sample_cube(n, f.d, seed=0), sample_cube(1000, f.d, seed=1)
        knn = KNeighborsRegressor(n_neighbors=1).fit(xtr @ B.T, f(xtr))
        return np.mean((knn.predict(xte @ B.T) - f(xte)) ** 2) / np.var(f(xte))

    assert not check("2.2.3", random_projection, quiet=True)
