"""The demo's Gradio page: the input and the translation, the tabs (``tabs.py``, ``search_tabs.py``), and the API
endpoints.

One sentence, one state: a translation is one ``Prediction`` (``predict.py``) held in ``Demo.pred``, made
with everything the views need.  A new translation, or another sentence picked, blanks every view in the same
update, then draws the open one; a view that is opened draws itself when what it shows is not the current
sentence.  Every view names its sentence, so no view can show a sentence other than the one in the boxes.

Both ways: a page may serve one model per direction (zh-en, en-zh), with a switch at the top.  The direction is
part of the prediction (``Prediction.direction``), and every handler takes its translator and its languages from
the prediction (``Demo.translator_for(pred)``), never from the page, since many people use one page at once.
A switch of direction clears the boxes and blanks the views, and relabels what names a language.
"""

from __future__ import annotations

import functools
import html
from typing import Any, Callable, Optional

from ..checks import LENGTH_PENALTY_RANGE
from .batching import MicroBatcher
from .chips import coverage_html
from .explore import score_translation
from .predict import (
    DIRECTION_LABELS,
    EXAMPLES,
    LANGUAGE_NAMES,
    MAX_BEAM,
    InputError,
    check_api_args,
    check_direction,
    details_json,
    direction_of,
    looks_like,
    predict,
    translate_requests,
)
from .views import Demo, View, clear_toasts, key_of, language_names, user_errors

# Requests decoded together at most, and how long the first one waits for company (seconds).
MAX_BATCH, MAX_WAIT = 32, 0.01
# Requests handled at once (they meet in the batcher) and waiting at most; more get "queue full".
CONCURRENCY, QUEUE_SIZE = 32, 64
# Help under a control (Gradio's "info") in the body's text colour: Gradio's own grey (#bbbbc2 on white, a
# contrast of 1.9) is too light to read; the body's colour follows the light and dark themes.
CSS = (
    ".s2s-flag sup { color: #c2410c; margin-left: 2px; } .s2s-chip { cursor: default; } "
    ".gradio-container .block .info-text { color: var(--body-text-color); }"
)
# What a screen reader hears when an action is done: Gradio 6 announces the key "common.complete", which its
# English has no text for (it has "chat.complete"), so it read out the key itself.
ANNOUNCEMENTS = {"common.complete": "Done."}


def launch_options() -> dict:
    """What ``launch()`` needs beside the Blocks: the page's CSS (Gradio 6 takes it there) and the texts Gradio
    lacks (:data:`ANNOUNCEMENTS`)."""
    import gradio as gr

    return {"css": CSS, "i18n": gr.I18n(en=ANNOUNCEMENTS)}


def by_direction(translators, model_name) -> tuple[dict, dict]:
    """One translator or several (at most one per direction), with their names -> ({direction: translator},
    {direction: name}), in the order given (the first is the page's default)."""
    many = isinstance(translators, (list, tuple))
    translators = list(translators) if many else [translators]
    names = list(model_name) if isinstance(model_name, (list, tuple)) else [model_name] * len(translators)
    out, named = {}, {}
    for tr, name in zip(translators, names):
        d = direction_of(tr)
        if d in out:
            raise ValueError(f"two models translate {d} ({named[d]} and {name}); give one model per direction")
        out[d], named[d] = tr, name
    return out, named


def build_demo(translators, model_name="default"):
    """The whole page: the direction switch (when there are two models), input, decoding controls, the
    translation with its coverage check, the sentence picker, one tab per view (``tabs.py``,
    ``search_tabs.py``), and the ``translate`` and ``score`` API endpoints.  ``translators``: one Translator, or
    one per direction (a list, the default direction first); ``model_name``: its name, or a list of names, for
    the header."""
    import gradio as gr

    from . import search_tabs, tabs

    found, names = by_direction(translators, model_name)
    batchers = {
        d: MicroBatcher(functools.partial(translate_requests, tr), MAX_BATCH, MAX_WAIT) for d, tr in found.items()
    }
    ctx = Demo(found, batchers, next(iter(found)), names)
    with gr.Blocks(title="seq2seq: " + " · ".join(header(tr)[0] for tr in found.values())) as demo:
        ctx.follow(gr.Markdown, lambda tr: header(tr, names[direction_of(tr)])[1])
        direction = gr.Radio(
            [(DIRECTION_LABELS.get(d, d), d) for d in found],
            value=ctx.default,
            label="Direction",
            visible=len(found) > 1,
            elem_id="direction",
        )
        inp, btn, examples = _inputs(gr, ctx)
        out = ctx.follow(
            gr.Textbox,
            lambda tr: gr.update(label=language_names(tr)[1]),
            lines=2,
            interactive=False,
            elem_id="translation",
        )
        status = gr.Markdown(elem_id="status")
        cover = gr.HTML(elem_id="coverage", js_on_load=None)
        ctx.pred = gr.State(None)
        ctx.sentence = gr.Dropdown(
            [("1", 0)], value=0, label="Sentence (every view shows this one)", visible=False, elem_id="sentence-pick"
        )
        with gr.Tabs(elem_id="views"):
            views = [
                tabs.alignment_tab(ctx),
                tabs.layers_tab(ctx),
                search_tabs.steps_tab(ctx),
                search_tabs.beam_tab(ctx),
                tabs.inside_tab(ctx),
                tabs.own_translation_tab(ctx),
                tabs.nbest_tab(ctx),
            ]
        open_view = gr.State(views[0].key)
        view_outputs, blanks, refresh = wire_views(gr, ctx, views, open_view)

        # A new translation (or a failed one) blanks every view in the same update that sets the state, so that
        # no view can show another sentence; then the open view is drawn.
        @user_errors("translating", fallback=lambda msg: ("", msg, "", None, gr.update(visible=False), *blanks()))
        def run(text, mode, beam_size, length_penalty, nbest, direction=None):
            tr = ctx.translator_for(direction)
            if length_penalty is None:
                raise InputError(
                    "Please give a length penalty (the model's own is "
                    f"{float(tr.config.decoding['length_penalty']):g})."
                )
            greedy = mode == "greedy"
            pred = predict(
                tr,
                text,
                ctx.batchers[direction_of(tr)],
                beam_size=1 if greedy else beam_size,
                length_penalty=length_penalty,
                nbest=1 if greedy else nbest,
            )
            status = " ".join(pred.notes + switch_hint(ctx, text, pred.direction)) or (
                f"Translated {len(pred.sentences)} sentence(s) in {pred.seconds:.2f} s."
            )
            picks = [(f"{k + 1}: {s.source}", k) for k, s in enumerate(pred.sentences)]
            return (
                pred.translation,
                status,
                coverage_html(pred, pred.languages),
                pred,
                gr.update(choices=picks, value=0, visible=len(picks) > 1),
                *blanks(),
            )

        outputs = [out, status, cover, ctx.pred, ctx.sentence, *view_outputs]
        inputs = [inp, ctx.mode, ctx.beam, ctx.lp, ctx.nbest, direction]
        for event in (btn.click, inp.submit):
            event(run, inputs, outputs, js=clear_toasts(len(inputs)), api_visibility="private").then(**refresh)
        ctx.sentence.input(blanks, None, view_outputs, api_visibility="private").then(**refresh)
        _wire_switch(gr, ctx, direction, [inp, *outputs[:5]], examples, blanks, view_outputs)
        _api(gr, ctx)
    demo.views = {v.key: v for v in views}  # for tests and scripts: each view's components and render()
    demo.translators = dict(ctx.translators)  # and the models behind it, by direction
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def header(translator, model_name: str = "") -> tuple[str, str]:
    """("Chinese → English", the page's heading in Markdown) for a translator."""
    src, tgt = language_names(translator)
    return (
        f"{src} → {tgt}",
        f"# seq2seq · {src} → {tgt}\nA small Transformer translator that shows its work. Type "
        f"{src}, press **Translate**, and see which {src} words each {tgt} word comes from. "
        f"Model: `{html.escape(model_name)}`.",
    )


def switch_hint(ctx: Demo, text: str, direction: str) -> list[str]:
    """A note for text in the other direction's source language, when the page serves that direction too."""
    other = "-".join(reversed(direction.split("-")))
    source = other.split("-")[0]
    if other in ctx.translators and not looks_like(text, direction.split("-")[0]) and looks_like(text, source):
        return [
            f"To translate {LANGUAGE_NAMES.get(source, source)}, switch to "
            f"{DIRECTION_LABELS.get(other, other)} at the top."
        ]
    return []


def _inputs(gr, ctx: Demo):
    """The source box with each direction's examples (only the current one's shown) and the decoding controls;
    returns (source box, Translate button, {direction: the column holding its examples})."""
    examples = {}
    with gr.Row():
        with gr.Column(scale=3):
            inp = ctx.follow(
                gr.Textbox,
                lambda tr: gr.update(
                    label=language_names(tr)[0],
                    placeholder=f"Type or paste {language_names(tr)[0]} here, or click an example below",
                ),
                lines=3,
                elem_id="source",
            )
            for d, tr in ctx.translators.items():
                with gr.Column(visible=d == ctx.default, elem_id=f"examples-{d}") as examples[d]:
                    if tr.languages[0] in EXAMPLES:
                        gr.Examples(
                            [[x] for x in EXAMPLES[tr.languages[0]]],
                            inputs=inp,
                            label="Examples (click one, then Translate)",
                        )
        with gr.Column(scale=2):
            _controls(gr, ctx)
    btn = gr.Button("Translate", variant="primary", elem_id="translate-btn")
    return inp, btn, examples


def _controls(gr, ctx: Demo) -> None:
    """The decoding controls, in the library's ranges (``predict.check_decoding``).  Number boxes, not sliders: a
    slider moves a typed value into its range without a word; a box keeps what was typed, and Translate refuses a
    value out of range with a message that gives the range.  The length penalty starts at the model's own."""
    lo, hi = LENGTH_PENALTY_RANGE
    ctx.mode = gr.Radio(["beam", "greedy"], value="beam", label="Decoding", elem_id="mode")
    with gr.Row():
        ctx.beam = ctx.follow(
            gr.Number,
            lambda tr: min(MAX_BEAM, int(tr.config.decoding.get("beam_size", 5))),
            label=f"Beam size (1 to {MAX_BEAM}; 1 = greedy)",
            step=1,
            elem_id="beam-size",
        )
        ctx.nbest = gr.Number(3, label="n-best (1 to the beam size)", step=1, elem_id="nbest")
    ctx.lp = ctx.follow(
        gr.Number,
        lambda tr: float(tr.config.decoding["length_penalty"]),
        label=f"Length penalty α ({lo:g} to {hi:g}; score ÷ length^α, higher → longer)",
        step=0.1,
        elem_id="length-penalty",
    )

    def greedy(mode):  # greedy search keeps one hypothesis: the beam and n-best are not used, and say so
        note = "not used: greedy search keeps one hypothesis" if mode == "greedy" else None
        return [gr.update(interactive=mode != "greedy", info=note)] * 2

    ctx.mode.change(greedy, [ctx.mode], [ctx.beam, ctx.nbest], api_visibility="private")


def _wire_switch(gr, ctx: Demo, direction, boxes: list, examples: dict, blanks: Callable, view_outputs: list):
    """A switch of direction: one sentence, one state, so the boxes (input, output, status, coverage, the
    translation's state, the sentence picker) are cleared and every view blanked; the examples shown are the
    new direction's, and what names a language (``ctx.followers``) is relabelled."""
    followers = [c for c, _ in ctx.followers]
    outputs = list({id(c): c for c in [*boxes, *examples.values(), *view_outputs, *followers]}.values())

    def switch(d):
        tr = ctx.translator_for(check_direction(d, list(ctx.translators)))
        cleared = ["", "", "", "", None, gr.update(choices=[("1", 0)], value=0, visible=False)]
        pairs = [
            *zip(boxes, cleared),
            *((c, gr.update(visible=k == d)) for k, c in examples.items()),
            *zip(view_outputs, blanks()),
            *((c, update(tr)) for c, update in ctx.followers),
        ]
        values = {}
        for c, value in pairs:  # a component both cleared and relabelled gets one update with both
            values[id(c)] = _merge(values[id(c)], value) if id(c) in values else value
        return [values[id(c)] for c in outputs]

    direction.input(
        user_errors("switching direction")(switch), [direction], outputs, js=clear_toasts(1), api_visibility="private"
    )


def _merge(first, then):
    """Two updates of one component as one: values or ``gr.update`` dicts, ``then``'s properties winning."""
    as_dict = lambda x: dict(x) if isinstance(x, dict) else {"__type__": "update", "value": x}
    return {**as_dict(first), **as_dict(then)}


def wire_views(gr, ctx: Demo, views: list[View], open_view) -> tuple[list, Callable, dict]:
    """Connect the views to the state: opening a tab draws it if it is stale.  Returns every view's outputs (its
    components and its ``shown`` state), ``blanks()`` (the values that blank them all), and the event arguments
    that draw the open view and leave the others as they are (blank, or drawn by a tab opened meanwhile)."""
    for v in views:
        v.shown = gr.State(None)
        _wire_open(gr, ctx, v, open_view)
    flat_inputs = [c for v in views for c in v.inputs]
    outputs = [c for v in views for c in v.outputs + [v.shown]]

    def blanks() -> list:
        return [x for v in views for x in v.blank() + [None]]

    def refresh_views(open_key, pred, index, *values):
        out, pos = [], 0
        for v in views:
            args = values[pos : pos + len(v.inputs)]
            pos += len(v.inputs)
            if pred is not None and v.key == open_key:
                out += list(v.render(pred, index, *args)) + [key_of(pred, index)]
            else:
                out += [gr.skip()] * (len(v.outputs) + 1)
        return out

    refresh = dict(
        fn=user_errors("drawing the view")(refresh_views),
        outputs=outputs,
        api_visibility="private",
        inputs=[open_view, ctx.pred, ctx.sentence, *flat_inputs],
    )
    return outputs, blanks, refresh


def _wire_open(gr, ctx: Demo, v: View, open_view) -> None:
    def opened(pred, index, shown, *args):
        key = key_of(pred, index)
        if pred is None:
            return [v.key, *v.blank(), None]
        if shown == key:
            return [v.key] + [gr.skip()] * len(v.outputs) + [shown]
        return [v.key, *v.render(pred, index, *args), key]

    v.on_open = user_errors(f"drawing {v.key}")(opened)
    v.tab.select(
        v.on_open,
        [ctx.pred, ctx.sentence, v.shown, *v.inputs],
        [open_view, *v.outputs, v.shown],
        api_visibility="private",
    )


def _api(gr, ctx: Demo) -> None:
    """The API endpoints: ``translate``, ``score`` and ``attribute``, each with a ``direction`` (the page's default
    direction unless given; one this server has no model for is an error)."""
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

    gr.api(translate, api_name="translate")

    @user_errors("scoring", api="score")
    def score(source: str, translation: str, direction: str = ctx.default) -> dict:
        """Score a translation of one sentence in ``direction``: per-piece and total log-probabilities, the
        length-normalised score (as beam search ranks), word links, and the model's own translation's score."""
        d = check_direction(direction, served)
        return score_translation(ctx.translators[d], source, translation).as_json()

    gr.api(score, api_name="score")

    @user_errors("attributing", api="attribute")
    def attribute(
        source: str, translation: str = "", method: str = "input_x_gradient", direction: str = ctx.default
    ) -> dict:
        """What each output word of one sentence drew on, in the source and in its own previous words
        (``Translator.attribute``, captum; docs/attribution.md): the model's own translation unless
        ``translation`` is given.  ``method``: input_x_gradient (default), integrated_gradients, ablation or
        source_ablation.  Returns the pieces, the words, the source and prefix maps, each word's source share,
        the links read from attribution and their agreement with the alignment head."""
        from ..attribution import METHODS

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

    gr.api(attribute, api_name="attribute")
