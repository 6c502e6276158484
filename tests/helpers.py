"""Helpers the tests share: tiny random models and batches, the sample corpus, and a tiny translator overfit
on a few toy pairs.  Fixtures that use them are in ``conftest.py``."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from seq2seq.model import EncoderDecoder, ModelConfig
from seq2seq.model_dir import FolderConfig
from seq2seq.tokenizer import EOS_ID, PAD_ID, SubwordTokenizer, train_tokenizers
from seq2seq.training.data import collate
from seq2seq.translator import Translator

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"


def random_model(seed: int = 0, **kw) -> EncoderDecoder:
    torch.manual_seed(seed)
    cfg = dict(
        src_vocab_size=40,
        tgt_vocab_size=48,
        n_layers=2,
        d_model=32,
        n_heads=4,
        d_ff=64,
        dropout=0.0,
        attention_dropout=0.0,
        max_len=128,
    )
    cfg.update(kw)
    model = EncoderDecoder(ModelConfig(**cfg)).eval()
    # Sharpen the output distribution a little so that searches differ from each other.
    with torch.no_grad():
        model.generator.proj.weight.mul_(3.0)
    return model


def random_batch(seed: int, batch: int, length: int, vocab: int, pad_from: dict | None = None) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(4, vocab, (batch, length), generator=g)
    for row, start in (pad_from or {}).items():
        src[row, start:] = PAD_ID
    return src


def sample_pairs(split: str = "train") -> tuple[list[str], list[str]]:
    zh = (SAMPLE / f"{split}.zh").read_text(encoding="utf-8").splitlines()
    en = (SAMPLE / f"{split}.en").read_text(encoding="utf-8").splitlines()
    return zh, en


def placeholder_translator(names=None, direction: str = "zh-en", known_words=None) -> Translator:
    """A random tiny model whose tokenizers have 4 placeholder pieces, with the name lexicon ``names`` and the known
    English names ``known_words`` (its output is noise; prefixes force it); ``direction`` "en-zh" reads English and
    writes Chinese."""
    from seq2seq.placeholders import add_placeholder_pieces

    zh, en = sample_pairs()
    zh_proto, en_proto = (add_placeholder_pieces(p, 4) for p in train_tokenizers(zh, en, 400, 120))
    src, tgt = (en_proto, zh_proto) if direction == "en-zh" else (zh_proto, en_proto)
    src_tok, tgt_tok = SubwordTokenizer(src, t2s=direction == "zh-en"), SubwordTokenizer(tgt, t2s=direction == "en-zh")
    torch.manual_seed(0)
    cfg = small_config(src_tok, tgt_tok, n_layers=1, d_model=32, d_ff=64)
    model = EncoderDecoder(cfg).eval()
    folder = FolderConfig(model=cfg, direction=direction)
    return Translator.from_model(model, src_tok, tgt_tok, folder, (src, tgt), names=names, known_words=known_words)


OVERFIT_PAIRS = [
    ("我喜欢吃苹果。", "I like to eat apples."),
    ("今天天气很好。", "The weather is nice today."),
    ("你叫什么名字？", "What is your name?"),
    ("他们每天都看书。", "They read books every day."),
    ("老师明天要去北京。", "The teacher will go to Beijing tomorrow."),
    ("谢谢你。", "Thank you."),
]


def small_config(src_tok, tgt_tok, n_layers: int = 2, d_model: int = 64, d_ff: int = 128, **kw) -> ModelConfig:
    """A tiny model's config for the tokenizers' vocabularies (no dropout, 4 heads, 64 positions by default)."""
    kw = {"n_heads": 4, "max_len": 64, **kw}
    return ModelConfig(
        src_vocab_size=src_tok.vocab_size,
        tgt_vocab_size=tgt_tok.vocab_size,
        n_layers=n_layers,
        d_model=d_model,
        d_ff=d_ff,
        dropout=0.0,
        attention_dropout=0.0,
        **kw,
    )


def overfit_translator(pairs=OVERFIT_PAIRS, steps: int = 600, seed: int = 0, direction: str = "zh-en") -> Translator:
    """Train tokenizers on the toy corpus and a tiny model on ``pairs`` until it memorises them.  ``direction``
    "en-zh" reads the pairs the other way, with the tokenizers as ``seq2seq-train`` makes them for it (the
    Chinese model, with Traditional -> Simplified, then the target)."""
    zh, en = sample_pairs()
    zh_proto, en_proto = train_tokenizers(zh, en, 400, 120)
    zh_tok, en_tok = SubwordTokenizer(zh_proto, t2s=True), SubwordTokenizer(en_proto)
    reverse = direction == "en-zh"
    src_tok, tgt_tok = (en_tok, zh_tok) if reverse else (zh_tok, en_tok)
    sources, targets = ([e for _, e in pairs], [z for z, _ in pairs]) if reverse else map(list, zip(*pairs))
    torch.manual_seed(seed)
    cfg = small_config(src_tok, tgt_tok)
    model = EncoderDecoder(cfg)
    src_ids = [ids + [EOS_ID] for ids in src_tok.encode(sources)]
    tgt_ids = tgt_tok.encode(targets)
    src, tgt_in, tgt_out = collate(range(len(pairs)), src_ids, tgt_ids, "cpu")
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        logits, _ = model(src, tgt_in)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), tgt_out.view(-1), ignore_index=PAD_ID)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    protos = (en_proto, zh_proto) if reverse else (zh_proto, en_proto)
    return Translator.from_model(model, src_tok, tgt_tok, FolderConfig(model=cfg, direction=direction), protos)
