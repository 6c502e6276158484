"""Prefix-constrained decoding and per-step alternatives (the demo's "microscope", library side)."""

import math

import pytest
from helpers import OVERFIT_PAIRS

SRC = [z for z, _ in OVERFIT_PAIRS]


@pytest.mark.parametrize("beam", [1, 4])
def test_the_output_starts_with_the_prefix(toy_translator, beam):
    what = toy_translator.codec.tgt_tok.encode_pieces(["What"])[0]
    outs = toy_translator.translate(SRC[:3], beam_size=beam, prefix=["The weather", None, what])
    assert outs[0].text.startswith("The weather") and outs[2].target_tokens[: len(what)] == what
    assert outs[1].text == OVERFIT_PAIRS[1][1]  # no prefix: as without one
    assert outs[0].cross_attention.shape[2] == len(outs[0].target_tokens)  # attention covers the prefix too


@pytest.mark.parametrize("beam", [1, 4])
def test_the_models_own_prefix_gives_its_own_translation(toy_translator, beam):
    free = toy_translator.translate(SRC, beam_size=beam)
    forced = toy_translator.translate(SRC, beam_size=beam, prefix=[t.target_tokens[:2] for t in free])
    assert [t.text for t in forced] == [t.text for t in free]
    assert all(abs(a.score - b.score) < 1e-4 for a, b in zip(forced, free))


def test_a_prefix_the_vocabulary_cannot_spell_is_refused(toy_translator):
    with pytest.raises(ValueError, match="no piece"):
        toy_translator.translate(SRC[:1], prefix=[["▁Zzyzx"]])
    with pytest.raises(ValueError, match="entries"):
        toy_translator.translate(SRC[:2], prefix=["I"])


@pytest.mark.parametrize("beam", [1, 4])
def test_topk_is_aligned_with_the_pieces_and_holds_the_chosen_probability(toy_translator, beam):
    t = toy_translator.translate(SRC[:2], beam_size=beam, return_topk=4)[0]
    assert len(t.topk) == len(t.target_tokens) and all(len(row) == 4 for row in t.topk)
    assert all(row[0][1] >= row[-1][1] for row in t.topk)  # best first
    forced = toy_translator.align([SRC[0]], [t.text])[0]
    assert forced.target_tokens == t.target_tokens
    for piece, row, logp in zip(t.target_tokens, t.topk, forced.token_logprobs):
        probs = dict(row)
        if piece in probs:
            assert probs[piece] == pytest.approx(math.exp(logp), abs=1e-4)
    assert t.topk[0][0][0] == t.target_tokens[0]  # an overfit model chose its most probable first piece
    assert toy_translator.translate(SRC[:1], beam_size=beam)[0].topk is None  # off by default


def test_the_beam_trees_best_finished_path_is_the_output(toy_translator):
    from seq2seq.results import finished_paths

    for src in SRC[:3]:
        t = toy_translator.translate([src], beam_size=4, nbest=4, return_tree=True)[0]
        paths = finished_paths(t.tree)
        statuses = {n["status"] for step in t.tree for n in step}
        assert "pruned" in statuses and "finished" in statuses and "kept" in statuses
        best = max(paths, key=lambda p: p[1] / len(p[0]) ** 1.0)  # the toy folder's length penalty is 1.0
        assert best[0] == t.target_tokens and abs(best[1] - t.score) < 1e-4
        ranked = sorted(paths, key=lambda p: -p[1] / len(p[0]))[:4]  # every finished path is kept; the best 4 win
        assert [h.text for h in t.nbest] == ["".join(p[:-1]).replace("▁", " ").strip() for p, _, _ in ranked]
        assert all(len(step) <= 2 * 4 for step in t.tree)
    assert toy_translator.translate(SRC[:1], beam_size=4)[0].tree is None
