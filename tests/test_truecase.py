"""Restoring lower-cased or tokenized English before the model reads it (seq2seq.truecase), and the map back."""

from __future__ import annotations

import json

import pytest

from seq2seq.model_dir import FolderConfig, ModelFolderError, load_truecaser
from seq2seq.translator import Translator
from seq2seq.truecase import TRUECASE_FILE, EnglishRestorer, Truecaser, is_lowercased, is_tokenized, unescape_token
from seq2seq.words import pieces_to_words

TC = Truecaser({"i": "I", "xinhua": "Xinhua", "jakarta": "Jakarta", "march": "March", "eu": "EU", "beijing": "Beijing"})


def test_which_english_needs_restoring():
    assert is_lowercased("i like apples .".split()) and not is_lowercased("I like apples .".split())
    assert not is_lowercased(["22", "%"])  # nothing to case
    for tokenized in [
        "it 's fine",
        "i do n't know",
        "( reporter mai )",
        "-LRB- a -RRB-",
        "jakarta , march",
        'he said " yes "',
        "state @-@ run",
        "a &amp; b",
        "costs $ 5",
        "well .",
    ]:
        assert is_tokenized(tokenized.split()), tokenized
    for plain in ["It's fine.", "I don't know (really).", "state-run firm's 1,000 people", "3.5% of $5", "a - b"]:
        assert not is_tokenized(plain.split()), plain
    assert unescape_token("-LRB-") == "(" and unescape_token("-rrb-") == ")" and unescape_token("``") == '"'
    assert unescape_token("@-@") == "-" and unescape_token("AT&amp;T") == "AT&T" and unescape_token("&#91;") == "["


@pytest.mark.parametrize(
    "given, text",
    [
        ("i like apples", "I like apples"),
        (
            "xinhua news agency , jakarta , march 22 ( reporter mai ) he said :",
            "Xinhua news agency, Jakarta, March 22 (reporter mai) he said:",
        ),
        (
            "eu 's pledge of $ 5 million , 3.5 % more . the state @-@ run firm do n't agree .",
            "EU's pledge of $5 million, 3.5% more. The state-run firm don't agree.",
        ),
        ("-LRB- beijing -RRB- `` well-known '' 1,000 people", '(Beijing) "well-known" 1,000 people'),
        ("22nd of march", "22nd of March"),
        ("It 's 5 , OK", "It's 5, OK"),  # cased but tokenized: detokenized, not recased
    ],
)
def test_restored_text(given, text):
    r = EnglishRestorer(TC).restore(given.split())
    assert r.text == text
    assert r.words == given.split()
    assert r.recased == is_lowercased(given.split()) and r.detokenized == is_tokenized(given.split())


@pytest.mark.parametrize(
    "given, text",
    [
        ("jakarta , may 22 ( xinhua )", "Jakarta, May 22 (Xinhua)"),  # the truecaser alone would keep the verb
        ("on 22 may , it may rain", "On 22 May, it may rain"),
        ("in may 2002 we may 3rd", "In May 2002 we may 3rd"),  # after a subject pronoun it stays the verb
        ("may 22nd , june 1 and march", "May 22nd, June 1 and March"),
    ],
)
def test_a_month_next_to_a_day_or_a_year_stays_a_month(given, text):
    assert EnglishRestorer(TC).restore(given.split()).text == text


def test_cased_detokenized_english_is_read_as_given():
    words = "It's a state-of-the-art test (really), 3.5% of $5.".split()
    r = EnglishRestorer(TC).restore(words)
    assert not r.changed and r.text == " ".join(words) and r.surfaces == words


def test_without_a_truecasing_model_only_the_sentence_starts_are_capitalised():
    assert EnglishRestorer().restore("i saw beijing . then i left".split()).text == "I saw beijing. Then i left"


def _char_pieces(text: str) -> list[str]:
    """One piece per character, "▁" marking a space before it (as sentencepiece writes it), and "</s>"."""
    out, space = [], True
    for c in text:
        if c == " ":
            space = True
            continue
        out.append(("\u2581" if space else "") + c)
        space = False
    return out + ["</s>"]


@pytest.mark.parametrize(
    "given",
    [
        "eu 's pledge for aid , it 's 3.5 % of $ 5",
        "( reporter mai ) -LRB- beijing -RRB- said `` yes ''",
        "the state @-@ run firm 's well-known 1,000 workers do n't agree .",
        "xinhua , march 22nd : a &amp; b",
    ],
)
def test_pieces_map_back_to_the_given_words_by_characters(given):
    """Every character the model reads belongs to the given word it came from: ``'s`` to ``'s``, ``(`` to
    ``-LRB-``, ``-`` to ``@-@``, ``%`` to ``%``, ``5`` to ``5``; </s> to none."""
    words = given.split()
    r = EnglishRestorer(TC).restore(words)
    pieces = _char_pieces(r.text)
    owners = pieces_to_words(pieces, r.surfaces)
    assert owners[-1] == [] and all(len(o) == 1 for o in owners[:-1])
    spelt = [""] * len(words)
    for p, o in zip(pieces, owners):
        if o:
            spelt[o[0]] += p.lstrip("\u2581")
    assert [s.lower() for s in spelt] == [unescape_token(w).lower() for w in words]


# ---------------------------------------------------------------------------------------------- the model folder


@pytest.fixture(scope="module")
def tiny() -> Translator:
    """Tokenizers learnt from the toy corpus and an untrained model: what is checked here is which text the model
    reads and how its pieces map back to words, not what it has learnt."""
    import torch
    from helpers import sample_pairs, small_config

    from seq2seq.model import EncoderDecoder
    from seq2seq.tokenizer import SubwordTokenizer, train_tokenizers

    zh, en = sample_pairs()
    src_proto, tgt_proto = train_tokenizers(zh, en, 400, 120)
    src_tok, tgt_tok = SubwordTokenizer(src_proto, t2s=True), SubwordTokenizer(tgt_proto)
    torch.manual_seed(0)
    cfg = small_config(src_tok, tgt_tok, n_layers=2, d_model=32, d_ff=64)
    return Translator.from_model(
        EncoderDecoder(cfg).eval(), src_tok, tgt_tok, FolderConfig(model=cfg), (src_proto, tgt_proto)
    )


LEARN = [
    "I went to Beijing with Mary.",
    "Beijing is big, and Mary likes it.",
    "We saw the EU flag in Beijing.",
    "The EU and China met.",
    "Then the eu met again.",
    "Apples are red.",
]


def test_learn_save_and_load_in_a_model_folder(tmp_path, tiny):
    tc = Truecaser.learn(LEARN, min_count=2)
    # Sentence starts are not counted ("Apples", "Then", "The"); lower-case best spellings are left out.
    assert tc.best == {"beijing": "Beijing", "mary": "Mary", "eu": "EU"}
    assert tc.counts["eu"] == (2, 3)
    assert load_truecaser(tmp_path) is None  # a folder without one
    tr = Translator.from_model(
        tiny.torch.model, tiny.codec.src_tok, tiny.codec.tgt_tok, tiny.config, tiny.protos, truecaser=tc
    )
    folder = tr.save(tmp_path / "m")
    assert (folder / TRUECASE_FILE).read_text(encoding="utf-8").splitlines()[0] == "Beijing (2/2)"
    back = Translator.load(folder)
    assert back.codec.truecaser.best == tc.best and back.codec.truecaser.counts == tc.counts
    assert Translator.load(back.save(tmp_path / "again")).codec.truecaser.best == tc.best  # saving keeps it
    (folder / TRUECASE_FILE).write_text("Beijing (3/3)\nbroken\n", encoding="utf-8")
    with pytest.raises(ModelFolderError, match=f"{TRUECASE_FILE}.*line 2"):
        Translator.load(folder)


def test_train_truecaser_script(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "train_truecaser.py"
    spec = importlib.util.spec_from_file_location("train_truecaser", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    main = script.main
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.en").write_text("\n".join(LEARN) + "\n", encoding="utf-8")
    (tmp_path / "data" / "a.zh").write_text("不读\n" * len(LEARN), encoding="utf-8")
    (tmp_path / "m").mkdir()
    assert main(["--model", str(tmp_path / "m"), "--data", str(tmp_path / "data")]) == 0
    assert load_truecaser(tmp_path / "m").best == Truecaser.learn(LEARN).best
    assert main(["--model", str(tmp_path / "nowhere"), "--data", str(tmp_path / "data")]) == 2


# ---------------------------------------------------------------------------------------------- the aligner


@pytest.fixture(scope="module")
def cased_translator(tiny):
    """The tiny translator with a truecasing model in its folder."""
    return Translator.from_model(
        tiny.torch.model,
        tiny.codec.src_tok,
        tiny.codec.tgt_tok,
        tiny.config,
        tiny.protos,
        truecaser=Truecaser({"i": "I"}),
    )


def test_align_reads_restored_english_and_links_the_words_given(cased_translator):
    tr = cased_translator
    cased = tr.align(["我 喜欢 吃 苹果 。"], ["I like to eat apples ."], pretokenized=True, restore_english=False)[0]
    plain = tr.align(["我喜欢吃苹果。"], ["I like to eat apples."])[0]
    given = "i like to eat apples ."
    on = tr.align(["我 喜欢 吃 苹果 。"], [given], pretokenized=True)[0]
    off = tr.align(["我 喜欢 吃 苹果 。"], [given], pretokenized=True, restore_english=False)[0]
    # On (the default): the model reads "I like to eat apples.", as it was trained; links index the words given.
    assert on.target_tokens == plain.target_tokens and on.score == pytest.approx(plain.score, abs=1e-4)
    assert on.target_words == given.split() and on.source_words == ["我", "喜欢", "吃", "苹果", "。"]
    assert on.links and all(0 <= i < 5 and 0 <= j < 6 for i, j in on.links)
    assert on.target_piece_words[-2] == [5]  # the final "." piece belongs to the sixth given word
    # Off: the model reads the English as given.
    assert off.target_tokens != on.target_tokens and off.score != pytest.approx(on.score, abs=1e-4)
    assert off.target_words == given.split()
    # English that needs nothing is read exactly as before.
    assert cased.target_tokens != on.target_tokens and cased.target_words == "I like to eat apples .".split()
    again = tr.align(["我喜欢吃苹果。"], ["I like to eat apples."], restore_english=False)[0]
    assert again.target_tokens == plain.target_tokens and again.links == plain.links
    # Not pretokenized (the demo's "Your translation"): the words are the text's whitespace tokens.
    typed = tr.align(["我喜欢吃苹果。"], ["i like to eat apples."])[0]
    assert typed.target_tokens == plain.target_tokens and typed.target_words == ["i", "like", "to", "eat", "apples."]


def test_a_folder_without_a_truecasing_model_reads_english_as_given(tiny, cased_translator):
    a = tiny.align(["我喜欢吃苹果。"], ["i like to eat apples ."])[0]
    b = cased_translator.align(["我喜欢吃苹果。"], ["i like to eat apples ."], restore_english=False)[0]
    assert a.target_tokens == b.target_tokens and a.score == pytest.approx(b.score, abs=1e-5)


def test_scoring_a_users_translation_uses_the_restored_english(cased_translator):
    from seq2seq.app.explore import score_translation

    s = score_translation(cased_translator, "我喜欢吃苹果。", "i like to eat apples .")
    plain = cased_translator.align(["我喜欢吃苹果。"], ["I like to eat apples."])[0]
    assert s.alignment.target_tokens == plain.target_tokens
    assert s.as_json()["target_words"] == "i like to eat apples .".split()


def test_english_source_is_restored_too(tiny):
    """An English->Chinese model: the restoring applies to the source side."""
    import torch
    from helpers import small_config

    from seq2seq.model import EncoderDecoder

    en_tok, zh_tok = tiny.codec.tgt_tok, tiny.codec.src_tok
    torch.manual_seed(0)
    cfg = small_config(en_tok, zh_tok, n_layers=1, d_model=32, d_ff=64)
    folder = FolderConfig(model=cfg, direction="en-zh")
    tr = Translator.from_model(
        EncoderDecoder(cfg).eval(), en_tok, zh_tok, folder, tiny.protos[::-1], truecaser=Truecaser({"i": "I"})
    )
    given = "i like to eat apples ."
    a = tr.align([given], ["我 喜欢 吃 苹果 。"], pretokenized=True)[0]
    assert a.source_tokens == en_tok.ids_to_pieces(en_tok.encode(["I like to eat apples."])[0]) + ["</s>"]
    assert a.source_words == given.split() and a.target_words == ["我", "喜欢", "吃", "苹果", "。"]
    assert all(0 <= i < 6 and 0 <= j < 5 for i, j in a.links)
    off = tr.align([given], ["我 喜欢 吃 苹果 。"], pretokenized=True, restore_english=False)[0]
    assert off.source_tokens == en_tok.ids_to_pieces(en_tok.encode([given])[0]) + ["</s>"]


def test_seq2seq_align_switch_and_align_test_report_both(tmp_path, cased_translator, capsys):
    from seq2seq.cli import align_main
    from seq2seq.evaluate import main as evaluate_main

    folder = cased_translator.save(tmp_path / "m")
    (tmp_path / "g.zh").write_text("我 喜欢 吃 苹果 。\n谢谢 你 。\n", encoding="utf-8")
    (tmp_path / "g.en").write_text("i like to eat apples .\nthank you .\n", encoding="utf-8")
    (tmp_path / "g.gold").write_text("0-0 1-1 2-3 3-4 4-5 2p2\n0-0 0-1 1p1 2-2\n", encoding="utf-8")
    files = [str(tmp_path / "g.zh"), str(tmp_path / "g.en")]
    for flag, restore in (([], True), (["--no-restore-english"], False)):
        out = tmp_path / f"links{len(flag)}"
        assert align_main(["--model", str(folder), "--pretokenized", "-o", str(out), *flag, *files]) == 0
        expected = cased_translator.align(
            ["我 喜欢 吃 苹果 。", "谢谢 你 。"],
            ["i like to eat apples .", "thank you ."],
            pretokenized=True,
            restore_english=restore,
        )
        assert out.read_text().splitlines() == [" ".join(f"{i}-{j}" for i, j in a.links) for a in expected]
    capsys.readouterr()
    assert (
        evaluate_main(
            ["--model", str(folder), "--align-test", str(tmp_path / "g"), "--output-dir", str(tmp_path / "e")]
        )
        == 0
    )
    printed = capsys.readouterr().out
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    rows, default = report["alignment"], report["alignment_default"]
    assert default["method"] == cased_translator.align_method.name and default["english"].startswith("restored")
    assert f"default: {default['method']}; English {default['english']}" in printed
    assert "English restored in 2 of 2 pairs" in printed
    assert sum(r["default"] for r in rows) == 1 and all(r["english"] == "restored" for r in rows[:-1])
    as_given = rows[-1]
    assert as_given["english"] == "as given" and as_given["method"] == default["method"] and not as_given["default"]
