"""Speed of the readable recurrent cells of gdlutils.sequences against torch.nn's fused layers.

    python benchmarks/bench_sequences.py [--threads 1]

Prints, for a forward + backward pass on a batch of sequences, the best time over several
runs of our plain-loop cell and of the torch.nn layer with the same weights, and their ratio
(ratio > 1: torch.nn is faster). The plain cells exist to be read and to be checked against;
this measures what reading costs, and why the notebooks train with torch.nn. Not a test:
timings vary with the machine and its load; process (CPU) time is reported next to wall time.
"""
from __future__ import annotations

import time

import torch
from torch import nn

from gdlutils import sequences


def bench(fn, repeat: int = 5) -> tuple[float, float]:
    fn()  # warm-up
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return best_wall, best_cpu


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s); forward + backward, batch 50, input size 2")
    for T, H in [(100, 64), (100, 128), (30, 64)]:
        x = torch.randn(T, 50, 2)
        for name, ours_cls, ref_cls in [("RNN", sequences.RNN, nn.RNN), ("GRU", sequences.GRU, nn.GRU),
                                        ("LSTM", sequences.LSTM, nn.LSTM)]:
            ours, ref = ours_cls(2, H), ref_cls(2, H)
            ref.load_state_dict(ours.state_dict())

            def step(m):
                m.zero_grad()
                m(x)[0][-1].square().sum().backward()

            (w_o, c_o), (w_r, c_r) = bench(lambda: step(ours)), bench(lambda: step(ref))
            print(f"T={T:3d} H={H:3d} {name:4s}: ours {w_o * 1e3:7.1f} ms (cpu {c_o * 1e3:7.1f})   "
                  f"torch.nn {w_r * 1e3:7.1f} ms (cpu {c_r * 1e3:7.1f})   ratio (cpu) {c_o / c_r:5.2f}")


if __name__ == "__main__":
    main()
