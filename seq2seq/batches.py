"""Batches of id lists, for training, search and forced decoding alike: pack indices by padded tokens, pad them
into tensors, shift targets for teacher forcing, and :func:`batched`, the one loop every engine runs a batched
function through."""

from __future__ import annotations

import sys
from typing import Callable, Optional, Sequence

import torch

from .tokenizer import BOS_ID, EOS_ID, PAD_ID


def pack_by_tokens(order: Sequence[int], widths: Sequence[int], max_tokens: int) -> list[list[int]]:
    """Cut ``order`` (indices, sorted by length) into consecutive batches of at most ``max_tokens`` padded
    tokens: a batch's widest ``widths[i]`` times its number of sentences.  A sentence wider than
    ``max_tokens`` is a batch of its own."""
    batches: list[list[int]] = []
    cur: list[int] = []
    width = 0
    for i in order:
        w = max(width, int(widths[i]))
        if cur and w * (len(cur) + 1) > max_tokens:
            batches.append(cur)
            cur, w = [], int(widths[i])
        cur.append(i)
        width = w
    if cur:
        batches.append(cur)
    return batches


def pad_ids(seqs: Sequence[Sequence[int]]) -> torch.Tensor:
    """Id lists as one [len(seqs), longest] tensor, padded with PAD_ID on the right (fairseq's collate_tokens)."""
    out = torch.full((len(seqs), max(len(x) for x in seqs)), PAD_ID, dtype=torch.long)
    for row, ids in enumerate(seqs):
        out[row, : len(ids)] = torch.as_tensor(ids, dtype=torch.long)
    return out


def shifted_targets(targets: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher forcing's decoder input ``BOS + y`` and decoder output ``y + EOS`` for target ids ``y`` (no EOS),
    each padded to [len(targets), longest + 1]."""
    return pad_ids([[BOS_ID, *t] for t in targets]), pad_ids([[*t, EOS_ID] for t in targets])


def batched(
    widths: Sequence[int],
    max_tokens: int,
    run: Callable[[list[int]], list],
    progress: bool = False,
    unit: str = "sent",
) -> list[Optional[object]]:
    """``run(indices)`` over every index whose width is above 0, widest first, in batches of at most
    ``max_tokens`` padded tokens (as CTranslate2's ``batch_type="tokens"``); returns one result per index, None
    where the width is 0 (an empty input).  ``run`` returns one result per index it is given, in order."""
    out: list[Optional[object]] = [None] * len(widths)
    order = sorted((i for i, w in enumerate(widths) if w), key=lambda i: -widths[i])
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(order), unit=unit, file=sys.stderr)
    try:
        for batch in pack_by_tokens(order, widths, max_tokens):
            for i, result in zip(batch, run(batch)):
                out[i] = result
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()
    return out
