"""seq2seq.text: sentence splitting, language checks, reading text files."""

import pytest

from seq2seq.text import (
    InputEncodingError,
    chunk,
    decode_utf8,
    group_by_line,
    han_fraction,
    looks_chinese,
    plain_doc,
    read_lines,
    split_lines,
    split_sentences,
)


def test_split_sentences_keeps_final_punctuation_and_drops_blank_pieces():
    assert split_sentences("我喜欢苹果。你呢？  好！") == ["我喜欢苹果。", "你呢？", "好！"]
    assert split_sentences("   ") == []


def test_chunk_cuts_long_sentences_into_equal_parts():
    parts = chunk("一二三四五六七八九十。", max_chars=4)
    assert "".join(parts) == "一二三四五六七八九十。" and all(len(p) <= 4 for p in parts)
    assert chunk("短句。长一点的句子。", max_chars=100) == ["短句。", "长一点的句子。"]


def test_han_fraction_counts_letters_only():
    assert han_fraction("我爱你") == 1.0
    assert han_fraction("I love 北京") == pytest.approx(2 / 7)
    assert han_fraction("123 !!") == 0.0
    assert (
        looks_chinese("我用iPhone拍照") and not looks_chinese("我用iPhone") and not looks_chinese("I use an iPhone 15")
    )


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
