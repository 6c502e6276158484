"""The demo's figures: attention maps (Plotly, rendered by the browser, so Chinese glyphs come from the
browser's fonts), the beam tree, and one head's walkthrough.

Every label a user sees goes through :func:`piece_text` (``▁This`` is shown as ``·This``) and is escaped,
titles included: Plotly renders some HTML in text, and would swallow ``</s>`` as a tag."""

from __future__ import annotations

import html
import re
from typing import Optional

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .labels import FLAG_COLOUR, FONT, LINK_COLOUR, piece_text
from .maps import HEAD, MapData, alignment_map, layer_maps
from .predict import Prediction


def _label(piece: str) -> str:
    """Axis/hover label for a piece or word: shown as :func:`piece_text`, escaped for Plotly."""
    return html.escape(piece_text(piece))


# A title line fits a phone's screen: 390 px wide, less the page's margins (titles are wrapped to it).
TITLE_WIDTH, TITLE_SIZE, SUBTITLE_SIZE, TICK_SIZE = 300, 14, 12, 12
ROW_HEIGHT = 30  # px per row of a map: room for one label


def _char_width(ch: str, size: float) -> float:
    """A generous width of a character at font ``size`` (CJK characters are square)."""
    return size if ord(ch) > 0x2E80 else 0.6 * size


def _text_width(labels: list[str], size: float = TICK_SIZE) -> float:
    """Rough width in pixels of labels side by side."""
    return sum(sum(_char_width(ch, size) for ch in s) + size for s in labels)


def wrap(text: str, size: float = TITLE_SIZE, width: float = TITLE_WIDTH) -> list[str]:
    """``text`` in lines no wider than ``width`` pixels at font ``size``: broken at spaces, and between any two
    CJK characters (Chinese has no spaces)."""
    tokens = re.findall(r"[\u2e80-\U0002ffff]|[^\s\u2e80-\U0002ffff]+\s*|\s+", text)
    lines, line = [], ""
    for tok in tokens:
        if line and _text_width([line + tok.rstrip()], size) - size > width:
            lines.append(line.rstrip())
            line = tok.lstrip()
        else:
            line += tok
    return [x for x in lines + [line.rstrip()] if x]


def title_of(title: str, subtitle: str, above: float) -> tuple[dict, int]:
    """A figure's title, wrapped to fit a phone (:func:`wrap`), the subtitle (the sentence) smaller below it,
    escaped, and the pixels it takes.  It stands under the map (``above``: the pixels of the figure above it), as
    a caption: above, it met the column labels, whose height only the browser knows."""
    lines = [html.escape(x) for x in wrap(title)]
    lines += [
        f'<span style="font-size:{SUBTITLE_SIZE}px">{html.escape(x)}</span>' for x in wrap(subtitle, SUBTITLE_SIZE)
    ]
    height = 16 + 20 * len(lines)
    return (
        dict(
            text="<br>".join(lines),
            font=dict(size=TITLE_SIZE),
            x=0.02,
            xref="container",
            xanchor="left",
            y=(height - 10) / (above + height),
            yref="container",
            yanchor="top",
        ),
        height,
    )


def unique(labels: list[str]) -> list[str]:
    """Axis categories must differ: a word's second occurrence gets an invisible mark (a zero-width space)."""
    seen: dict[str, int] = {}
    out = []
    for x in labels:
        out.append(x + "\u200b" * seen.get(x, 0))
        seen[x] = seen.get(x, 0) + 1
    return out


def upright(label: str) -> list[str]:
    """A Chinese column label written top to bottom, a character a line, as Chinese is set vertically: it stays
    one character wide however narrow the column (the end token in two lines, ``</`` and ``s>``)."""
    if label == "</s>":
        return ["</", "s>"]
    return [ch for ch in piece_text(label) if not ch.isspace()] or [piece_text(label)]


def tick_labels(labels: list[str], flagged=(), vertical: bool = False) -> list[str]:
    """Axis labels (escaped, as :func:`piece_text`), flagged units (coverage) in orange with a "?", each unique
    (:func:`unique`); ``vertical``: written top to bottom (:func:`upright`)."""
    flagged = set(flagged)
    out = []
    for i, p in enumerate(labels):
        lines = [html.escape(x) for x in upright(p)] if vertical else [_label(p)]
        if i in flagged:
            lines = [f'<span style="color:{FLAG_COLOUR}">{x}</span>' for x in lines + ["?"]]
            lines = lines if vertical else [" ".join(lines)]
        out.append("<br>".join(lines))
    return unique(out)


# English labels that turn upright need a font whose line is no taller than the room Plotly leaves a label
# (1.2 × its size): the CJK fonts' lines are taller (about 1.45), and upright neighbours would touch.
LATIN_FONT = "Liberation Sans, Arial, Helvetica, DejaVu Sans, " + FONT


def _axes(fig, columns: str = "zh", show_x: bool = True, **where) -> None:
    """Category axes, columns along the top: the browser shows as many labels as fit the width the map gets
    (every k-th where they do not all fit, as on a phone).  Chinese column labels are written top to bottom
    (:func:`upright`); others turn upright where they do not fit level.  The margins grow to fit them."""
    turn = dict(tickangle=0) if columns == "zh" else dict(autotickangles=[0, 90])
    size = TICK_SIZE if columns == "zh" else TICK_SIZE - 1
    fig.update_xaxes(
        type="category",
        side="top",
        automargin=True,
        showticklabels=show_x,
        tickfont=dict(size=size, family=FONT if columns == "zh" else LATIN_FONT),
        **turn,
        **where,
    )
    fig.update_yaxes(type="category", autorange="reversed", automargin=True, tickfont=dict(size=TICK_SIZE), **where)


def _top_labels(cols: list[str], columns: str = "zh") -> float:
    """The height the column labels may take (written top to bottom, or upright)."""
    if columns == "zh":
        return 16 * max((len(upright(c)) for c in cols), default=0) + 10
    return max((_text_width([piece_text(c)]) for c in cols), default=0) + 10


def _heatmap(
    mat: np.ndarray,
    cols: list[str],
    rows: list[str],
    showscale=True,
    flagged=((), ()),
    columns="zh",
    signed: bool = False,
    value: str = "weight",
):
    """A map's heatmap: weights 0..1 in blues, or (``signed``) -1..1 from red (against) to blue (for)."""
    sx, ty = [_label(p) for p in cols], [_label(p) for p in rows]
    custom = np.array([[(ty[j], sx[i]) for i in range(len(sx))] for j in range(len(ty))], dtype=object)
    return go.Heatmap(
        z=mat,
        x=tick_labels(cols, flagged[1], vertical=columns == "zh"),
        y=tick_labels(rows, flagged[0]),
        customdata=custom,
        colorscale="RdBu" if signed else "Blues",
        colorbar=dict(thickness=12, tickfont=dict(size=10)),
        zmin=-1.0 if signed else 0.0,
        zmax=1.0,
        showscale=showscale,
        hovertemplate=f"%{{customdata[0]}} ← %{{customdata[1]}}<br>{html.escape(value)} %{{z:.3f}}<extra></extra>",
    )


def _outlines(links, xref: str = "x", yref: str = "y") -> list[dict]:
    """One outlined cell per link (row, col), in the order of ``links``: shape k is link k (chips use that)."""
    return [
        dict(
            type="rect",
            xref=xref,
            yref=yref,
            x0=c - 0.5,
            x1=c + 0.5,
            y0=r - 0.5,
            y1=r + 0.5,
            line=dict(color=LINK_COLOUR, width=2),
            fillcolor="rgba(0,0,0,0)",
        )
        for r, c in links
    ]


def map_figure(m: MapData, subtitle: str = ""):
    """One map: rows attend to columns, links outlined, flagged units marked."""
    columns = m.languages[0]
    flagged = (m.flagged_rows, m.flagged_cols)
    fig = go.Figure(
        _heatmap(m.matrix, m.cols, m.rows, flagged=flagged, columns=columns, signed=m.signed, value=m.value)
    )
    _axes(fig, columns)
    height = _top_labels(m.cols, columns) + 20 + ROW_HEIGHT * len(m.rows)
    title, bottom = title_of(m.title, subtitle, height)
    fig.update_layout(
        title=title,
        font=dict(family=FONT),
        shapes=_outlines(m.links),
        height=height + bottom,
        margin=dict(l=10, r=10, t=10, b=bottom),
    )
    return fig


def alignment_figure(
    pred: Prediction,
    attention: Optional[str] = HEAD,
    units: str = "words",
    sentence: int = 0,
    languages: Optional[tuple[str, str]] = None,
):
    """The map of one sentence of a prediction: by default the alignment head's, at word level.  ``languages``
    (default: the prediction's): rows are the output language's words, columns the input language's."""
    s = pred.sentence(sentence)
    if not s.target_tokens:
        return go.Figure()
    languages = languages or pred.languages
    t = s.translation if attention in (None, HEAD) else s.full
    return map_figure(alignment_map(t, pred.align_method, attention, units, languages), s.source)


def all_layers_figure(
    pred: Prediction,
    sentence_index: int = 0,
    head_choice: str = "average",
    units: str = "words",
    languages: Optional[tuple[str, str]] = None,
):
    """Every layer of one sentence, one above the other (heads averaged, or one head), links of the alignment
    method outlined; ``languages`` as for :func:`alignment_figure`."""
    s = pred.sentence(sentence_index)
    if not s.target_tokens:
        return go.Figure()
    head = None if head_choice in (None, "", "average") else int(str(head_choice).split()[-1]) - 1
    maps = layer_maps(s.full, pred.align_method, units, head, languages or pred.languages)
    # One above the other, the column labels once at the top: side by side, a phone's width gave each layer
    # too little room for its labels.
    rows, columns = len(maps[0].rows), maps[0].languages[0]
    gap = 16
    plot_height = len(maps) * ROW_HEIGHT * rows + gap * (len(maps) - 1)
    height = _top_labels(maps[0].cols, columns) + plot_height + 20
    what = "heads averaged" if head is None else f"head {head + 1}"
    title, bottom = title_of(f"Every layer, {what}", s.source, height)
    fig = make_subplots(rows=len(maps), cols=1, vertical_spacing=gap / plot_height)
    shapes = []
    for i, m in enumerate(maps):
        fig.add_trace(_heatmap(m.matrix, m.cols, m.rows, showscale=i == 0, columns=columns), row=i + 1, col=1)
        _axes(fig, columns, show_x=i == 0, row=i + 1, col=1)
        fig.update_yaxes(title=dict(text=f"layer {i + 1}", font=dict(size=TICK_SIZE)), row=i + 1, col=1)
        ref = "" if i == 0 else str(i + 1)
        shapes += _outlines(m.links, "x" + ref, "y" + ref)
    fig.update_layout(
        title=title,
        font=dict(family=FONT),
        shapes=shapes,
        height=height + bottom,
        margin=dict(l=10, r=10, t=10, b=bottom),
    )
    return fig


def matrix_figure(mat: np.ndarray, rows: list[str], cols: list[str], title: str, languages=("zh", "en")):
    """One attention map (rows attend to columns); ``languages``: (the columns', the rows')."""
    return map_figure(MapData(matrix=mat, rows=rows, cols=cols, title=title, languages=tuple(languages)))


def all_heads_figure(view, kind: str, summaries: list[list[str]], words=None, hide_eos: bool = False):
    """A layers × heads grid of small maps of one kind of attention, each titled with its summary."""
    att = view.attention(kind)
    n_layers, n_heads = att.shape[0], att.shape[1]
    # each title in short lines: on a phone, a head's map is about 80 px wide
    titles = [
        f"L{layer + 1} H{h + 1}<br>"
        + "<br>".join(html.escape(x.replace(" bits", "")) for x in summaries[layer][h].split(", "))
        for layer in range(n_layers)
        for h in range(n_heads)
    ]
    fig = make_subplots(
        rows=n_layers, cols=n_heads, subplot_titles=titles, horizontal_spacing=0.03, vertical_spacing=0.06
    )
    for layer in range(n_layers):
        for h in range(n_heads):
            mat, rows, cols = view.matrix(kind, layer, h, words, hide_eos)
            fig.add_trace(_heatmap(mat, cols, rows, showscale=False), row=layer + 1, col=h + 1)
            fig.update_xaxes(showticklabels=False, row=layer + 1, col=h + 1)
            fig.update_yaxes(showticklabels=False, autorange="reversed", row=layer + 1, col=h + 1)
    fig.update_annotations(font_size=9)
    title, bottom = title_of(
        f"{kind} attention, every layer (rows) and head (columns); hover for the units", "", 240 * n_layers + 60
    )
    fig.update_layout(
        title=title,
        font=dict(family=FONT),
        height=240 * n_layers + 60 + bottom,
        margin=dict(l=10, r=10, t=60, b=bottom),
    )
    return fig
