"""Scale separation: multiscale decompositions and coarse-graining of grids and graphs.

A *coarse-graining* is a map :math:`P: \\X(\\Omega) \\to \\X(\\Omega')` onto signals on a
coarser domain :math:`\\Omega'` (fewer points). The scale-separation prior says a target can be
approximated as :math:`f \\approx f' \\circ P`, or, more finely, that the interactions at each
scale can be processed locally and passed to the next coarser one.

This module holds the operators of section 3.4:

- the orthonormal Haar wavelet transform of signals (:func:`haar_decompose`) and images
  (:func:`haar_decompose_2d`): average + detail at every scale, perfectly invertible;
- local pooling (:func:`local_pool`) and its right inverse by repetition (:func:`upsample`);
- graph coarsening by heavy-edge matching (:func:`heavy_edge_matching`, :func:`coarsen_graph`,
  :func:`pool_graph_signal`), the Graclus-style coarsening used by spectral graph CNNs
  :cite:`dhillon2007weighted,defferrard2016convolutional`.

Introduced in: 3.4, :doc:`/book/03_priors/03_4_scale_separation` (scale separation); reused by the pooling blocks of 3.5.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

__all__ = [
    "haar_step",
    "haar_inverse_step",
    "haar_decompose",
    "haar_reconstruct",
    "haar_decompose_2d",
    "haar_reconstruct_2d",
    "local_pool",
    "upsample",
    "heavy_edge_matching",
    "Coarsening",
    "coarsen_graph",
    "pool_graph_signal",
    "unpool_graph_signal",
]

_SQRT2 = math.sqrt(2.0)


def _even(x: torch.Tensor, dim: int, what: str) -> None:
    if x.shape[dim] % 2:
        raise ValueError(f"{what}: the size along dim {dim} must be even, got shape {tuple(x.shape)}")


def haar_step(x: torch.Tensor, dim: int = -1) -> tuple[torch.Tensor, torch.Tensor]:
    """One level of the orthonormal Haar transform along ``dim``.

    .. math:: a_k = \\frac{x_{2k} + x_{2k+1}}{\\sqrt 2}, \\qquad d_k = \\frac{x_{2k} - x_{2k+1}}{\\sqrt 2}.

    :math:`a` is the coarse-grained signal (local averages, up to :math:`\\sqrt 2`), :math:`d`
    the detail lost by coarse-graining; :math:`\\lVert a\\rVert^2 + \\lVert d\\rVert^2 = \\lVert x\\rVert^2`.

    Shapes:
        x: ``(..., n, ...)`` with ``n`` even at ``dim``; outputs: ``n // 2`` at ``dim``.

    Introduced in: 3.4, :doc:`/book/03_priors/03_4_scale_separation`.
    """
    _even(x, dim, "haar_step")
    even = x.narrow(dim, 0, x.shape[dim]).unflatten(dim, (x.shape[dim] // 2, 2))
    d = dim % x.dim()
    e, o = even.select(d + 1, 0), even.select(d + 1, 1)
    return (e + o) / _SQRT2, (e - o) / _SQRT2


def haar_inverse_step(a: torch.Tensor, d: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Invert :func:`haar_step`: interleave :math:`(a+d)/\\sqrt2` and :math:`(a-d)/\\sqrt2`.

    Shapes:
        a, d: same shape, ``m`` at ``dim``; output: ``2m`` at ``dim``.

    Introduced in: 3.4, :doc:`/book/03_priors/03_4_scale_separation`.
    """
    if a.shape != d.shape:
        raise ValueError(f"haar_inverse_step: a and d must have the same shape, got {tuple(a.shape)} and {tuple(d.shape)}")
    dd = dim % a.dim()
    return torch.stack([(a + d) / _SQRT2, (a - d) / _SQRT2], dim=dd + 1).flatten(dd, dd + 1)


def haar_decompose(x: torch.Tensor, levels: int | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Multilevel Haar transform of signals along the last dim.

    Returns ``(approx, details)`` with ``details[0]`` the finest detail (length ``n/2``) and
    ``details[-1]`` the coarsest; ``approx`` has length :math:`n / 2^L`. The transform is
    orthonormal (energy preserving) and :func:`haar_reconstruct` inverts it.

    Shapes:
        x: ``(..., n)`` with :math:`2^L` dividing ``n``; default ``levels`` the largest such
        :math:`L`.

    Introduced in: 3.4, :doc:`/book/03_priors/03_4_scale_separation`.
    """
    n = x.shape[-1]
    max_levels = (n & -n).bit_length() - 1
    levels = max_levels if levels is None else levels
    if not 0 <= levels <= max_levels:
        raise ValueError(f"haar_decompose: {levels} levels need n divisible by 2^{levels}; n = {n} allows at most {max_levels}")
    details = []
    a = x
    for _ in range(levels):
        a, d = haar_step(a, -1)
        details.append(d)
    return a, details


def haar_reconstruct(approx: torch.Tensor, details: list[torch.Tensor]) -> torch.Tensor:
    """Invert :func:`haar_decompose` (details ordered fine to coarse).

    Setting some details to zero before reconstructing gives the coarse-grained approximation
    of the signal at that scale.

    Shapes:
        approx: ``(..., n / 2^L)``; details: the list from :func:`haar_decompose`; output: ``(..., n)``.

    Introduced in: 3.4, :doc:`/book/03_priors/03_4_scale_separation`.
    """
    a = approx
    for d in reversed(details):
        a = haar_inverse_step(a, d, -1)
    return a


def haar_decompose_2d(x: torch.Tensor, levels: int = 1) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]]:
    """Multilevel 2-D Haar transform (separable: rows then columns) of images.

    At each level the image splits into the average ``LL`` (passed on to the next level) and
    three details: ``(LH, HL, HH)`` = (vertical-difference/horizontal-edge,
    horizontal-difference/vertical-edge, diagonal). Orthonormal; inverted by
    :func:`haar_reconstruct_2d`.

    Shapes:
        x: ``(..., H, W)`` with H and W divisible by :math:`2^L`; ``LL``:
        ``(..., H/2^L, W/2^L)``; the details of level ``l`` (0 = finest):
        ``(..., H/2^{l+1}, W/2^{l+1})``.

    Introduced in: 3.4, :doc:`/book/03_priors/03_4_scale_separation`.
    """
    if x.dim() < 2:
        raise ValueError(f"haar_decompose_2d expects (..., H, W), got {tuple(x.shape)}")
    h, w = x.shape[-2:]
    if levels < 0 or h % 2**levels or w % 2**levels:
        raise ValueError(f"haar_decompose_2d: {levels} levels need H and W divisible by 2^{levels}, got {h}x{w}")
    details = []
    a = x
    for _ in range(levels):
        lo, hi = haar_step(a, -2)  # along rows (vertical)
        ll, lh_ = haar_step(lo, -1)
        hl_, hh = haar_step(hi, -1)
        # naming: LH = low along columns, high along rows (vertical difference)
        details.append((hl_, lh_, hh))
        a = ll
    return a, details


def haar_reconstruct_2d(approx: torch.Tensor, details) -> torch.Tensor:
    """Invert :func:`haar_decompose_2d`.

    Shapes:
        approx: ``(..., H / 2^L, W / 2^L)``; details: from :func:`haar_decompose_2d`; output: ``(..., H, W)``.

    Introduced in: 3.4, :doc:`/book/03_priors/03_4_scale_separation`.
    """
    a = approx
    for lh, hl, hh in reversed(details):
        lo = haar_inverse_step(a, hl, -1)
        hi = haar_inverse_step(lh, hh, -1)
        a = haar_inverse_step(lo, hi, -2)
    return a


def local_pool(x: torch.Tensor, factor: int = 2, *, ndim: int = 1, reduce: str = "mean") -> torch.Tensor:
    """Local pooling: replace each block of ``factor`` (or ``factor x factor``) samples by its
    mean or max.

    :math:`(Px)_k = \\frac{1}{s}\\sum_{i < s} x_{sk + i}` (``reduce="mean"``) or
    :math:`\\max_{i<s} x_{sk+i}` (``reduce="max"``), in each dim. Commutes with translations by multiples
    of the factor: :math:`P(T_{s t}x) = T_t(Px)` (a coarser grid's translations).

    Shapes:
        x: ``(..., n)`` (``ndim=1``) or ``(..., H, W)`` (``ndim=2``), sizes divisible by
        ``factor``; output: ``(..., n/s)`` or ``(..., H/s, W/s)``.

    Introduced in: 3.4, :doc:`/book/03_priors/03_4_scale_separation`.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"local_pool expects a torch.Tensor, got {type(x).__name__}")
    if ndim not in (1, 2):
        raise ValueError(f"local_pool: ndim must be 1 or 2, got {ndim!r}")
    if reduce not in ("mean", "max"):
        raise ValueError(f"local_pool: reduce must be 'mean' or 'max', got {reduce!r}")
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ValueError(f"local_pool: factor must be a positive integer, got {factor!r}")
    if x.dim() < ndim:
        raise ValueError(f"local_pool: x must have at least {ndim} dims, got shape {tuple(x.shape)}")
    for s in x.shape[-ndim:]:
        if s % factor:
            raise ValueError(f"local_pool: sizes {tuple(x.shape[-ndim:])} must be divisible by the factor {factor}")
    if x.is_floating_point() and x.dim() >= ndim and factor > 1:  # fast path: torch's pooling kernels
        batch = x.shape[:-ndim]
        flat = x.reshape(-1, 1, *x.shape[-ndim:])
        pool = {(1, "mean"): torch.nn.functional.avg_pool1d, (1, "max"): torch.nn.functional.max_pool1d,
                (2, "mean"): torch.nn.functional.avg_pool2d, (2, "max"): torch.nn.functional.max_pool2d}[(ndim, reduce)]
        out = pool(flat, factor)
        return out.reshape(*batch, *out.shape[-ndim:])
    y = x.unflatten(-1, (x.shape[-1] // factor, factor))
    red = (-1,)
    if ndim == 2:
        y = y.unflatten(-3, (x.shape[-2] // factor, factor))
        red = (-3, -1)
    return y.mean(red) if reduce == "mean" else y.amax(red)


def upsample(x: torch.Tensor, factor: int = 2, *, ndim: int = 1) -> torch.Tensor:
    """Nearest-neighbour upsampling, the right inverse of mean :func:`local_pool`.

    ``local_pool(upsample(y, s), s) == y``; ``upsample(local_pool(x, s), s)`` is the
    piecewise-constant coarse-grained version of ``x``.

    Shapes:
        x: ``(..., m)`` or ``(..., H, W)``; output: ``(..., s m)`` or ``(..., s H, s W)``.

    Introduced in: 3.4, :doc:`/book/03_priors/03_4_scale_separation`.
    """
    if ndim not in (1, 2):
        raise ValueError(f"ndim must be 1 or 2, got {ndim}")
    y = x
    for d in range(-ndim, 0):
        y = torch.repeat_interleave(y, int(factor), dim=d)
    return y


# ---------------------------------------------------------------------------------------------
# Graph coarsening
# ---------------------------------------------------------------------------------------------


def _to_scipy(adjacency, num_nodes: int | None = None) -> sp.csr_matrix:
    if isinstance(adjacency, sp.spmatrix) or (hasattr(sp, "sparray") and isinstance(adjacency, sp.sparray)):
        a = sp.csr_matrix(adjacency, dtype=np.float64)
    elif isinstance(adjacency, torch.Tensor) and adjacency.dim() == 2 and adjacency.shape[0] == 2 and (
        num_nodes is not None or adjacency.shape[1] != 2
    ) and not adjacency.is_floating_point():
        ei = adjacency.cpu().numpy()
        n = int(num_nodes if num_nodes is not None else ei.max() + 1)
        if ei.size and (ei.min() < 0 or ei.max() >= n):
            raise ValueError(f"edge_index has node ids outside 0..{n - 1}")
        a = sp.csr_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(n, n))
        a.data[:] = 1.0  # duplicate edges count once
        a.sum_duplicates()
        a.data[:] = 1.0
    else:
        dense = adjacency.detach().cpu().double().numpy() if isinstance(adjacency, torch.Tensor) else np.asarray(adjacency, dtype=np.float64)
        if dense.ndim != 2 or dense.shape[0] != dense.shape[1]:
            raise ValueError(f"adjacency must be a square matrix or a (2, E) edge_index, got shape {dense.shape}")
        a = sp.csr_matrix(dense)
    if a.shape[0] != a.shape[1]:
        raise ValueError(f"adjacency must be square, got {a.shape}")
    if abs(a - a.T).sum() > 1e-9 * max(1.0, abs(a).sum()):
        raise ValueError("adjacency must be symmetric (an undirected graph)")
    return a


def heavy_edge_matching(adjacency, *, num_nodes: int | None = None, seed: int = 0) -> np.ndarray:
    """Greedy heavy-edge matching: the cluster labels of one coarsening level.

    Visits the nodes in a random order (``seed``), lowest degree first as in Graclus
    :cite:`dhillon2007weighted`; each unmatched node is merged with the unmatched neighbour
    :math:`j` maximising the normalised cut weight :math:`w_{ij}(1/d_i + 1/d_j)`, or stays a
    singleton. Every cluster is a single node or an edge, so the number of nodes drops by at
    most half.

    Args:
        adjacency: dense ``(n, n)`` tensor/array, scipy sparse matrix, or a ``(2, E)`` integer
            ``edge_index`` (then pass ``num_nodes``); symmetric.

    Returns:
        The cluster id of each node, an ``(n,)`` integer array with ids ``0..n'-1``.

    Shapes:
        adjacency: ``(n, n)`` or ``(2, E)``; output: ``(n,)`` cluster ids.

    Introduced in: 3.4, :doc:`/book/03_priors/03_4_scale_separation`.
    """
    a = _to_scipy(adjacency, num_nodes).tocoo()
    n = a.shape[0]
    off = a.row != a.col  # self loops (merged weight of a previous level) do not count
    a = sp.csr_matrix((a.data[off], (a.row[off], a.col[off])), shape=(n, n))
    a.eliminate_zeros()
    deg = np.asarray(a.sum(1)).ravel()
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    order = order[np.argsort(deg[order], kind="stable")].tolist()
    inv = np.where(deg > 0, 1.0 / np.maximum(deg, 1e-300), 0.0).tolist()
    indptr, indices, data = a.indptr.tolist(), a.indices.tolist(), a.data.tolist()
    labels = [-1] * n
    k = 0
    for i in order:  # plain Python lists: much faster than NumPy calls per node
        if labels[i] >= 0:
            continue
        labels[i] = k
        best, best_score = -1, -1.0
        inv_i = inv[i]
        for t in range(indptr[i], indptr[i + 1]):
            j = indices[t]
            if labels[j] < 0:
                score = data[t] * (inv_i + inv[j])
                if score > best_score:
                    best, best_score = j, score
        if best >= 0:
            labels[best] = k
        k += 1
    return np.asarray(labels, dtype=np.int64)


@dataclass
class Coarsening:
    """The result of :func:`coarsen_graph`.

    Attributes:
        adjacencies: ``[A_0, A_1, ..., A_L]`` scipy CSR matrices, ``A_0`` the input graph and
            :math:`A_{l+1} = S_l^\\top A_l S_l` (self loops hold the merged internal weight).
        assignments: ``[S_0, ..., S_{L-1}]``, the ``(n_l, n_{l+1})`` 0/1 cluster-assignment
            matrices (scipy CSR).
        labels: ``[labels_0, ...]``, the cluster id of each node at each level.

    Introduced in: 3.4, :doc:`/book/03_priors/03_4_scale_separation`.
    """

    adjacencies: list
    assignments: list
    labels: list

    @property
    def sizes(self) -> list[int]:
        return [a.shape[0] for a in self.adjacencies]

    def assignment(self, level: int) -> sp.csr_matrix:
        """Composite assignment from the finest graph to level ``level``: :math:`S_0 S_1 \\cdots S_{l-1}`."""
        s = sp.identity(self.adjacencies[0].shape[0], format="csr")
        for m in self.assignments[:level]:
            s = s @ m
        return s.tocsr()


def coarsen_graph(adjacency, levels: int = 1, *, num_nodes: int | None = None, seed: int = 0) -> Coarsening:
    """Coarsen a graph ``levels`` times by heavy-edge matching.

    Level :math:`l+1` has one node per cluster of level :math:`l`, with
    :math:`A_{l+1} = S_l^\\top A_l S_l`: the weight between two clusters is the total weight
    of the edges between them (and the diagonal keeps the weight inside a cluster), so the
    total weight :math:`\\mathbf 1^\\top A \\mathbf 1` is preserved.

    Shapes:
        adjacency: ``(n, n)`` (dense/sparse) or ``(2, E)`` edge_index.

    Introduced in: 3.4, :doc:`/book/03_priors/03_4_scale_separation`.
    """
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 0:
        raise ValueError(f"coarsen_graph: levels must be an integer >= 0, got {levels!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"coarsen_graph: seed must be an int, got {seed!r}")
    a = _to_scipy(adjacency, num_nodes)
    adjs, assigns, labels = [a], [], []
    for l in range(levels):
        lab = heavy_edge_matching(adjs[-1], seed=seed + l)
        n, m = len(lab), int(lab.max()) + 1 if len(lab) else 0
        s = sp.csr_matrix((np.ones(n), (np.arange(n), lab)), shape=(n, m))
        adjs.append((s.T @ adjs[-1] @ s).tocsr())
        assigns.append(s)
        labels.append(lab)
    return Coarsening(adjs, assigns, labels)


def _assignment_tensor(assignment, n: int) -> tuple[torch.Tensor, int]:
    if isinstance(assignment, (sp.spmatrix,)) or (hasattr(sp, "sparray") and isinstance(assignment, sp.sparray)):
        coo = sp.coo_matrix(assignment)
        if coo.shape[0] != n:
            raise ValueError(f"assignment has {coo.shape[0]} rows, the signal has {n} nodes")
        lab = np.full(n, -1)
        lab[coo.row] = coo.col
        if (lab < 0).any():
            raise ValueError("every node must belong to a cluster")
        return torch.as_tensor(lab, dtype=torch.long), coo.shape[1]
    lab = torch.as_tensor(np.asarray(assignment), dtype=torch.long)
    if lab.shape != (n,):
        raise ValueError(f"cluster labels must have shape ({n},), got {tuple(lab.shape)}")
    if lab.numel() and lab.min() < 0:
        raise ValueError("cluster labels must be >= 0")
    return lab, int(lab.max()) + 1 if lab.numel() else 0


def pool_graph_signal(x: torch.Tensor, assignment, reduce: str = "mean") -> torch.Tensor:
    """Pool node features onto the clusters: :math:`x'_c = \\mathrm{reduce}_{i \\in c}\\, x_i`.

    ``mean`` is :math:`D^{-1}S^\\top x` (:math:`D` the cluster sizes), ``sum`` is
    :math:`S^\\top x`, ``max`` the elementwise maximum.

    Shapes:
        x: ``(n, C)`` or ``(n,)``; assignment: ``(n,)`` labels or an ``(n, n')`` assignment
        matrix; output: ``(n', C)`` or ``(n',)``.

    Introduced in: 3.4, :doc:`/book/03_priors/03_4_scale_separation`.
    """
    if not isinstance(x, torch.Tensor) or x.dim() < 1:
        raise TypeError(f"pool_graph_signal expects node features x as a torch.Tensor of shape (n, ...), got {type(x).__name__}")
    if reduce not in ("mean", "sum", "max"):
        raise ValueError(f"pool_graph_signal: reduce must be 'mean', 'sum' or 'max', got {reduce!r}")
    lab, m = _assignment_tensor(assignment, x.shape[0])
    lab = lab.to(x.device)
    shape = (m, *x.shape[1:])
    if reduce in ("sum", "mean"):
        out = torch.zeros(shape, dtype=x.dtype, device=x.device).index_add_(0, lab, x)
        if reduce == "mean":
            cnt = torch.bincount(lab, minlength=m).clamp_min(1).to(x.dtype)
            out = out / cnt.reshape(-1, *([1] * (x.dim() - 1)))
        return out
    if reduce == "max":
        idx = lab.reshape(-1, *([1] * (x.dim() - 1))).expand_as(x)
        return torch.full(shape, -torch.inf, dtype=x.dtype, device=x.device).scatter_reduce(0, idx, x, "amax")
    raise ValueError(f"reduce must be 'mean', 'sum' or 'max', got {reduce!r}")


def unpool_graph_signal(x: torch.Tensor, assignment, num_nodes: int | None = None) -> torch.Tensor:
    """Copy cluster features back to their nodes: :math:`S x'` (the graph analogue of :func:`upsample`).

    Shapes:
        x: ``(n', C)``; assignment: ``(n,)`` labels or an
        ``(n, n')`` matrix; output: ``(n, C)``.

    Introduced in: 3.4, :doc:`/book/03_priors/03_4_scale_separation`.
    """
    if isinstance(assignment, (sp.spmatrix,)) or (hasattr(sp, "sparray") and isinstance(assignment, sp.sparray)):
        n = assignment.shape[0]
    else:
        n = len(assignment) if num_nodes is None else num_nodes
    lab, m = _assignment_tensor(assignment, n)
    if x.shape[0] < m:
        raise ValueError(f"x has {x.shape[0]} clusters' features, the assignment uses {m}")
    return x[lab.to(x.device)]
