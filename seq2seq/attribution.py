"""Attribution: how much each input piece, in the source and in the target prefix, contributed to each output piece.

For output piece t the model computes f_t = log p(y_t | x, y_<t).  An attribution method splits f_t over the
pieces the model read: the source pieces x_1..x_S (``</s>`` last) and the decoder's inputs ``<s>``, y_1..y_{t-1}.
Everything is computed by captum (https://captum.ai) on the model's own modules, with the token embeddings
(before the positions are added) as the inputs:

* ``input_x_gradient`` (the quick default): embedding × ∂f_t/∂embedding, one forward and one backward pass
  for all T steps at once.  A first-order (Taylor) reading of the model at this sentence.
* ``integrated_gradients``: the gradient averaged along the straight path from a baseline (every embedding 0,
  the positions kept) to the sentence (Sundararajan et al. 2017), ``n_steps`` points, batched
  (``internal_batch_size``).  Complete: a step's attributions add up to f_t(input) - f_t(baseline).
* ``ablation``: captum's feature ablation, one piece at a time: f_t minus f_t with that piece's embedding set
  to 0.  What the prediction loses without the piece; S + T forward passes.

Each piece's attribution is a vector over the embedding's dimensions; ``score="sum"`` adds them up (signed: a
negative piece spoke against the word), ``score="l2"`` takes their length (how much the piece moved f_t, in
either direction).  ``source_share`` of a step is the share of its total attribution magnitude that comes from
the source: near 1 the word was made from the source, near 0 from the model's own previous words.

Attribution is not causality.  It describes the model's computation locally (gradients) or against one chosen
reference (the zero baseline, the ablated piece); other baselines give other numbers, and a piece with a small
attribution may still be one the model could not do without.  See docs/attribution.md.

:class:`Attribution` holds one sentence's maps (pieces and words); :class:`ContrastiveAttribution` explains
log p(chosen) - log p(alternative) at one step (Yin & Neubig 2022).  ``Translator.attribute`` is the entry point.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .model import EncoderDecoder, subsequent_mask

METHODS = ("input_x_gradient", "integrated_gradients", "ablation", "source_ablation")
SCORES = ("sum", "l2")
# The default reading of each method's vectors (see docs/attribution.md for how they were chosen on dev data).
DEFAULT_SCORE = {"input_x_gradient": "l2", "integrated_gradients": "sum", "ablation": "sum", "source_ablation": "sum"}
# The source share below which an output word is "mostly from its own previous words", per (method, score),
# chosen on tatoeba-dev (docs/attribution.md: Youden's J on spliced references).  The warning's method is
# source_ablation: its share separates true from wrong translations best there.
WARNING_METHOD = "source_ablation"
WARNING_THRESHOLDS = {
    ("source_ablation", "sum"): 0.14,
    ("input_x_gradient", "l2"): 0.68,
    ("input_x_gradient", "sum"): 0.72,
}


def captum_attr():
    """``captum.attr``, imported on first use, with an error that says how to install it."""
    try:
        import captum.attr
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "attribution needs captum: pip install captum (or pip install 'seq2seq-zhen[explain]')"
        ) from e
    return captum.attr


def check_method(method: str, score: Optional[str] = None) -> str:
    """The method checked, and the score (``sum`` or ``l2``) it is read with (None: the method's default)."""
    if method not in METHODS:
        raise ValueError(f"unknown attribution method {method!r} ({', '.join(METHODS)})")
    score = score or DEFAULT_SCORE[method]
    if score not in SCORES:
        raise ValueError(f"unknown attribution score {score!r} ({', '.join(SCORES)})")
    return score


# ---------------------------------------------------------------------------------------------------------------
# The computation: queries (step, piece, alternative) -> attributions per input piece
# ---------------------------------------------------------------------------------------------------------------


class StepScorer:
    """f(source embeddings [B, S, d], prefix embeddings [B, T, d], steps, pieces, alternatives) -> [B]: for each
    example, log p(pieces[b]) at decoder position steps[b], minus log p(alternatives[b]) where that is >= 0.  The
    function captum attributes; it runs the model's own modules (positions added, masks as in ``decode``)."""

    def __init__(self, model: EncoderDecoder, src: Tensor):
        self.model, self.src_mask = model, model.src_mask(src)

    def log_probs(self, hidden: Tensor) -> Tensor:
        """The Generator's log-softmax, in float32 or better (float64 models stay float64, for the tests)."""
        logits = self.model.generator.proj(hidden)
        return F.log_softmax(logits if logits.dtype == torch.float64 else logits.float(), dim=-1)

    def __call__(self, src_emb: Tensor, tgt_emb: Tensor, steps: Tensor, pieces: Tensor, alternatives: Tensor):
        model, b = self.model, src_emb.size(0)
        width = int(steps.max()) + 1  # later positions cannot change these steps (causal mask)
        mask = self.src_mask.expand(b, -1, -1, -1)
        memory = model.encoder(model.pos(src_emb), mask).memory
        cache = model.decoder.init_cache(memory)
        x = model.pos(tgt_emb[:, :width])
        hidden = model.decoder(x, cache, mask, subsequent_mask(width, x.device)).hidden
        logp = self.log_probs(hidden[torch.arange(b, device=x.device), steps])
        chosen = logp.gather(1, pieces[:, None]).squeeze(1)
        other = logp.gather(1, alternatives.clamp(min=0)[:, None]).squeeze(1)
        return torch.where(alternatives >= 0, chosen - other, chosen)


@dataclass
class PieceScores:
    """Attributions of Q queries to every input piece: ``signed`` (the sum over embedding dimensions) and
    ``magnitude`` (their L2 norm; for ablation, the absolute value) for the source [Q, S] and the decoder
    inputs [Q, T] (``<s>``, then the target pieces), and each query's f(input) [Q]."""

    source_signed: np.ndarray
    prefix_signed: np.ndarray
    source_magnitude: np.ndarray
    prefix_magnitude: np.ndarray
    outputs: np.ndarray

    def read(self, score: str) -> tuple[np.ndarray, np.ndarray]:
        """(source, prefix) as ``score`` reads them: ``"sum"`` signed, ``"l2"`` magnitudes."""
        if score == "sum":
            return self.source_signed, self.prefix_signed
        return self.source_magnitude, self.prefix_magnitude


def attribute_queries(
    model: EncoderDecoder,
    src_ids: Sequence[int],
    decoder_input: Sequence[int],
    steps: Sequence[int],
    pieces: Sequence[int],
    alternatives: Optional[Sequence[int]] = None,
    method: str = "input_x_gradient",
    n_steps: int = 32,
    internal_batch_size: Optional[int] = None,
    progress: Optional[Callable[[int, int], None]] = None,
) -> PieceScores:
    """Attribute, for each query q, log p(pieces[q]) at decoder position steps[q] (minus log p(alternatives[q])
    where that is given and >= 0) to the source pieces ``src_ids`` (``</s>`` last) and the decoder inputs
    ``decoder_input`` (``<s>`` first).  Every query is one example of a captum batch; ``integrated_gradients``
    runs n_steps examples per query, ``internal_batch_size`` (default 256) at a time, and its queries in chunks
    of that size, earliest steps first (their decoder pass is shorter).  ``progress(done, total)`` is called
    after each chunk of queries."""
    check_method(method)
    attr = captum_attr()
    dev = next(model.parameters()).device
    as_long = lambda xs: torch.tensor(list(xs), dtype=torch.long, device=dev)
    src, tin = as_long(src_ids)[None], as_long(decoder_input)[None]
    q = len(steps)
    alternatives = list(alternatives) if alternatives is not None else [-1] * q
    order = sorted(range(q), key=lambda i: steps[i])
    batch = internal_batch_size or 256
    per_call = max(1, batch // n_steps) if method == "integrated_gradients" else q
    scorer, found = StepScorer(model, src), []
    with torch.enable_grad(), torch.inference_mode(False):
        embedded = (model.src_embed(src).detach(), model.tgt_embed(tin).detach())
        for start in range(0, q, per_call):
            rows = order[start : start + per_call]
            extra = tuple(as_long([xs[i] for i in rows]) for xs in (steps, pieces, alternatives))
            needs_grad = method in ("input_x_gradient", "integrated_gradients")
            inputs = tuple(e.repeat(len(rows), 1, 1).requires_grad_(needs_grad) for e in embedded)
            found.append(_captum_call(attr, scorer, method, inputs, extra, n_steps, batch))
            if progress is not None:
                progress(min(q, start + per_call), q)
    back = torch.as_tensor(order, device=dev).argsort()  # the queries' own order again
    found = tuple(torch.cat([part[k] for part in found])[back] for k in range(2))
    if method == "source_ablation":  # each group's value, spread evenly over its pieces (the prefix: up to t)
        seen = (torch.arange(tin.size(1), device=dev)[None] <= as_long(steps)[:, None]).to(found[1].dtype)
        found = (found[0] / src.size(1), found[1] * (seen / seen.sum(1, keepdim=True))[..., None])
    outputs = query_log_probs(model, src_ids, decoder_input, steps, pieces, alternatives)
    return _piece_scores(found, torch.from_numpy(outputs), method in ("ablation", "source_ablation"))


def _captum_call(attr, scorer: StepScorer, method: str, inputs, extra, n_steps: int, batch: int):
    """One captum attribution of a batch of queries: (source [Q, S, d], prefix [Q, T, d])."""
    if method == "input_x_gradient":
        return attr.InputXGradient(scorer).attribute(inputs, additional_forward_args=extra)
    if method == "integrated_gradients":
        baselines = tuple(torch.zeros_like(x) for x in inputs)
        return attr.IntegratedGradients(scorer).attribute(
            inputs, baselines, additional_forward_args=extra, n_steps=n_steps, internal_batch_size=batch
        )
    s, t = inputs[0].size(1), inputs[1].size(1)
    dev = inputs[0].device
    masks = (torch.arange(s, device=dev).view(1, s, 1), torch.arange(s, s + t, device=dev).view(1, t, 1))
    if method == "source_ablation":  # two features: the whole source, the whole prefix
        masks = (torch.zeros_like(masks[0]), torch.ones_like(masks[1]))
    return attr.FeatureAblation(scorer).attribute(
        inputs, (0.0, 0.0), additional_forward_args=extra, feature_mask=masks, perturbations_per_eval=8
    )


@torch.no_grad()
def query_log_probs(
    model: EncoderDecoder,
    src_ids: Sequence[int],
    decoder_input: Sequence[int],
    steps: Sequence[int],
    pieces: Sequence[int],
    alternatives: Optional[Sequence[int]] = None,
) -> np.ndarray:
    """f for each query without attribution: log p(pieces[q]) at decoder position steps[q], minus
    log p(alternatives[q]) where that is given and >= 0 (one teacher-forced pass over the whole prefix)."""
    dev = next(model.parameters()).device
    as_long = lambda xs: torch.tensor(list(xs), dtype=torch.long, device=dev)
    src, tin = as_long(src_ids)[None], as_long(decoder_input)[None]
    mask = model.src_mask(src)
    memory = model.encoder(model.pos(model.src_embed(src)), mask).memory
    x = model.pos(model.tgt_embed(tin))
    hidden = model.decoder(x, model.decoder.init_cache(memory), mask, subsequent_mask(x.size(1), dev)).hidden[0]
    logp = StepScorer(model, src).log_probs(hidden[as_long(steps)])  # [Q, V]
    alt = as_long(alternatives if alternatives is not None else [-1] * len(steps))
    chosen = logp.gather(1, as_long(pieces)[:, None]).squeeze(1)
    other = logp.gather(1, alt.clamp(min=0)[:, None]).squeeze(1)
    return torch.where(alt >= 0, chosen - other, chosen).double().cpu().numpy()


def _piece_scores(found: tuple[Tensor, Tensor], outputs: Tensor, ablation: bool) -> PieceScores:
    """Per-piece readings of captum's [Q, n, d] attributions (ablation gives every dimension of a piece its
    whole value: it is read once)."""
    as_np = lambda x: x.detach().double().cpu().numpy()
    if ablation:
        signed = [as_np(a[..., 0]) for a in found]
        magnitude = [np.abs(x) for x in signed]
    else:
        signed = [as_np(a.sum(-1)) for a in found]
        magnitude = [as_np(a.norm(dim=-1)) for a in found]
    return PieceScores(signed[0], signed[1], magnitude[0], magnitude[1], as_np(outputs))


def source_shares(source: np.ndarray, prefix: np.ndarray) -> np.ndarray:
    """Each row's source share: the share of its positive attribution that comes from the source,
    sum(source+) / (sum(source+) + sum(prefix+)).  A piece that spoke against the word counts for nothing (with
    ``score="l2"`` every piece counts); 0 where no piece spoke for the word at all."""
    return share_of_masses(np.clip(source, 0, None).sum(-1), np.clip(prefix, 0, None).sum(-1))


def share_of_masses(source_mass: np.ndarray, prefix_mass: np.ndarray) -> np.ndarray:
    """source / (source + prefix), elementwise; 0 where both are 0."""
    total = source_mass + prefix_mass
    return np.where(total > 0, source_mass / np.where(total > 0, total, 1.0), 0.0)


# ---------------------------------------------------------------------------------------------------------------
# Words: pieces -> the reading units of Translation.coverage (jieba words; English words, punctuation apart)
# ---------------------------------------------------------------------------------------------------------------


def piece_word_matrix(groups: Sequence[Sequence[int]], n_words: int) -> np.ndarray:
    """[pieces, words]: a piece's score is shared equally among the words it covers (``</s>`` covers none)."""
    m = np.zeros((len(groups), n_words))
    for p, ws in enumerate(groups):
        for w in ws:
            m[p, w] = 1.0 / len(ws)
    return m


@dataclass
class WordAttribution:
    """Attribution between words: ``source`` [Tw, Sw] and ``prefix`` [Tw, Tw] (target word j's pieces as
    decoder inputs; ``<s>`` and ``</s>`` belong to no word), the sums over each word's pieces; ``source_share``
    [Tw] as :func:`source_shares` reads it, over all the word's rows (``<s>`` and ``</s>`` count in the totals)."""

    source_words: list[str]
    target_words: list[str]
    source: np.ndarray
    prefix: np.ndarray
    source_share: np.ndarray


def word_attribution(a: "Attribution") -> WordAttribution:
    """The word-level view of a piece-level :class:`Attribution` (sums over pieces, magnitudes for the share)."""
    sw, tw = a.source_words, a.target_words
    gs, gt = piece_word_matrix(a.source_groups, len(sw)), piece_word_matrix(a.target_groups, len(tw))
    rows = gt.T  # [Tw, T]: a word's rows are its pieces' rows
    inputs = np.vstack([np.zeros((1, len(tw))), gt[:-1]]) if len(gt) else gt  # decoder input j -> piece j-1
    source, prefix = rows @ a.source @ gs, rows @ a.prefix @ inputs
    positive = lambda x: np.clip(x, 0, None).sum(-1)
    share = share_of_masses(rows @ positive(a.source), rows @ positive(a.prefix))
    return WordAttribution(list(sw), list(tw), source, prefix, share)


def argmax_links(word_source: np.ndarray) -> list[tuple[int, int]]:
    """(source word, target word) links: each target word linked to the source word with its largest attribution
    (none for a row without source words)."""
    if word_source.size == 0:
        return []
    return [(int(np.argmax(row)), j) for j, row in enumerate(word_source)]


def agreement(word_source: np.ndarray, head_links: Sequence[tuple[int, int]]) -> Optional[float]:
    """The share of the alignment head's links (source word, target word) whose target word has its largest
    source attribution on that source word; None without links."""
    if not head_links:
        return None
    best = dict((t, s) for s, t in argmax_links(word_source))
    return sum(best.get(t) == s for s, t in head_links) / len(head_links)


# ---------------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Attribution:
    """One sentence's attribution.  Rows t = 0..T-1 are the output pieces ``target_tokens`` (``</s>`` last), each
    explained as f_t = log p(y_t | x, y_<t) (``token_logprobs``).

    ``source`` [T, S]: attribution to each source piece (``source_tokens``, ``</s>`` last).  ``prefix`` [T, T]:
    to each decoder input, column j being ``prefix_tokens[j]`` (``<s>``, then the output pieces); zero where
    j > t.  ``source_share`` [T]: the share of row t's magnitude on the source (0..1).  ``score``: how the
    vectors were read (``sum``: signed; ``l2``: magnitudes).  ``source_words``/``target_words`` and their
    ``*_groups`` (piece -> word indices) are the reading units of ``Translation.coverage``; :attr:`words` sums
    the maps over them.  ``head_links``: the alignment head's word links (``Translation.coverage``), where the
    model has a head."""

    method: str
    score: str
    text: str
    source_tokens: list[str]
    target_tokens: list[str]
    source: np.ndarray
    prefix: np.ndarray
    source_share: np.ndarray
    token_logprobs: np.ndarray
    source_words: list[str] = field(default_factory=list)
    target_words: list[str] = field(default_factory=list)
    source_groups: list[list[int]] = field(default_factory=list, repr=False)
    target_groups: list[list[int]] = field(default_factory=list, repr=False)
    head_links: Optional[list[tuple[int, int]]] = field(default=None, repr=False)

    @property
    def prefix_tokens(self) -> list[str]:
        """The decoder inputs that ``prefix``'s columns stand for: ``<s>``, then every output piece but the last."""
        return ["<s>"] + list(self.target_tokens[:-1]) if self.target_tokens else []

    @functools.cached_property
    def words(self) -> WordAttribution:
        return word_attribution(self)

    def links(self) -> list[tuple[int, int]]:
        """Word links read from attribution: each output word to its source word with the largest attribution."""
        return argmax_links(self.words.source)

    @property
    def agreement(self) -> Optional[float]:
        """The share of the alignment head's links that attribution agrees with (see :func:`agreement`)."""
        return agreement(self.words.source, self.head_links or [])

    def mostly_from_prefix(self, threshold: Optional[float] = None) -> Optional[list[int]]:
        """Output words (indices into ``target_words``) with a source share below ``threshold`` (default: the one
        chosen on dev data for this method and score, ``WARNING_THRESHOLDS``; None where none was chosen): made
        mostly from the model's own previous words rather than from the source.  Punctuation is never flagged."""
        from .coverage import is_punctuation

        threshold = WARNING_THRESHOLDS.get((self.method, self.score)) if threshold is None else threshold
        if threshold is None:
            return None
        share = self.words.source_share
        return [j for j, w in enumerate(self.target_words) if share[j] < threshold and not is_punctuation(w)]

    def as_json(self) -> dict:
        """Everything as plain JSON types (pieces, words, maps rounded to 5 decimals)."""
        w = self.words
        r = lambda x: np.round(np.asarray(x, dtype=float), 5).tolist()
        return {
            "method": self.method,
            "score": self.score,
            "text": self.text,
            "source_tokens": list(self.source_tokens),
            "target_tokens": list(self.target_tokens),
            "prefix_tokens": self.prefix_tokens,
            "source": r(self.source),
            "prefix": r(self.prefix),
            "source_share": r(self.source_share),
            "token_logprobs": r(self.token_logprobs),
            "words": {
                "source_words": w.source_words,
                "target_words": w.target_words,
                "source": r(w.source),
                "prefix": r(w.prefix),
                "source_share": r(w.source_share),
                "links": [list(x) for x in self.links()],
                "mostly_from_prefix": self.mostly_from_prefix(),
            },
            "head_links": None if self.head_links is None else [list(x) for x in self.head_links],
            "agreement": self.agreement,
        }


@dataclass
class ContrastiveAttribution:
    """Why ``chosen`` and not ``alternative`` at output piece ``step``: the attribution of
    log p(chosen) - log p(alternative) (``difference``) to the source pieces ``source`` [S] and the decoder
    inputs ``prefix`` [T] (as :class:`Attribution`'s row ``step``), and over words (``source_words_scores``
    [Sw], ``prefix_words_scores`` [Tw])."""

    method: str
    score: str
    step: int
    word: int
    chosen: str
    alternative: str
    chosen_logprob: float
    alternative_logprob: float
    source_tokens: list[str]
    target_tokens: list[str]
    source: np.ndarray
    prefix: np.ndarray
    source_words: list[str] = field(default_factory=list)
    target_words: list[str] = field(default_factory=list)
    source_words_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    prefix_words_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def difference(self) -> float:
        return self.chosen_logprob - self.alternative_logprob

    def as_json(self) -> dict:
        r = lambda x: np.round(np.asarray(x, dtype=float), 5).tolist()
        return {
            "method": self.method,
            "score": self.score,
            "step": self.step,
            "word": self.word,
            "chosen": self.chosen,
            "alternative": self.alternative,
            "chosen_logprob": self.chosen_logprob,
            "alternative_logprob": self.alternative_logprob,
            "difference": self.difference,
            "source_tokens": list(self.source_tokens),
            "target_tokens": list(self.target_tokens),
            "source": r(self.source),
            "prefix": r(self.prefix),
            "source_words": self.source_words,
            "target_words": self.target_words,
            "source_words_scores": r(self.source_words_scores),
            "prefix_words_scores": r(self.prefix_words_scores),
        }
