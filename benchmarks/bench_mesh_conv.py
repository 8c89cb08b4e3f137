"""Benchmark: intrinsic mesh convolutions (gdlutils.mesh_conv).

    GDL_DATA=/path/to/data python benchmarks/bench_mesh_conv.py [--repeat 5] [--subdivisions 6]

1. ``MoNetConv`` against PyG's ``GMMConv`` (same weights, same pseudo-coordinates, outputs
   checked equal), forward + backward, on the two-ring geodesic patches of the closed bunny:
   best-of-``repeat`` wall time of each, runs interleaved, and the ratio gdlutils / PyG.
2. ``GEMConv`` (16 -> 16 channels, max_order 2) forward + backward on the closed bunny and on
   an icosphere with ``20 * 4**subdivisions`` faces (81,920 by default): time and the peak
   resident memory the pass adds, measured in a forked child process.
3. The precomputation (one-ring, two-ring polar coordinates, 32 eigenpairs) of each mesh,
   timed separately, and the one-ring of the full Stanford bunny scan (a mesh with boundary).

Not a test: timings depend on the machine and on what else runs.
"""
from __future__ import annotations

import argparse
import os
import resource
import time

import torch

from bench_cotmatrix import best_times  # best-of-repeat wall times, runs interleaved


def fwd_bwd(layer, *args):
    def run():
        layer.zero_grad(set_to_none=True)
        out = layer(*args)
        out.square().sum().backward()

    return run


def peak_rss_of(fn) -> float:
    """Peak resident memory (MB) added by ``fn`` in a forked child (Linux: ru_maxrss in kB)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        fn()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        os.write(w, str((after - before) / 1024).encode())
        os._exit(0)
    os.close(w)
    data = os.read(r, 64)
    os.waitpid(pid, 0)
    return float(data or b"nan")


def main() -> None:
    from torch_geometric.nn import GMMConv

    from gdlutils import mesh as gm
    from gdlutils import mesh_conv as mc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--subdivisions", type=int, default=6)
    args = parser.parse_args()
    torch.manual_seed(0)

    bunny = gm.load_mesh("bunny", normalize=True)
    sphere = gm.icosphere(args.subdivisions)
    geos = {}
    print(f"{'precomputation':<24}{'vertices':>10}{'faces':>10}{'seconds':>10}")
    for mesh in (bunny, sphere):
        t = time.perf_counter()
        geos[mesh.name] = mc.as_tensors(mc.precompute(mesh, rings=2, k_eig=32, cache=False))
        print(f"{mesh.name:<24}{mesh.n_vertices:>10}{mesh.n_faces:>10}{time.perf_counter() - t:>10.2f}")
    scan = gm.load_mesh("stanford-bunny")
    t = time.perf_counter()
    ring = mc.one_ring(*scan)
    print(f"{'stanford-bunny one-ring':<24}{scan.n_vertices:>10}{scan.n_faces:>10}{time.perf_counter() - t:>10.2f}"
          f"   (boundary: {len(gm.boundary_edges(scan.faces))} edges; {ring['rho'].size} directed edges)")

    print(f"\n{'MoNet fwd+bwd':<24}{'E':>10}{'gdlutils ms':>13}{'PyG ms':>10}{'ratio':>8}")
    g = geos[bunny.name]
    ei, rho, th = g["patch_edge_index"], g["patch_rho"], g["patch_theta"]
    pseudo = torch.stack([rho * torch.cos(th), rho * torch.sin(th)], 1) / rho.max()
    for cin, cout, K in [(3, 16, 8), (16, 16, 8), (64, 64, 8)]:
        x = torch.randn(bunny.n_vertices, cin)
        ref = GMMConv(cin, cout, dim=2, kernel_size=K)
        ours = mc.MoNetConv(cin, cout, dim=2, kernel_size=K)
        ours.load_state_dict(ref.state_dict())
        assert torch.allclose(ours(x, ei, pseudo), ref(x, ei, pseudo), atol=1e-5)
        t_ours, t_ref = best_times([fwd_bwd(ours, x, ei, pseudo), fwd_bwd(ref, x, ei, pseudo)], args.repeat)
        print(f"{f'{cin}->{cout}, K={K}':<24}{ei.size(1):>10}{1e3 * t_ours:>13.1f}{1e3 * t_ref:>10.1f}{t_ours / t_ref:>8.2f}")

    print(f"\n{'GEMConv 16->16, M=2':<24}{'E':>10}{'fwd+bwd ms':>13}{'peak MB':>10}")
    for mesh in (bunny, sphere):
        g = geos[mesh.name]
        conv = mc.GEMConv(16, 16, max_order=2)
        x = torch.randn(mesh.n_vertices, 16, 5)
        run = fwd_bwd(conv, x, g["ring_edge_index"], g["ring_theta"], g["ring_transport"])
        run()
        (t,) = best_times([run], args.repeat)
        mb = peak_rss_of(run)
        print(f"{mesh.name:<24}{g['ring_edge_index'].size(1):>10}{1e3 * t:>13.1f}{mb:>10.0f}")


if __name__ == "__main__":
    main()
