"""One translator, two engines: the same folder through CTranslate2 gives our translations, scores and word links,
and what CTranslate2 cannot give comes from the PyTorch engine of the same folder."""

import json

import numpy as np
import pytest

ctranslate2 = pytest.importorskip("ctranslate2")

from helpers import OVERFIT_PAIRS  # noqa: E402

from seq2seq import ModelFolderError, Translator  # noqa: E402
from seq2seq.ct2_engine import CT2_SUBDIR, STAMP  # noqa: E402
from seq2seq.export import main as export_main  # noqa: E402
from seq2seq.model_dir import FolderConfig  # noqa: E402

SENTENCES = [z for z, _ in OVERFIT_PAIRS] + [
    "我明天去北京。",
    "老师想喝茶。",
    "他们喜欢唱歌。",
    "我妈妈每天都做饭。",
    "你会打篮球吗？",
    "今天天氣很好。",
    "我们不喜欢看电影。",
    "谢谢。",
]


@pytest.fixture(scope="module")
def folder(toy_translator, tmp_path_factory):
    return toy_translator.save(tmp_path_factory.mktemp("ct2") / "model")


@pytest.fixture(scope="module")
def fast(folder):
    return Translator.load(folder)


def test_load_searches_with_ctranslate2_and_keeps_the_export_beside_the_weights(folder, fast):
    assert fast.backend == "ctranslate2"
    assert json.loads((folder / CT2_SUBDIR / STAMP).read_text())["model.safetensors"]
    assert Translator.load(folder, backend="torch").backend == "torch"


@pytest.mark.parametrize("beam", [1, 5])
def test_both_engines_give_the_same_translations_scores_and_links(toy_translator, fast, beam):
    ours = toy_translator.translate(SENTENCES, beam_size=beam, nbest=beam)
    theirs = fast.translate(SENTENCES, beam_size=beam, nbest=beam)
    for a, b in zip(ours, theirs):
        assert [h.text for h in a.nbest] == [h.text for h in b.nbest]
        assert [h.score for h in a.nbest] == pytest.approx([h.score for h in b.nbest], abs=1e-3)
        assert b.search == "ctranslate2" and b.cross_attention is None
        assert np.allclose(a.alignment_attention[1:], b.alignment_attention[1:], atol=1e-4)  # row 0: not read
        assert a.coverage is None or a.coverage.links == b.coverage.links


def test_prefixes_through_ctranslate2_score_and_rank_as_ours(toy_translator, fast):
    prefix = ["I", None, "The", "They", None, "Thank"] + [None] * 8
    ours = toy_translator.translate(SENTENCES, beam_size=4, nbest=4, prefix=prefix)
    theirs = fast.translate(SENTENCES, beam_size=4, nbest=4, prefix=prefix)
    for a, b in zip(ours, theirs):
        assert [h.text for h in a.nbest] == [h.text for h in b.nbest]
        assert [h.normalized_score for h in a.nbest] == pytest.approx([h.normalized_score for h in b.nbest], abs=1e-3)


def test_what_ctranslate2_cannot_give_comes_from_pytorch(toy_translator, fast):
    t = fast.translate(SENTENCES[:2], return_topk=3, return_tree=True, return_attention="all")
    own = toy_translator.translate(SENTENCES[:2], return_topk=3, return_tree=True, return_attention="all")
    for a, b in zip(t, own):
        assert a.text == b.text and a.search == "torch"
        assert a.topk == b.topk and a.tree is not None and a.encoder_attention is not None
    aligned = fast.align(SENTENCES[:1], [OVERFIT_PAIRS[0][1]])[0]
    assert aligned.links == toy_translator.align(SENTENCES[:1], [OVERFIT_PAIRS[0][1]])[0].links


def test_a_length_cap_inside_a_batch_is_left_to_pytorch(toy_translator, fast):
    """CTranslate2 caps a batch; ours caps each sentence.  A sentence its own cap decides is searched on PyTorch."""
    short = ["谢谢。", SENTENCES[4]]
    ours = toy_translator.translate(short, beam_size=3, max_len_a=0.5, max_len_b=1)
    theirs = fast.translate(short, beam_size=3, max_len_a=0.5, max_len_b=1)
    assert [t.text for t in theirs] == [t.text for t in ours]
    assert any(t.search == "torch (length cap)" for t in theirs)


def test_the_alignment_head_comes_first_whichever_head_it_is(toy_translator, tmp_path):
    """CTranslate2 returns one layer's first head: the export moves the head there, which changes no output."""
    cfg = toy_translator.config
    head = {"method": "head", "layer": 0, "head": 2, "shift": True, "null_to_eos": True}
    folder_cfg = FolderConfig(model=cfg.model, alignment=head, direction=cfg.direction)
    tr = Translator.from_model(
        toy_translator.torch.model,
        *[getattr(toy_translator.codec, k) for k in ("src_tok", "tgt_tok")],
        folder_cfg,
        toy_translator.protos,
    )
    fast = Translator.load(tr.save(tmp_path / "m"))
    ours, theirs = tr.translate(SENTENCES, beam_size=3), fast.translate(SENTENCES, beam_size=3)
    assert [t.text for t in ours] == [t.text for t in theirs]
    for a, b in zip(ours, theirs):
        assert np.allclose(a.cross_attention[0, 2, 1:], b.alignment_attention[1:], atol=1e-4)
        assert not np.allclose(a.cross_attention[0, 0, 1:], b.alignment_attention[1:], atol=1e-3)


def test_new_weights_get_a_new_export(toy_translator, tmp_path):
    folder = toy_translator.save(tmp_path / "m")
    Translator.load(folder)
    first = json.loads((folder / CT2_SUBDIR / STAMP).read_text())
    toy_translator.save(folder, dtype=__import__("torch").float16)  # other bytes: fp16 weights
    Translator.load(folder)
    assert json.loads((folder / CT2_SUBDIR / STAMP).read_text()) != first


def test_loading_ctranslate2_leaves_pytorch_its_threads(toy_translator, tmp_path):
    import torch

    folder = toy_translator.save(tmp_path / "m")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(3)  # CTranslate2 runs one thread per batch (intra_threads=1)
        assert Translator.load(folder).backend == "ctranslate2"
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


def test_editing_the_record_of_how_weights_were_made_keeps_the_export(toy_translator, tmp_path):
    folder = toy_translator.save(tmp_path / "m")
    fast = Translator.load(folder)
    stamp = json.loads((folder / CT2_SUBDIR / STAMP).read_text())
    config = json.loads((folder / "config.json").read_text())
    config["extra"] = {"init_from": "somewhere/else", "note": "edited after loading"}
    (folder / "config.json").write_text(json.dumps(config))
    assert fast.translate(["我明天去北京。"], return_topk=2)[0].topk  # the PyTorch engine still loads
    Translator.load(folder)
    assert json.loads((folder / CT2_SUBDIR / STAMP).read_text()) == stamp  # not exported again
    config["alignment"]["layer"] = 0  # what the export is made from: a new one
    (folder / "config.json").write_text(json.dumps(config))
    Translator.load(folder)
    assert json.loads((folder / CT2_SUBDIR / STAMP).read_text()) != stamp


def test_the_pytorch_engine_must_be_made_from_the_weights_the_search_uses(toy_translator, tmp_path):
    folder = toy_translator.save(tmp_path / "m")
    fast = Translator.load(folder)
    assert fast.backend == "ctranslate2" and fast.weights_stamp is not None
    toy_translator.save(folder, dtype=__import__("torch").float16)  # trained again in place: other weights
    with pytest.raises(ModelFolderError, match="changed after this translator loaded them"):
        fast.translate(["我明天去北京。"], return_topk=2)  # top-k needs the PyTorch engine
    again = Translator.load(folder)
    assert again.translate(["我明天去北京。"], return_topk=2)[0].topk


def test_an_export_folder_searches_and_says_what_it_cannot_do(folder, tmp_path):
    assert export_main(["--quantization", "int8", str(folder), str(tmp_path / "int8")]) == 0
    ct2 = Translator.load(tmp_path / "int8")
    out = ct2.translate(["我喜欢吃苹果。", ""], beam_size=2)
    assert out[0].text and out[1].text == "" and out[0].alignment_attention is not None
    with pytest.raises(ModelFolderError, match="no PyTorch weights"):
        ct2.translate(["我喜欢吃苹果。"], return_topk=2)
    # what PyTorch would decide (a prefix's score, a sentence its own length cap decides) is CTranslate2's alone here
    assert ct2.translate(["我喜欢吃苹果。"], prefix=["I"])[0].text.startswith("I")
    capped = ct2.translate(["我喜欢吃苹果。"], max_len_a=0, max_len_b=3)[0]
    assert capped.target_tokens[-1] == "</s>" and capped.search == "ctranslate2 (length cap)"
    with pytest.raises(ModelFolderError, match="CTranslate2 export"):
        Translator.load(tmp_path / "int8", backend="torch")


def test_ct2_checks_arguments_like_the_torch_engine(fast):
    with pytest.raises(ValueError, match="beam_size"):
        fast.translate(["谢谢。"], beam_size=0)
    with pytest.raises(TypeError, match="beem_size"):
        fast.translate(["谢谢。"], beem_size=3)
    with pytest.raises(TypeError, match="sentence 1"):
        fast.translate(["谢谢。", 5])
    assert fast.translate(["谢谢。"], return_attention=False)[0].alignment_attention is None


def test_placeholders_and_names_come_through_both_engines_alike(tmp_path):
    """A random tiny model with placeholder pieces and a name lexicon: its output is noise, so the placeholder
    limits are broken often, and both engines keep them the same way."""
    from helpers import placeholder_translator
    from test_names import hand_made_pairs

    from seq2seq.names import mine_names

    tr = placeholder_translator(names=mine_names(hand_made_pairs()))
    fast = Translator.load(tr.save(tmp_path / "m"))
    sentences = [
        "我们向蒂姆·库克的家人表示哀悼。",
        "GPT-4和ChatGPT由OpenAI开发。",
        "营收为1,234亿美元，约3万人。",
        "谢谢。",
    ]
    for kw in ({}, {"beam_size": 1}, {"prefix": ["Tim Cook", None, None, "Thank"]}):
        ours, theirs = tr.translate(sentences, **kw), fast.translate(sentences, **kw)
        assert [t.text for t in ours] == [t.text for t in theirs]
        assert [t.score for t in ours] == pytest.approx([t.score for t in theirs], abs=1e-3)
        for t, src in zip(theirs, sentences):  # every placeholder once at least, and never more than the source has
            assert all(t.target_tokens.count(s) >= 1 for s in t.placeholders), (src, t.target_tokens)
    assert "Tim Cook" in fast.translate(sentences[:1], prefix=["Tim Cook"])[0].text


def test_english_to_chinese_through_both_engines(toy_en_zh_translator, tmp_path):
    fast = Translator.load(toy_en_zh_translator.save(tmp_path / "m"))
    assert fast.backend == "ctranslate2" and fast.direction == "en-zh"
    english = [e for _, e in OVERFIT_PAIRS]
    ours, theirs = toy_en_zh_translator.translate(english), fast.translate(english)
    assert [t.text for t in theirs] == [t.text for t in ours] and all("苹果" in t.text for t in theirs[:1])


def test_no_repeat_ngram_is_the_same_rule_on_both_engines(tmp_path):
    """A random model repeats itself; no_repeat_ngram (CTranslate2's no_repeat_ngram_size) stops it alike on both."""
    from helpers import placeholder_translator

    tr = placeholder_translator()
    fast = Translator.load(tr.save(tmp_path / "m"))
    sentences = ["我们向 Frank 的家人表示哀悼。", "今天天气很好。", "谢谢。"]
    for n in (2, 3):
        ours = tr.translate(sentences, no_repeat_ngram=n, max_len_b=40)
        theirs = fast.translate(sentences, no_repeat_ngram=n, max_len_b=40)
        assert [t.text for t in ours] == [t.text for t in theirs]
        assert [t.score for t in ours] == pytest.approx([t.score for t in theirs], abs=1e-3)
        for t in theirs:
            grams = [tuple(t.target_tokens[i : i + n]) for i in range(len(t.target_tokens) - n + 1)]
            assert len(grams) == len(set(grams))
