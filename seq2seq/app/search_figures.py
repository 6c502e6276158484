"""The figures of the search and of one head's computation: the beam tree (every hypothesis the search scored)
and one head's walkthrough, titled as the maps are (:func:`~seq2seq.app.figures.title_of`: under the figure,
wrapped to a phone's width)."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..decoding import length_penalty
from .figures import SUBTITLE_SIZE, _label, title_of, wrap
from .labels import FONT


def walkthrough_figure(e):
    """One head's computation (seq2seq.explain.HeadComputation) in five panels, each labelled with its formula."""
    src = [_label(p) for p in e.source_tokens]
    piece = _label(e.target_tokens[e.step])
    d = e.d_k
    fig = make_subplots(
        rows=5,
        cols=1,
        vertical_spacing=0.1,
        row_heights=[1, max(2, len(src)), 1.5, 1.5, 1],
        subplot_titles=[
            "<br>".join(wrap(t, SUBTITLE_SIZE))
            for t in (
                f"1. query q of step {e.step + 1} ('{piece}'): [1 × {d}]",
                f"2. keys K = C·W_k (head {e.head + 1}): [{len(src)} × {d}]",
                f"3. scores q·Kᵀ/√d_k, d_k = {d}: [{len(src)}]",
                f"4. weights softmax(scores) = the map's row: [{len(src)}]",
                f"5. output weights·V (V = C·W_v): [1 × {d}]",
            )
        ],
    )
    fig.update_annotations(font_size=SUBTITLE_SIZE)
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
        fig.update_xaxes(tickvals=x, ticktext=src, autotickangles=[0, 90], automargin=True, row=row, col=1)
    fig.add_trace(go.Heatmap(z=[e.output.tolist()], **strip), row=5, col=1)
    for row in (1, 5):  # one row of numbers: no row label
        fig.update_yaxes(showticklabels=False, row=row, col=1)
    above = 620 + 26 * len(src)
    title, bottom = title_of(
        f"Cross-attention, layer {e.layer + 1}, head {e.head + 1}, predicting '{piece}'", "", above
    )
    fig.update_layout(
        showlegend=False,
        font=dict(family=FONT),
        height=above + bottom,
        title=title,
        margin=dict(l=10, r=10, t=60, b=bottom),
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
            normalised = node["score"] / length_penalty(n, alpha)
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
    (``explore.greedy_tree``), titled so."""
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
    above = 200 + 45 * max((len(s) for s in tree), default=1)
    title, bottom = title_of(title, "", above)
    fig.update_layout(
        title=title,
        font=dict(family=FONT),
        height=above + bottom,
        xaxis=dict(title="step", dtick=1, range=[-0.5, len(tree) + 0.5], automargin=True),
        yaxis=dict(visible=False),
        margin=dict(l=10, r=10, t=20, b=bottom + 60),
    )
    return fig
