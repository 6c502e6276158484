"""Coverage: the words the alignment head links to nothing, on a hand-made alignment and on the shipped model."""

import numpy as np
import pytest

from seq2seq.align import DEFAULT_RAW, AlignMethod
from seq2seq.coverage import coverage, is_punctuation
from seq2seq.results import Translation
from seq2seq.words import reading_units, reading_words, shown_as_typed

HEAD = AlignMethod(layer=0, head=0, label="alignment head (test)", null_to_eos=True)
SOURCE = ["▁我", "明天", "要去", "北京", "。", "</s>"]
TARGET = ["▁I", "'", "m", "▁going", "▁tomorrow", ".", "</s>"]


def translation(text, source, target, attention, method=HEAD) -> Translation:
    return Translation(
        text=text,
        source_tokens=source,
        target_tokens=target,
        cross_attention=attention,
        score=-1.0,
        normalized_score=-0.2,
        align_method=method,
    )


def hand_made(peaks: dict) -> Translation:
    """A translation whose one attention head puts 0.9 of each target piece's weight on the source piece
    ``peaks`` names (index into SOURCE; 5 is </s>: linked to nothing)."""
    att = np.full((1, 1, len(TARGET), len(SOURCE)), 0.02, dtype=np.float32)
    for j, i in peaks.items():
        att[0, 0, j, i] = 0.9
    att /= att.sum(-1, keepdims=True)
    return translation("I'm going tomorrow.", SOURCE, TARGET, att)


# I -> 我, ' and m -> </s>, going -> 要去, tomorrow -> 明天, . -> 。: nothing links 北京
FAITHFUL = {0: 0, 1: 5, 2: 5, 3: 2, 4: 1, 5: 4, 6: 5}


def test_a_word_nothing_links_to_is_not_translated():
    t = hand_made(FAITHFUL)
    c = t.coverage
    assert c.source_words == ["我", "明天", "要", "去", "北京", "。"]
    assert c.target_words == ["I'm", "going", "tomorrow", "."]  # punctuation apart, the apostrophe kept
    assert c.links == [(0, 0), (1, 2), (2, 1), (3, 1), (5, 3)]  # 要去 is one piece: both its words link
    assert t.unlinked_source_words == ["北京"] and t.unlinked_target_words == []


def test_a_word_linked_to_nothing_is_added_and_punctuation_is_never_flagged():
    # tomorrow -> </s>: 明天 is left without a link, and "tomorrow" links to nothing; "." -> </s> too, but is
    # punctuation, and so is 。
    t = hand_made({**FAITHFUL, 4: 5, 5: 5})
    assert t.unlinked_source_words == ["明天", "北京"]
    assert t.unlinked_target_words == ["tomorrow"]


def test_coverage_needs_the_trained_head_and_attention():
    t = hand_made(FAITHFUL)
    assert coverage(t, DEFAULT_RAW) is None  # raw attention is too poor an aligner to say what is missing
    no_attention = translation("I'm going tomorrow.", SOURCE, TARGET, None)
    assert no_attention.unlinked_source_words is None and no_attention.unlinked_target_words is None
    assert translation("x", SOURCE, TARGET, t.cross_attention, method=None).coverage is None  # no method given
    # links read one way: a symmetrized method gives the same coverage
    assert (
        coverage(t, AlignMethod(0, 0, label="alignment head", null_to_eos=True, symmetrize="grow-diag")).links
        == t.coverage.links
    )


def test_reading_units():
    words, groups = reading_units(["▁I", "'", "m", "▁going", ",", '▁"', "tomorrow", '."', "</s>"], "en")
    assert words == ["I'm", "going", ",", '"', "tomorrow", '."']
    assert groups == [[0], [0], [0], [1], [2], [3], [4], [5], []]
    words, groups = reading_units(["▁我", "明天", "要去", "北京", "。", "</s>"], "zh")
    assert words == ["我", "明天", "要", "去", "北京", "。"] and groups[2] == [2, 3]
    assert is_punctuation("。") and is_punctuation('."') and not is_punctuation("5%") and not is_punctuation("")


@pytest.fixture(scope="module")
def shipped():
    from seq2seq.translator import Translator

    return Translator.load()


def test_the_shipped_model_flags_the_dropped_name(shipped):
    """我明天要去北京看望我的老朋友。 -> "I'm going to see my old friend tomorrow.": 北京 (Beijing) is dropped."""
    from seq2seq.app.predict import details_json, predict

    t = shipped.translate(["我明天要去北京看望我的老朋友。"], beam_size=5)[0]
    assert "beijing" not in t.text.lower()
    assert t.unlinked_source_words == ["北京"] and t.unlinked_target_words == []
    details = details_json(predict(shipped, "我明天要去北京看望我的老朋友。", beam_size=5))
    assert details["sentences"][0]["unlinked_source_words"] == ["北京"]
    # a faithful translation flags nothing
    assert shipped.translate(["我喜欢吃苹果。"], beam_size=5)[0].unlinked_source_words == []


def test_a_span_the_output_copies_is_covered():
    """2023 and Pro come out as they went in: neither "not translated?" nor "added?", whatever the links say."""
    source = ["▁", "该公司", "2023", "年", "推出", "了", "iPhone", "▁", "15", "▁", "Pro", "。", "</s>"]
    target = ["▁In", "▁2023", ",", "▁the", "▁company", "▁launched", "▁iPhone", "▁15", "▁Pro", ".", "</s>"]
    att = np.full((1, 1, len(target), len(source)), 0.01, dtype=np.float32)
    for j, i in {0: 3, 1: 12, 2: 12, 3: 12, 4: 1, 5: 4, 6: 6, 7: 8, 8: 12, 9: 11, 10: 12}.items():
        att[0, 0, j, i] = 0.9  # 2023 and Pro link to </s>
    t = translation("In 2023, the company launched iPhone 15 Pro.", source, target, att)
    c = t.coverage
    assert "2023" in c.source_words and "Pro" in c.target_words
    assert c.unlinked_source_words == [] and c.unlinked_target_words == []
    assert c.source_words[2:3] == ["2023"]  # a number stays one word: 1,234 too (not 1 , 234)
    assert "1,234" in reading_words("营收为1,234亿美元，增长3.5%。", "zh") and "3.5%" in reading_words(
        "增长3.5%。", "zh"
    )


def test_a_word_whose_pieces_link_apart_is_split():
    """jieba keeps 今天天气 one word; its pieces link to "today" and "weather", so the map shows both."""
    from seq2seq.coverage import split_where_links_part

    pieces = ["▁今天", "天气", "很好", "。", "</s>"]
    words, groups = ["今天天气", "很", "好", "。"], [[0], [0], [1, 2], [3], []]
    target_groups = [[0], [1], [2], [3], [4], []]  # The weather is good today .
    links = [(0, 4), (1, 1), (2, 3), (3, 5)]
    assert split_where_links_part(pieces, words, groups, links, target_groups) == (
        ["今天", "天气", "很", "好", "。"],
        [[0], [1], [2, 3], [4], []],
    )
    # pieces that link to the same words, or to nothing, stay one word
    same = [(0, 4), (1, 4), (2, 3), (3, 5)]
    assert split_where_links_part(pieces, words, groups, same, target_groups) == (words, groups)
    assert split_where_links_part(pieces, words, groups, [(0, 4), (3, 5)], target_groups) == (words, groups)


def test_traditional_input_is_shown_as_typed(shipped):
    t = shipped.translate(["今天天氣很好，我們去公園吧。"])[0]
    assert t.source_tokens[0] == "▁今天"  # the model reads Simplified
    assert "".join(t.coverage.source_words) == "今天天氣很好，我們去公園吧。"  # as typed, its comma too
    assert shown_as_typed(["我们", "去"], "我們去") == ["我們", "去"] and shown_as_typed(["a"], "我們") == ["a"]
