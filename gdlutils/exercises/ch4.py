"""Self-checks for the exercises of chapter 4 (geometric domains).

Sections 4.1-4.3 (graphs and sets, grids, groups and homogeneous spaces) come first;
sections 4.4-4.6 are appended after them.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from . import ExerciseFailure, exercise

# =============================================================================================
# 4.1 Graphs and sets
# =============================================================================================


def _random_graphs():
    from ..graphs import ring_graph, sbm_graph

    ei, _, _ = sbm_graph([6, 7], 0.6, 0.1, seed=41)
    yield "a ring of 8 nodes", ring_graph(8), 8
    yield "a random 13-node graph", ei, 13
    yield "a path 0-1-2 with 2 isolated nodes", torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), 5
    # one-way edges: messages go from edge_index[0] to edge_index[1], not back
    yield "a directed 6-node graph", torch.tensor([[0, 0, 1, 2, 3, 4, 5, 5], [1, 2, 2, 3, 1, 3, 0, 4]]), 6


@exercise("4.1.1", "neighbourhood mean, a permutation-equivariant aggregation")
def _neighbourhood_mean(mean_fn):
    """``mean_fn(x, edge_index)``: row u is the mean of x_v over the neighbours v -> u (0 if none)."""
    from ..graphs import adjacency, permute_graph

    g = torch.Generator().manual_seed(411)
    for what, ei, n in _random_graphs():
        x = torch.randn(n, 3, generator=g, dtype=torch.float64)
        A = adjacency(ei, n, dtype=torch.float64).T  # A[u, v] = 1 if v -> u
        deg = A.sum(1, keepdim=True)
        ref = torch.where(deg > 0, A @ x / deg.clamp_min(1), torch.zeros_like(x))
        out = mean_fn(x.clone(), ei.clone())
        out = torch.as_tensor(out, dtype=torch.float64)
        if out.shape != ref.shape:
            raise ExerciseFailure(f"on {what}: expected one row per node, shape {tuple(ref.shape)}, got {tuple(out.shape)}")
        if not torch.allclose(out, ref, atol=1e-6):
            u = int((out - ref).abs().sum(1).argmax())
            raise ExerciseFailure(
                f"on {what}: node {u} gets {out[u].numpy().round(3)} but the mean of its neighbours' features "
                f"is {ref[u].numpy().round(3)} (nodes with no neighbour should get 0)"
            )
        perm = torch.randperm(n, generator=g)
        x2, ei2 = permute_graph(perm, x, ei)
        if not torch.allclose(torch.as_tensor(mean_fn(x2, ei2), dtype=torch.float64), permute_graph(perm, out, None)[0], atol=1e-6):
            raise ExerciseFailure(f"on {what}: renumbering the nodes does not renumber your output the same way")


@exercise("4.1.2", "two graphs that 1-WL cannot tell apart")
def _wl_pair(pair):
    """``pair = ((edge_index1, n1), (edge_index2, n2))``: non-isomorphic, undirected graphs
    with no isolated-node tricks that 1-WL does not distinguish."""
    import networkx as nx

    from ..graphs import check_edge_index, to_networkx, wl_test

    try:
        (e1, n1), (e2, n2) = pair
        e1, e2 = check_edge_index(torch.as_tensor(e1), n1), check_edge_index(torch.as_tensor(e2), n2)
    except (TypeError, ValueError) as err:
        raise ExerciseFailure(f"give ((edge_index1, n1), (edge_index2, n2)) with edge_index of shape (2, E): {err}")
    for name, e, n in (("first", e1, n1), ("second", e2, n2)):
        A = torch.zeros(n, n).index_put_((e[0], e[1]), torch.ones(e.size(1)), accumulate=True)
        if not torch.equal(A, A.T):
            raise ExerciseFailure(f"the {name} graph is not undirected: list both directions of every edge")
        if e.size(1) == 0:
            raise ExerciseFailure(f"the {name} graph has no edge; make it more interesting")
    if nx.is_isomorphic(to_networkx(e1, n1), to_networkx(e2, n2)):
        raise ExerciseFailure("your two graphs are isomorphic: of course 1-WL cannot tell them apart; find two different ones")
    if wl_test((e1, n1), (e2, n2)):
        raise ExerciseFailure(
            "1-WL does distinguish these two graphs (their colour histograms differ after refinement); "
            "hint: in a regular graph every node looks the same to 1-WL"
        )


_CLASSIFY_TRUTH = {
    "sum_rows": "invariant",  # X -> sum_u x_u
    "sort_rows": "invariant",  # X -> rows sorted lexicographically (as a set)
    "relu_rows": "equivariant",  # X -> relu(X)
    "first_row": "neither",  # X -> x_0
    "minus_mean": "equivariant",  # X -> X - mean(X)
    "flatten_mlp": "neither",  # X -> W vec(X)
    "AX": "equivariant",  # (X, A) -> A X
    "trace_A3": "invariant",  # (X, A) -> trace(A^3)
}


@exercise("4.1.3", "invariant, equivariant or neither?")
def _classify(answer):
    """``answer``: dict name -> 'invariant' | 'equivariant' | 'neither' for the functions of the
    notebook (invariant means f(PX) = f(X); equivariant means f(PX) = P f(X) but not invariant)."""
    if not isinstance(answer, dict):
        raise ExerciseFailure("answer with a dict such as {'sum_rows': 'invariant', ...}")
    missing = sorted(set(_CLASSIFY_TRUTH) - set(answer))
    if missing:
        raise ExerciseFailure(f"classify every function; missing: {', '.join(missing)}")
    wrong = [k for k, v in _CLASSIFY_TRUTH.items() if str(answer[k]).strip().lower() != v]
    if wrong:
        raise ExerciseFailure(
            f"{len(wrong)} of {len(_CLASSIFY_TRUTH)} are not right, for instance '{wrong[0]}'; "
            "test it with check_equivariance / check_invariance on a random input"
        )


# =============================================================================================
# 4.2 Grids and Euclidean spaces
# =============================================================================================


@exercise("4.2.1", "undo a convolution with the convolution theorem")
def _deconvolve(deconvolve):
    """``deconvolve(y, w)`` returns x with conv1d(x, w) = y (circular), fft(w) has no zero."""
    from ..grids import conv1d_fft

    g = torch.Generator().manual_seed(421)
    for n, m in ((8, 3), (31, 5), (64, 2)):
        x = torch.randn(n, generator=g, dtype=torch.float64)
        w = torch.randn(m, generator=g, dtype=torch.float64)
        w[0] += 3.0  # keeps |fft(w)| away from 0
        y = conv1d_fft(x, w)
        out = torch.as_tensor(deconvolve(y.clone(), w.clone()))
        if out.is_complex():
            if out.imag.abs().max() > 1e-8:
                raise ExerciseFailure(f"for n = {n} your x has a large imaginary part: a real signal was convolved")
            out = out.real
        if out.shape != x.shape:
            raise ExerciseFailure(f"for n = {n}, expected a signal of shape {tuple(x.shape)}, got {tuple(out.shape)}")
        err = (out.double() - x).abs().max().item()
        if err > 1e-8:
            raise ExerciseFailure(
                f"for n = {n}, m = {m} your x is off by {err:.2e}; the filter must be zero-padded to length n "
                "before its FFT, and convolution becomes a product there"
            )


@exercise("4.2.2", "the spectrum of the ring, read off its circulant")
def _ring_spectrum(eigs):
    """``eigs(n)``: the eigenvalues of the combinatorial Laplacian of the n-cycle, sorted."""
    from ..graphs import laplacian, ring_graph

    for n in (3, 4, 7, 12, 25):
        ref = torch.linalg.eigvalsh(laplacian(ring_graph(n), dtype=torch.float64))
        out = torch.as_tensor(eigs(n), dtype=torch.float64).flatten()
        if out.numel() != n:
            raise ExerciseFailure(f"for n = {n} expected {n} eigenvalues, got {out.numel()}")
        out = torch.sort(out).values
        if not torch.allclose(out, ref, atol=1e-8):
            raise ExerciseFailure(
                f"for n = {n} your eigenvalues {out[:4].numpy().round(4)}... differ from the Laplacian's "
                f"{ref[:4].numpy().round(4)}...; the eigenvalues of a circulant are the FFT of its first column"
            )


@exercise("4.2.3", "cross-correlation in the Fourier domain")
def _xcorr(xcorr):
    """``xcorr(x, w)``: y_u = sum_v w_v x_{(u+v) mod n}, w zero-padded to n."""
    g = torch.Generator().manual_seed(423)
    for n, m in ((9, 3), (16, 16), (20, 1)):
        x = torch.randn(n, generator=g, dtype=torch.float64)
        w = torch.randn(m, generator=g, dtype=torch.float64)
        ref = sum(w[v] * torch.roll(x, -v) for v in range(m))
        out = torch.as_tensor(xcorr(x.clone(), w.clone()))
        out = out.real if out.is_complex() else out
        if out.shape != ref.shape:
            raise ExerciseFailure(f"for n = {n}, expected shape {tuple(ref.shape)}, got {tuple(out.shape)}")
        if not torch.allclose(out.double(), ref, atol=1e-8):
            flipped = sum(w[v] * torch.roll(x, v) for v in range(m))
            hint = " (you computed the convolution: the filter goes the other way)" if torch.allclose(out.double(), flipped, atol=1e-8) else ""
            raise ExerciseFailure(f"for n = {n}, m = {m} your output is off by {(out.double() - ref).abs().max():.2e}{hint}")


# =============================================================================================
# 4.3 Groups and homogeneous spaces
# =============================================================================================


@exercise("4.3.1", "group convolution on the cyclic group")
def _cyclic_gconv(gconv):
    """``gconv(F, psi)`` for signals on C_n: (F * psi)(g) = sum_h F(h) psi((h - g) mod n)."""
    g = torch.Generator().manual_seed(431)
    for n in (3, 8, 13):
        F = torch.randn(n, generator=g, dtype=torch.float64)
        psi = torch.randn(n, generator=g, dtype=torch.float64)
        ref = torch.stack([sum(F[h] * psi[(h - k) % n] for h in range(n)) for k in range(n)])
        out = torch.as_tensor(gconv(F.clone(), psi.clone()))
        out = out.real if out.is_complex() else out
        if out.shape != ref.shape:
            raise ExerciseFailure(f"for n = {n}, expected a signal on the group, shape ({n},), got {tuple(out.shape)}")
        if not torch.allclose(out.double(), ref, atol=1e-8):
            k = int((out.double() - ref).abs().argmax())
            raise ExerciseFailure(
                f"for n = {n} the value at g = {k} is {out[k]:.4f}, expected {ref[k]:.4f}; "
                "in C_n the inverse of g is -g and the product is addition mod n"
            )


@exercise("4.3.2", "orbit and stabiliser on the icosahedron")
def _stabiliser(order):
    """``order(p)``: the number of rotations of the icosahedron that fix the unit vector p."""
    from ..sphere import icosahedral_group, sampled_sphere

    v, f = sampled_sphere(0)
    I = icosahedral_group()
    edge = (v[f[0, 0]] + v[f[0, 1]]) / 2
    cases = {
        "a vertex": v[3],
        "the centre of a face": v[f[5]].mean(0),
        "the midpoint of an edge": edge,
        "a generic point": torch.tensor([0.3, -0.5, 0.81], dtype=torch.float64),
    }
    for what, p in cases.items():
        p = p / p.norm()
        ref = int(((I.matrices @ p) - p).norm(dim=1).lt(1e-9).sum())
        try:
            out = int(order(p.clone()))
        except (TypeError, ValueError) as err:
            raise ExerciseFailure(f"order(p) should return an integer: {err}")
        if out != ref:
            raise ExerciseFailure(
                f"for {what} you found {out} rotations; count the matrices R with R p = p "
                f"(orbit-stabiliser: |orbit| x |stabiliser| = 60)"
            )


@exercise("4.3.3", "a rotation-invariant feature of spherical signals")
def _sphere_invariant(feature):
    """``feature(f)`` for signals f (162,) on sampled_sphere(2): a tensor invariant under the 60
    rotations of the icosahedron, not constant, and not invariant under arbitrary shuffles."""
    from ..sphere import GroupAction, icosahedral_group, sampled_sphere

    v, _ = sampled_sphere(2)
    I = icosahedral_group()
    A = GroupAction(I, v)
    g = torch.Generator().manual_seed(433)
    f = torch.randn(len(v), generator=g, dtype=torch.float64)
    base = torch.as_tensor(feature(f.clone()), dtype=torch.float64)
    for h in I.elements():
        out = torch.as_tensor(feature(A.act_on_signal(h, f)), dtype=torch.float64)
        if out.shape != base.shape or not torch.allclose(out, base, atol=1e-8, rtol=1e-6):
            raise ExerciseFailure(f"rotating the signal by group element {h} changes your feature")
    other = torch.as_tensor(feature(torch.randn(len(v), generator=g, dtype=torch.float64)), dtype=torch.float64)
    if torch.allclose(other, base):
        raise ExerciseFailure("your feature gives the same value on two different random signals: it ignores its input")
    shuffled = torch.as_tensor(feature(f[torch.randperm(len(v), generator=g)]), dtype=torch.float64)
    if torch.allclose(shuffled, base, atol=1e-8):
        raise ExerciseFailure(
            "your feature does not change when the values are shuffled across the sphere at random: it is a "
            "function of the set of values only (like a sum or a sort); use the geometry, e.g. a lifting "
            "convolution followed by pooling over the group"
        )


# =============================================================================================
# 4.4-4.6 (appended below by their authors)
# =============================================================================================

# ---------------------------------------------------------------------------------------------
# 4.4 Geodesics and manifolds
# ---------------------------------------------------------------------------------------------


def _small_meshes():
    from ..mesh import icosphere, random_sphere, torus

    yield "an icosphere", icosphere(2)
    yield "an irregular sphere", random_sphere(300, seed=44)
    yield "a torus", torus(1.0, 0.4, 24, 12)


@exercise("4.4.1", "analysis with a mass matrix")
def _analysis(analysis):
    """``analysis(phi, M, f)`` returns the coefficients phi^T M f of f in an M-orthonormal basis."""
    from ..mesh import laplacian_and_mass, laplacian_eigs

    rng = np.random.default_rng(441)
    for name, mesh in _small_meshes():
        L, M = laplacian_and_mass(*mesh)
        _, phi = laplacian_eigs(L, M, 12)
        f = phi @ rng.normal(size=12)  # a function in the span of the basis
        c = np.asarray(analysis(phi, M, f), dtype=float).ravel()
        if c.shape != (12,):
            raise ExerciseFailure(f"on {name} with 12 basis functions, expected 12 coefficients, got shape {c.shape}")
        if not np.allclose(phi @ c, f, atol=1e-8):
            raise ExerciseFailure(
                f"on {name}, synthesising your coefficients does not give back a function that lies in the span "
                "of the basis; the basis is orthonormal for the inner product f^T M g, not f^T g"
            )
        g = rng.normal(size=len(phi))  # a generic function, not in the span
        c = np.asarray(analysis(phi, M, g), dtype=float).ravel()
        best = phi.T @ (M @ g)  # the coefficients of the closest function of the span in the M-norm
        if c.shape != (12,) or not np.allclose(c, best, atol=1e-8 * (1 + np.abs(best).max())):
            raise ExerciseFailure(
                f"on {name}, for a random function outside the span of the basis your coefficients do not give its "
                "best approximation in the norm |f|_M^2 = f^T M f (the area-weighted one); a least-squares fit "
                "with equal weights per vertex is not it"
            )


@exercise("4.4.2", "the heat kernel signature")
def _hks(hks):
    """``hks(evals, evecs, times)`` returns sum_k exp(-lambda_k t) phi_k(x)^2, shape (n, T)."""
    from ..mesh import heat_kernel, laplacian_and_mass, laplacian_eigs

    times = [0.01, 0.1, 1.0]
    for name, mesh in _small_meshes():
        L, M = laplacian_and_mass(*mesh)
        lam, phi = laplacian_eigs(L, M, 15)
        got = np.asarray(hks(lam, phi, times), dtype=float)
        if got.shape != (len(phi), len(times)):
            raise ExerciseFailure(f"on {name}: expected shape {(len(phi), len(times))} (vertices x times), got {got.shape}")
        for j, t in enumerate(times):
            want = np.diag(heat_kernel(lam, phi, t))
            if not np.allclose(got[:, j], want, rtol=1e-8, atol=1e-12):
                raise ExerciseFailure(f"on {name} at t = {t}: your values differ from the diagonal of the heat kernel k_t(x, x)")


@exercise("4.4.3", "the direction step of the heat method")
def _unit_field(unit_field):
    """``unit_field(V, F, u)`` returns -grad u / |grad u| per face, and zero where grad u = 0 exactly."""
    from ..mesh import gradient, icosphere

    V, F = icosphere(2)
    rng = np.random.default_rng(443)
    u = rng.normal(size=len(V))
    X = np.asarray(unit_field(V, F, u), dtype=float)
    if X.shape != F.shape:
        raise ExerciseFailure(f"expected one 3-vector per face, shape {F.shape}, got {X.shape}")
    g = gradient(V, F, u)
    if not np.allclose(np.linalg.norm(X, axis=1), 1.0):
        raise ExerciseFailure("your vectors are not all of unit length on a random function")
    if not np.all(np.einsum("ij,ij->i", X, g) < 0):
        raise ExerciseFailure("some of your vectors point up the heat gradient: the distance grows where heat falls")
    if not np.allclose(np.cross(X, g), 0, atol=1e-10):
        raise ExerciseFailure("your vectors are not parallel to the gradient")
    u_flat = V[:, 2].copy()
    u_flat[V[:, 2] > 0] = 0.0  # flat on the upper half: zero gradient on those faces
    X0 = np.asarray(unit_field(V, F, u_flat), dtype=float)
    flat = np.all(V[F][:, :, 2] > 0, axis=1)
    if not np.all(np.isfinite(X0)) or np.abs(X0[flat]).max() > 0:
        raise ExerciseFailure("where the function is constant (zero gradient) return zero vectors, not NaN or other values")


# ---------------------------------------------------------------------------------------------
# 4.5 Gauges and bundles
# ---------------------------------------------------------------------------------------------


def _rot(a):
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


@exercise("4.5.1", "change of gauge")
def _change_gauge(change_gauge):
    """``change_gauge(coeffs, angles)``: coefficients (n, 2) in frames rotated by ``angles``."""
    rng = np.random.default_rng(451)
    c = rng.normal(size=(7, 2))
    g = rng.uniform(-np.pi, np.pi, 7)
    out = np.asarray(change_gauge(c.copy(), g.copy()), dtype=float)
    if out.shape != c.shape:
        raise ExerciseFailure(f"expected shape {c.shape}, got {out.shape}")
    # the vector itself: sum of coefficients times frame vectors, in a common ambient plane
    e1 = np.stack([np.cos(g), np.sin(g)], 1)
    e2 = np.stack([-np.sin(g), np.cos(g)], 1)
    rebuilt = out[:, :1] * e1 + out[:, 1:] * e2
    if not np.allclose(rebuilt, c, atol=1e-10):
        if np.allclose(np.einsum("nij,nj->ni", np.stack([_rot(a) for a in g]), c), out):
            raise ExerciseFailure("you rotated the coefficients the same way as the frame; they must turn the opposite way")
        raise ExerciseFailure("the vector rebuilt from your new coefficients and the rotated frame is not the original vector")
    if not np.allclose(np.linalg.norm(out, axis=1), np.linalg.norm(c, axis=1)):
        raise ExerciseFailure("a change of orthonormal frame must keep the length of each vector")


@exercise("4.5.2", "a gauge-equivariant kernel")
def _equivariant_kernel(K):
    """``K(theta)`` returns a 2x2 matrix with K(theta - g) = R(-g) K(theta) R(g), depending on theta."""
    rng = np.random.default_rng(452)
    thetas = rng.uniform(-np.pi, np.pi, 12)
    mats = [np.asarray(K(t), dtype=float) for t in thetas]
    if any(m.shape != (2, 2) for m in mats):
        raise ExerciseFailure("K(theta) must return a 2x2 matrix (it maps a tangent vector to a tangent vector)")
    if max(np.abs(m).max() for m in mats) < 1e-9:
        raise ExerciseFailure("your kernel is zero everywhere: equivariant, but useless")
    for t in thetas[:6]:
        for g in rng.uniform(-np.pi, np.pi, 4):
            lhs = np.asarray(K(t - g), dtype=float)
            rhs = _rot(-g) @ np.asarray(K(t), dtype=float) @ _rot(g)
            if not np.allclose(lhs, rhs, atol=1e-9):
                raise ExerciseFailure(
                    f"at theta = {t:.2f}, a change of gauge by g = {g:.2f} breaks K(theta - g) = R(-g) K(theta) R(g)"
                )
    if all(np.allclose(m, mats[0]) for m in mats):
        raise ExerciseFailure(
            "your kernel passes, but it does not depend on the direction theta (a constant a I + b J): "
            "find one that treats neighbours in different directions differently"
        )


@exercise("4.5.3", "holonomy by summing transport angles")
def _holonomy(my_holonomy):
    """``my_holonomy(V, F, loop)`` equals gdlutils.mesh.holonomy on loops around vertex sets."""
    from ..mesh import face_loop_around, holonomy, icosphere, random_sphere

    for name, mesh in [("an icosphere", icosphere(2)), ("an irregular sphere", random_sphere(300, seed=45))]:
        V, F = mesh
        for centre, radius in [(0, 0.01), (5, 0.6), (17, 1.2)]:
            disc = np.flatnonzero(np.linalg.norm(V - V[centre], axis=1) <= radius)
            loop = face_loop_around(F, disc)
            want = holonomy(V, F, loop)
            got = float(my_holonomy(V, F, loop))
            if abs(np.angle(np.exp(1j * (got - want)))) > 1e-8:
                raise ExerciseFailure(
                    f"on {name}, around {len(disc)} vertices: you get {got:.4f} rad, the enclosed curvature is "
                    f"{want:.4f} (mod 2 pi); remember rho_gf = -rho_fg when you walk an adjacent pair backwards"
                )


# ---------------------------------------------------------------------------------------------
# 4.6 Geometric graphs and meshes
# ---------------------------------------------------------------------------------------------


@exercise("4.6.1", "the Euler characteristic")
def _euler(chi):
    """``chi(F)`` returns V - E + F of a triangle mesh given by its faces."""
    from ..mesh import flat_sheet, icosphere, torus

    s = icosphere(1).faces
    cases = [("a sphere", s, 2), ("a torus", torus(1.0, 0.3, 12, 8).faces, 0), ("a disc-like sheet", flat_sheet(5, 4).faces, 1),
             ("two disjoint spheres", np.concatenate([s, s + s.max() + 1]), 4)]
    for name, F, want in cases:
        got = chi(np.array(F))
        if int(got) != want:
            raise ExerciseFailure(f"for {name} you get {got}; count each edge once although two faces share it")


@exercise("4.6.2", "the angle defect")
def _defect(defect):
    """``defect(V, F)`` returns 2 pi minus the sum of the corner angles at each vertex (closed meshes)."""
    from ..mesh import angle_defect

    for name, mesh in _small_meshes():
        got = np.asarray(defect(mesh.vertices, mesh.faces), dtype=float)
        want = angle_defect(*mesh)
        if got.shape != want.shape:
            raise ExerciseFailure(f"on {name}: expected one value per vertex, shape {want.shape}, got {got.shape}")
        if not np.allclose(got, want, atol=1e-9):
            i = int(np.argmax(np.abs(got - want)))
            raise ExerciseFailure(f"on {name}, vertex {i}: you get {got[i]:.5f}; check the angle at every corner of every face")


@exercise("4.6.3", "E(3)-invariant node features")
def _e3_features(features):
    """``features(pos, edge_index)`` (n, d): invariant under rotations, reflections and translations."""
    from scipy.spatial import cKDTree
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(463)
    pos = rng.normal(size=(30, 3))
    pairs = np.array(sorted(cKDTree(pos).query_pairs(1.2)))
    ei = np.concatenate([pairs.T, pairs.T[::-1]], 1)
    base = np.asarray(features(pos.copy(), ei.copy()), dtype=float)
    if base.ndim != 2 or base.shape[0] != 30:
        raise ExerciseFailure(f"expected an array with one row per node, (30, d), got shape {base.shape}")
    for k in range(5):
        R = Rotation.random(random_state=k).as_matrix()
        if k % 2:
            R = R @ np.diag([1.0, 1.0, -1.0])  # a reflection
        moved = pos @ R.T + rng.normal(size=3) * 5
        out = np.asarray(features(moved, ei.copy()), dtype=float)
        if not np.allclose(out, base, atol=1e-8):
            kind = "a reflection" if k % 2 else "a rotation"
            raise ExerciseFailure(f"{kind} plus a translation changes your features: use only distances (or angles)")
    if np.allclose(base, base[:1]):
        raise ExerciseFailure("all nodes get the same features: they do not describe the geometry around each node")
    if np.allclose(np.asarray(features(2.0 * pos, ei.copy()), dtype=float), base):
        raise ExerciseFailure("your features do not change when the cloud is scaled by 2: they ignore the positions")
