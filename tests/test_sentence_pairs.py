"""A pair of several sentences, aligned sentence by sentence (seq2seq.sentence_pairs)."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.align import reading
from seq2seq.sentence_pairs import halves, pair_sentences, sentence_parts

ZH = ("我喜欢吃苹果。", "今天天气很好。")
EN = ("I like to eat apples.", "The weather is nice today.")


def test_a_pair_splits_where_both_sides_have_as_many_sentences():
    assert sentence_parts("".join(ZH), " ".join(EN), ("zh", "en")) == (list(ZH), list(EN))
    assert sentence_parts(ZH[0], EN[0], ("zh", "en")) is None  # one sentence: read whole
    assert sentence_parts("".join(ZH), EN[0], ("zh", "en")) is None  # two against one
    # the sides split at different places: a 2-character sentence against a long one
    assert (
        sentence_parts(
            "好。今天天气很好，我们去公园散步吧。",
            "Let us walk in the park today, the weather is nice. Good.",
            ("zh", "en"),
        )
        is None
    )
    # given words: sentences only between words
    assert sentence_parts("我 喜欢 。 你 好 。", "I like . Hello .", ("zh", "en"), pretokenized=True) == (
        ["我 喜欢 。", "你 好 。"],
        ["I like .", "Hello ."],
    )
    assert sentence_parts("我 喜欢。你 好 。", "I like . Hello .", ("zh", "en"), pretokenized=True) is None


def test_sentences_pair_up_by_length_one_to_two_and_two_to_one():
    """Gale & Church: a sentence translated as two pairs with both; every sentence is used once, in order."""
    assert pair_sentences([10, 10, 10], [30, 15, 15, 30]) == [(1, 1), (1, 2), (1, 1)]
    assert pair_sentences([10, 5, 5, 10], [30, 30, 30]) == [(1, 1), (2, 1), (1, 1)]
    assert pair_sentences([10, 10], [31, 29]) == [(1, 1), (1, 1)]
    assert pair_sentences([10], [5, 5, 5]) == []  # one to three: no way to pair them
    # a Chinese sentence the English splits in two: three sentence pairs, not a refusal
    zh = "我喜欢吃苹果。今天天气很好，我们去公园散步吧。谢谢你。"
    en = "I like to eat apples. The weather is nice today. Let us walk in the park. Thank you."
    assert sentence_parts(zh, en, ("zh", "en")) == (
        ["我喜欢吃苹果。", "今天天气很好，我们去公园散步吧。", "谢谢你。"],
        ["I like to eat apples.", "The weather is nice today. Let us walk in the park.", "Thank you."],
    )


def test_sentence_by_sentence_is_the_sentences_read_one_by_one_and_joined(toy_translator):
    tr = toy_translator
    both = tr.align(["".join(ZH)], [" ".join(EN)])[0]
    one = tr.align(list(ZH), list(EN))
    assert [a.parts for a in one] == [[], []]  # single sentences are read whole
    assert both.source_tokens == one[0].source_tokens + one[1].source_tokens  # each keeps its </s>
    assert both.target_tokens == one[0].target_tokens + one[1].target_tokens
    assert both.source_words == one[0].source_words + one[1].source_words
    s0, t0 = len(one[0].source_words), len(one[0].target_words)
    assert both.links == one[0].links + [(s + s0, t + t0) for s, t in one[1].links] and one[1].links
    assert both.score == pytest.approx(one[0].score + one[1].score, abs=1e-4)
    assert np.allclose(both.token_logprobs, np.concatenate([a.token_logprobs for a in one]), atol=1e-5)
    att, (a0, a1) = both.full_context_attention, (a.full_context_attention for a in one)
    r, c = a0.shape[2:]
    assert att.shape[2:] == (r + a1.shape[2], c + a1.shape[3])
    assert np.allclose(att[:, :, :r, :c], a0, atol=1e-5) and np.allclose(att[:, :, r:, c:], a1, atol=1e-5)
    assert not att[:, :, :r, c:].any() and not att[:, :, r:, :c].any()  # nothing across sentences
    other = reading(tr.align_method, "precise")
    assert both.links_with(other) == one[0].links_with(other) + [(s + s0, t + t0) for s, t in one[1].links_with(other)]
    # a sentence over the model's limit, skipped: the pair is read whole (here too long as well: no links)
    long_zh, long_en = ZH[0] + "我" * 200 + "。", EN[0] + " I" * 200 + "."
    skipped = tr.align([ZH[1] + long_zh], [EN[1] + " " + long_en], skip_long=True)[0]
    assert skipped.parts == [] and skipped.links == [] and skipped.full_context_attention is not None
    whole = tr.align(["".join(ZH)], [" ".join(EN)], by_sentence=False)[0]
    assert whole.parts == [] and whole.source_tokens.count("</s>") == 1 and whole.source_words == both.source_words


def test_seq2seq_align_reads_by_sentence_unless_told_whole_pairs(tmp_path, toy_translator):
    from seq2seq.align import pharaoh
    from seq2seq.cli import align_main

    folder = tmp_path / "m"
    toy_translator.save(folder)
    zh, en = "我 喜欢 吃 苹果 。 谢谢 你 。", "I like to eat apples . Thank you ."
    (tmp_path / "a.zh").write_text(zh + "\n", encoding="utf-8")
    (tmp_path / "a.en").write_text(en + "\n", encoding="utf-8")
    files = [str(tmp_path / "a.zh"), str(tmp_path / "a.en")]
    for extra, by_sentence in (([], True), (["--whole-pairs"], False)):
        out = tmp_path / f"links{by_sentence}.txt"
        assert align_main(["--model", str(folder), "--pretokenized", *extra, *files, "-o", str(out)]) == 0
        want = toy_translator.align([zh], [en], pretokenized=True, by_sentence=by_sentence, skip_long=True)[0]
        assert bool(want.parts) == by_sentence
        assert out.read_text().splitlines() == [pharaoh(want.links)]


def test_halves_cut_where_the_fewest_links_cross():
    # 10 source words and 11 target words in two blocks, each read in reverse order (so no other cut is clean)
    block = [(i, 3 - i) for i in range(4)] + [(3, 4)] + [(4 + i, 10 - i) for i in range(6)]
    assert halves(block, 10, 11) == (4, 5)
    assert halves(block + [(0, 10), (9, 0)], 10, 11) is None  # 2 of 12 links cross every cut: over 5%
    assert halves(block, 10, 11, source_cuts=[k != 4 for k in range(11)]) is None  # the only clean cut is barred
    assert halves([(0, 0), (1, 1), (2, 2), (3, 3)], 4, 4) == (2, 2)  # each half keeps 30% of each side at least
    assert halves([], 10, 10) is None


def test_a_long_pair_is_read_in_halves_each_as_a_pair_of_its_own(toy_translator, monkeypatch):
    """Past HALVES_FROM characters a pair that parts into blocks is read half by half: each half is the pieces of
    its words with its own </s>, read alone, and the links are offset as sentence pairs' are."""
    import seq2seq.aligner as aligner

    zh, en = "我 喜欢 吃 苹果 ， 今天 天气 很 好 。", "I like to eat apples , the weather is nice today ."
    whole = toy_translator.align([zh], [en], pretokenized=True)[0]
    assert whole.parts == []  # one sentence, shorter than HALVES_FROM
    monkeypatch.setattr(aligner, "HALVES_FROM", 10)
    monkeypatch.setattr(aligner, "halves", lambda links, n, m, *cuts: (5, 6) if n == 10 else None)
    both = toy_translator.align([zh], [en], pretokenized=True)[0]
    assert [len(p.source_words) for p in both.parts] == [5, 5] and both.source_words == whole.source_words
    first = toy_translator.align(["我 喜欢 吃 苹果 ，"], ["I like to eat apples ,"], pretokenized=True)[0]
    assert both.parts[0].source_tokens == first.source_tokens and both.parts[0].links == first.links
    assert both.source_tokens == whole.source_tokens[:3] + ["</s>"] + whole.source_tokens[3:]
    n_src, n_tgt = 5, len(both.parts[0].target_words)
    assert both.links == both.parts[0].links + [(s + n_src, t + n_tgt) for s, t in both.parts[1].links]
    assert toy_translator.align([zh], [en], pretokenized=True, by_sentence=False)[0].parts == []  # read whole
