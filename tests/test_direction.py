"""English -> Chinese: a tiny en-zh run on the toy corpus, what a model folder's direction decides, warm start
from a model that translates the other way, and links combined from two directions."""

import json

import pytest
import torch
from helpers import ROOT
from safetensors.torch import load_file

from seq2seq import Translator
from seq2seq.bidirectional import combine_links, transpose
from seq2seq.evaluate import read_test_set
from seq2seq.training.config import ConfigError, load_config
from seq2seq.training.loop import train
from seq2seq.translator import resolve_model_path

TINY = str(ROOT / "configs" / "tiny.yaml")
TINY_EN_ZH = str(ROOT / "configs" / "tiny-en-zh.yaml")


@pytest.fixture(scope="module")
def en_zh_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("en-zh")
    result = train(load_config(TINY_EN_ZH, ["train.max_steps=150", "train.eval_every=150"]), out)
    return out, result


def test_tiny_en_zh_config_trains_and_writes_its_direction(en_zh_run):
    out, result = en_zh_run
    assert result["step"] == 150 and result["dev"]["sample-dev"]["bleu"] > 5  # scored with sacreBLEU's zh tokenizer
    tr = Translator.load(out / "last")
    cfg = tr.config
    assert (cfg.direction, cfg.direction.source, cfg.direction.target) == ("en-zh", "en", "zh")
    assert json.loads((out / "last" / "config.json").read_text())["direction"] == "en-zh"
    # Traditional -> Simplified applies to the Chinese side, here the target
    assert not tr.codec.src_tok.t2s and tr.codec.tgt_tok.t2s
    t = tr.translate("Thank you.", beam_size=1)[0]
    assert t.text and not any("a" <= c <= "z" for c in t.text)  # Chinese out
    # Chinese units on the target side, whitespace words on the source side
    a = tr.align(["Thank you ."], ["谢谢 你 。"], pretokenized=True)[0]
    assert a.source_words == ["Thank", "you", "."] and a.target_words == ["谢谢", "你", "。"]


def test_warm_start_from_the_other_direction_swaps_the_embeddings(tmp_path, en_zh_run):
    src_run, _ = en_zh_run
    out = tmp_path / "zh-en"
    train(
        load_config(
            TINY,
            [
                "train.max_steps=1",
                "train.eval_every=1000",
                "train.lr=1e-12",
                "train.warmup_steps=1",
                f"train.init_from={src_run / 'last'}",
                "model.dropout=0.0",
            ],
        ),
        out,
    )
    before, after = (
        load_file(str(src_run / "last" / "model.safetensors")),
        load_file(str(out / "last" / "model.safetensors")),
    )
    assert torch.allclose(after["src_embed.lut.weight"], before["tgt_embed.lut.weight"], atol=1e-6)
    assert torch.allclose(after["tgt_embed.lut.weight"], before["src_embed.lut.weight"], atol=1e-6)
    enc = "encoder.layers.0.feed_forward.w_1.weight"
    if enc in before:
        assert torch.allclose(after[enc], before[enc], atol=1e-6)
    assert Translator.load(out / "last").config.direction == "zh-en"


def test_direction_is_checked_and_test_sets_read_the_other_way(tmp_path):
    with pytest.raises(ConfigError, match="direction"):
        load_config(TINY, ["direction=zh-fr"])
    (tmp_path / "t.zh").write_text("谢谢。\n", encoding="utf-8")
    (tmp_path / "t.en").write_text("Thanks.\n", encoding="utf-8")
    ts = read_test_set(str(tmp_path / "t"), "en-zh")
    assert ts.sources == ["Thanks."] and ts.references == ["谢谢。"]


def test_shipped_models_load_by_name():
    assert resolve_model_path("zh-en") == resolve_model_path(None)
    assert resolve_model_path("no/such/folder").name == "folder"


def test_links_from_two_directions_combine():
    forward = [(0, 0), (1, 2), (2, 1)]  # (Chinese word, English word) from the zh-en head
    backward = [(0, 0), (1, 2), (3, 3)]  # (English word, Chinese word) from the en-zh head
    assert transpose(backward) == [(0, 0), (2, 1), (3, 3)]
    assert combine_links(forward, backward, "intersection") == [(0, 0), (2, 1)]
    assert combine_links(forward, backward, "union") == [(0, 0), (1, 2), (2, 1), (3, 3)]
    grown = combine_links(forward, backward, "grow-diag")
    assert set(combine_links(forward, backward, "intersection")) <= set(grown) <= {(0, 0), (1, 2), (2, 1), (3, 3)}
    with pytest.raises(ValueError):
        combine_links(forward, backward, "average")


GOLD = {
    "zh": "我 喜欢 吃 苹果 。\n谢谢 你 。\n",
    "en": "I like to eat apples .\nThank you .\n",
    "gold": "0-0 1-1 2-3 3-4 4-5 2p2\n0-0 0-1 1p1 2-2\n",
}


def test_align_test_reads_a_gold_set_in_the_models_direction(tmp_path, en_zh_run, toy_translator):
    """An en-zh model aligns the gold set (Chinese word first) as English -> Chinese and its links are
    transposed before scoring; --reverse-model adds each head alone and every combination."""
    from seq2seq.align import SYMMETRIZE
    from seq2seq.evaluate import main

    for ext, text in GOLD.items():
        (tmp_path / f"g.{ext}").write_text(text, encoding="utf-8")
    en_zh = Translator.load(en_zh_run[0] / "last")
    zh_en = toy_translator.save(tmp_path / "zh-en")
    assert (
        main(
            [
                "--model",
                str(en_zh_run[0] / "last"),
                "--align-test",
                str(tmp_path / "g"),
                "--reverse-model",
                str(zh_en),
                "--output-dir",
                str(tmp_path / "e"),
            ]
        )
        == 0
    )
    rows = json.loads((tmp_path / "e" / "report.json").read_text())["alignment"]
    default = next(r for r in rows if r["default"])
    aligned = en_zh.align(GOLD["en"].splitlines(), GOLD["zh"].splitlines(), pretokenized=True)
    from seq2seq.aer import alignment_error_rate, read_gold

    expected = alignment_error_rate([transpose(a.links) for a in aligned], read_gold(str(tmp_path / "g.gold")))
    assert default["aer"] == pytest.approx(expected.aer)
    both = {r["method"]: r for r in rows if r["english"] == "as given" and not r["method"][0].isdigit()}
    assert {"zh-en head", "en-zh head (transposed)"} | {f"both, {rule}" for rule in SYMMETRIZE} <= set(both)
    assert both["en-zh head (transposed)"]["aer"] == pytest.approx(expected.aer)
    # two models of one direction are refused
    assert (
        main(
            [
                "--model",
                str(zh_en),
                "--align-test",
                str(tmp_path / "g"),
                "--reverse-model",
                str(zh_en),
                "--output-dir",
                str(tmp_path / "e2"),
            ]
        )
        == 2
    )


def test_seq2seq_align_combines_two_directions(tmp_path, en_zh_run, toy_translator, capsys):
    from seq2seq.align import pharaoh
    from seq2seq.cli import align_main

    for ext, text in GOLD.items():
        (tmp_path / f"g.{ext}").write_text(text, encoding="utf-8")
    zh_en = toy_translator.save(tmp_path / "zh-en")
    en_zh = en_zh_run[0] / "last"
    out = tmp_path / "links.txt"
    assert (
        align_main(
            [
                "--model",
                str(zh_en),
                "--reverse-model",
                str(en_zh),
                "--combine",
                "union",
                "--pretokenized",
                str(tmp_path / "g.zh"),
                str(tmp_path / "g.en"),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    zh, en = GOLD["zh"].splitlines(), GOLD["en"].splitlines()
    fwd = Translator.load(zh_en).align(zh, en, pretokenized=True)
    bwd = Translator.load(en_zh).align(en, zh, pretokenized=True)
    assert out.read_text().splitlines() == [pharaoh(combine_links(a.links, b.links, "union")) for a, b in zip(fwd, bwd)]
    assert (
        align_main(
            ["--model", str(zh_en), "--reverse-model", str(zh_en), str(tmp_path / "g.zh"), str(tmp_path / "g.en")]
        )
        == 2
    )
    assert "other way" in capsys.readouterr().err


def test_seq2seq_align_pairs_a_shipped_model_with_the_other_shipped_one(tmp_path):
    """Read the default way, a shipped model's links are combined with the other shipped model's by default;
    'none', another reading, or a folder of one's own keep one model."""
    from seq2seq.cli import build_align_parser, reverse_model_arg

    assert reverse_model_arg(None, None, "default") == "en-zh"
    assert reverse_model_arg(None, "zh-en", "default") == "en-zh"
    assert reverse_model_arg(None, "en-zh", "default") == "zh-en"
    assert reverse_model_arg("none", None, "default") is None
    assert reverse_model_arg("NONE", "en-zh", "default") is None
    assert reverse_model_arg(None, None, "precise") is None
    assert reverse_model_arg(None, str(tmp_path), "default") is None
    assert reverse_model_arg(str(tmp_path), None, "precise") == str(tmp_path)
    from seq2seq.translator import PRETRAINED

    assert reverse_model_arg(None, str(PRETRAINED / "zh-en"), "default") == "en-zh"  # named by its path
    assert reverse_model_arg(None, "", "default") is None  # loading the model says what is wrong
    assert build_align_parser().get_default("combine") is None  # the rule's default: bidirectional.DEFAULT_RULE
