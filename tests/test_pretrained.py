"""The default model shipped in the repository (seq2seq/pretrained/zh-en): it loads offline with no
argument, translates everyday sentences sensibly, and is what the command line and the app use."""

import numpy as np
import pytest
import torch
from helpers import ROOT

from seq2seq import DEFAULT_MODEL_DIR, Translator
from seq2seq.cli import translate_main
from seq2seq.model_dir import read_folder_config


@pytest.fixture(scope="module")
def default_translator():
    assert (DEFAULT_MODEL_DIR / "model.safetensors").exists(), f"the shipped model is missing from {DEFAULT_MODEL_DIR}"
    return Translator.load()


def test_shipped_folder_is_small_and_complete():
    files = {p.name: p.stat().st_size for p in DEFAULT_MODEL_DIR.iterdir() if p.is_file()}
    assert {"model.safetensors", "config.json", "source.model", "target.model", "README.md"} <= set(files)
    assert sum(files.values()) <= 40 * 2**20
    card = (DEFAULT_MODEL_DIR / "README.md").read_text(encoding="utf-8")
    for needed in ("BLEU", "chrF", "tatoeba", "newstest2017", "parameters", "licen"):
        assert needed.lower() in card.lower(), needed
    assert read_folder_config(DEFAULT_MODEL_DIR).decoding["beam_size"] == 5


@pytest.mark.parametrize("beam", [1, 5])
def test_default_model_translates_everyday_sentences(default_translator, beam):
    out = default_translator.translate(["我喜欢吃苹果。", "今天天气很好。", "你叫什么名字？"], beam_size=beam)
    apple, weather, name = (t.text.lower() for t in out)
    assert "apple" in apple
    assert "today" in weather and ("weather" in weather or beam == 1)  # greedy says "It's good today."
    assert "name" in name and name.endswith("?")
    assert default_translator.backend == "ctranslate2"  # the fast engine, with the head's attention
    for t in out:
        assert np.allclose(t.alignment_attention[1:].sum(-1), 1.0, atol=1e-4) and t.coverage.links


def test_default_model_weights_are_upcast_to_float32(default_translator):
    """The file stores fp16 (half the size); the model computes in fp32."""
    assert {p.dtype for p in default_translator.torch.model.parameters()} == {torch.float32}


def test_command_line_uses_the_default_model(tmp_path):
    (tmp_path / "in.zh").write_text("我喜欢吃苹果。\n\n", encoding="utf-8")
    assert translate_main(["--beam", "1", "-i", str(tmp_path / "in.zh"), "-o", str(tmp_path / "out.en")]) == 0
    lines = (tmp_path / "out.en").read_text(encoding="utf-8").split("\n")
    assert "apple" in lines[0].lower() and lines[1] == ""


def test_shipped_model_aligns_with_its_alignment_head(default_translator):
    cfg = read_folder_config(DEFAULT_MODEL_DIR)
    assert cfg.alignment["method"] == "head" and default_translator.align_method.head == cfg.alignment["head"]
    a = default_translator.align(["我 喜欢 苹果 。"], ["I like apples ."], pretokenized=True)[0]
    assert {(1, 1), (2, 2)} <= set(a.links)  # 喜欢-like, 苹果-apples


@pytest.mark.slow
def test_shipped_model_copies_names_and_numbers_of_our_list(capsys):
    """Regression check on tests/data/names_numbers (100 sentences of our own with names, acronyms, products,
    URLs, e-mail addresses, numbers and dates): the copy rate of the shipped model, printed."""
    from seq2seq.copyrate import copy_rate

    data = ROOT / "tests" / "data"
    zh = (data / "names_numbers.zh").read_text(encoding="utf-8").splitlines()
    en = (data / "names_numbers.en").read_text(encoding="utf-8").splitlines()
    hyps = [t.text for t in Translator.load().translate(zh, beam_size=5, return_attention=False)]
    rate = copy_rate(zh, en, hyps)
    with capsys.disabled():
        print(
            f"\nnames_numbers copy rate: Latin {rate.latin:.1%} ({rate.latin_copied}/{rate.latin_total}), "
            f"numbers {rate.number:.1%} ({rate.number_copied}/{rate.number_total})"
        )
    assert rate.latin >= 0.95 and rate.number >= 0.95


def test_shipped_name_lexicon_carries_the_names_it_knows(default_translator):
    """The shipped names.tsv (seq2seq.names): a name it knows is carried as its English, whole; a longer name
    that begins with a known part stays text."""
    lex = default_translator.codec.names
    assert lex is not None and len(lex) > 100
    text = "俄罗斯总统弗拉基米尔·普京与美国总统唐纳德·特朗普通了电话。"
    assert [(text[a:b], en) for a, b, en in lex.find(text)] == [
        ("弗拉基米尔·普京", "Vladimir Putin"),
        ("唐纳德·特朗普", "Donald Trump"),
    ]
    assert lex.find("约翰斯·霍普金斯大学的研究") == []
    out = default_translator.translate("苹果公司的CEO蒂姆·库克昨天访问了上海。")[0]
    assert "Tim Cook" in out.text and "蒂姆·库克" in out.source_tokens


def test_the_english_examples_of_the_demo_translate_as_promised():
    """An example is a promise: the shipped en-zh model's translation of each English example of the demo keeps its
    point (the friend, the name in characters, the amount in Chinese units, both sentences, the question)."""
    from seq2seq.app.inputs import EXAMPLES

    tr = Translator.load("en-zh")
    want = ["老朋友", "唐纳德·特朗普", "1,234亿美元", "今天天气很好", "图书馆在哪里"]
    out = [t.text for t in tr.translate(EXAMPLES["en"])]
    assert len(out) == len(want) and all(w in t for w, t in zip(want, out)), out


def test_the_en_zh_model_carries_a_name_it_never_learnt_in_latin_script():
    """seq2seq.known_words: the shipped en-zh folder lists the capitalised words its training English has; a name
    it lacks passes through as it stands, a name it knows is written in characters."""
    tr = Translator.load("en-zh")
    assert tr.codec.known_words is not None and "Frank" in tr.codec.known_words.words
    out = tr.translate("Louis Galicia said that Frank had stayed in shelters.")[0].text
    assert "Galicia" in out and "Frank" not in out, out
