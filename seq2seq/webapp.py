"""The web demo: translate Chinese and show which source pieces every English piece attended to.

``predict`` does the work and is plain Python (tested without a browser); ``build_demo`` lays
it out with Gradio, and the figure functions turn cross-attention into Plotly heatmaps, which
the browser renders (so Chinese glyphs come from the browser's fonts).  Per-request data lives
in the request and in Gradio's per-session ``gr.State``; nothing is stored on shared objects.
"""

from __future__ import annotations

import html
import logging
import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .text import chunk, looks_chinese

log = logging.getLogger("seq2seq.app")

MAX_INPUT_CHARS = 2000  # a few paragraphs; longer input is rejected at once with a message
MAX_SENTENCES = 40
FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
EXAMPLES = ["我喜欢吃苹果。", "今天天气很好。", "你叫什么名字？", "我明天去北京。",
            "这家餐厅的菜很好吃，但是价格有点贵。", "中国经济今年增长了百分之五。"]


class InputError(ValueError):
    """Input we answer with a friendly message instead of a translation."""


@dataclass
class SentenceResult:
    source: str
    text: str
    source_tokens: list[str]
    target_tokens: list[str]
    attention: np.ndarray  # [layers, heads, T, S]
    nbest: list[tuple[str, float, float]]  # (text, normalized score, log-prob)


@dataclass
class Prediction:
    translation: str
    sentences: list[SentenceResult]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def predict(translator, text: str, beam_size: int = 5, length_penalty: Optional[float] = None, nbest: int = 1) -> Prediction:
    """Split ``text`` into sentences, translate them as one batch, and keep each one's cross-attention."""
    t0 = time.perf_counter()
    text = (text or "").strip()
    if not text:
        raise InputError("Please type some Chinese text to translate.")
    if len(text) > MAX_INPUT_CHARS:
        raise InputError(f"The input has {len(text)} characters; the demo translates at most {MAX_INPUT_CHARS} "
                         "at a time. Please split it into smaller parts.")
    beam_size = max(1, int(beam_size))
    nbest = 1 if beam_size == 1 else max(1, min(int(nbest), beam_size))
    notes = []
    if not looks_chinese(text):
        notes.append("This does not look like Chinese; the model translates Chinese to English, "
                     "so the result may be poor. Translated anyway.")
    sentences = chunk(text, max_chars=translator.max_source_tokens // 2)
    if len(sentences) > MAX_SENTENCES:
        raise InputError(f"The input has {len(sentences)} sentences; the demo translates at most {MAX_SENTENCES} "
                         "at a time.")
    lp = None if length_penalty is None else float(length_penalty)  # None: the model folder's default
    outs = translator.translate(sentences, beam_size=beam_size, length_penalty=lp, nbest=nbest)
    results = [SentenceResult(src, t.text, t.source_tokens, t.target_tokens, t.cross_attention,
                              [(h.text, h.normalized_score, h.score) for h in t.nbest]) for src, t in zip(sentences, outs)]
    return Prediction(" ".join(r.text for r in results), results, notes, time.perf_counter() - t0)


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


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


def word_alignment_html(pred: Prediction, layer_choice: str = "last", head_choice: str = "average") -> str:
    """Each target piece with the source piece it attends to most (all text escaped)."""
    if not pred.sentences:
        return ""
    parts = ['<div class="s2s-align" style="font-family:' + FONT + ';line-height:2.2">']
    for s in pred.sentences:
        if not s.target_tokens:
            continue
        layer, head = parse_choice(layer_choice, head_choice, s.attention.shape[0])
        mat = attention_matrix(s.attention, layer, head)
        parts.append(f"<p><b>{html.escape(s.source)}</b><br>")
        for j, piece in enumerate(s.target_tokens):
            i = int(mat[j].argmax())
            w = float(mat[j, i])
            parts.append(
                f'<span title="weight {w:.2f}" style="display:inline-block;margin:2px;padding:0 6px;border-radius:6px;'
                f'background:rgba(37,99,235,{0.15 + 0.6 * w:.2f})">{_label(piece)} &rarr; {_label(s.source_tokens[i])}'
                "</span>")
        parts.append("</p>")
    parts.append("</div>")
    return "".join(parts)


def nbest_rows(pred: Prediction) -> list[list]:
    rows = []
    for k, s in enumerate(pred.sentences, 1):
        for rank, (text, norm, logp) in enumerate(s.nbest, 1):
            rows.append([k, rank, text, round(norm, 3), round(logp, 3)])
    return rows


# ---------------------------------------------------------------------------------------------
# Gradio
# ---------------------------------------------------------------------------------------------


def build_demo(translator, model_name: str = "default"):
    import gradio as gr

    cfg = translator.model.cfg
    layer_choices = [f"layer {i + 1}" for i in range(cfg.n_dec_layers)]
    head_choices = ["average"] + [f"head {h + 1}" for h in range(cfg.n_heads)]

    def run(text, mode, beam_size, length_penalty, nbest, layer_choice, head_choice):
        """Outputs: translation, n-best rows, map, all-layers map, word alignment, state, sentence slider, status."""
        try:
            pred = predict(translator, text, 1 if mode == "greedy" else beam_size, length_penalty, nbest)
        except InputError as e:
            gr.Warning(str(e))
            return "", [], None, None, "", None, gr.update(choices=["1"], value="1", visible=False), str(e)
        except Exception:  # never show a stack trace to the user
            log.exception("translation failed")
            raise gr.Error("Sorry, something went wrong while translating. Please try again with other text.")
        status = " ".join(pred.notes) or f"Translated {len(pred.sentences)} sentence(s) in {pred.seconds:.2f} s."
        return (pred.translation, nbest_rows(pred), alignment_figure(pred, layer_choice, head_choice),
                all_layers_figure(pred, 0, head_choice), word_alignment_html(pred, layer_choice, head_choice), pred,
                gr.update(choices=[str(i + 1) for i in range(len(pred.sentences))], value="1",
                          visible=len(pred.sentences) > 1), status)

    def redraw(pred, layer_choice, head_choice, sentence_index):
        if pred is None:
            return None, None, ""
        index = int(sentence_index or 1) - 1
        return (alignment_figure(pred, layer_choice, head_choice), all_layers_figure(pred, index, head_choice),
                word_alignment_html(pred, layer_choice, head_choice))

    default_lp = float(translator.folder_config.decoding["length_penalty"])  # the model's own default
    with gr.Blocks(title="seq2seq: Chinese → English with attention maps") as demo:
        gr.Markdown("# seq2seq · Chinese → English\nA small Transformer translator. Type Chinese, press **Translate**, "
                    "and see which source pieces each English piece attended to (cross-attention). "
                    f"Model: `{html.escape(model_name)}`.")
        with gr.Row():
            with gr.Column(scale=3):
                inp = gr.Textbox(label="Chinese", lines=3, placeholder="我喜欢吃苹果。", elem_id="source")
                gr.Examples(EXAMPLES, inputs=inp, label="Examples (click one)")
            with gr.Column(scale=2):
                mode = gr.Radio(["beam", "greedy"], value="beam", label="Decoding")
                beam = gr.Slider(2, 10, value=5, step=1, label="Beam size")
                lp = gr.Slider(0.0, 2.0, value=default_lp, step=0.1, label="Length penalty α (score ÷ length^α; higher → longer)")
                nbest = gr.Slider(1, 10, value=3, step=1, label="n-best")
        btn = gr.Button("Translate", variant="primary", elem_id="translate-btn")
        out = gr.Textbox(label="English", lines=2, interactive=False, elem_id="translation")
        status = gr.Markdown(elem_id="status")
        with gr.Row():
            layer = gr.Dropdown(layer_choices, value=layer_choices[-1], label="Layer")
            head = gr.Dropdown(head_choices, value="average", label="Head")
            sent = gr.Dropdown(["1"], value="1", label="Sentence (all-layers view)", visible=False)
        with gr.Tabs():
            with gr.Tab("Alignment map"):
                fig = gr.Plot(label="Cross-attention", elem_id="heatmap")
            with gr.Tab("All layers"):
                fig_all = gr.Plot(label="All layers")
            with gr.Tab("Word alignment"):
                words = gr.HTML()
            with gr.Tab("n-best"):
                table = gr.Dataframe(headers=["sentence", "rank", "translation", "score (normalised)", "log-prob"],
                                     interactive=False)
        gr.Markdown("Rows: English pieces; columns: Chinese pieces; colour: attention weight (hover for the value). "
                    "`·` marks a piece that starts a word; `</s>` is the end-of-sentence token.")
        state = gr.State(None)
        outputs = [out, table, fig, fig_all, words, state, sent, status]
        inputs = [inp, mode, beam, lp, nbest, layer, head]
        btn.click(run, inputs, outputs, api_visibility="private")
        inp.submit(run, inputs, outputs, api_visibility="private")
        for control in (layer, head, sent):
            control.change(redraw, [state, layer, head, sent], [fig, fig_all, words], api_visibility="private")

        def translate(text: str, beam_size: int = 5, length_penalty: float = default_lp) -> str:
            """Translate Chinese text to English. Returns the translation (or a message for bad input)."""
            try:
                return predict(translator, text, beam_size, length_penalty).translation
            except InputError as e:
                return str(e)

        gr.api(translate, api_name="translate")
    demo.queue(default_concurrency_limit=2, max_size=64)
    return demo
