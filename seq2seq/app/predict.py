"""The demo's prediction logic, with no Gradio in it (tested without a browser).

``predict`` splits the input into sentences, translates them as one batch and keeps every
sentence's pieces and cross-attention.  Per-request data lives in the returned ``Prediction``;
nothing is stored on shared objects, so one translator serves concurrent requests.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..align import AlignMethod
from ..text import chunk, looks_chinese

log = logging.getLogger("seq2seq.app")

MAX_INPUT_CHARS = 2000  # a few paragraphs; longer input is rejected at once with a message
MAX_SENTENCES = 40
EXAMPLES = ["我喜欢吃苹果。", "今天天气很好。", "你叫什么名字？", "我明天去北京。",
            "这家餐厅的菜很好吃，但是价格有点贵。", "中国经济今年增长了百分之五。"]


class InputError(ValueError):
    """Input we answer with a friendly message instead of a translation."""


@dataclass
class SentenceResult:
    source: str
    text: str
    source_tokens: list[str]
    target_tokens: list[str]
    attention: np.ndarray  # [layers, heads, T, S]
    nbest: list[tuple[str, float, float]]  # (text, normalized score, log-prob)
    full_context_attention: Optional[np.ndarray] = None  # [layers, heads, T, S]: a full-context head links from it


@dataclass
class Prediction:
    translation: str
    sentences: list[SentenceResult]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    align_method: Optional[AlignMethod] = None  # how word links are read (the model's alignment head, if any)


def check_api_args(beam_size, length_penalty) -> tuple[int, float]:
    """Validate the web API's numbers (the UI's sliders cannot go wrong; API callers can)."""
    try:
        beam, lp = int(beam_size), float(length_penalty)
    except (TypeError, ValueError):
        raise InputError(f"beam_size must be an integer and length_penalty a number, got {beam_size!r}, "
                         f"{length_penalty!r}") from None
    if beam != beam_size or not 1 <= beam <= 10:
        raise InputError(f"beam_size must be an integer from 1 (greedy) to 10, got {beam_size!r}")
    if not 0.0 <= lp <= 5.0:
        raise InputError(f"length_penalty must be between 0 and 5, got {length_penalty!r}")
    return beam, lp


@dataclass
class Request:
    """A checked request: its sentences and decoding settings (requests with equal ``settings`` can share a batch)."""

    sentences: list[str]
    settings: tuple  # (beam_size, length_penalty or None, nbest)
    notes: list[str]
    t0: float


def prepare(translator, text: str, beam_size: int = 5, length_penalty: Optional[float] = None,
            nbest: int = 1) -> Request:
    """Check the input and split it into sentences; raises :class:`InputError` with a message for the user."""
    t0 = time.perf_counter()
    text = (text or "").strip()
    if not text:
        raise InputError("Please type some Chinese text to translate.")
    if len(text) > MAX_INPUT_CHARS:
        raise InputError(f"The input has {len(text)} characters; the demo translates at most {MAX_INPUT_CHARS} "
                         "at a time. Please split it into smaller parts.")
    beam_size = max(1, int(beam_size))
    nbest = 1 if beam_size == 1 else max(1, min(int(nbest), beam_size))
    notes = []
    if not looks_chinese(text):
        notes.append("This does not look like Chinese; the model translates Chinese to English, "
                     "so the result may be poor. Translated anyway.")
    sentences = chunk(text, max_chars=translator.max_source_tokens // 2)
    if len(sentences) > MAX_SENTENCES:
        raise InputError(f"The input has {len(sentences)} sentences; the demo translates at most {MAX_SENTENCES} "
                         "at a time.")
    lp = None if length_penalty is None else float(length_penalty)  # None: the model folder's default
    return Request(sentences, (beam_size, lp, nbest), notes, t0)


def translate_requests(translator, requests: list[Request]) -> list[list]:
    """Translate the sentences of requests that share their settings in one batched call; returns each
    request's translations."""
    beam_size, lp, nbest = requests[0].settings
    if any(r.settings != requests[0].settings for r in requests):
        raise ValueError("requests in one batch must share their decoding settings")
    flat = [s for r in requests for s in r.sentences]
    outs = translator.translate(flat, beam_size=beam_size, length_penalty=lp, nbest=nbest)
    per, pos = [], 0
    for r in requests:
        per.append(outs[pos: pos + len(r.sentences)])
        pos += len(r.sentences)
    return per


def finish(translator, request: Request, outs: list) -> Prediction:
    results = [SentenceResult(src, t.text, t.source_tokens, t.target_tokens, t.cross_attention,
                              [(h.text, h.normalized_score, h.score) for h in t.nbest], t.full_context_attention)
               for src, t in zip(request.sentences, outs)]
    return Prediction(" ".join(r.text for r in results), results, request.notes, time.perf_counter() - request.t0,
                      getattr(translator, "align_method", None))


def predict(translator, text: str, beam_size: int = 5, length_penalty: Optional[float] = None, nbest: int = 1,
            batcher=None) -> Prediction:
    """Split ``text`` into sentences, translate them as one batch, and keep each one's cross-attention.
    With a :class:`~seq2seq.app.batching.MicroBatcher`, the sentences share a batch with concurrent requests."""
    request = prepare(translator, text, beam_size, length_penalty, nbest)
    outs = batcher.submit(request).result() if batcher is not None else translate_requests(translator, [request])[0]
    return finish(translator, request, outs)


def nbest_rows(pred: Prediction) -> list[list]:
    rows = []
    for k, s in enumerate(pred.sentences, 1):
        for rank, (text, norm, logp) in enumerate(s.nbest, 1):
            rows.append([k, rank, text, round(norm, 3), round(logp, 3)])
    return rows


MAX_OWN_CHARS = 1000  # the longest "your translation" the demo scores


@dataclass
class ScoredTranslation:
    """A user's own English for a Chinese sentence, scored by the model (forced decoding), beside the
    model's own translation of it."""

    source: str
    text: str
    alignment: object  # seq2seq.results.Alignment: pieces, token_logprobs, score, links, cross_attention
    model_text: str
    model_score: float
    model_normalized: float

    def as_json(self) -> dict:
        a = self.alignment
        return {"source": self.source, "translation": self.text, "pieces": a.target_tokens,
                "logprobs": [round(float(x), 4) for x in a.token_logprobs], "total": round(a.score, 4),
                "normalized": round(a.normalized_score, 4), "links": [list(p) for p in a.links],
                "source_words": a.source_words, "target_words": a.target_words,
                "model_translation": self.model_text, "model_total": round(self.model_score, 4),
                "model_normalized": round(self.model_normalized, 4)}


def score_translation(translator, source: str, english: str, beam_size: int = 5) -> ScoredTranslation:
    """How likely the model finds ``english`` as a translation of ``source`` (one sentence), piece by piece,
    and how that compares with its own translation.  Raises :class:`InputError` for bad input."""
    source, english = (source or "").strip(), (english or "").strip()
    if not source:
        raise InputError("Please type the Chinese sentence first.")
    if not english:
        raise InputError("Please type your English translation to score.")
    if len(english) > MAX_OWN_CHARS or len(source) > MAX_OWN_CHARS:
        raise InputError(f"Scoring takes one sentence of at most {MAX_OWN_CHARS} characters on each side.")
    try:
        aligned = translator.align([source], [english])[0]
    except ValueError as e:  # over the model's length limit
        raise InputError(f"Too long for the model: {e}") from None
    own = translator.translate([source], beam_size=beam_size, return_attention=False)[0]
    return ScoredTranslation(source, english, aligned, own.text, own.score, own.normalized_score)


STEP_CANDIDATES = 5  # the chosen piece's step shows the 5 most probable pieces


@dataclass
class StepView:
    """One sentence decoded step by step: each output piece with its probability and the alternatives the
    decoder saw at that step (on the final hypothesis's path)."""

    source: str
    text: str
    pieces: list[str]
    probabilities: list[float]  # of each chosen piece
    candidates: list[list[tuple[str, float]]]  # per step, best first
    prefix: list[str]  # the pieces the user fixed (empty: the model's own translation)

    def rows(self) -> list[list]:
        """Table rows: step, piece, its probability, and the next 4 candidates with theirs."""
        out = []
        for t, (piece, p, cands) in enumerate(zip(self.pieces, self.probabilities, self.candidates)):
            others = [f"{c.replace(chr(0x2581), '·')} ({q:.3f})" for c, q in cands if c != piece][:STEP_CANDIDATES - 1]
            fixed = " (fixed)" if t < len(self.prefix) else ""
            out.append([t + 1, piece.replace("\u2581", "·") + fixed, round(p, 4)] + others
                       + [""] * (STEP_CANDIDATES - 1 - len(others)))
        return out


def step_view(translator, source: str, prefix=None, beam_size: int = 5) -> StepView:
    """Decode ``source`` (one sentence) with the pieces or text ``prefix`` fixed, keeping every step's
    alternatives.  Raises :class:`InputError` for bad input (empty text, a prefix the vocabulary cannot spell)."""
    source = (source or "").strip()
    if not source:
        raise InputError("Please type some Chinese text to translate.")
    if len(source) > MAX_OWN_CHARS:
        raise InputError(f"Step by step takes one sentence of at most {MAX_OWN_CHARS} characters.")
    if isinstance(prefix, str):
        prefix = prefix.strip() or None
        if prefix is not None and len(prefix) > MAX_OWN_CHARS:
            raise InputError("The prefix is too long.")
    try:
        t = translator.translate([source], beam_size=beam_size, prefix=[prefix], return_topk=STEP_CANDIDATES,
                                 return_attention=False)[0]
    except ValueError as e:  # a piece the vocabulary lacks, or too long for the model
        raise InputError(str(e)) from None
    fixed = translator.encode_prefixes([prefix], 1)
    n_fixed = len(fixed[0]) if fixed else 0
    probs = [dict(row).get(piece) for piece, row in zip(t.target_tokens, t.topk or [])]
    if any(p is None for p in probs):  # a forced piece outside the top-k: its probability from forced decoding
        forced = translator.align([source], [t.text])[0]
        same = forced.target_tokens == t.target_tokens
        probs = [p if p is not None else (float(np.exp(forced.token_logprobs[k])) if same else float("nan"))
                 for k, p in enumerate(probs)]
    return StepView(source, t.text, t.target_tokens, probs, t.topk or [], t.target_tokens[:n_fixed])


def continue_with(view: StepView, step: int, piece: str) -> list[str]:
    """The prefix for choosing ``piece`` at ``step`` (0-based): the pieces before it, then it."""
    if not 0 <= step < len(view.pieces):
        raise InputError(f"There is no step {step + 1}.")
    return list(view.pieces[:step]) + [piece]


@dataclass
class InsideView:
    """One sentence's whole attention (cross, encoder self, decoder self), for the "Inside attention" tab."""

    translation: object  # seq2seq.results.Translation with encoder_attention/decoder_attention filled

    def attention(self, kind: str) -> np.ndarray:
        t = self.translation
        return {"cross": t.cross_attention, "encoder": t.encoder_attention, "decoder": t.decoder_attention}[kind]

    def matrix(self, kind: str, layer: int, head: Optional[int], words: Optional[str] = None,
               hide_eos: bool = False) -> tuple[np.ndarray, list[str], list[str]]:
        """([rows, cols] weights, row labels, column labels) of one kind: "cross", "encoder" or "decoder".

        ``words``: None keeps pieces; "jieba" or "characters" merges pieces into words on both axes (English
        words at the sentencepiece word boundary; Chinese words from the jieba segmenter, or characters):
        weights are **summed over the source pieces** of a column word and **averaged over the pieces** of a
        row word, so rows still sum to 1.  ``hide_eos`` drops the ``</s>`` column and renormalises each row."""
        t = self.translation
        a = self.attention(kind)[layer]
        a = a.mean(axis=0) if head is None else a[head]
        rows = list(t.source_tokens if kind == "encoder" else t.target_tokens)
        cols = list(t.target_tokens if kind == "decoder" else t.source_tokens)
        if words:
            zh_groups, zh_labels = chinese_word_groups(t.source_tokens, words)
            en_groups, en_labels = english_word_groups(t.target_tokens)
            r_groups, r_labels = (zh_groups, zh_labels) if kind == "encoder" else (en_groups, en_labels)
            c_groups, c_labels = (en_groups, en_labels) if kind == "decoder" else (zh_groups, zh_labels)
            a = merge_groups(a, r_groups, len(r_labels), c_groups, len(c_labels))
            rows, cols = r_labels, c_labels
        if hide_eos and "</s>" in cols:
            keep = [i for i, c in enumerate(cols) if c != "</s>"]
            a = a[:, keep]
            a = a / np.maximum(a.sum(-1, keepdims=True), 1e-9)
            cols = [cols[i] for i in keep]
        return a, rows, cols

    def head_summaries(self, kind: str) -> list[list[str]]:
        """Per layer, per head: mean row entropy (bits), the share of weight on </s>, and on punctuation."""
        att = self.attention(kind)
        cols = self.translation.target_tokens if kind == "decoder" else self.translation.source_tokens
        eos = np.array([c == "</s>" for c in cols])
        punct = np.array([bool(c.strip("\u2581")) and all(not ch.isalnum() for ch in c.strip("\u2581"))
                          and c != "</s>" for c in cols])
        out = []
        for layer in att:
            row = []
            for h in layer:
                ent = float(np.mean(-(h * np.log2(np.clip(h, 1e-12, 1))).sum(-1)))
                row.append(f"entropy {ent:.2f} bits, </s> {h[:, eos].sum(-1).mean():.0%}, "
                           f"punctuation {h[:, punct].sum(-1).mean():.0%}")
            out.append(row)
        return out

    def as_json(self) -> dict:
        t = self.translation
        r = lambda a: np.round(a, 5).tolist()  # noqa: E731
        return {"translation": t.text, "source_tokens": t.source_tokens, "target_tokens": t.target_tokens,
                "score": t.score, "normalized_score": t.normalized_score,
                "cross_attention": r(t.cross_attention), "encoder_attention": r(t.encoder_attention),
                "decoder_attention": r(t.decoder_attention),
                "shapes": {"cross_attention": "[layers, heads, target, source]",
                           "encoder_attention": "[layers, heads, source, source]",
                           "decoder_attention": "[layers, heads, target, target]"}}


def inside_view(translator, source: str, beam_size: int = 5) -> InsideView:
    """Translate one sentence keeping every kind of attention."""
    source = (source or "").strip()
    if not source:
        raise InputError("Please type some Chinese text to translate.")
    if len(source) > MAX_OWN_CHARS:
        raise InputError(f"This view takes one sentence of at most {MAX_OWN_CHARS} characters.")
    try:
        t = translator.translate([source], beam_size=beam_size, return_attention="all")[0]
    except ValueError as e:
        raise InputError(str(e)) from None
    return InsideView(t)


def english_word_groups(pieces: list[str]) -> tuple[list[list[int]], list[str]]:
    """Each English piece's word (a piece starting with "▁" starts one); ``</s>`` is a group of its own."""
    from ..align import target_piece_words, target_words

    words = target_words(pieces)
    groups = [[len(words)] if w is None else [w] for w in target_piece_words(pieces)]
    return groups, words + ["</s>"]


def chinese_word_groups(pieces: list[str], segmenter: str = "jieba") -> tuple[list[list[int]], list[str]]:
    """Each Chinese piece's words: from jieba (a real segmenter) or characters; ``</s>`` is a group of its own."""
    from ..align import piece_texts, pieces_to_words, source_piece_words, source_words

    if segmenter == "characters":
        words, groups = source_words(pieces), source_piece_words(pieces)
    else:
        import jieba

        jieba.setLogLevel(60)  # no "Building prefix dict" chatter
        text = "".join(piece_texts(pieces)).strip()
        words = [w for w in jieba.lcut(text) if w.strip()]
        groups = pieces_to_words(pieces, words)
    n = len(words)
    out = [[n] if p == "</s>" else list(g) for p, g in zip(pieces, groups)]
    for i in range(len(out) - 2, -1, -1):  # a piece with no character of its own ("▁") joins the next word
        if not out[i]:
            out[i] = out[i + 1]
    return out, words + ["</s>"]


def merge_groups(a: np.ndarray, row_groups, n_rows: int, col_groups, n_cols: int) -> np.ndarray:
    """[R, C] piece weights -> [n_rows, n_cols] word weights: columns summed, rows averaged (a piece in several
    words gives each an equal share of its column weight)."""
    cols = np.zeros((a.shape[0], n_cols))
    for c, groups in enumerate(col_groups):
        for g in groups:
            cols[:, g] += a[:, c] / len(groups)
    out, count = np.zeros((n_rows, n_cols)), np.zeros(n_rows)
    for r, groups in enumerate(row_groups):
        for g in groups:
            out[g] += cols[r]
            count[g] += 1
    return out / np.maximum(count, 1)[:, None]


def beam_tree(translator, source: str, beam_size: int = 5):
    """Translate one sentence with beam search keeping its tree."""
    source = (source or "").strip()
    if not source:
        raise InputError("Please type some Chinese text to translate.")
    if len(source) > MAX_OWN_CHARS:
        raise InputError(f"The beam tree takes one sentence of at most {MAX_OWN_CHARS} characters.")
    if beam_size < 2:
        raise InputError("The beam tree needs beam search: choose a beam size of 2 or more.")
    return translator.translate([source], beam_size=beam_size, return_tree=True, return_attention=False)[0]


def finished_ranking(tree, alpha: float) -> list[list]:
    """Finished hypotheses ranked by score / length ** alpha: rank, text, length, log-prob, normalised score."""
    from ..results import finished_paths

    rows = []
    for pieces, score, _ in finished_paths(tree):
        text = "".join(pieces[:-1]).replace("\u2581", " ").strip()
        rows.append([text, len(pieces), round(score, 3), round(score / len(pieces) ** alpha, 4)])
    rows.sort(key=lambda r: r[3], reverse=True)
    return [[k + 1] + r for k, r in enumerate(rows)]
