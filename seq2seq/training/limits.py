"""Teaching the placeholder limits: unlikelihood of the pieces that would break them (opt-in).

At inference every placeholder of the source must come out at least once and no more often than the source has it
(``FolderCodec.keeps_limits``).  Where the model's n-best breaks that, a slower PyTorch search with the limits built
in decides (``seq2seq.searcher``).  These losses push down, at each target position, the probability of what would
break the limits there (Welleck et al. 2019, "Neural text generation with unlikelihood training"):

* a placeholder the prefix has already used as often as the source has it, and
* ``</s>`` while a placeholder of the source has not come out yet,

each as ``-log(1 - p)``.  Two readings of it:

* on the training pairs themselves (``train.limits_weight``): every position of the gold target;
* on the model's own faults (``data.faults``, made by ``scripts/placeholder_faults.py``): hypotheses of the model
  being trained on that broke the limits, read up to and including their first fault, with no cross-entropy (they
  are not translations to learn), ``train.faults_per_step`` of them at every step.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch

from ..data import DataError
from ..tokenizer import EOS_ID, PAD_ID


@dataclass(frozen=True)
class Limits:
    """The placeholder limits taught by unlikelihood: the placeholder ids on each side, the weight on the training
    pairs (``train.limits_weight``) and on the model's own faults (``train.faults_weight``)."""

    src_ph: tuple[int, ...]
    tgt_ph: tuple[int, ...]
    weight: float = 0.0
    faults_weight: float = 0.0


def limit_masks(
    src: torch.Tensor, tin: torch.Tensor, src_ph: Sequence[int], tgt_ph: Sequence[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """What would break the limits at every decoder position, given the source ``src`` [B, S] and the decoder
    input ``tin`` [B, T] (``<s>`` then the target): ``used_up`` [B, T, N] (placeholder k of the source already
    written as often as the source has it, before the piece predicted at t) and ``owed`` [B, T] (a placeholder of
    the source not written yet).  ``src_ph``/``tgt_ph``: the N placeholder pieces' ids on each side."""
    s_ph = torch.as_tensor(list(src_ph), device=src.device)
    t_ph = torch.as_tensor(list(tgt_ph), device=tin.device)
    counts = (src.unsqueeze(-1) == s_ph).sum(1)  # [B, N]
    used = (tin.unsqueeze(-1) == t_ph).long().cumsum(1)  # [B, T, N]: uses up to and including tin[t]
    present = (counts > 0).unsqueeze(1)
    used_up = present & (used >= counts.unsqueeze(1))
    owed = (present & (used == 0)).any(-1)
    return used_up, owed


def limits_loss(
    logits: torch.Tensor,
    tout: torch.Tensor,
    used_up: torch.Tensor,
    owed: torch.Tensor,
    tgt_ph: Sequence[int],
    upto: torch.Tensor | None = None,
    gold: bool = True,
) -> torch.Tensor:
    """Summed ``-log(1 - p)`` of every piece that would break the limits (``limit_masks``) at the positions that
    predict a real piece (``tout`` not padding; ``upto`` [B]: only positions < upto[b]).  ``gold``: ``tout`` is a
    reference, and a piece that is the target itself is left out (a pair that breaks its own limits teaches nothing
    here); False: ``tout`` is the model's own fault, whose faulty piece is pushed down too."""
    t_ph = torch.as_tensor(list(tgt_ph), device=logits.device)
    ids = torch.cat([t_ph, t_ph.new_tensor([EOS_ID])])
    logp = logits.index_select(-1, ids).float() - torch.logsumexp(logits.float(), -1, keepdim=True)  # [B, T, N + 1]
    mask = torch.cat([used_up, owed.unsqueeze(-1)], -1) & (tout != PAD_ID).unsqueeze(-1)
    if gold:
        mask &= tout.unsqueeze(-1) != ids
    if upto is not None:
        mask &= (torch.arange(tout.size(1), device=tout.device) < upto.unsqueeze(1)).unsqueeze(-1)
    p = logp.exp().clamp(max=1 - 1e-6)
    return -(torch.log1p(-p) * mask).sum()


def first_fault(tout: torch.Tensor, used_up: torch.Tensor, owed: torch.Tensor, tgt_ph: Sequence[int]) -> torch.Tensor:
    """For each row, one past the position of its first piece that breaks the limits (a used-up placeholder, or
    ``</s>`` while one is owed); the row's length where none does."""
    t_ph = torch.as_tensor(list(tgt_ph), device=tout.device)
    is_ph = tout.unsqueeze(-1) == t_ph  # [B, T, N]
    bad = (is_ph & used_up).any(-1) | ((tout == EOS_ID) & owed)
    length = (tout != PAD_ID).sum(1)
    pos = torch.arange(tout.size(1), device=tout.device).expand_as(tout)
    first = torch.where(bad, pos, torch.full_like(pos, tout.size(1))).min(1).values
    return torch.minimum(first + 1, length)


class Faults:
    """The model's own hypotheses that broke the limits (``scripts/placeholder_faults.py``: JSON lines
    ``{"src": [pieces], "hyp": [pieces]}``), as id pairs, served ``per_step`` at a time in a seeded shuffled cycle."""

    def __init__(self, path: str | Path, src_tok, tgt_tok, per_step: int, seed: int):
        self.src_ids, self.tgt_ids = [], []
        path = Path(path)
        if not path.is_file():
            raise DataError(f"data.faults: no file {path} (make it with scripts/placeholder_faults.py)")
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                try:
                    row = json.loads(line)
                    src, hyp = row["src"], row["hyp"]
                except (ValueError, KeyError, TypeError):
                    raise DataError(f'{path}:{n}: not a faults line ({{"src": [...], "hyp": [...]}})') from None
                s, h = src_tok.pieces_to_ids(src), tgt_tok.pieces_to_ids(hyp)
                if 1 in s or 1 in h:  # UNK: made with other tokenizers
                    raise DataError(f"{path}:{n}: pieces this run's tokenizers do not have; mine it again")
                self.src_ids.append(s + ([EOS_ID] if s[-1:] != [EOS_ID] else []))
                self.tgt_ids.append([t for t in h if t != EOS_ID])
        if not self.src_ids:
            raise DataError(f"data.faults: {path} is empty")
        self.per_step, self.rng = per_step, random.Random(seed)
        self.order: list[int] = []

    def __len__(self) -> int:
        return len(self.src_ids)

    def take(self) -> list[int]:
        """The indices of the next ``per_step`` faults."""
        out = []
        while len(out) < self.per_step:
            if not self.order:
                self.order = list(range(len(self.src_ids)))
                self.rng.shuffle(self.order)
            out.append(self.order.pop())
        return out

    def skip(self, steps: int) -> None:
        """Pass over what ``steps`` steps took, so that a resumed run goes on where it stopped in the cycle."""
        for _ in range(steps):
            self.take()


def limits_setup(cfg, src_tok, tgt_tok, rank: int, log):
    """The run's :class:`Limits` and :class:`Faults` (None, None where neither loss is on)."""
    from ..placeholders import N_PLACEHOLDERS, has_placeholders, placeholder

    t = cfg.train
    if not t.limits_weight and not cfg.data.faults:
        return None, None
    if not (has_placeholders(src_tok) and has_placeholders(tgt_tok)):
        raise DataError("train.limits_weight / data.faults: this run's tokenizers have no placeholder pieces")
    pieces = [placeholder(k) for k in range(N_PLACEHOLDERS)]
    limits = Limits(
        tuple(src_tok.pieces_to_ids(pieces)), tuple(tgt_tok.pieces_to_ids(pieces)), t.limits_weight, t.faults_weight
    )
    faults = None
    if cfg.data.faults:
        faults = Faults(cfg.data.faults, src_tok, tgt_tok, t.faults_per_step, cfg.seed + rank)
        log(f"data: {len(faults)} of the model's own faults ({cfg.data.faults}), {t.faults_per_step} a step")
    return limits, faults
