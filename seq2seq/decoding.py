"""Greedy and beam search over an :class:`~seq2seq.model.EncoderDecoder`, batched, returning attention.

Structure (after OpenNMT-py's decode strategies):

* :class:`Stepper` hides *how* next-token log-probabilities are computed: incrementally with a
  :class:`~seq2seq.model.DecoderCache` (``use_cache=True``: self-attention K/V grow by one position
  per step; cross-attention K/V are projected from C once per sentence), or the Annotated
  Transformer's way (``use_cache=False``: the whole prefix is re-run every step).  Both give the
  same log-probabilities up to float rounding.
* :class:`StepHistory` keeps each step's cross-attention (and top-k alternatives) with back-pointers, so a finished
  hypothesis recovers the weights of *its own* tokens however the beams were reordered.
* :class:`GreedySearch` and :class:`BeamSearch` are the strategies.  Both are batched and drop
  finished sentences from the batch as they go.

Conventions:

* A hypothesis's ``tokens`` end with ``</s>`` (EOS).  The output length is capped at
  ``max_len_a * |src| + max_len_b`` tokens, EOS included; at the cap EOS is forced.
* ``score`` is the sum of the token log-probabilities (EOS included), *not* length-normalised, under the
  distribution the search draws from: the pieces it never produces (``<pad>``, ``<s>``, ``</s>`` first, the
  placeholders a source lacks) are taken out and the rest renormalised (``DecodeStrategy._ban``), as CTranslate2
  does, so both engines give the same scores.
  ``normalized_score = score / |y| ** alpha`` (|y| counts EOS; the rule of fairseq and
  CTranslate2); beams are ranked by it.  ``alpha = 0`` ranks by raw log-probability (which favours short outputs);
  a larger ``alpha`` favours longer outputs.
* ``attention``: [layers, heads, |tokens|, |src|]; row t is the cross-attention of the decoder
  position that predicted token t.
* A translation has at least one token before EOS: EOS is never chosen at the first step (fairseq's
  ``min_len=1``), so a non-empty source never gets an empty translation; caps below 2 are raised to 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor

from . import constraints
from .model import DecoderCache, EncoderDecoder
from .tokenizer import BOS_ID, EOS_ID

# The search settings' ranges, which the library, the command line and the web API check: a beam of at least
# MIN_BEAM (1 = greedy search), and a length penalty alpha in LENGTH_PENALTY_RANGE (0 ranks by log-probability,
# which favours short outputs; a larger alpha favours longer ones).
MIN_BEAM = 1
LENGTH_PENALTY_RANGE = (0.0, 5.0)


def length_penalty(length, alpha: float) -> float:
    """Length normalisation (both engines, forced alignment, the demo's beam views): a hypothesis's log-probability
    is divided by length ** alpha."""
    return float(length) ** alpha


@dataclass(kw_only=True)
class Hypothesis:
    """One finished output of a search, in target ids (``Translator`` turns it into a ``Translation``).

    Attributes:
        tokens: the output's ids, ending with EOS.
        score: sum of the tokens' log-probabilities, EOS included.
        normalized_score: ``score / len(tokens) ** alpha`` (see :func:`length_penalty`).
        attention: [L, H, T, S] cross-attention (T = len(tokens)), row t from the step that chose token t.
        topk: ``return_topk=k``: ([T, k] probabilities, [T, k] ids) of the k likeliest tokens at each step.
        tree: ``return_tree=True`` (beam search): every hypothesis the search scored, step by step.
        alignment_attention: [T, S], the one layer and head (or head mean) that word links are read from, as the
            engine gives it (``seq2seq.engine``).
    """

    tokens: list[int]
    score: float
    normalized_score: float
    attention: Optional[Tensor]  # [L, H, T, S] float32, or None when not asked for
    topk: Optional[tuple[Tensor, Tensor]] = None  # ([T, k] probabilities, [T, k] token ids) with return_topk
    tree: Optional[list] = None  # beam search with return_tree: see BeamSearch
    alignment_attention: Optional[object] = None  # [T, S]: the attention word links are read from (engine.py)


class Stepper:
    """Next-token log-probs for a batch of prefixes.  One per search call; never shared."""

    def __init__(self, model: EncoderDecoder, memory: Tensor, src_mask: Tensor, use_cache: bool, need_weights: bool):
        self.model, self.use_cache, self.need_weights = model, use_cache, need_weights
        # No padding in the batch (one sentence, or equal lengths): no mask to apply at every step.
        self.src_mask: Optional[Tensor] = None if bool(src_mask.all()) else src_mask
        # With the cache, C is needed only once: to project the cross-attention K/V.
        self.memory: Optional[Tensor] = None if use_cache else memory
        self.cache: Optional[DecoderCache] = model.decoder.init_cache(memory) if use_cache else None

    def step(self, prefixes: Tensor) -> tuple[Tensor, Optional[Tensor]]:
        """prefixes [N, t] (starting with BOS).  Returns log-probs [N, V] and cross-attention [N, L, H, S] or None."""
        if self.use_cache:
            out = self.model.decode_step(prefixes[:, -1:], self.cache, self.src_mask, self.need_weights)
            self.cache = out.cache
        else:
            out = self.model.decode(self.memory, self.src_mask, prefixes, self.need_weights)
        logp = self.model.generator(out.hidden[:, -1])
        if not self.need_weights:
            return logp, None
        return logp, torch.stack([w[:, :, -1] for w in out.cross_attention], dim=1).float()

    def select(self, rows: Tensor, memory_rows: Optional[Tensor] = None) -> None:
        """Keep/reorder rows: ``rows`` for per-hypothesis state (self-attention cache), ``memory_rows``
        for per-sentence state (C, its cross-attention K/V, the source mask; one row per sentence even in
        beam search); ``None`` = unchanged."""
        if memory_rows is not None:
            if self.memory is not None:
                self.memory = self.memory.index_select(0, memory_rows)
            if self.src_mask is not None:
                self.src_mask = self.src_mask.index_select(0, memory_rows)
        if self.cache is not None:
            self.cache = self.cache.index_select(rows, memory_rows)


class StepHistory:
    """Per-step cross-attention (and, with ``topk``, each row's k most probable next tokens) plus
    back-pointers to the previous step's rows, so a finished hypothesis recovers what belongs to *its own*
    tokens however the beams were reordered."""

    def __init__(self, enabled: bool, topk: int = 0):
        self.enabled, self.k = enabled, topk
        self.weights: list[Optional[Tensor]] = []  # step t: [N_t, L, H, S]
        self.top: list[tuple[Tensor, Tensor]] = []  # step t: ([N_t, k] probabilities, [N_t, k] ids)
        self.parents: list[Optional[Tensor]] = []  # step t: [N_t] rows of step t-1 (None at t=0)

    def add(self, weights: Optional[Tensor], parents: Optional[Tensor], logp: Optional[Tensor] = None) -> None:
        """``logp``: the model's log-probabilities at this step, before any constraint (for ``topk``)."""
        if not (self.enabled or self.k):
            return
        self.weights.append(weights if self.enabled else None)
        self.parents.append(parents)
        if self.k:
            values, ids = logp.topk(self.k, dim=-1)
            self.top.append((values.exp(), ids))

    def _rows(self, row: int) -> list[int]:
        rows = []
        for t in range(len(self.parents) - 1, -1, -1):
            rows.append(row)
            if t:
                row = int(self.parents[t][row])
        return rows[::-1]

    def trace(self, row: int, src_len: int) -> Optional[Tensor]:
        """Weights [L, H, T, src_len] of the hypothesis whose last token was chosen from ``row`` at the last step."""
        if not self.enabled:
            return None
        rows = self._rows(row)
        return torch.stack([self.weights[t][r, :, :, :src_len] for t, r in enumerate(rows)], dim=2)

    def trace_topk(self, row: int) -> Optional[tuple[Tensor, Tensor]]:
        """([T, k] probabilities, [T, k] ids) along the same path."""
        if not self.k:
            return None
        rows = self._rows(row)
        return (
            torch.stack([self.top[t][0][r] for t, r in enumerate(rows)]).float().cpu(),
            torch.stack([self.top[t][1][r] for t, r in enumerate(rows)]).cpu(),
        )


class DecodeStrategy:
    """Shared set-up: encoding, output length caps, EOS forcing."""

    def __init__(
        self,
        model: EncoderDecoder,
        max_len_a: float = 2.0,
        max_len_b: int = 20,
        use_cache: bool = True,
        return_attention: bool = True,
        length_penalty: float = 1.0,
        return_topk: int = 0,
        no_repeat_ngram: int = 0,
    ):
        self.model = model
        self.max_len_a, self.max_len_b = max_len_a, max_len_b
        self.use_cache, self.return_attention = use_cache, bool(return_attention)
        self.alpha = length_penalty
        self.topk = int(return_topk)
        self.no_repeat = int(no_repeat_ngram)  # 0: off; n: no n-gram twice (constraints.repeated_ngrams)

    def _setup(self, src: Tensor, prefixes: Optional[list[list[int]]] = None):
        src_mask = self.model.src_mask(src)
        src_lens = src_mask.view(src.size(0), -1).sum(-1)
        memory = self.model.encode(src, src_mask).memory
        cap = self.model.cfg.max_len - 1
        max_lens = (self.max_len_a * src_lens.double() + self.max_len_b).floor().long().clamp(min(2, cap), cap)
        forced = None
        if prefixes is not None and any(prefixes):
            width = max(len(p) for p in prefixes)
            if width + 1 > cap:
                raise ValueError(f"a prefix of {width} pieces leaves no room in the model's {cap} positions")
            forced = torch.full((src.size(0), width), -1, dtype=torch.long)
            for i, p in enumerate(prefixes):
                forced[i, : len(p)] = torch.as_tensor(p, dtype=torch.long)
            lens = torch.tensor([len(p) for p in prefixes])
            max_lens = torch.maximum(max_lens, (lens + 1).clamp(max=cap))  # room for the prefix and EOS
        return memory, src_mask, src_lens.tolist(), max_lens, forced

    def _hyp(self, tokens: list[int], score: float, attention: Optional[Tensor], topk=None) -> Hypothesis:
        return Hypothesis(
            tokens=tokens,
            score=score,
            normalized_score=score / length_penalty(len(tokens), self.alpha),
            attention=attention,
            topk=topk,
        )

    def search(
        self,
        src: Tensor,
        prefixes: Optional[list[list[int]]] = None,
        carry: Optional[tuple[Tensor, Tensor]] = None,
        banned: Optional[Tensor] = None,
    ) -> list[list[Hypothesis]]:
        """``prefixes``: per sentence, target ids the output must start with (empty: none).  ``carry``:
        placeholder ids [P] and per sentence how often its source has each [B, P] (see :meth:`_carry`).
        ``banned``: [B, V], pieces each sentence may not produce (see :meth:`_ban`)."""
        raise NotImplementedError


class GreedySearch(DecodeStrategy):
    """Take the most probable token at every step."""

    @torch.inference_mode()
    def search(
        self,
        src: Tensor,
        prefixes: Optional[list[list[int]]] = None,
        carry: Optional[tuple[Tensor, Tensor]] = None,
        banned: Optional[Tensor] = None,
    ) -> list[list[Hypothesis]]:
        memory, src_mask, src_lens, max_lens, forced = self._setup(src, prefixes)
        batch = src.size(0)
        stepper = Stepper(self.model, memory, src_mask, self.use_cache, self.return_attention)
        history = StepHistory(self.return_attention, self.topk)
        active = torch.arange(batch)  # original sentence index of each row
        ys = torch.full((batch, 1), BOS_ID, dtype=torch.long, device=src.device)
        scores = torch.zeros(batch, device=src.device)
        results: list[list[Hypothesis]] = [[] for _ in range(batch)]
        parents = None
        for t in range(int(max_lens.max())):
            logp, weights = stepper.step(ys)
            history.add(weights, parents, logp)
            at_cap = constraints.at_cap(max_lens[active], t, src.device)
            force = forced[active, t].to(src.device) if forced is not None and t < forced.size(1) else None
            exempt = _either(at_cap, None if force is None else force >= 0)
            logp = constraints.ban(logp, banned, active, 1, t == 0, ys, self.no_repeat)
            logp = constraints.carry(logp, ys, carry, active, 1, max_lens - t - 1, exempt)
            logp = constraints.only_eos_at_cap(logp, at_cap)
            if force is not None:
                logp = constraints.force(logp, force)
            tok = logp.argmax(-1)
            scores = scores + logp.gather(1, tok[:, None]).squeeze(1)
            ys = torch.cat([ys, tok[:, None]], dim=1)
            done = tok == EOS_ID
            if done.any():
                for row in done.nonzero().flatten().tolist():
                    s = int(active[row])
                    results[s].append(
                        self._hyp(
                            ys[row, 1:].tolist(),
                            float(scores[row]),
                            history.trace(row, src_lens[s]),
                            history.trace_topk(row),
                        )
                    )
                keep = (~done).nonzero().flatten()
                if keep.numel() == 0:
                    break
                active, ys, scores = active[keep.cpu()], ys[keep], scores[keep]
                stepper.select(keep, keep)
                parents = keep
            else:
                parents = torch.arange(ys.size(0), device=ys.device)
        return results


class BeamSearch(DecodeStrategy):
    """Beam search with ``beam_size`` hypotheses per sentence; returns the ``nbest`` best finished ones.

    Each step scores the ``2k`` best continuations of the sentence's ``k`` beams; EOS candidates
    among the top ``k`` become finished hypotheses, and the ``k`` best non-EOS candidates
    continue.  A sentence is done when it has ``k`` finished hypotheses (with ``length_penalty`` 0, also once its
    best candidate was EOS) or reaches its length cap.  These are CTranslate2's rules, so the two engines agree.
    """

    def __init__(self, model: EncoderDecoder, beam_size: int = 5, nbest: int = 1, return_tree: bool = False, **kwargs):
        super().__init__(model, **kwargs)
        self.return_tree = return_tree
        if beam_size < 1 or not 1 <= nbest <= beam_size:
            raise ValueError(
                f"need beam_size >= 1 and 1 <= nbest <= beam_size, got beam_size={beam_size}, nbest={nbest}"
            )
        self.k, self.nbest = beam_size, nbest

    @torch.inference_mode()
    def search(
        self,
        src: Tensor,
        prefixes: Optional[list[list[int]]] = None,
        carry: Optional[tuple[Tensor, Tensor]] = None,
        banned: Optional[Tensor] = None,
    ) -> list[list[Hypothesis]]:
        k = self.k
        memory, src_mask, src_lens, max_lens, forced = self._setup(src, prefixes)
        batch, dev = src.size(0), src.device
        # C and its cross-attention K/V stay one per sentence: the k beams of a sentence (rows i·k .. i·k+k-1)
        # share them (MultiHeadedAttention folds the beams into the query axis), so beam reordering never copies them.
        stepper = Stepper(self.model, memory, src_mask, self.use_cache, self.return_attention)
        history = StepHistory(self.return_attention, self.topk)
        active = torch.arange(batch)  # original sentence of each active group of k rows
        ys = torch.full((batch * k, 1), BOS_ID, dtype=torch.long, device=dev)
        scores = torch.full((batch, k), float("-inf"), device=dev)
        scores[:, 0] = 0.0
        finished: list[list[Hypothesis]] = [[] for _ in range(batch)]
        top_finished = [False] * batch
        trees: list[list] = [[] for _ in range(batch)]
        parents = None
        for t in range(int(max_lens.max())):
            nb = active.numel()
            logp, weights = stepper.step(ys)
            history.add(weights, parents, logp)
            capped = constraints.at_cap(max_lens[active], t, dev)  # per sentence; None: none is
            row_capped = None if capped is None else capped.repeat_interleave(k)
            force = (
                forced[active, t].repeat_interleave(k).to(dev) if forced is not None and t < forced.size(1) else None
            )
            logp = constraints.ban(logp, banned, active, k, t == 0, ys, self.no_repeat)
            logp = constraints.carry(
                logp, ys, carry, active, k, max_lens - t - 1, _either(row_capped, None if force is None else force >= 0)
            )
            logp = constraints.only_eos_at_cap(logp, row_capped)
            if force is not None:
                logp = constraints.force(logp, force)
            vocab = logp.size(-1)
            top_s, top_beam, top_tok = _top_candidates(logp.view(nb, k, vocab), scores, min(2 * k, k * vocab))
            is_eos = top_tok == EOS_ID
            # Finished hypotheses: EOS among the k best candidates.
            fin = is_eos[:, :k] & torch.isfinite(top_s[:, :k])
            # Every one of them is kept, even past k in all (CTranslate2 does the same); the ranking picks the best.
            added = set()
            for i, j in fin.nonzero().tolist() if fin.any() else ():
                s = int(active[i])
                added.add((i, j))
                top_finished[s] |= j == 0
                row = i * k + int(top_beam[i, j])
                tokens = ys[row, 1:].tolist() + [EOS_ID]
                finished[s].append(
                    self._hyp(tokens, float(top_s[i, j]), history.trace(row, src_lens[s]), history.trace_topk(row))
                )
            # The k best non-EOS candidates continue.
            cont_s, cont_j = top_s.masked_fill(is_eos, float("-inf")).topk(k, dim=1)
            rows = (torch.arange(nb, device=dev)[:, None] * k + top_beam.gather(1, cont_j)).view(-1)
            toks = top_tok.gather(1, cont_j).view(-1)
            if self.return_tree:
                _record_tree(trees, t, active, top_s, top_beam, top_tok, added, cont_j)
            # Sentences with k finished hypotheses, or at their length cap, leave the batch.  Without length
            # normalisation (alpha 0) the best candidate must also have finished once, as in CTranslate2.
            done = None
            if added or capped is not None:
                done = torch.tensor(
                    [len(finished[s]) >= k and (self.alpha != 0 or top_finished[s]) for s in active.tolist()],
                    device=dev,
                )
                done = done if capped is None else done | capped
                if done.all():
                    break
            ys = torch.cat([ys.index_select(0, rows), toks[:, None]], dim=1)
            scores = cont_s
            if done is not None and done.any():
                keep_groups = (~done).nonzero().flatten()
                keep_rows = (keep_groups[:, None] * k + torch.arange(k, device=dev)).view(-1)
                rows, ys, scores = rows[keep_rows], ys[keep_rows], scores[keep_groups]
                active = active[keep_groups.cpu()]
                stepper.select(rows, keep_groups)
            else:
                stepper.select(rows)
            parents = rows
        out = []
        for s, hyps in enumerate(finished):
            hyps.sort(key=lambda h: h.normalized_score, reverse=True)
            for h in hyps:
                h.tree = trees[s] if self.return_tree else None
            out.append(hyps[: self.nbest])
        return out


def _either(a: Optional[Tensor], b: Optional[Tensor]) -> Optional[Tensor]:
    """Elementwise or of two optional boolean masks."""
    if a is None or b is None:
        return b if a is None else a
    return a | b


def _top_candidates(logp: Tensor, scores: Tensor, n: int) -> tuple[Tensor, Tensor, Tensor]:
    """The ``n`` best continuations of each sentence's beams: logp [N, k, V] (the next piece's log-probabilities,
    added to in place), scores [N, k] (each beam's score so far).  Returns (cumulative scores, beam, piece), each
    [N, n], best first.  Two stages, n per beam then n of those k·n, give the same candidates as one top-k over
    all k·V, and each sorts a shorter row."""
    nb, k, vocab = logp.shape
    cand = logp.add_(scores.view(nb, k, 1))
    if k == 1:
        s, tok = cand.view(nb, vocab).topk(n, dim=1)
        return s, torch.zeros_like(tok), tok
    s, tok = cand.topk(min(n, vocab), dim=2)  # [N, k, n]
    best_s, j = s.view(nb, -1).topk(n, dim=1)  # among the k·n
    return best_s, j // s.size(2), tok.view(nb, -1).gather(1, j)


def _record_tree(trees, t: int, active, top_s, top_beam, top_tok, added: set, cont_j) -> None:
    """Beam tree, one list of nodes per step and sentence: every candidate the search scored at step t
    (the 2k best), as ``{"parent": beam slot at step t-1, "token", "score": cumulative log-prob, "status":
    "kept" (with its "slot" at step t), "finished" (EOS, kept as a finished hypothesis) or "pruned"}``."""
    scores, beams, toks = top_s.tolist(), top_beam.tolist(), top_tok.tolist()
    kept = {(i, j): slot for i, row in enumerate(cont_j.tolist()) for slot, j in enumerate(row)}
    for i in range(len(scores)):
        nodes = []
        for j, (score, beam, tok) in enumerate(zip(scores[i], beams[i], toks[i])):
            if score == float("-inf"):
                continue
            node = {"parent": beam, "token": tok, "score": score, "status": "pruned"}
            if (i, j) in added:
                node["status"] = "finished"
            elif (i, j) in kept:
                node["status"], node["slot"] = "kept", kept[(i, j)]
            nodes.append(node)
        trees[int(active[i])].append(nodes)
