"""Issue 38, command-line tools: out-of-range options are usage errors, input in the other language is named, and
every message says what is wrong (a folder is a folder, the model's own source language)."""

import pytest
from helpers import ROOT, placeholder_translator

from seq2seq.evaluate import main as evaluate_main
from seq2seq.evaluate import read_test_set


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A random tiny zh-en model folder (its output is noise: these tests read what the tools say about it)."""
    return placeholder_translator().save(tmp_path_factory.mktemp("cli") / "zh-en")


@pytest.fixture(scope="module")
def en_zh_folder(tmp_path_factory):
    return placeholder_translator(direction="en-zh").save(tmp_path_factory.mktemp("cli") / "en-zh")


@pytest.fixture()
def test_set(tmp_path):
    (tmp_path / "t.zh").write_text("谢谢你。\n我喜欢吃苹果。\n", encoding="utf-8")
    (tmp_path / "t.en").write_text("Thank you.\nI like to eat apples.\n", encoding="utf-8")
    return tmp_path / "t"


def usage_error(capsys, main, argv) -> str:
    """The stderr of a run that must end in one argparse usage error (exit status 2), no traceback."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "Traceback" not in err
    return err.strip().splitlines()[-1]


# ---- 11: seq2seq-evaluate checks its options as seq2seq-translate does
@pytest.mark.parametrize(
    "option, value, expected",
    [
        ("--limit", "0", "argument --limit: must be at least 1, got 0"),
        ("--limit", "-5", "argument --limit: must be at least 1, got -5"),
        ("--beam", "0", "argument --beam: must be at least 1, got 0"),
        ("--beam", "x", "argument --beam: 'x' is not an integer"),
        ("--length-penalty", "-2", "argument --length-penalty: must be from 0 to 5, got -2"),
        ("--length-penalty", "6", "argument --length-penalty: must be from 0 to 5, got 6"),
        ("--max-tokens", "0", "argument --max-tokens: must be at least 1, got 0"),
        ("--no-repeat-ngram", "-1", "argument --no-repeat-ngram: must be at least 0, got -1"),
    ],
)
def test_evaluate_options_out_of_range_are_usage_errors(folder, test_set, capsys, option, value, expected):
    argv = ["--model", str(folder), "--test", str(test_set), option, value]
    assert usage_error(capsys, evaluate_main, argv) == f"seq2seq-evaluate: error: {expected}"
    # one of several values out of range is refused too
    if option in ("--beam", "--length-penalty"):
        usage_error(capsys, evaluate_main, ["--model", str(folder), "--test", str(test_set), option, "1", value])


def test_evaluate_limit_keeps_the_first_lines(folder, test_set, tmp_path, capsys):
    assert len(read_test_set(str(test_set), limit=1).sources) == 1
    assert len(read_test_set(str(test_set)).sources) == 2  # 0, the default: all
    with pytest.raises(ValueError, match="limit must be an integer >= 1"):
        read_test_set(str(test_set), limit=-5)
    out = tmp_path / "eval"
    argv = ["--model", str(folder), "--test", str(test_set), "--limit", "1", "--beam", "1", "--output-dir", str(out)]
    assert evaluate_main(argv) == 0
    assert len((out / "t.greedy.en").read_text(encoding="utf-8").splitlines()) == 1


# ---- 13: input that does not look written in the model's source language gets a warning on stderr
def warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if "warning:" in line]


def test_translate_names_lines_in_the_other_language(folder, en_zh_folder, tmp_path, capsys):
    from seq2seq.cli import translate_main

    f = tmp_path / "in.txt"
    f.write_text("谢谢你。\nWhere is the library?\n\n2023\n我喜欢吃苹果。\nThank you.\n", encoding="utf-8")
    argv = ["-i", str(f), "--beam", "1", "--chunk-lines", "2"]  # line numbers go on across chunks
    assert translate_main(["--model", str(folder), *argv]) == 0
    err = capsys.readouterr().err
    note = "the zh-en model translates Chinese to English, so the result may be poor (translated anyway)"
    assert warnings(err) == [
        f"seq2seq-translate: warning: line 2 does not look like Chinese; {note}",
        f"seq2seq-translate: warning: line 6 does not look like Chinese; {note}",
    ]  # not the blank line 3, nor line 4 (a number is in no language)
    assert translate_main(["--model", str(en_zh_folder), *argv]) == 0
    err = capsys.readouterr().err
    assert [w.split(";")[0] for w in warnings(err)] == [
        "seq2seq-translate: warning: line 1 does not look like English",
        "seq2seq-translate: warning: line 5 does not look like English",
    ]
    assert "the en-zh model translates English to Chinese" in err


def test_translate_names_the_first_five_then_counts(folder, tmp_path, capsys):
    from seq2seq.cli import translate_main

    f = tmp_path / "in.en"
    f.write_text("Hello world.\n" * 8, encoding="utf-8")
    assert translate_main(["--model", str(folder), "-i", str(f), "--beam", "1", "--chunk-lines", "3"]) == 0
    found = warnings(capsys.readouterr().err)
    assert [w.split(" does")[0] for w in found[:5]] == [f"seq2seq-translate: warning: line {n}" for n in range(1, 6)]
    assert found[5:] == [
        "seq2seq-translate: warning: 8 of 8 lines do not look like Chinese (the first 5 are named above)"
    ]


def test_nbest_numbers_lines_across_chunks(folder, tmp_path, capsys):
    from seq2seq.cli import translate_main

    f = tmp_path / "in.zh"
    f.write_text("谢谢你。\n我喜欢吃苹果。\n你好。\n", encoding="utf-8")
    assert (
        translate_main(["--model", str(folder), "-i", str(f), "--beam", "2", "--nbest", "2", "--chunk-lines", "2"]) == 0
    )
    out = capsys.readouterr().out
    assert [line.split(" ||| ")[0] for line in out.splitlines()] == ["0", "0", "1", "1", "2", "2"]


def test_align_and_evaluate_warn_about_files_in_the_other_language(folder, test_set, tmp_path, capsys):
    from seq2seq.cli import align_main

    zh, en = test_set.with_suffix(".zh"), test_set.with_suffix(".en")
    assert align_main([str(en), str(zh), "--model", str(folder), "-o", str(tmp_path / "links")]) == 0  # swapped
    assert warnings(capsys.readouterr().err) == [
        f"seq2seq-align: warning: 2 of 2 lines of {en} do not look like Chinese (the first: line 1); "
        "the zh-en model translates Chinese to English, so the result may be poor",
        f"seq2seq-align: warning: 2 of 2 lines of {zh} do not look like English (the first: line 1); "
        "the zh-en model translates Chinese to English, so the result may be poor",
    ]
    assert align_main([str(zh), str(en), "--model", str(folder), "-o", str(tmp_path / "links")]) == 0
    assert warnings(capsys.readouterr().err) == []
    out = str(tmp_path / "eval")
    assert evaluate_main(["--model", str(folder), "--test", f"{en}={zh}", "--beam", "1", "--output-dir", out]) == 0
    assert warnings(capsys.readouterr().err) == [
        "seq2seq-evaluate: warning: 2 of 2 lines of test set t do not look like Chinese (the first: line 1); "
        "the zh-en model translates Chinese to English, so the result may be poor"
    ]
    assert evaluate_main(["--model", str(folder), "--test", str(test_set), "--beam", "1", "--output-dir", out]) == 0
    assert warnings(capsys.readouterr().err) == []


# ---- 14: messages that say what is wrong
def test_options_that_would_be_ignored_are_usage_errors(folder, test_set, capsys):
    from seq2seq.cli import align_main, translate_main

    zh, en = str(test_set.with_suffix(".zh")), str(test_set.with_suffix(".en"))
    err = usage_error(capsys, align_main, [zh, en, "--model", str(folder), "--combine", "union"])
    assert err.startswith("seq2seq-align: error: argument --combine: goes with --reverse-model MODEL")
    err = usage_error(capsys, translate_main, ["--model", str(folder), "-i", zh, "--alignment-level", "piece"])
    assert err.startswith("seq2seq-translate: error: argument --alignment-level: goes with --alignments FILE")
    err = usage_error(
        capsys, evaluate_main, ["--model", str(folder), "--align-test", "g", "--beam", "1", "--limit", "2"]
    )
    assert err == "seq2seq-evaluate: error: --beam, --limit go with --test (--align-test translates nothing)"
    err = usage_error(capsys, evaluate_main, ["--model", str(folder), "--align-test", "g", "--length-penalty", "1"])
    assert err == "seq2seq-evaluate: error: --length-penalty goes with --test (--align-test translates nothing)"


def test_a_folder_given_as_a_file_is_called_a_folder(folder, test_set, tmp_path, capsys):
    from seq2seq.cli import align_main, translate_main
    from seq2seq.training.cli import main as train_main

    here = tmp_path / "dir"
    here.mkdir()
    assert translate_main(["--model", str(folder), "-i", str(here)]) == 2
    assert capsys.readouterr().err.strip() == f"seq2seq-translate: input file {here} is a folder, not a file"
    assert translate_main(["--model", str(folder), "-i", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.strip() == f"seq2seq-translate: input file not found: {tmp_path / 'none'}"
    assert align_main([str(here), str(test_set.with_suffix(".en")), "--model", str(folder)]) == 2
    assert capsys.readouterr().err.strip() == f"seq2seq-align: source file {here} is a folder, not a file"
    assert evaluate_main(["--model", str(folder), "--test", str(here)]) == 2
    assert f"test set {here} is a folder: give the path prefix P of P.zh and P.en" in capsys.readouterr().err
    assert evaluate_main(["--model", str(folder), "--test", f"{test_set}.zh={here}"]) == 2
    assert f"reference file {here} is a folder, not a file" in capsys.readouterr().err
    assert train_main(["--config", str(here), "--output-dir", str(tmp_path / "run")]) == 2
    assert f"config {here} is a folder, not a file" in capsys.readouterr().err
    data = f"data.train=[{{src: {here}, tgt: {test_set}.en}}]"
    assert (
        train_main(["--config", str(ROOT / "configs" / "tiny.yaml"), "--output-dir", str(tmp_path / "run"), data]) == 2
    )
    assert f"seq2seq-train: source file {here} is a folder, not a file" in capsys.readouterr().err


def test_prepare_data_says_the_folder_is_missing(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("prepare_data", ROOT / "scripts" / "prepare_data.py")
    prepare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prepare)
    out = ["--out", str(tmp_path / "out")]
    assert prepare.main(["--from-dir", str(tmp_path / "absent"), *out]) == 2
    assert f"--from-dir {tmp_path / 'absent'} does not exist" in capsys.readouterr().err
    (tmp_path / "a.zh").write_text("一\n", encoding="utf-8")
    assert prepare.main(["--from-dir", str(tmp_path / "a.zh"), *out]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    (tmp_path / "corpora").mkdir()
    assert prepare.main(["--from-dir", str(tmp_path / "corpora"), *out]) == 2
    assert f"{tmp_path / 'corpora'} has no train/ folder" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_messages_name_the_models_source_language(folder, en_zh_folder):
    from seq2seq import Translator

    with pytest.raises(TypeError, match=r"sentence 1 is int \(5\), not str: pass English text"):
        Translator.load(en_zh_folder, backend="torch").translate(["Hello.", 5])
    with pytest.raises(TypeError, match=r"sentence 0 is bytes .*not str: pass Chinese text"):
        Translator.load(folder, backend="torch").translate([b"x"])


def test_load_names_the_shipped_models_and_an_export_for_what_it_is(capsys):
    from seq2seq import Translator
    from seq2seq.cli import translate_main
    from seq2seq.model_dir import ModelFolderError
    from seq2seq.translator import PRETRAINED

    with pytest.raises(
        ModelFolderError, match="model folder fr-en does not exist .*the shipped models are en-zh, zh-en"
    ):
        Translator.load("fr-en")
    export = PRETRAINED / "zh-en" / "ctranslate2"
    with pytest.raises(ModelFolderError) as e:
        Translator.load(export, backend="torch")
    assert "is a CTranslate2 export (seq2seq-export output), which PyTorch cannot load" in str(e.value)
    assert "corrupt" not in str(e.value)
    assert translate_main(["--model", str(export), "--backend", "torch"]) == 2
    err = capsys.readouterr().err
    assert "CTranslate2 export" in err and "corrupt" not in err and "Traceback" not in err
