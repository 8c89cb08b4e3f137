"""Groups, their actions on signals, and numerical symmetry checks.

A *group* here is any object that can list its elements (``elements()``) or, for a
continuous group, draw random ones (``sample(n, generator)``). An *action* on signals is a
function ``rho(g, x)`` returning the transformed signal :math:`\\rho(g)x`.

:func:`check_equivariance` measures, for every (or a sample of) group element :math:`g`,

.. math:: e(g) = \\lVert f(\\rho_{\\text{in}}(g)\\,x) - \\rho_{\\text{out}}(g)\\,f(x) \\rVert_\\infty ,

and :func:`check_invariance` the same with :math:`\\rho_{\\text{out}}(g) = \\mathrm{id}`.

Introduced in: 3.1 (symmetries, representations and invariance); used in every chapter after.
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
]

Action = Callable[[Any, Any], Any]


class CyclicGroup:
    """The cyclic group :math:`C_n = \\{0, 1, \\dots, n-1\\}` under addition mod :math:`n`.

    Acts on signals on the cyclic grid :math:`\\mathbb{Z}_n` by circular shifts along ``dim``
    (:meth:`shift`): :math:`(\\rho(g)x)_u = x_{u-g}`.

    Introduced in: 3.1; the grid of 4.2 is its homogeneous space.
    """

    def __init__(self, n: int):
        if int(n) != n or n < 1:
            raise ValueError(f"CyclicGroup needs a positive integer order, got {n!r}")
        self.n = int(n)

    def __repr__(self) -> str:
        return f"CyclicGroup({self.n})"

    def __len__(self) -> int:
        return self.n

    def elements(self) -> list[int]:
        return list(range(self.n))

    def identity(self) -> int:
        return 0

    def compose(self, g: int, h: int) -> int:
        return (g + h) % self.n

    def inverse(self, g: int) -> int:
        return (-g) % self.n

    def sample(self, num: int, generator: torch.Generator | None = None) -> list[int]:
        return torch.randint(self.n, (num,), generator=generator).tolist()

    @staticmethod
    def shift(g: int, x, dim: int = -1):
        """Circular shift of ``x`` by ``g`` steps along ``dim`` (torch or NumPy)."""
        if isinstance(x, torch.Tensor):
            return torch.roll(x, shifts=int(g), dims=dim)
        return np.roll(x, int(g), axis=dim)


class SymmetricGroup:
    """The symmetric group :math:`S_n` of permutations of :math:`n` objects.

    An element is a permutation stored as an integer tensor ``perm`` of shape ``(n,)``;
    composition is ``(g h)[i] = g[h[i]]``. It acts on node features by reordering rows
    (:meth:`permute_rows`, :math:`X \\mapsto PX`) and on adjacency matrices by
    :math:`A \\mapsto PAP^\\top` (:meth:`permute_adjacency`).

    ``elements()`` lists all :math:`n!` permutations (refused for ``n > 8``: use ``sample``).

    Introduced in: 3.1; graphs and sets in 3.2 and 4.1.
    """

    def __init__(self, n: int):
        if int(n) != n or n < 1:
            raise ValueError(f"SymmetricGroup needs a positive integer degree, got {n!r}")
        self.n = int(n)

    def __repr__(self) -> str:
        return f"SymmetricGroup({self.n})"

    def __len__(self) -> int:
        return math.factorial(self.n)

    def elements(self) -> list[torch.Tensor]:
        if self.n > 8:
            raise ValueError(
                f"S_{self.n} has {math.factorial(self.n)} elements, too many to list; "
                "use sample(num) instead (check_equivariance(..., samples=num) does)"
            )
        import itertools

        return [torch.tensor(p) for p in itertools.permutations(range(self.n))]

    def identity(self) -> torch.Tensor:
        return torch.arange(self.n)

    def compose(self, g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return g[h]

    def inverse(self, g: torch.Tensor) -> torch.Tensor:
        return torch.argsort(g)

    def sample(self, num: int, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        return [torch.randperm(self.n, generator=generator) for _ in range(num)]

    @staticmethod
    def permute_rows(g: torch.Tensor, x):
        """:math:`PX`: row ``i`` of the result is row ``g[i]`` of ``x``."""
        return x[g] if isinstance(x, torch.Tensor) else np.asarray(x)[np.asarray(g)]

    @staticmethod
    def permute_adjacency(g: torch.Tensor, a):
        """:math:`PAP^\\top` for a dense adjacency matrix."""
        if isinstance(a, torch.Tensor):
            return a[g][:, g]
        gi = np.asarray(g)
        return np.asarray(a)[gi][:, gi]


def group_elements(group, samples: int | None = None, seed: int = 0) -> list:
    """Elements to test: all of them, or ``samples`` random ones (always for continuous groups).

    ``group`` is a sequence of elements, or an object with ``elements()`` and/or
    ``sample(num, generator)``.
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
        status = "PASSED" if self.passed else "FAILED"
        lines = [
            f"{self.kind} check of {self.name}: {status} on {len(self.errors) - len(self.failures)}"
            f"/{len(self.errors)} group elements",
            f"  max error {self.max_error:.3e} (relative {self.relative_error:.3e}); "
            f"tolerance {self.tolerance:.3e} = atol {self.atol:.1e} + rtol {self.rtol:.1e} x |f(x)| {self.scale:.3e}",
        ]
        worst = sorted(self.errors, key=lambda t: -t[1] if math.isfinite(t[1]) else -math.inf)[:5]
        if not self.passed:
            lines.append("  worst elements:")
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
    """Raised by the checks when a function is not equivariant/invariant within tolerance."""

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

    Introduced in: 3.1.
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

    Introduced in: 3.1.
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
