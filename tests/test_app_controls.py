"""The decoding controls: the library's ranges, and a refusal that says so, never a value changed to fit.
(In a browser: test_app_browser.py, test_a_control_out_of_range_is_refused_as_typed.)"""

import html
import math

import pytest
from test_app_direction import both  # noqa: F401 - the fixture

from seq2seq.app.inputs import MAX_BEAM, InputError, check_api_args, check_decoding
from seq2seq.app.layout import build_demo
from seq2seq.app.predict import predict
from seq2seq.decoding import LENGTH_PENALTY_RANGE

LO, HI = LENGTH_PENALTY_RANGE


def test_settings_in_range_pass_as_given_and_the_others_are_refused_with_their_range():
    assert check_decoding(1, None, 1) == (1, None, 1)  # a beam of 1 is greedy search, not a beam of 2
    assert check_decoding(MAX_BEAM, HI, MAX_BEAM) == (MAX_BEAM, HI, MAX_BEAM)
    assert check_decoding(5.0, 2, 3) == (5, 2.0, 3) and check_decoding(5, LO, 1)[1] == LO
    refused = {
        (25, 1.0, 1): f"Beam size must be a whole number from 1 (greedy) to {MAX_BEAM}, got 25",
        (0, 1.0, 1): "Beam size must be a whole number from 1",
        (2.5, 1.0, 1): "got 2.5",
        (5, 1.0, 6): "n-best must be a whole number from 1 to the beam size, 5, got 6",
        (1, 1.0, 3): "(greedy search keeps one hypothesis), got 3",
        (5, HI + 0.5, 1): f"Length penalty must be a number from {LO:g} to {HI:g}, got {HI + 0.5}",
        (5, -1.0, 1): "Length penalty must be",
        (5, math.nan, 1): "Length penalty must be",
        (5, True, 1): "Length penalty must be",
    }
    for args, message in refused.items():
        with pytest.raises(InputError) as e:
            check_decoding(*args)
        assert message in str(e.value), (args, str(e.value))
    with pytest.raises(InputError, match="^beam_size must be"):  # the API says it in its own names
        check_api_args(25, None)
    with pytest.raises(InputError, match="^length_penalty must be a number from 0 to 5, got 5.5"):
        check_api_args(5, 5.5)
    assert check_api_args(3, HI) == (3, HI)


def test_a_translation_is_never_made_with_other_settings_than_asked(toy_translator):
    with pytest.raises(InputError, match="greedy search keeps one hypothesis"):
        predict(toy_translator, "我喜欢吃苹果。", beam_size=1, nbest=3)
    with pytest.raises(InputError, match="n-best must be"):
        predict(toy_translator, "我喜欢吃苹果。", beam_size=2, nbest=3)
    assert predict(toy_translator, "我喜欢吃苹果。", beam_size=1).beam_size == 1


def test_the_page_refuses_and_says_why(both, monkeypatch):  # noqa: F811
    import gradio as gr

    warned = []
    monkeypatch.setattr(gr, "Warning", warned.append)
    run = both.run
    for args, message in (
        ((25.0, 1.0, 1), "Beam size must be a whole number from 1 (greedy) to 10, got 25"),  # as a box sends it
        ((5, 1.0, 6), "n-best must be a whole number from 1 to the beam size, 5, got 6"),
        ((5, 7.0, 1), "Length penalty must be a number from 0 to 5, got 7"),
        ((5, None, 1), "Please give a length penalty (the model's own is 1)"),
    ):
        out = run("我喜欢吃苹果。", "beam", *args, "zh-en")
        assert out[3] is None and message in out[1], out[1]  # no translation; the status line says why
        assert html.escape(message) in warned[-1]  # and the toast
    pred = run("我喜欢吃苹果。", "beam", 1, 1.0, 1, "zh-en")[3]
    assert pred.beam_size == 1  # a beam of 1 stays 1
    # greedy: the beam and n-best are set aside, visibly
    greedy = both.greedy
    assert [u["interactive"] for u in greedy("greedy")] == [False, False] and "not used" in greedy("greedy")[0]["info"]
    assert [u["interactive"] for u in greedy("beam")] == [True, True]
    assert run("我喜欢吃苹果。", "greedy", 25, 1.0, 9, "zh-en")[3].beam_size == 1  # the unused boxes are not read


def test_the_controls_take_the_librarys_ranges_and_the_en_zh_models_own_penalty(both, monkeypatch):  # noqa: F811
    """The shipped en-zh model's own length penalty, 2.0, was the slider's maximum: it is the box's start now."""
    import gradio as gr

    monkeypatch.setitem(both.translators["en-zh"].config.decoding, "length_penalty", 2.0)

    boxes = {b: both.component(b) for b in ("beam-size", "nbest", "length-penalty")}
    assert all(isinstance(b, gr.Number) for b in boxes.values())  # boxes keep what is typed: no slider's clamp
    assert f"1 to {MAX_BEAM}" in boxes["beam-size"].label
    assert f"{LO:g} to {HI:g}" in boxes["length-penalty"].label
    out = dict(zip(both.switch_outputs, both.switch("en-zh")))
    assert out[boxes["length-penalty"]] == 2.0
    run = both.run
    assert run("I like to eat apples.", "beam", 4, HI, 1, "en-zh")[3].length_penalty == HI  # above the model's own


def test_a_single_model_page_builds_with_its_own_defaults(toy_translator):

    page = build_demo(toy_translator)
    assert page.component("beam-size").value == toy_translator.config.decoding.get("beam_size", 5)
    assert page.component("length-penalty").value == float(toy_translator.config.decoding["length_penalty"])
