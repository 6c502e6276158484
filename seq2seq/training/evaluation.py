"""Evaluation during training: dev BLEU/chrF (greedy unless ``eval.beam_size`` says otherwise) and dev loss."""

from __future__ import annotations

import torch

from ..batches import pack_by_tokens
from ..model_dir import FolderConfig
from ..tokenizer import PAD_ID
from .data import DevSet, collate
from .settings import TrainConfig
from .step import token_loss


def dev_scores(model, src_tok, tgt_tok, dev: DevSet, cfg: TrainConfig) -> dict:
    """BLEU and chrF (sacreBLEU, tokenized for the target language) of ``model``'s translations of a dev set,
    decoded as ``cfg.eval`` says (greedy at beam size 1), and the first translation as an example."""
    import sacrebleu

    from ..translator import Translator

    folder = FolderConfig(model=model.cfg, direction=cfg.direction)
    tr = Translator.from_model(model, src_tok, tgt_tok, folder, (b"", b""), device=next(model.parameters()).device)
    ev = cfg.eval
    found = tr.translate(
        dev.sources,
        beam_size=ev.beam_size,
        length_penalty=ev.length_penalty,
        return_attention=False,
        max_tokens=ev.max_tokens,
    )
    hyps = [t.text for t in found]
    return {
        "bleu": sacrebleu.corpus_bleu(hyps, [dev.references], tokenize=cfg.direction.bleu_tokenize).score,
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
