"""Placeholders (seq2seq.placeholders) and the copy rate (seq2seq.copyrate): hand-made cases, the masking of
training pairs, the placeholder pieces in a tokenizer, and the round trip through translation and alignment."""

import pytest
import sentencepiece as spm
from helpers import placeholder_translator as tiny_placeholder_translator
from helpers import sample_pairs

from seq2seq.copyrate import copy_rate, copy_tokens
from seq2seq.placeholders import (
    add_placeholder_pieces,
    english_amount,
    find_spans,
    label_pieces,
    mask_like,
    mask_pair,
    mask_source,
    placeholder,
    restore,
    source_forms,
    strip_placeholder_pieces,
    unlabel_pieces,
)
from seq2seq.tokenizer import train_tokenizers


def test_spans_names_numbers_urls_and_emails():
    text = (
        "苹果公司的CEO蒂姆·库克在2023年访问 https://www.example.com/a?b=1 并发邮件到 info@abc.org ，"
        "GPT-4 售价26,750美元。"
    )
    spans = [text[a:b] for a, b in find_spans(text)]
    assert spans == ["CEO", "2023", "https://www.example.com/a?b=1", "info@abc.org", "GPT-4", "26,750"]


def test_a_latin_name_in_chinese_text_is_one_span():
    text = "受害人的哥哥 Louis Galicia 对 KGO 表示，Frank 在 Sons & Daughters 餐馆工作，GPT 4 和 iPhone 15 Pro。"
    spans = [text[a:b] for a, b in find_spans(text)]
    # a word, then a capitalised word after a space or " & ": one name; a number after a word is not a name's
    assert spans == ["Louis Galicia", "KGO", "Frank", "Sons & Daughters", "GPT", "4", "iPhone", "15", "Pro"]
    masked, carried = mask_source("Louis Galicia 称 Frank 起初住在招待所里。")
    assert masked == f"{placeholder(0)} 称 {placeholder(1)} 起初住在招待所里。" and carried == [
        "Louis Galicia",
        "Frank",
    ]
    en = "Louis Galicia said the CEO of OpenAI"  # English text: each span stands alone, as before
    assert [en[a:b] for a, b in find_spans(en, "en")] == ["CEO", "OpenAI"]


def test_numbers_before_chinese_units_and_months_are_left_to_the_model():
    text = "约3万人，1,234亿美元，3月15日"
    assert [text[a:b] for a, b in find_spans(text)] == ["15"]  # 3万 is 30,000, 3月 is March: the model converts them
    masked, spans = mask_source("他将于3月15日会见习近平。")
    assert masked == f"他将于3月{placeholder(0)}日会见习近平。" and spans == ["15"]
    assert mask_source("3月3日") == (f"3月{placeholder(0)}日", ["3"])  # by position: the month stays text


@pytest.mark.parametrize(
    "number, unit, english",
    [
        ("150", "万", "1.5 million"),
        ("3", "万", "30,000"),
        ("1,234", "亿", "123.4 billion"),
        ("14", "亿", "1.4 billion"),
        ("10", "万亿", "10 trillion"),
        ("2.5", "亿", "250 million"),
        ("1.5", "万", "15,000"),
        ("1200", "万", "12 million"),
        ("0.5", "万", "5,000"),
        ("100", "万", "1 million"),
    ],
)
def test_amounts_in_english(number, unit, english):
    assert english_amount(number, unit) == english


def test_amounts_are_carried_as_their_english_in_source_order():
    masked, spans = mask_source("该公司在2023年的营收为1,234亿美元，约3万人，3月15日。")
    assert (
        masked == f"该公司在{placeholder(0)}年的营收为{placeholder(1)}，约{placeholder(2)}人，3月{placeholder(3)}日。"
    )
    assert spans == ["2023", "$123.4 billion", "30,000", "15"]  # US dollars: the placeholder takes the currency
    assert source_forms(spans) == ["2023", "1,234亿美元", "3万", "15"]
    assert (
        restore(f"In {placeholder(0)}, revenue was {placeholder(1)}.", spans) == "In 2023, revenue was $123.4 billion."
    )
    # the source side of a map shows the Chinese, the output side the English; both give the model's pieces back
    src = label_pieces(["▁营收", placeholder(1), "。"], source_forms(spans))
    tgt = label_pieces(["▁", placeholder(1)], spans)
    assert src == ["▁营收", "1,234亿美元", "。"] and tgt == ["▁", "$123.4 billion"]
    assert unlabel_pieces(src, spans) == ["▁营收", placeholder(1), "。"]
    assert unlabel_pieces(tgt, spans) == ["▁", placeholder(1)]
    assert mask_source("3万元")[1] == ["30,000"]  # other currencies stay text, for the model
    assert mask_source("1,234亿", lang="en") == ("1,234亿", [])  # an English source has no Chinese amounts


def test_mask_pair_masks_an_amount_where_the_target_has_its_english():
    assert mask_pair("中国有14亿人口。", "China has a population of 1.4 billion.") == (
        f"中国有{placeholder(0)}人口。",
        f"China has a population of {placeholder(0)}.",
        ["1.4 billion"],
    )
    assert mask_pair("中国有14亿人口。", "China has 1,400 million people.") == (
        "中国有14亿人口。",
        "China has 1,400 million people.",
        [],
    )
    assert mask_pair("营收为1,234亿美元。", "Revenue was $123.4 billion.") == (
        f"营收为{placeholder(0)}。",
        f"Revenue was {placeholder(0)}.",
        ["$123.4 billion"],
    )
    assert mask_pair("营收为1,234亿美元。", "Revenue was US$123.4 billion.")[2] == []


def test_english_source_keeps_only_what_chinese_keeps_in_latin_script():
    masked, spans = mask_source("Frank bought an iPhone 15 from the CEO of Apple, see www.apple.com.", "en")
    assert spans == ["iPhone", "15", "CEO", "www.apple.com"]
    assert "Frank" in masked and "Apple" in masked


def test_mask_pair_replaces_shared_spans_on_both_sides_consistently():
    src, tgt, spans = mask_pair("GPT-4和ChatGPT由OpenAI在2023年开发。", "OpenAI developed GPT-4 and ChatGPT in 2023.")
    assert spans == ["GPT-4", "ChatGPT", "OpenAI", "2023"]
    assert src == "⟦0⟧和⟦1⟧由⟦2⟧在⟦3⟧年开发。"
    assert tgt == "⟦2⟧ developed ⟦0⟧ and ⟦1⟧ in ⟦3⟧."
    assert mask_pair("GPT-4和ChatGPT由OpenAI在2023年开发。", "OpenAI developed GPT-4 and ChatGPT in 2023.") == (
        src,
        tgt,
        spans,
    )  # deterministic: no randomness in the rule


def test_mask_pair_leaves_spans_the_target_does_not_share():
    src, tgt, spans = mask_pair(
        "我们向 Frank 的家人和 CEO 表示哀悼。", "Our condolences to Frank's family and the chief."
    )
    assert spans == ["Frank"] and "CEO" in src and tgt == "Our condolences to ⟦0⟧'s family and the chief."
    assert mask_pair("今天天气很好。", "The weather is nice today.") == (
        "今天天气很好。",
        "The weather is nice today.",
        [],
    )
    # a span inside a longer token of the target is not shared ("15" in "2015")
    assert mask_pair("第15届", "in 2015")[2] == []


def test_restore_and_labels_round_trip():
    spans = ["Frank", "3.14"]
    assert restore("⟦0⟧ needs ⟦1⟧ and ⟦7⟧ more.", spans) == "Frank needs 3.14 and more."
    pieces = ["▁", "⟦0⟧", "'", "s", "▁pi", "▁", "⟦1⟧", "</s>"]
    labelled = label_pieces(pieces, spans)
    assert labelled == ["▁", "Frank", "'", "s", "▁pi", "▁", "3.14", "</s>"]
    assert unlabel_pieces(labelled, spans) == pieces
    assert mask_like("Frank's pi is 3.14", spans) == "⟦0⟧'s pi is ⟦1⟧"


def test_placeholder_pieces_keep_existing_ids_and_are_never_split():
    zh, en = sample_pairs()
    src, _ = train_tokenizers(zh, en, 400, 120)
    grown = add_placeholder_pieces(src, 4)
    before, after = spm.SentencePieceProcessor(model_proto=src), spm.SentencePieceProcessor(model_proto=grown)
    assert after.get_piece_size() == before.get_piece_size() + 4
    assert after.encode("我喜欢吃苹果。") == before.encode("我喜欢吃苹果。")
    assert after.encode("我叫⟦3⟧。", out_type=str)[1:3] == ["叫", "⟦3⟧"] or "⟦3⟧" in after.encode(
        "我叫⟦3⟧。", out_type=str
    )
    assert add_placeholder_pieces(grown, 4) == grown and strip_placeholder_pieces(grown) == src


def test_copy_rate_counts_latin_words_and_numbers_separately():
    sources = ["GPT-4和ChatGPT由OpenAI开发，2023年。", "我们向 Frank 的家人表示哀悼。", "约3万人参加。"]
    refs = [
        "GPT-4 and ChatGPT were developed by OpenAI in 2023.",
        "Condolences to Frank's family.",
        "About 30,000 people took part.",
    ]
    hyps = [
        "GP-4 and ChatGPT is developed by OpenAIs in 2023.",
        "Condolences to Frankrank's family.",
        "About 3 people.",
    ]
    assert copy_tokens(sources[0], refs[0]) == ["GPT-4", "ChatGPT", "OpenAI", "2023"]
    assert copy_tokens(sources[2], refs[2]) == []  # 3 is not 30,000
    rate = copy_rate(sources, refs, hyps)
    assert (rate.latin_copied, rate.latin_total, rate.number_copied, rate.number_total) == (1, 4, 1, 1)
    assert rate.latin == 0.25 and rate.as_dict()["number"] == 1.0
    assert copy_rate([], [], []).as_dict()["latin"] is None
    with pytest.raises(ValueError):
        copy_rate(["a"], [], [])


@pytest.fixture(scope="module")
def placeholder_translator():
    """A random tiny model whose tokenizers have placeholder pieces (its output is noise; prefixes force it)."""
    return tiny_placeholder_translator()


def test_translation_reads_placeholders_and_shows_the_spans(placeholder_translator):
    tr = placeholder_translator
    assert tr.codec.uses_placeholders
    t = tr.translate("我们向 Goldsmith 的家人表示哀悼。", beam_size=2, prefix="Goldsmith", max_len_b=3)[0]
    assert t.placeholders == ["Goldsmith"]
    assert "Goldsmith" in t.source_tokens and "⟦0⟧" not in "".join(t.source_tokens)
    assert t.target_tokens[:2] == ["▁", "Goldsmith"] or t.target_tokens[0] == "Goldsmith"
    assert t.text.startswith("Goldsmith") and "⟦" not in t.text
    assert t.cross_attention.shape[-2:] == (len(t.target_tokens), len(t.source_tokens))
    # the model read one placeholder piece where the text has the name
    own = tr.codec.src_tok.encode(["我们向 ⟦0⟧ 的家人表示哀悼。"])[0]
    assert len(t.source_tokens) == len(own) + 1


def test_alignment_maps_placeholder_rows_back_to_the_words(placeholder_translator):
    a = placeholder_translator.align(
        ["我们向 Frank 的家人表示哀悼。"], ["We mourn with Frank 's family ."], pretokenized=False
    )[0]
    assert "Frank" in a.source_tokens and "Frank" in a.target_tokens
    assert "Frank" in a.source_words and "Frank" in a.target_words
    j = a.target_tokens.index("Frank")
    assert a.target_piece_words[j] == [a.target_words.index("Frank")]


@pytest.mark.parametrize("beam", [1, 3])
def test_search_carries_every_source_placeholder_once(placeholder_translator, beam):
    """A random model rarely writes a placeholder by chance; the search constraint (constraints.carry) makes
    every source placeholder come out, each as often as the source has it, and no other."""
    t = placeholder_translator.translate("我们向 Goldsmith 和 GPT-4 表示哀悼。", beam_size=beam, max_len_b=30)[0]
    assert t.placeholders == ["Goldsmith", "GPT-4"]
    assert t.target_tokens.count("Goldsmith") == 1 and t.target_tokens.count("GPT-4") == 1
    assert not any("⟦" in p for p in t.target_tokens)
    assert "Goldsmith" in t.text and "GPT-4" in t.text


def test_an_amount_round_trips_through_translation_and_alignment(placeholder_translator):
    tr = placeholder_translator
    t = tr.translate("中国有14亿人口。", beam_size=2, prefix="China has 1.4 billion", max_len_b=3)[0]
    assert t.text.startswith("China has 1.4 billion") and "⟦" not in t.text
    assert "14亿" in t.source_tokens and "1.4 billion" in t.target_tokens
    a = tr.align(["中国有14亿人口。"], ["China has 1.4 billion people ."])[0]
    assert "14亿" in a.source_tokens and "1.4 billion" in a.target_tokens
    assert "14亿" in "".join(a.source_words) and "billion" in a.target_words


@pytest.mark.parametrize(
    "english, chinese",
    [
        ("$123.4 billion", "1,234亿美元"),
        ("123.4 billion dollars", "1,234亿美元"),
        ("5 billion yuan", "50亿元"),
        ("1.5 trillion US dollars", "1.5万亿美元"),
        ("2 trillion", "2万亿"),
        ("$5 million", "500万美元"),
        ("3.5 million yuan", "350万元"),
        ("12,345 million", "123.45亿"),
        ("2 thousand dollars", "2,000美元"),
        ("45 thousand", "4.5万"),
        ("0.5 billion", "5亿"),
    ],
)
def test_english_amounts_go_into_chinese_units(english, chinese):
    """English -> Chinese: an amount with a scale word is carried as its Chinese (万, 亿, 万亿), never 10x off."""
    masked, spans = mask_source(f"Revenue was {english} last year.", "en")
    assert masked == "Revenue was ⟦0⟧ last year." and spans == [chinese] and source_forms(spans) == [english]


def test_an_english_number_without_a_scale_word_is_copied():
    assert mask_source("In 2023 it sold 1,234 cars for $500.", "en")[1] == ["2023", "1,234", "500"]
