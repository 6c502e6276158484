"""Training configuration: defaults, YAML files, ``section.key=value`` overrides, and their checks.

A config is a plain dict with the sections of :data:`DEFAULTS`.  Every key a file or an override
sets must exist in :data:`DEFAULTS` (or, for ``model``, in :class:`~seq2seq.model.ModelConfig`; for
``data.clean``, in :class:`~seq2seq.data.CleanConfig`): a typo is an error that lists the valid keys,
never a silently ignored setting.
"""

from __future__ import annotations

import copy
import dataclasses
import glob as globmod
import re
from pathlib import Path
from typing import Optional

import yaml

from ..data import CleanConfig, expand_globs
from ..model import ModelConfig
from ..model_dir import DECODING_DEFAULTS

DEFAULTS: dict = {
    "seed": 1,
    "data": {"train": [], "dev": [], "clean": {}},
    "tokenizer": {"train": True, "src_vocab_size": 8000, "tgt_vocab_size": 8000, "shared": False, "t2s": True,
                  "src_model": None, "tgt_model": None},
    "model": {},  # ModelConfig fields (vocabulary sizes come from the tokenizers)
    "train": {
        "max_tokens": 4096,  # padded tokens per side per batch, per process
        "accum_steps": 1,
        "lr": 1e-3,  # peak learning rate, reached at the end of warmup
        "warmup_steps": 4000,
        "adam_betas": [0.9, 0.98],
        "adam_eps": 1e-9,
        "weight_decay": 0.0,
        "label_smoothing": 0.1,
        "clip_norm": 1.0,
        "init_from": None,  # a model folder to start from (warm start; its tokenizers are used)
        "save_minutes": 10,  # also save DIR/last every this many minutes (0 = only at save_every)
        "max_steps": 0,  # 0 = no limit
        "cooldown_steps": 0,  # the last this many steps before max_steps take the lr linearly to 0 (0 = none)
        "max_epochs": 0,
        "max_time": None,  # e.g. "2h", "90m"
        "precision": "bf16",  # bf16 autocast or fp32
        "threads": 0,  # torch threads; 0 = all cores
        "log_every": 50,
        "eval_every": 1000,
        "save_every": 0,  # 0 = at every evaluation
        "patience": 0,  # stop after this many evaluations without a better dev BLEU; 0 = never
        "keep_checkpoints": 5,  # weights kept in DIR/checkpoints for averaging
        "pool_batches": 100,
        "length_bucket": 4,  # batches group source lengths in buckets of this many pieces, then sort by target length
        "tensorboard": False,
    },
    # Alignment loss (Garg et al. 2019): weight λ (0 = off), decoder layer (None = penultimate) and head.
    # full_context: the head learns (and links) in a second pass of its layer whose self-attention sees the
    # whole target, as in Garg et al. 2019; false: in the ordinary causal pass, read one row later (Shift-Att)
    # null_to_eos: target pieces the corpus alignment leaves unlinked learn to look at the source </s>, and a
    # piece whose head looks there most links nothing
    "alignment": {"weight": 0.0, "layer": None, "head": 0, "full_context": True, "null_to_eos": True},
    "eval": {"beam_size": 1, "max_sentences": 0, "max_tokens": 6000, "length_penalty": 1.0},
    "decoding": dict(DECODING_DEFAULTS),
}


class ConfigError(ValueError):
    """A config key that does not exist, or a value that cannot be read; the message lists the valid keys."""


def _valid_keys(path: tuple) -> Optional[set]:
    """The keys allowed under ``path`` (None: any key, e.g. inside data source specs)."""
    if path == ():
        return set(DEFAULTS)
    if path == ("model",):
        return {f.name for f in dataclasses.fields(ModelConfig)} - {"src_vocab_size", "tgt_vocab_size", "pad_id"}
    if path == ("data", "clean"):
        return {f.name for f in dataclasses.fields(CleanConfig)}
    if path == ("data",):
        return {"train", "dev", "clean"}
    if len(path) == 1 and isinstance(DEFAULTS.get(path[0]), dict):
        return set(DEFAULTS[path[0]])
    return None


def check_keys(cfg: dict, path: tuple = (), where: str = "config") -> None:
    """Raise :class:`ConfigError` for any key that is not a known setting."""
    valid = _valid_keys(path)
    if valid is None:
        return
    for key, value in cfg.items():
        if key not in valid:
            name = ".".join(path + (str(key),))
            raise ConfigError(f"{where}: unknown setting {name!r}; valid keys under "
                              f"{'.'.join(path) or 'the top level'}: {', '.join(sorted(valid))}")
        if isinstance(value, dict):
            check_keys(value, path + (key,), where)


def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def apply_override(cfg: dict, item: str) -> None:
    """Apply one ``section.key=value`` override (the value is read as YAML)."""
    if "=" not in item:
        raise ConfigError(f"override {item!r} is not of the form section.key=value")
    key, value = item.split("=", 1)
    parts = key.split(".")
    nested: dict = {}
    node = nested
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    try:
        node[parts[-1]] = yaml.safe_load(value)
    except yaml.YAMLError as e:
        raise ConfigError(f"override {item!r}: the value is not valid YAML ({e})") from e
    check_keys(nested, where=f"override {item!r}")
    node = cfg
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = _number(yaml.safe_load(value))


_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _number(value):
    """YAML 1.1 reads ``1e-3`` (no dot) as a string; on the command line it means the number."""
    if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        return float(value)
    return value


def load_config(path: Optional[str], overrides: list[str] = ()) -> dict:
    cfg = copy.deepcopy(DEFAULTS)
    if path:
        with open(path, encoding="utf-8") as f:
            loaded = yaml.safe_load(f) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: a config is a YAML mapping of sections, not {type(loaded).__name__}")
        check_keys(loaded, where=str(path))
        cfg = deep_merge(cfg, loaded)
        base = Path(path).resolve().parent.parent  # paths in configs/*.yaml are relative to the project
        for split in ("train", "dev"):
            for spec in cfg["data"].get(split) or []:
                for key in ("src", "tgt", "tsv", "jsonl", "glob"):
                    if key in spec and not Path(spec[key]).is_absolute() and not globmod.glob(spec[key]):
                        if globmod.glob(str(base / spec[key])):
                            spec[key] = str(base / spec[key])
    for item in overrides:
        apply_override(cfg, item)
    for split in ("train", "dev"):
        cfg["data"][split] = expand_globs(cfg["data"].get(split) or [])
    return cfg


# Options added after a run may have been saved, with the value that reproduces how such runs behaved.
BEFORE_OPTION = {("train", "length_bucket"): 1, ("alignment", "full_context"): False, ("alignment", "null_to_eos"): False}


def complete_saved(saved: dict) -> dict:
    """A run's saved config (``--resume``), completed for options added since it was saved: first with the
    behaviour the run had (:data:`BEFORE_OPTION`), then with :data:`DEFAULTS`."""
    saved = copy.deepcopy(saved)
    for (section, key), value in BEFORE_OPTION.items():
        saved.setdefault(section, {}).setdefault(key, value)
    return deep_merge(copy.deepcopy(DEFAULTS), saved)


def parse_duration(text) -> Optional[float]:
    """'2h', '90m', '1h30m', '45s' or a number of seconds -> seconds."""
    if text in (None, "", 0):
        return None
    if isinstance(text, (int, float)):
        return float(text)
    parts = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", str(text))
    if not parts or not any(parts.groups()):
        raise ValueError(f"cannot read duration {text!r} (examples: 2h, 90m, 1h30m, 3600)")
    h, m, s = (float(g) if g else 0.0 for g in parts.groups())
    return h * 3600 + m * 60 + s

