"""The web demo without a browser: the prediction, its views, bad input, the state the views share, the API.
(Browser tests: test_app_browser.py; coverage: test_app_coverage.py; the README's examples: test_app_docs.py.)"""

import logging
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import ROOT

from seq2seq.app.figures import alignment_figure, all_layers_figure
from seq2seq.app.inputs import MAX_INPUT_CHARS, InputError
from seq2seq.app.layout import build_demo
from seq2seq.app.predict import nbest_rows, predict
from seq2seq.model_dir import FolderConfig
from seq2seq.translator import Translator


def with_head(tr) -> Translator:
    """The toy model with an (untrained) alignment head named in its config: a model the demo reads as one with a
    head."""
    alignment = {"method": "head", "layer": 1, "head": 3, "shift": True}
    cfg = FolderConfig(model=tr.torch.model.cfg, alignment=alignment)
    return Translator.from_model(tr.torch.model, tr.codec.src_tok, tr.codec.tgt_tok, cfg, tr.protos)


@pytest.mark.parametrize("beam", [1, 4])
def test_prediction_returns_translation_and_maps_of_the_right_shapes(toy_translator, beam):
    from seq2seq.align import attention_matrix, method_attention

    nbest = 1 if beam == 1 else 3  # greedy search keeps one hypothesis (n-best 3 is refused: test_app_controls.py)
    pred = predict(toy_translator, "我喜欢吃苹果。今天天气很好！", beam_size=beam, nbest=nbest, full=True)
    assert pred.translation == "I like to eat apples. The weather is nice today."
    assert len(pred.sentences) == 2 and not pred.notes
    cfg = toy_translator.torch.model.cfg
    for s in pred.sentences:
        t = s.translation
        assert s.attention.shape == (cfg.n_dec_layers, cfg.n_heads, len(s.target_tokens), len(s.source_tokens))
        assert np.allclose(s.attention.sum(-1), 1, atol=1e-5)
        assert len(s.nbest) == (1 if beam == 1 else 3)
        # everything the views show comes with the one translation
        assert t.encoder_attention is not None and len(t.topk) == len(t.target_tokens)
        assert (t.tree is not None) == (beam > 1)
    # Raw attention at pieces: the map is that layer and head.
    fig = alignment_figure(pred, "layer 1, head 2", "pieces", sentence=0)
    z = np.array(fig.data[0].z)
    assert z.shape == (len(pred.sentences[0].target_tokens), len(pred.sentences[0].source_tokens))
    assert np.allclose(z, pred.sentences[0].attention[0, 1])
    # The default map: the model's alignment method (this model has no head: the best raw rule), at word level.
    s = pred.sentences[1]
    m = pred.align_method
    default = alignment_figure(pred, sentence=1)
    pieces = alignment_figure(pred, sentence=1, units="pieces")
    assert np.allclose(
        np.array(pieces.data[0].z), attention_matrix(method_attention(s.translation, m), m.layer, m.head, m.shift)
    )
    assert list(default.data[0].y) == ["The", "weather", "is", "nice", "today", "."]
    assert "No alignment head" in default.layout.title.text
    assert len(default.layout.shapes) > 0  # the links, outlined
    assert len(all_layers_figure(pred, 1).data) == cfg.n_dec_layers
    assert len(nbest_rows(pred)) == sum(len(x.nbest) for x in pred.sentences)
    assert [r[0] for r in nbest_rows(pred, 1)] == [2] * len(s.nbest)


def test_bad_input_messages(toy_translator, monkeypatch):
    from seq2seq.app.chips import link_chips_html
    from seq2seq.app.maps import alignment_map

    with pytest.raises(InputError, match="type some Chinese"):
        predict(toy_translator, "   ")
    with monkeypatch.context() as m:  # too much input is refused before anything is translated
        m.setattr(toy_translator, "translate", lambda *a, **k: pytest.fail("translated input it should refuse"))
        with pytest.raises(InputError, match="at most"):
            predict(toy_translator, "我喜欢吃苹果。" * (MAX_INPUT_CHARS // 7 + 1))
        with pytest.raises(InputError, match="at most 40"):
            predict(toy_translator, "谢谢。" * 41)
    english = predict(toy_translator, "Hello, how are you?", beam_size=2)
    assert "does not look like Chinese" in english.notes[0] and english.translation
    html_in = predict(toy_translator, "<script>alert('x')</script>谢谢你。", beam_size=2, full=True)
    s = html_in.sentences[0]
    page = link_chips_html(alignment_map(s.translation, html_in.align_method))
    assert "<script>" not in page
    fig = alignment_figure(html_in)
    labels = list(fig.data[0].x) + [fig.layout.title.text]
    assert not any("<script" in t for t in labels) and any("&lt;" in t for t in labels)


def test_latin_names_in_chinese_text_are_no_other_language(toy_translator):
    """The note for input in another language (the library's rule, ``text.looks_like``: test_text.py): Latin-script
    names in Chinese text are neutral, kana are not."""
    from seq2seq.app.predict import prepare

    for chinese in ("我用 iPhone 打开了 Google Maps 查找 Starbucks。", "今天天氣很好。"):
        assert prepare(toy_translator, chinese).notes == []
    for other in ("Hello, how are you?", "私はりんごが好きです。", "12345"):
        assert "does not look like Chinese" in prepare(toy_translator, other).notes[0]


def test_long_sentence_is_split(toy_translator):
    pred = predict(toy_translator, "我喜欢吃苹果" * 60 + "。", beam_size=2)  # one sentence over the model's limit
    assert len(pred.sentences) > 1 and all(s.text for s in pred.sentences)


def test_one_decorator_turns_input_errors_into_warnings_and_the_rest_into_errors(caplog):
    import gradio as gr

    from seq2seq.app.views import user_errors

    warned = []

    @user_errors("testing", fallback=lambda msg: ("fallback", msg))
    def ui(x):
        if x == "bad":
            raise InputError("Please type <b>something</b>.")
        if x == "bug":
            raise RuntimeError("internal detail")
        return "ok"

    real_warning = gr.Warning
    gr.Warning = warned.append
    try:
        assert ui("good") == "ok"
        assert ui("bad") == ("fallback", "Please type <b>something</b>.")
        assert warned == ["Please type &lt;b&gt;something&lt;/b&gt;."]  # a toast renders HTML: escaped
    finally:
        gr.Warning = real_warning
    with pytest.raises(gr.Error) as e:
        ui("bug")
    assert "internal detail" not in str(e.value) and "went wrong while testing" in str(e.value)
    assert e.value.print_exception is False

    @user_errors("translating", api="translate")
    def api(x):
        raise InputError("beam_size must be an integer from 1 (greedy) to 10, got 0")

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="seq2seq.app"), pytest.raises(gr.Error) as e:
        api(1)
    assert "beam_size must be" in str(e.value) and e.value.print_exception is False
    assert [r.getMessage() for r in caplog.records] == [
        "rejected /translate request: beam_size must be an integer from 1 (greedy) to 10, got 0"
    ]
    assert not any(r.exc_info for r in caplog.records)


def test_every_view_shows_the_current_sentence(toy_translator):
    """Translate one sentence and draw every view, translate another: the open view is redrawn, the others are
    blanked, and a view opened again draws the new sentence; every view names its sentence."""
    page = build_demo(with_head(toy_translator))
    run, refresh = page.run, page.refresh
    views = page.views
    defaults = [c.value for v in views.values() for c in v.inputs]
    blanks = [x for v in views.values() for x in v.blank() + [None]]
    first = run("我喜欢吃苹果。", "beam", 4, 1.0, 3)
    pred1 = first[3]
    assert first[0] == "I like to eat apples." and "Translated 1 sentence" in first[1]
    assert first[5] == "" and list(first[6:]) == blanks  # the translation blanks the source check and every view
    out = refresh("steps", pred1, 0, *defaults)  # then the open view is drawn, the others left as they are
    pos = 0
    for v in views.values():
        values = out[pos : pos + len(v.outputs)]
        shown = out[pos + len(v.outputs)]
        pos += len(v.outputs) + 1
        if v.key == "steps":
            assert "我喜欢吃苹果。" in values[0] and values[1] == "I like to eat apples." and shown
        else:
            assert all(x == {"__type__": "update"} for x in values + [shown])
    second = run("今天天气很好。", "greedy", 4, 1.0, 3)
    pred2 = second[3]
    assert second[0] == "The weather is nice today." and pred2.id != pred1.id and list(second[6:]) == blanks
    for v in views.values():
        result = v.on_open(pred2, 0, None, *[c.value for c in v.inputs])
        assert result[0] == v.key
        caption = result[1]
        assert "今天天气很好。" in caption and "我喜欢吃苹果" not in caption and "The weather is nice today." in caption
        # opened again with nothing new: nothing is redrawn
        again = v.on_open(pred2, 0, result[-1], *[c.value for c in v.inputs])
        assert all(x == {"__type__": "update"} for x in again[1:-1])
    # what the views draw is the second translation's
    steps = views["steps"].render(pred2, 0)
    assert steps[1] == "The weather is nice today." and steps[2][0][1] == "·The"
    beam = views["beam"].render(pred2, 0, 1.0)
    assert "Greedy search" in beam[1] and beam[3][0][1] == "The weather is nice today."  # greedy is greedy
    nbest = views["nbest"].render(pred2, 0)
    assert nbest[1] == [
        [
            1,
            1,
            "The weather is nice today.",
            round(pred2.sentences[0].nbest[0][1], 3),
            round(pred2.sentences[0].nbest[0][2], 3),
        ]
    ]


def test_the_sentence_picker_applies_to_every_view(toy_translator):
    page = build_demo(toy_translator)
    out = page.run("我喜欢吃苹果。今天天气很好。", "beam", 4, 1.0, 1)
    pred, picker = out[3], out[4]
    assert picker["visible"] is True and [c[1] for c in picker["choices"]] == [0, 1]
    for v in page.views.values():
        caption = v.render(pred, 1, *[c.value for c in v.inputs])[0]
        assert "Sentence 2 of 2" in caption and "今天天气很好。" in caption and "我喜欢" not in caption


def test_unexpected_errors_show_no_stack_trace(toy_translator, monkeypatch):
    import gradio as gr

    page = build_demo(toy_translator)
    run = page.run

    def boom(*a, **k):
        raise RuntimeError("internal detail")

    monkeypatch.setattr(gr, "Warning", lambda msg: None)
    outs = run("", "beam", 4, 1.0, 1)
    assert outs[0] == "" and "type some Chinese" in outs[1] and outs[3] is None  # no translation, and
    assert list(outs[6:]) == [x for v in page.views.values() for x in v.blank() + [None]]  # the views blanked
    monkeypatch.setattr(toy_translator, "translate", boom)
    with pytest.raises(gr.Error) as e:
        run("我喜欢吃苹果。", "beam", 4, 1.0, 1)
    assert "internal detail" not in str(e.value) and "went wrong" in str(e.value)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """``python app.py ARGS --port N`` running, with its log in a file."""

    def __init__(self, args, log_path):
        self.port, self.log_path = free_port(), log_path
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_file = open(log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), *args, "--port", str(self.port)],
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.time() + 900  # a busy machine takes minutes to import Gradio
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    pytest.fail(f"app.py exited: {self.log()}")
                time.sleep(0.5)
        self.stop()
        pytest.fail(f"app.py did not start: {self.log()}")

    def log(self) -> str:
        if not self.log_file.closed:
            self.log_file.flush()
        return open(self.log_path).read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.log_file.close()


@pytest.fixture(scope="module")
def app(toy_translator, tmp_path_factory):
    folder = toy_translator.save(tmp_path_factory.mktemp("app") / "model")
    running = App(["--model", str(folder)], tmp_path_factory.mktemp("log") / "app.log")
    yield running
    running.stop()


def test_api_endpoint_translate(app):
    from gradio_client import Client

    client = Client(app.url, verbose=False)
    assert client.predict("我喜欢吃苹果。", api_name="/translate") == "I like to eat apples."
    assert client.predict("谢谢你。", 1, 1.0, api_name="/translate") == "Thank you."
    details = client.predict("我喜欢吃苹果。谢谢你。", 2, 1.0, True, api_name="/translate")
    assert details["translation"] == "I like to eat apples. Thank you."
    assert [s["source"] for s in details["sentences"]] == ["我喜欢吃苹果。", "谢谢你。"]
    # this model has no alignment head: no coverage, and it says so with None
    assert details["sentences"][0]["unlinked_source_words"] is None


def test_rejected_api_requests_are_errors_and_one_log_line_each(app):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(app.url, verbose=False)
    before = app.log()
    with pytest.raises(AppError, match="type some Chinese"):
        client.predict("", api_name="/translate")
    with pytest.raises(AppError, match="beam_size"):
        client.predict("谢谢你。", 0, 1.0, api_name="/translate")
    with pytest.raises(AppError, match="length_penalty"):
        client.predict("谢谢你。", 5, 6.0, api_name="/translate")
    with pytest.raises(AppError, match="translation to score"):
        client.predict("我喜欢吃苹果。", "", api_name="/score")
    time.sleep(0.5)
    new = app.log()[len(before) :]
    assert "Traceback" not in new, new
    assert new.count("rejected /translate request") == 3 and new.count("rejected /score request") == 1, new


def test_startup_names_our_share_flag(app):
    log = app.log()
    assert "share=True" not in log and "--share" in log and app.url.rstrip("/") in log


def test_api_endpoint_score(app):
    from gradio_client import Client

    out = Client(app.url, verbose=False).predict("我喜欢吃苹果。", "I like to eat apples.", api_name="/score")
    assert out["pieces"][-1] == "</s>" and len(out["logprobs"]) == len(out["pieces"])
    assert abs(sum(out["logprobs"]) - out["total"]) < 1e-2 and out["model_translation"] == "I like to eat apples."


def test_scoring_your_own_translation(toy_translator):
    from seq2seq.app.chips import scored_pieces_html
    from seq2seq.app.explore import score_translation

    good = score_translation(toy_translator, "我喜欢吃苹果。", "I like to eat apples.")
    bad = score_translation(toy_translator, "我喜欢吃苹果。", "Thank you.")
    assert good.text == good.model_text and abs(good.alignment.score - good.model_score) < 1e-4
    assert bad.alignment.score < good.alignment.score  # the model finds its training pair more plausible
    assert bad.alignment.links and len(bad.alignment.token_logprobs) == len(bad.alignment.target_tokens)
    page = scored_pieces_html(score_translation(toy_translator, "谢谢你。", "<b>Thank</b> you."))
    assert "<b>Thank" not in page and "&lt;" in page and "·you" in page
    for english in ("", "x" * 2000):
        with pytest.raises(InputError):
            score_translation(toy_translator, "谢谢你。", english)


def test_api_arguments_are_checked():
    from seq2seq.app.inputs import check_api_args

    assert check_api_args(5, 1) == (5, 1.0)
    for bad in ((0, 1.0), (11, 1.0), (2.5, 1.0), ("x", 1.0), (5, -1.0), (5, 9.0)):
        with pytest.raises(InputError):
            check_api_args(*bad)


def test_length_penalty_defaults_to_the_model_folders_own(toy_translator, monkeypatch):
    monkeypatch.setitem(toy_translator.config.decoding, "length_penalty", 1.5)
    page = build_demo(toy_translator)
    assert page.component("length-penalty").value == 1.5
    calls = []
    real = toy_translator.translate
    monkeypatch.setattr(toy_translator, "translate", lambda *a, **k: calls.append(k["length_penalty"]) or real(*a, **k))
    assert predict(toy_translator, "我喜欢吃苹果。").length_penalty == 1.5
    assert calls == [None]  # None: Translator.translate takes the folder's 1.5


def test_step_by_step_view_and_the_redecode_round_trip(toy_translator):
    from seq2seq.app.explore import continue_with, step_view, step_view_of
    from seq2seq.app.labels import piece_text
    from seq2seq.app.predict import STEP_CANDIDATES

    own = step_view(toy_translator, "我喜欢吃苹果。", beam_size=1)
    assert own.text == "I like to eat apples." and not own.prefix
    rows = own.rows()
    assert len(rows) == len(own.pieces) and all(len(r) == 3 + STEP_CANDIDATES - 1 for r in rows)
    assert [r[1] for r in rows] == [piece_text(p) for p in own.pieces] and not any("▁" in r[1] for r in rows)
    assert all(0 < p <= 1 for p in own.probabilities)
    # The view of the translation the page made is the same view.
    pred = predict(toy_translator, "我喜欢吃苹果。", beam_size=1, full=True)
    same = step_view_of(toy_translator, "我喜欢吃苹果。", pred.sentences[0].translation)
    assert same.pieces == own.pieces and np.allclose(same.probabilities, own.probabilities, atol=1e-5)
    # Choose another candidate at step 2: the output keeps the pieces before it and the new piece.
    alt = next(c for c, _ in own.candidates[1] if c != own.pieces[1] and c not in ("</s>", "<unk>"))
    prefix = continue_with(own, 1, alt)
    other = step_view(toy_translator, own.source, prefix, beam_size=1)
    assert other.pieces[:2] == [own.pieces[0], alt] and other.prefix == prefix
    assert "(fixed)" in other.rows()[1][1]
    # Undo: no prefix gives the model's own translation again.
    assert step_view(toy_translator, own.source, None, beam_size=1).text == own.text
    typed = step_view(toy_translator, own.source, "The weather", beam_size=3)
    assert typed.text.startswith("The weather")
    with pytest.raises(InputError):
        step_view(toy_translator, "")
    with pytest.raises(InputError):
        continue_with(own, 99, "▁I")


def test_inside_attention_view_data_and_exports(toy_translator):
    import csv
    import io
    import json

    from seq2seq.app.downloads import matrix_csv
    from seq2seq.app.explore import inside_view
    from seq2seq.app.figures import matrix_figure
    from seq2seq.app.search_figures import walkthrough_figure
    from seq2seq.explain import explain_cross_attention

    v = inside_view(toy_translator, "我喜欢吃苹果。", beam_size=2)
    t = v.translation
    for kind, shape in (
        ("cross", (len(t.target_tokens), len(t.source_tokens))),
        ("encoder", (len(t.source_tokens),) * 2),
        ("decoder", (len(t.target_tokens),) * 2),
    ):
        mat, rows, cols = v.matrix(kind, 1, None)
        assert mat.shape == shape == (len(rows), len(cols))
        assert np.allclose(np.array(matrix_figure(mat, rows, cols, kind).data[0].z), mat)
    mat, rows, cols = v.matrix("decoder", 0, 2)
    assert np.all(np.triu(mat, 1) == 0)
    table = list(csv.reader(io.StringIO(matrix_csv(mat, rows, cols))))
    assert table[0][1:] == cols and len(table) == len(rows) + 1
    assert float(table[1][1]) == pytest.approx(mat[0, 0], abs=1e-5)
    data = json.loads(json.dumps(v.as_json()))
    assert np.array(data["encoder_attention"]).shape == t.encoder_attention.shape
    e = explain_cross_attention(toy_translator, t, 1, 2, 1)
    fig = walkthrough_figure(e)
    assert np.allclose(np.array(fig.data[3].y), t.cross_attention[1, 2, 1], atol=1e-4)  # panel 4 = the map's row
    with pytest.raises(InputError):
        inside_view(toy_translator, " ")


def test_words_not_pieces_hide_eos_and_head_summaries(toy_translator):
    from seq2seq.app.explore import inside_view
    from seq2seq.app.figures import all_heads_figure
    from seq2seq.app.maps import merge_groups

    v = inside_view(toy_translator, "我喜欢吃苹果。", beam_size=2)
    for words in ("jieba", "characters"):
        mat, rows, cols = v.matrix("cross", 1, None, words)
        assert np.allclose(mat.sum(-1), 1, atol=1e-5)  # columns summed, rows averaged: still distributions
        assert rows[-1] == cols[-1] == "</s>"
        assert "".join(cols[:-1]) == "我喜欢吃苹果。"
    assert v.matrix("cross", 1, None, "characters")[2][:-1] == list("我喜欢吃苹果。")
    assert v.matrix("cross", 1, None, "jieba")[1] == ["I", "like", "to", "eat", "apples", ".", "</s>"]  # "." apart
    mat, rows, cols = v.matrix("encoder", 0, 0, "jieba", hide_eos=True)
    assert "</s>" not in cols and np.allclose(mat.sum(-1), 1, atol=1e-5)
    # merge by hand: rows [a, b] -> one word (mean); columns [x, y, z] -> words {x, y}, {z}, y also in {z}
    a = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    merged = merge_groups(a, [[0], [0]], 1, [[0], [0, 1], [1]], 2)
    assert np.allclose(merged, [[(0.2 + 0.15 + 0.6 + 0.1) / 2, (0.15 + 0.5 + 0.1 + 0.2) / 2]])
    summaries = v.head_summaries("decoder")
    cfg = toy_translator.torch.model.cfg
    assert len(summaries) == cfg.n_dec_layers and len(summaries[0]) == cfg.n_heads and "entropy" in summaries[0][0]
    grid = all_heads_figure(v, "cross", v.head_summaries("cross"))
    assert len(grid.data) == cfg.n_dec_layers * cfg.n_heads
    titles = [a.text for a in grid.layout.annotations]
    assert all("&lt;/s&gt;" in t and "</s>" not in t for t in titles)  # Plotly would eat a bare </s>


def test_labels_fit_any_width_and_pieces_read_the_same_everywhere():
    """Column labels are categories: the browser shows as many as fit the map's width (a phone's too) and turns
    English ones upright where they do not fit level; Chinese ones are written top to bottom, one character wide.
    (Their boxes, measured in a browser at a phone's width: test_app_browser.py.)"""
    from seq2seq.app.figures import LATIN_FONT, map_figure, wrap
    from seq2seq.app.labels import piece_text
    from seq2seq.app.maps import MapData

    assert piece_text("\u2581This") == "·This" and piece_text("\u2581") == "·␣" and piece_text("s") == "s"
    zh = map_figure(MapData(np.ones((2, 4)) / 4, ["I", "I"], ["我", "喜欢", "我", "</s>"], "t", flagged_cols=[1]))
    x, y = list(zh.data[0].x), list(zh.data[0].y)
    assert zh.layout.xaxis.type == "category" and zh.layout.xaxis.tickangle == 0
    assert x[0] == "我" and x[3] == "&lt;/<br>s&gt;" and "喜</span><br>" in x[1] and x[1].endswith("?</span>")
    assert x[2] == "我\u200b" and y == ["I", "I\u200b"]  # a repeated word is a category of its own
    en = map_figure(
        MapData(np.ones((2, 80)) / 80, ["我", "你"], [f"word{k}" for k in range(80)], "t", languages=("en", "zh"))
    )
    assert list(en.layout.xaxis.autotickangles) == [0, 90] and en.layout.xaxis.tickfont.family == LATIN_FONT
    assert en.layout.xaxis.automargin and len(en.data[0].x) == 80  # every label given: the browser thins them
    # titles fit a phone: lines of at most 300 px, Chinese broken between characters
    assert all(
        len(line) <= 300 / (0.6 * 14)
        for line in wrap("Trained alignment head: which Chinese words each English word comes from")
    )
    assert wrap("我" * 40, 12) == ["我" * 25, "我" * 15]


def test_beam_tree_view_and_length_penalty_reranking(toy_translator):
    from seq2seq.app.explore import beam_tree, best_path, finished_ranking, greedy_tree
    from seq2seq.app.search_figures import beam_tree_figure

    t = beam_tree(toy_translator, "我喜欢吃苹果。", beam_size=4)
    ranked = finished_ranking(t.tree, 1.0)
    assert ranked[0][1] == t.text and [r[0] for r in ranked] == list(range(1, len(ranked) + 1))
    assert best_path(t.tree, 1.0) == t.target_tokens
    # alpha = 0 ranks by raw log-prob; a large alpha favours longer hypotheses
    raw = finished_ranking(t.tree, 0.0)
    assert [r[3] for r in raw] == sorted((r[3] for r in raw), reverse=True)
    long = finished_ranking(t.tree, 5.0)
    assert long[0][2] >= raw[0][2]
    fig = beam_tree_figure(t.tree, t.target_tokens, 1.0)
    assert any(tr.name == "returned translation" and len(tr.x) == len(t.target_tokens) + 1 for tr in fig.data)
    with pytest.raises(InputError):
        beam_tree(toy_translator, "我喜欢吃苹果。", beam_size=1)
    # Greedy search as a beam of 1: one finished path, the greedy translation, with its score.
    g = predict(toy_translator, "我喜欢吃苹果。", beam_size=1, full=True).sentences[0].translation
    tree = greedy_tree(g)
    assert len(tree) == len(g.target_tokens) and [r[1] for r in finished_ranking(tree, 1.0)] == [g.text]
    assert finished_ranking(tree, 0.0)[0][3] == pytest.approx(g.score, abs=1e-3)
    fig = beam_tree_figure(tree, g.target_tokens, 1.0, greedy=True)
    assert (
        "Greedy" in fig.layout.title.text
        and next(tr for tr in fig.data if tr.name == "returned translation").x.__len__() == len(g.target_tokens) + 1
    )


def test_a_sentence_of_rare_characters_is_cut_to_what_the_model_reads(toy_translator):
    """Emoji and rare characters take several pieces each: a sentence short in characters can still be too long in
    pieces, and the demo cuts it further rather than failing the batch it shares with other requests."""
    from seq2seq.app.predict import prepare

    request = prepare(toy_translator, "😀" * 200 + "我喜欢吃苹果。")
    codec = toy_translator.codec
    assert all(len(codec.source_ids([s])[0]) <= toy_translator.max_source_tokens for s in request.sentences)
    assert "".join(request.sentences) == "😀" * 200 + "我喜欢吃苹果。"
