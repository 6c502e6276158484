"""The demo's attribution views without a browser, in both directions: the source check under the translation
(made only when asked), attribution beside attention with its agreement, "why this word and not that one", and
the logit lens layer by layer; their downloads.  Handlers are called as the page calls them.  (In a browser:
test_app_browser.py; the library's own tests: test_attribution.py, test_lens.py.)"""

import csv
import json

import numpy as np
import pytest
from test_app_direction import PAIRS, both  # noqa: F401 - the fixture

from seq2seq.app.attributions import beside_attention, source_checks, why_not, word_choices
from seq2seq.app.downloads import file_stem
from seq2seq.app.inputs import InputError
from seq2seq.app.maps import word_links
from seq2seq.attributor import Attributor


def translated(both, direction, mode="beam"):  # noqa: F811
    source, target = PAIRS[direction]
    pred = both.run(source, mode, 4, 1.0, 1, direction)[3]
    assert pred.translation == target
    return pred


def test_the_first_view_makes_no_attribution_and_the_check_only_when_asked(both, monkeypatch):  # noqa: F811
    def refuse(*args, **kwargs):
        raise AssertionError("attribution was computed on the first view")

    with monkeypatch.context() as m:
        m.setattr(Attributor, "attribute", refuse)
        pred = translated(both, "zh-en")
        assert both.check_sources(pred, False) == ""  # not asked: nothing computed, nothing shown
    steps = []
    page = both.check_sources(pred, True, progress=lambda done, desc=None: steps.append(done))
    assert "Source check" in page and ("not from the source?" in page or "drew on the Chinese" in page)
    assert steps == [(1, 1)]  # one sentence checked
    computed = dict(pred.sentences[0]._computed)
    assert both.check_sources(pred, True) == page  # kept with the sentence, not computed again:
    assert all(pred.sentences[0]._computed[k] is v for k, v in computed.items())


@pytest.mark.parametrize("direction", ["zh-en", "en-zh"])
def test_the_source_check_names_the_words_of_the_translation(both, direction):  # noqa: F811
    pred = translated(both, direction)
    tr = both.translators[direction]
    (check,) = source_checks(tr, pred)
    words = word_links(pred.sentences[0].translation, pred.align_method, pred.languages).target_words
    assert check.words == words and len(check.shares) == len(words)
    assert all(0 <= x <= 1 for x in check.shares) and set(check.flagged) <= set(range(len(words)))
    assert all(words[j] not in ".。" for j in check.flagged)  # punctuation is never flagged


@pytest.mark.parametrize("direction", ["zh-en", "en-zh"])
def test_attribution_beside_attention(both, direction):  # noqa: F811
    """The attribution map has the head map's rows and its columns (less the end token), each output word's
    strongest source word outlined; the agreement is the library's; the downloads carry the sentence."""
    pred = translated(both, direction)
    view = both.views["attribution"]
    caption, summary, head_fig, attribution_fig, json_path, csv_path = view.render(pred, 0, "input × gradient")
    source, target = PAIRS[direction]
    assert source in caption and "Agreement" in summary
    tr = both.translators[direction]
    data = beside_attention(tr, pred, 0, "input_x_gradient")  # what the view drew (kept with the sentence)
    assert data.attribution.rows == data.head.rows and data.attribution.cols == data.head.cols[:-1]  # less </s>
    assert len(attribution_fig.data[0].y) == len(head_fig.data[0].y) == len(data.head.rows)
    assert len(attribution_fig.layout.shapes) == len(data.head.rows)  # each output word's strongest source word
    z = np.array(attribution_fig.data[0].z)
    assert np.allclose(np.abs(z).max(axis=1), 1) and attribution_fig.data[0].zmin == 0  # L2: magnitudes, scaled
    assert data.agreement == data.result.agreement is not None and 0 <= data.agreement <= 1
    assert json_path.endswith(f"{file_stem(source, direction)}-attribution.json")
    saved = json.load(open(json_path, encoding="utf-8"))
    assert saved["source"] == source and saved["translation"] == target and saved["agreement"] == data.agreement
    assert saved["attribution"]["words"]["source_words"] == data.result.source_words
    assert saved["head_map"]["rows"] == data.head.rows and saved["source_check"]["words"] == data.check.words
    table = list(csv.reader(open(csv_path, encoding="utf-8")))
    assert table[0][0].startswith(f"{source} → {target}") and table[0][1:] == data.result.source_words
    assert [r[0] for r in table[1:]] == data.result.target_words


def test_integrated_gradients_reports_its_progress(both):  # noqa: F811
    pred = translated(both, "zh-en")
    steps = []
    out = both.views["attribution"].draw(
        pred, 0, "integrated gradients", progress=lambda done, desc=None: steps.append(done)
    )
    assert "Agreement" in out[1] and out[3].data[0].zmin == -1  # signed sums: for and against
    done = [d for d, _ in steps]
    assert steps and done == sorted(done) and steps[-1][0] == steps[-1][1]  # to the end, in order


@pytest.mark.parametrize("direction", ["zh-en", "en-zh"])
def test_why_this_word_and_not_that_one(both, direction):  # noqa: F811
    pred = translated(both, direction)
    view = both.views["whynot"]
    caption, words, alternative, summary, fig, json_path, csv_path = view.render(pred, 0, None, "", "input × gradient")
    choices = words["choices"]
    assert choices == word_choices(pred, 0) and words["value"] in [k for _, k in choices]
    assert alternative and "log p(" in summary and fig.data[0].orientation == "h"
    # the user's own alternative, by the button
    first = choices[0][1]
    other = "We" if direction == "zh-en" else "你"
    summary, fig, json_path, csv_path = view.handlers["explain"](pred, 0, first, other, "input × gradient")
    saved = json.load(open(json_path, encoding="utf-8"))
    c = why_not(both.translators[direction], pred, 0, first, other, "input_x_gradient")
    assert saved["source"] == PAIRS[direction][0] and saved["why_not"]["alternative"] == c.alternative
    assert saved["why_not"]["difference"] == pytest.approx(c.difference) and other.startswith(c.alternative.strip("▁"))
    rows = list(csv.reader(open(csv_path, encoding="utf-8")))[1:]
    assert {r[1] for r in rows if r[0] == "source"} == set(c.source_words)
    for word, other, message in ((None, "We", "Pick an output word"), (first, " ", "Type a word")):
        with pytest.raises(InputError, match=message):
            why_not(both.translators[direction], pred, 0, word, other, "input_x_gradient")


@pytest.mark.parametrize("direction", ["zh-en", "en-zh"])
def test_layer_by_layer(both, direction):  # noqa: F811
    """Greedy search writes the last layer's first choice at every step: every piece is decided by the last layer
    at the latest."""
    pred = translated(both, direction, mode="greedy")
    caption, fig, table, json_path, csv_path = both.views["lens"].render(pred, 0)
    pieces = pred.sentences[0].target_tokens
    n_layers = both.translators[direction].config.model.n_dec_layers
    assert np.array(fig.data[0].z).shape == (len(pieces), n_layers)
    assert list(fig.data[0].x) == [f"layer {k + 1}" for k in range(n_layers)]
    assert np.all(np.array(fig.data[0].z)[:, -1] == 1.0)  # the chosen piece is the last layer's first
    assert table["headers"] == ["step", "piece", "decided at"] + [f"layer {k + 1}" for k in range(n_layers)]
    assert len(table["value"]) == len(pieces) and all("(chosen: #1)" in r[-1] for r in table["value"])
    assert all(r[2].startswith("layer ") for r in table["value"])
    saved = json.load(open(json_path, encoding="utf-8"))
    assert np.array(saved["ranks"]).shape == (n_layers, len(pieces)) and saved["source"] == PAIRS[direction][0]
    assert len(list(csv.reader(open(csv_path, encoding="utf-8")))) == len(pieces) + 1


def test_the_new_views_are_blanked_and_redrawn_with_the_sentence(both):  # noqa: F811
    """One sentence, one state: a new translation blanks the new views, and opening one draws the new sentence."""
    first = translated(both, "zh-en")
    out = both.run("今天天气很好。", "beam", 4, 1.0, 1, "zh-en")
    second = out[3]
    assert second.id != first.id
    for key in ("attribution", "whynot", "lens"):
        v = both.views[key]
        drawn = v.on_open(second, 0, None, *[c.value for c in v.inputs])
        assert drawn[0] == key and "今天天气很好。" in drawn[1] and "我喜欢" not in drawn[1]
