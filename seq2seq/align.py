"""Hard word alignments from cross-attention, in Pharaoh format (``i-j``: source i, target j, 0-based).

Which attention (an :class:`AlignMethod`):

* A model trained with the alignment loss (``seq2seq-train``, ``alignment.weight``) names its
  alignment head in its folder's config.json (``"alignment": {"method": "head", "layer", "head",
  "shift"}``); that head is used by default.
* Otherwise the default is the raw-attention rule that was best on the gold dev set (see the model
  card): **Shift-Att** (Chen et al. 2020) in the first decoder layer, heads averaged, read both ways.
* ``shift``: the alignment of target piece t is read from attention row t+1, the decoder position
  whose *input* is piece t, rather than row t, which predicts piece t before it has seen it.

Each target piece is aligned to the source piece it attends to most; ``</s>`` on either side is
left out (it absorbs attention that has no lexical target).  ``symmetrize`` also reads each source piece's
most attentive target piece and combines both directions (see :func:`piece_alignment`).

Readings (:data:`READINGS`, docs/alignment.md): ``min_source_weight`` (read both ways, a source piece no target piece
gives that much attention links nothing: 的, commas, the 电 of a dateline), ``articles`` ("the" takes the links of
the word after it), ``word_pieces`` (given words are read in pieces that never straddle two of them,
:mod:`seq2seq.word_pieces`).  The ``full`` reading (grow-diag with all three) is the shipped default; ``precise``
keeps the links both directions agree on.

Levels: ``piece`` (indices of sentencepiece pieces, ``Translation.source_tokens`` / ``target_tokens``) and
``word`` (the gold units of :mod:`seq2seq.words`: each Chinese character, English whitespace words); a piece
aligned to a piece spanning several words links all of them.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

import numpy as np

from .words import SPECIAL, gold_units, gold_words


@dataclass(frozen=True)
class AlignMethod:
    """Which cross-attention gives the links: ``layer`` (0-based; None = penultimate, negative counts
    from the end), ``head`` (None = mean of all heads) and ``shift`` (read piece t from row t+1)."""

    layer: Optional[int] = None
    head: Optional[int] = None
    shift: bool = False
    label: str = ""  # e.g. "alignment head"; shown in reports
    min_weight: float = 0.0  # a target piece whose largest weight is below this links to nothing
    symmetrize: str = (
        ""  # "": target -> source argmax only; "intersection" or "grow-diag": combined with source -> target
    )
    full_context: bool = False  # read the full-context cross-attention (full_context_layers), not the causal one
    null_to_eos: bool = False  # a target piece whose attention peaks on the source </s> links nothing
    # given words (Translator.align(pretokenized=True)): the pair is read in pieces that never straddle two of them
    word_pieces: bool = False
    # read both ways: a source piece that no target piece gives this much attention links nothing (its null)
    min_source_weight: float = 0.0
    articles: bool = False  # the English article "the", when it links nothing, takes the next word's links

    @property
    def name(self) -> str:
        """For reports, with layers and heads numbered from 1 (``layer``/``head`` fields count from 0)."""
        sure = (
            (", full context" if self.full_context else "")
            + (", </s> = no link" if self.null_to_eos else "")
            + (f", both ways ({self.symmetrize})" if self.symmetrize else "")
            + (f", weight ≥ {self.min_weight:g}" if self.min_weight else "")
            + (f", source weight ≥ {self.min_source_weight:g}" if self.min_source_weight else "")
            + (", articles with their noun" if self.articles else "")
            + (", pieces cut at given words" if self.word_pieces else "")
        )
        if self.label:
            return self.label + sure
        layer = "penultimate layer" if self.layer is None else f"layer {self.layer + 1}"
        head = "heads averaged" if self.head is None else f"head {self.head + 1}"
        return f"{layer}, {head}" + (", shifted" if self.shift else "") + sure

    @classmethod
    def trained_head(cls, layer: int, head: int, **how) -> "AlignMethod":
        """A head taught by the alignment loss (``how``: the other fields), labelled as one in reports."""
        label = f"alignment head (layer {layer + 1}, head {head + 1}" + (", shifted)" if how.get("shift") else ")")
        return cls(layer, head, label=label, **how)

    def to_config(self) -> dict:
        """The model folder's config.json ``alignment`` entry naming this head, which :meth:`from_config` reads
        back: ``"method": "head"`` and every field but the label."""
        return {
            "method": "head",
            **{f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "label"},
        }

    @classmethod
    def from_config(cls, alignment: Optional[dict]) -> "AlignMethod":
        """The model folder's ``alignment`` entry (:meth:`to_config`; a key left out takes its default), or
        :data:`DEFAULT_RAW` when it names no head."""
        unknown = set(alignment or {}) - FOLDER_ALIGNMENT_KEYS
        if unknown:
            raise ValueError(
                f"config.json alignment: unknown keys {sorted(unknown)} (known: {sorted(FOLDER_ALIGNMENT_KEYS)})"
            )
        if not alignment or alignment.get("method") != "head":
            return DEFAULT_RAW
        how = {
            f.name: type(f.default)(alignment[f.name])  # bool, float or str, as the field's default
            for f in dataclasses.fields(cls)
            if f.name in alignment and f.name not in ("layer", "head")
        }
        return cls.trained_head(int(alignment["layer"]), int(alignment["head"]), **how)


# The keys of a model folder's config.json "alignment" entry: AlignMethod's fields but its label, and "method".
FOLDER_ALIGNMENT_KEYS = {"method"} | {f.name for f in dataclasses.fields(AlignMethod)} - {"label"}


# The two readings of an alignment head (docs/alignment.md): "full" links every word that carries a translation, as a
# reader follows a sentence (the shipped zh-en default), "precise" only the links both directions agree on (nearly all
# of them sure links).  Both read the pieces cut at given words.
READINGS = {
    "full": {"symmetrize": "grow-diag", "min_source_weight": 0.1, "articles": True, "word_pieces": True},
    "precise": {"symmetrize": "intersection", "min_source_weight": 0.1, "articles": False, "word_pieces": True},
}


def reading(method: AlignMethod, name: str) -> AlignMethod:
    """``method`` (an alignment head) read the way ``name`` (a key of :data:`READINGS`) says."""
    if name not in READINGS:
        raise ValueError(f"reading must be one of {sorted(READINGS)}, not {name!r}")
    return dataclasses.replace(method, **READINGS[name])


# The text that names a way to read links: seq2seq-align's --method and the demo's attention choices.
#   default | head | full | precise | LAYER[.HEAD][+shift][+full] | layer LAYER, head HEAD | layer LAYER, heads averaged
# then +RULE (a key of SYMMETRIZE: both directions read and combined) and @WEIGHT (min_weight).  Layers and heads
# count from 1; "layer 2, head 3" is how AlignMethod.name writes a raw choice, so a name reads back.
_METHOD_TEXT = re.compile(
    r"(?:(?P<word>default|head|full|precise)"
    r"|(?P<layer>\d+)(?:\.(?P<head>\d+))?(?P<shift>\+shift)?(?P<full>\+full)?"
    r"|layer (?P<named_layer>\d+), (?:head (?P<named_head>\d+)|heads averaged))"
    r"(?:\+(?P<rule>[a-z-]+))?(?:@(?P<weight>.*))?"
)


def parse_method(
    text: str, default: AlignMethod, n_layers: int, n_heads: int, head: Optional[AlignMethod] = None
) -> AlignMethod:
    """The :class:`AlignMethod` that ``text`` names (the grammar above): ``default`` is the model's own method,
    ``head`` its alignment head (None: it has none, and ``head``, ``full`` and ``precise`` are refused), ``full``
    and ``precise`` the head's :data:`READINGS`.  ``n_layers``/``n_heads``: the model's decoder, for the range
    check.  A ValueError says what is wrong."""
    m = _METHOD_TEXT.fullmatch(text.strip())
    if m is None or (m["rule"] and m["rule"] not in SYMMETRIZE):
        raise ValueError(
            f"{text!r}: give default, head, full, precise, or LAYER[.HEAD][+shift][+full] (e.g. 2.1+shift), "
            f"optionally +RULE (one of {', '.join(sorted(SYMMETRIZE))}) and @WEIGHT"
        )
    try:
        min_weight = float(m["weight"]) if m["weight"] is not None else None
    except ValueError:
        raise ValueError(f"{text!r}: the part after @ must be a number (a minimum weight)") from None
    if m["word"] == "default":
        method = default
    elif m["word"]:
        if head is None:
            raise ValueError("this model has no alignment head (it was trained without the alignment loss)")
        method = head if m["word"] == "head" else reading(head, m["word"])
    else:
        layer, one = (m["layer"], m["head"]) if m["layer"] else (m["named_layer"], m["named_head"])
        if not 1 <= int(layer) <= n_layers or (one and not 1 <= int(one) <= n_heads):
            raise ValueError(f"{text!r}: LAYER counts from 1 to {n_layers}, HEAD from 1 to {n_heads}")
        method = AlignMethod(
            layer=int(layer) - 1,
            head=int(one) - 1 if one else None,
            shift=bool(m["shift"]),
            full_context=bool(m["full"]),
        )
    if m["rule"]:
        method = dataclasses.replace(method, symmetrize=m["rule"])
    return method if min_weight is None else dataclasses.replace(method, min_weight=min_weight)


# For a model without an alignment head: the raw-attention rule with the lowest AER on align-dev (Shift-Att in the
# first decoder layer, heads averaged, read both ways and grown), since raw attention alone links poorly.
DEFAULT_RAW = AlignMethod(layer=0, head=None, shift=True, symmetrize="grow-diag")


def method_attention(result, method: Optional[AlignMethod]) -> Optional[np.ndarray]:
    """The attention ``method`` reads from a Translation or Alignment: ``full_context_attention`` for a
    full-context method, else ``cross_attention`` (every layer's, [L, H, T, S]), or where a translation has only the
    head its links are read from (the CTranslate2 engine), that head's ``alignment_attention`` [T, S]."""
    if method is not None and method.full_context:
        att = getattr(result, "full_context_attention", None)
        if att is None and result.target_tokens:
            raise ValueError(
                f"{method.name} reads full-context attention, which this result does not have "
                "(translate with return_attention='all', or align, with this model)"
            )
        return att
    if result.cross_attention is not None or getattr(result, "alignment_attention", None) is None:
        return result.cross_attention
    own = getattr(result, "align_method", None)
    if method is not None and own is not None and (method.layer, method.head) != (own.layer, own.head):
        raise ValueError(
            f"{method.name} reads a layer this translation has no attention of (it has the alignment head's only): "
            "translate with return_attention='all'"
        )
    return result.alignment_attention


def attention_matrix(
    cross_attention: np.ndarray, layer: Optional[int] = None, head: Optional[int] = None, shift: bool = False
) -> np.ndarray:
    """[T, S] attention of one layer (default penultimate), one head or the mean of all heads (default); a [T, S]
    matrix (one head already) is taken as it is.

    ``shift=True``: row t is taken from row t+1 (the last row, which belongs to ``</s>``, becomes zeros)."""
    if cross_attention.ndim == 2:
        a = cross_attention
    else:
        n_layers = cross_attention.shape[0]
        if layer is None:
            layer = n_layers - 2 if n_layers > 1 else 0
        a = cross_attention[layer]
        a = a.mean(axis=0) if head is None else a[head]
    if shift:
        a = np.concatenate([a[1:], np.zeros_like(a[:1])], axis=0)
    return a


def piece_alignment(
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    cross_attention: np.ndarray,
    layer: Optional[int] = None,
    head: Optional[int] = None,
    method: Optional[AlignMethod] = None,
) -> list[tuple[int, int]]:
    """(source piece, target piece) pairs: each target piece to its most-attended source piece.
    ``method.symmetrize`` also reads the other direction, each source piece to the target piece that attends to
    it most, and combines the two as statistical aligners do: ``"intersection"`` keeps the links both directions
    agree on (SimAlign's "ArgMax", Jalili Sabet et al. 2020); ``"grow-diag"`` (Koehn et al. 2005) starts
    from those and adds links of either direction next to an accepted one (diagonals too) that align a piece
    not aligned yet, so that e.g. both "I" and "like" keep their link to the one piece 我喜欢.
    ``method`` overrides ``layer``/``head``."""
    if not target_tokens or not source_tokens:
        return []
    m = method or AlignMethod(layer, head)
    att = attention_matrix(cross_attention, m.layer, m.head, m.shift)
    src_ok = np.array([t not in SPECIAL for t in source_tokens])
    if not src_ok.any():
        return []
    tgt_ok = np.array([t not in SPECIAL for t in target_tokens])
    if m.null_to_eos:  # a piece that looks at the source </s> most is linked to nothing, in both directions
        eos = np.array([t == "</s>" for t in source_tokens])
        if eos.any():
            tgt_ok &= att[:, eos].max(-1) < np.where(src_ok[None, :], att, -1.0).max(-1)
    att = np.where(src_ok[None, :] & tgt_ok[:, None], att, -1.0)
    best = att.argmax(-1)
    forward = {(int(best[j]), j) for j in range(len(target_tokens)) if tgt_ok[j] and att[j, best[j]] >= m.min_weight}
    if m.symmetrize:
        if m.symmetrize not in SYMMETRIZE:
            raise ValueError(f"symmetrize must be '' or one of {sorted(SYMMETRIZE)}, got {m.symmetrize!r}")
        if not tgt_ok.any():
            return []
        best_target = att.argmax(0)  # for each source piece, the target piece that attends to it most
        backward = {
            (i, int(best_target[i]))
            for i in range(len(source_tokens))
            if src_ok[i] and att[best_target[i], i] >= m.min_source_weight
        }
        forward = SYMMETRIZE[m.symmetrize](forward, backward)
    if m.articles:
        forward = with_articles(forward, source_tokens, target_tokens)
    return sorted(forward, key=lambda p: (p[1], p[0]))


ARTICLES = {"the"}


def with_articles(links: Iterable[tuple[int, int]], source_tokens: Sequence[str], target_tokens: Sequence[str]) -> set:
    """``links`` where the English article "the" (a piece ``▁the``, any case, on either side), which Chinese does not
    write, links nothing of its own and takes the links of the word right after it: "the United States" -> 美国.
    Annotators who link it at all link it so (align-dev: as a possible link); docs/alignment.md says what it costs
    where they leave it unlinked.  ("a"/"an" are left alone: they often translate 一.)"""
    links = set(links)
    for side, pieces in ((1, target_tokens), (0, source_tokens)):
        linked: dict[int, set] = {}
        for link in links:
            linked.setdefault(link[side], set()).add(link[1 - side])
        for k, piece in enumerate(pieces[:-1]):
            if k in linked or piece[:1] != "\u2581" or piece[1:].lower() not in ARTICLES:
                continue
            others: set = set()
            for n in _next_word(pieces, k + 1):
                others |= linked.get(n, set())
            links |= {(o, k) if side else (k, o) for o in others}
    return links


def _next_word(pieces: Sequence[str], n: int) -> list[int]:
    """The pieces of the word that starts at piece ``n`` (``▁United``, or a bare ``▁`` and the piece after it, then
    the pieces that continue it), if that word is letters and digits; else none."""
    out, m = [], n
    bare = m < len(pieces) and pieces[m] == "\u2581"
    if bare:
        out.append(m)
        m += 1
    if m >= len(pieces) or pieces[m] in SPECIAL or pieces[m].startswith("\u2581") == bare:
        return []
    if not pieces[m].removeprefix("\u2581").isalnum():
        return []
    out.append(m)
    for m in range(m + 1, len(pieces)):
        if pieces[m] in SPECIAL or pieces[m].startswith("\u2581") or not pieces[m].isalnum():
            break
        out.append(m)
    return out


# Symmetrisation of two directional link sets: attention read both ways (piece_alignment) and eflomal's two
# directions (corpus_align).  Links are (source, target) index pairs.
_NEIGHBOURS = [(-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1)]


def intersection(fwd: Iterable[tuple[int, int]], rev: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The links both directions agree on."""
    return sorted(set(fwd) & set(rev))


def grow_diag(fwd: Iterable[tuple[int, int]], rev: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Koehn et al. (2005)'s grow-diag: the intersection, grown by union links that neighbour an accepted
    link (diagonals included) and align a source or target unit not aligned yet."""
    f, r = set(fwd), set(rev)
    union, links = f | r, f & r
    src_done = {i for i, _ in links}
    tgt_done = {j for _, j in links}
    grew = True
    while grew:
        grew = False
        for i, j in sorted(links):
            for di, dj in _NEIGHBOURS:
                p = (i + di, j + dj)
                if p in union and p not in links and (p[0] not in src_done or p[1] not in tgt_done):
                    links.add(p)
                    src_done.add(p[0])
                    tgt_done.add(p[1])
                    grew = True
    return sorted(links)


def grow_diag_final_and(fwd: Iterable[tuple[int, int]], rev: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """grow-diag, then ("final-and") the links of either direction whose both units are still unaligned."""
    f, r = set(fwd), set(rev)
    links = set(grow_diag(f, r))
    src_done = {i for i, _ in links}
    tgt_done = {j for _, j in links}
    for direction in (f, r):
        for i, j in sorted(direction):
            if i not in src_done and j not in tgt_done:
                links.add((i, j))
                src_done.add(i)
                tgt_done.add(j)
    return sorted(links)


def union(fwd: Iterable[tuple[int, int]], rev: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The links of either direction."""
    return sorted(set(fwd) | set(rev))


# The ways to make one set of links from two directions: AlignMethod.symmetrize (a head read both ways),
# seq2seq.bidirectional (two models), seq2seq.corpus_align (eflomal's two directions).
SYMMETRIZE = {
    "intersection": intersection,
    "grow-diag": grow_diag,
    "grow-diag-final-and": grow_diag_final_and,
    "union": union,
}


def word_alignment(
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    cross_attention: np.ndarray,
    languages: tuple[str, str] = ("zh", "en"),
    **how,
) -> list[tuple[int, int]]:
    """(source word, target word) pairs: the links of :func:`piece_alignment` (``how``: its ``layer``, ``head``
    and ``method``) between the gold units (:func:`seq2seq.words.gold_units`) of the (source, target)
    ``languages``."""
    src_words = gold_units(source_tokens, languages[0]).piece_words
    tgt_words = gold_units(target_tokens, languages[1]).piece_words
    pairs = set()
    for i, j in piece_alignment(source_tokens, target_tokens, cross_attention, **how):
        pairs.update((s, t) for s in src_words[i] for t in tgt_words[j])
    return sorted(pairs)


def pharaoh(pairs: Sequence[tuple[int, int]]) -> str:
    return " ".join(f"{i}-{j}" for i, j in pairs)


def alignment_line(
    translations: Sequence,
    level: str = "word",
    layer: Optional[int] = None,
    head: Optional[int] = None,
    method: Optional[AlignMethod] = None,
) -> str:
    """Pharaoh line for one input line, which may have been translated in several parts: indices of later
    parts are offset by the words/pieces of the earlier ones (output text is the parts joined by spaces).  Words
    are the gold units of each translation's ``languages``."""
    pairs, s_off, t_off = [], 0, 0
    for t in translations:
        if t.cross_attention is None and t.alignment_attention is None:
            raise ValueError("alignments need translations made with return_attention=True")
        how = dict(layer=layer, head=head, method=method)
        att = method_attention(t, method)
        found = (
            word_alignment(t.source_tokens, t.target_tokens, att, t.languages, **how)
            if level == "word"
            else piece_alignment(t.source_tokens, t.target_tokens, att, **how)
        )
        pairs += [(i + s_off, j + t_off) for i, j in found]
        if level == "word":
            s_off += len(gold_units(t.source_tokens, t.languages[0]).words)
            t_off += len(gold_words(t.text, t.languages[1]))
        else:
            s_off += len(t.source_tokens)
            t_off += len(t.target_tokens)
    return pharaoh(pairs)
