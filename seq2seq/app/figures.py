"""The demo's figures: attention maps (Plotly, rendered by the browser, so Chinese glyphs come from the
browser's fonts), the beam tree, and one head's walkthrough.

Every label a user sees goes through :func:`piece_text` (``▁This`` is shown as ``·This``) and is escaped,
titles included: Plotly renders some HTML in text, and would swallow ``</s>`` as a tag."""

from __future__ import annotations

import html
from typing import Optional

import numpy as np

from ..results import length_penalty as lp_divisor
from .maps import HEAD, MapData, alignment_map, layer_maps
from .predict import Prediction

FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
LINK_COLOUR, FLAG_COLOUR = "rgba(20,20,20,0.9)", "#c2410c"
MAX_LABELS = 60  # an axis with more units shows every k-th label


def piece_text(piece: str) -> str:
    """How a piece is shown: a word-start "▁" as "·" (``·This``), a bare "▁" as "·␣"."""
    if piece == "\u2581":
        return "·␣"
    return piece.replace("\u2581", "·")


def _label(piece: str) -> str:
    """Axis/hover label for a piece or word: shown as :func:`piece_text`, escaped for Plotly."""
    return html.escape(piece_text(piece))


def _text_width(labels: list[str]) -> float:
    """Rough width in pixels of labels side by side (CJK characters are twice as wide)."""
    return sum(sum(14 if ord(ch) > 0x2E80 else 8 for ch in s) + 10 for s in labels)


def _axes(fig, cols: list[str], rows: list[str], width: float = 1100, flagged_cols=(), flagged_rows=(), **where):
    """Ticks for every unit; crowded x labels are turned upright, and past MAX_LABELS only every k-th is shown;
    flagged units (coverage) in orange with a "?"."""

    def ticks(labels, flagged):
        step = max(1, -(-len(labels) // MAX_LABELS))
        out = []
        for i, p in enumerate(labels):
            text = _label(p) if i % step == 0 or i in flagged else ""
            out.append(f'<span style="color:{FLAG_COLOUR}">{text} ?</span>' if i in flagged else text)
        return out

    angle = 0 if _text_width(cols) < width else -90
    fig.update_xaxes(
        tickvals=list(range(len(cols))), ticktext=ticks(cols, set(flagged_cols)), tickangle=angle, side="top", **where
    )
    fig.update_yaxes(
        tickvals=list(range(len(rows))), ticktext=ticks(rows, set(flagged_rows)), autorange="reversed", **where
    )
    return angle


def _heatmap(go, mat: np.ndarray, cols: list[str], rows: list[str], showscale: bool = True):
    sx, ty = [_label(p) for p in cols], [_label(p) for p in rows]
    custom = np.array([[(ty[j], sx[i]) for i in range(len(sx))] for j in range(len(ty))], dtype=object)
    return go.Heatmap(
        z=mat,
        x=list(range(len(cols))),
        y=list(range(len(rows))),
        customdata=custom,
        colorscale="Blues",
        zmin=0.0,
        zmax=1.0,
        showscale=showscale,
        hovertemplate="%{customdata[0]} ← %{customdata[1]}<br>weight %{z:.3f}<extra></extra>",
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
    import plotly.graph_objects as go

    fig = go.Figure(_heatmap(go, m.matrix, m.cols, m.rows))
    angle = _axes(fig, m.cols, m.rows, flagged_cols=m.flagged_cols, flagged_rows=m.flagged_rows)
    top = 90 + (8 * max((len(piece_text(c)) for c in m.cols), default=0) if angle else 0)
    title = html.escape(m.title) + (f"<br><sup>{html.escape(subtitle)}</sup>" if subtitle else "")
    fig.update_layout(
        title=dict(text=title, y=1, yanchor="top", pad=dict(t=16)),
        font=dict(family=FONT),
        shapes=_outlines(m.links),
        height=top + 60 + 30 * len(m.rows),
        margin=dict(l=10, r=10, t=top + 30, b=10),
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
    import plotly.graph_objects as go

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
    """Every layer of one sentence side by side (heads averaged, or one head), links of the alignment method
    outlined; ``languages`` as for :func:`alignment_figure`."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    s = pred.sentence(sentence_index)
    if not s.target_tokens:
        return go.Figure()
    head = None if head_choice in (None, "", "average") else int(str(head_choice).split()[-1]) - 1
    maps = layer_maps(s.full, pred.align_method, units, head, languages or pred.languages)
    fig = make_subplots(
        rows=1, cols=len(maps), subplot_titles=[m.title.split(", ", 1)[1] for m in maps], horizontal_spacing=0.04
    )
    shapes, angle = [], 0
    for i, m in enumerate(maps):
        fig.add_trace(_heatmap(go, m.matrix, m.cols, m.rows, showscale=(i == 0)), row=1, col=i + 1)
        angle = _axes(fig, m.cols, m.rows, width=1100 / len(maps), row=1, col=i + 1) or angle
        ref = "" if i == 0 else str(i + 1)
        shapes += _outlines(m.links, "x" + ref, "y" + ref)
    longest = max((len(piece_text(c)) for c in maps[0].cols), default=0)
    top = 100 + (8 * longest if angle else 0)
    fig.update_annotations(yshift=24 + (8 * longest if angle else 0))
    what = "heads averaged" if head is None else f"head {head + 1}"
    fig.update_layout(
        title=html.escape(f"Every layer, {what}: {s.source}"),
        font=dict(family=FONT),
        shapes=shapes,
        height=top + 60 + 30 * len(maps[0].rows),
        margin=dict(l=10, r=10, t=top, b=10),
    )
    return fig


def matrix_figure(mat: np.ndarray, rows: list[str], cols: list[str], title: str):
    """One attention map (rows attend to columns)."""
    return map_figure(MapData(mat, rows, cols, title))


def walkthrough_figure(e):
    """One head's computation (seq2seq.explain.HeadComputation) in five panels, each labelled with its formula."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    src = [_label(p) for p in e.source_tokens]
    piece = _label(e.target_tokens[e.step])
    d = e.d_k
    fig = make_subplots(
        rows=5,
        cols=1,
        vertical_spacing=0.1,
        row_heights=[1, max(2, len(src)), 1.5, 1.5, 1],
        subplot_titles=[
            f"1. query q of step {e.step + 1} ('{piece}'): [1 × {d}]",
            f"2. keys K = C·W_k (head {e.head + 1}): [{len(src)} × {d}]",
            f"3. scores q·Kᵀ/√d_k, d_k = {d}: [{len(src)}]",
            f"4. weights softmax(scores) = the map's row: [{len(src)}]",
            f"5. output weights·V (V = C·W_v): [1 × {d}]",
        ],
    )
    strip = dict(
        colorscale="RdBu", zmid=0, showscale=False, hovertemplate="dimension %{x}<br>value %{z:.3f}<extra></extra>"
    )
    fig.add_trace(go.Heatmap(z=[e.query.tolist()], **strip), row=1, col=1)
    fig.add_trace(
        go.Heatmap(
            z=e.keys.tolist(),
            y=list(range(len(src))),
            customdata=[[s] * d for s in src],
            colorscale="RdBu",
            zmid=0,
            showscale=False,
            hovertemplate="key of %{customdata}<br>dimension %{x}<br>value %{z:.3f}<extra></extra>",
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(tickvals=list(range(len(src))), ticktext=src, autorange="reversed", row=2, col=1)
    x = list(range(len(src)))
    for row, values in ((3, e.scores), (4, e.weights)):
        fig.add_trace(
            go.Bar(x=x, y=values.tolist(), customdata=src, hovertemplate="%{customdata}: %{y:.3f}<extra></extra>"),
            row=row,
            col=1,
        )
        fig.update_xaxes(tickvals=x, ticktext=src, tickangle=0 if _text_width(src) < 1100 else -90, row=row, col=1)
    fig.add_trace(go.Heatmap(z=[e.output.tolist()], **strip), row=5, col=1)
    fig.update_layout(
        showlegend=False,
        font=dict(family=FONT),
        height=620 + 26 * len(src),
        title=f"Cross-attention, layer {e.layer + 1}, head {e.head + 1}, predicting '{piece}'",
        margin=dict(l=10, r=10, t=90, b=10),
    )
    return fig


def matrix_csv(mat: np.ndarray, rows: list[str], cols: list[str]) -> str:
    """An attention map as CSV: a header of column pieces, then one row per row piece."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([""] + list(cols))
    for label, row in zip(rows, mat):
        w.writerow([label] + [f"{x:.5f}" for x in row])
    return buf.getvalue()


def all_heads_figure(view, kind: str, summaries: list[list[str]], words=None, hide_eos: bool = False):
    """A layers × heads grid of small maps of one kind of attention, each titled with its summary."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    att = view.attention(kind)
    n_layers, n_heads = att.shape[0], att.shape[1]
    titles = [
        html.escape(f"L{layer + 1} H{h + 1}: {summaries[layer][h]}")
        for layer in range(n_layers)
        for h in range(n_heads)
    ]
    fig = make_subplots(
        rows=n_layers, cols=n_heads, subplot_titles=titles, horizontal_spacing=0.03, vertical_spacing=0.06
    )
    for layer in range(n_layers):
        for h in range(n_heads):
            mat, rows, cols = view.matrix(kind, layer, h, words, hide_eos)
            fig.add_trace(_heatmap(go, mat, cols, rows, showscale=False), row=layer + 1, col=h + 1)
            fig.update_xaxes(showticklabels=False, row=layer + 1, col=h + 1)
            fig.update_yaxes(showticklabels=False, autorange="reversed", row=layer + 1, col=h + 1)
    fig.update_annotations(font_size=9)
    fig.update_layout(
        title=f"{kind} attention, every layer (rows) and head (columns); hover for the units",
        font=dict(family=FONT),
        height=240 * n_layers + 80,
        margin=dict(l=10, r=10, t=80, b=10),
    )
    return fig


def _tree_nodes(tree: list[list[dict]], alpha: float):
    """Node positions, labels and styles of a beam tree; (step, slot) of kept nodes -> position."""
    pos: dict = {(-1, 0): (0, 0.0)}  # (step, kept slot) -> (x, y); the root <s>
    nodes = {k: [] for k in ("x", "y", "text", "colour", "hover", "symbol", "opacity")}
    edges = []
    for step, layer in enumerate(tree):
        for r, node in enumerate(layer):
            x, y = step + 1, -r
            parent = pos.get((step - 1, node["parent"]) if step else (-1, 0))
            if node["status"] == "kept":
                pos[(step, node["slot"])] = (x, y)
            if parent is not None:
                edges.append((parent, (x, y), node["status"]))
            n = step + 1
            normalised = node["score"] / lp_divisor(n, alpha)
            for key, value in (
                ("x", x),
                ("y", y),
                ("text", _label(node["piece"])),
                ("colour", node["score"]),
                ("symbol", "diamond" if node["status"] == "finished" else "circle"),
                ("opacity", 0.25 if node["status"] == "pruned" else 1.0),
                (
                    "hover",
                    f"{_label(node['piece'])} ({node['status']})<br>cumulative log-prob "
                    f"{node['score']:.3f}<br>normalised {normalised:.3f} "
                    f"(length {n}, α {alpha:g})",
                ),
            ):
                nodes[key].append(value)
    return nodes, edges


def _returned_path(tree: list[list[dict]], best: list[str]) -> list[tuple[float, float]]:
    """The returned translation's path: its pieces followed through kept nodes to its finished node."""
    path, slot = [(0, 0.0)], 0
    for step, piece in enumerate(best[: len(tree)]):
        for r, node in enumerate(tree[step]):
            if node["piece"] == piece and node["parent"] == slot and node["status"] in ("kept", "finished"):
                path.append((step + 1, -r))
                slot = node.get("slot", slot)
                break
    return path


def beam_tree_figure(tree: list[list[dict]], best: list[str], alpha: float, greedy: bool = False):
    """The beam tree: steps left to right, nodes labelled with their piece and coloured by cumulative log-prob;
    pruned candidates faint, finished ones as diamonds, the returned translation's path in red.  Hover shows
    the cumulative and the length-normalised score (score / length ** alpha).  ``greedy``: a tree of width 1
    (``predict.greedy_tree``), titled so."""
    import plotly.graph_objects as go

    nodes, edges = _tree_nodes(tree, alpha)
    path = _returned_path(tree, best)
    fig = go.Figure()
    for (x0, y0), (x1, y1), status in edges:
        colour = "rgba(120,120,120,0.25)" if status == "pruned" else "rgba(60,60,60,0.7)"
        fig.add_trace(
            go.Scatter(
                x=[x0, x1],
                y=[y0, y1],
                mode="lines",
                hoverinfo="skip",
                showlegend=False,
                line=dict(color=colour, width=1),
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[p[0] for p in path],
            y=[p[1] for p in path],
            mode="lines",
            hoverinfo="skip",
            line=dict(color="crimson", width=4),
            name="returned translation",
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=nodes["x"],
            y=nodes["y"],
            mode="markers+text",
            text=nodes["text"],
            textposition="top center",
            hovertext=nodes["hover"],
            hoverinfo="text",
            showlegend=False,
            marker=dict(
                size=12,
                color=nodes["colour"],
                colorscale="Viridis",
                symbol=nodes["symbol"],
                opacity=nodes["opacity"],
                colorbar=dict(title="log-prob"),
            ),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[0],
            y=[0],
            mode="markers+text",
            text=["&lt;s&gt;"],
            textposition="top center",
            marker=dict(size=12, color="black"),
            hoverinfo="skip",
            showlegend=False,
        )
    )
    title = (
        "Greedy search (a beam of 1): the piece chosen at each step, and the candidates it passed over (faint)"
        if greedy
        else "Beam search: every candidate scored (faint: pruned, ◆: finished, red: returned)"
    )
    fig.update_layout(
        title=title,
        font=dict(family=FONT),
        height=200 + 45 * max((len(s) for s in tree), default=1),
        xaxis=dict(title="step", dtick=1),
        yaxis=dict(visible=False),
        margin=dict(l=10, r=10, t=60, b=40),
    )
    return fig
