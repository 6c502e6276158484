"""seq2seq.aer: alignment error rate against sure and possible gold links."""

import pytest

from seq2seq.aer import alignment_error_rate, parse_gold_line, read_gold


def test_aer_against_hand_computed_values():
    gold = [parse_gold_line("0-0 1-1 1p2"), parse_gold_line("0-1 1p0")]
    # Sentence 1: A = {0-0, 1-2, 2-2}; sentence 2: A = {0-1, 1-1}.
    hyp = [[(0, 0), (1, 2), (2, 2)], [(0, 1), (1, 1)]]
    s = alignment_error_rate(hyp, gold)
    # |A| = 5, |S| = 3 (0-0, 1-1, 0-1), |A∩S| = 2 (0-0, 0-1), |A∩P| = 3 (0-0, 1-2, 0-1)
    assert s.links == 5
    assert s.aer == pytest.approx(1 - (2 + 3) / (5 + 3))
    assert s.precision == pytest.approx(3 / 5) and s.recall == pytest.approx(2 / 3)
    assert alignment_error_rate([[(0, 0), (1, 1)], [(0, 1)]], gold).aer == 0.0
    with pytest.raises(ValueError):
        alignment_error_rate(hyp[:1], gold)
    with pytest.raises(ValueError):
        parse_gold_line("0:1")


def test_read_gold(tmp_path):
    (tmp_path / "g").write_text("0-0 1p1\n\n2-3\n")
    g = read_gold(tmp_path / "g")
    assert len(g) == 3 and g[0].sure == {(0, 0)} and g[0].possible == {(0, 0), (1, 1)} and not g[1].sure
