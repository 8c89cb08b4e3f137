"""Benchmark: the batched graph-convolutional GRU of gdlutils.temporal against running the same
cell window by window (the readable path, ChebConv on one (N, F) signal at a time) and against
the disjoint-union batch (all windows as one graph of S * N nodes, ChebConv rebuilding its
Laplacian at every call).

One forward + backward pass of GConvGRUForecaster(16, K=2) over the 465 training windows of the
chickenpox data (20 counties, 4 lags), as in one training step of section 6.3. Prints the median
time of each form and the ratios batched / per-window and batched / disjoint union, measured in
the same run, interleaved.

Run:  .venv/bin/python benchmarks/bench_temporal.py [--repeats 5] [--threads 1]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from gdlutils import temporal


def disjoint_union(model, inputs, edge_index):
    """The forecaster on S windows as one graph of S * N nodes (ChebConv called on 2-D input)."""
    S, N, L = inputs.shape
    big = torch.cat([edge_index + s * N for s in range(S)], dim=1)
    h = None
    cell = model.rnn.cell
    for t in range(L):
        x = inputs[:, :, t].reshape(S * N, 1)
        h = cell(x, big, h)
    return model.readout(h).reshape(S, N)


def per_window(model, inputs, edge_index):
    return torch.stack([_one(model, inputs[s], edge_index) for s in range(inputs.shape[0])])


def _one(model, window, edge_index):
    h = None
    for t in range(window.shape[1]):
        h = model.rnn.cell(window[:, t:t + 1], edge_index, h)  # (N, 1): ChebConv itself
    return model.readout(h).squeeze(-1)


def timed(fn, model, inputs, targets, edge_index):
    model.zero_grad(set_to_none=True)
    start = time.perf_counter()
    loss = ((fn(model, inputs, edge_index) - targets) ** 2).mean()
    loss.backward()
    return time.perf_counter() - start, loss.item()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = temporal.load_chickenpox()
    x, y = temporal.sliding_windows(data.signal, 4)
    (xtr, ytr), _ = temporal.chronological_split(x, y, 0.9)
    torch.manual_seed(0)
    model = temporal.GConvGRUForecaster(16, K=2)
    forms = {"batched": lambda m, i, e: m(i, e), "per window": per_window, "disjoint union": disjoint_union}
    times = {k: [] for k in forms}
    losses = {}
    for _ in range(args.repeats):
        for name, fn in forms.items():
            t, losses[name] = timed(fn, model, xtr, ytr, data.edge_index)
            times[name].append(t)
    assert max(abs(v - losses["batched"]) for v in losses.values()) < 1e-5, losses
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, t in med.items():
        print(f"{name:15s} {1000 * t:8.1f} ms per forward + backward over {len(xtr)} windows")
    print(f"ratio batched / per window:     {med['batched'] / med['per window']:.3f}")
    print(f"ratio batched / disjoint union: {med['batched'] / med['disjoint union']:.3f}")


if __name__ == "__main__":
    main()
