"""The numbers behind the demo's maps, with no Plotly in it: which attention, at which units, with which links.

The first map is the alignment head's, at word level: rows are output words, columns source words (Chinese
words by jieba), the colour the head's attention (summed over a column word's pieces, averaged over a row
word's pieces), and the outlined cells its links (see :mod:`seq2seq.coverage`).  "Look inside" gives any
layer and head of raw cross-attention, and pieces instead of words.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from ..align import DEFAULT_RAW, AlignMethod, attention_matrix, method_attention, parse_method, piece_alignment
from ..coverage import Coverage, coverage, is_alignment_head
from ..direction import LANGUAGE_NAMES
from ..results import Translation
from ..words import gold_units, reading_units
from .inputs import InputError

HEAD = "alignment head"  # the attention choice that means "the model's alignment method"


@dataclass
class MapData:
    """One map: ``matrix`` [rows, cols] (rows attend to columns, or draw on them), the labels (pieces or words,
    raw), the cells to outline (row, col), and the rows/columns flags ("added?" / "not translated?")."""

    matrix: np.ndarray
    rows: list[str]
    cols: list[str]
    title: str
    links: list[tuple[int, int]] = field(default_factory=list)
    flagged_rows: list[int] = field(default_factory=list)
    flagged_cols: list[int] = field(default_factory=list)
    languages: tuple[str, str] = ("zh", "en")  # (columns, rows): the input language, the output language
    units: str = "pieces"  # "words" or "pieces": how adjacent column labels are joined (chips.join_units)
    signed: bool = False  # values in -1..1 (a signed attribution), not 0..1 (attention)
    value: str = "weight"  # what a cell's number is, as its hover names it


def with_eos(pieces: Sequence[str], groups: list[list[int]], words: list[str]) -> tuple[list[list[int]], list[str]]:
    """Word groups plus ``</s>`` as a unit of its own (the end token takes part in attention)."""
    n = len(words)
    return [[n] if p == "</s>" else list(g) for p, g in zip(pieces, groups)], list(words) + ["</s>"]


def unit_groups(pieces: Sequence[str], units: str, lang: str) -> tuple[list[list[int]], list[str]]:
    """Each piece's units and the unit labels (``</s>`` last): "pieces", "words" (jieba for Chinese, punctuation
    apart for English) or "characters" (Chinese characters; English words as for "words")."""
    if units == "pieces":
        return [[i] for i in range(len(pieces))], list(pieces)
    if units == "characters" and lang == "zh":
        words, groups = gold_units(pieces, "zh")
        return with_eos(pieces, groups, words)
    words, groups = reading_units(pieces, lang)
    return with_eos(pieces, groups, words)


def merge_groups(a: np.ndarray, row_groups, n_rows: int, col_groups, n_cols: int) -> np.ndarray:
    """[R, C] piece weights -> [n_rows, n_cols] word weights: columns summed, rows averaged (a piece in several
    words gives each an equal share of its column weight)."""
    cols = np.zeros((a.shape[0], n_cols))
    for c, groups in enumerate(col_groups):
        for g in groups:
            cols[:, g] += a[:, c] / len(groups)
    out, count = np.zeros((n_rows, n_cols)), np.zeros(n_rows)
    for r, groups in enumerate(row_groups):
        for g in groups:
            out[g] += cols[r]
            count[g] += 1
    return out / np.maximum(count, 1)[:, None]


def attention_choices(n_layers: int, n_heads: int, method: Optional[AlignMethod]) -> list[str]:
    """The "Attention" dropdown: the alignment method first, then every layer averaged and every head."""
    out = [HEAD if is_alignment_head(method) else "best raw rule"]
    for layer in range(n_layers):
        out.extend(AlignMethod(layer=layer, head=head).name for head in (None, *range(n_heads)))
    return out


def parse_attention(choice: Optional[str], n_layers: int, n_heads: int) -> Optional[tuple[int, Optional[int]]]:
    """A choice of :func:`attention_choices` -> (layer, head) 0-based (``align.parse_method``'s grammar, the CLI's):
    ``"layer 2, head 3"`` -> (1, 2); ``"layer 2, heads averaged"`` -> (1, None); the alignment method -> None."""
    if not choice or choice in (HEAD, "best raw rule"):
        return None
    try:
        method = parse_method(choice, DEFAULT_RAW, n_layers, n_heads)
    except ValueError as e:  # a choice of the other direction's model, still in the browser
        raise InputError(f"Pick the attention again: {e}") from None
    return method.layer, method.head


def alignment_map(
    result,
    method: Optional[AlignMethod],
    choice: Optional[str] = HEAD,
    units: str = "words",
    languages: tuple[str, str] = ("zh", "en"),
) -> MapData:
    """The map of a ``Translation`` or ``Alignment``: the alignment method's attention (``choice`` None or HEAD)
    or one layer/head of raw cross-attention, at ``units`` ("words" or "pieces"), outlined with the method's
    links read one way (each output unit to the source units it comes from) and, for a trained head, the
    coverage flags."""
    method = method or DEFAULT_RAW
    picked = None if choice in (None, HEAD) else parse_attention(choice, *result.cross_attention.shape[:2])
    if picked is None:
        a = attention_matrix(method_attention(result, method), method.layer, method.head, method.shift)
        names = [LANGUAGE_NAMES[x] for x in languages]
        title = (
            f"Trained {method.label}: which {names[0]} words each {names[1]} word comes from"
            if is_alignment_head(method)
            else f"No alignment head: the best raw rule ({method.name})"
        )
    else:
        a = attention_matrix(result.cross_attention, picked[0], picked[1])
        title = f"Raw cross-attention, layer {picked[0] + 1}, " + (
            "heads averaged" if picked[1] is None else f"head {picked[1] + 1}"
        )
    src, tgt = result.source_tokens, result.target_tokens
    if units == "pieces":
        one_way = dataclasses.replace(method, symmetrize="")
        piece_links = piece_alignment(src, tgt, method_attention(result, method), method=one_way)
        links = [(j, i) for i, j in piece_links]
        return MapData(matrix=a, rows=list(tgt), cols=list(src), title=title, links=links, languages=languages)
    w = word_links(result, method, languages)
    s_groups, s_words = with_eos(src, w.source_groups, w.source_words)
    t_groups, t_words = with_eos(tgt, w.target_groups, w.target_words)
    mat = merge_groups(a, t_groups, len(t_words), s_groups, len(s_words))[:-1]  # the </s> row: no word
    flagged = (w.coverage.unlinked_target, w.coverage.unlinked_source) if w.coverage is not None else ([], [])
    links = sorted((b, a_) for a_, b in w.links)
    return MapData(
        matrix=mat,
        rows=t_words[:-1],
        cols=s_words,
        title=title,
        links=links,
        flagged_rows=flagged[0],
        flagged_cols=flagged[1],
        languages=languages,
        units="words",
    )


@dataclass
class WordLinks:
    """One result's words on both sides, its links (source word, target word) read one way with ``method``, and
    for each piece the words it covers; ``coverage`` where ``method`` is a trained head."""

    source_words: list[str]
    target_words: list[str]
    links: list[tuple[int, int]]
    source_groups: list[list[int]]
    target_groups: list[list[int]]
    coverage: Optional[Coverage] = None

    def as_json(self) -> dict:
        return {
            "source_words": self.source_words,
            "target_words": self.target_words,
            "links": [list(p) for p in self.links],
        }


def word_links(result, method: Optional[AlignMethod], languages: tuple[str, str]) -> WordLinks:
    """The word units every view and both API endpoints use, those of ``Translation.coverage``: with a trained
    head, the coverage's words (``words.reading_units``: jieba words for Chinese, split where their pieces link
    apart) and links; else the reading units, linked by ``method`` read one way."""
    method = method or DEFAULT_RAW
    cov = coverage(result, method, languages)
    if cov is not None:
        return WordLinks(
            source_words=cov.source_words,
            target_words=cov.target_words,
            links=list(cov.links),
            source_groups=cov.source_groups,
            target_groups=cov.target_groups,
            coverage=cov,
        )
    src, tgt = result.source_tokens, result.target_tokens
    s_words, s_groups = reading_units(src, languages[0])
    t_words, t_groups = reading_units(tgt, languages[1])
    try:
        att = method_attention(result, method) if tgt else None
    except ValueError:  # a translation with another head's attention only: words, no links
        att = None
    links = []
    if att is not None:
        piece_links = piece_alignment(src, tgt, att, method=dataclasses.replace(method, symmetrize=""))
        links = sorted({(a, b) for i, j in piece_links for a in s_groups[i] for b in t_groups[j]})
    return WordLinks(
        source_words=s_words, target_words=t_words, links=links, source_groups=s_groups, target_groups=t_groups
    )


def layer_maps(
    result,
    method: Optional[AlignMethod],
    units: str = "words",
    head: Optional[int] = None,
    languages: tuple[str, str] = ("zh", "en"),
) -> list[MapData]:
    """Every layer's cross-attention (heads averaged, or one head) at ``units``, outlined with ``method``'s links."""
    n_layers = result.cross_attention.shape[0]
    choices = [AlignMethod(layer=layer, head=head).name for layer in range(n_layers)]
    return [alignment_map(result, method, choice, units, languages) for choice in choices]


@dataclass
class InsideView:
    """One sentence's whole attention (cross, encoder self, decoder self), for the "Inside attention" tab."""

    translation: Translation  # with encoder_attention/decoder_attention filled
    languages: tuple[str, str] = ("zh", "en")

    def attention(self, kind: str) -> np.ndarray:
        t = self.translation
        return {"cross": t.cross_attention, "encoder": t.encoder_attention, "decoder": t.decoder_attention}[kind]

    def languages_of(self, kind: str) -> tuple[str, str]:
        """The languages of a kind's (columns, rows): cross, (source, target); encoder, the source's; decoder, the
        target's."""
        src, tgt = self.languages
        return (tgt if kind == "decoder" else src, src if kind == "encoder" else tgt)

    def matrix(
        self, kind: str, layer: int, head: Optional[int], words: Optional[str] = None, hide_eos: bool = False
    ) -> tuple[np.ndarray, list[str], list[str]]:
        """([rows, cols] weights, row labels, column labels) of one kind: "cross", "encoder" or "decoder".

        ``words``: None keeps pieces; "jieba" (words) or "characters" merges pieces into units on both axes:
        weights are **summed over the source pieces** of a column unit and **averaged over the pieces** of a
        row unit, so rows still sum to 1.  ``hide_eos`` drops the ``</s>`` column and renormalises each row."""
        t = self.translation
        a = self.attention(kind)[layer]
        a = a.mean(axis=0) if head is None else a[head]
        rows = list(t.source_tokens if kind == "encoder" else t.target_tokens)
        cols = list(t.target_tokens if kind == "decoder" else t.source_tokens)
        if words:
            units = "characters" if words == "characters" else "words"
            src = unit_groups(t.source_tokens, units, self.languages[0])
            tgt = unit_groups(t.target_tokens, units, self.languages[1])
            r_groups, rows = src if kind == "encoder" else tgt
            c_groups, cols = tgt if kind == "decoder" else src
            a = merge_groups(a, r_groups, len(rows), c_groups, len(cols))
        if hide_eos and "</s>" in cols:
            keep = [i for i, c in enumerate(cols) if c != "</s>"]
            a = a[:, keep]
            a = a / np.maximum(a.sum(-1, keepdims=True), 1e-9)
            cols = [cols[i] for i in keep]
        return a, rows, cols

    def head_summaries(self, kind: str) -> list[list[str]]:
        """Per layer, per head: mean row entropy (bits), the share of weight on </s>, and on punctuation."""
        att = self.attention(kind)
        cols = self.translation.target_tokens if kind == "decoder" else self.translation.source_tokens
        eos = np.array([c == "</s>" for c in cols])
        punct = np.array(
            [
                bool(c.strip("\u2581")) and all(not ch.isalnum() for ch in c.strip("\u2581")) and c != "</s>"
                for c in cols
            ]
        )
        out = []
        for layer in att:
            row = []
            for h in layer:
                ent = float(np.mean(-(h * np.log2(np.clip(h, 1e-12, 1))).sum(-1)))
                row.append(
                    f"entropy {ent:.2f} bits, </s> {h[:, eos].sum(-1).mean():.0%}, "
                    f"punct. {h[:, punct].sum(-1).mean():.0%}"
                )
            out.append(row)
        return out

    def as_json(self, source: str = "", direction: str = "") -> dict:
        """Everything the view shows of the sentence: ``source`` (the sentence as typed) and ``direction`` first."""
        t = self.translation
        r = lambda a: np.round(a, 5).tolist()
        return {
            "source": source or t.source_text,
            "direction": direction or "-".join(self.languages),
            "translation": t.text,
            "source_tokens": t.source_tokens,
            "target_tokens": t.target_tokens,
            "score": t.score,
            "normalized_score": t.normalized_score,
            "cross_attention": r(t.cross_attention),
            "encoder_attention": r(t.encoder_attention),
            "decoder_attention": r(t.decoder_attention),
            "shapes": {
                "cross_attention": "[layers, heads, target, source]",
                "encoder_attention": "[layers, heads, source, source]",
                "decoder_attention": "[layers, heads, target, target]",
            },
        }
