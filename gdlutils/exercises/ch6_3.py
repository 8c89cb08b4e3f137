"""Self-checks for the exercises of section 6.3 (spatio-temporal forecasting on a graph)."""
from __future__ import annotations

import math

import torch

from . import ExerciseFailure, exercise
from .ch5 import _tensor


@exercise("6.3.1", "forecasting windows: the last L weeks in, the next week out")
def _windows(make_windows):
    """``make_windows(signal, lags)``: signal (T, N) -> inputs (T - lags, N, lags), targets (T - lags, N)."""
    T, N = 13, 3
    # value = 100 * week + county: every entry says where it came from
    signal = (100 * torch.arange(T)[:, None] + torch.arange(N)[None, :]).double()
    for lags in (4, 2, 1):
        out = make_windows(signal.clone(), lags)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise ExerciseFailure("make_windows should return a pair (inputs, targets)")
        x, y = _tensor(out[0], "inputs"), _tensor(out[1], "targets")
        S = T - lags
        if tuple(x.shape) != (S, N, lags) or tuple(y.shape) != (S, N):
            raise ExerciseFailure(
                f"with T={T}, N={N}, lags={lags} expected inputs {(S, N, lags)} and targets {(S, N)}, got "
                f"{tuple(x.shape)} and {tuple(y.shape)}" + (" (nodes and lags swapped?)" if tuple(x.shape) == (S, lags, N) else "")
            )
        weeks_in = torch.div(x.double(), 100, rounding_mode="floor")
        weeks_out = torch.div(y.double(), 100, rounding_mode="floor")
        want_in = (torch.arange(S)[:, None, None] + torch.arange(lags)[None, None, :]).double().expand(S, N, lags)
        want_out = (torch.arange(S)[:, None] + lags).double().expand(S, N)
        if not torch.equal(weeks_out, want_out):
            if torch.equal(weeks_out, want_out - 1):
                raise ExerciseFailure("off by one: your target is the last week of the window; it must be the week after it")
            raise ExerciseFailure("window s should predict week s + lags (the week right after its inputs)")
        if not torch.equal(weeks_in, want_in):
            raise ExerciseFailure("inputs[s, i, k] should be the value of node i at week s + k (oldest first)")
        if not torch.equal(torch.remainder(x.double(), 100), torch.arange(N).double()[None, :, None].expand(S, N, lags)):
            raise ExerciseFailure("the nodes are mixed up: inputs[s, i] must hold node i's own past")


@exercise("6.3.2", "a chronological split that does not look into the future")
def _split(split):
    """``split(inputs, targets, train_ratio)`` -> ((train_inputs, train_targets), (test_inputs, test_targets))."""
    S, N, L = 40, 2, 3
    week = torch.arange(S + L).double()
    x = (week[torch.arange(S)[:, None] + torch.arange(L)[None, :]])[:, None, :].expand(S, N, L).clone()
    y = week[L:][:, None].expand(S, N).clone()
    for ratio in (0.75, 0.9, 0.5):
        torch.manual_seed(0)
        out = split(x.clone(), y.clone(), ratio)
        try:
            (xtr, ytr), (xte, yte) = out
        except (TypeError, ValueError):
            raise ExerciseFailure("split should return ((train_inputs, train_targets), (test_inputs, test_targets))") from None
        xtr, ytr, xte, yte = (_tensor(t, "split") for t in (xtr, ytr, xte, yte))
        n = int(ratio * S)
        if len(xtr) != n or len(xte) != S - n or len(ytr) != n or len(yte) != S - n:
            raise ExerciseFailure(f"with {S} windows and train_ratio={ratio}: {n} training and {S - n} test windows, "
                                  f"got {len(xtr)} and {len(xte)}")
        if ytr.numel() and yte.numel() and ytr.max() >= yte.min():
            raise ExerciseFailure(
                f"leak: a training target is week {int(ytr.max())} but a test target is week {int(yte.min())}; "
                "in forecasting the model may only learn from weeks before the ones it is tested on (no shuffling)"
            )
        if not (torch.equal(torch.cat([ytr, yte]), y) and torch.equal(torch.cat([xtr, xte]), x)):
            raise ExerciseFailure("keep the windows in time order and keep every window, each in exactly one part")


@exercise("6.3.3", "the average over a node's neighbours")
def _neighbour_average(neighbour_average):
    """``neighbour_average(x, edge_index)``: x (N, F) -> (N, F), row i the mean of x_j over edges j -> i, j != i."""
    gen = torch.Generator().manual_seed(63)
    # a directed graph with self-loops and a node without in-neighbours (node 4)
    edge_index = torch.tensor([[0, 1, 2, 0, 3, 1, 2, 4, 2, 3],
                               [1, 0, 0, 2, 2, 1, 2, 3, 1, 0]])
    n = 5
    x = torch.randn(n, 3, generator=gen, dtype=torch.float64)
    got = _tensor(neighbour_average(x.clone(), edge_index.clone()), "neighbour_average")
    if tuple(got.shape) != (n, 3):
        raise ExerciseFailure(f"expected one row per node, shape {(n, 3)}, got {tuple(got.shape)}")
    want = torch.zeros(n, 3, dtype=torch.float64)
    for i in range(n):
        srcs = [j for j, t in edge_index.t().tolist() if t == i and j != i]
        if srcs:
            want[i] = x[srcs].mean(0)
    if not torch.allclose(got.double(), want, atol=1e-9):
        a = torch.zeros(n, n, dtype=torch.float64)
        for j, i in edge_index.t().tolist():
            if i != j:
                a[i, j] = 1
        sums = a @ x
        transposed = (a.t() @ x) / a.sum(0).clamp(min=1)[:, None]
        if torch.allclose(got.double(), sums, atol=1e-9):
            raise ExerciseFailure("you summed the neighbours; divide by their number (the mean keeps the scale of x)")
        if torch.allclose(got.double(), transposed, atol=1e-9):
            raise ExerciseFailure("wrong direction: node i collects from the sources j of edges j -> i "
                                  "(edge_index[0] is the source, edge_index[1] the target)")
        if torch.isnan(got).any():
            raise ExerciseFailure("a node without neighbours should get 0, not NaN (clamp the count at 1)")
        raise ExerciseFailure("row i should be the mean of x[j] over the edges j -> i with j != i "
                              "(leave self-loops out: the county's own value is already a separate regressor)")


@exercise("6.3.4", "the error of the persistence forecast")
def _persistence(persistence_mse):
    """``persistence_mse(rho1)``: expected squared error of x_{t+1} ~ x_t for a stationary series of variance 1."""
    gen = torch.Generator().manual_seed(64)
    for rho in (-0.5, 0.0, 0.3, 0.9, -0.9):
        try:
            got = float(persistence_mse(rho))
        except (TypeError, ValueError):
            raise ExerciseFailure("persistence_mse(rho1) should return a number") from None
        # a simulated AR(1) series with that lag-1 autocorrelation and unit variance, for the hint
        e = (torch.randn(20_000, generator=gen, dtype=torch.float64) * math.sqrt(1 - rho ** 2)).tolist()
        series, prev = [], e[0] / math.sqrt(1 - rho ** 2)
        for v in e:
            prev = rho * prev + v
            series.append(prev)
        s = torch.tensor(series, dtype=torch.float64)
        measured = float(((s[1:] - s[:-1]) ** 2).mean())
        exact = 2 * (1 - rho)
        if not math.isfinite(got) or abs(got - exact) > 1e-9:
            raise ExerciseFailure(
                f"for rho1 = {rho} a simulated series gives a persistence error of {measured:.3f}, you returned {got:.4g}; "
                "expand E[(x_{t+1} - x_t)^2] into variances and the covariance"
            )
