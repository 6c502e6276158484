"""The web demo: ``predict`` (the translation a page holds, no Gradio) and ``explore`` (the one-sentence tools),
``maps`` (the numbers behind the maps), ``figures`` and ``search_figures`` (Plotly) and ``chips`` (HTML), ``layout``
(the page, the state and the API) with ``views`` (what the tabs share), ``tabs`` and ``search_tabs`` (one builder per
view), ``batching`` and ``server`` (``seq2seq-demo``)."""

from .batching import MicroBatcher
from .chips import word_alignment_html
from .figures import FONT, alignment_figure, all_layers_figure
from .layout import build_demo
from .maps import attention_choices, parse_attention
from .predict import (
    DIRECTION_LABELS,
    EXAMPLES,
    MAX_INPUT_CHARS,
    MAX_SENTENCES,
    InputError,
    Prediction,
    Request,
    SentenceResult,
    check_api_args,
    check_direction,
    finish,
    nbest_rows,
    predict,
    prepare,
    translate_requests,
)

__all__ = [
    "DIRECTION_LABELS",
    "EXAMPLES",
    "FONT",
    "MAX_INPUT_CHARS",
    "MAX_SENTENCES",
    "InputError",
    "MicroBatcher",
    "Prediction",
    "Request",
    "SentenceResult",
    "all_layers_figure",
    "alignment_figure",
    "attention_choices",
    "build_demo",
    "check_api_args",
    "check_direction",
    "finish",
    "nbest_rows",
    "parse_attention",
    "predict",
    "prepare",
    "translate_requests",
    "word_alignment_html",
]
