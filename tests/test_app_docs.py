"""The numbers the docs show are the shipped model's: the /score and top-k examples are checked here, so that they
cannot drift from the model (a new model means updating them, which this test then says)."""

import ast
import re

import pytest
from helpers import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def example(pattern: str) -> re.Match:
    """The first match of ``pattern`` in the README or docs/*.md (examples may move between them)."""
    for path in DOCS:
        m = re.search(pattern, path.read_text(encoding="utf-8"), re.S)
        if m:
            return m
    pytest.fail(f"no example matching {pattern!r} in {[p.name for p in DOCS]}")


def decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


@pytest.fixture(scope="module")
def shipped():
    from seq2seq.translator import Translator

    return Translator.load()


def test_the_score_example_is_the_shipped_models(shipped):
    from seq2seq.app.explore import score_translation

    m = example(r'predict\(("[^"\n]*"), ("[^"\n]*"), api_name="/score"\)\n# (\{.*?\})\n```')
    source, english = ast.literal_eval(m.group(1)), ast.literal_eval(m.group(2))
    shown = m.group(3)
    out = score_translation(shipped, source, english).as_json()
    numbers = dict(re.findall(r'"(\w+)": (-?\d+\.\d+)', shown))
    assert set(numbers) >= {"total", "normalized", "model_total"}, shown
    for key, text in numbers.items():
        assert round(out[key], decimals(text)) == float(text), (key, out[key], text)
    assert re.search(r'"model_translation": "(.*?)"', shown).group(1) == out["model_translation"]
    pieces = re.search(r'"pieces": \[(.*?)(, \.\.\.)?\]', shown).group(1)
    assert ast.literal_eval(f"[{pieces}]") == out["pieces"][: len(ast.literal_eval(f"[{pieces}]"))]
    # the normalised score is the total over the length (length penalty 1.0, the shipped model's)
    assert out["normalized"] == pytest.approx(out["total"] / len(out["pieces"]), abs=1e-3)


def test_the_topk_example_is_the_shipped_models(shipped):
    m = example(
        r'tr\.translate\(("[^"\n]*"), beam_size=1, return_topk=(\d+)[^\n]*\n[^\n]*?t\.topk\[(\d+)\]\s+'
        r"# \[(.*?), \.\.\.\]"
    )
    source, k, step, shown = ast.literal_eval(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)
    t = shipped.translate(source, beam_size=1, return_topk=k)[0]
    for (piece, p), (want_piece, want_p) in zip(t.topk[step], ast.literal_eval(f"[{shown}]")):
        assert piece == want_piece and round(p, len(repr(want_p).split(".")[1])) == want_p, (t.topk[step], shown)


def test_the_prefix_example_is_the_shipped_models(shipped):
    m = example(r'tr\.translate\(("[^"\n]*"), prefix=("[^"\n]*")\)\[0\]\.text[^\n]*?: ("[^"\n]*")')
    source, prefix, shown = (ast.literal_eval(m.group(k)) for k in (1, 2, 3))
    assert shipped.translate(source, prefix=prefix)[0].text == shown
