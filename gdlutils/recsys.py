"""Recommendation as link prediction on a bipartite user–item graph (LightGCN).

Contents:

1. A synthetic interaction data set: :func:`make_interactions` (users and items in latent
   communities, items of unequal popularity), :func:`split_interactions`,
   :func:`bipartite_edge_index`.
2. The model: :class:`LGConv` (one light graph convolution, no weights, no non-linearity)
   and :class:`LightGCN` :cite:`he2020lightgcn` (learned node embeddings propagated by
   ``num_layers`` light convolutions and averaged over layers); with ``num_layers=0`` it is
   plain matrix factorisation.
3. Training and evaluation: :func:`sample_negatives`, :func:`bpr_loss` (Bayesian personalised
   ranking :cite:`rendle2009bpr`), :func:`fit_bpr`, :func:`popularity_scores` (a baseline)
   and :func:`auc` (the area under the ROC curve of held-out edges against sampled non-edges).

Users are nodes ``0 .. num_users - 1`` and items nodes ``num_users .. num_users + num_items - 1``
of one graph; a ``user_item`` tensor of shape ``(2, E)`` lists interactions as (user, item)
pairs with *item indices counted from 0*. The symmetry is the one of every graph: relabelling
users (or items) permutes the embeddings and leaves every score of a (user, item) pair as it is.

Introduced in: 6.1, :doc:`/book/06_applications/06_1_tour`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.stats
import torch
from torch import Tensor, nn

from gdlutils.gnn import _backward_follows, _gcn_propagator
from gdlutils.graphs import _check_count, check_edge_weight
from gdlutils.message_passing import check_graph

__all__ = [
    "Interactions",
    "make_interactions",
    "split_interactions",
    "bipartite_edge_index",
    "LGConv",
    "LightGCN",
    "sample_negatives",
    "bpr_loss",
    "fit_bpr",
    "popularity_scores",
    "auc",
]


# ---------------------------------------------------------------------------------- checks
def _check_user_item(user_item, num_users: int, num_items: int, name: str = "user_item") -> Tensor:
    """Validate a ``(2, E)`` integer tensor of (user, item) pairs and return it as ``torch.long``."""
    if not isinstance(user_item, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (2, E) of (user, item) pairs, got {type(user_item).__name__}")
    if user_item.dtype.is_floating_point or user_item.dtype == torch.bool or user_item.is_complex():
        raise TypeError(f"{name} must hold integers (torch.long), got dtype {user_item.dtype}; convert with .long()")
    if user_item.dim() != 2 or user_item.size(0) != 2:
        raise ValueError(
            f"{name} must have shape (2, E) (row 0 users, row 1 items), got {tuple(user_item.shape)}; "
            "a list of pairs of shape (E, 2) becomes (2, E) with .t()"
        )
    user_item = user_item.long()
    if user_item.numel():
        for row, what, size in ((0, "user", num_users), (1, "item", num_items)):
            lo, hi = int(user_item[row].min()), int(user_item[row].max())
            if lo < 0 or hi >= size:
                raise ValueError(
                    f"{name}[{row}] holds {what} indices in [{lo}, {hi}] but there are {size} {what}s; "
                    f"expected indices in [0, {size - 1}] (items are counted from 0, not offset by num_users)"
                )
    return user_item


# ---------------------------------------------------------------------------------- 1. data
@dataclass
class Interactions:
    """A bipartite interaction data set.

    Attributes:
        user_item: ``(2, E)`` long tensor of (user, item) pairs, each pair once.
        num_users, num_items: the sizes of the two sides.
        user_community: ``(num_users,)`` the latent community of each user.
        item_community: ``(num_items,)`` the latent community of each item.
        item_popularity: ``(num_items,)`` the popularity weight of each item (sums to 1).

    Introduced in: 6.1, :doc:`/book/06_applications/06_1_tour`.
    """

    user_item: Tensor
    num_users: int
    num_items: int
    user_community: Tensor
    item_community: Tensor
    item_popularity: Tensor

    @property
    def num_interactions(self) -> int:
        return int(self.user_item.size(1))


def make_interactions(
    num_users: int = 600,
    num_items: int = 400,
    num_communities: int = 8,
    interactions_per_user: int = 12,
    in_community: float = 0.8,
    popularity_shape: float = 1.0,
    seed: int | None = 0,
) -> Interactions:
    """Generate users who interact with items, mostly within their own latent community.

    Every user :math:`u` and item :math:`i` gets a community :math:`c(u), c(i)` uniformly at
    random among :math:`C`, every item a popularity :math:`w_i \\propto` a Pareto draw of shape
    ``popularity_shape`` (a few items are very popular). Each user then picks
    ``interactions_per_user`` distinct items, without replacement, with probabilities

    .. math:: p(i \\mid u) \\propto w_i\\,\\Big(\\pi\\,\\frac{[c(i) = c(u)]}{W_{c(u)}}
              + (1 - \\pi)\\,\\frac{[c(i) \\neq c(u)]}{W - W_{c(u)}}\\Big),

    :math:`\\pi` = ``in_community`` and :math:`W_c` the total popularity of community
    :math:`c`, so a fraction :math:`\\approx\\pi` of the first pick stays in the community. The
    draw without replacement is vectorised with the Gumbel top-k trick: the ``k`` largest of
    :math:`\\log p(i\\mid u) + G_{ui}`, :math:`G` standard Gumbel, are a sample of ``k`` items
    drawn one after another in proportion to :math:`p`. The draw holds the dense
    ``(num_users, num_items)`` table of probabilities, so the product is limited to
    :math:`5\\cdot 10^7` pairs (a teaching-size generator).

    Shapes:
        returns :class:`Interactions` with ``user_item`` of shape ``(2, num_users * interactions_per_user)``.

    Introduced in: 6.1, :doc:`/book/06_applications/06_1_tour`.
    """
    num_users = _check_count(num_users, "num_users", 1)
    num_items = _check_count(num_items, "num_items", 1)
    num_communities = _check_count(num_communities, "num_communities", 1)
    k = _check_count(interactions_per_user, "interactions_per_user", 1)
    if num_users * num_items > 5 * 10**7:
        raise ValueError(
            f"num_users * num_items = {num_users * num_items} exceeds 5e7: the generator draws from a dense "
            "(num_users, num_items) table; use fewer users or items"
        )
    if k > num_items:
        raise ValueError(f"interactions_per_user = {k} exceeds num_items = {num_items}; a user picks distinct items")
    if not isinstance(in_community, (int, float)) or not 0.0 <= float(in_community) <= 1.0:
        raise ValueError(f"in_community must be a probability in [0, 1], got {in_community!r}")
    if not isinstance(popularity_shape, (int, float)) or not float(popularity_shape) > 0 or not np.isfinite(popularity_shape):
        raise ValueError(f"popularity_shape must be a positive number (the Pareto shape; larger = flatter), got {popularity_shape!r}")
    if num_communities == 1 and in_community < 1:
        in_community = 1.0  # with one community every item is in it
    rng = np.random.default_rng(seed)
    user_c = rng.integers(0, num_communities, num_users)
    item_c = rng.integers(0, num_communities, num_items)
    weight = rng.pareto(popularity_shape, num_items) + 1.0
    weight = weight / weight.sum()
    community_weight = np.bincount(item_c, weights=weight, minlength=num_communities)  # W_c
    same = user_c[:, None] == item_c[None, :]  # (U, I)
    inside = np.where(community_weight[user_c] > 0, in_community / np.maximum(community_weight[user_c], 1e-300), 0.0)
    outside_total = 1.0 - community_weight[user_c]
    outside = np.where(outside_total > 1e-12, (1 - in_community) / np.maximum(outside_total, 1e-300), 0.0)
    prob = weight[None, :] * np.where(same, inside[:, None], outside[:, None])
    with np.errstate(divide="ignore"):
        keys = np.log(prob) + rng.gumbel(size=prob.shape)
    items = np.argpartition(-keys, k - 1, axis=1)[:, :k]  # Gumbel top-k: k distinct items per user
    users = np.repeat(np.arange(num_users), k)
    user_item = torch.as_tensor(np.stack([users, items.reshape(-1)]), dtype=torch.long)
    return Interactions(user_item, num_users, num_items, torch.as_tensor(user_c), torch.as_tensor(item_c),
                        torch.as_tensor(weight, dtype=torch.float64))


def split_interactions(user_item: Tensor, test_fraction: float = 0.2, seed: int | None = 0) -> tuple[Tensor, Tensor]:
    """Hold out a random fraction of the interactions (edges) for testing.

    Shapes:
        user_item: ``(2, E)``; returns ``(2, E - T)`` and ``(2, T)``, :math:`T = \\mathrm{round}(f E)`.

    Introduced in: 6.1, :doc:`/book/06_applications/06_1_tour`.
    """
    user_item = _check_user_item(user_item, 2**62, 2**62)
    if not isinstance(test_fraction, (int, float)) or not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    num_edges = user_item.size(1)
    num_test = int(round(test_fraction * num_edges))
    if num_test == 0 or num_test == num_edges:
        raise ValueError(f"test_fraction = {test_fraction} of {num_edges} interactions leaves an empty train or test set")
    order = torch.randperm(num_edges, generator=torch.Generator().manual_seed(seed) if seed is not None else None)
    return user_item[:, order[num_test:]], user_item[:, order[:num_test]]


def bipartite_edge_index(user_item: Tensor, num_users: int, num_items: int) -> Tensor:
    """The undirected user–item graph as an ``edge_index`` on ``num_users + num_items`` nodes:
    item :math:`i` becomes node ``num_users + i`` and every interaction gives the two edges
    user → item and item → user.

    Shapes:
        user_item: ``(2, E)``; returns ``(2, 2E)``.

    Introduced in: 6.1, :doc:`/book/06_applications/06_1_tour`.
    """
    num_users = _check_count(num_users, "num_users", 1)
    num_items = _check_count(num_items, "num_items", 1)
    user_item = _check_user_item(user_item, num_users, num_items)
    users, items = user_item[0], user_item[1] + num_users
    return torch.stack([torch.cat([users, items]), torch.cat([items, users])])


# ---------------------------------------------------------------------------------- 2. model
class LGConv(nn.Module):
    """The light graph convolution of LightGCN :cite:`he2020lightgcn` (as PyG's ``LGConv``):
    neighbourhood aggregation with the symmetric normalisation and nothing else,

    .. math:: \\mathbf x'_i = \\sum_{j \\to i} \\frac{w_{ji}}{\\sqrt{d_i d_j}}\\,\\mathbf x_j,
              \\qquad X' = D^{-1/2} A D^{-1/2} X,

    without self-loops, weights or non-linearity (:math:`d` are weighted in-degrees; a node
    without neighbours gets zero). With ``normalize=False`` it is :math:`X' = AX`. The readable
    form (``fast=False``) is :func:`gdlutils.message_passing.gcn_norm` without loops and one
    :func:`~gdlutils.message_passing.propagate`; the default fast path is one CSR product, as in
    :class:`gdlutils.gnn.GCNConv` (tested equal).

    Shapes:
        x: ``(n, F)``; edge_index: ``(2, E)``; edge_weight: ``(E,)``; returns ``(n, F)``.

    Introduced in: 6.1, :doc:`/book/06_applications/06_1_tour`.
    """

    def __init__(self, normalize: bool = True, fast: bool = True):
        super().__init__()
        if not isinstance(normalize, bool):
            raise TypeError(f"normalize must be True or False, got {normalize!r}")
        self.normalize, self.fast = normalize, bool(fast)

    def reset_parameters(self) -> None:
        """Nothing to reset: the layer has no parameters."""

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        edge_index, n = check_graph(x, edge_index)
        if edge_weight is not None:
            edge_weight = check_edge_weight(edge_weight, edge_index.size(1))
        return self._operator(edge_index, n, edge_weight, x)(x)

    def _operator(self, edge_index: Tensor, n: int, edge_weight: Tensor | None, x: Tensor):
        """:math:`D^{-1/2}AD^{-1/2}` as a function :math:`H \\mapsto D^{-1/2}AD^{-1/2}H` (inputs validated):
        GCN's propagator without self-loops."""
        return _gcn_propagator(edge_index, n, edge_weight, improved=False, add_self_loops=False, normalize=self.normalize,
                               fast=self.fast, dtype=x.dtype, transpose=_backward_follows(x))

    def extra_repr(self) -> str:
        return f"normalize={self.normalize}, fast={self.fast}"


class LightGCN(nn.Module):
    """LightGCN :cite:`he2020lightgcn` (signature of PyG's ``LightGCN``): a learned embedding
    :math:`\\mathbf x^{(0)}_v` per node, propagated by ``num_layers`` :class:`LGConv` and
    averaged,

    .. math:: \\mathbf x_v = \\sum_{l=0}^{L} \\alpha_l\\,\\mathbf x^{(l)}_v,\\qquad
              \\mathbf x^{(l+1)} = D^{-1/2} A D^{-1/2}\\,\\mathbf x^{(l)},\\qquad
              \\hat y_{ui} = \\langle \\mathbf x_u, \\mathbf x_i \\rangle,

    with :math:`\\alpha_l = 1/(L+1)` by default. With ``num_layers=0`` the score is
    :math:`\\langle \\mathbf x^{(0)}_u, \\mathbf x^{(0)}_i\\rangle`: matrix factorisation. The
    propagation lets a user's embedding be shaped by the items of similar users, which helps
    most when each user has few interactions.

    Shapes:
        edge_index: ``(2, E)`` on ``num_nodes`` nodes; edge_label_index: ``(2, P)`` node pairs
        (default: ``edge_index``); ``forward`` returns ``(P,)`` scores, ``get_embedding``
        ``(num_nodes, embedding_dim)``.

    Introduced in: 6.1, :doc:`/book/06_applications/06_1_tour`.
    """

    def __init__(self, num_nodes: int, embedding_dim: int, num_layers: int, alpha: float | Tensor | None = None,
                 fast: bool = True):
        super().__init__()
        self.num_nodes = _check_count(num_nodes, "num_nodes", 1)
        self.embedding_dim = _check_count(embedding_dim, "embedding_dim", 1)
        self.num_layers = _check_count(num_layers, "num_layers", 0)
        if alpha is None:
            alpha = 1.0 / (num_layers + 1)
        alpha = torch.as_tensor(alpha, dtype=torch.get_default_dtype())
        if alpha.dim() == 0:
            alpha = alpha.expand(num_layers + 1).clone()
        if alpha.shape != (num_layers + 1,) or not torch.isfinite(alpha).all():
            raise ValueError(f"alpha must be a number or {num_layers + 1} finite layer weights, got shape {tuple(alpha.shape)}")
        self.register_buffer("alpha", alpha)
        self.embedding = nn.Embedding(num_nodes, embedding_dim)
        self.convs = nn.ModuleList([LGConv(fast=fast) for _ in range(num_layers)])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform embeddings (as PyG)."""
        nn.init.xavier_uniform_(self.embedding.weight)

    def get_embedding(self, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        """The final embeddings :math:`\\sum_l \\alpha_l \\mathbf x^{(l)}` of all nodes, ``(num_nodes, embedding_dim)``."""
        x = self.embedding.weight
        edge_index, n = check_graph(x, edge_index)
        if edge_weight is not None:
            edge_weight = check_edge_weight(edge_weight, edge_index.size(1))
        out = x * self.alpha[0]
        if self.num_layers:
            propagate_once = self.convs[0]._operator(edge_index, n, edge_weight, x)  # the same D^-1/2 A D^-1/2 for every layer
            for l in range(1, self.num_layers + 1):
                x = propagate_once(x)
                out = out + x * self.alpha[l]
        return out

    def forward(self, edge_index: Tensor, edge_label_index: Tensor | None = None, edge_weight: Tensor | None = None) -> Tensor:
        if edge_label_index is None:
            edge_label_index = edge_index
        edge_label_index, _ = check_graph(None, edge_label_index, self.num_nodes)
        out = self.get_embedding(edge_index, edge_weight)
        return (out[edge_label_index[0]] * out[edge_label_index[1]]).sum(-1)

    def extra_repr(self) -> str:
        return f"{self.num_nodes}, {self.embedding_dim}, num_layers={self.num_layers}"


# ---------------------------------------------------------------------------------- 3. training, evaluation
def sample_negatives(user_item: Tensor, num_items: int, exclude: Tensor | None = None, seed: int | None = None) -> Tensor:
    """For every pair (u, i) draw an item j uniformly among the items u has *not* interacted
    with (in ``exclude``, default ``user_item``): the pair (u, j) is a negative example.

    Shapes:
        user_item: ``(2, E)``; exclude: ``(2, E')``; returns ``(2, E)`` pairs (u, j) with the users of ``user_item``.

    Introduced in: 6.1, :doc:`/book/06_applications/06_1_tour`.
    """
    num_items = _check_count(num_items, "num_items", 1)
    user_item = _check_user_item(user_item, 2**62, num_items)
    exclude = user_item if exclude is None else _check_user_item(exclude, 2**62, num_items, "exclude")
    known = torch.unique(exclude[0] * num_items + exclude[1])
    users = user_item[0]
    if users.numel():
        full = torch.bincount(exclude[0], minlength=int(users.max()) + 1)[users] >= num_items
        if full.any():
            raise ValueError(f"user {int(users[full][0])} has interacted with all {num_items} items: no negative item to sample")
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    items = torch.randint(0, num_items, (users.numel(),), generator=g)
    bad = torch.isin(users * num_items + items, known)
    while bad.any():  # redraw the pairs that hit a known interaction
        items[bad] = torch.randint(0, num_items, (int(bad.sum()),), generator=g)
        bad = torch.isin(users * num_items + items, known)
    return torch.stack([users, items])


def bpr_loss(pos_scores: Tensor, neg_scores: Tensor) -> Tensor:
    """Bayesian personalised ranking :cite:`rendle2009bpr`: the mean of
    :math:`-\\log\\sigma(\\hat y_{ui} - \\hat y_{uj})` over pairs of an observed item :math:`i` and
    a sampled negative :math:`j`.

    Shapes:
        pos_scores, neg_scores: ``(P,)``; returns a scalar.

    Introduced in: 6.1, :doc:`/book/06_applications/06_1_tour`.
    """
    if not isinstance(pos_scores, Tensor) or not isinstance(neg_scores, Tensor):
        raise TypeError("bpr_loss: pos_scores and neg_scores must be torch tensors")
    if pos_scores.shape != neg_scores.shape or pos_scores.dim() != 1 or pos_scores.numel() == 0:
        raise ValueError(f"bpr_loss: expected two non-empty 1-D tensors of equal length, got {tuple(pos_scores.shape)} and {tuple(neg_scores.shape)}")
    return -nn.functional.logsigmoid(pos_scores - neg_scores).mean()


def fit_bpr(model: LightGCN, train: Tensor, num_users: int, num_items: int, epochs: int = 200, lr: float = 0.05,
            weight_decay: float = 0.0, seed: int | None = 0) -> list[float]:
    """Train ``model`` full-batch with :func:`bpr_loss` on the training interactions, one fresh
    negative item per interaction and epoch, with Adam; messages flow on the training graph only.
    Returns the loss of each epoch.

    Shapes:
        train: ``(2, E)`` (user, item) pairs.

    Introduced in: 6.1, :doc:`/book/06_applications/06_1_tour`.
    """
    if not isinstance(model, LightGCN):
        raise TypeError(f"fit_bpr trains a LightGCN, got {type(model).__name__}")
    train = _check_user_item(train, num_users, num_items, "train")
    if model.num_nodes != num_users + num_items:
        raise ValueError(f"the model has {model.num_nodes} nodes, the graph num_users + num_items = {num_users + num_items}")
    epochs = _check_count(epochs, "epochs", 1)
    edge_index = bipartite_edge_index(train, num_users, num_items)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    losses = []
    for epoch in range(epochs):
        neg = sample_negatives(train, num_items, seed=None if seed is None else seed * 100_003 + epoch)
        emb = model.get_embedding(edge_index)
        users, pos_items, neg_items = train[0], train[1] + num_users, neg[1] + num_users
        pos = (emb[users] * emb[pos_items]).sum(-1)
        negs = (emb[users] * emb[neg_items]).sum(-1)
        loss = bpr_loss(pos, negs)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    return losses


def popularity_scores(train: Tensor, num_items: int) -> Tensor:
    """The popularity baseline: every user gets the same score for item :math:`i`, its number
    of training interactions.

    Shapes:
        train: ``(2, E)``; returns ``(num_items,)``.

    Introduced in: 6.1, :doc:`/book/06_applications/06_1_tour`.
    """
    num_items = _check_count(num_items, "num_items", 1)
    train = _check_user_item(train, 2**62, num_items, "train")
    return torch.bincount(train[1], minlength=num_items).to(torch.get_default_dtype())


def auc(pos_scores: Tensor, neg_scores: Tensor) -> float:
    """Area under the ROC curve of positives against negatives, the probability that a random
    positive outscores a random negative (ties count one half), computed from ranks
    (Mann–Whitney):

    .. math:: \\mathrm{AUC} = \\frac{1}{PN}\\sum_{p,n}\\Big([s_p > s_n] + \\tfrac12[s_p = s_n]\\Big)
              = \\frac{R_+ - P(P+1)/2}{PN},

    :math:`R_+` the sum of the (tie-averaged) ranks of the positives among all scores.

    Shapes:
        pos_scores: ``(P,)``; neg_scores: ``(N,)``; returns a float in [0, 1].

    Introduced in: 6.1, :doc:`/book/06_applications/06_1_tour`.
    """
    for name, s in (("pos_scores", pos_scores), ("neg_scores", neg_scores)):
        if not isinstance(s, Tensor):
            raise TypeError(f"auc: {name} must be a torch.Tensor, got {type(s).__name__}")
        if s.dim() != 1 or s.numel() == 0:
            raise ValueError(f"auc: {name} must be a non-empty 1-D tensor, got shape {tuple(s.shape)}")
        if not torch.isfinite(s).all():
            raise ValueError(f"auc: {name} holds NaN or infinite scores")
    p, n = pos_scores.numel(), neg_scores.numel()
    scores = torch.cat([pos_scores.detach(), neg_scores.detach()]).double().cpu().numpy()
    ranks = scipy.stats.rankdata(scores)  # ties get their average rank
    return float((ranks[:p].sum() - p * (p + 1) / 2) / (p * n))
