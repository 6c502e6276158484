"""What a search may produce at one step: each rule edits the next-piece log-probabilities of a batch of
hypotheses (rows), in place, before the search picks from them (:mod:`seq2seq.decoding`).

* :func:`ban`: pieces a search never produces, taken out and the rest renormalised (as CTranslate2 does);
* :func:`force`: a prefix's piece, the only choice at its step;
* :func:`only_eos_at_cap`: ``</s>`` the only choice at a sentence's length cap;
* :func:`carry`: the placeholder limits built into the search (the constrained search ``Translator`` falls back to).
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor

from .tokenizer import BOS_ID, EOS_ID, PAD_ID


def force(logp: Tensor, tokens: Tensor) -> Tensor:
    """Rows where ``tokens >= 0`` may only produce that token (prefix-constrained decoding), which adds nothing
    to the score: a search from a prefix ranks what follows it (CTranslate2's rule; ``Translator`` adds the
    prefix's own log-probability to the scores it reports).  In place."""
    rows = (tokens >= 0).nonzero().flatten()
    if rows.numel():
        logp[rows] = float("-inf")
        logp[rows, tokens[rows]] = 0.0
    return logp


def at_cap(max_lens: Tensor, t: int, dev) -> Optional[Tensor]:
    """Which rows' sentences reach their length cap at step t; None when none does (no tensor work)."""
    if t + 1 < int(max_lens.min()):
        return None
    return (max_lens <= t + 1).to(dev)


def banned_mask(banned: Sequence[Sequence[int]], vocab: int) -> Optional[Tensor]:
    """Per-row lists of banned ids as the [rows, V] booleans :func:`ban` reads; None when no row bans anything."""
    if not any(banned):
        return None
    mask = torch.zeros(len(banned), vocab, dtype=torch.bool)
    for row, ids in enumerate(banned):
        mask[row, list(ids)] = True
    return mask


def ban(
    logp: Tensor,
    banned: Optional[Tensor],
    groups: Tensor,
    per_group: int,
    first_step: bool,
    ys: Optional[Tensor] = None,
    no_repeat: int = 0,
) -> Tensor:
    """Take out of the next-piece distribution what a search never produces, and renormalise what is left:
    ``<pad>`` and ``<s>``, ``</s>`` at the ``first_step`` (no empty translation), and ``banned`` [sentences, V]
    (booleans: the placeholders a source lacks), read for the active ``groups`` (each ``per_group`` rows).
    Scores are then log-probabilities under the distribution the search draws from, as CTranslate2 computes them
    (its ``suppress_sequences`` and ``min_decoding_length`` work the same way), so both engines score alike."""
    logp[:, PAD_ID] = float("-inf")
    logp[:, BOS_ID] = float("-inf")
    if first_step:
        logp[:, EOS_ID] = float("-inf")
    if banned is not None:
        logp.masked_fill_(banned[groups].repeat_interleave(per_group, 0).to(logp.device), float("-inf"))
    if no_repeat and ys is not None:
        repeated_ngrams(logp, ys, no_repeat)
    return logp - torch.logsumexp(logp, dim=-1, keepdim=True)


def repeated_ngrams(logp: Tensor, ys: Tensor, n: int) -> Tensor:
    """fairseq's and CTranslate2's ``no_repeat_ngram_size``: a row may not write a piece that would make an n-gram
    its pieces so far (``ys`` [rows, t], ``<s>`` first) already hold.  Where the last n - 1 pieces stood before, the
    piece that followed them there is banned.  Edits ``logp`` in place."""
    rows, length = ys.shape
    if n < 1 or length < n:
        return logp
    if n == 1:
        return logp.scatter_(1, ys, float("-inf"))
    windows = ys.unfold(1, n - 1, 1)  # [rows, length - n + 2, n - 1]
    last = windows[:, -1:, :]
    seen = (windows[:, :-1, :] == last).all(-1)  # [rows, length - n + 1]: earlier places of the last n - 1
    r, k = seen.nonzero(as_tuple=True)
    if r.numel():
        logp[r, ys[r, k + n - 1]] = float("-inf")
    return logp


def only_eos_at_cap(logp: Tensor, at_cap: Optional[Tensor]) -> Tensor:
    """Rows where ``at_cap`` may only produce EOS (with its own log-probability).  Edits ``logp`` in place."""
    if at_cap is not None and at_cap.any():
        eos_col = logp[:, EOS_ID].clone()
        logp.masked_fill_(at_cap[:, None], float("-inf"))
        logp[:, EOS_ID] = eos_col
    return logp


def carry(
    logp: Tensor,
    ys: Tensor,
    carry: Optional[tuple[Tensor, Tensor]],
    groups: Tensor,
    per_group: int,
    left: Tensor,
    exempt: Optional[Tensor],
) -> Tensor:
    """Placeholder constraints (``seq2seq.placeholders``): a placeholder piece is produced at most as often
    as its source has it, EOS waits until every source placeholder is out, and when the steps ``left``
    before the length cap (per sentence) are as few as the placeholders still owed, only those may come.
    ``carry``: (placeholder ids [P], allowed counts [sentences, P]); ``groups``: each active sentence;
    rows in ``exempt`` (at their length cap, or forced by a prefix) are left alone.  Edits ``logp`` in place."""
    if carry is None:
        return logp
    ids, allowed = carry
    ids = ids.to(logp.device)
    allowed = allowed[groups].repeat_interleave(per_group, 0).to(logp.device)  # [rows, P]
    emitted = (ys[:, :, None] == ids).sum(1)  # [rows, P]
    free = torch.ones(logp.size(0), dtype=torch.bool, device=logp.device) if exempt is None else ~exempt
    owed = ((emitted == 0) & (allowed > 0)) & free[:, None]  # [rows, P]
    cols = logp[:, ids].masked_fill((emitted >= allowed) & free[:, None], float("-inf"))
    logp[:, EOS_ID] = logp[:, EOS_ID].masked_fill(owed.any(1), float("-inf"))
    hurry = owed.any(1) & (
        owed.sum(1) >= left[groups].repeat_interleave(per_group, 0).to(logp.device)
    )  # only owed ones now
    if hurry.any():
        logp[hurry] = float("-inf")
        cols = torch.where(hurry[:, None] & ~owed, torch.full_like(cols, float("-inf")), cols)
    logp[:, ids] = cols
    return logp
