"""The typed training config (seq2seq.training.settings) and how it is read (seq2seq.training.config): defaults,
YAML stages with ``base:``, source groups, command-line overrides, the checks, and the configs in configs/."""

import dataclasses
import json
import typing
from pathlib import Path

import pytest
from helpers import ROOT

from seq2seq.align import AlignMethod
from seq2seq.data import CleanConfig
from seq2seq.model import ModelConfig
from seq2seq.model_dir import DECODING_DEFAULTS
from seq2seq.training.checkpoints import run_folder_config
from seq2seq.training.config import ConfigError, apply_override, deep_merge, load_config
from seq2seq.training.run_folder import resumed_config, saved_config
from seq2seq.training.settings import BORROWED_RANGES, NOT_SETTINGS, DecodingSettings, TrainConfig
from seq2seq.training.values import Range, parse_duration

STAGES = sorted((ROOT / "configs").glob("*.yaml"))


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_defaults_without_a_file():
    cfg = load_config(None, [])
    assert cfg == load_config(None) == TrainConfig()
    assert cfg.train.lr == 1e-3 and cfg.direction == "zh-en" and cfg.data.train == ()
    assert dataclasses.asdict(cfg.decoding) == DECODING_DEFAULTS  # the folder's decoding defaults, one table


def test_file_and_overrides_merge_over_the_defaults(tmp_path):
    f = write(tmp_path / "c.yaml", "train:\n  lr: 0.001\nmodel:\n  d_model: 128\n  n_heads: 4\n")
    cfg = load_config(f, ["train.max_steps=20", "train.lr=1e-4", "seed=6"])
    assert cfg.model.d_model == 128 and cfg.train.max_steps == 20 and cfg.seed == 6
    assert cfg.train.lr == 1e-4  # YAML reads 1e-4 as text; an override means the number
    assert cfg.train.warmup_steps == TrainConfig().train.warmup_steps


def test_unknown_keys_and_bad_values_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="section.key=value"):
        apply_override({}, "train.lr")
    with pytest.raises(ConfigError, match="lerning_rate.*valid keys under train: accum_steps"):
        load_config(None, ["train.lerning_rate=1"])
    with pytest.raises(ConfigError, match="valid keys under model: attention_dropout"):
        load_config(None, ["model.src_vocab_size=9"])  # the tokenizers' to say
    with pytest.raises(ConfigError, match="mapping"):
        load_config(write(tmp_path / "list.yaml", "- 1\n- 2\n"))
    for override, message in [
        ("train.lr=-1", "train.lr must be a number > 0, got -1"),
        ("train.max_steps=abc", "train.max_steps must be an integer >= 0, got 'abc'"),
        ("model.n_dec_layers=0", "model.n_dec_layers must be an integer >= 1 (or null), got 0"),
        ("data.clean.max_ratio=0", "data.clean.max_ratio must be a number > 0"),
        ("eval.length_penalty=6", "eval.length_penalty must be a number >= 0 and <= 5"),
        ("train.adam_betas=[0.9]", "train.adam_betas must be two numbers in [0, 1)"),
        ("train.init_from=3", "train.init_from must be a path or name (text) or null, got 3"),
        ("direction=zh-fr", "direction must be zh-en or en-zh, not 'zh-fr'"),
        ("train.max_time=soon", "train.max_time: cannot read duration 'soon'"),
        ("data.train=[{src: a.zh, tgt: a.en, weight: 0}]", "data.train: weight of {"),
    ]:
        with pytest.raises(ConfigError, match=None) as e:
            load_config(None, [override])
        assert message in str(e.value), (override, str(e.value))


def test_the_checks_across_settings_are_one_validate():
    with pytest.raises(ConfigError, match=r"alignment.head=4 does not exist: the model has 4 heads \(0..3\)"):
        load_config(None, ["alignment.head=4"])
    with pytest.raises(ConfigError, match="alignment.layer: alignment layer 5 does not exist"):
        load_config(None, ["alignment.layer=5", "model.n_layers=2"])
    with pytest.raises(ConfigError, match="cooldown_steps needs --max-steps"):
        load_config(None, ["train.cooldown_steps=5"])
    with pytest.raises(ConfigError, match="cooldown_steps=50 is more than train.max_steps=20"):
        load_config(None, ["train.cooldown_steps=50", "train.max_steps=20"])
    with pytest.raises(ConfigError, match="tokenizer.train is false"):
        load_config(None, ["tokenizer.train=false"])
    # A resumed run's given config waits: the run's own max_steps may end its cooldown.
    assert load_config(None, ["train.cooldown_steps=5"], resume=True).train.cooldown_steps == 5


@pytest.mark.parametrize("stage", STAGES, ids=lambda p: p.stem)
def test_every_stage_in_configs_loads_and_validates(stage):
    cfg = load_config(str(stage))
    assert cfg.data.train and all(s.name for s in cfg.data.train)
    first = cfg.data.train[0].spec
    assert first["src"].endswith("." + cfg.direction.source) and first["tgt"].endswith("." + cfg.direction.target)


def test_the_stages_say_what_they_change():
    assert sum(len(p.read_text(encoding="utf-8").splitlines()) for p in STAGES) <= 350
    news, en_zh = load_config(ROOT / "configs" / "zh-en-news.yaml"), load_config(ROOT / "configs" / "en-zh.yaml")
    weights = {s.name: s.weight for s in news.data.train}
    assert weights["news-commentary"] == weights["wmt24-en-zh"] == 3 and weights["hsk"] == 1
    dev = [s.spec["src"] for s in en_zh.data.dev]  # zh-en.yaml's dev sets, read the other way
    assert [Path(p).name for p in dev] == ["tatoeba-dev.en", "newstest2017.en"]
    assert len(load_config(ROOT / "configs" / "zh-en-long.yaml").data.train) == 37


def test_a_stage_starts_from_its_base(tmp_path):
    (tmp_path / "sub").mkdir()
    write(
        tmp_path / "base.yaml",
        "seed: 2\ndata:\n  train:\n    - {src: a.zh, tgt: a.en}\n    - {src: b.zh, tgt: b.en}\n"
        "  clean: {max_chars: 100, min_ratio: 0.5}\ntrain: {lr: 0.002, max_steps: 10}\n",
    )
    write(tmp_path / "sub" / "mid.yaml", "base: ../base.yaml\ntrain: {max_steps: 20}\n")
    stage = write(
        tmp_path / "stage.yaml",
        "base: sub/mid.yaml\ndata:\n  train:\n    - {src: c.zh, tgt: c.en}\n  clean: {max_chars: 50}\n",
    )
    cfg = load_config(stage)
    assert [s.spec["src"] for s in cfg.data.train] == ["c.zh"]  # a list replaces the base's
    assert (cfg.data.clean.max_chars, cfg.data.clean.min_ratio) == (50, 0.5)  # a mapping merges
    assert (cfg.seed, cfg.train.lr, cfg.train.max_steps) == (2, 0.002, 20)  # bases of bases
    with pytest.raises(ConfigError, match="base nowhere.yaml not found"):
        load_config(write(tmp_path / "lost.yaml", "base: nowhere.yaml\n"))
    write(tmp_path / "a.yaml", "base: b.yaml\n")
    with pytest.raises(ConfigError, match="circle of bases"):
        load_config(write(tmp_path / "b.yaml", "base: a.yaml\n"))
    with pytest.raises(ConfigError, match="unknown setting 'train.max_stepz'"):
        load_config(write(tmp_path / "typo.yaml", "base: base.yaml\ntrain: {max_stepz: 5}\n"))


def test_a_source_group_names_its_files(tmp_path):
    group = "{dir: d, links: l, names: [a, b], weights: {b: 2}, limit: 5}"
    zh_en = load_config(None, [f"data.train=[{group}]"]).data.train
    assert [s.spec for s in zh_en] == [
        {"name": "a", "src": "d/a.zh", "tgt": "d/a.en", "links": "l/a.links", "limit": 5},
        {"name": "b", "src": "d/b.zh", "tgt": "d/b.en", "links": "l/b.links", "limit": 5, "weight": 2},
    ]
    en_zh = load_config(None, [f"data.train=[{group}]", "direction=en-zh"]).data.train
    assert (en_zh[0].spec["src"], en_zh[0].spec["tgt"], en_zh[1].weight) == ("d/a.en", "d/a.zh", 2.0)
    with pytest.raises(ConfigError, match="weights of a source group"):
        load_config(None, ["data.train=[{dir: d, names: [a], weights: {c: 2}}]"])
    with pytest.raises(ConfigError, match="a source group is"):
        load_config(None, ["data.dev=[{names: [a]}]"])


def test_to_dict_and_back(tmp_path):
    cfg = load_config(ROOT / "configs" / "zh-en-agree.yaml")
    plain = json.loads(json.dumps(cfg.to_dict()))
    assert TrainConfig.from_dict(plain) == cfg
    assert plain["train"]["adam_betas"] == [0.9, 0.98] and plain["direction"] == "zh-en"
    assert set(plain["model"]) == {f.name for f in dataclasses.fields(ModelConfig)} - NOT_SETTINGS


def test_a_run_saved_before_the_typed_config_resumes(tmp_path):
    """A run's config.json as the dict config wrote it (runs/en-zh-6/last: every section, ``model`` with only the
    settings its file gave, no ``no_repeat_ngram``), read back and resumed with a new budget."""
    saved = {
        "seed": 6,
        "direction": "en-zh",
        "data": {
            "train": [{"name": "hsk", "src": "p/hsk.en", "tgt": "p/hsk.zh", "links": "p/hsk.links"}],
            "dev": [{"name": "tatoeba-dev", "src": "p/tatoeba-dev.en", "tgt": "p/tatoeba-dev.zh"}],
            "clean": {"max_chars": 300, "min_ratio": 0.4, "max_ratio": 12.0, "t2s": False},
        },
        "tokenizer": {"train": True, "src_vocab_size": 8000, "tgt_vocab_size": 8000, "shared": False, "t2s": True}
        | {"src_model": None, "tgt_model": None, "placeholders": 16},
        "model": {"n_layers": 4, "n_dec_layers": 4, "d_model": 256, "n_heads": 4, "d_ff": 1024, "dropout": 0.2}
        | {"attention_dropout": 0.1, "max_len": 256, "tie_output": True},
        "train": {"max_tokens": 6000, "accum_steps": 1, "lr": 0.0003, "warmup_steps": 100, "adam_betas": [0.9, 0.98]}
        | {"adam_eps": 1e-09, "weight_decay": 0.0, "label_smoothing": 0.1, "clip_norm": 1.0}
        | {"init_from": "seq2seq/pretrained/en-zh", "save_minutes": 10, "max_steps": 600, "cooldown_steps": 200}
        | {"max_epochs": 0, "max_time": None, "precision": "fp32", "threads": 1, "log_every": 50, "eval_every": 300}
        | {"save_every": 0, "patience": 0, "keep_checkpoints": 5, "pool_batches": 100, "length_bucket": 4}
        | {"tensorboard": False},
        "alignment": {"weight": 0.5, "layer": None, "head": 0, "full_context": True, "null_to_eos": True},
        "eval": {"beam_size": 1, "max_sentences": 500, "max_tokens": 6000, "length_penalty": 1.0},
        "decoding": {"beam_size": 5, "length_penalty": 1.0, "max_len_a": 2.0, "max_len_b": 20},
    }
    (tmp_path / "last").mkdir()
    (tmp_path / "last" / "config.json").write_text(json.dumps({"extra": {"train_config": saved}}))
    cfg = saved_config(tmp_path / "last")
    assert (cfg.seed, cfg.direction, cfg.train.max_steps, cfg.model.n_layers) == (6, "en-zh", 600, 4)
    assert cfg.decoding.no_repeat_ngram == 0 and cfg.data.train[0].links == "p/hsk.links"
    given = load_config(ROOT / "configs" / "en-zh.yaml", ["train.max_steps=900", "train.eval_every=100"], resume=True)
    logged = []
    resumed = resumed_config(cfg, given, logged.append, command_line={"train.max_steps", "train.eval_every"})
    assert (resumed.train.max_steps, resumed.train.cooldown_steps, resumed.train.eval_every) == (900, 200, 100)
    assert resumed.data == cfg.data and "train.cooldown_steps=200 kept from the run" in logged[0]


def test_the_alignment_head_training_writes_is_the_one_the_loader_reads():
    cfg = load_config(ROOT / "configs" / "zh-en.yaml")
    mcfg = cfg.model_config(8000, 8000)
    entry = run_folder_config(cfg, mcfg, {}).alignment
    assert AlignMethod.from_config(entry) == cfg.alignment.trained_head(mcfg.n_dec_layers)
    assert run_folder_config(load_config(None), ModelConfig(), {}).alignment == {}  # no loss, no head
    for folder in ("zh-en", "en-zh"):  # the shipped folders: their saved config names the head they name
        path = ROOT / "seq2seq" / "pretrained" / folder
        trained = saved_config(path)
        shipped = AlignMethod.from_config(json.loads((path / "config.json").read_text())["alignment"])
        assert shipped == trained.alignment.trained_head(trained.model.n_dec_layers)


def test_every_number_setting_has_its_range():
    def numbers(cls):
        hints = typing.get_type_hints(cls)
        return {f for f in dataclasses.fields(cls) if f.name not in NOT_SETTINGS and int in _types(hints[f.name])}

    for section in dataclasses.fields(TrainConfig):
        cls = typing.get_type_hints(TrainConfig)[section.name]
        if not dataclasses.is_dataclass(cls) or cls in BORROWED_RANGES:
            continue
        for f in numbers(cls):
            assert isinstance(f.metadata.get("range"), Range), f"{section.name}.{f.name}"
    for cls in (ModelConfig, CleanConfig):
        assert {f.name for f in numbers(cls)} <= set(BORROWED_RANGES[cls]), cls.__name__
    assert {f.name for f in dataclasses.fields(DecodingSettings)} == set(DECODING_DEFAULTS)


def _types(hint) -> set:
    args = typing.get_args(hint)
    return {int} if hint in (int, float) or {int, float} & set(args) else set()


def test_deep_merge_and_parse_duration():
    assert deep_merge({"a": {"b": 1, "c": 2}, "l": [1]}, {"a": {"c": 3}, "l": [2]}) == {"a": {"b": 1, "c": 3}, "l": [2]}
    assert parse_duration("2h") == 7200 and parse_duration("1h30m") == 5400 and parse_duration("90") == 90
    assert parse_duration("45s") == 45 and parse_duration(None) is None
    with pytest.raises(ValueError, match="duration"):
        parse_duration("soon")
