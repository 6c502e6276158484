"""The figures of the attribution views (Plotly): "why this word and not that one" as bars, and the logit lens as a
grid of output pieces by decoder layer.  The maps of attribution beside attention are ``figures.map_figure``'s.
Titled and labelled as the maps are (escaped, under the figure, wrapped to a phone's width)."""

from __future__ import annotations

import html

import plotly.graph_objects as go

from ..attribution import ContrastiveAttribution
from ..lens import LogitLens
from .attributions import why_not_rows
from .figures import LINK_COLOUR, ROW_HEIGHT, TICK_SIZE, _axes, _label, _outlines, title_of, unique
from .labels import FONT, piece_text
from .layer_lens import rank_text

MAX_BARS = 16  # the words with the largest contributions; the download has them all
SIDE_COLOURS = {"source": "rgb(37,99,235)", "translation so far": "rgb(148,163,184)"}


def why_not_figure(c: ContrastiveAttribution, subtitle: str = ""):
    """Where log p(chosen) − log p(alternative) comes from: one bar per word (the largest first), source words in
    blue, the translation's own previous words in grey; a bar to the right spoke for the chosen word."""
    rows = why_not_rows(c)[:MAX_BARS]
    labels = unique([f"{_label(word)} ({'source' if side == 'source' else 'so far'})" for side, word, _ in rows])
    fig = go.Figure(
        go.Bar(
            x=[score for _, _, score in rows],
            y=labels,
            orientation="h",
            marker=dict(color=[SIDE_COLOURS[side] for side, _, _ in rows]),
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    )
    chosen, other = (piece_text(x).lstrip("·") or piece_text(x) for x in (c.chosen, c.alternative))
    title = (
        f"Why '{chosen}' and not '{other}': log p({chosen}) − log p({other}) = {c.difference:.2f}, from these words "
        "(right: for the chosen word; blue: source, grey: the translation so far)"
    )
    above = 40 + ROW_HEIGHT * len(rows)
    title, bottom = title_of(title, subtitle, above)
    fig.update_yaxes(autorange="reversed", automargin=True, tickfont=dict(size=TICK_SIZE))
    fig.update_xaxes(zeroline=True, zerolinecolor=LINK_COLOUR, automargin=True)
    fig.update_layout(
        title=title, font=dict(family=FONT), height=above + bottom, margin=dict(l=10, r=10, t=10, b=bottom)
    )
    return fig


# How a rank is coloured in the lens: the chosen piece first (decided), in the top three, in the top ten, further.
RANK_LEVELS = ((0, 1.0), (2, 0.66), (9, 0.33))


def _level(rank: int) -> float:
    return next((v for top, v in RANK_LEVELS if rank <= top), 0.0)


def lens_figure(lens: LogitLens, subtitle: str = ""):
    """The logit lens of one sentence: a row per output piece, a column per decoder layer; a cell's colour is how
    high that layer ranks the piece finally chosen (dark: first), its text the layer's own first choice, its
    hover the three likeliest pieces; outlined, the layer from which the chosen piece stays first."""
    layers = [f"layer {k + 1}" for k in range(lens.layers)]
    rows = [piece_text(p) for p in lens.target_tokens]
    z = [[_level(int(lens.ranks[k, t])) for k in range(lens.layers)] for t in range(len(rows))]
    hover = [
        [
            "<br>".join(
                [f"{html.escape(rows[t])}, {layers[k]}: chosen piece {rank_text(lens.ranks[k, t])}"]
                + [f"{i + 1}. {_label(p)} {q:.3f}" for i, (p, q) in enumerate(lens.top[k][t])]
            )
            for k in range(lens.layers)
        ]
        for t in range(len(rows))
    ]
    text = [[_label(lens.top[k][t][0][0]) for k in range(lens.layers)] for t in range(len(rows))]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=layers,
            y=unique([html.escape(r) for r in rows]),
            text=text,
            texttemplate="%{text}",
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            colorscale="Greens",
            zmin=0.0,
            zmax=1.0,
            showscale=False,
        )
    )
    _axes(fig, "en")
    decided = lens.decided_at()
    fig.update_layout(shapes=_outlines([(t, k) for t, k in enumerate(decided) if k is not None]))
    height = 40 + ROW_HEIGHT * len(rows)
    title, bottom = title_of(
        "Layer by layer: how high each layer ranks the piece finally chosen (dark: first; text: the layer's own "
        "first choice; outlined: the layer from which it stays first)",
        subtitle,
        height,
    )
    fig.update_layout(
        title=title, font=dict(family=FONT), height=height + bottom, margin=dict(l=10, r=10, t=10, b=bottom)
    )
    return fig
