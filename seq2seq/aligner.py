"""Forced alignment and scoring of given pairs: the PyTorch engine reads each (source, target) pair with teacher
forcing, and the alignment head (or a raw-attention rule) links their words.  Alignment is composed on top of the
engine and the folder's codec, as fairseq's ``SequenceGeneratorWithAlignment`` composes it over generation;
``Translator.align`` delegates here.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch

from .align import AlignMethod, piece_alignment
from .checks import check_search_args, check_sentences
from .codec import FolderCodec
from .decoding import length_penalty
from .engine import ForcedHypothesis, TorchEngine
from .placeholders import label_pieces, source_forms
from .results import Alignment
from .sentence_pairs import HALVES_DEPTH, HALVES_FROM, halves, join_alignments, sentence_parts
from .truecase import Restored
from .word_pieces import split_at_words
from .words import gold_units, links_to_words, pieces_to_words


class Aligner:
    """Given pairs -> :class:`~seq2seq.results.Alignment` (see the module's docstring)."""

    def __init__(self, codec: FolderCodec, engine: TorchEngine, method: AlignMethod, default_length_penalty: float):
        self.codec, self.engine, self.method = codec, engine, method
        self.default_length_penalty = default_length_penalty

    def align(
        self,
        sources: Sequence[str] | str,
        targets: Sequence[str] | str,
        pretokenized: bool = False,
        method: Optional[AlignMethod] = None,
        length_penalty: Optional[float] = None,
        max_tokens: int = 6000,
        progress: bool = False,
        dtype: Optional[torch.dtype] = None,
        skip_long: bool = False,
        restore_english: bool = True,
        by_sentence: bool = True,
    ) -> list[Alignment]:
        """See :meth:`seq2seq.translator.Translator.align`."""
        sources, targets = _check_pairs(sources, targets)
        check_search_args(length_penalty, max_tokens)
        args = (pretokenized, method, length_penalty, max_tokens, progress, dtype, skip_long, restore_english)
        if not by_sentence:
            return self._align(sources, targets, *args)
        languages = (self.codec.direction.source, self.codec.direction.target)
        plans = [sentence_parts(s, t, languages, pretokenized) for s, t in zip(sources, targets)]
        flat_src = [x for plan, s in zip(plans, sources) for x in (plan[0] if plan else [s])]
        flat_tgt = [x for plan, t in zip(plans, targets) for x in (plan[1] if plan else [t])]
        found = self._align(flat_src, flat_tgt, *args, in_halves=True)
        alpha = length_penalty if length_penalty is not None else self.default_length_penalty
        out, k, whole = [], 0, []
        for i, plan in enumerate(plans):
            n = len(plan[0]) if plan else 1
            parts = found[k : k + n]
            k += n
            if not plan:
                out.append(parts[0])
            elif any(not a.target_tokens for a in parts):  # a sentence skipped as too long: the pair is read whole
                whole.append(i)
                out.append(None)
            else:
                out.append(join_alignments(parts, alpha))
        if whole:
            for i, a in zip(whole, self._align([sources[i] for i in whole], [targets[i] for i in whole], *args)):
                out[i] = a
        return out

    def _align(
        self,
        sources: list[str],
        targets: list[str],
        pretokenized: bool,
        method: Optional[AlignMethod],
        length_penalty: Optional[float],
        max_tokens: int,
        progress: bool,
        dtype: Optional[torch.dtype],
        skip_long: bool,
        restore_english: bool,
        in_halves: bool = False,
    ) -> list[Alignment]:
        """Each pair read whole; with ``in_halves``, a long one in halves (:meth:`_in_halves`)."""
        method = method or self.method
        alpha = length_penalty if length_penalty is not None else self.default_length_penalty
        src_text, tgt_text, src_w, tgt_w, restored = self._texts_to_read(
            sources, targets, pretokenized, restore_english
        )
        src_ids, tgt_ids, spans = self.codec.pair_ids(src_text, tgt_text, skip_long)
        if method.word_pieces and pretokenized:
            src_ids, tgt_ids = self._word_bounded(src_ids, tgt_ids, spans, src_w, tgt_w, restored, skip_long)
        banned = self.codec.banned(src_ids)
        forced = self.engine.force(
            [s if t else [] for s, t in zip(src_ids, tgt_ids)],
            tgt_ids,
            max_tokens,
            full_context=True,
            dtype=dtype,
            progress=progress,
            banned=banned,
        )
        out = [
            self._pair_alignment(h, src_ids[i], spans[i], src_w[i], tgt_w[i], restored[i], method, alpha)
            if h is not None
            else self._empty_alignment(src_w[i], tgt_w[i], method)
            for i, h in enumerate(forced)
        ]
        if in_halves:
            en_source = self.codec.direction.source == "en"
            for i, a in enumerate(out):
                if a.target_tokens and max(len(src_text[i]), len(tgt_text[i])) > HALVES_FROM:
                    pair = _Pair(
                        src_ids[i], tgt_ids[i], spans[i], banned[i], src_w[i], tgt_w[i], restored[i], en_source
                    )
                    out[i] = self._in_halves(a, pair, method, alpha, max_tokens, dtype, HALVES_DEPTH)
        return out

    def _in_halves(self, a: Alignment, pair: "_Pair", method, alpha, max_tokens, dtype, depth: int) -> Alignment:
        """A long pair read in two halves where its reading ``a`` parts into two blocks of words
        (:func:`seq2seq.sentence_pairs.halves`), each half read on its own (and in halves again, ``depth`` levels),
        the two joined as sentence pairs are (:func:`~seq2seq.sentence_pairs.join_alignments`); ``a`` itself
        where it does not part, or where a piece straddles the cut."""
        n_src, n_tgt = len(a.source_words), len(a.target_words)
        src_cuts, tgt_cuts = _cuts(a.source_piece_words, n_src), _cuts(a.target_piece_words, n_tgt)
        cut = halves(a.links, n_src, n_tgt, [c is not None for c in src_cuts], [c is not None for c in tgt_cuts])
        if cut is None:
            return a
        src_cut, tgt_cut = src_cuts[cut[0]], tgt_cuts[cut[1]]
        src = [pair.src_ids[:src_cut] + pair.src_ids[-1:], pair.src_ids[src_cut:]]  # each with its own </s>
        tgt = [pair.tgt_ids[:tgt_cut], pair.tgt_ids[tgt_cut:]]
        forced = self.engine.force(src, tgt, max_tokens, full_context=True, dtype=dtype, banned=[pair.banned] * 2)
        parts, d = [], self.codec.direction
        for k, h in enumerate(forced):
            half = pair.half(k, src[k], tgt[k], cut)
            b = self._pair_alignment(h, half.src_ids, half.spans, half.src_w, half.tgt_w, half.restored, method, alpha)
            long = max(_chars(b.source_words, d.source), _chars(b.target_words, d.target)) > HALVES_FROM
            parts.append(
                self._in_halves(b, half, method, alpha, max_tokens, dtype, depth - 1) if depth > 1 and long else b
            )
        return join_alignments(parts, alpha)

    def _texts_to_read(self, sources: list[str], targets: list[str], pretokenized: bool, restore_english: bool):
        """The texts the model reads, the words given (``pretokenized``; else None each), and each pair's restored
        English (None where it is read as given).  Given words are joined as the model was trained: Chinese without
        spaces, English with them."""
        en_src = self.codec.direction.source == "en"
        src_w: list = [None] * len(sources)
        tgt_w: list = [None] * len(targets)
        if pretokenized:
            src_w, tgt_w = [s.split() for s in sources], [t.split() for t in targets]
            src_text = [(" " if en_src else "").join(w) for w in src_w]
            tgt_text = [("" if en_src else " ").join(w) for w in tgt_w]
        else:
            src_text, tgt_text = list(sources), list(targets)
        restored: list[Optional[Restored]] = [None] * len(sources)
        if restore_english:  # English the model knows (seq2seq.truecase), on whichever side is English
            side = src_text if en_src else tgt_text
            restored = self.codec.restore_english(side, (src_w if en_src else tgt_w) if pretokenized else None)
            side[:] = [r.text if r else x for r, x in zip(restored, side)]
        return src_text, tgt_text, src_w, tgt_w, restored

    def _word_bounded(self, src_ids, tgt_ids, spans, src_w, tgt_w, restored, skip_long: bool):
        """The ids re-spelt so that no piece straddles two given words (:mod:`seq2seq.word_pieces`); a pair that
        grows over the model's limit is an error, or with ``skip_long`` gets no source ids (no links)."""
        codec, limit = self.codec, self.codec.max_source_tokens
        en_src = codec.direction.source == "en"
        out_src, out_tgt = [], []
        for i, (s, t) in enumerate(zip(src_ids, tgt_ids)):
            if s and t:
                english = restored[i].surfaces if restored[i] is not None else (src_w[i] if en_src else tgt_w[i])
                sw = english if en_src else [codec.src_tok.normalize(w) for w in src_w[i]]
                tw = [codec.tgt_tok.normalize(w) for w in tgt_w[i]] if en_src else english
                s = _respelt(codec.src_tok, s[:-1], sw, source_forms(spans[i])) + s[-1:]
                t = _respelt(codec.tgt_tok, t, tw, spans[i])
                if len(s) > limit or len(t) + 1 > limit:
                    if not skip_long:
                        raise ValueError(
                            f"pair {i} has {len(s)} source / {len(t) + 1} target pieces cut at its words; the model "
                            f"reads at most {limit}: split it into shorter sentences"
                        )
                    s = []
            out_src.append(s)
            out_tgt.append(t)
        return out_src, out_tgt

    def _pair_alignment(
        self,
        h: ForcedHypothesis,
        src_ids: list[int],
        spans: list[str],
        src_words,
        tgt_words,
        restored: Optional[Restored],
        method: AlignMethod,
        alpha: float,
    ) -> Alignment:
        """One pair's :class:`Alignment`: pieces labelled with their spans, pieces mapped to the words given (or to
        word units), links read by ``method``."""
        codec = self.codec
        sp = label_pieces(codec.src_tok.ids_to_pieces(src_ids), source_forms(spans))
        tp = label_pieces(codec.tgt_tok.ids_to_pieces(h.tokens), spans)
        if src_words is not None:
            sw, tw = src_words, tgt_words
            s_map = pieces_to_words(sp, [codec.src_tok.normalize(w) for w in sw])
            t_map = pieces_to_words(tp, tw)
        else:
            sw, s_map = gold_units(sp, codec.direction.source)
            tw, t_map = gold_units(tp, codec.direction.target)
        if restored is not None:  # restored English: its pieces map back to the words given, by characters
            if codec.direction.source == "en":
                sw, s_map = restored.words, pieces_to_words(sp, restored.surfaces)
            else:
                tw, t_map = restored.words, pieces_to_words(tp, restored.surfaces)
        att, full = h.attention.numpy(), h.full_context_attention.numpy()
        links = links_to_words(
            piece_alignment(sp, tp, full if method.full_context else att, method=method), s_map, t_map
        )
        lp = h.token_logprobs.numpy()
        score = float(lp.sum())
        return Alignment(
            source_tokens=sp,
            target_tokens=tp,
            cross_attention=att,
            token_logprobs=lp,
            score=score,
            normalized_score=score / length_penalty(len(lp), alpha),
            links=links,
            source_words=sw,
            target_words=tw,
            method=method.name,
            source_piece_words=s_map,
            target_piece_words=t_map,
            full_context_attention=full,
        )

    def _empty_alignment(self, src_words, tgt_words, method: AlignMethod) -> Alignment:
        """The result for a pair with an empty side (or one skipped as too long): no pieces, no links."""
        cfg = self.engine.model.cfg
        return Alignment(
            source_tokens=[],
            target_tokens=[],
            cross_attention=np.zeros((cfg.n_dec_layers, cfg.n_heads, 0, 0), dtype=np.float32),
            token_logprobs=np.zeros(0, dtype=np.float32),
            score=0.0,
            normalized_score=0.0,
            links=[],
            source_words=src_words or [],
            target_words=tgt_words or [],
            method=method.name,
            full_context_attention=np.zeros((cfg.n_dec_layers, cfg.n_heads, 0, 0), dtype=np.float32),
        )


class _Pair:
    """One pair as :meth:`Aligner._in_halves` reads it: its ids (the source's ending with ``</s>``), spans, the
    whole pair's banned pieces (a half keeps them: a placeholder whose source is in another half is still one the
    search could write), given words (or None) and restored English (or None; ``en_source``: on the source side,
    else the target)."""

    def __init__(self, src_ids, tgt_ids, spans, banned, src_w, tgt_w, restored: Optional[Restored], en_source: bool):
        self.src_ids, self.tgt_ids, self.spans, self.banned = list(src_ids), list(tgt_ids), spans, banned
        self.src_w, self.tgt_w, self.restored, self.en_source = src_w, tgt_w, restored, en_source

    def half(self, k: int, src_ids, tgt_ids, cut: tuple[int, int]) -> "_Pair":
        """The first (``k`` 0) or second half, with these ids, cut after ``cut`` (source words, target words)."""
        s, t = (slice(0, cut[0]), slice(0, cut[1])) if k == 0 else (slice(cut[0], None), slice(cut[1], None))
        r, e = self.restored, s if self.en_source else t
        return _Pair(
            src_ids,
            tgt_ids,
            self.spans,
            self.banned,
            None if self.src_w is None else self.src_w[s],
            None if self.tgt_w is None else self.tgt_w[t],
            None if r is None else Restored(text="", words=r.words[e], surfaces=r.surfaces[e]),
            self.en_source,
        )


def _cuts(piece_words: Sequence[Sequence[int]], n_words: int) -> list[Optional[int]]:
    """For each word boundary (before word 0 ... before word ``n_words``), the piece where the words after it begin,
    or None where a piece covers words on both sides of it (pieces of no word, such as ``</s>``, are passed over)."""
    out: list[Optional[int]] = [None] * (n_words + 1)
    straddled = set()
    for k, ws in enumerate(piece_words):
        if ws:
            straddled.update(range(min(ws) + 1, max(ws) + 1))
            for w in range(max(ws) + 1):  # the first piece with a word at or after w
                if out[w] is None:
                    out[w] = k
    return [None if w in straddled else c for w, c in enumerate(out)]


def _chars(words: Sequence[str], lang: str) -> int:
    """The length of a text of these words as the model reads it (Chinese without spaces, English with them)."""
    return sum(len(w) for w in words) + (max(0, len(words) - 1) if lang == "en" else 0)


def _check_pairs(sources, targets) -> tuple[list[str], list[str]]:
    """:meth:`Translator.align`'s pairs as two lists of strings of equal length (a string is one sentence)."""
    if isinstance(sources, str):
        sources = [sources]
    if isinstance(targets, str):
        targets = [targets]
    sources, targets = check_sentences(sources, "align: sources"), check_sentences(targets, "align: targets")
    if len(sources) != len(targets):
        raise ValueError(f"align: {len(sources)} sources but {len(targets)} targets")
    return list(sources), list(targets)


def _respelt(tok, ids: list[int], words, spans) -> list[int]:
    """``ids`` with no piece straddling two of ``words`` (:func:`seq2seq.word_pieces.split_at_words`; placeholders
    matched to the words as the ``spans`` they carry)."""
    pieces = tok.ids_to_pieces(ids)
    cut = split_at_words(pieces, words, tok.sp, label_pieces(pieces, spans))
    return ids if cut == pieces else tok.pieces_to_ids(cut)
