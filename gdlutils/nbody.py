"""The charged-particle N-body system: a simulator and the data set of the EGNN paper.

Five particles in 3-D carry charges :math:`q_i = \\pm 1` (probability :math:`\\tfrac12` each);
particle :math:`j` pushes particle :math:`i` with the Coulomb-like force

.. math:: F_{ij} = q_i q_j \\frac{x_i - x_j}{\\lVert x_i - x_j \\rVert^3},

so like charges repel and opposite charges attract. Positions start Gaussian (std 1),
velocities with speed 0.5 in uniformly random directions, and the system is integrated by
leapfrog with :math:`\\Delta t = 0.001`, each component of the total force clipped to
:math:`[-100, 100]` (the clipping is per component, so total momentum is *not* exactly
conserved). This is the simulator of Kipf et al. (2018) in the 3-D form used by Satorras,
Hoogeboom and Welling (2021), vectorised here over all trajectories at once.

The learning task (:func:`load_nbody`): from the positions, velocities and charges at frame 30
of a trajectory sampled every 100 steps, predict the positions at frame 40, i.e. 1000
integration steps later. 3000 training, 2000 validation and 2000 test trajectories.

Introduced in: 5.5, :doc:`/book/05_models/05_5_2_nbody`.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from gdlutils import _fast_equivariant as _fast

__all__ = ["coulomb_forces", "simulate_charged", "NBodyData", "make_nbody", "load_nbody"]


def coulomb_forces(loc: Tensor, charges: Tensor, max_force: float | None = 100.0) -> Tensor:
    """Total force on every particle, :math:`F_i = \\sum_{j \\ne i} q_i q_j (x_i - x_j)/\\lVert x_i - x_j\\rVert^3`,
    each component clipped to ``[-max_force, max_force]`` (no clipping with ``None``).

    Shapes:
        loc: ``(S, n, d)`` positions of ``S`` systems; charges: ``(S, n)``; returns ``(S, n, d)``.

    Introduced in: 5.5, :doc:`/book/05_models/05_5_2_nbody`.
    """
    if not isinstance(loc, Tensor) or loc.dim() != 3:
        raise ValueError(f"coulomb_forces: loc must be a tensor of shape (S, n, d), got {getattr(loc, 'shape', type(loc).__name__)}")
    if not isinstance(charges, Tensor) or charges.shape != loc.shape[:2]:
        raise ValueError(
            f"coulomb_forces: charges must be a tensor of shape (S, n) = {tuple(loc.shape[:2])}, "
            f"got {getattr(charges, 'shape', type(charges).__name__)}"
        )
    diff = loc[:, :, None, :] - loc[:, None, :, :]  # (S, n, n, d): x_i - x_j
    r2 = (diff * diff).sum(-1)
    r2 = r2 + torch.diag(torch.full((loc.shape[1],), float("inf"), dtype=loc.dtype, device=loc.device))  # no self-force
    qq = charges[:, :, None] * charges[:, None, :]
    force = ((qq * r2.pow(-1.5)).unsqueeze(-1) * diff).sum(2)
    return force if max_force is None else force.clamp(-max_force, max_force)


def simulate_charged(
    num_simulations: int,
    num_particles: int = 5,
    dim: int = 3,
    num_steps: int = 5000,
    sample_every: int = 100,
    frames: Sequence[int] | None = None,
    dt: float = 1e-3,
    loc_std: float = 1.0,
    speed: float = 0.5,
    max_force: float | None = 100.0,
    seed: int | None = 0,
    device: torch.device | str | None = None,
) -> dict[str, Tensor]:
    """Simulate ``num_simulations`` independent charged systems at once (float64).

    Leapfrog (kick-drift) as in the reference code: one initial kick
    :math:`v \\leftarrow v + \\Delta t\\,F(x)`, then for steps :math:`s = 1, \\dots,` ``num_steps - 1``:
    :math:`x \\leftarrow x + \\Delta t\\, v`, record when :math:`s` is a multiple of
    ``sample_every``, :math:`v \\leftarrow v + \\Delta t\\, F(x)`. Frame :math:`k` is the state after
    step :math:`(k+1)\\cdot` ``sample_every`` (the reference overwrites its initial frame with the
    first sample), so there are ``num_steps // sample_every - 1`` frames; ``frames`` keeps only
    those (and stops integrating after the last one).

    Returns:
        dict with ``loc`` and ``vel`` of shape ``(S, F, n, dim)`` (``F`` frames kept),
        ``charges`` ``(S, n)`` and ``frames`` ``(F,)``.

    Introduced in: 5.5, :doc:`/book/05_models/05_5_2_nbody`.
    """
    for name, value in [("num_simulations", num_simulations), ("num_particles", num_particles), ("dim", dim),
                        ("num_steps", num_steps), ("sample_every", sample_every)]:
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"simulate_charged: {name} must be a positive integer, got {value!r}")
    num_frames = num_steps // sample_every - 1
    if num_frames < 1:
        raise ValueError(
            f"simulate_charged: num_steps = {num_steps} with sample_every = {sample_every} records no frame; "
            f"use num_steps >= 2 * sample_every"
        )
    frames = list(range(num_frames)) if frames is None else [int(f) for f in frames]
    if not frames or min(frames) < 0 or max(frames) >= num_frames:
        raise ValueError(f"simulate_charged: frames must lie in [0, {num_frames}), got {frames}")
    if not (dt > 0 and np.isfinite(dt)):
        raise ValueError(f"simulate_charged: dt must be a positive number, got {dt!r}")
    rng = np.random.default_rng(seed)
    charges = rng.choice(np.array([-1.0, 1.0]), size=(num_simulations, num_particles))
    loc0 = rng.standard_normal((num_simulations, num_particles, dim)) * loc_std
    vel0 = rng.standard_normal((num_simulations, num_particles, dim))
    vel0 = vel0 * speed / np.linalg.norm(vel0, axis=-1, keepdims=True)
    as_t = lambda a: torch.as_tensor(a, dtype=torch.float64, device=device)  # noqa: E731
    q, x, v = as_t(charges), as_t(loc0), as_t(vel0)

    # The integration runs in the particle-major layout (n, dim, S) of the fast force routine
    # (tested equal to coulomb_forces): two small matrix products per step instead of a loop.
    forces = _fast.PairForces(q, max_force)
    x, v = x.permute(1, 2, 0).contiguous(), v.permute(1, 2, 0).contiguous()
    wanted = {(f + 1) * sample_every: k for k, f in enumerate(frames)}
    loc_out = x.new_empty((num_simulations, len(frames), num_particles, dim))
    vel_out = torch.empty_like(loc_out)
    v.add_(forces(x), alpha=dt)
    for step in range(1, max(wanted) + 1):
        x.add_(v, alpha=dt)
        if step in wanted:
            loc_out[:, wanted[step]], vel_out[:, wanted[step]] = x.permute(2, 0, 1), v.permute(2, 0, 1)
        v.add_(forces(x), alpha=dt)
    return {"loc": loc_out, "vel": vel_out, "charges": q, "frames": torch.tensor(frames)}


@dataclass
class NBodyData:
    """One split of the N-body task: inputs at frame 30, target positions at frame 40.

    Attributes:
        loc, vel: ``(S, n, 3)`` positions and velocities at the input frame.
        charges: ``(S, n)``, each :math:`\\pm 1`.
        target: ``(S, n, 3)`` positions at the target frame.

    Introduced in: 5.5, :doc:`/book/05_models/05_5_2_nbody`.
    """

    loc: Tensor
    vel: Tensor
    charges: Tensor
    target: Tensor

    def __len__(self) -> int:
        return self.loc.shape[0]

    def __getitem__(self, index) -> "NBodyData":
        """A subset (slice, index tensor) of the trajectories."""
        return NBodyData(self.loc[index], self.vel[index], self.charges[index], self.target[index])

    def to(self, *args, **kwargs) -> "NBodyData":
        """Move/cast every tensor (``Tensor.to`` arguments)."""
        return NBodyData(*(t.to(*args, **kwargs) for t in (self.loc, self.vel, self.charges, self.target)))


def make_nbody(num_simulations: int, frame_in: int = 30, frame_out: int = 40, seed: int | None = 0) -> NBodyData:
    """Simulate ``num_simulations`` trajectories and keep frames ``frame_in`` -> ``frame_out``
    (sampled every 100 steps of :math:`\\Delta t = 0.001`; 1000 steps apart by default).

    Introduced in: 5.5, :doc:`/book/05_models/05_5_2_nbody`.
    """
    if not (0 <= frame_in < frame_out):
        raise ValueError(f"make_nbody: need 0 <= frame_in < frame_out, got {frame_in}, {frame_out}")
    sim = simulate_charged(num_simulations, num_steps=5000, sample_every=100, frames=[frame_in, frame_out], seed=seed)
    return NBodyData(sim["loc"][:, 0], sim["vel"][:, 0], sim["charges"], sim["loc"][:, 1])


def _atomic_save(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def load_nbody(
    num_train: int = 3000, num_val: int = 2000, num_test: int = 2000, seed: int = 0, cache: bool = True
) -> dict[str, NBodyData]:
    """The N-body data set of Satorras et al. (2021): ``{"train", "val", "test"}`` splits.

    All ``num_train + num_val + num_test`` trajectories are simulated in one vectorised run
    (:func:`make_nbody`, seeded) and split in that order. The result is cached in
    :func:`gdlutils.data.cache_home` (written to a temporary file and renamed, so parallel
    readers never see a half-written file); a later call loads it in milliseconds.

    Introduced in: 5.5, :doc:`/book/05_models/05_5_2_nbody`.
    """
    sizes = {"train": num_train, "val": num_val, "test": num_test}
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"load_nbody: num_{name} must be an integer >= 0, got {value!r}")
    total = num_train + num_val + num_test
    if total == 0:
        raise ValueError("load_nbody: asked for no trajectories at all")
    data = None
    path = None
    if cache:
        from gdlutils.data import cache_home

        path = cache_home() / "nbody" / f"charged5_f30-40_n{total}_seed{seed}.pt"
        if path.exists():
            try:
                data = NBodyData(**torch.load(path, weights_only=True))
            except Exception:  # a corrupt cache file: simulate again
                data = None
    if data is None:
        data = make_nbody(total, seed=seed)
        if path is not None:
            _atomic_save(dict(loc=data.loc, vel=data.vel, charges=data.charges, target=data.target), path)
    out, start = {}, 0
    for name, value in sizes.items():
        out[name] = data[start:start + value]
        start += value
    return out
