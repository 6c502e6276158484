"""What every tab of the demo shares: the :class:`Demo` context (a translator per direction and the page's common
components), the :class:`View` a tab builder returns, the decorator that turns a handler's errors into toasts,
and the small helpers for "the chosen sentence", a view's caption and redrawing a view when a control changes.
"""

from __future__ import annotations

import functools
import html
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Optional

from .predict import LANGUAGE_NAMES, InputError, Prediction, log


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
                raise gr.Error(
                    f"Sorry, something went wrong while {what}. Please try again with other text.",
                    print_exception=False,
                ) from None

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
    """What the tab builders share: a translator and a batcher per direction, and the page's common components.

    Handlers find a prediction's translator with :meth:`translator_for`; ``default`` (the direction the page
    opens in) only builds the page.  ``follow`` registers a component whose value or labels name a language or
    depend on the model: a switch of direction updates it with ``update(translator)``."""

    translators: dict  # direction ("zh-en", "en-zh") -> Translator
    batchers: dict  # direction -> MicroBatcher
    default: str  # the direction the page opens in
    names: dict = field(default_factory=dict)  # direction -> the model's name, as the header shows it
    pred: object = None  # gr.State: the current Prediction (None before the first translation)
    sentence: object = None  # gr.Dropdown: the sentence every view shows (0-based index)
    mode: object = None
    beam: object = None
    lp: object = None
    nbest: object = None
    followers: list = field(default_factory=list)  # (component, update(translator))

    def translator_for(self, pred_or_direction):
        """The translator of a prediction (or of a direction)."""
        d = getattr(pred_or_direction, "direction", pred_or_direction)
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


def language_names(translator) -> tuple[str, str]:
    """("Chinese", "English") or ("English", "Chinese"): a translator's source and target languages by name."""
    return tuple(LANGUAGE_NAMES.get(x, x) for x in translator.languages)


def key_of(pred: Optional[Prediction], index) -> Optional[str]:
    return None if pred is None else f"{pred.id}:{int(index or 0)}"


def chosen(pred: Optional[Prediction], index):
    """The sentence the views show, or an InputError when there is no translation yet."""
    if pred is None:
        raise InputError("Translate a sentence first.")
    return pred.sentence(index)


def gradio():
    """The gradio module, imported when a page is built (the rest of the package works without it)."""
    import gradio as gr

    return gr


def redraw_on(ctx: Demo, view: View, controls: list, event: str = "input") -> None:
    """Redraw ``view`` for the current sentence when one of its ``controls`` changes."""

    def redraw_view(pred, index, *args):
        return view.blank() if pred is None else list(view.render(pred, index, *args))

    for c in controls:
        getattr(c, event)(
            user_errors("drawing the view")(redraw_view),
            [ctx.pred, ctx.sentence, *view.inputs],
            view.outputs,
            api_visibility="private",
        )


def view_caption(elem_id: str):
    """The line at the top of a view that names the sentence it shows."""
    return gradio().HTML(elem_id=elem_id, elem_classes=["s2s-view-caption"], js_on_load=None)


@contextmanager
def view_tab(ctx: Demo, title: str, key: str, intro=None):
    """Open the tab of view ``key``: its caption first (``KEY-caption``, naming the sentence), then ``intro``, a
    text, or ``intro(translator)`` for a text that names the languages (``ctx.follow``).  Yields (gradio, the tab,
    the caption) for the builder to add the rest inside the tab."""
    gr = gradio()
    with gr.Tab(title, id=key) as tab:
        caption = view_caption(f"{key}-caption")
        if callable(intro):
            ctx.follow(gr.Markdown, intro)
        elif intro:
            gr.Markdown(intro)
        yield gr, tab, caption
