"""The Transformer encoder-decoder, in the Annotated Transformer's structure and names.

Everything a translation passes through is in this file, with the attention itself in :mod:`seq2seq.attention`:

    src ids -> Embeddings(+PositionalEncoding) -> Encoder ---------------> C (memory)
    tgt ids -> Embeddings(+PositionalEncoding) -> Decoder(self-attn, cross-attn on C, FFN) -> Generator -> log-probs

Norm placement: **pre-norm** (``x + Sublayer(LayerNorm(x))``) with one final LayerNorm at the
end of each stack.  The Annotated Transformer's code makes the same choice.  Pre-norm keeps the
residual path an identity, so gradients reach the lower layers undamped; a small model trained
on ~100k sentence pairs on a CPU then trains stably with a short warmup and a high learning rate,
where post-norm needs a long warmup and careful tuning.  ``ModelConfig.pre_norm=False`` gives
the paper's post-norm (``LayerNorm(x + Sublayer(x))``) for comparison.

No module keeps per-call state.  Attention weights and the incremental-decoding cache are
returned to the caller in one place, :class:`EncoderOutput` and :class:`DecoderOutput` (see
:class:`DecoderCache`), so one model object can serve many concurrent requests.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .attention import MultiHeadedAttention


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model.  Saved as JSON next to every set of weights."""

    src_vocab_size: int = 8000
    tgt_vocab_size: int = 8000
    n_layers: int = 3  # encoder layers
    n_dec_layers: Optional[int] = None  # decoder layers; None = same as encoder
    d_model: int = 256
    n_heads: int = 4
    d_ff: int = 1024
    dropout: float = 0.1
    attention_dropout: float = 0.1
    max_len: int = 512  # longest sequence the positional table covers
    pre_norm: bool = True
    tie_output: bool = True  # decoder embedding == generator weight
    share_embeddings: bool = False  # encoder and decoder embeddings share (needs one shared vocab)
    pad_id: int = 0

    def __post_init__(self) -> None:
        if self.n_dec_layers is None:
            self.n_dec_layers = self.n_layers
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}")
        if self.share_embeddings and self.src_vocab_size != self.tgt_vocab_size:
            raise ValueError("share_embeddings needs src_vocab_size == tgt_vocab_size (a shared vocabulary)")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**d)


# ---------------------------------------------------------------------------------------------
# Embeddings and positions
# ---------------------------------------------------------------------------------------------


class Embeddings(nn.Module):
    """Token embeddings multiplied by sqrt(d_model) (paper, section 3.4)."""

    def __init__(self, d_model: int, vocab: int, pad_id: int = 0):
        super().__init__()
        self.lut = nn.Embedding(vocab, d_model, padding_idx=pad_id)
        self.d_model = d_model
        nn.init.normal_(self.lut.weight, mean=0.0, std=d_model**-0.5)
        with torch.no_grad():
            self.lut.weight[pad_id].zero_()

    def forward(self, x: Tensor) -> Tensor:
        return self.lut(x) * math.sqrt(self.d_model)


def sinusoid_table(max_len: int, d_model: int) -> Tensor:
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)),  PE(pos, 2i+1) = cos(pos / 10000^(2i/d))."""
    pe = torch.zeros(max_len, d_model)
    position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * -(math.log(10000.0) / d_model))
    pe[:, 0::2] = torch.sin(position * div_term).float()
    pe[:, 1::2] = torch.cos(position * div_term).float()
    return pe


class PositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal table (a buffer, not a parameter), then dropout."""

    def __init__(self, d_model: int, dropout: float, max_len: int = 512):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        self.register_buffer("pe", sinusoid_table(max_len, d_model), persistent=False)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        """x: [batch, time, d_model]; ``offset`` is the position of x[:, 0] (incremental decoding)."""
        end = offset + x.size(1)
        if end > self.pe.size(0):
            raise ValueError(f"sequence of length {end} exceeds the model's max_len={self.pe.size(0)}")
        return self.dropout(x + self.pe[offset:end].to(x.dtype))


class PositionwiseFeedForward(nn.Module):
    """FFN(x) = W2 · dropout(ReLU(W1 x + b1)) + b2."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.1):
        super().__init__()
        self.w_1 = nn.Linear(d_model, d_ff)
        self.w_2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.w_2(self.dropout(F.relu(self.w_1(x))))


class SublayerConnection(nn.Module):
    """Residual connection around a sublayer, with LayerNorm before (pre-norm) or after (post-norm)."""

    def __init__(self, size: int, dropout: float, pre_norm: bool = True):
        super().__init__()
        self.norm = nn.LayerNorm(size)
        self.dropout = nn.Dropout(dropout)
        self.pre_norm = pre_norm

    def forward(self, x: Tensor, sublayer) -> tuple[Tensor, Optional[Tensor]]:
        """``sublayer(h)`` returns (output, extra); returns (new x, extra)."""
        if self.pre_norm:
            out, extra = sublayer(self.norm(x))
            return x + self.dropout(out), extra
        out, extra = sublayer(x)
        return self.norm(x + self.dropout(out)), extra


# ---------------------------------------------------------------------------------------------
# Layers and stacks
# ---------------------------------------------------------------------------------------------


class EncoderLayer(nn.Module):
    """Self-attention, then feed-forward, each inside a SublayerConnection."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.self_attn = MultiHeadedAttention(cfg.n_heads, cfg.d_model, cfg.attention_dropout)
        self.feed_forward = PositionwiseFeedForward(cfg.d_model, cfg.d_ff, cfg.dropout)
        self.sublayer = nn.ModuleList([SublayerConnection(cfg.d_model, cfg.dropout, cfg.pre_norm) for _ in range(2)])

    def forward(self, x: Tensor, mask: Tensor, need_weights: bool = False) -> tuple[Tensor, Optional[Tensor]]:
        """Returns (output, self-attention weights [B, h, S, S] or None)."""
        x, weights = self.sublayer[0](x, lambda h: self.self_attn(h, self.self_attn.project_kv(h), mask, need_weights))
        x, _ = self.sublayer[1](x, lambda h: (self.feed_forward(h), None))
        return x, weights


class Encoder(nn.Module):
    """N encoder layers; pre-norm stacks end with a LayerNorm.  Output: C, the memory."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.layers = nn.ModuleList([EncoderLayer(cfg) for _ in range(cfg.n_layers)])
        self.norm = nn.LayerNorm(cfg.d_model) if cfg.pre_norm else nn.Identity()

    def forward(self, x: Tensor, mask: Tensor, need_weights: bool = False) -> "EncoderOutput":
        weights = []
        for layer in self.layers:
            x, w = layer(x, mask, need_weights)
            weights.append(w)
        return EncoderOutput(self.norm(x), weights)


class EncoderOutput(NamedTuple):
    """What the encoder returns."""

    memory: Tensor  # C [B, S, d]: the decoder's cross-attention reads its K and V from it
    self_attention: list[Optional[Tensor]]  # per layer [B, h, S, S]; None each unless need_weights


@dataclass
class DecoderCache:
    """Per-sentence decoding state, owned by the caller (never stored on a module).

    ``cross_kv[l]``: K and V of layer l's cross-attention, projected from C once per sentence.
    ``self_kv[l]``: K and V of layer l's self-attention for every target position so far.
    ``length``: how many target positions have been fed (the position offset of the next one).
    """

    cross_kv: list[tuple[Tensor, Tensor]]
    self_kv: list[Optional[tuple[Tensor, Tensor]]]
    length: int = 0

    def index_select(self, rows: Tensor, memory_rows: Optional[Tensor] = None) -> "DecoderCache":
        """Reorder/shrink along the batch: ``rows`` picks self-attention K/V (per hypothesis: beam
        reordering); ``memory_rows`` picks cross-attention K/V (per sentence: only needed when
        sentences leave the batch, since beams of one sentence share them); None = unchanged."""

        def pick(kv, index):
            return kv if kv is None or index is None else (kv[0].index_select(0, index), kv[1].index_select(0, index))

        return DecoderCache(
            [pick(kv, memory_rows) for kv in self.cross_kv], [pick(kv, rows) for kv in self.self_kv], self.length
        )


class DecoderOutput(NamedTuple):
    """What the decoder returns, for T target positions fed at once (teacher forcing) or one at a time."""

    hidden: Tensor  # [B, T, d], after the stack's final LayerNorm; the Generator turns it into log-probs
    cache: DecoderCache  # the cache extended by the T positions
    cross_attention: list[Optional[Tensor]]  # per layer [B, h, T, S]; None each unless need_weights
    self_attention: list[Optional[Tensor]]  # per layer [B, h, T, T_all]; None each unless need_weights
    full_context: dict[int, Tensor]  # layer -> its full-context cross-attention [B, h, T, S], for the layers asked


class DecoderLayer(nn.Module):
    """Masked self-attention, then cross-attention (K, V from the encoder output C), then feed-forward."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.self_attn = MultiHeadedAttention(cfg.n_heads, cfg.d_model, cfg.attention_dropout)
        self.src_attn = MultiHeadedAttention(cfg.n_heads, cfg.d_model, cfg.attention_dropout)
        self.feed_forward = PositionwiseFeedForward(cfg.d_model, cfg.d_ff, cfg.dropout)
        self.sublayer = nn.ModuleList([SublayerConnection(cfg.d_model, cfg.dropout, cfg.pre_norm) for _ in range(3)])

    def self_attention_block(
        self,
        x: Tensor,
        tgt_mask: Optional[Tensor],
        past_kv: Optional[tuple[Tensor, Tensor]] = None,
        need_weights: bool = False,
    ) -> tuple[Tensor, tuple[Tensor, Tensor], Optional[Tensor]]:
        """The masked self-attention sublayer: returns (x after it, self-attention K/V including x's positions,
        its weights [B, h, Tq, Tk] or None)."""
        new_kv: tuple[Tensor, Tensor]

        def self_attn(h):
            nonlocal new_kv
            k, v = self.self_attn.project_kv(h)
            if past_kv is not None:
                k = torch.cat([past_kv[0], k], dim=2)
                v = torch.cat([past_kv[1], v], dim=2)
            new_kv = (k, v)
            return self.self_attn(h, new_kv, tgt_mask, need_weights)

        x, weights = self.sublayer[0](x, self_attn)
        return x, new_kv, weights

    def cross_attention_input(self, x: Tensor) -> Tensor:
        """What the cross-attention's query projection reads: LayerNorm(x) in pre-norm layers, x in post-norm."""
        return self.sublayer[1].norm(x) if self.sublayer[1].pre_norm else x

    def full_context_cross_attention(
        self, x: Tensor, cross_kv: tuple[Tensor, Tensor], src_mask: Optional[Tensor], tgt_key_mask: Optional[Tensor]
    ) -> Tensor:
        """Cross-attention weights [B, h, T, S] of this layer when its self-attention sees the whole target
        (no causal mask; ``tgt_key_mask`` [B, 1, 1, T] hides target padding).  ``x`` is the layer's input
        from the ordinary (causal) pass.  This is the alignment pass of Garg et al. (2019): a head that
        links target piece t may look at the pieces after it.  Only the weights are used."""
        x, _, _ = self.self_attention_block(x, tgt_key_mask)
        _, weights = self.sublayer[1](x, lambda h: self.src_attn(h, cross_kv, src_mask, True))
        return weights

    def forward(
        self,
        x: Tensor,
        cross_kv: tuple[Tensor, Tensor],
        src_mask: Optional[Tensor],
        tgt_mask: Optional[Tensor],
        past_kv: Optional[tuple[Tensor, Tensor]] = None,
        need_weights: bool = False,
    ) -> tuple[Tensor, tuple[Tensor, Tensor], Optional[Tensor], Optional[Tensor]]:
        """Returns (output, this layer's self-attention K/V including x's positions, cross-attention weights,
        self-attention weights); the weights are None unless ``need_weights``."""
        x, new_kv, self_weights = self.self_attention_block(x, tgt_mask, past_kv, need_weights)
        x, weights = self.sublayer[1](x, lambda h: self.src_attn(h, cross_kv, src_mask, need_weights))
        x, _ = self.sublayer[2](x, lambda h: (self.feed_forward(h), None))
        return x, new_kv, weights, self_weights


class Decoder(nn.Module):
    """N decoder layers; pre-norm stacks end with a LayerNorm."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.layers = nn.ModuleList([DecoderLayer(cfg) for _ in range(cfg.n_dec_layers)])
        self.norm = nn.LayerNorm(cfg.d_model) if cfg.pre_norm else nn.Identity()

    def init_cache(self, memory: Tensor) -> DecoderCache:
        """Project C into every layer's cross-attention K/V, once per sentence."""
        cross = [layer.src_attn.project_kv(memory) for layer in self.layers]
        return DecoderCache(cross_kv=cross, self_kv=[None] * len(self.layers))

    def forward(
        self,
        x: Tensor,
        cache: DecoderCache,
        src_mask: Optional[Tensor],
        tgt_mask: Optional[Tensor],
        need_weights: bool = False,
        full_context_layers: tuple[int, ...] = (),
        tgt_key_mask: Optional[Tensor] = None,
    ) -> DecoderOutput:
        """x: embedded target positions ``cache.length .. cache.length + T``.  ``full_context_layers``: layers
        whose full-context cross-attention to compute as well (teacher forcing only; ``tgt_key_mask`` [B, 1, 1, T]
        hides target padding in that pass)."""
        new_self, cross, self_att, full = [], [], [], {}
        for i, (layer, cross_kv, past) in enumerate(zip(self.layers, cache.cross_kv, cache.self_kv)):
            if i in full_context_layers:
                full[i] = layer.full_context_cross_attention(x, cross_kv, src_mask, tgt_key_mask)
            x, kv, w, sw = layer(x, cross_kv, src_mask, tgt_mask, past, need_weights)
            new_self.append(kv)
            cross.append(w)
            self_att.append(sw)
        cache = DecoderCache(cache.cross_kv, new_self, cache.length + x.size(1))
        return DecoderOutput(self.norm(x), cache, cross, self_att, full)


class Generator(nn.Module):
    """Linear projection to the target vocabulary, then log-softmax."""

    def __init__(self, d_model: int, vocab: int):
        super().__init__()
        self.proj = nn.Linear(d_model, vocab)

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(self.proj(x).float(), dim=-1)


def subsequent_mask(size: int, device=None) -> Tensor:
    """[1, 1, size, size], True where position i may attend to position j (j <= i)."""
    return torch.ones(size, size, dtype=torch.bool, device=device).tril().view(1, 1, size, size)


class EncoderDecoder(nn.Module):
    """The whole model: ``encode`` builds C from the source; ``decode`` runs the decoder on C."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.src_embed = Embeddings(cfg.d_model, cfg.src_vocab_size, cfg.pad_id)
        self.tgt_embed = (
            self.src_embed if cfg.share_embeddings else Embeddings(cfg.d_model, cfg.tgt_vocab_size, cfg.pad_id)
        )
        self.pos = PositionalEncoding(cfg.d_model, cfg.dropout, cfg.max_len)
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.generator = Generator(cfg.d_model, cfg.tgt_vocab_size)
        for name, p in self.named_parameters():
            if p.dim() > 1 and "lut" not in name:
                nn.init.xavier_uniform_(p)
        if cfg.tie_output:
            self.generator.proj.weight = self.tgt_embed.lut.weight

    def src_mask(self, src: Tensor) -> Tensor:
        """[B, 1, 1, S], True on real (non-padding) source tokens."""
        return (src != self.cfg.pad_id)[:, None, None, :]

    def encode(self, src: Tensor, src_mask: Tensor, need_weights: bool = False) -> EncoderOutput:
        """C, the memory (and each encoder layer's self-attention with ``need_weights``)."""
        return self.encoder(self.pos(self.src_embed(src)), src_mask, need_weights)

    def decode(
        self,
        memory: Tensor,
        src_mask: Tensor,
        tgt: Tensor,
        need_weights: bool = False,
        full_context_layers: tuple[int, ...] = (),
    ) -> DecoderOutput:
        """Teacher-forced decoding of the whole prefix ``tgt`` [B, T] (BOS first), from C.  ``full_context_layers``:
        also those layers' cross-attention with the target's causal mask off (Garg et al.'s alignment pass)."""
        cache = self.decoder.init_cache(memory)
        x = self.pos(self.tgt_embed(tgt))
        tgt_mask = subsequent_mask(tgt.size(1), tgt.device)
        key_mask = self.tgt_key_mask(tgt) if full_context_layers else None
        return self.decoder(x, cache, src_mask, tgt_mask, need_weights, full_context_layers, key_mask)

    def tgt_key_mask(self, tgt: Tensor) -> Tensor:
        """[B, 1, 1, T], True on real (non-padding) target positions."""
        return (tgt != self.cfg.pad_id)[:, None, None, :]

    def decode_step(
        self, tokens: Tensor, cache: DecoderCache, src_mask: Optional[Tensor], need_weights: bool = False
    ) -> DecoderOutput:
        """Incremental decoding: feed the newest tokens [B, 1] given ``cache`` (its hidden state is the next
        token's, for the Generator).  ``src_mask`` may be None when no source in the batch has padding."""
        x = self.pos(self.tgt_embed(tokens), offset=cache.length)
        return self.decoder(x, cache, src_mask, None, need_weights)

    def forward(
        self, src: Tensor, tgt: Tensor, need_weights: bool = False, full_context_layers: tuple[int, ...] = ()
    ) -> tuple[Tensor, DecoderOutput]:
        """Training: unnormalised logits [B, T, V] for every position of the teacher-forced target ``tgt``
        (``F.cross_entropy`` applies the log-softmax), and the decoder's output, whose attention the alignment
        loss reads (``need_weights``: every layer's; ``full_context_layers``: those layers' full-context pass)."""
        src_mask = self.src_mask(src)
        out = self.decode(self.encode(src, src_mask).memory, src_mask, tgt, need_weights, full_context_layers)
        return self.generator.proj(out.hidden), out

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
