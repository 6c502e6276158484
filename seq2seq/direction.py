"""Which way a model translates: one value instead of a ``"zh-en"`` string split and joined where it is used.

d = Direction.parse("en-zh")
d.source, d.target      # "en", "zh"
d.label                 # "en-zh" (what config.json and the web API say)
d.reversed()            # Direction("zh", "en")
d.bleu_tokenize         # "zh": sacreBLEU's tokenizer for Chinese output
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("zh", "en")
LANGUAGE_NAMES = {"zh": "Chinese", "en": "English"}  # what the demo and its messages call them


@dataclass(frozen=True, eq=False)
class Direction:
    """A translation direction: the source language and the target language (``zh`` or ``en``).

    It equals its label and hashes like it (``Direction("en", "zh") == "en-zh"``), so a dict keyed by labels (the
    web API's ``direction``) finds it."""

    source: str
    target: str

    def __post_init__(self):
        if self.source not in LANGUAGES or self.target not in LANGUAGES or self.source == self.target:
            raise ValueError(f"direction must be one of {DIRECTIONS}, not {self.source}-{self.target}")

    @classmethod
    def parse(cls, label: "str | Direction") -> "Direction":
        """``"zh-en"`` or ``"en-zh"`` (a Direction is returned as it is)."""
        if isinstance(label, Direction):
            return label
        source, sep, target = str(label).partition("-")
        if not sep or f"{source}-{target}" not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, not {label!r}")
        return cls(source, target)

    @property
    def label(self) -> str:
        return f"{self.source}-{self.target}"

    @property
    def languages(self) -> tuple[str, str]:
        """(source, target)."""
        return self.source, self.target

    def reversed(self) -> "Direction":
        return Direction(self.target, self.source)

    @property
    def bleu_tokenize(self) -> str:
        """sacreBLEU's tokenizer for output in the target language: ``zh`` for Chinese, ``13a`` for English."""
        return "zh" if self.target == "zh" else "13a"

    def __str__(self) -> str:
        return self.label

    def __eq__(self, other) -> bool:
        if isinstance(other, Direction):
            return self.label == other.label
        return isinstance(other, str) and self.label == other

    def __hash__(self) -> int:
        return hash(self.label)


DIRECTIONS = ("zh-en", "en-zh")
