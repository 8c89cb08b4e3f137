"""gdlutils.sphere: finite rotation groups, actions, group and lifting convolutions."""
import math

import pytest
import torch
from hypothesis import given, settings, strategies as st

from gdlutils import sphere as S
from gdlutils.groups import SO3, cayley_table, check_equivariance, check_group_axioms, check_invariance, CyclicGroup, regular_action


@pytest.fixture(scope="module")
def ico():
    return S.icosahedral_group()


def test_icosahedral_group(ico):
    assert len(ico) == 60
    assert all(check_group_axioms(ico).values())
    M = ico.matrices
    assert torch.allclose(M @ M.transpose(1, 2), torch.eye(3, dtype=torch.double).expand(60, 3, 3), atol=1e-12)
    assert torch.allclose(torch.linalg.det(M), torch.ones(60, dtype=torch.double))
    # conjugacy-class sizes of A5 via rotation angles: 1 + 15 (pi) + 20 (2pi/3) + 12 + 12 (2pi/5, 4pi/5)
    angles = torch.arccos(((M.diagonal(dim1=1, dim2=2).sum(1) - 1) / 2).clamp(-1, 1))
    counts = sorted(torch.bincount(torch.round(angles * 15 / math.pi).long()).tolist())
    assert [c for c in counts if c] == [1, 12, 12, 15, 20]


def test_actions_on_icospheres(ico):
    for s, orbits in [(0, [12]), (1, [12, 30]), (2, [12, 30, 60, 60])]:
        v, f = S.sampled_sphere(s)
        A = S.GroupAction(ico, v)
        assert sorted(len(o) for o in A.orbits()) == sorted(orbits)
        assert A.is_transitive() == (s == 0)
        assert len(A.stabilizer(0)) * 12 == 60  # orbit-stabiliser at a vertex


def test_group_conv_on_cyclic_is_circular_correlation():
    C = S.cyclic_rotation_group(8)
    assert torch.equal(torch.as_tensor(cayley_table(C)), torch.as_tensor(cayley_table(CyclicGroup(8))))
    F, psi = torch.randn(8, dtype=torch.double), torch.randn(8, dtype=torch.double)
    ref = torch.stack([sum(F[h] * psi[(h - g) % 8] for h in range(8)) for g in range(8)])
    assert torch.allclose(S.group_conv(F, psi, C), ref)


@settings(max_examples=3, deadline=None)
@given(st.integers(0, 10_000))
def test_equivariance_exact(seed):
    ico = S.icosahedral_group()
    g = torch.Generator().manual_seed(seed)
    v, _ = S.sampled_sphere(1)
    A = S.GroupAction(ico, v)
    rho = regular_action(ico, dim=0)
    f = torch.randn(len(v), 2, generator=g, dtype=torch.double)
    psi = torch.randn(len(v), 2, 3, generator=g, dtype=torch.double)
    r = check_equivariance(lambda f: S.lifting_conv(f, psi, A), ico, f, A.act_on_signal, rho, atol=1e-12)
    assert r.max_error < 1e-12
    F = torch.randn(60, 3, generator=g, dtype=torch.double)
    k = torch.randn(60, 3, 4, generator=g, dtype=torch.double)
    assert check_equivariance(lambda F: S.group_conv(F, k, ico), ico, F, rho, atol=1e-12).max_error < 1e-12
    assert check_invariance(lambda F: S.group_conv(F, k, ico).max(0).values, ico, F, rho, atol=1e-12).passed


def test_lift_and_project(ico):
    v, _ = S.sampled_sphere(0)
    A = S.GroupAction(ico, v)
    f = torch.randn(12, dtype=torch.double)
    assert torch.allclose(S.project(S.lift(f, A), A), f, atol=1e-15)
    assert torch.equal(S.project(S.lift(f, A), A, reduce="max"), f)
    rho = regular_action(ico, dim=0)
    assert check_equivariance(lambda f: S.lift(f, A), ico, f, A.act_on_signal, rho, atol=0).passed


def test_rotate_signal(ico):
    v, faces = S.sampled_sphere(2)
    f = v[:, 0] * v[:, 1] + v[:, 2]
    A = S.GroupAction(ico, v)
    for g in (3, 17, 42):  # exact on the symmetries
        assert torch.allclose(S.rotate_signal(ico.matrix(g), f, v, faces), A.act_on_signal(g, f), atol=1e-12)
    R = SO3(torch.float64).sample(1, torch.Generator().manual_seed(0))[0]
    errs = []
    for s in (1, 2, 3):
        v, faces = S.sampled_sphere(s)
        fun = lambda p: p[:, 0] * p[:, 1] + p[:, 2]
        errs.append((S.rotate_signal(R, fun(v), v, faces) - fun(v @ R)).abs().max().item())
    assert errs[0] > errs[1] > errs[2] and errs[2] < 0.02  # converges, about 4x per level
    with pytest.raises(ValueError, match="not a symmetry"):
        S.point_permutation(R, v)


def test_bad_input(ico):
    with pytest.raises(ValueError, match="one row per group element"):
        S.group_conv(torch.randn(10), torch.randn(60), ico)
    with pytest.raises(ValueError, match="not closed"):
        S.FiniteMatrixGroup(torch.stack([torch.eye(3), S.rotation_matrix([0, 0, 1], 1.0)]))
    with pytest.raises(ValueError, match="subdivisions"):
        S.sampled_sphere(-1)


def test_tabulated_groups_and_signal_actions():
    from gdlutils.groups import DihedralGroup, P4Group

    p4 = S.FiniteGroup.from_group(P4Group(3))
    assert len(p4) == 36 and all(check_group_axioms(p4).values())
    assert p4.label(p4.identity()) == P4Group(3).identity()
    A = S.GroupAction.from_signal_action(p4, P4Group(3).act, (3, 3))
    assert A.is_transitive() and len(A.stabilizer(4)) == 4  # the centre pixel: the four rotations
    img = torch.randn(9, dtype=torch.double)
    for g in (5, 17, 30):  # act_on_signal agrees with the action on images
        assert torch.equal(A.act_on_signal(g, img).reshape(3, 3), P4Group(3).act(p4.label(g), img.reshape(3, 3)))
    psi = torch.randn(9, dtype=torch.double)
    rep = check_equivariance(lambda f: S.lifting_conv(f, psi, A), p4, img, A.act_on_signal, regular_action(p4, dim=0), atol=1e-12)
    assert rep.max_error < 1e-12
    D4 = S.FiniteGroup.from_group(DihedralGroup(4))
    assert len(D4) == 8 and not torch.equal(D4.table, D4.table.T)
    with pytest.raises(ValueError, match="Latin square"):
        S.FiniteGroup(torch.zeros(3, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="not an action"):
        bad = A.act.clone()
        bad[[1, 2]] = bad[[2, 1]]
        S.GroupAction(p4, act=bad)


# ------------------------------------------------------------------ spherical harmonics


def test_real_spherical_harmonics_match_scipy():
    import numpy as np
    from scipy.special import sph_harm_y

    L = 7
    points, _ = S.gauss_legendre_grid(L)
    Y = S.real_spherical_harmonics(points, L)
    theta = torch.arccos(points[:, 2]).numpy()
    phi = np.mod(np.arctan2(points[:, 1].numpy(), points[:, 0].numpy()), 2 * np.pi)
    for l in range(L + 1):
        for m in range(-l, l + 1):
            c = np.asarray(sph_harm_y(l, abs(m), theta, phi))
            # scipy's complex harmonics carry the Condon-Shortley phase (-1)^m, ours do not
            ref = c.real if m == 0 else math.sqrt(2) * (-1) ** m * (c.real if m > 0 else c.imag)
            assert np.abs(Y[:, l * l + l + m].numpy() - ref).max() < 1e-12, (l, m)


@pytest.mark.parametrize("L", [0, 1, 4, 9])
def test_gauss_legendre_quadrature_is_exact_up_to_the_bandlimit(L):
    points, weights = S.gauss_legendre_grid(L)
    assert points.shape == ((L + 1) * (2 * L + 1), 3) and torch.allclose(weights.sum(), torch.tensor(4 * math.pi, dtype=torch.double))
    Y = S.real_spherical_harmonics(points, L)
    assert torch.allclose(Y.T @ (weights[:, None] * Y), torch.eye((L + 1) ** 2, dtype=torch.double), atol=1e-12)
    # one degree more is beyond the grid: the quadrature of Y_{L+1,0}^2 is no longer 1
    Y_more = S.real_spherical_harmonics(points, L + 1)[:, (L + 1) ** 2 + L + 1]
    assert abs(float((weights * Y_more**2).sum()) - 1) > 1e-3


def _bandlimited(L, seed=0, channels=None):
    points, weights = S.gauss_legendre_grid(L)
    g = torch.Generator().manual_seed(seed)
    shape = ((L + 1) ** 2,) if channels is None else ((L + 1) ** 2, channels)
    coefficients = torch.randn(shape, generator=g, dtype=torch.double)
    return points, weights, S.real_spherical_harmonics(points, L) @ coefficients, coefficients


def test_transform_inverts_synthesis_and_rotation_is_exact():
    L = 6
    points, weights, f, c = _bandlimited(L, channels=2)
    assert torch.allclose(S.spherical_harmonic_transform(f, points, weights, L), c, atol=1e-12)
    # a degree-1 signal f(x) = a.x rotates to a.(R^T x), which we know in closed form
    a = torch.tensor([0.3, -1.2, 0.5], dtype=torch.double)
    R = SO3(torch.double).sample(1, torch.Generator().manual_seed(1))[0]
    assert torch.allclose(S.rotate_bandlimited(R, points @ a, points, weights, L), (points @ R) @ a, atol=1e-12)
    # a left action: rotating by Q then by R equals rotating by RQ
    Q = SO3(torch.double).sample(1, torch.Generator().manual_seed(2))[0]
    both = S.rotate_bandlimited(R, S.rotate_bandlimited(Q, f, points, weights, L), points, weights, L)
    assert torch.allclose(both, S.rotate_bandlimited(R @ Q, f, points, weights, L), atol=1e-11)
    assert not torch.allclose(both, S.rotate_bandlimited(Q @ R, f, points, weights, L), atol=1e-3)


def test_zonal_filter_commutes_with_every_rotation_and_nonzonal_does_not():
    L = 8
    points, weights, f, _ = _bandlimited(L, seed=3)
    response = torch.randn(L + 1, generator=torch.Generator().manual_seed(4), dtype=torch.double)
    act = lambda R, s: S.rotate_bandlimited(R, s, points, weights, L)
    report = check_equivariance(lambda s: S.zonal_filter(s, response, points, weights), SO3(torch.double), f, act,
                                samples=10, atol=1e-10, rtol=1e-10)
    assert report.max_error < 1e-10
    # scaling each (l, m) by its own number is a linear filter too, but not a rotation-equivariant one
    per_order = torch.randn((L + 1) ** 2, generator=torch.Generator().manual_seed(5), dtype=torch.double)
    Y = S.real_spherical_harmonics(points, L)
    anisotropic = lambda s: Y @ (per_order * S.spherical_harmonic_transform(s, points, weights, L))
    bad = check_equivariance(anisotropic, SO3(torch.double), f, act, samples=10, raise_error=False)
    assert not bad.passed and bad.relative_error > 0.1
    # the zonal filter equals a function of the Laplacian: Y_lm is an eigenfunction, Delta Y = l(l+1) Y
    heat = S.zonal_filter(f, torch.exp(-0.1 * torch.arange(L + 1) * (torch.arange(L + 1) + 1.0)), points, weights)
    assert heat.norm() < f.norm()


def test_spherical_harmonics_bad_input():
    points, weights = S.gauss_legendre_grid(3)
    with pytest.raises(ValueError, match="bandlimit"):
        S.gauss_legendre_grid(-1)
    with pytest.raises(ValueError, match="bandlimit"):
        S.real_spherical_harmonics(points, 2.5)
    with pytest.raises(ValueError, match="unit vectors"):
        S.real_spherical_harmonics(2 * points, 3)
    with pytest.raises(TypeError, match="torch tensor"):
        S.real_spherical_harmonics(points.numpy(), 3)
    with pytest.raises(ValueError, match="weights"):
        S.spherical_harmonic_transform(points[:, 0], points, weights[:-1], 3)
    with pytest.raises(ValueError, match="one per point|N ="):
        S.spherical_harmonic_transform(points[:-1, 0], points, weights, 3)
    with pytest.raises(ValueError, match="one value per degree"):
        S.zonal_filter(points[:, 0], torch.ones(2, 2), points, weights)
    with pytest.raises(ValueError, match="rotation matrix"):
        S.rotate_bandlimited(torch.diag(torch.tensor([1.0, 1.0, -1.0], dtype=torch.double)), points[:, 0], points, weights, 3)
