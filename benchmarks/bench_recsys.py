"""Benchmark: gdlutils.recsys LightGCN propagation against PyTorch Geometric's, in the same run.

Bipartite user-item graphs from ``recsys.make_interactions`` (both directions of every
interaction listed), 64-dimensional embeddings, 3 layers. Each row times one
``get_embedding`` call forward + backward (as in a training step) for: our fast path (one CSR
operator built per call and applied 3 times), our readable path (``gcn_norm`` without loops and
``propagate``, normalisation recomputed for each layer) and PyG's ``LightGCN``. All three are
given the same embeddings and checked to agree before timing. Ratios ours / PyG are the
meaningful figures on a shared machine.

Run:  .venv/bin/python benchmarks/bench_recsys.py [--repeats 5] [--threads 1]
"""
from __future__ import annotations

import argparse
import time
import warnings

import torch
import torch_geometric.nn as pyg_nn

from gdlutils import recsys as rs

warnings.filterwarnings("ignore", message=".*Sparse CSR tensor support is in beta.*")


def best_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def step(model, edge_index):
    def run():
        model.zero_grad()
        model.get_embedding(edge_index).pow(2).sum().backward()
    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"{'users x items, per user':>26} {'edges':>9} {'fast ms':>9} {'readable ms':>12} {'PyG ms':>9} {'fast/PyG':>9} {'readable/PyG':>13}")
    for users, items, per_user in [(600, 400, 12), (6000, 4000, 20), (20000, 2000, 30)]:
        data = rs.make_interactions(users, items, num_communities=20, interactions_per_user=per_user, seed=0)
        edge_index = rs.bipartite_edge_index(data.user_item, users, items)
        n = users + items
        torch.manual_seed(0)
        fast = rs.LightGCN(n, 64, 3, fast=True)
        readable = rs.LightGCN(n, 64, 3, fast=False)
        ref = pyg_nn.LightGCN(n, 64, 3)
        readable.load_state_dict(fast.state_dict())
        ref.embedding.weight.data.copy_(fast.embedding.weight.data)
        with torch.no_grad():
            a, b, c = fast.get_embedding(edge_index), readable.get_embedding(edge_index), ref.get_embedding(edge_index)
        assert (a - c).abs().max() < 1e-5 and (b - c).abs().max() < 1e-5
        t_fast = best_time(step(fast, edge_index), args.repeats)
        t_read = best_time(step(readable, edge_index), args.repeats)
        t_ref = best_time(step(ref, edge_index), args.repeats)
        print(f"{f'{users} x {items}, {per_user}':>26} {edge_index.size(1):>9} {1e3 * t_fast:>9.2f} {1e3 * t_read:>12.2f} "
              f"{1e3 * t_ref:>9.2f} {t_fast / t_ref:>9.2f} {t_read / t_ref:>13.2f}")


if __name__ == "__main__":
    main()
