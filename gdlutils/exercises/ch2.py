"""Self-checks for the exercises of chapter 2 (learning in high dimensions)."""
from __future__ import annotations

import numpy as np

from ..learning import RandomSmoothFunction, knn_regression_error, loglog_slope
from . import ExerciseFailure, exercise


def _hat(x):
    return np.maximum(0.0, 1.0 - np.abs(x))


@exercise("2.1.1", "the hat function from three ReLUs")
def _hat_from_relus(answer):
    """``answer`` is a triple of (weight, shift) pairs: f(x) = sum w * relu(x - t)."""
    try:
        pairs = [(float(w), float(t)) for w, t in answer]
    except (TypeError, ValueError):
        raise ExerciseFailure("give a list of three (weight, shift) pairs, e.g. [(w1, t1), (w2, t2), (w3, t3)]")
    if len(pairs) != 3:
        raise ExerciseFailure(f"use exactly three ReLU units, you gave {len(pairs)}")
    x = np.linspace(-3, 3, 601)
    f = sum(w * np.maximum(0.0, x - t) for w, t in pairs)
    err = np.abs(f - _hat(x))
    if err.max() > 1e-9:
        bad = x[np.argmax(err)]
        raise ExerciseFailure(
            f"at x = {bad:.2f} your network gives {f[np.argmax(err)]:.3f} but the hat is {_hat(bad):.3f}; "
            "remember each unit bends the graph at its shift by its weight"
        )


@exercise("2.1.2", "output weights that interpolate")
def _interpolating_weights(solve):
    """``solve(knots, values)`` returns (a0, a, c) with f(x) = c + a0 x + sum_j a_j relu(x - t_j)
    passing through (knots[i], values[i]) for every i; the units sit at the interior knots
    t_1 .. t_{m-1} of the sorted knots t_0 < ... < t_m."""
    rng = np.random.default_rng(21)
    for m in (3, 6):
        t = np.sort(rng.uniform(-2, 2, m + 1))
        v = rng.normal(size=m + 1)
        a0, a, c = solve(t.copy(), v.copy())
        a = np.asarray(a, dtype=float).ravel()
        if a.size != m - 1:
            raise ExerciseFailure(f"with {m + 1} knots expected {m - 1} ReLU weights (one per interior knot), got {a.size}")
        f = lambda x: c + a0 * x + np.sum(a * np.maximum(0.0, x[:, None] - t[None, 1:-1]), axis=1)
        err = np.abs(f(t) - v)
        if err.max() > 1e-8:
            i = int(np.argmax(err))
            raise ExerciseFailure(
                f"with {m + 1} knots your network misses value {i} (x = {t[i]:.3f}) by {err[i]:.2e}; "
                "the slope on each piece is fixed by two neighbouring values"
            )


@exercise("2.2.1", "volume near the surface of a ball")
def _shell_fraction(shell_fraction):
    """``shell_fraction(eps, d)``: fraction of the unit ball's volume at distance < eps from its surface."""
    for eps, d in [(0.1, 1), (0.1, 2), (0.01, 100), (0.05, 30), (0.5, 3)]:
        got = float(shell_fraction(eps, d))
        want = 1.0 - (1.0 - eps) ** d
        if not np.isclose(got, want, rtol=1e-6):
            hint = "it must lie between 0 and 1" if not 0 <= got <= 1 else "compare the volume of the ball of radius 1 - eps with the unit ball's"
            raise ExerciseFailure(f"for eps = {eps}, d = {d} you returned {got:.4f}; {hint}")


@exercise("2.2.2", "measure a convergence rate")
def _measured_slope(estimate_slope):
    """``estimate_slope(d)`` returns the log-log slope of 1-NN error versus n in dimension d."""
    for d in (2, 3):
        got = float(estimate_slope(d))
        if not -2.0 / d - 0.3 < got < -2.0 / d + 0.3:
            raise ExerciseFailure(
                f"in dimension {d} your slope is {got:.2f}, far from what theory predicts for a Lipschitz target; "
                "use several sample sizes spread over at least a decade, and fit a line to log(error) against log(n)"
            )


@exercise("2.2.3", "beat the curse with known structure")
def _projection_knn(error_with_projection):
    """``error_with_projection(f, n)``: relative 1-NN error (mean squared error on fresh test points
    over the variance of the test labels) when the points are first projected by f.A."""
    from sklearn.neighbors import KNeighborsRegressor

    f = RandomSmoothFunction(32, subspace_dim=2, seed=5)
    got = float(error_with_projection(f, 2000))
    plain = knn_regression_error(f, 32, 2000, seed=0)
    # the same protocol on draws of our own: how large the error of a correct answer is
    expected = []
    for s in range(3):
        rng = np.random.default_rng(100 + s)
        x_tr, x_te = rng.uniform(size=(2000, 32)), rng.uniform(size=(1000, 32))
        knn = KNeighborsRegressor(n_neighbors=1).fit(x_tr @ f.A.T, f(x_tr))
        expected.append(np.mean((knn.predict(x_te @ f.A.T) - f(x_te)) ** 2) / np.var(f(x_te)))
    lo, hi = min(expected) / 3, max(expected) * 3
    if got < 1e-12:
        raise ExerciseFailure(
            "your error is 0: 1-NN is exact on the points it was fitted on, so measure it on fresh test points"
        )
    if not lo <= got <= hi:
        raise ExerciseFailure(
            f"your error is {got:.3f} (plain 1-NN in 32 dimensions: {plain:.3f}; 1-NN between the projected points "
            f"gives {min(expected):.3f}-{max(expected):.3f} on other draws); compute neighbours between the "
            "projected points A x, which live in 2 dimensions, and return the mean squared error (not its root) divided "
            "by the variance of the test labels"
        )
    return f"relative error {got:.3f} against {plain:.3f} without the projection."
