"""Tests of gdlutils.groups: group axioms, actions, representations and the symmetry checks."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlutils.groups import (
    SO2,
    SO3,
    CyclicGroup,
    DihedralGroup,
    EquivarianceError,
    P4Group,
    SymmetricGroup,
    SymmetryReport,
    TranslationGroup2D,
    act_on_image,
    cayley_table,
    check_equivariance,
    check_group_axioms,
    check_homomorphism,
    check_invariance,
    cyclic_irrep,
    dft_matrix,
    permutation_matrix,
    quaternion_to_matrix,
    regular_representation,
    rotate_image,
    rotate_points,
    translate_image,
)

FINITE = [CyclicGroup(1), CyclicGroup(6), DihedralGroup(1), DihedralGroup(3), DihedralGroup(4),
          SymmetricGroup(3), SymmetricGroup(4), TranslationGroup2D(2, 3), P4Group(3), P4Group(2, mirror=True)]


@pytest.mark.parametrize("group", FINITE, ids=repr)
def test_group_axioms(group):
    assert check_group_axioms(group) == {"closure": True, "associativity": True, "identity": True, "inverses": True}
    table = cayley_table(group)
    n = len(group)
    assert table.shape == (n, n) and len(group.elements()) == n
    # Latin square: each row and column is a permutation
    assert all(sorted(row) == list(range(n)) for row in table)
    assert all(sorted(col) == list(range(n)) for col in table.T)


def test_axioms_detect_a_non_group():
    class Broken(CyclicGroup):  # subtraction is not associative
        def compose(self, g, h):
            return (g - h) % self.n

    res = check_group_axioms(Broken(5))
    assert res["closure"] and not res["associativity"]


def test_dihedral_structure():
    d4 = DihedralGroup(4)
    assert len(d4) == 8
    r, f = (1, 0), (0, 1)
    assert d4.compose(f, d4.compose(r, f)) == d4.inverse(r)  # F R F = R^{-1}
    assert d4.compose(r, r) != d4.identity()
    # D_3 is not abelian, C_n is
    t = cayley_table(DihedralGroup(3))
    assert not np.array_equal(t, t.T)
    t = cayley_table(CyclicGroup(5))
    assert np.array_equal(t, t.T)
    # D_3 is isomorphic to S_3: same number of elements of each order
    with pytest.raises(TypeError):
        d4.compose(1, (0, 0))
    with pytest.raises(ValueError):
        d4.compose((0, 2), (0, 0))


@pytest.mark.parametrize("n", [3, 4, 5, 6])
def test_dihedral_matrix_and_permutation(n):
    d = DihedralGroup(n)
    v = d.vertices()
    rho_mat = lambda g: d.matrix(g)
    check_homomorphism(rho_mat, d, atol=1e-12)
    check_homomorphism(lambda g: permutation_matrix(d.permutation(g)), d)
    for g in d.elements():
        assert torch.allclose(v @ d.matrix(g).T, v[d.permutation(g)], atol=1e-12)
        m = d.matrix(g)
        assert torch.allclose(m @ m.T, torch.eye(2, dtype=torch.float64), atol=1e-12)
        assert math.isclose(torch.linalg.det(m).item(), -1.0 if g[1] else 1.0, abs_tol=1e-12)


def test_image_actions_are_actions():
    x = torch.randn(2, 3, 5, 5)
    d4 = DihedralGroup(4)
    for g in d4.elements():
        for h in d4.elements():
            assert torch.equal(act_on_image(g, act_on_image(h, x)), act_on_image(d4.compose(g, h), x))
    for a in range(-4, 5):
        assert torch.equal(rotate_image(a, x), act_on_image((a % 4, 0), x))
        for b in range(4):
            assert torch.equal(rotate_image(a, rotate_image(b, x)), rotate_image(a + b, x))


def test_image_action_conventions():
    x = torch.zeros(3, 3)
    x[0, 2] = 1.0  # top-right corner
    assert rotate_image(1, x)[0, 0] == 1.0  # counter-clockwise: top-right -> top-left
    assert act_on_image((0, 1), x)[0, 0] == 1.0  # left-right mirror
    assert act_on_image((1, 1), x)[2, 0] == 1.0  # mirror, then rotate: top-left -> bottom-left
    y = translate_image((1, 2), x)
    assert y[1, 1] == 1.0  # down 1, right 2 (cyclically)
    # agrees with torch.rot90 / flip / roll
    z = torch.randn(4, 6)
    assert torch.equal(rotate_image(3, z), torch.rot90(z, 3, dims=(0, 1)))
    assert torch.equal(translate_image((-1, 4), z), torch.roll(z, (-1, 4), dims=(0, 1)))


def test_image_actions_bad_input():
    with pytest.raises(ValueError):
        rotate_image(1, torch.randn(5))
    with pytest.raises(TypeError):
        rotate_image(1, np.zeros((3, 3)))
    with pytest.raises(TypeError):
        rotate_image(0.5, torch.randn(3, 3))
    with pytest.raises(ValueError):
        act_on_image((1, 3), torch.randn(3, 3))
    with pytest.raises(TypeError):
        translate_image(3, torch.randn(3, 3))
    with pytest.raises(ValueError):
        P4Group(4).act((1, 0, 0), torch.randn(4, 5))


@pytest.mark.parametrize("mirror", [False, True])
def test_p4_action_matches_composition(mirror):
    g4 = P4Group(5, mirror=mirror)
    x = torch.randn(2, 5, 5)
    gen = torch.Generator().manual_seed(0)
    for g, h in zip(g4.sample(40, gen), g4.sample(40, gen)):
        assert torch.equal(g4.act(g, g4.act(h, x)), g4.act(g4.compose(g, h), x))
        assert torch.equal(g4.act(g4.inverse(g), g4.act(g, x)), x)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 3), st.integers(0, 1), st.integers(-7, 7), st.integers(-7, 7), st.integers(0, 2**31 - 1))
def test_property_p4m_translation_conjugation(r, m, dy, dx, seed):
    # rotating/mirroring after a translation equals translating by the transformed vector after
    x = torch.randn(6, 6, generator=torch.Generator().manual_seed(seed))
    g = P4Group(6, mirror=True)
    lhs = act_on_image((r, m), translate_image((dy, dx), x))
    gt = g.compose((r, m, 0, 0), (0, 0, dy, dx))
    assert torch.equal(lhs, g.act(gt, x))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 7), st.data())
def test_property_regular_representation(n, data):
    group = data.draw(st.sampled_from([CyclicGroup(n), DihedralGroup(n)]))
    rho = regular_representation(group)
    report = check_homomorphism(rho, group)
    assert report.passed and report.max_error == 0.0
    for g in group.elements():
        m = rho(g)
        assert torch.equal(m.sum(0), torch.ones(len(group))) and torch.equal(m.sum(1), torch.ones(len(group)))
        assert torch.equal(m @ m.T, torch.eye(len(group), dtype=torch.float64))


def test_homomorphism_fails_on_a_non_representation():
    c = CyclicGroup(5)
    bad = lambda g: torch.tensor([[float(g)]])
    with pytest.raises(EquivarianceError, match="homomorphism"):
        check_homomorphism(bad, c)
    assert not check_homomorphism(bad, c, raise_error=False).passed


@pytest.mark.parametrize("n", [1, 4, 7])
def test_cyclic_irreps_diagonalise_the_regular_representation(n):
    phi = dft_matrix(n)
    assert torch.allclose(phi @ phi.conj().T, torch.eye(n, dtype=torch.complex128), atol=1e-12)
    x = torch.randn(n, dtype=torch.float64)
    assert torch.allclose(phi @ x.to(torch.complex128), torch.fft.fft(x, norm="ortho"), atol=1e-12)
    rho = regular_representation(CyclicGroup(n))
    for k in range(n):
        check_homomorphism(cyclic_irrep(n, k), CyclicGroup(n), atol=1e-12)
    for g in range(n):
        d = phi @ rho(g).to(torch.complex128) @ phi.conj().T
        expected = torch.diag(torch.stack([cyclic_irrep(n, k)(g)[0, 0].conj() for k in range(n)]))
        assert torch.allclose(d, expected, atol=1e-12)
        assert torch.allclose(rho(g) @ x, CyclicGroup.shift(g, x))


@pytest.mark.parametrize("cls,d", [(SO2, 2), (SO3, 3)])
def test_rotation_groups(cls, d):
    group = cls(torch.float64)
    r = group.sample(200, torch.Generator().manual_seed(0))
    assert r.shape == (200, d, d)
    eye = torch.eye(d, dtype=torch.float64)
    assert torch.allclose(r @ r.transpose(1, 2), eye.expand_as(r), atol=1e-12)
    assert torch.allclose(torch.linalg.det(r), torch.ones(200, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(group.compose(r[0], group.inverse(r[0])), group.identity(), atol=1e-12)
    check_homomorphism(lambda g: g, group, samples=20, atol=1e-12)
    pts = torch.randn(10, d, dtype=torch.float64)
    check_invariance(lambda p: torch.cdist(p, p), group, pts, rotate_points, samples=20, atol=1e-10)


def test_so3_is_haar_uniform():
    # under the Haar measure E[R] = 0 and E[R_ij^2] = 1/3; the angle has density (1 - cos t)/pi
    r = SO3(torch.float64).sample(40000, torch.Generator().manual_seed(1))
    assert r.mean(0).abs().max() < 0.02
    assert ((r**2).mean(0) - 1 / 3).abs().max() < 0.02
    angle = torch.arccos(((r.diagonal(dim1=1, dim2=2).sum(-1) - 1) / 2).clamp(-1, 1))
    assert abs(angle.mean().item() - (math.pi / 2 + 2 / math.pi)) < 0.02


def test_so3_rodrigues_and_quaternions():
    so3 = SO3(torch.float64)
    rz = so3.matrix(torch.tensor([0.0, 0.0, math.pi / 2], dtype=torch.float64))
    assert torch.allclose(rz, torch.tensor([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]], dtype=torch.float64), atol=1e-12)
    q = torch.tensor([math.cos(math.pi / 4), 0, 0, math.sin(math.pi / 4)], dtype=torch.float64)
    assert torch.allclose(quaternion_to_matrix(q), rz, atol=1e-12)
    with pytest.raises(ValueError):
        quaternion_to_matrix(torch.randn(3))
    with pytest.raises(ValueError):
        rotate_points(torch.eye(3), torch.randn(5, 2))


def test_check_equivariance_reports():
    c = CyclicGroup(8)
    x = torch.randn(8, dtype=torch.float64)
    conv = lambda s: s + 0.5 * torch.roll(s, 1) - torch.roll(s, -2)
    rep = check_equivariance(conv, c, x, CyclicGroup.shift)
    assert isinstance(rep, SymmetryReport) and rep.passed and rep.max_error < 1e-12 and len(rep.errors) == 8
    bad = lambda s: s * torch.arange(8)
    with pytest.raises(EquivarianceError) as info:
        check_equivariance(bad, c, x, CyclicGroup.shift, name="position-weighted")
    assert "position-weighted" in str(info.value) and "FAILED" in str(info.value)
    assert info.value.report.failures
    rep = check_invariance(torch.sum, c, x, CyclicGroup.shift)
    assert rep.passed
    rep = check_invariance(lambda s: s[0], c, x, CyclicGroup.shift, raise_error=False)
    assert not rep.passed and rep.max_error > 0


def test_check_equivariance_on_graphs_with_sampling():
    n = 10
    s = SymmetricGroup(n)
    gen = torch.Generator().manual_seed(0)
    a = (torch.rand(n, n, generator=gen) < 0.3).double()
    a = torch.triu(a, 1)
    a = a + a.T
    x = torch.randn(n, 4, generator=gen, dtype=torch.float64)
    layer = lambda x, a: a @ x + x

    g = torch.randperm(n, generator=gen)
    px, pa = s.permute_graph(g, (x, a))
    # (PX)[pi(u)] = X[u] and (PAP^T)[pi(i), pi(j)] = A[i, j]
    assert torch.equal(px[g], x) and torch.equal(pa[g][:, g], a)
    P = permutation_matrix(g)
    assert torch.equal(px, P @ x) and torch.equal(pa, P @ a @ P.T)
    rep = check_equivariance(layer, s, (x, a), s.permute_graph, s.permute_rows, samples=20)
    assert rep.passed and len(rep.errors) == 20
    with pytest.raises(ValueError):
        s.elements()


def test_bad_constructors():
    for cls in (CyclicGroup, DihedralGroup, SymmetricGroup, P4Group):
        with pytest.raises(ValueError):
            cls(0)
    with pytest.raises(ValueError):
        permutation_matrix([0, 0, 1])


def test_automorphism_groups():
    import networkx as nx

    from gdlutils.groups import PermutationGroup, automorphism_group

    for g, order in [(nx.cycle_graph(6), 12), (nx.path_graph(4), 2), (nx.complete_graph(4), 24),
                     (nx.petersen_graph(), 120), (nx.star_graph(3), 6)]:
        a = torch.tensor(nx.to_numpy_array(g))
        aut = automorphism_group(a)
        assert len(aut) == order
        assert all(torch.equal(a[p][:, p], a) for p in aut.elements())
        if order <= 24:
            assert all(check_group_axioms(aut).values())
    # Aut(C_n) is the dihedral group: same Cayley table up to relabelling -> same element orders
    aut = automorphism_group(torch.tensor(nx.to_numpy_array(nx.cycle_graph(5))))

    def orders(group):
        out = []
        for g in group.elements():
            k, h = 1, g
            while _k(h) != _k(group.identity()):
                h, k = group.compose(g, h), k + 1
            out.append(k)
        return sorted(out)

    _k = lambda g: tuple(g.tolist()) if isinstance(g, torch.Tensor) else g
    assert orders(aut) == orders(DihedralGroup(5))
    assert automorphism_group(torch.tensor(nx.to_numpy_array(nx.path_graph(3)))).orbits() == [[0, 2], [1]]
    with pytest.raises(ValueError):
        PermutationGroup([torch.tensor([0, 0, 1])])


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 12), st.integers(0, 2**31 - 1))
def test_property_circulant_maps_pass_and_generic_maps_fail(n, seed):
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(n, generator=gen, dtype=torch.float64)
    circulant = torch.stack([torch.roll(w, k) for k in range(n)], 1)  # column k = w shifted by k
    x = torch.randn(n, generator=gen, dtype=torch.float64)
    rep = check_equivariance(lambda s: circulant @ s, CyclicGroup(n), x, CyclicGroup.shift, atol=1e-10)
    assert rep.passed and len(rep.errors) == n
    generic = torch.randn(n, n, generator=gen, dtype=torch.float64)
    rep = check_equivariance(lambda s: generic @ s, CyclicGroup(n), x, CyclicGroup.shift, raise_error=False)
    assert not rep.passed and rep.errors[0][1] < 1e-12  # the identity element always passes


def test_permutation_matrix_is_a_homomorphism_left_action():
    """P[pi(u), u] = 1 makes pi -> P_pi a homomorphism of S_n; the transpose (the old
    convention P[u, pi(u)] = 1) is an anti-homomorphism and fails the same check."""
    s3 = SymmetricGroup(3)
    check_homomorphism(permutation_matrix, s3)
    rep = check_homomorphism(lambda g: permutation_matrix(g).T, s3, raise_error=False)
    assert not rep.passed and rep.max_error == 1.0
    g = torch.tensor([2, 0, 1])
    P = permutation_matrix(g)
    assert all(P[g[u], u] == 1 for u in range(3)) and P.sum() == 3


def test_permutation_actions_are_left_actions():
    s = SymmetricGroup(5)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    a = torch.rand(5, 5, generator=gen, dtype=torch.float64)
    for g, h in zip(s.sample(10, gen), s.sample(10, gen)):
        gh = s.compose(g, h)
        assert torch.equal(s.permute_rows(g, s.permute_rows(h, x)), s.permute_rows(gh, x))
        assert torch.equal(s.permute_adjacency(g, s.permute_adjacency(h, a)), s.permute_adjacency(gh, a))
    check_homomorphism(regular_representation(s := SymmetricGroup(3)), s)


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda s: s.permute_adjacency(torch.arange(3), torch.zeros(3, 4)), ValueError, "square"),
        (lambda s: s.permute_adjacency(torch.tensor([0, 0, 1]), torch.zeros(3, 3)), ValueError, "permutation"),
        (lambda s: s.permute_rows(torch.tensor([0, 2]), torch.zeros(3, 2)), ValueError, "shape"),
        (lambda s: s.permute_graph(torch.arange(3), (torch.zeros(4, 2), torch.zeros(3, 3))), ValueError, "one row per node"),
        (lambda s: s.permute_rows(torch.tensor([0.0, 1.0, 2.0]), torch.zeros(3)), TypeError, "integer dtype"),
    ],
)
def test_symmetric_group_actions_validate(call, exc, words):
    with pytest.raises(exc, match=words):
        call(SymmetricGroup(3))
