"""Markup and emoji carried around a translation: ``<b>你好</b>世界。😊`` -> ``<b>Hello</b> world. 😊``.

The model never saw HTML tags or emoji (it reads ``</b>`` as letters, and an emoji as an unknown piece), so they
are taken out of the sentence before it is translated (:func:`take_out`) and put back afterwards where the
word links say their words went (:func:`put_back`):

* a pair of tags (``<b>``...``</b>``) goes around the output words linked to the source words it enclosed;
* anything else (an emoji, ``<br>``, a tag without its partner) goes after the output word linked to the source
  word before it; at the start of the sentence it stays at the start, at its end at the end.

Without word links (a model without an alignment head, or ``return_attention=False``) a pair of tags goes around
the whole translation and anything else at the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

from .words import word_spans

TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>")
# Emoji and pictographs, with their joiners, variation selectors, skin tones and flag letters.
EMOJI = re.compile(
    "(?:[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\U0001f1e6-\U0001f1ff]"
    "[\ufe0f\u200d\U0001f3fb-\U0001f3ff]*)+"
)
_MARK = re.compile(f"{TAG.pattern}|{EMOJI.pattern}")


@dataclass(frozen=True)
class Mark:
    """One tag or emoji run taken out of a sentence: its text, where it stood in the sentence without marks
    (``at``: a character offset), and for a tag of a pair the index of its partner."""

    text: str
    at: int
    partner: Optional[int] = None

    @property
    def opens(self) -> bool:
        return self.partner is not None and not self.text.startswith("</")


def take_out(text: str) -> tuple[str, list[Mark]]:
    """The sentence without its tags and emoji, and the marks taken out (in order)."""
    clean, marks, last = [], [], 0
    for m in _MARK.finditer(text):
        clean.append(text[last : m.start()])
        marks.append(Mark(m.group(), sum(len(c) for c in clean)))
        last = m.end()
    if not marks:
        return text, []
    clean.append(text[last:])
    return "".join(clean), _paired(marks)


def _paired(marks: list[Mark]) -> list[Mark]:
    """Opening and closing tags of the same name matched (innermost first)."""
    partner: dict[int, int] = {}
    open_at: list[tuple[str, int]] = []
    for k, m in enumerate(marks):
        tag = re.match(r"<(/?)([A-Za-z][\w:-]*)", m.text)
        if not tag or m.text.endswith("/>"):
            continue
        name = tag.group(2).lower()
        if not tag.group(1):
            open_at.append((name, k))
        else:
            for back in range(len(open_at) - 1, -1, -1):
                if open_at[back][0] == name:
                    partner[k], partner[open_at[back][1]] = open_at[back][1], k
                    del open_at[back:]
                    break
    return [Mark(m.text, m.at, partner.get(k)) for k, m in enumerate(marks)]


def put_back(text: str, marks: Sequence[Mark], source: str, coverage) -> str:
    """``text`` (the translation of ``source``, the sentence without its marks) with the marks put back where
    ``coverage`` (``seq2seq.coverage.Coverage`` or None) links their words; see the module's docstring."""
    if not marks:
        return text
    src = word_spans(coverage.source_words, source) if coverage is not None else [None]
    tgt = word_spans(coverage.target_words, text) if coverage is not None else [None]
    if None in src or None in tgt or not text:  # words not found in the text: no place to put a mark
        return _around(text, marks)
    to_target: dict[int, set[int]] = {}
    for s, t in coverage.links:
        to_target.setdefault(s, set()).add(t)
    inserts: list[tuple[int, int, str]] = []  # (offset in text, order, what)
    for k, m in enumerate(marks):
        if m.partner is not None and m.opens:
            inside = [i for i, (a, b) in enumerate(src) if a < marks[m.partner].at and b > m.at]
            linked = sorted({t for i in inside for t in to_target.get(i, ())})
            if linked:
                inserts.append((tgt[linked[0]][0], k, m.text))
                inserts.append((tgt[linked[-1]][1], -k, marks[m.partner].text))
                continue
            what = m.text + marks[m.partner].text  # its words link nowhere: the pair, empty, where they stood
        elif m.partner is not None:
            continue  # put with its opening tag
        else:
            what = m.text
        inserts.append((_after(m.at, src, tgt, to_target, source, text), k, what))
    out, last = [], 0
    for at, _, what in sorted(inserts, key=lambda x: (x[0], x[1] < 0, x[1])):
        out.append(text[last:at])
        space = " " if EMOJI.fullmatch(what) and at and not text[at - 1].isspace() and text[at - 1].isascii() else ""
        out.append(space + what)
        last = at
    out.append(text[last:])
    return "".join(out)


def _after(at: int, src, tgt, to_target, source: str, text: str) -> int:
    """Where a lone mark that stood at ``at`` in the source goes in the translation."""
    rest = source[at:]
    if not rest.strip():
        return len(text)
    if _is_punct(rest):  # only the final punctuation follows: before the translation's
        ends = [b for a, b in tgt if not _is_punct(text[a:b])]
        return ends[-1] if ends else len(text)
    before = [i for i, (_, b) in enumerate(src) if b <= at]
    if not before:
        return 0
    for i in reversed(before):
        if to_target.get(i):
            return tgt[max(to_target[i])][1]
    return 0


def _is_punct(word: str) -> bool:
    return not any(ch.isalnum() for ch in word)


def _around(text: str, marks: Sequence[Mark]) -> str:
    """Without word links: tags of a pair around the whole text, in their order; anything else after it."""
    opening = "".join(m.text for m in marks if m.opens)
    closing = "".join(m.text for m in reversed(marks) if m.partner is not None and not m.opens)
    alone = [m.text for m in marks if m.partner is None]
    head = [m.text for m in marks if m.partner is None and m.at == 0]
    tail = alone[len(head) :]
    return "".join(head) + opening + text + closing + ("".join(" " + x if EMOJI.fullmatch(x) else x for x in tail))
