import numpy as np
import pytest
from helpers import OVERFIT_PAIRS

from seq2seq import Translator
from seq2seq.cli import translate_main


@pytest.mark.parametrize("beam", [1, 5])
def test_overfit_model_reproduces_its_training_pairs(toy_translator, beam):
    """text -> pieces -> ids -> model -> ids -> text, end to end."""
    out = toy_translator.translate([z for z, _ in OVERFIT_PAIRS], beam_size=beam)
    assert [t.text for t in out] == [e for _, e in OVERFIT_PAIRS]


def test_bf16_autocast_gives_the_same_translations(toy_translator):
    import torch

    src = [z for z, _ in OVERFIT_PAIRS]
    fp32 = toy_translator.translate(src, beam_size=5)
    bf16 = toy_translator.translate(src, beam_size=5, dtype=torch.bfloat16)
    assert [t.text for t in bf16] == [t.text for t in fp32]
    assert all(abs(a.score - b.score) < 0.1 * abs(a.score) + 0.05 for a, b in zip(fp32, bf16))
    assert all(np.allclose(t.cross_attention.sum(-1), 1.0, atol=1e-3) for t in bf16)


def test_batches_count_source_tokens_and_do_not_change_results(toy_translator):
    from seq2seq.batches import pack_by_tokens

    assert pack_by_tokens([0, 1, 2, 3, 4], [7, 6, 4, 4, 3], max_tokens=14) == [[0, 1], [2, 3, 4]]
    assert pack_by_tokens([0, 1], [20, 3], max_tokens=14) == [[0], [1]]  # too wide: a batch of its own
    src = [z for z, _ in OVERFIT_PAIRS]
    whole = toy_translator.translate(src, beam_size=5, max_tokens=6000)
    one_by_one = toy_translator.translate(src, beam_size=5, max_tokens=1)
    assert [t.text for t in one_by_one] == [t.text for t in whole]
    assert [t.score for t in one_by_one] == pytest.approx([t.score for t in whole], abs=1e-4)


def test_translation_fields(toy_translator):
    out = toy_translator.translate(["我喜欢吃苹果。", "今天天气很好。"], beam_size=5, nbest=3)
    for t in out:
        assert t.source_tokens[-1] == "</s>" and t.target_tokens[-1] == "</s>"
        layers, heads = toy_translator.torch.model.cfg.n_dec_layers, toy_translator.torch.model.cfg.n_heads
        assert t.cross_attention.shape == (layers, heads, len(t.target_tokens), len(t.source_tokens))
        assert t.cross_attention.dtype == np.float32
        assert np.allclose(t.cross_attention.sum(-1), 1.0, atol=1e-5)
        assert t.score < 0 and len(t.nbest) == 3 and t.nbest[0] is t
        assert "".join(t.target_tokens[:-1]).replace("\u2581", " ").strip() == t.text
    # the traditional form of a sentence gets the same translation
    assert toy_translator.translate("今天天氣很好。")[0].text == "The weather is nice today."


def test_empty_and_too_long_input(toy_translator):
    out = toy_translator.translate(["", "谢谢你。", "   "])
    assert [t.text for t in out] == ["", "Thank you.", ""]
    assert out[0].cross_attention.shape[2:] == (0, 0)
    with pytest.raises(ValueError, match="split it"):
        toy_translator.translate(["我喜欢吃苹果。" * 40])


def test_greedy_nbest_is_rejected(toy_translator):
    with pytest.raises(ValueError, match="greedy"):
        toy_translator.translate(["谢谢你。"], beam_size=1, nbest=2)


def test_command_line(toy_translator, tmp_path, capsys, monkeypatch):
    folder = toy_translator.save(tmp_path / "m")
    src = tmp_path / "in.zh"
    src.write_text("我喜欢吃苹果。\n\n谢谢你。\n" + "我喜欢吃苹果。" * 40 + "\n", encoding="utf-8")
    assert (
        translate_main(
            [
                "--model",
                str(folder),
                "--beam",
                "5",
                "-i",
                str(src),
                "-o",
                str(tmp_path / "out.en"),
                "--alignments",
                str(tmp_path / "out.align"),
            ]
        )
        == 0
    )
    lines = (tmp_path / "out.en").read_text().split("\n")
    assert lines[:3] == ["I like to eat apples.", "", "Thank you."]
    assert len(lines) == 5 and lines[4] == ""
    assert "too long" in capsys.readouterr().err
    align = (tmp_path / "out.align").read_text().split("\n")
    assert align[1] == "" and len(align) == 5


def test_command_line_bad_model(tmp_path, capsys):
    assert translate_main(["--model", str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_default_model_missing_is_a_clear_error(monkeypatch, tmp_path):
    import seq2seq.translator as T
    from seq2seq import ModelFolderError

    monkeypatch.setattr(T, "DEFAULT_MODEL_DIR", tmp_path / "absent")
    with pytest.raises(ModelFolderError, match="no default model"):
        Translator.load()


def test_an_empty_model_name_is_a_clear_error():
    from seq2seq import ModelFolderError

    for name in ("", "  "):
        with pytest.raises(ModelFolderError, match="no model given"):
            Translator.load(name)


def test_command_line_input_errors(toy_translator, tmp_path, capsys, monkeypatch):
    import io

    folder = toy_translator.save(tmp_path / "m")
    gbk = tmp_path / "gbk.zh"
    gbk.write_bytes("我喜欢吃苹果。\n".encode("gbk"))
    assert translate_main(["--model", str(folder), "-i", str(gbk)]) == 2
    err = capsys.readouterr().err
    assert "not UTF-8" in err and "iconv" in err and "Traceback" not in err
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO("谢谢你。\n".encode("gbk"))))
    assert translate_main(["--model", str(folder)]) == 2
    assert "standard input" in capsys.readouterr().err
    assert translate_main(["--model", str(folder), "-i", str(tmp_path / "absent.zh")]) == 2
    assert "input file not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        translate_main(["--model", str(folder), "--beam", "0"])
    assert "at least 1" in capsys.readouterr().err
    import torch

    if not torch.cuda.is_available():
        assert translate_main(["--model", str(folder), "--device", "cuda"]) == 2
        assert "CUDA is not available" in capsys.readouterr().err


def test_a_stray_carriage_return_does_not_split_a_line(toy_translator, tmp_path):
    folder = toy_translator.save(tmp_path / "m")
    src = tmp_path / "in.zh"
    src.write_bytes("我喜欢吃苹果。\r谢谢你。\r\n谢谢你。\r\n".encode("utf-8"))
    assert translate_main(["--model", str(folder), "-i", str(src), "-o", str(tmp_path / "out.en")]) == 0
    assert len((tmp_path / "out.en").read_text().splitlines()) == 2


def test_bad_elements_and_arguments_are_named(toy_translator):
    with pytest.raises(TypeError, match="sentence 1 is NoneType"):
        toy_translator.translate(["谢谢你。", None])
    with pytest.raises(TypeError, match="sentence 0 is int"):
        toy_translator.translate([3])
    with pytest.raises(ValueError, match="beam_size"):
        toy_translator.translate(["谢谢你。"], beam_size=0)
    t = toy_translator.translate(["谢谢你。"])[0]
    assert "cross_attention=<float32 array" in repr(t) and len(repr(t)) < 300


@pytest.mark.parametrize("attention", [True, "all"])
def test_ready_hands_on_every_translation_once_as_returned(toy_translator, attention):
    sentences = [z for z, _ in OVERFIT_PAIRS[:3]] + [""]
    got = []
    out = toy_translator.translate(sentences, return_attention=attention, ready=lambda i, t: got.append((i, t)))
    assert sorted(i for i, _ in got) == [0, 1, 2, 3]
    assert all(out[i] is t for i, t in got)
    if attention == "all":  # handed on once the forced pass has filled every layer's attention
        assert all(t.encoder_attention is not None for i, t in got if i < 3)
