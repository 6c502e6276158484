import math

import pytest
import torch
import torch.nn.functional as F
from helpers import random_batch, random_model

from seq2seq.attention import MultiHeadedAttention, attention
from seq2seq.model import ModelConfig, PositionalEncoding, subsequent_mask
from seq2seq.tokenizer import BOS_ID


def test_positional_encoding_is_the_papers_formula():
    d, n = 16, 50
    pe = PositionalEncoding(d, dropout=0.0, max_len=n).pe
    for pos in (0, 1, 7, 49):
        for i in range(d // 2):
            angle = pos / (10000 ** (2 * i / d))
            assert pe[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert pe[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)
    assert "pe" in dict(PositionalEncoding(d, 0.0, n).named_buffers())
    assert not any("pe" in name for name, _ in PositionalEncoding(d, 0.0, n).named_parameters())


def test_embeddings_are_scaled_by_sqrt_d_model():
    model = random_model()
    ids = torch.tensor([[5, 6]])
    assert torch.allclose(model.src_embed(ids), model.src_embed.lut(ids) * math.sqrt(32))


def test_attention_rows_sum_to_one_and_padding_gets_zero_weight():
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 4, 5, 8), torch.randn(2, 4, 7, 8), torch.randn(2, 4, 7, 8)
    mask = torch.ones(2, 1, 1, 7, dtype=torch.bool)
    mask[1, ..., 4:] = False
    _, w = attention(q, k, v, mask)
    assert torch.allclose(w.sum(-1), torch.ones(2, 4, 5), atol=1e-6)
    assert torch.all(w[1, :, :, 4:] == 0)


def test_attention_matches_pytorch_reference_kernel():
    """Our written-out attention against torch's fused kernel, for padding and causal masks."""
    torch.manual_seed(0)
    mha = MultiHeadedAttention(4, 32, dropout=0.0).eval()
    x, mem = torch.randn(3, 6, 32), torch.randn(3, 9, 32)
    mask = torch.ones(3, 1, 1, 9, dtype=torch.bool)
    mask[0, ..., 5:] = False
    for keys, m in ((mem, mask), (x, subsequent_mask(6))):
        k, v = mha.project_kv(keys)
        out, none = mha(x, (k, v), m)
        out_w, w = mha(x, (k, v), m, need_weights=True)
        q = mha._split(mha.w_q(x))
        ref = F.scaled_dot_product_attention(q, k, v, attn_mask=m).transpose(1, 2).reshape(3, 6, 32)
        assert none is None and w.shape == (3, 4, 6, keys.size(1))
        assert torch.equal(out, out_w)
        assert torch.allclose(out, mha.w_o(ref), atol=1e-5)


def test_encode_and_decode_return_attention_weights_only_when_asked():
    model = random_model()
    src = random_batch(1, 3, 8, 40, {2: 5})
    tgt = random_batch(2, 3, 6, 48)
    mask = model.src_mask(src)
    enc, enc_w = model.encode(src, mask), model.encode(src, mask, need_weights=True)
    assert torch.equal(enc.memory, enc_w.memory) and enc.self_attention == [None, None]
    assert enc_w.self_attention[0].shape == (3, 4, 8, 8) and torch.all(enc_w.self_attention[1][2, :, :, 5:] == 0)
    out = model.decode(enc.memory, mask, tgt, need_weights=False)
    out_w = model.decode(enc.memory, mask, tgt, need_weights=True)
    assert torch.equal(out.hidden, out_w.hidden) and out.cross_attention == out.self_attention == [None, None]
    assert len(out_w.cross_attention) == 2 and out_w.cross_attention[0].shape == (3, 4, 6, 8)
    assert torch.all(out_w.cross_attention[1][2, :, :, 5:] == 0)
    assert out_w.self_attention[0].shape == (3, 4, 6, 6) and torch.all(out_w.self_attention[0].triu(1) == 0)
    assert out.full_context == {} and out.cache.length == 6


@pytest.mark.parametrize("pre_norm", [True, False])
def test_decoder_is_causal(pre_norm):
    model = random_model(pre_norm=pre_norm)
    src = random_batch(3, 2, 7, 40)
    tgt = random_batch(4, 2, 9, 48)
    out, _ = model(src, tgt)
    t = 4
    changed = tgt.clone()
    changed[:, t + 1 :] = random_batch(5, 2, 9 - t - 1, 48)
    assert not torch.equal(changed, tgt)
    out2, _ = model(src, changed)
    assert torch.allclose(out[:, : t + 1], out2[:, : t + 1], atol=1e-5)
    assert not torch.allclose(out[:, t + 1 :], out2[:, t + 1 :], atol=1e-3)


def test_source_padding_does_not_change_real_outputs():
    model = random_model()
    src = random_batch(6, 1, 6, 40)
    tgt = random_batch(7, 1, 5, 48)
    padded = torch.cat([src, torch.zeros(1, 4, dtype=torch.long)], dim=1)
    assert torch.allclose(model(src, tgt)[0], model(padded, tgt)[0], atol=1e-5)
    # ...and the padded encoder states do not leak into the other sentences of a batch.
    other = random_batch(8, 1, 10, 40)
    batch = torch.cat([padded, other])
    assert torch.allclose(model(batch, torch.cat([tgt, tgt]))[0][0], model(src, tgt)[0][0], atol=1e-5)


def test_weight_tying_and_config_validation():
    model = random_model()
    assert model.generator.proj.weight is model.tgt_embed.lut.weight
    shared = random_model(src_vocab_size=48, share_embeddings=True)
    assert shared.src_embed is shared.tgt_embed
    with pytest.raises(ValueError, match="share_embeddings"):
        ModelConfig(src_vocab_size=10, tgt_vocab_size=12, share_embeddings=True)
    with pytest.raises(ValueError, match="divisible"):
        ModelConfig(d_model=30, n_heads=4)
    assert ModelConfig.from_dict(model.cfg.to_dict()) == model.cfg


def test_positions_beyond_max_len_raise():
    model = random_model(max_len=8)
    with pytest.raises(ValueError, match="max_len"):
        model(random_batch(0, 1, 9, 40), torch.full((1, 2), BOS_ID))


def test_full_context_pass_sees_later_target_pieces_and_ignores_target_padding():
    """The alignment pass (full_context_layers): layer l's cross-attention when its self-attention is unmasked."""
    model = random_model()
    src = random_batch(9, 2, 7, 40)
    tgt = random_batch(10, 2, 6, 48)
    layer = 1
    logits, out = model(src, tgt, full_context_layers=(layer,))
    full = out.full_context[layer]
    assert list(out.full_context) == [layer]
    assert torch.equal(logits, model(src, tgt)[0])  # the translation pass is untouched
    assert full.shape == (2, 4, 6, 7) and torch.allclose(full.sum(-1), torch.ones(2, 4, 6))
    # Reference: the same layer on the causal pass's input, with a mask that hides nothing.
    src_mask = model.src_mask(src)
    inputs = []
    hook = model.decoder.layers[layer].register_forward_pre_hook(lambda mod, args: inputs.append(args[0]))
    model(src, tgt)
    hook.remove()
    cross_kv = model.decoder.layers[layer].src_attn.project_kv(model.encode(src, src_mask).memory)
    ref = model.decoder.layers[layer].full_context_cross_attention(inputs[0], cross_kv, src_mask, None)
    assert torch.allclose(full, ref, atol=1e-6)
    # The last position sees the whole target in both passes; an earlier one sees later pieces only here.
    causal = model(src, tgt, need_weights=True)[1].cross_attention
    assert torch.allclose(full[:, :, -1], causal[layer][:, :, -1], atol=1e-5)
    changed = tgt.clone()
    changed[:, -1] = (tgt[:, -1] + 1) % 48
    full2 = model(src, changed, full_context_layers=(layer,))[1].full_context[layer]
    assert not torch.allclose(full[:, :, 2], full2[:, :, 2], atol=1e-4)
    # Target padding is hidden: a padded row gives the unpadded row's weights on its real positions.
    padded = torch.cat([tgt, torch.zeros(2, 3, dtype=torch.long)], dim=1)
    full3 = model(src, padded, full_context_layers=(layer,))[1].full_context[layer]
    assert torch.allclose(full3[:, :, :6], full, atol=1e-5)
