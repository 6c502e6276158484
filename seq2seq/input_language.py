"""Input that does not look written in the language the model reads: the command-line tools warn on stderr and
translate anyway, as the demo notes it.  The rule is :func:`seq2seq.text.looks_like`, the demo's too."""

from __future__ import annotations

import sys
from typing import Optional

from .direction import LANGUAGE_NAMES
from .text import LETTER, looks_like

# seq2seq-translate names the first few lines in another language one by one, then counts the rest.
NAMED_LINES = 5


def other_language_lines(lines: list[str], lang: str) -> list[int]:
    """The indices of the lines that have a letter and do not look written in ``lang``
    (:func:`seq2seq.text.looks_like`); a line of numbers and signs is in no language."""
    return [k for k, line in enumerate(lines) if LETTER.search(line) and not looks_like(line, lang)]


def language_note(translator) -> str:
    """What a warning about input in another language says after "does not look like X"."""
    source, target = (LANGUAGE_NAMES[x] for x in translator.direction.languages)
    return f"the {translator.direction} model translates {source} to {target}, so the result may be poor"


def warn_other_language(who: str, what: str, lines: list[str], translator, lang: Optional[str] = None) -> int:
    """One line on stderr when some of ``lines`` (a file, a test set: ``what``) do not look written in ``lang``
    (default: the model's source language): how many, and the first one's number.  Returns how many."""
    lang = lang or translator.direction.source
    bad = other_language_lines(lines, lang)
    if bad:
        print(
            f"{who}: warning: {len(bad)} of {len(lines)} lines of {what} do not look like "
            f"{LANGUAGE_NAMES[lang]} (the first: line {bad[0] + 1}); {language_note(translator)}",
            file=sys.stderr,
        )
    return len(bad)
