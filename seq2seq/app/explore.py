"""What the one-sentence views compute, with no Gradio in it: a user's own translation scored, the search
step by step (with the pieces it could have chosen), one head's computation inside, and the beam tree.
Each takes a translator and one sentence (``inputs.one_sentence`` checks it) and returns plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..decoding import length_penalty
from ..placeholders import PLACEHOLDER
from ..results import Alignment, finished_paths
from ..words import shown_as_typed
from .inputs import InputError, one_sentence
from .labels import piece_text
from .maps import InsideView, WordLinks, word_links
from .predict import STEP_CANDIDATES


@dataclass
class ScoredTranslation:
    """A user's own translation of a sentence, scored by the model (forced decoding), beside the model's own.
    Its words and links (``as_json``) are in the units of the API's ``translate(..., details=True)``: jieba words
    for Chinese (``maps.word_links``), not the characters ``Translator.align`` links."""

    source: str
    text: str
    alignment: Alignment  # pieces, token_logprobs, score, links, cross_attention
    model_text: str
    model_score: float
    model_normalized: float
    words: Optional[WordLinks] = None  # the words and links in the units of /translate's

    def as_json(self) -> dict:
        a = self.alignment
        return {
            "source": self.source,
            "translation": self.text,
            "pieces": a.target_tokens,
            "logprobs": [round(float(x), 4) for x in a.token_logprobs],
            "total": round(a.score, 4),
            "normalized": round(a.normalized_score, 4),
            **self.words.as_json(),
            "model_translation": self.model_text,
            "model_total": round(self.model_score, 4),
            "model_normalized": round(self.model_normalized, 4),
        }


def score_translation(translator, source: str, translation: str, beam_size: int = 5) -> ScoredTranslation:
    """How likely the model finds ``translation`` (in its output language) as a translation of ``source`` (one
    sentence), piece by piece, and how that compares with its own translation.  Raises :class:`InputError` for
    bad input."""
    source = one_sentence(source, "Scoring")
    if not (translation or "").strip():
        raise InputError("Please type your translation to score.")
    translation = one_sentence(translation, "Scoring")
    try:
        aligned = translator.align([source], [translation], by_sentence=False)[0]
    except ValueError as e:  # over the model's length limit
        raise InputError(f"Too long for the model: {e}") from None
    own = translator.translate([source], beam_size=beam_size, return_attention=False)[0]
    words = word_links(aligned, translator.align_method, translator.languages)
    words.source_words = shown_as_typed(words.source_words, source)  # as typed: "i like", not the restored "I like"
    words.target_words = shown_as_typed(words.target_words, translation)
    return ScoredTranslation(
        source=source,
        text=translation,
        alignment=aligned,
        model_text=own.text,
        model_score=own.score,
        model_normalized=own.normalized_score,
        words=words,
    )


@dataclass
class StepView:
    """One sentence decoded step by step: each output piece with its probability and the alternatives the
    decoder saw at that step (on the final hypothesis's path)."""

    source: str
    text: str
    pieces: list[str]
    probabilities: list[float]  # of each chosen piece
    candidates: list[list[tuple[str, float]]]  # per step, best first
    prefix: list[str]  # the pieces the user fixed (empty: the model's own translation)

    def alternatives(self, step: int) -> list[tuple[str, float]]:
        """The candidates at ``step`` other than the piece chosen, best first, less the placeholders that stand for
        no span of the sentence: a placeholder in it is shown as its span (``CEO``); a bare ``⟦4⟧`` is not a piece
        a reader can choose, nor one the model may write here."""
        cands = self.candidates[step] if step < len(self.candidates) else []
        return [(c, q) for c, q in cands if c != self.pieces[step] and c and not PLACEHOLDER.search(c)]

    def rows(self) -> list[list]:
        """Table rows: step, piece, its probability, and the next 4 candidates with theirs (pieces as ``·This``)."""
        out = []
        for t, (piece, p, _) in enumerate(zip(self.pieces, self.probabilities, self.candidates)):
            others = [f"{piece_text(c)} ({q:.3f})" for c, q in self.alternatives(t)][: STEP_CANDIDATES - 1]
            fixed = " (fixed)" if t < len(self.prefix) else ""
            out.append(
                [t + 1, piece_text(piece) + fixed, round(p, 4)] + others + [""] * (STEP_CANDIDATES - 1 - len(others))
            )
        return out


def step_view_of(translator, source: str, t, n_fixed: int = 0) -> StepView:
    """The step view of a translation made with ``return_topk`` (its first ``n_fixed`` pieces forced)."""
    probs = [dict(row).get(piece) for piece, row in zip(t.target_tokens, t.topk or [])]
    if any(p is None for p in probs):  # a piece outside the top-k (forced, or beam search): from forced decoding
        forced = translator.align([source], [t.text], by_sentence=False)[0]
        same = forced.target_tokens == t.target_tokens
        probs = [
            p if p is not None else (float(np.exp(forced.token_logprobs[k])) if same else float("nan"))
            for k, p in enumerate(probs)
        ]
    return StepView(
        source=source,
        text=t.text,
        pieces=t.target_tokens,
        probabilities=probs,
        candidates=t.topk or [],
        prefix=t.target_tokens[:n_fixed],
    )


def step_view(translator, source: str, prefix=None, beam_size: int = 5) -> StepView:
    """Decode ``source`` (one sentence) with the pieces or text ``prefix`` fixed, keeping every step's
    alternatives.  Raises :class:`InputError` for bad input (empty text, a prefix the vocabulary cannot spell)."""
    source = one_sentence(source, "Step by step")
    if isinstance(prefix, str):
        prefix = one_sentence(prefix, "The prefix") if prefix.strip() else None
    try:
        t = translator.translate(
            [source], beam_size=beam_size, prefix=[prefix], return_topk=STEP_CANDIDATES, return_attention=False
        )[0]
    except ValueError as e:  # a piece the vocabulary lacks, or too long for the model
        raise InputError(str(e)) from None
    fixed = translator.codec.encode_prefixes([prefix], 1, [translator.codec.mask(source)[1]])
    return step_view_of(translator, source, t, len(fixed[0]) if fixed else 0)


def continue_with(view: StepView, step: int, piece: str) -> list[str]:
    """The prefix for choosing ``piece`` at ``step`` (0-based): the pieces before it, then it."""
    if not 0 <= step < len(view.pieces):
        raise InputError(f"There is no step {step + 1}.")
    return list(view.pieces[:step]) + [piece]


def inside_view(translator, source: str, beam_size: int = 5):
    """Translate one sentence keeping every kind of attention (:class:`~seq2seq.app.maps.InsideView`)."""
    source = one_sentence(source, "This view")
    try:
        t = translator.translate([source], beam_size=beam_size, return_attention="all")[0]
    except ValueError as e:
        raise InputError(str(e)) from None
    return InsideView(t, translator.languages)


def beam_tree(translator, source: str, beam_size: int = 5):
    """Translate one sentence with beam search keeping its tree."""
    source = one_sentence(source, "The beam tree")
    if beam_size < 2:
        raise InputError("The beam tree needs beam search: choose a beam size of 2 or more.")
    return translator.translate([source], beam_size=beam_size, return_tree=True, return_attention=False)[0]


def greedy_tree(t) -> list[list[dict]]:
    """A greedy translation (made with ``return_topk``) as a beam tree of width 1: at every step the piece it
    chose is the one node kept and the other top candidates are pruned (scores: cumulative log-prob)."""
    tree, total = [], 0.0
    for step, (piece, cands) in enumerate(zip(t.target_tokens, t.topk or [])):
        nodes = []
        for rank, (c, p) in enumerate(cands):
            score = total + float(np.log(max(p, 1e-12)))
            chosen = c == piece
            status = ("finished" if c == "</s>" else "kept") if chosen else "pruned"
            nodes.append({"parent": 0, "piece": c, "score": score, "status": status, **({"slot": 0} if chosen else {})})
        if not any(n["piece"] == piece for n in nodes):  # the chosen piece fell outside the top-k: keep it anyway
            nodes.insert(0, {"parent": 0, "piece": piece, "score": total, "status": "kept", "slot": 0})
        total = next(n["score"] for n in nodes if n["piece"] == piece)
        tree.append(nodes)
    return tree


def best_path(tree, alpha: float) -> list[str]:
    """The pieces of the finished hypothesis that ranks first under score / length ** alpha."""
    paths = finished_paths(tree)
    return max(paths, key=lambda p: p[1] / length_penalty(len(p[0]), alpha))[0] if paths else []


def finished_ranking(tree, alpha: float) -> list[list]:
    """Finished hypotheses ranked by score / length ** alpha: rank, text, length, log-prob, normalised score."""
    rows = []
    for pieces, score, _ in finished_paths(tree):
        text = "".join(pieces[:-1]).replace("\u2581", " ").strip()
        rows.append([text, len(pieces), round(score, 3), round(score / length_penalty(len(pieces), alpha), 4)])
    rows.sort(key=lambda r: r[3], reverse=True)
    return [[k + 1] + r for k, r in enumerate(rows)]
