"""The demo both ways: one page with a zh-en and an en-zh model (the toy ones), a switch between them, every view
in each direction with rows in the output language and columns in the input language, and the API's
``direction``.  (The browser test of the switch: test_app_browser.py.)"""

import numpy as np
import pytest

from seq2seq.app.figures import alignment_figure, all_layers_figure
from seq2seq.app.inputs import InputError, check_direction
from seq2seq.app.layout import build_demo
from seq2seq.model_dir import FolderConfig
from seq2seq.translator import Translator

PAIRS = {"zh-en": ("我喜欢吃苹果。", "I like to eat apples."), "en-zh": ("I like to eat apples.", "我喜欢吃苹果。")}


def with_head(tr) -> Translator:
    """A toy model the demo reads as one with an (untrained) alignment head, in the toy model's direction."""
    cfg = FolderConfig(
        model=tr.torch.model.cfg,
        alignment={"method": "head", "layer": 1, "head": 3, "shift": True},
        direction=tr.config.direction,
    )
    return Translator.from_model(tr.torch.model, tr.codec.src_tok, tr.codec.tgt_tok, cfg, tr.protos)


def han(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def words(labels) -> list[str]:
    """A map's axis labels (Chinese columns written top to bottom) less punctuation and the end token."""
    labels = [t.replace("<br>", "") for t in labels]
    return [t for t in labels if t.strip(".。 ?？") and "/s&gt;" not in t and "</s>" not in t]


@pytest.fixture(scope="module")
def both(toy_translator, toy_en_zh_translator):
    return build_demo([with_head(toy_translator), with_head(toy_en_zh_translator)], model_name=["zh", "en"])


def test_direction_is_checked():
    assert check_direction("en-zh", ["zh-en", "en-zh"]) == "en-zh"
    with pytest.raises(InputError, match='"zh-en" .* or "en-zh"'):
        check_direction("zh-fr", ["zh-en"])
    with pytest.raises(InputError, match='no model for "en-zh"; it translates "zh-en" only'):
        check_direction("en-zh", ["zh-en"])
    with pytest.raises(InputError, match="got None"):
        check_direction(None, ["zh-en"])


def test_two_models_for_one_direction_are_refused(toy_translator):
    with pytest.raises(ValueError, match="two models translate zh-en"):
        build_demo([toy_translator, toy_translator], model_name=["a", "b"])


def test_api_translate_and_score_take_a_direction(both, toy_translator):
    import gradio as gr

    assert set(both.blocks.get_api_info()["named_endpoints"]) == {"/translate", "/score", "/attribute"}
    translate, score = both.api["translate"], both.api["score"]
    assert translate("我喜欢吃苹果。") == "I like to eat apples."  # default: the first model's direction, zh-en
    assert translate("I like to eat apples.", 1, None, False, "en-zh") == "我喜欢吃苹果。"
    details = translate("I like to eat apples. Thank you.", 2, 1.0, True, direction="en-zh")
    assert [s["source"] for s in details["sentences"]] == ["I like to eat apples.", "Thank you."]
    assert details["sentences"][0]["source_words"][:2] == ["I", "like"] and han(details["translation"])
    out = score("I like to eat apples.", "我喜欢吃苹果。", direction="en-zh")
    assert out["model_translation"] == "我喜欢吃苹果。" and abs(sum(out["logprobs"]) - out["total"]) < 1e-2
    assert score("我喜欢吃苹果。", "I like to eat apples.")["model_translation"] == "I like to eat apples."
    for bad in ("zh-fr", "", "EN-ZH"):
        with pytest.raises(gr.Error, match="direction must be"):
            translate("谢谢。", 5, 1.0, False, bad)
    one = build_demo(toy_translator)  # one model: the other direction is not served
    with pytest.raises(gr.Error, match='no model for "en-zh"'):
        one.api["translate"]("Thank you.", 5, None, False, "en-zh")
    with pytest.raises(gr.Error, match='no model for "en-zh"'):
        one.api["score"]("Thank you.", "谢谢你。", "en-zh")


@pytest.mark.parametrize("direction", ["zh-en", "en-zh"])
def test_every_view_in_each_direction(both, direction):
    """A prediction in each direction: it carries its direction, and every view draws it with the output
    language's words as rows and the input language's as columns."""
    source, target = PAIRS[direction]
    pred = both.run(source, "beam", 4, 1.0, 3, direction)[3]
    assert pred.translation == target and pred.direction == direction
    src_lang, tgt_lang = pred.languages
    assert (src_lang, tgt_lang) == tuple(direction.split("-"))
    rows_zh = tgt_lang == "zh"
    fig = alignment_figure(pred)
    rows, cols = list(fig.data[0].y), list(fig.data[0].x)
    assert rows and all(han(r) == rows_zh for r in words(rows))
    assert cols and all(han(c) != rows_zh for c in words(cols))
    assert any("apples" in c for c in cols) == rows_zh and any("apples" in r for r in rows) != rows_zh
    assert len(all_layers_figure(pred).data) == 2
    views = both.views
    for v in views.values():
        out = v.render(pred, 0, *[c.value for c in v.inputs])
        assert source in out[0] and target in out[0]  # the caption
    align = views["align"].render(pred, 0, "alignment head", "words")
    first = "我" if rows_zh else "I"  # the first output word
    assert f">{first} &rarr;" in align[2] and f">{first} &rarr;" in align[3]  # chips, and the symmetrized links
    layers = views["layers"].render(pred, 0, "average", "words")[1]
    assert all(han(t) == rows_zh for t in words(layers.data[0].y))
    steps = views["steps"].render(pred, 0)
    assert steps[1] == target and all(han(r[1]) == rows_zh for r in steps[2] if r[1].strip("·.。?</s>"))
    inside = views["inside"].render(pred, 0, "cross", 1, -1, "words (jieba)", False, 0)
    assert all(han(t) == rows_zh for t in words(inside[1].data[0].y))
    assert all(han(t) != rows_zh for t in words(inside[1].data[0].x))
    assert views["beam"].render(pred, 0, 1.0)[3][0][1] == target
    assert views["nbest"].render(pred, 0)[1][0][2] == target
    scored = views["own"].handlers["score"](pred, 0, target)
    assert "log-prob" in scored[0] and all(han(t) == rows_zh for t in words(scored[1].data[0].y))
    walk = views["inside"].handlers["walk"](pred, 0, 1, 0, 1)
    assert len(walk.data) == 5  # the query, the keys, the scores, the weights, the output


@pytest.mark.parametrize("direction", ["zh-en", "en-zh"])
def test_the_word_links_can_come_from_both_directions(both, direction):
    """The alignment view's "Links from" asks the other direction's model too: the listing is the links of
    ``align_both_ways`` with the rule chosen, and it says so; alone, it is the prediction's own links."""
    from seq2seq.app.chips import in_units, links_listing_html
    from seq2seq.app.maps import word_links
    from seq2seq.bidirectional import align_both_ways

    source, target = PAIRS[direction]
    pred = both.run(source, "beam", 4, 1.0, 3, direction)[3]
    forward, backward = both.translators[direction], both.translators["-".join(reversed(pred.languages))]
    view = both.views["align"]
    alone = view.render(pred, 0, "alignment head", "words", "this model alone")[3]
    assert "+ " not in alone and "model (" not in alone
    for rule in ("intersection", "union"):
        listing = view.render(pred, 0, "alignment head", "words", f"both directions: {rule}")[3]
        expected = align_both_ways(forward, backward, [source], [target], rule=rule)[0]
        assert f"+ {backward.config.direction} model ({rule})" in listing and " ms for both passes" in listing
        w = word_links(expected, forward.align_method, pred.languages)  # in the map's words, not characters
        assert (
            w.source_words == word_links(pred.sentences[0].translation, pred.align_method, pred.languages).source_words
        )
        links = in_units(expected, w)
        assert links_listing_html(source, w.source_words, w.target_words, links, pred.languages[0]) in listing
    assert links and len(expected.links) >= len(
        align_both_ways(forward, backward, [source], [target], rule="intersection")[0].links
    )


def test_a_switch_clears_the_boxes_blanks_the_views_and_relabels(both):
    import gradio as gr

    def switch(direction) -> dict:  # elem_id (or the component) -> the update it gets
        return {c.elem_id or c: v for c, v in zip(both.switch_outputs, both.switch(direction))}

    out = switch("en-zh")
    assert out["source"] == {
        "__type__": "update",
        "value": "",
        "label": "English",
        "placeholder": "Type or paste English here, or click an example below",
    }
    assert out["translation"]["value"] == "" and out["translation"]["label"] == "Chinese"
    assert out["status"] == out["coverage"] == out["source-check"] == "" and out["sentence-pick"]["visible"] is False
    assert out["examples-zh-en"]["visible"] is False and out["examples-en-zh"]["visible"] is True
    assert out["own-translation"] == {"__type__": "update", "value": None, "label": "Your Chinese"}
    assert out["walk-step"]["choices"] == [] and out["walk-step"]["label"] == "Chinese piece (step)"
    for v in both.views.values():  # every view blanked, and marked as showing nothing
        assert out[v.shown] is None and all(
            out[c.elem_id or c] in (None, "") or isinstance(out[c.elem_id or c], dict) for c in v.outputs
        )
    assert out["align-map"] is None and out["steps-table"] is None and out["nbest-table"] is None
    states = [v for c, v in out.items() if isinstance(c, gr.State)]
    assert states and all(v is None for v in states)  # the prediction and every view's "shown"
    texts = [v for v in out.values() if isinstance(v, str)]
    assert any("English → Chinese" in t for t in texts) and any(
        "Chinese rows attend to English columns" in t for t in texts
    )
    back = switch("zh-en")
    assert back["source"]["label"] == "Chinese" and back["translation"]["label"] == "English"
    radio = both.component("direction")
    assert radio.visible and radio.value == "zh-en"


def test_the_other_language_gets_a_note_not_an_error(both, toy_translator):

    run = both.run
    out = run("我喜欢吃苹果。", "greedy", 4, 1.0, 1, "en-zh")
    assert out[0] and "does not look like English" in out[1] and "switch to 中→EN" in out[1]
    out = run("I like to eat apples.", "greedy", 4, 1.0, 1, "zh-en")
    assert out[0] and "does not look like Chinese" in out[1] and "switch to EN→中" in out[1]
    assert "switch" not in run("12345", "greedy", 4, 1.0, 1, "en-zh")[1]  # neither language: no switch to suggest
    one = build_demo(toy_translator)  # one direction: nothing to switch to
    assert "switch" not in one.run("I like apples.", "greedy", 4, 1.0, 1)[1]
    assert one.component("direction").visible is False


def test_each_direction_splits_its_source_language_as_it_separates_sentences(toy_translator, toy_en_zh_translator):
    """The demo splits as the library does (``text.split_sentences``, tested in test_text.py), in the model's source
    language: English at ". " before a capital (not after Mr. or U.S.), Chinese at its full stops only."""
    from seq2seq.app.predict import prepare

    english = 'Mr. Smith met Dr. Li. He said "Yes." Then 3 left!'  # short: a toy model reads short sentences
    assert prepare(toy_en_zh_translator, english).sentences == [
        "Mr. Smith met Dr. Li.",
        'He said "Yes."',
        "Then 3 left!",
    ]
    assert prepare(toy_translator, "我喜欢吃苹果。今天天气很好。").sentences == ["我喜欢吃苹果。", "今天天气很好。"]
    assert prepare(toy_translator, "I like it. You too.").sentences == ["I like it. You too."]  # not a Chinese end


def test_bad_input_in_english(both, monkeypatch):
    import gradio as gr

    monkeypatch.setattr(gr, "Warning", lambda msg: None)
    run = both.run
    out = run("   ", "beam", 4, 1.0, 1, "en-zh")
    assert out[0] == "" and "type some English" in out[1] and out[3] is None
    out = run("Hello. " * 400, "beam", 4, 1.0, 1, "en-zh")
    assert "at most 2000" in out[1] and out[3] is None
    pred = run("<script>alert(1)</script> Thank you.", "beam", 2, 1.0, 1, "en-zh")[3]
    page = both.views["align"].render(pred, 0, "alignment head", "words")
    assert "<script>" not in page[0] + page[2] + page[3]
    assert np.isfinite(np.array(alignment_figure(pred).data[0].z)).all()


def test_the_cli_serves_one_model_per_direction(capsys):
    from test_app import free_port

    from seq2seq.app.server import main, model_name

    assert main(["--model", "zh-en", "--model", "zh-en", "--port", str(free_port())]) == 2
    assert "two models translate zh-en" in capsys.readouterr().err
    assert model_name(None) == model_name("zh-en") == "shipped (seq2seq/pretrained/zh-en)"
    assert model_name("runs/x/best") == "runs/x/best"


def test_chinese_output_of_several_sentences_joins_without_spaces(toy_en_zh_translator):
    from seq2seq.app.predict import predict

    p = predict(toy_en_zh_translator, "I like apples. The weather is nice today.", beam_size=1)
    texts = [r.translation.text for r in p.sentences]
    assert len(texts) == 2 and all(texts) and p.translation == "".join(texts)


def test_api_attribute_takes_a_direction(both):
    import gradio as gr

    attribute = both.api["attribute"]
    out = attribute("我喜欢吃苹果。")  # zh-en, the model's own translation
    assert out["text"] == "I like to eat apples." and out["method"] == "input_x_gradient"
    assert len(out["source_share"]) == len(out["target_tokens"]) and all(0 <= x <= 1 for x in out["source_share"])
    given = attribute("I like to eat apples.", "我喜欢吃苹果。", "source_ablation", "en-zh")
    assert given["text"] == "我喜欢吃苹果。" and given["direction"] == "en-zh"
    for args, message in ((("   ",), "source is empty"), (("谢谢。", "", "saliency"), "method must be one of")):
        with pytest.raises(gr.Error, match=message):
            attribute(*args)
    with pytest.raises(gr.Error, match="direction must be"):
        attribute("谢谢。", "", "input_x_gradient", "zh-fr")
