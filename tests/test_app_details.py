"""The demo's small things: step by step lists only pieces a reader can choose, downloads carry their sentence and
are named after it, and a screen reader hears words, not a key.  (In a browser, the announcement and the help
text's contrast: test_app_browser.py.)"""

import csv
import json

from test_app_direction import PAIRS, both  # noqa: F401 - the fixture

from seq2seq.app.explore import StepView


def steps(source, text, pieces, probabilities, candidates) -> StepView:
    return StepView(
        source=source, text=text, pieces=pieces, probabilities=probabilities, candidates=candidates, prefix=[]
    )


def test_step_by_step_leaves_out_placeholders_that_stand_for_nothing_in_the_sentence():
    """ "⟦4⟧ (0.000)" was listed as a candidate: a placeholder with no span here is no word to choose.  One that
    carries a span of the sentence is shown as the span (the translation labels it so)."""
    cands = [("\u2581Apple", 0.6), ("\u27e64\u27e7", 0.0), ("", 0.0), ("CEO", 0.1), ("\u2581The", 0.05)]
    v = steps("苹果公司CEO", "Apple CEO", ["\u2581Apple", "CEO"], [0.6, 0.9], [cands, cands])
    assert [c for c, _ in v.alternatives(0)] == ["CEO", "\u2581The"]
    row = v.rows()[0]
    assert row[3:] == ["CEO (0.100)", "·The (0.050)", "", ""] and not any("\u27e6" in str(x) for x in v.rows())


def test_the_alternatives_offered_are_the_listed_ones(both):  # noqa: F811
    pick = both.views["steps"].handlers["pick"]
    cands = [("\u27e60\u27e7", 0.3), ("\u2581I", 0.5), ("\u2581We", 0.2)]
    v = steps("我", "I", ["\u2581I"], [0.5], [cands])
    assert pick(v, 0)["choices"] == [("·We", "\u2581We")]


def test_downloads_carry_their_sentence_and_are_named_after_it(both):  # noqa: F811
    """Every sentence once downloaded as attention.json: now each file is named for its direction and sentence
    (a slug of its Latin words and a short hash), and holds the sentence."""
    from seq2seq.app.downloads import file_stem

    inside = both.views["inside"]
    names = set()
    for direction, (source, target) in PAIRS.items():
        pred = both.run(source, "beam", 2, 1.0, 1, direction)[3]
        out = inside.render(pred, 0, "cross", 1, -1, "words (jieba)", False, 0)
        json_path, csv_path = out[-2], out[-1]
        stem = file_stem(source, direction)
        assert json_path.endswith(f"/{stem}-attention.json") and csv_path.endswith(
            f"/{stem}-cross-attention-layer-2-heads-averaged.csv"
        )
        data = json.load(open(json_path, encoding="utf-8"))
        assert data["source"] == source and data["translation"] == target and data["direction"] == direction
        first = next(csv.reader(open(csv_path, encoding="utf-8")))[0]
        assert first.startswith(f"{source} → {target} (cross attention, layer 2, heads averaged")
        names.add(stem)
    assert file_stem("I like to eat apples.", "en-zh").startswith("en-zh-i-like-to-eat-apples-")
    assert file_stem("我喜欢吃苹果。", "zh-en") != file_stem("今天天气很好。", "zh-en")  # a hash where there is no slug
    assert len(names) == 2


def test_what_a_screen_reader_hears_when_an_action_is_done():
    from seq2seq.app.layout import launch_options

    options = launch_options()
    assert options["i18n"].translations_dict == {"en": {"common.complete": "Done."}}
    assert ".info-text" in options["css"] and "var(--body-text-color)" in options["css"]
