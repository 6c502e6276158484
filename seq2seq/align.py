"""Hard word alignments from cross-attention, in Pharaoh format (``i-j``: source i, target j, 0-based).

Which attention: by default the **penultimate decoder layer, averaged over its heads** (the last
layer when the decoder has one).  Garg et al. (2019, "Jointly Learning to Align and Translate with
Transformer Models") found that the penultimate layer's attention gives the best alignments: the
last layer is already specialised for predicting the next word.  ``layer=`` and ``head=`` pick others.

Each target piece is aligned to the source piece it attends to most; ``</s>`` on either side is
left out (it absorbs attention that has no lexical target).

Levels:

* ``piece``: indices of sentencepiece pieces (``Translation.source_tokens`` / ``target_tokens``).
* ``word``: on the English side a word is a whitespace-separated token of the output text; on the
  Chinese side a word is **each Chinese character**, or a maximal run of other non-space characters
  (``iPhone``, ``2024``), of the normalised source text (Traditional->Simplified, NFKC).  Chinese is
  written without spaces and no segmenter is assumed, so characters are the units a reader can check.
  A piece aligned to a piece spanning several words links all of them.
"""

from __future__ import annotations

import re
from typing import Optional, Sequence

import numpy as np

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_BYTE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")
SPECIAL = {"</s>", "<s>", "<pad>"}


def attention_matrix(cross_attention: np.ndarray, layer: Optional[int] = None, head: Optional[int] = None) -> np.ndarray:
    """[T, S] attention: one layer (default penultimate), one head or the mean of all heads (default)."""
    n_layers = cross_attention.shape[0]
    if layer is None:
        layer = n_layers - 2 if n_layers > 1 else 0
    a = cross_attention[layer]
    return a.mean(axis=0) if head is None else a[head]


def piece_alignment(source_tokens: Sequence[str], target_tokens: Sequence[str], cross_attention: np.ndarray,
                    layer: Optional[int] = None, head: Optional[int] = None) -> list[tuple[int, int]]:
    """(source piece, target piece) pairs: each target piece to its most-attended source piece."""
    if not target_tokens or not source_tokens:
        return []
    att = attention_matrix(cross_attention, layer, head)
    src_ok = np.array([t not in SPECIAL for t in source_tokens])
    if not src_ok.any():
        return []
    att = np.where(src_ok[None, :], att, -1.0)
    return [(int(att[j].argmax()), j) for j, tok in enumerate(target_tokens) if tok not in SPECIAL]


def _char_units(text: str) -> list[int]:
    """Word index for every character of ``text`` (-1 for spaces): Han characters are words of
    their own; runs of other non-space characters form one word."""
    ids, w, prev_run = [], -1, False
    for ch in text:
        if ch.isspace():
            ids.append(-1)
            prev_run = False
        elif _HAN.match(ch):
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
    texts, pending = [], b""
    for p in pieces:  # byte-fallback pieces: attach the whole character to the piece that completes it
        m = _BYTE.match(p)
        if m:
            pending += bytes([int(m.group(1), 16)])
            try:
                texts.append(pending.decode("utf-8"))
                pending = b""
            except UnicodeDecodeError:
                texts.append("")
        else:
            texts.append("" if p in SPECIAL else p.replace("\u2581", " "))
    units = _char_units("".join(texts))
    out, pos = [], 0
    for t in texts:
        out.append(sorted({u for u in units[pos: pos + len(t)] if u >= 0}))
        pos += len(t)
    return out


def target_piece_words(pieces: Sequence[str]) -> list[Optional[int]]:
    """For each target piece, the index of the English word (whitespace token) it belongs to:
    a piece starting with "▁" starts a new word; ``</s>`` belongs to none."""
    out, w = [], -1
    for p in pieces:
        if p in SPECIAL:
            out.append(None)
            continue
        if p.startswith("\u2581") or w < 0:
            w += 1
        out.append(w)
    return out


def word_alignment(source_tokens: Sequence[str], target_tokens: Sequence[str], cross_attention: np.ndarray,
                   layer: Optional[int] = None, head: Optional[int] = None) -> list[tuple[int, int]]:
    """(Chinese word, English word) pairs, derived from :func:`piece_alignment`."""
    src_words = source_piece_words(source_tokens)
    tgt_words = target_piece_words(target_tokens)
    pairs = set()
    for i, j in piece_alignment(source_tokens, target_tokens, cross_attention, layer, head):
        if tgt_words[j] is not None:
            pairs.update((s, tgt_words[j]) for s in src_words[i])
    return sorted(pairs)


def pharaoh(pairs: Sequence[tuple[int, int]]) -> str:
    return " ".join(f"{i}-{j}" for i, j in pairs)


def alignment_line(translations: Sequence, level: str = "word", layer: Optional[int] = None,
                   head: Optional[int] = None) -> str:
    """Pharaoh line for one input line, which may have been translated in several parts: indices of later
    parts are offset by the words/pieces of the earlier ones (output text is the parts joined by spaces)."""
    fn = word_alignment if level == "word" else piece_alignment
    pairs, s_off, t_off = [], 0, 0
    for t in translations:
        if t.cross_attention is None:
            raise ValueError("alignments need translations made with return_attention=True")
        for i, j in fn(t.source_tokens, t.target_tokens, t.cross_attention, layer, head):
            pairs.append((i + s_off, j + t_off))
        if level == "word":
            s_off += len({u for ws in source_piece_words(t.source_tokens) for u in ws})
            t_off += len(t.text.split())
        else:
            s_off += len(t.source_tokens)
            t_off += len(t.target_tokens)
    return pharaoh(pairs)
