"""Scaled dot-product attention and multi-head attention (Vaswani et al. 2017, section 3.2), as
:mod:`seq2seq.model` uses them: for encoder and decoder self-attention, and for the decoder's
cross-attention on the encoder output C.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor, nn


def attention(
    query: Tensor, key: Tensor, value: Tensor, mask: Optional[Tensor] = None, dropout: Optional[nn.Dropout] = None
) -> tuple[Tensor, Tensor]:
    """Scaled dot-product attention, written out.  Returns (output, weights).

    Shapes: query [B, h, Tq, d_k], key/value [B, h, Tk, d_k]; mask broadcastable to
    [B, h, Tq, Tk] with True where attention is allowed.
    """
    d_k = query.size(-1)
    scores = torch.matmul(query, key.transpose(-2, -1)) / math.sqrt(d_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    p_attn = scores.softmax(dim=-1, dtype=torch.float32)  # fp32 weights even under bf16 autocast
    p_used = dropout(p_attn) if dropout is not None else p_attn
    return torch.matmul(p_used.to(value.dtype), value), p_attn


class MultiHeadedAttention(nn.Module):
    """h parallel heads of scaled dot-product attention with Q/K/V/output projections.

    Attention is always computed by :func:`attention` above, not by PyTorch's fused
    ``F.scaled_dot_product_attention``, which returns no weights and was not faster on CPU
    (benchmarks/README.md).  ``need_weights=True`` returns the weights [B, h, Tq, Tk]; otherwise they
    are dropped and ``None`` is returned.
    """

    def __init__(self, h: int, d_model: int, dropout: float = 0.1):
        super().__init__()
        assert d_model % h == 0
        self.d_k = d_model // h
        self.h = h
        self.w_q = nn.Linear(d_model, d_model)
        self.w_k = nn.Linear(d_model, d_model)
        self.w_v = nn.Linear(d_model, d_model)
        self.w_o = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(p=dropout)

    def _split(self, x: Tensor) -> Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.h, self.d_k).transpose(1, 2)

    def project_kv(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """K and V for memory ``x`` [B, T, d] as [B, h, T, d_k] each."""
        return self._split(self.w_k(x)), self._split(self.w_v(x))

    def forward(
        self, x: Tensor, kv: tuple[Tensor, Tensor], mask: Optional[Tensor] = None, need_weights: bool = False
    ) -> tuple[Tensor, Optional[Tensor]]:
        """Attention of the positions of ``x`` [B, Tq, d] (queries: ``x`` W_q) over keys and values ``kv``,
        already projected and split by :meth:`project_kv` ([B', h, Tk, d_k] each): a layer projects C once per
        sentence for cross-attention, and keeps its self-attention K/V between decoding steps.

        B = g·B': rows ``i·g .. i·g+g-1`` of ``x`` share key/value set i (beam search: the g beams of one
        sentence share that sentence's C).  The g query sets are folded into the query axis, so each
        sentence's K/V are stored and read once, not once per beam.  ``mask`` is broadcastable to
        [B', h, g·Tq, Tk].  Returns (output [B, Tq, d], weights [B, h, Tq, Tk] or None).
        """
        key, value = kv
        b, tq, _ = x.shape
        if b % key.size(0):
            raise ValueError(f"{b} query rows cannot share {key.size(0)} key/value sets evenly")
        g = b // key.size(0)
        q = _fold_groups(self._split(self.w_q(x)), g)
        out, weights = attention(q, key, value, mask, self.dropout if self.training else None)
        weights = _unfold_groups(weights, g, tq) if need_weights else None
        out = _unfold_groups(out, g, tq).transpose(1, 2).reshape(b, tq, self.h * self.d_k)
        return self.w_o(out), weights


def _fold_groups(t: Tensor, g: int) -> Tensor:
    """[g·B', h, T, X] -> [B', h, g·T, X]: each group of g consecutive rows becomes one row."""
    if g == 1:
        return t
    b, h, tq, x = t.shape
    return t.view(b // g, g, h, tq, x).transpose(1, 2).reshape(b // g, h, g * tq, x)


def _unfold_groups(t: Tensor, g: int, tq: int) -> Tensor:
    """The inverse of :func:`_fold_groups`: [B', h, g·T, X] -> [g·B', h, T, X]."""
    if g == 1:
        return t
    b, h, _, x = t.shape
    return t.view(b, h, g, tq, x).transpose(1, 2).reshape(b * g, h, tq, x)
