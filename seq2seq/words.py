"""Words: what pieces spell, the words of each language for each use, and which words each piece covers.

Every reader of word links takes its words from here.  A text has words of three kinds, one per use:

* **Gold** units (:func:`gold_units`, :func:`gold_words`): what Pharaoh lines, gold alignment sets and AER count.
  A Chinese "word" is each Chinese character, or a maximal run of other non-space characters (``iPhone``,
  ``2024``); an English word is a whitespace token.  Chinese has no spaces and these units need no segmenter, so
  a reader (and AER) can check them.
* **Reading** units (:func:`reading_units`, :func:`reading_words`): the words a reader sees in the demo's maps,
  coverage flags, attribution and the logit lens.  Chinese is segmented by jieba (a number or Latin name kept
  whole; characters if jieba is not installed); English words are whitespace words with their leading and trailing
  punctuation apart (``tomorrow.`` -> ``tomorrow`` ``.``).
* **Corpus** units (:func:`corpus_words`): what eflomal aligns for the alignment head's training labels: the gold
  Chinese units, and lower-cased English words and punctuation marks.

Given words (a pretokenized pair, the units of a corpus aligner) are matched to the pieces by their characters
(:func:`pieces_to_words`).  :func:`word_spans` and :func:`shown_as_typed` put words back into the text as the user
typed it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple, Optional, Sequence

from .text import HAN

_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_BYTE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")
SPECIAL = {"</s>", "<s>", "<pad>"}


class Units(NamedTuple):
    """The words of one side and, for each piece, the indices of the words it covers (``</s>`` covers none)."""

    words: list[str]
    piece_words: list[list[int]]


# ---------------------------------------------------------------------------------------------
# The text pieces spell
# ---------------------------------------------------------------------------------------------


def piece_texts(pieces: Sequence[str]) -> list[str]:
    """The text each piece stands for ("▁" read as a space).  A character spelt by several byte-fallback
    pieces (``<0xE4>``...) belongs to the piece that completes it; the earlier bytes get ""."""
    texts, pending = [], b""
    for p in pieces:
        m = _BYTE.match(p)
        if m:
            pending += bytes([int(m.group(1), 16)])
            try:
                texts.append(pending.decode("utf-8"))
                pending = b""
            except UnicodeDecodeError:
                texts.append("")
        else:
            pending = b""
            texts.append("" if p in SPECIAL else p.replace("\u2581", " "))
    return texts


# ---------------------------------------------------------------------------------------------
# Gold units: Chinese characters, English whitespace words
# ---------------------------------------------------------------------------------------------


def _char_units(text: str) -> list[int]:
    """Word index for every character of ``text`` (-1 for spaces): Han characters are words of
    their own; runs of other non-space characters form one word."""
    ids, w, prev_run = [], -1, False
    for ch in text:
        if ch.isspace():
            ids.append(-1)
            prev_run = False
        elif _CJK_CHAR.match(ch):
            w += 1
            ids.append(w)
            prev_run = False
        else:
            if not prev_run:
                w += 1
            ids.append(w)
            prev_run = True
    return ids


def gold_words(text: str, lang: str) -> list[str]:
    """The gold units of ``text`` (see the module's docstring): for ``lang="zh"`` Han characters one by one and
    runs of other non-space characters as one; for ``"en"`` whitespace words."""
    if lang != "zh":
        return text.split()
    words: list[str] = []
    for ch, w in zip(text, _char_units(text)):
        if w >= 0:
            if w == len(words):
                words.append(ch)
            else:
                words[w] += ch
    return words


def _character_piece_words(pieces: Sequence[str]) -> list[list[int]]:
    """For each piece, the Chinese gold units it covers."""
    texts = piece_texts(pieces)
    units = _char_units("".join(texts))
    out, pos = [], 0
    for t in texts:
        out.append(sorted({u for u in units[pos : pos + len(t)] if u >= 0}))
        pos += len(t)
    return out


def _space_piece_words(pieces: Sequence[str]) -> list[list[int]]:
    """For each piece, the whitespace words it covers: a piece starting with "▁" starts a new word, a placeholder's
    span with spaces (``Tim Cook``) covers several; ``</s>`` none."""
    out, w, starts = [], -1, True
    for p in pieces:
        if p in SPECIAL:
            out.append([])
            continue
        words = p.replace("\u2581", " ").split()
        starts = starts or p.startswith("\u2581")
        if not words:  # a bare word start belongs to the word that the next piece begins
            out.append([w + 1])
            continue
        first = w + 1 if starts else w
        w, starts = first + len(words) - 1, False
        out.append(list(range(first, w + 1)))
    return out


def gold_units(pieces: Sequence[str], lang: str) -> Units:
    """The gold units (:func:`gold_words`) of the text the pieces spell, and for each piece the units it covers."""
    text = "".join(piece_texts(pieces))
    if lang == "zh":
        return Units(gold_words(text, "zh"), _character_piece_words(pieces))
    return Units(text.split(), _space_piece_words(pieces))


# ---------------------------------------------------------------------------------------------
# Reading units: jieba words, English words with their punctuation apart
# ---------------------------------------------------------------------------------------------

_EDGE_PUNCT = re.compile(r"^(\W*?)(\w.*\w|\w?)(\W*)$", re.S)
# A run of Latin letters and digits, with the punctuation inside numbers and names: one word (1,234 / 3.5% /
# COVID-19), which jieba would cut at the comma.
_LATIN_RUN = re.compile(r"[0-9A-Za-z](?:[0-9A-Za-z]|[.,%'’\-](?=[0-9A-Za-z]))*%?")


def reading_words(text: str, lang: str) -> list[str]:
    """The reading units of ``text`` (see the module's docstring)."""
    if lang == "zh":
        return _jieba_words(text)
    out = []
    for token in text.split():
        lead, core, trail = _EDGE_PUNCT.match(token).groups()
        if core and not any(ch.isalnum() for ch in core):  # e.g. "--": one unit
            lead, core, trail = "", token, ""
        out.extend(w for w in (lead, core, trail) if w)
    return out


def _jieba_words(text: str) -> list[str]:
    try:
        import jieba
    except ImportError:  # the gold units: characters
        return gold_words(text, "zh")
    jieba.setLogLevel(60)  # no "Building prefix dict" chatter
    out, at = [], 0
    for m in _LATIN_RUN.finditer(text):
        out += jieba.lcut(text[at : m.start()]) + [m.group()]
        at = m.end()
    return [w for w in out + jieba.lcut(text[at:]) if w.strip()]


def reading_units(pieces: Sequence[str], lang: str) -> Units:
    """The reading units (:func:`reading_words`) of the text the pieces spell, and for each piece the units it
    covers: a piece with no character of its own (a bare word-start "▁") joins the next word."""
    text = "".join(piece_texts(pieces)).strip()
    words = reading_words(text, lang)
    groups = pieces_to_words(pieces, words) if words else [[] for _ in pieces]
    for i in range(len(groups) - 2, -1, -1):
        if not groups[i] and pieces[i] not in SPECIAL:
            groups[i] = list(groups[i + 1])
    return Units(words, groups)


# ---------------------------------------------------------------------------------------------
# Corpus units: what eflomal aligns
# ---------------------------------------------------------------------------------------------

_EN_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def corpus_words(text: str, lang: str) -> list[str]:
    """The units a corpus aligner reads (see the module's docstring): the gold units of Chinese, and lower-cased
    English words and punctuation marks (``It's`` -> ``it`` ``'`` ``s``), on which eflomal is most accurate."""
    return gold_words(text, "zh") if lang == "zh" else _EN_WORD.findall(text.lower())


# ---------------------------------------------------------------------------------------------
# Given words matched to pieces
# ---------------------------------------------------------------------------------------------


def _fold_case(ch: str) -> str:
    low = ch.lower()
    return low if len(low) == 1 else ch


def pieces_to_words(pieces: Sequence[str], words: Sequence[str]) -> list[list[int]]:
    """For each piece, the indices of the ``words`` it covers.

    ``words`` are the units a gold alignment (or a corpus aligner) uses; the pieces are what the
    tokenizer made of the words joined together.  The match is made on characters, spaces and case
    ignored, after Unicode NFKC (which sentencepiece applies too).  Where normalisation changed characters
    beyond that, the unmatched characters are matched by difflib; a piece still left without a word
    takes its neighbour's.  Byte-fallback pieces of one character share that character's word;
    a piece spanning two words covers both; ``</s>`` covers none.
    """
    texts = piece_texts(pieces)
    out: list[set] = [{w for w in row if w is not None} for row in char_words(pieces, words)]
    # Byte pieces before the one that completes a character share its word.
    for i in range(len(pieces) - 2, -1, -1):
        if not out[i] and _BYTE.match(pieces[i]) and texts[i] == "":
            out[i] = set(out[i + 1])
    return [sorted(s) for s in out]


def char_words(pieces: Sequence[str], words: Sequence[str]) -> list[list[Optional[int]]]:
    """For each piece, the word index of each character of its text (:func:`piece_texts`; None for a space),
    matched as :func:`pieces_to_words` describes."""
    import difflib

    word_chars, word_of = [], []
    for k, w in enumerate(words):
        for ch in unicodedata.normalize("NFKC", w):
            if not ch.isspace():
                word_chars.append(_fold_case(ch))
                word_of.append(k)
    texts = piece_texts(pieces)
    piece_chars = [_fold_case(ch) for t in texts for ch in t if not ch.isspace()]
    char_word = [-1] * len(piece_chars)  # word index for every non-space piece character
    if piece_chars == word_chars:
        char_word = list(word_of)
    else:
        sm = difflib.SequenceMatcher(None, piece_chars, word_chars, autojunk=False)
        for a, b, size in sm.get_matching_blocks():
            for d in range(size):
                char_word[a + d] = word_of[b + d]
        last = 0 if not word_of else word_of[0]
        for c in range(len(char_word)):  # unmatched characters: the previous matched word
            if char_word[c] < 0:
                char_word[c] = last
            last = char_word[c]
    rows, c = [], 0
    for t in texts:
        row: list[Optional[int]] = []
        for ch in t:
            if ch.isspace():
                row.append(None)
            else:
                row.append(char_word[c] if char_word[c] >= 0 else None)
                c += 1
        rows.append(row)
    return rows


def links_to_words(
    piece_links: Sequence[tuple[int, int]], src_map: Sequence[Sequence[int]], tgt_map: Sequence[Sequence[int]]
) -> list[tuple[int, int]]:
    """Piece links (source piece, target piece) -> word links, through piece -> words maps
    (:func:`pieces_to_words`, ``Units.piece_words``)."""
    out = set()
    for i, j in piece_links:
        if i < len(src_map) and j < len(tgt_map):
            out.update((s, t) for s in src_map[i] for t in tgt_map[j])
    return sorted(out)


# ---------------------------------------------------------------------------------------------
# Words in the text as typed
# ---------------------------------------------------------------------------------------------


def word_spans(words: Sequence[str], text: str) -> list[Optional[tuple[int, int]]]:
    """Where each of ``words`` stands in ``text``, as (start, end) offsets.  Where the words spell the text with as
    many characters, spaces aside (the same text, or one that normalisation changed letter for letter: Traditional
    characters, full-width letters, case), they are matched character by character; otherwise each word is found
    in turn, and one that the text does not spell as it is gets None."""
    chars = [k for k, ch in enumerate(text) if not ch.isspace()]
    sizes = [len("".join(w.split())) for w in words]
    spans: list[Optional[tuple[int, int]]] = []
    at = 0
    if all(sizes) and sum(sizes) == len(chars):
        for n in sizes:
            spans.append((chars[at], chars[at + n - 1] + 1))
            at += n
        return spans
    for w in words:
        k = text.find(w, at) if w else -1
        spans.append((k, k + len(w)) if k >= 0 else None)
        at = k + len(w) if k >= 0 else at
    return spans


def shown_as_typed(words: list[str], typed: str) -> list[str]:
    """Words read from the model's pieces shown as ``typed`` (the sentence as the user typed it) has them.  Chinese
    typed in Traditional characters keeps them (the model reads Simplified, NFKC-normalised text: each typed
    character is matched to one normalised character); otherwise words that ``typed`` spells in order but for case
    keep the typed case (the model reads a lower-case "i like apples" restored, :mod:`seq2seq.truecase`).  Where
    neither holds (normalisation changed the length, another spelling), the words stay as they are."""
    return _traditional_as_typed(words, typed) or _case_as_typed(words, typed)


def _traditional_as_typed(words: list[str], typed: str) -> Optional[list[str]]:
    from .tokenizer import to_simplified

    if not typed or not HAN.search(typed) or to_simplified(typed) == typed:
        return None
    typed_chars = [ch for ch in typed if not ch.isspace()]
    normal = [unicodedata.normalize("NFKC", to_simplified(ch)) for ch in typed_chars]
    if any(len(n) != 1 for n in normal) or "".join(normal) != "".join("".join(words).split()):
        return None
    out, at = [], 0
    for w in words:
        n = len("".join(w.split()))
        out.append("".join(typed_chars[at : at + n]) if " " not in w else w)
        at += n
    return out


def _case_as_typed(words: list[str], typed: str) -> list[str]:
    low, out, at = typed.casefold(), [], 0
    for w in words:
        k = low.find(w.casefold(), at)
        if k < 0 or len(w.casefold()) != len(w):
            return list(words)
        out.append(typed[k : k + len(w)])
        at = k + len(w)
    return out


def offset_links(
    part_links: Sequence[Sequence[tuple[int, int]]], word_counts: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Word links of consecutive sentence pairs as links of the pair they make: each part's links shifted by the
    (source, target) words of the parts before it (``word_counts``: each part's numbers of words)."""
    out, s_off, t_off = [], 0, 0
    for links, (n_src, n_tgt) in zip(part_links, word_counts):
        out += [(s + s_off, t + t_off) for s, t in links]
        s_off, t_off = s_off + n_src, t_off + n_tgt
    return out
