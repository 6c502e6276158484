"""Attribution rows and the head's links count the same words: the coverage's, which split a word where its links
part (今天天气 read as 今天 | 天气 by the shipped zh-en model)."""

import pytest

from seq2seq import Translator


@pytest.fixture(scope="module")
def zh_en():
    return Translator.load("zh-en", backend="torch")


def test_attribution_words_are_the_coverage_words(zh_en):
    sentence = "今天天气很好。"
    t = zh_en.translate([sentence])[0]
    a = zh_en.attribute([sentence])[0]
    assert a.words.source_words == t.coverage.source_words
    assert a.words.target_words == t.coverage.target_words
    assert a.head_links == t.coverage.links
    rows, cols = len(a.words.target_words), len(a.words.source_words)
    assert all(0 <= s < cols and 0 <= w < rows for s, w in a.head_links)
