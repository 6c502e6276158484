"""Text <-> ids for one model folder: the half of translation that is not the model.

A :class:`FolderCodec` holds what a folder says about text: its direction, both tokenizers, the placeholders
(names and numbers carried through unchanged, :mod:`seq2seq.placeholders`), the name lexicon, the English
truecaser, and the model's length limit.  Both engines (PyTorch and CTranslate2) read the ids it makes and give
back ids; the codec turns those into a complete :class:`~seq2seq.results.Translation`.

    codec.encode_sources(["苹果公司的CEO蒂姆·库克"])  ->  Sources(ids=[[...]], spans=[["CEO", "Tim Cook"]])
    codec.translation(src_ids, hypotheses, spans)      ->  Translation("Apple's CEO Tim Cook", ...)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from .direction import Direction
from .known_words import KNOWN_WORDS_FILE
from .markup import Mark, put_back, take_out
from .names import NAMES_FILE
from .placeholders import (
    N_PLACEHOLDERS,
    has_placeholders,
    label_pieces,
    mask_like,
    mask_source,
    placeholder,
    restore,
    source_forms,
    unlabel_pieces,
)
from .results import Translation
from .text import chunk, tidy_chinese
from .tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, SubwordTokenizer
from .truecase import TRUECASE_FILE, EnglishRestorer, Restored


@dataclass(frozen=True)
class Sources:
    """Source sentences as the model reads them: ids (EOS last; [] for an empty sentence) and, per sentence,
    the spans its placeholders carry (``seq2seq.placeholders``), and the sentences as given."""

    ids: list[list[int]]
    spans: list[list[str]]
    texts: list[str] = field(default_factory=list)  # without their markup and emoji (seq2seq.markup)
    marks: list[list[Mark]] = field(default_factory=list)


class FolderCodec:
    """Text <-> ids for one model folder (see the module's docstring).  Read-only: one codec serves concurrent
    requests."""

    def __init__(
        self,
        direction: Direction,
        src_tok: SubwordTokenizer,
        tgt_tok: SubwordTokenizer,
        max_len: int,
        names=None,
        truecaser=None,
        known_words=None,
    ):
        self.direction = Direction.parse(direction)
        self.src_tok, self.tgt_tok = src_tok, tgt_tok
        self.max_source_tokens = max_len - 1  # positions the model has, less one for BOS/EOS
        self.names = names  # seq2seq.names.NameLexicon: transliterated names carried as their English
        self.truecaser = truecaser  # seq2seq.truecase.Truecaser: align() restores lower-cased English
        self.known_words = known_words  # seq2seq.known_words.KnownWords: translation carries unknown names as they are
        self.english_restorer = EnglishRestorer(truecaser) if truecaser is not None else None
        self.uses_placeholders = has_placeholders(src_tok) and has_placeholders(tgt_tok)
        if self.uses_placeholders:
            self.src_placeholders = src_tok.pieces_to_ids([placeholder(k) for k in range(N_PLACEHOLDERS)])
            self.tgt_placeholders = tgt_tok.pieces_to_ids([placeholder(k) for k in range(N_PLACEHOLDERS)])
        else:
            self.src_placeholders = self.tgt_placeholders = []

    def optional_files(self) -> dict:
        """The folder's optional files this codec holds, by file name (None where the folder has none)."""
        return {TRUECASE_FILE: self.truecaser, NAMES_FILE: self.names, KNOWN_WORDS_FILE: self.known_words}

    # ------------------------------------------------------------------ sources
    def mask(self, text: str, translating: bool = True) -> tuple[str, list[str]]:
        """The source as the model reads it (names and numbers as placeholders, if it uses them), and the spans.
        Names the model has not learnt (``known_words``) are placeholders only when ``translating``, not in a
        given pair (:mod:`seq2seq.known_words`)."""
        if not self.uses_placeholders:
            return text, []
        if self.direction.source == "zh":  # Traditional as Simplified: 億 is 亿 to the amount rules and the names
            text = self.src_tok.normalize(text)
        known = self.known_words if translating else None
        return mask_source(text, self.direction.source, names=self.names, known=known)

    def source_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Texts (masked already) as source ids with EOS; an empty text gives []."""
        return [ids + [EOS_ID] if ids else [] for ids in self.src_tok.encode(list(texts))]

    def encode_sources(self, sentences: Sequence[str]) -> Sources:
        """Sentences masked and encoded; a sentence over the model's limit is a ``ValueError`` that says so."""
        taken = [take_out(x) for x in sentences]
        masked = [self.mask(x) for x, _ in taken]
        ids = self.source_ids([m for m, _ in masked])
        for i, x in enumerate(ids):
            if len(x) > self.max_source_tokens:
                raise ValueError(
                    f"sentence {i} has {len(x)} source pieces; the model reads at most "
                    f"{self.max_source_tokens}: split it into shorter sentences"
                )
        return Sources(ids, [sp for _, sp in masked], [x for x, _ in taken], [m for _, m in taken])

    def placeholder_counts(self, src_ids: Sequence[int]) -> list[int]:
        """How often the source holds each placeholder (``N_PLACEHOLDERS`` counts; all 0 without placeholders)."""
        return [src_ids.count(i) for i in self.src_placeholders] if self.uses_placeholders else [0] * N_PLACEHOLDERS

    def banned(self, src_ids: Sequence[Sequence[int]]) -> list[list[int]]:
        """For each source, the target placeholders it lacks (a search never produces them)."""
        if not self.uses_placeholders:
            return [[] for _ in src_ids]
        return [[t for t, c in zip(self.tgt_placeholders, self.placeholder_counts(ids)) if c == 0] for ids in src_ids]

    def keeps_limits(self, src_ids: Sequence[int], tgt_ids: Sequence[int]) -> bool:
        """Does an output carry every placeholder of its source, and none more often than the source has it?"""
        if not self.uses_placeholders:
            return True
        counts = self.placeholder_counts(src_ids)
        out = [tgt_ids.count(i) for i in self.tgt_placeholders]
        return all((c == 0 and o == 0) or 1 <= o <= c for c, o in zip(counts, out))

    def split_long(self, lines: Sequence[str], who: str = "seq2seq-translate") -> tuple[list[str], list[int]]:
        """Lines over the model's length limit split into sentences (and equal parts if need be), with a note on
        stderr; sentences end as the demo ends them (:func:`seq2seq.text.split_sentences` in the source language).
        Returns (the parts, the line index of each part)."""
        parts, owner = [], []
        for n, line in enumerate(lines):
            line = line.strip()
            if len(self.source_ids([self.mask(line)[0]])[0]) > self.max_source_tokens:
                pieces = chunk(line, self.max_source_tokens // 2, self.direction.source)
                print(
                    f"{who}: line {n + 1} is too long for the model; translated in {len(pieces)} parts",
                    file=sys.stderr,
                )
            else:
                pieces = [line]
            parts.extend(pieces)
            owner.extend([n] * len(pieces))
        return parts, owner

    # ------------------------------------------------------------------ targets
    def encode_prefixes(self, prefix, n: int, spans: Optional[list[list[str]]] = None) -> Optional[list[list[int]]]:
        """Prefixes as target ids, one list per sentence (see ``Translator.translate``); None when there are none.
        ``spans``: each sentence's placeholder spans, which the prefix spells as text or as labelled pieces."""
        if prefix is None:
            return None
        if isinstance(prefix, str):
            raise TypeError("prefix: give a list with one prefix per sentence (or pass the sentence as a string)")
        prefix = list(prefix)
        if len(prefix) != n:
            raise ValueError(f"prefix has {len(prefix)} entries for {n} sentences (give one per sentence, or None)")
        out = []
        for i, p in enumerate(prefix):
            if p is None or p == "" or p == []:
                out.append([])
            elif isinstance(p, str):
                out.append(self.tgt_tok.encode([mask_like(p, spans[i]) if spans else p])[0])
            elif isinstance(p, (list, tuple)) and all(isinstance(x, str) for x in p):
                ids = self.tgt_tok.pieces_to_ids(unlabel_pieces(p, spans[i]) if spans else p)
                bad = [x for x, j in zip(p, ids) if j == UNK_ID and x != "<unk>" or j in (PAD_ID, BOS_ID, EOS_ID)]
                if bad:
                    raise ValueError(f"prefix {i}: the vocabulary has no piece {bad[0]!r}")
                out.append(ids)
            else:
                raise TypeError(f"prefix {i} is {type(p).__name__}: give text, a list of pieces, or None")
        return out if any(out) else None

    def translation(
        self,
        src_ids: Sequence[int],
        hyps: Sequence,
        spans: Sequence[str],
        how: str = "",
        method=None,
        source_text: str = "",
        marks: Sequence[Mark] = (),
    ) -> Translation:
        """The complete :class:`Translation` of one source from its hypotheses (``seq2seq.decoding.Hypothesis``,
        best first): text with the spans put back, pieces labelled with them (so maps show ``CEO``, not a
        placeholder), top-k and the beam tree in pieces, and ``nbest``.  ``how``: which search gave it;
        ``method``: how its word links are read (``seq2seq.align.AlignMethod``); ``source_text``: the sentence as
        given (word units are shown as typed, e.g. in Traditional characters) without the ``marks`` (markup and emoji)
        that were taken out of it: they are put back in each hypothesis's text where its word links say."""
        src_pieces = label_pieces(self.src_tok.ids_to_pieces(src_ids), source_forms(spans))
        out = []
        for h in hyps:
            topk = None
            if h.topk is not None:
                probs, ids = h.topk
                topk = [
                    list(zip(label_pieces(self.tgt_tok.ids_to_pieces(ir), spans), map(float, pr)))
                    for pr, ir in zip(probs.tolist(), ids.tolist())
                ]
            tree = None
            if h.tree is not None:
                tree = [[{**node, "piece": self.piece(node["token"], spans)} for node in step] for step in h.tree]
            out.append(
                Translation(
                    text=self._text(h.tokens, spans),
                    source_tokens=src_pieces,
                    target_tokens=label_pieces(self.tgt_tok.ids_to_pieces(h.tokens), spans),
                    cross_attention=_numpy(h.attention),
                    score=h.score,
                    normalized_score=h.normalized_score,
                    topk=topk,
                    tree=tree,
                    placeholders=list(spans),
                    alignment_attention=_numpy(h.alignment_attention),
                    search=how,
                    align_method=method,
                    languages=self.direction.languages,
                    source_text=source_text,
                )
            )
        for t in out if marks else ():
            t.text = put_back(t.text, marks, source_text, t.coverage)
        best = out[0]
        best.nbest = out
        return best

    def _text(self, tokens: Sequence[int], spans: Sequence[str]) -> str:
        """Output ids as text, the spans put back; Chinese with Chinese punctuation (``text.tidy_chinese``)."""
        text = restore(self.tgt_tok.decode(tokens), spans)
        return tidy_chinese(text) if self.direction.target == "zh" else text

    def piece(self, token: int, spans: Sequence[str] = ()) -> str:
        """One target id as its piece, a placeholder as its span."""
        return label_pieces(self.tgt_tok.ids_to_pieces([token]), spans)[0]

    # ------------------------------------------------------------------ given pairs (Translator.align)
    def restore_english(
        self, texts: Sequence[str], words: Optional[Sequence[Sequence[str]]] = None
    ) -> list[Optional[Restored]]:
        """Each English text (or its given ``words``) as the model should read it (:mod:`seq2seq.truecase`), or
        None where the model reads it as given: English that is cased and detokenized already, or every text
        when the model folder has no truecasing model."""
        if self.english_restorer is None:
            return [None] * len(texts)
        out: list[Optional[Restored]] = []
        for k, text in enumerate(texts):
            r = self.english_restorer.restore(words[k] if words is not None else text.split())
            out.append(r if r.changed else None)
        return out

    def pair_ids(self, src_text: list[str], tgt_text: list[str], skip_long: bool):
        """Source and target ids of given pairs (names and numbers as placeholders, the target masked like its
        source), and the placeholder spans; a pair over the model's limit is an error, or with ``skip_long``
        gets no source ids (and so an empty result)."""
        masked = [self.mask(x, translating=False) for x in src_text]
        spans = [sp for _, sp in masked]
        src_ids = self.source_ids([m for m, _ in masked])
        tgt_ids = self.tgt_tok.encode([mask_like(t, sp) for t, sp in zip(tgt_text, spans)])
        limit = self.max_source_tokens
        for i in range(len(src_ids)):
            if len(src_ids[i]) > limit or len(tgt_ids[i]) + 1 > limit:
                if skip_long:
                    src_ids[i] = []
                    continue
                raise ValueError(
                    f"pair {i} has {len(src_ids[i])} source / {len(tgt_ids[i]) + 1} target pieces; the "
                    f"model reads at most {limit}: split it into shorter sentences"
                )
        return src_ids, tgt_ids, spans


def _numpy(t) -> Optional[np.ndarray]:
    if t is None or isinstance(t, np.ndarray):
        return t
    return t.detach().float().cpu().numpy()
