"""Word links read from two models, one per direction (Garg et al. 2019, section 5.2).

The zh-en model's alignment head links (Chinese word, English word) pairs while it reads the Chinese and
writes the English; the en-zh model's head links the same pairs the other way round.  The two make
independent errors, so combining them, as statistical aligners combine their two directions, beats
either alone:

    links = SYMMETRIZE[rule](forward links, backward links transposed)

Rules: ``intersection`` (precise), ``grow-diag`` and ``grow-diag-final-and`` (Koehn et al. 2005: start
from the intersection and add neighbouring links of the union), ``union`` (recall).  Both models must
split the pair into the same words: given words (``pretokenized``) always are; otherwise both read the
same text, Chinese characters and English whitespace words.
"""

from __future__ import annotations

from typing import Sequence

from .align import SYMMETRIZE

DEFAULT_RULE = "grow-diag-final-and"  # the best rule for the shipped heads on align-dev (docs/alignment.md)


def transpose(links: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    return sorted((j, i) for i, j in links)


def combine_links(
    forward: Sequence[tuple[int, int]], backward: Sequence[tuple[int, int]], rule: str = DEFAULT_RULE
) -> list[tuple[int, int]]:
    """(source word, target word) links from the forward model's links and the backward model's links
    (its own (its source, its target) order, transposed here)."""
    if rule not in SYMMETRIZE:
        raise ValueError(f"rule must be one of {sorted(SYMMETRIZE)}, not {rule!r}")
    return sorted(SYMMETRIZE[rule](list(forward), transpose(backward)))


def check_directions(forward, backward) -> None:
    if forward.direction == backward.direction:
        raise ValueError(f"both models translate {forward.direction}: the second must translate the other way")


def align_both_ways(
    forward, backward, sources: Sequence[str], targets: Sequence[str], rule: str = DEFAULT_RULE, method=None, **kwargs
) -> list:
    """:meth:`Translator.align` with ``forward`` (sources -> targets; its ``method``, default its own) and
    ``backward`` (targets -> sources, its default method), the links combined by ``rule``.  Returns the forward
    alignments with combined links; a pair the two models split into different words keeps the forward links
    alone."""
    check_directions(forward, backward)
    if rule not in SYMMETRIZE:
        raise ValueError(f"rule must be one of {sorted(SYMMETRIZE)}, not {rule!r}")
    fwd = forward.align(sources, targets, method=method, **kwargs)
    bwd = backward.align(targets, sources, **kwargs)
    for a, b in zip(fwd, bwd):
        if a.source_words == b.target_words and a.target_words == b.source_words:
            a.links = combine_links(a.links, b.links, rule)
            a.method = f"{a.method} + {backward.direction} model ({rule})"
    return fwd


def aer_both_ways(zh_en, en_zh, prefix: str, max_tokens: int = 6000) -> list[dict]:
    """AER on a gold set (PREFIX.zh, PREFIX.en: words separated by spaces; PREFIX.gold: ``i-j`` with i the
    Chinese word) of each model alone (the en-zh links transposed) and of every combination rule."""
    from .aer import alignment_error_rate, read_gold_set

    check_directions(zh_en, en_zh)
    zh, en, gold = read_gold_set(prefix)
    fwd = zh_en.align(zh, en, pretokenized=True, max_tokens=max_tokens, skip_long=True)
    bwd = en_zh.align(en, zh, pretokenized=True, max_tokens=max_tokens, skip_long=True)
    runs = {"zh-en head": [a.links for a in fwd], "en-zh head (transposed)": [transpose(b.links) for b in bwd]}
    for rule in SYMMETRIZE:
        runs[f"both, {rule}"] = [combine_links(a.links, b.links, rule) for a, b in zip(fwd, bwd)]
    return [{"method": name, **alignment_error_rate(links, gold).as_dict()} for name, links in runs.items()]
