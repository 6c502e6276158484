"""Copy rate: how often names, numbers and other Latin-script tokens of the source come through verbatim.

A *copy token* is a run of ASCII letters and digits in the source, possibly joined by ``. , - : / @ & ' + _``
(``Frank``, ``GPT-4``, ``CEO``, ``2019``, ``6.1``), that also stands verbatim in the reference, as a whole
token (not inside a longer run of letters or digits).  It counts as *copied* when it stands verbatim in the
output in the same way.  Tokens with a letter are counted as Latin words, the others as numbers.  The rule
reads the same in both directions: in English -> Chinese, ``iPhone`` or ``2019`` kept in the Chinese
reference are copy tokens, ``Frank`` written 弗兰克 is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?:[.,\-:/@&'+_][A-Za-z0-9]+)*(?![A-Za-z0-9])")


def _stands_in(token: str, text: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(token)}(?![A-Za-z0-9])", text) is not None


def copy_tokens(source: str, reference: str) -> list[str]:
    """The source's copy tokens: its Latin-script/digit tokens that stand verbatim in the reference (each once)."""
    out: list[str] = []
    for m in TOKEN.finditer(source):
        if m.group() not in out and _stands_in(m.group(), reference):
            out.append(m.group())
    return out


def is_number(token: str) -> bool:
    return not any(c.isalpha() for c in token)


@dataclass
class CopyRate:
    latin_copied: int = 0
    latin_total: int = 0
    number_copied: int = 0
    number_total: int = 0

    @property
    def latin(self) -> float:
        """Share of Latin-word copy tokens copied (nan when there are none)."""
        return self.latin_copied / self.latin_total if self.latin_total else float("nan")

    @property
    def number(self) -> float:
        return self.number_copied / self.number_total if self.number_total else float("nan")

    def as_dict(self) -> dict:
        nan_to_none = lambda x: None if x != x else x  # JSON has no NaN
        return {
            "latin": nan_to_none(self.latin),
            "latin_copied": self.latin_copied,
            "latin_total": self.latin_total,
            "number": nan_to_none(self.number),
            "number_copied": self.number_copied,
            "number_total": self.number_total,
        }


def copy_rate(sources: Sequence[str], references: Sequence[str], hypotheses: Sequence[str]) -> CopyRate:
    """Copy tokens of each source (see module doc) counted over a test set, and those the hypothesis copied."""
    if not len(sources) == len(references) == len(hypotheses):
        raise ValueError(f"copy_rate: {len(sources)} sources, {len(references)} references, {len(hypotheses)} outputs")
    rate = CopyRate()
    for src, ref, hyp in zip(sources, references, hypotheses):
        for token in copy_tokens(src, ref):
            copied = _stands_in(token, hyp)
            if is_number(token):
                rate.number_total += 1
                rate.number_copied += copied
            else:
                rate.latin_total += 1
                rate.latin_copied += copied
    return rate


_AMOUNT = re.compile(r"(?<![A-Za-z0-9])\d[\d,.]*(?: (?:thousand|million|billion|trillion))?(?![A-Za-z0-9])")


def converted_amounts(sources: Sequence[str], references: Sequence[str], hypotheses: Sequence[str]) -> tuple[int, int]:
    """Numbers that must be converted, not copied (``3万`` -> ``30,000``, ``1,234亿`` -> ``123.4 billion``):
    amounts of the reference (a number, with its scale word) whose number is not in the source; returns
    (found verbatim in the output, total)."""
    found = total = 0
    for src, ref, hyp in zip(sources, references, hypotheses):
        for m in _AMOUNT.finditer(ref):
            number = m.group().split(" ")[0].rstrip(".,")
            if not _stands_in(number, src):
                total += 1
                found += _stands_in(m.group().rstrip(".,"), hyp)
    return found, total


# A character or a run of up to 4 characters (spaces aside) written 3 or more times in a row: 克克克, 火星火星火星.
_REPEAT = re.compile(r"(\S{1,4}?)\1{2,}")


def repeats(text: str) -> bool:
    """Does ``text`` repeat a character or a run of up to 4 characters 3 or more times in a row (spaces ignored:
    "KGO KGO KGO" counts)?  Digits repeated (``1000``) and runs of punctuation (``...``) do not count."""
    for m in _REPEAT.finditer(text.replace(" ", "")):
        if not (m.group(1).isdigit() or all(not c.isalnum() for c in m.group(1))):
            return True
    return False


def repetition_rate(hypotheses: Sequence[str], references: Sequence[str]) -> dict:
    """The share of outputs that :func:`repeats` where their reference does not (issue 37's loop measure), and the
    count."""
    flagged = sum(repeats(h) and not repeats(r) for h, r in zip(hypotheses, references))
    return {"repetition": flagged / max(1, len(hypotheses)), "repetition_count": flagged}
