"""Tests of gdlutils.training: the loop learns, is reproducible, and accepts several data forms."""
import pytest
import torch
from torch import nn

from gdlutils.training import History, accuracy, batches, count_parameters, evaluate, fit, predict


def _blobs(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    centres = torch.tensor([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
    return centres[y] + 0.5 * torch.randn(n, 2, generator=g), y


def test_fit_learns_and_is_seeded():
    X, y = _blobs()
    torch.manual_seed(123)
    m1 = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    m2 = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    m2.load_state_dict(m1.state_dict())
    h1 = fit(m1, (X, y), epochs=15, lr=1e-2, batch_size=32, progress=False, seed=1, val_data=(X, y))
    h2 = fit(m2, (X, y), epochs=15, lr=1e-2, batch_size=32, progress=False, seed=1)
    assert isinstance(h1, History) and len(h1.loss) == 15 and len(h1.val_metric) == 15
    assert h1.loss[-1] < h1.loss[0]
    assert h1.loss == h2.loss
    assert evaluate(m1, (X, y)) > 0.95
    assert not m1.training  # left in eval mode


def test_evaluate_matches_manual_accuracy_and_data_forms():
    X, y = _blobs(100)
    model = nn.Linear(2, 3)
    manual = (model(X).argmax(1) == y).float().mean().item()
    ds = torch.utils.data.TensorDataset(X, y)
    assert evaluate(model, (X, y), batch_size=7) == pytest.approx(manual)
    assert evaluate(model, ds) == pytest.approx(manual)
    assert evaluate(model, torch.utils.data.DataLoader(ds, batch_size=13)) == pytest.approx(manual)
    assert torch.allclose(predict(model, (X,)), model(X).detach())
    fit(model, torch.utils.data.DataLoader(ds, batch_size=16, shuffle=True), epochs=2, progress=False)


def test_batches_cover_data_once():
    X = torch.arange(10)
    seen = torch.cat([b[0] for b in batches((X,), 3, shuffle=True, generator=torch.Generator().manual_seed(0))])
    assert sorted(seen.tolist()) == list(range(10))


def test_errors():
    X, y = _blobs(10)
    with pytest.raises(ValueError, match="first dimension"):
        fit(nn.Linear(2, 3), (X, y[:5]), progress=False)
    with pytest.raises(TypeError, match="tuple of tensors"):
        evaluate(nn.Linear(2, 3), X.numpy())
    with pytest.raises(ValueError, match="optimizer"):
        fit(nn.Linear(2, 3), (X, y), optimizer="lbfgs", progress=False)
    with pytest.raises(ValueError, match="epochs"):
        fit(nn.Linear(2, 3), (X, y), epochs=0, progress=False)
    with pytest.raises(ValueError, match="logits"):
        accuracy(torch.randn(4), torch.zeros(4, dtype=torch.long))
    assert count_parameters(nn.Linear(2, 3)) == 9
