"""One cross-attention head, opened up: the numbers behind one row of the attention map.

For a translation, a decoder layer l, a head h and a target step t, :func:`explain_cross_attention`
returns what that head computed while predicting piece t:

    q      = (LayerNorm(x_t) · W_q)[head]            the query vector                    [d_k]
    K, V   = (C · W_k)[head], (C · W_v)[head]         keys and values of every source piece [S, d_k]
                                                      (C: the encoder output, the memory)
    scores = q · Kᵀ / √d_k                            one scaled dot product per source piece [S]
    weights = softmax(scores)                         the row of the attention map           [S]
    output = weights · V                              the head's output                      [d_k]

Everything is recomputed from the model's own modules on the given pieces (teacher forcing), with nothing
stored on a module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .model import subsequent_mask
from .placeholders import unlabel_pieces
from .tokenizer import BOS_ID


@dataclass
class HeadComputation:
    layer: int
    head: int
    step: int
    source_tokens: list[str]
    target_tokens: list[str]
    query: np.ndarray  # [d_k]
    keys: np.ndarray  # [S, d_k]
    values: np.ndarray  # [S, d_k]
    scores: np.ndarray  # [S], already divided by sqrt(d_k)
    weights: np.ndarray  # [S]
    output: np.ndarray  # [d_k]

    @property
    def d_k(self) -> int:
        return int(self.query.shape[0])


@torch.inference_mode()
def explain_cross_attention(translator, translation, layer: int, head: int, step: int) -> HeadComputation:
    """The computation of cross-attention ``head`` of decoder ``layer`` (both 0-based) at target ``step``
    (the position that predicted ``translation.target_tokens[step]``)."""
    model = translator.torch.model
    cfg = model.cfg
    if not translation.target_tokens:
        raise ValueError("an empty translation has no attention to explain")
    if not 0 <= layer < cfg.n_dec_layers or not 0 <= head < cfg.n_heads:
        raise ValueError(f"layer must be in 0..{cfg.n_dec_layers - 1} and head in 0..{cfg.n_heads - 1}")
    if not 0 <= step < len(translation.target_tokens):
        raise ValueError(f"step must be in 0..{len(translation.target_tokens) - 1}")
    dev = translator.device
    own = lambda pieces: unlabel_pieces(pieces, translation.placeholders)  # the model's own pieces
    codec = translator.codec
    src = torch.tensor([codec.src_tok.pieces_to_ids(own(translation.source_tokens))], device=dev)
    tin = torch.tensor([[BOS_ID] + codec.tgt_tok.pieces_to_ids(own(translation.target_tokens[:-1]))], device=dev)
    src_mask = model.src_mask(src)
    memory = model.encode(src, src_mask).memory
    cache = model.decoder.init_cache(memory)
    x = model.pos(model.tgt_embed(tin))
    tgt_mask = subsequent_mask(tin.size(1), dev)
    for i, dec_layer in enumerate(model.decoder.layers[:layer]):
        x, _, _, _ = dec_layer(x, cache.cross_kv[i], src_mask, tgt_mask)
    target_layer = model.decoder.layers[layer]
    x, _, _ = target_layer.self_attention_block(x, tgt_mask)
    h = target_layer.cross_attention_input(x)
    attn = target_layer.src_attn
    q = attn._split(attn.w_q(h))[0, head, step]  # [d_k]
    k, v = cache.cross_kv[layer][0][0, head], cache.cross_kv[layer][1][0, head]  # [S, d_k]
    scores = (k @ q) / math.sqrt(attn.d_k)
    weights = scores.float().softmax(-1)
    out = weights.to(v.dtype) @ v
    as_np = lambda t: t.float().cpu().numpy()
    return HeadComputation(
        layer,
        head,
        step,
        list(translation.source_tokens),
        list(translation.target_tokens),
        as_np(q),
        as_np(k),
        as_np(v),
        as_np(scores),
        as_np(weights),
        as_np(out),
    )
