"""The result types of the public API, shared by both engines (PyTorch and CTranslate2); their argument checks
are in :mod:`seq2seq.checks`."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Optional

import numpy as np


@dataclass(kw_only=True)
class Translation:
    """One translation of one source sentence.

    ``text``: the detokenized output.  ``source_tokens``: sentencepiece pieces of the (normalised)
    source followed by ``</s>``: the model reads an end-of-sentence token after the source, and it
    takes part in attention.  ``target_tokens``: the output pieces, *including* the final ``</s>``
    (the decoding step that chose to stop has attention too).  ``alignment_attention``: float32 [len(target_tokens),
    len(source_tokens)], the attention its word links are read from (the alignment head, as the search saw it),
    from either engine.  ``cross_attention``: float32 [layers, heads, len(target_tokens), len(source_tokens)], every
    layer's (the PyTorch engine, or ``return_attention="all"``); every row sums to 1.  ``score``: the
    model log-probability of ``target_tokens`` (sum, *not* length-normalised);
    ``normalized_score``: the score divided by the length penalty, which ranks the n-best list.
    ``nbest``: the n best hypotheses, best first (``nbest[0]`` is this one).  ``search``: which engine and path gave
    it (``ctranslate2``, ``torch``, ``torch (placeholder limits)``, ...).
    """

    text: str
    source_tokens: list[str]
    target_tokens: list[str]
    cross_attention: Optional[np.ndarray]
    score: float
    normalized_score: float
    nbest: list["Translation"] = field(default_factory=list, repr=False)
    # How the model's word links are read from alignment_attention (seq2seq.align.AlignMethod), and the
    # (source, target) languages; the coverage properties below use them.
    align_method: Optional[object] = field(default=None, repr=False)
    languages: tuple[str, str] = field(default=("zh", "en"), repr=False)
    # With translate(..., return_attention="all"): self-attention over source_tokens [layers, heads, S, S] and
    # over target_tokens [layers, heads, T, T] (row t: the step that predicted piece t; zero above the diagonal).
    encoder_attention: Optional[np.ndarray] = field(default=None, repr=False)
    decoder_attention: Optional[np.ndarray] = field(default=None, repr=False)
    # With return_attention="all": every layer's cross-attention [layers, heads, T, S] when its self-attention sees
    # the whole translation (``full_context_layers``), what forced alignment (``align``) reads a full-context head
    # from.
    full_context_attention: Optional[np.ndarray] = field(default=None, repr=False)
    # With translate(..., return_topk=k): per target piece, the k most probable pieces at that step on this
    # hypothesis's path, as (piece, probability), best first.
    topk: Optional[list[list[tuple[str, float]]]] = field(default=None, repr=False)
    # With translate(..., return_tree=True) (beam search): per step, every candidate the search scored (its 2k
    # best), as {"parent": the beam slot it extends (slots of the previous step's "kept" nodes; step 0 extends
    # <s>), "token", "piece", "score": cumulative log-prob, "status": "kept" (+ "slot"), "finished" or "pruned"}.
    tree: Optional[list[list[dict]]] = field(default=None, repr=False)
    # The spans the model carried as placeholders (seq2seq.placeholders), by number: the pieces above show
    # each placeholder piece as its span (unlabel_pieces gives the model's own pieces back).
    placeholders: list[str] = field(default_factory=list, repr=False)
    alignment_attention: Optional[np.ndarray] = field(default=None, repr=False)
    search: str = field(default="", repr=False)
    # The source sentence as given (before Traditional -> Simplified, placeholders and sentencepiece's
    # normalisation): the coverage's source words are shown as typed.
    source_text: str = field(default="", repr=False)

    def __repr__(self) -> str:
        shown = self.cross_attention if self.cross_attention is not None else self.alignment_attention
        att = "None" if shown is None else f"<float32 array {list(shown.shape)}>"
        return (
            f"Translation(text={self.text!r}, source_tokens={len(self.source_tokens)} pieces, "
            f"target_tokens={len(self.target_tokens)} pieces, cross_attention={att}, score={self.score:.3f}, "
            f"normalized_score={self.normalized_score:.3f}, nbest={len(self.nbest)})"
        )

    def keep_forced(self, forced) -> None:
        """Keep what a teacher-forced pass over this translation (``seq2seq.engine.ForcedHypothesis`` with
        ``all_attention`` and ``full_context``) computed and its search did not: encoder and decoder self-attention,
        the full-context cross-attention, and every layer's cross-attention where the search kept none."""
        self.encoder_attention = forced.encoder_attention.numpy()
        self.decoder_attention = forced.decoder_attention.numpy()
        self.full_context_attention = forced.full_context_attention.numpy()
        if self.cross_attention is None:
            self.cross_attention = forced.attention.numpy()

    @functools.cached_property
    def coverage(self):
        """The alignment head's word links, target -> source, with what they leave unlinked
        (:class:`seq2seq.coverage.Coverage`); None without attention, or for a model without an alignment head."""
        from .coverage import coverage

        return coverage(self, self.align_method, self.languages)

    @property
    def unlinked_source_words(self) -> Optional[list[str]]:
        """Source words (not punctuation) that no output word links to: "not translated?" (see seq2seq.coverage)."""
        return None if self.coverage is None else self.coverage.unlinked_source_words

    @property
    def unlinked_target_words(self) -> Optional[list[str]]:
        """Output words (not punctuation) that link to no source word: "added?" (see seq2seq.coverage)."""
        return None if self.coverage is None else self.coverage.unlinked_target_words


@dataclass(kw_only=True)
class Alignment:
    """A given translation run through the model (``Translator.align``: teacher forcing).

    ``source_tokens`` / ``target_tokens``: pieces as in :class:`Translation` (``</s>`` last on both
    sides; a pair read sentence by sentence has one ``</s>`` after each sentence pair, and ``parts`` holds each
    sentence pair's own Alignment).  ``cross_attention``: float32 [layers, heads, len(target_tokens),
    len(source_tokens)], row t being the position that predicted piece t.  ``token_logprobs``: each target
    piece's log-probability (``</s>`` included); ``score``: their sum; ``normalized_score``: the score divided by
    ``len(target_tokens) ** length_penalty``, as beam search ranks hypotheses.  ``links``: (source
    word, target word) pairs under ``method``; ``source_words`` / ``target_words``: the words they index.
    """

    source_tokens: list[str]
    target_tokens: list[str]
    cross_attention: Optional[np.ndarray]
    token_logprobs: np.ndarray
    score: float
    normalized_score: float
    links: list[tuple[int, int]]
    source_words: list[str]
    target_words: list[str]
    method: str = ""
    source_piece_words: list[list[int]] = field(default_factory=list, repr=False)  # piece -> word indices
    target_piece_words: list[list[int]] = field(default_factory=list, repr=False)
    # Every layer's cross-attention when its self-attention sees the whole given target (``full_context_layers``),
    # [layers, heads, T, S]: what a full-context alignment head links from.
    full_context_attention: Optional[np.ndarray] = field(default=None, repr=False)
    # A pair read sentence by sentence (seq2seq.sentence_pairs): each sentence pair's own Alignment, in order.
    parts: list["Alignment"] = field(default_factory=list, repr=False)

    def links_with(self, method) -> list[tuple[int, int]]:
        """Word links read with another :class:`~seq2seq.align.AlignMethod` from the same attention."""
        from .align import method_attention, piece_alignment
        from .words import links_to_words

        if self.parts:  # each sentence pair read on its own
            from .words import offset_links

            sizes = [(len(p.source_words), len(p.target_words)) for p in self.parts]
            return offset_links([p.links_with(method) for p in self.parts], sizes)
        if self.cross_attention is None or not self.target_tokens:
            return []
        pieces = piece_alignment(self.source_tokens, self.target_tokens, method_attention(self, method), method=method)
        return links_to_words(pieces, self.source_piece_words, self.target_piece_words)

    def __repr__(self) -> str:
        return (
            f"Alignment(source_words={self.source_words!r}, target_words={self.target_words!r}, "
            f"links={self.links!r}, score={self.score:.3f})"
        )


def finished_paths(tree: list[list[dict]]) -> list[tuple[list[str], float, int]]:
    """Every finished hypothesis of a beam tree (``Translation.tree``): (its pieces, ``</s>`` included, its
    cumulative log-prob, the step it finished at), found by following parents back to ``<s>``."""
    out = []
    for step, nodes in enumerate(tree):
        for node in nodes:
            if node["status"] != "finished":
                continue
            pieces, parent = [node["piece"]], node["parent"]
            for back in range(step - 1, -1, -1):
                prev = next(n for n in tree[back] if n["status"] == "kept" and n["slot"] == parent)
                pieces.append(prev["piece"])
                parent = prev["parent"]
            out.append((pieces[::-1], node["score"], step))
    return out
