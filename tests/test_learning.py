"""gdlutils.learning against dense formulas and scikit-learn."""
import numpy as np
import pytest
import torch

from gdlutils import learning as L


def test_shallow_relu_reproduces_piecewise_linear_functions_exactly():
    knots = np.array([-0.5, 0.0, 0.5])
    def pwl(x):
        return 1.0 + 2 * x - 3 * np.maximum(0, x + 0.5) + 4 * np.maximum(0, x) - 1 * np.maximum(0, x - 0.5)
    x = np.linspace(-1, 1, 101)
    model = L.fit_shallow_relu(x, pwl(x), 3, knots=knots)
    np.testing.assert_allclose(model.weights.detach().numpy(), [2, -3, 4, -1], atol=1e-9)
    np.testing.assert_allclose(model(x).detach().numpy(), pwl(x), atol=1e-9)
    assert model.width == 3


def test_smoothness_penalty_matches_ridge_normal_equations():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, 40), rng.normal(size=40)
    lam = 0.3
    model = L.fit_shallow_relu(x, y, 6, smoothness=lam)
    phi = np.hstack([model.features(torch.from_numpy(x)).detach().numpy(), np.ones((40, 1))])
    pen = np.diag([0.0] + [lam] * 6 + [0.0])
    coef = np.linalg.solve(phi.T @ phi + pen, phi.T @ y)
    got = np.concatenate([model.weights.detach().numpy(), [model.bias.item()]])
    np.testing.assert_allclose(got, coef, atol=1e-8)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(x=np.zeros((3, 2)), y=np.zeros(3), width=2), "1-D"),
        (dict(x=np.zeros(3), y=np.zeros(4), width=2), "same length"),
        (dict(x=np.zeros(3), y=np.zeros(3), width=0), "positive integer"),
        (dict(x=np.zeros(3), y=np.zeros(3), width=2, smoothness=-1), ">= 0"),
        (dict(x=np.zeros(3), y=np.zeros(3), width=2, knots="grid"), "uniform"),
    ],
)
def test_fit_shallow_relu_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        L.fit_shallow_relu(**kwargs)


def test_lipschitz_estimate_of_known_functions():
    x = np.linspace(-1, 1, 2001)
    assert L.lipschitz_estimate(lambda t: 3 * t, x) == pytest.approx(3)
    assert L.lipschitz_estimate(np.sin, x) == pytest.approx(1, abs=1e-3)


@pytest.mark.parametrize("d", [1, 4, 32])
def test_random_smooth_function_has_unit_scale_in_every_dimension(d):
    f = L.RandomSmoothFunction(d, seed=0)
    y = f(L.sample_cube(20000, d, seed=1))
    assert 0.3 < y.var() < 2.0


def test_structured_function_depends_only_on_the_projection():
    f = L.RandomSmoothFunction(16, subspace_dim=2, seed=3)
    x = L.sample_cube(50, 16, seed=0)
    v = np.random.default_rng(1).normal(size=16)
    v -= f.A.T @ (f.A @ v)  # orthogonal to the rows of A
    np.testing.assert_allclose(f(x + v), f(x), atol=1e-10)
    np.testing.assert_allclose(f.A @ f.A.T, np.eye(2), atol=1e-12)
    with pytest.raises(ValueError, match=r"\(n, 16\)"):
        f(np.zeros((3, 15)))


def test_knn_error_matches_a_direct_computation():
    from sklearn.neighbors import KNeighborsRegressor

    f = L.RandomSmoothFunction(3, seed=0)
    rng = np.random.default_rng(5)
    xtr, xte = rng.uniform(size=(300, 3)), rng.uniform(size=(200, 3))
    pred = KNeighborsRegressor(n_neighbors=1).fit(xtr, f(xtr)).predict(xte)
    want = np.mean((pred - f(xte)) ** 2) / np.var(f(xte))
    assert L.knn_regression_error(f, 3, 300, n_test=200, seed=5) == pytest.approx(want)


def test_knn_error_falls_faster_in_low_dimension():
    ns = [100, 1000, 10000]
    s1 = L.loglog_slope(ns, [L.knn_regression_error(L.RandomSmoothFunction(1), 1, n) for n in ns])
    s8 = L.loglog_slope(ns, [L.knn_regression_error(L.RandomSmoothFunction(8), 8, n) for n in ns])
    assert s1 < -1.5 and s1 + 1 < s8 < 0


def test_loglog_slope_recovers_power_laws_and_validates():
    x = np.array([1.0, 10, 100])
    assert L.loglog_slope(x, 5 * x**-0.7) == pytest.approx(-0.7)
    with pytest.raises(ValueError, match="positive"):
        L.loglog_slope([1, 2], [1, 0])
    with pytest.raises(ValueError, match="same length"):
        L.loglog_slope([1, 2, 3], [1, 2])


def test_distance_contrast_shrinks_with_dimension():
    c = [np.mean([L.distance_contrast(500, d, seed=s) for s in range(3)]) for d in (2, 20, 200)]
    assert c[0] > c[1] > c[2]


def test_mlp_regressor_is_deterministic_and_learns_a_linear_function():
    x = L.sample_cube(256, 4, seed=0)
    y = x @ np.array([1.0, -2.0, 0.5, 0.0])
    p1 = L.train_mlp_regressor(x, y, hidden=32, epochs=300, seed=1)
    p2 = L.train_mlp_regressor(x, y, hidden=32, epochs=300, seed=1)
    np.testing.assert_array_equal(p1(x), p2(x))
    assert np.mean((p1(x) - y) ** 2) < 0.01 * np.var(y)
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        L.train_mlp_regressor(x, y[:10])
