"""Triangle meshes as discrete manifolds: loading, operators, curvature, transport.

A mesh is a pair ``(V, F)``: vertex positions ``V`` of shape ``(n, 3)`` and triangles ``F`` of
shape ``(m, 3)`` (vertex indices, counter-clockwise seen from outside). Functions take these
two NumPy arrays; :class:`Mesh` bundles them with a name and a credit line.

Sign convention: :func:`cotangent_laplacian` returns the **positive semi-definite** weak
Laplacian :math:`L` (the stiffness matrix of linear finite elements),

.. math:: (Lu)_i = \\tfrac12 \\sum_{j \\sim i} (\\cot\\alpha_{ij} + \\cot\\beta_{ij})\\,(u_i - u_j),

so that :math:`u^\\top L u = \\int \\lVert \\nabla u \\rVert^2`, and the Laplace–Beltrami operator,
taken positive semi-definite as in ``CONVENTIONS.md``, is

.. math:: \\Delta = -\\operatorname{div}\\nabla \\approx M^{-1}L,

with :math:`M` a mass matrix (:func:`mass_matrix`). Applied to the embedding :math:`x` it gives
the mean-curvature normal, :math:`\\Delta x = 2Hn` with :math:`n` the outward normal and
:math:`H > 0` on a sphere (:func:`mean_curvature`). libigl's ``igl.cotmatrix`` is :math:`-L`;
``robust_laplacian.mesh_laplacian`` returns :math:`L`.

The module works in NumPy/SciPy (as libigl and potpourri3d do), not torch. Sections, in order:

1. validation (:class:`MeshError`, :class:`NonManifoldMeshError`);
2. the :class:`Mesh` container, :func:`load_mesh`, :func:`manifold_report`, :func:`check_mesh`;
3. generated shapes (:func:`icosphere`, :func:`random_sphere`, :func:`torus`,
   :func:`flat_sheet`, :func:`roll_sheet`, :func:`random_rotation`);
4. basic geometry (areas, normals, angles, :func:`edges`, :func:`euler_characteristic`);
5. the cotangent Laplacian and mass matrices (:func:`laplacian_and_mass`);
6. spectrum and heat (:func:`laplacian_eigs`, :func:`heat_diffusion`, :func:`heat_kernel`);
7. gradient, divergence and geodesic distances by the heat method;
8. curvature (:func:`angle_defect`, :func:`gaussian_curvature`, :func:`mean_curvature`);
9. tangent frames, gauges and parallel transport (:func:`transport_angles`, :func:`holonomy`).

Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds` (geodesics and manifolds); used in 4.5, 4.6 and 5.6.
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
    """The arrays given do not describe a valid triangle mesh.

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """


class NonManifoldMeshError(MeshError):
    """The mesh is not a 2-manifold (an edge with more than two faces, or a pinched vertex).

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """


# ----------------------------------------------------------------------------------------------
# 1. Validation
# ----------------------------------------------------------------------------------------------
def _numeric_array(a, expected: str) -> np.ndarray:
    """``a`` (array-like or torch tensor) as a NumPy array of integers or floats, else MeshError."""
    if hasattr(a, "detach"):  # a torch tensor
        a = a.detach().cpu().numpy()
    a = np.asarray(a)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise MeshError(f"{expected}, got dtype {a.dtype}")
    return a


def _as_faces(F, num_vertices: int | None = None) -> np.ndarray:
    """Check that ``F`` is an (m, 3) array of vertex indices in ``[0, num_vertices)``; int64 copy."""
    F = _numeric_array(F, "faces must be an integer array of vertex indices of shape (m, 3)")
    if F.ndim != 2 or F.shape[1] != 3:
        hint = " (quads: split each into two triangles, e.g. trimesh.geometry.triangulate_quads)" if F.ndim == 2 and F.shape[1] == 4 else ""
        raise MeshError(f"faces must have shape (m, 3) (triangles only){hint}, got shape {F.shape}")
    if len(F) == 0:
        raise MeshError("the mesh has no faces (faces has shape (0, 3))")
    if not np.issubdtype(F.dtype, np.integer):
        if not np.all(np.isfinite(F)) or np.any(F != np.round(F)):
            raise MeshError(f"faces must hold integer vertex indices, got non-integer values of dtype {F.dtype}")
    F = np.ascontiguousarray(F, dtype=np.int64)
    lo, hi = int(F.min()), int(F.max())
    if lo < 0:
        raise MeshError(
            f"face indices must be non-negative vertex indices, found {lo} (a -1 used as padding? drop those faces)"
        )
    if num_vertices is not None and hi >= num_vertices:
        raise MeshError(
            f"face indices must lie in [0, {num_vertices - 1}] for {num_vertices} vertices, found range [{lo}, {hi}]"
        )
    return F


def _as_mesh(V, F) -> tuple[np.ndarray, np.ndarray]:
    """Check shapes, dtypes and index ranges; return float64 ``V`` and int64 ``F``."""
    if isinstance(V, Mesh):
        V, F = V.vertices, V.faces
    V = _numeric_array(V, "vertices must be a real array of shape (n, 3)")
    if V.ndim != 2 or V.shape[1] != 3:
        raise MeshError(f"vertices must have shape (n, 3) (3-D positions), got shape {V.shape}")
    V = np.ascontiguousarray(V, dtype=np.float64)
    if not np.all(np.isfinite(V)):
        raise MeshError("vertex positions must be finite (found NaN or inf)")
    F = _as_faces(F, len(V))
    bad = (F[:, 0] == F[:, 1]) | (F[:, 1] == F[:, 2]) | (F[:, 0] == F[:, 2])
    if bad.any():
        raise MeshError(
            f"{int(bad.sum())} faces repeat a vertex (e.g. face {int(np.flatnonzero(bad)[0])}); "
            "remove them first (trimesh: mesh.update_faces(mesh.nondegenerate_faces()))"
        )
    return V, F


def _coincident_vertices(V: np.ndarray, F: np.ndarray) -> np.ndarray:
    """Referenced vertices that share their exact position with another referenced vertex."""
    used = np.flatnonzero(np.bincount(F.ravel(), minlength=len(V)))
    # only rows whose first coordinate is shared can coincide: sort by x, then compare those rows fully
    order = np.argsort(V[used, 0], kind="stable")
    x = V[used[order], 0]
    tie = np.zeros(len(x), bool)
    tie[1:] |= x[1:] == x[:-1]
    tie[:-1] |= x[1:] == x[:-1]
    candidates = used[order[tie]]
    P = V[candidates]
    rows = np.lexsort(P.T[::-1])
    same = np.all(P[rows[1:]] == P[rows[:-1]], axis=1)
    dup = np.zeros(len(candidates), bool)
    dup[rows[1:][same]] = True
    dup[rows[:-1][same]] = True
    return np.sort(candidates[dup])


def _check_welded(V: np.ndarray, F: np.ndarray) -> None:
    dup = _coincident_vertices(V, F)
    if len(dup):
        raise MeshError(
            f"{len(dup)} vertices sit exactly on top of another vertex (e.g. vertex {int(dup[0])}): the surface "
            "is cut open along them, which changes every intrinsic quantity (spectrum, curvature, transport). "
            "Weld them first: load_mesh welds; for arrays use trimesh.Trimesh(V, F).merge_vertices()"
        )


def _check_referenced(mass_diagonal: np.ndarray, what: str) -> None:
    """Every vertex must belong to a face: an unreferenced vertex has zero mass and a zero row in L."""
    lonely = np.flatnonzero(~(mass_diagonal > 0))
    if len(lonely):
        raise MeshError(
            f"{what}: {len(lonely)} vertices belong to no face (e.g. vertex {int(lonely[0])}), so the mass "
            "matrix is singular there; remove unreferenced vertices first "
            "(trimesh: mesh.remove_unreferenced_vertices())"
        )


def _check_positive(value, what: str, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a real number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{what} must be a finite {'non-negative' if allow_zero else 'positive'} number, got {value!r}")
    return value


def _check_int(value, what: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be an integer, got {value!r} of type {type(value).__name__}")
    if value < low or (high is not None and value > high):
        rng = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{what} must be an integer {rng}, got {value!r}")
    return int(value)


def _vertex_indices(idx, n: int, what: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(idx))
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{what} must be integer vertex indices, got {idx!r}")
    if arr.ndim != 1 or arr.size == 0 or arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"{what} must be a non-empty list of vertex indices in [0, {n - 1}], got {idx!r}")
    return arr.astype(np.int64)


def _check_nondegenerate(dbl_area: np.ndarray) -> None:
    bad = ~(dbl_area > 0)
    if bad.any():
        raise MeshError(
            f"{int(bad.sum())} faces have zero area (e.g. face {int(np.flatnonzero(bad)[0])}), so their "
            "cotangents are infinite; remove them first (trimesh: mesh.update_faces(mesh.nondegenerate_faces()))"
        )


# ----------------------------------------------------------------------------------------------
# 2. The Mesh container and loading
# ----------------------------------------------------------------------------------------------
@dataclass
class Mesh:
    """A triangle mesh: ``vertices`` (n, 3) float64, ``faces`` (m, 3) int64, a name and a credit.

    The constructor validates the arrays (shapes, finite positions, face indices in range, no
    face repeating a vertex) and refuses vertices that sit exactly on top of each other: they cut
    the surface open and silently change its spectrum and curvature (:func:`load_mesh` welds
    them; for arrays use ``trimesh.Trimesh(V, F).merge_vertices()``). ``V, F = mesh`` unpacks it.

    Shapes:
        vertices: ``(n, 3)``; faces: ``(m, 3)``.

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """

    vertices: np.ndarray
    faces: np.ndarray
    name: str = ""
    credit: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.vertices, self.faces = _as_mesh(self.vertices, self.faces)
        _check_welded(self.vertices, self.faces)

    @property
    def num_vertices(self) -> int:
        """:math:`n`, the number of vertices."""
        return len(self.vertices)

    @property
    def num_faces(self) -> int:
        """:math:`m`, the number of triangles."""
        return len(self.faces)

    def __iter__(self):  # allows ``V, F = mesh``
        yield self.vertices
        yield self.faces

    def __repr__(self) -> str:
        return f"Mesh({self.name!r}, {self.num_vertices} vertices, {self.num_faces} faces)"

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

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
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
    fan (no pinched vertex), that no two vertices share a position (an unwelded seam), and that
    adjacent faces are oriented consistently.

    Returns:
        A dict with keys ``manifold`` (bool), ``oriented`` (bool), ``nonmanifold_edges``
        ((k, 2) array), ``pinched_vertices`` (array), ``coincident_vertices`` (array),
        ``unreferenced_vertices`` (int), ``boundary_edges`` (int) and ``problem`` (a readable
        summary, ``"none"`` if none).

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``.

    Introduced in: 4.6, :doc:`/book/04_domains/04_6_meshes`.
    """
    V, F = _as_mesh(V, F)
    num_vertices, num_faces = len(V), len(F)
    # half-edge k of face f goes from corner k to corner k+1; it lives at position 3 f + k
    half_edges = np.stack([F, np.roll(F, -1, axis=1)], axis=-1).reshape(-1, 2)
    undirected = np.sort(half_edges, axis=1)
    edge_keys, edge_of_half_edge, faces_per_edge = np.unique(
        undirected[:, 0] * num_vertices + undirected[:, 1], return_inverse=True, return_counts=True
    )
    crowded = edge_keys[faces_per_edge > 2]
    nonmanifold_edges = np.stack([crowded // num_vertices, crowded % num_vertices], axis=1)
    directed_keys = half_edges[:, 0] * num_vertices + half_edges[:, 1]
    oriented = len(np.unique(directed_keys)) == len(directed_keys)

    # Fans: the corners (face, vertex) around a vertex are linked when their faces share an edge
    # through that vertex; a vertex whose corners form more than one connected group is pinched.
    corner_id = np.arange(3 * num_faces).reshape(num_faces, 3)
    face_of_half_edge = np.repeat(np.arange(num_faces), 3)
    slot_of_half_edge = np.tile(np.arange(3), num_faces)
    by_edge = np.argsort(edge_of_half_edge, kind="stable")
    same_edge = edge_of_half_edge[by_edge][1:] == edge_of_half_edge[by_edge][:-1]
    first, twin = by_edge[:-1][same_edge], by_edge[1:][same_edge]  # two half-edges of one edge
    face_first, face_twin = face_of_half_edge[first], face_of_half_edge[twin]
    corner_at_start = corner_id[face_first, slot_of_half_edge[first]]
    corner_at_end = corner_id[face_first, (slot_of_half_edge[first] + 1) % 3]
    start_vertex, end_vertex = half_edges[first, 0], half_edges[first, 1]
    twin_rows = np.arange(len(face_twin))
    twin_corners, twin_vertices = corner_id[face_twin], F[face_twin]
    twin_corner_at_start = twin_corners[twin_rows, np.argmax(twin_vertices == start_vertex[:, None], axis=1)]
    twin_corner_at_end = twin_corners[twin_rows, np.argmax(twin_vertices == end_vertex[:, None], axis=1)]
    from scipy.sparse.csgraph import connected_components

    links = sp.coo_matrix(
        (np.ones(2 * len(first)), (np.concatenate([corner_at_start, corner_at_end]),
                                   np.concatenate([twin_corner_at_start, twin_corner_at_end]))),
        shape=(3 * num_faces, 3 * num_faces),
    )
    _, fan_of_corner = connected_components(links, directed=False)
    vertex_fan_pairs = np.unique(np.stack([F.ravel(), fan_of_corner], 1), axis=0)
    fans_per_vertex = np.bincount(vertex_fan_pairs[:, 0], minlength=num_vertices)
    pinched = np.flatnonzero(fans_per_vertex > 1)
    unreferenced = int((fans_per_vertex == 0).sum())
    coincident = _coincident_vertices(V, F)

    problems = []
    if len(nonmanifold_edges):
        problems.append(f"{len(nonmanifold_edges)} edges have more than two faces (e.g. edge {tuple(nonmanifold_edges[0])})")
    if len(pinched):
        problems.append(
            f"{len(pinched)} pinched (non-manifold) vertices where two or more fans of faces meet at a single point "
            f"(e.g. vertex {int(pinched[0])}, {int(fans_per_vertex[pinched[0]])} fans)"
        )
    if len(coincident):
        problems.append(
            f"{len(coincident)} vertices share their position with another vertex (e.g. vertex {int(coincident[0])}): "
            "an unwelded seam; weld them (trimesh: merge_vertices)"
        )
    if not oriented:
        problems.append("adjacent faces are oriented inconsistently (or the surface is not orientable)")
    return {
        "manifold": not len(nonmanifold_edges) and not len(pinched) and not len(coincident),
        "oriented": oriented,
        "nonmanifold_edges": nonmanifold_edges,
        "pinched_vertices": pinched,
        "coincident_vertices": coincident,
        "unreferenced_vertices": unreferenced,
        "boundary_edges": int((faces_per_edge == 1).sum()),
        "problem": "; ".join(problems) if problems else "none",
    }


def check_mesh(V, F) -> None:
    """Raise :class:`MeshError` / :class:`NonManifoldMeshError` unless ``(V, F)`` is a valid,
    oriented manifold triangle mesh with no degenerate faces.

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``.

    Introduced in: 4.6, :doc:`/book/04_domains/04_6_meshes`.
    """
    V, F = _as_mesh(V, F)
    _check_nondegenerate(np.linalg.norm(_face_cross(V, F), axis=1))
    r = manifold_report(V, F)
    if not r["manifold"] or not r["oriented"]:
        raise NonManifoldMeshError(f"not an oriented manifold mesh: {r['problem']}")


# ----------------------------------------------------------------------------------------------
# 3. Generated shapes
# ----------------------------------------------------------------------------------------------
def icosphere(subdivisions: int = 3, radius: float = 1.0) -> Mesh:
    """The icosahedron subdivided ``subdivisions`` times and projected to the sphere of radius
    ``radius``: :math:`20\\cdot 4^s` faces and :math:`10\\cdot 4^s + 2` vertices.

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    import trimesh

    subdivisions = _check_int(subdivisions, "icosphere: subdivisions", 0, 9)
    radius = _check_positive(radius, "icosphere: radius")

    s = trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius)
    return Mesh(np.asarray(s.vertices), np.asarray(s.faces), f"icosphere({subdivisions})", "generated")


def random_sphere(n: int = 1000, seed: int | None = 0, radius: float = 1.0) -> Mesh:
    """A sphere triangulated through ``n`` random points (uniform on the sphere, convex hull):
    the same shape as :func:`icosphere` with an irregular mesh.

    Introduced in: 4.6, :doc:`/book/04_domains/04_6_meshes`.
    """
    from scipy.spatial import ConvexHull

    n = _check_int(n, "random_sphere: n (number of points)", 4)
    radius = _check_positive(radius, "random_sphere: radius")
    if seed is not None:
        _check_int(seed, "random_sphere: seed", 0)
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
    triangles.

    Introduced in: 4.6, :doc:`/book/04_domains/04_6_meshes`.
    """
    major = _check_positive(major, "torus: major")
    minor = _check_positive(minor, "torus: minor")
    n_major = _check_int(n_major, "torus: n_major", 3)
    n_minor = _check_int(n_minor, "torus: n_minor", 3)
    if not major > minor:
        raise ValueError(f"torus: need major > minor > 0 (else the tube intersects itself), got major={major}, minor={minor}")
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
    regular mesh). Bend it isometrically with :func:`roll_sheet`.

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    nx = _check_int(nx, "flat_sheet: nx", 2)
    ny = _check_int(ny, "flat_sheet: ny", 2)
    width = _check_positive(width, "flat_sheet: width")
    height = _check_positive(height, "flat_sheet: height")
    if seed is not None:
        _check_int(seed, "flat_sheet: seed", 0)
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

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    if not isinstance(mesh, Mesh):
        raise TypeError(f"roll_sheet expects a Mesh (from flat_sheet), got {type(mesh).__name__}")
    V = mesh.vertices
    if np.abs(V[:, 2]).max() > 1e-12:
        raise ValueError("roll_sheet expects a flat sheet in the plane z = 0 (see flat_sheet)")
    angle = _check_positive(angle, "roll_sheet: angle")
    if not angle <= 2 * np.pi:
        raise ValueError(f"roll_sheet: angle must be in (0, 2*pi], got {angle}")
    x0 = V[:, 0] - V[:, 0].min()
    R = (x0.max()) / angle
    W = np.stack([R * np.sin(x0 / R), V[:, 1], R * (1 - np.cos(x0 / R))], 1)
    return mesh.copy(vertices=W, name=f"{mesh.name} rolled")


def random_rotation(seed: int | None = None) -> np.ndarray:
    """A uniformly random 3 x 3 rotation matrix (Haar measure on SO(3)).

    Shapes:
        output: ``(3, 3)``.

    Introduced in: 4.6, :doc:`/book/04_domains/04_6_meshes`.
    """
    from scipy.spatial.transform import Rotation

    if seed is not None:
        _check_int(seed, "random_rotation: seed", 0)
    return Rotation.random(random_state=seed).as_matrix()


# ----------------------------------------------------------------------------------------------
# 4. Basic geometry
# ----------------------------------------------------------------------------------------------
def _face_cross(V: np.ndarray, F: np.ndarray) -> np.ndarray:
    p0, p1, p2 = V[F[:, 0]], V[F[:, 1]], V[F[:, 2]]
    return np.cross(p1 - p0, p2 - p0)


def face_areas(V, F) -> np.ndarray:
    """Area of each triangle, shape ``(m,)``.

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``; output: ``(m,)``.

    Introduced in: 4.6, :doc:`/book/04_domains/04_6_meshes`."""
    V, F = _as_mesh(V, F)
    return 0.5 * np.linalg.norm(_face_cross(V, F), axis=1)


def face_normals(V, F) -> np.ndarray:
    """Unit normal of each triangle (right-hand rule on the vertex order), ``(m, 3)``.

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``; output: ``(m, 3)``.

    Introduced in: 4.5, :doc:`/book/04_domains/04_5_gauges`."""
    V, F = _as_mesh(V, F)
    c = _face_cross(V, F)
    nrm = np.linalg.norm(c, axis=1, keepdims=True)
    _check_nondegenerate(nrm[:, 0])
    return c / nrm


def corner_angles(V, F) -> np.ndarray:
    """Interior angle of each triangle at each of its corners, ``(m, 3)`` (radians).

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``; output: ``(m, 3)``.

    Introduced in: 4.6, :doc:`/book/04_domains/04_6_meshes`."""
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

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``; output: ``(n, 3)``.

    Introduced in: 4.5, :doc:`/book/04_domains/04_5_gauges`."""
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
    """Unique undirected edges :math:`\\{i, j\\}` of the triangles, as rows ``(i, j)`` with ``i < j``, sorted.

    Shapes:
        F: ``(m, 3)``; output: ``(e, 2)``.

    Introduced in: 4.6, :doc:`/book/04_domains/04_6_meshes`.
    """
    F = _as_faces(F)
    e = np.sort(np.concatenate([F[:, [0, 1]], F[:, [1, 2]], F[:, [2, 0]]]), axis=1)
    return np.unique(e, axis=0)


def boundary_edges(F) -> np.ndarray:
    """Edges with exactly one adjacent face, rows ``(i, j)`` with ``i < j``.

    Shapes:
        F: ``(m, 3)``; output: ``(b, 2)``.

    Introduced in: 4.6, :doc:`/book/04_domains/04_6_meshes`.
    """
    F = _as_faces(F)
    e = np.sort(np.concatenate([F[:, [0, 1]], F[:, [1, 2]], F[:, [2, 0]]]), axis=1)
    u, c = np.unique(e, axis=0, return_counts=True)
    return u[c == 1]


def euler_characteristic(F, num_vertices: int | None = None) -> int:
    """:math:`\\chi = V - E + F`, counting the vertices used by faces (or ``num_vertices``).

    Shapes:
        F: ``(m, 3)``.

    Introduced in: 4.6, :doc:`/book/04_domains/04_6_meshes`.
    """
    F = _as_faces(F, num_vertices)
    if num_vertices is not None:
        _check_int(num_vertices, "euler_characteristic: num_vertices", 1)
    nv = len(np.unique(F)) if num_vertices is None else num_vertices
    return int(nv - len(edges(F)) + len(F))


# ----------------------------------------------------------------------------------------------
# 5. Cotangent Laplacian and mass matrices: a fast, vectorised assembly
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


def _lumped_mass(F: np.ndarray, n: int, cot: np.ndarray, sq: np.ndarray, dbl: np.ndarray, mass: str) -> np.ndarray:
    """Lumped mass diagonal; ``cot`` and ``sq`` are (3, m) as from :func:`_cot_and_area`."""
    FT = np.ascontiguousarray(F.T).ravel()
    if mass == "barycentric":
        return np.bincount(FT, weights=np.tile(dbl / 6.0, 3), minlength=n)
    if mass == "voronoi":
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
    raise ValueError(f"mass must be 'barycentric', 'voronoi' or 'full', got {mass!r}")


def laplacian_and_mass(V, F, mass: str = "barycentric") -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The cotangent Laplacian :math:`L` (positive semi-definite) and a mass matrix :math:`M`, sharing
    their work; :math:`\\Delta \\approx M^{-1}L`.

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

    Introduced in: 4.6, :doc:`/book/04_domains/04_6_meshes`.
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

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    V, F = _as_mesh(V, F)
    return _assemble(V, F, False)[0]


def mass_matrix(V, F, mass: str = "barycentric") -> sp.csr_matrix:
    """The mass matrix :math:`M` of type ``mass`` in ``{"barycentric", "voronoi", "full"}`` (see
    :func:`laplacian_and_mass`): :math:`\\int u v \\approx u^\\top M v`. ``"voronoi"`` equals
    ``igl.massmatrix(V, F)`` (its default).

    Shapes:
        V: (n, 3); F: (m, 3). Returns an (n, n) ``csr_matrix``.

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    V, F = _as_mesh(V, F)
    n = len(V)
    if mass not in ("barycentric", "voronoi", "full"):
        raise ValueError(f"mass_matrix: mass must be 'barycentric', 'voronoi' or 'full', got {mass!r}")
    if mass == "full":
        return _assemble(V, F, True)[4]
    cot, sq, dbl = _cot_and_area(V, F)
    return sp.diags(_lumped_mass(F, n, cot, sq, dbl, mass)).tocsr()


# ----------------------------------------------------------------------------------------------
# 6. Spectrum, heat
# ----------------------------------------------------------------------------------------------
def _check_operators(L, M, what: str):
    """L and M: square sparse/dense matrices of one size, finite, M with a positive diagonal."""
    for name, A in (("L", L), ("M", M)):
        if not (sp.issparse(A) or isinstance(A, np.ndarray)):
            raise TypeError(f"{what}: {name} must be a scipy.sparse matrix (from laplacian_and_mass), got {type(A).__name__}")
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"{what}: {name} must be a square (n, n) matrix, got shape {A.shape}")
    if L.shape != M.shape:
        raise ValueError(f"{what}: L and M must be square of the same size, got {L.shape} and {M.shape}")
    L, M = sp.csr_matrix(L), sp.csr_matrix(M)
    if not (np.all(np.isfinite(L.data)) and np.all(np.isfinite(M.data))):
        raise ValueError(f"{what}: L and M must be finite (found NaN or inf); check the mesh for degenerate faces")
    _check_referenced(np.asarray(M.sum(axis=1)).ravel(), what)
    return L, M


def laplacian_eigs(L: sp.spmatrix, M: sp.spmatrix, k: int = 20, sigma: float = -1e-8) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` smallest eigenpairs of :math:`L\\phi = \\lambda M\\phi` (Laplace–Beltrami).

    Solved by shift-invert Lanczos about ``sigma`` (slightly below 0, since :math:`L` is
    singular on a closed mesh), with a fixed start vector and a margin of extra eigenpairs so
    that degenerate clusters are found whole. Eigenvectors are :math:`M`-orthonormal,
    :math:`\\Phi^\\top M\\Phi = I`, and eigenvalues ascend.

    Shapes:
        L, M: (n, n). Returns ``evals`` (k,) and ``evecs`` (n, k).

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    L, M = _check_operators(L, M, "laplacian_eigs")
    n = L.shape[0]
    k = _check_int(k, "laplacian_eigs: k (number of eigenpairs)", 1)
    if not k < n - 1:
        raise ValueError(f"laplacian_eigs: k must be in [1, {n - 2}] for {n} vertices, got {k}")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.floating)) or not np.isfinite(sigma):
        raise ValueError(f"laplacian_eigs: sigma (the shift) must be a finite number, got {sigma!r}")
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

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    L, M = _check_operators(L, M, "heat_diffusion")
    u = np.asarray(u0, dtype=float)
    if u.ndim not in (1, 2) or u.shape[0] != L.shape[0]:
        raise ValueError(f"heat_diffusion: u0 must have shape ({L.shape[0]},) or ({L.shape[0]}, c) (one row per vertex), got {u.shape}")
    if not np.all(np.isfinite(u)):
        raise ValueError("heat_diffusion: u0 must be finite (found NaN or inf)")
    t = _check_positive(t, "heat_diffusion: t (diffusion time)", allow_zero=True)
    steps = _check_int(steps, "heat_diffusion: steps", 1)
    solve = spla.factorized((M + (t / steps) * L).tocsc())
    for _ in range(steps):
        rhs = M @ u
        u = solve(rhs) if u.ndim == 1 else np.stack([solve(rhs[:, c]) for c in range(u.shape[1])], 1)
    return u


def _check_eigenpairs(evals, evecs, what: str) -> tuple[np.ndarray, np.ndarray]:
    evals, evecs = np.asarray(evals, dtype=float), np.asarray(evecs, dtype=float)
    if evals.ndim != 1 or evecs.ndim != 2 or evecs.shape[1] != len(evals):
        raise ValueError(
            f"{what}: expected evals (k,) and evecs (n, k) as returned by laplacian_eigs, got shapes "
            f"{evals.shape} and {evecs.shape}"
        )
    if not (np.all(np.isfinite(evals)) and np.all(np.isfinite(evecs))):
        raise ValueError(f"{what}: eigenpairs must be finite (found NaN or inf)")
    return evals, evecs


def heat_kernel(evals: np.ndarray, evecs: np.ndarray, t: float) -> np.ndarray:
    """Truncated heat kernel :math:`k_t(x, y) = \\sum_k e^{-\\lambda_k t}\\phi_k(x)\\phi_k(y)`.

    Multiply by the mass matrix to diffuse: :math:`u_t = K_t M u_0`.

    Shapes:
        evals: (k,); evecs: (n, k). Returns (n, n).

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    evals, evecs = _check_eigenpairs(evals, evecs, "heat_kernel")
    t = _check_positive(t, "heat_kernel: t (diffusion time)", allow_zero=True)
    return (evecs * np.exp(-evals * t)) @ evecs.T


def heat_kernel_signature(evals: np.ndarray, evecs: np.ndarray, times: Sequence[float]) -> np.ndarray:
    """Heat kernel signature :math:`\\mathrm{HKS}(x, t) = k_t(x, x) = \\sum_k e^{-\\lambda_k t}\\phi_k(x)^2`
    (Sun, Ovsjanikov & Guibas 2009): an intrinsic, isometry-invariant point descriptor.

    Shapes:
        evals: (k,); evecs: (n, k); times: (T,). Returns (n, T).

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    evals, evecs = _check_eigenpairs(evals, evecs, "heat_kernel_signature")
    times = np.atleast_1d(np.asarray(times, dtype=float))
    if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(times < 0):
        raise ValueError(f"heat_kernel_signature: times must be a 1-D list of finite non-negative times, got {times}")
    return (evecs**2) @ np.exp(-np.outer(evals, times))


# ----------------------------------------------------------------------------------------------
# 7. Gradient, divergence and the heat method
# ----------------------------------------------------------------------------------------------
def gradient(V, F, u: np.ndarray) -> np.ndarray:
    """Per-face gradient of the piecewise-linear function with vertex values ``u``:
    :math:`\\nabla u|_f = \\frac{1}{2A_f}\\sum_{i\\in f} u_i\\,(N_f\\times e_i)`, with :math:`e_i` the
    edge opposite :math:`i` (counter-clockwise).

    Shapes:
        u: (n,). Returns (m, 3).

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    V, F = _as_mesh(V, F)
    u = np.asarray(u, dtype=float)
    if u.shape != (len(V),):
        raise ValueError(f"gradient: u must have shape ({len(V)},) (one value per vertex), got {u.shape}")
    if not np.all(np.isfinite(u)):
        raise ValueError("gradient: u must be finite (found NaN or inf)")
    c = _face_cross(V, F)
    dbl = np.linalg.norm(c, axis=1)
    _check_nondegenerate(dbl)
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
    It is the adjoint of :func:`gradient`: ``divergence(gradient(u)) == -L u``, the integrated
    :math:`\\operatorname{div}\\nabla u = -\\Delta u`.

    Shapes:
        X: (m, 3). Returns (n,).

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    V, F = _as_mesh(V, F)
    X = np.asarray(X, dtype=float)
    if X.shape != F.shape:
        raise ValueError(f"divergence: X must have shape {F.shape} (one 3-vector per face), got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("divergence: X must be finite (found NaN or inf)")
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

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``; ``distance(sources)``: ``(n,)``.

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """

    def __init__(self, V, F, t: float | None = None) -> None:
        self.V, self.F = _as_mesh(V, F)
        L, M = laplacian_and_mass(self.V, self.F)
        _check_referenced(M.diagonal(), "HeatMethodGeodesics")
        E = edges(self.F)
        h = np.linalg.norm(self.V[E[:, 1]] - self.V[E[:, 0]], axis=1).mean()  # mean edge length
        self.t = h**2 if t is None else _check_positive(t, "HeatMethodGeodesics: t")
        self._heat = spla.factorized((M + self.t * L).tocsc())
        self._poisson = spla.factorized((L + 1e-10 * M).tocsc())
        self._M = M.diagonal()

    def distance(self, sources: int | Sequence[int]) -> np.ndarray:
        """Geodesic distance from the vertex (or nearest of the vertices) ``sources``, shape (n,)."""
        n = len(self.V)
        src = _vertex_indices(sources, n, "HeatMethodGeodesics.distance: sources")
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

    Introduced in: 4.4, :doc:`/book/04_domains/04_4_manifolds`.
    """
    return HeatMethodGeodesics(V, F, t).distance(sources)


# ----------------------------------------------------------------------------------------------
# 8. Curvature
# ----------------------------------------------------------------------------------------------
def angle_defect(V, F) -> np.ndarray:
    """Discrete (integrated) Gaussian curvature: :math:`K_i = 2\\pi - \\sum_{f\\ni i}\\theta_i^f`
    at interior vertices and :math:`\\pi - \\sum_f \\theta_i^f` (the discrete geodesic curvature
    of the boundary) at boundary vertices. Discrete Gauss–Bonnet: :math:`\\sum_i K_i = 2\\pi\\chi`.

    Shapes:
        V: (n, 3); F: (m, 3). Returns (n,) (zero at unreferenced vertices).

    Introduced in: 4.6, :doc:`/book/04_domains/04_6_meshes`.
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
        Returns (n,). Introduced in: 4.6, :doc:`/book/04_domains/04_6_meshes`.
    """
    V, F = _as_mesh(V, F)
    area = np.bincount(F.ravel(), weights=np.repeat(face_areas(V, F) / 3, 3), minlength=len(V))
    area[area == 0] = 1.0
    return angle_defect(V, F) / area


def mean_curvature(V, F) -> np.ndarray:
    """Signed mean curvature :math:`H_i = \\tfrac12\\langle (M^{-1}LV)_i, n_i\\rangle`, from the
    mean-curvature normal :math:`\\Delta x = 2Hn` with :math:`\\Delta \\approx M^{-1}L` (Voronoi
    mass) and :math:`n` the outward vertex normal: positive on a sphere, :math:`H = 1/r`.

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``; output: ``(n,)``.

    Introduced in: 4.6, :doc:`/book/04_domains/04_6_meshes`.
    """
    V, F = _as_mesh(V, F)
    L, M = laplacian_and_mass(V, F, mass="voronoi")
    _check_referenced(M.diagonal(), "mean_curvature")
    mean_curvature_normal_2Hn = (L @ V) / M.diagonal()[:, None]  # Delta x = 2 H n
    return 0.5 * np.einsum("ij,ij->i", mean_curvature_normal_2Hn, vertex_normals(V, F))


# ----------------------------------------------------------------------------------------------
# 9. Tangent frames, gauges and parallel transport
# ----------------------------------------------------------------------------------------------
def vertex_tangent_frames(V, F, reference: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A gauge at every vertex: an orthonormal frame ``(e1, e2)`` of the tangent plane and the
    normal ``n`` (angle-weighted), with ``e1`` the projection of ``reference`` (default: the
    direction to the first neighbour of the first face at the vertex) and ``e2 = n x e1``.

    A different ``reference`` gives a different gauge of the same tangent bundle.

    Shapes:
        reference: (n, 3) or (3,) or None. Returns ``e1, e2, n``, each (n, 3).

    Introduced in: 4.5, :doc:`/book/04_domains/04_5_gauges`.
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
        Returns ``e1, e2, n``, each (m, 3). Introduced in: 4.5, :doc:`/book/04_domains/04_5_gauges`.
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

    Shapes:
        F: ``(m, 3)``; outputs: ``pairs`` ``(k, 2)``, ``shared`` ``(k, 2)``.

    Introduced in: 4.5, :doc:`/book/04_domains/04_5_gauges`.
    """
    F = _as_faces(F)
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

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``; outputs: ``pairs`` ``(k, 2)``, ``rho`` ``(k,)``.

    Introduced in: 4.5, :doc:`/book/04_domains/04_5_gauges`.
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

    Shapes:
        F: ``(m, 3)``; vertices: ``(s,)``; output: ``(k,)`` face indices.

    Introduced in: 4.5, :doc:`/book/04_domains/04_5_gauges`.
    """
    F = _as_faces(F)
    inside = np.zeros(int(F.max()) + 1, bool)
    vs = _vertex_indices(vertices, len(inside), "face_loop_around: vertices")
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

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``; loop: ``(k,)`` face indices; output: a float.

    Introduced in: 4.5, :doc:`/book/04_domains/04_5_gauges`.
    """
    V, F = _as_mesh(V, F)
    m = len(F)
    loop = np.asarray(loop)
    if loop.ndim != 1 or len(loop) < 2 or not np.issubdtype(loop.dtype, np.integer) or loop.min() < 0 or loop.max() >= m:
        raise ValueError(f"holonomy: loop must be a list of at least 2 face indices in [0, {m - 1}] (see face_loop_around), got {loop!r}")
    pairs, rho = transport_angles(V, F)
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

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``; path: ``(k,)``; outputs: ``(k,)`` and ``(k, 3)``.

    Introduced in: 4.5, :doc:`/book/04_domains/04_5_gauges`.
    """
    V, F = _as_mesh(V, F)
    path = np.asarray(path)
    if not np.isfinite(angle):
        raise ValueError(f"transport_along: angle must be finite, got {angle!r}")
    if path.ndim != 1 or len(path) == 0 or not np.issubdtype(path.dtype, np.integer) or path.min() < 0 or path.max() >= len(F):
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

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``; outputs: ``(e, 2)`` and ``(e,)``.

    Introduced in: 4.5, :doc:`/book/04_domains/04_5_gauges`.
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

    Shapes:
        F: ``(m, 3)``; output: ``(d,)`` vertex indices.

    Introduced in: 4.5, :doc:`/book/04_domains/04_5_gauges`.
    """
    F = _as_faces(F)
    v = _check_int(v, "vertex_ring: v", 0, int(F.max()))
    loop = face_loop_around(F, [v])
    pos = np.argmax(F[loop] == v, axis=1)
    return F[loop, (pos + 1) % 3]


def vertex_holonomy(V, F, cycle: Sequence[int], frames: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> float:
    """Rotation angle in :math:`(-\\pi, \\pi]` of transport around a closed cycle of vertices
    (consecutive vertices adjacent, the last joined to the first) with
    :func:`vertex_transport_angles`. It does not depend on the gauges, and approximates the
    enclosed Gaussian curvature (exactly zero on a flat mesh).

    Shapes:
        V: ``(n, 3)``; F: ``(m, 3)``; cycle: ``(k,)`` vertex indices; output: a float.

    Introduced in: 4.5, :doc:`/book/04_domains/04_5_gauges`.
    """
    V, F = _as_mesh(V, F)
    E, rho = vertex_transport_angles(V, F, frames)
    n = len(V)
    key = E[:, 0] * n + E[:, 1]
    cyc = _vertex_indices(cycle, n, "vertex_holonomy: cycle")
    if len(cyc) < 3:
        raise ValueError(f"vertex_holonomy: a cycle needs at least 3 vertices, got {cycle!r}")
    a, b = cyc, np.roll(cyc, -1)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    idx = np.searchsorted(key, lo * n + hi)
    idx = np.minimum(idx, len(key) - 1)
    if np.any(key[idx] != lo * n + hi):
        raise ValueError("consecutive vertices of the cycle must be joined by an edge")
    total = np.where(a < b, rho[idx], -rho[idx]).sum()
    return float(np.angle(np.exp(1j * total)))
