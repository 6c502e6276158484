"""Issue 40: pieces cut at given words, the source-side null, articles, the readings, two scorings, long pairs."""

import dataclasses

import numpy as np
import pytest
from helpers import placeholder_translator

from seq2seq.aer import GoldAlignment, alignment_error_rate, parse_gold_line, possible_as_sure, recall_by_part
from seq2seq.align import READINGS, AlignMethod, piece_alignment, reading, with_articles
from seq2seq.gold_eval import join_groups, join_links, join_set, pair_chars, scores, word_positions
from seq2seq.word_pieces import spell, split_at_words
from seq2seq.words import char_words, pieces_to_words


class FakeSP:
    """A unigram vocabulary: piece -> log-probability (ids in insertion order after <unk>)."""

    def __init__(self, scores: dict):
        self.pieces = ["<unk>"] + list(scores)
        self.scores = [0.0] + list(scores.values())

    def piece_to_id(self, piece):
        return self.pieces.index(piece) if piece in self.pieces else 0

    def id_to_piece(self, pid):
        return self.pieces[pid]

    def get_score(self, pid):
        return self.scores[pid]

    def is_unknown(self, pid):
        return pid == 0

    def is_control(self, pid):
        return False

    def is_unused(self, pid):
        return False

    def is_byte(self, pid):
        return self.pieces[pid].startswith("<0x")


SP = FakeSP({"▁": -1.0, "提出的": -5.0, "提出": -6.0, "的": -2.0, "提": -9.0, "出": -9.0, "日电": -5.0, "日": -3.0,
             "电": -4.0, "22": -3.0, "▁他说": -5.0, "▁他": -4.0, "说": -3.0})  # fmt: skip


# ---------------------------------------------------------------------------------------------- pieces cut at words
def test_spell_takes_the_best_scoring_pieces_and_none_when_it_cannot():
    assert spell("提出", SP) == ["提出"]  # -6 beats 提 + 出 (-18)
    assert spell("▁他", SP) == ["▁他"]
    assert spell("提出了", SP) is None  # 了 is not in the vocabulary


def test_char_words_give_each_character_its_word():
    assert char_words(["▁", "提出的", "22", "日电"], ["提出", "的", "22日", "电"]) == [
        [None],
        [0, 0, 1],
        [2, 2],
        [2, 3],
    ]


def test_a_piece_straddling_given_words_is_respelt_word_by_word():
    pieces = ["▁他说", "提出的", "22", "日电", "</s>"]
    words = ["他", "说", "提出", "的", "22日", "电"]
    cut = split_at_words(pieces, words, SP)
    assert cut == ["▁他", "说", "提出", "的", "22", "日", "电", "</s>"]
    assert all(len(ws) <= 1 for ws in pieces_to_words(cut, words))
    # Pieces within one word, </s>, and a run the vocabulary cannot spell are left as they are.
    assert split_at_words(["▁", "提出的"], ["提出的"], SP) == ["▁", "提出的"]
    assert split_at_words(["提出了"], ["提出", "了"], FakeSP({"提出了": -1.0, "提出": -1.0})) == ["提出了"]
    # A placeholder piece (it carries other text) is never cut.
    assert split_at_words(["⟦0⟧", "电"], ["22日", "电"], SP, shown=["22日", "电"]) == ["⟦0⟧", "电"]


def test_the_aligner_reads_given_words_in_pieces_that_never_straddle_them():
    tr = placeholder_translator()
    zh, en = ["我们 会 吃 苹果 吗 ？"], ["Will we eat apples ?"]
    plain = tr.align(zh, en, pretokenized=True)[0]
    assert any(len(ws) > 1 for ws in plain.source_piece_words)  # sentencepiece spells 我们会 as one piece
    method = dataclasses.replace(tr.align_method, word_pieces=True)
    cut = tr.align(zh, en, pretokenized=True, method=method)[0]
    assert all(len(ws) <= 1 for ws in cut.source_piece_words)
    assert cut.source_words == plain.source_words and "".join(cut.source_tokens) == "".join(plain.source_tokens)
    # Words not given (Chinese characters as units): the pieces stay as sentencepiece spells them.
    assert tr.align(["我们会吃苹果吗？"], ["Will we eat apples?"], method=method)[0].source_tokens[:2] == [
        p for p in plain.source_tokens[:2]
    ]


# ---------------------------------------------------------------------------------------------- the source-side null
def test_a_source_piece_no_target_piece_attends_to_links_nothing_when_read_both_ways():
    src, tgt = ["我", "的", "书", "</s>"], ["▁my", "▁book", "</s>"]
    att = np.array(
        [
            [0.90, 0.06, 0.02, 0.02],  # my -> 我
            [0.05, 0.04, 0.90, 0.01],  # book -> 书
            [0.10, 0.10, 0.10, 0.70],  # </s>
        ]
    )
    grow = AlignMethod(0, 0, symmetrize="grow-diag")
    assert (1, 0) in piece_alignment(src, tgt, att, method=grow)  # 的 takes its most attentive word
    null = dataclasses.replace(grow, min_source_weight=0.1)
    assert piece_alignment(src, tgt, att, method=null) == [(0, 0), (2, 1)]


# ---------------------------------------------------------------------------------------------- articles
def test_an_unlinked_article_takes_the_links_of_the_word_after_it():
    src, tgt = ["美国", "人", "。", "</s>"], ["▁The", "▁United", "▁States", ".", "</s>"]
    assert with_articles({(0, 1), (0, 2), (2, 3)}, src, tgt) == {(0, 0), (0, 1), (0, 2), (2, 3)}
    # Only the next word: "the ." takes nothing from the full stop; a linked article keeps its own link.
    assert with_articles({(2, 1)}, src, ["▁the", ".", "</s>"]) == {(2, 1)}
    assert with_articles({(1, 0), (0, 1)}, src, tgt) == {(1, 0), (0, 1)}
    # On the source side (English read by an en-zh model) alike.
    assert with_articles({(1, 0)}, ["▁the", "▁Unit", "ed", "</s>"], ["美国", "</s>"]) == {(1, 0), (0, 0)}


# ---------------------------------------------------------------------------------------------- the two readings
def test_the_readings_and_the_folder_keys():
    head = AlignMethod.from_config({"method": "head", "layer": 2, "head": 0, "shift": True, "null_to_eos": True})
    full, precise = reading(head, "full"), reading(head, "precise")
    assert (full.symmetrize, full.min_source_weight, full.articles, full.word_pieces) == ("grow-diag", 0.1, True, True)
    assert precise.symmetrize == "intersection" and not precise.articles and precise.null_to_eos
    assert "articles" in full.name and "pieces cut at given words" in full.name and "source weight" in full.name
    with pytest.raises(ValueError, match="reading must be one of"):
        reading(head, "loose")
    folder = {"method": "head", "layer": 2, "head": 0, "shift": True, "null_to_eos": True, **READINGS["full"]}
    assert AlignMethod.from_config(folder) == dataclasses.replace(full, label=full.label)


# ---------------------------------------------------------------------------------------------- two scorings
def test_possible_links_counted_as_sure():
    gold = [parse_gold_line("0-0 1p1 2p2")]
    hyp = [[(0, 0), (1, 1)]]
    assert alignment_error_rate(hyp, gold).aer == 0.0  # a possible link is never wrong, never missed
    as_sure = alignment_error_rate(hyp, possible_as_sure(gold))
    assert as_sure.recall == pytest.approx(2 / 3) and as_sure.aer == pytest.approx(1 - 4 / 5)


def test_recall_by_third_of_the_sentence():
    gold = [GoldAlignment({(0, 0), (1, 1), (2, 2)}, {(0, 0), (1, 1), (2, 2)})]
    assert recall_by_part([[(0, 0), (2, 2)]], gold, [[0.0, 0.4, 0.9]]) == [1.0, 0.0, 1.0]


# ---------------------------------------------------------------------------------------------- long pairs
def test_consecutive_pairs_joined_into_long_ones():
    # lengths 100 each: 3 pairs make 302 characters (with the spaces between them); 4 runs of 3 from 12 pairs
    assert join_groups([100] * 12) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]
    assert join_groups([650, 100, 250, 60, 10]) == [[1, 2]]  # 650 + 100 is too long; 60 + 10 too short
    assert join_groups([200] * 3, max_pairs=4) == [[0, 1]]
    assert pair_chars(["中国", "人"], ["Chinese", "people"]) == 14


def test_the_long_gold_and_links_read_one_by_one_are_offset_alike():
    zh, en = ["甲 乙", "丙"], ["a b c", "d"]
    gold = [parse_gold_line("0-0 1p2"), parse_gold_line("0-0")]
    long_zh, long_en, long_gold = join_set(zh, en, gold, [[0, 1]])
    assert long_zh == ["甲 乙 丙"] and long_en == ["a b c d"]
    assert long_gold[0].sure == {(0, 0), (2, 3)} and long_gold[0].possible == {(0, 0), (1, 2), (2, 3)}
    assert join_links([[(1, 1)], [(0, 0)]], zh, en) == [(1, 1), (2, 3)]
    assert word_positions("甲 乙乙 丙") == [0.0, 0.25, 0.75]


def test_scores_count_numbers_and_the_words_annotators_leave_unaligned():
    zh, en = ["22日 电 新华社"], ["Xinhua , 22"]
    gold = [parse_gold_line("0-2 2-0")]
    row = scores([[(0, 2), (1, 2), (2, 0)]], gold, zh, en)
    assert row["number_precision"] == pytest.approx(1 / 2)  # 电-22 is wrong
    assert row["unaligned_linked"] == 1.0  # 电, the one word left unaligned, got a link
    assert row["aer"] == pytest.approx(1 - 4 / 5) and row["thirds"] == [1.0, 1.0, 0.0]  # 新华社 starts at 4/7


def test_seq2seq_align_names_the_readings():
    from types import SimpleNamespace

    from seq2seq.cli import parse_method

    head = AlignMethod.from_config({"method": "head", "layer": 2, "head": 0, **READINGS["full"]})
    shape = SimpleNamespace(n_dec_layers=4, n_heads=4)
    tr = SimpleNamespace(config=SimpleNamespace(alignment={"method": "head"}, model=shape), align_method=head)
    assert parse_method("precise", tr) == reading(head, "precise") and parse_method("full", tr) == head
    headless = SimpleNamespace(config=SimpleNamespace(alignment=None, model=shape), align_method=head)
    with pytest.raises(ValueError, match="no alignment head"):
        parse_method("precise", headless)


def test_piece_links_of_consecutive_pairs_move_onto_the_joined_pieces():
    from seq2seq.corpus_align import join_piece_links

    # 你 + 好 of the second pair are one piece 你好 once joined: it takes both their links
    links = join_piece_links(
        [[(0, 0)], [(0, 1), (1, 0)]],
        [["▁我", "。"], ["▁你", "好"]],
        [["▁I", "."], ["▁Hi", "▁you"]],
        ["▁我", "。", "你好"],
        ["▁I", ".", "▁Hi", "▁you"],
    )
    assert links == [(0, 0), (2, 2), (2, 3)]


def test_a_run_with_the_alignment_loss_writes_the_full_reading_into_its_folder():
    from helpers import ROOT

    from seq2seq.model import ModelConfig
    from seq2seq.training.checkpoints import run_folder_config
    from seq2seq.training.config import load_config

    cfg = load_config(str(ROOT / "configs" / "tiny.yaml"), ["alignment.weight=0.5"])
    alignment = run_folder_config(cfg, ModelConfig(src_vocab_size=40, tgt_vocab_size=48), {}).alignment
    assert {k: alignment[k] for k in READINGS["full"]} == READINGS["full"]
    assert AlignMethod.from_config(alignment) == reading(AlignMethod.from_config(alignment), "full")
