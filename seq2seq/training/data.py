"""Training data: cleaned pairs (with their alignment links), tokenizers, dev sets, padded batches."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..batches import pad_ids, shifted_targets
from ..corpus_align import read_links, read_meta, tokenizer_fingerprint
from ..data import (
    MARKUP,
    CleanConfig,
    DataError,
    clean_pairs_indexed,
    format_report,
    load_source,
    source_name,
)
from ..model import ModelConfig
from ..placeholders import add_placeholder_pieces, strip_placeholder_pieces
from ..text import file_problem
from ..tokenizer import EOS_ID, PAD_ID, SubwordTokenizer, train_tokenizers
from .alignment import link_targets
from .runtime import Dist, Logger


@dataclass
class DevSet:
    name: str
    sources: list[str]  # raw Chinese
    references: list[str]  # raw English
    src_ids: list[list[int]]
    tgt_ids: list[list[int]]


def load_training_pairs(cfg: dict, log: Logger) -> tuple[list[tuple[str, str]], dict, list]:
    """Cleaned pairs, kept pairs per source, and per pair its alignment links (None where the source has none)."""
    clean = CleanConfig(**cfg["data"].get("clean", {}))
    specs = cfg["data"].get("train") or []
    if not specs:
        raise DataError("the config lists no training data (data.train)")
    weights = [float(spec.get("weight", 1.0)) for spec in specs]
    for spec, w in zip(specs, weights):
        if w <= 0:
            raise DataError(f"{source_name(spec)}: weight must be > 0 (leave a source out of data.train to drop it)")
    reverse = cfg.get("direction", "zh-en") == "en-zh"
    pairs, counts, links, origin = [], {}, [], []
    for n_spec, spec in enumerate(specs):
        raw = load_source(spec)
        kept, report, index = clean_pairs_indexed(raw, clean, chinese_side=int(reverse))
        log(format_report(source_name(spec), len(raw), report, len(kept)))
        counts[source_name(spec)] = len(kept)
        pairs.extend(kept)
        origin.extend([n_spec] * len(kept))
        if spec.get("links"):
            problem = file_problem(spec["links"], "links file")
            if problem:
                raise DataError(f"{problem} (make it with scripts/align_corpus.py)")
            all_links = read_links(spec["links"])  # (Chinese piece, English piece), as align_corpus writes them
            if reverse:
                all_links = [[(j, i) for i, j in ls] for ls in all_links]
            if len(all_links) != len(raw):
                raise DataError(
                    f"{spec['links']} has {len(all_links)} lines but {source_name(spec)} has {len(raw)} "
                    "pairs: re-run scripts/align_corpus.py"
                )
            # Links index the pieces of the text as aligned (normalised, markup kept); where markup removal
            # changed a pair, its pieces moved: no links for it.
            links.extend(
                None if clean.strip_markup and (MARKUP.search(raw[i][0]) or MARKUP.search(raw[i][1])) else all_links[i]
                for i in index
            )
        else:
            links.extend([None] * len(kept))
    if clean.dedup:  # duplicates across sources
        seen: dict = {}
        for k, p in enumerate(pairs):
            seen.setdefault(p, k)
        keep = sorted(seen.values())
        if len(keep) != len(pairs):
            log(f"data: {len(pairs) - len(keep)} duplicates across sources removed")
            pairs, links, origin = [pairs[k] for k in keep], [links[k] for k in keep], [origin[k] for k in keep]
    if any(w != 1.0 for w in weights):
        pairs, links = _apply_weights(specs, weights, pairs, links, origin, cfg.get("seed", 1), log)
    if not pairs:
        raise DataError("no training pairs are left after cleaning: check data.train and data.clean")
    if cfg["tokenizer"].get("placeholders"):
        pairs, links = mask_training_pairs(
            pairs, links, cfg["direction"].split("-")[0], int(cfg["tokenizer"]["placeholders"]), log
        )
    n_links = sum(ls is not None for ls in links)
    log(f"data: {len(pairs)} training pairs in total" + (f", {n_links} with alignment links" if n_links else ""))
    return pairs, counts, links


def mask_training_pairs(pairs, links, src_lang: str, limit: int, log: Logger):
    """Pairs with their shared spans as placeholders (:func:`seq2seq.placeholders.mask_pair`).  A masked
    pair's pieces moved, so it keeps no alignment links."""
    from ..placeholders import mask_pair

    out, out_links, n = [], [], 0
    for (src, tgt), ls in zip(pairs, links):
        ms, mt, spans = mask_pair(src, tgt, src_lang, limit)
        out.append((ms, mt))
        out_links.append(None if spans else ls)
        n += bool(spans)
    log(f"data: {n} pairs ({n / max(1, len(pairs)):.1%}) carry names or numbers as placeholders")
    return out, out_links


def _apply_weights(specs, weights, pairs, links, origin, seed: int, log: Logger):
    """Up- or down-sample sources by their ``weight``: weight 2.5 = every pair twice, plus a random half of
    them once more; weight 0.3 = a random 30%.  ``origin`` is each pair's source index; the sample is fixed
    by the seed."""
    by_source: list[list[int]] = [[] for _ in specs]
    for k, o in enumerate(origin):
        by_source[o].append(k)
    rng = random.Random(seed)
    keep: list[int] = []
    for n_spec, (w, own) in enumerate(zip(weights, by_source)):
        whole, part = int(w), w - int(w)
        chosen = own * whole + sorted(rng.sample(own, round(part * len(own))))
        if w != 1.0:
            log(f"data {source_name(specs[n_spec])}: weight {w:g}, {len(own)} -> {len(chosen)} pairs")
        keep.extend(chosen)
    return [pairs[k] for k in keep], [links[k] for k in keep]


def load_dev_sets(cfg: dict, src_tok: SubwordTokenizer, tgt_tok: SubwordTokenizer, limit: int) -> list[DevSet]:
    out = []
    for spec in cfg["data"].get("dev") or []:
        pairs = load_source(spec)
        if limit:
            pairs = pairs[:limit]
        pairs = [(s.strip(), t.strip()) for s, t in pairs if s.strip() and t.strip()]
        if not pairs:
            raise DataError(f"dev set {source_name(spec)} is empty")
        src = [s for s, _ in pairs]
        ref = [t for _, t in pairs]
        out.append(
            DevSet(source_name(spec), src, ref, [i + [EOS_ID] for i in src_tok.encode(src)], tgt_tok.encode(ref))
        )
    return out


def get_tokenizers(cfg: dict, out: Path, pairs, resume_dir: Optional[Path], dist: Dist, log: Logger):
    """(source tokenizer, target tokenizer, source proto, target proto, fingerprint of the pair as the corpus
    links know it).  The protos come from the run being resumed, the ``init_from`` folder (swapped when that
    model translates the other way), the given files, or are trained; ``tokenizer.placeholders`` appends the
    placeholder pieces."""
    tc = cfg["tokenizer"]
    tok_dir = out / "tokenizers"
    init = cfg["train"].get("init_from")
    if resume_dir is not None:
        src_proto, tgt_proto = (resume_dir / "source.model").read_bytes(), (resume_dir / "target.model").read_bytes()
    elif init:
        from ..model_dir import read_folder_config

        src_proto, tgt_proto = (Path(init) / "source.model").read_bytes(), (Path(init) / "target.model").read_bytes()
        if read_folder_config(init).direction != cfg["direction"]:
            src_proto, tgt_proto = tgt_proto, src_proto
            log(f"tokenizers: those of {init} (train.init_from), source and target swapped")
        else:
            log(f"tokenizers: those of {init} (train.init_from)")
    elif tc.get("src_model") and tc.get("tgt_model"):
        src_proto, tgt_proto = Path(tc["src_model"]).read_bytes(), Path(tc["tgt_model"]).read_bytes()
        log(f"tokenizers: using {tc['src_model']} and {tc['tgt_model']}")
    elif not tc.get("train", True):
        raise DataError("tokenizer.train is false but tokenizer.src_model/tgt_model are not both given")
    else:
        if dist.main:
            t0 = time.time()
            log(f"tokenizers: training sentencepiece models ({tc['src_vocab_size']}/{tc['tgt_vocab_size']} pieces)...")
            zh, en = ([s for s, _ in pairs], [t for _, t in pairs])
            zh_size, en_size = tc["src_vocab_size"], tc["tgt_vocab_size"]
            if cfg["direction"] == "en-zh":
                zh, en, zh_size, en_size = en, zh, en_size, zh_size
            zh_proto, en_proto = train_tokenizers(
                zh, en, zh_size, en_size, shared=tc.get("shared", False), t2s=tc.get("t2s", True)
            )
            src_proto, tgt_proto = (en_proto, zh_proto) if cfg["direction"] == "en-zh" else (zh_proto, en_proto)
            tok_dir.mkdir(parents=True, exist_ok=True)
            (tok_dir / "source.model").write_bytes(src_proto)
            (tok_dir / "target.model").write_bytes(tgt_proto)
            log(f"tokenizers: trained in {time.time() - t0:.0f}s -> {tok_dir}")
        dist.barrier()
        src_proto, tgt_proto = (tok_dir / "source.model").read_bytes(), (tok_dir / "target.model").read_bytes()
    zh_en = (tgt_proto, src_proto) if cfg["direction"] == "en-zh" else (src_proto, tgt_proto)
    fingerprint = tokenizer_fingerprint(*(strip_placeholder_pieces(p) for p in zh_en))
    if tc.get("placeholders") and resume_dir is None:
        src_proto = add_placeholder_pieces(src_proto, int(tc["placeholders"]))
        tgt_proto = add_placeholder_pieces(tgt_proto, int(tc["placeholders"]))
    t2s = tc.get("t2s", True)
    reverse = cfg["direction"] == "en-zh"
    return (
        SubwordTokenizer(src_proto, t2s=t2s and not reverse),
        SubwordTokenizer(tgt_proto, t2s=t2s and reverse),
        src_proto,
        tgt_proto,
        fingerprint,
    )


def collate(idx, src_ids, tgt_ids, device, links=None, null_to_eos: bool = False):
    """Padded (src, decoder input = BOS + y, decoder target = y + EOS); with ``links``, also the gold
    alignment [B, T, S] of :func:`~seq2seq.training.alignment.link_targets` (``null_to_eos``: unlinked
    target pieces point at the source ``</s>``)."""
    src = pad_ids([src_ids[i] for i in idx])
    tin, tout = shifted_targets([tgt_ids[i] for i in idx])
    s_len, t_len = src.size(1), tin.size(1)
    if links is not None:
        null = [(len(src_ids[i]) - 1, len(tgt_ids[i])) for i in idx] if null_to_eos else None
        gold = link_targets([links[i] for i in idx], t_len, s_len, null)
        return src.to(device), tin.to(device), tout.to(device), gold.to(device)
    return src.to(device), tin.to(device), tout.to(device)


def without_links(cfg: dict) -> dict:
    """The config with no ``links:`` on its training sources: with alignment.weight 0 they are not read, so
    they need not exist (scripts/align_corpus.py is only for the alignment loss)."""
    data = dict(cfg["data"], train=[{k: v for k, v in spec.items() if k != "links"} for spec in cfg["data"]["train"]])
    return dict(cfg, data=data)


@dataclass
class RunData:
    """What a run trains on: the tokenizers, the training pairs as piece ids (with their word links, if the
    alignment loss is on), and the dev sets."""

    src_tok: object
    tgt_tok: object
    protos: tuple[bytes, bytes]
    counts: dict
    src_ids: list[list[int]]
    tgt_ids: list[list[int]]
    links: Optional[list]
    dev_sets: list
    model_cfg: ModelConfig


def load_run_data(cfg: dict, out: Path, resume_dir: Optional[Path], dist: Dist, log) -> RunData:
    """Read and clean the training pairs, get the tokenizers (trained, or those of the run or ``init_from``),
    check that the links were made with them, and encode everything."""
    align_weight = float(cfg["alignment"].get("weight") or 0.0)
    pairs, counts, links = load_training_pairs(cfg if align_weight > 0 else without_links(cfg), log)
    src_tok, tgt_tok, src_proto, tgt_proto, fingerprint = get_tokenizers(cfg, out, pairs, resume_dir, dist, log)
    if align_weight > 0:
        if all(ls is None for ls in links):
            raise DataError("alignment.weight > 0 but no training source has links (add links: to data.train)")
        for spec in cfg["data"]["train"]:
            meta = read_meta(Path(spec["links"]).parent) if spec.get("links") else None
            if meta and meta.get("tokenizers") != fingerprint:
                raise DataError(
                    f"{spec['links']} was made with other tokenizers than this run's: "
                    "re-run scripts/align_corpus.py with this run's tokenizers"
                )
    else:
        links = None
    mcfg = ModelConfig(
        src_vocab_size=src_tok.vocab_size, tgt_vocab_size=tgt_tok.vocab_size, pad_id=PAD_ID, **cfg["model"]
    )
    src_ids = [ids + [EOS_ID] for ids in src_tok.encode([s for s, _ in pairs])]
    tgt_ids = tgt_tok.encode([t for _, t in pairs])
    keep = [i for i in range(len(pairs)) if len(src_ids[i]) < mcfg.max_len and len(tgt_ids[i]) + 1 < mcfg.max_len]
    if len(keep) < len(pairs):
        log(f"data: {len(pairs) - len(keep)} pairs over model.max_len={mcfg.max_len} pieces removed")
        src_ids, tgt_ids = [src_ids[i] for i in keep], [tgt_ids[i] for i in keep]
        if links is not None:
            links = [links[i] for i in keep]
    dev_sets = load_dev_sets(cfg, src_tok, tgt_tok, cfg["eval"].get("max_sentences", 0))
    return RunData(src_tok, tgt_tok, (src_proto, tgt_proto), counts, src_ids, tgt_ids, links, dev_sets, mcfg)
