"""The tabs that show the search itself: *Step by step* (the pieces the model could have chosen at each step, and
a prefix to force) and *Beam search* (the tree of hypotheses).  Built like the tabs of ``tabs.py``."""

from __future__ import annotations

import gradio as gr

from .chips import caption_html
from .explore import best_path, continue_with, finished_ranking, greedy_tree, step_view, step_view_of
from .inputs import InputError, check_decoding
from .intros import intro
from .labels import language_names, piece_text
from .predict import STEP_CANDIDATES
from .search_figures import beam_tree_figure
from .views import Demo, View, chosen, clear_toasts, redraw_on, user_errors, view_tab


def steps_tab(ctx: Demo) -> View:
    """The translation piece by piece with the candidates at each step; pick another, or type a prefix, and the
    model continues from there."""
    with view_tab(ctx, "Step by step", "steps", intro("steps")) as (tab, caption):
        text = ctx.follow(
            gr.Textbox,
            lambda tr: gr.update(label=language_names(tr)[1]),
            interactive=False,
            elem_id="steps-translation",
        )
        table = gr.Dataframe(
            headers=["step", "piece", "probability"] + [f"candidate {k}" for k in range(1, STEP_CANDIDATES)],
            interactive=False,
            elem_id="steps-table",
        )
        with gr.Row():
            step_pick = gr.Dropdown([], label="At step", elem_id="step-pick")
            alt_pick = gr.Dropdown([], label="use instead", elem_id="alt-pick")
            alt_btn = gr.Button("Continue from this choice", elem_id="alt-btn")
        with gr.Row():
            prefix_box = ctx.follow(
                gr.Textbox,
                lambda tr: gr.update(label=f"Or type the beginning of the {language_names(tr)[1]}"),
                elem_id="prefix-box",
            )
            prefix_btn = gr.Button("Continue from my prefix", elem_id="prefix-btn")
            undo_btn = gr.Button("Undo: the model's own translation", elem_id="undo-btn")
        state = gr.State(None)

    def shown(v):
        steps = [(f"{t + 1}: {piece_text(p)}", t) for t, p in enumerate(v.pieces)]
        return [v.text, v.rows(), gr.update(choices=steps, value=None), gr.update(choices=[], value=None), v]

    def render(pred, index):
        s = pred.sentence(index)
        return [caption_html(pred, index)] + shown(step_view_of(ctx.translator_for(pred), s.source, s.full))

    @user_errors("decoding step by step")
    def pick(v, step):
        if v is None or step is None:
            return gr.update(choices=[], value=None)
        alts = [(piece_text(c), c) for c, _ in v.alternatives(int(step))]
        return gr.update(choices=alts, value=alts[0][1] if alts else None)

    @user_errors("decoding step by step")
    def continue_from(pred, index, v, step, alt):
        s = chosen(pred, index)
        if v is None or step is None or not alt:
            raise InputError("Pick a step and a candidate first.")
        return shown(step_view(ctx.translator_for(pred), s.source, continue_with(v, int(step), alt), pred.beam_size))

    @user_errors("decoding step by step")
    def from_prefix(pred, index, prefix):
        s = chosen(pred, index)
        return shown(step_view(ctx.translator_for(pred), s.source, prefix, pred.beam_size))

    @user_errors("decoding step by step")
    def undo(pred, index):
        return render(pred, index)[1:] if pred is not None else gr.skip()

    outs = [text, table, step_pick, alt_pick, state]
    step_pick.input(pick, [state, step_pick], [alt_pick], api_visibility="private")
    alt_btn.click(
        continue_from,
        [ctx.pred, ctx.sentence, state, step_pick, alt_pick],
        outs,
        js=clear_toasts(5),
        api_visibility="private",
    )
    prefix_btn.click(
        from_prefix, [ctx.pred, ctx.sentence, prefix_box], outs, js=clear_toasts(3), api_visibility="private"
    )
    undo_btn.click(undo, [ctx.pred, ctx.sentence], outs, js=clear_toasts(2), api_visibility="private")
    none = gr.update(choices=[], value=None)
    handlers = {"pick": pick, "continue": continue_from, "prefix": from_prefix, "undo": undo}
    return View("steps", tab, [caption] + outs, render, empty=[None, None, None, none, none, None], handlers=handlers)


def beam_tab(ctx: Demo) -> View:
    """The search tree of the translation: beam search's candidates, or greedy search as a beam of 1."""
    with view_tab(ctx, "Beam search", "beam") as (tab, caption):
        note = gr.Markdown(elem_id="beam-note")
        fig = gr.Plot(show_label=False, elem_id="tree-map")
        table = gr.Dataframe(
            headers=["rank", "finished hypothesis", "length", "log-prob", "normalised (score ÷ length^α)"],
            interactive=False,
            elem_id="tree-table",
        )

    def render(pred, index, alpha):
        s = pred.sentence(index)
        if alpha is None:
            raise InputError("Please give a length penalty to rank the finished hypotheses with.")
        t, alpha = s.full, check_decoding(1, alpha)[1]  # refused out of the library's range, never moved into it
        greedy = t.tree is None
        tree = greedy_tree(t) if greedy else t.tree
        if greedy:
            what = (
                "**Greedy search** (chosen above) is a beam of 1: at each step it keeps the most probable piece; "
                "the faint nodes are the candidates it passed over."
            )
        else:
            what = (
                f"**Beam search** with {pred.beam_size} beams: every candidate the search scored, step by step. "
                "Hover a node for its cumulative and length-normalised score. A new length penalty (above) "
                "re-ranks the finished hypotheses (score ÷ length^α) without decoding again."
            )
        best = t.target_tokens if abs(alpha - pred.length_penalty) < 1e-9 else best_path(tree, alpha)
        return (
            caption_html(pred, index),
            what,
            beam_tree_figure(tree, best, alpha, greedy=greedy),
            finished_ranking(tree, alpha),
        )

    view = View("beam", tab, [caption, note, fig, table], render, [ctx.lp])
    for event in ("blur", "submit"):  # a typed length penalty re-ranks when the box is left, or on Enter
        redraw_on(ctx, view, [ctx.lp], event=event)
    return view
