"""Placeholders: names, numbers and other Latin-script spans pass through translation unchanged.

A Chinese sentence's ``Goldsmith``, ``GPT-4``, ``802.11n`` or ``26,750`` is split by the Chinese
tokenizer into pieces that the English side spells differently, and a small model garbles them
(``Golsthththth``).  Production systems (Crego et al. 2016, "SYSTRAN's pure NMT"; Marian's and
OpenNMT's placeholder tokens) replace such spans by numbered placeholder pieces, train the model to
carry the placeholders across, and put the spans back after decoding:

    苹果公司的CEO蒂姆·库克         ->  苹果公司的⟦0⟧蒂姆·库克
    Apple's ⟦0⟧ Tim Cook          ->  Apple's CEO Tim Cook

* **Training** (:func:`mask_pair`): a span of the source that also stands verbatim in the target is
  replaced by the same placeholder on both sides, numbered in source order.  Other spans stay text.
* **Translation** (:func:`mask_source`, :func:`restore`): every span of the source is replaced; the
  output's placeholders get their spans back.  The placeholder pieces are labelled with their spans in
  the pieces a :class:`~seq2seq.results.Translation` reports, so attention maps show ``CEO``, not ``⟦0⟧``.

Which spans: URLs, e-mail addresses, and runs of ASCII letters and digits joined by ``. , - : / @ & ' + _``
(``GPT-4``, ``1,234``, ``6.1``); in Chinese text, the words of a Latin-script name are one span (``Louis
Galicia``, ``Sons & Daughters``).  With English as the source, only spans that Chinese text keeps in Latin
script are replaced: those with a digit, or with a capital after the first letter (``CEO``, ``iPhone``), URLs
and e-mail addresses; ``Frank`` is translated (弗兰克), not copied.

**Amounts** (Chinese source): a number with the unit 万, 亿 or 万亿 (``3万``, ``1,234亿``) must be converted,
not copied, and the model garbles the conversion (``1,234亿`` -> "$1 billion").  It is carried as a
placeholder whose text is its English (:func:`english_amount`: ``30,000``, ``123.4 billion``), a
:class:`Converted` span: the output gets the English, the source side of the maps keeps the Chinese.  The
placeholder of an amount in US dollars takes the currency with it (``1,234亿美元`` -> ``$123.4 billion``):
left outside, the model wrote the dollar sign twice (``$ $123.4 billion``).  A number
before 千, 百, 兆 or 月 (``3月`` is March) is left to the model.

**Names** (with a model folder's name lexicon, :mod:`seq2seq.names`): a transliterated name whose parts the
lexicon knows (``蒂姆·库克``) is carried the same way, as its English (``Tim Cook``); with English as the source,
the lexicon is read the other way, and a known English name is carried as its Chinese (``Tim Cook`` ->
``蒂姆·库克``).  An unknown name stays English text, for the model (Chinese news keeps such names in Latin script).

Placeholders are user-defined sentencepiece pieces ``⟦0⟧`` ... ``⟦N-1⟧`` appended to both tokenizers
(:func:`add_placeholder_pieces`), so existing piece ids keep their meaning.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Optional, Sequence

if TYPE_CHECKING:
    from .known_words import KnownWords
    from .names import NameLexicon

N_PLACEHOLDERS = 16
OPEN, CLOSE = "\u27e6", "\u27e7"  # ⟦ ⟧: no text the models read contains them
PLACEHOLDER = re.compile(OPEN + r"(\d+)" + CLOSE)

_URL = r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*[A-Za-z0-9/]"
_EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
_TOKEN = r"[A-Za-z0-9]+(?:[.,\-:/@&'+_][A-Za-z0-9]+)*"
SPAN = re.compile(rf"(?<![A-Za-z0-9])(?:{_URL}|{_EMAIL}|{_TOKEN})(?![A-Za-z0-9])")
_CHINESE_UNIT = re.compile(r"\s*[万亿千百兆月]")  # 3万 is 30,000 and 3月 is March: not copies
_DIGIT = re.compile(r"\d")
_NAME_GAP = re.compile(r" | & ")  # between the words of one name (find_spans)
AMOUNT = re.compile(r"(?<![A-Za-z0-9.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(万亿|亿|万)(美元)?")
UNITS = {"万": 10**4, "亿": 10**8, "万亿": 10**12}
SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"))
# An English amount with a scale word: $123.4 billion, 3.5 million yuan, 2 thousand dollars.
ENGLISH_AMOUNT = re.compile(
    r"(?<![A-Za-z0-9.,])(\$\s?)?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s+(thousand|million|billion|trillion)"
    r"(?:\s+(US dollars|dollars|yuan))?(?![A-Za-z])"
)
ENGLISH_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
CHINESE_UNITS = ((10**12, "万亿"), (10**8, "亿"), (10**4, "万"))


class Converted(str):
    """A span carried as a placeholder whose English differs from the source: the string is its English
    (``123.4 billion``, ``Tim Cook``), ``source`` the Chinese it stands for (``1,234亿``, ``蒂姆·库克``)."""

    source: str

    def __new__(cls, english: str, source: str) -> "Converted":
        obj = super().__new__(cls, english)
        obj.source = source
        return obj


def english_amount(number: str, unit: str, dollars: bool = False) -> str:
    """``150``, ``万`` -> ``1.5 million``; ``3``, ``万`` -> ``30,000``; ``1,234``, ``亿`` -> ``123.4 billion``:
    millions and above as a number and a scale word, smaller amounts with thousands separators.  An amount of
    US dollars (``1,234亿美元``) gets its dollar sign: ``$123.4 billion``."""
    from decimal import Decimal

    value = Decimal(number.replace(",", "")) * UNITS[unit]
    sign = "$" if dollars else ""
    for scale, word in SCALES:
        if value >= scale:
            return f"{sign}{format((value / scale).normalize(), 'f')} {word}"
    return f"{sign}{value.normalize():,f}"


def chinese_amount(number: str, scale: str, currency: str = "") -> str:
    """``123.4``, ``billion``, ``$`` -> ``1,234亿美元``: an English amount in Chinese units (万, 亿, 万亿), the largest
    that leaves at least 1; smaller amounts with thousands separators.  ``currency``: ``$`` or ``dollars`` (美元),
    ``yuan`` (元), or none."""
    from decimal import Decimal

    value = Decimal(number.replace(",", "")) * ENGLISH_SCALES[scale]
    unit = ""
    for size, word in CHINESE_UNITS:
        if value >= size:
            value, unit = value / size, word
            break
    value = value.normalize()
    digits = f"{value:,f}" if value == value.to_integral_value() else format(value, "f")
    money = "美元" if currency in ("$", "dollars", "US dollars") else "元" if currency == "yuan" else ""
    return f"{digits}{unit}{money}"


def source_forms(spans: Sequence[str]) -> list[str]:
    """The spans as the source spells them (a :class:`Converted` span's Chinese, every other span as it is)."""
    return [getattr(s, "source", s) for s in spans]


def placeholder(k: int) -> str:
    return f"{OPEN}{k}{CLOSE}"


def _kept_in_chinese(span: str) -> bool:
    """Does Chinese text keep this English span in Latin script (a digit, a capital inside, a URL/e-mail)?"""
    return (
        bool(_DIGIT.search(span))
        or any(c.isupper() for c in span[1:])
        or "@" in span
        or "://" in span
        or span.startswith("www.")
    )


def find_spans(text: str, lang: str = "zh") -> list[tuple[int, int]]:
    """Character ranges of the spans that pass through unchanged, in order (``lang``: the text's language)."""
    out = []
    for m in SPAN.finditer(text):
        s = m.group()
        if not _DIGIT.search(s[-1]) or not _CHINESE_UNIT.match(text, m.end()):
            if lang != "en" or _kept_in_chinese(s):
                out.append((m.start(), m.end()))
    return _join_names(text, out) if lang == "zh" else out


def _join_names(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of a Latin-script name in Chinese text joined into one (``Louis Galicia``, ``Sons & Daughters``): a
    word, then a capitalised word after a space or `` & ``.  One placeholder per name, not per word: given one per
    word, the model mixed up their numbers and repeated them (newstest2017's names, docs/experiments)."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and _NAME_GAP.fullmatch(text, out[-1][1], a) and text[out[-1][0]].isalpha() and text[a].isupper():
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def masked_spans(
    text: str, lang: str = "zh", names: Optional[NameLexicon] = None, known: Optional[KnownWords] = None
) -> list[tuple[int, int, str]]:
    """(start, end, the text the output carries) of each span that becomes a placeholder, in order: the spans
    of :func:`find_spans`, and in Chinese the amounts with a unit and the names that ``names`` knows, as
    :class:`Converted` spans; in English the amounts, the names ``names`` knows, and with ``known`` the names
    it lacks (:mod:`seq2seq.known_words`), as they stand."""
    out = [(a, b, text[a:b]) for a, b in find_spans(text, lang)]
    if lang == "zh":
        out += [
            (m.start(), m.end(), Converted(english_amount(m.group(1), m.group(2), bool(m.group(3))), m.group()))
            for m in AMOUNT.finditer(text)
        ]
        if names is not None:
            out += [(a, b, Converted(english, text[a:b])) for a, b, english in names.find(text)]
    else:  # English: amounts in Chinese units (123.4 billion -> 1,234亿), and known names as their Chinese
        out += [
            (
                m.start(),
                m.end(),
                Converted(
                    chinese_amount(m.group(2), m.group(3), (m.group(1) or "").strip() or m.group(4) or ""), m.group()
                ),
            )
            for m in ENGLISH_AMOUNT.finditer(text)
        ]
        if names is not None:
            out += [(a, b, Converted(chinese, text[a:b])) for a, b, chinese in names.chinese(text)]
        if known is not None:
            out += [(a, b, text[a:b]) for a, b in known.unknown_spans(text)]
    kept: list[tuple[int, int, str]] = []
    # Where two overlap (an amount and a name: 3万斯·彭斯), the first is kept, and of two that start together the
    # longer (the amount 123.4 billion, not the number 123.4).
    for span in sorted(out, key=lambda s: (s[0], -s[1])):
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def _occurs(span: str, text: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(span)}(?![A-Za-z0-9])", text) is not None


def _replace(text: str, mapping: dict[str, int]) -> str:
    """Replace each whole-span occurrence of a key by its placeholder (longer keys first)."""
    for span in sorted(mapping, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z0-9{OPEN}]){re.escape(span)}(?![A-Za-z0-9])", placeholder(mapping[span]), text)
    return text


def _replace_at(text: str, ranges: Sequence[tuple[int, int, str]], number: dict[str, int]) -> str:
    """Replace the spans at ``ranges`` whose carried text has a number by that placeholder (others stay)."""
    out, pos = [], 0
    for a, b, value in ranges:
        if value in number:
            out += [text[pos:a], placeholder(number[value])]
            pos = b
    return "".join(out) + text[pos:]


def mask_source(
    text: str,
    lang: str = "zh",
    limit: int = N_PLACEHOLDERS,
    names: Optional[NameLexicon] = None,
    known: Optional[KnownWords] = None,
) -> tuple[str, list[str]]:
    """``text`` with its spans replaced by placeholders, and the spans (what the output carries) by placeholder
    number.  A span that occurs twice gets one number; spans beyond ``limit`` distinct ones stay text.
    ``names``: a name lexicon (:mod:`seq2seq.names`) whose known names are carried as their English; ``known``:
    English words a model has learnt (:mod:`seq2seq.known_words`), the names it lacks carried as they stand."""
    ranges = masked_spans(text, lang, names, known)
    spans: list[str] = []
    for _, _, value in ranges:
        if value not in spans and len(spans) < limit:
            spans.append(value)
    return _replace_at(text, ranges, {s: k for k, s in enumerate(spans)}), spans


def mask_pair(src: str, tgt: str, src_lang: str = "zh", limit: int = N_PLACEHOLDERS) -> tuple[str, str, list[str]]:
    """A training pair with the source spans whose carried text also stands verbatim in the target (an amount:
    its English) replaced by the same placeholder on both sides (numbered in source order).  Unchanged when
    there are none."""
    ranges = masked_spans(src, src_lang)
    spans: list[str] = []
    for _, _, value in ranges:
        if value not in spans and len(spans) < limit and _occurs(value, tgt):
            spans.append(value)
    if not spans:
        return src, tgt, []
    number = {s: k for k, s in enumerate(spans)}
    return _replace_at(src, ranges, number), _replace(tgt, number), spans


def mask_like(text: str, spans: Sequence[str]) -> str:
    """Replace the given spans in another text (a prefix, a forced target) by their placeholders."""
    return _replace(text, {s: k for k, s in enumerate(spans)}) if spans else text


def restore(text: str, spans: Sequence[str]) -> str:
    """Put the spans back for their placeholders; a placeholder with no span is dropped."""
    if OPEN not in text:
        return text
    out = PLACEHOLDER.sub(lambda m: spans[int(m.group(1))] if int(m.group(1)) < len(spans) else "", text)
    return re.sub(r" {2,}", " ", out).strip()


def label_pieces(pieces: Sequence[str], spans: Sequence[str]) -> list[str]:
    """Pieces with each placeholder piece replaced by its span (what a reader should see on a map)."""
    if not spans:
        return list(pieces)
    return [restore(p, spans) if OPEN in p else p for p in pieces]


def unlabel_pieces(pieces: Sequence[str], spans: Sequence[str]) -> list[str]:
    """The inverse of :func:`label_pieces`: pieces that spell a span become its placeholder piece."""
    index = {s: k for forms in (spans, source_forms(spans)) for k, s in enumerate(forms)}
    return [placeholder(index[p]) if p in index else p for p in pieces]


def add_placeholder_pieces(proto: bytes, n: int = N_PLACEHOLDERS) -> bytes:
    """A sentencepiece model with ``⟦0⟧`` ... ``⟦n-1⟧`` appended as user-defined pieces (whole tokens that
    encoding never splits).  Existing ids are unchanged; a model that has them already is returned as is."""
    from sentencepiece import sentencepiece_model_pb2 as pb  # needs protobuf

    m = pb.ModelProto()
    m.ParseFromString(proto)
    have = {p.piece for p in m.pieces}
    for k in range(n):
        if placeholder(k) not in have:
            p = m.pieces.add()
            p.piece, p.type, p.score = placeholder(k), pb.ModelProto.SentencePiece.USER_DEFINED, 0.0
    return m.SerializeToString()


def strip_placeholder_pieces(proto: bytes) -> bytes:
    """The model without its placeholder pieces (what :func:`add_placeholder_pieces` started from)."""
    if placeholder(0).encode() not in proto:
        return proto
    from sentencepiece import sentencepiece_model_pb2 as pb

    m = pb.ModelProto()
    m.ParseFromString(proto)
    while m.pieces and PLACEHOLDER.fullmatch(m.pieces[-1].piece):
        m.pieces.pop()
    return m.SerializeToString()


def has_placeholders(tok) -> bool:
    """Does this tokenizer (``SubwordTokenizer``) know the placeholder pieces?"""
    return tok.knows(placeholder(0))
