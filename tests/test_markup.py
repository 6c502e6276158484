"""Markup and emoji around a translation: taken out before the model reads the sentence, put back by the word
links (seq2seq.markup), on hand-made links and on the shipped models."""

import pytest

from seq2seq.coverage import Coverage
from seq2seq.markup import put_back, take_out


def links(source_words, target_words, pairs):
    return Coverage(
        source_words=source_words, target_words=target_words, links=pairs, unlinked_source=[], unlinked_target=[]
    )


def test_take_out_keeps_the_sentence_and_where_each_mark_stood():
    clean, marks = take_out('<p>我去<a href="x">北京</a>了😊</p>')
    assert clean == "我去北京了"
    assert [(m.text, m.at) for m in marks] == [("<p>", 0), ('<a href="x">', 2), ("</a>", 4), ("😊", 5), ("</p>", 5)]
    assert [m.partner for m in marks] == [4, 2, 1, None, 0]
    assert take_out("a < b and c > d") == ("a < b and c > d", [])  # not a tag
    assert take_out("x<br/>y")[1][0].partner is None


def test_a_pair_goes_around_the_linked_words_and_an_emoji_after_its_word():
    clean, marks = take_out("我爱<b>北京</b>😊。")
    cov = links(["我", "爱", "北京", "。"], ["I", "love", "Beijing", "."], [(0, 0), (1, 1), (2, 2), (3, 3)])
    assert put_back("I love Beijing.", marks, clean, cov) == "I love <b>Beijing</b> 😊."
    # the words moved: the tags follow them
    cov = links(["北京", "我", "爱", "。"], ["I", "love", "Beijing", "."], [(0, 2), (1, 0), (2, 1), (3, 3)])
    clean, marks = take_out("<b>北京</b>我爱。")
    assert put_back("I love Beijing.", marks, clean, cov) == "I love <b>Beijing</b>."


def test_marks_at_the_start_and_end_and_without_links():
    clean, marks = take_out("😀你好。🎉")
    cov = links(["你好", "。"], ["Hello", "."], [(0, 0), (1, 1)])
    assert put_back("Hello.", marks, clean, cov) == "😀Hello. 🎉"
    clean, marks = take_out("<i>你好</i>世界<br>")
    assert put_back("Hello world.", marks, clean, None) == "<i>Hello world.</i><br>"
    # a pair whose words link to nothing stays, empty, where its words were
    clean, marks = take_out("我去<i>北京</i>看朋友。")
    cov = links(["我", "去", "北京", "看", "朋友", "。"], ["I", "see", "a", "friend", "."], [(0, 0), (3, 1), (4, 3)])
    assert put_back("I see a friend.", marks, clean, cov) == "I<i></i> see a friend."


@pytest.fixture(scope="module")
def models():
    from seq2seq import Translator

    return Translator.load("zh-en"), Translator.load("en-zh")


def test_the_shipped_models_carry_markup_and_emoji(models):
    zh_en, en_zh = models
    t = zh_en.translate('<a href="https://example.cn">苹果</a>发布了新手机。😊')[0]
    assert t.text.startswith('<a href="https://example.cn">Apple</a> ') and t.text.endswith(" 😊")
    assert "<" not in "".join(t.source_tokens[:-1]) and "😊" not in "".join(t.source_tokens)
    t = en_zh.translate("Where is the <i>train station</i>? 🙏🏽")[0]
    assert "<i>" in t.text and "</i>" in t.text and t.text.endswith("🙏🏽") and "unk" not in t.text
    assert zh_en.translate("👍")[0].text == "👍"
