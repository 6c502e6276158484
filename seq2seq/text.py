"""Text helpers shared by the command line and the web app: sentence splitting, language checks, reading files."""

from __future__ import annotations

import re
from typing import Optional, Sequence

# A sentence ends after 。！？!?； or … when no closing quote or bracket follows; after a Chinese full stop and the
# quotes or brackets that close on it (in tokenized text after a space too: 。 ” ), where a new sentence can start;
# or at a newline.  (！” and ？” stay inside: “你好！”他说。 is one sentence.)
_CLOSERS = r"(?:[”’」』）)\]\"']|\s+(?:''|[”’」』）)\]]))"
_SENT_END = re.compile(
    rf"。+{_CLOSERS}+(?=\s*(?:$|[\u3400-\u9fffA-Z0-9“‘「『（(\[]))|[。！？!?；;…]+(?![”’」』）)\]\"'。！？!?；;…])|\n+"
)
_ENDS_SENTENCE = re.compile(rf"[。！？!?；;…\.]{_CLOSERS}*\s*$")
# An English sentence also ends at . ! or ? (and closing quotes or brackets) before a space and a capital or a
# digit, unless the word before the full stop is a title, a common abbreviation or an initial (Mr. Smith, U.S. News).
_EN_SENT_END = re.compile(r"(?<=[.!?])(?:[\"')\]”’]|\s+(?:''|[)\]”’]))*\s+(?=(?:``|[\"'(\[“‘])?\s*[A-Z0-9])")
_EN_NO_END = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|vs|etc|No|Inc|Ltd|Co|Gen|Sen|Rep|Gov)|\b[A-Z]|\.[A-Za-z])\.$"
)
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LETTER = re.compile(r"[^\W\d_]")  # a letter of any script
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")


def split_sentences(text: str, lang: str) -> list[str]:
    """The sentences of ``text`` written in ``lang``, each keeping its final punctuation; blank pieces are dropped.
    Every language ends a sentence at Chinese and other full stops (。！？!?；…) and at line breaks; English
    also at ". " before a capital or a digit, as English separates sentences (not after Mr., U.S. or an initial)."""
    sentences, start = [], 0
    for m in _SENT_END.finditer(text):
        sentences.append(text[start : m.end()].strip())
        start = m.end()
    sentences = [x for x in sentences + [text[start:].strip()] if x]
    if lang != "en":
        return sentences
    out = []
    for s in sentences:
        start = 0
        for m in _EN_SENT_END.finditer(s):
            head = s[start : m.start()].rstrip("\"')]")
            if head.endswith(".") and _EN_NO_END.search(head):
                continue
            out.append(s[start : m.start()] + m.group().rstrip())  # tokenized text keeps its space before ''"
            start = m.end()
        out.append(s[start:])
    return [x.strip() for x in out if x.strip()]


def chunk(text: str, max_chars: int, lang: str) -> list[str]:
    """Split ``text`` (written in ``lang``) into sentences, then cut any sentence longer than ``max_chars`` into
    equal parts."""
    out = []
    for sent in split_sentences(text, lang):
        n = -(-len(sent) // max_chars)
        size = -(-len(sent) // n)
        out.extend(sent[i : i + size] for i in range(0, len(sent), size))
    return out


_FULL_WIDTH = {",": "，", "?": "？", "!": "！", ":": "：", ";": "；", "(": "（", ")": "）", ".": "。"}
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff1f"
# ASCII punctuation that touches a Chinese character (a full stop not inside a number or an abbreviation)
_ASCII_BESIDE_HAN = re.compile(rf"(?<=[{_CJK}])\s*([,?!:;)]|\.(?![0-9A-Za-z]))|([,?!:;(])\s*(?=[{_CJK}])")
_SPACE_IN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SPACE_BY_FULL_WIDTH = re.compile(r"(?<=[，。？！：；、])\s+|\s+(?=[，。？！：；、])")


def tidy_chinese(text: str) -> str:
    """Chinese output as Chinese is written: ASCII punctuation beside a Chinese character in its full-width form
    (火车在哪里? -> 火车在哪里？, 公司报道,2023年 -> 公司报道，2023年), and no space between Chinese characters.
    Punctuation between Latin letters or digits (3.5, U.S.) is left as it is."""
    text = _ASCII_BESIDE_HAN.sub(lambda m: _FULL_WIDTH[m.group(1) or m.group(2)], text)
    text = _SPACE_BY_FULL_WIDTH.sub("", _SPACE_IN_CJK.sub("", text))
    if HAN.search(text) and text.endswith(".") and not text.endswith(".."):
        text = text[:-1] + "。"
    return text


def join_parts(translations: Sequence, target: str) -> str:
    """The translations of one text's parts (sentences, or the parts a long sentence was cut into) as one text.
    A part whose source does not end a sentence loses the full stop the model puts at the end of everything it
    translates ("...enterprises and requests that..."); Chinese parts join without a space.  Each translation
    needs ``text`` and ``source_text``."""
    out = []
    for k, t in enumerate(translations):
        text = t.text
        if k + 1 < len(translations) and not _ENDS_SENTENCE.search(t.source_text or "."):
            text = re.sub(r"[.。]$", "", text)
        out.append(text)
    return ("" if target == "zh" else " ").join(x for x in out if x)


def looks_like(text: str, lang: str, threshold: float = 0.3) -> bool:
    """Does ``text`` look written in ``lang``?  Chinese: at least ``threshold`` of its letters are Chinese
    characters, counting Latin-script words (names such as iPhone, Google) as neutral, as Chinese text uses
    them (我用iPhone is Chinese); text with no Chinese character is not Chinese.  English: at least half its
    letters are Latin.  The command-line tools, the library and the demo all use this rule."""
    if lang == "zh":
        han = len(HAN.findall(text))
        others = len(LETTER.findall(_LATIN_WORD.sub(" ", text))) - han
        return han > 0 and han / (han + others) >= threshold
    letters = LETTER.findall(text)
    latin = _LATIN_WORD.findall(text)
    return bool(letters) and bool(latin) and sum(len(w) for w in latin) / len(letters) >= 0.5


class InputEncodingError(ValueError):
    """Input bytes that are not UTF-8; the message says where and how to convert them."""


# Byte-order marks of the encodings whose text is never UTF-8 (longest first: UTF-32-LE starts like UTF-16-LE).
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def _convert_hint(encoding: str) -> str:
    return f"convert it first, e.g. iconv -f {encoding} -t UTF-8 FILE > FILE.utf8"


def decode_utf8(data: bytes, where: str) -> str:
    """UTF-8 bytes to text (a BOM is dropped), or one clear error that says how to convert the file:
    UTF-16/32 (a byte-order mark, or NUL bytes) from UTF-16, anything else from GBK (the usual other
    encoding of Chinese text)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise InputEncodingError(
                f"{where} is {name} text (it starts with a {name} byte-order mark), not UTF-8; " + _convert_hint(name)
            )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        hint = _convert_hint("UTF-16" if b"\x00" in data else "GBK")
        raise InputEncodingError(
            f"{where} is not UTF-8 text (byte {e.start}: {data[e.start : e.start + 1]!r}); {hint}"
        ) from None
    if "\x00" in text:  # valid UTF-8, but text never holds NUL: UTF-16 without a byte-order mark
        raise InputEncodingError(
            f"{where} holds NUL bytes: it looks like UTF-16 text without a byte-order mark, "
            "not UTF-8; " + _convert_hint("UTF-16LE")
        )
    return text


def plain_doc(text: str) -> str:
    """A docstring as --help shows it: reST markup (``code``, :func:`name`) taken out."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text)
    return re.sub(r"``([^`]+)``", r"\1", text)


def split_lines(text: str) -> list[str]:
    """Lines split at ``\\n`` only: a trailing ``\\r`` (Windows line ends) is dropped, and a stray ``\\r``
    inside a line becomes a space, so there is always one line per input line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln.rstrip("\r").replace("\r", " ") for ln in lines]


def file_problem(path, what: str = "file") -> Optional[str]:
    """Why ``path`` cannot be read as a file, in one line that starts with ``what`` (e.g. "input file"): it does
    not exist, or it is a folder, or something else that is not a file; None when it is a file."""
    from pathlib import Path

    p = Path(path)
    if p.is_file():
        return None
    if p.is_dir():
        return f"{what} {path} is a folder, not a file"
    if p.exists():
        return f"{what} {path} is not a regular file"
    return f"{what} not found: {path}"


def read_lines(path, what: str = "file") -> list[str]:
    """The lines of a UTF-8 file (see :func:`split_lines`); FileNotFoundError names the file and says what is
    wrong with it (:func:`file_problem`)."""
    from pathlib import Path

    problem = file_problem(path, what)
    if problem:
        raise FileNotFoundError(problem)
    return split_lines(decode_utf8(Path(path).read_bytes(), str(path)))


def group_by_line(outs: list, owner: list[int], n_lines: int) -> list[list]:
    grouped: list[list] = [[] for _ in range(n_lines)]
    for n, t in zip(owner, outs):
        grouped[n].append(t)
    return grouped
