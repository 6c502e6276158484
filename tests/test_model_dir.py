import json
import os

import pytest
import torch

from seq2seq.model_dir import CONFIG, SRC_SPM, TGT_SPM, WEIGHTS, ModelFolderError, atomic_replace_dir, recover_dir
from seq2seq.translator import Translator

SENTS = ["我喜欢吃苹果。", "今天天气很好。", "谢谢你。"]


@pytest.fixture()
def folder(toy_translator, tmp_path):
    return toy_translator.save(tmp_path / "model")


def test_save_and_load_give_identical_outputs(toy_translator, folder):
    loaded = Translator.load(folder, backend="torch")
    for k in (1, 4):
        a, b = toy_translator.translate(SENTS, beam_size=k), loaded.translate(SENTS, beam_size=k)
        assert [t.text for t in a] == [t.text for t in b]
        assert [t.score for t in a] == [t.score for t in b]
    sa, sb = toy_translator.torch.model.state_dict(), loaded.torch.model.state_dict()
    assert all(torch.equal(sa[n], sb[n]) for n in sa)
    assert json.loads((folder / CONFIG).read_text())["model"]["d_model"] == 64


def test_half_precision_weights_are_upcast(toy_translator, tmp_path):
    folder = toy_translator.save(tmp_path / "half", dtype=torch.float16)
    loaded = Translator.load(folder)
    assert all(p.dtype == torch.float32 for p in loaded.torch.model.parameters())
    assert (folder / WEIGHTS).stat().st_size < 0.6 * (toy_translator.save(tmp_path / "full") / WEIGHTS).stat().st_size
    assert [t.text for t in loaded.translate(SENTS, beam_size=1)] == [
        t.text for t in toy_translator.translate(SENTS, beam_size=1)
    ]


@pytest.mark.parametrize("name", [WEIGHTS, CONFIG, SRC_SPM, TGT_SPM])
def test_missing_file_is_named(folder, name):
    (folder / name).unlink()
    with pytest.raises(ModelFolderError, match=f"missing file {name}"):
        Translator.load(folder)


@pytest.mark.parametrize("name", [WEIGHTS, CONFIG, SRC_SPM, TGT_SPM])
def test_truncated_file_is_named(folder, name):
    data = (folder / name).read_bytes()
    (folder / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFolderError, match=name.replace(".", r"\.")):
        Translator.load(folder)


@pytest.mark.parametrize("name", [WEIGHTS, CONFIG, SRC_SPM, TGT_SPM])
def test_garbage_file_is_named(folder, name):
    (folder / name).write_bytes(os.urandom(300))
    with pytest.raises(ModelFolderError, match=name.replace(".", r"\.")):
        Translator.load(folder)


def test_config_that_disagrees_with_weights_is_named(folder):
    cfg = json.loads((folder / CONFIG).read_text())
    cfg["model"]["d_ff"] = 96
    (folder / CONFIG).write_text(json.dumps(cfg))
    with pytest.raises(ModelFolderError, match="does not match config.json"):
        Translator.load(folder)


def test_missing_folder(tmp_path):
    with pytest.raises(ModelFolderError, match="does not exist"):
        Translator.load(tmp_path / "nope")


def test_interrupted_save_leaves_the_old_folder(folder):
    before = sorted(p.name for p in folder.iterdir())

    def crash(tmp):
        (tmp / "half-written").write_text("x")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_replace_dir(crash, folder)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert [p.name for p in folder.parent.iterdir()] == ["model"]  # no temporary left behind
    Translator.load(folder)
    # A crash between the two renames leaves model.old, which recover_dir puts back.
    os.rename(folder, folder.with_name("model.old"))
    recover_dir(folder)
    Translator.load(folder)


def test_decoding_settings_left_out_of_config_take_the_defaults(folder):
    from seq2seq.model_dir import DECODING_DEFAULTS, read_folder_config

    raw = json.loads((folder / CONFIG).read_text())
    raw["decoding"] = {"length_penalty": 1.5}
    (folder / CONFIG).write_text(json.dumps(raw))
    assert read_folder_config(folder).decoding == {**DECODING_DEFAULTS, "length_penalty": 1.5}
    del raw["decoding"]
    (folder / CONFIG).write_text(json.dumps(raw))
    assert (
        read_folder_config(folder).decoding
        == DECODING_DEFAULTS
        == {"beam_size": 5, "length_penalty": 1.0, "max_len_a": 2.0, "max_len_b": 20, "no_repeat_ngram": 0}
    )


def test_saved_folders_respect_the_umask(toy_translator, tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        folder = toy_translator.save(tmp_path / "m")
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert {stat.S_IMODE(f.stat().st_mode) for f in folder.iterdir()} == {0o644}
