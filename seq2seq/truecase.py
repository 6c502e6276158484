"""Restore English the model knows: lower-cased or tokenized English -> cased, detokenized text, and the map back.

The models were trained on cased, detokenized English (``It's a test (really).``).  Gold alignment sets,
tokenized corpora, subtitles and chat often bring other English: lower-cased (``i like apples``) or
tokenized (``it 's`` / ``do n't`` / ``( reporter`` / ``-LRB-`` / ``state @-@ of``).  Before the model reads
such English, :class:`EnglishRestorer` restores it:

1. tokenizer escapes become the characters they stand for (``-LRB-`` -> ``(``, ````` -> ``"``, ``&amp;`` -> ``&``);
2. lower-cased English (no upper-case letter at all) is **recased** with a Moses truecaser learnt from the
   training English (``sacremoses.MosesTruecaser``: each word takes its most frequent spelling away from
   the start of a sentence; ``scripts/train_truecaser.py``), and the first word of each sentence is capitalised;
3. tokenized English is **detokenized** (``sacremoses.MosesDetokenizer``; ``n't`` and ``@-@`` joined as well).

The model reads the restored text; the words the caller gave keep their indices.  Each given word's
characters in the restored text are its *surface* (:attr:`Restored.surfaces`: the word with escapes
replaced), so :func:`seq2seq.align.pieces_to_words` maps pieces back to the given words by characters, case
and spaces ignored.  Which English needs it is decided per sentence (:func:`is_lowercased`,
:func:`is_tokenized`); other English is read exactly as given.

The truecasing model is a file of the model folder, ``truecase.model``, in the Moses truecaser's text format
(``Beijing (2345/2361)``: the best spelling of a word and its count over the word's count).  It keeps only the
words whose best spelling is not all lower-case: the others would leave lower-cased input as it is anyway.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

TRUECASE_FILE = "truecase.model"

# Penn Treebank bracket and quote tokens, and the XML escapes of the Moses tokenizer.
_PTB = {"-lrb-": "(", "-rrb-": ")", "-lsb-": "[", "-rsb-": "]", "-lcb-": "{", "-rcb-": "}", "``": '"', "''": '"'}
_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|#\d{1,6});")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_GLUE = re.compile(r"^@(\S)@$")  # Moses' aggressive hyphen split (state @-@ of), and @/@, @.@ ...
_CLITIC = re.compile(r"^(?:'(?:s|re|ve|ll|d|m)|n't)$", re.IGNORECASE)
_CLOSING = re.compile(r"^[,.;:!?%)\]}]+$")  # punctuation a detokenized text attaches to the word before it
_OPENING = re.compile(r"^[(\[{$€£¥]$")  # ... and to the word after it
_SENT_END = {".", "?", "!"}
_NOT_A_START = {'"', "'", "(", "[", "{", "``", "`", "-", "--"}  # tokens before a sentence's first word


def unescape_token(word: str) -> str:
    """A token's characters in text: ``-LRB-`` -> ``(``, ````` -> ``"``, ``@-@`` -> ``-``, ``&amp;`` -> ``&``."""
    low = word.lower()
    if low in _PTB:
        return _PTB[low]
    m = _GLUE.match(word)
    if m:
        return m.group(1)

    def entity(e: re.Match) -> str:
        name = e.group(1)
        return chr(int(name[1:])) if name.startswith("#") else _ENTITIES[name]

    return _ENTITY.sub(entity, word) if "&" in word else word


def is_lowercased(words: Sequence[str]) -> bool:
    """No upper-case letter, and some lower-case one: English that lost its case (escapes such as ``-LRB-``
    are no sign of case)."""
    text = "".join(unescape_token(w) for w in words)
    return not any(c.isupper() for c in text) and any(c.islower() for c in text)


def is_tokenized(words: Sequence[str]) -> bool:
    """Does the English look tokenized: escapes (``-LRB-``, ``&quot;``, ``@-@``), split clitics (``it 's``,
    ``do n't``), punctuation standing apart from the word before it (``jakarta ,``) or after it (``( reporter``),
    or quote marks standing alone?"""
    n = len(words)
    for i, w in enumerate(words):
        low = w.lower()
        if low in _PTB or _GLUE.match(w) or _ENTITY.search(w) or w == '"':
            return True
        if i > 0 and (_CLITIC.match(w) or _CLOSING.match(w)):
            return True
        if i < n - 1 and _OPENING.match(w):
            return True
    return False


@dataclass(frozen=True, kw_only=True)
class Restored:
    """One English sentence as the model reads it (``text``), and the given ``words`` it came from.
    ``surfaces[k]``: word k's characters in ``text``, up to case (what pieces are matched against)."""

    text: str
    words: list[str]
    surfaces: list[str]
    recased: bool = False
    detokenized: bool = False

    @property
    def changed(self) -> bool:
        return self.recased or self.detokenized


class Truecaser:
    """A Moses truecasing model: the best spelling of every word whose best spelling has a capital."""

    def __init__(self, best: dict[str, str], counts: Optional[dict[str, tuple[int, int]]] = None):
        self.best = dict(best)  # lower-cased word -> its most frequent spelling
        self.counts = dict(counts or {})  # lower-cased word -> (count of the best spelling, count of the word)
        self._moses = None

    def __len__(self) -> int:
        return len(self.best)

    # ---------------------------------------------------------------- learning, saving, loading
    @classmethod
    def learn(cls, lines: Iterable[str], min_count: int = 2, tokenized: bool = False) -> "Truecaser":
        """Learn from English text, one sentence or paragraph a line (tokenized with the Moses tokenizer unless
        ``tokenized``), as Moses' train-truecaser.perl does: every word counted in every spelling, except at the
        start of a sentence.  Keeps the words seen ``min_count`` times or more whose best spelling has a capital."""
        from sacremoses import MosesTokenizer, MosesTruecaser

        tok = MosesTokenizer(lang="en")
        moses = MosesTruecaser()
        casing: dict[str, Counter] = {}
        for line in lines:
            tokens = line.split() if tokenized else tok.tokenize(line, escape=False)
            for low, surface, weight in moses.learn_truecase_weights(tokens):
                casing.setdefault(low, Counter())[surface] += weight
        best, counts = {}, {}
        for low, c in casing.items():
            (spelling, n), total = c.most_common(1)[0], sum(c.values())
            if total >= min_count and spelling != low:
                best[low], counts[low] = spelling, (int(n), int(total))
        return cls(best, counts)

    def save(self, path: str | Path) -> Path:
        """Write the model in Moses' format, one word a line (``Beijing (2345/2361)``), sorted."""
        path = Path(path)
        lines = []
        for low in sorted(self.best):
            n, total = self.counts.get(low, (1, 1))
            lines.append(f"{self.best[low]} ({n}/{total})\n")
        path.write_text("".join(lines), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Truecaser":
        """Read a Moses truecasing model (this module's, or one of train-truecaser.perl: the first spelling of a
        line is taken as the best).  Raises ValueError naming the line of a malformed file."""
        best, counts = {}, {}
        text = Path(path).read_text(encoding="utf-8")
        for lineno, line in enumerate(text.splitlines(), 1):
            fields = line.split()
            if not fields:
                continue
            m = re.fullmatch(r"\((\d+)(?:/(\d+))?\)", fields[1]) if len(fields) >= 2 else None
            if m is None:
                raise ValueError(f"{Path(path).name}, line {lineno}: expected 'Word (count/total)', got {line[:60]!r}")
            word = fields[0]
            if word.lower() != word:  # a best spelling that is all lower-case changes nothing
                best[word.lower()] = word
                counts[word.lower()] = (int(m.group(1)), int(m.group(2) or m.group(1)))
        return cls(best, counts)

    # ---------------------------------------------------------------- use
    def truecase(self, tokens: Sequence[str]) -> list[str]:
        """Each token in its best spelling (``sacremoses.MosesTruecaser.truecase``); unknown tokens as they are."""
        if self._moses is None:
            from sacremoses import MosesTruecaser

            moses = MosesTruecaser()
            moses.model = {"best": self.best, "known": Counter()}
            self._moses = moses
        out = self._moses.truecase(" ".join(tokens)) if tokens else []
        if len(out) != len(tokens):  # the Moses truecaser split a token differently (XML-like, factors)
            out = [self.best.get(t.lower(), t) for t in tokens]
        return out


class EnglishRestorer:
    """Restores lower-cased or tokenized English (see the module docstring).  ``truecaser`` None: no recasing,
    only the first word of each sentence is capitalised.  Holds nothing per call (safe to share)."""

    def __init__(self, truecaser: Optional[Truecaser] = None):
        self.truecaser = truecaser
        self._detok = None

    def restore(self, words: Sequence[str]) -> Restored:
        """The sentence given as ``words`` (whitespace tokens) as the model should read it."""
        words = list(words)
        tokenized = is_tokenized(words)
        surfaces = [unescape_token(w) for w in words] if tokenized else list(words)
        lower = is_lowercased(words)
        if not (lower or tokenized):
            return Restored(text=" ".join(words), words=words, surfaces=list(words))
        tokens = list(surfaces)
        if lower:
            if self.truecaser is not None:
                tokens = self.truecaser.truecase(tokens)
            tokens = _capitalise_sentence_starts(_capitalise_dates(tokens))
        text = self._detokenize(words, tokens) if tokenized else " ".join(tokens)
        return Restored(text=text, words=words, surfaces=surfaces, recased=lower, detokenized=tokenized)

    def _detokenize(self, given: Sequence[str], tokens: Sequence[str]) -> str:
        """Join ``n't`` and ``@-@`` (of the ``given`` tokens) to their neighbours, then the Moses detokenizer."""
        if self._detok is None:
            from sacremoses import MosesDetokenizer

            self._detok = MosesDetokenizer(lang="en")
        chunks: list[str] = []
        glue_next = False
        for g, t in zip(given, tokens):
            if chunks and (_GLUE.match(g) or t.lower() == "n't"):
                chunks[-1] += t
                glue_next = bool(_GLUE.match(g))
            elif chunks and glue_next:
                chunks[-1] += t
                glue_next = False
            else:
                chunks.append(t)
                glue_next = False
        return self._detok.detokenize(chunks, unescape=False)


MONTHS = {
    m.lower(): m
    for m in "January February March April May June July August September October November December".split()
    + "Jan. Feb. Mar. Apr. Jun. Jul. Aug. Sep. Sept. Oct. Nov. Dec.".split()
}
_DAY = re.compile(r"^(?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?,?$", re.IGNORECASE)
_YEAR = re.compile(r"^(?:1[6-9]|20)\d\d,?$")
_SUBJECTS = {"i", "you", "he", "she", "it", "we", "they", "who", "which", "that", "this", "one"}


def _capitalise_dates(tokens: Sequence[str]) -> list[str]:
    """A month name next to a day (``may 22``, ``22 may``, ``may 22nd``) or before a year (``may 2002``) is the month,
    whatever its most frequent spelling (the verb ``may``, the verb ``march``), unless a subject pronoun stands before
    it (``it may 22``... is left to the truecaser)."""
    out = list(tokens)
    for k, t in enumerate(out):
        month = MONTHS.get(t.lower())
        if month is None:
            continue
        after = out[k + 1] if k + 1 < len(out) else ""
        before = out[k - 1] if k > 0 else ""
        if before.lower() in _SUBJECTS:
            continue
        if _DAY.match(after) or _YEAR.match(after) or _DAY.match(before):
            out[k] = month
    return out


def _capitalise_sentence_starts(tokens: Sequence[str]) -> list[str]:
    """Upper-case the first letter of the first word and of every word after ``.``, ``?`` or ``!`` (a sentence
    that starts with a number, ``22nd``, keeps it as it is)."""
    out, start = [], True
    for t in tokens:
        if start and t not in _NOT_A_START and any(c.isalnum() for c in t):
            up = t[0].upper()
            if t[0].isalpha() and len(up) == 1:
                t = up + t[1:]
            start = False
        if t in _SENT_END:
            start = True
        out.append(t)
    return out
