"""Spectral analysis on graphs: the graph Fourier transform, spectral filters with a full
eigenbasis, and polynomial (Chebyshev) filters that need no eigendecomposition.

For a symmetric Laplacian :math:`L = U \\Lambda U^\\top` (eigenvalues
:math:`0 = \\lambda_1 \\le \\dots \\le \\lambda_n`, orthonormal eigenvectors in the columns of
:math:`U`), the graph Fourier transform of a signal :math:`x` is :math:`\\hat x = U^\\top x` and
a spectral filter :math:`g` acts as

.. math:: g(L)\\,x = U\\, g(\\Lambda)\\, U^\\top x .

A polynomial filter :math:`g(\\lambda) = \\sum_k \\theta_k T_k(\\tilde\\lambda)` in the Chebyshev
polynomials of the rescaled :math:`\\tilde\\lambda = 2\\lambda/\\lambda_{\\max} - 1 \\in [-1, 1]`
is applied with the three-term recursion

.. math:: \\bar x_0 = x,\\quad \\bar x_1 = \\tilde L x,\\quad
          \\bar x_k = 2\\tilde L\\,\\bar x_{k-1} - \\bar x_{k-2},\\qquad
          g(L)x = \\sum_{k=0}^{K-1} \\theta_k \\bar x_k ,

with :math:`\\tilde L = 2L/\\lambda_{\\max} - I`: :math:`K-1` sparse products, so the cost is
:math:`O(K\\,|E|\\,F)` and the filter is :math:`(K-1)`-hop localised
(Defferrard, Bresson & Vandergheynst, 2016).

Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
"""
from __future__ import annotations

import math
from typing import Callable, Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn

from ._sparse import _csr as _csr_tensor
from ._sparse import _csr_struct
from .graphs import _check_count, check_edge_index, check_edge_weight, laplacian, num_nodes_of

__all__ = [
    "laplacian_eigh",
    "gft",
    "igft",
    "spectral_filter",
    "heat_filter",
    "chebyshev_coefficients",
    "chebyshev_filter",
    "scaled_laplacian",
    "ScaledLaplacian",
    "ChebConv",
    "dirichlet_energy",
]


# ------------------------------------------------------------------ full eigenbasis
def laplacian_eigh(
    edge_index: Tensor,
    num_nodes: int | None = None,
    edge_weight: Tensor | None = None,
    normalization: Literal["sym"] | None = None,
    k: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending) and orthonormal eigenvectors of the Laplacian of an undirected
    graph: :math:`L = U\\Lambda U^\\top`.

    With ``k`` given, only the ``k`` smallest eigenpairs (``scipy.sparse.linalg.eigsh`` in
    shift-invert mode, for large graphs); otherwise a dense ``torch.linalg.eigh`` in float64.

    Shapes:
        edge_index: ``(2, E)``; returns ``(n,)`` and ``(n, n)`` (or ``(k,)``, ``(n, k)``).

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    if normalization not in (None, "sym"):
        raise ValueError("laplacian_eigh needs a symmetric Laplacian: normalization None or 'sym'")
    n = num_nodes_of(check_edge_index(edge_index, num_nodes), num_nodes)
    if k is None:
        L = laplacian(edge_index, n, edge_weight, normalization, dtype=torch.float64)
        if not torch.allclose(L, L.T, atol=1e-10):
            raise ValueError("the Laplacian is not symmetric: list both directions of every edge")
        lam, U = torch.linalg.eigh(L)
        return lam, U
    k = _check_count(k, "k", 1)
    if not k < n:
        raise ValueError(f"k must be in [1, n) = [1, {n}), got {k}")
    from scipy.sparse.linalg import eigsh

    L = laplacian(edge_index, n, edge_weight, normalization, format="scipy", dtype=torch.float64)
    v0 = np.random.default_rng(0).normal(size=n)
    lam, U = eigsh(L, k=k, sigma=-1e-3, which="LM", v0=v0)
    order = np.argsort(lam)
    return torch.from_numpy(lam[order]), torch.from_numpy(U[:, order])


def _check_basis(U: Tensor, x: Tensor) -> None:
    if not isinstance(x, Tensor) or not isinstance(U, Tensor):
        raise TypeError(f"x and U must be torch tensors, got {type(x).__name__} and {type(U).__name__}")
    if x.dim() not in (1, 2):
        raise ValueError(f"x must be a signal (n,) or (n, F), got shape {tuple(x.shape)}")
    if U.dim() != 2:
        raise ValueError(f"U must be a matrix of eigenvectors (n, k), got {tuple(U.shape)}")
    if x.size(0) != U.size(0):
        raise ValueError(f"x must have one row per node: expected {U.size(0)}, got {x.size(0)}")


def gft(x: Tensor, U: Tensor) -> Tensor:
    """Graph Fourier transform :math:`\\hat x = U^\\top x`.

    Shapes:
        x: ``(n,)`` or ``(n, F)``; U: ``(n, k)``; returns ``(k,)`` or ``(k, F)``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    _check_basis(U, x)
    return U.T.to(x.dtype) @ x


def igft(x_hat: Tensor, U: Tensor) -> Tensor:
    """Inverse graph Fourier transform :math:`x = U\\hat x`.

    Shapes:
        x_hat: ``(k,)`` or ``(k, F)``; U: ``(n, k)``; returns ``(n,)`` or ``(n, F)``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    if not isinstance(x_hat, Tensor) or not isinstance(U, Tensor) or U.dim() != 2 or x_hat.dim() not in (1, 2):
        raise ValueError("igft needs tensors x_hat (k,) or (k, F) and U (n, k)")
    if x_hat.size(0) != U.size(1):
        raise ValueError(f"x_hat must have one row per eigenvector: expected {U.size(1)}, got {x_hat.size(0)}")
    return U.to(x_hat.dtype) @ x_hat


def spectral_filter(x: Tensor, lam: Tensor, U: Tensor, g: Callable[[Tensor], Tensor] | Tensor) -> Tensor:
    """Apply a spectral filter with a full (or truncated) eigenbasis:
    :math:`U\\,\\operatorname{diag}(g(\\lambda))\\,U^\\top x`.

    Args:
        g: a function of the eigenvalues (e.g. ``lambda l: torch.exp(-t * l)``) or the tensor
            of its values :math:`g(\\lambda_i)`.

    Shapes:
        x: ``(n,)`` or ``(n, F)``; lam: ``(k,)``; U: ``(n, k)``; returns like ``x``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    _check_basis(U, x)
    gl = g(lam) if callable(g) else torch.as_tensor(g)
    if gl.shape != lam.shape:
        raise ValueError(f"g(lambda) must have the shape of lambda {tuple(lam.shape)}, got {tuple(gl.shape)}")
    xh = gft(x, U)
    gl = gl.to(xh.dtype)
    return igft(gl[:, None] * xh if xh.dim() == 2 else gl * xh, U)


def heat_filter(t: float) -> Callable[[Tensor], Tensor]:
    """The low-pass spectral filter of heat diffusion for time ``t``, as a function of the
    eigenvalues for :func:`spectral_filter`:

    .. math:: g(\\lambda) = e^{-t\\lambda}, \\qquad g(L)x = e^{-tL}x .

    (The heat *kernel matrix* of a mesh is :func:`gdlutils.mesh.heat_kernel`.)

    Shapes:
        the returned function maps eigenvalues ``(k,)`` to ``(k,)``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
        raise ValueError(f"t must be a finite diffusion time >= 0, got {t!r}")
    return lambda lam: torch.exp(-t * lam)


def dirichlet_energy(x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
    """Dirichlet energy :math:`\\tfrac12\\sum_{(u,v)} w_{uv}\\lVert x_u - x_v\\rVert^2`
    (each directed edge counted, so :math:`x^\\top L x` for an undirected graph listing both
    directions). Small for smooth signals.

    Shapes:
        x: ``(n,)`` or ``(n, F)``; edge_weight: ``(E,)``; returns a scalar.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    if not isinstance(x, Tensor) or x.dim() not in (1, 2):
        raise ValueError(f"x must be a tensor of shape (n,) or (n, F), got {getattr(x, 'shape', type(x).__name__)}")
    edge_index = check_edge_index(edge_index, x.size(0))
    d = x[edge_index[0]] - x[edge_index[1]]
    d2 = d.pow(2) if d.dim() == 1 else d.pow(2).sum(-1)
    w = torch.ones_like(d2) if edge_weight is None else check_edge_weight(edge_weight, edge_index.size(1)).to(d2.dtype)
    return 0.5 * (w * d2).sum()


# ------------------------------------------------------------------ Chebyshev polynomials
def chebyshev_coefficients(g: Callable[[np.ndarray], np.ndarray], K: int, lambda_max: float = 2.0) -> Tensor:
    """Coefficients :math:`\\theta_0..\\theta_{K-1}` of the degree-:math:`(K-1)` Chebyshev
    interpolant of :math:`g` on :math:`[0, \\lambda_{\\max}]`:
    :math:`g(\\lambda) \\approx \\sum_k \\theta_k T_k(2\\lambda/\\lambda_{\\max} - 1)`
    (interpolation at the Chebyshev nodes, exact for polynomials of degree < K).

    Shapes:
        returns ``(K,)`` (float64).

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    K = _check_count(K, "K", 1)
    if not callable(g):
        raise TypeError(f"g must be a function of the eigenvalues, got {type(g).__name__}")
    if not (math.isfinite(lambda_max) and lambda_max > 0):
        raise ValueError(f"lambda_max must be a positive finite number, got {lambda_max}")
    j = np.arange(K)
    t = np.cos(np.pi * (j + 0.5) / K)  # nodes in [-1, 1]
    lam = (t + 1) * lambda_max / 2
    vals = np.asarray(g(lam), dtype=np.float64)
    T = np.cos(np.outer(np.arange(K), np.arccos(t)))  # T_k(t_j)
    theta = 2.0 / K * T @ vals
    theta[0] /= 2
    return torch.from_numpy(theta)


class ScaledLaplacian:
    """The rescaled Laplacian :math:`\\tilde L = 2L/\\lambda_{\\max} - I` as CSR sparse
    matrices, built from ``edge_index`` exactly as ``torch_geometric.nn.ChebConv`` does
    (self-loops removed, ``lambda_max = 2 * max(L)`` by default, i.e. 2 for ``"sym"``/``"rw"``).

    ``matrix`` is the propagation operator :math:`P` with ``(P x)[v] = sum over edges u -> v``
    (so :math:`P = \\tilde L^\\top`); ``matrix_t`` (:math:`P^\\top`, used by the backward pass)
    is built on first use.

    Shapes:
        rows, cols, vals: ``(E',)``; ``matrix``: ``(n, n)`` sparse CSR.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """

    def __init__(self, rows: Tensor, cols: Tensor, vals: Tensor, n: int):
        self.n = n
        self._rows, self._cols, self._vals = rows, cols, vals
        self.matrix = _csr(cols, rows, vals, n)  # row index = target
        self._matrix_t: Tensor | None = None

    @property
    def matrix_t(self) -> Tensor:
        if self._matrix_t is None:
            self._matrix_t = _csr(self._rows, self._cols, self._vals, self.n)
        return self._matrix_t

    def to_dense(self) -> Tensor:
        """:math:`\\tilde L` as a dense ``(n, n)`` tensor (row = source, as :func:`gdlutils.graphs.laplacian`)."""
        out = torch.zeros(self.n, self.n, dtype=self._vals.dtype, device=self._vals.device)
        return out.index_put_((self._rows, self._cols), self._vals, accumulate=True)


def _csr(rows: Tensor, cols: Tensor, vals: Tensor, n: int) -> Tensor:
    crow, col, order = _csr_struct(rows, cols, n)  # the one CSR construction (a counting sort)
    return _csr_tensor(crow, col, vals[order], n)


def scaled_laplacian(
    edge_index: Tensor,
    num_nodes: int | None = None,
    edge_weight: Tensor | None = None,
    normalization: Literal["sym", "rw"] | None = "sym",
    lambda_max: float | Tensor | None = None,
    batch: Tensor | None = None,
    dtype: torch.dtype | None = None,
) -> ScaledLaplacian:
    """Build :math:`\\tilde L = 2L/\\lambda_{\\max} - I` (see :class:`ScaledLaplacian`).

    Follows ``torch_geometric.utils.get_laplacian`` + ``ChebConv``: self-loops of the input are
    dropped; ``lambda_max`` defaults to twice the largest entry of :math:`L` (2 for ``"sym"``
    and ``"rw"``, :math:`2\\max_u d_u` for the combinatorial :math:`L`, both upper bounds of
    the spectrum); with a ``batch`` vector ``lambda_max`` may hold one value per graph.
    Cost: :math:`O(|E| \\log |E|)` (one sort), memory :math:`O(|E| + n)`.

    Shapes:
        edge_index: ``(2, E)``; edge_weight: ``(E,)``; batch: ``(n,)``; lambda_max: scalar or
        ``(num_graphs,)``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    if normalization not in (None, "sym", "rw"):
        raise ValueError(f"normalization must be None, 'sym' or 'rw', got {normalization!r}")
    edge_index = check_edge_index(edge_index, num_nodes)
    n = num_nodes_of(edge_index, num_nodes)
    dtype = dtype or (edge_weight.dtype if edge_weight is not None else torch.get_default_dtype())
    w = torch.ones(edge_index.size(1), dtype=dtype, device=edge_index.device) if edge_weight is None else check_edge_weight(edge_weight, edge_index.size(1)).to(dtype)
    keep = edge_index[0] != edge_index[1]
    row, col = edge_index[0][keep], edge_index[1][keep]
    w = w[keep]
    deg = torch.zeros(n, dtype=dtype, device=w.device).index_add_(0, row, w)
    if normalization is None:
        off, diag = -w, deg
    elif normalization == "sym":
        dis = deg.pow(-0.5)
        dis = dis.masked_fill(torch.isinf(dis), 0)
        off, diag = -dis[row] * w * dis[col], torch.ones(n, dtype=dtype, device=w.device)
    else:
        di = deg.pow(-1.0)
        di = di.masked_fill(torch.isinf(di), 0)
        off, diag = -di[row] * w, torch.ones(n, dtype=dtype, device=w.device)
    loop = torch.arange(n, device=edge_index.device)
    rows, cols = torch.cat([row, loop]), torch.cat([col, loop])
    vals = torch.cat([off, diag])
    if lambda_max is None:
        lam = 2.0 * vals.max() if vals.numel() else torch.tensor(2.0, dtype=dtype)
    else:
        lam = torch.as_tensor(lambda_max, dtype=dtype, device=vals.device)
    if batch is not None and lam.numel() > 1:
        if batch.shape != (n,):
            raise ValueError(f"batch must have shape (n,) = ({n},), got {tuple(batch.shape)}")
        lam = lam[batch[rows]]
    elif lam.numel() != 1:
        raise ValueError("lambda_max must be a scalar (or one value per graph together with batch)")
    vals = 2.0 * vals / lam
    vals = vals.masked_fill(torch.isinf(vals), 0)
    vals = torch.cat([vals[: off.numel()], vals[off.numel():] - 1])
    return ScaledLaplacian(rows, cols, vals, n)


class _ChebBasis(torch.autograd.Function):
    """Z_1..Z_{K-1} of the Chebyshev recursion Z_k = 2 P Z_{k-1} - Z_{k-2} (Z_0 = x, Z_1 = P x).

    The map is linear in x, so the backward pass needs no saved activations: it runs the
    adjoint recursion with P^T (again K-1 sparse products).
    """

    @staticmethod
    def forward(ctx, x: Tensor, K: int, lap: ScaledLaplacian):
        ctx.lap, ctx.K = lap, K
        P = lap.matrix
        zs = [x, torch.sparse.mm(P, x) if x.dim() == 2 else (P @ x[:, None])[:, 0]]
        for _ in range(2, K):
            zs.append(torch.addmm(zs[-2], P, zs[-1], beta=-1, alpha=2))
        return tuple(zs[1:])

    @staticmethod
    def backward(ctx, *grads):
        K, PT = ctx.K, ctx.lap.matrix_t
        a = [None] + [g for g in grads]  # adjoints of Z_0..Z_{K-1}
        if all(g is None for g in grads):
            return None, None, None
        ref = next(g for g in grads if g is not None)
        a = [torch.zeros_like(ref) if g is None else g for g in a[1:]]
        a = [None] + a
        a0 = torch.zeros_like(ref)
        for k in range(K - 1, 1, -1):
            a[k - 1] = torch.addmm(a[k - 1], PT, a[k], alpha=2)
            if k - 2 == 0:
                a0 = a0 - a[k]
            else:
                a[k - 2] = a[k - 2] - a[k]
        a0 = torch.addmm(a0, PT, a[1])
        return a0, None, None


def chebyshev_filter(
    x: Tensor,
    edge_index: Tensor | ScaledLaplacian,
    theta: Tensor,
    edge_weight: Tensor | None = None,
    normalization: Literal["sym", "rw"] | None = "sym",
    lambda_max: float | None = None,
) -> Tensor:
    """Polynomial spectral filter :math:`\\sum_{k<K} \\theta_k T_k(\\tilde L)\\,x` with no
    eigendecomposition (``K = len(theta)``): :math:`K-1` sparse products with the CSR matrix
    :math:`\\tilde L`, linear in the number of edges.

    ``edge_index`` may also be a prebuilt :class:`ScaledLaplacian`. For an undirected graph
    and ``lambda_max`` at least the largest eigenvalue, this equals
    ``spectral_filter(x, lam, U, g)`` with :math:`g(\\lambda) = \\sum_k\\theta_k T_k(2\\lambda/\\lambda_{\\max} - 1)`.

    Shapes:
        x: ``(n,)`` or ``(n, F)``; theta: ``(K,)`` or ``(K, F, F_out)`` (a matrix per order,
        as in ChebNet); returns ``(n,)``, ``(n, F)`` or ``(n, F_out)``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """
    theta = torch.as_tensor(theta)
    if theta.dim() not in (1, 3) or theta.size(0) < 1:
        raise ValueError(f"theta must have shape (K,) or (K, F_in, F_out), got {tuple(theta.shape)}")
    lap = edge_index if isinstance(edge_index, ScaledLaplacian) else scaled_laplacian(
        edge_index, x.size(0), edge_weight, normalization, lambda_max, dtype=x.dtype
    )
    if lap.n != x.size(0):
        raise ValueError(f"x must have one row per node: expected {lap.n}, got {x.size(0)}")
    K = theta.size(0)
    squeeze = x.dim() == 1
    xx = x[:, None] if squeeze else x
    zs = [xx] + (list(_ChebBasis.apply(xx, K, lap)) if K > 1 else [])
    if theta.dim() == 1:
        out = sum(t * z for t, z in zip(theta.to(x.dtype), zs))
    else:
        if theta.size(1) != xx.size(1):
            raise ValueError(f"theta has F_in = {theta.size(1)} but x has {xx.size(1)} channels")
        out = sum(z @ t for t, z in zip(theta.to(x.dtype), zs))
    return out[:, 0] if squeeze and theta.dim() == 1 else out


class ChebConv(nn.Module):
    """Chebyshev spectral graph convolution (ChebNet) (Defferrard, Bresson & Vandergheynst, 2016):

    .. math:: X' = \\sum_{k=0}^{K-1} T_k(\\tilde L)\\,X\\,\\Theta_k + b,\\qquad
              \\tilde L = \\frac{2L}{\\lambda_{\\max}} - I,

    computed with the recursion :math:`Z_0 = X`, :math:`Z_1 = \\tilde LX`,
    :math:`Z_k = 2\\tilde L Z_{k-1} - Z_{k-2}` on a CSR sparse :math:`\\tilde L`: cost
    :math:`O(K|E|F_{in} + Kn F_{in}F_{out})`, linear in the number of edges. The backward pass
    runs the adjoint recursion with :math:`\\tilde L^\\top`, storing no intermediate.

    Same parameters, initialisation (Glorot weights, zero bias), Laplacian and ``lambda_max``
    default (2 for ``"sym"`` and ``"rw"``) as ``torch_geometric.nn.ChebConv``, with the same
    parameter names: ``ours.load_state_dict(pyg_conv.state_dict())`` gives identical outputs.

    Args:
        in_channels, out_channels: feature sizes :math:`F_{in}`, :math:`F_{out}`.
        K: number of Chebyshev terms (the filter is :math:`(K-1)`-hop localised), ``K >= 1``.
        normalization: ``"sym"`` (:math:`I - D^{-1/2}AD^{-1/2}`), ``"rw"``
            (:math:`I - D^{-1}A`) or ``None`` (:math:`D - A`).
        bias: learn an additive bias.
        cached: build :math:`\\tilde L` on the first call and reuse it afterwards (only for a
            fixed graph, transductive learning); otherwise it is rebuilt from ``edge_index`` on
            every call (one sort, :math:`O(|E|\\log|E|)`).

    Shapes:
        x: ``(n, F_in)``; edge_index: ``(2, E)``; edge_weight: ``(E,)``; lambda_max: scalar or
        ``(num_graphs,)`` with ``batch`` ``(n,)``; returns ``(n, F_out)``.

    Gradients flow to ``x`` and the parameters; if ``edge_weight`` requires grad, a slower
    gather/scatter path is used so that it gets a gradient too.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        K: int,
        normalization: Literal["sym", "rw"] | None = "sym",
        bias: bool = True,
        cached: bool = False,
    ):
        super().__init__()
        K = _check_count(K, "K", 1)
        if normalization not in (None, "sym", "rw"):
            raise ValueError(f"normalization must be None, 'sym' or 'rw', got {normalization!r}")
        in_channels, out_channels = _check_count(in_channels, "in_channels", 1), _check_count(out_channels, "out_channels", 1)
        self.in_channels, self.out_channels, self.K = in_channels, out_channels, K
        self.normalization, self.cached = normalization, cached
        self.lins = nn.ModuleList(nn.Linear(in_channels, out_channels, bias=False) for _ in range(self.K))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self._cache: ScaledLaplacian | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform weights, zero bias (as PyG); clears the cached Laplacian."""
        for lin in self.lins:
            nn.init.xavier_uniform_(lin.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self._cache = None

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_weight: Tensor | None = None,
        lambda_max: float | Tensor | None = None,
        *,
        batch: Tensor | None = None,
    ) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(f"ChebConv: x must have shape (n, {self.in_channels}), got {getattr(x, 'shape', type(x).__name__)}")
        n = x.size(0)
        edge_index = check_edge_index(edge_index, n)
        if edge_weight is not None and edge_weight.requires_grad and torch.is_grad_enabled():
            return self._forward_differentiable_weights(x, edge_index, edge_weight, lambda_max, batch)
        if self.cached and self._cache is not None:
            lap = self._cache
            if lap.n != n:
                raise ValueError(f"cached Laplacian has {lap.n} nodes but x has {n} rows; use cached=False")
        else:
            lap = scaled_laplacian(edge_index, n, edge_weight, self.normalization, lambda_max, batch, dtype=x.dtype)
            if self.cached:
                self._cache = lap
        zs = [x] + (list(_ChebBasis.apply(x, self.K, lap)) if self.K > 1 else [])
        out = self.lins[0](zs[0])
        for lin, z in zip(self.lins[1:], zs[1:]):
            out = out + lin(z)
        if self.bias is not None:
            out = out + self.bias
        return out

    def _forward_differentiable_weights(self, x, edge_index, edge_weight, lambda_max, batch):
        lap = scaled_laplacian(edge_index, x.size(0), edge_weight, self.normalization, lambda_max, batch, dtype=x.dtype)
        rows, cols, vals = lap._rows, lap._cols, lap._vals

        def prop(z):
            return torch.zeros_like(z).index_add(0, cols, vals[:, None] * z[rows])

        z0, out = x, self.lins[0](x)
        if self.K > 1:
            z1 = prop(x)
            out = out + self.lins[1](z1)
            for lin in self.lins[2:]:
                z2 = 2 * prop(z1) - z0
                out = out + lin(z2)
                z0, z1 = z1, z2
        return out + self.bias if self.bias is not None else out

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, K={self.K}, "
            f"normalization={self.normalization}, cached={self.cached}"
        )
