"""The demo's Gradio page: the input and the translation, the tabs (``tabs.py``), and the API endpoints.

One sentence, one state: a translation is one ``Prediction`` (``predict.py``) held in ``Demo.pred``, made
with everything the views need.  A new translation, or another sentence picked, blanks every view in the same
update, then draws the open one; a view that is opened draws itself when what it shows is not the current
sentence.  Every view names its sentence, so no view can show a sentence other than the one in the boxes.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .batching import MicroBatcher
from .chips import coverage_html
from .predict import (EXAMPLES, LANGUAGE_NAMES, InputError, Prediction, check_api_args, details_json, log, predict,
                      score_translation, translate_requests)

# Requests decoded together at most, and how long the first one waits for company (seconds).
MAX_BATCH, MAX_WAIT = 16, 0.01
# Requests handled at once (they meet in the batcher) and waiting at most; more get "queue full".
CONCURRENCY, QUEUE_SIZE = 16, 64
CSS = ".s2s-flag sup { color: #c2410c; margin-left: 2px; } .s2s-chip { cursor: default; }"
# What launch() needs beside the Blocks (Gradio 6 takes page CSS there).
LAUNCH_OPTIONS = {"css": CSS}


def clear_toasts(n_inputs: int) -> str:
    """JavaScript run in the browser before an action: close the toasts of earlier warnings (their cause is gone)
    and pass the action's ``n_inputs`` input values on (Gradio hands it the inputs, then the outputs)."""
    return ("(...args) => { document.querySelectorAll('[data-testid=\"toast-close\"]').forEach(b => b.click()); "
            f"return args.slice(0, {n_inputs}); }}")


def user_errors(what: str, fallback: Optional[Callable[[str], object]] = None, api: Optional[str] = None):
    """Decorate an event handler: bad input (:class:`InputError`) becomes a warning toast and ``fallback(message)``
    (default: nothing changes); anything else is logged and becomes a generic ``gr.Error``, never a stack trace.
    ``api``: the endpoint's name; bad input is then an error for the caller and one line in the log."""
    import gradio as gr

    def wrap(fn):
        @functools.wraps(fn)
        def handler(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except InputError as e:
                if api:
                    log.warning("rejected /%s request: %s", api, e)
                    raise gr.Error(str(e), print_exception=False) from None
                gr.Warning(html.escape(str(e)))
                return fallback(str(e)) if fallback else gr.skip()
            except gr.Error:
                raise
            except Exception:  # a bug: the log gets the traceback, the user one sentence
                log.exception("%s failed", what)
                raise gr.Error(f"Sorry, something went wrong while {what}. Please try again with other text.",
                               print_exception=False) from None

        return handler

    return wrap


@dataclass
class View:
    """One tab: the components it fills (a caption naming the sentence first), the controls its drawing reads,
    and how to draw it for a sentence of a prediction or blank it."""

    key: str
    tab: object
    outputs: list
    render: Callable  # (pred, sentence index, *inputs) -> values for outputs
    inputs: list = field(default_factory=list)
    empty: Optional[list] = None  # values for outputs that show nothing (default: None each)
    shown: object = None  # gr.State: "prediction id:sentence" it shows, None when blank
    on_open: Optional[Callable] = None  # the tab's select handler (set by ``wire_views``)

    def blank(self) -> list:
        return list(self.empty) if self.empty is not None else [None] * len(self.outputs)


@dataclass
class Demo:
    """What the tab builders share: the translator and the page's common components."""

    translator: object
    batcher: MicroBatcher
    languages: tuple[str, str]
    pred: object = None  # gr.State: the current Prediction (None before the first translation)
    sentence: object = None  # gr.Dropdown: the sentence every view shows (0-based index)
    mode: object = None
    beam: object = None
    lp: object = None
    nbest: object = None

    @property
    def method(self):
        return self.translator.align_method

    def decoding_beam(self, mode, beam_size) -> int:
        return 1 if mode == "greedy" else int(beam_size)


def key_of(pred: Optional[Prediction], index) -> Optional[str]:
    return None if pred is None else f"{pred.id}:{int(index or 0)}"


def chosen(pred: Optional[Prediction], index):
    """The sentence the views show, or an InputError when there is no translation yet."""
    if pred is None:
        raise InputError("Translate a sentence first.")
    return pred.sentence(index)


def build_demo(translator, model_name: str = "default"):
    """The whole page: input, decoding controls, the translation with its coverage check, the sentence picker,
    one tab per view (``tabs.py``), and the ``translate`` and ``score`` API endpoints."""
    import gradio as gr

    from . import tabs

    languages = getattr(translator, "languages", ("zh", "en"))
    src, tgt = (LANGUAGE_NAMES.get(x, x) for x in languages)
    batcher = MicroBatcher(lambda requests: translate_requests(translator, requests), MAX_BATCH, MAX_WAIT)
    demo_ctx = Demo(translator, batcher, languages)
    default_lp = float(translator.folder_config.decoding["length_penalty"])  # the model's own default
    with gr.Blocks(title=f"seq2seq: {src} → {tgt} with attention maps") as demo:
        gr.Markdown(f"# seq2seq · {src} → {tgt}\nA small Transformer translator that shows its work. Type {src}, "
                    f"press **Translate**, and see which {src} words each {tgt} word comes from. "
                    f"Model: `{html.escape(model_name)}`.")
        inp, btn = _inputs(gr, demo_ctx, src, default_lp)
        out = gr.Textbox(label=tgt, lines=2, interactive=False, elem_id="translation")
        status = gr.Markdown(elem_id="status")
        cover = gr.HTML(elem_id="coverage", js_on_load=None)
        demo_ctx.pred = gr.State(None)
        demo_ctx.sentence = gr.Dropdown([("1", 0)], value=0, label="Sentence (every view shows this one)",
                                        visible=False, elem_id="sentence-pick")
        with gr.Tabs(elem_id="views"):
            views = [tabs.alignment_tab(demo_ctx), tabs.layers_tab(demo_ctx), tabs.steps_tab(demo_ctx),
                     tabs.beam_tab(demo_ctx), tabs.inside_tab(demo_ctx), tabs.own_translation_tab(demo_ctx),
                     tabs.nbest_tab(demo_ctx)]
        open_view = gr.State(views[0].key)
        view_outputs, blanks, refresh = wire_views(gr, demo_ctx, views, open_view)

        # A new translation (or a failed one) blanks every view in the same update that sets the state, so that
        # no view can show another sentence; then the open view is drawn.
        @user_errors("translating", fallback=lambda msg: ("", msg, "", None, gr.update(visible=False), *blanks()))
        def run(text, mode, beam_size, length_penalty, nbest):
            pred = predict(translator, text, demo_ctx.decoding_beam(mode, beam_size), length_penalty, nbest, batcher,
                           full=True)
            status = " ".join(pred.notes) or f"Translated {len(pred.sentences)} sentence(s) in {pred.seconds:.2f} s."
            picks = [(f"{k + 1}: {s.source}", k) for k, s in enumerate(pred.sentences)]
            return (pred.translation, status, coverage_html(pred, languages), pred,
                    gr.update(choices=picks, value=0, visible=len(picks) > 1), *blanks())

        outputs = [out, status, cover, demo_ctx.pred, demo_ctx.sentence, *view_outputs]
        inputs = [inp, demo_ctx.mode, demo_ctx.beam, demo_ctx.lp, demo_ctx.nbest]
        for event in (btn.click, inp.submit):
            event(run, inputs, outputs, js=clear_toasts(len(inputs)), api_visibility="private").then(**refresh)
        demo_ctx.sentence.input(blanks, None, view_outputs, api_visibility="private").then(**refresh)
        _api(gr, translator, batcher, default_lp)
    demo.views = {v.key: v for v in views}  # for tests and scripts: each view's components and render()
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def _inputs(gr, ctx: Demo, src: str, default_lp: float):
    """The source box with its examples and the decoding controls; returns (source box, Translate button)."""
    with gr.Row():
        with gr.Column(scale=3):
            inp = gr.Textbox(label=src, lines=3, elem_id="source",
                             placeholder=f"Type or paste {src} here, or click an example below")
            if ctx.languages[0] in EXAMPLES:
                gr.Examples([[x] for x in EXAMPLES[ctx.languages[0]]], inputs=inp,
                            label="Examples (click one, then Translate)")
        with gr.Column(scale=2):
            ctx.mode = gr.Radio(["beam", "greedy"], value="beam", label="Decoding", elem_id="mode")
            ctx.beam = gr.Slider(2, 10, value=5, step=1, label="Beam size")
            ctx.lp = gr.Slider(0.0, 2.0, value=default_lp, step=0.1,
                               label="Length penalty α (score ÷ length^α; higher → longer)")
            ctx.nbest = gr.Slider(1, 10, value=3, step=1, label="n-best")
    btn = gr.Button("Translate", variant="primary", elem_id="translate-btn")
    return inp, btn


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
            args = values[pos: pos + len(v.inputs)]
            pos += len(v.inputs)
            if pred is not None and v.key == open_key:
                out += list(v.render(pred, index, *args)) + [key_of(pred, index)]
            else:
                out += [gr.skip()] * (len(v.outputs) + 1)
        return out

    refresh = dict(fn=user_errors("drawing the view")(refresh_views), outputs=outputs, api_visibility="private",
                   inputs=[open_view, ctx.pred, ctx.sentence, *flat_inputs])
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
    v.tab.select(v.on_open, [ctx.pred, ctx.sentence, v.shown, *v.inputs], [open_view, *v.outputs, v.shown],
                 api_visibility="private")


def _api(gr, translator, batcher, default_lp: float) -> None:
    """The API endpoints: ``translate`` and ``score``."""

    @user_errors("translating", api="translate")
    def translate(text: str, beam_size: int = 5, length_penalty: float = default_lp, details: bool = False) -> Any:
        """Translate text.  Bad input raises an error (never a message in place of a translation): empty or too
        long text, beam_size outside 1..10, length_penalty outside 0..5.  ``details=True`` returns a dict: the
        translation and, per sentence, its words, the alignment head's links and the words they leave
        unlinked ("not translated?" / "added?"; None for a model without an alignment head)."""
        beam, lp = check_api_args(beam_size, length_penalty)
        pred = predict(translator, text, beam, lp, batcher=batcher)
        return details_json(pred) if details else pred.translation

    gr.api(translate, api_name="translate")

    @user_errors("scoring", api="score")
    def score(chinese: str, english: str) -> dict:
        """Score a translation of one sentence: per-piece and total log-probabilities, the length-normalised
        score (as beam search ranks), word links, and the model's own translation's score."""
        return score_translation(translator, chinese, english).as_json()

    gr.api(score, api_name="score")
