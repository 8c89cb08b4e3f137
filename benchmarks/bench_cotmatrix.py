"""Benchmark: cotangent Laplacian + mass matrix, gdlutils.mesh against libigl (C++).

    GDL_DATA=/path/to/data python benchmarks/bench_cotmatrix.py [--repeat 5] [--subdivisions 8]

Builds L and M on the Stanford bunny scan (69,451 faces) and on an icosphere subdivided 8
times (1,310,720 faces), with ``gdlutils.mesh.laplacian_and_mass`` and with
``igl.cotmatrix`` + ``igl.massmatrix`` in the same run, for the barycentric and the mixed
Voronoi lumped mass. Prints the best-of-``repeat`` wall time of each (runs interleaved) and the ratio
gdlutils / libigl (below 1: gdlutils is faster). Also checks that both give the same matrices.
Not a test: timings depend on the machine and on what else runs.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def best_times(fns, repeat: int) -> list[float]:
    """Best-of-``repeat`` wall time of each function, the runs interleaved so that both see the
    same background load (the fastest run is the least disturbed one)."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def main() -> None:
    import igl

    from gdlutils.mesh import icosphere, laplacian_and_mass, load_mesh

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--subdivisions", type=int, default=8)
    args = parser.parse_args()

    meshes = [load_mesh("stanford-bunny"), icosphere(args.subdivisions)]
    kinds = {"barycentric": igl.MASSMATRIX_TYPE_BARYCENTRIC, "voronoi": igl.MASSMATRIX_TYPE_VORONOI}
    print(f"{'mesh':<22}{'faces':>10}{'mass':>13}{'gdlutils s':>12}{'libigl s':>10}{'ratio':>8}")
    for mesh in meshes:
        V, F = mesh.vertices, mesh.faces
        for kind, igl_kind in kinds.items():
            L, M = laplacian_and_mass(V, F, kind)
            Li, Mi = igl.cotmatrix(V, F), igl.massmatrix(V, F, igl_kind)
            err = max(abs(L + Li).max(), abs(M - Mi).max())
            assert err < 1e-8 * max(1.0, abs(Li).max()), f"results differ from libigl by {err}"
            t_ours, t_igl = best_times(
                [lambda: laplacian_and_mass(V, F, kind), lambda: (igl.cotmatrix(V, F), igl.massmatrix(V, F, igl_kind))],
                args.repeat,
            )
            print(f"{mesh.name:<22}{len(F):>10}{kind:>13}{t_ours:>12.3f}{t_igl:>10.3f}{t_ours / t_igl:>8.2f}")


if __name__ == "__main__":
    main()
