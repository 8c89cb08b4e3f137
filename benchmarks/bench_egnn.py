"""Speed of EGNN's dense fast path against its readable message-passing form, same run.

    python benchmarks/bench_egnn.py [--batch 100] [--hidden 64] [--layers 4] [--repeats 20]

One training step (forward, MSE loss, backward) of ``gdlutils.equivariant.NBodyEGNN`` on a batch
of ``--batch`` five-particle systems: ``dense=False`` runs every layer on one ``edge_index`` of the
whole batch through ``gdlutils.message_passing.scatter`` (the reference), ``dense=True`` on dense
``(B, n, n - 1, F)`` edge tensors with the first message layer split per node
(``gdlutils._fast_equivariant``). Also reported, for scale: the GNN and Radial Field baselines, and
one step of the vectorised N-body integrator (7000 systems) against its gather/scatter form.

Runs are interleaved; the ratio is best-of-N candidate over best-of-N reference (the least
disturbed run of each on a shared CPU), with the median of per-round ratios beside it.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from gdlutils import _fast_equivariant as fast
from gdlutils import equivariant as eq
from gdlutils.nbody import coulomb_forces


def train_step(model, batch, opt) -> float:
    t0 = time.perf_counter()
    loss = ((model(*batch[:3]) - batch[3]) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return time.perf_counter() - t0


def compare(name, ref, cand, repeats):
    for _ in range(3):
        ref(), cand()
    r, c = [], []
    for _ in range(repeats):
        r.append(ref())
        c.append(cand())
    ratios = [ci / ri for ri, ci in zip(r, c)]
    print(f"{name:<44} reference {1e3 * min(r):8.2f} ms  candidate {1e3 * min(c):8.2f} ms  "
          f"ratio {min(c) / min(r):.2f} (median {statistics.median(ratios):.2f})")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--repeats", type=int, default=20)
    args = p.parse_args()
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    b = args.batch
    loc, vel = torch.randn(b, 5, 3, generator=g), 0.5 * torch.randn(b, 5, 3, generator=g)
    q = torch.randint(0, 2, (b, 5), generator=g).float() * 2 - 1
    batch = (loc, vel, q, loc + 0.7 * vel)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); batch {b}, hidden {args.hidden}, {args.layers} layers")
    mp = eq.NBodyEGNN(args.hidden, args.layers, dense=False)
    dense = eq.NBodyEGNN(args.hidden, args.layers, dense=True)
    dense.load_state_dict(mp.state_dict())
    opt_mp = torch.optim.Adam(mp.parameters(), 5e-4)
    opt_dense = torch.optim.Adam(dense.parameters(), 5e-4)
    compare("EGNN train step: message passing -> dense", lambda: train_step(mp, batch, opt_mp),
            lambda: train_step(dense, batch, opt_dense), args.repeats)
    for name, cls in [("GNN", eq.NBodyGNN), ("Radial Field", eq.NBodyRadialField)]:
        m = cls(args.hidden, args.layers)
        o = torch.optim.Adam(m.parameters(), 1e-3)
        compare(f"EGNN dense -> {name} train step (for scale)", lambda: train_step(dense, batch, opt_dense),
                lambda m=m, o=o: train_step(m, batch, o), args.repeats)
    s = 7000
    x = torch.randn(s, 5, 3, dtype=torch.float64, generator=g)
    qs = torch.randint(0, 2, (s, 5), generator=g).double() * 2 - 1
    forces = fast.PairForces(qs)
    xt = x.permute(1, 2, 0).contiguous()

    def timed(f):
        t0 = time.perf_counter()
        f()
        return time.perf_counter() - t0

    compare("N-body forces, 7000 systems: readable -> fast", lambda: timed(lambda: coulomb_forces(x, qs)),
            lambda: timed(lambda: forces(xt)), args.repeats)


if __name__ == "__main__":
    main()
