"""Attribution: how much each input piece, in the source and in the target prefix, contributed to each output piece.

For output piece t the model computes f_t = log p(y_t | x, y_<t).  An attribution method splits f_t over the
pieces the model read: the source pieces x_1..x_S (``</s>`` last) and the decoder's inputs ``<s>``, y_1..y_{t-1}.
Everything is computed by captum (https://captum.ai) on the model's own modules, with the token embeddings
(before the positions are added) as the inputs; each output piece is one example of a captum batch:

* ``input_x_gradient`` (the quick default): embedding × ∂f_t/∂embedding.  A first-order (Taylor) reading of the
  model at this sentence; one forward pass, and one backward pass per output piece.
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

For the two gradient methods every example reads the same sentence (scaled to the same path point), so the model
runs once per point for all output pieces, and each piece gets its own exact gradient (:class:`SharedPass`);
captum still does the attribution (the path, its points and weights, the sums).

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

import re
from contextlib import nullcontext
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
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
# Integrated gradients' examples per captum forward pass (internal_batch_size), and the decoder positions per
# range of a shared pass (SharedPass): the fastest on a CPU core for a ~30-piece sentence (docs/attribution.md).
DEFAULT_BATCH = 256
PART = 8
# The arithmetic of the gradient and ablation passes: "fp32", "bf16" (autocast), or "auto": bf16 where the
# hardware computes it natively (a CPU with AVX-512 bf16 or AMX, a GPU with bf16), fp32 elsewhere.  bf16 halves
# integrated gradients' time on such a CPU and moves its maps by well under 1% (docs/attribution.md).
PRECISIONS = ("auto", "fp32", "bf16")


def captum_attr():
    """``captum.attr``, imported on first use, with an error that says how to install it."""
    try:
        import captum.attr
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "attribution needs captum: pip install captum (or pip install 'seq2seq-zhen[explain]')"
        ) from e
    return captum.attr


@lru_cache(maxsize=None)
def native_bf16_cpu() -> bool:
    """Whether this machine's CPU computes bf16 matrix products natively (the x86 flags avx512_bf16 or amx_bf16;
    False where /proc/cpuinfo is missing)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return re.search(r"\b(avx512_bf16|amx_bf16)\b", info) is not None


def check_precision(precision: str) -> str:
    """``precision`` checked: one of ``PRECISIONS``, else a ValueError that names them."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r} ({', '.join(PRECISIONS)})")
    return precision


def precision_context(model: EncoderDecoder, precision: str = "auto"):
    """The context the attribution passes of ``model`` run in: bf16 autocast or nothing (``precision``: see
    ``PRECISIONS``).  A float64 or bf16 model always runs as it is."""
    check_precision(precision)
    param = next(model.parameters())
    if param.dtype != torch.float32 or precision == "fp32":
        return nullcontext()
    if precision == "auto":
        if param.device.type == "cuda":
            with torch.cuda.device(param.device):
                native = torch.cuda.is_bf16_supported(including_emulation=False)
        else:
            native = param.device.type == "cpu" and native_bf16_cpu()
        if not native:
            return nullcontext()
    return torch.autocast(param.device.type, dtype=torch.bfloat16)


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
    function captum attributes; it runs the model's own modules (positions added, masks as in ``decode``).

    With ``group`` g, the examples may come in blocks of g identical rows, one row per query (captum's batches
    when every query reads the same sentence: each point of the integrated-gradients path, or the input itself,
    is repeated for the g queries).  The model then runs once per block and each query gets its own exact
    gradient (:class:`SharedPass`); other batches (ablation's perturbed rows) run row by row."""

    def __init__(self, model: EncoderDecoder, src: Tensor, group: Optional[int] = None, progress=None):
        self.model, self.src_mask, self.group = model, model.src_mask(src), group
        self.progress = progress or Progress(None, 0)

    def log_probs(self, hidden: Tensor) -> Tensor:
        """The Generator's log-softmax, in float32 or better (float64 models stay float64, for the tests)."""
        logits = self.model.generator.proj(hidden)
        return F.log_softmax(logits if logits.dtype == torch.float64 else logits.float(), dim=-1)

    def hidden(self, src_emb: Tensor, tgt_emb: Tensor, ends: Sequence[int] = ()) -> list[Tensor]:
        """The decoder's last hidden states for the positions of ``tgt_emb``, range by range: [B, end - start, d]
        for each range of positions up to each of ``ends`` (default: one range, all positions).  A range is run
        after the earlier ones, their self-attention keys and values cached (as a search does), so its states
        depend on the earlier ranges' computation and not on the later ones': a gradient from a range goes back
        through the earlier ranges only."""
        return self.decode(self.encode(src_emb), tgt_emb, ends)

    def encode(self, src_emb: Tensor) -> Tensor:
        """The encoder's output C [B, S, d] for source embeddings [B, S, d] (positions added)."""
        return self.model.encoder(self.model.pos(src_emb), self.src_mask.expand(src_emb.size(0), -1, -1, -1)).memory

    def decode(self, memory: Tensor, tgt_emb: Tensor, ends: Sequence[int] = ()) -> list[Tensor]:
        """:meth:`hidden` from the encoder's output."""
        model, b = self.model, memory.size(0)
        mask = self.src_mask.expand(b, -1, -1, -1)
        cache = model.decoder.init_cache(memory)
        out, start = [], 0
        for end in ends or [tgt_emb.size(1)]:
            x = model.pos(tgt_emb[:, start:end], offset=start)
            causal = torch.ones(end - start, end, dtype=torch.bool, device=x.device).tril(start)[None, None]
            found = model.decoder(x, cache, mask, causal)
            out.append(found.hidden)
            cache, start = found.cache, end
        return out

    def __call__(self, src_emb: Tensor, tgt_emb: Tensor, steps: Tensor, pieces: Tensor, alternatives: Tensor):
        width = int(steps.max()) + 1  # later positions cannot change these steps (causal mask)
        tgt_emb = tgt_emb[:, :width]
        if self.shared(src_emb, tgt_emb, steps):
            hidden = SharedPass.apply(src_emb, tgt_emb, self, steps[: self.group])
        else:
            hidden = self.hidden(src_emb, tgt_emb)[0][torch.arange(src_emb.size(0), device=steps.device), steps]
        logp = self.log_probs(hidden)
        chosen = logp.gather(1, pieces[:, None]).squeeze(1)
        other = logp.gather(1, alternatives.clamp(min=0)[:, None]).squeeze(1)
        return torch.where(alternatives >= 0, chosen - other, chosen)

    def shared(self, src_emb: Tensor, tgt_emb: Tensor, steps: Tensor) -> bool:
        """Whether the rows come in blocks of ``group`` identical rows, each block asking the same steps."""
        g, b = self.group, src_emb.size(0)
        if not g or g == 1 or b % g or not torch.equal(steps.view(-1, g), steps[:g].expand(b // g, g)):
            return False
        same = lambda x: torch.equal(x.view(b // g, g, *x.shape[1:]), x[::g, None].expand(b // g, g, *x.shape[1:]))
        return same(src_emb) and same(tgt_emb)


class SharedPass(torch.autograd.Function):
    """The decoder's hidden state at each query's step, for rows in blocks of g identical rows (g queries; row
    a·g + j is query j in block a).  Forward: the model once per block, the decoder in ranges of ``PART``
    positions (:meth:`StepScorer.hidden`).  Backward: each row's own gradient, one vector-Jacobian product per
    query, in two parts: back through the decoder's ranges up to the query's step to the encoder's output C
    (vectorised over the queries of a range), then back through the encoder for all queries at once.  The same
    function and the same gradients as running every row through the model, without the forward pass per row and
    without the positions after each query's range."""

    @staticmethod
    def forward(ctx, src_emb: Tensor, tgt_emb: Tensor, scorer: StepScorer, steps: Tensor) -> Tensor:
        g, width, ctx.progress = steps.numel(), tgt_emb.size(1), scorer.progress
        ends = [*range(PART, width, PART), width]
        ctx.blocks = tuple(x[::g].detach().requires_grad_() for x in (src_emb, tgt_emb))
        ctx.parts, out = [], src_emb.new_empty(ctx.blocks[0].size(0), g, src_emb.size(-1))
        with torch.enable_grad():
            ctx.memory = scorer.encode(ctx.blocks[0])
            ctx.memory_leaf = ctx.memory.detach().requires_grad_()  # the decoder's graph ends at C
            for start, end, hidden in zip([0, *ends], ends, scorer.decode(ctx.memory_leaf, ctx.blocks[1], ends)):
                queries = ((steps >= start) & (steps < end)).nonzero()[:, 0]
                if len(queries):
                    picked = hidden[:, steps[queries] - start]  # [A, n, d]
                    ctx.parts.append((queries, picked))
                    out[:, queries] = picked.detach()
        return out.view(-1, out.size(-1))

    @staticmethod
    def backward(ctx, grad: Tensor):
        (src_block, tgt_block), g = ctx.blocks, sum(len(q) for q, _ in ctx.parts)
        grad = grad.view(-1, g, grad.size(-1))  # [A, g, d]
        at_memory, at_prefix = (x.new_zeros(g, *x.shape) for x in (ctx.memory_leaf, tgt_block))  # [g, A, S|W, d]
        for k, (queries, picked) in enumerate(ctx.parts):
            n = len(queries)
            one_query = torch.eye(n, dtype=grad.dtype, device=grad.device)[:, None, :, None]  # query j's rows only
            cotangents = grad[:, queries][None] * one_query  # [n, A, n, d]
            last = k == len(ctx.parts) - 1
            found = torch.autograd.grad(
                picked, (ctx.memory_leaf, tgt_block), cotangents, retain_graph=not last, is_grads_batched=True
            )
            at_memory[queries], at_prefix[queries] = found
            ctx.progress.add(n * grad.size(0))
        (at_source,) = torch.autograd.grad(ctx.memory, src_block, at_memory, is_grads_batched=True)
        rows = lambda x: x.transpose(0, 1).reshape(-1, *x.shape[2:])  # row a·g + j <- [j, a]
        return rows(at_source), rows(at_prefix), None, None


class Progress:
    """``callback(done, total)`` as the work gets done, counted in output pieces: a query's gradient at one of
    ``points`` path points is 1/points of a piece.  Called when that count grows, and at the end (``finish``)."""

    def __init__(self, callback: Optional[Callable[[int, int], None]], total: int, points: int = 1):
        self.callback, self.total, self.points, self.work, self.done = callback, total, points, 0, 0

    def add(self, examples: int) -> None:
        self.work += examples
        self.report(min(self.total, self.work // self.points))

    def finish(self) -> None:
        self.report(self.total)

    def report(self, done: int) -> None:
        if self.callback is not None and done > self.done:
            self.done = done
            self.callback(done, self.total)


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
    precision: str = "auto",
) -> PieceScores:
    """Attribute, for each query q, log p(pieces[q]) at decoder position steps[q] (minus log p(alternatives[q])
    where that is given and >= 0) to the source pieces ``src_ids`` (``</s>`` last) and the decoder inputs
    ``decoder_input`` (``<s>`` first).  Every query is one example of one captum call.  The gradient methods run
    the model once for all queries (each path point of ``integrated_gradients`` once, ``internal_batch_size``
    examples at a time: default 256, about 8 points of a 30-piece sentence) and give each query its own gradient
    (:class:`SharedPass`).  ``progress(done, total)`` is called as output pieces' worth of work is done (the
    gradient methods: after each range of steps of each batch of points; the others: at the end).  ``precision``:
    the arithmetic of the attribution passes (:func:`precision_context`); f itself is computed in the model's."""
    check_method(method)
    attr = captum_attr()
    dev = next(model.parameters()).device
    as_long = lambda xs: torch.tensor(list(xs), dtype=torch.long, device=dev)
    src, tin = as_long(src_ids)[None], as_long(decoder_input)[None]
    q = len(steps)
    alternatives = list(alternatives) if alternatives is not None else [-1] * q
    needs_grad = method in ("input_x_gradient", "integrated_gradients")
    tracker = Progress(progress, q, n_steps if method == "integrated_gradients" else 1)
    scorer = StepScorer(model, src, q if needs_grad else None, tracker)
    with torch.enable_grad(), torch.inference_mode(False):
        embedded = (model.src_embed(src).detach(), model.tgt_embed(tin).detach())
        extra = tuple(as_long(xs) for xs in (steps, pieces, alternatives))
        inputs = tuple(e.repeat(q, 1, 1).requires_grad_(needs_grad) for e in embedded)
        batch = max(q, internal_batch_size or DEFAULT_BATCH)
        with precision_context(model, precision):
            found = _captum_call(attr, scorer, method, inputs, extra, n_steps, batch)
        found = tuple(x.float() if x.dtype == torch.bfloat16 else x for x in found)
    tracker.finish()
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
