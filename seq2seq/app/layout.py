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
from dataclasses import dataclass
from typing import Callable

import gradio as gr

from ..decoding import LENGTH_PENALTY_RANGE, MIN_BEAM
from ..direction import LANGUAGE_NAMES
from ..text import looks_like
from . import attribution_tabs, search_tabs, tabs
from .api import add_api
from .attributions import source_checks
from .batching import MicroBatcher
from .chips import coverage_html, source_check_html
from .inputs import DIRECTION_LABELS, EXAMPLES, MAX_BEAM, InputError, check_direction
from .labels import language_names
from .predict import predict, translate_requests
from .views import HEAVY, Demo, View, clear_toasts, key_of, reporting_progress, user_errors

# Requests decoded together at most, and how long the first one waits for company (seconds).
MAX_BATCH, MAX_WAIT = 32, 0.01
# Requests handled at once (they meet in the batcher) and waiting at most; more get "queue full".
CONCURRENCY, QUEUE_SIZE = 32, 64
# The views, in the order of their tabs: one builder each.
VIEWS = (
    tabs.alignment_tab,
    tabs.layers_tab,
    search_tabs.steps_tab,
    search_tabs.beam_tab,
    tabs.inside_tab,
    attribution_tabs.attribution_tab,
    attribution_tabs.why_not_tab,
    attribution_tabs.lens_tab,
    tabs.own_translation_tab,
    tabs.nbest_tab,
)
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
    return {"css": CSS, "i18n": gr.I18n(en=ANNOUNCEMENTS)}


def by_direction(translators, model_name) -> tuple[dict, dict]:
    """One translator or several (at most one per direction), with their names -> ({direction: translator},
    {direction: name}), in the order given (the first is the page's default)."""
    many = isinstance(translators, (list, tuple))
    translators = list(translators) if many else [translators]
    names = list(model_name) if isinstance(model_name, (list, tuple)) else [model_name] * len(translators)
    out, named = {}, {}
    for tr, name in zip(translators, names):
        d = tr.direction.label
        if d in out:
            raise ValueError(f"two models translate {d} ({named[d]} and {name}); give one model per direction")
        out[d], named[d] = tr, name
    return out, named


@dataclass(frozen=True)
class Page:
    """The built page: its Gradio ``blocks`` (to launch), the models behind it by direction, its views by key, and
    the handlers of the page's own controls, which tests and scripts call directly (no browser, no server):
    ``run`` (Translate), ``switch`` (the direction; its updates go to ``switch_outputs`` in order), ``greedy``
    (the decoding mode), ``check_sources`` (the source check under the translation) and the ``api`` endpoints by
    name.  A view's own handlers are on its :class:`~seq2seq.app.views.View`."""

    blocks: gr.Blocks
    translators: dict
    views: dict[str, View]
    run: Callable
    refresh: Callable
    switch: Callable
    switch_outputs: list
    greedy: Callable
    check_sources: Callable
    api: dict[str, Callable]

    def component(self, elem_id: str):
        """The page's component with ``elem_id``."""
        return next(b for b in self.blocks.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def build_demo(translators, model_name="default") -> Page:
    """The whole page: the direction switch (when there are two models), input, decoding controls, the
    translation with its coverage check and the source check, the sentence picker, one tab per view (``tabs.py``,
    ``search_tabs.py``, ``attribution_tabs.py``), and the API endpoints (``api.py``).  ``translators``: one
    Translator, or one per direction (a list, the default direction first); ``model_name``: its name, or a list of
    names, for the header."""
    found, names = by_direction(translators, model_name)
    batchers = {
        d: MicroBatcher(functools.partial(translate_requests, tr), MAX_BATCH, MAX_WAIT) for d, tr in found.items()
    }
    ctx = Demo(found, batchers, next(iter(found)), names)
    with gr.Blocks(title="seq2seq: " + " · ".join(header(tr)[0] for tr in found.values())) as blocks:
        # The API first: Gradio names every event after its handler and gives a name taken a suffix, so the
        # endpoints claim theirs before any of the page's own handlers can.
        api = add_api(ctx)
        ctx.follow(gr.Markdown, lambda tr: header(tr, names[tr.direction.label])[1])
        direction = gr.Radio(
            [(DIRECTION_LABELS[d], d) for d in found],
            value=ctx.default,
            label="Direction",
            visible=len(found) > 1,
            elem_id="direction",
        )
        inp, btn, examples, greedy = _inputs(ctx)
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
        check_box, checked, check_sources = _source_check(ctx)
        ctx.sentence = gr.Dropdown(
            [("1", 0)], value=0, label="Sentence (every view shows this one)", visible=False, elem_id="sentence-pick"
        )
        with gr.Tabs(elem_id="views"):
            views = [build(ctx) for build in VIEWS]
        open_view = gr.State(views[0].key)
        view_outputs, blanks, refresh_event, refresh = wire_views(ctx, views, open_view)

        run = _translate(ctx, blanks)
        outputs = [out, status, cover, ctx.pred, ctx.sentence, checked, *view_outputs]
        inputs = [inp, ctx.mode, ctx.beam, ctx.lp, ctx.nbest, direction]
        for event in (btn.click, inp.submit):
            translated = event(run, inputs, outputs, js=clear_toasts(len(inputs)), api_visibility="private")
            translated.then(**refresh_event)
            translated.then(check_sources, [ctx.pred, check_box], [checked], api_visibility="private", **HEAVY)
        ctx.sentence.input(blanks, None, view_outputs, api_visibility="private").then(**refresh_event)
        switch, switch_outputs = _wire_switch(ctx, direction, [inp, *outputs[:6]], examples, blanks, view_outputs)
    blocks.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return Page(
        blocks=blocks,
        translators=dict(ctx.translators),
        views={v.key: v for v in views},
        run=run,
        refresh=refresh,
        switch=switch,
        switch_outputs=switch_outputs,
        greedy=greedy,
        check_sources=check_sources,
        api=api,
    )


def _translate(ctx: Demo, blanks: Callable) -> Callable:
    """Translate's handler.  A new translation (or a failed one) blanks the source check and every view in the same
    update that sets the state, so that no view can show another sentence; then the open view is drawn, and the
    source check made if asked (events chained after this one)."""

    @user_errors("translating", fallback=lambda msg: ("", msg, "", None, gr.update(visible=False), "", *blanks()))
    def run(text, mode, beam_size, length_penalty, nbest, direction=None):
        tr = ctx.translator_for(direction)
        if length_penalty is None:
            raise InputError(
                f"Please give a length penalty (the model's own is {float(tr.config.decoding['length_penalty']):g})."
            )
        greedy = mode == "greedy"
        pred = predict(
            tr,
            text,
            ctx.batchers[tr.direction.label],
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
            "",
            *blanks(),
        )

    return run


def _source_check(ctx: Demo):
    """The source check under the translation (docs/demo.md): a box to ask for it, where it is shown, and its
    handler.  It is made only when asked, because attribution costs several times the translation itself and the
    first view must stay quick for everyone; once asked, every new translation gets it, after the translation is
    shown."""
    box = gr.Checkbox(
        False,
        label="Check what came from the source",
        info="Marks output words made mostly from the translation's own previous words rather than from the "
        "source (attribution: slower than the translation).",
        elem_id="source-check-box",
    )
    shown = gr.HTML(elem_id="source-check", js_on_load=None)

    @user_errors("checking what came from the source")
    def check_sources(pred, asked, progress=gr.Progress()):
        if pred is None or not asked:
            return ""
        report = lambda done, total: progress((done, total), desc="Checking what came from the source")
        return source_check_html(pred, source_checks(ctx.translator_for(pred), pred, report))

    box.input(check_sources, [ctx.pred, box], [shown], api_visibility="private", **HEAVY)
    return box, shown, check_sources


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
        return [f"To translate {LANGUAGE_NAMES[source]}, switch to {DIRECTION_LABELS[other]} at the top."]
    return []


def _inputs(ctx: Demo):
    """The source box with each direction's examples (only the current one's shown) and the decoding controls;
    returns (source box, Translate button, {direction: the column holding its examples}, the decoding mode's
    handler)."""
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
            greedy = _controls(ctx)
    btn = gr.Button("Translate", variant="primary", elem_id="translate-btn")
    return inp, btn, examples, greedy


def _controls(ctx: Demo) -> Callable:
    """The decoding controls, in the library's ranges (``predict.check_decoding``).  Number boxes, not sliders: a
    slider moves a typed value into its range without a word; a box keeps what was typed, and Translate refuses a
    value out of range with a message that gives the range.  The length penalty starts at the model's own.  Returns
    the decoding mode's handler."""
    lo, hi = LENGTH_PENALTY_RANGE
    ctx.mode = gr.Radio(["beam", "greedy"], value="beam", label="Decoding", elem_id="mode")
    with gr.Row():
        ctx.beam = ctx.follow(
            gr.Number,
            lambda tr: min(MAX_BEAM, int(tr.config.decoding.get("beam_size", 5))),
            label=f"Beam size ({MIN_BEAM} to {MAX_BEAM}; {MIN_BEAM} = greedy)",
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
    return greedy


def _wire_switch(ctx: Demo, direction, boxes: list, examples: dict, blanks: Callable, view_outputs: list):
    """A switch of direction: one sentence, one state, so the boxes (input, output, status, coverage, the
    translation's state, the sentence picker, the source check) are cleared and every view blanked; the examples
    shown are the new direction's, and what names a language (``ctx.followers``) is relabelled.  Returns the
    handler and the components its updates go to."""
    followers = [c for c, _ in ctx.followers]
    outputs = list({id(c): c for c in [*boxes, *examples.values(), *view_outputs, *followers]}.values())

    def switch(d):
        tr = ctx.translator_for(check_direction(d, list(ctx.translators)))
        cleared = ["", "", "", "", None, gr.update(choices=[("1", 0)], value=0, visible=False), ""]
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

    switch = user_errors("switching direction")(switch)
    direction.input(switch, [direction], outputs, js=clear_toasts(1), api_visibility="private")
    return switch, outputs


def _merge(first, then):
    """Two updates of one component as one: values or ``gr.update`` dicts, ``then``'s properties winning."""
    as_dict = lambda x: dict(x) if isinstance(x, dict) else {"__type__": "update", "value": x}
    return {**as_dict(first), **as_dict(then)}


def wire_views(ctx: Demo, views: list[View], open_view) -> tuple[list, Callable, dict, Callable]:
    """Connect the views to the state: opening a tab draws it if it is stale.  Returns every view's outputs (its
    components and its ``shown`` state), ``blanks()`` (the values that blank them all), the event arguments that
    draw the open view and leave the others as they are (blank, or drawn by a tab opened meanwhile), and their
    handler, ``refresh(open key, pred, index, *every view's inputs)`` (in the event, a view that takes long
    reports its progress)."""
    for v in views:
        v.shown = gr.State(None)
        _wire_open(ctx, v, open_view)
    flat_inputs = [c for v in views for c in v.inputs]
    outputs = [c for v in views for c in v.outputs + [v.shown]]

    def blanks() -> list:
        return [x for v in views for x in v.blank() + [None]]

    @user_errors("drawing the view")
    def refresh(open_key, pred, index, *values, progress=None):
        out, pos = [], 0
        for v in views:
            args = values[pos : pos + len(v.inputs)]
            pos += len(v.inputs)
            if pred is not None and v.key == open_key:
                out += list(v.draw(pred, index, *args, progress=progress)) + [key_of(pred, index)]
            else:
                out += [gr.skip()] * (len(v.outputs) + 1)
        return out

    event = dict(
        fn=reporting_progress(refresh),
        outputs=outputs,
        api_visibility="private",
        inputs=[open_view, ctx.pred, ctx.sentence, *flat_inputs],
    )
    return outputs, blanks, event, refresh


def _wire_open(ctx: Demo, v: View, open_view) -> None:
    """Opening ``v``'s tab draws it, unless it shows the current sentence already (``v.on_open``)."""

    def opened(pred, index, shown, *args, progress=None):
        key = key_of(pred, index)
        if pred is None:
            return [v.key, *v.blank(), None]
        if shown == key:
            return [v.key] + [gr.skip()] * len(v.outputs) + [shown]
        return [v.key, *v.draw(pred, index, *args, progress=progress), key]

    v.on_open = user_errors(f"drawing {v.key}")(opened)
    v.tab.select(
        reporting_progress(v.on_open),
        [ctx.pred, ctx.sentence, v.shown, *v.inputs],
        [open_view, *v.outputs, v.shown],
        api_visibility="private",
    )
