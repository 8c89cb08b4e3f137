"""Self-checks for the exercises of chapter 3 (geometric priors).

Each checker receives the reader's answer (usually a function), tests the properties the
exercise asks for on fixed, seeded inputs, and raises :class:`ExerciseFailure` with a hint that
names the failing property and input, never the answer.

Introduced in: 3.1-3.5.
"""
from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import torch

from gdlutils.exercises import ExerciseFailure, exercise
from gdlutils.groups import CyclicGroup, DihedralGroup, act_on_image, check_equivariance
from gdlutils.deformations import deformation_size, smooth_displacement, warp_signal
from gdlutils.multiscale import haar_step as _haar_step, local_pool

__all__: list[str] = []


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _as_tensor(y, what: str) -> torch.Tensor:
    if isinstance(y, np.ndarray):
        y = torch.from_numpy(y)
    if not isinstance(y, torch.Tensor):
        raise ExerciseFailure(f"{what} should return a torch.Tensor, got {type(y).__name__}")
    return y.double()


def _fail_if(cond: bool, msg: str) -> None:
    if cond:
        raise ExerciseFailure(msg)


# ---------------------------------------------------------------------------------------------
# 3.1 Symmetries, representations and invariance
# ---------------------------------------------------------------------------------------------


@exercise("3.1.1", "shift equivariance of a moving average")
def _check_3_1_1(moving_average) -> str:
    for n in (5, 12):
        x = torch.randn(n, generator=_gen(n), dtype=torch.float64)
        y = _as_tensor(moving_average(x), "moving_average(x)")
        _fail_if(y.shape != x.shape, f"for an input of shape {tuple(x.shape)} the output has shape {tuple(y.shape)}; "
                 "the moving average should keep the length (the grid is periodic)")
        rep = check_equivariance(lambda s: _as_tensor(moving_average(s), "moving_average"), CyclicGroup(n), x,
                                 CyclicGroup.shift, atol=1e-9, raise_error=False)
        if not rep.passed:
            g, err = rep.failures[0]
            raise ExerciseFailure(f"not shift-equivariant on a random signal of length {n}: shifting the input by "
                                  f"g = {g} does not shift the output by g (error {err:.2e}). "
                                  "Are the ends of the signal wrapped around (periodic grid)?")
    n = 8
    delta = torch.zeros(n, dtype=torch.float64)
    delta[0] = 1
    y = _as_tensor(moving_average(delta), "moving_average(x)")
    _fail_if(not math.isclose(float(y.sum()), 1.0, abs_tol=1e-9),
             f"on a unit impulse of length {n} the outputs sum to {float(y.sum()):.4f}; an average keeps the total (1)")
    _fail_if(int((y.abs() > 1e-12).sum()) != 3 or not torch.allclose(y[[n - 1, 0, 1]], torch.full((3,), 1 / 3, dtype=torch.float64)),
             f"on a unit impulse at position 0 (length {n}) the output should be 1/3 at each of the three positions "
             "around 0 (with wrap-around) and 0 elsewhere; yours differs")
    return "Shifting then averaging equals averaging then shifting: a convolution."


@exercise("3.1.2", "a representation of the dihedral group D_6")
def _check_3_1_2(rho) -> str:
    d6 = DihedralGroup(6)
    mats = {}
    for g in d6.elements():
        m = _as_tensor(rho(g), f"rho({g})")
        _fail_if(m.shape != (2, 2), f"rho({g}) has shape {tuple(m.shape)}; expected a 2x2 matrix")
        mats[g] = m
    e = mats[d6.identity()]
    _fail_if(not torch.allclose(e, torch.eye(2, dtype=torch.float64), atol=1e-9),
             "rho((0, 0)) must be the identity matrix (the identity element acts trivially)")
    worst = max(((g, h) for g in mats for h in mats),
                key=lambda p: float((mats[d6.compose(*p)] - mats[p[0]] @ mats[p[1]]).abs().max()))
    err = float((mats[d6.compose(*worst)] - mats[worst[0]] @ mats[worst[1]]).abs().max())
    _fail_if(err > 1e-9, f"homomorphism property fails: rho(g h) != rho(g) rho(h) for g = {worst[0]}, h = {worst[1]} "
             f"(error {err:.2e}); recall g = (r, m) means 'reflect if m, then rotate by 2 pi r / 6'")
    keys = {tuple(np.round(m.numpy().ravel(), 8)) for m in mats.values()}
    _fail_if(len(keys) < 12, f"only {len(keys)} distinct matrices for the 12 elements: the representation should be "
             "faithful (different symmetries of the hexagon act differently on the plane)")
    for g, m in mats.items():
        _fail_if(not torch.allclose(m @ m.T, torch.eye(2, dtype=torch.float64), atol=1e-9),
                 f"rho({g}) is not orthogonal: symmetries of a regular hexagon preserve lengths")
    return "A faithful 2-D orthogonal representation: D_6 acting on the plane."


@exercise("3.1.3", "a D4-invariant image feature")
def _check_3_1_3(d4_invariant) -> str:
    d4 = DihedralGroup(4)
    imgs = [torch.randn(8, 8, generator=_gen(s), dtype=torch.float64) for s in range(3)]
    outs = []
    for k, x in enumerate(imgs):
        fx = _as_tensor(d4_invariant(x), "d4_invariant(x)")
        outs.append(fx)
        scale = float(fx.abs().max()) if fx.numel() else 0.0
        for g in d4.elements():
            fg = _as_tensor(d4_invariant(act_on_image(g, x)), "d4_invariant(x)")
            _fail_if(fg.shape != fx.shape, f"the output shape changes when the image is transformed by g = {g}")
            err = float((fg - fx).abs().max()) if fx.numel() else 0.0
            _fail_if(err > 1e-6 * (1 + scale),
                     f"not invariant: on random 8x8 image #{k}, transforming it by g = {g} (r quarter turns, "
                     f"m = mirror) changes the feature by {err:.2e}")
    _fail_if(all(torch.allclose(outs[0], o, atol=1e-9) for o in outs[1:]),
             "the feature is the same for three different random images: a constant is invariant but useless")
    return "Invariant under all 8 symmetries of the square, and not constant."


# ---------------------------------------------------------------------------------------------
# 3.2 Isomorphisms and automorphisms
# ---------------------------------------------------------------------------------------------


def _adj(g: nx.Graph, order=None) -> torch.Tensor:
    return torch.tensor(nx.to_numpy_array(g, nodelist=order), dtype=torch.float64)


def _is_iso_perm(p, a: torch.Tensor, b: torch.Tensor) -> bool:
    p = torch.as_tensor(p, dtype=torch.long)
    n = a.shape[0]
    if p.shape != (n,) or not torch.equal(torch.sort(p).values, torch.arange(n)):
        return False
    return torch.equal(a[p][:, p], b)


def _pairs_3_2_1():
    rng = torch.Generator().manual_seed(3)
    pairs = []
    for g in [nx.path_graph(5), nx.cycle_graph(6), nx.house_graph(), nx.star_graph(4), nx.complete_bipartite_graph(2, 3)]:
        a = _adj(g)
        p = torch.randperm(a.shape[0], generator=rng)
        pairs.append((a, a[p][:, p], True))
    c6, two_c3 = _adj(nx.cycle_graph(6)), _adj(nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3)))
    pairs.append((c6, two_c3, False))
    pairs.append((_adj(nx.path_graph(4)), _adj(nx.star_graph(3)), False))
    pairs.append((_adj(nx.path_graph(5)), _adj(nx.path_graph(4)), False))
    return pairs


@exercise("3.2.1", "finding an isomorphism")
def _check_3_2_1(find_isomorphism) -> str:
    for k, (a, b, iso) in enumerate(_pairs_3_2_1()):
        p = find_isomorphism(a.clone(), b.clone())
        if iso:
            _fail_if(p is None, f"test pair #{k} ({a.shape[0]} nodes, {int(a.sum()) // 2} edges) is isomorphic, "
                     "but your function returned None")
            _fail_if(not _is_iso_perm(p, a, b), f"on test pair #{k} the returned permutation p does not satisfy "
                     "A[p][:, p] == B (is it a permutation of 0..n-1, in the right direction?)")
        else:
            _fail_if(p is not None, f"test pair #{k} ({a.shape[0]} and {b.shape[0]} nodes) is NOT isomorphic, but "
                     "your function returned a permutation" + (" (same degree sequence: degrees are not enough)"
                                                               if k == 5 else ""))
    return "Isomorphisms found and non-isomorphic pairs rejected."


@exercise("3.2.2", "the automorphism group of a graph")
def _check_3_2_2(automorphisms) -> str:
    graphs = {"path P4": nx.path_graph(4), "cycle C5": nx.cycle_graph(5), "star K_{1,3}": nx.star_graph(3),
              "complete K4": nx.complete_graph(4), "house": nx.house_graph(), "3-prism": nx.circular_ladder_graph(3)}
    for name, g in graphs.items():
        a = _adj(g)
        auts = automorphisms(a.clone())
        auts = [torch.as_tensor(p, dtype=torch.long) for p in auts]
        for p in auts:
            _fail_if(not _is_iso_perm(p, a, a), f"on the {name} graph, {p.tolist()} is not an automorphism "
                     "(A[p][:, p] != A) or not a permutation")
        _fail_if(len({tuple(p.tolist()) for p in auts}) != len(auts), f"on the {name} graph, some automorphisms are repeated")
        expected = sum(1 for _ in nx.algorithms.isomorphism.GraphMatcher(g, g).isomorphisms_iter())
        _fail_if(len(auts) != expected, f"on the {name} graph you found {len(auts)} automorphisms; that is not the "
                 "size of its automorphism group (did you include the identity? all of them?)")
    return "Every automorphism group has the right size."


@exercise("3.2.3", "a permutation-invariant graph feature that tells C6 from two triangles")
def _check_3_2_3(graph_invariant) -> str:
    rng = torch.Generator().manual_seed(5)
    graphs = {"C6": nx.cycle_graph(6), "two triangles": nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3)),
              "house": nx.house_graph(), "random": nx.gnp_random_graph(7, 0.4, seed=1)}
    feats = {}
    for name, g in graphs.items():
        a = _adj(g)
        f = _as_tensor(graph_invariant(a.clone()), "graph_invariant(A)")
        feats[name] = f
        for t in range(5):
            p = torch.randperm(a.shape[0], generator=rng)
            fp = _as_tensor(graph_invariant(a[p][:, p].clone()), "graph_invariant(A)")
            _fail_if(fp.shape != f.shape or not torch.allclose(fp, f, atol=1e-8 * (1 + float(f.abs().max()))),
                     f"not permutation invariant: relabelling the nodes of the {name} graph by {p.tolist()} changes "
                     "the feature")
    _fail_if(torch.allclose(feats["C6"], feats["two triangles"], atol=1e-8),
             "C6 and two disjoint triangles get the same feature: both are 2-regular with 6 nodes and 6 edges, so "
             "degrees and edge counts cannot tell them apart; look at closed walks or cycles")
    return "Invariant, and it separates the pair the degree sequence cannot."


# ---------------------------------------------------------------------------------------------
# 3.3 Deformation stability
# ---------------------------------------------------------------------------------------------


@exercise("3.3.1", "the size of a deformation")
def _check_3_3_1(deformation_size_1d) -> str:
    n = 128
    const = torch.full((n,), 2.5, dtype=torch.float64)
    c = float(deformation_size_1d(const))
    _fail_if(abs(c) > 1e-9, f"a constant displacement tau = 2.5 is a translation; its size should be 0, got {c:.3g}")
    u = torch.arange(n, dtype=torch.float64)
    for k, (amp, freq) in enumerate([(3.0, 1), (0.5, 4)]):
        tau = amp * torch.sin(2 * math.pi * freq * u / n)
        exact = amp * 2 * math.pi * freq / n
        c = float(deformation_size_1d(tau))
        _fail_if(not math.isclose(c, exact, rel_tol=0.02),
                 f"for tau(u) = {amp} sin(2 pi {freq} u / {n}) the largest slope |tau'(u)| is about {exact:.4f}, "
                 f"you return {c:.4f}")
    for s in range(3):
        tau = smooth_displacement(n, 0.05 * (s + 1), generator=_gen(s))
        c = float(deformation_size_1d(tau))
        _fail_if(not math.isclose(c, deformation_size(tau), rel_tol=0.03),
                 f"on a random smooth field #{s} you return {c:.4f}, off by more than 3% (periodic boundary handled?)")
    return "Translations have size 0; stretches are measured by the slope of tau."


@exercise("3.3.2", "warping a signal")
def _check_3_3_2(warp) -> str:
    n = 64
    x = torch.randn(n, generator=_gen(1), dtype=torch.float64)
    y = _as_tensor(warp(x, torch.full((n,), 3.0, dtype=torch.float64)), "warp(x, tau)")
    _fail_if(y.shape != x.shape, f"warp returned shape {tuple(y.shape)} for a signal of shape {tuple(x.shape)}")
    _fail_if(not torch.allclose(y, torch.roll(x, 3), atol=1e-9),
             "with the constant tau = 3 the warp x(u - tau(u)) is the circular shift moving x 3 samples to the right "
             "(like torch.roll(x, 3)); yours is not")
    y = _as_tensor(warp(x, torch.full((n,), 0.5, dtype=torch.float64)), "warp(x, tau)")
    _fail_if(not torch.allclose(y, (x + torch.roll(x, 1)) / 2, atol=1e-9),
             "with the constant tau = 0.5 each output sample should be the linear interpolation halfway between "
             "two neighbouring input samples; yours is not")
    for s in range(3):
        tau = smooth_displacement(n, 0.1, generator=_gen(10 + s)) + 7.3 * s
        ref = warp_signal(x, tau, interpolation="linear")
        y = _as_tensor(warp(x, tau), "warp(x, tau)")
        _fail_if(not torch.allclose(y, ref, atol=1e-8),
                 f"on a random smooth deformation #{s} (with large displacements, up to {float(tau.abs().max()):.1f} "
                 "samples) the result differs from linear interpolation of x at u - tau(u), wrapped periodically")
    return "Your warp matches periodic linear interpolation."


def _test_signals_3_3_3(n: int = 256) -> list[torch.Tensor]:
    u = torch.arange(n, dtype=torch.float64)
    sigs = [torch.randn(n, generator=_gen(100 + s), dtype=torch.float64) for s in range(2)]
    sigs.append(sum(torch.cos(2 * math.pi * f * u) * torch.exp(-(((u - c) / 30) ** 2)) for f, c in [(0.3, 80), (0.2, 180)]))
    return sigs


@exercise("3.3.3", "a translation-invariant feature that is stable to deformations")
def _check_3_3_3(stable_invariant) -> str:
    n = 256
    sigs = _test_signals_3_3_3(n)
    size = 0.01
    for k, x in enumerate(sigs):
        fx = _as_tensor(stable_invariant(x), "stable_invariant(x)")
        norm = float(fx.norm())
        _fail_if(norm == 0, f"the feature of test signal #{k} is zero")
        for t in (1, 37, 100):
            ft = _as_tensor(stable_invariant(torch.roll(x, t)), "stable_invariant(x)")
            err = float((ft - fx).norm()) / norm
            _fail_if(ft.shape != fx.shape or err > 1e-6,
                     f"not translation invariant: shifting test signal #{k} by {t} samples changes the feature by "
                     f"{err:.2e} (relative)")
        changes = []
        for s in range(3):
            tau = smooth_displacement(n, size, generator=_gen(200 + s))
            xt = warp_signal(x, tau)
            changes.append(float((_as_tensor(stable_invariant(xt), "stable_invariant(x)") - fx).norm()) / norm)
        ratio = max(changes) / size
        _fail_if(ratio > 3.0, f"not stable: on test signal #{k}, deformations of size c(tau) = {size} change the "
                 f"feature by {max(changes):.3f} (relative), i.e. {ratio:.1f} x c(tau); a stable feature stays below "
                 "3 x c(tau). High frequencies move a lot under a stretch: do not compare them one frequency at a time")
    u = torch.arange(n, dtype=torch.float64)
    low, high = torch.cos(2 * math.pi * 4 * u / n), torch.cos(2 * math.pi * 80 * u / n)
    fl, fh = (_as_tensor(stable_invariant(s), "stable_invariant(x)") for s in (low, high))
    _fail_if(float((fl - fh).norm()) <= 0.1 * float(fl.norm()),
             "your feature hardly tells a slow oscillation (4 periods) from a fast one (80 periods) of the same energy: "
             "invariant and stable, but it has thrown away the frequency content")
    return "Invariant, stable, and still informative."


# ---------------------------------------------------------------------------------------------
# 3.4 Scale separation
# ---------------------------------------------------------------------------------------------


@exercise("3.4.1", "one level of the Haar transform")
def _check_3_4_1(haar_step) -> str:
    x = torch.tensor([1.0, 3.0, 2.0, 2.0], dtype=torch.float64)
    out = haar_step(x)
    _fail_if(not isinstance(out, tuple) or len(out) != 2, "haar_step should return a pair (approx, detail)")
    a, d = (_as_tensor(t, "haar_step(x)") for t in out)
    _fail_if(a.shape != (2,) or d.shape != (2,), f"for a signal of length 4, approx and detail should have length 2; "
             f"got {tuple(a.shape)} and {tuple(d.shape)}")
    for s, n in enumerate((8, 32)):
        x = torch.randn(n, generator=_gen(s), dtype=torch.float64)
        a, d = (_as_tensor(t, "haar_step(x)") for t in haar_step(x))
        ra, rd = _haar_step(x)
        energy = float(a.pow(2).sum() + d.pow(2).sum()) / float(x.pow(2).sum())
        _fail_if(not math.isclose(energy, 1.0, rel_tol=1e-9),
                 f"energy not preserved on a random signal of length {n}: |a|^2 + |d|^2 = {energy:.4f} |x|^2 "
                 "(the orthonormal Haar transform divides by sqrt(2), not 2)")
        _fail_if(not torch.allclose(a, ra, atol=1e-9), f"the approximation is not the normalised pairwise sum on a random signal of length {n}")
        _fail_if(not torch.allclose(d, rd, atol=1e-9),
                 f"the detail differs on a random signal of length {n} (convention: even sample minus odd sample)")
    return "Orthonormal: average and detail keep all the energy."


@exercise("3.4.2", "coarse-graining an image")
def _check_3_4_2(coarsen_image) -> str:
    for s, (h, w, k) in enumerate([(8, 8, 2), (12, 6, 3)]):
        x = torch.randn(h, w, generator=_gen(s), dtype=torch.float64)
        y = _as_tensor(coarsen_image(x, k), "coarsen_image(x, k)")
        _fail_if(y.shape != (h // k, w // k), f"for a {h}x{w} image and k = {k} the output should be "
                 f"{h // k}x{w // k}, got {tuple(y.shape)}")
        _fail_if(not math.isclose(float(y.mean()), float(x.mean()), abs_tol=1e-9),
                 f"the mean of the coarse {h // k}x{w // k} image differs from the mean of the original: block averages "
                 "keep the overall mean")
        _fail_if(not torch.allclose(y, local_pool(x, k, ndim=2), atol=1e-9),
                 f"on a random {h}x{w} image with k = {k}, some output pixel is not the mean of its k x k block "
                 "(blocks start at the top-left corner, no overlap)")
        ys = _as_tensor(coarsen_image(torch.roll(x, (k, 2 * k), dims=(0, 1)), k), "coarsen_image")
        _fail_if(not torch.allclose(ys, torch.roll(y, (1, 2), dims=(0, 1)), atol=1e-9),
                 f"shifting the image by ({k}, {2 * k}) pixels should shift the coarse image by (1, 2) pixels")
    return "Block averaging: equivariant to shifts by multiples of k."


@exercise("3.4.3", "the adjacency matrix of a coarsened graph")
def _check_3_4_3(coarse_adjacency) -> str:
    cases = [(nx.path_graph(4), [0, 0, 1, 1]), (nx.cycle_graph(6), [0, 0, 1, 1, 2, 2]),
             (nx.gnp_random_graph(9, 0.4, seed=2), [0, 1, 2, 0, 1, 2, 3, 3, 3])]
    for k, (g, labels) in enumerate(cases):
        a = _adj(g)
        lab = torch.tensor(labels)
        s = torch.nn.functional.one_hot(lab).double()
        ref = s.T @ a @ s
        out = _as_tensor(coarse_adjacency(a.clone(), lab.clone()), "coarse_adjacency(A, labels)")
        _fail_if(out.shape != ref.shape, f"case #{k}: {ref.shape[0]} clusters, so the coarse adjacency should be "
                 f"{ref.shape[0]}x{ref.shape[0]}, got {tuple(out.shape)}")
        _fail_if(not math.isclose(float(out.sum()), float(a.sum()), abs_tol=1e-9),
                 f"case #{k}: the total weight is {float(out.sum()):g} but the graph's is {float(a.sum()):g}; "
                 "every edge should be counted once between (or inside) clusters")
        _fail_if(not torch.allclose(out, ref, atol=1e-9),
                 f"case #{k} ({g.number_of_nodes()} nodes, labels {labels}): the weight between some pair of clusters "
                 "(or inside a cluster, on the diagonal) is wrong")
    return "A' = S^T A S: cluster-to-cluster edge weights."


# ---------------------------------------------------------------------------------------------
# 3.5 The blueprint
# ---------------------------------------------------------------------------------------------


@exercise("3.5.1", "an exactly shift-invariant blueprint model")
def _check_3_5_1(model) -> str:
    from gdlutils.blueprint import CyclicConv

    _fail_if(not isinstance(model, torch.nn.Module), f"expected a torch.nn.Module, got {type(model).__name__}")
    convs = [m for m in model.modules() if isinstance(m, CyclicConv)]
    _fail_if(len(convs) < 2, f"the model has {len(convs)} CyclicConv layers; build one with at least two")
    n = 32
    x = torch.randn(3, 1, n, generator=_gen(0))
    with torch.no_grad():
        y = model(x)
        _fail_if(y.shape != (3, 1), f"for input shape (3, 1, {n}) the output should be (3, 1), got {tuple(y.shape)}")
        scale = float(y.abs().max())
        for t in range(n):
            err = float((model(torch.roll(x, t, dims=-1)) - y).abs().max())
            _fail_if(err > 1e-5 * (1 + scale), f"not invariant to the shift by {t} samples (error {err:.2e}). Which "
                     "block is only equivariant to a subgroup of the shifts?")
        _fail_if(float((y - y.mean(0)).abs().max()) < 1e-7, "the output is the same for three random inputs")
    return "Invariant to all 32 shifts."


@exercise("3.5.2", "symmetrisation by group averaging")
def _check_3_5_2(symmetrize) -> str:
    d4 = DihedralGroup(4)
    w = torch.randn(6, 6, generator=_gen(7), dtype=torch.float64)
    f = lambda x: (w * x).sum() + x[0, 1] ** 2  # not invariant
    sf = symmetrize(f)
    _fail_if(not callable(sf), "symmetrize(f) should return a function")
    for s in range(2):
        x = torch.randn(6, 6, generator=_gen(20 + s), dtype=torch.float64)
        v = float(_as_tensor(sf(x), "symmetrize(f)(x)"))
        for g in d4.elements():
            vg = float(_as_tensor(sf(act_on_image(g, x)), "symmetrize(f)(x)"))
            _fail_if(abs(vg - v) > 1e-9 * (1 + abs(v)), f"symmetrize(f) is not invariant: transforming a random 6x6 "
                     f"image by g = {g} changes its value by {abs(vg - v):.2e}")
    inv = lambda x: x.pow(2).sum() + x.sum()
    x = torch.randn(6, 6, generator=_gen(30), dtype=torch.float64)
    v1, v2 = float(_as_tensor(symmetrize(inv)(x), "")), float(inv(x))
    _fail_if(abs(v1 - v2) > 1e-9 * (1 + abs(v2)), "on a function that is already invariant, symmetrize should change "
             f"nothing, but the value went from {v2:.4f} to {v1:.4f} (average, do not sum)")
    return "Averaging over the group projects any function onto the invariant ones."


@exercise("3.5.3", "projecting a linear map onto the equivariant ones")
def _check_3_5_3(project_equivariant) -> str:
    from gdlutils.groups import SymmetricGroup, permutation_matrix, regular_representation

    n = 5
    rho = regular_representation(CyclicGroup(n))
    reps_c = [rho(g) for g in range(n)]
    reps_s = [permutation_matrix(p) for p in SymmetricGroup(4).elements()]
    for name, reps in [("C_5 (shifts)", reps_c), ("S_4 (permutations)", reps_s)]:
        d = reps[0].shape[0]
        w = torch.randn(d, d, generator=_gen(d), dtype=torch.float64)
        pw = _as_tensor(project_equivariant(w.clone(), [r.clone() for r in reps]), "project_equivariant(W, reps)")
        _fail_if(pw.shape != w.shape, f"{name}: the result should be {d}x{d}, got {tuple(pw.shape)}")
        for k, r in enumerate(reps):
            err = float((r @ pw - pw @ r).abs().max())
            _fail_if(err > 1e-9, f"{name}: the projected matrix does not commute with rho(g) for the group element #{k} "
                     f"(error {err:.2e})")
        ppw = _as_tensor(project_equivariant(pw.clone(), reps), "project_equivariant")
        _fail_if(not torch.allclose(ppw, pw, atol=1e-9), f"{name}: projecting twice changes the result: a projection "
                 "must leave equivariant maps unchanged")
        _fail_if(not math.isclose(float(torch.trace(pw)), float(torch.trace(w)), rel_tol=1e-9, abs_tol=1e-9),
                 f"{name}: the trace changed; averaging conjugates rho(g)^-1 W rho(g) keeps it (did you average, with "
                 "the same number of terms as group elements?)")
        # equivariant, idempotent and trace-preserving maps are not all the Reynolds projection (e.g. W -> tr(W)/d I):
        # the projection keeps every equivariant component of W, so it must equal the group average itself
        ref = sum(torch.linalg.inv(r) @ w @ r for r in reps) / len(reps)
        _fail_if(not torch.allclose(pw, ref, atol=1e-9),
                 f"{name}: your matrix is equivariant but is not the average of rho(g)^-1 W rho(g) over the group: "
                 "the projection must keep every equivariant part of W (for the shifts, a whole circulant), not only "
                 "some of it")
    return "Equivariant, idempotent: the Reynolds projection."
