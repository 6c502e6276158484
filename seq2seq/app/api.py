"""The demo's web API (``gradio_client``): ``translate``, ``score`` and ``attribute``, each with a ``direction`` (the
page's default direction unless given; one this server has no model for is an error).  Bad input is an error for
the caller, never a message in place of a result, and one line in the server's log."""

from __future__ import annotations

from typing import Any, Callable, Optional

import gradio as gr

from ..attribution import METHODS
from .explore import score_translation
from .inputs import InputError, check_api_args, check_direction
from .predict import details_json, predict
from .views import Demo, user_errors


def add_api(ctx: Demo) -> dict[str, Callable]:
    """Add the endpoints to the page being built; returns their handlers by name."""
    served = list(ctx.translators)

    @user_errors("translating", api="translate")
    def translate(
        text: str,
        beam_size: int = 5,
        length_penalty: Optional[float] = None,
        details: bool = False,
        direction: str = ctx.default,
    ) -> Any:
        """Translate text in ``direction`` ("zh-en" or "en-zh").  Bad input raises an error (never a message in
        place of a translation): empty or too long text, beam_size outside 1..MAX_BEAM (10), length_penalty
        outside the library's 0..5 (None: the model's own), a direction this server does not serve.
        ``details=True`` returns a dict: the translation and, per sentence, its words, the alignment head's links
        and the words they leave unlinked ("not translated?" / "added?"; None for a model without a head)."""
        d = check_direction(direction, served)
        beam, lp = check_api_args(beam_size, length_penalty)
        pred = predict(ctx.translators[d], text, batcher=ctx.batchers[d], beam_size=beam, length_penalty=lp)
        return details_json(pred) if details else pred.translation

    @user_errors("scoring", api="score")
    def score(source: str, translation: str, direction: str = ctx.default) -> dict:
        """Score a translation of one sentence in ``direction``: per-piece and total log-probabilities, the
        length-normalised score (as beam search ranks), word links, and the model's own translation's score."""
        d = check_direction(direction, served)
        return score_translation(ctx.translators[d], source, translation).as_json()

    @user_errors("attributing", api="attribute")
    def attribute(
        source: str, translation: str = "", method: str = "input_x_gradient", direction: str = ctx.default
    ) -> dict:
        """What each output word of one sentence drew on, in the source and in its own previous words
        (``Translator.attribute``, captum; docs/attribution.md): the model's own translation unless
        ``translation`` is given.  ``method``: input_x_gradient (default), integrated_gradients, ablation or
        source_ablation.  Returns the pieces, the words, the source and prefix maps, each word's source share,
        the links read from attribution and their agreement with the alignment head."""
        d = check_direction(direction, served)
        if not source or not source.strip():
            raise InputError("source is empty: give one sentence to explain")
        if method not in METHODS:
            raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        targets = [translation] if translation and translation.strip() else None
        try:
            return ctx.translators[d].attribute([source.strip()], targets, method=method)[0].as_json()
        except ValueError as e:  # a sentence over the model's length limit
            raise InputError(str(e)) from None

    handlers = {"translate": translate, "score": score, "attribute": attribute}
    for name, fn in handlers.items():
        gr.api(fn, api_name=name)
    return handlers
