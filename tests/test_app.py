"""The web demo: the prediction function, bad input, the API endpoint, and a real browser."""

import os
import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from seq2seq.webapp import (MAX_INPUT_CHARS, InputError, alignment_figure, all_layers_figure, build_demo, nbest_rows,
                            predict, word_alignment_html)

from conftest import ROOT


@pytest.mark.parametrize("beam", [1, 4])
def test_prediction_returns_translation_and_maps_of_the_right_shapes(toy_translator, beam):
    pred = predict(toy_translator, "我喜欢吃苹果。今天天气很好！", beam_size=beam, nbest=3)
    assert pred.translation == "I like to eat apples. The weather is nice today."
    assert len(pred.sentences) == 2 and not pred.notes
    cfg = toy_translator.model.cfg
    for s in pred.sentences:
        assert s.attention.shape == (cfg.n_dec_layers, cfg.n_heads, len(s.target_tokens), len(s.source_tokens))
        assert np.allclose(s.attention.sum(-1), 1, atol=1e-5)
        assert len(s.nbest) == (1 if beam == 1 else 3)
    fig = alignment_figure(pred, "layer 1", "head 2")
    assert len(fig.data) == 2  # one map per sentence
    z = np.array(fig.data[0].z)
    assert z.shape == (len(pred.sentences[0].target_tokens), len(pred.sentences[0].source_tokens))
    assert np.allclose(z, pred.sentences[0].attention[0, 1])
    default = np.array(alignment_figure(pred).data[1].z)  # default: last layer, mean over heads
    assert np.allclose(default, pred.sentences[1].attention[-1].mean(0))
    assert len(all_layers_figure(pred, 1).data) == cfg.n_dec_layers
    assert len(nbest_rows(pred)) == sum(len(s.nbest) for s in pred.sentences)


def test_bad_input_messages(toy_translator):
    with pytest.raises(InputError, match="type some Chinese"):
        predict(toy_translator, "   ")
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="at most"):
        predict(toy_translator, "我喜欢吃苹果。" * (MAX_INPUT_CHARS // 7 + 1))
    assert time.perf_counter() - t0 < 1
    english = predict(toy_translator, "Hello, how are you?", beam_size=2)
    assert "does not look like Chinese" in english.notes[0] and english.translation
    html_in = predict(toy_translator, "<script>alert('x')</script>谢谢你。", beam_size=2)
    page = word_alignment_html(html_in)
    assert "<script>" not in page and "&lt;" in page
    labels = [t for t in alignment_figure(html_in).layout.xaxis.ticktext]
    assert not any("<" in t for t in labels)


def test_long_sentence_is_split_and_answered_quickly(toy_translator):
    t0 = time.perf_counter()
    pred = predict(toy_translator, "我喜欢吃苹果" * 60 + "。", beam_size=2)  # one sentence over the model's limit
    assert len(pred.sentences) > 1 and time.perf_counter() - t0 < 10


def test_unexpected_errors_show_no_stack_trace(toy_translator, monkeypatch):
    import gradio as gr

    demo = build_demo(toy_translator)
    run = next(f.fn for f in demo.fns.values() if f.fn.__name__ == "run")

    def boom(*a, **k):
        raise RuntimeError("internal detail")

    monkeypatch.setattr(toy_translator, "translate", boom)
    with pytest.raises(gr.Error) as e:
        run("我喜欢吃苹果。", "beam", 4, 1.0, 1, "layer 2", "average")
    assert "internal detail" not in str(e.value) and "went wrong" in str(e.value)
    outs = run("", "beam", 4, 1.0, 1, "layer 2", "average")
    assert "type some Chinese" in outs[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(*args):
    """Start ``python app.py ARGS --port N``; yield its URL once it accepts connections."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), *args, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited: {proc.stdout.read()}")
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server(toy_translator, tmp_path_factory):
    folder = toy_translator.save(tmp_path_factory.mktemp("app") / "model")
    yield from start_app("--model", str(folder))


@pytest.fixture(scope="module")
def default_server():
    """The app as a user starts it: no --model, so the shipped model."""
    yield from start_app()


def test_api_endpoint_translate(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    assert client.predict("我喜欢吃苹果。", api_name="/translate") == "I like to eat apples."
    assert client.predict("谢谢你。", 1, 1.0, api_name="/translate") == "Thank you."
    # Errors are errors for API callers, never a message in place of a translation.
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="type some Chinese"):
        client.predict("", api_name="/translate")
    with pytest.raises(AppError, match="beam_size"):
        client.predict("谢谢你。", 0, 1.0, api_name="/translate")


def test_api_endpoint_score(server):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    out = Client(server, verbose=False).predict("我喜欢吃苹果。", "I like to eat apples.", api_name="/score")
    assert out["pieces"][-1] == "</s>" and len(out["logprobs"]) == len(out["pieces"])
    assert abs(sum(out["logprobs"]) - out["total"]) < 1e-2 and out["model_translation"] == "I like to eat apples."
    with pytest.raises(AppError, match="English"):
        Client(server, verbose=False).predict("我喜欢吃苹果。", "", api_name="/score")


def test_scoring_your_own_translation(toy_translator):
    from seq2seq.app.figures import scored_pieces_html
    from seq2seq.app.predict import score_translation

    good = score_translation(toy_translator, "我喜欢吃苹果。", "I like to eat apples.")
    bad = score_translation(toy_translator, "我喜欢吃苹果。", "Thank you.")
    assert good.text == good.model_text and abs(good.alignment.score - good.model_score) < 1e-4
    assert bad.alignment.score < good.alignment.score  # the model finds its training pair more plausible
    assert bad.alignment.links and len(bad.alignment.token_logprobs) == len(bad.alignment.target_tokens)
    page = scored_pieces_html(score_translation(toy_translator, "谢谢你。", "<b>Thank</b> you."))
    assert "<b>Thank" not in page and "&lt;" in page
    for english in ("", "x" * 2000):
        with pytest.raises(InputError):
            score_translation(toy_translator, "谢谢你。", english)


def test_api_arguments_are_checked():
    from seq2seq.webapp import InputError, check_api_args

    assert check_api_args(5, 1) == (5, 1.0)
    for bad in ((0, 1.0), (11, 1.0), (2.5, 1.0), ("x", 1.0), (5, -1.0), (5, 9.0)):
        with pytest.raises(InputError):
            check_api_args(*bad)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def browser_translate(url: str, text: str, shot: str) -> tuple[str, list[str]]:
    """Type ``text``, click translate, wait for the translation and the heatmap, save a screenshot.
    Returns (the translation, the heatmap's x-axis labels)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright)")
    if not CHROMIUM:
        print("browser test skipped: no chromium (apt-get install chromium fonts-noto-cjk)")
        pytest.skip("no Chromium browser on this machine (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1300})
        page.goto(url)
        page.locator("#source textarea").fill(text)
        page.locator("#translate-btn").click()
        page.wait_for_function("document.querySelector('#translation textarea').value.length > 0", timeout=60000)
        translation = page.locator("#translation textarea").input_value()
        page.wait_for_selector("#heatmap .js-plotly-plot", timeout=60000)
        page.wait_for_timeout(500)
        page.screenshot(path=shot, full_page=True)
        ticks = page.eval_on_selector_all("#heatmap .xtick text", "els => els.map(e => e.textContent)")
        browser.close()
    assert os.path.getsize(shot) > 10_000
    return translation, ticks


@pytest.mark.browser
def test_real_browser_translates_and_draws_the_heatmap(server, tmp_path):
    translation, ticks = browser_translate(server, "我喜欢吃苹果。今天天气很好。", str(tmp_path / "app.png"))
    assert translation == "I like to eat apples. The weather is nice today."
    assert any("苹果" in t or "喜欢" in t for t in ticks), ticks


@pytest.mark.browser
def test_real_browser_with_the_shipped_model(default_server, tmp_path):
    """``python app.py`` with no --model serves the shipped model.  S2S_SCREENSHOT=docs/screenshot.png keeps
    the screenshot (the one in the README)."""
    shot = os.environ.get("S2S_SCREENSHOT") or str(tmp_path / "app.png")
    translation, ticks = browser_translate(default_server, "我喜欢吃苹果。今天天气很好。", shot)
    assert "apple" in translation.lower() and "weather" in translation.lower()
    assert any("苹果" in t or "喜欢" in t for t in ticks), ticks


def test_length_penalty_defaults_to_the_model_folders_own(toy_translator, monkeypatch):
    import gradio as gr

    monkeypatch.setitem(toy_translator.folder_config.decoding, "length_penalty", 1.5)
    demo = build_demo(toy_translator)
    sliders = [b for b in demo.blocks.values() if isinstance(b, gr.Slider) and b.label.startswith("Length penalty")]
    assert [s.value for s in sliders] == [1.5]
    calls = []
    real = toy_translator.translate
    monkeypatch.setattr(toy_translator, "translate", lambda *a, **k: calls.append(k["length_penalty"]) or real(*a, **k))
    predict(toy_translator, "我喜欢吃苹果。")
    assert calls == [None]  # None: Translator.translate takes the folder's 1.5


def test_step_by_step_view_and_the_redecode_round_trip(toy_translator):
    from seq2seq.app.predict import STEP_CANDIDATES, continue_with, step_view

    own = step_view(toy_translator, "我喜欢吃苹果。", beam_size=1)
    assert own.text == "I like to eat apples." and not own.prefix
    rows = own.rows()
    assert len(rows) == len(own.pieces) and all(len(r) == 3 + STEP_CANDIDATES - 1 for r in rows)
    assert all(0 < p <= 1 for p in own.probabilities)
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

    from seq2seq.app.figures import matrix_csv, matrix_figure, walkthrough_figure
    from seq2seq.app.predict import inside_view
    from seq2seq.explain import explain_cross_attention

    v = inside_view(toy_translator, "我喜欢吃苹果。", beam_size=2)
    t = v.translation
    for kind, shape in (("cross", (len(t.target_tokens), len(t.source_tokens))),
                        ("encoder", (len(t.source_tokens),) * 2), ("decoder", (len(t.target_tokens),) * 2)):
        mat, rows, cols = v.matrix(kind, 1, None)
        assert mat.shape == shape == (len(rows), len(cols))
        assert np.allclose(np.array(matrix_figure(mat, rows, cols, kind).data[0].z), mat)
    mat, rows, cols = v.matrix("decoder", 0, 2)
    assert np.all(np.triu(mat, 1) == 0)
    table = list(csv.reader(io.StringIO(matrix_csv(mat, rows, cols))))
    assert table[0][1:] == cols and len(table) == len(rows) + 1 and float(table[1][1]) == pytest.approx(mat[0, 0], abs=1e-5)
    data = json.loads(json.dumps(v.as_json()))
    assert np.array(data["encoder_attention"]).shape == t.encoder_attention.shape
    e = explain_cross_attention(toy_translator, t, 1, 2, 1)
    fig = walkthrough_figure(e)
    assert np.allclose(np.array(fig.data[3].y), t.cross_attention[1, 2, 1], atol=1e-4)  # panel 4 = the map's row
    with pytest.raises(InputError):
        inside_view(toy_translator, " ")


def test_words_not_pieces_hide_eos_and_head_summaries(toy_translator):
    from seq2seq.app.figures import all_heads_figure
    from seq2seq.app.predict import inside_view, merge_groups

    v = inside_view(toy_translator, "我喜欢吃苹果。", beam_size=2)
    for words in ("jieba", "characters"):
        mat, rows, cols = v.matrix("cross", 1, None, words)
        assert np.allclose(mat.sum(-1), 1, atol=1e-5)  # columns summed, rows averaged: still distributions
        assert rows[-1] == cols[-1] == "</s>"
        assert "".join(cols[:-1]) == "我喜欢吃苹果。"
    assert v.matrix("cross", 1, None, "characters")[2][:-1] == list("我喜欢吃苹果。")
    assert "apples." in v.matrix("cross", 1, None, "jieba")[1]
    mat, rows, cols = v.matrix("encoder", 0, 0, "jieba", hide_eos=True)
    assert "</s>" not in cols and np.allclose(mat.sum(-1), 1, atol=1e-5)
    # merge by hand: rows [a, b] -> one word (mean); columns [x, y, z] -> words {x, y}, {z}, y also in {z}
    a = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    merged = merge_groups(a, [[0], [0]], 1, [[0], [0, 1], [1]], 2)
    assert np.allclose(merged, [[(0.2 + 0.15 + 0.6 + 0.1) / 2, (0.15 + 0.5 + 0.1 + 0.2) / 2]])
    summaries = v.head_summaries("decoder")
    cfg = toy_translator.model.cfg
    assert len(summaries) == cfg.n_dec_layers and len(summaries[0]) == cfg.n_heads and "entropy" in summaries[0][0]
    assert len(all_heads_figure(v, "cross", v.head_summaries("cross")).data) == cfg.n_dec_layers * cfg.n_heads


def _launch(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)


@pytest.mark.browser
def test_real_browser_microscope_tabs(request, tmp_path):
    """Step by step (pick another word, the translation changes), your translation (its scores), the beam
    tree, and inside attention (maps, the walkthrough); a screenshot of each.  S2S_SHIPPED=1 runs it on the
    shipped model (for the README's screenshots, with S2S_SCREENSHOT_DIR=docs)."""
    server = request.getfixturevalue("default_server" if os.environ.get("S2S_SHIPPED") else "server")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright)")
    if not CHROMIUM:
        pytest.skip("no Chromium browser on this machine (apt-get install chromium)")
    shots = os.environ.get("S2S_SCREENSHOT_DIR") or str(tmp_path)
    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(server)
        page.locator("#source textarea").fill("我喜欢吃苹果。")
        # Step by step
        page.get_by_role("tab", name="Step by step").click()
        page.locator("#steps-btn").click()
        page.wait_for_function("document.querySelector('#steps-translation textarea').value.length > 0", timeout=60000)
        first = page.locator("#steps-translation textarea").input_value()
        assert "apple" in first.lower()
        page.locator("#step-pick input").click()
        page.get_by_role("option").nth(1).click()  # step 2
        page.wait_for_timeout(1500)
        page.locator("#alt-btn").click()
        page.wait_for_function(f"document.querySelector('#steps-translation textarea').value !== {first!r}",
                               timeout=60000)
        changed = page.locator("#steps-translation textarea").input_value()
        assert changed and changed != first  # another word at a step: the model continued from there
        page.screenshot(path=f"{shots}/step-by-step.png", full_page=True)
        # Your translation
        page.get_by_role("tab", name="Your translation").click()
        page.locator("#own-translation textarea").fill("I like eating apples.")
        page.locator("#score-btn").click()
        page.wait_for_selector("#own-score .s2s-score", timeout=60000)
        assert "log-prob" in page.locator("#own-score").inner_text()
        page.screenshot(path=f"{shots}/your-translation.png", full_page=True)
        # Beam search
        page.get_by_role("tab", name="Beam search").click()
        page.locator("#tree-btn").click()
        page.wait_for_selector("#tree-map .js-plotly-plot", timeout=60000)
        page.wait_for_timeout(500)
        page.screenshot(path=f"{shots}/beam-search.png", full_page=True)
        # Inside attention
        page.get_by_role("tab", name="Inside attention").click()
        page.get_by_label("decoder").check()
        page.locator("#inside-btn").click()
        page.wait_for_selector("#inside-map .js-plotly-plot", timeout=60000)
        page.wait_for_selector("#heads-map .js-plotly-plot", timeout=60000)
        page.locator("#walk-btn").click()
        page.wait_for_selector("#walk-map .js-plotly-plot", timeout=60000)
        page.wait_for_timeout(500)
        page.screenshot(path=f"{shots}/inside-attention.png", full_page=True)
        browser.close()
    for name in ("step-by-step", "your-translation", "beam-search", "inside-attention"):
        assert os.path.getsize(f"{shots}/{name}.png") > 10_000


def test_beam_tree_view_and_length_penalty_reranking(toy_translator):
    from seq2seq.app.figures import beam_tree_figure
    from seq2seq.app.predict import beam_tree, finished_ranking

    t = beam_tree(toy_translator, "我喜欢吃苹果。", beam_size=4)
    ranked = finished_ranking(t.tree, 1.0)
    assert ranked[0][1] == t.text and [r[0] for r in ranked] == list(range(1, len(ranked) + 1))
    # alpha = 0 ranks by raw log-prob; a large alpha favours longer hypotheses
    raw = finished_ranking(t.tree, 0.0)
    assert [r[3] for r in raw] == sorted((r[3] for r in raw), reverse=True)
    long = finished_ranking(t.tree, 5.0)
    assert long[0][2] >= raw[0][2]
    fig = beam_tree_figure(t.tree, t.target_tokens, 1.0)
    assert any(tr.name == "returned translation" and len(tr.x) == len(t.target_tokens) + 1 for tr in fig.data)
    with pytest.raises(InputError):
        beam_tree(toy_translator, "我喜欢吃苹果。", beam_size=1)
