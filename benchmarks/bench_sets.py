"""Benchmark: the k-NN graph, EdgeConv and attention of chapter 5.4 against references, in the
same run.

1. ``gdlutils.latent_graphs.knn_graph`` (blocked torch.cdist + topk) for 10^4 and 10^5 points
   in 3-D and 64-D, k = 20, against scikit-learn's ``NearestNeighbors`` (kd-tree / ball-tree /
   brute chosen by scikit-learn), with the peak resident memory of a fresh process doing only that
   search (the n x n float32 matrix would take 0.4 GB at 10^4 and 40 GB at 10^5 points).
2. ``EdgeConv`` forward + backward against PyG's ``EdgeConv`` on the same k-NN graph (k = 20,
   MLP 2C-64-64, 10^4 points, C = 3 and 64); target ratio <= 1.0.
3. ``MultiheadAttention`` (fast dense form and readable message-passing form) forward + backward
   against ``torch.nn.MultiheadAttention`` with the same weights (32 sets of 128 elements, 64
   channels, 4 heads).

Run:  .venv/bin/python benchmarks/bench_sets.py [--repeats 3] [--quick] [--threads 1]
(--quick skips the 10^5-point k-NN rows.) Timings on a shared machine are inflated by other
processes; the ratios, measured interleaved in the same run, are the meaningful figures.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import torch
import torch_geometric.nn as pyg

from gdlutils.attention import MultiheadAttention
from gdlutils.latent_graphs import EdgeConv, knn_graph

_CHILD = r"""
import json, resource, sys, time, torch
torch.set_num_threads({threads})
n, d, k, which = {n}, {d}, {k}, "{which}"
x = torch.rand(n, d, generator=torch.Generator().manual_seed(0))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
if which == "ours":
    from gdlutils.latent_graphs import knn_graph
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    out = knn_graph(x, k)
else:
    from sklearn.neighbors import NearestNeighbors
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    out = NearestNeighbors(n_neighbors=k + 1).fit(x.numpy()).kneighbors(x.numpy(), return_distance=False)
t = time.perf_counter() - t0
print(json.dumps({{"time": t, "peak_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024}}))
"""


def knn_case(n: int, d: int, k: int, which: str, threads: int) -> dict:
    code = _CHILD.format(n=n, d=d, k=k, which=which, threads=threads)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fwd_bwd(f, x, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats + 1):
        x.grad = None
        t0 = time.perf_counter()
        f(x).pow(2).mean().backward()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s)")

    print("\n1. k-NN graph, k = 20 (time in s; peak = extra resident memory of the search, MB)")
    print(f"{'points':>8} {'dim':>4} {'ours s':>8} {'sklearn s':>10} {'ratio':>6} {'ours MB':>8} {'sklearn MB':>11}")
    for n in [10_000] + ([] if args.quick else [100_000]):
        for d in (3, 64):
            a, b = knn_case(n, d, 20, "ours", args.threads), knn_case(n, d, 20, "sklearn", args.threads)
            print(f"{n:>8} {d:>4} {a['time']:>8.2f} {b['time']:>10.2f} {a['time'] / b['time']:>6.2f} {a['peak_mb']:>8.0f} {b['peak_mb']:>11.0f}", flush=True)

    print("\n2. EdgeConv forward + backward, 10^4 points, k = 20, MLP 2C-64-64 (best of repeats, ms)")
    print(f"{'C':>4} {'ours':>8} {'readable':>9} {'PyG':>8} {'ours/PyG':>9} {'readable/PyG':>13}")
    torch.manual_seed(0)
    for c in (3, 64):
        x = torch.randn(10_000, c)
        ei = knn_graph(x, 20)
        mlp = torch.nn.Sequential(torch.nn.Linear(2 * c, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64))
        ref = pyg.EdgeConv(mlp)
        fast, slow = EdgeConv(mlp), EdgeConv(mlp, fast=False)
        assert (fast(x, ei) - ref(x, ei)).abs().max() < 1e-4
        xg = x.clone().requires_grad_()
        t = {name: fwd_bwd(lambda z, m=m: m(z, ei), xg, args.repeats) for name, m in (("ours", fast), ("readable", slow), ("pyg", ref))}
        print(f"{c:>4} {1e3 * t['ours']:>8.1f} {1e3 * t['readable']:>9.1f} {1e3 * t['pyg']:>8.1f} {t['ours'] / t['pyg']:>9.2f} {t['readable'] / t['pyg']:>13.2f}", flush=True)

    print("\n3. Multi-head self-attention forward + backward, 32 x 128 elements, 64 channels, 4 heads (ms)")
    ref = torch.nn.MultiheadAttention(64, 4, batch_first=True)
    fast = MultiheadAttention(64, 4, batch_first=True)
    slow = MultiheadAttention(64, 4, batch_first=True, fast=False)
    fast.load_state_dict(ref.state_dict())
    slow.load_state_dict(ref.state_dict())
    x = torch.randn(32, 128, 64, requires_grad=True)
    pad = torch.zeros(32, 128, dtype=torch.bool)
    pad[:, 100:] = True
    for label, kw in (("no mask", {}), ("key padding", {"key_padding_mask": pad})):
        t = {name: fwd_bwd(lambda z, m=m: m(z, z, z, need_weights=False, **kw)[0], x, args.repeats) for name, m in (("fast", fast), ("readable", slow), ("torch", ref))}
        print(f"{label:<12} ours {1e3 * t['fast']:.1f}  readable {1e3 * t['readable']:.1f}  torch {1e3 * t['torch']:.1f}  "
              f"ours/torch {t['fast'] / t['torch']:.2f}  readable/torch {t['readable'] / t['torch']:.2f}", flush=True)


if __name__ == "__main__":
    main()
