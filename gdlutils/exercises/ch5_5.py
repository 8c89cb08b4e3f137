"""Self-checks for the exercises of section 5.5 (equivariant message passing, EGNN).

5.5.1-5.5.3: invariants and equivariant updates of point clouds (notebook 5.5 I);
5.5.4-5.5.6: the N-body task (notebook 5.5 II).
"""
from __future__ import annotations

import torch

from ..groups import E3, transform_points, transform_vectors
from ..nbody import NBodyData
from . import ExerciseFailure, exercise

D = torch.float64


def _tensor(value, what: str, shape=None) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ExerciseFailure(f"{what} should return a torch.Tensor, got {type(value).__name__}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise ExerciseFailure(f"{what} should return shape {tuple(shape)}, got {tuple(value.shape)}")
    return value.to(D)


def _clouds(seed: int, num: int = 3, n: int = 6):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 3, generator=g, dtype=D) for _ in range(num)], g


# ---------------------------------------------------------------------------------------- 5.5.1


@exercise("5.5.1", "the squared-distance matrix: E(3)-invariant, permutation-equivariant")
def _squared_distances(squared_distances):
    """``squared_distances(x)``: (n, 3) -> (n, n) with entries ||x_i - x_j||^2."""
    clouds, gen = _clouds(1)
    for x in clouds:
        n = x.shape[0]
        out = _tensor(squared_distances(x.clone()), "squared_distances", (n, n))
        ref = ((x[:, None] - x[None]) ** 2).sum(-1)
        g = E3(dtype=D).sample(1, gen)[0]
        moved = _tensor(squared_distances(transform_points(g, x)), "squared_distances", (n, n))
        if (moved - out).abs().max() > 1e-9:
            t_only = E3.element(torch.eye(3, dtype=D), g[:3, 3])
            shifted = _tensor(squared_distances(transform_points(t_only, x)), "squared_distances", (n, n))
            which = "a translation" if (shifted - out).abs().max() > 1e-9 else "a rotation or reflection"
            raise ExerciseFailure(f"your matrix changes when the point cloud is moved by {which}; it must be E(3)-invariant")
        p = torch.randperm(n, generator=gen)
        permuted = _tensor(squared_distances(x[p]), "squared_distances", (n, n))
        if (permuted - out[p][:, p]).abs().max() > 1e-9:
            raise ExerciseFailure("relabelling the points by P should turn your matrix M into P M P^T; it does not")
        if (out - ref).abs().max() > 1e-9:
            if (out - ref.sqrt()).abs().max() < 1e-9:
                raise ExerciseFailure("these are the distances; the exercise asks for their squares")
            raise ExerciseFailure(f"entry (0, 1) should be ||x_0 - x_1||^2; for a 6-point cloud you give {float(out[0, 1]):.4f}")
    return "E(3)-invariant, permutation-equivariant, and equal to ||x_i - x_j||^2."


# ---------------------------------------------------------------------------------------- 5.5.2


def _reference_update(x: torch.Tensor) -> torch.Tensor:
    diff = x[:, None] - x[None]  # x_i - x_j
    weight = torch.exp(-(diff ** 2).sum(-1, keepdim=True))
    n = x.shape[0]
    weight = weight * (1 - torch.eye(n, dtype=x.dtype))[..., None]
    return x + (diff * weight).sum(1) / (n - 1)


@exercise("5.5.2", "an EGNN-style coordinate update")
def _coordinate_update(coordinate_update):
    """``coordinate_update(x)``: x_i + 1/(n-1) sum_{j != i} (x_i - x_j) exp(-||x_i - x_j||^2)."""
    clouds, gen = _clouds(2)
    for x in clouds:
        n = x.shape[0]
        out = _tensor(coordinate_update(x.clone()), "coordinate_update", (n, 3))
        g = E3(dtype=D).sample(1, gen)[0]
        moved = _tensor(coordinate_update(transform_points(g, x)), "coordinate_update", (n, 3))
        if (moved - transform_points(g, out)).abs().max() > 1e-9:
            raise ExerciseFailure(
                "moving the input by x -> Qx + t does not move your output the same way; "
                "coordinates may only change along differences x_i - x_j, weighted by invariants"
            )
        ref = _reference_update(x)
        if (out - ref).abs().max() > 1e-9:
            if (out - (ref - x)).abs().max() < 1e-9:
                raise ExerciseFailure("you return only the displacement; add x_i (the update is residual)")
            raise ExerciseFailure(
                "equivariant, but not the update asked for: check the weight exp(-||x_i - x_j||^2) (squared distance), "
                "the normalisation 1/(n - 1) and that j = i is left out"
            )
    return "E(3)-equivariant and equal to the update of the exercise."


# ---------------------------------------------------------------------------------------- 5.5.3


@exercise("5.5.3", "a chiral invariant: SO(3) but not O(3)")
def _chiral_invariant(chiral_invariant):
    """``chiral_invariant(x)``: (4, 3) -> scalar, invariant under rotations and translations,
    and changing under (some) reflections."""
    clouds, gen = _clouds(3, num=4, n=4)
    flipped_any = False
    for x in clouds:
        val = _tensor(chiral_invariant(x.clone()), "chiral_invariant")
        if val.numel() != 1:
            raise ExerciseFailure(f"return a single number (a 0-d tensor), got shape {tuple(val.shape)}")
        for g in E3(reflections=False, dtype=D).sample(3, gen):
            moved = _tensor(chiral_invariant(transform_points(g, x)), "chiral_invariant")
            if (moved - val).abs().max() > 1e-9 * max(1.0, float(val.abs())):
                raise ExerciseFailure("your value changes under a rotation plus translation; it must be SE(3)-invariant")
        mirrored = _tensor(chiral_invariant(x * torch.tensor([1.0, 1.0, -1.0], dtype=D)), "chiral_invariant")
        if (mirrored - val).abs().max() > 1e-6 * max(1.0, float(val.abs())):
            flipped_any = True
    if not flipped_any:
        raise ExerciseFailure(
            "your value is unchanged by a mirror reflection on every test cloud: it is O(3)-invariant, "
            "like every function of distances alone. Use an orientation (a determinant, a cross product)"
        )
    return "invariant under rotations and translations, and it tells a cloud from its mirror image."


# ---------------------------------------------------------------------------------------- 5.5.4


def _hidden_nbody(seed: int = 4, b: int = 40) -> NBodyData:
    g = torch.Generator().manual_seed(seed)
    loc = torch.randn(b, 5, 3, generator=g, dtype=D)
    vel = 0.5 * torch.randn(b, 5, 3, generator=g, dtype=D)
    q = torch.randint(0, 2, (b, 5), generator=g).to(D) * 2 - 1
    target = loc + 0.74 * vel + 0.1 * torch.randn(b, 5, 3, generator=g, dtype=D)
    return NBodyData(loc, vel, q, target)


@exercise("5.5.4", "fit the time of the linear model by least squares")
def _fit_time(fit_time):
    """``fit_time(data)`` -> float: argmin_t sum ||loc + t vel - target||^2."""
    for seed in (4, 5):
        data = _hidden_nbody(seed)
        t = fit_time(data)
        try:
            t = float(t)
        except (TypeError, ValueError):
            raise ExerciseFailure(f"fit_time should return a number, got {type(t).__name__}") from None
        ref = float((data.vel * (data.target - data.loc)).sum() / (data.vel ** 2).sum())
        if abs(t - ref) > 1e-6:
            if abs(t - 1.0) < 1e-9:
                raise ExerciseFailure("t = 1 is the physical time, not the least-squares fit to the data")
            loss = lambda s: float(((data.loc + s * data.vel - data.target) ** 2).sum())  # noqa: E731
            raise ExerciseFailure(
                f"on a hidden data set your t gives squared error {loss(t):.4f}; the best t gives less. "
                "Set the derivative of sum ||x + t v - x_T||^2 with respect to t to zero"
            )
    return "the least-squares time."


# ---------------------------------------------------------------------------------------- 5.5.5


@exercise("5.5.5", "move a whole N-body data set by an element of E(3)")
def _transform_dataset(transform_dataset):
    """``transform_dataset(data, g)`` -> NBodyData moved by the homogeneous (4, 4) g."""
    data = _hidden_nbody(6, b=10)
    g = E3(dtype=D).sample(1, torch.Generator().manual_seed(6))[0]
    out = transform_dataset(NBodyData(data.loc.clone(), data.vel.clone(), data.charges.clone(), data.target.clone()), g)
    if not isinstance(out, NBodyData):
        raise ExerciseFailure(f"return an NBodyData, got {type(out).__name__}")
    checks = [
        ("loc", out.loc, transform_points(g, data.loc), "positions move with the whole transformation, x -> Qx + t"),
        ("target", out.target, transform_points(g, data.target), "the target positions must move as the inputs do"),
        ("vel", out.vel, transform_vectors(g, data.vel), "velocities are vectors: only Q acts, v -> Qv (no translation)"),
        ("charges", out.charges, data.charges, "charges are invariant: leave them as they are"),
    ]
    for name, got, want, hint in checks:
        got = _tensor(got, f"the {name} of your data", tuple(want.shape))
        if (got - want).abs().max() > 1e-9:
            raise ExerciseFailure(f"{name} is wrong: {hint}")
    return "positions and targets move as points, velocities as vectors, charges stay."


# ---------------------------------------------------------------------------------------- 5.5.6


class _Probe(torch.nn.Module):
    """A fixed, non-equivariant map (loc, vel, charges) -> positions."""

    def forward(self, loc, vel, charges):
        return loc + torch.tanh(loc) + 0.3 * vel * charges[..., None] + 0.1 * loc.roll(1, dims=1)


@exercise("5.5.6", "translation equivariance by centring")
def _centred(centred):
    """``centred(model)`` -> a model f(loc, vel, q) = model(loc - c, vel, q) + c, c the centroid of loc."""
    data = _hidden_nbody(7, b=6)
    probe = _Probe()
    wrapped = centred(probe)
    if not callable(wrapped):
        raise ExerciseFailure(f"centred(model) should return a callable model, got {type(wrapped).__name__}")
    out = _tensor(wrapped(data.loc, data.vel, data.charges), "centred(model)", tuple(data.loc.shape))
    t = torch.tensor([2.0, -1.0, 0.5], dtype=D)
    shifted = _tensor(wrapped(data.loc + t, data.vel, data.charges), "centred(model)", tuple(data.loc.shape))
    if (shifted - (out + t)).abs().max() > 1e-9:
        raise ExerciseFailure("translating the inputs by t should translate the predictions by t; "
                              "did you add the centroid back after the model?")
    c = data.loc.mean(1, keepdim=True)
    ref = probe(data.loc - c, data.vel, data.charges) + c
    if (out - ref).abs().max() > 1e-9:
        raise ExerciseFailure("translation-equivariant, but not the construction asked for: centre the positions only "
                              "(velocities do not move under translations) at the centroid of each system")
    return "the wrapped model is translation-equivariant, whatever the model inside."
