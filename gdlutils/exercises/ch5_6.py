"""Self-checks for the exercises of section 5.6 (intrinsic mesh CNNs, GEM-CNN)."""
from __future__ import annotations

import math

import numpy as np
import torch

from .. import mesh as gm
from .. import mesh_conv as mc
from . import ExerciseFailure, exercise


def _small_mesh():
    return gm.random_sphere(60, seed=3)


def _wrap(a):
    return np.angle(np.exp(1j * np.asarray(a)))


@exercise("5.6.1", "the one-ring angles in the gauge of the centre")
def _one_ring_angles(one_ring_angles):
    """``one_ring_angles(V, F, e1, e2, edge_index)``: angle of each neighbour edge_index[0] in the gauge at edge_index[1]."""
    V, F = _small_mesh()
    gamma = np.random.default_rng(0).uniform(0, 2 * np.pi, len(V))
    e1, e2, n = gm.vertex_tangent_frames(V, F)
    c, s = np.cos(gamma)[:, None], np.sin(gamma)[:, None]
    e1, e2 = c * e1 + s * e2, -s * e1 + c * e2
    ring = mc.one_ring(V, F, (e1, e2, n))
    got = np.asarray(one_ring_angles(V.copy(), F.copy(), e1.copy(), e2.copy(), ring["edge_index"].copy()), dtype=float)
    if got.shape != ring["theta"].shape:
        raise ExerciseFailure(f"expected one angle per directed edge, shape {ring['theta'].shape}, got {got.shape}")
    err = np.abs(_wrap(got - ring["theta"])).max()
    if err > 1e-9:
        flipped = mc.one_ring(V, F, (e1, e2, n))
        q, p = flipped["edge_index"]
        d = V[p] - V[q]
        at_source = np.arctan2((d * e2[q]).sum(1), (d * e1[q]).sum(1))
        if np.abs(_wrap(got - at_source)).max() < 1e-9:
            raise ExerciseFailure("you measured the centre's direction in the neighbour's gauge: the angle of "
                                  "edge_index[0] must be read in the frame of edge_index[1]")
        if np.abs(_wrap(got + ring["theta"])).max() < 1e-9:
            raise ExerciseFailure("your angles have the wrong sign: angles run counter-clockwise from e1 towards e2")
        raise ExerciseFailure(f"the angles differ from the reference by up to {err:.2e} rad on a random sphere")


@exercise("5.6.2", "the geometry in a rotated gauge")
def _rotate_gauge(rotate_gauge):
    """``rotate_gauge(theta, transport, edge_index, gamma)`` -> (theta', transport') for frames turned by gamma."""
    V, F = _small_mesh()
    e1, e2, n = gm.vertex_tangent_frames(V, F)
    ring = mc.one_ring(V, F, (e1, e2, n))
    for seed in range(3):
        gamma = np.random.default_rng(seed).uniform(0, 2 * np.pi, len(V))
        c, s = np.cos(gamma)[:, None], np.sin(gamma)[:, None]
        want = mc.one_ring(V, F, (c * e1 + s * e2, -s * e1 + c * e2, n))
        th, tr = rotate_gauge(ring["theta"].copy(), ring["transport"].copy(), ring["edge_index"].copy(), gamma.copy())
        e_th = np.abs(_wrap(np.asarray(th) - want["theta"])).max()
        e_tr = np.abs(_wrap(np.asarray(tr) - want["transport"])).max()
        if e_th > 1e-9:
            hint = " (a frame turned by +gamma sees a fixed vector at angle theta - gamma)" if np.abs(
                _wrap(np.asarray(th) - ring["theta"] - gamma[ring["edge_index"][1]])).max() < 1e-9 else ""
            raise ExerciseFailure(f"theta' is off by up to {e_th:.2e} rad against angles recomputed in the rotated frames{hint}")
        if e_tr > 1e-9:
            raise ExerciseFailure(f"transport' is off by up to {e_tr:.2e} rad; the transport q -> p leaves the frame of q "
                                  "(edge_index[0]) and arrives in the frame of p (edge_index[1]): which gauge angle enters with which sign?")


@exercise("5.6.3", "periodic angular bins")
def _angular_bins(angular_bins):
    """``angular_bins(theta, n_theta)``: Gaussian weights exp(-d^2 / 2 s^2), s = pi / n_theta, d the angular distance to 2 pi a / n_theta."""
    gen = torch.Generator().manual_seed(0)
    for n_theta in (4, 6, 8):
        theta = (torch.rand(200, generator=gen, dtype=torch.float64) * 2 - 1) * math.pi
        w = angular_bins(theta.clone(), n_theta)
        if not isinstance(w, torch.Tensor) or w.shape != (200, n_theta):
            raise ExerciseFailure(f"expected a tensor of shape (200, {n_theta}), got {getattr(w, 'shape', type(w))}")
        shift = 2 * math.pi / n_theta
        w2 = angular_bins(theta + shift, n_theta)
        if not torch.allclose(w2, torch.roll(w, 1, dims=1), atol=1e-9):
            raise ExerciseFailure(f"turning every angle by one bin (2 pi / {n_theta}) should move every weight one bin "
                                  "up, cyclically; check how you wrap the angular distance into (-pi, pi]")
        bins = 2 * math.pi * torch.arange(n_theta, dtype=torch.float64) / n_theta
        d = torch.remainder(theta[:, None] - bins + math.pi, 2 * math.pi) - math.pi
        ref = torch.exp(-0.5 * (d * n_theta / math.pi) ** 2)
        if not torch.allclose(w.to(torch.float64), ref, atol=1e-9):
            raise ExerciseFailure(f"with {n_theta} bins the weights differ from exp(-d^2 / 2 s^2) by "
                                  f"{(w - ref).abs().max():.2e}; s = pi / n_theta, bins centred at 2 pi a / n_theta")


@exercise("5.6.4", "a complete basis of gauge-equivariant kernels")
def _kernel_basis(basis):
    """``basis(n_in, n_out, theta)`` -> (B, d_out, d_in) spanning every K with K(theta - g) = rho_out(-g) K(theta) rho_in(g)."""
    rng = np.random.default_rng(0)
    for n_in in range(3):
        for n_out in range(3):
            d_in, d_out = (1 if n_in == 0 else 2), (1 if n_out == 0 else 2)
            for _ in range(3):
                th, g = rng.uniform(-4, 4, 2)
                B = np.asarray(basis(n_in, n_out, th), dtype=float)
                B2 = np.asarray(basis(n_in, n_out, th - g), dtype=float)
                if B.ndim != 3 or B.shape[1:] != (d_out, d_in):
                    raise ExerciseFailure(f"basis({n_in}, {n_out}, theta) should have shape (B, {d_out}, {d_in}), got {B.shape}")
                err = max((np.abs(B2[b] - mc._rot(n_out, -g) @ B[b] @ mc._rot(n_in, g)).max() for b in range(len(B))), default=0)
                if err > 1e-9:
                    raise ExerciseFailure(f"for rho_{n_in} -> rho_{n_out} a basis element breaks the constraint by {err:.2e}; "
                                          "which angular frequencies can appear between these two irreps?")
            rank = np.linalg.matrix_rank(B.reshape(len(B), -1), tol=1e-9)
            if rank < d_in * d_out:
                raise ExerciseFailure(f"for rho_{n_in} -> rho_{n_out} your elements span only {rank} dimensions of the "
                                      f"{d_in * d_out} allowed: a kernel is free at theta = 0")


@exercise("5.6.5", "the regular non-linearity")
def _regular_relu(regular_relu):
    """``regular_relu(x, num_samples)`` on features (..., 3) of type rho_0 + rho_1 (M = 1)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(50, 4, 3, generator=gen, dtype=torch.float64)
    for N in (3, 6, 10):
        ref = mc.RegularNonlinearity(1, num_samples=N).double()(x)
        got = regular_relu(x.clone(), N)
        if not isinstance(got, torch.Tensor) or got.shape != x.shape:
            raise ExerciseFailure(f"expected a tensor of shape {tuple(x.shape)}, got {getattr(got, 'shape', type(got))}")
        err = (got - ref).abs().max().item()
        if err > 1e-9:
            ratio = (got / ref.where(ref.abs() > 1e-6, torch.ones_like(ref))).median().item()
            if np.allclose(got.numpy(), torch.relu(x).numpy()):
                raise ExerciseFailure("a ReLU of the coefficients is not gauge equivariant: sample the function on the circle first")
            raise ExerciseFailure(f"with {N} samples your output differs from the reference by {err:.2e}"
                                  + (f" (median ratio {ratio:.3f}: check the normalisation of the projection: 1/N for the "
                                     "scalar, 2/N for the cos and sin coefficients)" if abs(ratio - 1) > 1e-3 else ""))


@exercise("5.6.6", "parallel transport of a feature")
def _transport(transport_features):
    """``transport_features(x, g, max_order)``: rotate each type-n part of x (..., 2M+1) by n * g."""
    gen = torch.Generator().manual_seed(1)
    for M in (1, 2, 3):
        x = torch.randn(40, 3, 2 * M + 1, generator=gen, dtype=torch.float64)
        g = torch.rand(40, generator=gen, dtype=torch.float64) * 2 * math.pi
        s, z = mc.to_complex(x, M)
        want = mc.from_complex(s, z * torch.exp(1j * torch.arange(1, M + 1) * g[:, None, None]))
        got = transport_features(x.clone(), g.clone(), M)
        if not isinstance(got, torch.Tensor) or got.shape != x.shape:
            raise ExerciseFailure(f"expected a tensor of shape {tuple(x.shape)}, got {getattr(got, 'shape', type(got))}")
        if (got - want).abs().max() > 1e-9:
            back = mc.from_complex(s, z * torch.exp(-1j * torch.arange(1, M + 1) * g[:, None, None]))
            once = mc.from_complex(s, z * torch.exp(1j * g[:, None, None]))
            if (got - back).abs().max() < 1e-9:
                raise ExerciseFailure("you rotated clockwise: transport by g turns a vector counter-clockwise")
            if M > 1 and (got - once).abs().max() < 1e-9:
                raise ExerciseFailure("every part turned by g: a feature of type rho_n turns n times as fast")
            raise ExerciseFailure(f"with max_order {M} your result differs from the transported feature")


@exercise("5.6.7", "labels for a re-triangulated mesh")
def _midpoint_labels(midpoint_labels):
    """``midpoint_labels(labels, faces)``: old labels, then the label of the first endpoint of each edge of gm.edges(faces)."""
    sphere = gm.icosphere(1)
    labels = np.random.default_rng(0).integers(0, 5, sphere.num_vertices)
    E = gm.edges(sphere.faces)
    want = np.concatenate([labels, labels[E[:, 0]]])
    got = np.asarray(midpoint_labels(labels.copy(), sphere.faces.copy()))
    if got.shape != want.shape:
        raise ExerciseFailure(f"expected {len(want)} labels (old vertices, then one per edge), got shape {got.shape}")
    if not np.array_equal(got, want):
        if np.array_equal(got, np.concatenate([labels, labels[E[:, 1]]])):
            raise ExerciseFailure("you used the second endpoint of each edge; the convention is the first (gm.edges gives i < j)")
        raise ExerciseFailure(f"{int((got != want).sum())} labels differ; keep the old vertices first and follow the order of gm.edges(faces)")
    mesh = mc.retriangulate(sphere, seed=0, flip_fraction=0.0)
    if not np.array_equal(got, labels[mesh.meta["parent"]]):  # pragma: no cover - guards the convention itself
        raise ExerciseFailure("internal: retriangulate's parent convention changed")


@exercise("5.6.8", "edge stretch of a deformation")
def _edge_stretch(edge_stretch):
    """``edge_stretch(mesh_a, mesh_b)``: |l_b / l_a - 1| over gm.edges(faces)."""
    a = gm.icosphere(2)
    rng = np.random.default_rng(1)
    b = a.copy(vertices=a.vertices * rng.uniform(0.9, 1.1, (1, 3)) + 0.01 * rng.normal(size=a.vertices.shape))
    E = gm.edges(a.faces)
    la = np.linalg.norm(a.vertices[E[:, 0]] - a.vertices[E[:, 1]], axis=1)
    lb = np.linalg.norm(b.vertices[E[:, 0]] - b.vertices[E[:, 1]], axis=1)
    want = np.abs(lb / la - 1)
    got = np.asarray(edge_stretch(a, b), dtype=float)
    if got.shape != want.shape:
        raise ExerciseFailure(f"expected one value per unique edge, shape {want.shape}, got {got.shape} "
                              "(use gm.edges(faces): every edge once)")
    if not np.allclose(got, want, atol=1e-12):
        if np.allclose(got, np.abs(la / lb - 1), atol=1e-12):
            raise ExerciseFailure("you divided by the deformed length; relative change is measured against mesh_a")
        raise ExerciseFailure(f"your values differ from |l_b / l_a - 1| by up to {np.abs(got - want).max():.2e}")


@exercise("5.6.9", "accuracy per region")
def _per_region_accuracy(per_region_accuracy):
    """``per_region_accuracy(pred, target, num_classes)``: accuracy on the vertices of each true class, NaN if empty."""
    gen = torch.Generator().manual_seed(0)
    target = torch.randint(0, 4, (300,), generator=gen)
    pred = torch.where(torch.rand(300, generator=gen) < 0.7, target, torch.randint(0, 5, (300,), generator=gen))
    got = per_region_accuracy(pred.clone(), target.clone(), 5)
    if not isinstance(got, torch.Tensor) or got.shape != (5,):
        raise ExerciseFailure(f"expected a tensor of length 5, got {getattr(got, 'shape', type(got))}")
    want = torch.stack([(pred[target == c] == c).float().mean() if (target == c).any() else torch.tensor(float("nan")) for c in range(5)])
    if not torch.isnan(got[4]):
        raise ExerciseFailure("class 4 has no vertex: its accuracy is undefined (NaN), not 0")
    if not torch.allclose(got[:4].float(), want[:4], atol=1e-6):
        alt = torch.stack([(target[pred == c] == c).float().mean() for c in range(4)])
        if torch.allclose(got[:4].float(), alt, atol=1e-6):
            raise ExerciseFailure("you grouped by predicted class (that is precision); group by the true class")
        raise ExerciseFailure(f"your accuracies differ from the reference by up to {(got[:4] - want[:4]).abs().max():.3f}")
