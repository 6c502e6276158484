"""Evaluation during training: greedy dev BLEU/chrF and dev loss."""

from __future__ import annotations

import torch

from ..batches import pack_by_tokens
from ..model_dir import FolderConfig
from ..tokenizer import PAD_ID
from .data import DevSet, collate
from .step import token_loss


def greedy_scores(model, src_tok, tgt_tok, dev: DevSet, cfg: dict) -> dict:
    import sacrebleu

    from ..translator import Translator

    ev = cfg["eval"]
    direction = cfg.get("direction", "zh-en")
    folder = FolderConfig(model=model.cfg, direction=direction)
    tr = Translator.from_model(model, src_tok, tgt_tok, folder, (b"", b""), device=next(model.parameters()).device)
    hyps = [
        t.text
        for t in tr.translate(
            dev.sources,
            beam_size=ev.get("beam_size", 1),
            length_penalty=ev.get("length_penalty", 1.0),
            return_attention=False,
            max_tokens=ev.get("max_tokens", 6000),
        )
    ]
    return {
        "bleu": sacrebleu.corpus_bleu(hyps, [dev.references], tokenize=folder.direction.bleu_tokenize).score,
        "chrf": sacrebleu.corpus_chrf(hyps, [dev.references]).score,
        "example": hyps[0],
    }


@torch.no_grad()
def dev_loss(model, dev: DevSet, max_tokens: int, device) -> float:
    """Mean cross-entropy per target token on a dev set (no label smoothing: a plain NLL)."""
    total, count = 0.0, 0
    widths = [max(len(s), len(t) + 1) for s, t in zip(dev.src_ids, dev.tgt_ids)]
    for batch in pack_by_tokens(sorted(range(len(widths)), key=widths.__getitem__), widths, max_tokens):
        src, tin, tout = collate(batch, dev.src_ids, dev.tgt_ids, device)
        logits, _ = model(src, tin)
        total += token_loss(logits, tout).item()
        count += int((tout != PAD_ID).sum())
    return total / max(1, count)
