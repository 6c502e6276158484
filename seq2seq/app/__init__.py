"""The web demo: ``predict`` (logic, no Gradio), ``figures``, ``layout`` (Gradio), ``server`` (``seq2seq-demo``)."""

from .figures import FONT, all_layers_figure, alignment_figure, attention_matrix, parse_choice, word_alignment_html
from .batching import MicroBatcher
from .predict import (EXAMPLES, MAX_INPUT_CHARS, MAX_SENTENCES, InputError, Prediction, Request, SentenceResult, check_api_args, finish, prepare, translate_requests,
                      nbest_rows, predict)


def build_demo(translator, model_name: str = "default"):
    from .layout import build_demo as _build

    return _build(translator, model_name)


__all__ = ["EXAMPLES", "FONT", "MAX_INPUT_CHARS", "MAX_SENTENCES", "InputError", "Prediction", "SentenceResult",
           "all_layers_figure", "alignment_figure", "attention_matrix", "build_demo", "check_api_args", "nbest_rows",
           "parse_choice", "predict", "word_alignment_html"]
