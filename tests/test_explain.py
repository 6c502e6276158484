"""All attention (encoder, decoder, cross) and one head opened up (seq2seq.explain)."""

import numpy as np
import pytest

from seq2seq.explain import explain_cross_attention


def test_return_attention_all_gives_every_kind(toy_translator):
    t, empty = toy_translator.translate(["我喜欢吃苹果。", ""], beam_size=3, return_attention="all")
    L, H = toy_translator.torch.model.cfg.n_dec_layers, toy_translator.torch.model.cfg.n_heads
    S, T = len(t.source_tokens), len(t.target_tokens)
    assert t.encoder_attention.shape == (toy_translator.torch.model.cfg.n_layers, H, S, S)
    assert t.decoder_attention.shape == (L, H, T, T)
    # The causal mask: nothing above the diagonal, and every row is a distribution.
    assert np.all(np.triu(t.decoder_attention, 1) == 0)
    assert np.allclose(t.decoder_attention.sum(-1), 1, atol=1e-5)
    assert np.allclose(t.encoder_attention.sum(-1), 1, atol=1e-5)
    # The teacher-forced pass recomputes the search's own cross-attention.
    again = toy_translator.align(["我喜欢吃苹果。"], [t.text])[0]
    assert np.allclose(again.cross_attention, t.cross_attention, atol=1e-5)
    assert empty.encoder_attention is None and empty.text == ""
    plain = toy_translator.translate(["我喜欢吃苹果。"], beam_size=3)[0]
    assert plain.encoder_attention is None and plain.text == t.text


@pytest.mark.parametrize("layer,head,step", [(0, 0, 0), (1, 3, 2)])
def test_walkthrough_reproduces_the_map_row(toy_translator, layer, head, step):
    t = toy_translator.translate(["今天天气很好。"], beam_size=1)[0]
    e = explain_cross_attention(toy_translator, t, layer, head, step)
    assert e.query.shape == (e.d_k,) and e.keys.shape == e.values.shape == (len(t.source_tokens), e.d_k)
    w = np.exp(e.query @ e.keys.T / np.sqrt(e.d_k))
    w /= w.sum()
    assert np.allclose(w, e.weights, atol=1e-5)  # softmax(q·Kᵀ/√d_k)
    assert np.allclose(e.scores, e.query @ e.keys.T / np.sqrt(e.d_k), atol=1e-5)
    assert np.allclose(w @ e.values, e.output, atol=1e-5)  # ·V
    assert np.allclose(e.weights, t.cross_attention[layer, head, step], atol=1e-5)  # the map's row
    with pytest.raises(ValueError):
        explain_cross_attention(toy_translator, t, 9, 0, 0)
