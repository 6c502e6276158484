"""``Translator.attribute``: sentences (and given or the model's own translations) -> :mod:`seq2seq.attribution`
results.  Composed over the folder's codec and the PyTorch engine, as :mod:`seq2seq.aligner` is for alignment:
the codec gives the ids the model reads (placeholders included) and the pieces a reader sees (placeholders shown
as their spans); :func:`seq2seq.attribution.attribute_queries` does the computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional, Sequence

import numpy as np

from .attribution import (
    Attribution,
    ContrastiveAttribution,
    PieceScores,
    attribute_queries,
    check_method,
    check_precision,
    piece_word_matrix,
    query_log_probs,
    source_shares,
)
from .checks import check_sentences
from .coverage import reading_units
from .placeholders import label_pieces, source_forms, unlabel_pieces
from .results import Translation
from .tokenizer import BOS_ID, EOS_ID


@dataclass
class Pair:
    """One sentence pair as the model reads it: source ids (``</s>`` last), target ids (``</s>`` last), the pieces
    a reader sees, the target text, and the alignment head's word links (None without a head)."""

    src_ids: list[int]
    tgt_ids: list[int]
    source_tokens: list[str]
    target_tokens: list[str]
    text: str
    head_links: Optional[list[tuple[int, int]]]
    # The words and, per piece, the word indices it covers (None: the reading units of Translation.coverage).
    words: Optional[tuple[list[str], list[list[int]], list[str], list[list[int]]]] = None
    spans: Sequence[str] = ()  # the placeholders' spans (seq2seq.placeholders), by number


class Passes(NamedTuple):
    """How the attribution passes run: integrated gradients' path points, captum's examples per pass, and the
    arithmetic (``seq2seq.attribution.PRECISIONS``)."""

    n_steps: int
    internal_batch_size: Optional[int]
    precision: str


class Pairs(list):
    """Pairs prepared already (:meth:`Attributor.aligned_pairs`), which :meth:`Attributor.attribute` takes as
    its ``sources``."""


class Attributor:
    """Sentences -> attributions for one :class:`~seq2seq.translator.Translator` (see the module's docstring)."""

    def __init__(self, translator):
        self.translator, self.codec = translator, translator.codec
        self.languages = translator.languages

    # ------------------------------------------------------------------ pairs
    def pairs(self, sources, targets=None, beam_size: Optional[int] = None) -> list[Optional[Pair]]:
        """The pairs to explain: each source with its given target (text, or a :class:`Translation` of this model
        for that source, read as it was made: its own pieces), or with the model's own translation (None where
        either side is empty)."""
        if isinstance(sources, str):
            sources = [sources]
            one = isinstance(targets, (str, Translation))
            targets = None if targets is None else [targets] if one else targets
        sources = check_sentences(sources, "attribute: sources")
        if targets is None:
            return [self._own(t) for t in self.translator.translate(sources, beam_size=beam_size)]
        targets = list(targets)
        if targets and all(isinstance(t, Translation) for t in targets):
            if len(targets) != len(sources):
                raise ValueError(f"attribute: {len(sources)} sources but {len(targets)} translations")
            return [self._own(t) for t in targets]
        targets = check_sentences(targets, "attribute: targets")
        if len(targets) != len(sources):
            raise ValueError(f"attribute: {len(sources)} sources but {len(targets)} targets")
        return self._given(sources, targets)

    def _own(self, t: Translation) -> Optional[Pair]:
        if not t.target_tokens:
            return None
        own = lambda pieces: unlabel_pieces(pieces, t.placeholders)
        src = self.codec.src_tok.pieces_to_ids(own(t.source_tokens))
        tgt = self.codec.tgt_tok.pieces_to_ids(own(t.target_tokens))
        links, words = _links_and_words(t)
        return Pair(
            src, tgt, list(t.source_tokens), list(t.target_tokens), t.text, links, words=words, spans=t.placeholders
        )

    def _given(self, sources: list[str], targets: list[str]) -> list[Optional[Pair]]:
        codec = self.codec
        src_ids, tgt_ids, spans = codec.pair_ids(sources, targets, skip_long=False)
        full = [t + [EOS_ID] if s and t else [] for s, t in zip(src_ids, tgt_ids)]
        forced = self.translator.torch.force([s if t else [] for s, t in zip(src_ids, full)], tgt_ids)
        out: list[Optional[Pair]] = []
        for i, h in enumerate(forced):
            if h is None:
                out.append(None)
                continue
            sp = label_pieces(codec.src_tok.ids_to_pieces(src_ids[i]), source_forms(spans[i]))
            tp = label_pieces(codec.tgt_tok.ids_to_pieces(full[i]), spans[i])
            t = Translation(
                text=targets[i],
                source_tokens=sp,
                target_tokens=tp,
                cross_attention=h.attention.numpy(),
                score=h.score,
                normalized_score=h.score,
                align_method=self.translator.link_method,
                languages=self.languages,
            )
            links, words = _links_and_words(t)
            out.append(Pair(src_ids[i], full[i], sp, tp, targets[i], links, words=words, spans=spans[i]))
        return out

    def aligned_pairs(self, sources, targets, pretokenized: bool = False, restore_english: bool = True):
        """Given pairs read as ``Translator.align`` reads them (English restored, ``pretokenized`` words, pieces cut
        at word boundaries where the link method does so), with the words that ``Alignment.links`` index and the
        head's links (``Alignment.links``); None where a side is empty or over the model's length limit."""
        from .aligner import Aligner

        tr, codec = self.translator, self.codec
        alignments = tr.align(
            sources, targets, pretokenized, skip_long=True, restore_english=restore_english, by_sentence=False
        )
        aligner = Aligner(codec, tr.torch, tr.align_method, 1.0)
        src_text, tgt_text = aligner._texts_to_read(list(sources), list(targets), pretokenized, restore_english)[:2]
        spans = codec.pair_ids(src_text, tgt_text, skip_long=True)[2]  # the placeholders' spans
        out: list[Optional[Pair]] = []
        for a, text, sp in zip(alignments, tgt_text, spans):
            if not a.target_tokens:
                out.append(None)
                continue
            src = codec.src_tok.pieces_to_ids(unlabel_pieces(a.source_tokens, sp))  # the ids the aligner read
            tgt = codec.tgt_tok.pieces_to_ids(unlabel_pieces(a.target_tokens, sp))
            words = (a.source_words, a.source_piece_words, a.target_words, a.target_piece_words)
            out.append(Pair(src, tgt, a.source_tokens, a.target_tokens, text, a.links, words, sp))
        return Pairs(out)

    # ------------------------------------------------------------------ attribution
    def attribute(
        self,
        sources,
        targets=None,
        method: str = "input_x_gradient",
        score: Optional[str] = None,
        n_steps: int = 32,
        internal_batch_size: Optional[int] = None,
        precision: str = "auto",
        contrast=None,
        beam_size: Optional[int] = None,
        progress: Optional[Callable[[int, int], None]] = None,
    ) -> list:
        """See :meth:`seq2seq.translator.Translator.attribute`; ``progress(done, total)`` is called as output pieces'
        worth of a sentence's work gets done (:func:`seq2seq.attribution.attribute_queries`), last with (total,
        total)."""
        score = check_method(method, score)
        if not isinstance(n_steps, int) or n_steps < 1:
            raise ValueError(f"n_steps must be an integer >= 1, got {n_steps!r}")
        passes = Passes(n_steps, internal_batch_size, check_precision(precision))
        pairs = sources if isinstance(sources, Pairs) else self.pairs(sources, targets, beam_size)
        if contrast is not None:
            contrasts = [contrast] if isinstance(contrast, tuple) else list(contrast)
            if len(contrasts) != len(pairs):
                raise ValueError(f"contrast: {len(contrasts)} entries for {len(pairs)} sentences (one per sentence)")
            return [
                self._contrastive(p, c, method, score, passes, progress) if p and c else None
                for p, c in zip(pairs, contrasts)
            ]
        return [
            self._attribution(p, method, score, passes, progress) if p else self._empty(method, score) for p in pairs
        ]

    def _scores(self, pair: Pair, steps, pieces, alternatives, method, passes: Passes, progress) -> PieceScores:
        """:func:`attribute_queries` on one pair's ids."""
        model, decoder_input = self.translator.torch.model, [BOS_ID] + pair.tgt_ids[:-1]
        n_steps, batch, precision = passes
        return attribute_queries(
            model, pair.src_ids, decoder_input, steps, pieces, alternatives, method, n_steps, batch, progress, precision
        )

    def piece_scores(self, pair: Pair, method: str, passes: Passes, progress=None) -> PieceScores:
        """The raw scores of every output piece of ``pair`` (what :meth:`result` reads into an attribution)."""
        return self._scores(pair, range(len(pair.tgt_ids)), pair.tgt_ids, None, method, passes, progress)

    def _words(self, pair: Pair):
        if pair.words is not None:
            return pair.words
        sw, sg = reading_units(pair.source_tokens, self.languages[0])
        tw, tg = reading_units(pair.target_tokens, self.languages[1])
        return sw, sg, tw, tg

    def _attribution(self, pair: Pair, method: str, score: str, passes: Passes, progress) -> Attribution:
        return self.result(pair, self.piece_scores(pair, method, passes, progress), method, score)

    def result(self, pair: Pair, found: PieceScores, method: str, score: str) -> Attribution:
        """The :class:`Attribution` of ``pair`` from its scores (every output piece, in order), read by ``score``."""
        source, prefix = found.read(score)
        sw, sg, tw, tg = self._words(pair)
        return Attribution(
            method,
            score,
            pair.text,
            pair.source_tokens,
            pair.target_tokens,
            source.astype(np.float32),
            prefix.astype(np.float32),
            source_shares(source, prefix).astype(np.float32),
            found.outputs.astype(np.float32),
            sw,
            tw,
            sg,
            tg,
            pair.head_links,
            "-".join(self.languages),
        )

    def _empty(self, method: str, score: str) -> Attribution:
        z = np.zeros((0, 0), dtype=np.float32)
        return Attribution(method, score, "", [], [], z, z, np.zeros(0, np.float32), np.zeros(0, np.float32))

    def _contrastive(self, pair: Pair, contrast, method, score, passes: Passes, progress) -> ContrastiveAttribution:
        """Attribution of log p(chosen) - log p(alternative) at the first piece of output word ``contrast[0]``
        (signed sums: ``score`` is always ``"sum"`` here)."""
        word, alternative = contrast
        sw, sg, tw, tg = self._words(pair)
        if not isinstance(word, int) or not 0 <= word < len(tw):
            raise ValueError(f"contrast: word must be an output word index in 0..{len(tw) - 1}, got {word!r}")
        pieces = [p for p, ws in enumerate(tg) if word in ws]  # a bare word start "▁" decides nothing yet
        step = next((p for p in pieces if pair.target_tokens[p] != "\u2581"), pieces[0])
        alt_id, alt_piece = self._alternative_piece(pair.target_tokens[step], alternative)
        found = self._scores(pair, [step], [pair.tgt_ids[step]], [alt_id], method, passes, progress)
        score = "sum"  # a difference is signed (the norm of a difference is no difference of norms)
        model, decoder_input = self.translator.torch.model, [BOS_ID] + pair.tgt_ids[:-1]
        logp = query_log_probs(model, pair.src_ids, decoder_input, [step, step], [pair.tgt_ids[step], alt_id])
        source, prefix = (x[0] for x in found.read(score))
        gs, gt = piece_word_matrix(sg, len(sw)), piece_word_matrix(tg, len(tw))
        inputs = np.vstack([np.zeros((1, len(tw))), gt[:-1]])  # decoder input j -> target piece j-1
        return ContrastiveAttribution(
            method,
            score,
            step,
            word,
            pair.target_tokens[step],
            alt_piece,
            float(logp[0]),
            float(logp[1]),
            pair.source_tokens,
            pair.target_tokens,
            source.astype(np.float32),
            prefix.astype(np.float32),
            sw,
            tw,
            source @ gs,
            prefix @ inputs,
        )

    def _alternative_piece(self, chosen: str, alternative: str) -> tuple[int, str]:
        """The piece an alternative word starts with, at the chosen piece's place: with the word-start mark "▁"
        where the chosen piece has one, else without it."""
        tok = self.codec.tgt_tok
        if not isinstance(alternative, str) or not alternative.strip():
            raise ValueError("contrast: give the alternative as a non-empty word")
        pieces = [p for p in tok.encode_pieces([alternative.strip()])[0] if p != "\u2581"]
        piece = pieces[0] if pieces else ""
        if not chosen.startswith("\u2581") and piece.startswith("\u2581") and tok.knows(piece[1:]):
            piece = piece[1:]
        elif chosen.startswith("\u2581") and piece and not piece.startswith("\u2581") and tok.knows("\u2581" + piece):
            piece = "\u2581" + piece
        if not piece:
            raise ValueError(f"contrast: the vocabulary cannot spell {alternative!r}")
        return tok.pieces_to_ids([piece])[0], piece


def attribute(translator, sources, targets=None, method: str = "input_x_gradient", **options) -> list:
    """:meth:`Attributor.attribute` for ``translator`` (what ``Translator.attribute`` calls)."""
    return Attributor(translator).attribute(sources, targets, method, **options)


def _links_and_words(t: Translation):
    """The head's word links of ``t`` and the words they index: the coverage's, which split a word where its links
    part, so that attribution rows and the head's links count the same words (None, None: no coverage)."""
    cov = t.coverage
    if cov is None:
        return None, None
    return cov.links, (cov.source_words, cov.source_groups, cov.target_words, cov.target_groups)
