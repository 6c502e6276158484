"""Attribution: how much each input piece, in the source and in the target prefix, contributed to each output piece.

For output piece t the model computes f_t = log p(y_t | x, y_<t).  An attribution method splits f_t over the
pieces the model read: the source pieces x_1..x_S (``</s>`` last) and the decoder's inputs ``<s>``, y_1..y_{t-1}.
Everything is computed by captum (https://captum.ai) on the model's own modules, with the token embeddings
(before the positions are added) as the inputs; each output piece is one example of a captum batch:

* ``input_x_gradient`` (the quick default): embedding × ∂f_t/∂embedding.  A first-order (Taylor) reading of the
  model at this sentence; one forward and one backward pass over a batch of T.
* ``integrated_gradients``: the gradient averaged along the straight path from a baseline (every embedding 0,
  the positions kept) to the sentence (Sundararajan et al. 2017), ``n_steps`` points, ``internal_batch_size``
  examples at a time.  Complete: a step's attributions add up to f_t(input) - f_t(baseline).  n_steps times
  the cost of input × gradient.
* ``ablation``: captum's feature ablation, one piece at a time: f_t minus f_t with that piece's embedding set
  to 0.  What the prediction loses without the piece; S + T forward passes.
* ``source_ablation``: captum's feature ablation with two features, the whole source and the whole prefix:
  f_t minus f_t without the source (and without the prefix).  No per-piece map (a feature's value is spread
  evenly over its pieces); the share of what spoke for the word that came from the source.  Three forward passes;
  the warning's method (its share separates true from wrong translations best on dev data).

Each piece's attribution is a vector over the embedding's dimensions; ``score="sum"`` adds them up (signed: a
negative piece spoke against the word), ``score="l2"`` takes their length (how much the piece moved f_t, either
way).  The default reading is the one that did best on dev data (``DEFAULT_SCORE``: L2 for input × gradient, whose
L2 maps link words far better).  ``source_share`` of a step is the share of what spoke for the word that came
from the source (:func:`~seq2seq.attribution_results.source_shares`): near 1 the word was made from the source,
near 0 from the model's own previous words.

Attribution is not causality.  It describes the model's computation locally (gradients) or against one chosen
reference (the zero baseline, the ablated piece); other baselines give other numbers, and a piece with a small
attribution may still be one the model could not do without.  See docs/attribution.md.

The results (:class:`Attribution`, :class:`ContrastiveAttribution`, words, agreement) are in
:mod:`seq2seq.attribution_results` and importable from here; ``Translator.attribute`` is the entry point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .attribution_results import (  # noqa: F401  (the results are part of this module's API)
    WARNING_METHOD,
    WARNING_THRESHOLDS,
    Attribution,
    ContrastiveAttribution,
    WordAttribution,
    agreement,
    argmax_links,
    piece_word_matrix,
    share_of_masses,
    source_shares,
)
from .model import EncoderDecoder, subsequent_mask

METHODS = ("input_x_gradient", "integrated_gradients", "ablation", "source_ablation")
SCORES = ("sum", "l2")
# The default reading of each method's vectors (see docs/attribution.md for how they were chosen on dev data).
DEFAULT_SCORE = {"input_x_gradient": "l2", "integrated_gradients": "sum", "ablation": "sum", "source_ablation": "sum"}


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
    runs n_steps examples per query, ``internal_batch_size`` at a time (default 64, the fastest on a CPU core;
    benchmarks/attribution_speed.json), and its queries in chunks of that size, earliest steps first (their
    decoder pass is shorter).  ``progress(done, total)`` is called after each chunk of queries."""
    check_method(method)
    attr = captum_attr()
    dev = next(model.parameters()).device
    as_long = lambda xs: torch.tensor(list(xs), dtype=torch.long, device=dev)
    src, tin = as_long(src_ids)[None], as_long(decoder_input)[None]
    q = len(steps)
    alternatives = list(alternatives) if alternatives is not None else [-1] * q
    order = sorted(range(q), key=lambda i: steps[i])
    batch = internal_batch_size or 64
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
