"""Where GIN's time goes: the gdlutils GINConv taken apart, step by step, against PyG's GINConv,
forward + backward, in the same run (the evidence behind the GIN rows of ``bench_gnn.py``).

Each variant adds one step to the previous one, so the differences between rows are the cost of
each step *inside* a real forward + backward sequence (where caches are cold after the MLP,
which makes every step cost more than in a loop of its own):

  mlp                     the MLP alone (identical in both layers): the floor
  mlp(x * 1)              plus one autograd node before it
  mlp(agg, cached graph)  plus the aggregation (A + I) x on a CSR structure built once
  mlp(agg, new graph)     plus the counting sorts (A and A^T) on every call
  mlp(agg, checked)       plus the validation of edge_index
  gdlutils GINConv        the layer (module call and checks)

Run:  .venv/bin/python benchmarks/gin_breakdown.py [--edges 10000] [--rounds 15]
"""
from __future__ import annotations

import argparse

import torch

from bench_gnn import make_pair, random_graph, time_fwd_bwd
from gdlutils._sparse import CSRGraph, sum_aggregate
from gdlutils.message_passing import check_graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edges", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    torch.manual_seed(0)
    edge_index, n = random_graph(args.edges)
    x = torch.randn(n, 64, requires_grad=True)
    ours, ref = make_pair("GIN")
    mlp = ref.nn
    cached = CSRGraph(edge_index, n, transpose=True, edge_ids=False)

    def fresh(ei):
        return CSRGraph(ei, n, transpose=True, edge_ids=False)

    variants = {
        "PyG GINConv": lambda: ref(x, edge_index),
        "mlp": lambda: mlp(x),
        "mlp(x * 1)": lambda: mlp(x * 1.0),
        "mlp(agg, cached graph)": lambda: mlp(sum_aggregate(cached, x, 1.0)),
        "mlp(agg, new graph)": lambda: mlp(sum_aggregate(fresh(edge_index), x, 1.0)),
        "mlp(agg, checked)": lambda: mlp(sum_aggregate(fresh(check_graph(x, edge_index)[0]), x, 1.0)),
        "gdlutils GINConv": lambda: ours(x, edge_index),
    }

    def times(f, repeats: int) -> list[float]:
        return time_fwd_bwd(lambda x, edge_index: f(), x, edge_index, repeats)

    reps = max(3, min(40, 4 * 10**5 // args.edges))
    for f in variants.values():  # warm-up
        times(f, reps)
    best = {k: float("inf") for k in variants}
    for _ in range(args.rounds):  # interleaved rounds share the noise; p20 within a round
        for k, f in variants.items():
            ts = sorted(times(f, reps))
            best[k] = min(best[k], ts[len(ts) // 5])
    p = best["PyG GINConv"]
    print(f"GIN, {edge_index.size(1)} edges, {n} nodes, 64 channels, forward + backward, {torch.get_num_threads()} threads")
    print(f"{'variant':<24} {'ms':>8} {'of PyG':>7}")
    for k, t in best.items():
        print(f"{k:<24} {1e3 * t:>8.3f} {t / p:>7.2f}")


if __name__ == "__main__":
    main()
