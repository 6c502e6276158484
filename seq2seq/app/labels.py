"""How the demo shows pieces, words and languages, in its HTML and in its figures alike (no Gradio, no Plotly)."""

from __future__ import annotations

from ..direction import LANGUAGE_NAMES

FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
LINK_COLOUR, FLAG_COLOUR = "rgba(20,20,20,0.9)", "#c2410c"


def piece_text(piece: str) -> str:
    """How a piece is shown: a word-start "▁" as "·" (``·This``), a bare "▁" as "·␣"."""
    if piece == "\u2581":
        return "·␣"
    return piece.replace("\u2581", "·")


def language_names(translator) -> tuple[str, str]:
    """("Chinese", "English") or ("English", "Chinese"): a translator's source and target languages by name."""
    return tuple(LANGUAGE_NAMES[x] for x in translator.languages)
