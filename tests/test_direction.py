"""English -> Chinese: a tiny en-zh run on the toy corpus, what a model folder's direction decides, warm start
from a model that translates the other way, and links combined from two directions."""

import json

import pytest
import torch
from safetensors.torch import load_file

from seq2seq import Translator
from seq2seq.bidirectional import combine_links, transpose
from seq2seq.evaluate import read_test_set
from seq2seq.training.config import ConfigError, load_config
from seq2seq.training.loop import train
from seq2seq.translator import resolve_model_path

from conftest import ROOT

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
    cfg = tr.folder_config
    assert (cfg.direction, cfg.source_lang, cfg.target_lang) == ("en-zh", "en", "zh")
    assert json.loads((out / "last" / "config.json").read_text())["direction"] == "en-zh"
    # Traditional -> Simplified applies to the Chinese side, here the target
    assert not tr.src_tok.t2s and tr.tgt_tok.t2s
    t = tr.translate("Thank you.", beam_size=1)[0]
    assert t.text and not any("a" <= c <= "z" for c in t.text)  # Chinese out
    # Chinese units on the target side, whitespace words on the source side
    a = tr.align(["Thank you ."], ["谢谢 你 。"], pretokenized=True)[0]
    assert a.source_words == ["Thank", "you", "."] and a.target_words == ["谢谢", "你", "。"]


def test_warm_start_from_the_other_direction_swaps_the_embeddings(tmp_path, en_zh_run):
    src_run, _ = en_zh_run
    out = tmp_path / "zh-en"
    train(load_config(TINY, ["train.max_steps=1", "train.eval_every=1000", "train.lr=1e-12", "train.warmup_steps=1",
                             f"train.init_from={src_run / 'last'}", "model.dropout=0.0"]), out)
    before, after = load_file(str(src_run / "last" / "model.safetensors")), load_file(str(out / "last" / "model.safetensors"))
    assert torch.allclose(after["src_embed.lut.weight"], before["tgt_embed.lut.weight"], atol=1e-6)
    assert torch.allclose(after["tgt_embed.lut.weight"], before["src_embed.lut.weight"], atol=1e-6)
    enc = "encoder.layers.0.feed_forward.w_1.weight"
    if enc in before:
        assert torch.allclose(after[enc], before[enc], atol=1e-6)
    assert Translator.load(out / "last").folder_config.direction == "zh-en"


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
