"""The demo's word units: how the chips and the links listing join the words a word links to, and the same units
in the map, the listing and both API endpoints (``/translate``'s details and ``/score``)."""

import re

import numpy as np
import pytest
from test_app_direction import PAIRS, both  # noqa: F401 - the fixture

from seq2seq.app.chips import (
    GAP,
    join_units,
    link_chips_html,
    links_listing_html,
    word_alignment_html,
)
from seq2seq.app.maps import MapData, alignment_map, word_links
from seq2seq.words import shown_as_typed, word_spans


def test_adjacent_words_join_as_the_sentence_has_them_and_others_with_a_gap():
    name = ["蒂姆", "·", "库克", "昨天", "访问", "了", "上海", "。"]
    text = "蒂姆·库克昨天访问了上海。"
    assert join_units(name, [0, 1, 2], "zh", text) == "蒂姆·库克"  # the dot of a name is the name's
    assert join_units(name, [2, 0, 1], "zh", text) == "蒂姆·库克"  # in sentence order, whatever the links' order
    assert join_units(name, [0, 4], "zh", text) == f"蒂姆{GAP}访问"
    english = ["New", "York", "is", "big", "."]
    assert join_units(english, [0, 1], "en", "New York is big.") == "New York"
    assert join_units(english, [0, 1, 3], "en", "New York is big.") == f"New York{GAP}big"
    assert join_units(english, [3, 4], "en", "New York is big.") == "big."  # as typed: no space before "."
    # a sentence that does not spell the words (shown in another script): joined as the language joins words
    assert join_units(["今天", "天氣"], [0, 1], "zh", "") == "今天天氣"
    assert join_units(["New", "York"], [0, 1], "en", "") == "New York"
    assert join_units(["\u2581New", "\u2581York", "er"], [0, 1, 2], "en", pieces=True) == "·New·Yorker"
    assert join_units(english, [], "en", "New York is big.") == ""
    assert "…" not in "".join(name) and "…" not in text  # the gap cannot be read as the sentence's text


def test_words_read_from_restored_english_are_shown_as_typed():
    """``/score`` reads "i like apples ." as the model does (restored: "I like apples ."); its words are the
    user's."""
    assert shown_as_typed(["I", "like", "apples", "."], "i like apples .") == ["i", "like", "apples", "."]
    assert shown_as_typed(["I", "like", "apples", "."], "i like apples.") == ["i", "like", "apples", "."]
    assert shown_as_typed(["今天", "天气"], "今天天氣") == ["今天", "天氣"]  # Traditional, as typed
    assert shown_as_typed(["今天", "天气"], "明天") == ["今天", "天气"]  # not spelt so: left as they are


def test_a_chip_shows_a_name_whole_and_words_apart_with_a_gap():
    """The chips once joined with " · ", the dot inside a Chinese name: "Tim → 蒂姆 · · · 库克"."""
    cols = ["蒂姆", "·", "库克", "昨天", "访问", "了", "上海", "。"]
    rows = ["Tim", "Cook", "visited", "Shanghai", "yesterday", "."]
    links = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 4), (2, 5), (3, 6), (4, 3), (5, 7)]
    m = MapData(np.zeros((6, 8)), rows, cols, "t", links, languages=("zh", "en"), units="words")
    chips = link_chips_html(m, text="蒂姆·库克昨天访问了上海。")
    assert "Tim &rarr; 蒂姆·库克<" in chips and "visited &rarr; 访问了<" in chips
    assert " · " not in chips
    m.links = [(0, 0), (0, 4)]
    assert f"Tim &rarr; 蒂姆{GAP}访问<" in link_chips_html(m, text="蒂姆·库克昨天访问了上海。")


@pytest.mark.parametrize("direction", ["zh-en", "en-zh"])
def test_the_map_the_chips_the_listing_and_the_api_share_their_words(both, direction):  # noqa: F811
    """One sentence's words are the same everywhere: the map's columns and rows, the listing under *Look
    inside* (once Chinese characters: "to → 要去北"), and the words that ``/translate`` and ``/score`` index their
    links with (``/score`` once gave characters)."""
    source, target = PAIRS[direction]
    pred = both.run(source, "beam", 4, 1.0, 3, direction)[3]
    s = pred.sentences[0]
    w = word_links(s.translation, pred.align_method, pred.languages)
    m = alignment_map(s.translation, pred.align_method, languages=pred.languages)
    assert m.cols[:-1] == w.source_words and m.rows == w.target_words  # the map's (the last column: </s>)
    listing = both.views["align"].render(pred, 0, "alignment head", "words")[3]
    listed = re.findall(r">([^<>]*?) &rarr; ([^<]*)</span>", listing)
    assert [left for left, _ in listed] == w.target_words
    chinese = w.source_words if direction == "zh-en" else w.target_words
    assert any(len(x) > 1 for x in chinese)  # jieba words (苹果, 喜欢), not characters
    assert_whole_words(listed, source, w.source_words)
    details = both.api["translate"](source, 4, 1.0, True, direction)["sentences"][0]
    scored = both.api["score"](source, details["translation"], direction)
    assert details["source_words"] == scored["source_words"] == w.source_words
    assert details["target_words"] == scored["target_words"]
    for out in (details, scored):
        assert all(i < len(out["source_words"]) and j < len(out["target_words"]) for i, j in out["links"])


def assert_whole_words(listed, source: str, words: list[str]) -> None:
    """Each linked part of a listing (split at the gap) is a run of whole words of ``source`` as it has them:
    no word cut ("要去北" ends inside 北京)."""
    spans = [x for x in word_spans(words, source) if x]
    starts, ends = {a for a, _ in spans}, {b for _, b in spans}
    for _, right in listed:
        for part in right.split(GAP):
            at = source.find(part)
            assert part == "∅" or (at in starts and at + len(part) in ends), (part, right)


def test_the_listing_of_a_model_without_a_head_uses_the_maps_words(toy_translator):
    from seq2seq.app.predict import predict

    pred = predict(toy_translator, "我喜欢吃苹果。", beam_size=2, full=True)
    w = word_links(pred.sentences[0].translation, pred.align_method, pred.languages)
    assert w.coverage is None and "苹果" in w.source_words and w.links
    listed = re.findall(r">([^<>]*?) &rarr; ([^<]*)</span>", word_alignment_html(pred))
    assert [left for left, _ in listed] == w.target_words
    assert_whole_words(listed, "我喜欢吃苹果。", w.source_words)
    with pytest.raises(AssertionError):  # the check catches a cut word
        assert_whole_words([("to", "要去北")], "我要去北京。", ["我", "要", "去", "北京", "。"])
    listing = links_listing_html("我要去北京。", ["我", "要", "去", "北京", "。"], ["go"], {(1, 0), (2, 0)}, "zh")
    assert "go &rarr; 要去<" in listing
