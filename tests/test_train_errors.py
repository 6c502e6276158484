"""Training: budgets across resumes, the final evaluation, links, early config checks, train.log."""

import json
import sys

import pytest
from helpers import ROOT

from seq2seq.average import main as average_main
from seq2seq.training.cli import main
from seq2seq.training.config import load_config
from seq2seq.training.loop import train
from seq2seq.training.run_folder import resumed_config

TINY = str(ROOT / "configs" / "tiny.yaml")


def cfg(*overrides):
    return load_config(TINY, list(overrides))


def saved_train_config(run):
    return json.loads((run / "last" / "config.json").read_text())["extra"]["train_config"]["train"]


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """7 steps with eval_every 100: never evaluated in the loop; a save every 2 steps (3 checkpoints + the last)."""
    out = tmp_path_factory.mktemp("short") / "run"
    result = train(cfg("train.max_steps=7", "train.save_every=2", "train.keep_checkpoints=5"), out)
    return out, result


# ---- 6: --resume keeps the run's budget unless a new one is given
def test_resume_keeps_the_saved_budget_unless_given():
    saved = cfg("train.max_time=3m", "train.max_steps=0")
    given = cfg("train.max_steps=0")  # resumed without --max-time
    logged = []
    assert resumed_config(saved, given, logged.append).train.max_time == "3m"
    assert "max_time=3m kept" in logged[0]
    assert resumed_config(saved, cfg("train.max_time=1h"), print).train.max_time == "1h"  # a new one replaces
    assert resumed_config(cfg("train.max_steps=50"), given, print).train.max_steps == 50
    assert resumed_config(cfg("train.max_steps=50"), cfg("train.max_steps=80"), print).train.max_steps == 80
    assert resumed_config(saved, cfg("train.eval_every=7"), print).train.eval_every == 7  # as before


def test_a_resumed_run_stops_at_the_saved_time_budget(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["--config", TINY, "--output-dir", str(out), "--max-time", "1", "train.max_steps=0"]) == 0
    step = json.loads((out / "last" / "config.json").read_text())["extra"]["state"]["step"]
    # Resumed without --max-time (and no step limit): the 1-second budget is spent, so it stops at once.
    assert main(["--config", TINY, "--output-dir", str(out), "--resume", "train.max_steps=0"]) == 0
    log = (out / "train.log").read_text()
    assert "stopped (max_time=1)" in log.split("resumed from")[-1]
    assert json.loads((out / "last" / "config.json").read_text())["extra"]["state"]["step"] == step
    # A new --max-time replaces the budget.
    assert (
        main(["--config", TINY, "--output-dir", str(out), "--resume", "--max-time", "1h", "--max-steps", str(step + 2)])
        == 0
    )
    assert saved_train_config(out)["max_time"] == "1h"
    assert json.loads((out / "last" / "config.json").read_text())["extra"]["state"]["step"] == step + 2


# ---- 7: a run is evaluated when it stops, and best/ holds evaluated weights only
def test_a_short_run_is_evaluated_when_it_stops(short_run):
    out, result = short_run
    assert result["step"] == 7 and result["dev"] and "sample-dev" in result["dev"]
    log = (out / "train.log").read_text()
    assert "final evaluation at step 7" in log and "eval step 7 " in log
    best = json.loads((out / "best" / "config.json").read_text())["extra"]
    assert best["state"]["step"] == 7 and "sample-dev" in best["dev"]  # the weights that were evaluated


def test_no_dev_set_no_best(tmp_path):
    result = train(cfg("data.dev=[]", "train.max_steps=3"), tmp_path / "run")
    assert result["step"] == 3 and (tmp_path / "run" / "last").is_dir()
    assert not (tmp_path / "run" / "best").exists()  # nothing was evaluated


def test_no_second_evaluation_when_the_last_step_was_evaluated(tmp_path):
    train(cfg("train.max_steps=4", "train.eval_every=2"), tmp_path / "run")
    log = (tmp_path / "run" / "train.log").read_text()
    assert log.count("eval step 4 ") == 1 and "final evaluation" not in log


# ---- 8: alignment.weight 0 needs no links files
def test_weight_zero_needs_no_links(tmp_path, capsys):
    sample = ROOT / "data" / "sample"
    source = f"{{src: {sample}/train.zh, tgt: {sample}/train.en, links: {tmp_path}/absent.links}}"
    out = tmp_path / "run"
    assert (
        main(
            [
                "--config",
                TINY,
                "--output-dir",
                str(out),
                f"data.train=[{source}]",
                "train.max_steps=2",
                "alignment.weight=0",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "--config",
                TINY,
                "--output-dir",
                str(tmp_path / "run2"),
                f"data.train=[{source}]",
                "train.max_steps=2",
                "alignment.weight=0.5",
            ]
        )
        == 2
    )
    assert "links file not found" in capsys.readouterr().err


# ---- 9: values are checked with the config; a failed start leaves the folder reusable
@pytest.mark.parametrize(
    "override, message",
    [
        ("train.max_steps=abc", "train.max_steps must be an integer >= 0, got 'abc'"),
        ("train.lr=-1", "train.lr must be a number > 0, got -1"),
        ("train.precision=fp16", "train.precision must be one of bf16, fp32"),
        ("model.dropout=1.5", "model.dropout must be a number >= 0 and < 1"),
        ("model.n_heads=3", "d_model=64 is not divisible by n_heads=3"),
        ("alignment.head=9", "alignment.head=9 does not exist"),
        ("train.tensorboard=yes please", "train.tensorboard must be true or false"),
    ],
)
def test_bad_values_fail_before_any_work(tmp_path, capsys, override, message):
    out = tmp_path / "run"
    assert main(["--config", TINY, "--output-dir", str(out), override]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()  # nothing was started: no folder, no data read


def test_overrides_may_follow_the_options(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["--config", TINY, "--output-dir", str(out), "--max-steps", "3", "train.lr=-1"]
    assert main(argv) == 2  # read as an override (and refused), not an argparse usage error
    assert "train.lr must be a number > 0, got -1" in capsys.readouterr().err


def test_integral_numbers_are_ints():
    assert cfg("train.max_steps=1e3").train.max_steps == 1000  # every stage in configs/: tests/test_config.py


def test_a_run_that_fails_before_its_first_save_leaves_the_folder_reusable(tmp_path, capsys):
    out = tmp_path / "run"
    # The tokenizers are trained, then the dev set is missing.
    assert (
        main(
            [
                "--config",
                TINY,
                "--output-dir",
                str(out),
                f"data.dev=[{{src: {tmp_path}/no.zh, tgt: {tmp_path}/no.en}}]",
                "train.max_steps=2",
            ]
        )
        == 2
    )
    assert "no.zh" in capsys.readouterr().err
    assert not (out / "tokenizers").exists() and not (out / "last").exists()
    assert main(["--config", TINY, "--output-dir", str(out), "train.max_steps=2"]) == 0  # no --overwrite needed
    assert (out / "last").is_dir()


# ---- 10: train.log gets every progress line, also when a progress bar is on the terminal
def test_train_log_has_every_progress_line_under_a_bar(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    train(cfg("train.max_steps=40", "train.log_every=10", "train.eval_every=1000"), tmp_path / "run")
    log = (tmp_path / "run" / "train.log").read_text()
    steps = [int(line.split("] step ")[1].split()[0]) for line in log.splitlines() if "] step " in line]
    assert steps == [10, 20, 30, 40]


# ---- 11: --last larger than the checkpoints kept: a warning naming the count
def test_average_warns_when_fewer_checkpoints_than_asked(short_run, tmp_path, capsys):
    out, _ = short_run
    kept = len(list((out / "checkpoints").glob("step-*.safetensors")))
    assert kept == 4  # steps 2, 4, 6 and 7
    assert average_main([str(out), "--last", "9", "--output", str(tmp_path / "avg")]) == 0
    err = capsys.readouterr().err
    assert f"--last 9, but {out}/checkpoints holds only {kept} checkpoints: averaging those {kept}" in err
    assert average_main([str(out), "--last", "2", "--output", str(tmp_path / "avg2")]) == 0
    assert "warning" not in capsys.readouterr().err


# ---- 3: the shipped configs come with a clone; a bare name finds ./configs/NAME.yaml
def test_config_names_and_a_missing_config(tmp_path, monkeypatch, capsys):
    from seq2seq.training.cli import find_config

    monkeypatch.chdir(ROOT)
    assert find_config("tiny") == "configs/tiny.yaml"
    monkeypatch.chdir(tmp_path)  # as after pip install, outside a clone
    assert main(["--config", "tiny", "--output-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "config file not found: tiny" in err and "clone" in err


# ---- issue 38, item 12: --max-steps 0 is refused; a budget given to a resume is the one the next resume keeps
@pytest.mark.parametrize(
    "argv, message",
    [
        (["--max-steps", "0"], "argument --max-steps: must be at least 1, got 0"),
        (["--max-steps", "-3"], "argument --max-steps: must be at least 1, got -3"),
        (["--max-time", "0"], "argument --max-time: must be more than 0"),
        (["--max-time", "0m"], "argument --max-time: must be more than 0"),
        (["--max-time", "soon"], "argument --max-time: cannot read duration 'soon'"),
    ],
)
def test_a_budget_of_nothing_is_a_usage_error(tmp_path, capsys, argv, message):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as e:
        main(["--config", TINY, "--output-dir", str(out), *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and message in err and "Traceback" not in err
    assert not out.exists()


def test_only_the_command_line_replaces_a_resumed_budget():
    saved, from_file = cfg("train.max_steps=340"), cfg()  # configs/tiny.yaml says max_steps: 300
    logged = []
    assert resumed_config(saved, from_file, logged.append, command_line=set()).train.max_steps == 340
    assert "train.max_steps=340 kept from the run" in logged[0]
    given = cfg("train.max_steps=400")
    assert resumed_config(saved, given, print, command_line={"train.max_steps"}).train.max_steps == 400
    # evaluation settings still come from the config given
    assert resumed_config(saved, cfg("train.eval_every=7"), print, command_line=set()).train.eval_every == 7


def test_a_plain_resume_goes_on_with_the_budget_the_last_resume_gave(tmp_path):
    out = tmp_path / "run"
    run = ["--config", TINY, "--output-dir", str(out), "train.eval_every=1000"]
    assert main([*run, "--max-steps", "2"]) == 0
    assert main([*run, "--resume", "--max-steps", "3"]) == 0
    assert saved_train_config(out)["max_steps"] == 3
    assert main([*run, "--resume"]) == 0  # tiny.yaml says max_steps: 300; the run's own 3 is kept
    log = (out / "train.log").read_text()
    assert log.count("train.max_steps=3 kept from the run") == 1
    assert [ln.split("] ", 1)[1].split(",")[0] for ln in log.splitlines() if "] stopped (" in ln] == [
        "stopped (max_steps=2) at step 2",
        "stopped (max_steps=3) at step 3",
        "stopped (max_steps=3) at step 3",
    ]
    assert json.loads((out / "last" / "config.json").read_text())["extra"]["state"]["step"] == 3
