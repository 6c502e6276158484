"""One optimizer step's forward and backward passes: translation loss plus the optional alignment loss."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from ..align import AlignMethod
from ..tokenizer import PAD_ID
from .alignment import alignment_loss
from .data import collate
from .limits import Limits, first_fault, limit_masks, limits_loss


def token_loss(logits: torch.Tensor, tout: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Summed cross-entropy over the non-padding target tokens (log-softmax in fp32, even under autocast)."""
    return F.cross_entropy(
        logits.float().view(-1, logits.size(-1)),
        tout.view(-1),
        ignore_index=PAD_ID,
        label_smoothing=label_smoothing,
        reduction="sum",
    )


@dataclass
class StepLosses:
    translation: float  # summed over this process's target tokens
    alignment: float  # summed alignment loss (0 without links)
    limits: float = 0.0  # summed unlikelihood of breaking the placeholder limits (training.limits), gold and faults


def forward_backward(
    net,
    batches: Sequence,
    *,
    ddp,
    src_ids,
    tgt_ids,
    links: Optional[list],
    device,
    autocast,
    label_smoothing: float,
    global_tgt: int,
    world: int,
    align: Optional[AlignMethod] = None,
    align_weight: float = 0.0,
    limits: Optional[Limits] = None,
) -> StepLosses:
    """Forward and backward over this process's share of a step (gradient accumulation over ``batches``).

    Gradients are scaled so that the step's gradient is the mean over all target tokens of the global
    batch (DDP averages over ranks, hence the factor ``world``), as in one process with the same batches.
    ``align``: the head the alignment loss teaches (its layer, head, ``full_context`` and ``null_to_eos``), with
    weight ``align_weight`` (λ); ``ddp``: the DistributedDataParallel wrapper ``net`` is, or None.  ``limits``
    with a weight: the unlikelihood of breaking the placeholder limits (:mod:`.limits`) is added on every batch.
    """
    total_tr = total_al = total_lim = 0.0
    use_links = links is not None and align is not None and align_weight > 0
    for j, b in enumerate(batches):
        batch = collate(
            b.indices,
            src_ids,
            tgt_ids,
            device,
            links if use_links else None,
            null_to_eos=use_links and align.null_to_eos,
        )
        src, tin, tout = batch[:3]
        sync = nullcontext() if ddp is None or j == len(batches) - 1 else ddp.no_sync()
        with sync:
            with autocast():
                if use_links and align.full_context:
                    logits, out = net(src, tin, full_context_layers=(align.layer,))
                    head_weights = out.full_context[align.layer]
                elif use_links:
                    logits, out = net(src, tin, need_weights=True)
                    head_weights = out.cross_attention[align.layer]
                else:
                    logits, _ = net(src, tin)
            loss = token_loss(logits, tout, label_smoothing)
            total = loss
            if limits is not None and limits.weight > 0:
                masks = limit_masks(src, tin, limits.src_ph, limits.tgt_ph)
                l_loss = limits_loss(logits, tout, *masks, limits.tgt_ph)
                total = total + limits.weight * l_loss
                total_lim += l_loss.item()
            if use_links:
                a_loss = alignment_loss(head_weights[:, align.head], batch[3])
                total = loss + align_weight * a_loss
                total_al += a_loss.item()
            (total * world / global_tgt).backward()
        total_tr += loss.item()
    return StepLosses(total_tr, total_al, total_lim)


def faults_backward(net, idx, faults, *, device, autocast, limits: Limits, global_tgt: int, world: int) -> float:
    """The unlikelihood of the model's own faults ``idx`` of ``faults`` (:class:`.limits.Faults`), up to and
    including each one's first fault, no cross-entropy; its gradient is added to the step's (scaled as the
    translation loss is, per target token of the global batch).  Returns the summed loss."""
    src, tin, tout = collate(idx, faults.src_ids, faults.tgt_ids, device)
    with autocast():
        logits, _ = net(src, tin)
    used_up, owed = limit_masks(src, tin, limits.src_ph, limits.tgt_ph)
    upto = first_fault(tout, used_up, owed, limits.tgt_ph)
    loss = limits_loss(logits, tout, used_up, owed, limits.tgt_ph, upto, gold=False)
    (limits.faults_weight * loss * world / global_tgt).backward()
    return loss.item()
