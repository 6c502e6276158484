"""Names an en-zh model has not learnt, carried through in Latin script (seq2seq.known_words)."""

from __future__ import annotations

import pytest
from helpers import placeholder_translator

from seq2seq.known_words import KNOWN_WORDS_FILE, KnownWords
from seq2seq.model_dir import ModelFolderError, load_known_words
from seq2seq.placeholders import mask_source
from seq2seq.translator import Translator

TRAINING_ENGLISH = [
    "Frank met Maria in Paris.",
    "Later, Frank and Maria left Paris.",
    "I told Frank that Maria lives in Paris.",
    "Tom's dog barked twice.",
    "The Louvre is in Paris.",
]


def test_known_words_are_the_capitalised_words_seen_often_enough():
    assert sorted(KnownWords.count(TRAINING_ENGLISH, min_count=3).words) == ["Frank", "Maria", "Paris"]
    everything = KnownWords.count(TRAINING_ENGLISH, min_count=1).words  # "I" is no capitalised word
    assert sorted(everything) == ["Frank", "Later", "Louvre", "Maria", "Paris", "The", "Tom"]


def test_unknown_capitalised_words_are_spans_and_a_name_is_one():
    known = KnownWords(["Frank", "Paris"])
    text = "Yesterday Louis Galicia told Frank about the Louvre in Paris. Galicia smiled."
    # a sentence's first word (Yesterday) is left alone, unless it stands elsewhere too (Galicia)
    assert [text[a:b] for a, b in known.unknown_spans(text)] == ["Louis Galicia", "Louvre", "Galicia"]
    assert known.unknown_spans('He said: "Hello there."') == []  # each begins a sentence or a quote
    text = "A talk by O'Neill, Jean-Luc Picard and Zoë Saldana."  # parts of a word are not words
    assert [text[a:b] for a, b in known.unknown_spans(text)] == ["Picard", "Saldana"]


def test_unknown_names_become_placeholders_beside_the_numbers():
    known = KnownWords(["Frank"])
    assert mask_source("Yesterday Louis Galicia met Frank in 2019.", "en", known=known) == (
        "Yesterday ⟦0⟧ met Frank in ⟦1⟧.",
        ["Louis Galicia", "2019"],
    )
    assert mask_source("Yesterday Louis Galicia met Frank in 2019.", "en")[1] == ["2019"]  # without the list


def test_translation_masks_them_and_a_given_pair_does_not():
    tr = placeholder_translator(direction="en-zh", known_words=KnownWords(["Frank"]))
    source = "Yesterday Galicia met Frank."
    assert tr.codec.mask(source) == ("Yesterday ⟦0⟧ met Frank.", ["Galicia"])
    out = tr.translate(source)[0]
    assert "Galicia" in out.source_tokens  # the placeholder's row shows its span
    assert tr.codec.pair_ids([source], ["昨天Galicia见了Frank。"], skip_long=False)[2] == [[]]


def test_the_list_travels_with_the_folder_and_a_corrupt_one_is_named(tmp_path):
    tr = placeholder_translator(direction="en-zh", known_words=KnownWords(["Frank", "Paris"]))
    folder = tr.save(tmp_path / "m")
    assert (folder / KNOWN_WORDS_FILE).read_text(encoding="utf-8") == "Frank\nParis\n"
    assert Translator.load(folder, backend="torch").codec.known_words.words == {"Frank", "Paris"}
    assert load_known_words(tmp_path) is None
    (folder / KNOWN_WORDS_FILE).write_text("Frank\nparis\n", encoding="utf-8")
    with pytest.raises(ModelFolderError, match="known_words.txt is corrupt"):
        load_known_words(folder)
