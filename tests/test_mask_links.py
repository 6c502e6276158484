"""A masked training pair keeps its alignment links: each link moved onto the pieces of the masked text by
characters (``training.data.place_masked_links``, ``corpus_align.move_piece_links``).

The tokenizers are tiny sentencepiece models trained on sentences written here, so every piece below is known:
names and numbers are unseen by the Chinese model (byte pieces, one per letter) and spelt letter by letter by the
English one, so a span of several pieces collapses onto one placeholder piece on both sides."""

from __future__ import annotations

import itertools

import pytest

from seq2seq.corpus_align import move_piece_links
from seq2seq.placeholders import add_placeholder_pieces
from seq2seq.tokenizer import SubwordTokenizer, train_tokenizers
from seq2seq.training.data import MaskedLinks, mask_training_pairs, place_masked_links

WHO = [("他", "He"), ("她", "She"), ("我们", "We"), ("他们", "They")]
VERB = [("工作", "works"), ("说话", "talks"), ("吃饭", "eats")]
PLACE = [("北京", "Beijing"), ("上海", "Shanghai"), ("学校", "school")]
SENTENCES = list(itertools.product(WHO, WHO, VERB, PLACE))
ZH = [f"{a}说{b}在{p}{v}。" for (a, _), (b, _), (v, _), (p, _) in SENTENCES]
EN = [f"{a} said {b.lower()} {v} at {p}." for (_, a), (_, b), (_, v), (_, p) in SENTENCES]


@pytest.fixture(scope="module")
def protos() -> tuple[bytes, bytes]:
    """(Chinese, English) sentencepiece models of the sentences above, without placeholder pieces."""
    return train_tokenizers(ZH, EN, 300, 70)


@pytest.fixture(scope="module")
def toks(protos) -> tuple[SubwordTokenizer, SubwordTokenizer]:
    """(Chinese, English) tokenizers with 4 placeholder pieces, Chinese Traditional -> Simplified, as training has
    them."""
    zh, en = (add_placeholder_pieces(p, 4) for p in protos)
    return SubwordTokenizer(zh, t2s=True), SubwordTokenizer(en)


def block(src, tgt) -> list[tuple[int, int]]:
    """Every source piece of ``src`` linked to every target piece of ``tgt`` (how unit links reach pieces)."""
    return [(i, j) for i in src for j in tgt]


def masked_and_placed(pair, links, src_tok, tgt_tok, src_lang="zh"):
    """The pair masked and its links placed, as ``load_run_data`` does it; and what the two steps logged."""
    lines: list[str] = []
    pairs, masked = mask_training_pairs([pair], [links], src_lang, 4, lines.append)
    return pairs[0], place_masked_links(pairs, masked, src_tok, tgt_tok, lines.append)[0], lines


def pieces(tok, text) -> list[str]:
    return tok.encode_pieces([text])[0]


def test_links_move_onto_the_placeholder_pieces(toks):
    zh, en = toks
    src, tgt = "他说Frank在KGO工作。", "He said Frank works at KGO."
    # fmt: off
    assert pieces(zh, src) == ["▁", "他", "说", "<0x46>", "<0x72>", "<0x61>", "<0x6E>", "<0x6B>", "在",
                               "<0x4B>", "<0x47>", "<0x4F>", "工", "作", "。"]
    assert pieces(en, tgt) == ["▁", "H", "e", "▁s", "ai", "d", "▁", "F", "r", "a", "n", "k", "▁w", "o", "r", "k", "s",
                               "▁", "at", "▁", "KGO", "."]
    links = (
        block([1], [1, 2]) + block([2], [3, 4, 5])  # 他 He, 说 said
        + block(range(3, 8), range(7, 12))  # Frank Frank: 5 x 5 pieces
        + [(8, 18)] + block([9, 10, 11], [20])  # 在 at, KGO KGO
        + block([12, 13], range(12, 17)) + [(14, 21)]  # 工作 works, 。 .
        + [(1, 7)]  # 他 Frank: a link into a span
        + [(0, 0)]  # "▁" with "▁": no character to place it by
    )
    # fmt: on
    (ms, mt), placed, log = masked_and_placed((src, tgt), links, zh, en)
    assert (ms, mt) == ("他说⟦0⟧在⟦1⟧工作。", "He said ⟦0⟧ works at ⟦1⟧.")
    assert pieces(zh, ms) == ["▁", "他", "说", "⟦0⟧", "在", "⟦1⟧", "工", "作", "。"]
    assert pieces(en, mt) == ["▁", "H", "e", "▁s", "ai", "d", "▁", "⟦0⟧", "▁w", "o", "r", "k", "s", "▁", "at", "▁",
                              "⟦1⟧", "."]  # fmt: skip
    assert placed == sorted(
        block([1], [1, 2]) + block([2], [3, 4, 5])
        + [(3, 7)]  # the 25 links of Frank: one, between the placeholder pieces
        + [(4, 14), (5, 16)]
        + block([6, 7], range(8, 13)) + [(8, 17)]
        + [(1, 7)]  # 他 to the placeholder of Frank
    )  # fmt: skip
    assert log == [
        "data: 1 pairs (100.0%) carry names or numbers as placeholders",
        "data: 1 of 1 masked pairs with links keep them on the placeholder pieces",
    ]


def test_traditional_characters_and_byte_pieces_keep_their_links(toks):
    """The links were made on the tokenizer's pieces, which read 臺灣 as 台湾 (t2s), and both texts are split the
    same way: the six byte pieces of 台湾 keep their links, at their new places."""
    zh, en = toks
    src, tgt = "她說Frank在臺灣工作。", "She said Frank works in Taiwan."
    assert pieces(zh, src)[8:15] == ["在", "<0xE5>", "<0x8F>", "<0xB0>", "<0xE6>", "<0xB9>", "<0xBE>"]
    assert pieces(en, tgt)[16:] == ["▁", "i", "n", "▁", "T", "ai", "w", "a", "n", "."]
    links = block([2], [2, 3, 4]) + block(range(3, 8), range(6, 11)) + block(range(9, 15), range(20, 25))
    (ms, mt), placed, _ = masked_and_placed((src, tgt), links, zh, en)
    assert pieces(zh, ms)[2:11] == ["说", "⟦0⟧", "在", "<0xE5>", "<0x8F>", "<0xB0>", "<0xE6>", "<0xB9>", "<0xBE>"]
    assert pieces(en, mt)[5:] == ["▁", "⟦0⟧", "▁w", "o", "r", "k", "s", "▁", "i", "n", "▁", "T", "ai", "w", "a", "n",
                                  "."]  # fmt: skip
    assert placed == block([2], [2, 3, 4]) + [(3, 6)] + block(range(5, 11), range(16, 21))


def test_an_amount_lands_on_its_placeholder_on_both_sides(toks):
    """3万 is carried as 30,000: the source's pieces of 3万 and the target's of 30,000 meet at the placeholders."""
    zh, en = toks
    src, tgt = "他说3万人在北京工作。", "He said 30,000 works at Beijing."
    assert pieces(zh, src)[3:10] == ["<0x33>", "<0xE4>", "<0xB8>", "<0x87>", "<0xE4>", "<0xBA>", "<0xBA>"]  # 3 万 人
    assert pieces(en, tgt)[6:8] == ["▁", "30,000"]  # an unknown piece, spelt as the text has it
    links = block(range(3, 7), [7]) + block([10], [14])  # 3万 30,000, 在 at
    (ms, mt), placed, _ = masked_and_placed((src, tgt), links, zh, en)
    assert (ms, mt) == ("他说⟦0⟧人在北京工作。", "He said ⟦0⟧ works at Beijing.")
    assert placed == [(3, 7), (7, 14)]


def test_english_source_masks_only_what_chinese_keeps_in_latin(toks):
    """en-zh: KGO becomes a placeholder, Frank stays text (Chinese writes 弗兰克), and its links stay on its pieces."""
    zh, en = toks
    src, tgt = "He said Frank works at KGO.", "他说Frank在KGO工作。"
    links = block([1, 2], [1]) + block(range(7, 12), range(3, 8)) + block([20], [9, 10, 11]) + [(21, 14)]
    (ms, mt), placed, _ = masked_and_placed((src, tgt), links, en, zh, src_lang="en")
    assert (ms, mt) == ("He said Frank works at ⟦0⟧.", "他说Frank在⟦0⟧工作。")
    assert placed == block([1, 2], [1]) + block(range(7, 12), range(3, 8)) + [(20, 9), (21, 12)]


def test_a_pair_without_spans_keeps_its_links_unchanged(toks):
    zh, en = toks
    links = block([1], [1, 2]) + [(5, 16), (6, 17)]
    (ms, mt), placed, log = masked_and_placed(("他说他在北京工作。", "He said he works at Beijing."), links, zh, en)
    assert (ms, mt) == ("他说他在北京工作。", "He said he works at Beijing.")
    assert placed is links
    assert log == ["data: 0 pairs (0.0%) carry names or numbers as placeholders"]  # nothing to place, no line


def test_moving_links_onto_the_same_pieces_changes_nothing():
    src, tgt = ["▁他", "说", "话", "。"], ["▁He", "▁talk", "s", "."]
    links = [(0, 0), (1, 1), (1, 2), (2, 1), (2, 2), (3, 3)]
    assert move_piece_links(links, src, tgt, src, tgt) == links
    assert move_piece_links([(0, 0), (9, 0), (0, 9)], src, tgt, src, tgt) == [(0, 0)]  # past the end: dropped


def test_links_with_nowhere_to_go_leave_none(toks):
    """A masked pair whose only link has no character to place it by keeps no links (None, not []), and a masked
    pair that had no links is left as it was."""
    zh, en = toks
    pair = ("他说Frank在KGO工作。", "He said Frank works at KGO.")
    _, placed, log = masked_and_placed(pair, [(0, 0)], zh, en)
    assert placed is None
    assert log[-1] == "data: 0 of 1 masked pairs with links keep them on the placeholder pieces"
    pairs, masked = mask_training_pairs([pair, pair], [None, [(1, 1)]], "zh", 4, lambda line: None)
    assert masked[0] is None and masked[1] == MaskedLinks([(1, 1)], *pair, ["Frank", "KGO"])
    assert place_masked_links(pairs, masked, zh, en, lambda line: None) == [None, [(1, 1)]]


def test_a_run_trains_on_the_placed_links(tmp_path, protos):
    """``load_run_data``: the links file's links of a masked pair reach the run over the pieces it trains on."""
    from seq2seq.corpus_align import tokenizer_fingerprint, write_links, write_meta
    from seq2seq.training.data import load_run_data
    from seq2seq.training.runtime import Dist
    from seq2seq.training.settings import TrainConfig

    (tmp_path / "zh.model").write_bytes(protos[0])
    (tmp_path / "en.model").write_bytes(protos[1])
    (tmp_path / "toy.zh").write_text("他说Frank在KGO工作。\n他说他在北京工作。\n", encoding="utf-8")
    (tmp_path / "toy.en").write_text("He said Frank works at KGO.\nHe said he works at Beijing.\n", encoding="utf-8")
    write_links(tmp_path / "toy.links", [block(range(3, 8), range(7, 12)) + [(8, 18)], [(4, 14)]])
    write_meta(tmp_path, tokenizer_fingerprint(*protos), "words", "grow-diag-final-and", {})
    source = {"name": "toy", "src": str(tmp_path / "toy.zh"), "tgt": str(tmp_path / "toy.en")}
    models = {"src_model": str(tmp_path / "zh.model"), "tgt_model": str(tmp_path / "en.model")}
    cfg = TrainConfig.from_dict(
        {
            "data": {"train": [source | {"links": str(tmp_path / "toy.links")}]},
            "tokenizer": {"train": False, "placeholders": 4} | models,
            "alignment": {"weight": 0.5},
        }
    )
    lines: list[str] = []
    data = load_run_data(cfg, tmp_path / "run", None, Dist(), lines.append)
    assert data.links == [[(3, 7), (4, 14)], [(4, 14)]]
    assert data.src_tok.ids_to_pieces(data.src_ids[0][3:5]) == ["⟦0⟧", "在"]
    assert data.tgt_tok.ids_to_pieces([data.tgt_ids[0][k] for k in (7, 14)]) == ["⟦0⟧", "at"]
    assert "data: 1 of 1 masked pairs with links keep them on the placeholder pieces" in lines
