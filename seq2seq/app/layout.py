"""The demo's Gradio layout and events."""

from __future__ import annotations

import html

from .batching import MicroBatcher
from .figures import (all_heads_figure, all_layers_figure, alignment_figure, beam_tree_figure, matrix_csv, matrix_figure, scored_pieces_html,
                      walkthrough_figure, word_alignment_html)
from .predict import (EXAMPLES, STEP_CANDIDATES, InputError, Prediction, SentenceResult, check_api_args,
                      beam_tree, continue_with, finished_ranking, inside_view, log, nbest_rows, predict, score_translation, step_view,
                      translate_requests)

# Requests decoded together at most, and how long the first one waits for company (seconds).
MAX_BATCH, MAX_WAIT = 16, 0.01
# Requests handled at once (they meet in the batcher) and waiting at most; more get "queue full".
CONCURRENCY, QUEUE_SIZE = 16, 64


def build_demo(translator, model_name: str = "default"):
    import gradio as gr

    cfg = translator.model.cfg
    batcher = MicroBatcher(lambda requests: translate_requests(translator, requests), MAX_BATCH, MAX_WAIT)
    layer_choices = [f"layer {i + 1}" for i in range(cfg.n_dec_layers)]
    head_choices = ["average"] + [f"head {h + 1}" for h in range(cfg.n_heads)]

    def run(text, mode, beam_size, length_penalty, nbest, layer_choice, head_choice):
        """Outputs: translation, n-best rows, map, all-layers map, word alignment, state, sentence slider, status."""
        try:
            pred = predict(translator, text, 1 if mode == "greedy" else beam_size, length_penalty, nbest, batcher)
        except InputError as e:
            gr.Warning(str(e))
            return "", [], None, None, "", None, gr.update(choices=["1"], value="1", visible=False), str(e)
        except Exception:  # never show a stack trace to the user
            log.exception("translation failed")
            raise gr.Error("Sorry, something went wrong while translating. Please try again with other text.")
        status = " ".join(pred.notes) or f"Translated {len(pred.sentences)} sentence(s) in {pred.seconds:.2f} s."
        return (pred.translation, nbest_rows(pred), alignment_figure(pred, layer_choice, head_choice),
                all_layers_figure(pred, 0, head_choice), word_alignment_html(pred), pred,
                gr.update(choices=[str(i + 1) for i in range(len(pred.sentences))], value="1",
                          visible=len(pred.sentences) > 1), status)

    def redraw(pred, layer_choice, head_choice, sentence_index):
        if pred is None:
            return None, None, ""
        index = int(sentence_index or 1) - 1
        return (alignment_figure(pred, layer_choice, head_choice), all_layers_figure(pred, index, head_choice),
                word_alignment_html(pred))

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
                gr.Markdown("Each English word with the Chinese words it comes from, read from the model's "
                            "alignment head when it has one (else Shift-Att, layer 1), in both directions: "
                            "English to Chinese and Chinese to English, combined. The layer/head controls "
                            "change the maps, not these links.")
                words = gr.HTML()
            with gr.Tab("Step by step"):
                gr.Markdown("The (first) sentence decoded piece by piece: each row is one output piece, its "
                            "probability, and the next candidates the decoder weighed at that step. Pick another "
                            "candidate, or type the beginning of the English, and the model continues from there.")
                steps_btn = gr.Button("Decode step by step", elem_id="steps-btn")
                steps_text = gr.Textbox(label="Translation", interactive=False, elem_id="steps-translation")
                steps_table = gr.Dataframe(headers=["step", "piece", "probability"]
                                           + [f"candidate {k}" for k in range(1, STEP_CANDIDATES)],
                                           interactive=False, elem_id="steps-table")
                with gr.Row():
                    step_pick = gr.Dropdown([], label="At step", elem_id="step-pick")
                    alt_pick = gr.Dropdown([], label="use instead", elem_id="alt-pick")
                    alt_btn = gr.Button("Continue from this choice", elem_id="alt-btn")
                with gr.Row():
                    prefix_box = gr.Textbox(label="Or type the beginning of the English", elem_id="prefix-box")
                    prefix_btn = gr.Button("Continue from my prefix", elem_id="prefix-btn")
                    undo_btn = gr.Button("Undo: the model's own translation", elem_id="undo-btn")
            with gr.Tab("Beam search"):
                gr.Markdown("The beam tree of the (first) sentence: every candidate the search scored, step by "
                            "step. Hover a node for its cumulative and length-normalised score. The length-penalty "
                            "slider re-ranks the finished hypotheses below (score ÷ length^α) without decoding again.")
                tree_btn = gr.Button("Draw the beam tree", elem_id="tree-btn")
                tree_fig = gr.Plot(label="Beam tree", elem_id="tree-map")
                tree_table = gr.Dataframe(headers=["rank", "finished hypothesis", "length", "log-prob",
                                                   "normalised (score ÷ length^α)"], interactive=False,
                                          elem_id="tree-table")
            with gr.Tab("Inside attention"):
                gr.Markdown("Every kind of attention for the (first) sentence, with the Layer and Head controls "
                            "above. **Cross-attention**: English rows attend to Chinese columns; its K and V are "
                            "projections of the encoder output C, and row t is the attention used while predicting "
                            "piece t. **Encoder self-attention**: Chinese × Chinese. **Decoder self-attention**: "
                            "English × English, zero above the diagonal (the causal mask: a step sees only earlier "
                            "pieces).")
                with gr.Row():
                    kind = gr.Radio(["cross", "encoder", "decoder"], value="cross", label="Attention",
                                    elem_id="attention-kind")
                    units = gr.Radio(["pieces", "words (jieba)", "words (characters)"], value="pieces",
                                     label="Units", elem_id="units")
                    hide_eos = gr.Checkbox(False, label="Hide </s> and renormalise", elem_id="hide-eos")
                    inside_btn = gr.Button("Show", elem_id="inside-btn")
                gr.Markdown("Words: weights are summed over a column word's pieces and averaged over a row word's "
                            "pieces (rows still sum to 1). Row t of cross- and decoder attention is the attention "
                            "used while predicting piece t.")
                inside_fig = gr.Plot(label="Attention map", elem_id="inside-map")
                heads_fig = gr.Plot(label="All heads", elem_id="heads-map")
                gr.Markdown("**How one head works**: pick an English piece (a step), then walk through "
                            "softmax(q·Kᵀ/√d_k)·V with the model's real numbers for the chosen layer and head.")
                with gr.Row():
                    walk_step = gr.Dropdown([], label="English piece (step)", elem_id="walk-step")
                    walk_btn = gr.Button("Walk through", elem_id="walk-btn")
                walk_fig = gr.Plot(label="One head, step by step", elem_id="walk-map")
                with gr.Row():
                    json_file = gr.File(label="This sentence's data (JSON)", elem_id="export-json")
                    csv_file = gr.File(label="The current map (CSV)", elem_id="export-csv")
                gr.Markdown("PNG: the camera icon in each map's toolbar.")
            with gr.Tab("Your translation"):
                gr.Markdown("Type your own English for the (first) Chinese sentence above: the model scores it piece "
                            "by piece (forced decoding) and compares it with its own translation.")
                own = gr.Textbox(label="Your English", lines=2, elem_id="own-translation")
                score_btn = gr.Button("Score my translation", elem_id="score-btn")
                own_html = gr.HTML(elem_id="own-score")
                own_fig = gr.Plot(label="Cross-attention of your translation")
                own_words = gr.HTML()
            with gr.Tab("n-best"):
                table = gr.Dataframe(headers=["sentence", "rank", "translation", "score (normalised)", "log-prob"],
                                     interactive=False)
        gr.Markdown("Rows: English pieces; columns: Chinese pieces; colour: attention weight (hover for the value). "
                    "`·` marks a piece that starts a word; `</s>` is the end-of-sentence token.")
        state = gr.State(None)
        steps_state = gr.State(None)

        def show_steps(text, mode, beam_size, prefix=None):
            try:
                first = (text or "").strip().split("\n")[0]
                view = step_view(translator, first, prefix, 1 if mode == "greedy" else int(beam_size))
            except InputError as e:
                gr.Warning(str(e))
                return gr.update(), gr.update(), gr.update(), gr.update(), gr.update()
            except Exception:  # never show a stack trace to the user
                log.exception("step-by-step decoding failed")
                raise gr.Error("Sorry, something went wrong. Please try again.")
            steps = [f"{t + 1}: {p}" for t, p in enumerate(view.pieces)]
            return (view.text, view.rows(), gr.update(choices=steps, value=None), gr.update(choices=[], value=None),
                    view)

        def pick_step(view, step):
            if view is None or not step:
                return gr.update(choices=[], value=None)
            t = int(str(step).split(":")[0]) - 1
            alts = [c for c, _ in view.candidates[t] if c != view.pieces[t]]
            return gr.update(choices=alts, value=alts[0] if alts else None)

        def continue_from_choice(text, mode, beam_size, view, step, alt):
            if view is None or not step or not alt:
                gr.Warning("Pick a step and a candidate first.")
                return gr.update(), gr.update(), gr.update(), gr.update(), view
            return show_steps(view.source, mode, beam_size, continue_with(view, int(str(step).split(":")[0]) - 1, alt))

        tree_state = gr.State(None)

        def show_tree(text, beam_size, alpha):
            try:
                first = (text or "").strip().split("\n")[0]
                t = beam_tree(translator, first, int(beam_size))
            except InputError as e:
                gr.Warning(str(e))
                return None, [], None
            return beam_tree_figure(t.tree, t.target_tokens, float(alpha)), finished_ranking(t.tree, float(alpha)), t

        def rerank(t, alpha):
            if t is None:
                return gr.update(), gr.update()
            ranked = finished_ranking(t.tree, float(alpha))
            best = ranked[0][1] if ranked else ""
            pieces = translator.tgt_tok.encode_pieces([best])[0] + ["</s>"]
            return beam_tree_figure(t.tree, pieces, float(alpha)), ranked

        tree_btn.click(show_tree, [inp, beam, lp], [tree_fig, tree_table, tree_state], api_visibility="private")
        lp.change(rerank, [tree_state, lp], [tree_fig, tree_table], api_visibility="private")

        inside_state = gr.State(None)

        def layer_head(view, which, layer_choice, head_choice):
            n = (view.translation.encoder_attention if which == "encoder" else view.translation.cross_attention).shape[0]
            layer = n - 1 if layer_choice in (None, "", "last") else min(n - 1, int(str(layer_choice).split()[-1]) - 1)
            head = None if head_choice in (None, "", "average") else int(str(head_choice).split()[-1]) - 1
            return layer, head

        def show_inside(text, mode, beam_size, which, layer_choice, head_choice, unit_choice, no_eos):
            import json
            import tempfile

            try:
                first = (text or "").strip().split("\n")[0]
                view = inside_view(translator, first, 1 if mode == "greedy" else int(beam_size))
            except InputError as e:
                gr.Warning(str(e))
                return None, None, gr.update(), None, None, None
            layer, head = layer_head(view, which, layer_choice, head_choice)
            words = {"words (jieba)": "jieba", "words (characters)": "characters"}.get(unit_choice)
            mat, rows, cols = view.matrix(which, layer, head, words, bool(no_eos))
            head_txt = "heads averaged" if head is None else f"head {head + 1}"
            fig = matrix_figure(mat, rows, cols, f"{which} attention, layer {layer + 1}, {head_txt}")
            grid = all_heads_figure(view, which, view.head_summaries(which), words, bool(no_eos))
            tmp = tempfile.mkdtemp(prefix="seq2seq-")
            json_path, csv_path = f"{tmp}/attention.json", f"{tmp}/{which}-layer{layer + 1}.csv"
            with open(json_path, "w", encoding="utf-8") as f:
                json.dump(view.as_json(), f, ensure_ascii=False)
            with open(csv_path, "w", encoding="utf-8") as f:
                f.write(matrix_csv(mat, rows, cols))
            steps = [f"{t + 1}: {p}" for t, p in enumerate(view.translation.target_tokens)]
            return fig, grid, gr.update(choices=steps, value=steps[0] if steps else None), json_path, csv_path, view

        def walk(view, step, layer_choice, head_choice):
            from ..explain import explain_cross_attention

            if view is None or not step:
                gr.Warning("Press Show first, then pick an English piece.")
                return None
            layer, head = layer_head(view, "cross", layer_choice, head_choice)
            e = explain_cross_attention(translator, view.translation, layer, 0 if head is None else head,
                                        int(str(step).split(":")[0]) - 1)
            return walkthrough_figure(e)

        inside_btn.click(show_inside, [inp, mode, beam, kind, layer, head, units, hide_eos],
                         [inside_fig, heads_fig, walk_step, json_file, csv_file, inside_state], api_visibility="private")
        walk_btn.click(walk, [inside_state, walk_step, layer, head], [walk_fig], api_visibility="private")

        step_outputs = [steps_text, steps_table, step_pick, alt_pick, steps_state]
        steps_btn.click(show_steps, [inp, mode, beam], step_outputs, api_visibility="private")
        undo_btn.click(show_steps, [inp, mode, beam], step_outputs, api_visibility="private")
        prefix_btn.click(show_steps, [inp, mode, beam, prefix_box], step_outputs, api_visibility="private")
        step_pick.change(pick_step, [steps_state, step_pick], [alt_pick], api_visibility="private")
        alt_btn.click(continue_from_choice, [inp, mode, beam, steps_state, step_pick, alt_pick], step_outputs,
                      api_visibility="private")

        def score_own(text, english, layer_choice, head_choice):
            try:
                first = (text or "").strip().split("\n")[0]
                scored = score_translation(translator, first, english)
            except InputError as e:
                gr.Warning(str(e))
                return str(e), None, ""
            except Exception:  # never show a stack trace to the user
                log.exception("scoring failed")
                raise gr.Error("Sorry, something went wrong while scoring. Please try again.")
            a = scored.alignment
            pred = Prediction(scored.text, [SentenceResult(scored.source, scored.text, a.source_tokens,
                                                           a.target_tokens, a.cross_attention, [],
                                                           a.full_context_attention)],
                              align_method=translator.align_method)
            return (scored_pieces_html(scored), alignment_figure(pred, layer_choice, head_choice),
                    word_alignment_html(pred))

        score_btn.click(score_own, [inp, own, layer, head], [own_html, own_fig, own_words], api_visibility="private")
        outputs = [out, table, fig, fig_all, words, state, sent, status]
        inputs = [inp, mode, beam, lp, nbest, layer, head]
        btn.click(run, inputs, outputs, api_visibility="private")
        inp.submit(run, inputs, outputs, api_visibility="private")
        for control in (layer, head, sent):
            control.change(redraw, [state, layer, head, sent], [fig, fig_all, words], api_visibility="private")

        def translate(text: str, beam_size: int = 5, length_penalty: float = default_lp) -> str:
            """Translate Chinese text to English.  Bad input raises an error (never a message in place of
            a translation): empty or too long text, beam_size outside 1..10, length_penalty outside 0..5."""
            try:
                return predict(translator, text, *check_api_args(beam_size, length_penalty), batcher=batcher).translation
            except InputError as e:
                raise gr.Error(str(e))

        gr.api(translate, api_name="translate")

        def score(chinese: str, english: str) -> dict:
            """Score an English translation of one Chinese sentence: per-piece and total log-probabilities, the
            length-normalised score (as beam search ranks), word links, and the model's own translation's score."""
            try:
                return score_translation(translator, chinese, english).as_json()
            except InputError as e:
                raise gr.Error(str(e))

        gr.api(score, api_name="score")
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo
