import json

import pytest
import sacrebleu
from helpers import OVERFIT_PAIRS

from seq2seq.align import piece_alignment, word_alignment
from seq2seq.evaluate import main, read_test_set
from seq2seq.words import gold_units

HYPS_REFS = OVERFIT_PAIRS + [("他们每天都喝茶。", "They drink tea every day."), ("我想唱歌。", "I want to sing.")]


@pytest.fixture()
def setup(toy_translator, tmp_path):
    folder = toy_translator.save(tmp_path / "model")
    (tmp_path / "t.zh").write_text("".join(z + "\n" for z, _ in HYPS_REFS), encoding="utf-8")
    (tmp_path / "t.en").write_text("".join(e + "\n" for _, e in HYPS_REFS), encoding="utf-8")
    return folder, tmp_path


def test_scores_equal_sacrebleu_on_the_written_hypotheses_and_report_matches_table(setup, capsys):
    folder, tmp = setup
    out = tmp / "eval"
    assert (
        main(
            [
                "--model",
                str(folder),
                "--test",
                str(tmp / "t"),
                f"{tmp}/t.zh={tmp}/t.en",
                "--beam",
                "1",
                "3",
                "--length-penalty",
                "0.6",
                "1.0",
                "--output-dir",
                str(out),
            ]
        )
        == 0
    )
    table = capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert [r["setting"] for r in report["rows"]] == ["greedy", "beam3-lp0.6", "beam3-lp1"] * 2
    refs = [e for _, e in HYPS_REFS]
    for row in report["rows"]:
        hyps = open(row["hypotheses_file"], encoding="utf-8").read().splitlines()
        assert len(hyps) == len(refs)
        assert row["bleu"] == round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2)
        assert row["chrf"] == round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2)
        line = next(t for t in table.splitlines() if t.startswith(row["test_set"]) and f" {row['setting']} " in t)
        assert f"{row['bleu']:.2f}" in line and f"{row['chrf']:.2f}" in line and f"{row['length_ratio']:.3f}" in line
    assert report["signatures"]["bleu"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    assert report["signatures"]["bleu"] in table


def test_limit_and_bad_test_sets(setup, capsys, tmp_path):
    folder, tmp = setup
    assert len(read_test_set(str(tmp / "t"), limit=3).sources) == 3
    (tmp / "bad.zh").write_text("一\n二\n", encoding="utf-8")
    (tmp / "bad.en").write_text("one\n", encoding="utf-8")
    assert main(["--model", str(folder), "--test", str(tmp / "bad")]) == 2
    assert "bad.zh has 2 lines" in capsys.readouterr().err
    assert main(["--model", str(folder), "--test", str(tmp / "none.zh")]) == 2
    assert "prefix" in capsys.readouterr().err


@pytest.mark.parametrize("level", ["piece", "word"])
def test_alignment_files_parse_and_indices_lie_within_sentences(setup, level):
    folder, tmp = setup
    out = tmp / "eval"
    assert (
        main(
            [
                "--model",
                str(folder),
                "--test",
                str(tmp / "t"),
                "--beam",
                "3",
                "--output-dir",
                str(out),
                "--alignments",
                level,
            ]
        )
        == 0
    )
    hyps = (out / "t.beam3-lp1.en").read_text(encoding="utf-8").splitlines()
    lines = (out / "t.beam3-lp1.align").read_text().splitlines()
    assert len(lines) == len(HYPS_REFS)
    from seq2seq import Translator
    from seq2seq.align import alignment_line

    tr = Translator.load(folder)
    for (zh, _), hyp, line in zip(HYPS_REFS, hyps, lines):
        pairs = [tuple(map(int, p.split("-"))) for p in line.split()]
        assert pairs, line
        t = tr.translate([zh], beam_size=3)[0]
        n_src = len(t.source_tokens) - 1 if level == "piece" else len(zh)  # every Chinese character is a word
        n_tgt = len(t.target_tokens) - 1 if level == "piece" else len(hyp.split())
        assert all(0 <= i < n_src and 0 <= j < n_tgt for i, j in pairs)
        assert line == alignment_line([t], level, method=tr.align_method)  # the model's own default links


def test_alignment_helpers():
    import numpy as np

    src = ["▁我", "喜欢", "吃", "苹果", "。", "</s>"]
    tgt = ["▁I", "▁like", "▁to", "▁eat", "▁app", "les", ".", "</s>"]
    assert gold_units(src, "zh").piece_words == [[0], [1, 2], [3], [4, 5], [6], []]
    assert gold_units(tgt, "en").piece_words == [[0], [1], [2], [3], [4], [4], [4], []]
    # a placeholder's span with spaces covers its words, and the words after it keep their places
    assert gold_units(["▁Mr", "▁", "Tim Cook", "'", "s", "▁speech", "</s>"], "en").piece_words == [
        [0],
        [1],
        [1, 2],
        [2],
        [2],
        [3],
        [],
    ]
    att = np.zeros((2, 1, len(tgt), len(src)), dtype=np.float32)
    picks = [0, 1, 2, 2, 3, 3, 4, 5]
    for j, i in enumerate(picks):
        att[0, 0, j, i] = 1.0  # layer 0 is the penultimate of 2
    assert piece_alignment(src, tgt, att) == [(0, 0), (1, 1), (2, 2), (2, 3), (3, 4), (3, 5), (4, 6)]
    assert word_alignment(src, tgt, att) == [(0, 0), (1, 1), (2, 1), (3, 2), (3, 3), (4, 4), (5, 4), (6, 4)]
    assert gold_units(["▁", "<0xE9>", "<0x91>", "<0xAB>", "好"], "zh").piece_words == [[], [], [], [0], [1]]


def test_length_penalty_defaults_to_the_model_folders_own(setup):
    """Without --length-penalty the scores are those of the folder's decoding defaults (what ships)."""
    folder, tmp = setup
    config = json.loads((folder / "config.json").read_text())
    config["decoding"]["length_penalty"] = 1.5
    (folder / "config.json").write_text(json.dumps(config))
    out = tmp / "eval"
    assert main(["--model", str(folder), "--test", str(tmp / "t"), "--beam", "3", "--output-dir", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert [r["setting"] for r in report["rows"]] == ["beam3-lp1.5"]


def test_a_line_over_the_length_limit_is_translated_in_parts_and_finished_sets_are_kept(setup, capsys):
    folder, tmp = setup
    (tmp / "long.zh").write_text("我喜欢吃苹果。" * 40 + "\n谢谢你。\n", encoding="utf-8")
    (tmp / "long.en").write_text("I like to eat apples.\nThank you.\n", encoding="utf-8")
    out = tmp / "eval"
    # The first set is fine, the second is missing: the first one's results are still written.
    assert main(["--model", str(folder), "--test", str(tmp / "long"), "--beam", "1", "--output-dir", str(out)]) == 0
    assert "too long" in capsys.readouterr().err
    hyps = (out / "long.greedy.en").read_text(encoding="utf-8").splitlines()
    assert len(hyps) == 2 and hyps[1] == "Thank you." and hyps[0].count("apples") > 1
    report = json.loads((out / "report.json").read_text())
    assert report["rows"][0]["sentences"] == 2


def test_results_are_written_after_each_test_set(setup, monkeypatch):
    import seq2seq.evaluate as E

    folder, tmp = setup
    (tmp / "u.zh").write_text("谢谢你。\n", encoding="utf-8")
    (tmp / "u.en").write_text("Thank you.\n", encoding="utf-8")
    written = []
    real = E._write_report
    monkeypatch.setattr(
        E, "_write_report", lambda out, report: written.append(len(report.get("rows", []))) or real(out, report)
    )
    assert (
        main(
            [
                "--model",
                str(folder),
                "--test",
                str(tmp / "t"),
                str(tmp / "u"),
                "--beam",
                "1",
                "--output-dir",
                str(tmp / "e"),
            ]
        )
        == 0
    )
    assert written[:2] == [1, 2]


def test_repetition_counts_loops_the_reference_does_not_have():
    from seq2seq.copyrate import repeats, repetition_rate

    assert repeats("克克克表示") and repeats("火星火星火星") and repeats("said KGO KGO KGO")
    assert not repeats("哈哈。") and not repeats("in 1000 years...") and not repeats("我们们的")
    hyps, refs = ["哈哈哈哈", "他说说说说", "好"], ["哈哈哈哈", "他说", "好"]
    assert repetition_rate(hyps, refs) == {"repetition": 1 / 3, "repetition_count": 1}
