"""The results of attribution (:mod:`seq2seq.attribution` computes them): one sentence's maps over pieces and
words (:class:`Attribution`), a contrastive explanation (:class:`ContrastiveAttribution`), the source share, the
word links read from a map and their agreement with the alignment head's, and the warning's thresholds.

Words are the reading units of ``Translation.coverage`` (:func:`seq2seq.coverage.reading_units`): jieba words for
Chinese, English words with their punctuation apart.  A piece's score is shared equally among the words it covers.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

# The source share below which an output word is "mostly from its own previous words", per direction and
# (method, score), chosen on tatoeba-dev with the shipped models (docs/attribution.md: Youden's J on spliced
# references).  The warning's method is source_ablation: its share separates true from wrong translations best.
WARNING_METHOD = "source_ablation"
WARNING_THRESHOLDS = {
    "zh-en": {("source_ablation", "sum"): 0.14, ("input_x_gradient", "l2"): 0.68, ("input_x_gradient", "sum"): 0.72},
    "en-zh": {("source_ablation", "sum"): 0.30, ("input_x_gradient", "l2"): 0.76, ("input_x_gradient", "sum"): 0.66},
}


def warnable(word: str, lang: str) -> bool:
    """Can the source-share warning flag ``word`` (of language ``lang``)?  Not punctuation, nor a function word
    coverage never flags (``coverage.NEUTRAL``)."""
    from .coverage import NEUTRAL, is_punctuation

    return not is_punctuation(word) and word.lower() not in NEUTRAL.get(lang, frozenset())


def source_shares(source: np.ndarray, prefix: np.ndarray) -> np.ndarray:
    """Each row's source share: the share of its positive attribution that comes from the source,
    sum(source+) / (sum(source+) + sum(prefix+)).  A piece that spoke against the word counts for nothing (with
    ``score="l2"`` every piece counts); 0 where no piece spoke for the word at all."""
    return share_of_masses(np.clip(source, 0, None).sum(-1), np.clip(prefix, 0, None).sum(-1))


def share_of_masses(source_mass: np.ndarray, prefix_mass: np.ndarray) -> np.ndarray:
    """source / (source + prefix), elementwise; 0 where both are 0."""
    total = source_mass + prefix_mass
    return np.where(total > 0, source_mass / np.where(total > 0, total, 1.0), 0.0)


# ---------------------------------------------------------------------------------------------------------------
# Words: pieces -> the reading units of Translation.coverage (jieba words; English words, punctuation apart)
# ---------------------------------------------------------------------------------------------------------------


def piece_word_matrix(groups: Sequence[Sequence[int]], n_words: int) -> np.ndarray:
    """[pieces, words]: a piece's score is shared equally among the words it covers (``</s>`` covers none)."""
    m = np.zeros((len(groups), n_words))
    for p, ws in enumerate(groups):
        for w in ws:
            m[p, w] = 1.0 / len(ws)
    return m


@dataclass
class WordAttribution:
    """Attribution between words: ``source`` [Tw, Sw] and ``prefix`` [Tw, Tw] (target word j's pieces as
    decoder inputs; ``<s>`` and ``</s>`` belong to no word), the sums over each word's pieces; ``source_share``
    [Tw] as :func:`source_shares` reads it, over all the word's rows (``<s>`` and ``</s>`` count in the totals)."""

    source_words: list[str]
    target_words: list[str]
    source: np.ndarray
    prefix: np.ndarray
    source_share: np.ndarray


def word_attribution(a: "Attribution") -> WordAttribution:
    """The word-level view of a piece-level :class:`Attribution` (sums over pieces, magnitudes for the share)."""
    sw, tw = a.source_words, a.target_words
    gs, gt = piece_word_matrix(a.source_groups, len(sw)), piece_word_matrix(a.target_groups, len(tw))
    rows = gt.T  # [Tw, T]: a word's rows are its pieces' rows
    inputs = np.vstack([np.zeros((1, len(tw))), gt[:-1]]) if len(gt) else gt  # decoder input j -> piece j-1
    source, prefix = rows @ a.source @ gs, rows @ a.prefix @ inputs
    positive = lambda x: np.clip(x, 0, None).sum(-1)
    share = share_of_masses(rows @ positive(a.source), rows @ positive(a.prefix))
    return WordAttribution(list(sw), list(tw), source, prefix, share)


def argmax_links(word_source: np.ndarray) -> list[tuple[int, int]]:
    """(source word, target word) links: each target word linked to the source word with its largest attribution
    (none for a row without source words)."""
    if word_source.size == 0:
        return []
    return [(int(np.argmax(row)), j) for j, row in enumerate(word_source)]


def agreement(word_source: np.ndarray, head_links: Sequence[tuple[int, int]]) -> Optional[float]:
    """The share of the alignment head's links (source word, target word) whose target word has its largest
    source attribution on that source word; None without links."""
    if not head_links:
        return None
    best = dict((t, s) for s, t in argmax_links(word_source))
    return sum(best.get(t) == s for s, t in head_links) / len(head_links)


# ---------------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Attribution:
    """One sentence's attribution.  Rows t = 0..T-1 are the output pieces ``target_tokens`` (``</s>`` last), each
    explained as f_t = log p(y_t | x, y_<t) (``token_logprobs``).

    ``source`` [T, S]: attribution to each source piece (``source_tokens``, ``</s>`` last).  ``prefix`` [T, T]:
    to each decoder input, column j being ``prefix_tokens[j]`` (``<s>``, then the output pieces); zero where
    j > t.  ``source_share`` [T]: the share of row t's magnitude on the source (0..1).  ``score``: how the
    vectors were read (``sum``: signed; ``l2``: magnitudes).  ``source_words``/``target_words`` and their
    ``*_groups`` (piece -> word indices) are the reading units of ``Translation.coverage``; :attr:`words` sums
    the maps over them.  ``head_links``: the alignment head's word links (``Translation.coverage``), where the
    model has a head.  ``direction``: the model's ("zh-en"), which picks the warning's threshold."""

    method: str
    score: str
    text: str
    source_tokens: list[str]
    target_tokens: list[str]
    source: np.ndarray
    prefix: np.ndarray
    source_share: np.ndarray
    token_logprobs: np.ndarray
    source_words: list[str] = field(default_factory=list)
    target_words: list[str] = field(default_factory=list)
    source_groups: list[list[int]] = field(default_factory=list, repr=False)
    target_groups: list[list[int]] = field(default_factory=list, repr=False)
    head_links: Optional[list[tuple[int, int]]] = field(default=None, repr=False)
    direction: str = ""  # "zh-en" or "en-zh": the model's

    @property
    def prefix_tokens(self) -> list[str]:
        """The decoder inputs that ``prefix``'s columns stand for: ``<s>``, then every output piece but the last."""
        return ["<s>"] + list(self.target_tokens[:-1]) if self.target_tokens else []

    @functools.cached_property
    def words(self) -> WordAttribution:
        return word_attribution(self)

    def links(self) -> list[tuple[int, int]]:
        """Word links read from attribution: each output word to its source word with the largest attribution."""
        return argmax_links(self.words.source)

    @property
    def agreement(self) -> Optional[float]:
        """The share of the alignment head's links that attribution agrees with (see :func:`agreement`)."""
        return agreement(self.words.source, self.head_links or [])

    def mostly_from_prefix(self, threshold: Optional[float] = None) -> Optional[list[int]]:
        """Output words (indices into ``target_words``) with a source share below ``threshold`` (default: the one
        chosen on dev data for this direction, method and score, ``WARNING_THRESHOLDS``; None where none was
        chosen): made mostly from the model's own previous words rather than from the source.  Never flagged
        (:func:`warnable`): punctuation, and the function words that coverage never flags (``coverage.NEUTRAL``:
        "the", "to", 的, 了, ...), which the language itself predicts."""
        if threshold is None:
            threshold = WARNING_THRESHOLDS.get(self.direction, {}).get((self.method, self.score))
        if threshold is None:
            return None
        share, lang = self.words.source_share, self.direction.split("-")[-1]
        return [j for j, w in enumerate(self.target_words) if share[j] < threshold and warnable(w, lang)]

    def as_json(self) -> dict:
        """Everything as plain JSON types (pieces, words, maps rounded to 5 decimals)."""
        w = self.words
        r = lambda x: np.round(np.asarray(x, dtype=float), 5).tolist()
        return {
            "method": self.method,
            "score": self.score,
            "direction": self.direction,
            "text": self.text,
            "source_tokens": list(self.source_tokens),
            "target_tokens": list(self.target_tokens),
            "prefix_tokens": self.prefix_tokens,
            "source": r(self.source),
            "prefix": r(self.prefix),
            "source_share": r(self.source_share),
            "token_logprobs": r(self.token_logprobs),
            "words": {
                "source_words": w.source_words,
                "target_words": w.target_words,
                "source": r(w.source),
                "prefix": r(w.prefix),
                "source_share": r(w.source_share),
                "links": [list(x) for x in self.links()],
                "mostly_from_prefix": self.mostly_from_prefix(),
            },
            "head_links": None if self.head_links is None else [list(x) for x in self.head_links],
            "agreement": self.agreement,
        }


@dataclass
class ContrastiveAttribution:
    """Why ``chosen`` and not ``alternative`` at output piece ``step``: the attribution of
    log p(chosen) - log p(alternative) (``difference``) to the source pieces ``source`` [S] and the decoder
    inputs ``prefix`` [T] (as :class:`Attribution`'s row ``step``), and over words (``source_words_scores``
    [Sw], ``prefix_words_scores`` [Tw])."""

    method: str
    score: str
    step: int
    word: int
    chosen: str
    alternative: str
    chosen_logprob: float
    alternative_logprob: float
    source_tokens: list[str]
    target_tokens: list[str]
    source: np.ndarray
    prefix: np.ndarray
    source_words: list[str] = field(default_factory=list)
    target_words: list[str] = field(default_factory=list)
    source_words_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    prefix_words_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def difference(self) -> float:
        return self.chosen_logprob - self.alternative_logprob

    def as_json(self) -> dict:
        r = lambda x: np.round(np.asarray(x, dtype=float), 5).tolist()
        return {
            "method": self.method,
            "score": self.score,
            "step": self.step,
            "word": self.word,
            "chosen": self.chosen,
            "alternative": self.alternative,
            "chosen_logprob": self.chosen_logprob,
            "alternative_logprob": self.alternative_logprob,
            "difference": self.difference,
            "source_tokens": list(self.source_tokens),
            "target_tokens": list(self.target_tokens),
            "source": r(self.source),
            "prefix": r(self.prefix),
            "source_words": self.source_words,
            "target_words": self.target_words,
            "source_words_scores": r(self.source_words_scores),
            "prefix_words_scores": r(self.prefix_words_scores),
        }
