"""What the attribution views compute, with no Gradio in it: the source check under the translation, attribution
beside the alignment head's attention, and "why this word and not that one".  Each reads one sentence of a
``Prediction`` as the page shows it: its own translation's pieces (``Translator.attribute`` with the sentence's
``Translation`` as the target, so nothing is decoded again), in the words of the maps (``maps.word_links``), which
the alignment head's links index.  An attribution is computed once per sentence and method and kept with the
sentence (``SentenceResult.once``): the source check and the views share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..attribution import WARNING_METHOD, Attribution, ContrastiveAttribution
from ..attributor import Attributor, Pairs
from ..coverage import is_punctuation
from ..placeholders import PLACEHOLDER
from .downloads import matrix_csv, table_csv
from .inputs import InputError, one_sentence
from .maps import HEAD, MapData, alignment_map, word_links
from .predict import Prediction, SentenceResult

# The methods the views offer, as the page names them: input × gradient is quick (one backward pass); integrated
# gradients makes one per step of its path, so the views report its progress (timings: docs/attribution.md).
METHODS = {"input × gradient": "input_x_gradient", "integrated gradients": "integrated_gradients"}
Progress = Optional[Callable[[int, int], None]]


def method_of(choice: Optional[str]) -> str:
    """The library's name of a method the page offers (its name or the library's); the default: input × gradient."""
    if not choice:
        return "input_x_gradient"
    if choice in METHODS.values():
        return choice
    if choice not in METHODS:
        raise InputError(f"Choose a method: {', '.join(METHODS)}.")
    return METHODS[choice]


def _attribute(translator, pred: Prediction, s: SentenceResult, method: str, progress: Progress = None, contrast=None):
    """``Translator.attribute`` of sentence ``s`` as the page shows it, in the maps' words."""
    if not s.target_tokens:
        raise InputError("This sentence has no translation to explain.")
    attributor = Attributor(translator)
    pair = attributor.pairs([s.source], [s.translation])[0]
    # The maps' words (those of Translation.coverage, which the head's links index), not the bare reading units.
    w = word_links(s.translation, pred.align_method, pred.languages)
    pair.words = (w.source_words, w.source_groups, w.target_words, w.target_groups)
    try:
        return attributor.attribute(Pairs([pair]), method=method, progress=progress, contrast=contrast)[0]
    except ValueError as e:  # an alternative the vocabulary cannot spell, a word out of range
        raise InputError(str(e)) from None


def attribution_of(translator, pred: Prediction, index, method: str, progress: Progress = None) -> Attribution:
    """The attribution of the sentence at ``index`` by ``method``, computed once and kept with the sentence."""
    s = pred.sentence(index)
    return s.once(("attribution", method), lambda: _attribute(translator, pred, s, method, progress))


# ---------------------------------------------------------------------------------------------------------------
# The source check (under the translation)
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class SourceCheck:
    """One sentence's output words, each one's share of what spoke for it that came from the source (0..1), and
    those made mostly from the translation's own previous words (``Attribution.mostly_from_prefix``, by the
    warning's method with the threshold of docs/attribution.md)."""

    words: list[str]
    shares: list[float]
    flagged: list[int]

    def as_json(self) -> dict:
        return {"words": self.words, "source_share": [round(x, 4) for x in self.shares], "flagged": self.flagged}


def source_check(translator, pred: Prediction, index) -> Optional[SourceCheck]:
    """The source check of one sentence (None where it has no translation)."""
    if not pred.sentence(index).target_tokens:
        return None
    a = attribution_of(translator, pred, index, WARNING_METHOD)
    shares = [float(x) for x in a.words.source_share]
    return SourceCheck(words=list(a.target_words), shares=shares, flagged=a.mostly_from_prefix() or [])


def source_checks(translator, pred: Prediction, progress: Progress = None) -> list[Optional[SourceCheck]]:
    """The source check of every sentence; ``progress(done, total)`` after each."""
    out = []
    for k in range(len(pred.sentences)):
        out.append(source_check(translator, pred, k))
        if progress is not None:
            progress(k + 1, len(pred.sentences))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Attribution beside attention
# ---------------------------------------------------------------------------------------------------------------


def scaled_rows(m: np.ndarray) -> np.ndarray:
    """Each row divided by its largest magnitude (a row of zeros stays zero): the colours compare the source words
    of one output word, whose total differs from word to word."""
    top = np.abs(m).max(axis=1, keepdims=True) if m.size else m
    return np.divide(m, top, out=np.zeros_like(m, dtype=float), where=top > 0)


@dataclass
class BesideAttention:
    """One sentence's attribution map beside the alignment head's, at word level: ``head`` (the head's attention,
    its links outlined), ``attribution`` (each row scaled to its largest, each output word's strongest source word
    outlined, words of the source check flagged), the attribution itself, the head's links that attribution agrees
    with (``agreement``, None without a head) and the source check."""

    head: MapData
    attribution: MapData
    result: Attribution
    agreement: Optional[float]
    check: SourceCheck

    def as_json(self, source: str, direction: str) -> dict:
        """What the view shows: the sentence, the attribution (``Attribution.as_json``, whose ``source`` is the map
        to the source pieces), the agreement, the head's word map and the source check."""
        h = self.head
        return {
            "source": source,
            "direction": direction,
            "translation": self.result.text,
            "attribution": self.result.as_json(),
            "agreement": self.agreement,
            "head_map": {
                "rows": h.rows,
                "cols": h.cols,
                "attention": np.round(h.matrix, 5).tolist(),
                "links": [list(x) for x in h.links],
            },
            "source_check": self.check.as_json(),
        }

    def csv(self, what: str) -> str:
        """The word-level attribution map (as computed, not scaled), ``what`` in its first cell."""
        w = self.result.words
        return matrix_csv(w.source, w.target_words, w.source_words, what)


def beside_attention(translator, pred: Prediction, index, method: str, progress: Progress = None) -> BesideAttention:
    """The attribution beside attention view's data for the sentence at ``index``."""
    s = pred.sentence(index)
    a = attribution_of(translator, pred, index, method, progress)
    head = alignment_map(s.translation, pred.align_method, HEAD, "words", pred.languages)
    check = source_check(translator, pred, index)
    signed = a.score == "sum"
    reading = "signed: blue for, red against" if signed else "magnitude"
    attribution = MapData(
        matrix=scaled_rows(a.words.source),
        rows=list(a.target_words),
        cols=list(a.source_words),
        title=f"Attribution ({_named(method)}, {reading}): how much each source word moved each output word; "
        "each row scaled to its largest",
        links=[(t, src) for src, t in a.links()],
        flagged_rows=list(check.flagged),
        languages=pred.languages,
        units="words",
        signed=signed,
        value="attribution (scaled)",
    )
    return BesideAttention(head=head, attribution=attribution, result=a, agreement=a.agreement, check=check)


def _named(method: str) -> str:
    return next((k for k, v in METHODS.items() if v == method), method)


# ---------------------------------------------------------------------------------------------------------------
# Why this word and not that one
# ---------------------------------------------------------------------------------------------------------------


def word_choices(pred: Prediction, index) -> list[tuple[str, int]]:
    """The output words one may ask about, (label, word index), punctuation left out."""
    s = pred.sentence(index)
    if not s.target_tokens:
        return []
    words = word_links(s.translation, pred.align_method, pred.languages).target_words
    return [(f"{k + 1}: {w}", k) for k, w in enumerate(words) if not is_punctuation(w)]


def runner_up(lens, pred: Prediction, index, word: int) -> str:
    """A word to set against output word ``word``: the likeliest other piece the model weighed at the word's first
    piece (the logit lens's last layer, which is the model's own reading), as a word; "" where none is a word."""
    s = pred.sentence(index)
    groups = word_links(s.translation, pred.align_method, pred.languages).target_groups
    pieces = [p for p, ws in enumerate(groups) if word in ws]
    if not pieces:
        return ""
    # the piece the contrast explains (Attributor's rule): a bare word start "▁" decides nothing yet
    step = next((p for p in pieces if s.target_tokens[p] != "\u2581"), pieces[0])
    chosen = s.target_tokens[step]
    for piece, _ in lens.top[-1][step]:
        text = piece.replace("\u2581", "").strip()
        same_kind = piece.startswith("\u2581") == chosen.startswith("\u2581")  # a word's start, or a word's end
        if piece != chosen and same_kind and text and not is_punctuation(text) and not PLACEHOLDER.search(text):
            return text
    return ""


def why_not(
    translator, pred: Prediction, index, word, alternative: str, method: str, progress: Progress = None
) -> ContrastiveAttribution:
    """The attribution of log p(chosen) − log p(alternative) at output word ``word`` (an index of
    :func:`word_choices`) of the sentence at ``index``, to its source and its own previous words."""
    if word is None or word == "":
        raise InputError("Pick an output word first.")
    alternative = one_sentence(alternative, "The alternative") if (alternative or "").strip() else ""
    if not alternative:
        raise InputError("Type a word to set against it.")
    s = pred.sentence(index)
    key = ("why not", int(word), alternative, method)
    return s.once(key, lambda: _attribute(translator, pred, s, method, progress, contrast=(int(word), alternative)))


def why_not_rows(c: ContrastiveAttribution) -> list[list]:
    """Where the difference comes from, word by word: (side, word, score), the largest first; ``side`` is
    "source" or "translation so far"."""
    rows = [["source", w, float(x)] for w, x in zip(c.source_words, c.source_words_scores)]
    rows += [["translation so far", w, float(x)] for w, x in zip(c.target_words, c.prefix_words_scores) if abs(x) > 0]
    return sorted(rows, key=lambda r: -abs(r[2]))


def why_not_json(c: ContrastiveAttribution, source: str, direction: str, translation: str) -> dict:
    """The sentence and the contrast (``ContrastiveAttribution.as_json``, whose ``source`` is the map to the source
    pieces)."""
    return {"source": source, "direction": direction, "translation": translation, "why_not": c.as_json()}


def why_not_csv(c: ContrastiveAttribution) -> str:
    return table_csv(["side", "word", "contribution to log p(chosen) - log p(alternative)"], why_not_rows(c))
