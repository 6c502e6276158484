"""seq2seq.words: the words of each language for each use, and where they stand in the text as typed."""

from seq2seq.words import (
    Units,
    corpus_words,
    gold_units,
    gold_words,
    reading_units,
    reading_words,
    shown_as_typed,
    word_spans,
)


def test_gold_units_are_characters_and_whitespace_words():
    zh = gold_units(["▁我", "用", "iPh", "one", "。", "</s>"], "zh")
    assert zh == Units(["我", "用", "iPhone", "。"], [[0], [1], [2], [2], [3], []])
    assert gold_words("我有iPhone 15。", "zh") == ["我", "有", "iPhone", "15", "。"]
    words, groups = gold_units(["▁I", "▁like", "▁app", "les", ".", "</s>"], "en")  # a tuple still unpacks
    assert words == ["I", "like", "apples."] and groups == [[0], [1], [2], [2], [2], []]


def test_reading_units_keep_numbers_whole_and_punctuation_apart():
    assert reading_words("营收为1,234亿美元，增长3.5%。", "zh")[2:3] == ["1,234"]
    assert "3.5%" in reading_words("增长3.5%。", "zh")
    words, groups = reading_units(["▁I", "'", "m", "▁going", ",", "▁", "tomorrow", ".", "</s>"], "en")
    assert words == ["I'm", "going", ",", "tomorrow", "."]
    assert groups == [[0], [0], [0], [1], [2], [3], [3], [4], []]  # a bare "▁" joins the next word


def test_corpus_words_are_what_eflomal_reads():
    assert corpus_words("It's 5 o'clock.", "en") == ["it", "'", "s", "5", "o", "'", "clock", "."]
    assert corpus_words("我有iPhone 15。", "zh") == gold_words("我有iPhone 15。", "zh")


def test_word_spans_match_letter_for_letter_else_find_each_word():
    assert word_spans(["今天", "天气"], "今天 天氣") == [(0, 2), (3, 5)]  # Traditional: letter for letter
    assert word_spans(["I", "like", "</s>"], "I like it") == [(0, 1), (2, 6), None]
    assert word_spans(["Tim Cook", "spoke"], "Tim  Cook spoke") == [(0, 9), (10, 15)]


def test_words_are_shown_as_typed():
    assert shown_as_typed(["我们", "去"], "我們去") == ["我們", "去"]
    assert shown_as_typed(["I", "like", "apples", "."], "i like apples.") == ["i", "like", "apples", "."]
    assert shown_as_typed(["a"], "我們") == ["a"]  # not spelt so: left as they are
