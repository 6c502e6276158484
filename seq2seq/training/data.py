"""Training data: cleaned pairs (with their alignment links), tokenizers, dev sets, padded batches."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Optional, Sequence

from ..batches import pad_ids, shifted_targets
from ..corpus_align import Links, read_links, read_meta, tokenizer_fingerprint
from ..data import MARKUP, DataError, clean_pairs_indexed, format_report, load_source
from ..model import ModelConfig
from ..placeholders import add_placeholder_pieces, strip_placeholder_pieces
from ..text import file_problem
from ..tokenizer import EOS_ID, SubwordTokenizer, train_tokenizers
from .alignment import link_targets
from .runtime import Dist, Logger
from .settings import Source, TrainConfig


@dataclass
class DevSet:
    name: str
    sources: list[str]  # raw source-language text
    references: list[str]  # raw target-language text
    src_ids: list[list[int]]
    tgt_ids: list[list[int]]


def load_training_pairs(
    cfg: TrainConfig, log: Logger, with_links: bool = True
) -> tuple[list[tuple[str, str]], dict, list]:
    """Cleaned pairs, kept pairs per source, and per pair its alignment links (None where the source has none;
    everywhere without ``with_links``, when no ``links:`` file is read, so none need exist; a :class:`MaskedLinks`
    where placeholders moved the pieces, for :func:`place_masked_links` once the tokenizers are known)."""
    clean, sources = cfg.data.clean, cfg.data.train
    if not sources:
        raise DataError("the config lists no training data (data.train)")
    reverse = cfg.direction.source == "en"
    pairs, counts, links, origin = [], {}, [], []
    for n_spec, source in enumerate(sources):
        raw = load_source(source.spec)
        kept, report, index = clean_pairs_indexed(raw, clean, chinese_side=int(reverse))
        log(format_report(source.name, len(raw), report, len(kept)))
        counts[source.name] = len(kept)
        pairs.extend(kept)
        origin.extend([n_spec] * len(kept))
        if source.links and with_links:
            problem = file_problem(source.links, "links file")
            if problem:
                raise DataError(f"{problem} (make it with scripts/align_corpus.py)")
            all_links = read_links(source.links)  # (Chinese piece, English piece), as align_corpus writes them
            if reverse:
                all_links = [[(j, i) for i, j in ls] for ls in all_links]
            if len(all_links) != len(raw):
                raise DataError(
                    f"{source.links} has {len(all_links)} lines but {source.name} has {len(raw)} "
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
    if any(source.weight != 1.0 for source in sources):
        pairs, links = _apply_weights(sources, pairs, links, origin, cfg.seed, log)
    if not pairs:
        raise DataError("no training pairs are left after cleaning: check data.train and data.clean")
    if cfg.tokenizer.placeholders:
        pairs, links = mask_training_pairs(pairs, links, cfg.direction.source, cfg.tokenizer.placeholders, log)
        if cfg.data.placeholder_weight != 1.0:
            pairs, links = _weigh_placeholder_pairs(pairs, links, cfg.data.placeholder_weight, cfg.seed, log)
    n_links = sum(ls is not None for ls in links)
    log(f"data: {len(pairs)} training pairs in total" + (f", {n_links} with alignment links" if n_links else ""))
    return pairs, counts, links


class MaskedLinks(NamedTuple):
    """The links of a pair that masking changed, still over the pieces of the pair as it was (``source``,
    ``target``), with the spans its placeholders stand for.  The pieces of the masked pair are known only once the
    tokenizers are, and they may be trained on the masked pairs, so the links are placed on them later
    (:func:`place_masked_links`)."""

    links: Links
    source: str
    target: str
    spans: list[str]


def mask_training_pairs(pairs, links, src_lang: str, limit: int, log: Logger):
    """Pairs with their shared spans as placeholders (:func:`seq2seq.placeholders.mask_pair`).  A masked pair's
    pieces moved, so its links come back as :class:`MaskedLinks`, to be placed on the new pieces."""
    from ..placeholders import mask_pair

    out, out_links, n = [], [], 0
    for (src, tgt), ls in zip(pairs, links):
        ms, mt, spans = mask_pair(src, tgt, src_lang, limit)
        out.append((ms, mt))
        out_links.append(MaskedLinks(ls, src, tgt, spans) if spans and ls is not None else ls)
        n += bool(spans)
    log(f"data: {n} pairs ({n / max(1, len(pairs)):.1%}) carry names or numbers as placeholders")
    return out, out_links


def place_masked_links(pairs, links, src_tok: SubwordTokenizer, tgt_tok: SubwordTokenizer, log: Logger) -> list:
    """``links`` with each :class:`MaskedLinks` moved onto the pieces of its masked pair by characters
    (:func:`seq2seq.corpus_align.move_piece_links`): a piece of a masked span goes to its placeholder piece, any
    other piece to the piece(s) spelling the same characters.  Both pairs are split by the run's tokenizers, as the
    links were made (:func:`seq2seq.corpus_align.corpus_piece_links`: the fingerprint check holds them to it;
    placeholder pieces change nothing in text without placeholders).  A pair left with no link keeps None."""
    from ..corpus_align import move_piece_links
    from ..placeholders import label_pieces, source_forms

    masked = [k for k, ls in enumerate(links) if isinstance(ls, MaskedLinks)]
    if not masked:
        return links
    was_src = src_tok.encode_pieces([links[k].source for k in masked])
    was_tgt = tgt_tok.encode_pieces([links[k].target for k in masked])
    now_src = src_tok.encode_pieces([pairs[k][0] for k in masked])
    now_tgt = tgt_tok.encode_pieces([pairs[k][1] for k in masked])
    out = list(links)
    for n, k in enumerate(masked):
        spans = links[k].spans  # the target carries them as they are, the source as it spells them (an amount: 3万)
        new_src, new_tgt = label_pieces(now_src[n], source_forms(spans)), label_pieces(now_tgt[n], spans)
        out[k] = move_piece_links(links[k].links, was_src[n], was_tgt[n], new_src, new_tgt) or None
    kept = sum(out[k] is not None for k in masked)
    log(f"data: {kept} of {len(masked)} masked pairs with links keep them on the placeholder pieces")
    return out


def _apply_weights(sources: Sequence[Source], pairs, links, origin, seed: int, log: Logger):
    """Up- or down-sample sources by their ``weight``: weight 2.5 = every pair twice, plus a random half of
    them once more; weight 0.3 = a random 30%.  ``origin`` is each pair's source index; the sample is fixed
    by the seed."""
    by_source: list[list[int]] = [[] for _ in sources]
    for k, o in enumerate(origin):
        by_source[o].append(k)
    rng = random.Random(seed)
    keep: list[int] = []
    for source, own in zip(sources, by_source):
        w = source.weight
        chosen = _resample(own, w, rng)
        if w != 1.0:
            log(f"data {source.name}: weight {w:g}, {len(own)} -> {len(chosen)} pairs")
        keep.extend(chosen)
    return [pairs[k] for k in keep], [links[k] for k in keep]


def _resample(indices: list[int], weight: float, rng: random.Random) -> list[int]:
    """Every index ``int(weight)`` times, plus a random share ``weight - int(weight)`` of them once more."""
    whole, part = int(weight), weight - int(weight)
    return indices * whole + sorted(rng.sample(indices, round(part * len(indices))))


def _weigh_placeholder_pairs(pairs, links, weight: float, seed: int, log: Logger):
    """``data.placeholder_weight``: the pairs that carry placeholders (names, numbers, other Latin-script spans)
    sampled ``weight`` times (below 1: a random share of them), the others once; each pair keeps its links."""
    from ..placeholders import OPEN

    marked = [k for k, (src, _) in enumerate(pairs) if OPEN in src]
    copies = [1] * len(pairs)
    for k in marked:
        copies[k] = 0
    extra = _resample(marked, weight, random.Random(seed + 1))
    for k in extra:
        copies[k] += 1
    log(f"data: placeholder_weight {weight:g}, {len(marked)} pairs with placeholders -> {len(extra)}")
    keep = [k for k, n in enumerate(copies) for _ in range(n)]
    return [pairs[k] for k in keep], [links[k] for k in keep]


def load_dev_sets(cfg: TrainConfig, src_tok: SubwordTokenizer, tgt_tok: SubwordTokenizer) -> list[DevSet]:
    """The dev sets, each cut to its first ``eval.max_sentences`` pairs (0: all)."""
    out, limit = [], cfg.eval.max_sentences
    for source in cfg.data.dev:
        pairs = load_source(source.spec)
        if limit:
            pairs = pairs[:limit]
        pairs = [(s.strip(), t.strip()) for s, t in pairs if s.strip() and t.strip()]
        if not pairs:
            raise DataError(f"dev set {source.name} is empty")
        src = [s for s, _ in pairs]
        ref = [t for _, t in pairs]
        out.append(DevSet(source.name, src, ref, [i + [EOS_ID] for i in src_tok.encode(src)], tgt_tok.encode(ref)))
    return out


def get_tokenizers(cfg: TrainConfig, out: Path, pairs, resume_dir: Optional[Path], dist: Dist, log: Logger):
    """(source tokenizer, target tokenizer, source proto, target proto, fingerprint of the pair as the corpus
    links know it).  The protos come from the run being resumed, the ``init_from`` folder (swapped when that
    model translates the other way), the given files, or are trained; ``tokenizer.placeholders`` appends the
    placeholder pieces."""
    tc, init, reverse = cfg.tokenizer, cfg.train.init_from, cfg.direction.source == "en"
    tok_dir = out / "tokenizers"
    if resume_dir is not None:
        src_proto, tgt_proto = (resume_dir / "source.model").read_bytes(), (resume_dir / "target.model").read_bytes()
    elif init:
        from ..model_dir import read_folder_config

        src_proto, tgt_proto = (Path(init) / "source.model").read_bytes(), (Path(init) / "target.model").read_bytes()
        if read_folder_config(init).direction != cfg.direction:
            src_proto, tgt_proto = tgt_proto, src_proto
            log(f"tokenizers: those of {init} (train.init_from), source and target swapped")
        else:
            log(f"tokenizers: those of {init} (train.init_from)")
    elif tc.src_model and tc.tgt_model:
        src_proto, tgt_proto = Path(tc.src_model).read_bytes(), Path(tc.tgt_model).read_bytes()
        log(f"tokenizers: using {tc.src_model} and {tc.tgt_model}")
    else:  # tokenizer.train (TrainConfig.validate)
        if dist.main:
            t0 = time.time()
            log(f"tokenizers: training sentencepiece models ({tc.src_vocab_size}/{tc.tgt_vocab_size} pieces)...")
            zh, en = ([s for s, _ in pairs], [t for _, t in pairs])
            zh_size, en_size = tc.src_vocab_size, tc.tgt_vocab_size
            if reverse:
                zh, en, zh_size, en_size = en, zh, en_size, zh_size
            zh_proto, en_proto = train_tokenizers(zh, en, zh_size, en_size, shared=tc.shared, t2s=tc.t2s)
            src_proto, tgt_proto = (en_proto, zh_proto) if reverse else (zh_proto, en_proto)
            tok_dir.mkdir(parents=True, exist_ok=True)
            (tok_dir / "source.model").write_bytes(src_proto)
            (tok_dir / "target.model").write_bytes(tgt_proto)
            log(f"tokenizers: trained in {time.time() - t0:.0f}s -> {tok_dir}")
        dist.barrier()
        src_proto, tgt_proto = (tok_dir / "source.model").read_bytes(), (tok_dir / "target.model").read_bytes()
    zh_en = (tgt_proto, src_proto) if reverse else (src_proto, tgt_proto)
    fingerprint = tokenizer_fingerprint(*(strip_placeholder_pieces(p) for p in zh_en))
    if tc.placeholders and resume_dir is None:
        src_proto = add_placeholder_pieces(src_proto, tc.placeholders)
        tgt_proto = add_placeholder_pieces(tgt_proto, tc.placeholders)
    return (
        SubwordTokenizer(src_proto, t2s=tc.t2s and not reverse),
        SubwordTokenizer(tgt_proto, t2s=tc.t2s and reverse),
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


def load_run_data(cfg: TrainConfig, out: Path, resume_dir: Optional[Path], dist: Dist, log) -> RunData:
    """Read and clean the training pairs, get the tokenizers (trained, or those of the run or ``init_from``),
    check that the links were made with them, and encode everything.  With ``alignment.weight`` 0 no ``links:``
    file is read, so none need exist (scripts/align_corpus.py is only for the alignment loss)."""
    aligned = cfg.alignment.weight > 0
    pairs, counts, links = load_training_pairs(cfg, log, with_links=aligned)
    src_tok, tgt_tok, src_proto, tgt_proto, fingerprint = get_tokenizers(cfg, out, pairs, resume_dir, dist, log)
    if aligned:
        if all(ls is None for ls in links):
            raise DataError("alignment.weight > 0 but no training source has links (add links: to data.train)")
        for source in cfg.data.train:
            meta = read_meta(Path(source.links).parent) if source.links else None
            if meta and meta.get("tokenizers") != fingerprint:
                raise DataError(
                    f"{source.links} was made with other tokenizers than this run's: "
                    "re-run scripts/align_corpus.py with this run's tokenizers"
                )
        links = place_masked_links(pairs, links, src_tok, tgt_tok, log)
    else:
        links = None
    mcfg = cfg.model_config(src_tok.vocab_size, tgt_tok.vocab_size)
    src_ids = [ids + [EOS_ID] for ids in src_tok.encode([s for s, _ in pairs])]
    tgt_ids = tgt_tok.encode([t for _, t in pairs])
    keep = [i for i in range(len(pairs)) if len(src_ids[i]) < mcfg.max_len and len(tgt_ids[i]) + 1 < mcfg.max_len]
    if len(keep) < len(pairs):
        log(f"data: {len(pairs) - len(keep)} pairs over model.max_len={mcfg.max_len} pieces removed")
        src_ids, tgt_ids = [src_ids[i] for i in keep], [tgt_ids[i] for i in keep]
        if links is not None:
            links = [links[i] for i in keep]
    dev_sets = load_dev_sets(cfg, src_tok, tgt_tok)
    return RunData(src_tok, tgt_tok, (src_proto, tgt_proto), counts, src_ids, tgt_ids, links, dev_sets, mcfg)
