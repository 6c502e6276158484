"""Engines: source ids in, hypotheses (target ids, scores, attention) out.  No text here (that is
:mod:`seq2seq.codec`), no choice between hypotheses (that is :class:`~seq2seq.translator.Translator`).

Two engines offer one interface, ``search(src_ids, settings, ...) -> [[Hypothesis, ...] or None per source]``:

* :class:`TorchEngine`, our PyTorch model: greedy and beam search (:mod:`seq2seq.decoding`) with everything the
  microscope shows (every layer's attention, top-k, the beam tree, placeholder limits), and :meth:`TorchEngine.force`,
  forced decoding of given targets.
* :class:`~seq2seq.ct2_engine.CT2Engine`, the same weights in CTranslate2: fast search with n-best, prefixes and the
  alignment head's attention.

Both return, for each source, the ``beam_size`` finished hypotheses best first (one for greedy), and on each the
attention that word links are read from (``alignment_attention``: the alignment head, causal, as the search saw it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch
from torch import Tensor

from . import constraints
from .batches import batched, pad_ids, shifted_targets
from .decoding import BeamSearch, GreedySearch, Hypothesis
from .model import EncoderDecoder
from .tokenizer import EOS_ID


@dataclass(frozen=True)
class SearchSettings:
    """One search, every value known (the caller's, else the model folder's default)."""

    beam_size: int  # 1 = greedy
    nbest: int  # hypotheses the caller keeps (engines return beam_size)
    length_penalty: float  # alpha of score / |y| ** alpha
    max_len_a: float  # the output is at most max_len_a * |source| + max_len_b pieces, EOS included
    max_len_b: int
    max_tokens: int  # source tokens per batch
    no_repeat_ngram: int = 0  # n > 0: no output n-gram twice (fairseq's and CTranslate2's no_repeat_ngram_size)

    def caps(self, src_lens: Sequence[int], max_len: int) -> list[int]:
        """Each source's output cap in pieces, EOS included (as ``DecodeStrategy._setup`` computes it)."""
        cap = max_len - 1
        return [max(min(2, cap), min(cap, int(self.max_len_a * n + self.max_len_b))) for n in src_lens]

    def strategy_options(self) -> dict:
        """What a decode strategy (``seq2seq.decoding``) takes from these settings."""
        return dict(
            length_penalty=self.length_penalty,
            max_len_a=self.max_len_a,
            max_len_b=self.max_len_b,
            no_repeat_ngram=self.no_repeat_ngram,
        )


@dataclass(frozen=True)
class HeadChoice:
    """Which cross-attention word links read: decoder ``layer`` and ``head`` (None: the mean of all heads)."""

    layer: int
    head: Optional[int]

    def of(self, attention: Tensor) -> Tensor:
        """[T, S] from [L, H, T, S]."""
        a = attention[self.layer]
        return a.mean(0) if self.head is None else a[self.head]


def _as_searched(logp: Tensor, banned: list[Sequence[int]]) -> Tensor:
    """[B, T, V] log-probabilities as a search scores them: :func:`constraints.ban` at every position (``</s>``
    banned at the first), on a copy."""
    b, t, v = logp.shape
    mask, rows = constraints.banned_mask(banned, v), torch.arange(b)
    out = logp.clone()
    out[:, 0] = constraints.ban(out[:, 0].clone(), mask, rows, 1, first_step=True)
    if t > 1:
        rest = out[:, 1:].reshape(b * (t - 1), v).clone()
        out[:, 1:] = constraints.ban(rest, mask, rows, t - 1, first_step=False).view(b, t - 1, v)
    return out


def head_choice(method, n_layers: int) -> HeadChoice:
    """The layer and head an :class:`~seq2seq.align.AlignMethod` reads (its ``layer`` None: the penultimate)."""
    layer = method.layer if method.layer is not None else max(0, n_layers - 2)
    return HeadChoice(layer % n_layers, method.head)


@dataclass(kw_only=True)
class ForcedHypothesis:
    """A given target scored by the model: per-piece log-probabilities (``</s>`` last) and attention."""

    tokens: list[int]  # the given pieces' ids, ending with EOS
    token_logprobs: Tensor  # [T] float32
    attention: Optional[Tensor]  # [L, H, T, S] float32
    encoder_attention: Optional[Tensor] = None  # [L, H, S, S] (with all_attention=True)
    decoder_attention: Optional[Tensor] = None  # [L, H, T, T], zero above the diagonal
    full_context_attention: Optional[Tensor] = None  # [L, H, T, S] (with full_context=True)
    topk: Optional[tuple[Tensor, Tensor]] = None  # ([T, k] probabilities, [T, k] ids) with topk=k

    @property
    def score(self) -> float:
        return float(self.token_logprobs.sum())


class TorchEngine:
    """Our PyTorch model as an engine (see the module's docstring).  Read-only: one engine serves concurrent
    requests (every search keeps its state in its own objects)."""

    name = "torch"

    def __init__(self, model: EncoderDecoder, head: HeadChoice, device: str | torch.device = "cpu"):
        self.model, self.head, self.device = model.eval(), head, torch.device(device)

    @property
    def max_len(self) -> int:
        return self.model.cfg.max_len

    def search(
        self,
        src_ids: Sequence[Sequence[int]],
        settings: SearchSettings,
        prefixes: Optional[Sequence[Sequence[int]]] = None,
        banned: Optional[Sequence[Sequence[int]]] = None,
        limits: Optional[tuple[Sequence[int], Sequence[Sequence[int]]]] = None,
        attention: bool = True,
        topk: int = 0,
        tree: bool = False,
        use_cache: bool = True,
        dtype: Optional[torch.dtype] = None,
        progress: bool = False,
    ) -> list[Optional[list[Hypothesis]]]:
        """Search every non-empty source (None for an empty one).  ``prefixes``: target ids each output starts
        with; ``banned``: target ids each source may never produce; ``limits``: (placeholder ids, and per source
        how often it holds each) for the constrained search (``constraints.carry``); ``attention``: every layer's
        cross-attention and the links' head; ``topk``, ``tree``: as ``Translator.translate``."""
        vocab = self.model.cfg.tgt_vocab_size
        if not 0 <= topk <= vocab:
            raise ValueError(f"return_topk must be in 0..{vocab}, got {topk}")
        opts = dict(use_cache=use_cache, return_attention=attention, return_topk=topk, **settings.strategy_options())
        if settings.beam_size == 1:
            strategy = GreedySearch(self.model, **opts)
        else:
            strategy = BeamSearch(
                self.model, beam_size=settings.beam_size, nbest=settings.beam_size, return_tree=tree, **opts
            )

        def run(batch: list[int]) -> list[list[Hypothesis]]:
            src = pad_ids([src_ids[i] for i in batch]).to(self.device)
            carry = None
            if limits is not None:
                ids, counts = limits
                carry = (torch.tensor(list(ids)), torch.tensor([list(counts[i]) for i in batch]))
            mask = constraints.banned_mask([banned[i] for i in batch], vocab) if banned is not None else None
            with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
                found = strategy.search(src, [prefixes[i] for i in batch] if prefixes else None, carry, mask)
            for hyps in found:
                for h in hyps:
                    if h.attention is not None:
                        h.alignment_attention = self.head.of(h.attention)
            return found

        return batched([len(x) for x in src_ids], settings.max_tokens, run, progress)

    @torch.inference_mode()
    def prefix_logprobs(
        self,
        src_ids: Sequence[Sequence[int]],
        prefixes: Sequence[Sequence[int]],
        banned: Optional[Sequence[Sequence[int]]] = None,
        max_tokens: int = 6000,
    ) -> list[float]:
        """The log-probability of each prefix as a search scores it (``constraints.ban``: the pieces a search
        never produces taken out, the rest renormalised); 0.0 where the prefix is empty.  CTranslate2 scores
        only what follows a prefix, so its engine adds these."""
        widths = [max(len(s), len(p) + 1) if s and p else 0 for s, p in zip(src_ids, prefixes)]

        def run(batch: list[int]) -> list[float]:
            src = pad_ids([src_ids[i] for i in batch]).to(self.device)
            mask = self.model.src_mask(src)
            memory = self.model.encode(src, mask).memory
            tin, tout = (x.to(src.device) for x in shifted_targets([prefixes[i] for i in batch]))
            logp = self.model.generator(self.model.decode(memory, mask, tin).hidden).float()
            logp = _as_searched(logp, [banned[i] if banned else [] for i in batch])
            picked = logp.gather(-1, tout.unsqueeze(-1)).squeeze(-1)
            return [float(picked[row, : len(prefixes[i])].sum()) for row, i in enumerate(batch)]

        found = batched(widths, max_tokens, run)
        return [x if x is not None else 0.0 for x in found]

    @torch.inference_mode()
    def force(
        self,
        src_ids: Sequence[Sequence[int]],
        tgt_ids: Sequence[Sequence[int]],
        max_tokens: int = 6000,
        all_attention: bool = False,
        full_context: bool = False,
        topk: int = 0,
        dtype: Optional[torch.dtype] = None,
        progress: bool = False,
        banned: Optional[Sequence[Sequence[int]]] = None,
    ) -> list[Optional[ForcedHypothesis]]:
        """Forced decoding: score given target ids (without EOS) for each source (teacher forcing, one batched
        decoder pass over BOS + y).  Returns each piece's log-probability, EOS included, and the cross-attention
        that went with it, row t being the position that predicted piece t (as in search results); None where
        the source or the target is empty.  The log-probabilities are those a search scores with
        (``constraints.ban``: what a search never produces, ``banned`` per source among it, taken out), so the
        model's own translation scores as its search did.  ``all_attention`` also returns encoder and decoder
        self-attention; ``full_context`` every layer's full-context cross-attention (the pass whose self-attention
        sees the whole target); ``topk`` the k likeliest pieces at every step (before anything is taken out)."""
        widths = [max(len(s), len(t) + 1) if s and t else 0 for s, t in zip(src_ids, tgt_ids)]

        def run(batch: list[int]) -> list[ForcedHypothesis]:
            src = pad_ids([src_ids[i] for i in batch]).to(self.device)
            ban = [banned[i] for i in batch] if banned else [[] for _ in batch]
            with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
                return self._force_batch(src, [tgt_ids[i] for i in batch], all_attention, full_context, topk, ban)

        return batched(widths, max_tokens, run, progress, unit="pair")

    def _force_batch(
        self,
        src: Tensor,
        targets: list[Sequence[int]],
        all_attention: bool,
        full_context: bool,
        topk: int,
        banned: list[Sequence[int]],
    ) -> list[ForcedHypothesis]:
        model = self.model
        src_mask = model.src_mask(src)
        src_lens = src_mask.view(src.size(0), -1).sum(-1).tolist()
        enc = model.encode(src, src_mask, need_weights=all_attention)
        tin, tout = (x.to(src.device) for x in shifted_targets(targets))
        layers = tuple(range(len(model.decoder.layers))) if full_context else ()
        out = model.decode(enc.memory, src_mask, tin, True, layers)
        logp_all = model.generator(out.hidden).float()
        top = logp_all.topk(topk, dim=-1) if topk else None
        logp = _as_searched(logp_all, banned).gather(-1, tout.unsqueeze(-1)).squeeze(-1)
        # [B, L, H, T, S], [B, L, H, S, S], [B, L, H, T, T], [B, L, H, T, S]
        att = torch.stack(out.cross_attention, dim=1).float()
        enc_att = torch.stack(enc.self_attention, dim=1).float() if all_attention else None
        dec_att = torch.stack(out.self_attention, dim=1).float() if all_attention else None
        fc = torch.stack([out.full_context[i] for i in layers], dim=1).float() if full_context else None
        found = []
        for row, t in enumerate(targets):
            n, m = len(t) + 1, src_lens[row]
            found.append(
                ForcedHypothesis(
                    tokens=list(t) + [EOS_ID],
                    token_logprobs=logp[row, :n].cpu(),
                    attention=att[row, :, :, :n, :m].cpu(),
                    encoder_attention=enc_att[row, :, :, :m, :m].cpu() if enc_att is not None else None,
                    decoder_attention=dec_att[row, :, :, :n, :n].cpu() if dec_att is not None else None,
                    full_context_attention=fc[row, :, :, :n, :m].cpu() if fc is not None else None,
                    topk=(top.values[row, :n].exp().cpu(), top.indices[row, :n].cpu()) if top is not None else None,
                )
            )
        return found
