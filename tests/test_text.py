"""seq2seq.text: sentence splitting, language checks, reading text files."""

import pytest

from seq2seq.text import (
    InputEncodingError,
    chunk,
    decode_utf8,
    group_by_line,
    looks_like,
    plain_doc,
    read_lines,
    split_lines,
    split_sentences,
)


def test_split_sentences_keeps_final_punctuation_and_drops_blank_pieces():
    assert split_sentences("我喜欢苹果。你呢？  好！", "zh") == ["我喜欢苹果。", "你呢？", "好！"]
    assert split_sentences("   ", "zh") == []


def test_a_full_stop_and_its_closing_quote_end_a_sentence_where_a_new_one_can_start():
    assert split_sentences("他说：“走吧。”然后他走了。", "zh") == ["他说：“走吧。”", "然后他走了。"]
    # tokenized text (the gold sets): the quote after a space stays with its sentence
    assert split_sentences("他 说 ： “ 走 吧 。 ” 然后 他 走 了 。", "zh") == [
        "他 说 ： “ 走 吧 。 ”",
        "然后 他 走 了 。",
    ]
    assert split_sentences("He said , `` go . '' Then he left .", "en") == ["He said , `` go . ''", "Then he left ."]
    # an exclamation or question inside quotes or brackets goes on
    for one, lang in (("“你好！”他说。", "zh"), ("他问（为什么？）然后走了。", "zh"), ('"No!" she said.', "en")):
        assert split_sentences(one, lang) == [one]
    assert split_sentences("He asked (why?) and left.", "en") == ["He asked (why?) and left."]


def test_english_is_split_into_sentences_as_english_separates_them():
    assert split_sentences("I like apples. The weather is nice today.", "en") == [
        "I like apples.",
        "The weather is nice today.",
    ]
    assert split_sentences('Mr. Smith met U.S. President Biden. He said "Yes." Then 3 left!', "en") == [
        "Mr. Smith met U.S. President Biden.",
        'He said "Yes."',
        "Then 3 left!",
    ]
    assert split_sentences("J. K. Rowling wrote it. e.g. this one", "en") == ["J. K. Rowling wrote it. e.g. this one"]
    assert split_sentences("我喜欢吃苹果。今天天气很好。", "en") == ["我喜欢吃苹果。", "今天天气很好。"]
    # Chinese input is split at Chinese full stops only
    assert split_sentences("I like apples. The weather is nice today.", "zh") == [
        "I like apples. The weather is nice today."
    ]


def test_chunk_cuts_long_sentences_into_equal_parts():
    parts = chunk("一二三四五六七八九十。", 4, "zh")
    assert "".join(parts) == "一二三四五六七八九十。" and all(len(p) <= 4 for p in parts)
    assert chunk("短句。长一点的句子。", 100, "zh") == ["短句。", "长一点的句子。"]
    assert chunk("I like apples. The weather is nice.", 100, "en") == ["I like apples.", "The weather is nice."]


def test_looks_like_counts_latin_names_in_chinese_as_neutral():
    assert looks_like("我爱你", "zh") and looks_like("我用iPhone", "zh") and looks_like("我用iPhone拍照", "zh")
    assert not looks_like("I use an iPhone 15", "zh") and not looks_like("123 !!", "zh")
    assert looks_like("I met 李明 in 北京 yesterday.", "en") and not looks_like("我昨天在北京见了 Li Ming。", "en")
    assert not looks_like("123 !!", "en") and not looks_like("我爱你", "en")


def test_decode_utf8_names_the_encoding_to_convert_from():
    assert decode_utf8("\ufeff你好".encode("utf-8"), "x") == "你好"  # the BOM is dropped
    with pytest.raises(InputEncodingError, match="GBK"):
        decode_utf8("你好".encode("gbk"), "in.zh")
    with pytest.raises(InputEncodingError, match="UTF-16"):
        decode_utf8("你好".encode("utf-16"), "in.zh")
    with pytest.raises(InputEncodingError, match="NUL"):
        decode_utf8("ab".encode("utf-16-le"), "in.zh")


def test_split_lines_keeps_one_line_per_input_line(tmp_path):
    assert split_lines("a\r\nb\rc\n\nd") == ["a", "b c", "", "d"]
    assert split_lines("a\n") == ["a"] and split_lines("") == []
    (tmp_path / "f").write_bytes("一\r\n二\n".encode())
    assert read_lines(tmp_path / "f") == ["一", "二"]
    with pytest.raises(FileNotFoundError, match="missing"):
        read_lines(tmp_path / "missing")


def test_plain_doc_and_group_by_line():
    assert (
        plain_doc("Use ``seq2seq-align`` and :func:`~seq2seq.align.pharaoh`.")
        == "Use seq2seq-align and seq2seq.align.pharaoh."
    )
    assert group_by_line(["a", "b", "c"], [0, 0, 2], 3) == [["a", "b"], [], ["c"]]


def test_tidy_chinese_uses_chinese_punctuation_and_no_spaces_between_characters():
    from seq2seq.text import tidy_chinese

    assert tidy_chinese("火车在哪里?") == "火车在哪里？"
    assert tidy_chinese("公司报道,2023年的收入为3.5亿美元.") == "公司报道，2023年的收入为3.5亿美元。"
    assert tidy_chinese("美国 总统 说: 你好!") == "美国总统说：你好！"
    assert tidy_chinese("U.S.经济增长了2.5%") == "U.S.经济增长了2.5%"  # between Latin letters or digits: kept
    assert tidy_chinese("我用iPhone 15 Pro,很好") == "我用iPhone 15 Pro，很好"
    assert tidy_chinese("Hello, world.") == "Hello, world."


def test_join_parts_drops_the_full_stop_where_the_source_did_not_end():
    from types import SimpleNamespace as T

    from seq2seq.text import join_parts

    parts = [
        T(text="The state supports enterprises.", source_text="国家支持企业"),
        T(text="and asks them.", source_text="并要求它们。"),
    ]
    assert join_parts(parts, "en") == "The state supports enterprises and asks them."
    sentences = [T(text="It rains.", source_text="下雨了。"), T(text="Go home.", source_text="回家吧！")]
    assert join_parts(sentences, "en") == "It rains. Go home."
    quoted = [
        T(text='He said "good."', source_text="他 说 ： “ 好 。 ”"),
        T(text="Then he left.", source_text="然后 走 了 。"),
    ]
    assert join_parts(quoted, "en") == 'He said "good." Then he left.'  # a tokenized source ended with its quote
    zh = [T(text="下雨了。", source_text="It rains."), T(text="回家吧。", source_text="Go home.")]
    assert join_parts(zh, "zh") == "下雨了。回家吧。"
    assert join_parts([T(text="他说", source_text="he said, and")] + zh[1:], "zh") == "他说回家吧。"
