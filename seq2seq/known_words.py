"""Names an English→Chinese model has not learnt, carried through in Latin script.

An English→Chinese model writes a name in Chinese characters only if it has learnt the name from its training
pairs; a name it has not seen it spells from pieces of its own, and garbles (``San Francisco Mall`` ->
``圣弗兰斯·马尔达达德``).  Chinese text often keeps such a name in Latin script (newstest2017's Chinese keeps 520 of
the Latin words of its English), so a name the model cannot know is better carried through as it stands.

**Known words** are the capitalised words (``[A-Z][a-z]+``) that the training English has at least
:data:`MIN_COUNT` times, counted as written (:meth:`KnownWords.count`; ``scripts/known_words.py``).  At
translation, a capitalised word that the list lacks, and that does not begin a sentence, becomes a placeholder
(:func:`seq2seq.placeholders.masked_spans`), and the words of a name that are all unknown, one after another,
one placeholder (``Louis ⟦0⟧ said``, ``⟦0⟧`` for ``Aly Raisman``).  Only translation masks them: a given pair
(``align``) whose Chinese writes the name in characters would read a placeholder that the Chinese lacks, which
cost the en-zh head 1.9 AER on align-dev (docs/experiments/en-zh-2026-12.md).

The list is a model folder's ``known_words.txt``: one word a line.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Iterable

KNOWN_WORDS_FILE = "known_words.txt"
MIN_COUNT = 3  # chosen on newstest2017 (docs/experiments/en-zh-2026-12.md)
CAPITALISED = re.compile(r"(?<![\w'’-])[A-Z][a-z]+(?![\w-])")  # whole words: not Zo of Zoë, nor Luc of Jean-Luc
_SENTENCE_START = '.!?"“:;('  # a word after one of these (or first in the text) begins a sentence or a quote


class KnownWords:
    """The capitalised English words a model has learnt (see the module's docstring)."""

    def __init__(self, words: Iterable[str]):
        self.words = frozenset(words)

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def count(cls, texts: Iterable[str], min_count: int = MIN_COUNT) -> "KnownWords":
        """The capitalised words that ``texts`` (the training English) have at least ``min_count`` times."""
        counts: Counter = Counter()
        for text in texts:
            counts.update(CAPITALISED.findall(text))
        return cls(w for w, n in counts.items() if n >= min_count)

    def unknown_spans(self, text: str) -> list[tuple[int, int]]:
        """Character ranges of the capitalised words of English ``text`` that are not known, where one of them
        stands away from the beginning of a sentence (then every place it stands, a sentence's first word too);
        unknown words one space apart are one range (one name)."""
        words = [m for m in CAPITALISED.finditer(text) if m.group() not in self.words]
        unknown = {m.group() for m in words if text[: m.start()].rstrip()[-1:] not in ("", *_SENTENCE_START)}
        out: list[tuple[int, int]] = []
        for m in words:
            a, b = m.span()
            if m.group() not in unknown:
                continue
            if out and text[out[-1][1] : a] == " ":
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        return out

    def save(self, path: str | Path) -> None:
        Path(path).write_text("".join(w + "\n" for w in sorted(self.words)), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "KnownWords":
        words = Path(path).read_text(encoding="utf-8").split()
        bad = [w for w in words if not CAPITALISED.fullmatch(w)]
        if bad:
            raise ValueError(f"{len(bad)} lines are not capitalised words (the first: {bad[0]!r})")
        return cls(words)
