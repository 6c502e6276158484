"""Forced alignment and scoring: the model reads given (source, target) pairs with teacher forcing
(:class:`TeacherForcing`), and its alignment head (or a raw-attention rule) links their words.  ``Translator``
has these methods through :class:`PairAligner`; they use its model, tokenizers, placeholders and English restorer.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from .align import AlignMethod, links_to_words, piece_alignment, pieces_to_words, word_units
from .checks import check_search_args, check_sentences
from .data import pack_by_tokens, pad_ids, shifted_targets
from .decoding import DecodeStrategy
from .placeholders import label_pieces, mask_like, source_forms
from .results import Alignment
from .results import length_penalty as lp_divisor
from .tokenizer import EOS_ID
from .truecase import Restored


@dataclass
class ForcedHypothesis:
    """A given target scored by the model: per-piece log-probabilities (``</s>`` last) and attention."""

    tokens: list[int]  # the given pieces' ids, ending with EOS
    token_logprobs: Tensor  # [T] float32
    attention: Optional[Tensor]  # [L, H, T, S] float32
    encoder_attention: Optional[Tensor] = None  # [L, H, S, S] (with all_attention=True)
    decoder_attention: Optional[Tensor] = None  # [L, H, T, T], zero above the diagonal
    full_context_attention: Optional[Tensor] = None  # [L, H, T, S] (with full_context=True)

    @property
    def score(self) -> float:
        return float(self.token_logprobs.sum())


class TeacherForcing(DecodeStrategy):
    """Forced decoding: score given target pieces (no search).  One batched decoder pass over
    BOS + y; returns each piece's log-probability, EOS included, and the cross-attention that went
    with it, row t being the position that predicted piece t (as in search results)."""

    @torch.inference_mode()
    def score(
        self, src: Tensor, targets: list[list[int]], all_attention: bool = False, full_context: bool = False
    ) -> list[ForcedHypothesis]:
        """``src`` [B, S] padded source ids (EOS included); ``targets``: B lists of target ids without EOS.
        ``all_attention`` also returns encoder and decoder self-attention; ``full_context`` every layer's
        full-context cross-attention (the alignment pass; ``EncoderDecoder.decode``'s ``full_context_layers``)."""
        src_mask = self.model.src_mask(src)
        src_lens = src_mask.view(src.size(0), -1).sum(-1).tolist()
        enc = self.model.encode(src, src_mask, need_weights=all_attention)
        tin, tout = shifted_targets(targets)
        tin, tout = tin.to(src.device), tout.to(src.device)
        layers = tuple(range(len(self.model.decoder.layers))) if full_context else ()
        out = self.model.decode(enc.memory, src_mask, tin, self.return_attention or all_attention, layers)
        logp = self.model.generator(out.hidden).gather(-1, tout.unsqueeze(-1)).squeeze(-1).float()
        # [B, L, H, T, S], [B, L, H, S, S], [B, L, H, T, T], [B, L, H, T, S]
        att = torch.stack(out.cross_attention, dim=1).float() if self.return_attention or all_attention else None
        enc_att = torch.stack(enc.self_attention, dim=1).float() if all_attention else None
        dec_att = torch.stack(out.self_attention, dim=1).float() if all_attention else None
        fc = torch.stack([out.full_context[i] for i in layers], dim=1).float() if full_context else None
        found = []
        for row, t in enumerate(targets):
            n, m = len(t) + 1, src_lens[row]
            found.append(
                ForcedHypothesis(
                    list(t) + [EOS_ID],
                    logp[row, :n].cpu(),
                    att[row, :, :, :n, :m].cpu() if att is not None else None,
                    enc_att[row, :, :, :m, :m].cpu() if enc_att is not None else None,
                    dec_att[row, :, :, :n, :n].cpu() if dec_att is not None else None,
                    fc[row, :, :, :n, :m].cpu() if fc is not None else None,
                )
            )
        return found


class PairAligner:
    """The forced-alignment half of :class:`~seq2seq.translator.Translator` (a mixin: it holds no state)."""

    def align(
        self,
        sources: Sequence[str] | str,
        targets: Sequence[str] | str,
        pretokenized: bool = False,
        method: Optional[AlignMethod] = None,
        length_penalty: Optional[float] = None,
        max_tokens: int = 6000,
        progress: bool = False,
        dtype: Optional[torch.dtype] = None,
        skip_long: bool = False,
        restore_english: bool = True,
    ) -> list[Alignment]:
        """Run the model on given Chinese/English pairs (teacher forcing, batched) and link their words.

        ``pretokenized=True``: both sides are words separated by spaces (as in gold alignment sets).
        The model still reads the text as it was trained: the Chinese words joined without spaces,
        the English words joined by spaces; links index these words.  Otherwise words are as in
        ``--alignments word``: Chinese characters (runs of other characters) and English
        whitespace tokens.  ``method`` (default the translator's ``align_method``) picks the attention.
        An empty side gives an empty result; a side over the model's length limit raises ValueError,
        or with ``skip_long=True`` gives an empty result too (no links).
        ``restore_english`` (default True): where the model folder has a truecasing model (``truecase.model``),
        English that is all lower-case or tokenized (``it 's``, ``( reporter``, ``-LRB-``) is restored before the
        model reads it: recased, first word capitalised, detokenized (:mod:`seq2seq.truecase`); its pieces are
        mapped back to the words given, which the links index.  False: the model reads the English as given.
        """
        sources, targets = _check_pairs(sources, targets)
        check_search_args(length_penalty, max_tokens)
        method = method or self.align_method
        alpha = length_penalty if length_penalty is not None else self.folder_config.decoding["length_penalty"]
        src_text, tgt_text, src_w, tgt_w, restored = self._texts_to_read(
            sources, targets, pretokenized, restore_english
        )
        src_ids, tgt_ids, spans = self._pair_ids(src_text, tgt_text, skip_long)
        strategy = TeacherForcing(self.model)
        results: list[Optional[Alignment]] = [None] * len(sources)
        order = sorted(
            (i for i in range(len(sources)) if src_ids[i] and tgt_ids[i]),
            key=lambda i: -max(len(src_ids[i]), len(tgt_ids[i]) + 1),
        )
        width_of = [max(len(src_ids[i]), len(tgt_ids[i]) + 1) for i in range(len(sources))]
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(order), unit="pair", file=sys.stderr)
        for batch in pack_by_tokens(order, width_of, max_tokens):
            src = pad_ids([src_ids[i] for i in batch])
            with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
                hyps = strategy.score(src.to(self.device), [tgt_ids[i] for i in batch], full_context=True)
            for i, h in zip(batch, hyps):
                results[i] = self._pair_alignment(
                    h, src_ids[i], spans[i], src_w[i], tgt_w[i], restored[i], method, alpha
                )
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.close()
        return [
            r if r is not None else self._empty_alignment(src_w[i], tgt_w[i], method) for i, r in enumerate(results)
        ]

    def _texts_to_read(self, sources: list[str], targets: list[str], pretokenized: bool, restore_english: bool):
        """The texts the model reads for :meth:`align`, the words given (``pretokenized``; else None each), and
        each pair's restored English (None where it is read as given).  Given words are joined as the model
        was trained: Chinese without spaces, English with them."""
        en_src = self.folder_config.direction == "en-zh"  # English is the source
        src_w: list = [None] * len(sources)
        tgt_w: list = [None] * len(targets)
        if pretokenized:
            src_w, tgt_w = [s.split() for s in sources], [t.split() for t in targets]
            src_text = [(" " if en_src else "").join(w) for w in src_w]
            tgt_text = [("" if en_src else " ").join(w) for w in tgt_w]
        else:
            src_text, tgt_text = list(sources), list(targets)
        restored: list[Optional[Restored]] = [None] * len(sources)
        if restore_english:  # English the model knows (seq2seq.truecase), on whichever side is English
            restored = self.restore_english(
                src_text if en_src else tgt_text, (src_w if en_src else tgt_w) if pretokenized else None
            )
            side = src_text if en_src else tgt_text
            side[:] = [r.text if r else x for r, x in zip(restored, side)]
        return src_text, tgt_text, src_w, tgt_w, restored

    def _pair_ids(self, src_text: list[str], tgt_text: list[str], skip_long: bool):
        """Source and target ids of each pair (names and numbers as placeholders, the target masked like its
        source), and the placeholder spans; a pair over the model's limit is an error, or with ``skip_long``
        gets no source ids (and so an empty result)."""
        masked = [self.mask_source(x) for x in src_text]
        spans = [sp for _, sp in masked]
        src_ids = self.encode_sources([m for m, _ in masked])
        tgt_ids = self.tgt_tok.encode([mask_like(t, sp) for t, sp in zip(tgt_text, spans)])
        limit = self.max_source_tokens
        for i in range(len(src_ids)):
            if len(src_ids[i]) > limit or len(tgt_ids[i]) + 1 > limit:
                if skip_long:
                    src_ids[i] = []
                    continue
                raise ValueError(
                    f"pair {i} has {len(src_ids[i])} source / {len(tgt_ids[i]) + 1} target pieces; the "
                    f"model reads at most {limit}: split it into shorter sentences"
                )
        return src_ids, tgt_ids, spans

    def _pair_alignment(
        self,
        h,
        src_ids: list[int],
        spans: list[str],
        src_words,
        tgt_words,
        restored: Optional[Restored],
        method: AlignMethod,
        alpha: float,
    ) -> Alignment:
        """One pair's :class:`Alignment` from its teacher-forced hypothesis ``h``: pieces labelled with their
        spans, pieces mapped to the words given (or to word units), links read by ``method``."""
        sp = label_pieces(self.src_tok.ids_to_pieces(src_ids), source_forms(spans))
        tp = label_pieces(self.tgt_tok.ids_to_pieces(h.tokens), spans)
        if src_words is not None:
            sw, tw = src_words, tgt_words
            s_map = pieces_to_words(sp, [self.src_tok.normalize(w) for w in sw])
            t_map = pieces_to_words(tp, tw)
        else:
            sw, s_map = word_units(sp, self.folder_config.source_lang)
            tw, t_map = word_units(tp, self.folder_config.target_lang)
        if restored is not None:  # restored English: its pieces map back to the words given, by characters
            if self.folder_config.direction == "en-zh":
                sw, s_map = restored.words, pieces_to_words(sp, restored.surfaces)
            else:
                tw, t_map = restored.words, pieces_to_words(tp, restored.surfaces)
        att, full = h.attention.numpy(), h.full_context_attention.numpy()
        links = links_to_words(
            piece_alignment(sp, tp, full if method.full_context else att, method=method), s_map, t_map
        )
        lp = h.token_logprobs.numpy()
        score = float(lp.sum())
        return Alignment(
            sp, tp, att, lp, score, score / lp_divisor(len(lp), alpha), links, sw, tw, method.name, s_map, t_map, full
        )

    def _empty_alignment(self, src_words, tgt_words, method: AlignMethod) -> Alignment:
        """The result for a pair with an empty side (or one skipped as too long): no pieces, no links."""
        cfg = self.model.cfg
        return Alignment(
            [],
            [],
            np.zeros((cfg.n_dec_layers, cfg.n_heads, 0, 0), dtype=np.float32),
            np.zeros(0, dtype=np.float32),
            0.0,
            0.0,
            [],
            src_words or [],
            tgt_words or [],
            method.name,
        )

    def restore_english(
        self,
        texts: Sequence[str],
        words: Optional[Sequence[Sequence[str]]] = None,
    ) -> list[Optional[Restored]]:
        """Each English text (or its given ``words``) as the model should read it (:mod:`seq2seq.truecase`), or
        None where the model reads it as given: English that is cased and detokenized already, or every text
        when the model folder has no truecasing model."""
        if self.english_restorer is None:
            return [None] * len(texts)
        out: list[Optional[Restored]] = []
        for k, text in enumerate(texts):
            r = self.english_restorer.restore(words[k] if words is not None else text.split())
            out.append(r if r.changed else None)
        return out


def _check_pairs(sources, targets) -> tuple[list[str], list[str]]:
    """:meth:`Translator.align`'s pairs as two lists of strings of equal length (a string is one sentence)."""
    if isinstance(sources, str):
        sources = [sources]
    if isinstance(targets, str):
        targets = [targets]
    sources, targets = check_sentences(sources, "align: sources"), check_sentences(targets, "align: targets")
    if len(sources) != len(targets):
        raise ValueError(f"align: {len(sources)} sources but {len(targets)} targets")
    for name, side in (("sources", sources), ("targets", targets)):
        for i, x in enumerate(side):
            if not isinstance(x, str):
                raise TypeError(f"align: {name}[{i}] is {type(x).__name__}, not str")
    return list(sources), list(targets)
