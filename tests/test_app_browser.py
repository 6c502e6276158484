"""The demo in a real browser (Debian's Chromium through Playwright): one sentence, one state across every view
(the attribution views too) and the source check; warnings that go with their cause; chips that light up their
cells; the shipped model's first view; the direction switch.

S2S_SCREENSHOT=docs/screenshot.png keeps the shipped model's first view (the README's screenshot);
S2S_SHIPPED=1 S2S_SCREENSHOT_DIR=docs runs the views' test on the shipped model and keeps a screenshot of each."""

import os
import re
import shutil

import pytest
from test_app import App

from seq2seq.app.labels import piece_text

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT = int(os.environ.get("S2S_BROWSER_WAIT_MS", "300000"))  # the machine may be busy
VIEWS = {
    "align": "Alignment",
    "layers": "All layers",
    "steps": "Step by step",
    "beam": "Beam search",
    "inside": "Inside attention",
    "attribution": "Attribution",
    "whynot": "Why not",
    "lens": "Layer by layer",
    "own": "Your translation",
    "nbest": "n-best",
}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(toy_translator, tmp_path_factory):
    folder = toy_translator.save(tmp_path_factory.mktemp("app") / "model")
    running = App(["--model", str(folder)], tmp_path_factory.mktemp("log") / "app.log")
    yield running.url
    running.stop()


@pytest.fixture(scope="module")
def both_ways_server(toy_translator, toy_en_zh_translator, tmp_path_factory):
    """The toy models, one per direction: ``--model zh-en-folder --model en-zh-folder``."""
    zh_en = toy_translator.save(tmp_path_factory.mktemp("app") / "zh-en")
    en_zh = toy_en_zh_translator.save(tmp_path_factory.mktemp("app") / "en-zh")
    running = App(["--model", str(zh_en), "--model", str(en_zh)], tmp_path_factory.mktemp("log") / "app.log")
    yield running.url
    running.stop()


@pytest.fixture(scope="module")
def default_server(tmp_path_factory):
    """The app as a user starts it: no --model, so the shipped model."""
    running = App([], tmp_path_factory.mktemp("log") / "app.log")
    yield running.url
    running.stop()


@pytest.fixture
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright)")
    if not CHROMIUM:
        pytest.skip("no Chromium browser on this machine (apt-get install chromium fonts-noto-cjk)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def new_page(browser, width: int = 1280):
    page = browser.new_page(viewport={"width": width, "height": 1400})
    page.set_default_timeout(WAIT)
    return page


@pytest.fixture
def page(browser):
    return new_page(browser)


# Everything the page's live regions (what a screen reader reads out) say, from the start.
HEARD = """window.s2sHeard = [];
new MutationObserver(changes => {
  for (const m of changes) {
    const el = m.target.nodeType === 3 ? m.target.parentElement : m.target;
    const live = el && el.closest && el.closest('[aria-live]');
    if (live && live.textContent.trim()) window.s2sHeard.push(live.textContent.trim());
  }
}).observe(document, {subtree: true, childList: true, characterData: true});"""

# The contrast ratio (WCAG) of an element's text with the background it is drawn on.
CONTRAST = """e => {
  const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => {
    const f = v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const clear = el => ['rgba(0, 0, 0, 0)', 'transparent'].includes(getComputedStyle(el).backgroundColor);
  let bg = e;
  while (bg && clear(bg)) bg = bg.parentElement;
  const a = lum(rgb(getComputedStyle(e).color));
  const b = lum(rgb(bg ? getComputedStyle(bg).backgroundColor : 'rgb(255, 255, 255)'));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""

# The boxes of a plot's text: its tick labels ("tick"), and its titles and subplot titles ("title"); which two
# intersect; which reach outside the figure (cut off).
TEXT_BOXES = """plot => {
  const svg = plot.querySelector('.main-svg').getBoundingClientRect();
  const kinds = [
    ['.xtick text, .ytick text', 'tick'],
    ['.gtitle, .annotation-text, .g-xtitle text, .g-ytitle text', 'title'],
  ];
  const boxes = [];
  for (const [sel, kind] of kinds) for (const e of plot.querySelectorAll(sel)) {
    const r = e.getBoundingClientRect();
    if (e.textContent.trim() && r.width > 0 && r.height > 0)
      boxes.push({text: e.textContent, kind, l: r.left, r: r.right, t: r.top, b: r.bottom});
  }
  const meet = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], c = boxes[j];
    if (a.l < c.r && c.l < a.r && a.t < c.b && c.t < a.b) meet.push([a.text, c.text]);
  }
  const cut = boxes.filter(b => b.l < svg.left || b.r > svg.right || b.t < svg.top || b.b > svg.bottom);
  return {ticks: boxes.filter(b => b.kind === 'tick').map(b => b.text), meet, cut: cut.map(b => b.text)};
}"""


def assert_text_apart(page, plot: str, min_ticks: int) -> list[str]:
    """No two tick labels (or titles) of the map ``plot`` intersect, none is cut off; returns the tick labels."""
    page.wait_for_selector(f"#{plot} .js-plotly-plot .xtick", timeout=WAIT)
    page.wait_for_timeout(500)  # the labels are placed once the plot has its width
    boxes = page.eval_on_selector(f"#{plot} .js-plotly-plot", TEXT_BOXES)
    assert len(boxes["ticks"]) >= min_ticks, boxes
    assert boxes["meet"] == [] and boxes["cut"] == [], (plot, boxes)
    return boxes["ticks"]


def translate(page, text: str) -> str:
    """Type ``text``, press Translate, wait for a new translation; returns it."""
    before = page.locator("#translation textarea").input_value()
    page.locator("#source textarea").fill(text)
    page.locator("#translate-btn").click()
    page.wait_for_function(
        f"(v => v.length > 0 && v !== {before!r})(document.querySelector('#translation textarea').value)", timeout=WAIT
    )
    return page.locator("#translation textarea").input_value()


def open_tab(page, name: str) -> None:
    """Click a tab; on a narrow page, the tabs that do not fit are under "More tabs"."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.count() and tab.is_visible():
        tab.click()
        return
    page.get_by_label("More tabs").click()
    page.locator("#views .overflow-dropdown button").filter(has_text=re.compile(f"^{re.escape(name)}$")).click()


def open_view(page, key: str, source: str) -> str:
    """Open a tab and wait until its caption names ``source``; returns the caption."""
    open_tab(page, VIEWS[key])
    page.wait_for_function(
        f"(document.querySelector('#{key}-caption') || {{}}).innerText?.includes({source!r})", timeout=WAIT
    )
    return page.locator(f"#{key}-caption").inner_text()


def ticks(page, plot: str) -> list[str]:
    page.wait_for_selector(f"#{plot} .js-plotly-plot .xtick", timeout=WAIT)
    return page.eval_on_selector_all(f"#{plot} .xtick text", "els => els.map(e => e.textContent)")


def test_one_sentence_one_state_across_every_view(server, toy_translator, page):
    """Translate, look at two views, translate another sentence: the open view follows, and every view opened
    after shows the second sentence only.  On the way: a warning goes with the next good translation, and
    hovering a chip fills its cells."""
    page.goto(server)
    assert translate(page, "我喜欢吃苹果。") == "I like to eat apples."
    assert "苹果" in ticks(page, "align-map")
    open_view(page, "steps", "我喜欢吃苹果。")  # fills itself: no button
    page.wait_for_function(
        "document.querySelector('#steps-translation textarea').value === 'I like to eat apples.'", timeout=WAIT
    )
    open_view(page, "beam", "我喜欢吃苹果。")
    page.wait_for_selector("#tree-map .js-plotly-plot", timeout=WAIT)
    # The source check, asked for: the translation on screen is checked, and every new one after it.
    page.locator("#source-check-box input").check()
    page.wait_for_selector("#source-check .s2s-source-check", timeout=WAIT)
    assert "Source check" in page.locator("#source-check").inner_text()
    # An empty click warns; the next good translation closes the warning.
    page.locator("#source textarea").fill("")
    page.locator("#translate-btn").click()
    page.wait_for_selector(".toast-body", timeout=WAIT)
    assert "type some Chinese" in page.locator(".toast-body").first.inner_text()
    assert translate(page, "今天天气很好。") == "The weather is nice today."
    page.wait_for_timeout(1000)
    assert page.locator(".toast-body").count() == 0
    # The open view (Beam search) was redrawn for the second sentence.
    page.wait_for_function("document.querySelector('#beam-caption').innerText.includes('今天天气很好。')")
    second = toy_translator.translate(["今天天气很好。"])[0]
    shows = {
        "align": ["#align-map", "#align-chips"],
        "layers": ["#layers-map"],
        "steps": ["#steps-table"],
        "beam": ["#tree-map", "#tree-table"],
        "inside": ["#inside-map"],
        "attribution": ["#attribution-map", "#attribution-head-map", "#attribution-summary"],
        "whynot": ["#whynot-map"],
        "lens": ["#lens-map", "#lens-table"],
        "own": ["#own-translation"],
        "nbest": ["#nbest-table"],
    }
    for key in VIEWS:
        caption = open_view(page, key, "今天天气很好。")
        assert "我喜欢吃苹果" not in caption and "The weather is nice today." in caption
        for sel in shows[key]:
            page.wait_for_selector(sel, timeout=WAIT)
            page.wait_for_timeout(300)
            text = page.locator(sel).inner_text() + " ".join(
                page.eval_on_selector_all(f"{sel} svg text", "els => els.map(e => e.textContent)")
            )
            assert "apple" not in text and "苹果" not in text, (key, sel, text[:300])
        if key == "steps":  # a table in a closed tab renders no rows: read it while it is open
            rows = page.locator("#steps-table").inner_text()
            assert [piece_text(p) in rows for p in second.target_tokens] == [True] * len(second.target_tokens)
    assert "The weather is nice today." in page.locator("#nbest-table").inner_text()
    page.wait_for_function(
        "(document.querySelector('#source-check') || {}).innerText?.includes('weather')", timeout=WAIT
    )  # the source check followed the new translation
    # Hovering a chip fills the outlined cells of its links on the map.
    open_view(page, "align", "今天天气很好。")
    chip = page.locator("#align-chips [data-cells]:not([data-cells=''])").first
    first = chip.get_attribute("data-cells").split()[0]
    chip.hover()
    cell = f"#align-map .shapelayer path[data-index='{first}']"
    assert page.eval_on_selector(cell, "p => [p.style.fill, p.style.fillOpacity]") == ["rgb(249, 115, 22)", "0.55"]
    page.locator("#align-caption").hover()
    assert page.eval_on_selector(cell, "p => p.style.fillOpacity") == "0"


def test_the_shipped_model_opens_on_the_heads_word_map(default_server, page, tmp_path):
    """``python app.py`` with no --model: the first view is the alignment head's map at word level, and the
    coverage check flags the dropped 北京."""
    shot = os.environ.get("S2S_SCREENSHOT") or str(tmp_path / "app.png")
    page.goto(default_server)
    english = translate(page, "我明天要去北京看望我的老朋友。")
    assert "friend" in english and "Beijing" not in english
    labels = ticks(page, "align-map")
    # jieba words (written top to bottom; 老朋友 may be split where its pieces link apart), the unlinked one flagged
    assert "北京?" in labels and any("朋友" in x for x in labels) and "京" not in labels, labels
    assert "Trained alignment head" in page.eval_on_selector("#align-map .gtitle", "e => e.textContent")
    assert "not translated?" in page.locator("#coverage").inner_text()
    page.wait_for_timeout(500)
    page.screenshot(path=shot, full_page=True)
    assert os.path.getsize(shot) > 10_000
    # At a phone's width: the flagged word stays one badge on one line, and no two labels of the map meet.
    page.set_viewport_size({"width": 390, "height": 1400})
    page.wait_for_timeout(1500)
    lines = page.eval_on_selector_all("#coverage .s2s-flag", "els => els.map(e => e.getClientRects().length)")
    assert lines and set(lines) == {1}, lines
    assert "北京?" in assert_text_apart(page, "align-map", 12)


def test_the_views_that_act(request, page, tmp_path):
    """Step by step (pick another word, the translation changes), your translation (its scores and map), greedy
    in the beam view, inside attention (maps, the walkthrough); a screenshot of each.  S2S_SHIPPED=1 runs it on
    the shipped model (for the docs' screenshots, with S2S_SCREENSHOT_DIR=docs)."""
    url = request.getfixturevalue("default_server" if os.environ.get("S2S_SHIPPED") else "server")
    shots = os.environ.get("S2S_SCREENSHOT_DIR") or str(tmp_path)
    page.goto(url)
    translate(page, "我喜欢吃苹果。")
    # Step by step
    open_view(page, "steps", "我喜欢吃苹果。")
    page.wait_for_function("document.querySelector('#steps-translation textarea').value.length > 0", timeout=WAIT)
    first = page.locator("#steps-translation textarea").input_value()
    page.locator("#step-pick input").click()
    page.get_by_role("option").nth(1).click()  # step 2
    page.wait_for_timeout(1500)
    page.locator("#alt-btn").click()
    page.wait_for_function(f"document.querySelector('#steps-translation textarea').value !== {first!r}", timeout=WAIT)
    assert page.locator("#steps-translation textarea").input_value() != first
    page.screenshot(path=f"{shots}/step-by-step.png", full_page=True)
    # Your translation
    open_view(page, "own", "我喜欢吃苹果。")
    page.locator("#own-translation textarea").fill("I like eating apples.")
    page.locator("#score-btn").click()
    page.wait_for_selector("#own-score .s2s-score", timeout=WAIT)
    page.wait_for_selector("#own-map .js-plotly-plot", timeout=WAIT)
    assert "log-prob" in page.locator("#own-score").inner_text()
    page.screenshot(path=f"{shots}/your-translation.png", full_page=True)
    # Inside attention
    open_view(page, "inside", "我喜欢吃苹果。")
    page.get_by_label("decoder").check()
    page.wait_for_selector("#heads-map .js-plotly-plot", timeout=WAIT)
    page.wait_for_selector("#walk-map .js-plotly-plot", timeout=WAIT)
    page.wait_for_timeout(1000)
    page.screenshot(path=f"{shots}/inside-attention.png", full_page=True)
    # Attribution with integrated gradients (a progress bar while it runs), then why "I" and not "apples"
    open_view(page, "attribution", "我喜欢吃苹果。")
    page.wait_for_selector("#attribution-map .js-plotly-plot", timeout=WAIT)
    page.locator("#attribution-method").get_by_label("integrated gradients").check()
    page.wait_for_function(
        "(document.querySelector('#attribution-map .gtitle') || {}).textContent?.includes('integrated')", timeout=WAIT
    )
    page.screenshot(path=f"{shots}/attribution.png", full_page=True)
    open_view(page, "whynot", "我喜欢吃苹果。")
    page.wait_for_selector("#whynot-map .js-plotly-plot", timeout=WAIT)
    before = page.locator("#whynot-summary").inner_text()  # the model's own runner-up, explained on opening
    assert "log p(" in before
    page.locator("#whynot-alternative textarea").fill("apples")
    page.locator("#whynot-btn").click()
    page.wait_for_function(
        f"(s => s.includes('log p(') && s !== {before!r})(document.querySelector('#whynot-summary').innerText)",
        timeout=WAIT,
    )
    page.screenshot(path=f"{shots}/why-not.png", full_page=True)
    open_view(page, "lens", "我喜欢吃苹果。")
    page.wait_for_selector("#lens-map .js-plotly-plot", timeout=WAIT)
    page.screenshot(path=f"{shots}/layer-by-layer.png", full_page=True)
    # Beam search, then greedy: the tree follows the decoding
    open_view(page, "beam", "我喜欢吃苹果。")
    page.wait_for_selector("#tree-map .js-plotly-plot", timeout=WAIT)
    page.wait_for_timeout(500)
    page.screenshot(path=f"{shots}/beam-search.png", full_page=True)
    page.get_by_role("radio", name="greedy").check()
    page.locator("#source textarea").fill("我喜欢吃苹果。 ")
    page.locator("#translate-btn").click()
    page.wait_for_function("document.querySelector('#beam-note').innerText.includes('Greedy')", timeout=WAIT)
    for name in ("step-by-step", "your-translation", "beam-search", "inside-attention", "attribution", "why-not"):
        assert os.path.getsize(f"{shots}/{name}.png") > 10_000


def test_the_switch_translates_the_other_way(both_ways_server, page):
    """中→EN, then EN→中: the switch clears the boxes, relabels them, and the next translation is Chinese, with a
    map whose columns are English words and rows Chinese; the views follow; switching back clears it all.  On the
    way: what a screen reader hears when a translation is done ("common.complete", Gradio's key, once), and the
    contrast of the help under "Links from"."""
    page.add_init_script(HEARD)
    page.goto(both_ways_server)
    assert "Chinese" in page.locator("#source").inner_text()
    assert translate(page, "我喜欢吃苹果。") == "I like to eat apples."
    assert "苹果" in ticks(page, "align-map")
    page.wait_for_function("window.s2sHeard.some(t => t.includes('Done.'))", timeout=WAIT)
    assert not [t for t in page.evaluate("window.s2sHeard") if "common." in t]
    page.get_by_text("Look inside: raw attention").click()
    page.wait_for_selector("#links-from .info-text", timeout=WAIT)
    assert page.eval_on_selector("#links-from .info-text", CONTRAST) >= 4.5  # WCAG AA for small text
    page.get_by_label("EN→中").check()
    page.wait_for_function(
        "document.querySelector('#translation textarea').value === '' && "
        "document.querySelector('#source').innerText.includes('English')",
        timeout=WAIT,
    )
    assert page.locator("#source textarea").input_value() == ""
    assert "Where is the library?" in page.locator("#examples-en-zh").inner_text()
    assert not page.locator("#examples-zh-en").is_visible()
    assert translate(page, "I like to eat apples.") == "我喜欢吃苹果。"
    assert "Chinese" in page.locator("#translation").inner_text()
    cols = ticks(page, "align-map")
    rows = page.eval_on_selector_all("#align-map .ytick text", "els => els.map(e => e.textContent)")
    assert "apples" in cols and "苹果" not in cols, cols
    assert any("苹果" in r or "苹" in r for r in rows) and "apples" not in rows, rows
    caption = open_view(page, "steps", "I like to eat apples.")
    assert "我喜欢吃苹果。" in caption
    page.wait_for_function(
        "document.querySelector('#steps-translation textarea').value === '我喜欢吃苹果。'", timeout=WAIT
    )
    open_view(page, "inside", "I like to eat apples.")
    page.wait_for_selector("#inside-map .js-plotly-plot", timeout=WAIT)
    for key in ("attribution", "whynot", "lens"):  # the views of what the model used, the other way
        open_view(page, key, "I like to eat apples.")
        page.wait_for_selector(f"#{key}-map .js-plotly-plot", timeout=WAIT)
    # Back to 中→EN: one sentence, one state, so nothing of the English sentence stays.
    page.get_by_label("中→EN").check()
    page.wait_for_function(
        "document.querySelector('#translation textarea').value === '' && "
        "document.querySelector('#source').innerText.includes('Chinese')",
        timeout=WAIT,
    )
    page.wait_for_function("!((document.querySelector('#inside-caption') || {}).innerText || '').trim()", timeout=WAIT)
    assert "你叫什么名字？" in page.locator("#examples-zh-en").inner_text()


# Longer than the toy models know (they translate it somehow): labels enough to crowd a phone's width.
LONG = {
    "中→EN": "我喜欢吃苹果，今天天气很好，谢谢你，他们每天都看书，老师明天要去北京。",
    "EN→中": "I like to eat apples, the weather is nice today, thank you, they read books every day.",
}


@pytest.mark.parametrize("width", [390, 1280])
def test_no_two_labels_meet_at_a_phones_width_or_a_desktops(both_ways_server, browser, width):
    """Both directions, the maps that label words (Alignment, All layers, Inside attention), at a phone's width
    and a desktop's: no two tick labels' boxes intersect, nor a title and a label (the "All layers" title once
    lay over its subplots' titles), and no text is cut off (the map's title was, at 390 px)."""
    page = new_page(browser, width)
    page.goto(both_ways_server)
    for direction, text in LONG.items():
        page.get_by_label(direction).check()
        page.wait_for_function("document.querySelector('#translation textarea').value === ''", timeout=WAIT)
        translate(page, text)  # cut into parts the toy model reads: every view shows the first
        open_view(page, "align", text[:12])
        assert_text_apart(page, "align-map", 10)
        open_view(page, "layers", text[:12])
        assert_text_apart(page, "layers-map", 10)
        open_view(page, "inside", text[:12])
        assert_text_apart(page, "inside-map", 10)
    page.close()


def test_a_control_out_of_range_is_refused_as_typed(server, page):
    """A beam of 25 once became 10 without a word, and a beam of 1 became 2: the box keeps what was typed, and
    Translate refuses it with the range."""
    page.goto(server)
    page.locator("#beam-size input").fill("25")
    page.locator("#source textarea").fill("我喜欢吃苹果。")
    page.locator("#translate-btn").click()
    page.wait_for_selector(".toast-body", timeout=WAIT)
    assert (
        "Beam size must be a whole number from 1 (greedy) to 10, got 25"
        in page.locator(".toast-body").first.inner_text()
    )
    assert page.locator("#beam-size input").input_value() == "25"
    assert page.locator("#translation textarea").input_value() == ""
    page.locator("#beam-size input").fill("1")
    page.locator("#nbest input").fill("1")
    assert translate(page, "我喜欢吃苹果。") == "I like to eat apples."
    assert page.locator("#beam-size input").input_value() == "1"
