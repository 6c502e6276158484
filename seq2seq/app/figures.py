"""The demo's figures: cross-attention heatmaps (Plotly, rendered by the browser, so Chinese glyphs come
from the browser's fonts) and the word-alignment view (escaped HTML)."""

from __future__ import annotations

import html
from typing import Optional

import numpy as np

from ..align import DEFAULT_RAW, AlignMethod, source_words, target_words, word_alignment
from .predict import Prediction

FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"


def _label(piece: str) -> str:
    """Axis/hover label for a piece: escaped (Plotly renders some HTML in labels), '▁' shown as '·'."""
    return html.escape(piece.replace("\u2581", "·"))


def attention_matrix(att: np.ndarray, layer: int, head: Optional[int]) -> np.ndarray:
    """[T, S] for ``layer`` (0-based; -1 = last) and ``head`` (None = mean over heads)."""
    a = att[layer]
    return a.mean(axis=0) if head is None else a[head]


def parse_choice(layer_choice: str, head_choice: str, n_layers: int) -> tuple[int, Optional[int]]:
    layer = n_layers - 1 if layer_choice in (None, "", "last") else int(str(layer_choice).split()[-1]) - 1
    head = None if head_choice in (None, "", "average") else int(str(head_choice).split()[-1]) - 1
    return layer, head


def _heatmap(go, mat: np.ndarray, src: list[str], tgt: list[str], showscale: bool = True):
    sx, ty = [_label(p) for p in src], [_label(p) for p in tgt]
    custom = np.array([[(ty[j], sx[i]) for i in range(len(sx))] for j in range(len(ty))], dtype=object)
    return go.Heatmap(z=mat, x=list(range(len(src))), y=list(range(len(tgt))), customdata=custom,
                      colorscale="Blues", zmin=0.0, zmax=1.0, showscale=showscale,
                      hovertemplate="target %{customdata[0]}<br>source %{customdata[1]}<br>weight %{z:.3f}<extra></extra>")


def _axes(fig, src: list[str], tgt: list[str], row=None, col=None):
    kw = {} if row is None else {"row": row, "col": col}
    fig.update_xaxes(tickvals=list(range(len(src))), ticktext=[_label(p) for p in src], tickangle=0,
                     side="top", **kw)
    fig.update_yaxes(tickvals=list(range(len(tgt))), ticktext=[_label(p) for p in tgt], autorange="reversed", **kw)


def alignment_figure(pred: Prediction, layer_choice: str = "last", head_choice: str = "average"):
    """One heatmap per sentence (stacked), for the chosen layer and head (default: last layer, mean of heads)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    sents = [s for s in pred.sentences if s.target_tokens]
    if not sents:
        return go.Figure()
    layer, head = parse_choice(layer_choice, head_choice, sents[0].attention.shape[0])
    heights = [max(3, len(s.target_tokens)) for s in sents]
    fig = make_subplots(rows=len(sents), cols=1, row_heights=heights, vertical_spacing=min(0.3 / len(sents), 0.08),
                        subplot_titles=[_label(s.source) for s in sents])
    for r, s in enumerate(sents, 1):
        fig.add_trace(_heatmap(go, attention_matrix(s.attention, layer, head), s.source_tokens, s.target_tokens,
                               showscale=(r == 1)), row=r, col=1)
        _axes(fig, s.source_tokens, s.target_tokens, r, 1)
    fig.update_annotations(yshift=24)  # sentence titles above the source pieces on the top axis
    head_txt = "mean of heads" if head is None else f"head {head + 1}"
    fig.update_layout(title=f"Cross-attention, layer {layer + 1}, {head_txt}", font=dict(family=FONT),
                      height=140 + 26 * sum(heights) + 60 * len(sents), margin=dict(l=10, r=10, t=90, b=10))
    return fig


def all_layers_figure(pred: Prediction, sentence_index: int = 0, head_choice: str = "average"):
    """Every layer of one sentence side by side."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    sents = [s for s in pred.sentences if s.target_tokens]
    if not sents:
        return go.Figure()
    s = sents[min(max(0, int(sentence_index)), len(sents) - 1)]
    n_layers = s.attention.shape[0]
    _, head = parse_choice("last", head_choice, n_layers)
    fig = make_subplots(rows=1, cols=n_layers, subplot_titles=[f"layer {i + 1}" for i in range(n_layers)],
                        horizontal_spacing=0.04)
    for i in range(n_layers):
        fig.add_trace(_heatmap(go, attention_matrix(s.attention, i, head), s.source_tokens, s.target_tokens,
                               showscale=(i == 0)), row=1, col=i + 1)
        _axes(fig, s.source_tokens, s.target_tokens, 1, i + 1)
    fig.update_annotations(yshift=24)
    fig.update_layout(title=f"All layers: {_label(s.source)}", font=dict(family=FONT),
                      height=160 + 26 * len(s.target_tokens), margin=dict(l=10, r=10, t=90, b=10))
    return fig


def word_alignment_html(pred: Prediction, method: Optional[AlignMethod] = None) -> str:
    """Each English word with the Chinese words it is linked to, read with ``method`` (default: the
    prediction's, i.e. the model's alignment head if it has one, else Shift-Att; see seq2seq.align).
    All text is escaped."""
    if not pred.sentences:
        return ""
    method = method or pred.align_method or DEFAULT_RAW
    parts = ['<div class="s2s-align" style="font-family:' + FONT + ';line-height:2.2">',
             f"<p><i>Links read from: {html.escape(method.name)}.</i></p>"]
    for s in pred.sentences:
        if not s.target_tokens:
            continue
        att = s.full_context_attention if method.full_context else s.attention
        if att is None:  # a full-context method on a prediction made without that pass
            continue
        links = word_alignment(s.source_tokens, s.target_tokens, att, method=method)
        zh_words, en_words = source_words(s.source_tokens), target_words(s.target_tokens)
        parts.append(f"<p><b>{html.escape(s.source)}</b><br>")
        for j, word in enumerate(en_words):
            linked = [zh_words[i] for i, jj in links if jj == j and i < len(zh_words)]
            parts.append(
                '<span style="display:inline-block;margin:2px;padding:0 6px;border-radius:6px;'
                f'background:rgba(37,99,235,{0.45 if linked else 0.1})">{html.escape(word)} &rarr; '
                f'{html.escape("".join(linked)) or "∅"}</span>')
        parts.append("</p>")
    parts.append("</div>")
    return "".join(parts)


def scored_pieces_html(scored) -> str:
    """The user's translation, each piece coloured by the model's probability for it (red: improbable)."""
    a = scored.alignment
    parts = ['<div class="s2s-score" style="font-family:' + FONT + ';line-height:2.2">']
    for piece, lp in zip(a.target_tokens, a.token_logprobs):
        p = float(np.exp(lp))
        parts.append(f'<span title="p = {p:.3f} (log-prob {lp:.2f})" style="display:inline-block;margin:1px;'
                     f'padding:0 4px;border-radius:4px;background:rgba({int(220 * (1 - p))},{int(160 * p)},80,0.35)">'
                     f"{html.escape(piece.replace(chr(0x2581), '·'))}</span>")
    parts.append(f"<p>Yours: log-prob <b>{a.score:.2f}</b> (length-normalised {a.normalized_score:.3f}); "
                 f"the model's own translation, <i>{html.escape(scored.model_text)}</i>: "
                 f"<b>{scored.model_score:.2f}</b> ({scored.model_normalized:.3f}). "
                 "Higher is more plausible to the model; pieces in red are where it disagrees.</p></div>")
    return "".join(parts)


def matrix_figure(mat: np.ndarray, rows: list[str], cols: list[str], title: str):
    """One attention map (rows attend to columns)."""
    import plotly.graph_objects as go

    fig = go.Figure(_heatmap(go, mat, cols, rows))
    _axes(fig, cols, rows)
    fig.update_layout(title=title, font=dict(family=FONT), height=160 + 26 * len(rows),
                      margin=dict(l=10, r=10, t=90, b=10))
    return fig


def walkthrough_figure(e):
    """One head's computation (seq2seq.explain.HeadComputation) in five panels, each labelled with its formula."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    src = [_label(p) for p in e.source_tokens]
    piece = _label(e.target_tokens[e.step])
    d = e.d_k
    fig = make_subplots(rows=5, cols=1, vertical_spacing=0.1, row_heights=[1, max(2, len(src)), 1.5, 1.5, 1],
                        subplot_titles=[f"1. query q of step {e.step + 1} ('{piece}'): [1 × {d}]",
                                        f"2. keys K = C·W_k (head {e.head + 1}): [{len(src)} × {d}]",
                                        f"3. scores q·Kᵀ/√d_k, d_k = {d}: [{len(src)}]",
                                        f"4. weights softmax(scores) = the map's row: [{len(src)}]",
                                        f"5. output weights·V (V = C·W_v): [1 × {d}]"])
    strip = dict(colorscale="RdBu", zmid=0, showscale=False,
                 hovertemplate="dimension %{x}<br>value %{z:.3f}<extra></extra>")
    fig.add_trace(go.Heatmap(z=[e.query.tolist()], **strip), row=1, col=1)
    fig.add_trace(go.Heatmap(z=e.keys.tolist(), y=list(range(len(src))), customdata=[[s] * d for s in src],
                             colorscale="RdBu", zmid=0, showscale=False,
                             hovertemplate="key of %{customdata}<br>dimension %{x}<br>value %{z:.3f}<extra></extra>"),
                  row=2, col=1)
    fig.update_yaxes(tickvals=list(range(len(src))), ticktext=src, autorange="reversed", row=2, col=1)
    fig.add_trace(go.Bar(x=src, y=e.scores.tolist(), hovertemplate="%{x}: %{y:.3f}<extra></extra>"), row=3, col=1)
    fig.add_trace(go.Bar(x=src, y=e.weights.tolist(), hovertemplate="%{x}: %{y:.3f}<extra></extra>"), row=4, col=1)
    fig.add_trace(go.Heatmap(z=[e.output.tolist()], **strip), row=5, col=1)
    fig.update_layout(showlegend=False, font=dict(family=FONT), height=620 + 26 * len(src),
                      title=f"Cross-attention, layer {e.layer + 1}, head {e.head + 1}, predicting '{piece}'",
                      margin=dict(l=10, r=10, t=90, b=10))
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
    titles = [f"L{layer + 1} H{h + 1}: {summaries[layer][h]}" for layer in range(n_layers) for h in range(n_heads)]
    fig = make_subplots(rows=n_layers, cols=n_heads, subplot_titles=titles, horizontal_spacing=0.03,
                        vertical_spacing=0.06)
    for layer in range(n_layers):
        for h in range(n_heads):
            mat, rows, cols = view.matrix(kind, layer, h, words, hide_eos)
            fig.add_trace(_heatmap(go, mat, cols, rows, showscale=False), row=layer + 1, col=h + 1)
            fig.update_xaxes(showticklabels=False, row=layer + 1, col=h + 1)
            fig.update_yaxes(showticklabels=False, autorange="reversed", row=layer + 1, col=h + 1)
    fig.update_annotations(font_size=9)
    fig.update_layout(title=f"{kind} attention, every layer (rows) and head (columns); hover for the pieces",
                      font=dict(family=FONT), height=240 * n_layers + 80, margin=dict(l=10, r=10, t=80, b=10))
    return fig


def beam_tree_figure(tree: list[list[dict]], best: list[str], alpha: float):
    """The beam tree: steps left to right, nodes labelled with their piece and coloured by cumulative log-prob;
    pruned candidates faint, finished ones as diamonds, the returned translation's path in red.  Hover shows
    the cumulative and the length-normalised score (score / length ** alpha)."""
    import plotly.graph_objects as go

    pos: dict = {(-1, 0): (0, 0.0)}  # (step, kept slot) -> (x, y); the root <s>
    xs, ys, text, colour, hover, symbol, opacity, edges = [], [], [], [], [], [], [], []
    best_ids = set()
    for step, nodes in enumerate(tree):
        for r, node in enumerate(nodes):
            x, y = step + 1, -r
            parent = pos.get((step - 1, node["parent"]) if step else (-1, 0))
            if node["status"] == "kept":
                pos[(step, node["slot"])] = (x, y)
            if parent is not None:
                edges.append((parent, (x, y), node["status"]))
            n = step + 1
            xs.append(x)
            ys.append(y)
            text.append(_label(node["piece"]))
            colour.append(node["score"])
            symbol.append("diamond" if node["status"] == "finished" else "circle")
            opacity.append(0.25 if node["status"] == "pruned" else 1.0)
            hover.append(f"{_label(node['piece'])} ({node['status']})<br>cumulative log-prob {node['score']:.3f}"
                         f"<br>normalised {node['score'] / n ** alpha:.3f} (length {n}, α {alpha:g})")
    # the returned translation's path: follow its pieces through kept nodes to its finished node
    path, slot = [(0, 0.0)], 0
    for step, piece in enumerate(best):
        if step >= len(tree):
            break
        for r, node in enumerate(tree[step]):
            if node["piece"] == piece and node["parent"] == slot and node["status"] in ("kept", "finished"):
                path.append((step + 1, -r))
                slot = node.get("slot", slot)
                break
    fig = go.Figure()
    for (x0, y0), (x1, y1), status in edges:
        fig.add_trace(go.Scatter(x=[x0, x1], y=[y0, y1], mode="lines", hoverinfo="skip", showlegend=False,
                                 line=dict(color="rgba(120,120,120,0.25)" if status == "pruned" else "rgba(60,60,60,0.7)",
                                           width=1)))
    fig.add_trace(go.Scatter(x=[p[0] for p in path], y=[p[1] for p in path], mode="lines", hoverinfo="skip",
                             line=dict(color="crimson", width=4), name="returned translation", showlegend=False))
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers+text", text=text, textposition="top center",
                             hovertext=hover, hoverinfo="text", showlegend=False,
                             marker=dict(size=12, color=colour, colorscale="Viridis", symbol=symbol, opacity=opacity,
                                         colorbar=dict(title="log-prob"))))
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers+text", text=["&lt;s&gt;"], textposition="top center",
                             marker=dict(size=12, color="black"), hoverinfo="skip", showlegend=False))
    fig.update_layout(title="Beam search: every candidate scored (faint: pruned, ◆: finished, red: returned)",
                      font=dict(family=FONT), height=200 + 45 * max(len(s) for s in tree),
                      xaxis=dict(title="step", dtick=1), yaxis=dict(visible=False), margin=dict(l=10, r=10, t=60, b=40))
    return fig
