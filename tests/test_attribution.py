"""Attribution (seq2seq.attribution, Translator.attribute): the numbers are what each method promises, on tiny
models, and the results have the right shapes and words in both directions."""

import json
import sys

import numpy as np
import pytest
import torch
from helpers import placeholder_translator, random_model

from seq2seq.attribution import (
    METHODS,
    WARNING_THRESHOLDS,
    Attribution,
    SharedPass,
    StepScorer,
    agreement,
    argmax_links,
    attribute_queries,
    captum_attr,
    source_shares,
)
from seq2seq.coverage import NEUTRAL, reading_units
from seq2seq.tokenizer import BOS_ID, EOS_ID

pytest.importorskip("captum")

SRC = [5, 9, 12, 7, 30, EOS_ID]
TGT = [11, 4, 20, 33, 6, EOS_ID]  # the pieces to explain, </s> last
DECODER_INPUT = [BOS_ID] + TGT[:-1]


def f_of(model, src_emb, tgt_emb, step, piece=None, alternative=-1):
    """f = log p(piece at step) (minus log p(alternative)) for given embeddings, as the attribution sees it."""
    scorer = StepScorer(model, torch.tensor([SRC]))
    long = lambda x: torch.tensor([x])
    with torch.no_grad():
        return float(
            scorer(src_emb, tgt_emb, long(step), long(TGT[step] if piece is None else piece), long(alternative))
        )


def embeddings(model):
    return model.src_embed(torch.tensor([SRC])).detach(), model.tgt_embed(torch.tensor([DECODER_INPUT])).detach()


@pytest.mark.parametrize("step", [0, 3, 5])
def test_integrated_gradients_is_complete(step):
    """For one output step the attributions add up to f(input) - f(baseline) (the zero embeddings) within 2%,
    at 64 steps."""
    model = random_model(seed=1)
    found = attribute_queries(model, SRC, DECODER_INPUT, [step], [TGT[step]], method="integrated_gradients", n_steps=64)
    total = found.source_signed.sum() + found.prefix_signed.sum()
    src_emb, tgt_emb = embeddings(model)
    expected = f_of(model, src_emb, tgt_emb, step) - f_of(model, 0 * src_emb, 0 * tgt_emb, step)
    assert abs(expected) > 0.05  # a real difference to split
    assert total == pytest.approx(expected, rel=0.02)
    assert found.outputs[0] == pytest.approx(f_of(model, src_emb, tgt_emb, step), abs=1e-5)
    assert np.all(found.prefix_signed[0, step + 1 :] == 0)  # later positions cannot matter (causal mask)


def test_integrated_gradients_is_complete_for_every_step_at_once():
    """The same with every output step in one call (the shared pass: one model pass per path point)."""
    model = random_model(seed=1)
    steps = list(range(len(TGT)))
    found = attribute_queries(model, SRC, DECODER_INPUT, steps, TGT, method="integrated_gradients", n_steps=64)
    src_emb, tgt_emb = embeddings(model)
    for step in steps:
        expected = f_of(model, src_emb, tgt_emb, step) - f_of(model, 0 * src_emb, 0 * tgt_emb, step)
        total = found.source_signed[step].sum() + found.prefix_signed[step].sum()
        assert total == pytest.approx(expected, rel=0.02, abs=1e-3), step


def test_bf16_passes_stay_close_to_fp32():
    """bf16 autocast (what "auto" picks on a CPU with native bf16) moves the integrated-gradients map a little, not
    its picture: the same argmax source piece for every step, sums within a few percent, f(input) unchanged."""
    model = random_model(seed=1)
    steps = list(range(len(TGT)))
    run = lambda precision: attribute_queries(
        model, SRC, DECODER_INPUT, steps, TGT, method="integrated_gradients", n_steps=32, precision=precision
    )
    fp32, bf16 = run("fp32"), run("bf16")
    assert not np.array_equal(fp32.source_signed, bf16.source_signed)  # bf16 did run
    scale = np.abs(fp32.source_signed).max()
    assert np.abs(fp32.source_signed - bf16.source_signed).max() < 0.05 * scale
    assert np.array_equal(fp32.source_magnitude.argmax(1), bf16.source_magnitude.argmax(1))
    assert np.array_equal(fp32.outputs, bf16.outputs)


def test_auto_precision_follows_the_hardware(monkeypatch):
    """ "auto" is bf16 autocast on a CPU with native bf16 and fp32 elsewhere; a float64 model always runs as it is;
    an unknown precision is an error that names the choices."""
    from seq2seq.attribution import precision_context

    model = random_model(seed=1)
    assert not isinstance(precision_context(model, "auto"), torch.autocast)  # conftest: no native bf16
    assert isinstance(precision_context(model, "bf16"), torch.autocast)
    monkeypatch.setattr("seq2seq.attribution.native_bf16_cpu", lambda: True)
    assert precision_context(model, "auto").fast_dtype == torch.bfloat16
    assert not isinstance(precision_context(model, "fp32"), torch.autocast)
    assert not isinstance(precision_context(model.double(), "auto"), torch.autocast)
    with pytest.raises(ValueError, match="auto, fp32, bf16"):
        precision_context(model, "fp16")


def float64_attention(query, key, value, mask=None, dropout=None):
    """seq2seq.attention.attention with its softmax in the inputs' precision (it keeps float32 otherwise)."""
    scores = query @ key.transpose(-2, -1) / query.size(-1) ** 0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(dim=-1)
    return weights @ value, weights


def test_input_x_gradient_is_a_directional_derivative(monkeypatch):
    """Each piece's input × gradient (summed over dimensions) is the derivative of f along that piece's own
    embedding e_i, (f(x + h·e_i) - f(x - h·e_i)) / 2h, on a tiny model in float64."""
    monkeypatch.setattr("seq2seq.attention.attention", float64_attention)
    model = random_model(seed=2).double()
    step = 4
    found = attribute_queries(model, SRC, DECODER_INPUT, [step], [TGT[step]], method="input_x_gradient")
    src_emb, tgt_emb = embeddings(model)
    h = 1e-5
    for side, emb, got in (("source", src_emb, found.source_signed[0]), ("prefix", tgt_emb, found.prefix_signed[0])):
        for i in range(emb.size(1)):
            direction = torch.zeros_like(emb)
            direction[:, i] = emb[:, i]
            moved = lambda sign: emb + sign * h * direction
            args = lambda sign: (moved(sign), tgt_emb) if side == "source" else (src_emb, moved(sign))
            fd = (f_of(model, *args(1), step) - f_of(model, *args(-1), step)) / (2 * h)
            assert got[i] == pytest.approx(fd, rel=1e-6, abs=1e-9), (side, i)
    assert np.all(found.prefix_signed[0, step + 1 :] == 0)


@pytest.mark.parametrize("method", ["input_x_gradient", "integrated_gradients", "ablation"])
def test_contrastive_attribution_is_the_difference_of_the_two(method):
    """Attributing log p(chosen) - log p(alternative) gives, piece by piece, the attribution of log p(chosen)
    minus that of log p(alternative) (both at the same step)."""
    model = random_model(seed=3)
    step, chosen, alternative = 2, TGT[2], 17
    run = lambda pieces, alts: attribute_queries(
        model, SRC, DECODER_INPUT, [step] * len(pieces), pieces, alts, method=method, n_steps=16
    )
    both = run([chosen, alternative], None)
    contrast = run([chosen], [alternative])
    assert np.allclose(contrast.source_signed[0], both.source_signed[0] - both.source_signed[1], atol=1e-5)
    assert np.allclose(contrast.prefix_signed[0], both.prefix_signed[0] - both.prefix_signed[1], atol=1e-5)
    assert contrast.outputs[0] == pytest.approx(both.outputs[0] - both.outputs[1], abs=1e-5)


def test_source_ablation_splits_f_between_source_and_prefix():
    """source_ablation: a row's source attribution adds up to f minus f with every source embedding 0."""
    model = random_model(seed=4)
    step = 3
    found = attribute_queries(model, SRC, DECODER_INPUT, [step], [TGT[step]], method="source_ablation")
    src_emb, tgt_emb = embeddings(model)
    f = f_of(model, src_emb, tgt_emb, step)
    assert found.source_signed.sum() == pytest.approx(f - f_of(model, 0 * src_emb, tgt_emb, step), abs=1e-5)
    assert found.prefix_signed.sum() == pytest.approx(f - f_of(model, src_emb, 0 * tgt_emb, step), abs=1e-5)


def test_source_share_counts_what_spoke_for_the_word():
    share = source_shares(np.array([[2.0, -1.0], [0.0, 0.0], [-1.0, 0.0]]), np.array([[1.0, 1.0], [1.0, 0.0], [0, 0]]))
    assert np.allclose(share, [0.5, 0.0, 0.0])


def test_progress_is_reported_as_the_work_gets_done():
    """progress(done, total): output pieces' worth of work, growing to (total, total); the results do not depend
    on the batch size."""
    model, calls = random_model(seed=6), []
    steps = list(range(len(TGT)))
    found = attribute_queries(
        model,
        SRC,
        DECODER_INPUT,
        steps,
        TGT,
        method="integrated_gradients",
        n_steps=4,
        internal_batch_size=12,  # two path points per batch
        progress=lambda done, total: calls.append((done, total)),
    )
    assert len(calls) > 1 and calls[-1] == (6, 6) and all(total == 6 for _, total in calls)
    assert [done for done, _ in calls] == sorted({done for done, _ in calls})  # growing
    whole = attribute_queries(model, SRC, DECODER_INPUT, steps, TGT, method="integrated_gradients", n_steps=4)
    assert np.allclose(found.source_signed, whole.source_signed, atol=1e-5)
    calls.clear()
    attribute_queries(
        model, SRC, DECODER_INPUT, steps, TGT, method="source_ablation", progress=lambda *c: calls.append(c)
    )
    assert calls == [(6, 6)]


def per_step_reference(model, method: str, n_steps: int):
    """The straightforward computation: one captum call per output step, one example, the model row by row."""
    attr, rows = captum_attr(), []
    for step in range(len(TGT)):
        scorer = StepScorer(model, torch.tensor([SRC]))  # no group: every row through the whole model
        inputs = tuple(e.clone().requires_grad_() for e in embeddings(model))
        extra = (torch.tensor([step]), torch.tensor([TGT[step]]), torch.tensor([-1]))
        if method == "integrated_gradients":
            zeros = tuple(torch.zeros_like(x) for x in inputs)
            found = attr.IntegratedGradients(scorer).attribute(
                inputs, zeros, additional_forward_args=extra, n_steps=n_steps
            )
        else:
            found = attr.InputXGradient(scorer).attribute(inputs, additional_forward_args=extra)
        rows.append([x.detach()[0] for x in found])
    return [torch.stack([r[k] for r in rows]) for k in range(2)]  # source [T, S, d], prefix [T, T, d]


@pytest.mark.parametrize("method", ["input_x_gradient", "integrated_gradients"])
@pytest.mark.parametrize("part", [2, 8])  # decoder ranges of 2 positions (three ranges here), and one range
def test_the_shared_pass_equals_the_per_step_reference(monkeypatch, method, part):
    """Every output step at once (one pass of the model per path point, SharedPass) gives what one captum call per
    step gives, row by row, to float64 rounding; and the shared pass is what runs."""
    monkeypatch.setattr("seq2seq.attention.attention", float64_attention)
    monkeypatch.setattr("seq2seq.attribution.PART", part)
    model = random_model(seed=7).double()
    source, prefix = per_step_reference(model, method, n_steps=16)
    passes = []
    forward = SharedPass.forward
    monkeypatch.setattr(SharedPass, "forward", lambda *a: passes.append(1) or forward(*a))
    steps = list(range(len(TGT)))
    found = attribute_queries(model, SRC, DECODER_INPUT, steps, TGT, method=method, n_steps=16, internal_batch_size=24)
    assert len(passes) == (4 if method == "integrated_gradients" else 1)  # 16 points, 4 per batch of 24 examples
    for got, want in ((found.source_signed, source.sum(-1)), (found.prefix_signed, prefix.sum(-1))):
        assert np.allclose(got, want.numpy(), rtol=1e-9, atol=1e-12)
    for got, want in ((found.source_magnitude, source.norm(dim=-1)), (found.prefix_magnitude, prefix.norm(dim=-1))):
        assert np.allclose(got, want.numpy(), rtol=1e-9, atol=1e-12)
    assert np.all(found.prefix_signed[np.triu_indices(len(TGT), 1)] == 0)


def test_agreement_and_links_from_a_word_map():
    word_source = np.array([[0.9, 0.1, 0.0], [0.2, 0.1, 0.7], [0.0, 0.6, 0.1]])  # [target words, source words]
    assert argmax_links(word_source) == [(0, 0), (2, 1), (1, 2)]
    assert agreement(word_source, [(0, 0), (1, 1), (1, 2)]) == pytest.approx(2 / 3)
    assert agreement(word_source, []) is None


def check_attribution(a: Attribution, source_words=None, target_words=None) -> None:
    """Shapes, the causal zero pattern, shares in 0..1, words, and JSON."""
    t, s = len(a.target_tokens), len(a.source_tokens)
    assert a.target_tokens[-1] == "</s>" and a.source_tokens[-1] == "</s>"
    assert a.source.shape == (t, s) and a.prefix.shape == (t, t) and a.source_share.shape == (t,)
    assert len(a.prefix_tokens) == t and a.prefix_tokens[0] == "<s>"
    assert np.all(np.triu(a.prefix, 1) == 0)
    assert np.all((a.source_share >= 0) & (a.source_share <= 1))
    w = a.words
    assert w.source.shape == (len(a.target_words), len(a.source_words))
    assert w.prefix.shape == (len(a.target_words),) * 2 and w.source_share.shape == (len(a.target_words),)
    if source_words is not None:
        assert a.source_words == source_words and a.target_words == target_words
    json.dumps(a.as_json())


@pytest.mark.parametrize("method", METHODS)
def test_explains_the_models_own_translation_zh_en(toy_translator, method):
    t = toy_translator.translate(["我喜欢吃苹果。"])[0]
    a = toy_translator.attribute(["我喜欢吃苹果。"], method=method, n_steps=8)[0]
    assert a.text == t.text and a.target_tokens == t.target_tokens and a.method == method
    # the words are those Translation.coverage reads (the toy model has no alignment head, so no head links)
    check_attribution(a, reading_units(t.source_tokens, "zh")[0], reading_units(t.target_tokens, "en")[0])
    assert t.coverage is None and a.head_links is None and a.agreement is None
    assert len(a.links()) == len(a.target_words)
    flagged = a.mostly_from_prefix()
    assert a.direction == "zh-en"
    again = toy_translator.attribute("我喜欢吃苹果。", t, method=method, n_steps=8)[0]  # the translation itself
    assert again.target_tokens == t.target_tokens and np.allclose(again.source, a.source, atol=1e-5)
    assert flagged is None if (method, a.score) not in WARNING_THRESHOLDS["zh-en"] else isinstance(flagged, list)
    # every word but punctuation and the function words coverage never flags ("to", "the")
    expected = [j for j, w in enumerate(a.target_words) if w != "." and w.lower() not in NEUTRAL["en"]]
    assert expected and a.mostly_from_prefix(threshold=1.01) == expected


def test_given_targets_and_en_zh(toy_en_zh_translator):
    tr = toy_en_zh_translator
    a, empty = tr.attribute(["I like to eat apples.", ""], ["我喜欢吃苹果。", "你好"])
    check_attribution(a)
    assert a.text == "我喜欢吃苹果。" and "".join(a.target_words) == "我喜欢吃苹果。"
    assert a.source_words[:2] == ["I", "like"]
    assert empty.source.shape == (0, 0) and empty.target_tokens == []
    assert json.dumps(empty.as_json())


def test_contrast_through_the_translator(toy_translator):
    """``contrast=(word, alternative)``: the contrastive row equals the difference of the two single rows."""
    tr = toy_translator
    c = tr.attribute("我喜欢吃苹果。", "I like to eat apples.", contrast=(0, "They"))[0]
    assert c.chosen.strip("▁") == "I" and c.target_tokens[c.step] == c.chosen and c.word == 0
    assert c.alternative.strip("▁") and "They".startswith(c.alternative.strip("▁"))  # its first piece
    assert c.difference > 0  # the toy model learnt "I" here
    assert c.source.shape == (len(c.source_tokens),) and c.prefix.shape == (len(c.target_tokens),)
    model, codec = tr.torch.model, tr.codec
    src = codec.src_tok.pieces_to_ids(c.source_tokens)
    pieces = codec.tgt_tok.pieces_to_ids([c.chosen, c.alternative])
    dec = [BOS_ID] + codec.tgt_tok.pieces_to_ids(c.target_tokens[:-1])
    both = attribute_queries(model, src, dec, [c.step, c.step], pieces)
    assert np.allclose(c.source, both.source_signed[0] - both.source_signed[1], atol=1e-5)
    assert np.allclose(c.prefix, both.prefix_signed[0] - both.prefix_signed[1], atol=1e-5)
    assert c.difference == pytest.approx(both.outputs[0] - both.outputs[1], abs=1e-5)
    assert c.source_words_scores.shape == (len(c.source_words),)
    json.dumps(c.as_json())
    with pytest.raises(ValueError, match="word"):
        tr.attribute("我喜欢吃苹果。", "I like to eat apples.", contrast=(99, "They"))


def test_placeholders_show_their_spans_and_a_long_line_splits():
    """The source's names and numbers are read as placeholders and shown as their spans; a line over the model's
    limit is an error, and its parts (codec.split_long) are each explained."""
    tr = placeholder_translator()
    a = tr.attribute(["我们向 Goldsmith 表示哀悼。"], ["We mourn with Goldsmith ."], method="input_x_gradient")[0]
    check_attribution(a)
    assert "Goldsmith" in a.source_tokens and "Goldsmith" in a.target_tokens
    assert "Goldsmith" in a.source_words and "Goldsmith" in a.target_words
    long_line = "。".join(["我们向 Goldsmith 的家人表示哀悼"] * 12) + "。"
    with pytest.raises(ValueError, match="split"):
        tr.attribute([long_line], ["We mourn ."])
    parts, owner = tr.codec.split_long([long_line])
    assert len(parts) > 1 and set(owner) == {0}
    for a in tr.attribute(parts, ["We mourn with Goldsmith ."] * len(parts)):
        check_attribution(a)
        assert "Goldsmith" in a.source_tokens


def test_bad_arguments_are_clear(toy_translator):
    with pytest.raises(ValueError, match="unknown attribution method"):
        toy_translator.attribute("我喜欢吃苹果。", method="saliency")
    with pytest.raises(ValueError, match="targets"):
        toy_translator.attribute(["我喜欢吃苹果。"], ["a", "b"])


def test_missing_captum_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "captum", None)
    monkeypatch.setitem(sys.modules, "captum.attr", None)
    with pytest.raises(ImportError, match="pip install captum"):
        captum_attr()


def test_seq2seq_attribute_writes_pharaoh_links(tmp_path):
    """seq2seq-attribute: one line of links per pair, in the words seq2seq-align links (here the given words),
    each target word once; JSON lines beside them; a clear message for unequal files."""
    from seq2seq.attribution_cli import main

    folder = placeholder_translator().save(tmp_path / "zh-en")
    (tmp_path / "a.zh").write_text("我们 向 Goldsmith 表示 哀悼 。\n\n", encoding="utf-8")
    (tmp_path / "a.en").write_text("We mourn with Goldsmith .\nHello .\n", encoding="utf-8")
    args = ["--model", str(folder), "--pretokenized", str(tmp_path / "a.zh"), str(tmp_path / "a.en")]
    out, maps = tmp_path / "links.txt", tmp_path / "maps.jsonl"
    assert main([*args, "--output", str(out), "--json", str(maps)]) == 0
    lines = out.read_text(encoding="utf-8").split("\n")
    assert lines[1:] == ["", ""]  # the empty pair: an empty line
    links = [tuple(map(int, x.split("-"))) for x in lines[0].split()]
    assert sorted(j for _, j in links) == list(range(5)) and all(0 <= i < 6 for i, _ in links)
    first, empty = [json.loads(x) for x in maps.read_text(encoding="utf-8").splitlines()]
    assert first["words"]["target_words"] == "We mourn with Goldsmith .".split() and empty is None
    (tmp_path / "b.en").write_text("one line\ntwo\nthree\n", encoding="utf-8")
    assert main(["--model", str(folder), str(tmp_path / "a.zh"), str(tmp_path / "b.en")]) == 2
