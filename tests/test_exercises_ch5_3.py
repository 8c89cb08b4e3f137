"""Self-checks of section 5.3 pass on the reference solutions and fail on wrong ones."""
import networkx as nx
import torch

from gdlutils.exercises import check, list_exercises
from gdlutils.graphs import from_networkx, ring_graph
from gdlutils.message_passing import gcn_norm, propagate


def test_checks_are_registered():
    ids = list_exercises()
    for k in range(1, 10):
        assert f"5.3.{k}" in ids


def test_5_3_1(capsys):
    def ok(x, ei):
        tot = torch.zeros_like(x).index_add_(0, ei[1], x[ei[0]])
        return tot / torch.bincount(ei[1], minlength=x.size(0)).clamp(min=1).to(x.dtype)[:, None]

    def at_sources(x, ei):
        return ok(x, ei.flip(0))

    def sums(x, ei):
        return torch.zeros_like(x).index_add_(0, ei[1], x[ei[0]])

    assert check("5.3.1", ok)
    assert not check("5.3.1", at_sources)
    assert "sources" in capsys.readouterr().out
    assert not check("5.3.1", sums)

    def with_self(x, ei):  # the node's own feature averaged in
        loops = torch.arange(x.size(0))
        return ok(x, torch.cat([ei, torch.stack([loops, loops])], 1))

    assert not check("5.3.1", with_self)
    assert not check("5.3.1", lambda x, ei: ok(x, torch.unique(ei, dim=1)))  # repeated edges counted once


def test_5_3_2(capsys):
    def ok(ei, n):
        A = torch.zeros(n, n)
        A[ei[1], ei[0]] = 1.0
        A = A + torch.eye(n)
        d = A.sum(1)
        return A / torch.sqrt(d[:, None] * d[None, :])

    def no_loops(ei, n):
        A = torch.zeros(n, n)
        A[ei[1], ei[0]] = 1.0
        d = A.sum(1).clamp(min=1)
        return A / torch.sqrt(d[:, None] * d[None, :])

    assert check("5.3.2", ok)
    assert not check("5.3.2", lambda ei, n: ok(ei, n).t())
    assert "transposed" in capsys.readouterr().out
    assert not check("5.3.2", no_loops)

    def random_walk(ei, n):  # D^-1 (A + I): row-normalised, not symmetric
        A = torch.zeros(n, n)
        A[ei[1], ei[0]] = 1.0
        A = A + torch.eye(n)
        return A / A.sum(1, keepdim=True)

    def out_degrees(ei, n):  # degrees counted over the columns (sources) on a directed graph
        A = torch.zeros(n, n)
        A[ei[1], ei[0]] = 1.0
        A = A + torch.eye(n)
        d = A.sum(0)
        return A / torch.sqrt(d[:, None] * d[None, :])

    assert not check("5.3.2", random_walk)
    assert not check("5.3.2", out_degrees)


def test_5_3_3(capsys):
    def ok(s, index, n):
        idx = index[:, None].expand_as(s)
        m = torch.full((n, s.size(1)), float("-inf"), dtype=s.dtype).scatter_reduce(0, idx, s, "amax")
        ex = (s - m[index]).exp()
        return ex / torch.zeros(n, s.size(1), dtype=s.dtype).index_add_(0, index, ex)[index]

    def unstable(s, index, n):
        ex = s.exp()
        return ex / torch.zeros(n, s.size(1), dtype=s.dtype).index_add_(0, index, ex)[index]

    assert check("5.3.3", ok)
    assert not check("5.3.3", unstable)
    assert "maximum" in capsys.readouterr().out
    assert not check("5.3.3", lambda s, index, n: torch.softmax(s, 0))

    def global_max(s, index, n):  # stable, but the maximum of all scores: underflows to 0/0 in small segments
        ex = (s - s.max(0).values).exp()
        return ex / torch.zeros(n, s.size(1), dtype=s.dtype).index_add_(0, index, ex)[index]

    assert not check("5.3.3", global_max)


def _g(G):
    ei, _, n = from_networkx(G)
    return ei, n


def test_5_3_4(capsys):
    assert check("5.3.4", lambda: ((ring_graph(8), 8), (torch.cat([ring_graph(4), ring_graph(4) + 4], 1), 8)))
    assert not check("5.3.4", lambda: (_g(nx.cycle_graph(6)), _g(nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3)))))
    assert "pair of the text" in capsys.readouterr().out
    assert not check("5.3.4", lambda: (_g(nx.path_graph(5)), _g(nx.star_graph(4))))
    assert not check("5.3.4", lambda: (_g(nx.cycle_graph(5)), _g(nx.cycle_graph(5))))


def test_5_3_5():
    assert check("5.3.5", lambda: (_g(nx.cycle_graph(6)), _g(nx.complete_bipartite_graph(3, 3))))
    # any two graphs with no isolated node and the same size pass (constant features stay constant) ...
    assert check("5.3.5", lambda: (_g(nx.path_graph(6)), _g(nx.star_graph(5))))
    # ... but an isolated node aggregates nothing (0), which a mean GNN does see
    with_isolated = nx.path_graph(5)
    with_isolated.add_node(5)
    assert not check("5.3.5", lambda: (_g(nx.path_graph(6)), _g(with_isolated)))
    assert not check("5.3.5", lambda: (_g(nx.cycle_graph(6)), _g(nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3)))))


def test_5_3_6(capsys):
    def ok(ei, n):
        A = torch.zeros(n, n)
        A[ei[0], ei[1]] = 1.0
        return torch.linalg.matrix_power(A, 3).diagonal()[:, None]

    assert check("5.3.6", ok)
    assert not check("5.3.6", lambda ei, n: torch.arange(n, dtype=torch.float)[:, None])  # node ids
    assert "equivariant" in capsys.readouterr().out
    assert not check("5.3.6", lambda ei, n: torch.bincount(ei[1], minlength=n).float()[:, None])  # degrees: still 1-WL


def test_5_3_7(capsys):
    def ok(val, test):
        return test[max(range(len(val)), key=lambda k: (val[k], -k))]

    assert check("5.3.7", ok)
    assert not check("5.3.7", lambda val, test: max(test))
    assert "peeks" in capsys.readouterr().out
    assert not check("5.3.7", lambda val, test: test[len(val) - 1 - val[::-1].index(max(val))])  # last best epoch
    assert not check("5.3.7", lambda val, test: test[-1])  # the last epoch
    assert not check("5.3.7", lambda val, test: test[val.index(max(val)) - 1])  # off by one


def test_5_3_8():
    assert check("5.3.8", lambda ei, y: (y[ei[0]] == y[ei[1]]).float().mean())
    assert not check("5.3.8", lambda ei, y: (y[ei[0]] != y[ei[1]]).float().mean())
    assert not check("5.3.8", lambda ei, y: (y[ei[0]] == y[ei[1]]).float().sum())  # a count, not a fraction
    # node homophily: the mean over nodes of the fraction of same-label neighbours
    node_h = lambda ei, y: torch.zeros(len(y)).index_add_(0, ei[1], (y[ei[0]] == y[ei[1]]).float()).div(
        torch.bincount(ei[1], minlength=len(y)).clamp(min=1)).mean()
    assert not check("5.3.8", node_h)


def test_5_3_9():
    def sgc(x, ei, K, loops):
        e, w = gcn_norm(ei, num_nodes=x.size(0), add_self_loops=loops)
        for _ in range(K):
            x = propagate(x, e, lambda x_i, x_j, w: w[:, None] * x_j, "sum", edge_attr=w)
        return x

    def ok(x, ei, K):
        return sgc(x, ei, K, True)

    def no_loops(x, ei, K):
        return sgc(x, ei, K, False)

    assert check("5.3.9", ok)
    assert not check("5.3.9", no_loops)
    assert not check("5.3.9", lambda x, ei, K: ok(x, ei, max(K - 1, 0)))  # one step too few
    assert not check("5.3.9", lambda x, ei, K: ok(x, ei, K + 1))  # one step too many
