"""Triangle meshes as discrete manifolds: loading, operators, curvature, transport.

A mesh is a pair ``(V, F)``: vertex positions ``V`` of shape ``(n, 3)`` and triangles ``F`` of
shape ``(m, 3)`` (vertex indices, counter-clockwise seen from outside). Functions take these
two NumPy arrays; :class:`Mesh` bundles them with a name and a credit line.

Sign convention: :func:`cotangent_laplacian` returns the **positive semi-definite** weak
Laplacian :math:`L` (the stiffness matrix of linear finite elements),

.. math:: (Lu)_i = \\tfrac12 \\sum_{j \\sim i} (\\cot\\alpha_{ij} + \\cot\\beta_{ij})\\,(u_i - u_j),

so that :math:`u^\\top L u = \\int \\lVert \\nabla u \\rVert^2` and the Laplace–Beltrami operator
is :math:`\\Delta \\approx -M^{-1}L`. libigl's ``igl.cotmatrix`` is :math:`-L`;
``robust_laplacian.mesh_laplacian`` returns :math:`L`.

Introduced in: 4.4 (geodesics and manifolds); used in 4.5, 4.6 and 5.6.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = [
    "Mesh",
    "MeshError",
    "NonManifoldMeshError",
    "MESHES",
    "load_mesh",
    "check_mesh",
    "manifold_report",
    "icosphere",
    "random_sphere",
    "torus",
    "flat_sheet",
    "roll_sheet",
    "edges",
    "boundary_edges",
    "euler_characteristic",
    "face_areas",
    "face_normals",
    "vertex_normals",
    "corner_angles",
    "cotangent_laplacian",
    "mass_matrix",
    "laplacian_and_mass",
    "laplacian_eigs",
    "heat_diffusion",
    "heat_kernel",
    "heat_kernel_signature",
    "gradient",
    "divergence",
    "HeatMethodGeodesics",
    "heat_geodesic_distance",
    "angle_defect",
    "gaussian_curvature",
    "mean_curvature",
    "vertex_tangent_frames",
    "face_tangent_frames",
    "face_adjacency",
    "transport_angles",
    "face_loop_around",
    "holonomy",
    "transport_along",
    "vertex_transport_angles",
    "vertex_ring",
    "vertex_holonomy",
    "random_rotation",
]


class MeshError(ValueError):
    """The arrays given do not describe a valid triangle mesh."""


class NonManifoldMeshError(MeshError):
    """The mesh is not a 2-manifold (an edge with more than two faces, or a pinched vertex)."""


# ----------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------
def _as_mesh(V, F) -> tuple[np.ndarray, np.ndarray]:
    """Check shapes, dtypes and index ranges; return float64 ``V`` and int64 ``F``."""
    if isinstance(V, Mesh):
        V, F = V.vertices, V.faces
    V = np.asarray(V)
    F = np.asarray(F)
    if V.ndim != 2 or V.shape[1] != 3:
        raise MeshError(f"vertices must have shape (n, 3), got {V.shape}")
    if F.ndim != 2 or F.shape[1] != 3:
        raise MeshError(f"faces must have shape (m, 3) (triangles only), got {F.shape}")
    if not np.issubdtype(F.dtype, np.integer):
        if F.size and np.any(F != np.round(F)):
            raise MeshError(f"faces must hold integer vertex indices, got dtype {F.dtype}")
    V = np.ascontiguousarray(V, dtype=np.float64)
    F = np.ascontiguousarray(F, dtype=np.int64)
    if len(F) == 0:
        raise MeshError("the mesh has no faces")
    if not np.all(np.isfinite(V)):
        raise MeshError("vertex positions must be finite (found NaN or inf)")
    lo, hi = int(F.min()), int(F.max())
    if lo < 0 or hi >= len(V):
        raise MeshError(f"face indices must lie in [0, {len(V) - 1}] for {len(V)} vertices, found range [{lo}, {hi}]")
    bad = (F[:, 0] == F[:, 1]) | (F[:, 1] == F[:, 2]) | (F[:, 0] == F[:, 2])
    if bad.any():
        raise MeshError(
            f"{int(bad.sum())} faces repeat a vertex (e.g. face {int(np.flatnonzero(bad)[0])}); "
            "remove them first (trimesh: mesh.update_faces(mesh.nondegenerate_faces()))"
        )
    return V, F


def _check_nondegenerate(dbl_area: np.ndarray) -> None:
    bad = ~(dbl_area > 0)
    if bad.any():
        raise MeshError(
            f"{int(bad.sum())} faces have zero area (e.g. face {int(np.flatnonzero(bad)[0])}), so their "
            "cotangents are infinite; remove them first (trimesh: mesh.update_faces(mesh.nondegenerate_faces()))"
        )


# ----------------------------------------------------------------------------------------------
# The Mesh container and loading
# ----------------------------------------------------------------------------------------------
@dataclass
class Mesh:
    """A triangle mesh: ``vertices`` (n, 3) float64, ``faces`` (m, 3) int64, a name and a credit.

    Introduced in: 4.4.
    """

    vertices: np.ndarray
    faces: np.ndarray
    name: str = ""
    credit: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.vertices, self.faces = _as_mesh(self.vertices, self.faces)

    @property
    def n_vertices(self) -> int:
        return len(self.vertices)

    @property
    def n_faces(self) -> int:
        return len(self.faces)

    def __iter__(self):  # allows ``V, F = mesh``
        yield self.vertices
        yield self.faces

    def __repr__(self) -> str:
        return f"Mesh({self.name!r}, {self.n_vertices} vertices, {self.n_faces} faces)"

    def copy(self, vertices: np.ndarray | None = None, name: str | None = None) -> "Mesh":
        """A copy, optionally with new vertex positions (same connectivity)."""
        return Mesh(
            self.vertices.copy() if vertices is None else vertices,
            self.faces.copy(),
            self.name if name is None else name,
            self.credit,
            dict(self.meta),
        )

    def to_trimesh(self):
        """The mesh as a ``trimesh.Trimesh`` (no processing)."""
        import trimesh

        return trimesh.Trimesh(self.vertices, self.faces, process=False)


#: Short names of the meshes shipped through :mod:`gdlutils.data` and their registry keys.
MESHES = {
    "spot": "meshes/spot.obj",
    "bunny": "meshes/bunny-manifold.obj",
    "bunny-manifold": "meshes/bunny-manifold.obj",
    "stanford-bunny": "meshes/stanford-bunny.obj",
    "torus": "meshes/torus.obj",
    "cow": "meshes/cow.obj",
}


def load_mesh(name: str | Path, *, require_manifold: bool = True, normalize: bool = False) -> Mesh:
    """Load a triangle mesh with trimesh, welding duplicate vertices, and check it is a manifold.

    ``name`` is a short name from :data:`MESHES` (``"spot"``, ``"bunny"``, ``"torus"``,
    ``"stanford-bunny"``), a key of :data:`gdlutils.data.REGISTRY`, or a path to a mesh file.
    Registered files are found through :func:`gdlutils.data.fetch` (downloaded and
    checksum-verified when missing and online). OBJ files repeat a vertex along texture and
    normal seams; these copies are merged (``merge_tex=True, merge_norm=True``) since intrinsic
    quantities need one vertex per surface point.

    Args:
        name: short name, registry key or path.
        require_manifold: raise :class:`NonManifoldMeshError` when the mesh is not a manifold
            (see :func:`manifold_report`). Meshes with boundary are accepted.
        normalize: translate to the centroid and scale to unit surface area.

    Returns:
        A :class:`Mesh` whose ``credit`` is the source's credit line.

    Introduced in: 4.4.
    """
    import trimesh

    from .data import REGISTRY, fetch

    key = MESHES.get(str(name), str(name))
    credit = ""
    if key in REGISTRY:
        path = fetch(key)
        credit = REGISTRY[key].credit
        label = str(name)
    else:
        path = Path(name)
        if not path.is_file():
            raise FileNotFoundError(f"{name!r} is neither a known mesh ({', '.join(sorted(MESHES))}) nor a file")
        label = path.stem
    tm = trimesh.load(str(path), force="mesh")
    tm.merge_vertices(merge_tex=True, merge_norm=True)
    mesh = Mesh(np.asarray(tm.vertices), np.asarray(tm.faces), label, credit)
    if require_manifold:
        report = manifold_report(mesh.vertices, mesh.faces)
        if not report["manifold"]:
            raise NonManifoldMeshError(
                f"mesh {label!r} is not a manifold: {report['problem']}. Intrinsic operators (Laplacian, "
                "curvature, transport) assume every edge has at most two faces and the faces around each "
                "vertex form a single fan. Repair it first (e.g. split the pinched vertices or remesh it "
                "with a manifold remesher), or pass require_manifold=False if you know what you are doing."
            )
    if normalize:
        mesh.vertices = mesh.vertices - mesh.vertices.mean(0)
        mesh.vertices = mesh.vertices / math.sqrt(face_areas(mesh.vertices, mesh.faces).sum())
    return mesh


def manifold_report(V, F) -> dict:
    """Diagnose whether ``(V, F)`` is a 2-manifold (with or without boundary).

    Checks that every edge has one or two faces, that the faces around each vertex form one
    fan (no pinched vertex), and that adjacent faces are oriented consistently.

    Returns:
        A dict with keys ``manifold`` (bool), ``oriented`` (bool), ``nonmanifold_edges``
        ((k, 2) array), ``pinched_vertices`` (array), ``unreferenced_vertices`` (int),
        ``boundary_edges`` (int) and ``problem`` (a readable summary, ``"none"`` if none).

    Introduced in: 4.6.
    """
    V, F = _as_mesh(V, F)
    n, m = len(V), len(F)
    he = np.stack([F, np.roll(F, -1, axis=1)], axis=-1).reshape(-1, 2)  # half-edges i -> j
    und = np.sort(he, axis=1)
    keys, inv, counts = np.unique(und[:, 0] * n + und[:, 1], return_inverse=True, return_counts=True)
    bad_edges = np.stack([keys[counts > 2] // n, keys[counts > 2] % n], axis=1)
    directed = he[:, 0] * n + he[:, 1]
    oriented = len(np.unique(directed)) == len(directed)
    # corners (f, v) around a vertex are linked when their faces share an edge through v
    corner = np.arange(3 * m).reshape(m, 3)
    face_of_he = np.repeat(np.arange(m), 3)
    loc = np.tile(np.arange(3), m)
    order = np.argsort(inv, kind="stable")
    inv_s = inv[order]
    same = inv_s[1:] == inv_s[:-1]
    a, b = order[:-1][same], order[1:][same]  # pairs of half-edges on one edge
    fa, fb = face_of_he[a], face_of_he[b]
    ca0, ca1 = corner[fa, loc[a]], corner[fa, (loc[a] + 1) % 3]  # corners at he[a] endpoints
    va0 = he[a, 0]
    # the corner of fb at vertex va0 and at the other endpoint
    cb = corner[fb]
    fbv = F[fb]
    cb_at_va0 = cb[np.arange(len(fb)), np.argmax(fbv == va0[:, None], axis=1)]
    cb_at_va1 = cb[np.arange(len(fb)), np.argmax(fbv == he[a, 1][:, None], axis=1)]
    rows = np.concatenate([ca0, ca1])
    cols = np.concatenate([cb_at_va0, cb_at_va1])
    from scipy.sparse.csgraph import connected_components

    g = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(3 * m, 3 * m))
    _, label = connected_components(g, directed=False)
    vert_of_corner = F.ravel()
    pairs = np.unique(np.stack([vert_of_corner, label], 1), axis=0)
    fans = np.bincount(pairs[:, 0], minlength=n)
    pinched = np.flatnonzero(fans > 1)
    unreferenced = int((fans == 0).sum())
    problems = []
    if len(bad_edges):
        problems.append(f"{len(bad_edges)} edges have more than two faces (e.g. edge {tuple(bad_edges[0])})")
    if len(pinched):
        problems.append(
            f"{len(pinched)} pinched (non-manifold) vertices where two or more fans of faces meet at a single point "
            f"(e.g. vertex {int(pinched[0])}, {int(fans[pinched[0]])} fans)"
        )
    if not oriented:
        problems.append("adjacent faces are oriented inconsistently (or the surface is not orientable)")
    return {
        "manifold": not len(bad_edges) and not len(pinched),
        "oriented": oriented,
        "nonmanifold_edges": bad_edges,
        "pinched_vertices": pinched,
        "unreferenced_vertices": unreferenced,
        "boundary_edges": int((counts == 1).sum()),
        "problem": "; ".join(problems) if problems else "none",
    }


def check_mesh(V, F) -> None:
    """Raise :class:`MeshError` / :class:`NonManifoldMeshError` unless ``(V, F)`` is a valid,
    oriented manifold triangle mesh with no degenerate faces.

    Introduced in: 4.6.
    """
    V, F = _as_mesh(V, F)
    _check_nondegenerate(np.linalg.norm(_face_cross(V, F), axis=1))
    r = manifold_report(V, F)
    if not r["manifold"] or not r["oriented"]:
        raise NonManifoldMeshError(f"not an oriented manifold mesh: {r['problem']}")


# ----------------------------------------------------------------------------------------------
# Generated shapes
# ----------------------------------------------------------------------------------------------
def icosphere(subdivisions: int = 3, radius: float = 1.0) -> Mesh:
    """The icosahedron subdivided ``subdivisions`` times and projected to the sphere
    (``20 * 4**subdivisions`` faces). Introduced in: 4.4."""
    import trimesh

    s = trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius)
    return Mesh(np.asarray(s.vertices), np.asarray(s.faces), f"icosphere({subdivisions})", "generated")


def random_sphere(n: int = 1000, seed: int = 0, radius: float = 1.0) -> Mesh:
    """A sphere triangulated through ``n`` random points (uniform on the sphere, convex hull):
    the same shape as :func:`icosphere` with an irregular mesh. Introduced in: 4.6."""
    from scipy.spatial import ConvexHull

    if n < 4:
        raise ValueError(f"need at least 4 points, got {n}")
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(n, 3))
    P = radius * P / np.linalg.norm(P, axis=1, keepdims=True)
    F = ConvexHull(P).simplices.astype(np.int64)
    # orient every face outward
    c = P[F].mean(1)
    flip = np.einsum("ij,ij->i", _face_cross(P, F), c) < 0
    F[flip] = F[flip][:, [0, 2, 1]]
    return Mesh(P, F, f"random_sphere({n})", "generated")


def torus(major: float = 1.0, minor: float = 0.4, n_major: int = 48, n_minor: int = 24) -> Mesh:
    """A torus of radii ``major`` > ``minor`` as a regular grid of ``2 n_major n_minor``
    triangles. Introduced in: 4.6."""
    if not major > minor > 0:
        raise ValueError(f"need major > minor > 0, got {major}, {minor}")
    u = 2 * np.pi * np.arange(n_major) / n_major
    v = 2 * np.pi * np.arange(n_minor) / n_minor
    U, W = np.meshgrid(u, v, indexing="ij")
    P = np.stack([(major + minor * np.cos(W)) * np.cos(U), (major + minor * np.cos(W)) * np.sin(U), minor * np.sin(W)], -1)
    idx = np.arange(n_major * n_minor).reshape(n_major, n_minor)
    a, b = idx, np.roll(idx, -1, 0)
    c, d = np.roll(idx, -1, 1), np.roll(np.roll(idx, -1, 0), -1, 1)
    F = np.concatenate([np.stack([a, b, d], -1).reshape(-1, 3), np.stack([a, d, c], -1).reshape(-1, 3)])
    return Mesh(P.reshape(-1, 3), F, "torus", "generated")


def flat_sheet(nx: int = 60, ny: int = 20, width: float = 3.0, height: float = 1.0, seed: int | None = 0) -> Mesh:
    """A flat rectangle ``[0, width] x [0, height]`` in the plane z = 0, triangulated on an
    ``nx`` by ``ny`` grid of vertices; with ``seed`` the diagonals are chosen at random (a less
    regular mesh). Bend it isometrically with :func:`roll_sheet`. Introduced in: 4.4."""
    if nx < 2 or ny < 2:
        raise ValueError(f"need at least a 2 x 2 grid, got {nx} x {ny}")
    x, y = np.meshgrid(np.linspace(0, width, nx), np.linspace(0, height, ny), indexing="ij")
    P = np.stack([x, y, np.zeros_like(x)], -1).reshape(-1, 3)
    idx = np.arange(nx * ny).reshape(nx, ny)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, 1:].ravel()
    flip = np.zeros(len(a), bool) if seed is None else np.random.default_rng(seed).random(len(a)) < 0.5
    F1 = np.where(flip[:, None], np.stack([a, b, c], 1), np.stack([a, b, d], 1))
    F2 = np.where(flip[:, None], np.stack([b, d, c], 1), np.stack([a, d, c], 1))
    return Mesh(P, np.concatenate([F1, F2]), "sheet", "generated")


def roll_sheet(mesh: Mesh, angle: float = np.pi) -> Mesh:
    """Roll a :func:`flat_sheet` around an axis parallel to y so that its x-extent covers the
    arc ``angle`` of a circle: :math:`(x, y, 0) \\mapsto (R\\sin(x/R), y, R(1-\\cos(x/R)))` with
    :math:`R = \\text{width}/\\text{angle}`. The map is an isometry of the smooth surface (lengths
    along the surface are kept), so intrinsic quantities stay while extrinsic ones change.
    Introduced in: 4.4."""
    V = mesh.vertices
    if np.abs(V[:, 2]).max() > 1e-12:
        raise ValueError("roll_sheet expects a flat sheet in the plane z = 0 (see flat_sheet)")
    if not 0 < angle <= 2 * np.pi:
        raise ValueError(f"angle must be in (0, 2*pi], got {angle}")
    x0 = V[:, 0] - V[:, 0].min()
    R = (x0.max()) / angle
    W = np.stack([R * np.sin(x0 / R), V[:, 1], R * (1 - np.cos(x0 / R))], 1)
    return mesh.copy(vertices=W, name=f"{mesh.name} rolled")


def random_rotation(seed: int | None = None) -> np.ndarray:
    """A uniformly random 3 x 3 rotation matrix (Haar measure on SO(3)). Introduced in: 4.6."""
    from scipy.spatial.transform import Rotation

    return Rotation.random(random_state=seed).as_matrix()


# ----------------------------------------------------------------------------------------------
# Basic geometry
# ----------------------------------------------------------------------------------------------
def _face_cross(V: np.ndarray, F: np.ndarray) -> np.ndarray:
    p0, p1, p2 = V[F[:, 0]], V[F[:, 1]], V[F[:, 2]]
    return np.cross(p1 - p0, p2 - p0)


def face_areas(V, F) -> np.ndarray:
    """Area of each triangle, shape ``(m,)``. Introduced in: 4.6."""
    V, F = _as_mesh(V, F)
    return 0.5 * np.linalg.norm(_face_cross(V, F), axis=1)


def face_normals(V, F) -> np.ndarray:
    """Unit normal of each triangle (right-hand rule on the vertex order), ``(m, 3)``.
    Introduced in: 4.5."""
    V, F = _as_mesh(V, F)
    c = _face_cross(V, F)
    nrm = np.linalg.norm(c, axis=1, keepdims=True)
    _check_nondegenerate(nrm[:, 0])
    return c / nrm


def corner_angles(V, F) -> np.ndarray:
    """Interior angle of each triangle at each of its corners, ``(m, 3)`` (radians).
    Introduced in: 4.6."""
    V, F = _as_mesh(V, F)
    P = V[F]
    out = np.empty(F.shape)
    for k in range(3):
        a = P[:, (k + 1) % 3] - P[:, k]
        b = P[:, (k + 2) % 3] - P[:, k]
        out[:, k] = np.arctan2(np.linalg.norm(np.cross(a, b), axis=1), np.einsum("ij,ij->i", a, b))
    return out


def vertex_normals(V, F) -> np.ndarray:
    """Unit vertex normals, the angle-weighted average of the face normals, ``(n, 3)``.
    Introduced in: 4.5."""
    V, F = _as_mesh(V, F)
    N = face_normals(V, F)
    w = corner_angles(V, F)
    out = np.zeros_like(V)
    for k in range(3):
        np.add.at(out, F[:, k], N * w[:, k : k + 1])
    nrm = np.linalg.norm(out, axis=1, keepdims=True)
    nrm[nrm == 0] = 1.0
    return out / nrm


def edges(F) -> np.ndarray:
    """Unique undirected edges ``(e, 2)`` with ``i < j``, sorted. Introduced in: 4.6."""
    F = np.asarray(F, dtype=np.int64)
    e = np.sort(np.concatenate([F[:, [0, 1]], F[:, [1, 2]], F[:, [2, 0]]]), axis=1)
    return np.unique(e, axis=0)


def boundary_edges(F) -> np.ndarray:
    """Edges with exactly one adjacent face ``(b, 2)``. Introduced in: 4.6."""
    F = np.asarray(F, dtype=np.int64)
    e = np.sort(np.concatenate([F[:, [0, 1]], F[:, [1, 2]], F[:, [2, 0]]]), axis=1)
    u, c = np.unique(e, axis=0, return_counts=True)
    return u[c == 1]


def euler_characteristic(F, n_vertices: int | None = None) -> int:
    """:math:`\\chi = V - E + F` counting the vertices used by faces (or ``n_vertices``).
    Introduced in: 4.6."""
    F = np.asarray(F, dtype=np.int64)
    nv = len(np.unique(F)) if n_vertices is None else n_vertices
    return int(nv - len(edges(F)) + len(F))


# ----------------------------------------------------------------------------------------------
# Cotangent Laplacian and mass matrices: a fast, vectorised assembly
# ----------------------------------------------------------------------------------------------
def _cot_and_area(V: np.ndarray, F: np.ndarray):
    """Cotangent of each corner angle ``(3, m)`` (row k: corner k of every face), squared
    length of the edge opposite each corner ``(3, m)`` and twice the area ``(m,)``.

    Works on contiguous per-coordinate rows (a structure of arrays), which is what makes the
    elementwise arithmetic fast on a million faces.
    """
    FT = np.ascontiguousarray(F.T)
    x, y, z = (np.ascontiguousarray(V[:, c])[FT] for c in range(3))  # (3, m) each
    ex = [x[2] - x[1], x[0] - x[2], x[1] - x[0]]  # edge opposite corner k
    ey = [y[2] - y[1], y[0] - y[2], y[1] - y[0]]
    ez = [z[2] - z[1], z[0] - z[2], z[1] - z[0]]
    m = F.shape[0]
    sq = np.empty((3, m))
    cot = np.empty((3, m))
    for k in range(3):
        i, j = (k + 1) % 3, (k + 2) % 3  # the two edges at corner k
        sq[k] = ex[k] * ex[k] + ey[k] * ey[k] + ez[k] * ez[k]
        cot[k] = -(ex[i] * ex[j] + ey[i] * ey[j] + ez[i] * ez[j])
    cx = ey[1] * ez[2] - ez[1] * ey[2]
    cy = ez[1] * ex[2] - ex[1] * ez[2]
    cz = ex[1] * ey[2] - ey[1] * ex[2]
    dbl = np.sqrt(cx * cx + cy * cy + cz * cz)
    _check_nondegenerate(dbl)
    cot /= dbl
    return cot, sq, dbl


def _sort_packed(keys: np.ndarray, key_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable sort of non-negative int64 ``keys`` < ``key_max``: (sorted keys, permutation).

    The position is packed into the low bits of the key so that a plain ``np.sort`` (much
    faster than ``np.argsort``) does the work; falls back to a stable argsort when key and
    position do not fit in 63 bits together.
    """
    N = len(keys)
    bits = max(1, int(N - 1).bit_length())
    if int(max(key_max, 1) - 1).bit_length() + bits <= 63:
        packed = keys << bits
        packed |= np.arange(N, dtype=np.int64)
        packed.sort()
        perm = packed & ((1 << bits) - 1)
        packed >>= bits
        return packed, perm
    perm = np.argsort(keys, kind="stable")
    return keys[perm], perm


def _edge_structure(F: np.ndarray, n: int) -> dict:
    """The sparsity pattern shared by the Laplacian and the full mass matrix (depends on F only).

    1. one sort of the 3m half-edge keys ``min(i,j) n + max(i,j)`` groups the (one or two)
       triangles of every edge (``perm``, ``start``: ready for ``np.add.reduceat``);
    2. the unique edges come out sorted by (i, j), i < j: that is already the upper triangle in
       CSR order; one more sort (of the e edges by j) gives the lower triangle in CSR order;
    3. the position of every entry in the final CSR arrays follows from the row counts
       (``np.bincount``), so ``indices``/``indptr`` are written directly, with no COO-to-CSR
       conversion and no duplicate summation.
    """
    FT = np.ascontiguousarray(F.T)
    a = FT[[1, 2, 0]].ravel()  # half-edge opposite corner k of face f sits at k*m + f
    b = FT[[2, 0, 1]].ravel()
    lo = np.minimum(a, b)
    hi = np.maximum(a, b)
    lo *= n
    lo += hi
    ukey, perm = _sort_packed(lo, n * n)
    first = np.empty(len(ukey), dtype=bool)
    first[0] = True
    np.not_equal(ukey[1:], ukey[:-1], out=first[1:])
    start = np.flatnonzero(first)
    ekey = ukey[start]
    ne = len(ekey)
    ei, ej = np.divmod(ekey, n)
    cnt_up = np.bincount(ei, minlength=n)
    cnt_lo = np.bincount(ej, minlength=n)
    itype = np.int32 if 2 * ne + n < 2**31 else np.int64
    indptr = np.zeros(n + 1, dtype=itype)
    np.cumsum(cnt_up + cnt_lo + 1, out=indptr[1:])
    up_ptr = np.cumsum(cnt_up) - cnt_up
    lo_ptr = np.cumsum(cnt_lo) - cnt_lo
    # lower triangle: edges sorted by (j, i); edges are already sorted by i, so a stable sort by j
    _, lo_order = _sort_packed(ej, n)
    rank = np.arange(ne, dtype=np.int64)
    pos_up = (indptr[:-1] + cnt_lo + 1 - up_ptr)[ei] + rank
    pos_lo = (indptr[:-1] - lo_ptr)[ej[lo_order]] + rank
    pos_diag = indptr[:-1] + cnt_lo
    indices = np.empty(2 * ne + n, dtype=itype)
    indices[pos_up] = ej
    indices[pos_lo] = ei[lo_order]
    indices[pos_diag] = np.arange(n, dtype=itype)
    return dict(perm=perm, start=start, ei=ei, ej=ej, lo_order=lo_order, pos_up=pos_up, pos_lo=pos_lo,
                pos_diag=pos_diag, indices=indices, indptr=indptr)


def _fill(S: dict, n: int, offdiag: np.ndarray, diag: np.ndarray, copy_pattern: bool) -> sp.csr_matrix:
    data = np.empty(len(S["indices"]))
    data[S["pos_up"]] = offdiag
    data[S["pos_lo"]] = offdiag[S["lo_order"]]
    data[S["pos_diag"]] = diag
    ind, ptr = (S["indices"].copy(), S["indptr"].copy()) if copy_pattern else (S["indices"], S["indptr"])
    A = sp.csr_matrix((data, ind, ptr), shape=(n, n), copy=False)
    A.has_sorted_indices = True
    A.has_canonical_format = True
    return A


#: Meshes with at least this many faces compute the geometry (cotangents, areas) in a second
#: thread while the main thread sorts the connectivity; NumPy releases the GIL for both.
_THREAD_MIN_FACES = 100_000


def _assemble(V: np.ndarray, F: np.ndarray, with_full_mass: bool):
    """Shared work of :func:`laplacian_and_mass`: returns (L, cot, sq, dbl, Mfull or None).

    The geometry (:func:`_cot_and_area`, depends on V and F) and the sparsity pattern
    (:func:`_edge_structure`, depends on F only) are independent, so on large meshes they run
    concurrently.
    """
    n, m = len(V), len(F)
    if m >= _THREAD_MIN_FACES:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as pool:
            geometry = pool.submit(_cot_and_area, V, F)
            S = _edge_structure(F, n)
            cot, sq, dbl = geometry.result()
    else:
        cot, sq, dbl = _cot_and_area(V, F)
        S = _edge_structure(F, n)
    w = np.add.reduceat(cot.ravel()[S["perm"]], S["start"])
    w *= 0.5  # edge weight (cot alpha + cot beta) / 2
    diag = np.bincount(S["ei"], weights=w, minlength=n)
    diag += np.bincount(S["ej"], weights=w, minlength=n)
    Mfull = None
    if with_full_mass:
        wm = np.add.reduceat(np.repeat(dbl[None, :] / 24.0, 3, axis=0).ravel()[S["perm"]], S["start"])  # area / 12
        mdiag = np.bincount(F.ravel(), weights=np.repeat(dbl / 12.0, 3), minlength=n)  # area / 6
        Mfull = _fill(S, n, wm, mdiag, copy_pattern=True)
    np.negative(w, out=w)
    L = _fill(S, n, w, diag, copy_pattern=False)
    return L, cot, sq, dbl, Mfull


def _lumped_mass(F: np.ndarray, n: int, cot: np.ndarray, sq: np.ndarray, dbl: np.ndarray, kind: str) -> np.ndarray:
    """Lumped mass diagonal; ``cot`` and ``sq`` are (3, m) as from :func:`_cot_and_area`."""
    FT = np.ascontiguousarray(F.T).ravel()
    if kind == "barycentric":
        return np.bincount(FT, weights=np.tile(dbl / 6.0, 3), minlength=n)
    if kind == "voronoi":
        # mixed Voronoi areas (Meyer et al. 2003): the Voronoi part in non-obtuse triangles,
        # A/2 at an obtuse corner and A/4 at the other two corners of an obtuse triangle.
        A = dbl / 2
        corner = np.empty((3, len(dbl)))
        for k in range(3):
            i, j = (k + 1) % 3, (k + 2) % 3  # the edges at corner k are opposite corners i and j
            corner[k] = (sq[i] * cot[i] + sq[j] * cot[j]) / 8
        obtuse = cot < 0
        any_obt = obtuse.any(0)
        if any_obt.any():
            fix = np.where(obtuse[:, any_obt], A[any_obt] / 2, A[any_obt] / 4)
            corner[:, any_obt] = fix
        return np.bincount(FT, weights=corner.ravel(), minlength=n)
    raise ValueError(f"mass kind must be 'barycentric', 'voronoi' or 'full', got {kind!r}")


def laplacian_and_mass(V, F, mass: str = "barycentric") -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The cotangent Laplacian :math:`L` and a mass matrix :math:`M`, sharing their work.

    .. math::
        L_{ij} = -\\tfrac12(\\cot\\alpha_{ij}+\\cot\\beta_{ij})\\ (i\\sim j), \\qquad
        L_{ii} = -\\sum_{j\\ne i} L_{ij},

    with :math:`\\alpha_{ij}, \\beta_{ij}` the angles opposite edge :math:`ij` (one at a
    boundary). Mass matrices: ``"barycentric"`` (lumped, :math:`M_{ii}` = a third of the area of
    the faces at :math:`i`), ``"voronoi"`` (lumped, mixed Voronoi areas, libigl's default), or
    ``"full"`` (the consistent linear-FEM mass, :math:`M_{ij} = \\sum_{f\\ni i,j} A_f/12`,
    :math:`M_{ii} = \\sum_{f\\ni i} A_f/6`).

    The assembly builds the CSR arrays directly: the edge keys are sorted once (positions
    packed into the keys so a plain sort replaces an argsort), both triangles' cotangents of an
    edge are summed with ``np.add.reduceat``, the diagonal comes from ``np.bincount``, and the
    full mass matrix reuses the sparsity pattern. No COO-to-CSR duplicate summation.

    Shapes:
        V: (n, 3) float; F: (m, 3) int. Returns two (n, n) ``scipy.sparse.csr_matrix``.

    Introduced in: 4.6.
    """
    V, F = _as_mesh(V, F)
    if mass not in ("barycentric", "voronoi", "full"):
        raise ValueError(f"mass must be 'barycentric', 'voronoi' or 'full', got {mass!r}")
    n = len(V)
    L, cot, sq, dbl, Mfull = _assemble(V, F, mass == "full")
    if mass == "full":
        return L, Mfull
    d = _lumped_mass(F, n, cot, sq, dbl, mass)
    idx = np.arange(n, dtype=L.indices.dtype)
    M = sp.csr_matrix((d, idx, np.arange(n + 1, dtype=idx.dtype)), shape=(n, n))
    return L, M


def cotangent_laplacian(V, F) -> sp.csr_matrix:
    """The positive semi-definite cotangent Laplacian (see :func:`laplacian_and_mass`;
    equals ``-igl.cotmatrix(V, F)``).

    Shapes:
        V: (n, 3); F: (m, 3). Returns an (n, n) ``csr_matrix``.

    Introduced in: 4.4.
    """
    V, F = _as_mesh(V, F)
    return _assemble(V, F, False)[0]


def mass_matrix(V, F, kind: str = "barycentric") -> sp.csr_matrix:
    """Mass matrix ``kind`` in ``{"barycentric", "voronoi", "full"}`` (see
    :func:`laplacian_and_mass`). ``"voronoi"`` equals ``igl.massmatrix(V, F)`` (its default).

    Shapes:
        V: (n, 3); F: (m, 3). Returns an (n, n) ``csr_matrix``.

    Introduced in: 4.4.
    """
    V, F = _as_mesh(V, F)
    n = len(V)
    if kind == "full":
        return _assemble(V, F, True)[4]
    cot, sq, dbl = _cot_and_area(V, F)
    return sp.diags(_lumped_mass(F, n, cot, sq, dbl, kind)).tocsr()


# ----------------------------------------------------------------------------------------------
# Spectrum, heat
# ----------------------------------------------------------------------------------------------
def laplacian_eigs(L: sp.spmatrix, M: sp.spmatrix, k: int = 20, sigma: float = -1e-8) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` smallest eigenpairs of :math:`L\\phi = \\lambda M\\phi` (Laplace–Beltrami).

    Solved by shift-invert Lanczos about ``sigma`` (slightly below 0, since :math:`L` is
    singular on a closed mesh), with a fixed start vector and a margin of extra eigenpairs so
    that degenerate clusters are found whole. Eigenvectors are :math:`M`-orthonormal,
    :math:`\\Phi^\\top M\\Phi = I`, and eigenvalues ascend.

    Shapes:
        L, M: (n, n). Returns ``evals`` (k,) and ``evecs`` (n, k).

    Introduced in: 4.4.
    """
    n = L.shape[0]
    if L.shape != (n, n) or M.shape != (n, n):
        raise ValueError(f"L and M must be square of the same size, got {L.shape} and {M.shape}")
    if not 0 < k < n - 1:
        raise ValueError(f"k must be in [1, {n - 2}] for {n} vertices, got {k}")
    # Lanczos can miss one copy of a degenerate eigenvalue (the 2l+1-fold clusters of a sphere):
    # ask for a margin of extra pairs and keep the k smallest. The start vector is fixed, so the
    # result does not depend on ARPACK's internal random state (which advances call by call).
    k_solve = min(n - 2, k + max(5, k // 2))
    v0 = np.random.default_rng(0).standard_normal(n)
    evals, evecs = spla.eigsh(L.tocsc(), k=k_solve, M=M.tocsc(), sigma=sigma, which="LM", v0=v0)
    order = np.argsort(evals)[:k]
    evals, evecs = evals[order], evecs[:, order]
    # fix signs for reproducibility: largest-magnitude entry positive
    s = np.sign(evecs[np.argmax(np.abs(evecs), axis=0), np.arange(k)])
    return evals, evecs * s


def heat_diffusion(L: sp.spmatrix, M: sp.spmatrix, u0: np.ndarray, t: float, steps: int = 1) -> np.ndarray:
    """Diffuse ``u0`` for time ``t`` by ``steps`` backward-Euler steps,
    :math:`(M + \\tfrac{t}{s}L)\\,u_{k+1} = M u_k` (unconditionally stable).

    Shapes:
        u0: (n,) or (n, c). Returns the same shape.

    Introduced in: 4.4.
    """
    u = np.asarray(u0, dtype=float)
    if u.shape[0] != L.shape[0]:
        raise ValueError(f"u0 must have {L.shape[0]} rows (one per vertex), got {u.shape}")
    if t < 0 or steps < 1:
        raise ValueError("need t >= 0 and steps >= 1")
    solve = spla.factorized((M + (t / steps) * L).tocsc())
    for _ in range(steps):
        rhs = M @ u
        u = solve(rhs) if u.ndim == 1 else np.stack([solve(rhs[:, c]) for c in range(u.shape[1])], 1)
    return u


def heat_kernel(evals: np.ndarray, evecs: np.ndarray, t: float) -> np.ndarray:
    """Truncated heat kernel :math:`k_t(x, y) = \\sum_k e^{-\\lambda_k t}\\phi_k(x)\\phi_k(y)`.

    Multiply by the mass matrix to diffuse: :math:`u_t = K_t M u_0`.

    Shapes:
        evals: (k,); evecs: (n, k). Returns (n, n).

    Introduced in: 4.4.
    """
    return (evecs * np.exp(-evals * t)) @ evecs.T


def heat_kernel_signature(evals: np.ndarray, evecs: np.ndarray, times: Sequence[float]) -> np.ndarray:
    """Heat kernel signature :math:`\\mathrm{HKS}(x, t) = k_t(x, x) = \\sum_k e^{-\\lambda_k t}\\phi_k(x)^2`
    (Sun, Ovsjanikov & Guibas 2009): an intrinsic, isometry-invariant point descriptor.

    Shapes:
        evals: (k,); evecs: (n, k); times: (T,). Returns (n, T).

    Introduced in: 4.4.
    """
    times = np.asarray(times, dtype=float)
    return (evecs**2) @ np.exp(-np.outer(evals, times))


# ----------------------------------------------------------------------------------------------
# Gradient, divergence and the heat method
# ----------------------------------------------------------------------------------------------
def gradient(V, F, u: np.ndarray) -> np.ndarray:
    """Per-face gradient of the piecewise-linear function with vertex values ``u``:
    :math:`\\nabla u|_f = \\frac{1}{2A_f}\\sum_{i\\in f} u_i\\,(N_f\\times e_i)`, with :math:`e_i` the
    edge opposite :math:`i` (counter-clockwise).

    Shapes:
        u: (n,). Returns (m, 3).

    Introduced in: 4.4.
    """
    V, F = _as_mesh(V, F)
    u = np.asarray(u, dtype=float)
    if u.shape != (len(V),):
        raise ValueError(f"u must have shape ({len(V)},), got {u.shape}")
    c = _face_cross(V, F)
    dbl = np.linalg.norm(c, axis=1)
    N = c / dbl[:, None]
    P = V[F]
    g = np.zeros((len(F), 3))
    for k in range(3):
        e = P[:, (k + 2) % 3] - P[:, (k + 1) % 3]
        g += u[F[:, k], None] * np.cross(N, e)
    return g / dbl[:, None]


def divergence(V, F, X: np.ndarray) -> np.ndarray:
    """Integrated divergence at the vertices of the per-face vector field ``X``:
    :math:`(\\nabla\\cdot X)_i = \\tfrac12\\sum_{f\\ni i}\\cot\\theta_1\\langle e_1, X_f\\rangle + \\cot\\theta_2\\langle e_2, X_f\\rangle`
    (:math:`e_{1,2}` the edges of :math:`f` leaving :math:`i`, :math:`\\theta_{1,2}` their opposite angles).
    It is the adjoint of :func:`gradient`: ``divergence(gradient(u)) == -L u``.

    Shapes:
        X: (m, 3). Returns (n,).

    Introduced in: 4.4.
    """
    V, F = _as_mesh(V, F)
    X = np.asarray(X, dtype=float)
    if X.shape != F.shape:
        raise ValueError(f"X must have shape {F.shape} (one 3-vector per face), got {X.shape}")
    cot, _, _ = _cot_and_area(V, F)
    P = V[F]
    out = np.zeros(len(V))
    for k in range(3):
        i, j, l = k, (k + 1) % 3, (k + 2) % 3
        e1 = P[:, j] - P[:, i]  # opposite corner l
        e2 = P[:, l] - P[:, i]  # opposite corner j
        val = 0.5 * (cot[l] * np.einsum("ij,ij->i", e1, X) + cot[j] * np.einsum("ij,ij->i", e2, X))
        out += np.bincount(F[:, i], weights=val, minlength=len(V))
    return out


class HeatMethodGeodesics:
    """Geodesic distances by the heat method (Crane, Weischedel & Wardetzky 2013), factorised once.

    1. diffuse a spike at the source for a short time :math:`t` (default: mean edge length
       squared): :math:`(M + tL)u = \\delta_s`;
    2. normalise its gradient: :math:`X = -\\nabla u / \\lVert\\nabla u\\rVert` (unit vectors
       pointing away from the source);
    3. find the function whose gradient best matches :math:`X`: :math:`L\\phi = -\\nabla\\cdot X`,
       and shift it to vanish at the source.

    Introduced in: 4.4.
    """

    def __init__(self, V, F, t: float | None = None) -> None:
        self.V, self.F = _as_mesh(V, F)
        L, M = laplacian_and_mass(self.V, self.F)
        E = edges(self.F)
        h = np.linalg.norm(self.V[E[:, 1]] - self.V[E[:, 0]], axis=1).mean()  # mean edge length
        self.t = h**2 if t is None else float(t)
        self._heat = spla.factorized((M + self.t * L).tocsc())
        self._poisson = spla.factorized((L + 1e-10 * M).tocsc())
        self._M = M.diagonal()

    def distance(self, sources: int | Sequence[int]) -> np.ndarray:
        """Geodesic distance from the vertex (or nearest of the vertices) ``sources``, shape (n,)."""
        src = np.atleast_1d(np.asarray(sources, dtype=np.int64))
        n = len(self.V)
        if src.size == 0 or src.min() < 0 or src.max() >= n:
            raise ValueError(f"sources must be vertex indices in [0, {n - 1}], got {src}")
        delta = np.zeros(n)
        delta[src] = 1.0
        u = self._heat(delta)
        g = gradient(self.V, self.F, u)
        nrm = np.linalg.norm(g, axis=1, keepdims=True)
        nrm[nrm == 0] = 1.0
        X = -g / nrm
        phi = self._poisson(-divergence(self.V, self.F, X))
        return phi - phi[src].mean()


def heat_geodesic_distance(V, F, sources: int | Sequence[int], t: float | None = None) -> np.ndarray:
    """Geodesic distance from ``sources`` by the heat method (see :class:`HeatMethodGeodesics`).

    Shapes:
        V: (n, 3); F: (m, 3). Returns (n,).

    Introduced in: 4.4.
    """
    return HeatMethodGeodesics(V, F, t).distance(sources)


# ----------------------------------------------------------------------------------------------
# Curvature
# ----------------------------------------------------------------------------------------------
def angle_defect(V, F) -> np.ndarray:
    """Discrete (integrated) Gaussian curvature: :math:`K_i = 2\\pi - \\sum_{f\\ni i}\\theta_i^f`
    at interior vertices and :math:`\\pi - \\sum_f \\theta_i^f` (the discrete geodesic curvature
    of the boundary) at boundary vertices. Discrete Gauss–Bonnet: :math:`\\sum_i K_i = 2\\pi\\chi`.

    Shapes:
        V: (n, 3); F: (m, 3). Returns (n,) (zero at unreferenced vertices).

    Introduced in: 4.6.
    """
    V, F = _as_mesh(V, F)
    n = len(V)
    total = np.bincount(F.ravel(), weights=corner_angles(V, F).ravel(), minlength=n)
    used = np.bincount(F.ravel(), minlength=n) > 0
    full = np.where(used, 2 * np.pi, 0.0)
    b = boundary_edges(F)
    if len(b):
        full[np.unique(b)] = np.pi
    return full - total


def gaussian_curvature(V, F) -> np.ndarray:
    """Pointwise Gaussian curvature estimate: angle defect divided by the barycentric area
    (interior vertices; boundary vertices get the boundary term divided by area).

    Shapes:
        Returns (n,). Introduced in: 4.6.
    """
    V, F = _as_mesh(V, F)
    area = np.bincount(F.ravel(), weights=np.repeat(face_areas(V, F) / 3, 3), minlength=len(V))
    area[area == 0] = 1.0
    return angle_defect(V, F) / area


def mean_curvature(V, F) -> np.ndarray:
    """Signed mean curvature :math:`H = \\tfrac12\\langle (M^{-1}LV)_i, N_i\\rangle`, using the
    mean-curvature normal :math:`-\\Delta x = 2Hn` (positive on a sphere with outward normals,
    :math:`H = 1/r`).

    Shapes:
        Returns (n,). Introduced in: 4.6.
    """
    V, F = _as_mesh(V, F)
    L, M = laplacian_and_mass(V, F, mass="voronoi")
    Hn = (L @ V) / M.diagonal()[:, None]
    return 0.5 * np.einsum("ij,ij->i", Hn, vertex_normals(V, F))


# ----------------------------------------------------------------------------------------------
# Tangent frames, gauges and parallel transport
# ----------------------------------------------------------------------------------------------
def vertex_tangent_frames(V, F, reference: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A gauge at every vertex: an orthonormal frame ``(e1, e2)`` of the tangent plane and the
    normal ``n`` (angle-weighted), with ``e1`` the projection of ``reference`` (default: the
    direction to the first neighbour of the first face at the vertex) and ``e2 = n x e1``.

    A different ``reference`` gives a different gauge of the same tangent bundle.

    Shapes:
        reference: (n, 3) or (3,) or None. Returns ``e1, e2, n``, each (n, 3).

    Introduced in: 4.5.
    """
    V, F = _as_mesh(V, F)
    N = vertex_normals(V, F)
    if reference is None:
        ref = np.zeros_like(V)
        ref[F[:, 0]] = V[F[:, 1]] - V[F[:, 0]]
        ref[F[:, 1]] = V[F[:, 2]] - V[F[:, 1]]
        ref[F[:, 2]] = V[F[:, 0]] - V[F[:, 2]]
    else:
        ref = np.broadcast_to(np.asarray(reference, dtype=float), V.shape).copy()
    e1 = ref - np.einsum("ij,ij->i", ref, N)[:, None] * N
    nrm = np.linalg.norm(e1, axis=1)
    bad = nrm < 1e-12
    if bad.any():  # reference parallel to the normal: pick any perpendicular direction
        alt = np.cross(N[bad], np.where(np.abs(N[bad, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]]))
        e1[bad], nrm[bad] = alt, np.linalg.norm(alt, axis=1)
    e1 = e1 / nrm[:, None]
    return e1, np.cross(N, e1), N


def face_tangent_frames(V, F) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A gauge on every face: ``e1`` along the face's first edge, ``e2 = n x e1``, ``n`` the
    face normal. Each face is flat, so its tangent plane is its own plane.

    Shapes:
        Returns ``e1, e2, n``, each (m, 3). Introduced in: 4.5.
    """
    V, F = _as_mesh(V, F)
    n = face_normals(V, F)
    e1 = V[F[:, 1]] - V[F[:, 0]]
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    return e1, np.cross(n, e1), n


def face_adjacency(F) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of faces sharing an edge and the shared edge.

    Returns:
        ``pairs`` (k, 2) face indices and ``shared`` (k, 2) the vertex indices of the edge,
        oriented as in the first face of the pair.

    Introduced in: 4.5.
    """
    F = np.asarray(F, dtype=np.int64)
    m = len(F)
    a = F.ravel()
    b = F[:, [1, 2, 0]].ravel()
    n = int(F.max()) + 1
    key = np.minimum(a, b) * n + np.maximum(a, b)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    same = np.flatnonzero(ks[1:] == ks[:-1])
    h1, h2 = order[same], order[same + 1]
    pairs = np.stack([h1 // 3, h2 // 3], 1)
    shared = np.stack([a[h1], b[h1]], 1)
    return pairs, shared


def _angle_in_frame(v: np.ndarray, e1: np.ndarray, e2: np.ndarray) -> np.ndarray:
    return np.arctan2(np.einsum("ij,ij->i", v, e2), np.einsum("ij,ij->i", v, e1))


def transport_angles(V, F) -> tuple[np.ndarray, np.ndarray]:
    """The discrete Levi-Civita connection between adjacent faces (unfold across the edge).

    A tangent vector at angle :math:`\\varphi` in the gauge of face :math:`f` (see
    :func:`face_tangent_frames`) is carried across the shared edge to angle
    :math:`\\varphi + \\rho_{fg}` in the gauge of face :math:`g`, with
    :math:`\\rho_{fg} = \\angle_g(e) - \\angle_f(e)` the difference of the angles the shared edge
    :math:`e` makes with each face's ``e1``. Unfolding the two faces into a common plane keeps
    the angle to the edge, hence this rule. :math:`\\rho_{gf} = -\\rho_{fg}`.

    Returns:
        ``pairs`` (k, 2) adjacent faces (see :func:`face_adjacency`) and ``rho`` (k,).

    Introduced in: 4.5.
    """
    V, F = _as_mesh(V, F)
    e1, e2, _ = face_tangent_frames(V, F)
    pairs, shared = face_adjacency(F)
    e = V[shared[:, 1]] - V[shared[:, 0]]
    f, g = pairs[:, 0], pairs[:, 1]
    rho = _angle_in_frame(e, e1[g], e2[g]) - _angle_in_frame(e, e1[f], e2[f])
    return pairs, np.angle(np.exp(1j * rho))


def face_loop_around(F, vertices: Sequence[int]) -> np.ndarray:
    """The closed loop of faces surrounding a disc-like set of vertices, in order.

    The loop crosses exactly the edges with one endpoint inside the set and one outside, so it
    visits the faces having vertices on both sides. It is oriented counter-clockwise seen from
    outside the surface (the side the normals point to), so that :func:`holonomy` along it
    equals :math:`+\\sum K` of the enclosed vertices.

    Returns:
        The loop's face indices (k,), the first face not repeated at the end.

    Introduced in: 4.5.
    """
    F = np.asarray(F, dtype=np.int64)
    inside = np.zeros(int(F.max()) + 1, bool)
    vs = np.asarray(vertices, dtype=np.int64)
    if vs.size == 0 or vs.min() < 0 or vs.max() >= len(inside):
        raise ValueError("vertices must be a non-empty list of valid vertex indices")
    inside[vs] = True
    ins = inside[F]
    mixed = np.flatnonzero(ins.any(1) & ~ins.all(1))
    if len(mixed) == 0:
        raise ValueError("no face has vertices both inside and outside the set: it covers a whole component")
    # in each mixed face, the half-edge going from outside to inside (ccw order) leads to the next
    # face (the one holding the reversed half-edge): this walks ccw around the set.
    nxt_key = {}
    for f in mixed:
        for k in range(3):
            a, b = F[f, k], F[f, (k + 1) % 3]
            if not inside[a] and inside[b]:
                nxt_key[f] = (b, a)
    he_face = {(int(F[f, k]), int(F[f, (k + 1) % 3])): f for f in mixed for k in range(3)}
    loop = [int(mixed[0])]
    for _ in range(len(mixed) + 1):
        a, b = nxt_key[loop[-1]]
        g = he_face.get((int(a), int(b)))
        if g is None:
            raise ValueError("the vertex set touches the boundary of the mesh: its surrounding loop is not closed")
        if g == loop[0]:
            break
        loop.append(int(g))
    else:  # pragma: no cover
        raise ValueError("could not close the loop")
    if len(loop) != len(mixed):
        raise ValueError(
            f"the faces around the set form more than one loop ({len(loop)} of {len(mixed)} faces visited): "
            "pass a connected, disc-like set of vertices"
        )
    return np.asarray(loop)


def holonomy(V, F, loop: Sequence[int]) -> float:
    """The angle (in :math:`(-\\pi, \\pi]`) by which parallel transport around the closed loop of
    faces ``loop`` rotates a tangent vector: the sum of :func:`transport_angles` along the loop.
    By the discrete Gauss–Bonnet theorem it equals the total angle defect enclosed (mod
    :math:`2\\pi`) for a counter-clockwise loop (see :func:`face_loop_around`).

    Introduced in: 4.5.
    """
    V, F = _as_mesh(V, F)
    loop = np.asarray(loop, dtype=np.int64)
    pairs, rho = transport_angles(V, F)
    m = len(F)
    lookup = {}
    for (f, g), r in zip(pairs.tolist(), rho.tolist()):
        lookup[(f, g)] = r
        lookup[(g, f)] = -r
    total = 0.0
    for f, g in zip(loop.tolist(), np.roll(loop, -1).tolist()):
        if (f, g) not in lookup:
            raise ValueError(f"faces {f} and {g} of the loop are not adjacent (of {m} faces)")
        total += lookup[(f, g)]
    return float(np.angle(np.exp(1j * total)))


def transport_along(V, F, path: Sequence[int], angle: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Parallel-transport a unit tangent vector along a path of adjacent faces.

    The vector starts at angle ``angle`` in the gauge of ``path[0]`` (see
    :func:`face_tangent_frames`) and is carried across each shared edge by
    :func:`transport_angles`. For a closed loop pass the first face again at the end: the final
    angle minus the first is the :func:`holonomy` (mod :math:`2\\pi`).

    Returns:
        ``angles`` (k,) in each face's own gauge and ``vectors`` (k, 3) the same unit vectors in
        :math:`\\R^3` (tangent to each face).

    Introduced in: 4.5.
    """
    V, F = _as_mesh(V, F)
    path = np.asarray(path, dtype=np.int64)
    if path.ndim != 1 or len(path) == 0 or path.min() < 0 or path.max() >= len(F):
        raise ValueError(f"path must be a non-empty list of face indices in [0, {len(F) - 1}]")
    pairs, rho = transport_angles(V, F)
    lookup = {}
    for (f, g), r in zip(pairs.tolist(), rho.tolist()):
        lookup[(f, g)] = r
        lookup[(g, f)] = -r
    angles = [float(angle)]
    for f, g in zip(path[:-1].tolist(), path[1:].tolist()):
        if (f, g) not in lookup:
            raise ValueError(f"faces {f} and {g} of the path are not adjacent")
        angles.append(angles[-1] + lookup[(f, g)])
    angles = np.asarray(angles)
    e1, e2, _ = face_tangent_frames(V, F)
    vec = np.cos(angles)[:, None] * e1[path] + np.sin(angles)[:, None] * e2[path]
    return angles, vec


def vertex_transport_angles(V, F, frames: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Connection angles between vertex gauges: parallel transport along the mesh edges.

    Transport from vertex :math:`i` to a neighbour :math:`j` rotates the tangent plane at
    :math:`i` onto the one at :math:`j` by the smallest rotation taking the normal
    :math:`n_i` to :math:`n_j` (the discrete Levi-Civita connection used by gauge-equivariant
    mesh CNNs). A vector at angle :math:`\\varphi` in the gauge of :math:`i` arrives at angle
    :math:`\\varphi + \\rho_{ij}` in the gauge of :math:`j`; :math:`\\rho_{ji} = -\\rho_{ij}`, and
    rotating the gauges by angles :math:`g` changes :math:`\\rho_{ij}` to
    :math:`\\rho_{ij} + g_i - g_j`.

    Args:
        frames: ``(e1, e2, n)`` from :func:`vertex_tangent_frames` (computed if None).

    Returns:
        ``edges`` (k, 2) with ``i < j`` (see :func:`edges`) and ``rho`` (k,) for transport i -> j.

    Introduced in: 4.5.
    """
    V, F = _as_mesh(V, F)
    e1, e2, n = vertex_tangent_frames(V, F) if frames is None else frames
    E = edges(F)
    i, j = E[:, 0], E[:, 1]
    a, b, x = n[i], n[j], e1[i]
    c = np.einsum("ij,ij->i", a, b)
    if np.any(c <= -1 + 1e-12):
        raise MeshError("two neighbouring vertex normals point in opposite directions: transport is undefined there")
    k = np.cross(a, b)  # R x = c x + k x x + k (k.x) / (1 + c): the rotation taking a to b
    Rx = c[:, None] * x + np.cross(k, x) + k * (np.einsum("ij,ij->i", k, x) / (1 + c))[:, None]
    rho = np.arctan2(np.einsum("ij,ij->i", Rx, e2[j]), np.einsum("ij,ij->i", Rx, e1[j]))
    return E, rho


def vertex_ring(F, v: int) -> np.ndarray:
    """The neighbours of an interior vertex ``v`` in counter-clockwise order (its link).

    Introduced in: 4.5.
    """
    F = np.asarray(F, dtype=np.int64)
    loop = face_loop_around(F, [v])
    pos = np.argmax(F[loop] == v, axis=1)
    return F[loop, (pos + 1) % 3]


def vertex_holonomy(V, F, cycle: Sequence[int], frames: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> float:
    """Rotation angle in :math:`(-\\pi, \\pi]` of transport around a closed cycle of vertices
    (consecutive vertices adjacent, the last joined to the first) with
    :func:`vertex_transport_angles`. It does not depend on the gauges, and approximates the
    enclosed Gaussian curvature (exactly zero on a flat mesh).

    Introduced in: 4.5.
    """
    V, F = _as_mesh(V, F)
    E, rho = vertex_transport_angles(V, F, frames)
    n = len(V)
    key = E[:, 0] * n + E[:, 1]
    cyc = np.asarray(cycle, dtype=np.int64)
    a, b = cyc, np.roll(cyc, -1)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    idx = np.searchsorted(key, lo * n + hi)
    idx = np.minimum(idx, len(key) - 1)
    if np.any(key[idx] != lo * n + hi):
        raise ValueError("consecutive vertices of the cycle must be joined by an edge")
    total = np.where(a < b, rho[idx], -rho[idx]).sum()
    return float(np.angle(np.exp(1j * total)))
