"""Words: what pieces spell, and which words each piece covers, for every reader of links.

* Gold-set and Pharaoh units (:func:`word_units`): a Chinese "word" is **each Chinese character**, or a maximal run of
  other non-space characters (``iPhone``, ``2024``); an English word is a whitespace token.  Chinese has no spaces
  and these units need no segmenter, so they are what a reader (and AER) can check.
* Given words (:func:`pieces_to_words`): the words of a pretokenized pair (gold alignment sets, corpus alignment),
  matched to the pieces by their characters.
* The demo's reading units (jieba words, punctuation apart) are in :mod:`seq2seq.coverage`.
"""

from __future__ import annotations

import re
from typing import Optional, Sequence

_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_BYTE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")
SPECIAL = {"</s>", "<s>", "<pad>"}


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


def source_piece_words(pieces: Sequence[str]) -> list[list[int]]:
    """For each source piece, the Chinese-side word indices it covers (see module docstring)."""
    texts = piece_texts(pieces)
    units = _char_units("".join(texts))
    out, pos = [], 0
    for t in texts:
        out.append(sorted({u for u in units[pos : pos + len(t)] if u >= 0}))
        pos += len(t)
    return out


def chinese_units(text: str) -> list[str]:
    """The Chinese-side words of ``text``: Han characters one by one; runs of other non-space characters as one."""
    words: list[str] = []
    for ch, w in zip(text, _char_units(text)):
        if w >= 0:
            if w == len(words):
                words.append(ch)
            else:
                words[w] += ch
    return words


def source_words(pieces: Sequence[str]) -> list[str]:
    """The Chinese-side words that :func:`source_piece_words` indexes."""
    return chinese_units("".join(piece_texts(pieces)))


def target_words(pieces: Sequence[str]) -> list[str]:
    """The English words that :func:`target_piece_words` indexes."""
    return "".join(piece_texts(pieces)).split()


def target_piece_words(pieces: Sequence[str]) -> list[list[int]]:
    """For each target piece, the indices of the English words (whitespace tokens) it covers: a piece starting
    with "▁" starts a new word, a placeholder's span with spaces (``Tim Cook``) covers several; ``</s>`` none."""
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


def word_units(pieces: Sequence[str], lang: str) -> tuple[list[str], list[list[int]]]:
    """The words of one side and, for each piece, the word indices it covers: Chinese characters (runs of
    other characters as one word) for ``lang="zh"``, whitespace words for ``"en"``; ``</s>`` covers none."""
    if lang == "zh":
        return source_words(pieces), source_piece_words(pieces)
    return target_words(pieces), target_piece_words(pieces)


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
    import unicodedata

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
    """Piece links (source piece, target piece) -> word links, through :func:`pieces_to_words` maps."""
    out = set()
    for i, j in piece_links:
        if i < len(src_map) and j < len(tgt_map):
            out.update((s, t) for s in src_map[i] for t in tgt_map[j])
    return sorted(out)
