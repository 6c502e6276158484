"""The training CLI on configs/tiny.yaml (the toy corpus in data/sample/)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
import torch
from helpers import ROOT, sample_pairs
from safetensors.torch import load_file

from seq2seq import Translator
from seq2seq.average import average_run, average_state_dicts
from seq2seq.training.cli import main
from seq2seq.training.config import ConfigError, load_config
from seq2seq.training.loop import train

TINY = str(ROOT / "configs" / "tiny.yaml")


def cfg(*overrides):
    return load_config(TINY, list(overrides))


def weights(run_dir, which="last"):
    return load_file(str(run_dir / which / "model.safetensors"))


def assert_same_weights(a, b, atol=0.0):
    assert a.keys() == b.keys()
    for k in a:
        if atol:
            assert torch.allclose(a[k], b[k], atol=atol), k
        else:
            assert torch.equal(a[k], b[k]), k


def test_tiny_config_trains_loss_falls_and_saves_model_folders(tmp_path):
    result = train(cfg("train.max_steps=120", "train.eval_every=60"), tmp_path)
    losses = [loss for _, loss in result["losses"]]
    assert losses[-1] < 0.6 * losses[0]
    assert result["step"] == 120 and result["dev"]["sample-dev"]["bleu"] > 20
    for which in ("best", "last"):
        tr = Translator.load(tmp_path / which)
        assert tr.translate(["谢谢你。"])[0].text
    assert (tmp_path / "last" / "training_state.pt").exists() and not (tmp_path / "best" / "training_state.pt").exists()
    assert len(list((tmp_path / "checkpoints").glob("step-*.safetensors"))) == 2
    assert "sample-dev" in json.loads((tmp_path / "best" / "config.json").read_text())["extra"]["dev"]
    log = (tmp_path / "train.log").read_text()
    assert "exact duplicates" in log and "padding" in log and "tgt tok/s" in log


def test_same_seed_same_weights(tmp_path):
    train(cfg("train.max_steps=25"), tmp_path / "a")
    train(cfg("train.max_steps=25"), tmp_path / "b")
    train(cfg("train.max_steps=25", "seed=2"), tmp_path / "c")
    assert_same_weights(weights(tmp_path / "a"), weights(tmp_path / "b"))
    with pytest.raises(AssertionError):
        assert_same_weights(weights(tmp_path / "a"), weights(tmp_path / "c"))


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path):
    # dropout is on in the tiny config, so this also checks that the RNG state is restored
    train(cfg("train.max_steps=50"), tmp_path / "straight")
    train(cfg("train.max_steps=20"), tmp_path / "resumed")
    out = train(cfg("train.max_steps=50"), tmp_path / "resumed", resume=True)
    assert out["step"] == 50
    assert_same_weights(weights(tmp_path / "straight"), weights(tmp_path / "resumed"))
    assert "resumed from" in (tmp_path / "resumed" / "train.log").read_text()


def test_ctrl_c_saves_and_resume_continues(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "seq2seq.train",
        "--config",
        TINY,
        "--output-dir",
        str(tmp_path),
        "train.max_steps=100000",
        "train.log_every=10",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = tmp_path / "train.log"
    deadline = time.time() + 120
    while time.time() < deadline and not (log.exists() and "step 30 " in log.read_text()):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, output
    assert "interrupted; state saved" in output
    state = json.loads((tmp_path / "last" / "config.json").read_text())["extra"]["state"]
    assert state["step"] >= 30
    out = train(cfg(f"train.max_steps={state['step'] + 5}"), tmp_path, resume=True)
    assert out["step"] == state["step"] + 5


@pytest.mark.slow
def test_two_gloo_processes_agree_with_one_process_with_the_same_global_batch(tmp_path):
    common = [
        "train.max_steps=12",
        "train.max_tokens=256",
        "model.dropout=0.0",
        "model.attention_dropout=0.0",
        "train.threads=1",
        "train.eval_every=1000",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "seq2seq.train",
            "--config",
            TINY,
            "--output-dir",
            str(tmp_path / "ddp"),
            *common,
        ],
        check=True,
        env=env,
        capture_output=True,
        timeout=300,
    )
    train(cfg(*common, "train.accum_steps=2"), tmp_path / "single")
    assert_same_weights(weights(tmp_path / "ddp"), weights(tmp_path / "single"), atol=2e-5)
    log = (tmp_path / "ddp" / "train.log").read_text()
    assert log.count("stopped (max_steps=12)") == 1  # only rank 0 writes


def test_hub_config_reaches_load_dataset(tmp_path):
    import datasets

    zh, en = sample_pairs()
    records = datasets.Dataset.from_list([{"translation": {"zh": z, "en": e}} for z, e in zip(zh, en)])
    real = datasets.load_dataset

    def fake(*args, **kwargs):
        if args and args[0] == "someone/zh-en-corpus":
            return records
        return real(*args, **kwargs)  # local files (the dev set) load as usual

    with mock.patch("datasets.load_dataset", side_effect=fake) as load:
        out = train(
            cfg("data.train=[{hub: someone/zh-en-corpus, config: zh-en, split: train}]", "train.max_steps=5"), tmp_path
        )
    assert mock.call("someone/zh-en-corpus", "zh-en", split="train") in load.call_args_list
    assert out["step"] == 5


def test_clear_errors(tmp_path, capsys):
    (tmp_path / "a.zh").write_text("一\n二\n", encoding="utf-8")
    (tmp_path / "a.en").write_text("one\n", encoding="utf-8")
    (tmp_path / "e.zh").write_text("\n \n", encoding="utf-8")
    (tmp_path / "e.en").write_text("x\n\n", encoding="utf-8")
    out = str(tmp_path / "run")
    assert (
        main(["--config", TINY, "--output-dir", out, f"data.train=[{{src: {tmp_path}/a.zh, tgt: {tmp_path}/a.en}}]"])
        == 2
    )
    err = capsys.readouterr().err
    assert "a.zh has 2 lines" in err and "a.en has 1" in err
    assert (
        main(["--config", TINY, "--output-dir", out, f"data.train=[{{src: {tmp_path}/e.zh, tgt: {tmp_path}/e.en}}]"])
        == 2
    )
    assert "no training pairs are left after cleaning" in capsys.readouterr().err
    assert (
        main(
            [
                "--config",
                TINY,
                "--output-dir",
                out,
                f"data.dev=[{{src: {tmp_path}/nodev.zh, tgt: {tmp_path}/nodev.en}}]",
                "train.max_steps=1",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "source file not found" in err and "nodev.zh" in err
    with pytest.raises(SystemExit) as e:  # a usage error, before the config is read
        main(["--config", TINY, "--output-dir", out, "--max-time", "soon"])
    assert e.value.code == 2 and "cannot read duration" in capsys.readouterr().err
    assert main(["--config", TINY, "--output-dir", out, "train.max_time=soon"]) == 2
    assert "cannot read duration" in capsys.readouterr().err
    assert main(["--config", TINY, "--output-dir", out, "train.max_steps=0", "train.cooldown_steps=5"]) == 2
    assert "cooldown_steps needs --max-steps" in capsys.readouterr().err


def test_cooldown_takes_the_lr_linearly_to_zero_at_max_steps():
    from seq2seq.training.loop import lr_lambda

    plain, cool = lr_lambda(10), lr_lambda(10, max_steps=100, cooldown=20)
    assert [cool(s) for s in (0, 9, 50, 80)] == [plain(s) for s in (0, 9, 50, 80)]
    assert cool(90) == pytest.approx(plain(90) * 0.5) and cool(99) == pytest.approx(plain(99) / 20) and cool(100) == 0
    with pytest.raises(ConfigError, match="max_steps"):  # the config says so before a schedule is made
        cfg("train.max_steps=0", "train.cooldown_steps=20")


def test_average_of_checkpoints(tmp_path):
    train(cfg("train.max_steps=60", "train.save_every=20", "train.eval_every=1000"), tmp_path)
    ckpts = sorted((tmp_path / "checkpoints").glob("*.safetensors"))
    assert len(ckpts) == 3
    avg = average_state_dicts(ckpts)
    parts = [load_file(str(p)) for p in ckpts]
    k = "encoder.layers.0.feed_forward.w_1.weight"
    assert torch.allclose(avg[k], (parts[0][k] + parts[1][k] + parts[2][k]) / 3, atol=1e-6)
    folder = average_run(tmp_path, 3, tmp_path / "avg")
    assert torch.allclose(Translator.load(folder).torch.model.state_dict()[k], avg[k])
    from seq2seq.average import main as average_main

    assert average_main([str(tmp_path), "--last", "0", "--output", str(tmp_path / "avg0")]) == 2
    assert not (tmp_path / "avg0").exists()


def test_unknown_config_keys_are_errors(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["--config", TINY, "--output-dir", out, "train.max_stepz=5"]) == 2
    err = capsys.readouterr().err
    assert "train.max_stepz" in err and "max_steps" in err  # names the typo and lists the valid keys
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(TINY).read_text().replace("max_steps: 300", "max_stepz: 300"), encoding="utf-8")
    assert main(["--config", str(bad), "--output-dir", out]) == 2
    assert "max_stepz" in capsys.readouterr().err
    assert main(["--config", TINY, "--output-dir", out, "modle.d_model=8"]) == 2
    assert "modle" in capsys.readouterr().err
    assert cfg("train.lr=1e-3").train.lr == 0.001  # YAML 1.1 would read 1e-3 as a string


def test_a_folder_holding_a_run_is_refused_without_resume_or_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    train(cfg("train.max_steps=4", "train.eval_every=2", "train.keep_checkpoints=3"), out)
    assert sorted(p.name for p in (out / "checkpoints").glob("*.safetensors")) == [
        "step-2.safetensors",
        "step-4.safetensors",
    ]
    assert main(["--config", TINY, "--output-dir", str(out), "train.max_steps=2"]) == 2
    assert "--resume" in capsys.readouterr().err and (out / "best").exists()
    assert (
        main(["--config", TINY, "--output-dir", str(out), "--overwrite", "train.max_steps=2", "train.eval_every=2"])
        == 0
    )
    assert [p.name for p in (out / "checkpoints").glob("*.safetensors")] == ["step-2.safetensors"]
    assert json.loads((out / "best" / "config.json").read_text())["extra"]["state"]["step"] == 2


def test_a_folder_in_use_is_refused(tmp_path):
    import fcntl

    from seq2seq.training.run_folder import RunFolderError

    out = tmp_path / "run"
    out.mkdir()
    with open(out / ".lock", "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RunFolderError, match="in use"):
            train(cfg("train.max_steps=1"), out)


def test_missing_tensorboard_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails as if not installed
    assert main(["--config", TINY, "--output-dir", str(tmp_path / "run"), "train.tensorboard=true"]) == 2
    assert "pip install 'seq2seq-zhen[tensorboard]'" in capsys.readouterr().err


def test_source_weights_up_and_down_sample(tmp_path):
    from seq2seq.training.data import load_training_pairs
    from seq2seq.training.settings import TrainConfig

    def write(name, n):
        (tmp_path / f"{name}.zh").write_text("".join(f"第{name}{i}句。\n" for i in range(n)), encoding="utf-8")
        (tmp_path / f"{name}.en").write_text("".join(f"Sentence {name} {i}.\n" for i in range(n)), encoding="utf-8")
        return {"name": name, "src": str(tmp_path / f"{name}.zh"), "tgt": str(tmp_path / f"{name}.en")}

    specs = [write("a", 10) | {"weight": 2.5}, write("b", 20) | {"weight": 0.25}, write("c", 4)]
    cfg = TrainConfig.from_dict({"data": {"train": specs}})
    pairs, counts, _ = load_training_pairs(cfg, lambda *a, **k: None)
    assert counts == {"a": 10, "b": 20, "c": 4}  # kept pairs before weighting
    per = {name: [p for p in pairs if f" {name} " in p[1]] for name in "abc"}
    assert [len(per[n]) for n in "abc"] == [25, 5, 4]
    assert all(per["a"].count(p) in (2, 3) for p in set(per["a"])) and len(set(per["a"])) == 10
    assert len(set(per["b"])) == 5
    again, _, _ = load_training_pairs(cfg, lambda *a, **k: None)
    assert again == pairs  # the sample is fixed by the seed
    specs[2]["weight"] = 0  # refused when the config is read
    with pytest.raises(ConfigError, match="data.train: weight of c must be a number > 0, got 0 .leave a source out"):
        TrainConfig.from_dict({"data": {"train": specs}})


def test_placeholder_weight_samples_the_pairs_that_carry_placeholders(tmp_path):
    from seq2seq.training.data import load_training_pairs
    from seq2seq.training.settings import TrainConfig

    chars = [chr(0x4E00 + 7 * i) for i in range(40)]  # 40 different sentences, no digits (numbers are masked too)
    zh = [f"{c}说到了 Anna Smith。" if i % 4 == 0 else f"{c}说了。" for i, c in enumerate(chars)]
    en = [f"{'x' * (i + 1)} mentions Anna Smith." if i % 4 == 0 else f"{'x' * (i + 1)} said." for i in range(40)]
    (tmp_path / "a.zh").write_text("\n".join(zh) + "\n", encoding="utf-8")
    (tmp_path / "a.en").write_text("\n".join(en) + "\n", encoding="utf-8")
    (tmp_path / "a.links").write_text("".join(f"{i}-0\n" for i in range(40)), encoding="utf-8")  # line i: (i, 0)
    spec = {
        "name": "a",
        "src": str(tmp_path / "a.zh"),
        "tgt": str(tmp_path / "a.en"),
        "links": str(tmp_path / "a.links"),
    }

    def load(weight):
        raw = {"data": {"train": [spec], "placeholder_weight": weight}, "tokenizer": {"placeholders": 4}}
        pairs, _, links = load_training_pairs(TrainConfig.from_dict(raw), lambda *a, **k: None)
        line = [(ls.links if hasattr(ls, "links") else ls)[0][0] for ls in links]  # the line each pair's links are of
        assert [p[0][0] for p in pairs] == [chars[i] for i in line]  # every pair keeps its own links
        return pairs

    once, heavy, light = load(1.0), load(2.5), load(0.5)
    marked = [p for p in once if "\u27e60\u27e7" in p[0]]
    assert len(once) == 40 and len(marked) == 10 and all("\u27e60\u27e7" in p[1] for p in marked)
    assert len(heavy) == 30 + 25  # 30 plain pairs once, 10 with placeholders 2.5 times
    assert all(heavy.count(p) in (2, 3) for p in marked) and all(heavy.count(p) == 1 for p in once if p not in marked)
    assert len(light) == 30 + 5 and all(light.count(p) <= 1 for p in marked)
    assert load(2.5) == heavy  # fixed by the seed
    with pytest.raises(ConfigError, match="placeholder_weight"):
        TrainConfig.from_dict({"data": {"placeholder_weight": 0}})
    with pytest.raises(ConfigError, match="placeholder_weight=3 needs tokenizer.placeholders"):
        TrainConfig.from_dict({"data": {"train": [spec], "placeholder_weight": 3}}).validate()


def test_a_warm_started_run_keeps_the_truecasing_model_of_its_start(tmp_path):
    """train.init_from a folder with truecase.model: the run's folders (last, best) and an average keep it."""
    from seq2seq.truecase import TRUECASE_FILE, Truecaser

    start = tmp_path / "start"
    train(cfg("train.max_steps=2", "train.eval_every=1000"), start)
    Truecaser({"i": "I", "beijing": "Beijing"}).save(start / "last" / TRUECASE_FILE)
    run = tmp_path / "run"
    train(
        cfg("train.max_steps=2", "train.eval_every=2", "train.save_every=1", f"train.init_from={start / 'last'}"), run
    )
    want = (start / "last" / TRUECASE_FILE).read_bytes()
    for folder in (run / "last", run / "best", average_run(run, 2, tmp_path / "avg")):
        assert (folder / TRUECASE_FILE).read_bytes() == want
        assert Translator.load(folder).codec.truecaser is not None
