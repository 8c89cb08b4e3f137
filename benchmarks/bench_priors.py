"""Speed of the chapter 3 operators against references measured in the same run.

    python benchmarks/bench_priors.py [--threads 1]

Prints, for each operator, its best time over several runs and the ratio to a reference
implementation measured in the same run (ratio < 1: gdlutils is faster). Not a test: timings
vary with the machine and its load; on a shared, busy CPU use one thread (the default), as
torch's intra-op threads make small operations erratic under contention.
"""
from __future__ import annotations

import time

import networkx as nx
import numpy as np
import torch

from gdlutils.blueprint import GroupConv
from gdlutils.deformations import smooth_displacement, warp_image
from gdlutils.groups import DihedralGroup
from gdlutils.multiscale import coarsen_graph, haar_decompose_2d, local_pool


def bench(fn, repeat: int = 9) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def row(name: str, ours: float, ref: float, ref_name: str) -> None:
    print(f"{name:40s} {ours * 1e3:9.2f} ms   {ref_name:34s} {ref * 1e3:9.2f} ms   ratio {ours / ref:6.2f}")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    torch.set_num_threads(parser.parse_args().threads)
    torch.manual_seed(0)
    x = torch.randn(64, 16, 128, 128)
    row("local_pool 2x2 mean (64x16x128x128)", bench(lambda: local_pool(x, 2, ndim=2)),
        bench(lambda: torch.nn.functional.avg_pool2d(x, 2)), "torch avg_pool2d")

    img = torch.randn(16, 256, 256, dtype=torch.float64)
    n = 256
    one_level = np.zeros((n, n))
    for k in range(n // 2):
        one_level[k, 2 * k: 2 * k + 2] = [1, 1]
        one_level[n // 2 + k, 2 * k: 2 * k + 2] = [1, -1]
    m = torch.tensor(one_level / np.sqrt(2))
    row("haar_decompose_2d 1 level (16x256x256)", bench(lambda: haar_decompose_2d(img, 1)),
        bench(lambda: m @ img @ m.T), "dense Haar matrices M X M^T")

    im = torch.randn(8, 64, 64)
    tau = smooth_displacement((64, 64), 0.05, generator=torch.Generator().manual_seed(0))
    grid_y, grid_x = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    grid = torch.stack([(grid_x - tau[1].float()) / 31.5 - 1, (grid_y - tau[0].float()) / 31.5 - 1], -1)[None].expand(8, -1, -1, -1)
    gs = lambda: torch.nn.functional.grid_sample(im[:, None], grid, mode="bilinear", align_corners=True, padding_mode="border")
    row("warp_image bilinear (8x64x64)", bench(lambda: warp_image(im, tau, "bilinear")), bench(gs), "torch grid_sample bilinear")
    row("warp_image fourier (8x64x64)", bench(lambda: warp_image(im, tau, "fourier"), repeat=2), bench(gs), "torch grid_sample bilinear")

    d4 = DihedralGroup(4)
    layer = GroupConv(d4, 32, 32)
    f = torch.randn(256, 32, 8)
    with torch.no_grad():
        dense = layer.weight[:, :, layer.table].permute(0, 2, 1, 3).reshape(32 * 8, 32 * 8)
        row("GroupConv D4 32->32 (batch 256)", bench(lambda: layer(f)),
            bench(lambda: f.reshape(256, -1) @ dense.T), "dense equivalent matrix (precomputed)")

    g = nx.random_geometric_graph(2000, 0.04, seed=0)
    a = nx.to_scipy_sparse_array(g, format="csr")
    row("coarsen_graph 1 level (2000 nodes)", bench(lambda: coarsen_graph(a, 1), repeat=3),
        bench(lambda: nx.maximal_matching(g), repeat=3), "networkx maximal_matching")


if __name__ == "__main__":
    main()
