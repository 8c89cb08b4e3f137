"""Intrinsic mesh convolutions: log map against potpourri3d, MoNet against PyG's GMMConv,
GEM-CNN against a dense kernel-basis reference, and the gauge symmetries of every layer."""
import math

import numpy as np
import pytest
import torch

from gdlutils import mesh as gm
from gdlutils import mesh_conv as mc
from gdlutils.groups import check_equivariance, check_invariance


@pytest.fixture(scope="module")
def spot():
    return gm.load_mesh("spot", normalize=True)


@pytest.fixture(scope="module")
def spot_geo(spot):
    return mc.precompute(spot, rings=2, k_eig=16, cache=False)


@pytest.fixture(scope="module")
def small_geo():
    """An irregular sphere: gauge symmetries do not need a large mesh."""
    return mc.precompute(gm.random_sphere(400, seed=0), rings=2, cache=False)


def _act(max_order):
    """x -> rho(-gamma) x on features of type rho_0 + ... + rho_M."""
    k = torch.arange(1, max_order + 1, dtype=torch.float64)

    def act(gamma, x):
        s, z = mc.to_complex(x, max_order)
        return mc.from_complex(s, z * torch.exp(-1j * k * gamma[:, None, None]))

    return act


# ------------------------------------------------------------------------------------ geometry
def test_one_ring_and_patches_exact_on_a_flat_sheet():
    sheet = gm.flat_sheet(12, 8, width=3.0, height=2.0, seed=1)
    V, F = sheet
    ring = mc.one_ring(V, F)
    q, p = ring["edge_index"]
    e1, e2, _ = gm.vertex_tangent_frames(V, F)
    d = V[q] - V[p]
    assert np.allclose(ring["rho"], np.linalg.norm(d, axis=1))
    want = np.arctan2((d * e2[p]).sum(1), (d * e1[p]).sum(1))
    assert np.allclose(np.angle(np.exp(1j * (ring["theta"] - want))), 0, atol=1e-12)
    # on a flat mesh the grown log map is the plane's difference vector, exactly
    pc = mc.polar_coordinates(V, F, rings=3)
    q, p = pc["edge_index"]
    d = V[q] - V[p]
    u = pc["rho"] * np.exp(1j * pc["theta"])
    want = (d * e1[p]).sum(1) + 1j * (d * e2[p]).sum(1)
    assert np.abs(u - want).max() < 1e-12
    assert len(pc["rho"]) > 10 * len(V)


def test_log_map_matches_potpourri3d_up_to_one_rotation():
    pp3d = pytest.importorskip("potpourri3d")
    bunny = gm.load_mesh("bunny", normalize=True)
    V, F = bunny
    solver = pp3d.MeshVectorHeatSolver(V, F)
    for src in [0, 1500, 3000]:
        verts, xy = mc.log_map(V, F, src, rings=4)
        assert verts[0] == src and np.all(xy[0] == 0)
        ref = solver.compute_log_map(src)[verts[1:]]
        ours = xy[1:, 0] + 1j * xy[1:, 1]
        theirs = ref[:, 0] + 1j * ref[:, 1]
        rel = np.abs(np.abs(ours) / np.abs(theirs) - 1)
        assert np.median(rel) < 0.02 and rel.max() < 0.1
        d = np.angle(ours / theirs)
        res = np.abs(np.angle(np.exp(1j * d) / np.exp(1j * d).mean()))
        assert np.median(res) < 0.05 and res.max() < 0.15
        # the orientation agrees: a mirror image fits far worse
        dm = np.angle(ours * theirs)
        assert np.median(np.abs(np.angle(np.exp(1j * dm) / np.exp(1j * dm).mean()))) > 0.5


def test_gauge_transform_equals_recomputing_in_rotated_frames(spot, spot_geo):
    V, F = spot
    e1, e2, n = gm.vertex_tangent_frames(V, F)
    gamma = np.random.default_rng(0).uniform(0, 2 * np.pi, len(V))
    c, s = np.cos(gamma)[:, None], np.sin(gamma)[:, None]
    ring = mc.one_ring(V, F, (c * e1 + s * e2, -s * e1 + c * e2, n))
    th, tr = mc.gauge_transform(spot_geo["ring_theta"], spot_geo["ring_transport"], spot_geo["ring_edge_index"], gamma)
    assert np.array_equal(ring["edge_index"], spot_geo["ring_edge_index"])
    assert np.abs(np.angle(np.exp(1j * (ring["theta"] - th)))).max() < 1e-12
    assert np.abs(np.angle(np.exp(1j * (ring["transport"] - tr)))).max() < 1e-12


def test_precompute_caches_atomically_and_rejects_bad_meshes(tmp_path, monkeypatch):
    monkeypatch.setenv("GDL_CACHE", str(tmp_path))
    sphere = gm.icosphere(2)
    a = mc.precompute(sphere, rings=2, k_eig=5)
    files = list((tmp_path / "mesh_conv").glob("*.npz"))
    assert len(files) == 1 and not list((tmp_path / "mesh_conv").glob("*.tmp*"))
    b = mc.precompute(sphere, rings=2, k_eig=5)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert np.allclose(a["evals"][0], 0, atol=1e-8) and a["evals"][1] > 0  # Delta = M^-1 L is PSD
    # a mesh with boundary works (half-disc patches)
    sheet = mc.precompute(gm.flat_sheet(8, 6), rings=2, cache=False)
    assert len(sheet["patch_rho"]) > 0
    with pytest.raises(gm.NonManifoldMeshError, match="pinched"):
        mc.precompute(gm.load_mesh("cow", require_manifold=False), cache=False)
    V, F = sphere
    with pytest.raises(gm.MeshError, match="zero area"):
        V2 = V.copy()
        V2[F[0, 2]] = 0.5 * (V2[F[0, 0]] + V2[F[0, 1]])
        mc.precompute((V2, F), cache=False)
    with pytest.raises(ValueError, match="rings"):
        mc.polar_coordinates(V, F, rings=0)
    with pytest.raises(ValueError, match="source"):
        mc.log_map(V, F, len(V))


def test_arap_and_retriangulate(spot):
    pytest.importorskip("igl")
    small = mc.retriangulate(gm.icosphere(2), seed=0)
    gm.check_mesh(*small)
    assert small.num_vertices > gm.icosphere(2).num_vertices
    assert np.isclose(gm.face_areas(*small).sum(), gm.face_areas(*gm.icosphere(2)).sum(), rtol=1e-12)
    assert small.meta["parent"].shape == (small.num_vertices,)
    flips = np.sum(~np.isin(np.sort(small.faces, 1).view("i8,i8,i8"),
                            np.sort(mc.retriangulate(gm.icosphere(2), flip_fraction=0.0).faces, 1).view("i8,i8,i8")))
    assert flips > 20
    bent = mc.arap_deform(spot, n_handles=5, scale=0.2, seed=0)
    E = gm.edges(spot.faces)
    l0 = np.linalg.norm(spot.vertices[E[:, 0]] - spot.vertices[E[:, 1]], axis=1)
    l1 = np.linalg.norm(bent.vertices[E[:, 0]] - bent.vertices[E[:, 1]], axis=1)
    assert np.abs(bent.vertices - spot.vertices).max() > 0.1  # it moved ...
    assert np.median(np.abs(l1 / l0 - 1)) < 0.05  # ... nearly isometrically
    with pytest.raises(ValueError, match="n_handles"):
        mc.arap_deform(spot, n_handles=1)


# ------------------------------------------------------------------------------------ MoNet
@pytest.mark.parametrize("separate", [False, True])
@pytest.mark.parametrize("aggr", ["mean", "sum", "max"])
@pytest.mark.parametrize("channels", [(5, 7), (7, 5)])  # aggregate-first path when in < out
def test_monet_equals_gmmconv(spot_geo, separate, aggr, channels):
    from torch_geometric.nn import GMMConv

    g = mc.as_tensors(spot_geo)
    ei, rho, th = g["patch_edge_index"], g["patch_rho"], g["patch_theta"]
    pseudo = torch.stack([rho * torch.cos(th), rho * torch.sin(th)], 1) * 20
    torch.manual_seed(0)
    cin, cout = channels
    ref = GMMConv(cin, cout, dim=2, kernel_size=4, separate_gaussians=separate, aggr=aggr)
    ours = mc.MoNetConv(cin, cout, dim=2, kernel_size=4, separate_gaussians=separate, aggr=aggr)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(len(g["mass"]), cin)
    want = ref(x, ei, pseudo)
    got = ours(x, ei, pseudo)
    assert (got - want).abs().max() < 1e-5 * want.abs().max()
    assert want.std() > 0.1  # not a trivial comparison
    gw = torch.autograd.grad(want.square().sum(), [ref.g, ref.mu, ref.sigma])
    gg = torch.autograd.grad(got.square().sum(), [ours.g, ours.mu, ours.sigma])
    for a, b in zip(gg, gw):
        assert (a - b).abs().max() < 1e-4 * b.abs().max()
    with pytest.raises(ValueError, match="pseudo"):
        ours(x, ei, pseudo[:, :1])


# ------------------------------------------------------------------------------------ GCNN
def test_gcnn_invariant_at_multiples_of_its_bin_and_naive_filter_is_not(small_geo):
    g = mc.as_tensors(small_geo, torch.float64)
    ei, rho, th = g["patch_edge_index"], g["patch_rho"], g["patch_theta"]
    n = len(g["mass"])
    torch.manual_seed(0)
    x = torch.randn(n, 3, dtype=torch.float64)
    gen = torch.Generator().manual_seed(1)
    grid = [torch.randint(0, 8, (n,), generator=gen).double() * 2 * math.pi / 8 for _ in range(3)]
    anyg = [torch.rand(n, generator=gen, dtype=torch.float64) * 2 * math.pi for _ in range(3)]

    def act(gamma, inputs):
        x, t = inputs
        return x, mc.gauge_transform(t, None, ei, gamma)[0]

    pooled = mc.GCNNConv(3, 4, n_rho=3, n_theta=8, radius=float(rho.max())).double()
    naive = mc.GCNNConv(3, 4, n_rho=3, n_theta=8, radius=float(rho.max()), angular_pool=False).double()
    check_invariance(lambda x, t: pooled(x, ei, rho, t), grid, (x, th), act, atol=1e-10)
    r_any = check_invariance(lambda x, t: pooled(x, ei, rho, t), anyg, (x, th), act, atol=1e-10, raise_error=False)
    r_naive = check_invariance(lambda x, t: naive(x, ei, rho, t), grid, (x, th), act, atol=1e-10, raise_error=False)
    assert not r_any.passed and not r_naive.passed
    assert r_naive.max_error > 0.1
    # the patch operator interpolates: a constant signal stays constant in every bin that sees neighbours
    D = pooled.patch_operator(torch.ones(n, 1, dtype=torch.float64), ei, rho, th)
    assert torch.allclose(D[D != 0], torch.ones(1, dtype=torch.float64))


# ------------------------------------------------------------------------------------ spectral
def test_spectral_conv_is_a_function_of_eigenvalues(spot_geo):
    g = mc.as_tensors(spot_geo, torch.float64)
    lam, phi, mass = g["evals"], g["evecs"], g["mass"]
    torch.manual_seed(0)
    conv = mc.SpectralMeshConv(3, 2, num_basis=5, lambda_max=float(lam.max())).double()
    x = torch.randn(len(mass), 3, dtype=torch.float64)
    y = conv(x, lam, phi, mass)
    G = conv.response(lam)  # (out, in, k)
    want = torch.stack([sum(phi @ torch.diag(G[o, c]) @ phi.t() @ (mass * x[:, c]) for c in range(3)) for o in range(2)], 1)
    assert torch.allclose(y, want + conv.bias, atol=1e-10)
    # eigenvector signs are arbitrary: a function of lambda does not care
    signs = torch.where(torch.rand(len(lam), generator=torch.Generator().manual_seed(3)) < 0.5, -1.0, 1.0).double()
    assert torch.allclose(conv(x, lam, phi * signs, mass), y, atol=1e-10)
    with pytest.raises(ValueError, match="evecs"):
        conv(x, lam, phi[:-1], mass)


# ------------------------------------------------------------------------------------ GEM-CNN
@pytest.mark.parametrize("n_in", range(4))
@pytest.mark.parametrize("n_out", range(4))
def test_kernel_basis_solves_the_constraint(n_in, n_out):
    rng = np.random.default_rng(n_in * 4 + n_out)
    for _ in range(5):
        th, gam = rng.uniform(-4, 4, 2)
        B, B2 = mc.gem_kernel_basis(n_in, n_out, th), mc.gem_kernel_basis(n_in, n_out, th - gam)
        for b in range(len(B)):
            assert np.allclose(B2[b], mc._rot(n_out, -gam) @ B[b] @ mc._rot(n_in, gam), atol=1e-12)
    # complete: it spans rho_out(th) E rho_in(-th) for all matrix units E (dimension 1, 2, 2 or 4)
    B = mc.gem_kernel_basis(n_in, n_out, 0.7)
    d_out, d_in = B.shape[1:]
    units = [mc._rot(n_out, 0.7) @ np.eye(d_out)[:, [i]] @ np.eye(d_in)[[j]] @ mc._rot(n_in, -0.7)
             for i in range(d_out) for j in range(d_in)]
    flat = B.reshape(len(B), -1)
    assert np.linalg.matrix_rank(flat) == len(B) == d_in * d_out
    assert np.linalg.matrix_rank(np.vstack([flat, np.array(units).reshape(len(units), -1)])) == len(B)


def _gem_dense_reference(conv, x, ei, theta, transport):
    """Loop over edges, building K(theta) from gem_kernel_basis as real matrices."""
    M, O, C = conv.max_order, conv.out_channels, conv.in_channels
    d = 2 * M + 1
    sl = [slice(0, 1)] + [slice(2 * n - 1, 2 * n + 1) for n in range(1, M + 1)]
    Wc = lambda w: w.detach().double().numpy()  # noqa: E731

    def kernel(th):
        K = np.zeros((O, d, C, d))
        K[:, sl[0], :, sl[0]] += Wc(conv.w00)[:, None, :, None]
        for n in range(1, M + 1):
            B = mc.gem_kernel_basis(n, 0, th)
            a = Wc(conv.a_0n[n - 1])
            K[:, sl[0], :, sl[n]] += np.einsum("oc,pq->opcq", a[..., 0], B[0]) + np.einsum("oc,pq->opcq", a[..., 1], B[1])
            B = mc.gem_kernel_basis(0, n, th)
            a = Wc(conv.a_m0[n - 1])
            K[:, sl[n], :, sl[0]] += np.einsum("oc,pq->opcq", a[..., 0], B[0]) - np.einsum("oc,pq->opcq", a[..., 1], B[1])
        for m in range(1, M + 1):
            for n in range(1, M + 1):
                B = mc.gem_kernel_basis(n, m, th)
                al, be = Wc(conv.alpha[m - 1, n - 1]), Wc(conv.beta[m - 1, n - 1])
                K[:, sl[m], :, sl[n]] += sum(np.einsum("oc,pq->opcq", w, b) for w, b in
                                             [(al[..., 0], B[0]), (-al[..., 1], B[1]), (be[..., 0], B[2]), (be[..., 1], B[3])])
        return K

    X = x.double().numpy()
    out = np.zeros((len(X), O, d))
    deg = np.bincount(ei[1].numpy(), minlength=len(X))
    for (q, p), th, g in zip(ei.t().tolist(), theta.tolist(), transport.tolist()):
        T = np.zeros((d, d))
        for n, s in enumerate(sl):
            T[s, s] = mc._rot(n, g)
        out[p] += np.einsum("opcq,cq->op", kernel(th), X[q] @ T.T) / deg[p]
    out[:, :, 0] += X[:, :, 0] @ Wc(conv.w_self0).T + Wc(conv.bias)
    for n in range(1, M + 1):
        w = Wc(conv.w_selfn[n - 1])
        Z = X[:, :, sl[n]]
        JZ = np.stack([-Z[..., 1], Z[..., 0]], -1)
        out[:, :, sl[n]] += np.einsum("oc,ncq->noq", w[..., 0], Z) + np.einsum("oc,ncq->noq", w[..., 1], JZ)
    return out


def test_gem_conv_equals_dense_kernel_basis_reference():
    sphere = gm.icosphere(1)
    g = mc.as_tensors(mc.precompute(sphere, rings=1, cache=False), torch.float64)
    ei, th, tr = g["ring_edge_index"], g["ring_theta"], g["ring_transport"]
    torch.manual_seed(0)
    for M in (0, 1, 2):
        conv = mc.GEMConv(3, 2, max_order=M).double()
        torch.nn.init.normal_(conv.bias)
        x = torch.randn(sphere.num_vertices, 3, 2 * M + 1, dtype=torch.float64)
        got = conv(x, ei, th, tr).detach().numpy()
        assert np.abs(got - _gem_dense_reference(conv, x, ei, th, tr)).max() < 1e-12


def test_gem_cnn_gauge_equivariance(small_geo):
    g = mc.as_tensors(small_geo, torch.float64)
    ei, th, tr = g["ring_edge_index"], g["ring_theta"], g["ring_transport"]
    n, M = len(g["mass"]), 2
    act = _act(M)

    def rho_in(gamma, inputs):
        x, t, r = inputs
        t2, r2 = mc.gauge_transform(t, r, ei, gamma)
        return act(gamma, x), t2, r2

    torch.manual_seed(0)
    conv1, conv2 = mc.GEMConv(4, 6, M).double(), mc.GEMConv(6, 3, M).double()
    x = torch.randn(n, 4, 2 * M + 1, dtype=torch.float64)
    gen = torch.Generator().manual_seed(2)
    anyg = [torch.rand(n, generator=gen, dtype=torch.float64) * 2 * math.pi for _ in range(4)]
    linear = lambda x, t, r: conv2(conv1(x, ei, t, r), ei, t, r)  # noqa: E731
    check_equivariance(linear, anyg, (x, th, tr), rho_in, act, atol=1e-10, rtol=0)
    errors = {}
    for N in (5, 9, 33):
        nl = mc.RegularNonlinearity(M, num_samples=N)
        net = lambda x, t, r: conv2(nl(conv1(x, ei, t, r)), ei, t, r)  # noqa: E731
        grid = [torch.randint(0, N, (n,), generator=gen).double() * 2 * math.pi / N for _ in range(3)]
        check_equivariance(net, grid, (x, th, tr), rho_in, act, atol=1e-10, rtol=0)
        errors[N] = check_equivariance(net, anyg, (x, th, tr), rho_in, act, raise_error=False).max_error
    assert errors[5] > 1e-2 and errors[33] < 0.5 * errors[9] < 0.5 * errors[5], errors
    # a naive kernel that reads neighbours without transport is not equivariant
    naive = lambda x, t, r: conv1(x, ei, t, torch.zeros_like(r))  # noqa: E731
    rep = check_equivariance(naive, anyg, (x, th, tr), rho_in, act, raise_error=False)
    assert rep.max_error > 0.1


def test_gem_bad_input(small_geo):
    g = mc.as_tensors(small_geo, torch.float64)
    ei, th, tr = g["ring_edge_index"], g["ring_theta"], g["ring_transport"]
    conv = mc.GEMConv(2, 2, 1).double()
    n = len(g["mass"])
    with pytest.raises(ValueError, match=r"shape \(num_nodes, 2, 3\)"):
        conv(torch.zeros(n, 2, 5, dtype=torch.float64), ei, th, tr)
    with pytest.raises(ValueError, match="outside"):
        conv(torch.zeros(10, 2, 3, dtype=torch.float64), ei, th, tr)
    with pytest.raises(ValueError, match="one per edge"):
        conv(torch.zeros(n, 2, 3, dtype=torch.float64), ei, th[:-1], tr)
    with pytest.raises(ValueError, match="num_samples"):
        mc.RegularNonlinearity(3, num_samples=6)
    with pytest.raises(ValueError, match="aggr"):
        mc.GEMConv(2, 2, 1, aggr="max")
    with pytest.raises(TypeError):
        conv(np.zeros((n, 2, 3)), ei, th, tr)
