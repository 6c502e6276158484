"""Training configuration: defaults, YAML files, ``section.key=value`` overrides, and their checks.

A config is a plain dict with the sections of :data:`DEFAULTS`.  Every key a file or an override
sets must exist in :data:`DEFAULTS` (or, for ``model``, in :class:`~seq2seq.model.ModelConfig`; for
``data.clean``, in :class:`~seq2seq.data.CleanConfig`): a typo is an error that lists the valid keys,
never a silently ignored setting.  Values are checked when the config is loaded (:func:`check_values`:
types and ranges), so a bad one fails before any data is read.
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
    "direction": "zh-en",  # source-target languages: zh-en or en-zh (data files keep their .zh/.en names)
    "data": {"train": [], "dev": [], "clean": {}},
    # placeholders: that many placeholder pieces are added to both tokenizers, and training pairs carry the
    # spans they share (names, numbers, URLs) as placeholders (seq2seq.placeholders); 0 = off
    "tokenizer": {
        "train": True,
        "src_vocab_size": 8000,
        "tgt_vocab_size": 8000,
        "shared": False,
        "t2s": True,
        "src_model": None,
        "tgt_model": None,
        "placeholders": 0,
    },
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
            raise ConfigError(
                f"{where}: unknown setting {name!r}; valid keys under "
                f"{'.'.join(path) or 'the top level'}: {', '.join(sorted(valid))}"
            )
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
    if cfg["direction"] not in ("zh-en", "en-zh"):
        raise ConfigError(f"direction must be zh-en or en-zh, not {cfg['direction']!r}")
    check_values(cfg)
    return cfg


# Types and ranges of the settings (section, key) -> (kind, low, high); checked by check_values.  Kinds:
# int, number (int or float), bool, str, duration (see parse_duration), or a tuple of allowed values; a kind
# ending in "?" also allows null.  low/high: inclusive bounds (None: none); "lr" > 0 is written (0, None, ">").
_INT, _NUM, _BOOL = "int", "number", "bool"
VALUE_RULES: dict = {
    ("seed",): (_INT, None, None),
    ("tokenizer", "train"): (_BOOL, None, None),
    ("tokenizer", "shared"): (_BOOL, None, None),
    ("tokenizer", "t2s"): (_BOOL, None, None),
    ("tokenizer", "src_vocab_size"): (_INT, 1, None),
    ("tokenizer", "tgt_vocab_size"): (_INT, 1, None),
    ("tokenizer", "src_model"): ("str?", None, None),
    ("tokenizer", "tgt_model"): ("str?", None, None),
    ("tokenizer", "placeholders"): (_INT, 0, None),
    ("train", "max_tokens"): (_INT, 1, None),
    ("train", "accum_steps"): (_INT, 1, None),
    ("train", "lr"): (_NUM, 0, None, ">"),
    ("train", "warmup_steps"): (_INT, 0, None),
    ("train", "adam_eps"): (_NUM, 0, None, ">"),
    ("train", "weight_decay"): (_NUM, 0, None),
    ("train", "label_smoothing"): (_NUM, 0, 1, "<"),
    ("train", "clip_norm"): (_NUM, 0, None),
    ("train", "init_from"): ("str?", None, None),
    ("train", "save_minutes"): (_NUM, 0, None),
    ("train", "max_steps"): (_INT, 0, None),
    ("train", "cooldown_steps"): (_INT, 0, None),
    ("train", "max_epochs"): (_INT, 0, None),
    ("train", "max_time"): ("duration", None, None),
    ("train", "precision"): (("bf16", "fp32"), None, None),
    ("train", "threads"): (_INT, 0, None),
    ("train", "log_every"): (_INT, 1, None),
    ("train", "eval_every"): (_INT, 1, None),
    ("train", "save_every"): (_INT, 0, None),
    ("train", "patience"): (_INT, 0, None),
    ("train", "keep_checkpoints"): (_INT, 0, None),
    ("train", "pool_batches"): (_INT, 1, None),
    ("train", "length_bucket"): (_INT, 1, None),
    ("train", "tensorboard"): (_BOOL, None, None),
    ("alignment", "weight"): (_NUM, 0, None),
    ("alignment", "layer"): ("int?", None, None),
    ("alignment", "head"): (_INT, 0, None),
    ("alignment", "full_context"): (_BOOL, None, None),
    ("alignment", "null_to_eos"): (_BOOL, None, None),
    ("eval", "beam_size"): (_INT, 1, None),
    ("eval", "max_sentences"): (_INT, 0, None),
    ("eval", "max_tokens"): (_INT, 1, None),
    ("eval", "length_penalty"): (_NUM, 0, 5),
    ("decoding", "beam_size"): (_INT, 1, None),
    ("decoding", "length_penalty"): (_NUM, 0, 5),
    ("decoding", "max_len_a"): (_NUM, 0, None),
    ("decoding", "max_len_b"): (_INT, 0, None),
    ("model", "n_dec_layers"): ("int?", 1, None),
    ("model", "dropout"): (_NUM, 0, 1, "<"),
    ("model", "attention_dropout"): (_NUM, 0, 1, "<"),
    ("data", "clean", "min_ratio"): (_NUM, 0, None),
    ("data", "clean", "max_ratio"): (_NUM, 0, None, ">"),
}


def _rule_from_default(default):
    """The rule of a dataclass setting without one in VALUE_RULES (model.*, data.clean.*), from its default."""
    if isinstance(default, bool):
        return (_BOOL, None, None)
    if isinstance(default, int):
        return (_INT, 1, None)  # sizes and counts
    if isinstance(default, float):
        return (_NUM, 0, None)
    return None


def _check_value(name: str, value, rule):
    """The value, normalised (1e3 for an int becomes 1000), or a ConfigError saying what the setting takes."""
    kind, low, high = rule[:3]
    strict = rule[3] if len(rule) > 3 else ""
    optional = isinstance(kind, str) and kind.endswith("?")
    kind = kind.rstrip("?") if isinstance(kind, str) else kind
    if value is None and optional:
        return None
    if isinstance(kind, tuple):
        if value not in kind:
            raise ConfigError(f"{name} must be one of {', '.join(map(str, kind))}, got {value!r}")
        return value
    if kind == "duration":
        try:
            parse_duration(value)
        except ValueError as e:
            raise ConfigError(f"{name}: {e}") from None
        return value
    if kind == _BOOL:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {value!r}")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a path or name (text){' or null' if optional else ''}, got {value!r}")
        return value
    if kind == _INT and isinstance(value, float) and value.is_integer():
        value = int(value)
    ok = (isinstance(value, int) if kind == _INT else isinstance(value, (int, float))) and not isinstance(value, bool)
    what = "an integer" if kind == _INT else "a number"
    bounds = []
    if low is not None:
        bounds.append(f"> {low:g}" if ">" in strict else f">= {low:g}")
    if high is not None:
        bounds.append(f"< {high:g}" if "<" in strict else f"<= {high:g}")
    expected = f"{what}{' ' + ' and '.join(bounds) if bounds else ''}{' (or null)' if optional else ''}"
    if not ok or value != value:  # NaN
        raise ConfigError(f"{name} must be {expected}, got {value!r}")
    if low is not None and (value <= low if ">" in strict else value < low):
        raise ConfigError(f"{name} must be {expected}, got {value!r}")
    if high is not None and (value >= high if "<" in strict else value > high):
        raise ConfigError(f"{name} must be {expected}, got {value!r}")
    return value


def check_values(cfg: dict) -> None:
    """Check the types and ranges of every setting (:data:`VALUE_RULES`; model.* and data.clean.* by their
    defaults' types), in place: ints given as 1e3 become ints.  Raises :class:`ConfigError` naming the setting."""
    rules = dict(VALUE_RULES)
    for path, cls in ((("model",), ModelConfig), (("data", "clean"), CleanConfig)):
        for f in dataclasses.fields(cls):
            if f.name in ("src_vocab_size", "tgt_vocab_size", "pad_id"):  # not settings: from the tokenizers
                continue
            default = f.default if f.default is not dataclasses.MISSING else None
            rule = _rule_from_default(default)
            if rule is not None:
                rules.setdefault(path + (f.name,), rule)
    for path, rule in rules.items():
        node = cfg
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or path[-1] not in node:
            continue
        node[path[-1]] = _check_value(".".join(path), node[path[-1]], rule)
    betas = cfg.get("train", {}).get("adam_betas")
    if betas is not None and (
        not isinstance(betas, (list, tuple))
        or len(betas) != 2
        or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in betas)
    ):
        raise ConfigError(f"train.adam_betas must be two numbers in [0, 1), e.g. [0.9, 0.98], got {betas!r}")
    for split in ("train", "dev"):
        specs = cfg.get("data", {}).get(split)
        if specs is not None and not isinstance(specs, list):
            raise ConfigError(f"data.{split} must be a list of sources, got {specs!r}")
        for spec in specs or []:
            if not isinstance(spec, dict):
                raise ConfigError(f"data.{split}: a source is a mapping such as {{src: a.zh, tgt: a.en}}, got {spec!r}")
            if "weight" in spec:
                try:
                    _check_value(
                        f"data.{split}: weight of {spec.get('name') or spec}", spec["weight"], (_NUM, 0, None, ">")
                    )
                except ConfigError as e:
                    raise ConfigError(f"{e} (leave a source out of data.{split} to drop it)") from None
    if isinstance(cfg.get("model"), dict):  # what ModelConfig itself checks (d_model / n_heads), and the
        from .alignment import resolve_layer  # alignment head's place in it

        try:
            mcfg = ModelConfig(src_vocab_size=8, tgt_vocab_size=8, **cfg["model"])
        except (TypeError, ValueError) as e:
            raise ConfigError(f"model: {e}") from None
        acfg = cfg.get("alignment", {})
        try:
            resolve_layer(acfg.get("layer"), mcfg.n_dec_layers)
        except ValueError as e:
            raise ConfigError(f"alignment.layer: {e}") from None
        if not 0 <= int(acfg.get("head") or 0) < mcfg.n_heads:
            raise ConfigError(
                f"alignment.head={acfg.get('head')} does not exist: the model has {mcfg.n_heads} "
                f"heads (0..{mcfg.n_heads - 1})"
            )
    tcfg = cfg.get("train", {})
    if tcfg.get("cooldown_steps") and tcfg.get("max_steps") and tcfg["cooldown_steps"] > tcfg["max_steps"]:
        raise ConfigError(
            f"train.cooldown_steps={tcfg['cooldown_steps']} is more than train.max_steps={tcfg['max_steps']}"
        )


def complete_saved(saved: dict) -> dict:
    """A run's saved config (``--resume``), completed with :data:`DEFAULTS` for options added since it was saved."""
    return deep_merge(copy.deepcopy(DEFAULTS), copy.deepcopy(saved))


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
