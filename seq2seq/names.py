"""Transliterated names: ``蒂姆·库克`` is Tim Cook.

Chinese writes a foreign name as syllables, its parts joined by a middle dot (``弗拉基米尔·普京``).  A small
model spells the rarer ones from pieces and garbles them (``蒂姆·库克`` -> "Stevenck"), and no rule can
spell them either.  A **name lexicon** mined from the training pairs maps each part of such names to its
English word.  At translation a dotted name whose every part is known becomes a placeholder whose text is the
English (as an amount is, :class:`seq2seq.placeholders.Converted`), so the model only has to place it:

    苹果公司的CEO蒂姆·库克昨天访问了上海。  ->  苹果公司的⟦0⟧⟦1⟧昨天访问了上海。  ->  Apple's CEO Tim Cook ...

Chinese has no spaces, so where a name begins and ends is not written: the text before the first dot
(``CEO蒂姆``, ``总统弗拉基米尔``) and after the last (``库克昨天``) is cut by the lexicon itself, at the
longest first part it knows that ends at the dot, and the longest last part that starts there.  A name stays
text, for the model, when one of its parts is unknown, or when a cut would leave a name character beside it
(``霍普`` in ``霍普金斯``: the name goes on).  Name characters are those that stand beside a name's dot in at
least 0.5% of their uses in the training text (``弗``, ``斯``; not ``的``, ``统``).

**Mining** (:func:`mine_names`): in each training pair, a dotted name with ``k`` parts is set against the last
``k`` words of each run of capitalised English words in the target (``President Vladimir Putin`` ->
``Vladimir Putin``), part ``i`` against word ``i``.  A Chinese part (for the first and last part, each cut of
2-5 characters at the dot) maps to the word it meets most often, if it meets it at least ``min_count`` times
and in at least ``min_share`` of the names it is part of.  A cut must also be a boundary: the characters
before a first part (after a last part) must differ between its names (``基米尔``, always after ``拉``, is not
a part), and a cut of four or five characters must end, at its open end, in a name character (``党领袖米奇``
is not a part, ``弗拉基米尔`` is).  The English of a name is read up to an
institution word (``Johns Hopkins University`` -> ``Johns Hopkins``, :data:`NOT_NAMES`).

The lexicon is a model folder's ``names.tsv``: one part a line, ``first|middle|last``, the Chinese, the English;
and one line ``characters``, the name characters, ``-``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

NAMES_FILE = "names.tsv"
KINDS = ("first", "middle", "last")
DOTS = "·•・‧"
DOTTED = re.compile(rf"[\u4e00-\u9fff]+(?:[{DOTS}][\u4e00-\u9fff]+)+")
_WORD = r"(?:Mc|Mac|O')?[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_CAPITALISED_RUN = re.compile(rf"(?<![\w']){_WORD}(?:\s+{_WORD})*(?![\w])")
CUTS = range(2, 6)  # characters in a first or last part, as cut at the dot
# Capitalised words that follow a name in the same run but are not part of it (Johns Hopkins University).
NOT_NAMES = frozenset(
    "University College School Institute Academy Foundation Fund Group Company Corporation Bank Party Council "
    "Committee Association Union Organization Agency Ministry Department Office Hospital Center Centre Museum "
    "Library Hotel Airport Station Street Road Square Park Bridge River Lake Mountain Island Bay City County "
    "State Republic Kingdom Prize Award Cup Festival Church Club House Court Palace News Times Post Daily "
    "Airlines Service Administration Act Report Show Tower Stadium Hall".split()
)


@dataclass(frozen=True)
class DottedName:
    """A name written with dots, as found in a text: the run of characters before its first dot, its middle
    parts, the run after its last dot, and the offsets of its first dot and of the run after its last."""

    before: str
    middle: tuple[str, ...]
    after: str
    first_dot: int
    after_start: int

    def candidates(self) -> list[list[str]]:
        """Each part's candidates: the first and last part as every cut at the dot (longest first), the middle
        parts as they stand."""
        first = [self.before[-n:] for n in reversed(CUTS) if n <= len(self.before)]
        last = [self.after[:n] for n in reversed(CUTS) if n <= len(self.after)]
        return [first] + [[p] for p in self.middle] + [last]


def dotted_names(text: str) -> list[DottedName]:
    """The dotted names of ``text``.  Two names can follow one another with no space (``弗拉基米尔·普京与唐纳德
    ·特朗普``): a part between two dots longer than a name part (:data:`CUTS`) ends one name and begins the next."""
    out = []
    for m in DOTTED.finditer(text):
        segments = re.split(f"[{DOTS}]", m.group())
        starts = [m.start()]
        for seg in segments[:-1]:
            starts.append(starts[-1] + len(seg) + 1)
        group = [0]
        for i in range(1, len(segments)):
            if i < len(segments) - 1 and len(segments[i]) <= max(CUTS):
                group.append(i)
                continue
            first, last = group[0], i
            middle = tuple(segments[j] for j in group[1:])
            out.append(DottedName(segments[first], middle, segments[last], starts[first + 1] - 1, starts[last]))
            group = [i]
    return out


def _kind(i: int, n: int) -> str:
    return "first" if i == 0 else "last" if i == n - 1 else "middle"


@dataclass
class NameLexicon:
    """Parts of transliterated names and their English words, by position in the name."""

    parts: dict[str, dict[str, str]] = field(default_factory=lambda: {k: {} for k in KINDS})
    characters: set[str] = field(default_factory=set)  # name characters (module docstring)

    def __len__(self) -> int:
        return sum(len(v) for v in self.parts.values())

    def english(self, name: DottedName) -> tuple[int, int, str] | None:
        """The characters that ``name`` takes from the end of its run before the first dot and from the start
        of the run after the last, and its English; None if a part is unknown, or if a cut leaves a name
        character beside it.  Each part takes its longest known cut, known as a part of any place in a name;
        a string known in two places reads as the part where it stands."""
        candidates, words, taken = name.candidates(), [], [0, 0]
        for i, cands in enumerate(candidates):
            kind = _kind(i, len(candidates))
            tables = (self.parts[kind], self.parts["first"], self.parts["last"], self.parts["middle"])
            known = next(((c, t[c]) for c in cands for t in tables if c in t), None)
            if known is None:
                return None
            words.append(known[1])
            if kind != "middle":
                taken[kind == "last"] = len(known[0])
        beside = name.before[-taken[0] - 1 : -taken[0]] + name.after[taken[1] : taken[1] + 1]
        if any(c in self.characters for c in beside):
            return None
        return taken[0], taken[1], " ".join(words)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, English) of each dotted name in ``text`` whose every part the lexicon knows."""
        out: list[tuple[int, int, str]] = []
        for name in dotted_names(text):
            found = self.english(name)
            if found is not None and (not out or name.first_dot - found[0] >= out[-1][1]):
                out.append((name.first_dot - found[0], name.after_start + found[1], found[2]))
        return out

    def reverse(self) -> dict[str, dict[str, str]]:
        """The lexicon read the other way, English word -> Chinese part, by position.  A first part of three or more
        characters that does not start with a name character is left out (a mined ``总统乔`` took a title with it,
        and written out it would say "President Joe"); where several parts have one English word, the shortest."""
        out: dict[str, dict[str, str]] = {k: {} for k in KINDS}
        for kind in KINDS:
            for zh, en in sorted(self.parts[kind].items(), key=lambda kv: (len(kv[0]), kv[0])):
                if kind == "first" and len(zh) >= 3 and self.characters and zh[0] not in self.characters:
                    continue
                out[kind].setdefault(en, zh)
        return out

    def chinese(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, Chinese) of each known name in English ``text``: two to four capitalised words in a row, the
        first known as a first part, the last as a last part and any between as middle parts (``Tim Cook`` ->
        ``蒂姆·库克``).  Longest first, left to right; a run of capitalised words is read up to an institution word
        (``Johns Hopkins University``: ``Johns Hopkins``), and an unknown name is left as it is."""
        rev = self.reverse()
        out: list[tuple[int, int, str]] = []
        for run in _CAPITALISED_RUN.finditer(text):
            words = [
                (m.start() + run.start(), m.end() + run.start(), m.group()) for m in re.finditer(r"\S+", run.group())
            ]
            i = 0
            while i < len(words):
                found = None
                for n in range(min(4, len(words) - i), 1, -1):
                    names = [w for _, _, w in words[i : i + n]]
                    if any(w in NOT_NAMES for w in names):
                        continue
                    kinds = ["first"] + ["middle"] * (n - 2) + ["last"]
                    parts = [rev[k].get(w) for k, w in zip(kinds, names)]
                    if all(parts):
                        found = (words[i][0], words[i + n - 1][1], "·".join(parts), n)
                        break
                if found:
                    out.append(found[:3])
                    i += found[3]
                else:
                    i += 1
        return out

    def save(self, path: str | Path) -> None:
        rows = [f"{kind}\t{zh}\t{en}\n" for kind in KINDS for zh, en in sorted(self.parts[kind].items())]
        rows.append(f"characters\t{''.join(sorted(self.characters))}\t-\n")
        Path(path).write_text("".join(rows), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "NameLexicon":
        lex = cls()
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            cols = line.split("\t")
            if len(cols) != 3 or cols[0] not in (*KINDS, "characters") or not cols[1] or not cols[2]:
                raise ValueError(f"{path}, line {n}: expected 'first|middle|last<TAB>Chinese<TAB>English'")
            if cols[0] == "characters":
                lex.characters = set(cols[1])
            else:
                lex.parts[cols[0]][cols[1]] = cols[2]
        return lex


def _name_windows(english: str, k: int) -> set[tuple[str, ...]]:
    """The last ``k`` words of each run of capitalised words, the run split at institution words (``Secretary of
    State Hillary Clinton``: ``Hillary Clinton``; possessive ``'s`` dropped)."""
    english = re.sub(r"'s\b", "", english)
    out = set()
    for m in _CAPITALISED_RUN.finditer(english):
        segment: list[str] = []
        for w in m.group().split() + ["University"]:  # institution words end a name (and the run)
            if w not in NOT_NAMES:
                segment.append(w)
                continue
            if len(segment) >= k:
                out.add(tuple(segment[-k:]))
            segment = []
    return out


def _cuts_with_neighbours(name: DottedName) -> list[list[tuple[str, str]]]:
    """:meth:`DottedName.candidates` with, for each cut, the character beside its open end (``^`` at the
    run's edge)."""
    out = []
    candidates = name.candidates()
    for i, cands in enumerate(candidates):
        kind = _kind(i, len(candidates))
        if kind == "first":
            out.append([(c, name.before[-len(c) - 1] if len(c) < len(name.before) else "^") for c in cands])
        elif kind == "last":
            out.append([(c, name.after[len(c)] if len(c) < len(name.after) else "^") for c in cands])
        else:
            out.append([(c, "") for c in cands])
    return out


def _name_characters(texts: Iterable[str], min_share: float = 0.005) -> set[str]:
    """Characters that stand beside a name's dot in at least ``min_share`` of their uses (``弗``, ``巴``; not
    ``的``, ``党``): the characters that transliterations are written with."""
    beside, total = Counter(), Counter()
    for text in texts:
        total.update(text)
        for m in re.finditer(f"[{DOTS}]", text):
            beside.update(text[max(m.start() - 1, 0) : m.start()] + text[m.end() : m.end() + 1])
    return {c for c, n in beside.items() if n >= 2 and n >= min_share * total[c]}


def _one_cut_per_name(parts: dict[str, str], kind: str, name_chars: set[str]) -> dict[str, str]:
    """Of nested cuts with the same English (``拉克``, ``巴拉克``; ``特朗普``, ``特朗普的``), keep the longest that
    grows from a shorter one by name characters only: ``巴拉克`` and ``特朗普`` stay."""

    def extra(longer: str, shorter: str) -> str | None:  # what the longer cut adds at its open end, if nested
        if kind == "first":
            return longer[: -len(shorter)] if longer.endswith(shorter) and longer != shorter else None
        return longer[len(shorter) :] if longer.startswith(shorter) and longer != shorter else None

    def by_name_chars(added: str | None) -> bool:
        return added is not None and all(c in name_chars for c in added)

    out = {}
    for zh, en in parts.items():
        same = [o for o, e in parts.items() if e == en]
        junk = any(extra(zh, o) is not None and not by_name_chars(extra(zh, o)) for o in same)
        truncated = any(by_name_chars(extra(o, zh)) for o in same)
        if not junk and not truncated:
            out[zh] = en
    return out


def mine_names(pairs: Sequence[tuple[str, str]], min_count: int = 3, min_share: float = 0.6) -> NameLexicon:
    """A :class:`NameLexicon` from (Chinese, English) pairs (module docstring: Mining)."""
    seen: dict[str, Counter] = {k: Counter() for k in KINDS}
    met: dict[str, dict[str, Counter]] = {k: defaultdict(Counter) for k in KINDS}
    beside: dict[str, dict[str, set]] = {k: defaultdict(set) for k in KINDS}
    for zh, en in pairs:
        for name in dotted_names(zh):
            candidates = _cuts_with_neighbours(name)
            windows = _name_windows(en, len(candidates))
            for i, cands in enumerate(candidates):
                kind, words = _kind(i, len(candidates)), {w[i] for w in windows}
                for c, neighbour in cands:
                    seen[kind][c] += 1
                    met[kind][c].update(words)
                    beside[kind][c].add(neighbour)
    lex = NameLexicon()
    for kind in KINDS:
        for zh, words in met[kind].items():
            en, n = max(words.items(), key=lambda kv: (kv[1], kv[0])) if words else ("", 0)
            boundary = kind == "middle" or len(beside[kind][zh]) >= 2
            if n >= min_count and n >= min_share * seen[kind][zh] and boundary:
                lex.parts[kind][zh] = en
    name_chars = _name_characters(zh for zh, _ in pairs)
    for kind, outer in (("first", 0), ("last", -1)):  # a long cut must end in a name character
        lex.parts[kind] = {zh: en for zh, en in lex.parts[kind].items() if len(zh) < 4 or zh[outer] in name_chars}
    for kind in ("first", "last"):
        lex.parts[kind] = _one_cut_per_name(lex.parts[kind], kind, name_chars)
    lex.characters = name_chars
    return lex
