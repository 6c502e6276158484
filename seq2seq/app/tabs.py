"""One builder per tab of the demo.  Each builds its components inside the page's ``gr.Tabs`` and returns a
:class:`~seq2seq.app.views.View`: a caption naming the sentence, then what it shows, drawn by ``render(pred,
sentence index, *controls)`` from the current ``Prediction`` (``layout.py`` decides when).

Both directions: a handler takes its translator (``ctx.translator_for(pred)``) and its languages
(``pred.languages``: rows are the output language, columns the input language) from the prediction.  Text that
names a language, and controls that depend on the model's shape, are made with ``ctx.follow``: a switch of
direction relabels them."""

from __future__ import annotations

import time

import gradio as gr

from ..align import SYMMETRIZE
from ..coverage import is_alignment_head
from ..explain import explain_cross_attention
from .chips import CHIP_JS, both_ways_html, caption_html, link_chips_html, scored_pieces_html, word_alignment_html
from .downloads import file_stem, matrix_csv, slug, write_files
from .explore import score_translation
from .figures import all_heads_figure, all_layers_figure, map_figure, matrix_figure
from .intros import intro
from .labels import language_names, piece_text
from .maps import HEAD, InsideView, alignment_map, attention_choices
from .predict import nbest_rows
from .search_figures import walkthrough_figure
from .views import Demo, View, chosen, clear_toasts, redraw_on, user_errors, view_tab


# ---------------------------------------------------------------------------------------------------------------
def alignment_tab(ctx: Demo) -> View:
    """The first view: the alignment head's map at word level with its links outlined, chips that highlight their
    cells, and "look inside" options (raw layers and heads, pieces, the symmetrized links)."""
    with view_tab(ctx, "Alignment", "align", alignment_intro) as (tab, caption):
        fig = gr.Plot(show_label=False, elem_id="align-map")
        chips = gr.HTML(elem_id="align-chips", js_on_load=CHIP_JS)
        with gr.Accordion("Look inside: raw attention by layer and head, pieces instead of words", open=False):
            with gr.Row():
                attention = ctx.follow(
                    gr.Dropdown,
                    lambda tr: gr.update(choices=(c := _attention_choices(tr)), value=c[0]),
                    label="Attention",
                    elem_id="attention-pick",
                )
                units = gr.Radio(["words", "pieces"], value="words", label="Units", elem_id="units-pick")
            gr.Markdown(
                "Pieces: `·` starts a word, `</s>` is the end token (attention with nowhere better to go "
                "rests there). The outlines stay the alignment head's links. Below: the links as one model "
                "reads them (`seq2seq-align --reverse-model none`: both ways, combined), in the map's words; "
                "words apart in the sentence are joined by … ."
            )
            links_from = gr.Dropdown(
                [ONE_MODEL] + [f"both directions: {rule}" for rule in SYMMETRIZE],
                value=ONE_MODEL,
                label="Links from",
                info="Both directions: the model of the other direction also aligns the pair, and the two sets "
                "of links are combined by the rule (how each rule scores: docs/alignment.md).",
                visible=len(ctx.translators) > 1,
                elem_id="links-from",
            )
            symmetric = gr.HTML(elem_id="align-symmetric", js_on_load=None)

    def render(pred, index, attention, units, links_from=None):
        s = pred.sentence(index)
        if not s.target_tokens:
            return caption_html(pred, index), None, "", ""
        t = s.translation if (attention or HEAD) == HEAD else s.full  # a raw layer: from the PyTorch engine
        m = alignment_map(t, pred.align_method, attention or HEAD, units or "words", pred.languages)
        reverse = ctx.reverse_of(pred)
        if links_from and links_from != ONE_MODEL and reverse is not None:
            rule = links_from.split(": ")[-1]
            listing = links_both_ways(ctx.translator_for(pred), reverse, s.source, s.text, rule)
        else:
            listing = word_alignment_html(pred, sentence=pred.sentences.index(s))
        return caption_html(pred, index), map_figure(m, s.source), link_chips_html(m, text=s.source), listing

    view = View("align", tab, [caption, fig, chips, symmetric], render, [attention, units, links_from])
    redraw_on(ctx, view, [attention, units, links_from])
    return view


ONE_MODEL = "this model alone"


def links_both_ways(forward, backward, source: str, translation: str, rule: str) -> str:
    """One sentence's links from both directions' models (``bidirectional.align_both_ways``), timed."""
    from ..bidirectional import align_both_ways

    start = time.perf_counter()
    alignment = align_both_ways(forward, backward, [source], [translation], rule=rule)[0]
    return both_ways_html(alignment, source, forward.languages, forward.align_method, time.perf_counter() - start)


def _attention_choices(tr) -> list[str]:
    cfg = tr.config.model
    return attention_choices(cfg.n_dec_layers, cfg.n_heads, tr.link_method)


def alignment_intro(tr) -> str:
    """What the first map shows, for a translator: its trained head, or the best raw rule."""
    src, tgt = language_names(tr)
    method = tr.align_method
    if not is_alignment_head(method):
        return (
            f"**The map**: this model has no trained alignment head, so the map shows the best raw-attention "
            f"rule ({method.name}), a poorer aligner; there is no coverage check."
        )
    return (
        f"**The map**: the model's trained {method.label}: which {src} words each {tgt} word comes "
        f"from. Colour: the head's attention; outlined: its links; orange **?**: a word that nothing links "
        'to ("not translated?" / "added?"). Hover a chip below to light up its cells. *Raw attention* '
        "(Look inside) is where the decoder looked while writing each word: a far poorer aligner than the "
        "head (docs/alignment.md)."
    )


def layers_tab(ctx: Demo) -> View:
    """Every decoder layer side by side, for one sentence."""
    intro = (
        "Raw cross-attention of every decoder layer: lower layers attend broadly, higher layers "
        "usually line up with the word being translated. Outlined: the alignment head's links."
    )
    with view_tab(ctx, "All layers", "layers", intro) as (tab, caption):
        with gr.Row():
            head = ctx.follow(
                gr.Dropdown,
                lambda tr: gr.update(
                    choices=["average"] + [f"head {h + 1}" for h in range(tr.config.model.n_heads)], value="average"
                ),
                label="Head",
                elem_id="layers-head",
            )
            units = gr.Radio(["words", "pieces"], value="words", label="Units", elem_id="layers-units")
        fig = gr.Plot(show_label=False, elem_id="layers-map")

    def render(pred, index, head, units):
        return (
            caption_html(pred, index),
            all_layers_figure(pred, pred.sentences.index(pred.sentence(index)), head, units, pred.languages),
        )

    view = View("layers", tab, [caption, fig], render, [head, units])
    redraw_on(ctx, view, [head, units])
    return view


# ---------------------------------------------------------------------------------------------------------------
def _attention_files(v: InsideView, s, direction: str, shown: str, matrix) -> list[str]:
    """The downloads of Inside attention for sentence ``s``, named after the sentence: every matrix as JSON (with
    the sentence), the one shown (``matrix``: weights, rows, columns; ``shown``: which it is, "cross attention,
    layer 2, head 1") as CSV, the sentence in its first cell."""
    what = f"{s.source} → {s.text} ({shown}; rows attend to columns)"
    files = {"attention.json": v.as_json(s.source, direction), f"{slug(shown)}.csv": matrix_csv(*matrix, what)}
    return write_files(file_stem(s.source, direction), files)


def inside_tab(ctx: Demo) -> View:
    """Every kind of attention, every head, and one head's computation opened up with the model's numbers."""
    with view_tab(ctx, "Inside attention", "inside", intro("inside")) as (tab, caption):
        with gr.Row():
            kind = gr.Radio(["cross", "encoder", "decoder"], value="cross", label="Attention", elem_id="attention-kind")
            layer = ctx.follow(
                gr.Dropdown,
                lambda tr: gr.update(
                    choices=[(f"layer {i + 1}", i) for i in range(tr.config.model.n_dec_layers)],
                    value=tr.config.model.n_dec_layers - 1,
                ),
                label="Layer",
                elem_id="inside-layer",
            )
            head = ctx.follow(
                gr.Dropdown,
                lambda tr: gr.update(
                    choices=[("average", -1)] + [(f"head {h + 1}", h) for h in range(tr.config.model.n_heads)], value=-1
                ),
                label="Head",
                elem_id="inside-head",
            )
            units = gr.Radio(
                ["pieces", "words (jieba)", "words (characters)"], value="words (jieba)", label="Units", elem_id="units"
            )
            hide_eos = gr.Checkbox(False, label="Hide </s> and renormalise", elem_id="hide-eos")
        inside_fig = gr.Plot(show_label=False, elem_id="inside-map")
        heads_fig = gr.Plot(show_label=False, elem_id="heads-map")
        ctx.follow(
            gr.Markdown,
            lambda tr: (
                f"**How one head works**: pick a {language_names(tr)[1]} piece (a step) to "
                "walk through softmax(q·Kᵀ/√d_k)·V with the model's real numbers for the chosen layer and head "
                "(head 1 when averaged)."
            ),
        )
        # a custom value is allowed: a new translation blanks the choices while the browser may still hold a step
        walk_step = ctx.follow(
            gr.Dropdown,
            lambda tr: gr.update(label=f"{language_names(tr)[1]} piece (step)"),
            choices=[],
            elem_id="walk-step",
            allow_custom_value=True,
        )
        walk_fig = gr.Plot(show_label=False, elem_id="walk-map")
        with gr.Row():
            json_file = gr.File(label="This sentence's data (JSON)", elem_id="export-json")
            csv_file = gr.File(label="The current map (CSV)", elem_id="export-csv")
        gr.Markdown("PNG: the camera icon in each map's toolbar.")

    def walk(pred, index, layer, head, step):
        t = chosen(pred, index).full
        step = 0 if step is None else int(step)
        tr = ctx.translator_for(pred)
        return walkthrough_figure(explain_cross_attention(tr, t, int(layer), max(0, int(head)), step))

    def render(pred, index, which, layer, head, unit_choice, no_eos, step):
        s = pred.sentence(index)
        t = s.full
        v = InsideView(t, pred.languages)
        layer, head = min(int(layer), v.attention(which).shape[0] - 1), (None if int(head) < 0 else int(head))
        words = {"words (jieba)": "jieba", "words (characters)": "characters"}.get(unit_choice)
        mat, rows, cols = v.matrix(which, layer, head, words, bool(no_eos))
        title = f"{which} attention, layer {layer + 1}, " + ("heads averaged" if head is None else f"head {head + 1}")
        files = _attention_files(v, s, pred.direction, title, (mat, rows, cols))
        steps = [(f"{k + 1}: {piece_text(p)}", k) for k, p in enumerate(t.target_tokens)]
        step = step if step is not None and step < len(steps) else 0
        return (
            caption_html(pred, index),
            matrix_figure(mat, rows, cols, title, v.languages_of(which)),
            all_heads_figure(v, which, v.head_summaries(which), words, bool(no_eos)),
            gr.update(choices=steps, value=step),
            walk(pred, index, layer, -1 if head is None else head, step),
            *files,
        )

    view = View(
        "inside",
        tab,
        [caption, inside_fig, heads_fig, walk_step, walk_fig, json_file, csv_file],
        render,
        [kind, layer, head, units, hide_eos, walk_step],
        empty=[None, None, None, gr.update(choices=[], value=None), None, None, None],
        handlers={"walk": user_errors("walking through the head")(walk)},
    )
    redraw_on(ctx, view, [kind, layer, head, units, hide_eos])
    walk_step.input(
        view.handlers["walk"],
        [ctx.pred, ctx.sentence, layer, head, walk_step],
        [walk_fig],
        api_visibility="private",
    )
    return view


def own_translation_tab(ctx: Demo) -> View:
    """Score the user's own translation of the sentence, piece by piece, with its map."""
    with view_tab(ctx, "Your translation", "own", intro("own")) as (tab, caption):
        own = ctx.follow(
            gr.Textbox, lambda tr: gr.update(label=f"Your {language_names(tr)[1]}"), lines=2, elem_id="own-translation"
        )
        score_btn = gr.Button("Score my translation", elem_id="score-btn")
        own_html = gr.HTML(elem_id="own-score", js_on_load=None)
        own_fig = gr.Plot(show_label=False, elem_id="own-map")
        own_chips = gr.HTML(elem_id="own-chips", js_on_load=CHIP_JS)

    @user_errors("scoring")
    def score(pred, index, yours):
        s = chosen(pred, index)
        scored = score_translation(ctx.translator_for(pred), s.source, yours, beam_size=pred.beam_size)
        m = alignment_map(scored.alignment, pred.align_method, HEAD, "words", pred.languages)
        return scored_pieces_html(scored), map_figure(m, yours), link_chips_html(m, "own-map", s.source)

    def render(pred, index):
        return caption_html(pred, index), "", "", None, ""

    score_btn.click(
        score,
        [ctx.pred, ctx.sentence, own],
        [own_html, own_fig, own_chips],
        js=clear_toasts(3),
        api_visibility="private",
    )
    return View("own", tab, [caption, own, own_html, own_fig, own_chips], render, handlers={"score": score})


def nbest_tab(ctx: Demo) -> View:
    """The beam's best hypotheses with their scores."""
    with view_tab(ctx, "n-best", "nbest") as (tab, caption):
        table = gr.Dataframe(
            headers=["sentence", "rank", "translation", "score (normalised)", "log-prob"],
            interactive=False,
            elem_id="nbest-table",
        )

    def render(pred, index):
        return caption_html(pred, index), nbest_rows(pred, pred.sentences.index(pred.sentence(index)))

    return View("nbest", tab, [caption, table], render)
