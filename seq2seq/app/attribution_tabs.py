"""The tabs that show what the model used, not only where it looked (docs/attribution.md): *Attribution* (beside
the alignment head's map), *Why not* (why this word and not that one) and *Layer by layer* (the logit lens).
Built like the tabs of ``tabs.py``; what they compute is in ``attributions.py`` and ``layer_lens.py``."""

from __future__ import annotations

import gradio as gr

from .attribution_figures import lens_figure, why_not_figure
from .attributions import (
    METHODS,
    beside_attention,
    method_of,
    runner_up,
    why_not,
    why_not_csv,
    why_not_json,
    word_choices,
)
from .chips import attribution_summary_html, caption_html, why_not_html
from .downloads import file_stem, write_files
from .figures import map_figure
from .intros import intro
from .labels import language_names
from .layer_lens import lens_csv, lens_header, lens_json, lens_of, lens_rows
from .views import HEAVY, Demo, View, chosen, clear_toasts, redraw_on, user_errors, view_tab


def _method_pick(elem_id: str):
    return gr.Radio(
        list(METHODS),
        value=next(iter(METHODS)),
        label="Method",
        info="Input × gradient is quick; integrated gradients is slower and shows its progress.",
        elem_id=elem_id,
    )


def _reporter(progress, what: str):
    """The library's ``progress(done, total)`` as a step of Gradio's progress bar (None: nothing to report to)."""
    if progress is None:
        return None
    return lambda done, total: progress((done, total), desc=what)


def attribution_tab(ctx: Demo) -> View:
    """The attribution map of the sentence beside the alignment head's, at word level, with their agreement."""
    with view_tab(ctx, "Attribution", "attribution", intro("attribution")) as (tab, caption):
        method = _method_pick("attribution-method")
        summary = gr.HTML(elem_id="attribution-summary", js_on_load=None)
        with gr.Row():
            with gr.Column(min_width=320):
                head_fig = gr.Plot(show_label=False, elem_id="attribution-head-map")
            with gr.Column(min_width=320):
                attribution_fig = gr.Plot(show_label=False, elem_id="attribution-map")
        with gr.Row():
            json_file = gr.File(label="This sentence's attribution (JSON)", elem_id="attribution-json")
            csv_file = gr.File(label="The attribution map, by word (CSV)", elem_id="attribution-csv")

    def render(pred, index, method, progress=None):
        s = pred.sentence(index)
        if not s.target_tokens:
            return caption_html(pred, index), "", None, None, None, None
        name = method_of(method)
        report = _reporter(progress, "Attribution")
        v = beside_attention(ctx.translator_for(pred), pred, index, name, report)
        what = f"{s.source} → {s.text} (attribution, {method}, by word: output rows, source columns)"
        files = {"attribution.json": v.as_json(s.source, pred.direction), f"attribution-{name}.csv": v.csv(what)}
        return (
            caption_html(pred, index),
            attribution_summary_html(v, pred.languages),
            map_figure(v.head, s.source),
            map_figure(v.attribution, s.source),
            *write_files(file_stem(s.source, pred.direction), files),
        )

    outputs = [caption, summary, head_fig, attribution_fig, json_file, csv_file]
    view = View("attribution", tab, outputs, render, [method], reports_progress=True)
    redraw_on(ctx, view, [method], **HEAVY)
    return view


def why_not_tab(ctx: Demo) -> View:
    """A contrastive explanation: log p(chosen) − log p(alternative) at one output word, by source and prefix."""
    with view_tab(ctx, "Why not", "whynot", intro("whynot")) as (tab, caption):
        with gr.Row():
            # a custom value is allowed: a new translation replaces the choices while the browser may hold a word
            word = ctx.follow(
                gr.Dropdown,
                lambda tr: gr.update(label=f"{language_names(tr)[1]} word"),
                choices=[],
                allow_custom_value=True,
                elem_id="whynot-word",
            )
            alternative = gr.Textbox(label="and not", elem_id="whynot-alternative")
            method = _method_pick("whynot-method")
        button = gr.Button("Why this word and not that one?", elem_id="whynot-btn")
        summary = gr.HTML(elem_id="whynot-summary", js_on_load=None)
        fig = gr.Plot(show_label=False, elem_id="whynot-map")
        with gr.Row():
            json_file = gr.File(label="This explanation (JSON)", elem_id="whynot-json")
            csv_file = gr.File(label="Where the difference comes from (CSV)", elem_id="whynot-csv")

    def contrast(pred, index, word, other, method, progress=None):
        s = chosen(pred, index)
        tr, name = ctx.translator_for(pred), method_of(method)
        c = why_not(tr, pred, index, word, other, name, _reporter(progress, "Why not"))
        files = {"why-not.json": why_not_json(c, s.source, pred.direction, s.text), "why-not.csv": why_not_csv(c)}
        return why_not_html(c), why_not_figure(c, s.source), *write_files(file_stem(s.source, pred.direction), files)

    @user_errors("explaining the choice")
    def explain(pred, index, word, other, method, progress=gr.Progress()):
        return contrast(pred, index, word, other, method, progress)

    def render(pred, index, word, other, method, progress=None):
        """A new sentence: its words to pick from, and the first that has a runner-up explained at once."""
        choices = word_choices(pred, index)
        lens = lens_of(ctx.translator_for(pred), pred, index) if choices else None
        for _, k in choices:
            alternative = runner_up(lens, pred, index, k)
            if alternative:
                shown = contrast(pred, index, k, alternative, method, progress)
                return caption_html(pred, index), gr.update(choices=choices, value=k), alternative, *shown
        return caption_html(pred, index), gr.update(choices=choices, value=None), "", "", None, None, None

    outputs = [caption, word, alternative, summary, fig, json_file, csv_file]
    view = View(
        "whynot",
        tab,
        outputs,
        render,
        [word, alternative, method],
        empty=[None, gr.update(choices=[], value=None), "", None, None, None, None],
        handlers={"explain": explain},
        reports_progress=True,
    )
    button.click(
        explain,
        [ctx.pred, ctx.sentence, word, alternative, method],
        [summary, fig, json_file, csv_file],
        js=clear_toasts(5),
        api_visibility="private",
        **HEAVY,
    )
    return view


def lens_tab(ctx: Demo) -> View:
    """The logit lens of the sentence: per decoder layer and output step, the top pieces and the chosen one's rank."""
    with view_tab(ctx, "Layer by layer", "lens", intro("lens")) as (tab, caption):
        fig = gr.Plot(show_label=False, elem_id="lens-map")
        table = gr.Dataframe(interactive=False, wrap=True, elem_id="lens-table")
        with gr.Row():
            json_file = gr.File(label="This sentence through the lens (JSON)", elem_id="lens-json")
            csv_file = gr.File(label="The table (CSV)", elem_id="lens-csv")

    def render(pred, index):
        s = pred.sentence(index)
        if not s.target_tokens:
            return caption_html(pred, index), None, None, None, None
        lens = lens_of(ctx.translator_for(pred), pred, index)
        files = {"logit-lens.json": lens_json(lens, s.source, pred.direction), "logit-lens.csv": lens_csv(lens)}
        return (
            caption_html(pred, index),
            lens_figure(lens, s.source),
            gr.update(value=lens_rows(lens), headers=lens_header(lens)),
            *write_files(file_stem(s.source, pred.direction), files),
        )

    return View("lens", tab, [caption, fig, table, json_file, csv_file], render)
