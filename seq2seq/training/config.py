"""Reading a training config: YAML stages and command-line overrides, merged, then typed and checked by
:class:`~.settings.TrainConfig`.

A YAML stage may start from another: ``base: zh-en.yaml`` (a path relative to the file) takes that file's settings
and the stage holds only what it changes.  Mappings merge key by key; anything else, lists included, replaces what
the base says (a stage that changes one source of ``data.train`` gives the whole list).  ``section.key=value``
overrides (the value read as YAML) come last.  Relative data paths in a file that do not exist from the current
folder are read from the file's project (the folder above ``configs/``), so a clone's configs run from anywhere.
"""

from __future__ import annotations

import copy
import glob as globmod
import re
from pathlib import Path
from typing import Optional, Sequence

import yaml

from .settings import ConfigError, TrainConfig, check_keys


def deep_merge(base: dict, over: dict) -> dict:
    """``over`` on ``base``: mappings merge key by key, anything else replaces."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def read_stage(path: str | Path, below: tuple = ()) -> dict:
    """A YAML stage merged over its ``base:`` chain, with its data paths found (module doc); not typed yet."""
    path = Path(path)
    with open(path, encoding="utf-8") as f:
        raw = yaml.safe_load(f) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config is a YAML mapping of sections, not {type(raw).__name__}")
    base = raw.pop("base", None)
    check_keys(raw, where=str(path))
    _find_data_paths(raw, Path(path).resolve().parent.parent)
    if base is None:
        return raw
    base_path = path.parent / str(base)
    if not base_path.is_file():
        raise ConfigError(f"{path}: base {base} not found (a path relative to the file: {base_path})")
    if base_path.resolve() in below:
        raise ConfigError(f"{path}: base {base} is a stage that starts from this one (a circle of bases)")
    return deep_merge(read_stage(base_path, below + (path.resolve(),)), raw)


def _find_data_paths(raw: dict, project: Path) -> None:
    """Relative paths of the data sources that do not exist from here but do in ``project``, made absolute."""
    for split in ("train", "dev"):
        specs = (raw.get("data") or {}).get(split) if isinstance(raw.get("data"), dict) else None
        for spec in specs if isinstance(specs, list) else ():
            for key in ("src", "tgt", "tsv", "jsonl", "glob", "dir") if isinstance(spec, dict) else ():
                value = spec.get(key)
                if isinstance(value, str) and not Path(value).is_absolute() and not globmod.glob(value):
                    if globmod.glob(str(project / value)):
                        spec[key] = str(project / value)


_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _number(value):
    """YAML 1.1 reads ``1e-3`` (no dot) as a string; on the command line it means the number."""
    if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        return float(value)
    return value


def apply_override(raw: dict, item: str) -> None:
    """Apply one ``section.key=value`` override (the value is read as YAML) to an untyped config."""
    if "=" not in item:
        raise ConfigError(f"override {item!r} is not of the form section.key=value")
    key, value = item.split("=", 1)
    parts = key.split(".")
    try:
        value = _number(yaml.safe_load(value))
    except yaml.YAMLError as e:
        raise ConfigError(f"override {item!r}: the value is not valid YAML ({e})") from e
    nested: dict = {}
    node = nested
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value
    check_keys(nested, where=f"override {item!r}")
    node = raw
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def load_config(path: Optional[str | Path], overrides: Sequence[str] = (), *, resume: bool = False) -> TrainConfig:
    """The config of a YAML stage (None: the defaults) with ``section.key=value`` overrides, typed and checked.

    ``resume``: the config given to a resumed run, of which only the command line's stopping and evaluation
    settings count (:func:`~.run_folder.resumed_config`): the checks across settings wait for the config the run
    goes on with."""
    raw = read_stage(path) if path else {}
    for item in overrides:
        apply_override(raw, item)
    cfg = TrainConfig.from_dict(raw, where=str(path or "config"))
    if not resume:
        cfg.validate()
    return cfg
