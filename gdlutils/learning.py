"""Learning in high dimensions (chapter 2): regularity priors and the curse of dimensionality.

- :class:`ShallowReLU` and :func:`fit_shallow_relu`: one-hidden-layer ReLU networks on the
  line, fitted by a convex least-squares problem over the output layer, to show universal
  approximation and the effect of a regularity (smoothness) penalty.
- :class:`RandomSmoothFunction`: random smooth targets :math:`f:[0,1]^d\\to\\R` with the same
  variance and Lipschitz scale in every dimension, either *generic* (varying in all
  directions) or *structured* (:math:`f(x) = g(Ax)` for a :math:`k\\times d` matrix ``A``).
- :func:`knn_regression_error`, :func:`loglog_slope`, :func:`distance_contrast`: the
  measurements of 2.2.
- :func:`train_mlp_regressor`: a small, seeded full-batch MLP regression used to show that a
  neural network adapts to low-dimensional structure where a local method cannot.

Introduced in: 2.1, :doc:`/book/02_high_dimensions/02_1_inductive_bias` (inductive bias via function regularity) and 2.2 (the curse of
dimensionality).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

__all__ = [
    "ShallowReLU",
    "fit_shallow_relu",
    "lipschitz_estimate",
    "sample_cube",
    "RandomSmoothFunction",
    "knn_regression_error",
    "loglog_slope",
    "distance_contrast",
    "train_mlp_regressor",
]


def _as_1d(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of shape (n,) or (n, 1), got shape {arr.shape}")
    return arr


class ShallowReLU(nn.Module):
    """A one-hidden-layer ReLU network on the real line,

    .. math:: f(x) = c + a_0 x + \\sum_{j=1}^{m} a_j\\,\\sigma(x - t_j), \\qquad \\sigma(z) = \\max(z, 0),

    with hidden units (breakpoints) :math:`t_j` and output weights :math:`a`, :math:`c`.
    Every continuous piecewise-linear function with breakpoints :math:`t_j` is of this form,
    which is why such networks approximate any continuous function on an interval.

    Shapes:
        - input: ``(n,)`` or ``(n, 1)``
        - output: ``(n,)``

    Introduced in: 2.1, :doc:`/book/02_high_dimensions/02_1_inductive_bias`.
    """

    def __init__(self, knots: torch.Tensor, weights: torch.Tensor, bias: float | torch.Tensor = 0.0):
        super().__init__()
        knots = torch.as_tensor(knots, dtype=torch.float64).flatten()
        weights = torch.as_tensor(weights, dtype=torch.float64).flatten()
        if weights.numel() != knots.numel() + 1:
            raise ValueError(
                f"weights must have len(knots) + 1 = {knots.numel() + 1} entries "
                f"(a linear term and one per unit), got {weights.numel()}"
            )
        self.knots = nn.Parameter(knots)
        self.weights = nn.Parameter(weights)
        self.bias = nn.Parameter(torch.as_tensor(bias, dtype=torch.float64).reshape(()))

    @property
    def width(self) -> int:
        """Number of hidden ReLU units."""
        return self.knots.numel()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The hidden layer: columns :math:`x` and :math:`\\sigma(x - t_j)`; shape ``(n, m + 1)``."""
        x = torch.as_tensor(x, dtype=torch.float64).reshape(-1, 1)
        return torch.cat([x, torch.relu(x - self.knots)], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate the network at the points ``x``; returns shape ``(n,)``."""
        return self.features(x) @ self.weights + self.bias


def fit_shallow_relu(
    x,
    y,
    width: int,
    *,
    knots: str | np.ndarray = "uniform",
    smoothness: float = 0.0,
    interval: tuple[float, float] | None = None,
    seed: int = 0,
) -> ShallowReLU:
    """Fit a :class:`ShallowReLU` of ``width`` units to samples ``(x, y)``.

    The hidden units are fixed (``knots="uniform"`` spreads them evenly over ``interval``,
    ``"random"`` draws them uniformly, or pass an array), and the output layer solves the
    convex problem

    .. math:: \\min_{a, c} \\sum_i (f(x_i) - y_i)^2 + \\lambda \\sum_{j\\ge 1} a_j^2 ,

    where :math:`\\lambda` = ``smoothness``. Since :math:`a_j` is the jump of the slope at
    :math:`t_j`, the penalty is a discrete measure of curvature: a regularity prior.

    Shapes:
        - x, y: ``(n,)``

    Introduced in: 2.1, :doc:`/book/02_high_dimensions/02_1_inductive_bias`.
    """
    x = _as_1d(x, "x")
    y = _as_1d(y, "y")
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.shape[0]} and {y.shape[0]}")
    if int(width) != width or width < 1:
        raise ValueError(f"width must be a positive integer, got {width!r}")
    if smoothness < 0:
        raise ValueError(f"smoothness must be >= 0, got {smoothness}")
    lo, hi = interval if interval is not None else (float(x.min()), float(x.max()))
    if isinstance(knots, str):
        if knots == "uniform":
            t = np.linspace(lo, hi, width + 2)[1:-1]
        elif knots == "random":
            t = np.sort(np.random.default_rng(seed).uniform(lo, hi, width))
        else:
            raise ValueError(f"knots must be 'uniform', 'random' or an array, got {knots!r}")
    else:
        t = np.asarray(knots, dtype=float).ravel()
        if t.size != width:
            raise ValueError(f"got {t.size} knots for width {width}")
    model = ShallowReLU(torch.from_numpy(t), torch.zeros(width + 1))
    with torch.no_grad():
        phi = model.features(torch.from_numpy(x)).numpy()
    design = np.hstack([phi, np.ones((x.size, 1))])
    penalty = np.zeros(width + 2)
    penalty[1 : width + 1] = np.sqrt(smoothness)
    a = np.vstack([design, np.diag(penalty)])
    b = np.concatenate([y, np.zeros(width + 2)])
    coef, *_ = np.linalg.lstsq(a, b, rcond=None)
    with torch.no_grad():
        model.weights.copy_(torch.from_numpy(coef[:-1]))
        model.bias.fill_(float(coef[-1]))
    return model


def lipschitz_estimate(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> float:
    """Largest slope :math:`\\max_i |f(x_{i+1}) - f(x_i)| / |x_{i+1} - x_i|` over sorted 1-D
    points ``x``: a lower bound on the Lipschitz constant of ``f``.

    Shapes:
        x: ``(n,)`` sample points; ``f(x)``: ``(n,)``.

    Introduced in: 2.1, :doc:`/book/02_high_dimensions/02_1_inductive_bias`.
    """
    x = np.sort(_as_1d(x, "x"))
    fx = np.asarray(f(x), dtype=float).ravel()
    dx = np.diff(x)
    keep = dx > 0
    return float(np.max(np.abs(np.diff(fx))[keep] / dx[keep]))


def _check_seed(seed, what: str) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise TypeError(f"{what}: seed must be a non-negative int or None, got {seed!r} (pass an int, not a Generator)")


def _check_count(value, what: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{what} must be an integer >= {low}, got {value!r}")
    return int(value)


def _uniform_cube(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    return rng.uniform(size=(n, d))


def sample_cube(n: int, d: int, seed: int | None = 0) -> np.ndarray:
    """``n`` points :math:`x_i \\sim U([0, 1]^d)` drawn independently, from ``np.random.default_rng(seed)``.

    Shapes:
        output: ``(n, d)``.

    Introduced in: 2.2, :doc:`/book/02_high_dimensions/02_2_curse_of_dimensionality`.
    """
    n = _check_count(n, "sample_cube: n (number of points)")
    d = _check_count(d, "sample_cube: d (dimension)")
    _check_seed(seed, "sample_cube")
    return _uniform_cube(np.random.default_rng(seed), n, d)


class RandomSmoothFunction:
    """A random smooth function on :math:`[0,1]^d` (a random Fourier series),

    .. math:: f(x) = \\sqrt{2/m}\\,\\sum_{j=1}^{m} c_j \\cos(\\omega_j^\\top x + \\varphi_j),
       \\quad c_j \\sim \\mathcal N(0, 1),\\ \\varphi_j \\sim U[0, 2\\pi).

    *Generic* (``subspace_dim=None``): the frequencies :math:`\\omega_j \\sim \\mathcal N(0,
    \\tfrac{\\text{bandwidth}^2}{d} I_d)` point in every direction, with
    :math:`\\lVert\\omega_j\\rVert \\approx` ``bandwidth`` whatever :math:`d`, so the variance
    (about 1) and the Lipschitz scale do not change with the dimension: only the dimension
    does. *Structured* (``subspace_dim=k``): :math:`\\omega_j = A^\\top \\nu_j` for one random
    orthonormal :math:`A \\in \\R^{k\\times d}`, so :math:`f(x) = g(Ax)` depends on :math:`k`
    directions only.

    Shapes:
        - input: ``(n, d)``; output: ``(n,)``

    Introduced in: 2.2, :doc:`/book/02_high_dimensions/02_2_curse_of_dimensionality`.
    """

    def __init__(
        self,
        d: int,
        *,
        num_features: int = 256,
        bandwidth: float = 2 * np.pi,
        subspace_dim: int | None = None,
        seed: int | None = 0,
    ):
        d = _check_count(d, "RandomSmoothFunction: d (dimension)")
        num_features = _check_count(num_features, "RandomSmoothFunction: num_features")
        if subspace_dim is not None and not 1 <= subspace_dim <= d:
            raise ValueError(f"RandomSmoothFunction: need 1 <= subspace_dim <= d, got d={d}, subspace_dim={subspace_dim}")
        if not (np.isfinite(bandwidth) and bandwidth > 0):
            raise ValueError(f"RandomSmoothFunction: bandwidth must be a finite positive number, got {bandwidth!r}")
        _check_seed(seed, "RandomSmoothFunction")
        rng = np.random.default_rng(seed)
        self.d, self.subspace_dim = int(d), subspace_dim
        if subspace_dim is None:
            self.A = None
            self.omega = rng.normal(scale=bandwidth / np.sqrt(d), size=(num_features, d))
        else:
            q, _ = np.linalg.qr(rng.normal(size=(d, subspace_dim)))
            self.A = q.T  # (k, d), orthonormal rows
            nu = rng.normal(scale=bandwidth / np.sqrt(subspace_dim), size=(num_features, subspace_dim))
            self.omega = nu @ self.A
        self.phase = rng.uniform(0, 2 * np.pi, size=num_features)
        self.coef = rng.normal(size=num_features) * np.sqrt(2.0 / num_features)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.d:
            raise ValueError(f"expected points of shape (n, {self.d}), got {x.shape}")
        return np.cos(x @ self.omega.T + self.phase) @ self.coef

    def __repr__(self) -> str:
        kind = "generic" if self.A is None else f"structured, k={self.subspace_dim}"
        return f"RandomSmoothFunction(d={self.d}, {kind})"


def knn_regression_error(
    f: Callable[[np.ndarray], np.ndarray],
    d: int,
    n_train: int,
    *,
    n_test: int = 1000,
    k: int = 1,
    noise: float = 0.0,
    seed: int = 0,
) -> float:
    """Relative test error of k-nearest-neighbour regression of ``f`` on :math:`[0,1]^d`:

    .. math:: \\frac{\\E\\,(\\hat f_n(x) - f(x))^2}{\\operatorname{Var} f(x)} ,

    with ``n_train`` uniform training points (labels with Gaussian ``noise``) and ``n_test``
    fresh test points. For a Lipschitz ``f`` it decays like :math:`n^{-2/d}`: the curse of
    dimensionality. Uses scikit-learn's ``KNeighborsRegressor``.

    Introduced in: 2.2, :doc:`/book/02_high_dimensions/02_2_curse_of_dimensionality`.
    """
    from sklearn.neighbors import KNeighborsRegressor

    d = _check_count(d, "knn_regression_error: d (dimension)")
    n_train = _check_count(n_train, "knn_regression_error: n_train")
    n_test = _check_count(n_test, "knn_regression_error: n_test")
    k = _check_count(k, "knn_regression_error: k (neighbours)")
    if k > n_train:
        raise ValueError(f"knn_regression_error: k = {k} neighbours needs at least k training points, got n_train = {n_train}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"knn_regression_error: noise must be a finite standard deviation >= 0, got {noise!r}")
    _check_seed(seed, "knn_regression_error")
    rng = np.random.default_rng(seed)
    x_train, x_test = _uniform_cube(rng, n_train, d), _uniform_cube(rng, n_test, d)
    y_train = f(x_train) + noise * rng.normal(size=n_train)
    y_test = f(x_test)
    model = KNeighborsRegressor(n_neighbors=k, algorithm="brute" if d > 10 else "auto").fit(x_train, y_train)
    return float(np.mean((model.predict(x_test) - y_test) ** 2) / np.var(y_test))


def loglog_slope(x, y) -> float:
    """Slope of the least-squares line through :math:`(\\log x_i, \\log y_i)`: the exponent
    :math:`p` in :math:`y \\approx C x^{p}`.

    Shapes:
        x, y: ``(k,)``.

    Introduced in: 2.2, :doc:`/book/02_high_dimensions/02_2_curse_of_dimensionality`.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or x.size < 2:
        raise ValueError(f"need two 1-D arrays of the same length >= 2, got {x.shape} and {y.shape}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("log-log slope needs positive values")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def distance_contrast(n: int, d: int, seed: int | None = 0) -> float:
    """Relative contrast :math:`(D_{\\max} - D_{\\min}) / D_{\\min}` of the distances from a
    random query to ``n`` random points of :math:`[0,1]^d`. It tends to 0 as :math:`d` grows
    (distances concentrate), so "nearest" neighbours stop being near.

    Introduced in: 2.2, :doc:`/book/02_high_dimensions/02_2_curse_of_dimensionality`.
    """
    n = _check_count(n, "distance_contrast: n (number of points)")
    pts = sample_cube(n + 1, d, seed)
    dist = np.linalg.norm(pts[1:] - pts[0], axis=1)
    return float((dist.max() - dist.min()) / dist.min())


def train_mlp_regressor(
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    hidden: int = 128,
    epochs: int = 600,
    lr: float = 1e-2,
    weight_decay: float = 1e-4,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> Callable[[np.ndarray], np.ndarray]:
    """Train a two-hidden-layer ReLU MLP by full-batch Adam on mean squared error.

    Returns a function mapping an array of points ``(n, d)`` to predictions ``(n,)``.
    Deterministic for a given ``seed`` on the CPU.

    Shapes:
        x: ``(n, d)``; y: ``(n,)``; the returned ``predict`` maps ``(m, d)`` to ``(m,)``.

    Introduced in: 2.2, :doc:`/book/02_high_dimensions/02_2_curse_of_dimensionality`.
    """
    x_train = np.asarray(x_train, dtype=np.float32)
    y_train = np.asarray(y_train, dtype=np.float32).ravel()
    if x_train.ndim != 2 or x_train.shape[0] != y_train.shape[0]:
        raise ValueError(f"expected x of shape (n, d) and y of shape (n,), got {x_train.shape} and {y_train.shape}")
    device = torch.device(device) if device is not None else torch.device("cpu")
    gen = torch.Generator().manual_seed(seed)
    d = x_train.shape[1]
    model = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
    with torch.no_grad():
        for p in model.parameters():
            bound = 1 / np.sqrt(p.shape[-1]) if p.ndim == 2 else 0.1
            p.copy_(torch.empty(p.shape).uniform_(-bound, bound, generator=gen))
    model.to(device)
    xt = torch.from_numpy(x_train).to(device)
    yt = torch.from_numpy(y_train).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.mean((model(xt).squeeze(-1) - yt) ** 2)
        loss.backward()
        opt.step()
        sched.step()
    model.eval()

    def predict(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.as_tensor(np.asarray(x, dtype=np.float32), device=device)).squeeze(-1).cpu().numpy()

    return predict
