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
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..align import AlignMethod
from ..direction import LANGUAGE_NAMES, Direction
from ..results import Translation
from ..text import chunk, join_parts, looks_like, split_sentences
from .inputs import MAX_INPUT_CHARS, MAX_SENTENCES, InputError, check_decoding

STEP_CANDIDATES = 5  # the step-by-step view shows the 5 most probable pieces at each step

_ids = itertools.count(1)


@dataclass
class SentenceResult:
    """One sentence of the input and its translation (``seq2seq.results.Translation``, from the fast engine), and
    ``full``: the same translation with everything the views show, computed when a view first asks for it."""

    source: str
    translation: Translation
    explain: Optional[Callable[[], Translation]] = field(default=None, repr=False)  # computes ``full``
    _full: Optional[Translation] = field(default=None, repr=False)
    _computed: dict = field(default_factory=dict, repr=False)

    def once(self, key, compute: Callable[[], object]):
        """What a view computes for this sentence (an attribution by method, the logit lens), computed when it is
        first asked for and kept with the sentence, as ``full`` is."""
        if key not in self._computed:
            self._computed[key] = compute()
        return self._computed[key]

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


@dataclass(frozen=True)
class Settings:
    """A request's decoding settings, checked (:func:`~seq2seq.app.inputs.check_decoding`).  Requests with equal
    settings can share a batch, so it is hashable.  ``length_penalty`` None: the model folder's own; ``full``: also
    everything the views show (every layer's attention, the top candidates at each step, the beam tree)."""

    beam_size: int = 5
    length_penalty: Optional[float] = None
    nbest: int = 1
    full: bool = False


@dataclass
class Request:
    """A checked request: its sentences, its decoding settings, notes for the user and when it started."""

    sentences: list[str]
    settings: Settings
    notes: list[str] = field(default_factory=list)
    t0: float = field(default_factory=time.perf_counter)


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
    name = LANGUAGE_NAMES[source_lang]
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
            f"{LANGUAGE_NAMES[target_lang]}, so the result may be poor. Translated anyway."
        )
    sentences = [part for s in split_sentences(text, source_lang) for part in fitting(translator, s)]
    if len(sentences) > MAX_SENTENCES:
        raise InputError(
            f"The input has {len(sentences)} sentences; the demo translates at most {MAX_SENTENCES} at a time."
        )
    settings = Settings(beam_size=beam_size, length_penalty=length_penalty, nbest=nbest, full=bool(full))
    return Request(sentences, settings, notes, t0)


def fitting(translator, sentence: str) -> list[str]:
    """``sentence`` cut into parts the model can read: by characters first, then smaller where a part still has
    more pieces than the model reads (rare characters and emoji take several pieces each)."""
    limit, lang = translator.max_source_tokens, translator.languages[0]
    parts = chunk(sentence, limit // 2, lang)
    codec = translator.codec
    while True:
        lengths = [len(x) for x in codec.source_ids([codec.mask(p)[0] for p in parts])]
        if all(n <= limit for n in lengths):
            return parts
        parts = [
            q
            for p, n in zip(parts, lengths)
            for q in (chunk(p, max(1, len(p) * limit // (2 * n)), lang) if n > limit else [p])
        ]


def _views(beam_size: int) -> dict:
    """What ``translate`` returns beside the text for the views: every attention, the top candidates at each
    step, and (beam search) the tree."""
    return dict(return_attention="all", return_topk=STEP_CANDIDATES, return_tree=beam_size > 1)


def translate_requests(translator, requests: list[Request], done: Optional[Callable[[int, list], None]] = None):
    """Translate the sentences of requests that share their settings in one batched call; returns each
    request's translations.  ``done(k, translations)``: called for request ``k`` as soon as all its sentences are
    translated (most requests are done before the few sentences that need a PyTorch search with the placeholder
    limits, ``Translator.translate``'s ``ready``)."""
    settings = requests[0].settings
    if any(r.settings != settings for r in requests):
        raise ValueError("requests in one batch must share their decoding settings")
    flat = [s for r in requests for s in r.sentences]
    slot = [(k, j) for k, r in enumerate(requests) for j in range(len(r.sentences))]  # flat sentence -> its request's
    left = [len(r.sentences) for r in requests]
    per: list[list] = [[None] * n for n in left]

    def ready(i: int, t) -> None:
        k, j = slot[i]
        per[k][j] = t
        left[k] -= 1
        if left[k] == 0 and done is not None:
            done(k, per[k])

    translator.translate(
        flat,
        beam_size=settings.beam_size,
        length_penalty=settings.length_penalty,
        nbest=settings.nbest,
        ready=ready,
        **(_views(settings.beam_size) if settings.full else {}),
    )
    return per


def finish(translator, request: Request, outs: list) -> Prediction:
    """The :class:`Prediction` of a request from its translations, each sentence able to compute its ``full``
    translation with the same search (the model's own length penalty where the request gave none)."""
    settings = request.settings
    lp = settings.length_penalty
    lp = float(translator.config.decoding["length_penalty"]) if lp is None else lp
    search = dict(beam_size=settings.beam_size, length_penalty=lp, nbest=settings.nbest)
    results = [
        SentenceResult(src, t, explain=functools.partial(explain_sentence, translator, src, **search))
        for src, t in zip(request.sentences, outs)
    ]
    return Prediction(
        translation=join_parts([r.translation for r in results], translator.direction.target),
        sentences=results,
        notes=request.notes,
        seconds=time.perf_counter() - request.t0,
        align_method=translator.link_method,
        beam_size=settings.beam_size,
        length_penalty=lp,
        direction=translator.direction.label,
    )


def explain_sentence(translator, source: str, beam_size: int, length_penalty: float, nbest: int):
    """One sentence translated with everything the views show (PyTorch engine): the same search as the fast one,
    so the same translation, with every layer's attention, the top candidates and the beam tree."""
    search = dict(beam_size=beam_size, length_penalty=length_penalty, nbest=nbest)
    return translator.translate([source], **search, **_views(beam_size))[0]


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
