"""``seq2seq-export``: convert a model folder for another runtime.

    seq2seq-export --format ctranslate2 MODEL_DIR OUT_DIR [--quantization int8]

The CTranslate2 converter fills a ``ctranslate2.specs.TransformerSpec`` from our weights:
pre-norm layers with a final LayerNorm per stack (or post-norm, as configured), our exact
sinusoidal table, embeddings scaled by sqrt(d_model), LayerNorm epsilon 1e-5, and our
sentencepiece vocabularies id for id (so <pad>=0, <unk>=1, <s>=2, </s>=3 keep their ids).  The alignment head
comes first in its layer, so CTranslate2's ``return_attention`` gives that head (word links at its speed).
OUT_DIR also gets the model folder's sentencepiece models, its optional files (name lexicon, truecaser) and its
config.json (as seq2seq.config.json, beside CTranslate2's own config.json), so
``Translator.load(OUT_DIR, backend="ctranslate2")`` can tokenize.  ``Translator.load(MODEL_DIR)`` makes
MODEL_DIR/ctranslate2 by itself when it is first needed; this command is for other places and quantized forms.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import torch

from .model_dir import CONFIG, SRC_SPM, TGT_SPM, ModelFolderError, copy_optional_files, load_model_dir

CT2_OUR_CONFIG = "seq2seq.config.json"  # our config.json, renamed: CTranslate2 writes its own config.json


def _linear(spec, layer: torch.nn.Linear) -> None:
    spec.weight = layer.weight.detach().float().numpy()
    spec.bias = layer.bias.detach().float().numpy()


def _norm(spec, norm: torch.nn.LayerNorm) -> None:
    spec.gamma = norm.weight.detach().float().numpy()
    spec.beta = norm.bias.detach().float().numpy()


def _fused(spec, layers) -> None:
    import numpy as np

    spec.weight = np.concatenate([layer.weight.detach().float().numpy() for layer in layers])
    spec.bias = np.concatenate([layer.bias.detach().float().numpy() for layer in layers])


def _attention(spec, mha, cross: bool, first_head: int = 0) -> None:
    """``first_head``: the head to put first (a permutation of the heads, which changes no output)."""
    if first_head:
        mha = _heads_permuted(mha, first_head)
    if cross:  # CTranslate2: linear[0] = query, linear[1] = fused key/value, linear[2] = output
        _linear(spec.linear[0], mha.w_q)
        _fused(spec.linear[1], [mha.w_k, mha.w_v])
    else:  # linear[0] = fused query/key/value, linear[1] = output
        _fused(spec.linear[0], [mha.w_q, mha.w_k, mha.w_v])
    _linear(spec.linear[-1], mha.w_o)


def _heads_permuted(mha, first: int):
    """A copy of a ``MultiHeadedAttention`` whose head ``first`` comes first, the others after it in order: the
    rows of W_q, W_k, W_v (and their biases) that make each head, and the columns of W_o that read it, move
    together, so every output is unchanged."""
    import copy

    order = [first] + [h for h in range(mha.h) if h != first]
    rows = torch.cat([torch.arange(h * mha.d_k, (h + 1) * mha.d_k) for h in order])
    out = copy.deepcopy(mha)
    with torch.no_grad():
        for name in ("w_q", "w_k", "w_v"):
            getattr(out, name).weight.copy_(getattr(mha, name).weight[rows])
            getattr(out, name).bias.copy_(getattr(mha, name).bias[rows])
        out.w_o.weight.copy_(mha.w_o.weight[:, rows])
    return out


def _ffn(spec, ff, norm) -> None:
    _norm(spec.layer_norm, norm)
    _linear(spec.linear_0, ff.w_1)
    _linear(spec.linear_1, ff.w_2)


def build_ct2_spec(model, src_vocab: list[str], tgt_vocab: list[str], head=None):
    """A ctranslate2 TransformerSpec holding ``model``'s weights.  ``head`` (``engine.HeadChoice``): the
    cross-attention that CTranslate2 returns with ``return_attention=True``, the one word links read.  CTranslate2
    returns one layer's attention averaged over its first N heads (``alignment_layer``, ``alignment_heads``), so the
    chosen head is moved first in its layer (all heads for a head mean)."""
    import ctranslate2

    cfg = model.cfg
    layer = head.layer if head is not None else cfg.n_dec_layers - 1
    first = head.head if head is not None and head.head is not None else 0
    spec = ctranslate2.specs.TransformerSpec.from_config(
        (cfg.n_layers, cfg.n_dec_layers),
        cfg.n_heads,
        pre_norm=cfg.pre_norm,
        activation=ctranslate2.specs.Activation.RELU,
        alignment_layer=layer,
        alignment_heads=1 if head is None or head.head is not None else cfg.n_heads,
    )
    spec.config.layer_norm_epsilon = model.encoder.layers[0].sublayer[0].norm.eps
    spec.config.decoder_start_token = "<s>"
    pe = model.pos.pe.detach().float().numpy()
    for side, stack, embed in (("encoder", spec.encoder, model.src_embed), ("decoder", spec.decoder, model.tgt_embed)):
        stack.scale_embeddings = True  # x * sqrt(d_model), as in our Embeddings
        stack.position_encodings.encodings = pe
        emb = stack.embeddings[0] if isinstance(stack.embeddings, list) else stack.embeddings
        emb.weight = embed.lut.weight.detach().float().numpy()
        if cfg.pre_norm:
            _norm(stack.layer_norm, (model.encoder if side == "encoder" else model.decoder).norm)
    for ours, theirs in zip(model.encoder.layers, spec.encoder.layer):
        _attention(theirs.self_attention, ours.self_attn, cross=False)
        _norm(theirs.self_attention.layer_norm, ours.sublayer[0].norm)
        _ffn(theirs.ffn, ours.feed_forward, ours.sublayer[1].norm)
    for n, (ours, theirs) in enumerate(zip(model.decoder.layers, spec.decoder.layer)):
        _attention(theirs.self_attention, ours.self_attn, cross=False)
        _norm(theirs.self_attention.layer_norm, ours.sublayer[0].norm)
        _attention(theirs.attention, ours.src_attn, cross=True, first_head=first if n == layer else 0)
        _norm(theirs.attention.layer_norm, ours.sublayer[1].norm)
        _ffn(theirs.ffn, ours.feed_forward, ours.sublayer[2].norm)
    _linear(spec.decoder.projection, model.generator.proj)
    spec.register_source_vocabulary(src_vocab)
    spec.register_target_vocabulary(tgt_vocab)
    return spec


def export_ctranslate2(model_dir: str | Path, out_dir: str | Path, quantization: str | None = None) -> Path:
    from .align import AlignMethod
    from .engine import head_choice

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    model, src_tok, tgt_tok, cfg, _ = load_model_dir(model_dir)
    vocab = lambda tok: tok.ids_to_pieces(range(tok.vocab_size))
    head = head_choice(AlignMethod.from_config(cfg.alignment), model.cfg.n_dec_layers)
    spec = build_ct2_spec(model, vocab(src_tok), vocab(tgt_tok), head)
    spec.validate()
    if quantization:
        spec.optimize(quantization=quantization)
    out_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(out_dir))
    shutil.copyfile(model_dir / CONFIG, out_dir / CT2_OUR_CONFIG)
    for name in (SRC_SPM, TGT_SPM):
        shutil.copyfile(model_dir / name, out_dir / name)
    copy_optional_files(model_dir, out_dir)  # the name lexicon and the truecaser travel with the export
    return out_dir


def main(argv=None) -> int:
    from .text import plain_doc

    p = argparse.ArgumentParser(
        prog="seq2seq-export",
        description=plain_doc(__doc__.split("\n\n")[0]),
        epilog="Example: seq2seq-export --format ctranslate2 runs/zh-en/best ct2-model",
    )
    p.add_argument("--format", choices=["ctranslate2"], default="ctranslate2", help="target runtime (ctranslate2)")
    p.add_argument(
        "--quantization",
        choices=["int8", "int8_float32", "float16", "int16"],
        help="store weights quantized (CTranslate2 can also quantize at load time: compute_type)",
    )
    p.add_argument("model_dir", help="the model folder to convert")
    p.add_argument("out_dir", help="where the export goes (MODEL_DIR/ctranslate2 is found by Translator.load)")
    args = p.parse_args(argv)
    try:
        out = export_ctranslate2(args.model_dir, args.out_dir, args.quantization)
    except ModelFolderError as e:
        print(f"seq2seq-export: {e}", file=sys.stderr)
        return 2
    except ImportError:
        print(
            "seq2seq-export: needs CTranslate2: pip install 'seq2seq-zhen[fast]' (or pip install ctranslate2)",
            file=sys.stderr,
        )
        return 2
    print(f"CTranslate2 model written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
