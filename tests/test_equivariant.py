"""gdlutils.equivariant and the O(3)/E(3) part of gdlutils.groups: EGNN is E(3)- and
permutation-equivariant to 1e-10 in float64 (and the plain GNN is not), the dense fast path
equals the message-passing form, the baselines do what they say, bad input raises."""
import itertools

import networkx as nx
import pytest
import torch

from gdlutils import equivariant as eq
from gdlutils.groups import (
    E3,
    O3,
    SO3,
    SymmetricGroup,
    check_equivariance,
    transform_points,
    transform_vectors,
)
from gdlutils.graphs import graph_action
from gdlutils.nbody import NBodyData

D = torch.float64


# ----------------------------------------------------------------------------- groups
def test_o3_samples_are_orthogonal_with_both_determinants():
    g = O3(D).sample(200, torch.Generator().manual_seed(0))
    assert g.shape == (200, 3, 3)
    assert torch.allclose(g @ g.transpose(1, 2), torch.eye(3, dtype=D).expand(200, 3, 3), atol=1e-12)
    det = torch.linalg.det(g)
    assert torch.allclose(det.abs(), torch.ones(200, dtype=D), atol=1e-12)
    assert 70 < int((det < 0).sum()) < 130  # about half improper


def test_e3_group_laws_and_actions():
    grp = E3(dtype=D)
    gs = grp.sample(6, torch.Generator().manual_seed(1))
    x = torch.randn(7, 3, dtype=D)
    assert grp.reflections and (torch.linalg.det(gs[:, :3, :3]) < 0).any()
    for g, h in itertools.product(gs[:3], gs[3:]):
        # action is a homomorphism: (gh).x = g.(h.x), and inverses undo
        assert torch.allclose(transform_points(grp.compose(g, h), x), transform_points(g, transform_points(h, x)), atol=1e-12)
        assert torch.allclose(transform_points(grp.inverse(g), transform_points(g, x)), x, atol=1e-12)
        assert torch.allclose(transform_vectors(grp.compose(g, h), x), transform_vectors(g, transform_vectors(h, x)), atol=1e-12)
    g = gs[0]
    q, t = g[:3, :3], g[:3, 3]
    assert torch.allclose(transform_points(g, x), x @ q.T + t)
    assert torch.allclose(transform_vectors(g, x), x @ q.T)  # translations do not move vectors
    # differences of points transform as vectors
    assert torch.allclose(transform_points(g, x)[1:] - transform_points(g, x)[:1], transform_vectors(g, x[1:] - x[:1]), atol=1e-12)
    assert torch.equal(E3.element(q, t), g)
    assert not (torch.linalg.det(E3(reflections=False, dtype=D).sample(50)[:, :3, :3]) < 0).any()
    # a 3x3 element of SO(3) acts linearly, as rotate_points does
    r = SO3(D).sample(1)[0]
    assert torch.allclose(transform_points(r, x), x @ r.T)


def test_group_bad_input():
    with pytest.raises(ValueError, match="shape"):
        transform_points(torch.eye(3, dtype=D), torch.zeros(4, 5, dtype=D))
    with pytest.raises(ValueError, match="last row"):
        transform_points(torch.ones(4, 4, dtype=D), torch.zeros(4, 3, dtype=D))
    with pytest.raises(ValueError, match="orthogonal"):
        transform_vectors(torch.zeros(3, 4), torch.zeros(4, 3))
    with pytest.raises(TypeError, match="tensor"):
        transform_points(torch.eye(3), [[0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="translation_std"):
        E3(translation_std=-1.0)
    with pytest.raises(ValueError, match="translation"):
        E3.element(torch.eye(3), torch.zeros(2))


# ----------------------------------------------------------------------------- EGNN layer
def random_geometric_graph(seed=0, n=9, e=30, f=5, edge_dim=2):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    h = torch.randn(n, f, generator=g, dtype=D)
    x = torch.randn(n, 3, generator=g, dtype=D)
    v = torch.randn(n, 3, generator=g, dtype=D)
    a = torch.randn(ei.shape[1], edge_dim, generator=g, dtype=D)
    return h, x, ei, a, v


def euclid_on_graph(g, inputs):
    h, x, ei, a, v = inputs
    return h, transform_points(g, x), ei, a, transform_vectors(g, v)


def euclid_on_output(g, out):
    h, x = out
    return h, transform_points(g, x)


def perm_on_graph(p, inputs):
    h, x, ei, a, v = inputs
    (ph, pe) = graph_action(p, (h, ei))
    return ph, graph_action(p, x), pe, a, graph_action(p, v)


def perm_on_output(p, out):
    return graph_action(p, out[0]), graph_action(p, out[1])


@pytest.mark.parametrize("velocity", [False, True])
@pytest.mark.parametrize("coords_aggr", ["mean", "sum"])
def test_egnn_conv_is_e3_and_permutation_equivariant(velocity, coords_aggr):
    torch.manual_seed(0)
    layer = eq.EGNNConv(5, 4, hidden_channels=8, edge_dim=2, velocity=velocity, coords_aggr=coords_aggr).double()
    for lin in layer.modules():  # make the coordinate update large, not the tiny initial one
        if isinstance(lin, torch.nn.Linear):
            torch.nn.init.normal_(lin.weight)
    h, x, ei, a, v = random_geometric_graph()
    inputs = (h, x, ei, a, v if velocity else None)
    f = lambda h, x, ei, a, v: layer(h, x, ei, a, v)  # noqa: E731
    out = f(*inputs)
    assert (out[1] - x).abs().max() > 0.1  # coordinates really move
    rho_in = (lambda g, t: euclid_on_graph(g, t) if velocity else euclid_on_graph(g, t[:4] + (torch.zeros_like(x),))[:4] + (None,))
    rep = check_equivariance(f, E3(dtype=D), inputs, rho_in, euclid_on_output, samples=20, atol=1e-10, rtol=0)
    assert rep.max_error < 1e-10
    rho_p = (lambda p, t: perm_on_graph(p, t) if velocity else perm_on_graph(p, t[:4] + (torch.zeros_like(x),))[:4] + (None,))
    rep = check_equivariance(f, SymmetricGroup(9), inputs, rho_p, perm_on_output, samples=20, atol=1e-10, rtol=0)
    assert rep.passed


def test_egnn_conv_matches_equations_on_a_tiny_graph():
    """Equations 3-6 written out edge by edge with Python loops."""
    torch.manual_seed(1)
    layer = eq.EGNNConv(3, 3, hidden_channels=4, edge_dim=1, velocity=True, coords_aggr="mean").double()
    h, x, ei, a, v = random_geometric_graph(seed=3, n=5, e=12, f=3, edge_dim=1)
    h2, x2 = layer(h, x, ei, a, v)
    n = h.shape[0]
    m_sum = torch.zeros(n, 4, dtype=D)
    dx = torch.zeros(n, 3, dtype=D)
    deg = torch.zeros(n, dtype=D)
    for e in range(ei.shape[1]):
        j, i = int(ei[0, e]), int(ei[1, e])
        m = layer.phi_e(torch.cat([h[i], h[j], ((x[i] - x[j]) ** 2).sum().view(1), a[e]]))
        m_sum[i] += m
        dx[i] += (x[i] - x[j]) * layer.phi_x(m)
        deg[i] += 1
    x_ref = x + dx / deg.clamp(min=1).unsqueeze(1) + layer.phi_v(h) * v
    h_ref = h + layer.phi_h(torch.cat([h, m_sum], -1))
    assert torch.allclose(x2, x_ref, atol=1e-12) and torch.allclose(h2, h_ref, atol=1e-12)


def test_egnn_dense_path_equals_message_passing_forward_and_backward():
    torch.manual_seed(2)
    model = eq.EGNN(4, hidden_channels=16, num_layers=3, edge_dim=2, velocity=True).double()
    b, n = 6, 5
    g = torch.Generator().manual_seed(5)
    h = torch.randn(b, n, 4, generator=g, dtype=D, requires_grad=True)
    x = torch.randn(b, n, 3, generator=g, dtype=D)
    v = torch.randn(b, n, 3, generator=g, dtype=D)
    a = torch.randn(b, n, n - 1, 2, generator=g, dtype=D)
    hd, xd = model.forward_dense(h, x, a, v)
    ei = eq.fully_connected_edge_index(n, b)
    hs, xs = model(h.reshape(b * n, 4), x.reshape(b * n, 3), ei, a.reshape(-1, 2), v.reshape(b * n, 3))
    assert torch.allclose(hd.reshape(b * n, -1), hs, atol=1e-12) and torch.allclose(xd.reshape(b * n, 3), xs, atol=1e-12)
    gd = torch.autograd.grad((xd ** 2).sum() + hd.sum(), [h] + list(model.parameters()))
    gs = torch.autograd.grad((xs ** 2).sum() + hs.sum(), [h] + list(model.parameters()))
    for p, q in zip(gd, gs):
        assert torch.allclose(p, q, atol=1e-10)


def test_fully_connected_edge_index_is_the_complete_graph():
    ei = eq.fully_connected_edge_index(5, 3)
    assert ei.shape == (2, 3 * 20)
    edges = set(map(tuple, ei.T.tolist()))
    ref = nx.disjoint_union_all([nx.complete_graph(5).to_directed()] * 3)
    assert edges == set(ref.edges())
    assert torch.all(ei[1][1:] >= ei[1][:-1])  # sorted by target
    with pytest.raises(ValueError, match="num_nodes"):
        eq.fully_connected_edge_index(1)


def test_egnn_bad_input():
    layer = eq.EGNNConv(4, 4, edge_dim=2, velocity=True)
    h, x, ei, a, v = (t.float() if t.is_floating_point() else t for t in random_geometric_graph(f=4))
    with pytest.raises(ValueError, match="edge_attr"):
        layer(h, x, ei, None, v)
    with pytest.raises(ValueError, match="vel"):
        layer(h, x, ei, a, None)
    with pytest.raises(ValueError, match="in_channels=4"):
        layer(h[:, :3], x, ei, a, v)
    with pytest.raises(ValueError, match="one row per node"):
        layer(h, x[:-1], ei, a, v)
    with pytest.raises(ValueError):
        layer(h, x, ei + 100, a, v)
    with pytest.raises(TypeError, match="floating"):
        layer(h.long(), x, ei, a, v)
    with pytest.raises(ValueError, match="coords_aggr"):
        eq.EGNNConv(4, 4, coords_aggr="max")
    with pytest.raises(ValueError, match="edge_dim=0"):
        eq.EGNNConv(4, 4)(h, x, ei, a)
    with pytest.raises(ValueError, match="num_layers"):
        eq.EGNN(4, num_layers=0)
    with pytest.raises(ValueError, match="edge_attr"):
        eq.EGNN(4, 8, 1, edge_dim=2).forward_dense(torch.zeros(2, 5, 4), torch.zeros(2, 5, 3))


# ----------------------------------------------------------------------------- N-body models
def nbody_batch(b=4, n=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    loc = torch.randn(b, n, 3, generator=g, dtype=D)
    vel = 0.5 * torch.randn(b, n, 3, generator=g, dtype=D)
    q = torch.randint(0, 2, (b, n), generator=g).to(D) * 2 - 1
    return loc, vel, q


def e3_on_system(g, inputs):
    loc, vel, q = inputs
    return transform_points(g, loc), transform_vectors(g, vel), q


def perm_on_system(p, inputs):
    return tuple(t[:, p] for t in inputs)


def models():
    torch.manual_seed(0)
    out = {
        "egnn": eq.NBodyEGNN(16, 2),
        "egnn-mp": eq.NBodyEGNN(16, 2, dense=False),
        "rf": eq.NBodyRadialField(16, 2),
        "gnn": eq.NBodyGNN(16, 2),
        "linear": eq.LinearDynamics(0.7),
    }
    for m in out.values():
        m.double()
        for lin in m.modules():  # larger weights: the equivariance check must not pass by smallness
            if isinstance(lin, torch.nn.Linear):
                torch.nn.init.normal_(lin.weight, std=0.2)
    out["egnn-mp"].load_state_dict(out["egnn"].state_dict())
    return out


@pytest.mark.parametrize("name", ["egnn", "egnn-mp", "rf", "linear"])
def test_equivariant_nbody_models_pass_e3_and_permutation_checks(name):
    model = models()[name]
    inputs = nbody_batch()
    out = model(*inputs)
    assert 0.05 < (out - inputs[0]).abs().max() < 100
    rep = check_equivariance(model, E3(dtype=D), inputs, e3_on_system, transform_points, samples=20, atol=1e-10, rtol=0)
    assert rep.max_error < 1e-10
    check_equivariance(model, SymmetricGroup(5), inputs, perm_on_system, lambda p, y: y[:, p], atol=1e-10, rtol=0)


def test_gnn_baseline_is_permutation_but_not_e3_equivariant():
    model = models()["gnn"]
    inputs = nbody_batch()
    check_equivariance(model, SymmetricGroup(5), inputs, perm_on_system, lambda p, y: y[:, p], atol=1e-10, rtol=0)
    for group in (E3(dtype=D), O3(D), E3(reflections=False, dtype=D)):
        rep = check_equivariance(model, group, inputs, e3_on_system, transform_points, samples=10, atol=1e-10, rtol=0,
                                 raise_error=False)
        assert not rep.passed and rep.max_error > 1e-2
    # a pure translation breaks it too
    g = E3.element(torch.eye(3, dtype=D), torch.tensor([1.0, -2.0, 0.5], dtype=D))
    assert (model(*e3_on_system(g, inputs)) - transform_points(g, model(*inputs))).abs().max() > 1e-2


def test_egnn_dense_and_message_passing_nbody_models_agree():
    ms = models()
    inputs = nbody_batch(b=7, seed=3)
    assert torch.allclose(ms["egnn"](*inputs), ms["egnn-mp"](*inputs), atol=1e-12)


def test_linear_dynamics_fit_is_least_squares():
    loc, vel, q = nbody_batch(b=50, seed=4)
    target = loc + 0.73 * vel + 0.01 * torch.randn(loc.shape, generator=torch.Generator().manual_seed(0), dtype=D)
    data = NBodyData(loc, vel, q, target)
    model = eq.LinearDynamics().double().fit(data)
    t = model.time.detach().clone().requires_grad_(True)
    loss = ((loc + t * vel - target) ** 2).sum()
    (grad,) = torch.autograd.grad(loss, t)
    assert abs(float(grad)) < 1e-8 and abs(t.item() - 0.73) < 0.01  # the least-squares optimum
    assert eq.nbody_mse(model, data) == pytest.approx(((model(loc, vel, q) - target) ** 2).mean().item())
    with pytest.raises(ValueError, match="velocities are zero"):
        eq.LinearDynamics().fit(NBodyData(loc, vel * 0, q, target))


def test_nbody_models_bad_input():
    model = eq.NBodyEGNN(8, 1)
    loc, vel, q = (t.float() for t in nbody_batch())
    with pytest.raises(ValueError, match=r"\(B, n, 3\)"):
        model(loc[..., :2], vel[..., :2], q)
    with pytest.raises(ValueError, match="charges"):
        model(loc, vel, q[:, :3])
    with pytest.raises(TypeError):
        model(loc.numpy(), vel, q)
    with pytest.raises(ValueError, match="epochs"):
        eq.fit_nbody(model, NBodyData(loc, vel, q, loc), NBodyData(loc, vel, q, loc), epochs=0)


def test_fit_nbody_trains_and_keeps_the_best_epoch():
    g = torch.Generator().manual_seed(0)
    loc, vel, q = nbody_batch(b=200, seed=5)
    target = loc + 0.7 * vel
    data = NBodyData(loc, vel, q, target)
    torch.manual_seed(0)
    model = eq.NBodyRadialField(16, 2)
    before = eq.nbody_mse(model.float(), data)
    res = eq.fit_nbody(model, data[:150], data[150:], data[150:], epochs=20, lr=1e-2, batch_size=50, eval_every=2)
    assert res.best_val_mse < 0.2 * before
    assert res.best_val_mse == min(v for _, v in res.val_mse)
    assert res.best_epoch in [e for e, _ in res.val_mse]
    assert res.test_mse == pytest.approx(res.best_val_mse, rel=1e-5)  # same split: the kept model is the best one
    del g
