"""Self-checks for the exercises of chapter 1 (Introduction)."""
from __future__ import annotations

import torch

from ..groups import CyclicGroup, SymmetricGroup, check_equivariance, check_invariance
from . import ExerciseFailure, exercise


@exercise("1.1.1", "a permutation-invariant function of a set")
def _set_invariant(f):
    gen = torch.Generator().manual_seed(11)
    shapes = {}
    for n in (3, 5):
        x = torch.randn(n, 4, generator=gen, dtype=torch.float64)
        shapes[n] = tuple(torch.as_tensor(f(x)).shape)
        if shapes[n][:1] == (n,) and n == 5 and shapes[3][:1] == (3,):
            raise ExerciseFailure(
                f"for sets of 3 and 5 points your outputs have shapes {shapes[3]} and {shapes[5]}: "
                "one output per point is an equivariant map; a set function pools the points into one answer"
            )
    for n in (3, 5):
        x = torch.randn(n, 4, generator=gen, dtype=torch.float64)
        report = check_invariance(f, SymmetricGroup(n), x, SymmetricGroup.permute_rows, raise_error=False, samples=24)
        if not report.passed:
            raise ExerciseFailure(
                f"reordering the {n} points changed the output by up to {report.max_error:.2e}; "
                "the order of the rows must not matter"
            )
    if torch.allclose(torch.as_tensor(f(torch.zeros(3, 4, dtype=torch.float64))).double(),
                      torch.as_tensor(f(torch.ones(3, 4, dtype=torch.float64))).double()):
        raise ExerciseFailure("your function gives the same output for all-zero and all-one sets: it ignores its input")


@exercise("1.1.2", "a shift-equivariant map on a cycle")
def _shift_equivariant(f):
    gen = torch.Generator().manual_seed(12)
    x = torch.randn(16, generator=gen, dtype=torch.float64)
    y = f(x)
    if not isinstance(y, torch.Tensor) or y.shape != x.shape:
        raise ExerciseFailure(f"for a signal of shape {tuple(x.shape)} expected an output of the same shape")
    report = check_equivariance(f, CyclicGroup(16), x, CyclicGroup.shift, raise_error=False)
    if not report.passed:
        worst = max(report.errors, key=lambda t: t[1])
        raise ExerciseFailure(
            f"shifting the input by {worst[0]} and applying f differs from shifting f's output by up to "
            f"{worst[1]:.2e}: check what happens at the ends of the signal"
        )
    if torch.allclose(y, x) or torch.allclose(y, torch.zeros_like(y)):
        raise ExerciseFailure("the identity and the zero map are equivariant but trivial: mix neighbouring values")
    x2 = torch.randn(16, generator=gen, dtype=torch.float64)
    combined = torch.as_tensor(f(2.0 * x - 3.0 * x2)).double()
    if not torch.allclose(combined, 2.0 * y.double() - 3.0 * torch.as_tensor(f(x2)).double(), atol=1e-9):
        raise ExerciseFailure(
            "f(2 x - 3 x') differs from 2 f(x) - 3 f(x') on two random signals: a weighted combination of "
            "values is linear in the signal"
        )
    delta = torch.zeros(16, dtype=torch.float64)
    delta[0] = 1.0
    response = torch.as_tensor(f(delta)).double()
    far = [u for u in range(16) if u not in (15, 0, 1) and abs(float(response[u])) > 1e-12]
    if far:
        raise ExerciseFailure(
            f"on a unit impulse at position 0 your output is non-zero at position {far[0]}: "
            "use only the value itself and its two neighbours on the cycle"
        )
    if abs(float(response[15])) < 1e-12 and abs(float(response[1])) < 1e-12:
        raise ExerciseFailure(
            "on a unit impulse at position 0 your output is zero at both neighbours 15 and 1: a map that acts "
            "on each value separately (such as scaling) is equivariant but does not mix neighbouring values"
        )
