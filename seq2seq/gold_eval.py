"""Scoring word links on a gold set two ways, on long pairs, and beside the teacher (``scripts/align_readings.py``,
``scripts/long_align_dev.py``).

* Two scorings: AER with the possible links allowed (Och & Ney) and with every possible link counted as sure
  (:func:`seq2seq.aer.possible_as_sure`), so that a reading is not chosen for one annotation convention.
* A long set (:func:`join_groups`, :func:`join_set`): runs of 2-4 consecutive pairs joined into one pair of
  300-700 characters, the gold links offset; links read on the parts one by one are joined the same way
  (:func:`join_links`), so both readings are scored against the same long gold.
* The teacher (:func:`teacher_links`): eflomal aligns the training corpus together with the gold pairs (Chinese
  characters, lower-cased English words), both directions symmetrized, links mapped onto the gold words.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Optional, Sequence

from .aer import GoldAlignment, alignment_error_rate, possible_as_sure, recall_by_part
from .words import offset_links

Links = list[tuple[int, int]]


# --------------------------------------------------------------------------------------------- the long set
def pair_chars(zh_words: Sequence[str], en_words: Sequence[str]) -> int:
    """A pair's length as training's ``clean.max_chars`` measures it: its longer side, in characters of the text the
    model reads (Chinese words joined without spaces, English words with them)."""
    return max(len("".join(zh_words)), len(" ".join(en_words)))


def join_groups(
    lengths: Sequence[int], min_chars: int = 300, max_chars: int = 700, min_pairs: int = 2, max_pairs: int = 4
) -> list[list[int]]:
    """Runs of consecutive pair indices whose joined length (the ``lengths`` summed, plus a space between parts) is
    ``min_chars``-``max_chars``, of ``min_pairs``-``max_pairs`` pairs.  From each start the run grows until it is
    long enough; a start with no such run is passed over.  Runs do not overlap."""
    groups, start = [], 0
    while start < len(lengths):
        run, total = [], -1
        for k in range(start, min(start + max_pairs, len(lengths))):
            run.append(k)
            total += lengths[k] + 1
            if total > max_chars:
                break
            if total >= min_chars and len(run) >= min_pairs:
                groups.append(run)
                break
        start = groups[-1][-1] + 1 if groups and groups[-1][0] == start else start + 1
    return groups


def join_set(
    zh: Sequence[str], en: Sequence[str], gold: Sequence[GoldAlignment], groups: Sequence[Sequence[int]]
) -> tuple[list[str], list[str], list[GoldAlignment]]:
    """The long pairs (words separated by spaces) and their gold links, offset by the words of the earlier parts."""
    long_zh, long_en, long_gold = [], [], []
    for run in groups:
        long_zh.append(" ".join(zh[k] for k in run))
        long_en.append(" ".join(en[k] for k in run))
        sure = join_links([list(gold[k].sure) for k in run], [zh[k] for k in run], [en[k] for k in run])
        poss = join_links([list(gold[k].possible) for k in run], [zh[k] for k in run], [en[k] for k in run])
        long_gold.append(GoldAlignment(set(sure), set(poss)))
    return long_zh, long_en, long_gold


def join_links(parts: Sequence[Links], zh: Sequence[str], en: Sequence[str]) -> Links:
    """The links of consecutive pairs (``zh``/``en``: their words separated by spaces) as links of the joined pair."""
    return sorted(offset_links(parts, [(len(z.split()), len(e.split())) for z, e in zip(zh, en)]))


def word_positions(words: str) -> list[float]:
    """Where each word (of words separated by spaces) starts, as a share of the characters joined without spaces."""
    ws = words.split()
    total, pos, out = max(1, sum(len(w) for w in ws)), 0, []
    for w in ws:
        out.append(pos / total)
        pos += len(w)
    return out


# --------------------------------------------------------------------------------------------- scores
_DIGIT = re.compile(r"\d")


def scores(links: Sequence[Links], gold: Sequence[GoldAlignment], zh=None, en=None) -> dict:
    """AER, precision and recall with possible links allowed and counted as sure; with the words (``zh``, ``en``:
    separated by spaces) also recall by third of the sentence (sure links, Chinese position), the precision of
    links touching a number, and the share of the Chinese words annotators leave unaligned that get a link."""
    allowed, sure = alignment_error_rate(links, gold), alignment_error_rate(links, possible_as_sure(gold))
    row = {
        "aer": allowed.aer,
        "p": allowed.precision,
        "r": allowed.recall,
        "aer_sure": sure.aer,
        "r_sure": sure.recall,
        "links": allowed.links,
    }
    if zh is not None and en is not None:
        row["thirds"] = recall_by_part(links, gold, [word_positions(z) for z in zh])
        num_ok = num = unaligned = unaligned_linked = 0
        for hyp, g, z, e in zip(links, gold, zh, en):
            zw, ew, hyp = z.split(), e.split(), set(hyp)
            for i, j in hyp:
                if _DIGIT.search(zw[i]) or _DIGIT.search(ew[j]):
                    num += 1
                    num_ok += (i, j) in g.possible
            gold_zh, linked = {i for i, _ in g.possible}, {i for i, _ in hyp}
            unaligned += sum(i not in gold_zh for i in range(len(zw)))
            unaligned_linked += sum(i not in gold_zh and i in linked for i in range(len(zw)))
        row["number_precision"] = num_ok / num if num else 0.0
        row["unaligned_linked"] = unaligned_linked / unaligned if unaligned else 0.0
    return row


def format_row(name: str, row: dict) -> str:
    """One Markdown table row: AER (P/R) allowed, AER (R) possible as sure, and the extras when present."""
    cells = [
        name,
        f"{row['aer']:.1%} ({row['p']:.1%}/{row['r']:.1%})",
        f"{row['aer_sure']:.1%} (R {row['r_sure']:.1%})",
    ]
    if "thirds" in row:
        cells.append(" / ".join(f"{x:.1%}" for x in row["thirds"]))
        cells += [f"{row['number_precision']:.1%}", f"{row['unaligned_linked']:.1%}"]
    return "| " + " | ".join(cells).replace("%", "") + " |"


TABLE_HEAD = (
    "| reading | AER, possible allowed (P/R) | AER, possible as sure (R) | recall by third (sure) "
    "| number links' precision | unaligned zh words linked |\n|---|---:|---:|---|---:|---:|"
)


# --------------------------------------------------------------------------------------------- the teacher
def teacher_links(
    zh: Sequence[str],
    en: Sequence[str],
    corpus: tuple[list[str], list[str]],
    src_tok,
    rules: Sequence[str],
    cache: Optional[str] = None,
) -> dict[str, list[Links]]:
    """eflomal's links on the given pairs (words separated by spaces), aligned together with ``corpus`` (texts as
    training reads them), for each symmetrization rule, on the given words.  ``cache``: a folder that keeps
    eflomal's two directions under a hash of the input, for a second run."""
    from .align import SYMMETRIZE
    from .corpus_align import eflomal_directions
    from .words import corpus_words, links_to_words, pieces_to_words

    su = [corpus_words(src_tok.normalize("".join(z.split())), "zh") for z in zh]
    tu = [corpus_words(" ".join(e.split()), "en") for e in en]
    units_src = [corpus_words(src_tok.normalize(t), "zh") for t in corpus[0]] + su
    units_tgt = [corpus_words(t, "en") for t in corpus[1]] + tu
    fwd, rev = _cached(eflomal_directions, units_src, units_tgt, cache)
    fwd, rev = fwd[len(fwd) - len(zh) :], rev[len(rev) - len(zh) :]
    s_maps = [pieces_to_words(u, [src_tok.normalize(w) for w in z.split()]) for u, z in zip(su, zh)]
    t_maps = [pieces_to_words(u, e.split()) for u, e in zip(tu, en)]
    return {
        rule: [links_to_words(SYMMETRIZE[rule](a, b), s, t) for a, b, s, t in zip(fwd, rev, s_maps, t_maps)]
        for rule in rules
    }


def _cached(align, src, tgt, cache: Optional[str]):
    if not cache:
        return align(src, tgt)
    key = hashlib.sha256(repr((src, tgt)).encode()).hexdigest()[:16]
    path = Path(cache) / f"eflomal-{key}.json"
    if path.is_file():
        fwd, rev = json.loads(path.read_text())
        return [[tuple(x) for x in a] for a in fwd], [[tuple(x) for x in a] for a in rev]
    fwd, rev = align(src, tgt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([fwd, rev]))
    return fwd, rev


def read_corpus(folder: str) -> tuple[list[str], list[str]]:
    """Every NAME.zh/NAME.en pair of files in ``folder``, as training's cleaning reads them."""
    from .corpus_align import read_pairs

    src, tgt = [], []
    for f in sorted(Path(folder).glob("*.zh")):
        s, t = read_pairs(str(f.with_suffix("")))
        src += s
        tgt += t
    return src, tgt
