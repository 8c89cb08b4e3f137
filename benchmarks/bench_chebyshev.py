"""Benchmark: gdlutils.spectral.ChebConv against torch_geometric.nn.ChebConv.

Chebyshev filter with K = 10 and 64 input/output channels, forward + backward (gradients for
the input features and the weights), on random sparse graphs (average degree 10, both edge
directions listed) from 10^4 to 10^6 edges. Both layers build the scaled Laplacian from
``edge_index`` on every call (that cost is included); a third column times gdlutils with
``cached=True`` (Laplacian built once). Prints, per size, the median time of each and the
ratio ours / PyG (target <= 0.5), then the log-log slope of time against edges (1 = linear).

Run:  .venv/bin/python benchmarks/bench_chebyshev.py [--repeats 5] [--quick] [--threads 1]

Timings on a shared machine are inflated by other processes; the ratios are measured in the
same run, interleaved, and are the meaningful figures. On a loaded machine, OpenMP threads
waiting for each other inflate small operations (building the Laplacian) by 10x or more:
``--threads 1`` gives steadier figures there.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch_geometric.nn import ChebConv as PygChebConv

from gdlutils.spectral import ChebConv


def random_graph(num_edges: int, avg_degree: int = 10, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    n = num_edges // avg_degree
    src = torch.randint(n, (num_edges // 2,), generator=g)
    dst = torch.randint(n, (num_edges // 2,), generator=g)
    return torch.stack([torch.cat([src, dst]), torch.cat([dst, src])]), n


def step(layer, x, edge_index):
    layer.zero_grad(set_to_none=True)
    x.grad = None
    out = layer(x, edge_index)
    out.square().mean().backward()


def timed(layer, x, edge_index):
    t = time.perf_counter()
    step(layer, x, edge_index)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="only 1e4 and 1e5 edges")
    ap.add_argument("--K", type=int, default=10)
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads (default: torch's choice); 1 is less sensitive to other processes")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    sizes = [10**4, 10**5] if args.quick else [10**4, 3 * 10**4, 10**5, 3 * 10**5, 10**6]
    C, K = args.channels, args.K
    print(f"ChebConv K={K}, {C} -> {C} channels, forward+backward, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; median of {args.repeats}")
    print(f"{'edges':>9} {'nodes':>8} {'PyG [ms]':>10} {'ours [ms]':>10} {'ratio':>7} {'cached [ms]':>12} {'ratio':>7}")
    rows = []
    for E in sizes:
        edge_index, n = random_graph(E)
        x = torch.randn(n, C, requires_grad=True)
        pyg = PygChebConv(C, C, K)
        ours = ChebConv(C, C, K)
        ours.load_state_dict(pyg.state_dict())
        cached = ChebConv(C, C, K, cached=True)
        cached.load_state_dict(pyg.state_dict())
        with torch.no_grad():  # same function, checked once per size
            err = (pyg(x, edge_index) - ours(x, edge_index)).abs().max().item()
        assert err < 1e-4, f"outputs differ by {err}"
        for layer in (pyg, ours, cached):  # warm up
            step(layer, x, edge_index)
        t = {"pyg": [], "ours": [], "cached": []}
        for _ in range(args.repeats):  # interleaved, so contention hits all alike
            t["pyg"].append(timed(pyg, x, edge_index))
            t["ours"].append(timed(ours, x, edge_index))
            t["cached"].append(timed(cached, x, edge_index))
        m = {k: statistics.median(v) for k, v in t.items()}
        rows.append((E, m))
        print(f"{E:>9} {n:>8} {1e3 * m['pyg']:>10.1f} {1e3 * m['ours']:>10.1f} {m['ours'] / m['pyg']:>7.3f} "
              f"{1e3 * m['cached']:>12.1f} {m['cached'] / m['pyg']:>7.3f}")
    E = np.log([r[0] for r in rows])
    for key in ("pyg", "ours", "cached"):
        slope = np.polyfit(E, np.log([r[1][key] for r in rows]), 1)[0]
        print(f"log-log slope of time vs edges, {key}: {slope:.2f}")
    worst = max(r[1]["ours"] / r[1]["pyg"] for r in rows)
    print(f"worst ratio ours/PyG: {worst:.3f} (target <= 0.5): {'OK' if worst <= 0.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
