"""Self-checks of chapter 7 pass on the reference solutions and fail on plausible wrong ones."""
import torch

from gdlutils.exercises import check, list_exercises


def test_checks_are_registered():
    ids = list_exercises()
    for k in (1, 2, 3):
        assert f"7.{k}" in ids


def _perceptron(x, y, epochs, *, sign=1.0, bias=True, only_mistakes=True):
    w = torch.zeros(x.shape[1], dtype=x.dtype)
    b = torch.zeros((), dtype=x.dtype)
    for _ in range(epochs):
        mistakes = 0
        for xi, yi in zip(x, y):
            if not only_mistakes or yi * (xi @ w + b) <= 0:
                w = w + sign * yi * xi
                if bias:
                    b = b + sign * yi
                mistakes += 1
        if mistakes == 0:
            break
    return w, b


def test_7_1(capsys):
    assert check("7.1", _perceptron)
    assert not check("7.1", lambda x, y, e: _perceptron(x, y, e, bias=False))
    assert "bias stayed 0" in capsys.readouterr().out
    assert not check("7.1", lambda x, y, e: _perceptron(x, y, e, sign=-1.0))
    assert "misclassified" in capsys.readouterr().out
    assert not check("7.1", lambda x, y, e: _perceptron(x, y, 1, only_mistakes=False))
    assert "misclassified" in capsys.readouterr().out


def _orbit_average(w, perms):
    return w[perms].mean(0)


def test_7_2(capsys):
    assert check("7.2", _orbit_average)
    assert not check("7.2", lambda w, perms: w[perms].sum(0))
    assert "divide by its order" in capsys.readouterr().out
    assert not check("7.2", lambda w, perms: torch.full_like(w, w.mean().item()))
    assert "over its orbit" in capsys.readouterr().out
    assert not check("7.2", lambda w, perms: w[perms[:2]].mean(0))  # only two elements (identity and one rotation)
    assert "not invariant" in capsys.readouterr().out


def _first_year(table):
    out = {}
    for row in table:
        out[row["chapter"]] = min(out.get(row["chapter"], row["year"]), row["year"])
    return out


def test_7_3(capsys):
    assert check("7.3", _first_year)

    def first_row(table):
        out = {}
        for row in table:
            out.setdefault(row["chapter"], row["year"])
        return out

    def latest(table):
        out = {}
        for row in table:
            out[row["chapter"]] = max(out.get(row["chapter"], row["year"]), row["year"])
        return out

    def as_numbers(table):
        return {float(k): v for k, v in _first_year(table).items()}

    assert not check("7.3", first_row)
    assert "not sorted" in capsys.readouterr().out
    assert not check("7.3", latest)
    assert "not the latest" in capsys.readouterr().out
    assert not check("7.3", as_numbers)
    assert "keep them strings" in capsys.readouterr().out
