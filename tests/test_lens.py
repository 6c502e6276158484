"""The logit lens (seq2seq.lens, Translator.logit_lens): the last layer's reading is the model's own, and every
layer is read the same way."""

import json

import numpy as np
import pytest
import torch
from helpers import placeholder_translator, random_model

from seq2seq.lens import LogitLens, layer_log_probs, ranks_of
from seq2seq.tokenizer import EOS_ID


def test_the_last_layer_reads_exactly_the_models_log_probs(toy_translator):
    """Bit for bit what forced decoding scores (TorchEngine.force, with the pieces a search never makes taken
    out), for the model's own translation."""
    tr = toy_translator
    lens = tr.logit_lens(["我喜欢吃苹果。"])[0]
    src = [tr.codec.src_tok.pieces_to_ids(lens.source_tokens)]
    tgt = [tr.codec.tgt_tok.pieces_to_ids(lens.target_tokens[:-1])]
    forced = tr.torch.force(src, tgt, banned=tr.codec.banned(src))[0]
    assert torch.equal(torch.from_numpy(lens.chosen_logprobs[-1]), forced.token_logprobs)
    assert lens.layers == tr.torch.model.cfg.n_dec_layers


@pytest.mark.parametrize("fixture", ["toy_translator", "toy_en_zh_translator"])
def test_greedy_choices_rank_first_at_the_last_layer(request, fixture):
    tr = request.getfixturevalue(fixture)
    source = "我喜欢吃苹果。" if tr.languages[0] == "zh" else "I like to eat apples."
    t = tr.translate([source], beam_size=1)[0]
    lens = tr.logit_lens([source], beam_size=1)[0]
    assert lens.target_tokens == t.target_tokens and lens.text == t.text
    assert np.all(lens.ranks[-1] == 0)
    assert all(d is not None for d in lens.decided_at())
    check_lens(lens)


def check_lens(lens: LogitLens) -> None:
    """Shapes, three (piece, probability) pairs per layer and step, best first, the chosen piece's probability
    among them where it ranks first."""
    layers, steps = lens.ranks.shape
    assert steps == len(lens.target_tokens) and lens.chosen_logprobs.shape == (layers, steps)
    assert len(lens.top) == layers and all(len(layer) == steps for layer in lens.top)
    for layer in range(layers):
        for t in range(steps):
            top = lens.top[layer][t]
            probs = [p for _, p in top]
            assert len(top) == 3 and probs == sorted(probs, reverse=True) and 0 <= probs[-1] <= probs[0] <= 1
            if lens.ranks[layer, t] == 0:
                assert top[0][1] == pytest.approx(np.exp(lens.chosen_logprobs[layer, t]), rel=1e-5)
    json.dumps(lens.as_json())


def test_given_targets_placeholders_and_a_long_line_split():
    """Given targets, names read as placeholders and shown as their spans (in the top pieces too), and the
    parts of a line too long for the model."""
    tr = placeholder_translator()
    lens = tr.logit_lens(["我们向 Goldsmith 表示哀悼。"], ["We mourn with Goldsmith ."])[0]
    check_lens(lens)
    assert "Goldsmith" in lens.target_tokens and "Goldsmith" in lens.target_words
    assert not any("⟦" in piece for layer in lens.top for step in layer for piece, _ in step)
    long_line = "。".join(["我们向 Goldsmith 的家人表示哀悼"] * 12) + "。"
    parts, _ = tr.codec.split_long([long_line])
    found = tr.logit_lens(parts, ["We mourn ."] * len(parts))
    assert len(found) == len(parts) > 1
    for lens in found:
        check_lens(lens)
    assert tr.logit_lens(["", "我们"], ["x", ""]) == [None, None]


def test_ranks_and_decided_at():
    logp = torch.log_softmax(torch.tensor([[[0.0, 2.0, 1.0]], [[3.0, 2.0, 1.0]], [[0.0, 5.0, 1.0]]]), -1)
    assert ranks_of(logp, [1]).tolist() == [[0], [1], [0]]
    lens = LogitLens("", [], ["a", "b"], np.array([[0, 2], [1, 0], [0, 0]]), np.zeros((3, 2)), [])
    assert lens.decided_at() == [2, 1]
    assert LogitLens("", [], ["a"], np.array([[0], [1]]), np.zeros((2, 1)), []).decided_at() == [None]


def test_layer_readings_of_a_random_model_are_distributions():
    model = random_model(seed=5)
    logp = layer_log_probs(model, [5, 9, 12, EOS_ID], [11, 4, EOS_ID])
    assert logp.shape == (model.cfg.n_dec_layers, 3, model.cfg.tgt_vocab_size)
    assert torch.allclose(logp.exp().sum(-1), torch.ones(logp.shape[:2]), atol=1e-5)
