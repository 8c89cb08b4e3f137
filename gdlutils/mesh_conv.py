"""Intrinsic convolutions on triangle meshes: geodesic polar patches, GCNN, MoNet, spectral
mesh CNNs and gauge-equivariant mesh CNNs (GEM-CNN).

A surface has no global grid, so a "convolution" must be built from what the surface itself
provides. Everything here is *intrinsic*: it depends only on lengths and angles measured
along the surface, so it is unchanged (up to discretisation) by isometric deformations.

1. **Geometry** (NumPy, like :mod:`gdlutils.mesh`): the logarithmic map
   :math:`\\log_p q = \\rho\\,(\\cos\\theta, \\sin\\theta)`, the geodesic polar coordinates of a
   point :math:`q` near :math:`p`, with :math:`\\theta` measured in the vertex gauge of
   :math:`p` from :func:`gdlutils.mesh.vertex_tangent_frames`; parallel-transport angles
   along edges; the Laplace–Beltrami eigenbasis. :func:`precompute` bundles them and caches
   them on disk.
2. **Layers** (torch): :class:`GCNNConv` (fixed polar bins and angular max pooling, Masci et
   al. 2015), :class:`MoNetConv` (Gaussian mixtures on pseudo-coordinates, Monti et al. 2017;
   PyG's ``GMMConv``), :class:`SpectralMeshConv` (filters as functions of the eigenvalues)
   and :class:`GEMConv` with :class:`RegularNonlinearity` (de Haan et al. 2021).

Conventions. Messages flow ``edge_index[0]`` (neighbour :math:`q`, source) to
``edge_index[1]`` (centre :math:`p`, target). ``theta[e]`` is the angle of the neighbour in
the gauge of the centre; ``transport[e]`` is the angle :math:`g_{q\\to p}` by which parallel
transport from :math:`q` to :math:`p` shifts angles (a vector at angle :math:`\\varphi` in the
gauge of :math:`q` arrives at :math:`\\varphi + g_{q\\to p}` in the gauge of :math:`p`). A
change of gauge rotates the frame at every vertex :math:`p` counter-clockwise by
:math:`\\gamma_p`; then (:func:`gauge_transform`)

.. math:: \\theta_{pq} \\mapsto \\theta_{pq} - \\gamma_p, \\qquad
   g_{q\\to p} \\mapsto g_{q\\to p} + \\gamma_q - \\gamma_p, \\qquad
   x_p \\mapsto \\rho(-\\gamma_p)\\,x_p.

The Laplace–Beltrami operator is :math:`\\Delta = -\\operatorname{div}\\nabla \\approx M^{-1}L`
with the positive semi-definite cotangent matrix :math:`L` (the book's convention; the sign is
isolated in ``_laplacian_psd``).

Introduced in: 5.6, :doc:`/book/05_models/05_6_1_geodesic_patches`.
"""
from __future__ import annotations

import hashlib
import math
import os
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from . import mesh as gm

__all__ = [
    "polar_coordinates",
    "log_map",
    "one_ring",
    "precompute",
    "as_tensors",
    "gauge_transform",
    "arap_deform",
    "retriangulate",
    "GCNNConv",
    "MoNetConv",
    "SpectralMeshConv",
    "gem_kernel_basis",
    "GEMConv",
    "RegularNonlinearity",
    "to_complex",
    "from_complex",
]

_CACHE_VERSION = "1"


# ----------------------------------------------------------------------------------------------
# Geometry: one-ring log map, geodesic polar coordinates, transport
# ----------------------------------------------------------------------------------------------
def _laplacian_psd(V: np.ndarray, F: np.ndarray):
    """The cotangent matrix :math:`L` (positive semi-definite) and the lumped mass :math:`M`, so
    that :math:`\\Delta \\approx M^{-1}L`. The only place this module touches the sign."""
    L, M = gm.laplacian_and_mass(V, F)
    if L.diagonal().sum() < 0:  # a negative semi-definite convention: flip it here, once
        L = -L
    return L, M


def one_ring(V, F, frames=None) -> dict:
    """The one-ring log map and transport: for every directed edge :math:`q \\to p`,

    .. math:: \\log_p q \\approx \\lVert x_q - x_p\\rVert\\,\\frac{P_p(x_q - x_p)}{\\lVert P_p(x_q - x_p)\\rVert},

    the edge projected to the tangent plane at :math:`p` (projector :math:`P_p = I - n_pn_p^\\top`)
    and rescaled to the edge's length (GEM-CNN's choice), returned as length ``rho``, angle
    ``theta`` in the gauge of :math:`p`, and the transport angle ``transport`` from :math:`q` to
    :math:`p` (:func:`gdlutils.mesh.vertex_transport_angles`, the rotation taking :math:`n_q`
    to :math:`n_p`).

    Args:
        V, F: the mesh (NumPy arrays or a :class:`gdlutils.mesh.Mesh` as ``V``).
        frames: ``(e1, e2, n)`` from :func:`gdlutils.mesh.vertex_tangent_frames` (computed if None).

    Returns:
        dict with ``edge_index`` (2, E) int64 (row 0 the neighbour, row 1 the centre, both
        directions of every mesh edge), ``rho``, ``theta``, ``transport`` (E,) float64.

    Introduced in: 5.6, :doc:`/book/05_models/05_6_1_geodesic_patches`.
    """
    V, F = gm._as_mesh(V, F)
    e1, e2, nrm = gm.vertex_tangent_frames(V, F) if frames is None else frames
    E, rho_ij = gm.vertex_transport_angles(V, F, (e1, e2, nrm))  # i < j, transport i -> j
    src = np.concatenate([E[:, 0], E[:, 1]])  # q
    dst = np.concatenate([E[:, 1], E[:, 0]])  # p
    transport = np.concatenate([rho_ij, -rho_ij])  # q -> p
    d = V[src] - V[dst]
    length = np.linalg.norm(d, axis=1)
    theta = np.arctan2(np.einsum("ij,ij->i", d, e2[dst]), np.einsum("ij,ij->i", d, e1[dst]))
    order = np.lexsort((src, dst))  # grouped by centre
    return {
        "edge_index": np.stack([src[order], dst[order]]),
        "rho": length[order],
        "theta": theta[order],
        "transport": transport[order],
    }


def polar_coordinates(V, F, rings: int = 2, frames=None, sources: Sequence[int] | None = None,
                      radius: float | None = None) -> dict:
    """Geodesic polar coordinates :math:`(\\rho, \\theta)` of the ``rings``-ring patch of every
    vertex (or of ``sources``): a discrete logarithmic map grown ring by ring.

    Each vertex :math:`v` of the patch of centre :math:`c` carries its log-map coordinate
    :math:`u_{cv} \\in \\mathbb C` (in the gauge of :math:`c`) and the angle :math:`\\alpha_{cv}`
    by which its own gauge is turned relative to the gauge of :math:`c` (transport along the
    patch). A neighbour :math:`w` of :math:`v` one ring further out gets

    .. math:: u_{cw} = \\operatorname*{mean}_{v} \\big(u_{cv} + e^{i\\alpha_{cv}}\\,\\log_v w\\big), \\qquad
       e^{i\\alpha_{cw}} \\propto \\operatorname*{mean}_v e^{i(\\alpha_{cv} - g_{v\\to w})},

    the average over the vertices :math:`v` of the previous ring adjacent to :math:`w`: each
    one walks the one-ring step :math:`\\log_v w` (:func:`one_ring`) after turning it into the
    centre's gauge. This is the discrete exponential map of Schmidt, Grimm & Wyvill (2006),
    grown by rings; on a flat mesh it is exact. ``potpourri3d``'s vector-heat log map is the
    reference it is tested against (radii agree to a few percent).

    Args:
        rings: patch size in rings of edges (1 = the one-ring).
        frames: vertex gauges (default :func:`gdlutils.mesh.vertex_tangent_frames`).
        sources: centres to compute (default: every vertex).
        radius: keep only patch vertices with :math:`\\rho \\le` ``radius``.

    Returns:
        dict with ``edge_index`` (2, P) (row 0 the patch vertex, row 1 the centre; centres
        themselves excluded), ``rho`` (P,), ``theta`` (P,) in :math:`(-\\pi, \\pi]`.

    Introduced in: 5.6, :doc:`/book/05_models/05_6_1_geodesic_patches`.
    """
    V, F = gm._as_mesh(V, F)
    n = len(V)
    if not isinstance(rings, (int, np.integer)) or rings < 1:
        raise ValueError(f"rings must be a positive integer, got {rings!r}")
    ring = one_ring(V, F, frames)
    q, p = ring["edge_index"]
    step = ring["rho"] * np.exp(1j * ring["theta"])  # log_p q in the gauge of p
    # a step from v to w, in the gauge of v: log_v w; and the transport v -> w
    # (edge_index is (q, p) = (w, v) when read from v's side)
    order_v = np.argsort(p, kind="stable")
    v_of, w_of = p[order_v], q[order_v]
    step_v, trans_vw = step[order_v], -ring["transport"][order_v]  # transport v -> w = -(w -> v)
    ptr = np.concatenate([[0], np.cumsum(np.bincount(v_of, minlength=n))])

    centres = np.arange(n) if sources is None else np.asarray(sources, dtype=np.int64).ravel()
    if centres.size == 0 or centres.min() < 0 or centres.max() >= n:
        raise ValueError(f"sources must be vertex indices in [0, {n - 1}]")
    c_all = [centres]
    v_all = [centres]
    u_all = [np.zeros(len(centres), complex)]
    a_all = [np.zeros(len(centres))]
    visited = centres * n + centres
    fc, fv, fu, fa = centres, centres, u_all[0], a_all[0]
    for _ in range(rings):
        deg = ptr[fv + 1] - ptr[fv]
        rep = np.repeat(np.arange(len(fv)), deg)
        eidx = np.repeat(ptr[fv], deg) + np.arange(deg.sum()) - np.repeat(np.cumsum(deg) - deg, deg)  # edges out of fv
        cc, ww = fc[rep], w_of[eidx]
        cand_u = fu[rep] + np.exp(1j * fa[rep]) * step_v[eidx]
        cand_a = np.exp(1j * (fa[rep] - trans_vw[eidx]))
        key = cc * n + ww
        new = ~np.isin(key, visited)
        key, cand_u, cand_a = key[new], cand_u[new], cand_a[new]
        uk, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
        u = np.bincount(inv, cand_u.real, len(uk)) + 1j * np.bincount(inv, cand_u.imag, len(uk))
        a = np.bincount(inv, cand_a.real, len(uk)) + 1j * np.bincount(inv, cand_a.imag, len(uk))
        fc, fv, fu, fa = uk // n, uk % n, u / cnt, np.angle(a)
        visited = np.union1d(visited, uk)
        c_all.append(fc), v_all.append(fv), u_all.append(fu), a_all.append(fa)
    c, v, u = (np.concatenate(t[1:]) for t in (c_all, v_all, u_all))
    rho, theta = np.abs(u), np.angle(u)
    keep = np.ones(len(c), bool) if radius is None else rho <= radius
    order = np.lexsort((v[keep], c[keep]))
    return {"edge_index": np.stack([v[keep][order], c[keep][order]]), "rho": rho[keep][order],
            "theta": theta[keep][order]}


def log_map(V, F, source: int, rings: int = 4, frames=None) -> tuple[np.ndarray, np.ndarray]:
    """The logarithmic map at vertex ``source`` over its ``rings``-ring patch (see
    :func:`polar_coordinates`), as 2-D coordinates in the gauge of ``source``.

    Returns:
        ``vertices`` (k,) the patch (the source first, at the origin) and ``coords`` (k, 2),
        :math:`\\rho(\\cos\\theta, \\sin\\theta)`.

    Introduced in: 5.6, :doc:`/book/05_models/05_6_1_geodesic_patches`.
    """
    V, F = gm._as_mesh(V, F)
    if not 0 <= int(source) < len(V):
        raise ValueError(f"source must be a vertex index in [0, {len(V) - 1}], got {source}")
    pc = polar_coordinates(V, F, rings, frames, sources=[int(source)])
    verts = np.concatenate([[int(source)], pc["edge_index"][0]])
    xy = np.concatenate([[[0.0, 0.0]], np.stack([pc["rho"] * np.cos(pc["theta"]), pc["rho"] * np.sin(pc["theta"])], 1)])
    return verts, xy


def gauge_transform(theta, transport, edge_index, gamma):
    """The geometry seen in gauges rotated by ``gamma`` (counter-clockwise, one angle per
    vertex): :math:`\\theta_{pq} - \\gamma_p` and :math:`g_{q\\to p} + \\gamma_q - \\gamma_p`.

    Works on NumPy arrays or torch tensors (returns the same kind); ``transport`` may be None
    (patches that carry no transport).

    Shapes:
        theta, transport: (E,); edge_index: (2, E); gamma: (num_nodes,). Returns two (E,).

    Introduced in: 5.6, :doc:`/book/05_models/05_6_2_gem_cnn`.
    """
    q, p = edge_index[0], edge_index[1]
    new_theta = theta - gamma[p]
    new_transport = None if transport is None else transport + gamma[q] - gamma[p]
    return new_theta, new_transport


def _cache_path(V: np.ndarray, F: np.ndarray, tag: str) -> Path:
    from .data import cache_home

    h = hashlib.sha256()
    for a in (V, F):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(f"{tag}|v{_CACHE_VERSION}".encode())
    return cache_home() / "mesh_conv" / f"{h.hexdigest()[:24]}.npz"


def precompute(mesh, rings: int = 2, k_eig: int = 0, cache: bool = True) -> dict:
    """Everything the intrinsic layers need, computed once per mesh and cached on disk.

    Keys: ``ring_*`` (the one-ring of :func:`one_ring`: ``ring_edge_index``, ``ring_rho``,
    ``ring_theta``, ``ring_transport``), ``patch_*`` (the ``rings``-ring geodesic polar
    coordinates of :func:`polar_coordinates`), ``mass`` (lumped mass diagonal), and with
    ``k_eig > 0`` ``evals``, ``evecs`` (the first ``k_eig`` eigenpairs of
    :math:`L\\phi = \\lambda M\\phi`). The cache file lives in
    ``gdlutils.data.cache_home()/mesh_conv``, keyed by a hash of the vertices, faces and
    arguments, and is written atomically (parallel workers may share it).

    Bad meshes get the errors of :mod:`gdlutils.mesh`: non-manifold meshes, inconsistent
    orientation and zero-area faces raise (:func:`gdlutils.mesh.check_mesh`); meshes with
    boundary are supported (a boundary vertex has a half-disc patch).

    Introduced in: 5.6, :doc:`/book/05_models/05_6_1_geodesic_patches`.
    """
    V, F = gm._as_mesh(mesh.vertices, mesh.faces) if isinstance(mesh, gm.Mesh) else gm._as_mesh(*mesh)
    if k_eig < 0:
        raise ValueError(f"k_eig must be >= 0, got {k_eig}")
    path = _cache_path(V, F, f"rings={rings}|k={k_eig}")
    if cache and path.is_file():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    gm.check_mesh(V, F)
    ring = one_ring(V, F)
    out = {f"ring_{k}": v for k, v in ring.items()}
    patch = polar_coordinates(V, F, rings)
    out.update({f"patch_{k}": v for k, v in patch.items()})
    L, M = _laplacian_psd(V, F)
    out["mass"] = M.diagonal().copy()
    if k_eig:
        out["evals"], out["evecs"] = gm.laplacian_eigs(L, M, k=k_eig)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **out)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return out


def as_tensors(geometry: dict, dtype: torch.dtype = torch.float32, device=None) -> dict:
    """The arrays of :func:`precompute` as torch tensors (index arrays as int64, the others in
    ``dtype``) on ``device``. Introduced in: 5.6, :doc:`/book/05_models/05_6_1_geodesic_patches`."""
    out = {}
    for k, v in geometry.items():
        t = torch.as_tensor(np.asarray(v))
        out[k] = t.to(device=device, dtype=torch.long if k.endswith("edge_index") else dtype)
    return out


# ----------------------------------------------------------------------------------------------
# Deformed and re-triangulated shapes
# ----------------------------------------------------------------------------------------------
def arap_deform(mesh: gm.Mesh, n_handles: int = 6, scale: float = 0.3, seed: int | None = 0) -> gm.Mesh:
    """A near-isometric deformation of ``mesh`` by as-rigid-as-possible energy minimisation
    (Sorkine & Alexa 2007, libigl's ``arap_solve``): ``n_handles`` vertices (farthest-point
    samples, the first one random) are moved by random vectors of length ``scale`` times the
    mesh's bounding-box diagonal (one handle stays fixed) and the rest of the surface follows
    while keeping its local shape as rigid as it can.

    Needs libigl (``pip install libigl``). Belongs with :mod:`gdlutils.mesh`'s generated shapes.

    Introduced in: 5.6, :doc:`/book/05_models/05_6_1_geodesic_patches`.
    """
    try:
        import igl
    except ImportError as error:  # pragma: no cover
        raise ImportError("arap_deform needs libigl: pip install libigl") from error
    if not isinstance(mesh, gm.Mesh):
        raise TypeError(f"mesh must be a gdlutils.mesh.Mesh, got {type(mesh).__name__}")
    if n_handles < 2:
        raise ValueError(f"n_handles must be >= 2 (one fixed, one moved), got {n_handles}")
    V, F = mesh.vertices, mesh.faces
    rng = np.random.default_rng(seed)
    handles = [int(rng.integers(len(V)))]
    d = np.linalg.norm(V - V[handles[0]], axis=1)
    for _ in range(n_handles - 1):
        handles.append(int(np.argmax(d)))
        d = np.minimum(d, np.linalg.norm(V - V[handles[-1]], axis=1))
    b = np.asarray(handles, dtype=np.int32)
    diag = np.linalg.norm(V.max(0) - V.min(0))
    move = rng.normal(size=(n_handles, 3))
    move *= scale * diag / np.linalg.norm(move, axis=1, keepdims=True)
    move[0] = 0.0
    data = igl.ARAPData()
    igl.arap_precomputation(V, F, 3, b, data)
    U = igl.arap_solve(V[b] + move, data, V.copy())
    return mesh.copy(vertices=np.asarray(U), name=f"{mesh.name} ARAP({seed})")


def retriangulate(mesh: gm.Mesh, seed: int | None = 0, flip_fraction: float = 0.3) -> gm.Mesh:
    """The same shape with a different triangulation: one step of midpoint subdivision
    (every triangle split in four, new vertices on the old edges), then a random
    ``flip_fraction`` of the new interior edges flipped where the flip keeps the surface
    almost unchanged (the two triangles nearly coplanar, no vertex left with fewer than four
    neighbours). Returns the new mesh and, in ``meta["parent"]``, the original vertex each new
    vertex is nearest to along the old edges (for transferring labels).

    Introduced in: 5.6, :doc:`/book/05_models/05_6_3_deformation_task`.
    """
    V, F = mesh.vertices, mesh.faces
    E = gm.edges(F)
    n = len(V)
    key = E[:, 0] * n + E[:, 1]
    mid = n + np.arange(len(E))

    def m(a, b):
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        return mid[np.searchsorted(key, lo * n + hi)]

    a, b, c = F.T
    ab, bc, ca = m(a, b), m(b, c), m(c, a)
    F2 = np.concatenate([np.stack([a, ab, ca], 1), np.stack([b, bc, ab], 1), np.stack([c, ca, bc], 1),
                         np.stack([ab, bc, ca], 1)])
    V2 = np.concatenate([V, 0.5 * (V[E[:, 0]] + V[E[:, 1]])])
    parent = np.concatenate([np.arange(n), E[:, 0]])
    rng = np.random.default_rng(seed)
    # flip a random set of edges of the central triangles (each such edge joins two midpoints)
    pairs, shared = gm.face_adjacency(F2)
    cand = rng.permutation(len(pairs))[: int(flip_fraction * len(pairs))]
    used = np.zeros(len(F2), bool)
    nrm = gm.face_normals(V2, F2)
    deg = np.bincount(gm.edges(F2).ravel(), minlength=len(V2))
    for k in cand:
        f, g = pairs[k]
        if used[f] or used[g] or nrm[f] @ nrm[g] < 0.999:
            continue
        i, j = shared[k]
        oi = [x for x in F2[f] if x != i and x != j][0]
        oj = [x for x in F2[g] if x != i and x != j][0]
        if deg[i] <= 4 or deg[j] <= 4:
            continue
        # f holds i -> j in its ccw order: new faces (oi, i, oj) and (oj, j, oi)
        nf, ng = np.array([oi, i, oj]), np.array([oj, j, oi])
        c1 = np.cross(V2[nf[1]] - V2[nf[0]], V2[nf[2]] - V2[nf[0]])
        c2 = np.cross(V2[ng[1]] - V2[ng[0]], V2[ng[2]] - V2[ng[0]])
        if c1 @ nrm[f] <= 0 or c2 @ nrm[f] <= 0:
            continue
        F2[f], F2[g] = nf, ng
        deg[i] -= 1
        deg[j] -= 1
        deg[oi] += 1
        deg[oj] += 1
        used[f] = used[g] = True
    out = gm.Mesh(V2, F2, f"{mesh.name} retriangulated", mesh.credit, {"parent": parent})
    gm.check_mesh(out.vertices, out.faces)
    return out


# ----------------------------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------------------------
def _check_edges(x: torch.Tensor, edge_index: torch.Tensor, *per_edge: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor) or not isinstance(edge_index, torch.Tensor):
        raise TypeError(f"{name}: x and edge_index must be torch tensors")
    if edge_index.dim() != 2 or edge_index.size(0) != 2 or edge_index.dtype != torch.long:
        raise ValueError(f"{name}: edge_index must be a (2, E) int64 tensor, got {tuple(edge_index.shape)} {edge_index.dtype}")
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= x.size(0)):
        raise ValueError(f"{name}: edge_index refers to nodes outside [0, {x.size(0) - 1}]")
    for t in per_edge:
        if t is not None and t.size(0) != edge_index.size(1):
            raise ValueError(f"{name}: per-edge inputs must have {edge_index.size(1)} rows (one per edge), got {tuple(t.shape)}")
        if t is not None and not torch.isfinite(t).all():
            raise ValueError(f"{name}: per-edge inputs must be finite")


def _mean_scatter(msg: torch.Tensor, index: torch.Tensor, num_nodes: int, aggr: str) -> torch.Tensor:
    out = msg.new_zeros((num_nodes,) + msg.shape[1:]).index_add_(0, index, msg)
    if aggr == "mean":
        deg = torch.bincount(index, minlength=num_nodes).clamp(min=1).to(out.real.dtype)
        out = out / deg.view(-1, *([1] * (msg.dim() - 1)))
    return out


class GCNNConv(nn.Module):
    """Geodesic CNN layer (Masci, Boscaini, Bronstein & Vandergheynst 2015).

    The *patch operator* resamples the signal around each vertex :math:`p` on a polar grid of
    ``n_rho`` radii and ``n_theta`` angles with Gaussian weights,

    .. math:: D_p(x)[a, b] = \\frac{\\sum_q v_b(\\rho_{pq})\\,w_a(\\theta_{pq})\\,x_q}{\\sum_q v_b(\\rho_{pq})\\,w_a(\\theta_{pq})},
       \\quad v_b(\\rho) = e^{-(\\rho-\\rho_b)^2/2\\sigma_\\rho^2},\\ w_a(\\theta) = e^{-d(\\theta,\\theta_a)^2/2\\sigma_\\theta^2},

    (:math:`\\theta_a = 2\\pi a/N_\\theta`, :math:`d` the angular distance), and a filter
    :math:`W` of the same polar size is correlated with it at every rotation :math:`r`:

    .. math:: y_p = \\max_{r} \\sum_{a,b} W[a - r, b]\\, D_p(x)[a, b] + W_0 x_p + \\beta.

    The origin of :math:`\\theta` (the gauge) is arbitrary; the maximum over rotations
    (*angular max pooling*) makes the output independent of it when gauges turn by multiples
    of :math:`2\\pi/N_\\theta`. With ``angular_pool=False`` the layer uses :math:`r = 0` only:
    an anisotropic filter that ignores the gauge problem.

    Shapes:
        x: (num_nodes, in_channels); edge_index: (2, E) patch pairs (neighbour, centre);
        rho, theta: (E,). Returns (num_nodes, out_channels).

    Introduced in: 5.6, :doc:`/book/05_models/05_6_1_geodesic_patches`.
    """

    def __init__(self, in_channels: int, out_channels: int, n_rho: int = 3, n_theta: int = 8,
                 radius: float = 1.0, angular_pool: bool = True, bias: bool = True) -> None:
        super().__init__()
        if n_rho < 1 or n_theta < 1 or radius <= 0:
            raise ValueError(f"need n_rho >= 1, n_theta >= 1, radius > 0; got {n_rho}, {n_theta}, {radius}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.n_rho, self.n_theta, self.radius, self.angular_pool = n_rho, n_theta, radius, angular_pool
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, n_theta, n_rho))
        self.root = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.register_buffer("rho_bins", (torch.arange(n_rho) + 0.5) * radius / n_rho, persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.kaiming_uniform_(self.weight.view(self.out_channels, -1), a=math.sqrt(5))
        self.root.reset_parameters()
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def patch_operator(self, x, edge_index, rho, theta) -> torch.Tensor:
        """:math:`D_p(x)`, shape (num_nodes, in_channels, n_theta, n_rho)."""
        _check_edges(x, edge_index, rho, theta, name="GCNNConv")
        q, p = edge_index
        s_rho = self.radius / self.n_rho / 2
        s_theta = math.pi / self.n_theta
        v = torch.exp(-0.5 * ((rho[:, None] - self.rho_bins.to(rho)) / s_rho) ** 2)  # (E, n_rho)
        bins = 2 * math.pi * torch.arange(self.n_theta, dtype=theta.dtype, device=theta.device) / self.n_theta
        d = torch.remainder(theta[:, None] - bins + math.pi, 2 * math.pi) - math.pi
        w = torch.exp(-0.5 * (d / s_theta) ** 2)  # (E, n_theta)
        vw = w[:, :, None] * v[:, None, :]  # (E, n_theta, n_rho)
        num = _mean_scatter(x.index_select(0, q)[:, :, None, None] * vw[:, None], p, x.size(0), "sum")
        den = _mean_scatter(vw, p, x.size(0), "sum")[:, None]
        return num / den.clamp(min=1e-12)

    def forward(self, x, edge_index, rho, theta) -> torch.Tensor:
        D = self.patch_operator(x, edge_index, rho, theta)
        shifts = range(self.n_theta) if self.angular_pool else [0]
        W = torch.stack([torch.roll(self.weight, r, dims=2) for r in shifts])  # W[a - r]
        y = torch.einsum("nctb,roctb->nro", D, W.to(D.dtype)).amax(dim=1)
        y = y + self.root(x)
        return y if self.bias is None else y + self.bias


class MoNetConv(nn.Module):
    """Mixture-model network layer, MoNet (Monti et al. 2017), with PyG's ``GMMConv`` signature.

    Each neighbour :math:`q` of :math:`p` has pseudo-coordinates :math:`u_{pq}\\in\\R^D` (here
    the log map :math:`\\rho(\\cos\\theta, \\sin\\theta)` or the polar pair); :math:`K`
    learnable Gaussians weigh it, and each Gaussian has its own linear map :math:`g_k`:

    .. math:: x'_p = \\frac1{|\\mathcal N_p|}\\sum_{q\\in\\mathcal N_p}\\sum_{k=1}^K
       \\exp\\Big(-\\tfrac12\\sum_{d}\\frac{(u_{pq,d}-\\mu_{k,d})^2}{\\epsilon+\\sigma_{k,d}^2}\\Big)\\, g_k^\\top x_q
       \\; + W_0 x_p + \\beta,

    (``aggr="mean"`` as shown; ``"sum"`` and ``"max"`` too). Parameters ``g`` (in,
    out·K), ``mu``, ``sigma`` (K, D), ``root.weight`` and ``bias`` have PyG's names and shapes,
    so a ``GMMConv`` state dict loads into it. ``separate_gaussians=True`` gives every (in,
    out) pair its own mixture, as in PyG.

    Shapes:
        x: (num_nodes, in_channels); edge_index: (2, E); pseudo: (E, dim).
        Returns (num_nodes, out_channels).

    Introduced in: 5.6, :doc:`/book/05_models/05_6_1_geodesic_patches`.
    """

    def __init__(self, in_channels: int, out_channels: int, dim: int, kernel_size: int,
                 separate_gaussians: bool = False, aggr: str = "mean", root_weight: bool = True,
                 bias: bool = True) -> None:
        super().__init__()
        if aggr not in ("sum", "mean", "max"):
            raise ValueError(f"aggr must be 'sum', 'mean' or 'max', got {aggr!r}")
        if min(in_channels, out_channels, dim, kernel_size) < 1:
            raise ValueError("in_channels, out_channels, dim and kernel_size must be positive")
        self.in_channels, self.out_channels, self.dim, self.kernel_size = in_channels, out_channels, dim, kernel_size
        self.separate_gaussians, self.aggr = separate_gaussians, aggr
        self.g = nn.Parameter(torch.empty(in_channels, out_channels * kernel_size))
        shape = (in_channels, out_channels, kernel_size, dim) if separate_gaussians else (kernel_size, dim)
        self.mu = nn.Parameter(torch.empty(shape))
        self.sigma = nn.Parameter(torch.empty(shape))
        self.root = nn.Linear(in_channels, out_channels, bias=False) if root_weight else None
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for t in (self.g, self.mu, self.sigma):  # glorot, as PyG
            a = math.sqrt(6.0 / (t.size(-2) + t.size(-1)))
            nn.init.uniform_(t, -a, a)
        if self.root is not None:
            a = math.sqrt(6.0 / (self.in_channels + self.out_channels))
            nn.init.uniform_(self.root.weight, -a, a)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x, edge_index, pseudo) -> torch.Tensor:
        _check_edges(x, edge_index, pseudo, name="MoNetConv")
        if pseudo.dim() != 2 or pseudo.size(1) != self.dim:
            raise ValueError(f"MoNetConv: pseudo must have shape (E, {self.dim}), got {tuple(pseudo.shape)}")
        q, p = edge_index
        E, K, C = pseudo.size(0), self.kernel_size, self.out_channels
        if not self.separate_gaussians:
            z = -0.5 * ((pseudo.view(E, 1, -1) - self.mu.view(1, K, -1)) ** 2 / (1e-15 + self.sigma.view(1, K, -1) ** 2))
            gauss = torch.exp(z.sum(-1))  # (E, K)
            if self.in_channels < C and self.aggr != "max":
                # linear aggregation: sum the Gaussian-weighted inputs first, then apply the g_k
                # (E x K x in numbers per call instead of E x K x out; same result)
                Z = _mean_scatter(gauss[:, :, None] * x.index_select(0, q)[:, None, :], p, x.size(0), self.aggr)  # (N, K, in)
                out = Z.flatten(1) @ self.g.view(-1, K, C).transpose(0, 1).reshape(K * self.in_channels, C)
                out = out + self.root(x) if self.root is not None else out
                return out if self.bias is None else out + self.bias
            msg = ((x @ self.g).index_select(0, q).view(E, K, C) * gauss.view(E, K, 1)).sum(1)
        else:
            z = -0.5 * ((pseudo.view(E, 1, 1, 1, -1) - self.mu[None]) ** 2 / (1e-15 + self.sigma[None] ** 2))
            w = (torch.exp(z.sum(-1)) * self.g.view(1, -1, C, K)).sum(-1)  # (E, in, out)
            msg = (x[q].unsqueeze(-1) * w).sum(1)
        if self.aggr == "max":
            out = msg.new_full((x.size(0), C), float("-inf")).scatter_reduce(0, p[:, None].expand_as(msg), msg, "amax")
            out = torch.where(torch.isinf(out), torch.zeros_like(out), out)
        else:
            out = _mean_scatter(msg, p, x.size(0), self.aggr)
        if self.root is not None:
            out = out + self.root(x)
        return out if self.bias is None else out + self.bias


class SpectralMeshConv(nn.Module):
    """Spectral convolution on a mesh with filters that are smooth functions of the
    Laplace–Beltrami eigenvalues (Bruna et al. 2014; Boscaini et al. 2015):

    .. math:: y_o = \\sum_c \\Phi\\,\\hat g_{oc}(\\Lambda)\\,\\Phi^\\top M x_c + \\beta_o, \\qquad
       \\hat g_{oc}(\\lambda) = \\sum_{b} \\vartheta_{ocb}\\, e^{-(\\lambda - \\mu_b)^2 / 2s^2},

    with :math:`\\Phi` the first :math:`k` eigenvectors (:math:`\\Phi^\\top M\\Phi = I`) and
    :math:`\\mu_b` ``num_basis`` centres evenly spread on ``[0, lambda_max]``. Because the
    filter is a function of :math:`\\lambda`, not a list of coefficients per eigenvector, the
    same parameters apply to any mesh; the *basis* still differs from mesh to mesh.

    Shapes:
        x: (num_nodes, in_channels); evals: (k,); evecs: (num_nodes, k); mass: (num_nodes,).
        Returns (num_nodes, out_channels).

    Introduced in: 5.6, :doc:`/book/05_models/05_6_1_geodesic_patches`.
    """

    def __init__(self, in_channels: int, out_channels: int, num_basis: int = 8, lambda_max: float = 200.0,
                 bias: bool = True) -> None:
        super().__init__()
        if num_basis < 1 or lambda_max <= 0:
            raise ValueError(f"need num_basis >= 1 and lambda_max > 0, got {num_basis}, {lambda_max}")
        self.in_channels, self.out_channels, self.num_basis, self.lambda_max = in_channels, out_channels, num_basis, lambda_max
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, num_basis))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.uniform_(self.weight, -1 / math.sqrt(self.in_channels), 1 / math.sqrt(self.in_channels))
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def response(self, evals: torch.Tensor) -> torch.Tensor:
        """:math:`\\hat g_{oc}(\\lambda_k)`, shape (out_channels, in_channels, k)."""
        mu = torch.linspace(0, self.lambda_max, self.num_basis, dtype=evals.dtype, device=evals.device)
        s = self.lambda_max / max(self.num_basis - 1, 1)
        B = torch.exp(-0.5 * ((evals[:, None] - mu) / s) ** 2)  # (k, num_basis)
        return torch.einsum("ocb,kb->ock", self.weight.to(evals.dtype), B)

    def forward(self, x, evals, evecs, mass) -> torch.Tensor:
        if evecs.dim() != 2 or evecs.size(0) != x.size(0) or evals.shape != (evecs.size(1),) or mass.shape != (x.size(0),):
            raise ValueError(
                f"SpectralMeshConv: need evecs (num_nodes, k), evals (k,), mass (num_nodes,) for x with {x.size(0)} rows; "
                f"got {tuple(evecs.shape)}, {tuple(evals.shape)}, {tuple(mass.shape)}")
        xhat = evecs.t() @ (mass[:, None] * x)  # (k, in)
        yhat = torch.einsum("ock,kc->ko", self.response(evals), xhat)
        y = evecs @ yhat
        return y if self.bias is None else y + self.bias


# ----------------------------------------------------------------------------------------------
# Gauge-equivariant mesh CNN
# ----------------------------------------------------------------------------------------------
def to_complex(x: torch.Tensor, max_order: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split a feature of type :math:`\\rho_0\\oplus\\rho_1\\oplus\\dots\\oplus\\rho_M` per channel,
    stored as ``(..., 2M+1)`` = ``[s, a_1, b_1, ..., a_M, b_M]``, into the scalar ``s`` and the
    complex numbers :math:`z_n = a_n + i b_n` (a gauge rotation by :math:`\\gamma` multiplies
    :math:`z_n` by :math:`e^{-in\\gamma}`).

    Shapes:
        x: (..., 2M+1). Returns (...,) real and (..., M) complex.

    Introduced in: 5.6, :doc:`/book/05_models/05_6_2_gem_cnn`.
    """
    if x.size(-1) != 2 * max_order + 1:
        raise ValueError(f"features must have last dimension 2*max_order+1 = {2 * max_order + 1}, got {x.size(-1)}")
    return x[..., 0], torch.complex(x[..., 1::2], x[..., 2::2])


def from_complex(s: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`to_complex`. Introduced in: 5.6, :doc:`/book/05_models/05_6_2_gem_cnn`."""
    ab = torch.stack([z.real, z.imag], -1).flatten(-2)
    return torch.cat([s.unsqueeze(-1), ab], -1)


def _rot(n: int, a: float) -> np.ndarray:
    """:math:`\\rho_n(a)`: 1 x 1 identity for n = 0, the 2 x 2 rotation by n a otherwise."""
    if n == 0:
        return np.eye(1)
    c, s = math.cos(n * a), math.sin(n * a)
    return np.array([[c, -s], [s, c]])


def gem_kernel_basis(n_in: int, n_out: int, theta: float) -> np.ndarray:
    """The analytic basis of gauge-equivariant kernels from :math:`\\rho_{n_\\text{in}}` to
    :math:`\\rho_{n_\\text{out}}` evaluated at angle :math:`\\theta` (de Haan et al. 2021, table 1).

    A kernel :math:`K(\\theta)` is gauge equivariant when
    :math:`K(\\theta - \\gamma) = \\rho_\\text{out}(-\\gamma)\\,K(\\theta)\\,\\rho_\\text{in}(\\gamma)` for
    every :math:`\\gamma` (the constraint of 4.5). Writing :math:`c_k = \\cos k\\theta`,
    :math:`s_k = \\sin k\\theta`, :math:`m = n_\\text{out}`, :math:`n = n_\\text{in}`:

    - :math:`0\\to 0`: :math:`[1]`;
    - :math:`n\\to 0`: :math:`[c_n\\ \\ s_n]`, :math:`[s_n\\ \\ {-c_n}]`;
    - :math:`0\\to m`: :math:`[c_m;\\ s_m]`, :math:`[s_m;\\ {-c_m}]`;
    - :math:`n\\to m`: :math:`\\begin{bmatrix}c_- & -s_-\\\\ s_- & c_-\\end{bmatrix}`,
      :math:`\\begin{bmatrix}s_- & c_-\\\\ -c_- & s_-\\end{bmatrix}`,
      :math:`\\begin{bmatrix}c_+ & s_+\\\\ s_+ & -c_+\\end{bmatrix}`,
      :math:`\\begin{bmatrix}-s_+ & c_+\\\\ c_+ & s_+\\end{bmatrix}` where
      :math:`c_\\mp = \\cos (m\\mp n)\\theta` and :math:`s_\\mp = \\sin (m\\mp n)\\theta`.

    These are :math:`\\rho_m(\\theta)\\,E\\,\\rho_n(-\\theta)` for the matrix units :math:`E`: an
    SO(2) kernel is free at :math:`\\theta = 0` and the constraint fixes it elsewhere.
    :class:`GEMConv` applies the same basis in complex form.

    Returns:
        (B, d_out, d_in) with B = 1, 2, 2 or 4.

    Introduced in: 5.6, :doc:`/book/05_models/05_6_2_gem_cnn`.
    """
    if n_in < 0 or n_out < 0:
        raise ValueError(f"irrep orders must be >= 0, got {n_in}, {n_out}")
    n, m = n_in, n_out
    if n == 0 and m == 0:
        return np.ones((1, 1, 1))
    if m == 0:
        c, s = math.cos(n * theta), math.sin(n * theta)
        return np.array([[[c, s]], [[s, -c]]])
    if n == 0:
        c, s = math.cos(m * theta), math.sin(m * theta)
        return np.array([[[c], [s]], [[s], [-c]]])
    cm, sm = math.cos((m - n) * theta), math.sin((m - n) * theta)
    cp, sp_ = math.cos((m + n) * theta), math.sin((m + n) * theta)
    return np.array([[[cm, -sm], [sm, cm]], [[sm, cm], [-cm, sm]], [[cp, sp_], [sp_, -cp]], [[-sp_, cp], [cp, sp_]]])


class GEMConv(nn.Module):
    """Gauge-equivariant mesh convolution, GEM-CNN (de Haan, Weiler, Cohen & Welling 2021).

    Every channel is a feature of type :math:`\\rho_0\\oplus\\rho_1\\oplus\\dots\\oplus\\rho_M`
    (``max_order`` :math:`= M`): a scalar and :math:`M` tangent "vectors" of angular
    frequencies :math:`1..M`, stored as ``(num_nodes, channels, 2M+1)`` (see :func:`to_complex`).
    The layer computes

    .. math:: x'_p = K_\\text{self}\\,x_p + \\frac1{|\\mathcal N_p|}\\sum_{q\\in\\mathcal N_p}
       K_\\text{neigh}(\\theta_{pq})\\,\\rho_\\text{in}(g_{q\\to p})\\,x_q + \\beta,

    where :math:`\\rho_\\text{in}(g_{q\\to p})` parallel-transports the neighbour's feature into
    the gauge of :math:`p`, :math:`\\theta_{pq}` is the neighbour's angle there, and the kernel
    is a learned combination of the analytic equivariant basis (:func:`gem_kernel_basis`).
    In complex form (:math:`z_n` the type-:math:`n` part, :math:`s` the scalar) with
    :math:`y_{q,n} = e^{in(g_{q\\to p}-\\theta_{pq})}z_{q,n}` (the neighbour's feature seen from
    the edge direction, which no gauge change affects) and the aggregated Fourier moments
    :math:`Y^{(k)}_{p,n} = \\operatorname{mean}_q e^{ik\\theta_{pq}} y_{q,n}`,
    :math:`S^{(k)}_p = \\operatorname{mean}_q e^{ik\\theta_{pq}} s_q`, the output is

    .. math:: s'_p = w_{00} s_p + W_{00} S^{(0)}_p + \\sum_n \\operatorname{Re}\\big(a_{0n} Y^{(0)}_{p,n}\\big), \\quad
       z'_{p,m} = w_{mm} z_{p,m} + a_{m0} S^{(m)}_p + \\sum_n \\big(\\alpha_{mn} Y^{(m)}_{p,n} + \\beta_{mn}\\overline{Y^{(-m)}_{p,n}}\\big),

    (channel mixing implied; :math:`a, \\alpha, \\beta, w_{mm}` complex). Under a gauge change
    :math:`Y^{(k)}_p \\mapsto e^{-ik\\gamma_p}Y^{(k)}_p`, so :math:`s'` is invariant and
    :math:`z'_m` turns by :math:`e^{-im\\gamma_p}` exactly: the layer is gauge equivariant for
    every angle.

    Shapes:
        x: (num_nodes, in_channels, 2M+1); edge_index: (2, E) one-ring (neighbour, centre);
        theta, transport: (E,). Returns (num_nodes, out_channels, 2M+1).

    Introduced in: 5.6, :doc:`/book/05_models/05_6_2_gem_cnn`.
    """

    def __init__(self, in_channels: int, out_channels: int, max_order: int = 2, aggr: str = "mean", bias: bool = True) -> None:
        super().__init__()
        if max_order < 0:
            raise ValueError(f"max_order must be >= 0, got {max_order}")
        if aggr not in ("sum", "mean"):
            raise ValueError(f"aggr must be 'sum' or 'mean' (a linear aggregation keeps the kernel basis), got {aggr!r}")
        self.in_channels, self.out_channels, self.max_order, self.aggr = in_channels, out_channels, max_order, aggr
        M, O, C = max_order, out_channels, in_channels
        # real and imaginary parts stacked in the last dimension where the weight is complex
        self.w_self0 = nn.Parameter(torch.empty(O, C))           # 0 -> 0, self
        self.w_selfn = nn.Parameter(torch.empty(M, O, C, 2))     # n -> n, self (a I + b J)
        self.w00 = nn.Parameter(torch.empty(O, C))               # 0 -> 0, neighbours
        self.a_0n = nn.Parameter(torch.empty(M, O, C, 2))        # n -> 0
        self.a_m0 = nn.Parameter(torch.empty(M, O, C, 2))        # 0 -> m
        self.alpha = nn.Parameter(torch.empty(M, M, O, C, 2))    # n -> m, frequency m - n
        self.beta = nn.Parameter(torch.empty(M, M, O, C, 2))     # n -> m, frequency m + n
        self.bias = nn.Parameter(torch.empty(O)) if bias else None  # scalars only
        self.reset_parameters()

    def reset_parameters(self) -> None:
        fan = self.in_channels * (2 * self.max_order + 1) * 2
        for p in (self.w_self0, self.w_selfn, self.w00, self.a_0n, self.a_m0, self.alpha, self.beta):
            nn.init.normal_(p, std=1 / math.sqrt(fan))
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x, edge_index, theta, transport) -> torch.Tensor:
        _check_edges(x, edge_index, theta, transport, name="GEMConv")
        M = self.max_order
        if x.dim() != 3 or x.size(1) != self.in_channels or x.size(2) != 2 * M + 1:
            raise ValueError(f"GEMConv: x must have shape (num_nodes, {self.in_channels}, {2 * M + 1}), got {tuple(x.shape)}")
        q, p = edge_index
        N = x.size(0)
        cplx = lambda w: torch.complex(w[..., 0], w[..., 1]).to(torch.complex128 if x.dtype == torch.float64 else torch.complex64)
        s, z = to_complex(x, M)  # (N, C), (N, C, M)
        orders = torch.arange(1, M + 1, device=x.device, dtype=x.dtype)
        ks = torch.arange(-M, M + 1, device=x.device, dtype=x.dtype)  # frequencies k = -M..M
        y = torch.exp(1j * orders * (transport - theta)[:, None])[:, None, :] * z.index_select(0, q)  # (E, C, M)
        phase = torch.exp(1j * ks * theta[:, None])  # (E, 2M+1)
        Y = _mean_scatter(phase[:, None, None, :] * y[..., None], p, N, self.aggr)  # (N, C, M, 2M+1)
        S = _mean_scatter(phase[:, None, :] * s.index_select(0, q)[..., None], p, N, self.aggr)  # (N, C, 2M+1)
        k0 = M  # index of frequency 0
        s_out = s @ self.w_self0.t() + S[..., k0].real @ self.w00.t()
        if M:
            s_out = s_out + torch.einsum("ncj,joc->no", Y[..., k0], cplx(self.a_0n)).real
        outs = [s_out]
        if M:
            zs = []
            for m in range(1, M + 1):
                zm = z[:, :, m - 1] @ cplx(self.w_selfn[m - 1]).t() + S[..., k0 + m] @ cplx(self.a_m0[m - 1]).t()
                zm = zm + torch.einsum("ncj,joc->no", Y[..., k0 + m], cplx(self.alpha[m - 1]))
                zm = zm + torch.einsum("ncj,joc->no", Y[..., k0 - m].conj(), cplx(self.beta[m - 1]))
                zs.append(zm)
            out = from_complex(s_out, torch.stack(zs, -1))
        else:
            out = s_out.unsqueeze(-1)
        if self.bias is not None:
            out = out + torch.cat([self.bias[:, None], out.new_zeros(self.out_channels, 2 * M)], 1)
        return out


class RegularNonlinearity(nn.Module):
    """The regular non-linearity of GEM-CNN: read a feature of type
    :math:`\\rho_0\\oplus\\dots\\oplus\\rho_M` as the Fourier coefficients of a function on the
    circle, :math:`f(\\varphi) = s + \\sum_n (a_n\\cos n\\varphi + b_n\\sin n\\varphi)`, sample it at
    :math:`N` angles :math:`\\varphi_t = 2\\pi t/N`, apply a pointwise non-linearity :math:`\\sigma`
    and project back with the discrete Fourier transform.

    A gauge rotation by :math:`\\gamma` shifts :math:`f` to :math:`f(\\cdot + \\gamma)`; when
    :math:`\\gamma` is a multiple of :math:`2\\pi/N` this permutes the samples, which commutes
    with :math:`\\sigma`: exactly equivariant. Other angles give an error that shrinks as
    :math:`N` grows (the samples approximate the continuous circle).

    Shapes:
        x: (num_nodes, channels, 2M+1). Returns the same shape.

    Introduced in: 5.6, :doc:`/book/05_models/05_6_2_gem_cnn`.
    """

    def __init__(self, max_order: int, num_samples: int = 8, nonlinearity=torch.relu) -> None:
        super().__init__()
        if num_samples < 2 * max_order + 1:
            raise ValueError(f"num_samples must be >= 2*max_order+1 = {2 * max_order + 1} to resolve the features, got {num_samples}")
        self.max_order, self.num_samples, self.nonlinearity = max_order, num_samples, nonlinearity
        phi = 2 * math.pi * torch.arange(num_samples, dtype=torch.float64) / num_samples
        n = torch.arange(1, max_order + 1, dtype=torch.float64)
        cols = [torch.ones(num_samples, 1, dtype=torch.float64)]
        for k in range(max_order):
            cols += [torch.cos(n[k] * phi)[:, None], torch.sin(n[k] * phi)[:, None]]
        A = torch.cat(cols, 1)  # (N, 2M+1): samples = A @ coefficients
        self.register_buffer("synthesis", A, persistent=False)
        self.register_buffer("analysis", torch.linalg.pinv(A), persistent=False)  # exact DFT projection

    def reset_parameters(self) -> None:  # no parameters
        pass

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.size(-1) != 2 * self.max_order + 1:
            raise ValueError(f"RegularNonlinearity: last dimension must be {2 * self.max_order + 1}, got {x.size(-1)}")
        f = x @ self.synthesis.to(x.dtype).t()
        return self.nonlinearity(f) @ self.analysis.to(x.dtype).t()
