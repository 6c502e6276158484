"""The alignment loss (Garg et al. 2019): one cross-attention head learns to point at the linked source pieces.

For every target piece t that has links in the corpus alignment (``scripts/align_corpus.py``), the
gold distribution over source pieces is uniform over its linked pieces; the loss is the
cross-entropy between it and the head's attention row t+1:

    L_align = - sum_t sum_s  gold[t, s] * log attn[t + 1, s]

Row t+1 is the decoder position whose *input* is piece t (row t predicts piece t and has not seen
it): reading a piece's alignment where the decoder reads it is "Shift-Att" (Chen et al. 2020).  The
last target position (</s>) is never an input, so the alignment of every real piece exists.

Two options (``alignment.*``, both on for new runs):

- ``full_context``: the attention comes from a second pass of the head's layer whose self-attention
  sees the whole target, not only the pieces up to t (Garg et al.'s alignment pass;
  ``EncoderDecoder.decode(full_context_layers=...)``).
  It costs one extra self- and cross-attention sublayer per step; links are read from the same pass
  (forced alignment, or one teacher-forced pass over a finished translation).
- ``null_to_eos``: a target piece that the corpus alignment leaves unlinked (about 15% of them: "the",
  "of", commas) learns to look at the source ``</s>``, the null word of statistical aligners, and a piece
  whose head looks there most is linked to nothing.  Without it the head links every piece somewhere.

The loss is summed over the batch, divided like the translation loss by the batch's target tokens, and
added to it with weight ``alignment.weight`` (λ).  Target pieces without links (and ``</s>``) add nothing,
unless ``null_to_eos``; pairs without any links (a source with no links file) add nothing either.
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor


def link_targets(
    batch_links: Sequence[Optional[Sequence[tuple[int, int]]]],
    tgt_len: int,
    src_len: int,
    unlinked_to: Optional[Sequence[tuple[int, int]]] = None,
) -> Tensor:
    """Gold attention [B, T, S] over decoder positions from (source piece, target piece) links: row
    j + 1 holds piece j's links, normalised to sum to 1; rows without links are zero.  Links outside
    the (padded) lengths are dropped.  ``unlinked_to`` (per example: the source ``</s>`` position and the
    number of target pieces): in a pair that has links, a target piece without any learns to look at the
    source ``</s>`` instead, the null word of statistical aligners (``alignment.null_to_eos``), so that the
    head can say "no link", as the teacher did."""
    gold = torch.zeros(len(batch_links), tgt_len, src_len)
    rows, ts, ss = [], [], []
    for b, links in enumerate(batch_links):
        for i, j in links or ():
            if i < src_len and j + 1 < tgt_len:
                rows.append(b)
                ts.append(j + 1)
                ss.append(i)
        if unlinked_to is not None and links:
            eos, n = unlinked_to[b]
            linked = {j for _, j in links}
            for j in range(min(n, tgt_len - 1)):
                if j not in linked:
                    rows.append(b)
                    ts.append(j + 1)
                    ss.append(eos)
    if rows:
        gold[rows, ts, ss] = 1.0
    return gold / gold.sum(-1, keepdim=True).clamp_min(1.0)


def alignment_loss(attention: Tensor, gold: Tensor, eps: float = 1e-9) -> Tensor:
    """Summed cross-entropy of one head's attention [B, T, S] against ``gold`` [B, T, S] (see module doc)."""
    return -(gold * attention.float().clamp_min(eps).log()).sum()


def resolve_layer(layer: Optional[int], n_layers: int) -> int:
    """The alignment layer as a 0-based index; None = the penultimate layer (the last one in a 1-layer decoder)."""
    if layer is None:
        return max(0, n_layers - 2)
    idx = layer if layer >= 0 else n_layers + layer
    if not 0 <= idx < n_layers:
        raise ValueError(f"alignment layer {layer} does not exist in a decoder of {n_layers} layers")
    return idx
