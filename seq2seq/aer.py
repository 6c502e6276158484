"""Alignment error rate (Och & Ney 2003) against gold word alignments.

Gold files hold one line per sentence pair of 0-based Pharaoh links: ``i-j`` is a sure link and
``ipj`` a possible one (i: source word, j: target word).  Sure links are possible too.  Over a corpus:

    precision = |A∩P| / |A|      recall = |A∩S| / |S|      AER = 1 - (|A∩S| + |A∩P|) / (|A| + |S|)

with every count summed over all sentences before dividing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

Link = tuple[int, int]


@dataclass
class GoldAlignment:
    sure: set[Link]
    possible: set[Link]  # includes the sure links


def parse_gold_line(line: str) -> GoldAlignment:
    sure, possible = set(), set()
    for tok in line.split():
        if "p" in tok:
            i, j = tok.split("p")
            possible.add((int(i), int(j)))
        elif "-" in tok:
            i, j = tok.split("-")
            sure.add((int(i), int(j)))
            possible.add((int(i), int(j)))
        else:
            raise ValueError(f"not a Pharaoh link: {tok!r} (expected i-j or ipj)")
    return GoldAlignment(sure, possible)


def read_gold(path: str | Path) -> list[GoldAlignment]:
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [parse_gold_line(line) for line in lines]


@dataclass
class AERScore:
    aer: float
    precision: float
    recall: float
    links: int  # |A|

    def as_dict(self) -> dict:
        return {"aer": self.aer, "precision": self.precision, "recall": self.recall, "links": self.links}


def alignment_error_rate(hypotheses: Sequence[Iterable[Link]], gold: Sequence[GoldAlignment]) -> AERScore:
    """Corpus AER, precision and recall of ``hypotheses`` (one link collection per sentence)."""
    if len(hypotheses) != len(gold):
        raise ValueError(f"{len(hypotheses)} hypothesis lines but {len(gold)} gold lines")
    a_total = s_total = a_s = a_p = 0
    for hyp, g in zip(hypotheses, gold):
        a = set(hyp)
        a_total += len(a)
        s_total += len(g.sure)
        a_s += len(a & g.sure)
        a_p += len(a & g.possible)
    aer = 1.0 - (a_s + a_p) / (a_total + s_total) if a_total + s_total else 0.0
    return AERScore(aer, a_p / a_total if a_total else 0.0, a_s / s_total if s_total else 0.0, a_total)


def possible_as_sure(gold: Sequence[GoldAlignment]) -> list[GoldAlignment]:
    """The gold set scored as annotators who mark no possible links would score it: every possible link sure (AER
    then is 1 - F1 against the possible links; a missed possible link counts as much as a missed sure one)."""
    return [GoldAlignment(set(g.possible), set(g.possible)) for g in gold]


def recall_by_part(
    hypotheses: Sequence[Iterable[Link]], gold: Sequence[GoldAlignment], positions: Sequence[Sequence[float]], parts=3
) -> list[float]:
    """Recall of the sure links in each of ``parts`` equal stretches of a sentence: ``positions[k][i]`` is where
    source word i of sentence k stands, 0 (its start) to 1 (its end); a link falls in the stretch of its source word."""
    found, total = [0] * parts, [0] * parts
    for hyp, g, pos in zip(hypotheses, gold, positions):
        a = set(hyp)
        for link in g.sure:
            part = min(int(pos[link[0]] * parts), parts - 1)
            total[part] += 1
            found[part] += link in a
    return [f / t if t else 0.0 for f, t in zip(found, total)]


def read_gold_set(prefix: str) -> tuple[list[str], list[str], list]:
    """A gold word-alignment set: PREFIX.zh and PREFIX.en (words separated by spaces), PREFIX.gold (Pharaoh
    links, Chinese word first)."""
    from .text import read_lines

    zh, en, gold = read_lines(prefix + ".zh"), read_lines(prefix + ".en"), read_gold(prefix + ".gold")
    if not len(zh) == len(en) == len(gold):
        raise ValueError(f"alignment test set {prefix}: {len(zh)} .zh, {len(en)} .en and {len(gold)} .gold lines")
    return zh, en, gold
