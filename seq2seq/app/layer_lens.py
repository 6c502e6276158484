"""The layer-by-layer view's data, with no Gradio in it: one sentence through the logit lens (``Translator.logit_lens``:
each decoder layer's output read as the last one is), as table rows and downloads.  Like the attributions, it reads
the sentence's own translation (nothing is decoded again) and is kept with the sentence once computed."""

from __future__ import annotations

from ..lens import LogitLens
from .downloads import table_csv
from .inputs import InputError
from .labels import piece_text
from .predict import Prediction


def lens_of(translator, pred: Prediction, index) -> LogitLens:
    """The logit lens of the sentence at ``index``, computed once and kept with the sentence."""
    s = pred.sentence(index)
    if not s.target_tokens:
        raise InputError("This sentence has no translation to look into.")

    def compute() -> LogitLens:
        try:
            return translator.logit_lens([s.source], [s.translation])[0]
        except ValueError as e:  # over the model's length limit
            raise InputError(str(e)) from None

    return s.once(("logit lens",), compute)


def rank_text(rank: int) -> str:
    """A 0-based rank as a reader counts: 0 -> "#1"."""
    return f"#{int(rank) + 1}"


def top_text(top: list[tuple[str, float]]) -> str:
    """A layer's three likeliest pieces at a step: ``·friend 0.62, ·friends 0.10, ·pal 0.05``."""
    return ", ".join(f"{piece_text(p)} {q:.2f}" for p, q in top)


def decided_text(layer) -> str:
    """Where a piece is decided, for a reader: "layer 3", or that even the last layer ranks another piece first."""
    return "not the last layer's top" if layer is None else f"layer {layer + 1}"


def lens_header(lens: LogitLens) -> list[str]:
    return ["step", "piece", "decided at"] + [f"layer {k + 1}" for k in range(lens.layers)]


def lens_rows(lens: LogitLens) -> list[list]:
    """One row per output piece: its step, the piece, the layer from which it stays each layer's top choice, then
    per layer the three likeliest pieces with their probabilities and the chosen piece's rank there."""
    decided = lens.decided_at()
    rows = []
    for t, piece in enumerate(lens.target_tokens):
        cells = [f"{top_text(lens.top[k][t])} (chosen: {rank_text(lens.ranks[k, t])})" for k in range(lens.layers)]
        rows.append([t + 1, piece_text(piece), decided_text(decided[t]), *cells])
    return rows


def lens_json(lens: LogitLens, source: str, direction: str) -> dict:
    return {"source": source, "direction": direction, **lens.as_json()}


def lens_csv(lens: LogitLens) -> str:
    return table_csv(lens_header(lens), lens_rows(lens))
