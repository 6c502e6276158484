"""Pieces that never straddle a given word: a pair read with its words' own boundaries (``AlignMethod.word_pieces``).

sentencepiece spells a text in the pieces that score best, and some of them straddle the words of a segmented text:
``提出的`` (提出 + 的), ``日电`` (22日 + 电 in a Xinhua dateline), ``这个`` (这 + 个).  A link to such a piece reaches
every word it covers, so 的 and 电 inherit the links of the content word beside them.  Where the words are given (a
gold set, a segmented corpus), :func:`split_at_words` re-spells each straddling piece as pieces of its words alone,
each run spelt as the unigram model would spell it (:func:`spell`: the best-scoring pieces of the vocabulary).  The
model then reads the pair in pieces whose boundaries include the words', and a link lands on one word.

Placeholder pieces (``⟦0⟧``: a number or a name carried whole), byte-fallback pieces and ``</s>`` are kept as they
are; so is a piece whose runs the vocabulary cannot spell.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

from .words import SPECIAL, char_words, piece_texts

_MAX_PIECE_CHARS = 16


def spell(text: str, sp) -> Optional[list[str]]:
    """``text`` (spaces written as ``▁``) as the best-scoring sequence of the vocabulary's normal pieces (the
    Viterbi path of a unigram model), or None where no such sequence exists."""
    n = len(text)
    best: list[tuple[float, int]] = [(-math.inf, -1)] * (n + 1)
    best[0] = (0.0, -1)
    for end in range(1, n + 1):
        for start in range(max(0, end - _MAX_PIECE_CHARS), end):
            if best[start][0] == -math.inf:
                continue
            pid = sp.piece_to_id(text[start:end])
            if sp.id_to_piece(pid) != text[start:end] or not _normal(sp, pid):
                continue
            score = best[start][0] + sp.get_score(pid)
            if score > best[end][0]:
                best[end] = (score, start)
    if best[n][0] == -math.inf:
        return None
    out, end = [], n
    while end > 0:
        start = best[end][1]
        out.append(text[start:end])
        end = start
    return out[::-1]


def _normal(sp, pid: int) -> bool:
    return not (sp.is_unknown(pid) or sp.is_control(pid) or sp.is_unused(pid) or sp.is_byte(pid))


def _runs(piece: str, owners: Sequence[Optional[int]]) -> list[str]:
    """``piece`` cut where the word its characters belong to changes; a space (``▁``) or a character of no word
    goes with the run it stands in."""
    runs: list[str] = []
    current, owner = "", None
    for ch, w in zip(piece, owners):
        if w is None or w == owner or owner is None:
            current += ch
            owner = w if w is not None else owner
        else:
            runs.append(current)
            current, owner = ch, w
    return runs + [current]


def split_at_words(pieces: Sequence[str], words: Sequence[str], sp, shown: Optional[Sequence[str]] = None) -> list[str]:
    """``pieces`` with every piece that covers characters of two or more of ``words`` re-spelt run by run (see the
    module docstring).  ``sp``: the sentencepiece processor that made the pieces; ``shown``: the pieces as matched to
    the words (placeholders as the text they carry, :func:`seq2seq.placeholders.label_pieces`), default ``pieces``."""
    shown = list(pieces) if shown is None else list(shown)
    owners = char_words(shown, words)
    texts = piece_texts(pieces)
    out: list[str] = []
    for piece, label, text, row in zip(pieces, shown, texts, owners):
        covered = {w for w in row if w is not None}
        # Only a piece spelt by its own characters can be cut (placeholders carry other text; bytes spell part of one)
        if len(covered) < 2 or piece in SPECIAL or label != piece or len(text) != len(piece):
            out.append(piece)
            continue
        spelt = [spell(run, sp) for run in _runs(piece, row)]
        out += piece_list(spelt) if all(spelt) else [piece]
    return out


def piece_list(spelt: Sequence[Optional[list[str]]]) -> list[str]:
    return [p for run in spelt for p in run or []]
