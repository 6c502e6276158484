"""The demo's prediction logic, with no Gradio in it (tested without a browser).

``predict`` checks the input, splits it into sentences and translates them as one batch on the translator's
fast engine (CTranslate2 where it is installed), with the word links the first view shows.  A view that shows
more (every layer's attention, self-attention, the top candidates at every step, the beam tree) asks for it
when it is opened, for the sentence on screen: ``SentenceResult.full`` computes it once on the PyTorch engine,
which gives the same translation.  Per-request data lives in the returned ``Prediction``, its direction
included; nothing is stored on shared objects, so one translator serves concurrent requests, and a page that
serves both directions finds the translator of a prediction from the prediction.
"""

from __future__ import annotations

import functools
import itertools
import logging
import numbers
import re
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..align import AlignMethod
from ..checks import LENGTH_PENALTY_RANGE
from ..direction import LANGUAGE_NAMES, Direction
from ..text import HAN, chunk, join_parts, split_sentences

log = logging.getLogger("seq2seq.app")

MAX_INPUT_CHARS = 2000  # a few paragraphs; longer input is rejected at once with a message
MAX_SENTENCES = 40  # sentences translated in one request
MAX_OWN_CHARS = 1000  # the longest single sentence the one-sentence tools take (your translation, a prefix)
STEP_CANDIDATES = 5  # the step-by-step view shows the 5 most probable pieces at each step
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

_ids = itertools.count(1)


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


_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_LETTER = re.compile(r"[^\W\d_]")


def looks_like(text: str, lang: str, threshold: float = 0.3) -> bool:
    """Does ``text`` look written in ``lang``?  Chinese: at least ``threshold`` of its letters are Chinese
    characters, counting Latin-script words (names such as iPhone, Google) as neutral, as Chinese text uses
    them; text with no Chinese character is not Chinese.  English: at least half its letters are Latin."""
    if lang == "zh":
        han = len(HAN.findall(text))
        others = len(_LETTER.findall(_LATIN_WORD.sub(" ", text))) - han
        return han > 0 and han / (han + others) >= threshold
    letters = _LETTER.findall(text)
    return (
        bool(letters)
        and len(_LATIN_WORD.findall(text)) > 0
        and sum(len(w) for w in _LATIN_WORD.findall(text)) / len(letters) >= 0.5
    )


# An English sentence ends at . ! or ? (and closing quotes or brackets) before a space and a capital or a digit,
# unless the word before the full stop is a title, a common abbreviation or an initial (Mr. Smith, U.S. News).
_EN_SENT_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_EN_NO_END = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|vs|etc|No|Inc|Ltd|Co|Gen|Sen|Rep|Gov)|\b[A-Z]|\.[A-Za-z])\.$"
)


def split_source(text: str, lang: str) -> list[str]:
    """The sentences of ``text``: :func:`seq2seq.text.split_sentences` (Chinese and other full stops, line
    breaks), and for English also at ". " before a capital, as English separates sentences."""
    sentences = split_sentences(text)
    if lang != "en":
        return sentences
    out = []
    for s in sentences:
        start = 0
        for m in _EN_SENT_END.finditer(s):
            head = s[start : m.start()].rstrip("\"')]")
            if head.endswith(".") and _EN_NO_END.search(head):
                continue
            out.append(s[start : m.start()] + m.group().strip())
            start = m.end()
        out.append(s[start:])
    return [x.strip() for x in out if x.strip()]


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


# The widest beam the demo and its API search with: the library takes any (``checks.check_decoding_args``); a shared
# server keeps each request quick.  The length penalty's range is the library's (``checks.LENGTH_PENALTY_RANGE``).
MAX_BEAM = 10
CONTROL_NAMES = ("Beam size", "Length penalty", "n-best")  # as the page names its controls
API_NAMES = ("beam_size", "length_penalty", "nbest")  # as the API names its arguments


def _whole(x) -> Optional[int]:
    """``x`` as an int if it is a whole number (5 or 5.0), else None."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or x != x or int(x) != x:
        return None
    return int(x)


def _shown(x) -> str:
    """A value as the user typed it: 25 (not 25.0), 2.5, or its repr when it is not a number."""
    return f"{x:g}" if isinstance(x, numbers.Real) and not isinstance(x, bool) else repr(x)


def check_decoding(beam_size, length_penalty, nbest=1, names=CONTROL_NAMES) -> tuple[int, Optional[float], int]:
    """The decoding settings of a request, checked against the library's ranges (a beam of 1 to :data:`MAX_BEAM`,
    1 for greedy search; a length penalty in ``LENGTH_PENALTY_RANGE``, None: the model's own; n-best from 1 to
    the beam size), or an :class:`InputError` that names the setting (``names``: the page's, or the API's) and
    its range: nothing out of range is changed to fit."""
    beam_name, lp_name, nbest_name = names
    beam = _whole(beam_size)
    if beam is None or not 1 <= beam <= MAX_BEAM:
        raise InputError(f"{beam_name} must be a whole number from 1 (greedy) to {MAX_BEAM}, got {_shown(beam_size)}")
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


@dataclass
class SentenceResult:
    """One sentence of the input and its translation (``seq2seq.results.Translation``, from the fast engine), and
    ``full``: the same translation with everything the views show, computed when a view first asks for it."""

    source: str
    translation: object
    explain: Optional[Callable[[], object]] = field(default=None, repr=False)  # computes ``full``
    _full: Optional[object] = field(default=None, repr=False)

    @property
    def full(self):
        """The translation with every layer's attention, self-attention, top-k candidates and (beam search) the
        tree: computed once, on the PyTorch engine, when a view first needs it."""
        if self._full is None:
            has_all = self.translation.encoder_attention is not None or not self.target_tokens
            self._full = self.translation if has_all or self.explain is None else self.explain()
        return self._full

    @property
    def text(self) -> str:
        return self.translation.text

    @property
    def source_tokens(self) -> list[str]:
        return self.translation.source_tokens

    @property
    def target_tokens(self) -> list[str]:
        return self.translation.target_tokens

    @property
    def attention(self) -> np.ndarray:
        """Cross-attention [layers, heads, T, S] (of ``full``)."""
        return self.full.cross_attention

    @property
    def nbest(self) -> list[tuple[str, float, float]]:
        """(text, normalised score, log-prob) of each hypothesis, best first."""
        return [(h.text, h.normalized_score, h.score) for h in (self.translation.nbest or [self.translation])]


@dataclass
class Prediction:
    """One request's translation: every sentence, with what the views need.  ``id`` tells views whether
    what they show belongs to this prediction."""

    translation: str
    sentences: list[SentenceResult]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    align_method: Optional[AlignMethod] = None  # how word links are read (the model's alignment head, if any)
    beam_size: int = 5
    length_penalty: float = 1.0
    direction: str = "zh-en"  # the model's: "zh-en" or "en-zh"; the views read the translator and labels from it
    id: int = field(default_factory=lambda: next(_ids))

    @property
    def languages(self) -> tuple[str, str]:
        """(source, target) language codes: ("zh", "en") or ("en", "zh")."""
        return Direction.parse(self.direction).languages

    def sentence(self, index) -> SentenceResult:
        """The sentence at ``index`` (0-based, clamped), the one the views show."""
        return self.sentences[min(max(0, int(index or 0)), len(self.sentences) - 1)]


@dataclass
class Request:
    """A checked request: its sentences and decoding settings (requests with equal ``settings`` can share a batch)."""

    sentences: list[str]
    settings: tuple  # (beam_size, length_penalty or None, nbest, full): full = everything the views show
    notes: list[str]
    t0: float


def prepare(
    translator,
    text: str,
    beam_size: int = 5,
    length_penalty: Optional[float] = None,
    nbest: int = 1,
    full: bool = False,
) -> Request:
    """Check the input and split it into sentences; raises :class:`InputError` with a message for the user."""
    t0 = time.perf_counter()
    source_lang, target_lang = translator.languages
    name = LANGUAGE_NAMES.get(source_lang, source_lang)
    text = (text or "").strip()
    if not text:
        raise InputError(f"Please type some {name} text to translate.")
    if len(text) > MAX_INPUT_CHARS:
        raise InputError(
            f"The input has {len(text)} characters; the demo translates at most {MAX_INPUT_CHARS} "
            "at a time. Please split it into smaller parts."
        )
    beam_size, length_penalty, nbest = check_decoding(beam_size, length_penalty, nbest)
    notes = []
    if not looks_like(text, source_lang):
        notes.append(
            f"This does not look like {name}; the model translates {name} to "
            f"{LANGUAGE_NAMES.get(target_lang, target_lang)}, so the result may be poor. Translated anyway."
        )
    sentences = [part for s in split_source(text, source_lang) for part in fitting(translator, s)]
    if len(sentences) > MAX_SENTENCES:
        raise InputError(
            f"The input has {len(sentences)} sentences; the demo translates at most {MAX_SENTENCES} at a time."
        )
    # length_penalty None: the model folder's own
    return Request(sentences, (beam_size, length_penalty, nbest, bool(full)), notes, t0)


def fitting(translator, sentence: str) -> list[str]:
    """``sentence`` cut into parts the model can read: by characters first, then smaller where a part still has
    more pieces than the model reads (rare characters and emoji take several pieces each)."""
    limit = translator.max_source_tokens
    parts = chunk(sentence, limit // 2)
    codec = translator.codec
    while True:
        lengths = [len(x) for x in codec.source_ids([codec.mask(p)[0] for p in parts])]
        if all(n <= limit for n in lengths):
            return parts
        parts = [
            q
            for p, n in zip(parts, lengths)
            for q in (chunk(p, max(1, len(p) * limit // (2 * n))) if n > limit else [p])
        ]


def translate_requests(translator, requests: list[Request]) -> list[list]:
    """Translate the sentences of requests that share their settings in one batched call; returns each
    request's translations."""
    beam_size, lp, nbest, full = requests[0].settings
    if any(r.settings != requests[0].settings for r in requests):
        raise ValueError("requests in one batch must share their decoding settings")
    flat = [s for r in requests for s in r.sentences]
    views = dict(return_attention="all", return_topk=STEP_CANDIDATES, return_tree=beam_size > 1) if full else {}
    outs = translator.translate(flat, beam_size=beam_size, length_penalty=lp, nbest=nbest, **views)
    per, pos = [], 0
    for r in requests:
        per.append(outs[pos : pos + len(r.sentences)])
        pos += len(r.sentences)
    return per


def finish(translator, request: Request, outs: list) -> Prediction:
    beam_size, lp, nbest, _ = request.settings
    lp = float(translator.config.decoding["length_penalty"]) if lp is None else lp
    results = [
        SentenceResult(src, t, functools.partial(explain_sentence, translator, src, beam_size, lp, nbest))
        for src, t in zip(request.sentences, outs)
    ]
    return Prediction(
        join_parts([r.translation for r in results], translator.direction.target),
        results,
        request.notes,
        time.perf_counter() - request.t0,
        translator.link_method,
        beam_size,
        lp,
        direction_of(translator),
    )


def explain_sentence(translator, source: str, beam_size: int, length_penalty: float, nbest: int):
    """One sentence translated with everything the views show (PyTorch engine): the same search as the fast one,
    so the same translation, with every layer's attention, the top candidates and the beam tree."""
    views = dict(return_attention="all", return_topk=STEP_CANDIDATES, return_tree=beam_size > 1)
    return translator.translate([source], beam_size=beam_size, length_penalty=length_penalty, nbest=nbest, **views)[0]


def direction_of(translator) -> str:
    """A translator's direction, "zh-en" or "en-zh" (from its model folder)."""
    return translator.direction.label


def predict(translator, text: str, batcher=None, **settings) -> Prediction:
    """Split ``text`` into sentences, translate them as one batch, and keep each one's cross-attention.
    ``settings``: those of :func:`prepare` (``beam_size``, ``length_penalty``, ``nbest``, and ``full``: also
    everything the views show).  With a :class:`~seq2seq.app.batching.MicroBatcher`, the sentences share a batch
    with concurrent requests."""
    request = prepare(translator, text, **settings)
    outs = batcher.submit(request).result() if batcher is not None else translate_requests(translator, [request])[0]
    return finish(translator, request, outs)


def nbest_rows(pred: Prediction, index: Optional[int] = None) -> list[list]:
    """n-best table rows (sentence, rank, text, normalised score, log-prob): one sentence, or all."""
    rows = []
    for k, s in enumerate(pred.sentences, 1):
        if index is not None and k - 1 != index:
            continue
        for rank, (text, norm, logp) in enumerate(s.nbest, 1):
            rows.append([k, rank, text, round(norm, 3), round(logp, 3)])
    return rows


def details_json(pred: Prediction) -> dict:
    """The API's ``translate(..., details=True)``: each sentence's translation, words and links, and what the
    alignment head says may be missing ("not translated?") or added (None where the model has no head)."""
    out = []
    for s in pred.sentences:
        cov = s.translation.coverage if s.target_tokens else None
        out.append(
            {
                "source": s.source,
                "translation": s.text,
                "score": round(s.translation.score, 4),
                **(
                    cov.as_json() if cov is not None else {"unlinked_source_words": None, "unlinked_target_words": None}
                ),
            }
        )
    return {"translation": pred.translation, "sentences": out}
