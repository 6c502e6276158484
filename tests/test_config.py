"""seq2seq.training.config: defaults, YAML files, command-line overrides and their checks."""

import pytest

from seq2seq.training.config import (
    DEFAULTS,
    ConfigError,
    apply_override,
    complete_saved,
    deep_merge,
    load_config,
    parse_duration,
)


def test_defaults_without_a_file():
    cfg = load_config(None, [])
    assert cfg == load_config(None) and cfg is not DEFAULTS
    assert cfg["train"]["lr"] == DEFAULTS["train"]["lr"]


def test_file_and_overrides_merge_over_the_defaults(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("train:\n  lr: 0.001\nmodel:\n  d_model: 128\n  n_heads: 4\n")
    cfg = load_config(str(f), ["train.max_steps=20", "train.lr=1e-4"])
    assert cfg["model"]["d_model"] == 128 and cfg["train"]["max_steps"] == 20
    assert cfg["train"]["lr"] == 1e-4  # YAML reads 1e-4 as text; an override means the number
    assert cfg["train"]["warmup_steps"] == DEFAULTS["train"]["warmup_steps"]


def test_unknown_keys_and_bad_values_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="section.key=value"):
        apply_override({}, "train.lr")
    with pytest.raises(ConfigError, match="lerning_rate"):
        load_config(None, ["train.lerning_rate=1"])
    f = tmp_path / "list.yaml"
    f.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(str(f))
    with pytest.raises(ConfigError, match="train.lr"):
        load_config(None, ["train.lr=-1"])


def test_deep_merge_and_complete_saved():
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}
    saved = {"train": {"lr": 0.5}}
    full = complete_saved(saved)
    assert full["train"]["lr"] == 0.5 and full["model"] == DEFAULTS["model"] and saved == {"train": {"lr": 0.5}}


def test_parse_duration():
    assert parse_duration("2h") == 7200 and parse_duration("1h30m") == 5400 and parse_duration("90") == 90
    assert parse_duration("45s") == 45 and parse_duration(None) is None
    with pytest.raises(ValueError, match="duration"):
        parse_duration("soon")
