"""Groups, their actions on signals, and numerical symmetry checks.

A *group* here is any object that can list its elements (``elements()``) or, for a
continuous group, draw random ones (``sample(n, generator)``). An *action* on signals is a
function ``rho(g, x)`` returning the transformed signal :math:`\\rho(g)x`.

:func:`check_equivariance` measures, for every (or a sample of) group element :math:`g`,

.. math:: e(g) = \\lVert f(\\rho_{\\text{in}}(g)\\,x) - \\rho_{\\text{out}}(g)\\,f(x) \\rVert_\\infty ,

and :func:`check_invariance` the same with :math:`\\rho_{\\text{out}}(g) = \\mathrm{id}`.

What is here:

- finite groups: :class:`CyclicGroup` :math:`C_n`, :class:`DihedralGroup` :math:`D_n`,
  :class:`SymmetricGroup` :math:`S_n`, :class:`PermutationGroup` (e.g.
  :func:`automorphism_group` of a graph), :class:`TranslationGroup2D`, :class:`P4Group`
  (p4 and p4m on the square torus); sampled continuous groups :class:`SO2`, :class:`SO3`, and
  the Euclidean groups of 5.5, :class:`O3` (rotations and reflections) and :class:`E3` (with
  translations), acting on point clouds by :func:`transform_points` and on vector features by
  :func:`transform_vectors`;
- actions on images (:func:`rotate_image` for :math:`C_4`, :func:`act_on_image` for
  :math:`D_4`, :func:`translate_image`) and on point clouds (:func:`rotate_points`);
- group tables and axioms (:func:`cayley_table`, :func:`check_group_axioms`), representations
  (:func:`regular_representation`, :func:`regular_action`, :func:`permutation_matrix`,
  :func:`check_homomorphism`) and the irreducible representations of :math:`C_n`
  (:func:`cyclic_irrep`, :func:`dft_matrix`);
- the numerical symmetry checks :func:`check_equivariance`, :func:`check_invariance`, with
  their :class:`SymmetryReport` and :class:`EquivarianceError`.

Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries` (symmetries, representations and invariance); used in every chapter after.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch

__all__ = [
    "CyclicGroup",
    "SymmetricGroup",
    "SymmetryReport",
    "EquivarianceError",
    "check_equivariance",
    "check_invariance",
    "group_elements",
    "DihedralGroup",
    "TranslationGroup2D",
    "P4Group",
    "rotate_image",
    "act_on_image",
    "translate_image",
    "SO2",
    "SO3",
    "quaternion_to_matrix",
    "rotate_points",
    "element_index",
    "cayley_table",
    "check_group_axioms",
    "regular_representation",
    "regular_action",
    "resolve_group",
    "p4_element",
    "PermutationGroup",
    "automorphism_group",
    "permutation_matrix",
    "check_homomorphism",
    "cyclic_irrep",
    "dft_matrix",
    "O3",
    "E3",
    "transform_points",
    "transform_vectors",
]

Action = Callable[[Any, Any], Any]


# ---------------------------------------------------------------------------------------------
# 1. Finite groups
# every finite group lists its elements, composes, inverts and samples; the shared
# bookkeeping lives in _FiniteGroup
# ---------------------------------------------------------------------------------------------


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) and not (
        isinstance(value, float) and value.is_integer()
    ):
        raise TypeError(f"{what} must be a positive integer, got {value!r} of type {type(value).__name__}")
    if int(value) < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


class _FiniteGroup:
    """Shared bookkeeping of the finite groups: a size parameter validated once, ``repr``,
    ``len`` (the order :math:`|G|`) and uniform sampling from ``elements()``.

    A subclass sets ``_params`` (the constructor's parameter names, shown by ``repr``) and
    defines ``elements``, ``identity``, ``compose``, ``inverse`` and ``order``.
    """

    _params: tuple[str, ...] = ("n",)

    def __init__(self, n: int):
        self.n = _positive_int(n, f"{type(self).__name__}(n)")

    def __repr__(self) -> str:
        args = ", ".join(repr(getattr(self, name)) for name in self._params)
        return f"{type(self).__name__}({args})"

    def order(self) -> int:
        return len(self.elements())

    def __len__(self) -> int:
        return self.order()

    def sample(self, num: int, generator: torch.Generator | None = None) -> list:
        """``num`` elements drawn uniformly with replacement (``generator`` as in ``torch.randint``)."""
        num = _positive_int(num, "sample(num)")
        elems = self.elements()
        idx = torch.randint(len(elems), (num,), generator=generator).tolist()
        return [elems[i] for i in idx]


class CyclicGroup(_FiniteGroup):
    """The cyclic group :math:`C_n = \\{0, 1, \\dots, n-1\\}` under addition mod :math:`n`.

    Acts on signals on the cyclic grid :math:`\\mathbb{Z}_n` by circular shifts along ``dim``
    (:meth:`shift`): :math:`(\\rho(g)x)_u = x_{u-g}`.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`; the grid of 4.2 is its homogeneous space.
    """

    def order(self) -> int:
        return self.n

    def elements(self) -> list[int]:
        return list(range(self.n))

    def identity(self) -> int:
        return 0

    def compose(self, g: int, h: int) -> int:
        return (g + h) % self.n

    def inverse(self, g: int) -> int:
        return (-g) % self.n


    @staticmethod
    def shift(g: int, x, dim: int = -1):
        """Circular shift of ``x`` by ``g`` steps along ``dim`` (torch or NumPy)."""
        if isinstance(x, torch.Tensor):
            return torch.roll(x, shifts=int(g), dims=dim)
        return np.roll(x, int(g), axis=dim)


def _d_element(g, n: int, what: str) -> tuple[int, int]:
    try:
        r, m = g
    except (TypeError, ValueError):
        raise TypeError(f"{what}: a dihedral element is a pair (r, m), got {g!r}") from None
    if int(m) not in (0, 1) or int(m) != m or int(r) != r:
        raise ValueError(f"{what}: expected (r, m) with integer r and m in {{0, 1}}, got {g!r}")
    return int(r) % n, int(m)


class DihedralGroup(_FiniteGroup):
    """The dihedral group :math:`D_n` of the :math:`2n` symmetries of a regular :math:`n`-gon.

    An element is a pair ``(r, m)`` with ``r`` in ``0..n-1`` and ``m`` in ``{0, 1}``; it stands
    for :math:`g = R^r F^m`: first the reflection :math:`F` if ``m == 1`` (the mirror
    :math:`(x_1, x_2) \\mapsto (-x_1, x_2)`, i.e. flipping an image left-right), then the
    rotation :math:`R^r` by the angle :math:`2\\pi r / n` counter-clockwise. Since
    :math:`F R F = R^{-1}`, composition is

    .. math:: (r_1, m_1)(r_2, m_2) = (r_1 + (-1)^{m_1} r_2 \\bmod n,\\; m_1 + m_2 \\bmod 2).

    :math:`D_4` is the symmetry group of the square (pixel grid): it acts on images by
    :func:`act_on_image`; :math:`C_4 \\subset D_4` is the subgroup ``m = 0``.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`; the point group of p4m in 5.2.
    """

    def order(self) -> int:
        return 2 * self.n

    def elements(self) -> list[tuple[int, int]]:
        """All :math:`2n` elements, rotations first: ``[(0,0), ..., (n-1,0), (0,1), ..., (n-1,1)]``."""
        return [(r, m) for m in (0, 1) for r in range(self.n)]

    def identity(self) -> tuple[int, int]:
        """The identity ``(0, 0)``."""
        return (0, 0)

    def compose(self, g: tuple[int, int], h: tuple[int, int]) -> tuple[int, int]:
        """The product :math:`gh` ("first h, then g"): :math:`(r_1 + (-1)^{m_1} r_2,\\; m_1 + m_2)`."""
        r1, m1 = _d_element(g, self.n, "DihedralGroup.compose")
        r2, m2 = _d_element(h, self.n, "DihedralGroup.compose")
        return ((r1 + (-r2 if m1 else r2)) % self.n, (m1 + m2) % 2)

    def inverse(self, g: tuple[int, int]) -> tuple[int, int]:
        """:math:`g^{-1}`: ``(-r, 0)`` for a rotation; a reflection ``(r, 1)`` is its own inverse."""
        r, m = _d_element(g, self.n, "DihedralGroup.inverse")
        return (r, 1) if m else ((-r) % self.n, 0)

    def sample(self, num: int, generator: torch.Generator | None = None) -> list[tuple[int, int]]:
        """``num`` elements drawn uniformly (with replacement)."""
        num = _positive_int(num, "sample(num)")
        r = torch.randint(self.n, (num,), generator=generator).tolist()
        m = torch.randint(2, (num,), generator=generator).tolist()
        return list(zip(r, m))

    def matrix(self, g: tuple[int, int], dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """The 2x2 orthogonal matrix of ``g`` acting on the plane: :math:`R_{2\\pi r/n}\\,\\mathrm{diag}(-1, 1)^m`.

        Shapes:
            output: ``(2, 2)``.
        """
        r, m = _d_element(g, self.n, "DihedralGroup.matrix")
        t = 2 * math.pi * r / self.n
        rot = torch.tensor([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]], dtype=dtype)
        flip = torch.tensor([[-1.0, 0.0], [0.0, 1.0]], dtype=dtype)
        return rot @ flip if m else rot

    def vertices(self, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """The vertices :math:`v_k = (-\\sin 2\\pi k/n, \\cos 2\\pi k/n)` of the regular n-gon.

        Vertex 0 sits on the mirror axis (top), so both rotations and the mirror
        :math:`x_1 \\mapsto -x_1` map vertices to vertices.

        Shapes:
            output: ``(n, 2)``.
        """
        t = 2 * math.pi * torch.arange(self.n, dtype=dtype) / self.n
        return torch.stack([-torch.sin(t), torch.cos(t)], dim=1)

    def permutation(self, g: tuple[int, int]) -> torch.Tensor:
        """How ``g`` permutes the vertices of :meth:`vertices`: :math:`g\\,v_k = v_{p[k]}`.

        :math:`p[k] = r + (-1)^m k \\bmod n` (the mirror sends vertex :math:`k` to :math:`-k`).
        This is the permutation representation of :math:`D_n` on the n vertices.

        Shapes:
            output: ``(n,)`` integer tensor.
        """
        r, m = _d_element(g, self.n, "DihedralGroup.permutation")
        k = torch.arange(self.n)
        return (r + (-k if m else k)) % self.n


class _PermutationArithmetic(_FiniteGroup):
    """Identity, composition ``(gh)[i] = g[h[i]]`` and inverse of permutations of ``0..n-1``
    stored as integer tensors of shape ``(n,)``; shared by :class:`SymmetricGroup` and
    :class:`PermutationGroup`."""

    n: int

    def identity(self) -> torch.Tensor:
        return torch.arange(self.n)

    def compose(self, g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return g[h]

    def inverse(self, g: torch.Tensor) -> torch.Tensor:
        return torch.argsort(g)


class SymmetricGroup(_PermutationArithmetic):
    """The symmetric group :math:`S_n` of permutations of :math:`n` objects.

    An element is a permutation stored as an integer tensor ``perm`` of shape ``(n,)``;
    composition is ``(g h)[i] = g[h[i]]``. It acts on node features by reordering rows
    (:meth:`permute_rows`, :math:`X \\mapsto PX`) and on adjacency matrices by
    :math:`A \\mapsto PAP^\\top` (:meth:`permute_adjacency`).

    ``elements()`` lists all :math:`n!` permutations (refused for ``n > 8``: use ``sample``).

    Shapes:
        an element ``perm``: ``(n,)`` long; node features ``(n, ...)``; adjacency ``(n, n)``.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`; graphs and sets in 3.2 and 4.1.
    """

    def order(self) -> int:
        return math.factorial(self.n)

    def elements(self) -> list[torch.Tensor]:
        if self.n > 8:
            raise ValueError(
                f"S_{self.n} has {math.factorial(self.n)} elements, too many to list; "
                "use sample(num) instead (check_equivariance(..., samples=num) does)"
            )
        import itertools

        return [torch.tensor(p) for p in itertools.permutations(range(self.n))]

    def sample(self, num: int, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """``num`` random permutations (``torch.randperm`` with ``generator``)."""
        num = _positive_int(num, "sample(num)")
        return [torch.randperm(self.n, generator=generator) for _ in range(num)]

    @staticmethod
    def permute_rows(g: torch.Tensor, x):
        """:math:`X \\mapsto PX` with :math:`P_{\\pi(u), u} = 1`: row ``u`` of ``x`` moves to row
        ``g[u]``, i.e. ``out[g[u]] = x[u]`` .

        Shapes:
            g: ``(n,)``; x: ``(n, ...)``; output: ``(n, ...)``.

        Introduced in: 3.2, :doc:`/book/03_priors/03_2_isomorphisms`.
        """
        return _permute_rows(g, x)

    @staticmethod
    def permute_adjacency(g: torch.Tensor, a):
        """:math:`A \\mapsto PAP^\\top`: ``out[g[i], g[j]] = a[i, j]`` .

        Shapes:
            g: ``(n,)``; a: ``(n, n)``; output: ``(n, n)``.

        Introduced in: 3.2, :doc:`/book/03_priors/03_2_isomorphisms`.
        """
        return _permute_adjacency(g, a)

    @staticmethod
    def permute_graph(g: torch.Tensor, inputs):
        """:math:`(X, A) \\mapsto (PX, PAP^\\top)`, the action on a graph signal with a dense
        adjacency matrix: the ``rho_in`` of :func:`check_equivariance` for layers ``f(x, a)``.

        ``inputs`` is the pair ``(x, a)``; both are validated (``a`` square, ``g`` a permutation of
        ``range(n)``, ``x`` with ``n`` rows).

        Shapes:
            g: ``(n,)``; inputs: ``((n, ...), (n, n))``; output: the same shapes.

        Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets`.
        """
        if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
            raise TypeError(
                f"permute_graph expects inputs = (x, adjacency), a pair, got {type(inputs).__name__}; "
                "for node features alone use permute_rows(g, x)"
            )
        x, a = inputs
        # the same math as gdlutils.graphs.permute_dense(perm, x, adjacency) (api-core's branch)
        a_p = _permute_adjacency(g, a)
        return _permute_rows(g, x, num_nodes=a_p.shape[0]), a_p


class PermutationGroup(_PermutationArithmetic):
    """A finite group of permutations of :math:`\\{0, \\dots, n-1\\}` given by its list of elements.

    Composition, inverse and identity are those of :class:`SymmetricGroup` (``(gh)[i] = g[h[i]]``);
    it acts on node features and adjacency matrices by :meth:`SymmetricGroup.permute_rows` and
    :meth:`SymmetricGroup.permute_adjacency`. Typical use: the automorphism group of a graph
    (:func:`automorphism_group`).

    Shapes:
        an element: ``(num_nodes,)`` long.

    Introduced in: 3.2, :doc:`/book/03_priors/03_2_isomorphisms`.
    """

    def __init__(self, elements: Sequence[torch.Tensor], num_nodes: int | None = None):
        elems = [torch.as_tensor(p, dtype=torch.long) for p in elements]
        if not elems:
            raise ValueError("a group has at least the identity element; pass a non-empty list of permutations")
        self.n = _positive_int(num_nodes if num_nodes is not None else elems[0].numel(), "PermutationGroup(num_nodes)")
        for p in elems:
            _check_permutation(p, self.n, "PermutationGroup")
        self._elements = sorted(elems, key=lambda p: p.tolist())

    def __repr__(self) -> str:
        return f"PermutationGroup(order={len(self)}, num_nodes={self.n})"

    def order(self) -> int:
        return len(self._elements)

    def elements(self) -> list[torch.Tensor]:
        return list(self._elements)

    def orbits(self) -> list[list[int]]:
        """The orbits :math:`\\{g(i) : g \\in G\\}` of the points, as sorted lists."""
        seen: set[int] = set()
        orbits = []
        for i in range(self.n):
            if i in seen:
                continue
            orb = sorted({int(p[i]) for p in self._elements})
            seen.update(orb)
            orbits.append(orb)
        return orbits

    permute_rows = staticmethod(SymmetricGroup.permute_rows)
    permute_adjacency = staticmethod(SymmetricGroup.permute_adjacency)
    permute_graph = staticmethod(SymmetricGroup.permute_graph)


def automorphism_group(adjacency) -> PermutationGroup:
    """The automorphism group :math:`\\mathrm{Aut}(G) = \\{P : PAP^\\top = A\\}` of a graph.

    Elements are permutations ``perm`` (``perm[u]`` :math:`= \\pi(u)`) with :math:`PAP^\\top = A`
    (``permute_adjacency(perm, A) == A``), found with networkx's VF2 matcher
    (exponential in the worst case: meant for small graphs). Edge weights are ignored.

    Shapes:
        adjacency: ``(n, n)`` symmetric (tensor or array).

    Introduced in: 3.2, :doc:`/book/03_priors/03_2_isomorphisms`.
    """
    import networkx as nx

    a = adjacency.detach().cpu().numpy() if isinstance(adjacency, torch.Tensor) else np.asarray(adjacency)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"adjacency must be a square matrix, got shape {a.shape}")
    if not np.array_equal(a, a.T):
        raise ValueError("adjacency must be symmetric (an undirected graph)")
    g = nx.from_numpy_array((a != 0).astype(int))
    n = a.shape[0]
    perms = []
    for mapping in nx.algorithms.isomorphism.GraphMatcher(g, g).isomorphisms_iter():
        # mapping: node i -> node mapping[i] is an automorphism pi, stored as perm[i] = pi(i)
        p = torch.empty(n, dtype=torch.long)
        for i, j in mapping.items():
            p[i] = j
        perms.append(p)
    return PermutationGroup(perms, n)


class TranslationGroup2D(_FiniteGroup):
    """The cyclic translations :math:`\\mathbb{Z}_H \\times \\mathbb{Z}_W` of an H x W image.

    Elements are pairs ``(dy, dx)``; the action is :func:`translate_image`.

    Shapes:
        ``act(g, x)``: x ``(..., H, W)`` -> same.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`.
    """

    _params = ("height", "width")

    def __init__(self, height: int, width: int | None = None):
        width = height if width is None else width
        self.height = _positive_int(height, "TranslationGroup2D(height)")
        self.width = _positive_int(width, "TranslationGroup2D(width)")

    def order(self) -> int:
        return self.height * self.width

    def elements(self) -> list[tuple[int, int]]:
        return [(dy, dx) for dy in range(self.height) for dx in range(self.width)]

    def identity(self) -> tuple[int, int]:
        return (0, 0)

    def compose(self, g: tuple[int, int], h: tuple[int, int]) -> tuple[int, int]:
        return ((g[0] + h[0]) % self.height, (g[1] + h[1]) % self.width)

    def inverse(self, g: tuple[int, int]) -> tuple[int, int]:
        return ((-g[0]) % self.height, (-g[1]) % self.width)

    def sample(self, num: int, generator: torch.Generator | None = None) -> list[tuple[int, int]]:
        num = _positive_int(num, "sample(num)")
        dy = torch.randint(self.height, (num,), generator=generator).tolist()
        dx = torch.randint(self.width, (num,), generator=generator).tolist()
        return list(zip(dy, dx))

    @staticmethod
    def act(g: tuple[int, int], x: torch.Tensor) -> torch.Tensor:
        """:func:`translate_image`. Shapes: ``x`` ``(..., H, W)`` -> same."""
        return translate_image(g, x)


def p4_element(g, mirror: bool = False) -> tuple[tuple[int, int], tuple[int, int]]:
    """Split an element of p4 (``mirror=False``) or p4m into its point part and translation.

    The one element encoding shared by :class:`P4Group` and :mod:`gdlutils.gconv`:

    - p4: ``(r, dy, dx)``, or just ``r`` (a rotation by ``r`` quarter turns, no translation);
    - p4m: ``(r, m, dy, dx)``, or just ``(r, m)`` (an element of :math:`D_4`, numbered as in
      :class:`DihedralGroup`).

    Returns ``((r, m), (dy, dx))`` with ``r`` in ``0..3`` and ``m`` in ``{0, 1}`` (``m = 0`` for p4).

    Introduced in: 5.2, :doc:`/book/05_models/05_2_group_cnns`.
    """
    name = "p4m" if mirror else "p4"
    form = "(r, m, dy, dx) or (r, m) with m in {0, 1}" if mirror else "(r, dy, dx) or an integer r"
    if isinstance(g, torch.Tensor):
        g = g.tolist()
    if not mirror and isinstance(g, (int, np.integer)) and not isinstance(g, bool):
        return (int(g) % 4, 0), (0, 0)
    try:
        parts = tuple(g)
    except TypeError:
        raise TypeError(f"a {name} element is {form}, got {g!r}") from None
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in parts):
        raise TypeError(f"a {name} element is {form} with integer entries, got {g!r}")
    parts = tuple(int(v) for v in parts)
    if not mirror:
        if len(parts) == 3:
            return (parts[0] % 4, 0), (parts[1], parts[2])
        if len(parts) == 2 and parts[1] == 0:  # a rotation written as a dihedral pair (r, 0)
            return (parts[0] % 4, 0), (0, 0)
        raise ValueError(f"a p4 element is {form}, got {g!r}")
    if len(parts) in (2, 4) and parts[1] in (0, 1):
        t = (parts[2], parts[3]) if len(parts) == 4 else (0, 0)
        return (parts[0] % 4, parts[1]), t
    raise ValueError(f"a p4m element is {form}, got {g!r}")


def resolve_group(group):
    """A finite group object from a group or its name.

    Names: ``"C<n>"`` (:class:`CyclicGroup`), ``"D<n>"`` (:class:`DihedralGroup`), ``"S<n>"``
    (:class:`SymmetricGroup`), and ``"p4"`` / ``"p4m"`` for the point groups :math:`C_4` /
    :math:`D_4` of the wallpaper groups (the group axis of :mod:`gdlutils.gconv` feature maps,
    numbered ``r + 4 m`` as in :meth:`DihedralGroup.elements`). A group object (anything with
    ``elements()`` and ``compose()``) is returned unchanged.

    Introduced in: 3.5, :doc:`/book/03_priors/03_5_blueprint`.
    """
    if hasattr(group, "elements") and hasattr(group, "compose"):
        return group
    if isinstance(group, str):
        if group == "p4":
            return CyclicGroup(4)
        if group == "p4m":
            return DihedralGroup(4)
        kinds = {"C": CyclicGroup, "D": DihedralGroup, "S": SymmetricGroup}
        if len(group) > 1 and group[0] in kinds and group[1:].isdigit() and int(group[1:]) > 0:
            return kinds[group[0]](int(group[1:]))
    raise ValueError(
        f"expected a finite group (e.g. gdlutils.groups.DihedralGroup(4)) or a name such as 'C4', 'D4', "
        f"'S3', 'p4', 'p4m'; got {group!r}"
    )


def _rotate_vector(r: int, t: tuple[int, int]) -> tuple[int, int]:
    # rot90 (counter-clockwise on screen) conjugates a translation (dy, dx) to (-dx, dy)
    dy, dx = t
    for _ in range(r % 4):
        dy, dx = -dx, dy
    return dy, dx


class P4Group(_FiniteGroup):
    """The group p4 of translations and quarter turns of the square :math:`N \\times N` torus.

    An element ``(r, dy, dx)`` acts on images as "rotate by ``r`` quarter turns, then translate by
    ``(dy, dx)``": :math:`\\rho(g)x = T_{(d_y,d_x)} R^r x` (:func:`rotate_image`,
    :func:`translate_image`). Since :math:`R\\,T_t R^{-1} = T_{Rt}` with
    :math:`R(d_y, d_x) = (-d_x, d_y)`, composition is the semidirect product
    :math:`(r_1, t_1)(r_2, t_2) = (r_1 + r_2,\\; t_1 + R^{r_1} t_2)`.

    With ``mirror=True`` this is p4m: elements ``(r, m, dy, dx)`` with :math:`\\rho(g) x =
    T_t R^r F^m x` (:func:`act_on_image` for the point part), and :math:`F(d_y, d_x) = (d_y, -d_x)`.

    Shapes:
        ``act(g, x)``: x ``(..., N, N)`` -> same.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`; group convolutions in 5.2.
    """

    def __init__(self, size: int, mirror: bool = False):
        self.size = _positive_int(size, "P4Group(size)")
        if not isinstance(mirror, (bool, np.bool_)):
            raise TypeError(f"P4Group(mirror) must be True (p4m) or False (p4), got {mirror!r}")
        self.mirror = bool(mirror)

    def __repr__(self) -> str:
        return f"P4Group({self.size}, mirror={self.mirror})"

    @property
    def name(self) -> str:
        """``"p4m"`` with mirrors, else ``"p4"``: the name :mod:`gdlutils.gconv` uses."""
        return "p4m" if self.mirror else "p4"

    def order(self) -> int:
        return (8 if self.mirror else 4) * self.size**2

    def _split(self, g):
        (r, m), t = p4_element(g, self.mirror)
        return r, m, t

    def _join(self, r, m, t):
        t = (t[0] % self.size, t[1] % self.size)
        return (r % 4, m % 2, *t) if self.mirror else (r % 4, *t)

    def elements(self) -> list[tuple]:
        """All elements, ``(r, dy, dx)`` (p4) or ``(r, m, dy, dx)`` (p4m), point part outermost."""
        ms = (0, 1) if self.mirror else (0,)
        return [self._join(r, m, (dy, dx)) for m in ms for r in range(4)
                for dy in range(self.size) for dx in range(self.size)]

    def identity(self) -> tuple:
        return self._join(0, 0, (0, 0))

    def _linear(self, r, m, t):
        if m:
            t = (t[0], -t[1])
        return _rotate_vector(r, t)

    def compose(self, g: tuple, h: tuple) -> tuple:
        """The product :math:`gh`: point parts multiply as in :math:`D_4`, :math:`t = t_1 + D_1 t_2`."""
        r1, m1, t1 = self._split(g)
        r2, m2, t2 = self._split(h)
        rt = self._linear(r1, m1, t2)
        r = r1 + (-r2 if m1 else r2)
        return self._join(r, m1 + m2, (t1[0] + rt[0], t1[1] + rt[1]))

    def inverse(self, g: tuple) -> tuple:
        """:math:`g^{-1} = (D^{-1}, -D^{-1}t)` for :math:`g = (D, t)`."""
        r, m, t = self._split(g)
        ri, mi = ((r, 1) if m else (-r, 0))
        ti = self._linear(ri % 4, mi, t)
        return self._join(ri, mi, (-ti[0], -ti[1]))

    def sample(self, num: int, generator: torch.Generator | None = None) -> list[tuple]:
        idx = torch.randint(len(self), (num,), generator=generator).tolist()
        elems = self.elements()
        return [elems[i] for i in idx]

    def act(self, g: tuple, x: torch.Tensor) -> torch.Tensor:
        """:math:`\\rho(g)x = T_t R^r F^m x`. Shapes: ``x`` ``(..., N, N)`` -> same."""
        _check_square(x, "P4Group.act")
        if x.shape[-1] != self.size:
            raise ValueError(f"P4Group({self.size}) acts on {self.size}x{self.size} images, got shape {tuple(x.shape)}")
        r, m, t = self._split(g)
        return translate_image(t, act_on_image((r, m), x))


# ---------------------------------------------------------------------------------------------
# 2. Continuous groups (sampled): SO(2) and SO(3)
# ---------------------------------------------------------------------------------------------


def _check_rotation_matrix(g, d: int, what: str) -> torch.Tensor:
    if not isinstance(g, torch.Tensor) or g.shape[-2:] != (d, d):
        shape = tuple(g.shape) if isinstance(g, torch.Tensor) else type(g).__name__
        raise ValueError(f"{what}: expected a rotation matrix tensor of shape (..., {d}, {d}), got {shape}")
    return g


class _MatrixGroup:
    """Shared arithmetic of the groups of ``dim x dim`` orthogonal matrices (:class:`SO2`,
    :class:`SO3`, :class:`O3`): matrix product, identity, transpose as inverse."""

    dim = 0

    def __init__(self, dtype: torch.dtype | None = None):
        self.dtype = dtype or torch.get_default_dtype()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def identity(self) -> torch.Tensor:
        return torch.eye(self.dim, dtype=self.dtype)

    def compose(self, g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        what = f"{type(self).__name__}.compose"
        return _check_rotation_matrix(g, self.dim, what) @ _check_rotation_matrix(h, self.dim, what)

    def inverse(self, g: torch.Tensor) -> torch.Tensor:
        return _check_rotation_matrix(g, self.dim, f"{type(self).__name__}.inverse").transpose(-1, -2)


class SO2(_MatrixGroup):
    """The rotation group :math:`SO(2)` of the plane, as 2x2 matrices :math:`R_\\theta`.

    Continuous: it cannot list its elements, it draws them uniformly (:meth:`sample`, angles
    uniform in :math:`[0, 2\\pi)`, the Haar measure). Acts on points by :meth:`act`
    (:math:`x \\mapsto R x`, on rows of an ``(N, 2)`` array).

    Shapes:
        ``matrix(theta)``: ``(..., 2, 2)``; ``sample(num)``: ``(num, 2, 2)``; ``act(g, x)``: x ``(..., N, 2)``.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`; rotation-equivariant models in 5.2 and 5.3.
    """

    dim = 2

    def matrix(self, theta: float | torch.Tensor) -> torch.Tensor:
        """:math:`R_\\theta = \\begin{pmatrix}\\cos\\theta & -\\sin\\theta\\\\ \\sin\\theta & \\cos\\theta\\end{pmatrix}`.

        Shapes:
            theta: scalar or ``(B,)``; output: ``(2, 2)`` or ``(B, 2, 2)``.
        """
        t = torch.as_tensor(theta, dtype=self.dtype)
        c, s = torch.cos(t), torch.sin(t)
        return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)

    def sample(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``num`` Haar-random rotations. Shapes: output ``(num, 2, 2)``."""
        theta = 2 * math.pi * torch.rand(num, generator=generator, dtype=torch.float64)
        return self.matrix(theta.to(self.dtype))


    @staticmethod
    def act(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Rotate points: :math:`x_i \\mapsto R x_i`. Shapes: ``x`` ``(..., N, 2)`` -> same."""
        return rotate_points(g, x)


class SO3(SO2):
    """The rotation group :math:`SO(3)` of space, as 3x3 matrices, sampled uniformly.

    :meth:`sample` draws Haar-uniform rotations from unit quaternions (normalised Gaussian
    4-vectors are uniform on :math:`S^3`, the double cover of :math:`SO(3)`), converted by
    :func:`quaternion_to_matrix`.

    Shapes:
        ``matrix(axis_angle)``: ``(..., 3)`` -> ``(..., 3, 3)``; ``sample(num)``: ``(num, 3, 3)``.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`; point clouds and molecules in 5.3.
    """

    dim = 3

    def matrix(self, axis_angle: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """Rodrigues' formula :math:`R = I + \\sin\\theta K + (1-\\cos\\theta) K^2` for the rotation
        by :math:`\\theta = \\lVert v\\rVert` about :math:`v/\\lVert v\\rVert` (``K`` the cross-product
        matrix of the unit axis).

        Shapes:
            axis_angle: ``(3,)`` or ``(B, 3)``; output: ``(3, 3)`` or ``(B, 3, 3)``.
        """
        v = torch.as_tensor(axis_angle, dtype=self.dtype)
        if v.shape[-1] != 3:
            raise ValueError(f"SO3.matrix expects axis-angle vectors of shape (..., 3), got {tuple(v.shape)}")
        theta = v.norm(dim=-1, keepdim=True)
        k = v / theta.clamp_min(1e-30)
        z = torch.zeros_like(k[..., 0])
        K = torch.stack([
            torch.stack([z, -k[..., 2], k[..., 1]], -1),
            torch.stack([k[..., 2], z, -k[..., 0]], -1),
            torch.stack([-k[..., 1], k[..., 0], z], -1),
        ], -2)
        s, c = torch.sin(theta)[..., None], torch.cos(theta)[..., None]
        eye = torch.eye(3, dtype=self.dtype).expand(K.shape)
        return eye + s * K + (1 - c) * (K @ K)

    def sample(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``num`` Haar-uniform rotations. Shapes: output ``(num, 3, 3)``."""
        q = torch.randn(num, 4, generator=generator, dtype=torch.float64)
        q = q / q.norm(dim=1, keepdim=True)
        return quaternion_to_matrix(q).to(self.dtype)



def quaternion_to_matrix(q: torch.Tensor) -> torch.Tensor:
    """Rotation matrix of the unit quaternion :math:`q = (w, x, y, z)`.

    .. math:: R = \\begin{pmatrix} 1-2(y^2+z^2) & 2(xy-wz) & 2(xz+wy)\\\\
              2(xy+wz) & 1-2(x^2+z^2) & 2(yz-wx)\\\\ 2(xz-wy) & 2(yz+wx) & 1-2(x^2+y^2)\\end{pmatrix}

    Shapes:
        q: ``(..., 4)`` (normalised here); output: ``(..., 3, 3)``.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`.
    """
    if q.shape[-1] != 4:
        raise ValueError(f"quaternion_to_matrix expects (..., 4), got {tuple(q.shape)}")
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    rows = [
        torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ]
    return torch.stack(rows, -2)


# ---------------------------------------------------------------------------------------------
# 3. Actions on signals: images, point clouds, permutations of nodes
# ---------------------------------------------------------------------------------------------


def _check_image(x, what: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} expects a torch.Tensor of shape (..., H, W), got {type(x).__name__}")
    if x.dim() < 2:
        raise ValueError(f"{what} expects a tensor of shape (..., H, W), got shape {tuple(x.shape)}")


def _check_square(x, what: str) -> None:
    _check_image(x, what)
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(
            f"{what}: a quarter turn maps an H x W grid onto itself only when H == W; "
            f"got shape {tuple(x.shape)} (crop or pad the image to a square)"
        )


def rotate_image(g: int, x: torch.Tensor) -> torch.Tensor:
    """Action of :math:`C_4` on images: rotate by ``g`` quarter turns counter-clockwise.

    :math:`(\\rho(g)x) = ` ``torch.rot90(x, g, dims=(-2, -1))``: as displayed with
    ``imshow`` (row 0 at the top), the picture turns counter-clockwise by :math:`g \\cdot 90°`.
    It is a group action: ``rotate_image(a, rotate_image(b, x)) == rotate_image(a + b, x)``.

    Shapes:
        x: ``(..., H, W)`` (any leading batch/channel dims); output: ``(..., W, H)``.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`; p4 convolutions in 5.2.
    """
    _check_image(x, "rotate_image")
    if int(g) != g:
        raise TypeError(f"rotate_image: g must be an integer number of quarter turns, got {g!r}")
    return torch.rot90(x, int(g) % 4, dims=(-2, -1))


def act_on_image(g: tuple[int, int], x: torch.Tensor) -> torch.Tensor:
    """Action of :math:`D_4` on images: ``g = (r, m)`` mirrors left-right if ``m``, then rotates.

    :math:`\\rho(r, m)\\,x = \\mathrm{rot}^r(\\mathrm{flip}^m(x))`, where flip reverses the last
    (width) dim and rot is :func:`rotate_image`. Consistent with
    :meth:`gdlutils.groups.DihedralGroup.compose` for ``n = 4``:
    ``act_on_image(g, act_on_image(h, x)) == act_on_image(D4.compose(g, h), x)``.

    Shapes:
        x: ``(..., H, W)``; output: ``(..., W, H)`` (H == W for the result to be comparable).

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`; p4m convolutions in 5.2.
    """
    _check_image(x, "act_on_image")
    r, m = _d_element(g, 4, "act_on_image")
    if m:
        x = torch.flip(x, dims=(-1,))
    return torch.rot90(x, r, dims=(-2, -1))


def translate_image(g: tuple[int, int], x: torch.Tensor) -> torch.Tensor:
    """Cyclic translation of images (the torus :math:`\\mathbb{Z}_H \\times \\mathbb{Z}_W`).

    :math:`(\\rho(d_y, d_x)\\,x)_{i,j} = x_{i - d_y,\\, j - d_x}` (indices mod H, W): the content
    moves ``dy`` rows down and ``dx`` columns right.

    Shapes:
        x: ``(..., H, W)``; output: same shape.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`; convolutions in 4.2 and 5.1.
    """
    _check_image(x, "translate_image")
    try:
        dy, dx = g
    except (TypeError, ValueError):
        raise TypeError(f"translate_image: g must be a pair (dy, dx), got {g!r}") from None
    return torch.roll(x, shifts=(int(dy), int(dx)), dims=(-2, -1))


def rotate_points(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Action of a rotation (or any matrix) on a point cloud: :math:`x_i \\mapsto g\\,x_i`.

    Shapes:
        g: ``(d, d)``; x: ``(..., N, d)``; output: ``(..., N, d)`` (computed as ``x @ g.T``).

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`.
    """
    if not isinstance(x, torch.Tensor) or x.dim() < 1 or x.shape[-1] != g.shape[-1]:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"rotate_points: points must have shape (..., N, {g.shape[-1]}), got {shape}")
    return x @ g.to(x.dtype).transpose(-1, -2)


def _check_permutation(perm, n: int | None, what: str) -> torch.Tensor:
    """``perm`` as a long tensor after checking it is a permutation of ``range(n)``."""
    if isinstance(perm, np.ndarray) or isinstance(perm, (list, tuple)):
        perm = torch.as_tensor(np.asarray(perm))
    if not isinstance(perm, torch.Tensor):
        raise TypeError(f"{what}: a permutation is an integer tensor perm with perm[u] = pi(u), got {type(perm).__name__}")
    if perm.dtype.is_floating_point or perm.dtype.is_complex or perm.dtype == torch.bool:
        raise TypeError(f"{what}: a permutation must have an integer dtype, got {perm.dtype} (use perm.long())")
    if perm.dim() != 1 or (n is not None and perm.numel() != n):
        want = f"({n},)" if n is not None else "(n,)"
        raise ValueError(f"{what}: a permutation of {n if n is not None else 'n'} nodes has shape {want}, got shape {tuple(perm.shape)}")
    perm = perm.long()
    if not torch.equal(torch.sort(perm).values, torch.arange(perm.numel(), device=perm.device)):
        raise ValueError(
            f"{what}: perm must be a permutation of 0..{perm.numel() - 1} (each index exactly once), "
            f"got {_short(perm)}; build one with torch.randperm(n)"
        )
    return perm


def _permute_rows(perm, x, num_nodes: int | None = None):
    """:math:`PX`: ``out[perm[u]] = x[u]`` (torch or NumPy), validated."""
    is_np = not isinstance(x, torch.Tensor)
    if is_np:
        x = np.asarray(x)
        if x.dtype == object:
            raise TypeError(f"permute_rows expects a tensor or array of node features, got {type(x).__name__}")
    if x.ndim < 1:
        raise ValueError(f"permute_rows expects node features of shape (n, ...), got a scalar")
    n = x.shape[0]
    if num_nodes is not None and n != num_nodes:
        raise ValueError(f"permute_graph: x has {n} rows but the adjacency is {num_nodes} x {num_nodes}; one row per node")
    perm = _check_permutation(perm, n, "permute_rows")
    inv = torch.argsort(perm)  # out[perm[u]] = x[u]  <=>  out = x[perm^{-1}]
    return x[inv.numpy()] if is_np else x[inv.to(x.device)]


def _permute_adjacency(perm, a):
    """:math:`PAP^\\top`: ``out[perm[i], perm[j]] = a[i, j]`` (torch or NumPy), validated."""
    is_np = not isinstance(a, torch.Tensor)
    if is_np:
        a = np.asarray(a)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(
            f"permute_adjacency expects a square (n, n) adjacency matrix, got shape {tuple(a.shape)}; "
            "for an edge list use gdlutils.graphs.permute_graph"
        )
    perm = _check_permutation(perm, a.shape[0], "permute_adjacency")
    inv = torch.argsort(perm)
    if is_np:
        inv = inv.numpy()
        return a[inv][:, inv]
    inv = inv.to(a.device)
    return a[inv][:, inv]


def permutation_matrix(perm: torch.Tensor | Sequence[int]) -> torch.Tensor:
    """The matrix :math:`P_\\pi` of the permutation :math:`u \\mapsto \\pi(u)`, ``perm[u]`` :math:`= \\pi(u)`:

    .. math:: (P_\\pi)_{\\pi(u),\\,u} = 1, \\qquad (P_\\pi X)_{\\pi(u)} = X_u, \\qquad P_{\\pi\\sigma} = P_\\pi P_\\sigma,

    so ``permutation_matrix`` is a homomorphism from :class:`SymmetricGroup` (composition
    ``(g h)[u] = g[h[u]]``) to matrices, and ``P @ x`` equals ``SymmetricGroup.permute_rows(perm, x)``.

    Shapes:
        perm: ``(n,)``; output: ``(n, n)`` float64.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`.
    """
    perm = _check_permutation(perm, None, "permutation_matrix")
    n = perm.numel()
    m = torch.zeros(n, n, dtype=torch.float64)
    m[perm, torch.arange(n)] = 1.0
    return m


# ---------------------------------------------------------------------------------------------
# 4. Group tables and representations
# ---------------------------------------------------------------------------------------------


def _key(g):
    if isinstance(g, torch.Tensor):
        return tuple(g.reshape(-1).tolist())
    if isinstance(g, np.ndarray):
        return tuple(g.reshape(-1).tolist())
    return g


def element_index(group) -> dict:
    """Map from (a hashable key of) each element to its position in ``group.elements()``.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`.
    """
    return {_key(g): i for i, g in enumerate(group.elements())}


def cayley_table(group) -> np.ndarray:
    """The Cayley (multiplication) table: ``T[i, j] = k`` when :math:`g_i g_j = g_k`.

    Elements are numbered in the order of ``group.elements()``. Each row and column of a group's
    table is a permutation (the Latin-square property).

    Shapes:
        output: ``(|G|, |G|)`` integer array.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`.
    """
    elems = group.elements()
    index = element_index(group)
    table = np.empty((len(elems), len(elems)), dtype=np.int64)
    for i, g in enumerate(elems):
        for j, h in enumerate(elems):
            key = _key(group.compose(g, h))
            if key not in index:
                raise ValueError(f"{group!r}: compose({_short(g)}, {_short(h)}) = {key!r} is not an element")
            table[i, j] = index[key]
    return table


def check_group_axioms(group) -> dict[str, bool]:
    """Verify closure, associativity, identity and inverses of a finite group, exhaustively.

    Returns ``{"closure": ..., "associativity": ..., "identity": ..., "inverses": ...}``
    (all ``True`` for a group). Associativity is checked on all :math:`|G|^3` triples via the
    Cayley table, so keep :math:`|G|` below a few hundred.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`.
    """
    try:
        table = cayley_table(group)
    except ValueError:
        return {"closure": False, "associativity": False, "identity": False, "inverses": False}
    index = element_index(group)
    e = index.get(_key(group.identity()))
    n = len(table)
    left = table[table[:, :, None], np.arange(n)[None, None, :]]  # (g_i g_j) g_k
    right = table[np.arange(n)[:, None, None], table[None, :, :]]  # g_i (g_j g_k)
    assoc = bool(np.array_equal(left, right))
    ident = e is not None and bool(np.all(table[e] == np.arange(n)) and np.all(table[:, e] == np.arange(n)))
    inv = ident and all(
        table[i, index.get(_key(group.inverse(g)), -1)] == e if _key(group.inverse(g)) in index else False
        for i, g in enumerate(group.elements())
    )
    return {"closure": True, "associativity": assoc, "identity": ident, "inverses": bool(inv)}


def regular_representation(group) -> Callable[[Any], torch.Tensor]:
    """The regular representation :math:`\\rho_{\\text{reg}}(g)\\,e_h = e_{gh}` of a finite group.

    Returns ``rho`` with ``rho(g)`` the :math:`|G| \\times |G|` permutation matrix
    :math:`\\rho(g)_{k, j} = 1` iff :math:`g_k = g\\,g_j` (elements numbered as in
    ``group.elements()``). Acting on a signal :math:`f: G \\to \\R` stored as a vector,
    :math:`(\\rho(g) f)(h) = f(g^{-1} h)`.

    Shapes:
        output of ``rho(g)``: ``(|G|, |G|)`` float64.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`; group convolutions (5.2) act this way on feature maps over the group.
    """
    elems = group.elements()
    index = element_index(group)
    n = len(elems)

    def rho(g) -> torch.Tensor:
        m = torch.zeros(n, n, dtype=torch.float64)
        for j, h in enumerate(elems):
            m[index[_key(group.compose(g, h))], j] = 1.0
        return m

    return rho


def regular_action(group, dim: int = -1) -> Callable[[Any, torch.Tensor], torch.Tensor]:
    """The regular action on signals over a finite group: :math:`(\\rho(g)f)(h) = f(g^{-1}h)`.

    Returns ``rho(g, f)`` that permutes the group axis ``dim`` of ``f`` (entry ``j`` along it is
    the value at the element ``group.elements()[j]``): the last axis by default, as in the
    ``(B, C, |G|)`` feature maps of :class:`gdlutils.blueprint.GroupConv`; ``dim=0`` for the
    ``(|G|, C)`` signals of :mod:`gdlutils.sphere`. It is the action by the matrices of
    :func:`regular_representation`: ``rho(g, f) == f @ regular_representation(group)(g).T``
    for ``dim=-1``. Works for any finite group with ``elements``, ``compose`` and ``inverse``
    (those of this module and :class:`gdlutils.sphere.FiniteGroup`).

    Shapes:
        f: ``(..., |G|, ...)`` with ``|G|`` at ``dim``; output: same.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`.
    """
    if not hasattr(group, "elements") or not hasattr(group, "compose"):
        raise TypeError(f"regular_action needs a finite group with elements() and compose(), got {type(group).__name__}")
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"regular_action: dim must be an integer axis, got {dim!r}")
    elems = group.elements()
    index = element_index(group)
    n = len(elems)
    cache: dict = {}

    def rho(g, f: torch.Tensor) -> torch.Tensor:
        if not isinstance(f, torch.Tensor):
            raise TypeError(f"regular_action: a signal over {group!r} is a torch.Tensor, got {type(f).__name__}")
        if not -f.dim() <= dim < f.dim() or f.shape[dim] != n:
            raise ValueError(
                f"signals over {group!r} must have {n} entries (one per element) along dim={dim}, "
                f"got shape {tuple(f.shape)}"
            )
        key = _key(g)
        if key not in cache:
            if key not in index:
                raise ValueError(f"regular_action: {_short(g)} is not an element of {group!r}")
            gi = group.inverse(g)
            cache[key] = torch.tensor([index[_key(group.compose(gi, h))] for h in elems])
        return f.index_select(dim, cache[key].to(f.device))

    return rho


def check_homomorphism(
    rho: Callable[[Any], torch.Tensor],
    group,
    *,
    atol: float = 1e-8,
    samples: int | None = None,
    seed: int = 0,
    raise_error: bool = True,
    name: str | None = None,
) -> SymmetryReport:
    """Check that ``rho`` is a representation: :math:`\\rho(gh) = \\rho(g)\\rho(h)` for all pairs.

    The error for a pair is :math:`\\max_{ij} |\\rho(gh) - \\rho(g)\\rho(h)|_{ij}`; also checks
    :math:`\\rho(e) = I`. With ``samples`` only that many random pairs are tested (continuous
    groups). Raises :class:`EquivarianceError` with a report when an error exceeds ``atol``.

    Shapes:
        ``rho(g)``: ``(d, d)`` for every element ``g``.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`.
    """
    gs = group_elements(group, samples, seed)
    hs = group_elements(group, samples, seed + 1)
    pairs = list(zip(gs, hs)) if samples is not None else [(g, h) for g in gs for h in hs]
    errors = []
    for g, h in pairs:
        lhs = torch.as_tensor(rho(group.compose(g, h)))
        rhs = torch.as_tensor(rho(g)) @ torch.as_tensor(rho(h))
        errors.append(((g, h), float((lhs - rhs).abs().max())))
    e = torch.as_tensor(rho(group.identity()))
    errors.append((("identity",), float((e - torch.eye(e.shape[-1], dtype=e.dtype)).abs().max())))
    report = SymmetryReport("homomorphism", name or getattr(rho, "__name__", "rho"), errors, 1.0, atol, atol, 0.0)
    if raise_error and not report.passed:
        raise EquivarianceError(report)
    return report


def cyclic_irrep(n: int, k: int) -> Callable[[int], torch.Tensor]:
    """The :math:`k`-th irreducible (complex, 1-D) representation of :math:`C_n`.

    :math:`\\chi_k(g) = e^{2\\pi i k g / n}`, :math:`k = 0, \\dots, n-1`: every irrep of the
    abelian group :math:`C_n` is one of these characters.

    Shapes:
        output of ``chi(g)``: ``(1, 1)`` complex128.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`; the Fourier basis of 4.2.
    """
    if int(n) != n or n < 1 or int(k) != k:
        raise ValueError(f"cyclic_irrep needs a positive integer n and an integer k, got n={n!r}, k={k!r}")

    def chi(g: int) -> torch.Tensor:
        return torch.tensor([[complex(np.exp(2j * np.pi * k * g / n))]], dtype=torch.complex128)

    chi.__name__ = f"chi_{k}"
    return chi


def dft_matrix(n: int, normalized: bool = True) -> torch.Tensor:
    """The DFT matrix :math:`\\Phi_{k,u} = e^{-2\\pi i k u / n} / \\sqrt{n}` (unitary if ``normalized``).

    Row :math:`k` is the conjugate of the character :math:`\\chi_k`; :math:`\\Phi` block-
    diagonalises the regular representation of :math:`C_n` into its irreps:
    :math:`\\Phi\\,\\rho_{\\text{reg}}(g)\\,\\Phi^* = \\mathrm{diag}_k(\\overline{\\chi_k(g)})`:
    a shift by :math:`g` multiplies Fourier coefficient :math:`k` by :math:`e^{-2\\pi i k g/n}`. ``dft_matrix(n) @ x`` equals ``torch.fft.fft(x, norm="ortho")``.

    Shapes:
        output: ``(n, n)`` complex128.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`; Fourier analysis in 4.2.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"dft_matrix needs a positive integer n, got {n!r}")
    k = torch.arange(n, dtype=torch.float64)
    phi = torch.exp(-2j * math.pi * torch.outer(k, k) / n)
    return phi / math.sqrt(n) if normalized else phi


# ---------------------------------------------------------------------------------------------
# 5. Numerical symmetry checks
# ---------------------------------------------------------------------------------------------


def group_elements(group, samples: int | None = None, seed: int = 0) -> list:
    """Elements to test: all of them, or ``samples`` random ones (always for continuous groups).

    ``group`` is a sequence of elements, or an object with ``elements()`` and/or
    ``sample(num, generator)``.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`.
    """
    generator = torch.Generator().manual_seed(seed)
    if samples is not None:
        if hasattr(group, "sample"):
            return list(group.sample(samples, generator=generator))
        elems = list(group.elements() if hasattr(group, "elements") else group)
        idx = torch.randperm(len(elems), generator=generator)[:samples]
        return [elems[i] for i in idx.tolist()]
    if hasattr(group, "elements"):
        return list(group.elements())
    if isinstance(group, Iterable):
        return list(group)
    raise TypeError(
        f"{group!r} can neither list its elements nor sample them; pass samples=N for a "
        "continuous group, or a list of elements"
    )


def _to_numpy(y) -> np.ndarray:
    if isinstance(y, torch.Tensor):
        return y.detach().cpu().double().numpy()
    if isinstance(y, (tuple, list)):
        return np.concatenate([_to_numpy(t).ravel() for t in y])
    return np.asarray(y, dtype=float)


@dataclass
class SymmetryReport:
    """Result of :func:`check_equivariance` / :func:`check_invariance`.

    Attributes:
        kind: ``"equivariance"`` or ``"invariance"``.
        errors: one ``(element, error)`` pair per tested element, error as defined above.
        scale: :math:`\\lVert f(x) \\rVert_\\infty`, the size the tolerance is relative to.
        tolerance: ``atol + rtol * scale``.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`.
    """

    kind: str
    name: str
    errors: list[tuple[Any, float]]
    scale: float
    tolerance: float
    atol: float
    rtol: float
    extra: dict = field(default_factory=dict)

    @property
    def max_error(self) -> float:
        return max((e for _, e in self.errors), default=0.0)

    @property
    def relative_error(self) -> float:
        return self.max_error / self.scale if self.scale > 0 else self.max_error

    @property
    def passed(self) -> bool:
        return all(e <= self.tolerance for _, e in self.errors)

    @property
    def failures(self) -> list[tuple[Any, float]]:
        return [(g, e) for g, e in self.errors if not e <= self.tolerance]

    def __str__(self) -> str:
        what = "cases" if self.kind == "homomorphism" else "group elements"
        if self.passed:
            head = f"PASSED on all {len(self.errors)} {what}"
        else:
            head = f"FAILED on {len(self.failures)} of {len(self.errors)} {what}"
        lines = [
            f"{self.kind} check of {self.name}: {head}",
            f"  max error {self.max_error:.3e} (relative {self.relative_error:.3e}); "
            f"tolerance {self.tolerance:.3e} = atol {self.atol:.1e} + rtol {self.rtol:.1e} x |f(x)| {self.scale:.3e}",
        ]
        worst = sorted(self.errors, key=lambda t: -t[1] if math.isfinite(t[1]) else -math.inf)[:5]
        if not self.passed:
            lines.append("  worst " + ("cases (g, h):" if self.kind == "homomorphism" else "elements:"))
            for g, e in worst:
                lines.append(f"    g = {_short(g)}: error {e:.3e}")
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle):  # IPython display
        p.text(str(self))


def _short(g) -> str:
    if isinstance(g, torch.Tensor):
        g = g.tolist()
    s = repr(g)
    return s if len(s) <= 60 else s[:57] + "..."


class EquivarianceError(AssertionError):
    """Raised by the checks when a function is not equivariant/invariant within tolerance.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`.
    """

    def __init__(self, report: SymmetryReport):
        super().__init__(str(report))
        self.report = report


def _call(f, x):
    return f(*x) if isinstance(x, tuple) else f(x)


def check_equivariance(
    f: Callable,
    group,
    x,
    rho_in: Action,
    rho_out: Action | None = None,
    *,
    atol: float = 1e-5,
    rtol: float = 1e-5,
    samples: int | None = None,
    seed: int = 0,
    raise_error: bool = True,
    name: str | None = None,
) -> SymmetryReport:
    """Measure how far ``f`` is from equivariance: :math:`f(\\rho_\\text{in}(g)x) = \\rho_\\text{out}(g)f(x)`.

    For each tested element :math:`g` the error is the largest absolute entry of
    :math:`f(\\rho_\\text{in}(g)x) - \\rho_\\text{out}(g)f(x)`; the check passes when every error
    is at most ``atol + rtol * max|f(x)|``.

    Args:
        f: the map to test. If ``x`` is a tuple, it is called as ``f(*x)`` (e.g. ``f(X, A)``).
        group: a sequence of elements, or an object with ``elements()`` (finite groups) or
            ``sample(num, generator)`` (continuous groups; pass ``samples``).
        x: the input signal (tensor, array, or tuple of them).
        rho_in: the action on inputs, ``rho_in(g, x) -> x'`` (receives and returns the tuple
            when ``x`` is one).
        rho_out: the action on outputs; defaults to ``rho_in``.
        atol, rtol: absolute and relative tolerance.
        samples: test this many random elements instead of all of them.
        seed: seed of the sampling.
        raise_error: raise :class:`EquivarianceError` (an ``AssertionError``) with a readable
            report when the check fails; otherwise just return the report.
        name: what to call ``f`` in the report.

    Returns:
        SymmetryReport: per-element errors, ``max_error``, ``passed``.

    Shapes:
        x: any input ``f`` accepts (a tensor or a tuple of them); ``rho_in(g, x)`` has the shape of ``x`` and ``rho_out(g, y)`` that of ``f(x)``.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`.
    """
    rho_out = rho_in if rho_out is None else rho_out
    return _check("equivariance", f, group, x, rho_in, rho_out, atol, rtol, samples, seed, raise_error, name)


def check_invariance(
    f: Callable,
    group,
    x,
    rho_in: Action,
    *,
    atol: float = 1e-5,
    rtol: float = 1e-5,
    samples: int | None = None,
    seed: int = 0,
    raise_error: bool = True,
    name: str | None = None,
) -> SymmetryReport:
    """Measure how far ``f`` is from invariance: :math:`f(\\rho_\\text{in}(g)x) = f(x)`.

    Same arguments and result as :func:`check_equivariance` with a trivial output action.

    Shapes:
        x: any input ``f`` accepts; ``rho_in(g, x)`` has the shape of ``x``.

    Introduced in: 3.1, :doc:`/book/03_priors/03_1_symmetries`.
    """
    return _check(
        "invariance", f, group, x, rho_in, lambda g, y: y, atol, rtol, samples, seed, raise_error, name
    )


def _check(kind, f, group, x, rho_in, rho_out, atol, rtol, samples, seed, raise_error, name) -> SymmetryReport:
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    if not callable(rho_in) or not callable(rho_out):
        raise TypeError("rho_in and rho_out must be callables rho(g, x) -> transformed x")
    elements = group_elements(group, samples, seed)
    if not elements:
        raise ValueError("the group has no elements to test")
    name = name or getattr(f, "__name__", None) or type(f).__name__
    with torch.no_grad():
        fx = _call(f, x)
        ref = _to_numpy(fx)
        scale = float(np.max(np.abs(ref))) if ref.size else 0.0
        errors = []
        for g in elements:
            lhs = _to_numpy(_call(f, rho_in(g, x)))
            rhs = _to_numpy(rho_out(g, fx))
            if lhs.shape != rhs.shape:
                raise ValueError(
                    f"shapes differ for g = {_short(g)}: f(rho_in(g) x) has shape {lhs.shape}, "
                    f"rho_out(g) f(x) has shape {rhs.shape}"
                )
            err = float(np.max(np.abs(lhs - rhs))) if lhs.size else 0.0
            errors.append((g, err if np.all(np.isfinite(lhs)) else math.inf))
    report = SymmetryReport(kind, name, errors, scale, atol + rtol * scale, atol, rtol)
    if raise_error and not report.passed:
        raise EquivarianceError(report)
    return report


# ---------------------------------------------------------------------------------------------
# O(3) and E(3): rotations, reflections and translations of space, acting on point clouds
# (positions move with the whole transformation, vectors such as velocities only with its
# linear part). Introduced in 5.5 (equivariant message passing).
# ---------------------------------------------------------------------------------------------

def _euclidean_parts(g, x, what: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Split ``g`` into its linear part Q (d x d) and translation t (d,) or None, where d is
    the dimension of the points ``x``: a (d, d) ``g`` is linear, a (d+1, d+1) one homogeneous."""
    if not isinstance(g, torch.Tensor) or g.dim() != 2 or g.shape[0] != g.shape[1]:
        shape = tuple(g.shape) if isinstance(g, torch.Tensor) else type(g).__name__
        raise ValueError(
            f"{what}: expected an orthogonal (d, d) matrix or a homogeneous (d+1, d+1) matrix "
            f"[[Q, t], [0, 1]] of E(d), got {shape}"
        )
    if not isinstance(x, torch.Tensor) or x.dim() < 1:
        raise TypeError(f"{what}: expected a tensor of shape (..., N, d), got {type(x).__name__}")
    d = x.shape[-1]
    if g.shape[0] == d:
        return g, None
    if g.shape[0] == d + 1:
        if not (bool(g[-1, :-1].eq(0).all()) and float(g[-1, -1]) == 1.0):
            raise ValueError(f"{what}: a homogeneous matrix must have last row (0, ..., 0, 1), got {g[-1].tolist()}")
        return g[:-1, :-1], g[:-1, -1]
    raise ValueError(
        f"{what}: points/vectors of dimension d = {d} need g of shape ({d}, {d}) or ({d + 1}, {d + 1}), "
        f"got {tuple(g.shape)}"
    )


def transform_points(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Action of a Euclidean transformation on a point cloud: :math:`x_i \\mapsto Q x_i + t`.

    ``g`` is either a homogeneous matrix :math:`\\begin{pmatrix} Q & t \\\\ 0 & 1\\end{pmatrix}`
    of :math:`E(d)` (as :class:`E3` samples them) or an orthogonal :math:`d \\times d` matrix
    :math:`Q` (an element of :class:`O3` or :class:`SO3`, :math:`t = 0`).

    Shapes:
        g: ``(d+1, d+1)`` or ``(d, d)``; x: ``(..., N, d)``; output: ``(..., N, d)``.

    Introduced in: 5.5, :doc:`/book/05_models/05_5_1_egnn`.
    """
    q, t = _euclidean_parts(g, x, "transform_points")
    y = x @ q.to(x.dtype).transpose(-1, -2)
    return y if t is None else y + t.to(x.dtype)


def transform_vectors(g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Action on vector features (velocities, forces, differences of points): only the linear
    part acts, :math:`v_i \\mapsto Q v_i`; a translation leaves a vector unchanged.

    Shapes:
        g: ``(d+1, d+1)`` or ``(d, d)``; v: ``(..., N, d)``; output: ``(..., N, d)``.

    Introduced in: 5.5, :doc:`/book/05_models/05_5_1_egnn`.
    """
    q, _ = _euclidean_parts(g, v, "transform_vectors")
    return v @ q.to(v.dtype).transpose(-1, -2)


class O3(_MatrixGroup):
    """The orthogonal group :math:`O(3) = SO(3) \\cup \\{-R : R \\in SO(3)\\}`: rotations and
    rotations composed with the point reflection :math:`-I` (determinant :math:`-1`; every
    mirror reflection is one of these).

    :meth:`sample` draws Haar-uniform elements: a uniform rotation (:meth:`SO3.sample`) times
    a sign :math:`\\pm 1`, each with probability :math:`\\tfrac12`. Elements are ``(3, 3)``
    matrices acting on points by :func:`transform_points` (:math:`x \\mapsto Qx`).

    Introduced in: 5.5, :doc:`/book/05_models/05_5_1_egnn`.
    """

    dim = 3

    def sample(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``num`` Haar-uniform orthogonal matrices, half of them (in expectation) improper.
        Shapes: output ``(num, 3, 3)``."""
        r = SO3(torch.float64).sample(num, generator=generator)
        sign = 1.0 - 2.0 * torch.randint(0, 2, (num,), generator=generator).to(torch.float64)
        return (r * sign[:, None, None]).to(self.dtype)


    @staticmethod
    def act(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """:math:`x_i \\mapsto Q x_i` on the rows of ``x`` ``(..., N, 3)``."""
        return transform_points(g, x)


class E3:
    """The Euclidean group :math:`E(3)` of rigid motions and reflections,
    :math:`x \\mapsto Qx + t` with :math:`Q \\in O(3)`, :math:`t \\in \\mathbb R^3`, stored as
    homogeneous ``(4, 4)`` matrices :math:`\\begin{pmatrix} Q & t\\\\ 0 & 1\\end{pmatrix}` so that
    composing two motions is a matrix product.

    :meth:`sample` draws :math:`Q` Haar-uniformly from :math:`O(3)` (from :math:`SO(3)` with
    ``reflections=False``: the group :math:`SE(3)`) and :math:`t \\sim \\mathcal N(0,
    \\text{translation_std}^2 I)` (there is no uniform distribution on :math:`\\mathbb R^3`).
    Points move by :func:`transform_points` (:meth:`act`), vectors by
    :func:`transform_vectors` (:meth:`act_on_vectors`).

    Introduced in: 5.5, :doc:`/book/05_models/05_5_1_egnn`.
    """

    dim = 3

    def __init__(self, reflections: bool = True, translation_std: float = 1.0, dtype: torch.dtype | None = None):
        if not (isinstance(translation_std, (int, float)) and math.isfinite(translation_std) and translation_std >= 0):
            raise ValueError(f"translation_std must be a finite number >= 0, got {translation_std!r}")
        self.reflections = bool(reflections)
        self.translation_std = float(translation_std)
        self.dtype = dtype or torch.get_default_dtype()

    def __repr__(self) -> str:
        return f"E3(reflections={self.reflections}, translation_std={self.translation_std})"

    @staticmethod
    def element(q: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The homogeneous matrix of :math:`x \\mapsto Qx + t`. Shapes: q ``(3, 3)``, t ``(3,)`` -> ``(4, 4)``."""
        q = _check_rotation_matrix(q, 3, "E3.element")
        t = torch.as_tensor(t, dtype=q.dtype)
        if t.shape != (3,):
            raise ValueError(f"E3.element: the translation must have shape (3,), got {tuple(t.shape)}")
        g = torch.eye(4, dtype=q.dtype)
        g[:3, :3], g[:3, 3] = q, t
        return g

    def sample(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``num`` random motions. Shapes: output ``(num, 4, 4)``."""
        q = (O3 if self.reflections else SO3)(torch.float64).sample(num, generator=generator)
        t = self.translation_std * torch.randn(num, 3, generator=generator, dtype=torch.float64)
        g = torch.eye(4, dtype=torch.float64).repeat(num, 1, 1)
        g[:, :3, :3], g[:, :3, 3] = q, t
        return g.to(self.dtype)

    def identity(self) -> torch.Tensor:
        return torch.eye(4, dtype=self.dtype)

    def compose(self, g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return _check_rotation_matrix(g, 4, "E3.compose") @ _check_rotation_matrix(h, 4, "E3.compose")

    def inverse(self, g: torch.Tensor) -> torch.Tensor:
        """:math:`x \\mapsto Q^\\top (x - t)`."""
        g = _check_rotation_matrix(g, 4, "E3.inverse")
        q, t = g[..., :3, :3], g[..., :3, 3]
        out = torch.zeros_like(g)
        out[..., :3, :3] = q.transpose(-1, -2)
        out[..., :3, 3] = -(q.transpose(-1, -2) @ t.unsqueeze(-1)).squeeze(-1)
        out[..., 3, 3] = 1
        return out

    @staticmethod
    def act(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Points: :math:`x_i \\mapsto Q x_i + t` (:func:`transform_points`)."""
        return transform_points(g, x)

    @staticmethod
    def act_on_vectors(g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Vectors: :math:`v_i \\mapsto Q v_i` (:func:`transform_vectors`)."""
        return transform_vectors(g, v)
