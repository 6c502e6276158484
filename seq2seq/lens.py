"""The logit lens: what each decoder layer would output if it were the last.

The decoder is a residual stream: each layer adds its update to x.  The model reads only the last layer's x, as
log-softmax(W · LayerNorm(x)) (the stack's final LayerNorm, then the Generator's output projection).  The logit
lens (nostalgebraist 2020) reads every layer's x the same way:

    logp_l = log_softmax(W · LayerNorm_final(x_l))        l = 1..L, at every output step

For every layer and step it gives the three likeliest pieces with their probabilities and the rank of the piece
finally chosen (0 = the layer's top choice).  Where the rank becomes 0 and stays there, the word is decided.  The
readings are scored as a search scores them (``constraints.ban``: pieces a search never produces, such as a
placeholder the source lacks and ``</s>`` at the first step, taken out), so the last layer's reading is exactly
the model's own log-probabilities (``TorchEngine.force``).

The early layers were never trained to be read this way; their readings are a rough view of what the stream
holds, not what those layers "think".  ``Translator.logit_lens`` is the entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from .batches import pad_ids
from .engine import _as_searched
from .model import EncoderDecoder, subsequent_mask
from .tokenizer import BOS_ID

TOP_K = 3


@torch.inference_mode()
def layer_log_probs(
    model: EncoderDecoder, src_ids: Sequence[int], tgt_ids: Sequence[int], banned: Sequence[int] = ()
) -> Tensor:
    """[layers, T, V] log-probabilities of every decoder layer's output read through the final LayerNorm and the
    Generator, for the target ``tgt_ids`` (``</s>`` last) read with teacher forcing; ``banned`` target ids taken
    out as a search takes them out.  The computation is ``model.decode``'s, layer by layer."""
    dev = next(model.parameters()).device
    src = pad_ids([src_ids]).to(dev)
    tin = pad_ids([[BOS_ID, *tgt_ids[:-1]]]).to(dev)
    src_mask = model.src_mask(src)
    cache = model.decoder.init_cache(model.encode(src, src_mask).memory)
    x = model.pos(model.tgt_embed(tin))
    tgt_mask = subsequent_mask(tin.size(1), dev)
    readings = []
    for layer, cross_kv in zip(model.decoder.layers, cache.cross_kv):
        x, _, _, _ = layer(x, cross_kv, src_mask, tgt_mask, None, True)  # with weights, as TorchEngine.force
        readings.append(_as_searched(model.generator(model.decoder.norm(x)).float(), [list(banned)])[0])
    return torch.stack(readings)


def ranks_of(logp: Tensor, chosen: Sequence[int]) -> Tensor:
    """[layers, T]: the rank of piece ``chosen[t]`` at step t in each layer's reading (0 = the top; ties share
    the best rank)."""
    idx = torch.as_tensor(list(chosen), device=logp.device).view(1, -1, 1).expand(logp.size(0), -1, 1)
    own = logp.gather(-1, idx)
    return (logp > own).sum(-1)


@dataclass
class LogitLens:
    """One sentence through the logit lens.  Steps t = 0..T-1 are the output pieces ``target_tokens`` (``</s>``
    last).  ``ranks`` [layers, T]: the rank of the chosen piece in each layer's reading.  ``chosen_logprobs``
    [layers, T]: its log-probability there (the last layer's row is the model's own).  ``top``: per layer, per
    step, the ``TOP_K`` likeliest (piece, probability) pairs, best first.  ``target_words`` and
    ``target_groups`` (piece -> word indices) are the reading units of ``Translation.coverage``."""

    text: str
    source_tokens: list[str]
    target_tokens: list[str]
    ranks: np.ndarray
    chosen_logprobs: np.ndarray
    top: list[list[list[tuple[str, float]]]]
    target_words: list[str] = field(default_factory=list)
    target_groups: list[list[int]] = field(default_factory=list, repr=False)

    @property
    def layers(self) -> int:
        return int(self.ranks.shape[0])

    def decided_at(self) -> list[Optional[int]]:
        """For each step, the first layer (0-based) from which the chosen piece ranks first in every later layer;
        None where even the last layer ranks it lower (a search that did not pick the top piece)."""
        out: list[Optional[int]] = []
        for column in self.ranks.T:
            first = None
            for layer in range(len(column) - 1, -1, -1):
                if column[layer] != 0:
                    break
                first = layer
            out.append(first)
        return out

    def as_json(self) -> dict:
        return {
            "text": self.text,
            "source_tokens": list(self.source_tokens),
            "target_tokens": list(self.target_tokens),
            "target_words": list(self.target_words),
            "ranks": self.ranks.tolist(),
            "chosen_logprobs": np.round(self.chosen_logprobs.astype(float), 5).tolist(),
            "top": [[[[p, round(float(q), 5)] for p, q in step] for step in layer] for layer in self.top],
            "decided_at": self.decided_at(),
        }


def lens_of(model: EncoderDecoder, pair, pieces_of, banned: Sequence[int] = (), words=None) -> LogitLens:
    """The :class:`LogitLens` of one :class:`~seq2seq.attributor.Pair`; ``pieces_of(ids)`` spells target ids as
    a reader sees them (placeholders as their spans); ``words``: (target words, piece -> word indices)."""
    logp = layer_log_probs(model, pair.src_ids, pair.tgt_ids, banned)
    ranks = ranks_of(logp, pair.tgt_ids).cpu().numpy()
    chosen = logp.gather(-1, torch.as_tensor(pair.tgt_ids).view(1, -1, 1).expand(logp.size(0), -1, 1))[..., 0]
    best = logp.topk(min(TOP_K, logp.size(-1)), dim=-1)
    probs, ids = best.values.exp().cpu().tolist(), best.indices.cpu().tolist()
    top = [
        [list(zip(pieces_of(step_ids), step_probs)) for step_ids, step_probs in zip(layer_ids, layer_probs)]
        for layer_ids, layer_probs in zip(ids, probs)
    ]
    tw, tg = words if words is not None else ([], [])
    return LogitLens(
        pair.text, pair.source_tokens, pair.target_tokens, ranks, chosen.cpu().numpy(), top, list(tw), list(tg)
    )


def logit_lens(translator, sources, targets=None, beam_size: Optional[int] = None) -> list[Optional[LogitLens]]:
    """``Translator.logit_lens``: one :class:`LogitLens` per sentence (None where a side is empty); without
    ``targets``, the model's own translation (``beam_size``: the search's, default the folder's)."""
    from .attributor import Attributor
    from .coverage import reading_units
    from .placeholders import label_pieces

    pairs = Attributor(translator).pairs(sources, targets, beam_size)
    codec, model = translator.codec, translator.torch.model
    out: list[Optional[LogitLens]] = []
    for pair in pairs:
        if pair is None:
            out.append(None)
            continue
        pieces_of = lambda ids, spans=pair.spans: label_pieces(codec.tgt_tok.ids_to_pieces(ids), spans)
        banned = codec.banned([pair.src_ids])[0]
        words = reading_units(pair.target_tokens, translator.languages[1])
        out.append(lens_of(model, pair, pieces_of, banned, words))
    return out
