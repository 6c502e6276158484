"""Coverage: what a translation may have left out, or added, read from the model's alignment head.

A model trained with the alignment loss has an *alignment head* (``seq2seq.align``): a cross-attention head
whose row for each target piece peaks on the source piece it translates, or on the source ``</s>`` when it
translates nothing.  Read that way (target -> source, one way), the head says for every target word which
source words it comes from.  Then:

* a source word that no target word links to is **not translated?** (a dropped name is the classic case:
  我明天要去北京看望我的老朋友。 -> "I'm going to see my old friend tomorrow.", where 北京 is linked by no word);
* a target word that links to no source word is **added?**.

Both are questions, not verdicts: the head's links are right about four times in five (its AER is about 20
on align-dev), and a word can be implied rather than translated.  Punctuation is never flagged, nor the few
function words that regularly have no counterpart in the other language (``NEUTRAL``).  Coverage is only
computed where the links are the trained head's; raw attention is too poor an aligner for it.

The symmetrized links (``grow-diag``, what ``Alignment.links`` and ``seq2seq-align`` give) also read the
other way, source -> target, which links almost every source word to something; they cannot say what is
missing, so coverage uses the one-way reading.

Words: the reading units of :mod:`seq2seq.words` (Chinese segmented by jieba; English words with their leading
and trailing punctuation apart, ``tomorrow.`` -> ``tomorrow`` ``.``).
"""

from __future__ import annotations

import dataclasses
import unicodedata
from dataclasses import dataclass, field
from typing import Optional, Sequence

from .align import AlignMethod, method_attention, piece_alignment
from .text import HAN
from .words import piece_texts, reading_units, shown_as_typed

# Words that regularly have no counterpart in the other language: never flagged.  Chinese: particles, the
# copula, common prepositions, localisers and measure words that English absorbs; English: articles,
# auxiliaries and dummy subjects that Chinese leaves out.  Without them, "not translated?" fires on more than
# twice as many sentences, mostly on 了, 吗 and 的 (the figures: docs/demo.md).
NEUTRAL = {
    "zh": frozenset(
        "的 了 着 过 地 得 吗 呢 吧 啊 呀 嘛 哦 之 所 是 在 把 被 将 于 为 也 都 就 上 中 里 个 们 等".split()
    ),
    "en": frozenset(
        "a an the of to 's do does did is are was were be been am has have had it it's it’s there that "
        "will would".split()
    ),
}


def is_punctuation(word: str) -> bool:
    """True for a word made only of punctuation (Unicode category P*), e.g. ``。`` ``,"`` ``...``."""
    return bool(word) and all(unicodedata.category(ch).startswith("P") for ch in word)


def is_alignment_head(method: Optional[AlignMethod]) -> bool:
    """Is ``method`` a trained alignment head?  (``AlignMethod.from_config`` labels only those.)"""
    return method is not None and bool(method.label)


@dataclass(kw_only=True)
class Coverage:
    """One translation's word links (target -> source, read from the alignment head) and what they leave out.

    Attributes:
        source_words, target_words: the words (see module docstring).
        links: (source word, target word) index pairs: each target word with the source words it comes from.
        unlinked_source: indices of source words no target word links to (punctuation and ``NEUTRAL`` left out).
        unlinked_target: indices of target words that link to nothing (likewise).
        source_groups, target_groups: for each piece, the word indices it covers.
    """

    source_words: list[str]
    target_words: list[str]
    links: list[tuple[int, int]]
    unlinked_source: list[int]
    unlinked_target: list[int]
    source_groups: list[list[int]] = field(default_factory=list, repr=False)
    target_groups: list[list[int]] = field(default_factory=list, repr=False)

    @property
    def unlinked_source_words(self) -> list[str]:
        return [self.source_words[i] for i in self.unlinked_source]

    @property
    def unlinked_target_words(self) -> list[str]:
        return [self.target_words[j] for j in self.unlinked_target]

    def as_json(self) -> dict:
        return {
            "source_words": self.source_words,
            "target_words": self.target_words,
            "links": [list(p) for p in self.links],
            "unlinked_source_words": self.unlinked_source_words,
            "unlinked_target_words": self.unlinked_target_words,
        }


def unlinked(words: Sequence[str], linked: set, lang: str) -> list[int]:
    """Indices of ``words`` not in ``linked``, leaving out punctuation and the language's ``NEUTRAL`` words."""
    neutral = NEUTRAL.get(lang, frozenset())
    return [k for k, w in enumerate(words) if k not in linked and not is_punctuation(w) and w.lower() not in neutral]


def coverage(
    translation,
    method: Optional[AlignMethod],
    languages: tuple[str, str] = ("zh", "en"),
) -> Optional[Coverage]:
    """The :class:`Coverage` of a ``Translation`` (or ``Alignment``) under ``method``; None when ``method`` is
    not a trained alignment head or the result has no attention or no output."""
    t = translation
    has_attention = t.cross_attention is not None or getattr(t, "alignment_attention", None) is not None
    if not is_alignment_head(method) or not has_attention or not t.target_tokens:
        return None
    att = method_attention(t, method)
    one_way = dataclasses.replace(method, symmetrize="")
    piece_links = piece_alignment(t.source_tokens, t.target_tokens, att, method=one_way)
    s_words, s_groups = reading_units(t.source_tokens, languages[0])
    t_words, t_groups = reading_units(t.target_tokens, languages[1])
    if languages[0] == "zh":
        s_words, s_groups = split_where_links_part(t.source_tokens, s_words, s_groups, piece_links, t_groups)
        s_words = shown_as_typed(s_words, getattr(t, "source_text", ""))
    if languages[1] == "zh":
        swapped = [(j, i) for i, j in piece_links]
        t_words, t_groups = split_where_links_part(t.target_tokens, t_words, t_groups, swapped, s_groups)
    links = sorted({(a, b) for i, j in piece_links for a in s_groups[i] for b in t_groups[j]})
    copied = _copied(s_words, t_words)  # a span the output reproduces verbatim is covered by definition
    return Coverage(
        source_words=s_words,
        target_words=t_words,
        links=links,
        unlinked_source=[
            k for k in unlinked(s_words, {a for a, _ in links}, languages[0]) if _key(s_words[k]) not in copied
        ],
        unlinked_target=[
            k for k in unlinked(t_words, {b for _, b in links}, languages[1]) if _key(t_words[k]) not in copied
        ],
        source_groups=s_groups,
        target_groups=t_groups,
    )


def _key(word: str) -> str:
    return unicodedata.normalize("NFKC", word).casefold()


def _copied(source_words: Sequence[str], target_words: Sequence[str]) -> set[str]:
    """Words (with a letter or digit) that both sides hold as they are: ``2023``, ``iPhone``, ``Pro``."""
    both = {_key(w) for w in source_words} & {_key(w) for w in target_words}
    return {w for w in both if any(ch.isalnum() for ch in w) and not HAN.search(w)}


def split_where_links_part(
    pieces: Sequence[str],
    words: list[str],
    groups: list[list[int]],
    piece_links: Sequence[tuple[int, int]],
    other_groups: Sequence[Sequence[int]],
) -> tuple[list[str], list[list[int]]]:
    """Chinese words that jieba keeps whole (今天天气) split where their pieces link to different words of the
    other side (今天 -> "today", 天气 -> "weather"), so a map shows what each part translates.  ``piece_links``:
    (piece of this side, piece of the other side); ``other_groups``: the other side's piece -> words.  A piece
    that links nowhere stays with the part before it.  Returns the words and the piece -> word groups."""
    texts = [x.strip() for x in piece_texts(pieces)]
    linked: dict[int, set] = {}
    for i, j in piece_links:
        linked.setdefault(i, set()).update(other_groups[j])
    new_words: list[str] = []
    new_index: list[list[int]] = []  # old word -> its new word indices
    part_of: dict[int, int] = {}  # piece -> new word index, for the pieces of split words
    for k, word in enumerate(words):
        inside = [i for i, g in enumerate(groups) if k in g]
        runs: list[tuple[frozenset, list[int]]] = []
        if len(inside) > 1 and all(groups[i] == [k] for i in inside) and "".join(texts[i] for i in inside) == word:
            for i in inside:
                got = frozenset(linked.get(i, ()))
                if runs and (not got or got == runs[-1][0]):
                    runs[-1][1].append(i)
                elif runs and not runs[-1][0]:
                    runs[-1] = (got, runs[-1][1] + [i])
                else:
                    runs.append((got, [i]))
        if len(runs) < 2:
            new_index.append([len(new_words)])
            new_words.append(word)
            continue
        new_index.append([])
        for _, run in runs:
            for i in run:
                part_of[i] = len(new_words)
            new_index[-1].append(len(new_words))
            new_words.append("".join(texts[i] for i in run))
    if len(new_words) == len(words):
        return words, groups
    new_groups = [[part_of[i]] if i in part_of else [n for k in g for n in new_index[k]] for i, g in enumerate(groups)]
    return new_words, new_groups


def firing_rate(translator, sentences: Sequence[str], beam_size: Optional[int] = None) -> dict:
    """How often coverage flags something on ``sentences``: the share of sentences with a source word flagged
    "not translated?", with a target word flagged "added?", and the flagged words per sentence."""
    outs = translator.translate(list(sentences), beam_size=beam_size)
    covs = [t.coverage for t in outs if t.target_tokens]
    covs = [c for c in covs if c is not None]
    n = max(1, len(covs))
    return {
        "sentences": len(covs),
        "not_translated": sum(bool(c.unlinked_source) for c in covs) / n,
        "added": sum(bool(c.unlinked_target) for c in covs) / n,
        "not_translated_words": sum(len(c.unlinked_source) for c in covs) / n,
        "added_words": sum(len(c.unlinked_target) for c in covs) / n,
        "source_words": sum(len(c.source_words) for c in covs) / n,
    }
