"""A pair of several sentences, aligned sentence by sentence.

The alignment head learnt its links on pairs of up to 300 characters; on longer pairs its recall falls along the
sentence (docs/alignment.md, "Long sentences").  A pair whose sides both have several sentences
(:func:`seq2seq.text.split_sentences` in each side's language) is cut into sentence pairs, paired by their lengths
as Gale & Church (1993) pair sentences (one to one, one to two, two to one, two to two); each sentence pair is read
on its own and the results are joined (:func:`join_alignments`): the pieces one after another (each sentence pair
keeps its own ``</s>``), the attention block by block (zero between different sentence pairs), the words and the
links offset.  Any other pair is read whole.  ``Translator.align`` does this by default (``by_sentence=True``).

A sentence pair still long after that (over ``HALVES_FROM`` characters on its longer side: a long sentence, or a
headline run into the sentence after it) is read in halves: its whole reading's links say where it parts into
two blocks that few links cross (:func:`halves`), and each block is read on its own and joined as above, down to
``HALVES_DEPTH`` levels.  On align-dev made long this took the head's recall in the last third of a pair from 6.8
points below the first third to 2.6 (docs/alignment.md, "Long sentences").
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from .decoding import length_penalty
from .results import Alignment
from .text import split_sentences
from .words import offset_links

# A sentence pair whose length ratio (characters, target over source) is more than this factor away from the whole
# pair's is taken as a sign that the sides were paired wrongly: the pair is read whole.
MAX_RATIO_DRIFT = 2.0
# Gale & Church (1993): the ways sentences pair up ("beads": source sentences, target sentences) with their prior
# probabilities, and the variance of a target length around the pair's ratio times the source length, per character.
BEADS = {(1, 1): 0.89, (1, 2): 0.089, (2, 1): 0.089, (2, 2): 0.011}
VARIANCE = 6.8
# Reading in halves (module docstring), chosen on align-dev (150, 200 and 250 characters did about as well): a pair
# longer than HALVES_FROM characters is cut where at most HALVES_MAX_CROSSING of its links cross the cut, each half
# holding at least HALVES_MIN_SHARE of each side's words; each half is cut again, HALVES_DEPTH levels at most.
HALVES_FROM = 200
HALVES_MIN_SHARE = 0.3
HALVES_MAX_CROSSING = 0.05
HALVES_DEPTH = 2


def sentence_parts(
    source: str, target: str, languages: tuple[str, str], pretokenized: bool = False
) -> Optional[tuple[list[str], list[str]]]:
    """The pair cut into two or more sentence pairs, or None where it is read whole.  Each side is split into
    sentences (:func:`seq2seq.text.split_sentences`) and the sentences are paired by their lengths
    (:func:`pair_sentences`), so that a sentence the translator split in two, or a missing full stop, does not stop
    the rest pairing up.  None where fewer than two sentence pairs come out or one of them is far from the pair's
    length ratio (``MAX_RATIO_DRIFT``).  With ``pretokenized`` (words separated by spaces) a side splits only
    between words."""
    src = split_sentences(source, languages[0])
    tgt = split_sentences(target, languages[1])
    if len(src) < 2 or len(tgt) < 2:
        return None
    if pretokenized and any(_words(parts) != side.split() for parts, side in ((src, source), (tgt, target))):
        return None
    beads = pair_sentences([len(x) for x in src], [len(x) for x in tgt])
    if len(beads) < 2:
        return None
    glue = [" " if pretokenized or lang == "en" else "" for lang in languages]
    whole = len(target) / max(1, len(source))
    out_src, out_tgt, i, j = [], [], 0, 0
    for a, b in beads:
        s, t = glue[0].join(src[i : i + a]), glue[1].join(tgt[j : j + b])
        if not 1 / MAX_RATIO_DRIFT <= (len(t) / max(1, len(s))) / whole <= MAX_RATIO_DRIFT:
            return None
        out_src.append(s)
        out_tgt.append(t)
        i, j = i + a, j + b
    return out_src, out_tgt


def pair_sentences(src_lengths: Sequence[int], tgt_lengths: Sequence[int]) -> list[tuple[int, int]]:
    """The beads (source sentences, target sentences) that pair two sides' sentences in order at the least cost:
    a bead costs -log of its prior (``BEADS``) plus half the squared deviation of its target length from the pair's
    ratio times its source length, in standard deviations (Gale & Church 1993).  Empty where no sequence of beads
    pairs them all."""
    n, m = len(src_lengths), len(tgt_lengths)
    ratio = sum(tgt_lengths) / max(1, sum(src_lengths))
    cost = {(0, 0): 0.0}
    back: dict[tuple[int, int], tuple[int, int]] = {}
    for i in range(n + 1):
        for j in range(m + 1):
            if (i, j) not in cost:
                continue
            for (a, b), prior in BEADS.items():
                if i + a > n or j + b > m:
                    continue
                ls, lt = sum(src_lengths[i : i + a]), sum(tgt_lengths[j : j + b])
                z = (lt - ratio * ls) / math.sqrt(VARIANCE * max(1.0, ratio * ls))
                c = cost[(i, j)] - math.log(prior) + z * z / 2
                if c < cost.get((i + a, j + b), math.inf):
                    cost[(i + a, j + b)], back[(i + a, j + b)] = c, (a, b)
    if (n, m) not in cost:  # too many sentences on one side to pair up (over two to one)
        return []
    beads, i, j = [], n, m
    while (i, j) != (0, 0):
        a, b = back[(i, j)]
        beads.append((a, b))
        i, j = i - a, j - b
    return beads[::-1]


def halves(
    links: Sequence[tuple[int, int]],
    n_source: int,
    n_target: int,
    source_cuts: Optional[Sequence[bool]] = None,
    target_cuts: Optional[Sequence[bool]] = None,
) -> Optional[tuple[int, int]]:
    """Where a pair of ``n_source`` and ``n_target`` words parts into two blocks, (source words, target words) of the
    first, read from its ``links``: the cut that the fewest links cross, each block holding at least
    ``HALVES_MIN_SHARE`` of each side's words (the more even cut of equals).  ``source_cuts[a]`` (``n_source + 1``
    of them; default all True): may the source be cut before word ``a``; the same for the target.  None where
    every such cut is crossed by more than ``HALVES_MAX_CROSSING`` of the links, or where there are none."""
    lo_s, lo_t = math.ceil(HALVES_MIN_SHARE * n_source), math.ceil(HALVES_MIN_SHARE * n_target)
    if not links or lo_s > n_source - lo_s or lo_t > n_target - lo_t:
        return None
    m = np.zeros((n_source + 1, n_target + 1))
    for i, j in links:
        m[i + 1, j + 1] += 1
    inside = m.cumsum(0).cumsum(1)  # inside[a, b]: links with source < a and target < b
    crossing = inside[:, -1:] + inside[-1:, :] - 2 * inside  # links on one side of the cut in one language only
    a, b = np.mgrid[0 : n_source + 1, 0 : n_target + 1]
    uneven = np.abs(a / n_source - 0.5) + np.abs(b / n_target - 0.5)
    ok = (a >= lo_s) & (a <= n_source - lo_s) & (b >= lo_t) & (b <= n_target - lo_t)
    if source_cuts is not None:
        ok &= np.asarray(source_cuts, dtype=bool)[:, None]
    if target_cuts is not None:
        ok &= np.asarray(target_cuts, dtype=bool)[None, :]
    if not ok.any():
        return None
    cost = np.where(ok, crossing + 1e-3 * uneven, np.inf)
    a, b = np.unravel_index(int(np.argmin(cost)), cost.shape)
    if crossing[a, b] > HALVES_MAX_CROSSING * len(links):
        return None
    return int(a), int(b)


def _words(sentences: Sequence[str]) -> list[str]:
    return [w for s in sentences for w in s.split()]


def join_alignments(parts: Sequence[Alignment], alpha: float) -> Alignment:
    """One :class:`~seq2seq.results.Alignment` of sentence pairs read one by one: pieces, log-probabilities and
    words one after another, attention block-diagonal, links and piece-to-word maps offset; the score is the sum of
    the sentences' scores, normalised as beam search ranks (``alpha``: the length penalty)."""
    first = parts[0]
    src_tokens = [p for a in parts for p in a.source_tokens]
    tgt_tokens = [p for a in parts for p in a.target_tokens]
    s_map, t_map, s_off, t_off = [], [], 0, 0
    for a in parts:
        s_map += [[w + s_off for w in ws] for ws in a.source_piece_words]
        t_map += [[w + t_off for w in ws] for ws in a.target_piece_words]
        s_off, t_off = s_off + len(a.source_words), t_off + len(a.target_words)
    lp = np.concatenate([a.token_logprobs for a in parts]).astype(np.float32)
    score = float(sum(a.score for a in parts))
    return Alignment(
        source_tokens=src_tokens,
        target_tokens=tgt_tokens,
        cross_attention=_blocks([a.cross_attention for a in parts]),
        token_logprobs=lp,
        score=score,
        normalized_score=score / length_penalty(len(lp), alpha) if len(lp) else 0.0,
        links=offset_links([a.links for a in parts], [(len(a.source_words), len(a.target_words)) for a in parts]),
        source_words=[w for a in parts for w in a.source_words],
        target_words=[w for a in parts for w in a.target_words],
        method=first.method,
        source_piece_words=s_map,
        target_piece_words=t_map,
        full_context_attention=_blocks([a.full_context_attention for a in parts]),
        parts=list(parts),
    )


def _blocks(maps: Sequence[Optional[np.ndarray]]) -> Optional[np.ndarray]:
    """[layers, heads, T_k, S_k] maps -> one [layers, heads, sum T, sum S] map with them on its diagonal (None if
    a sentence with pieces has none)."""
    maps = [m for m in maps if m is None or m.shape[2] or m.shape[3]]  # a sentence read as empty adds nothing
    if not maps or any(m is None for m in maps):
        return None
    rows, cols = sum(m.shape[2] for m in maps), sum(m.shape[3] for m in maps)
    out = np.zeros((*maps[0].shape[:2], rows, cols), dtype=maps[0].dtype)
    r = c = 0
    for m in maps:
        out[:, :, r : r + m.shape[2], c : c + m.shape[3]] = m
        r, c = r + m.shape[2], c + m.shape[3]
    return out
