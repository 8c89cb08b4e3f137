"""Groups acting on homogeneous spaces: group convolution, lifting, and the sphere.

A group :math:`G` acts on a space :math:`\\Omega` by :math:`x \\mapsto g\\cdot x`, and on
signals :math:`f:\\Omega\\to\\R` by :math:`(\\rho(g)f)(x) = f(g^{-1}\\cdot x)`. The space is
*homogeneous* when the action is transitive: then :math:`\\Omega \\cong G/H` with :math:`H` the
stabiliser of a base point :math:`x_0`.

For a finite group the three operations of section 4.3 are sums:

- group convolution of :math:`F, \\psi: G\\to\\R`:
  :math:`(F\\star\\psi)(g) = \\sum_{h\\in G} F(h)\\,\\psi(g^{-1}h)` (:func:`group_conv`);
- lifting convolution of :math:`f, \\psi:\\Omega\\to\\R`:
  :math:`(f\\star\\psi)(g) = \\sum_{x\\in\\Omega} f(x)\\,\\psi(g^{-1}\\cdot x)`
  (:func:`lifting_conv`), a function on :math:`G`;
- lifting :math:`f^\\uparrow(g) = f(g\\cdot x_0)` and its left inverse, averaging over cosets
  (:func:`lift`, :func:`project`).

All three commute with the actions of :math:`G` exactly: :math:`(\\rho(u)F)\\star\\psi =
\\rho(u)(F\\star\\psi)` with :math:`(\\rho(u)F)(g) = F(u^{-1}g)` (:func:`gdlutils.groups.regular_action` with ``dim=0``).

The sphere :math:`S^2 = SO(3)/SO(2)` is sampled by an icosphere (:func:`sampled_sphere`). Its
vertices are permuted exactly by the 60 rotations of the icosahedron
(:func:`icosahedral_group`), a finite subgroup of :math:`SO(3)`; other rotations move
samples between vertices and need interpolation (:func:`rotate_signal`).

Fourier analysis on the sphere is exact where the icosphere is not: real spherical harmonics
(:func:`real_spherical_harmonics`) sampled on a Gauss--Legendre :math:`\\times` equiangular grid
(:func:`gauss_legendre_grid`), whose quadrature is exact for band-limited products, give an exact
transform (:func:`spherical_harmonic_transform`); a filter that scales each degree
:math:`\\ell` (:func:`zonal_filter`) commutes with every rotation (:func:`rotate_bandlimited`).

Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous` (groups and homogeneous spaces); spherical CNNs in 5.2.
"""
from __future__ import annotations

import functools
import math
from typing import Callable, Literal

import numpy as np
import torch
from torch import Tensor

from gdlutils.groups import SO3

__all__ = [
    "sampled_sphere",
    "rotation_matrix",
    "FiniteGroup",
    "FiniteMatrixGroup",
    "icosahedral_group",
    "cyclic_rotation_group",
    "point_permutation",
    "GroupAction",
    "group_conv",
    "lifting_conv",
    "lift",
    "project",
    "rotate_signal",
    "plot_sphere_signal",
    "gauss_legendre_grid",
    "real_spherical_harmonics",
    "spherical_harmonic_transform",
    "zonal_filter",
    "rotate_bandlimited",
]


# ------------------------------------------------------------------ the sampled sphere
def sampled_sphere(subdivisions: int = 2, dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor]:
    """The sampled unit sphere as torch tensors: the vertices and triangles of
    :func:`gdlutils.mesh.icosphere` (the icosahedron subdivided ``subdivisions`` times, vertices
    projected onto :math:`S^2`): :math:`10\\cdot 4^s + 2` = 12, 42, 162, 642, 2562 ... vertices.

    Shapes:
        returns vertices ``(V, 3)`` (``dtype``) and triangles ``(F, 3)`` (long).

    Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """
    from gdlutils.mesh import icosphere

    if isinstance(subdivisions, bool) or not isinstance(subdivisions, (int, np.integer)) or not 0 <= subdivisions <= 6:
        raise ValueError(f"sampled_sphere: subdivisions must be an integer in [0, 6], got {subdivisions!r}")
    m = icosphere(int(subdivisions))
    v = torch.as_tensor(m.vertices, dtype=dtype)
    v = v / v.norm(dim=1, keepdim=True)
    return v, torch.as_tensor(m.faces, dtype=torch.long)


def rotation_matrix(axis, angle: float, dtype: torch.dtype = torch.float64) -> Tensor:
    """Rotation by ``angle`` (radians, right-hand rule) about ``axis`` (Rodrigues' formula
    :math:`R = I + \\sin\\theta K + (1-\\cos\\theta)K^2`).

    Shapes: axis ``(3,)``; returns ``(3, 3)``. Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """
    a = torch.as_tensor(axis, dtype=dtype)
    if a.shape != (3,) or a.norm() == 0:
        raise ValueError(f"axis must be a non-zero vector of shape (3,), got {tuple(a.shape)}")
    return SO3(dtype).matrix(a / a.norm() * float(angle))


# ------------------------------------------------------------------ finite matrix groups
class FiniteGroup:
    """A finite group given by its multiplication table, elements numbered ``0..|G|-1``.

    Elements are *indices* (so they work with ``gdlutils.groups.check_equivariance`` and
    ``cayley_table``); ``labels[i]`` keeps what element ``i`` stands for (a matrix, a tuple
    such as a p4 element ...). :meth:`from_group` tabulates any finite group of
    ``gdlutils.groups`` (anything with ``elements()`` and ``compose``).

    Attributes:
        table: ``(|G|, |G|)`` long, ``table[i, j] = k`` iff :math:`g_ig_j = g_k`;
        inv: ``(|G|,)``, the index of each inverse.

    Shapes:
        table: ``(|G|, |G|)`` long; an element: an ``int`` index in ``0..|G|-1``.

    Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """

    def __init__(self, table: Tensor, labels: list | None = None, name: str = "G"):
        table = torch.as_tensor(table, dtype=torch.long)
        n = table.size(0)
        if table.shape != (n, n):
            raise ValueError(f"a multiplication table must be square, got {tuple(table.shape)}")
        ar = torch.arange(n)
        if not all(torch.equal(torch.sort(row).values, ar) for row in table):
            raise ValueError("every row of a group's multiplication table must be a permutation (Latin square)")
        ids = [i for i in range(n) if torch.equal(table[i], ar)]
        if len(ids) != 1:
            raise ValueError("the table has no identity element")
        self.table, self.name, self._identity = table, name, ids[0]
        self.labels = list(labels) if labels is not None else list(range(n))
        self.inv = (table == self._identity).int().argmax(dim=1)

    @classmethod
    def from_group(cls, group, name: str | None = None) -> "FiniteGroup":
        """Tabulate a finite group that lists its ``elements()`` and can ``compose`` them."""
        from .groups import cayley_table

        return cls(torch.as_tensor(cayley_table(group)), labels=group.elements(), name=name or repr(group))

    def __len__(self) -> int:
        return self.table.size(0)

    def __repr__(self) -> str:
        return f"{self.name} (finite group of order {len(self)})"

    def elements(self) -> list[int]:
        return list(range(len(self)))

    def identity(self) -> int:
        return self._identity

    def compose(self, g: int, h: int) -> int:
        return int(self.table[g, h])

    def inverse(self, g: int) -> int:
        return int(self.inv[g])

    def label(self, g: int):
        """What element ``g`` stands for."""
        return self.labels[g]

    def sample(self, num: int, generator: torch.Generator | None = None) -> list[int]:
        return torch.randint(len(self), (num,), generator=generator).tolist()


class FiniteMatrixGroup(FiniteGroup):
    """A finite group of :math:`d\\times d` matrices (a :class:`FiniteGroup` whose labels are
    the matrices); ``matrix(g)`` gives the matrix of an element, :meth:`generate` closes a set
    of generators under multiplication.

    Attributes:
        matrices: ``(|G|, d, d)``; table, inv: as in :class:`FiniteGroup`.

    Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """

    def __init__(self, matrices: Tensor, atol: float = 1e-8, name: str = "G"):
        M = torch.as_tensor(matrices, dtype=torch.float64)
        if M.dim() != 3 or M.size(1) != M.size(2):
            raise ValueError(f"matrices must have shape (|G|, d, d), got {tuple(M.shape)}")
        self.matrices, self.atol = M, atol
        n = M.size(0)
        prod = torch.einsum("iab,jbc->ijac", M, M).reshape(n * n, -1)
        flat = M.reshape(n, -1)
        best = torch.cdist(prod, flat, compute_mode="donot_use_mm_for_euclid_dist").min(dim=1)
        if best.values.max() > atol:
            raise ValueError("the matrices are not closed under multiplication: not a finite group")
        eye = torch.eye(M.size(1), dtype=torch.float64).reshape(1, -1)
        if torch.cdist(eye, flat, compute_mode="donot_use_mm_for_euclid_dist").min() > atol:
            raise ValueError("the identity matrix is not among the matrices")
        super().__init__(best.indices.reshape(n, n), labels=list(M), name=name)

    @classmethod
    def generate(cls, generators: list[Tensor], max_size: int = 10_000, atol: float = 1e-8, name: str = "G"):
        """The group generated by ``generators`` (breadth-first closure; fails beyond ``max_size``)."""
        gens = [torch.as_tensor(g, dtype=torch.float64) for g in generators]
        d = gens[0].size(0)
        elems = [torch.eye(d, dtype=torch.float64)]
        frontier = list(elems)
        while frontier:
            new = []
            for a in frontier:
                for g in gens:
                    b = g @ a
                    if (torch.stack(elems) - b).abs().amax(dim=(1, 2)).min() > atol:
                        elems.append(b)
                        new.append(b)
                        if len(elems) > max_size:
                            raise ValueError(f"more than {max_size} elements: the generators do not generate a finite group")
            frontier = new
        return cls(torch.stack(elems), atol=atol, name=name)

    def __repr__(self) -> str:
        d = self.matrices.size(1)
        return f"{self.name} (finite group of {len(self)} {d}x{d} matrices)"

    def matrix(self, g: int) -> Tensor:
        return self.matrices[g]


@functools.lru_cache(maxsize=1)
def icosahedral_group() -> FiniteMatrixGroup:
    """The rotation group :math:`I \\cong A_5` of the icosahedron (60 rotations), in the
    orientation of :func:`sampled_sphere`: generated by the turn by :math:`2\\pi/5` about a vertex
    and the turn by :math:`2\\pi/3` about the centre of a face. It permutes the vertices of
    every subdivision level exactly. Built once and cached (treat it as read-only).

    Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """
    v, f = sampled_sphere(0)
    r5 = rotation_matrix(v[0], 2 * math.pi / 5)
    r3 = rotation_matrix(v[f[0]].mean(0), 2 * math.pi / 3)
    return FiniteMatrixGroup.generate([r5, r3], max_size=60, name="icosahedral group I")


def cyclic_rotation_group(n: int, axis=(0.0, 0.0, 1.0)) -> FiniteMatrixGroup:
    """:math:`C_n` as the rotations by multiples of :math:`2\\pi/n` about ``axis``.
    Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`."""
    return FiniteMatrixGroup(
        torch.stack([rotation_matrix(axis, 2 * math.pi * k / n) for k in range(n)]), name=f"C{n} rotations"
    )


def point_permutation(R: Tensor, points: Tensor, atol: float = 1e-6) -> Tensor:
    """The permutation ``p`` with :math:`R\\,x_i = x_{p[i]}`; raises ``ValueError`` if ``R``
    does not map the point set onto itself (e.g. a generic rotation of an icosphere).

    Shapes: R ``(d, d)``; points ``(N, d)``; returns ``(N,)`` long. Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """
    return _permutations(R[None], points, atol)[0]


def _permutations(Rs: Tensor, points: Tensor, atol: float) -> Tensor:
    from scipy.spatial import cKDTree

    pts = points.detach().cpu().double().numpy()
    moved = np.einsum("gij,nj->gni", Rs.detach().cpu().double().numpy(), pts)
    dist, idx = cKDTree(pts).query(moved.reshape(-1, pts.shape[1]))
    if dist.max() > atol:
        raise ValueError(
            f"the matrix moves a point {dist.max():.2e} away from every sample point: "
            "it is not a symmetry of this point set (use rotate_signal to interpolate)"
        )
    idx = idx.reshape(len(Rs), len(pts))
    if any(len(np.unique(row)) != len(row) for row in idx):
        raise ValueError("two points map to the same sample: not a permutation")
    return torch.from_numpy(idx).long()


class GroupAction:
    """A finite group acting on a finite set of points :math:`\\Omega` (e.g. icosphere
    vertices) by matrices, stored as the table ``act[g, i] = j`` iff :math:`g\\cdot x_i = x_j`.

    Signals on :math:`\\Omega` are tensors whose first dimension has length :math:`|\\Omega|`;
    :meth:`act_on_signal` is :math:`(\\rho(g)f)(x) = f(g^{-1}\\cdot x)`.

    Shapes:
        points: ``(|Omega|, 3)``; act: ``(|G|, |Omega|)`` long; a signal: ``(|Omega|, ...)``.

    Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """

    def __init__(self, group: FiniteGroup, points: Tensor | None = None, atol: float = 1e-6, act: Tensor | None = None):
        self.group = group
        if act is not None:
            act = torch.as_tensor(act, dtype=torch.long)
            if act.dim() != 2 or act.size(0) != len(group):
                raise ValueError(f"act must have shape (|G|, |Omega|) = ({len(group)}, n), got {tuple(act.shape)}")
            self.act, self.points = act, points
        else:
            if not isinstance(group, FiniteMatrixGroup) or points is None:
                raise ValueError("give points for a FiniteMatrixGroup, or the action table act")
            self.points = torch.as_tensor(points, dtype=torch.float64)
            self.act = _permutations(group.matrices, self.points, atol)
        ar = torch.arange(self.act.size(1))
        if not all(torch.equal(torch.sort(row).values, ar) for row in self.act):
            raise ValueError("each group element must permute the points")
        e = group.identity()
        if not torch.equal(self.act[e], ar):
            raise ValueError("the identity must fix every point")
        comp = self.act[:, self.act]  # comp[g, h, i] = g.(h.x_i)
        if not torch.equal(comp, self.act[group.table]):
            raise ValueError("not an action: (gh).x must equal g.(h.x)")

    @classmethod
    def from_signal_action(cls, group: FiniteGroup, rho: Callable, shape: tuple[int, ...]) -> "GroupAction":
        """Tabulate an action on signals of the given ``shape`` (e.g. images) that moves samples
        around, such as ``P4Group.act``: ``rho(group.label(g), x)`` is applied to each one-hot
        signal; point ``i`` is the ``i``-th entry of the flattened signal."""
        n = int(np.prod(shape))
        eye = torch.eye(n, dtype=torch.float64).reshape(n, *shape)
        rows = []
        for g in group.elements():
            moved = torch.stack([rho(group.label(g), e) for e in eye]).reshape(n, n)
            if not torch.equal(moved.sum(1), torch.ones(n, dtype=moved.dtype)) or not torch.equal(moved.max(1).values, torch.ones(n, dtype=moved.dtype)):
                raise ValueError(f"element {group.label(g)!r} does not move single samples to single samples")
            rows.append(moved.argmax(1))
        return cls(group, act=torch.stack(rows))

    def __len__(self) -> int:
        return self.act.size(1)

    def act_on_signal(self, g: int, f: Tensor) -> Tensor:
        """:math:`(\\rho(g)f)(x_i) = f(g^{-1}\\cdot x_i)`. Shapes: f ``(|Ω|, ...)`` -> same."""
        if f.size(0) != len(self):
            raise ValueError(f"signal must have one row per point ({len(self)}), got {tuple(f.shape)}")
        return f[self.act[self.group.inverse(g)]]

    def orbits(self) -> list[Tensor]:
        """The orbits :math:`G\\cdot x` (as sorted index tensors), in order of first point."""
        seen, out = set(), []
        for i in range(len(self)):
            if i not in seen:
                orb = torch.unique(self.act[:, i])
                seen.update(orb.tolist())
                out.append(orb)
        return out

    def is_transitive(self) -> bool:
        """True when there is a single orbit (:math:`\\Omega` is a homogeneous space)."""
        return len(self.orbits()) == 1

    def stabilizer(self, i: int) -> list[int]:
        """:math:`H = \\{g : g\\cdot x_i = x_i\\}`, a subgroup; :math:`|G| = |H|\\,|G\\cdot x_i|`."""
        return torch.nonzero(self.act[:, i] == i).flatten().tolist()


def _conv(F: Tensor, psi: Tensor, index: Tensor) -> Tensor:
    # out[g] = sum_h F[h] psi[index[g, h]]
    if F.dim() == 1 and psi.dim() == 1:
        return (psi[index] * F[None, :]).sum(1)
    if F.dim() == 2 and psi.dim() == 3:
        if psi.size(1) != F.size(1):
            raise ValueError(f"filter has {psi.size(1)} input channels but the signal has {F.size(1)}")
        return torch.einsum("hc,ghco->go", F, psi[index])
    raise ValueError(
        f"expected signal (N,) with filter (N,), or signal (N, C_in) with filter (N, C_in, C_out); "
        f"got {tuple(F.shape)} and {tuple(psi.shape)}"
    )


def group_conv(F: Tensor, psi: Tensor, group: FiniteGroup) -> Tensor:
    """Group convolution on a finite group: :math:`(F\\star\\psi)(g) = \\sum_h F(h)\\,\\psi(g^{-1}h)`.

    Equivariant: :math:`(\\rho(u)F)\\star\\psi = \\rho(u)(F\\star\\psi)`; on :math:`C_n` it is the
    circular cross-correlation.

    Shapes: F ``(|G|,)`` and psi ``(|G|,)``, or F ``(|G|, C_in)`` and psi ``(|G|, C_in, C_out)``;
    returns ``(|G|,)`` or ``(|G|, C_out)``.

    Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`; G-CNNs in 5.2.
    """
    n = len(group)
    if F.size(0) != n or psi.size(0) != n:
        raise ValueError(f"signal and filter must have one row per group element ({n}), got {tuple(F.shape)}, {tuple(psi.shape)}")
    index = group.table[group.inv]  # index[g, h] = g^{-1} h
    return _conv(F, psi.to(F.dtype), index)


def lifting_conv(f: Tensor, psi: Tensor, action: GroupAction) -> Tensor:
    """Lifting convolution from points to the group:
    :math:`(f\\star\\psi)(g) = \\sum_{x} f(x)\\,\\psi(g^{-1}\\cdot x)`: the filter is moved by each
    :math:`g` and matched against the signal.

    Equivariant: :math:`(\\rho(u)f)\\star\\psi = \\rho_\\text{reg}(u)(f\\star\\psi)`.

    Shapes: f ``(|Ω|,)`` and psi ``(|Ω|,)``, or ``(|Ω|, C_in)`` and ``(|Ω|, C_in, C_out)``;
    returns ``(|G|,)`` or ``(|G|, C_out)``.

    Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """
    if f.size(0) != len(action) or psi.size(0) != len(action):
        raise ValueError(f"signal and filter must have one row per point ({len(action)}), got {tuple(f.shape)}, {tuple(psi.shape)}")
    index = action.act[action.group.inv]  # index[g, x] = g^{-1} . x
    return _conv(f, psi.to(f.dtype), index)


def lift(f: Tensor, action: GroupAction, base: int = 0) -> Tensor:
    """Lift a signal from the homogeneous space to the group: :math:`f^\\uparrow(g) = f(g\\cdot x_0)`
    (constant on each coset :math:`gH`). Equivariant: :math:`(\\rho(u)f)^\\uparrow = \\rho_\\text{reg}(u) f^\\uparrow`.

    Shapes: f ``(|Ω|, ...)``; returns ``(|G|, ...)``. Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """
    if f.size(0) != len(action):
        raise ValueError(f"signal must have one row per point ({len(action)}), got {tuple(f.shape)}")
    return f[action.act[:, base]]


def project(F: Tensor, action: GroupAction, base: int = 0, reduce: Literal["mean", "max"] = "mean") -> Tensor:
    """Back from the group to the space: :math:`f(x) = \\operatorname{mean}/\\max\\{F(g) : g\\cdot x_0 = x\\}`
    (pooling over the coset of :math:`x`); ``project(lift(f)) = f`` on the orbit of ``base``.
    Points outside that orbit get 0.

    Shapes: F ``(|G|, ...)``; returns ``(|Ω|, ...)``. Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """
    if F.size(0) != len(action.group):
        raise ValueError(f"a signal on the group must have {len(action.group)} rows, got {tuple(F.shape)}")
    target = action.act[:, base]
    out = torch.zeros((len(action),) + F.shape[1:], dtype=F.dtype)
    idx = target.view(-1, *([1] * (F.dim() - 1))).expand_as(F)
    if reduce == "mean":
        out.scatter_reduce_(0, idx, F, reduce="mean", include_self=False)
    elif reduce == "max":
        out.scatter_reduce_(0, idx, F, reduce="amax", include_self=False)
    else:
        raise ValueError(f"reduce must be 'mean' or 'max', got {reduce!r}")
    return out


# ------------------------------------------------------------------ continuous rotations
def rotate_signal(
    R: Tensor,
    f: Tensor,
    vertices: Tensor,
    faces: Tensor,
    method: Literal["linear", "nearest"] = "linear",
) -> Tensor:
    """Rotate a sampled signal on the sphere: :math:`(\\rho(R)f)(x) = f(R^{-1}x)`, evaluated at
    the vertices by interpolating ``f`` at the points :math:`R^\\top x_i`.

    ``"linear"``: the point is projected radially onto the triangle of the mesh that contains
    it and ``f`` is interpolated with barycentric weights (exact for rotations that permute
    the vertices, error :math:`O(h^2)` for smooth ``f`` with mesh size :math:`h`);
    ``"nearest"``: the value at the nearest vertex (error :math:`O(h)`).

    Shapes: R ``(3, 3)``; f ``(V,)`` or ``(V, C)``; vertices ``(V, 3)`` on the unit sphere;
    faces ``(F, 3)``; returns like ``f``.

    Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """
    if f.size(0) != vertices.size(0):
        raise ValueError(f"f must have one row per vertex ({vertices.size(0)}), got {tuple(f.shape)}")
    R = torch.as_tensor(R, dtype=vertices.dtype)
    if R.shape != (3, 3) or not torch.allclose(R @ R.T, torch.eye(3, dtype=R.dtype), atol=1e-6):
        raise ValueError("R must be a 3x3 rotation matrix")
    q = vertices @ R  # rows: R^T x_i
    if method == "nearest":
        return f[(q @ vertices.T).argmax(dim=1)]
    if method != "linear":
        raise ValueError(f"method must be 'linear' or 'nearest', got {method!r}")
    from scipy.spatial import cKDTree

    tri = vertices[faces]  # (F, 3 corners, 3 coords)
    Minv = torch.linalg.inv(tri.transpose(1, 2))  # columns are corners: q = sum_a lam_a corner_a
    # candidate faces: the k faces with the nearest centroids (the containing face is among them
    # for any reasonable mesh); points not resolved that way fall back to all faces
    k = min(12, faces.size(0))
    _, cand = cKDTree(tri.mean(1).detach().cpu().numpy()).query(q.detach().cpu().numpy(), k=k)
    cand = torch.as_tensor(cand, dtype=torch.long).reshape(q.size(0), k)
    lam = torch.einsum("qkab,qb->qka", Minv[cand], q)
    face, w = _pick_face(lam, cand)
    bad = torch.nonzero(face < 0).flatten()
    for start in range(0, bad.numel(), 256):  # rare: search every face, in bounded chunks
        idx = bad[start:start + 256]
        lam_all = torch.einsum("fab,qb->qfa", Minv, q[idx])
        everything = torch.arange(faces.size(0)).expand(idx.numel(), -1)
        face[idx], w[idx] = _pick_face(lam_all, everything)
    if (face < 0).any():
        raise ValueError("some rotated points fall in no triangle: are the vertices on the unit sphere?")
    w = w / w.sum(-1, keepdim=True)
    vals = f[faces[face]]  # (Q, 3, ...)
    w = w.to(f.dtype).view(w.shape + (1,) * (f.dim() - 1))
    return (w * vals).sum(1)


def plot_sphere_signal(
    ax,
    vertices: Tensor,
    faces: Tensor,
    f: Tensor,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    view: tuple[float, float] = (20, 30),
    title: str | None = None,
    style: Literal["faces", "points"] = "faces",
):
    """Draw a signal on a triangulated sphere in a matplotlib 3-D axis (``projection="3d"``).

    ``style="faces"``: each triangle is coloured by the mean of its three vertex values (for
    smooth signals); ``"points"``: the vertices are drawn as coloured dots on a pale sphere
    (for labels, e.g. orbits). Returns the matplotlib collection.

    Shapes:
        vertices: ``(V, 3)``; faces: ``(F, 3)`` long; f: ``(V,)``.

    Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """
    import matplotlib as mpl
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    v, fc = vertices.detach().cpu().numpy(), faces.cpu().numpy()
    fv = f.detach().cpu().double().numpy()
    vmin = float(fv.min()) if vmin is None else vmin
    vmax = float(fv.max()) if vmax is None else vmax
    norm = lambda a: (a - vmin) / max(vmax - vmin, 1e-12)
    if style == "faces":
        poly = Poly3DCollection(v[fc], facecolors=mpl.colormaps[cmap](norm(fv[fc].mean(1))), edgecolors="none")
        ax.add_collection3d(poly)
    elif style == "points":
        ax.add_collection3d(Poly3DCollection(0.985 * v[fc], facecolors=(0.93, 0.93, 0.93, 1.0), edgecolors="none"))
        front = v @ _view_direction(*view) > -0.05  # hide the far side
        poly = ax.scatter(*v[front].T, c=mpl.colormaps[cmap](norm(fv[front])), s=max(4.0, 600 / len(v) ** 0.8), depthshade=False)
    else:
        raise ValueError(f"style must be 'faces' or 'points', got {style!r}")
    ax.set_xlim(-1, 1), ax.set_ylim(-1, 1), ax.set_zlim(-1, 1)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(*view)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return poly


def _view_direction(elev: float, azim: float) -> np.ndarray:
    e, a = np.radians(elev), np.radians(azim)
    return np.array([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)])


def _pick_face(lam: Tensor, cand: Tensor) -> tuple[Tensor, Tensor]:
    """Among candidate faces, one whose cone contains the point (all lam >= 0); -1 if none."""
    ok = (lam >= -1e-9).all(-1)
    score = torch.where(ok, lam.sum(-1), torch.full_like(lam[..., 0], -math.inf))
    best = score.argmax(dim=1)
    rows = torch.arange(lam.size(0))
    face = torch.where(ok[rows, best], cand[rows, best], torch.full_like(best, -1))
    return face, lam[rows, best]


# ------------------------------------------------------------------ spherical harmonics


def _check_bandlimit(bandlimit, what: str) -> int:
    if isinstance(bandlimit, bool) or not isinstance(bandlimit, (int, np.integer)) or not 0 <= bandlimit <= 200:
        raise ValueError(f"{what}: bandlimit must be an integer in [0, 200], got {bandlimit!r}")
    return int(bandlimit)


def _check_points(points: Tensor, what: str) -> Tensor:
    if not isinstance(points, Tensor):
        raise TypeError(f"{what}: points must be a torch tensor of shape (N, 3), got {type(points).__name__}")
    if points.dim() != 2 or points.size(1) != 3 or not points.is_floating_point():
        raise ValueError(f"{what}: points must be a float tensor of shape (N, 3), got {tuple(points.shape)} {points.dtype}")
    if not torch.isfinite(points).all() or not torch.allclose(points.norm(dim=1), torch.ones((), dtype=points.dtype), atol=1e-6):
        raise ValueError(f"{what}: points must be finite unit vectors (on the sphere); normalise them first")
    return points


def gauss_legendre_grid(bandlimit: int, dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor]:
    """A grid on :math:`S^2` with an exact quadrature for band-limited signals.

    :math:`L+1` Gauss--Legendre nodes :math:`z_j=\\cos\\theta_j` (weights :math:`w_j`, exact for
    polynomials in :math:`z` of degree :math:`\\le 2L+1`) times :math:`2L+1` equiangular longitudes
    :math:`\\varphi_k = 2\\pi k/(2L+1)` (exact for :math:`e^{im\\varphi}`, :math:`|m|\\le 2L`):

    .. math:: \\int_{S^2} f\\,d\\sigma = \\sum_{j,k} \\frac{2\\pi w_j}{2L+1}\\, f(\\theta_j, \\varphi_k)

    for every :math:`f` of degree at most :math:`2L`, in particular for every product of two
    signals band-limited to :math:`L`. So the spherical-harmonic transform on this grid is exact.

    Shapes:
        returns points ``(N, 3)`` and weights ``(N,)``, :math:`N=(L+1)(2L+1)`; weights sum to :math:`4\\pi`.

    Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """
    L = _check_bandlimit(bandlimit, "gauss_legendre_grid")
    z, w = np.polynomial.legendre.leggauss(L + 1)
    phi = 2 * np.pi * np.arange(2 * L + 1) / (2 * L + 1)
    zz, pp = np.meshgrid(z, phi, indexing="ij")
    r = np.sqrt(1 - zz**2)
    points = np.stack([r * np.cos(pp), r * np.sin(pp), zz], -1).reshape(-1, 3)
    weights = np.repeat(w * 2 * np.pi / (2 * L + 1), 2 * L + 1)
    return torch.as_tensor(points, dtype=dtype), torch.as_tensor(weights, dtype=dtype)


def real_spherical_harmonics(points: Tensor, bandlimit: int) -> Tensor:
    """The real orthonormal spherical harmonics :math:`Y_{\\ell m}`, :math:`0\\le\\ell\\le L`,
    :math:`-\\ell\\le m\\le\\ell`, evaluated at unit vectors :math:`x=(\\sin\\theta\\cos\\varphi,
    \\sin\\theta\\sin\\varphi, \\cos\\theta)`:

    .. math::

        Y_{\\ell m} = \\begin{cases} \\sqrt2\\, N_{\\ell m} P_\\ell^{m}(\\cos\\theta)\\cos(m\\varphi) & m>0\\\\
        N_{\\ell 0} P_\\ell(\\cos\\theta) & m=0\\\\
        \\sqrt2\\, N_{\\ell |m|} P_\\ell^{|m|}(\\cos\\theta)\\sin(|m|\\varphi) & m<0\\end{cases}
        \\qquad N_{\\ell m}=\\sqrt{\\tfrac{2\\ell+1}{4\\pi}\\tfrac{(\\ell-m)!}{(\\ell+m)!}},

    with the associated Legendre functions :math:`P_\\ell^m` without the Condon--Shortley phase,
    computed by the stable three-term recursion of the normalised functions. Degree :math:`\\ell`
    spans an irreducible representation of :math:`SO(3)` of dimension :math:`2\\ell+1`: rotating a
    signal mixes the coefficients within each degree and never across degrees.

    Shapes:
        points ``(N, 3)`` unit vectors; returns ``(N, (L+1)^2)``, column :math:`\\ell^2+\\ell+m` holds
        :math:`Y_{\\ell m}`.

    Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """
    L = _check_bandlimit(bandlimit, "real_spherical_harmonics")
    points = _check_points(points, "real_spherical_harmonics")
    z = points[:, 2].clamp(-1.0, 1.0)
    s = torch.sqrt((1 - z * z).clamp(min=0.0))
    phi = torch.atan2(points[:, 1], points[:, 0])
    # Q[l][m] = N_lm P_l^m(z), the normalised associated Legendre functions, m = 0..l
    Q = [[None] * (l + 1) for l in range(L + 1)]
    Q[0][0] = torch.full_like(z, math.sqrt(1 / (4 * math.pi)))
    for m in range(1, L + 1):
        Q[m][m] = math.sqrt((2 * m + 1) / (2 * m)) * s * Q[m - 1][m - 1]
    for m in range(L):
        Q[m + 1][m] = math.sqrt(2 * m + 3) * z * Q[m][m]
        for l in range(m + 2, L + 1):
            a = math.sqrt((4 * l * l - 1) / (l * l - m * m))
            b = math.sqrt(((l - 1) ** 2 - m * m) / (4 * (l - 1) ** 2 - 1))
            Q[l][m] = a * (z * Q[l - 1][m] - b * Q[l - 2][m])
    columns = []
    for l in range(L + 1):
        for m in range(-l, l + 1):
            if m < 0:
                columns.append(math.sqrt(2) * Q[l][-m] * torch.sin(-m * phi))
            elif m == 0:
                columns.append(Q[l][0])
            else:
                columns.append(math.sqrt(2) * Q[l][m] * torch.cos(m * phi))
    return torch.stack(columns, dim=1)


def _degrees(bandlimit: int) -> Tensor:
    return torch.repeat_interleave(torch.arange(bandlimit + 1), 2 * torch.arange(bandlimit + 1) + 1)


def _check_signal(signal: Tensor, points: Tensor, weights: Tensor | None, what: str) -> None:
    if not isinstance(signal, Tensor) or signal.dim() not in (1, 2) or signal.size(0) != points.size(0):
        raise ValueError(f"{what}: signal must be a tensor of shape (N,) or (N, C) with N = {points.size(0)} points, "
                         f"got {tuple(signal.shape) if isinstance(signal, Tensor) else type(signal).__name__}")
    if weights is not None and (not isinstance(weights, Tensor) or weights.shape != (points.size(0),)):
        raise ValueError(f"{what}: weights must be a tensor of shape ({points.size(0)},), one per point; "
                         "use the weights returned by gauss_legendre_grid")


def spherical_harmonic_transform(signal: Tensor, points: Tensor, weights: Tensor, bandlimit: int) -> Tensor:
    """The spherical-harmonic coefficients by quadrature,

    .. math:: \\hat f_{\\ell m} = \\int_{S^2} f\\,Y_{\\ell m}\\,d\\sigma \\approx \\sum_i w_i\\,f(x_i)\\,Y_{\\ell m}(x_i),

    exact for signals band-limited to :math:`L` on :func:`gauss_legendre_grid` ``(L)``; the inverse is
    ``real_spherical_harmonics(points, L) @ coefficients``.

    Shapes:
        signal ``(N,)`` or ``(N, C)``; points ``(N, 3)``; weights ``(N,)``; returns ``((L+1)^2,)`` or ``((L+1)^2, C)``.

    Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """
    points = _check_points(points, "spherical_harmonic_transform")
    _check_signal(signal, points, weights, "spherical_harmonic_transform")
    Y = real_spherical_harmonics(points, bandlimit).to(signal.dtype)
    return Y.T @ (weights.to(signal.dtype).view(-1, *([1] * (signal.dim() - 1))) * signal)


def zonal_filter(signal: Tensor, response: Tensor, points: Tensor, weights: Tensor) -> Tensor:
    """An isotropic (zonal) spherical filter: scale the degree-:math:`\\ell` part of the signal by
    ``response[l]``,

    .. math:: (Kf)(x) = \\sum_{\\ell=0}^{L}\\hat k_\\ell \\sum_{m=-\\ell}^{\\ell}\\hat f_{\\ell m}\\,Y_{\\ell m}(x).

    This is the convolution with a zonal kernel (one that depends only on the angle to the
    north pole), by the Funk--Hecke theorem. Because a rotation mixes coefficients only within
    a degree, and :math:`K` multiplies a whole degree by one number, :math:`K` commutes with every
    rotation of :math:`SO(3)`: exactly, for signals band-limited to :math:`L=` ``len(response) - 1``
    on :func:`gauss_legendre_grid` ``(L)``. A response that depended on :math:`m` would not.

    Shapes:
        signal ``(N,)`` or ``(N, C)``; response ``(L+1,)``; points ``(N, 3)``; weights ``(N,)``; returns like ``signal``.

    Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """
    if not isinstance(response, Tensor) or response.dim() != 1 or response.numel() == 0:
        raise ValueError(f"zonal_filter: response must be a 1-D tensor, one value per degree 0..L, got "
                         f"{tuple(response.shape) if isinstance(response, Tensor) else type(response).__name__}")
    L = response.numel() - 1
    coefficients = spherical_harmonic_transform(signal, points, weights, L)
    scale = response.to(signal.dtype)[_degrees(L)].view(-1, *([1] * (signal.dim() - 1)))
    return real_spherical_harmonics(points, L).to(signal.dtype) @ (scale * coefficients)


def rotate_bandlimited(R: Tensor, signal: Tensor, points: Tensor, weights: Tensor, bandlimit: int) -> Tensor:
    """Rotate a band-limited sampled signal exactly: :math:`(\\rho(R)f)(x_i) = f(R^{-1}x_i)`, by
    synthesising its spherical-harmonic expansion at the points :math:`R^\\top x_i`,

    .. math:: (\\rho(R)f)(x_i) = \\sum_{\\ell\\le L,\\,m} \\hat f_{\\ell m}\\,Y_{\\ell m}(R^\\top x_i).

    No interpolation error: for a signal band-limited to :math:`L` on :func:`gauss_legendre_grid`
    ``(L)`` this is the exact rotated signal. The left action: ``rotate_bandlimited(R @ Q, f, ...)``
    equals ``rotate_bandlimited(R, rotate_bandlimited(Q, f, ...), ...)``.

    Shapes:
        R ``(3, 3)``; signal ``(N,)`` or ``(N, C)``; points ``(N, 3)``; weights ``(N,)``; returns like ``signal``.

    Introduced in: 4.3, :doc:`/book/04_domains/04_3_groups_homogeneous`.
    """
    R = torch.as_tensor(R, dtype=points.dtype)
    if R.shape != (3, 3) or not torch.allclose(R @ R.T, torch.eye(3, dtype=R.dtype), atol=1e-8) or torch.det(R) < 0:
        raise ValueError(f"rotate_bandlimited: R must be a 3x3 rotation matrix (orthogonal, det +1), got shape {tuple(R.shape)}")
    coefficients = spherical_harmonic_transform(signal, points, weights, bandlimit)
    return real_spherical_harmonics(points @ R, bandlimit).to(signal.dtype) @ coefficients
