"""What a training setting may hold: its type and range, checked when a config is read (:mod:`.settings`)."""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from typing import Literal, Optional, Union


class ConfigError(ValueError):
    """A config key that does not exist, or a value that cannot be read; the message lists the valid keys."""


@dataclass(frozen=True)
class Range:
    """The bounds of a number setting: ``low``/``high`` inclusive, ``above``/``below`` exclusive (None: no bound)."""

    low: Optional[float] = None
    high: Optional[float] = None
    above: Optional[float] = None
    below: Optional[float] = None

    def __contains__(self, x) -> bool:
        return (
            (self.low is None or x >= self.low)
            and (self.high is None or x <= self.high)
            and (self.above is None or x > self.above)
            and (self.below is None or x < self.below)
        )

    def __str__(self) -> str:
        bounds = ((">=", self.low), (">", self.above), ("<=", self.high), ("<", self.below))
        return " and ".join(f"{op} {v:g}" for op, v in bounds if v is not None)


def setting(default, low=None, high=None, *, above=None, below=None, parse=None):
    """A field with its range (``parse``: a function ``(name, value) -> value`` for a setting no type says)."""
    meta = {"range": Range(low, high, above, below)}
    if parse is not None:
        meta["parse"] = parse
    return field(default=default, metadata=meta)


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


def duration(name: str, value):
    """A duration is kept as written (``2h``), so that logs and the saved config say it as the user did."""
    try:
        parse_duration(value)
    except ValueError as e:
        raise ConfigError(f"{name}: {e}") from None
    return value


def convert(name: str, value, hint, rng: Range = Range()):
    """``value`` as the type ``hint`` says (an int given as 1e3 becomes 1000) and in ``rng``, or a ConfigError
    that says what the setting takes."""
    args = typing.get_args(hint)
    optional = typing.get_origin(hint) in (Union, types.UnionType) and type(None) in args
    if optional:
        if value is None:
            return None
        (hint,) = [a for a in args if a is not type(None)]
    if typing.get_origin(hint) is Literal:
        if value not in typing.get_args(hint):
            raise ConfigError(f"{name} must be one of {', '.join(map(str, typing.get_args(hint)))}, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a path or name (text){' or null' if optional else ''}, got {value!r}")
        return value
    integer = hint is int
    if integer and isinstance(value, float) and value.is_integer():
        value = int(value)
    ok = isinstance(value, int if integer else (int, float)) and not isinstance(value, bool) and value == value
    if not ok or value not in rng:
        bounds = f" {rng}" if str(rng) else ""
        expected = f"{'an integer' if integer else 'a number'}{bounds}{' (or null)' if optional else ''}"
        raise ConfigError(f"{name} must be {expected}, got {value!r}")
    return value if integer else float(value)
