"""The text that opens each view of the demo, with the languages of the model on screen filled in: one table,
``INTROS``, read by :func:`intro` (the first view's own, which depends on the model's alignment head, is
``tabs.alignment_intro``)."""

from __future__ import annotations

from typing import Callable

from .labels import language_names

# The limits every attribution view states (docs/attribution.md).
LIMITS = (
    "Attribution is not causality: it says where the prediction was sensitive at this sentence (input × "
    "gradient) or how it changes along a path from an all-zero input (integrated gradients), and each method "
    "has its known limits (docs/attribution.md)."
)

# "Why not"'s example, by the output language.
WHY_NOT_EXAMPLE = {"English": "她 → “She” rather than “he”", "Chinese": "“she” → 她 rather than 他"}

# By view key; {src}, {tgt}: the languages; {limits}: LIMITS; {example}: WHY_NOT_EXAMPLE of the output language.
INTROS = {
    "steps": (
        "Each row is one output piece, its probability, and the next candidates the decoder weighed at that step. "
        "Pick another candidate, or type the beginning of the {tgt}, and the model continues from there (with the "
        "same decoding)."
    ),
    "inside": (
        "**Cross-attention**: {tgt} rows attend to {src} columns; its K and V are projections of the encoder output "
        "C, and row t is the attention used while predicting piece t. **Encoder self-attention**: {src} × {src}. "
        "**Decoder self-attention**: {tgt} × {tgt}, zero above the diagonal (the causal mask). Words: weights "
        "summed over a column word's pieces, averaged over a row word's pieces (rows still sum to 1)."
    ),
    "own": (
        "Type your own {tgt} for the sentence: the model scores it piece by piece (forced decoding), compares it "
        "with its own translation, and draws the alignment head's map of yours."
    ),
    "attribution": (
        "**What the model used, beside where it looked.** Left: the alignment head's map, as in the first view. "
        "Right: attribution, how much each {src} word moved each {tgt} word (captum, on the model itself), each "
        "row scaled to its largest; outlined, each {tgt} word's strongest {src} word. The agreement says how often "
        "the two name the same word. Orange **?**: a {tgt} word made mostly from the translation so far (the "
        "source check). {limits}"
    ),
    "whynot": (
        "**Why this word and not that one.** Pick a {tgt} word of the translation and type another word it could "
        "have been (the view offers the model's own runner-up): the difference of their log-probabilities is "
        "shared out over the {src} words and the translation so far (a contrastive explanation, e.g. {example}). "
        "An alternative the vocabulary spells in several pieces is judged by its first. {limits}"
    ),
    "lens": (
        "**Layer by layer (the logit lens).** Each decoder layer's output read as the last layer's is read: a row "
        "per {tgt} piece, a column per layer. Where a row turns dark and stays dark, that layer has decided the "
        "piece. The table lists each layer's three likeliest pieces with their probabilities. The early layers "
        "were never trained to be read this way: their readings are a rough view, not what those layers 'think'."
    ),
}


def intro(key: str) -> Callable:
    """``view_tab``'s intro of view ``key``: a function of the translator on screen that gives its text."""

    def text(tr) -> str:
        src, tgt = language_names(tr)
        return INTROS[key].format(src=src, tgt=tgt, limits=LIMITS, example=WHY_NOT_EXAMPLE.get(tgt, ""))

    return text
