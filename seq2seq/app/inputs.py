"""What a person gives the demo, and its checks, with no Gradio in it: the limits of a request, the examples the
page offers, the decoding settings and the direction (the page's names or the API's), and one sentence for a
one-sentence tool.  A check that fails raises :class:`InputError`, whose message the page shows as it is."""

from __future__ import annotations

import numbers
from typing import Optional

from ..decoding import LENGTH_PENALTY_RANGE, MIN_BEAM

MAX_INPUT_CHARS = 2000  # a few paragraphs; longer input is rejected at once with a message
MAX_SENTENCES = 40  # sentences translated in one request
MAX_OWN_CHARS = 1000  # the longest single sentence the one-sentence tools take (your translation, a prefix)
# The widest beam the demo and its API search with: the library takes any from ``decoding.MIN_BEAM`` (greedy); a
# shared server keeps each request quick.  The length penalty's range is the library's (``decoding``).
MAX_BEAM = 10
CONTROL_NAMES = ("Beam size", "Length penalty", "n-best")  # as the page names its controls
API_NAMES = ("beam_size", "length_penalty", "nbest")  # as the API names its arguments

# By source language, the range: everyday, a name and a number in the news, Traditional script (Chinese), two
# sentences at once, a question.
EXAMPLES = {
    "zh": [
        "我明天要去北京看望我的老朋友。",
        "中国经济今年增长了百分之五。",
        "這家餐廳的菜很好吃，但是價格有點貴。",
        "我喜欢吃苹果。今天天气很好。",
        "你叫什么名字？",
    ],
    "en": [
        "I am going to visit my old friend tomorrow.",
        "Donald Trump will visit Beijing next week.",
        "The company had revenue of $123.4 billion in 2023.",
        "I like apples. The weather is nice today.",
        "Where is the library?",
    ],
}
# The directions a demo can serve (a model folder's ``direction``), as the page's switch names them.
DIRECTION_LABELS = {"zh-en": "中→EN", "en-zh": "EN→中"}


class InputError(ValueError):
    """Input we answer with a friendly message instead of a translation."""


def one_sentence(source, what: str = "This view") -> str:
    """The one check of a single sentence given to a one-sentence tool: stripped, not empty, not too long."""
    source = (source or "").strip()
    if not source:
        raise InputError("Please type a sentence first.")
    if len(source) > MAX_OWN_CHARS:
        raise InputError(f"{what} takes one sentence of at most {MAX_OWN_CHARS} characters.")
    return source


def check_direction(direction, available) -> str:
    """The API's ``direction``: one of :data:`DIRECTION_LABELS` that this server has a model for, or an
    :class:`InputError` that says which it has."""
    served = " and ".join(f'"{d}"' for d in available)
    if direction not in DIRECTION_LABELS:
        raise InputError(
            f'direction must be "zh-en" (Chinese to English) or "en-zh" (English to Chinese), '
            f"got {direction!r}; this server translates {served}"
        )
    if direction not in available:
        raise InputError(f'this server has no model for "{direction}"; it translates {served} only')
    return direction


def _whole(x) -> Optional[int]:
    """``x`` as an int if it is a whole number (5 or 5.0), else None."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or x != x or int(x) != x:
        return None
    return int(x)


def _shown(x) -> str:
    """A value as the user typed it: 25 (not 25.0), 2.5, or its repr when it is not a number."""
    return f"{x:g}" if isinstance(x, numbers.Real) and not isinstance(x, bool) else repr(x)


def check_decoding(beam_size, length_penalty, nbest=1, names=CONTROL_NAMES) -> tuple[int, Optional[float], int]:
    """The decoding settings of a request, checked against the library's ranges (a beam of ``MIN_BEAM``, greedy
    search, to :data:`MAX_BEAM`; a length penalty in ``LENGTH_PENALTY_RANGE``, None: the model's own; n-best from 1
    to the beam size), or an :class:`InputError` that names the setting (``names``: the page's, or the API's) and
    its range: nothing out of range is changed to fit."""
    beam_name, lp_name, nbest_name = names
    beam = _whole(beam_size)
    if beam is None or not MIN_BEAM <= beam <= MAX_BEAM:
        raise InputError(
            f"{beam_name} must be a whole number from {MIN_BEAM} (greedy) to {MAX_BEAM}, got {_shown(beam_size)}"
        )
    lo, hi = LENGTH_PENALTY_RANGE
    lp = length_penalty
    if lp is not None:
        if isinstance(lp, bool) or not isinstance(lp, numbers.Real) or not lo <= lp <= hi:  # NaN fails too
            raise InputError(f"{lp_name} must be a number from {lo:g} to {hi:g}, got {_shown(length_penalty)}")
        lp = float(lp)
    n = _whole(nbest)
    if n is None or not 1 <= n <= beam:
        why = " (greedy search keeps one hypothesis)" if beam == 1 else ""
        raise InputError(
            f"{nbest_name} must be a whole number from 1 to the beam size, {beam}{why}, got {_shown(nbest)}"
        )
    return beam, lp, n


def check_api_args(beam_size, length_penalty) -> tuple[int, Optional[float]]:
    """The web API's numbers (:func:`check_decoding`, in the API's names).  A length penalty of None stays None:
    the model's own."""
    for name, x in zip(API_NAMES, (beam_size, length_penalty)):
        if isinstance(x, str):  # a number sent as text is not a number
            raise InputError(f"{name} must be a number, got {x!r}")
    beam, lp, _ = check_decoding(beam_size, length_penalty, 1, API_NAMES)
    return beam, lp
