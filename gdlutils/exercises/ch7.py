"""Self-checks for the exercises of chapter 7 (the historic perspective)."""
from __future__ import annotations

import random

import torch

from . import ExerciseFailure, exercise
from .ch5 import _tensor


def _separable_data(seed: int, num: int = 60, dim: int = 4, margin: float = 0.3):
    """Points around (2, ..., 2), labelled +-1 by a hyperplane that misses the origin, with a margin."""
    gen = torch.Generator().manual_seed(seed)
    w_true = torch.randn(dim, generator=gen, dtype=torch.float64)
    w_true /= w_true.norm()
    x = 2.0 + torch.randn(4 * num, dim, generator=gen, dtype=torch.float64)
    score = x @ w_true - (2.0 * w_true.sum() + 0.2)  # the hyperplane passes near the cloud's centre, not through 0
    keep = score.abs() > margin
    return x[keep][:num], torch.where(score[keep][:num] > 0, 1.0, -1.0).to(torch.float64)


@exercise("7.1", "Rosenblatt's perceptron learning rule")
def _perceptron(perceptron):
    """``perceptron(x, y, epochs)``: x (N, d), y in {-1, +1} (N,) -> (w (d,), b scalar) separating the data."""
    for seed in (0, 1, 2):
        x, y = _separable_data(seed)
        out = perceptron(x, y, 200)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise ExerciseFailure(f"perceptron should return a pair (w, b), got {type(out).__name__}")
        w = _tensor(out[0], "perceptron's w").double()
        b = torch.as_tensor(out[1], dtype=torch.float64)
        if tuple(w.shape) != (x.shape[1],) or b.numel() != 1:
            raise ExerciseFailure(f"w should have shape ({x.shape[1]},) and b be a scalar, got {tuple(w.shape)} and {tuple(b.shape)}")
        wrong = int((torch.sign(x @ w + b) != y).sum())
        if wrong:
            if b.abs().item() == 0:
                hint = "your bias stayed 0: these classes are separated by a hyperplane that misses the origin"
            elif wrong > len(y) // 2:
                hint = "most points are on the wrong side: on a mistake, move w towards y_i x_i, not away from it"
            else:
                hint = ("update only on mistakes, y_i (w . x_i + b) <= 0, with w <- w + y_i x_i and b <- b + y_i, "
                        "and sweep the data until an epoch makes no mistake")
            raise ExerciseFailure(f"on a linearly separable set of {len(y)} points (seed {seed}), after 200 epochs "
                                  f"{wrong} points are misclassified; {hint}")


def _dihedral_perms_3x3() -> torch.Tensor:
    """The 8 symmetries of a 3 x 3 image as permutations of its 9 pixels, perm[u] = pi(u)."""
    index = torch.arange(9).reshape(3, 3)
    perms = []
    for flip in (False, True):
        image = index.flip(1) if flip else index
        for k in range(4):
            moved = torch.rot90(image, k)  # moved[pos] = the pixel that lands at pos
            perm = torch.empty(9, dtype=torch.long)
            perm[moved.reshape(-1)] = torch.arange(9)
            perms.append(perm)
    return torch.stack(perms)


def _cyclic_perms(n: int) -> torch.Tensor:
    return torch.stack([(torch.arange(n) + k) % n for k in range(n)])


@exercise("7.2", "Minsky and Papert's orbit average")
def _orbit_average(orbit_average):
    """``orbit_average(w, perms)``: w (n,), perms (|G|, n) the whole group -> the average of w over the group."""
    gen = torch.Generator().manual_seed(72)
    for name, perms in [("the 8 symmetries of a 3 x 3 image", _dihedral_perms_3x3()), ("the 6 cyclic shifts of a ring", _cyclic_perms(6))]:
        n = perms.shape[1]
        w = torch.randn(n, generator=gen, dtype=torch.float64)
        got = _tensor(orbit_average(w.clone(), perms.clone()), "orbit_average").double()
        if tuple(got.shape) != (n,):
            raise ExerciseFailure(f"orbit_average should return shape ({n},), got {tuple(got.shape)}")
        for perm in perms:
            if not torch.allclose(got[perm], got, atol=1e-10):
                raise ExerciseFailure(f"under {name} your averaged weights are not invariant: w_bar[pi(u)] != w_bar[u] for "
                                      "some pi; average over every element of the group, not only over the generators")
        want = w[perms].mean(0)
        if not torch.allclose(got, want, atol=1e-10):
            if torch.allclose(got, want * len(perms), atol=1e-10):
                hint = "you sum over the group: divide by its order, so that an invariant w is left unchanged"
            elif torch.allclose(got, torch.full_like(got, w.mean().item()), atol=1e-10):
                hint = "you average over all pixels: average each pixel only over its orbit (the centre of a 3 x 3 image stays put)"
            else:
                hint = "an invariant w must be left unchanged, and w_bar[u] is the mean of w over the orbit of u"
            raise ExerciseFailure(f"under {name} your averaged weights differ from the group average by "
                                  f"{(got - want).abs().max().item():.2e}; {hint}")


def _synthetic_table(seed: int) -> list[dict]:
    rng = random.Random(seed)
    sections = ["5.1", "5.2", "5.3", "5.4", "1", "5.10"]
    table = [dict(year=rng.randint(1950, 2022), event=f"event {i}", area="learning", citation=f"key{i}",
                  chapter=rng.choice(sections)) for i in range(30)]
    table.append(dict(year=-300, event="Elements", area="geometry", citation="euclid", chapter="1"))
    return table


@exercise("7.3", "the first landmark of each section")
def _first_year(first_year_per_section):
    """``first_year_per_section(table)``: list of event dicts -> {chapter: year of its earliest event}."""
    for seed in (0, 1, 2):
        table = _synthetic_table(seed)
        want = {}
        for row in table:
            want[row["chapter"]] = min(want.get(row["chapter"], row["year"]), row["year"])
        shuffled = list(table)
        random.Random(seed + 10).shuffle(shuffled)
        got = first_year_per_section([dict(r) for r in shuffled])
        if not isinstance(got, dict):
            raise ExerciseFailure(f"first_year_per_section should return a dict, got {type(got).__name__}")
        if set(got) != set(want):
            raise ExerciseFailure(f"the keys should be the sections of the table as strings, {sorted(want)}, got "
                                  f"{sorted(map(str, got))}" + ("; keep them strings: as numbers, 5.1 and 5.10 are the same"
                                                                if any(not isinstance(k, str) for k in got) else ""))
        for section, year in want.items():
            if got[section] != year:
                later = got[section] > year
                hint = ("you keep the first row you meet, but the table you were given is not sorted; take the minimum year"
                        if later and any(r["chapter"] == section and r["year"] == got[section] for r in shuffled)
                        and got[section] != max(r["year"] for r in table if r["chapter"] == section)
                        else "take the earliest (smallest) year, not the latest" if later else "check the years you compare")
                raise ExerciseFailure(f"on a shuffled table, section {section!r}: expected the earliest year, got {got[section]}; {hint}")
