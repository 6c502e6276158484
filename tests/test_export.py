"""CTranslate2 export: the same model through CTranslate2 gives our translations."""

import pytest

ctranslate2 = pytest.importorskip("ctranslate2")

from helpers import OVERFIT_PAIRS  # noqa: E402

from seq2seq import Translator  # noqa: E402
from seq2seq.export import main as export_main  # noqa: E402

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
def exported(toy_translator, tmp_path_factory):
    folder = toy_translator.save(tmp_path_factory.mktemp("ct2") / "model")
    assert export_main(["--format", "ctranslate2", str(folder), str(folder / "ctranslate2")]) == 0
    return folder


def test_greedy_outputs_are_equal(toy_translator, exported):
    ct2 = Translator.load(exported, backend="ctranslate2")
    ours = [t.text for t in toy_translator.translate(SENTENCES, beam_size=1)]
    theirs = [t.text for t in ct2.translate(SENTENCES, beam_size=1)]
    assert theirs == ours


def test_beam_outputs_agree_on_nearly_all(toy_translator, exported, capsys):
    ct2 = Translator.load(exported, backend="ctranslate2")
    ours = toy_translator.translate(SENTENCES, beam_size=5)
    theirs = ct2.translate(SENTENCES, beam_size=5)
    same = sum(a.text == b.text for a, b in zip(ours, theirs))
    with capsys.disabled():
        print(f"\nbeam 5: CTranslate2 and PyTorch agree on {same}/{len(SENTENCES)} sentences")
    assert same >= len(SENTENCES) - 1
    for a, b in zip(ours, theirs):
        if a.text == b.text:
            assert a.normalized_score == pytest.approx(b.normalized_score, abs=1e-3)
            assert a.score == pytest.approx(b.score, abs=1e-3)  # a real log-probability, not nan


def test_ct2_checks_arguments_like_the_torch_backend(exported):
    ct2 = Translator.load(exported, backend="ctranslate2")
    with pytest.raises(ValueError, match="beam_size"):
        ct2.translate(["谢谢。"], beam_size=0)
    with pytest.raises(TypeError, match="beem_size"):
        ct2.translate(["谢谢。"], beem_size=3)
    with pytest.raises(TypeError, match="sentence 1"):
        ct2.translate(["谢谢。", 5])
    assert ct2.translate(["谢谢。"], return_attention=False)[0].text  # options of the other backend are accepted


def test_int8_export_loads_and_translates(exported, tmp_path):
    assert export_main(["--quantization", "int8", str(exported), str(tmp_path / "int8")]) == 0
    ct2 = Translator.load(tmp_path / "int8", backend="ctranslate2")
    out = ct2.translate(["我喜欢吃苹果。", ""], beam_size=2)
    assert out[0].text and out[1].text == "" and out[0].cross_attention is None


def test_missing_export_is_a_clear_error(toy_translator, tmp_path):
    from seq2seq import ModelFolderError

    folder = toy_translator.save(tmp_path / "m")
    with pytest.raises(ModelFolderError, match="seq2seq-export"):
        Translator.load(folder, backend="ctranslate2")
