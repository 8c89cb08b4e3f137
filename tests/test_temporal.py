"""gdlutils.temporal: the chickenpox loader, windows and split, linear baselines and the
graph-convolutional GRU (against torch.nn.GRUCell, ChebConv and numpy's least squares;
permutation equivariance; bad input)."""
import numpy as np
import pytest
import torch
from torch import nn

from gdlutils.graphs import graph_action, permute_graph, random_permutation
from gdlutils.groups import check_equivariance
from gdlutils.spectral import ChebConv
from gdlutils.temporal import (
    GConvGRU,
    GConvGRUCell,
    GConvGRUForecaster,
    chronological_split,
    fit_ar,
    fit_forecaster,
    last_value_forecast,
    load_chickenpox,
    mean_forecast,
    mse,
    neighbour_mean,
    predict_ar,
    sliding_windows,
)


@pytest.fixture(scope="module")
def data():
    return load_chickenpox()


# ------------------------------------------------------------------------------ loader
def test_loader_facts(data):
    assert data.signal.shape == (521, 20) and data.signal.dtype == torch.float32
    assert data.num_weeks == 521 and data.num_nodes == 20
    assert data.edge_index.shape == (2, 102) and data.edge_index.dtype == torch.long
    loops = data.edge_index[0] == data.edge_index[1]
    assert int(loops.sum()) == 20 and set(data.edge_index[0, loops].tolist()) == set(range(20))
    # the border graph is undirected: every edge comes with its reverse
    pairs = set(map(tuple, data.edge_index.t().tolist()))
    assert all((j, i) in pairs for i, j in pairs)
    assert len(data.node_names) == 20 and len(set(data.node_names)) == 20
    assert data.node_names[0] == "BACS" and "BUDAPEST" in data.node_names


def test_loader_standardised_and_anticorrelated(data):
    x = data.signal.double()
    assert x.mean(0).abs().max() < 1e-6
    # per-county standard deviation 1 (population form, ddof = 0)
    assert (x.std(0, unbiased=False) - 1).abs().max() < 1e-6
    rho = torch.stack([torch.corrcoef(torch.stack([x[:-1, i], x[1:, i]]))[0, 1] for i in range(20)])
    # measured: mean -0.510, every county in [-0.593, -0.401]
    assert -0.53 < float(rho.mean()) < -0.49
    assert float(rho.max()) < -0.35 and float(rho.min()) > -0.65


# ------------------------------------------------------------------------ windows, split
def test_sliding_windows_shapes_and_alignment():
    T, N, L = 11, 3, 4
    signal = torch.arange(T * N, dtype=torch.float32).reshape(T, N)
    x, y = sliding_windows(signal, L)
    assert x.shape == (T - L, N, L) and y.shape == (T - L, N)
    for s in range(T - L):
        assert torch.equal(x[s], signal[s:s + L].t())
        assert torch.equal(y[s], signal[s + L])
    # the last input of a window is the week just before its target
    assert torch.equal(x[1:, :, -1], y[:-1])


def test_windows_match_pyg_temporal_layout(data):
    x, y = sliding_windows(data.signal, 4)
    assert x.shape == (517, 20, 4) and y.shape == (517, 20)
    fx = data.signal.numpy()
    # ChickenpoxDatasetLoader: features[i] = FX[i:i+lags].T, targets[i] = FX[i+lags]
    for i in (0, 100, 516):
        np.testing.assert_array_equal(x[i].numpy(), fx[i:i + 4].T)
        np.testing.assert_array_equal(y[i].numpy(), fx[i + 4])


def test_chronological_split_has_no_leakage(data):
    signal = torch.arange(521, dtype=torch.float32)[:, None].expand(521, 20).contiguous()  # value = week
    x, y = sliding_windows(signal, 4)
    (xtr, ytr), (xte, yte) = chronological_split(x, y, 0.9)
    assert len(xtr) == int(0.9 * 517) == 465 and len(xte) == 52
    # every week a training window touches (inputs or target) comes before every test target
    assert max(xtr.max(), ytr.max()) < yte.min()
    assert ytr.max() == 468 and yte.min() == 469 and yte.max() == 520
    assert torch.equal(torch.cat([ytr, yte]), y)


# ------------------------------------------------------------------------------ baselines
def test_trivial_baselines(data):
    x, y = sliding_windows(data.signal, 4)
    assert torch.equal(mean_forecast(x), torch.zeros_like(y))
    assert torch.equal(last_value_forecast(x)[1:], y[:-1])
    # with lag-1 autocorrelation about -0.5, persistence is about three times worse than the mean
    assert mse(last_value_forecast(x), y) > 2.5 * mse(mean_forecast(x), y)


def test_neighbour_mean_against_dense(data):
    n = data.num_nodes
    a = torch.zeros(n, n)
    for j, i in data.edge_index.t().tolist():
        if i != j:
            a[i, j] = 1.0
    m = a / a.sum(1, keepdim=True)
    x = torch.randn(5, n, 4)
    want = torch.einsum("ij,sjl->sil", m, x)
    torch.testing.assert_close(neighbour_mean(x, data.edge_index), want)


@pytest.mark.parametrize("with_graph", [False, True])
def test_ar_equals_numpy_lstsq(data, with_graph):
    x, y = sliding_windows(data.signal, 4)
    (xtr, ytr), (xte, _) = chronological_split(x, y, 0.9)
    ei = data.edge_index if with_graph else None
    coef = fit_ar(xtr, ytr, ei)
    assert coef.shape == (20, 9 if with_graph else 5)
    nb = neighbour_mean(xtr, data.edge_index).double().numpy()
    pred = predict_ar(coef, xte, ei)
    nbte = neighbour_mean(xte, data.edge_index).double().numpy()
    for i in range(20):
        parts = [xtr[:, i].double().numpy()] + ([nb[:, i]] if with_graph else []) + [np.ones((len(xtr), 1))]
        w = np.linalg.lstsq(np.hstack(parts), ytr[:, i].double().numpy(), rcond=None)[0]
        np.testing.assert_allclose(coef[i].double().numpy(), w, rtol=1e-4, atol=1e-5)
        parts = [xte[:, i].double().numpy()] + ([nbte[:, i]] if with_graph else []) + [np.ones((len(xte), 1))]
        np.testing.assert_allclose(pred[:, i].double().numpy(), np.hstack(parts) @ w, rtol=1e-4, atol=1e-5)


def test_ar_recovers_a_known_process():
    gen = torch.Generator().manual_seed(3)
    T, N = 4000, 3
    phi = torch.tensor([0.05, -0.1, 0.2, -0.4])  # coefficients of lags t-4 .. t-1
    x = torch.zeros(T, N)
    noise = 0.1 * torch.randn(T, N, generator=gen)
    for t in range(4, T):
        x[t] = (phi[:, None] * x[t - 4:t]).sum(0) + 0.2 + noise[t]
    xi, yi = sliding_windows(x, 4)
    coef = fit_ar(xi, yi)
    torch.testing.assert_close(coef[:, :4], phi.expand(N, 4), atol=0.06, rtol=0)  # standard error ~0.016
    torch.testing.assert_close(coef[:, 4], torch.full((N,), 0.2), atol=0.02, rtol=0)


# ----------------------------------------------------------------------- graph-recurrent cell
def _self_loops(n):
    i = torch.arange(n)
    return torch.stack([i, i])


def _copy_gru_weights(cell: GConvGRUCell, gru: nn.GRUCell):
    with torch.no_grad():
        cell.conv_x.lins[0].weight.copy_(gru.weight_ih)
        cell.conv_h.lins[0].weight.copy_(gru.weight_hh)
        cell.conv_x.bias.copy_(gru.bias_ih)
        cell.conv_h.bias.copy_(gru.bias_hh)


@pytest.mark.parametrize("K, graph", [(2, "self_loops"), (1, "self_loops"), (1, "chickenpox")])
@pytest.mark.parametrize("batched", [False, True])
def test_cell_equals_torch_grucell_without_neighbours(data, K, graph, batched):
    n = data.num_nodes
    edge_index = _self_loops(n) if graph == "self_loops" else data.edge_index
    torch.manual_seed(0)
    gru = nn.GRUCell(3, 5).double()
    cell = GConvGRUCell(3, 5, K=K).double()
    _copy_gru_weights(cell, gru)
    shape = (4, n) if batched else (n,)
    x = torch.randn(*shape, 3, dtype=torch.float64)
    h = torch.randn(*shape, 5, dtype=torch.float64)
    want = gru(x.reshape(-1, 3), h.reshape(-1, 5)).reshape(*shape, 5)
    torch.testing.assert_close(cell(x, edge_index, h), want, rtol=1e-12, atol=1e-12)


def test_cell_uses_the_graph(data):
    torch.manual_seed(1)
    cell = GConvGRUCell(2, 4, K=2)
    x = torch.randn(20, 2)
    a = cell(x, data.edge_index)
    b = cell(x, _self_loops(20))
    assert (a - b).abs().max() > 1e-3


def test_batched_path_equals_chebconv_per_signal(data):
    torch.manual_seed(2)
    cell = GConvGRUCell(3, 4, K=3, reset_after=False).double()
    x = torch.randn(6, 20, 3, dtype=torch.float64, requires_grad=True)
    h = torch.randn(6, 20, 4, dtype=torch.float64)
    out = cell(x, data.edge_index, h)
    per = torch.stack([cell(x[b], data.edge_index, h[b]) for b in range(6)])
    torch.testing.assert_close(out, per, rtol=1e-12, atol=1e-12)
    # the 2-D path is ChebConv itself
    conv = ChebConv(3, 12, K=3).double()
    conv.load_state_dict(cell.conv_x.state_dict())
    torch.testing.assert_close(cell.conv_x(x[0], data.edge_index), conv(x[0], data.edge_index))
    # gradients agree too
    g1 = torch.autograd.grad(out.square().sum(), x)[0]
    g2 = torch.autograd.grad(per.square().sum(), x)[0]
    torch.testing.assert_close(g1, g2, rtol=1e-10, atol=1e-10)


def test_reset_before_matches_cho_formula():
    torch.manual_seed(3)
    cell = GConvGRUCell(2, 3, K=1, reset_after=False).double()
    x = torch.randn(7, 2, dtype=torch.float64)
    h = torch.randn(7, 3, dtype=torch.float64)
    wx, bx = cell.conv_x.lins[0].weight, cell.conv_x.bias
    wh, bh = cell.conv_h.lins[0].weight, cell.conv_h.bias
    with torch.no_grad():
        bx.normal_(); bh.normal_()
    gx = x @ wx.T + bx
    r = torch.sigmoid(gx[:, :3] + h @ wh[:3].T + bh[:3])
    z = torch.sigmoid(gx[:, 3:6] + h @ wh[3:6].T + bh[3:6])
    n = torch.tanh(gx[:, 6:] + (r * h) @ wh[6:].T + bh[6:])
    want = (1 - z) * n + z * h
    torch.testing.assert_close(cell(x, _self_loops(7), h), want)


def test_layer_runs_the_cell_over_time(data):
    torch.manual_seed(4)
    layer = GConvGRU(1, 6, K=2)
    x = torch.randn(5, 3, 20, 1)
    out, h = layer(x, data.edge_index)
    assert out.shape == (5, 3, 20, 6) and torch.equal(out[-1], h)
    state = None
    for t in range(5):
        state = layer.cell(x[t], data.edge_index, state)
    torch.testing.assert_close(h, state)


def test_forecaster_K1_is_a_plain_gru_per_node(data):
    torch.manual_seed(5)
    model = GConvGRUForecaster(8, K=1).double()
    gru = nn.GRU(1, 8).double()
    with torch.no_grad():
        gru.weight_ih_l0.copy_(model.rnn.cell.conv_x.lins[0].weight)
        gru.weight_hh_l0.copy_(model.rnn.cell.conv_h.lins[0].weight)
        gru.bias_ih_l0.copy_(model.rnn.cell.conv_x.bias)
        gru.bias_hh_l0.copy_(model.rnn.cell.conv_h.bias)
    x = torch.randn(9, 20, 4, dtype=torch.float64)
    _, h = gru(x.reshape(-1, 4).t().unsqueeze(-1))  # (lags, S*N, 1): every node its own sequence
    want = model.readout(h[0]).reshape(9, 20)
    torch.testing.assert_close(model(x, data.edge_index), want)


@pytest.mark.parametrize("K", [1, 2, 3])
def test_permutation_equivariance(data, K):
    torch.manual_seed(6)
    cell = GConvGRUCell(2, 4, K=K).double()
    x = torch.randn(20, 2, dtype=torch.float64)
    h = torch.randn(20, 4, dtype=torch.float64)
    perms = [random_permutation(20, torch.Generator().manual_seed(s)) for s in range(5)]

    def act(perm, inputs):  # (x, edge_index, h) -> (Px, pi(edge_index), Ph)
        px, pe = permute_graph(perm, inputs[0], inputs[1])
        return px, pe, permute_graph(perm, inputs[2], None)[0]

    check_equivariance(lambda a, e, b: cell(a, e, b), perms, (x, data.edge_index, h), act, graph_action, atol=1e-10)
    # the forecaster on windows (S, N, L): nodes are the second dimension
    model = GConvGRUForecaster(6, K=K).double()
    w = torch.randn(3, 20, 4, dtype=torch.float64)
    for perm in perms:
        inv = torch.empty_like(perm)
        inv[perm] = torch.arange(20)
        _, pe = permute_graph(perm, None, data.edge_index, num_nodes=20)
        torch.testing.assert_close(model(w[:, inv], pe), model(w, data.edge_index)[:, inv])


def test_graph_model_is_not_equivariant_to_a_wrongly_permuted_graph(data):
    # a test that can fail: permuting the signal but not the graph changes the output
    torch.manual_seed(7)
    cell = GConvGRUCell(1, 3, K=2).double()
    x = torch.randn(20, 1, dtype=torch.float64)
    perm = random_permutation(20, torch.Generator().manual_seed(0))
    px, _ = permute_graph(perm, x, data.edge_index)
    assert (cell(px, data.edge_index) - permute_graph(perm, cell(x, data.edge_index), None)[0]).abs().max() > 1e-4


def test_fit_forecaster_learns_and_is_seeded(data):
    x, y = sliding_windows(data.signal[:120], 4)
    model = GConvGRUForecaster(4, K=2)
    losses = fit_forecaster(model, x, y, data.edge_index, epochs=15, lr=0.05, seed=0)
    assert len(losses) == 15 and losses[-1] < losses[0]
    again = fit_forecaster(model, x, y, data.edge_index, epochs=15, lr=0.05, seed=0)
    assert losses == again


# ------------------------------------------------------------------------------ bad input
def test_bad_input(data):
    with pytest.raises(ValueError, match="more time steps than lags"):
        sliding_windows(torch.zeros(4, 3), 4)
    with pytest.raises(ValueError, match=r"\(T, N\)"):
        sliding_windows(torch.zeros(10), 2)
    with pytest.raises(TypeError, match="floating-point"):
        sliding_windows(torch.zeros(10, 2, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="NaN"):
        sliding_windows(torch.full((10, 2), float("nan")), 2)
    with pytest.raises(ValueError, match="lags must be"):
        sliding_windows(torch.zeros(10, 2), 0)
    x, y = sliding_windows(data.signal, 4)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        chronological_split(x, y, 1.0)
    with pytest.raises(ValueError, match="as many windows"):
        chronological_split(x, y[:-1], 0.9)
    with pytest.raises(ValueError, match="empty part"):
        chronological_split(x[:5], y[:5], 0.1)
    coef = fit_ar(x, y)
    with pytest.raises(ValueError, match="same edge_index"):
        predict_ar(coef, x, data.edge_index)
    with pytest.raises(ValueError, match="at least as many windows"):
        fit_ar(x[:3], y[:3])
    with pytest.raises(ValueError, match="same shape"):
        mse(y, y[:-1])
    cell = GConvGRUCell(2, 3)
    with pytest.raises(ValueError, match="in_channels = 2"):
        cell(torch.zeros(20, 3), data.edge_index)
    with pytest.raises(ValueError, match="h must have shape"):
        cell(torch.zeros(20, 2), data.edge_index, torch.zeros(20, 4))
    with pytest.raises(ValueError, match="refers to node"):
        cell(torch.zeros(10, 2), data.edge_index)
    with pytest.raises(TypeError, match="floating-point"):
        cell(torch.zeros(20, 2, dtype=torch.long), data.edge_index)
    with pytest.raises(ValueError, match="time first"):
        GConvGRU(1, 3)(torch.zeros(20, 1), data.edge_index)
    with pytest.raises(ValueError, match=r"K must be"):
        GConvGRUCell(1, 3, K=0)
    with pytest.raises(TypeError, match="reset_parameters"):
        fit_forecaster(object(), x, y, data.edge_index)
    with pytest.raises(ValueError, match="lr must be"):
        fit_forecaster(GConvGRUForecaster(2), x, y, data.edge_index, lr=-1.0)


def test_fit_forecaster_callback_sees_every_epoch(data):
    x, y = sliding_windows(data.signal[:60], 4)
    seen = []

    def watch(epoch, model):
        seen.append((epoch, model.training))

    fit_forecaster(GConvGRUForecaster(3, K=1), x, y, data.edge_index, epochs=4, lr=0.01, seed=1, callback=watch)
    assert seen == [(1, True), (2, True), (3, True), (4, True)]
    with pytest.raises(TypeError, match="callback must be callable"):
        fit_forecaster(GConvGRUForecaster(3, K=1), x, y, data.edge_index, epochs=1, callback=3)
