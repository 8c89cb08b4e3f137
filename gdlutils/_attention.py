"""Fast path of :class:`gdlutils.attention.MultiheadAttention`: the same attention as the
message-passing form, computed as dense batched matrix products (private; tested equal to the
readable form in ``tests/test_attention.py``)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def dense_attention(q: Tensor, k: Tensor, v: Tensor, bias: Tensor | None, dropout: float, need_weights: bool):
    """q ``(B, L, H, d)``, k and v ``(B, S, H, d)``, bias ``(B, H, L, S)`` additive (-inf = masked).

    Returns ``(B, L, H, d)`` and the weights ``(B, H, L, S)`` (or None)."""
    if bias is not None:
        dead = torch.isinf(bias).all(-1) & (bias.amax(-1) < 0)  # (B, H, L): nothing to attend to
        if bool(dead.any()):
            _, h, i = dead.nonzero()[0].tolist()
            raise ValueError(
                f"attention: query {i} (head {h}) may attend to nothing (every key masked); the softmax over an "
                "empty set is undefined. Allow at least one key per query (e.g. the query itself)."
            )
    q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # (B, H, ., d)
    if not need_weights:
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout)
        return out.transpose(1, 2), None
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.size(-1))
    if bias is not None:
        scores = scores + bias
    weights = scores.softmax(-1)
    if dropout > 0.0:
        weights = F.dropout(weights, p=dropout)
    return (weights @ v).transpose(1, 2), weights
