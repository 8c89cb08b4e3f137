"""Speed of the p4 group convolution against plain convolutions, measured in the same run.

    python benchmarks/bench_gconv.py [--batch 64] [--size 32] [--channels 32] [--repeats 15]

Compares, forward + backward (loss = sum of outputs, gradients w.r.t. the input and weights):

1. ``gdlutils.gconv.GroupConv2d(C, C, 3, group="p4")`` against ``torch.nn.Conv2d(4C, 4C, 3)``,
   the plain convolution with the same expanded weight shape ``(4C, 4C, 3, 3)``: the ratio
   measures the overhead of transforming the filter bank (target: <= 1.05).
2. The same for p4m (``8C`` channels) and for the lifting layer (``LiftingConv2d(3, C)`` against
   ``nn.Conv2d(3, 4C, 3)``).
3. If ``escnn`` can be imported, its ``R2Conv`` between ``C`` regular fields of ``C_4`` (the same
   input and output sizes): reported, no target.

Runs are interleaved (reference, candidate, candidate, reference, ...); the ratio reported is
best-of-N candidate over best-of-N reference (the least disturbed run of each: the estimate least
affected by other processes sharing the CPU), with the median of the per-round ratios beside it.
The cost of the filter-bank transformation alone is printed as a share of the layer's time.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from gdlutils.gconv import GroupConv2d, LiftingConv2d


def step_time(module: nn.Module, x: torch.Tensor) -> float:
    x = x.detach().requires_grad_(True)
    module.zero_grad(set_to_none=True)
    t0 = time.perf_counter()
    out = module(x)
    out = out.tensor if hasattr(out, "tensor") else out
    out.sum().backward()
    return time.perf_counter() - t0


def compare(name: str, ref: nn.Module, x_ref: torch.Tensor, cand: nn.Module, x_cand: torch.Tensor,
            repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        step_time(ref, x_ref)
        step_time(cand, x_cand)
    t_ref, t_cand, ratios = [], [], []
    for i in range(repeats):
        # alternate the order so that neither side always runs first
        if i % 2:
            b = step_time(cand, x_cand)
            a = step_time(ref, x_ref)
        else:
            a = step_time(ref, x_ref)
            b = step_time(cand, x_cand)
        t_ref.append(a)
        t_cand.append(b)
        ratios.append(b / a)
    ratio = min(t_cand) / min(t_ref)
    print(f"{name:<48} best ref {1e3 * min(t_ref):8.2f} ms   candidate {1e3 * min(t_cand):8.2f} ms   "
          f"ratio {ratio:5.3f}   (median of per-round ratios {statistics.median(ratios):5.3f})")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--channels", type=int, default=32, help="group channels C (the conv2d has 4C)")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.manual_seed(0)
    B, N, C = args.batch, args.size, args.channels
    print(f"batch {B}, {N}x{N}, {C} group channels, forward+backward, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")

    ratios = {}
    gconv = GroupConv2d(C, C, 3, group="p4")
    plain = nn.Conv2d(4 * C, 4 * C, 3, padding=1)
    y = torch.randn(B, C, 4, N, N)
    ratios["p4"] = compare(f"p4 GroupConv2d({C},{C}) vs Conv2d({4 * C},{4 * C})",
                           plain, y.reshape(B, 4 * C, N, N), gconv, y, args.repeats)

    # the filter-bank transformation alone (gather forward, scatter-add backward), as a share of the layer
    def expand_time() -> float:
        gconv.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        gconv.expanded_weight().sum().backward()
        return time.perf_counter() - t0

    for _ in range(3):
        expand_time()
    t_expand = statistics.median(expand_time() for _ in range(args.repeats))
    t_layer = statistics.median(step_time(gconv, y) for _ in range(max(3, args.repeats // 3)))
    print(f"{'p4 filter-bank expansion alone':<48} {1e3 * t_expand:8.3f} ms = {100 * t_expand / t_layer:.2f} % "
          f"of the layer's forward+backward ({1e3 * t_layer:.1f} ms)")

    lift = LiftingConv2d(3, C, 3, group="p4")
    plain_lift = nn.Conv2d(3, 4 * C, 3, padding=1)
    x = torch.randn(B, 3, N, N)
    ratios["lift"] = compare(f"p4 LiftingConv2d(3,{C}) vs Conv2d(3,{4 * C})", plain_lift, x, lift, x, args.repeats)

    c8 = max(1, C // 2)
    gconv_m = GroupConv2d(c8, c8, 3, group="p4m")
    plain_m = nn.Conv2d(8 * c8, 8 * c8, 3, padding=1)
    ym = torch.randn(B, c8, 8, N, N)
    ratios["p4m"] = compare(f"p4m GroupConv2d({c8},{c8}) vs Conv2d({8 * c8},{8 * c8})",
                            plain_m, ym.reshape(B, 8 * c8, N, N), gconv_m, ym, args.repeats)

    try:
        from escnn import gspaces
        from escnn import nn as enn
    except Exception as error:  # noqa: BLE001 - any import failure means "not available"
        print(f"escnn not available ({type(error).__name__}: {error}); skipping the R2Conv comparison")
    else:
        gs = gspaces.rot2dOnR2(4)
        ftype = enn.FieldType(gs, C * [gs.regular_repr])
        r2conv = enn.R2Conv(ftype, ftype, 3, padding=1)
        r2conv.train()

        class Wrapped(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = r2conv

            def forward(self, t):
                return self.conv(enn.GeometricTensor(t, ftype)).tensor

        flat = y.reshape(B, 4 * C, N, N)
        gflat = nn.Sequential(nn.Unflatten(1, (C, 4)), gconv)
        ratios["escnn"] = compare(f"p4 GroupConv2d vs escnn R2Conv (C4 regular, {C} fields)",
                                  Wrapped(), flat, gflat, flat, args.repeats)
        print(f"  (ratio < 1: gdlutils faster; escnn R2Conv has {sum(p.numel() for p in r2conv.parameters())} "
              f"parameters, GroupConv2d {sum(p.numel() for p in gconv.parameters())})")

    print("summary: " + ", ".join(f"{k} {v:.3f}" for k, v in ratios.items()) + "   (target for p4: <= 1.05)")


if __name__ == "__main__":
    main()
