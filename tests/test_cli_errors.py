"""Issue 27, command-line tools and the library: every wrong use gets one clear line, never a traceback."""

import json
import re
import subprocess
import sys

import pytest
import tomllib
from helpers import ROOT

from seq2seq import Translator
from seq2seq.average import main as average_main
from seq2seq.cli import align_main, translate_main
from seq2seq.evaluate import main as evaluate_main
from seq2seq.model_dir import CONFIG, ModelFolderError
from seq2seq.text import InputEncodingError, decode_utf8


@pytest.fixture(scope="module")
def folder(toy_translator, tmp_path_factory):
    return toy_translator.save(tmp_path_factory.mktemp("cli") / "model")


@pytest.fixture()
def src(tmp_path):
    f = tmp_path / "in.zh"
    f.write_text("谢谢你。\n", encoding="utf-8")
    return f


def usage_error(capsys, argv) -> str:
    """The stderr of a run that must end in an argparse usage error (exit status 2)."""
    with pytest.raises(SystemExit) as e:
        translate_main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "Traceback" not in err
    return err


# ---- 12: --nbest larger than the beam is a usage error, like --beam 0
def test_nbest_over_the_beam_is_a_usage_error(folder, src, capsys):
    err = usage_error(capsys, ["--model", str(folder), "-i", str(src), "--nbest", "10"])  # the model's beam: 5
    assert "--nbest" in err and "beam size" in err and "5" in err
    err = usage_error(capsys, ["--model", str(folder), "-i", str(src), "--beam", "3", "--nbest", "4"])
    assert "--nbest" in err and "3" in err
    assert "greedy" in usage_error(capsys, ["--model", str(folder), "-i", str(src), "--beam", "1", "--nbest", "2"])
    assert "at least 1" in usage_error(capsys, ["--model", str(folder), "-i", str(src), "--nbest", "0"])


# ---- 13: an output file that cannot be written
def test_unwritable_output_is_one_line(folder, src, tmp_path, capsys):
    bad = str(tmp_path / "no" / "such" / "dir" / "out.en")
    assert translate_main(["--model", str(folder), "-i", str(src), "-o", bad]) == 2
    err = capsys.readouterr().err
    assert f"cannot write {bad}" in err and "Traceback" not in err
    assert translate_main(["--model", str(folder), "-i", str(src), "--alignments", bad]) == 2
    assert f"cannot write {bad}" in capsys.readouterr().err
    en = tmp_path / "in.en"
    en.write_text("Thank you.\n", encoding="utf-8")
    assert align_main([str(src), str(en), "--model", str(folder), "-o", bad]) == 2
    assert f"cannot write {bad}" in capsys.readouterr().err


# ---- 14: length penalty, max tokens and sentences are checked, in the CLI and in the library
def test_cli_checks_length_penalty_and_max_tokens(folder, src, capsys):
    assert "0 to 5" in usage_error(capsys, ["--model", str(folder), "-i", str(src), "--length-penalty", "-1"])
    assert "0 to 5" in usage_error(capsys, ["--model", str(folder), "-i", str(src), "--length-penalty", "6"])
    assert "at least 1" in usage_error(capsys, ["--model", str(folder), "-i", str(src), "--max-tokens", "0"])
    assert "at least 0" in usage_error(capsys, ["--model", str(folder), "-i", str(src), "--max-len-a", "-1"])


def test_library_checks_the_web_api_ranges(toy_translator):
    tr = toy_translator
    with pytest.raises(ValueError, match="length_penalty must be a number from 0 to 5"):
        tr.translate("我", length_penalty=-1)
    with pytest.raises(ValueError, match="length_penalty"):
        tr.translate("我", length_penalty=5.5)
    with pytest.raises(ValueError, match="max_tokens must be an integer >= 1"):
        tr.translate("我", max_tokens=0)
    with pytest.raises(ValueError, match="max_len_b"):
        tr.translate("我", max_len_b=-3)
    with pytest.raises(TypeError, match="sentences must be a string or a list of strings, not NoneType"):
        tr.translate(None)
    with pytest.raises(TypeError, match="not int"):
        tr.translate(5)
    with pytest.raises(TypeError, match="align: sources must be"):
        tr.align(None, ["Thank you."])
    with pytest.raises(ValueError, match="length_penalty"):
        tr.align(["谢谢你。"], ["Thank you."], length_penalty=-1)
    # The edges of the ranges are fine.
    assert tr.translate("谢谢你。", length_penalty=0, beam_size=2)[0].text
    assert tr.translate("谢谢你。", length_penalty=5, max_tokens=1, beam_size=2)[0].text


# ---- 15: seq2seq-evaluate names the file in a decoding error, and refuses an empty test set
def test_evaluate_names_a_gbk_file_and_an_empty_test_set(folder, tmp_path, capsys):
    (tmp_path / "gbk.zh").write_bytes("我喜欢吃苹果。\n".encode("gbk"))
    (tmp_path / "gbk.en").write_text("I like apples.\n", encoding="utf-8")
    out = str(tmp_path / "eval")
    assert evaluate_main(["--model", str(folder), "--test", str(tmp_path / "gbk"), "--output-dir", out]) == 2
    err = capsys.readouterr().err
    assert "gbk.zh" in err and "not UTF-8" in err and "iconv -f GBK" in err and "Traceback" not in err
    (tmp_path / "empty.zh").write_text("", encoding="utf-8")
    (tmp_path / "empty.en").write_text("", encoding="utf-8")
    assert evaluate_main(["--model", str(folder), "--test", str(tmp_path / "empty"), "--output-dir", out]) == 2
    err = capsys.readouterr().err
    assert "test set empty is empty" in err and "Traceback" not in err


# ---- 16: UTF-16 gets a UTF-16 hint
@pytest.mark.parametrize(
    "data, expected",
    [
        ("我喜欢吃苹果。\n".encode("utf-16"), "iconv -f UTF-16 "),  # with its byte-order mark
        ("I like apples.\n".encode("utf-16-le"), "iconv -f UTF-16LE"),  # no mark: NUL bytes give it away
        ("我喜欢吃苹果。\n".encode("gbk"), "iconv -f GBK"),
    ],
)
def test_encoding_hints_fit_the_encoding(data, expected):
    with pytest.raises(InputEncodingError) as e:
        decode_utf8(data, "in.zh")
    assert expected in str(e.value) and "in.zh" in str(e.value)
    assert decode_utf8("\ufeff谢谢".encode("utf-8"), "x") == "谢谢"  # a UTF-8 byte-order mark is fine


def test_translate_cli_hints_utf16(folder, tmp_path, capsys):
    f = tmp_path / "u16.zh"
    f.write_bytes("我喜欢吃苹果。\n谢谢你。\n".encode("utf-16"))
    assert translate_main(["--model", str(folder), "-i", str(f)]) == 2
    err = capsys.readouterr().err
    assert "UTF-16" in err and "GBK" not in err and "line 1" in err


# ---- 17: weights that do not fit config.json: one line, the first mismatch, a count
def test_weights_that_do_not_fit_the_config_give_one_line(folder, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)
    cfg = json.loads((bad / CONFIG).read_text())
    cfg["model"]["d_ff"] = 96
    (bad / CONFIG).write_text(json.dumps(cfg))
    with pytest.raises(ModelFolderError) as e:
        Translator.load(bad)
    msg = str(e.value)
    assert "\n" not in msg and len(msg) < 400, msg
    assert str(bad) in msg and "does not match config.json" in msg
    assert re.search(r"has shape \[[\d, ]+\] but config.json makes it \[[\d, ]+\]", msg)
    assert re.search(r"and \d+ more of the \d+ tensors differ", msg)


# ---- 18: a run folder given as a model, a model folder given as a run
def test_run_folder_as_model_and_model_folder_as_run(folder, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(folder, run / "best")
    shutil.copytree(folder, run / "last")
    with pytest.raises(ModelFolderError, match=f"training run folder .*use {run}/best or {run}/last"):
        Translator.load(run)
    assert translate_main(["--model", str(run)]) == 2
    assert f"use {run}/best or {run}/last" in capsys.readouterr().err
    assert average_main([str(folder), "--output", str(tmp_path / "avg")]) == 2
    err = capsys.readouterr().err
    assert "is a model folder, not a training run" in err
    assert average_main([str(tmp_path / "absent"), "--output", str(tmp_path / "avg")]) == 2
    assert "does not exist" in capsys.readouterr().err


# ---- 20: --help texts: no reST markup, a help line for every option
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
OURS = [
    "seq2seq-translate",
    "seq2seq-align",
    "seq2seq-train",
    "seq2seq-evaluate",
    "seq2seq-average",
    "seq2seq-export",
    "seq2seq-demo",
]


def help_text(argv: list[str]) -> str:
    out = subprocess.run(
        [sys.executable, *argv, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def options_without_help(text: str) -> list[str]:
    """Options whose line in --help has nothing after the option itself (argparse puts help beside it, or on
    the next, indented line)."""
    lines = text.split("\n")
    bare = []
    for k, line in enumerate(lines):
        m = re.match(r"^  (-[-\w]+(?: [A-Z_{},\[\].]+)?(?:, -[-\w]+(?: [A-Z_{},\[\].]+)?)*)\s*$", line)
        if m and not (k + 1 < len(lines) and lines[k + 1].startswith(" " * 10) and lines[k + 1].strip()):
            bare.append(m.group(1))
    return bare


@pytest.mark.parametrize("name", OURS)
def test_help_has_no_markup_and_every_option_a_line(name):
    module = SCRIPTS[name].split(":")[0]
    text = help_text(
        [
            "-c",
            f"import sys; sys.argv[0] = {name!r}; from {SCRIPTS[name].replace(':', ' import ')}; "
            f"sys.exit({SCRIPTS[name].split(':')[1]}())",
        ]
    )
    assert "``" not in text and ":func:" not in text, module
    assert options_without_help(text) == [], name


def test_prepare_data_help_has_every_option():
    text = help_text([str(ROOT / "scripts" / "prepare_data.py")])
    assert options_without_help(text) == []
    assert "--out" in text and "--split" in text


# ---- 19: the CTranslate2 backend says what it cannot do
def test_both_engines_on_the_command_line(folder, src, tmp_path, capsys):
    """--backend picks the engine that searches; both write the same translation and the same links."""
    pytest.importorskip("ctranslate2")
    out = {}
    for backend in ("ctranslate2", "torch"):
        dst, links = tmp_path / f"{backend}.en", tmp_path / f"{backend}.align"
        argv = [
            "--model",
            str(folder),
            "--backend",
            backend,
            "-i",
            str(src),
            "-o",
            str(dst),
            "--alignments",
            str(links),
        ]
        assert translate_main(argv) == 0
        out[backend] = dst.read_text(encoding="utf-8"), links.read_text(encoding="utf-8")
    assert out["ctranslate2"] == out["torch"] and out["torch"][0].strip()
    with pytest.raises(SystemExit):
        translate_main(["--model", str(folder), "--backend", "fast"])
    assert "invalid choice: 'fast'" in capsys.readouterr().err
    assert "--backend torch" in usage_error(capsys, ["--model", str(folder), "--backend", "ctranslate2", "--bf16"])
