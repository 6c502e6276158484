"""What every tab of the demo shares: the :class:`Demo` context (a translator per direction and the page's common
components), the :class:`View` a tab builder returns, the decorator that turns a handler's errors into toasts,
and the small helpers for "the chosen sentence", a view's caption and redrawing a view when a control changes.
"""

from __future__ import annotations

import functools
import html
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Optional

import gradio as gr

from .inputs import InputError
from .predict import Prediction

log = logging.getLogger("seq2seq.app")
# Attribution asked for under the translation or in a view's button: two at a time at most, so that many people
# asking at once queue for it rather than slow every translation of the page.
HEAVY = dict(concurrency_id="attribution", concurrency_limit=2)


def clear_toasts(n_inputs: int) -> str:
    """JavaScript run in the browser before an action: close the toasts of earlier warnings (their cause is gone)
    and pass the action's ``n_inputs`` input values on (Gradio hands it the inputs, then the outputs)."""
    return (
        "(...args) => { document.querySelectorAll('[data-testid=\"toast-close\"]').forEach(b => b.click()); "
        f"return args.slice(0, {n_inputs}); }}"
    )


def user_errors(what: str, fallback: Optional[Callable[[str], object]] = None, api: Optional[str] = None):
    """Decorate an event handler: bad input (:class:`InputError`) becomes a warning toast and ``fallback(message)``
    (default: nothing changes); anything else is logged and becomes a generic ``gr.Error``, never a stack trace.
    ``api``: the endpoint's name; bad input is then an error for the caller and one line in the log."""

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
                raise gr.Error(
                    f"Sorry, something went wrong while {what}. Please try again with other text.",
                    print_exception=False,
                ) from None

        return handler

    return wrap


@dataclass
class View:
    """One tab: the components it fills (a caption naming the sentence first), the controls its drawing reads,
    how to draw it for a sentence of a prediction or blank it, and ``handlers``: what its buttons and controls
    call, by what they do (``"score"``, ``"walk"``), for tests and scripts to call without a browser."""

    key: str
    tab: gr.Tab
    outputs: list
    render: Callable  # (pred, sentence index, *inputs) -> values for outputs
    inputs: list = field(default_factory=list)
    empty: Optional[list] = None  # values for outputs that show nothing (default: None each)
    handlers: dict[str, Callable] = field(default_factory=dict)
    reports_progress: bool = False  # ``render`` takes ``progress=`` (a view that can take seconds says how far)
    shown: Optional[gr.State] = None  # "prediction id:sentence" it shows, None when blank (set by ``wire_views``)
    on_open: Optional[Callable] = None  # the tab's select handler (set by ``wire_views``)

    def blank(self) -> list:
        return list(self.empty) if self.empty is not None else [None] * len(self.outputs)

    def draw(self, pred, index, *inputs, progress=None) -> list:
        """``render``'s values, with ``progress`` for a view that reports it."""
        if self.reports_progress:
            return list(self.render(pred, index, *inputs, progress=progress))
        return list(self.render(pred, index, *inputs))


@dataclass
class Demo:
    """What the tab builders share: a translator and a batcher per direction, and the page's common components.

    Handlers find a prediction's translator with :meth:`translator_for`; ``default`` (the direction the page
    opens in) only builds the page.  ``follow`` registers a component whose value or labels name a language or
    depend on the model: a switch of direction updates it with ``update(translator)``."""

    translators: dict  # direction ("zh-en", "en-zh") -> Translator
    batchers: dict  # direction -> MicroBatcher
    default: str  # the direction the page opens in
    names: dict = field(default_factory=dict)  # direction -> the model's name, as the header shows it
    pred: Optional[gr.State] = None  # the current Prediction (None before the first translation)
    sentence: Optional[gr.Dropdown] = None  # the sentence every view shows (0-based index)
    mode: Optional[gr.Radio] = None  # the decoding controls: "beam" or "greedy", and their numbers
    beam: Optional[gr.Number] = None
    lp: Optional[gr.Number] = None
    nbest: Optional[gr.Number] = None
    followers: list = field(default_factory=list)  # (component, update(translator))

    def translator_for(self, pred_or_direction):
        """The translator of a prediction, or of a direction (None: the page's default)."""
        d = pred_or_direction.direction if isinstance(pred_or_direction, Prediction) else pred_or_direction
        return self.translators[d or self.default]

    def reverse_of(self, pred):
        """The translator of the other direction, if the page has one (a second opinion on word links)."""
        source, target = pred.languages
        return self.translators.get(f"{target}-{source}")

    @property
    def first(self):
        """The default direction's translator: what the page is built with (never a request's)."""
        return self.translators[self.default]

    def follow(self, make: Callable, update: Callable, **kwargs):
        """``make(**kwargs)`` (a component class) with what ``update(first)`` gives (a value, or ``gr.update``'s
        properties), updated with ``update(translator)`` on a switch of direction."""
        initial = update(self.first)
        if isinstance(initial, dict):
            kwargs.update((k, v) for k, v in initial.items() if k != "__type__")
        else:
            kwargs["value"] = initial
        component = make(**kwargs)
        self.followers.append((component, update))
        return component


def key_of(pred: Optional[Prediction], index) -> Optional[str]:
    return None if pred is None else f"{pred.id}:{int(index or 0)}"


def chosen(pred: Optional[Prediction], index):
    """The sentence the views show, or an InputError when there is no translation yet."""
    if pred is None:
        raise InputError("Translate a sentence first.")
    return pred.sentence(index)


def reporting_progress(fn: Callable) -> Callable:
    """``fn(*values, progress=...)`` as a Gradio handler with a progress bar: Gradio passes its ``gr.Progress`` to
    the positional parameter whose default is one, here the first, before the event's values."""

    def handler(progress=gr.Progress(), *values):
        return fn(*values, progress=progress)

    return handler


def redraw_on(ctx: Demo, view: View, controls: list, event: str = "input", **options) -> None:
    """Redraw ``view`` for the current sentence when one of its ``controls`` changes (``options``: the event's,
    e.g. :data:`HEAVY`)."""

    @user_errors("drawing the view")
    def redraw(pred, index, *args, progress=None):
        return view.blank() if pred is None else view.draw(pred, index, *args, progress=progress)

    for c in controls:
        getattr(c, event)(
            reporting_progress(redraw),
            [ctx.pred, ctx.sentence, *view.inputs],
            view.outputs,
            api_visibility="private",
            **options,
        )


def view_caption(elem_id: str):
    """The line at the top of a view that names the sentence it shows."""
    return gr.HTML(elem_id=elem_id, elem_classes=["s2s-view-caption"], js_on_load=None)


@contextmanager
def view_tab(ctx: Demo, title: str, key: str, intro=None):
    """Open the tab of view ``key``: its caption first (``KEY-caption``, naming the sentence), then ``intro``, a
    text, or ``intro(translator)`` for a text that names the languages (``ctx.follow``).  Yields (the tab, the
    caption) for the builder to add the rest inside the tab."""
    with gr.Tab(title, id=key) as tab:
        caption = view_caption(f"{key}-caption")
        if callable(intro):
            ctx.follow(gr.Markdown, intro)
        elif intro:
            gr.Markdown(intro)
        yield tab, caption
