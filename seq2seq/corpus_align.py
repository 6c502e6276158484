"""Statistical word alignment of a parallel corpus with eflomal, as training labels for the alignment head.

    python scripts/align_corpus.py --model seq2seq/pretrained/zh-en --data data/prepared/train

For every ``NAME.zh``/``NAME.en`` pair of files this writes ``NAME.links``: one line per line of the
corpus, holding Pharaoh links ``i-j`` between **pieces** (i: source piece, j: target piece) of the
text as training reads it (``data.normalize_text``, then the model's tokenizers).  A ``links.json``
beside them records the tokenizers' hashes, the unit and the symmetrization, so training can check
that the links fit its pieces.

How (Garg et al. 2019 trained their alignment head on GIZA++ links; eflomal is a faster, more
accurate Bayesian IBM-model aligner, Östling & Tiedemann 2016):

* ``unit="words"`` (default): eflomal aligns the corpus units of :func:`seq2seq.words.corpus_words` (Chinese
  characters, a run of other non-space characters as one; lower-cased English words and punctuation marks), the
  units it is most accurate on; links are then projected onto pieces (a piece pair is linked when any of their
  units are).
* ``unit="pieces"``: eflomal aligns the sentencepiece pieces themselves (English lower-cased).
* Both directions are aligned and symmetrized by a rule of ``align.SYMMETRIZE`` (default
  ``grow-diag-final-and``).
* ``agree_with`` (a second round of labels): keep only the unit links that a trained model's alignment
  head gives as well.  The head and eflomal err in different places, so the links both give are more
  often right; with eflomal's ``union`` they make the most precise teacher measured (model card).
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from .align import SYMMETRIZE, method_attention, piece_alignment
from .words import corpus_words, links_to_words, piece_texts, pieces_to_words

Links = list[tuple[int, int]]


# ---------------------------------------------------------------------------------------------
# eflomal
# ---------------------------------------------------------------------------------------------


def parse_pharaoh(line: str) -> Links:
    out = []
    for tok in line.split():
        i, j = re.split(r"[-p]", tok)
        out.append((int(i), int(j)))
    return out


def read_pairs(prefix: str | Path) -> tuple[list[str], list[str]]:
    """PREFIX.zh and PREFIX.en as training's cleaning step sees them (``data.normalize_text``)."""
    from .data import load_source, normalize_text

    pairs = load_source({"src": f"{prefix}.zh", "tgt": f"{prefix}.en"})
    return [normalize_text(s) for s, _ in pairs], [normalize_text(t) for _, t in pairs]


def eflomal_directions(
    src: Sequence[Sequence[str]], tgt: Sequence[Sequence[str]], quiet: bool = True
) -> tuple[list[Links], list[Links]]:
    """eflomal's forward (source -> target) and reverse links, each as (source unit, target unit) pairs.
    Empty pairs get no links."""
    try:
        import eflomal
    except ImportError as e:
        raise ImportError("corpus alignment needs eflomal: pip install 'seq2seq-zhen[align]'") from e
    rows = [k for k in range(len(src)) if src[k] and tgt[k]]
    fwd: list[Links] = [[] for _ in src]
    rev: list[Links] = [[] for _ in src]
    if not rows:
        return fwd, rev
    with tempfile.TemporaryDirectory() as tmp:
        fwd_f, rev_f = Path(tmp) / "fwd", Path(tmp) / "rev"
        eflomal.Aligner().align(
            [" ".join(src[k]) + "\n" for k in rows],
            [" ".join(tgt[k]) + "\n" for k in rows],
            links_filename_fwd=str(fwd_f),
            links_filename_rev=str(rev_f),
            quiet=quiet,
        )
        for k, a, b in zip(rows, fwd_f.read_text().splitlines(), rev_f.read_text().splitlines()):
            fwd[k], rev[k] = parse_pharaoh(a), parse_pharaoh(b)
    return fwd, rev


def eflomal_links(
    src: Sequence[Sequence[str]],
    tgt: Sequence[Sequence[str]],
    symmetrize: str = "grow-diag-final-and",
    quiet: bool = True,
) -> list[Links]:
    """Align token sequences in both directions with eflomal and symmetrize (a rule of ``align.SYMMETRIZE``)."""
    if symmetrize not in SYMMETRIZE:
        raise ValueError(f"symmetrize must be one of {sorted(SYMMETRIZE)}, not {symmetrize!r}")
    fwd, rev = eflomal_directions(src, tgt, quiet)
    return [SYMMETRIZE[symmetrize](a, b) for a, b in zip(fwd, rev)]


def project_to_pieces(unit_links: Links, src_map: Sequence[Sequence[int]], tgt_map: Sequence[Sequence[int]]) -> Links:
    """Links between units as links between the pieces that cover them (``pieces_to_words`` maps: the units
    of each piece).  A piece pair is linked when any of their units are."""
    s_inv: dict[int, list[int]] = {}
    t_inv: dict[int, list[int]] = {}
    for p, ws in enumerate(src_map):
        for w in ws:
            s_inv.setdefault(w, []).append(p)
    for p, ws in enumerate(tgt_map):
        for w in ws:
            t_inv.setdefault(w, []).append(p)
    return sorted({(i, j) for a, b in unit_links for i in s_inv.get(a, []) for j in t_inv.get(b, [])})


def join_piece_links(
    part_links: Sequence[Links],
    part_src: Sequence[Sequence[str]],
    part_tgt: Sequence[Sequence[str]],
    src: Sequence[str],
    tgt: Sequence[str],
) -> Links:
    """The piece links of consecutive pairs (``part_links``, each over its own pieces ``part_src``/``part_tgt``) as
    links over the pieces ``src``/``tgt`` of the pairs joined into one: each part's pieces are found in the joined
    ones by their characters (:func:`seq2seq.words.pieces_to_words`), so a piece that the join spells differently
    (at the seam) still gets its links."""
    units_src = [t for ps in part_src for t in piece_texts(ps)]
    units_tgt = [t for ps in part_tgt for t in piece_texts(ps)]
    offset_links, s_off, t_off = [], 0, 0
    for links, ps, pt in zip(part_links, part_src, part_tgt):
        offset_links += [(i + s_off, j + t_off) for i, j in links if i < len(ps) and j < len(pt)]
        s_off, t_off = s_off + len(ps), t_off + len(pt)
    return project_to_pieces(offset_links, pieces_to_words(src, units_src), pieces_to_words(tgt, units_tgt))


def move_piece_links(
    links: Links, src: Sequence[str], tgt: Sequence[str], new_src: Sequence[str], new_tgt: Sequence[str]
) -> Links:
    """Links over the pieces ``src``/``tgt`` moved onto other pieces of the same text, ``new_src``/``new_tgt``, by
    their characters: a link goes to every new piece that shares a character with each of its ends.

    The units of the match are the new pieces themselves (the text each spells, :func:`seq2seq.words.piece_texts`):
    an old piece covers the new pieces whose characters it holds (:func:`seq2seq.words.pieces_to_words`, spaces
    and case ignored), and the byte pieces of one character share it, as they share its links when the corpus links
    are made.  For a masked pair (:func:`seq2seq.training.data.place_masked_links`) the new pieces come with each
    placeholder piece spelt as its span (:func:`seq2seq.placeholders.label_pieces`), so the several pieces of a
    name collapse onto its one placeholder piece.  A link from a piece with no character (a bare word start "▁") or
    from past the end of its pieces has nowhere to go and is dropped."""
    src_units, tgt_units = piece_texts(new_src), piece_texts(new_tgt)
    unit_links = links_to_words(links, pieces_to_words(src, src_units), pieces_to_words(tgt, tgt_units))
    return project_to_pieces(unit_links, pieces_to_words(new_src, src_units), pieces_to_words(new_tgt, tgt_units))


def corpus_piece_links(
    src_texts: Sequence[str],
    tgt_texts: Sequence[str],
    src_tok,
    tgt_tok,
    unit: str = "words",
    symmetrize: str = "grow-diag-final-and",
    quiet: bool = True,
    word_links: Optional[list] = None,
    agree_with=None,
) -> list[Links]:
    """Piece-level links (source piece, target piece) for each pair of texts, as the tokenizers split them.
    With ``unit="words"``, ``word_links`` (a list) receives eflomal's own links between the units, and
    ``agree_with`` (a :class:`~seq2seq.translator.Translator`) keeps only those its alignment head gives too."""
    src_pieces = src_tok.encode_pieces(list(src_texts))
    tgt_pieces = tgt_tok.encode_pieces(list(tgt_texts))
    if unit == "pieces":
        return eflomal_links(src_pieces, [[p.lower() for p in ps] for ps in tgt_pieces], symmetrize, quiet)
    if unit != "words":
        raise ValueError(f"unit must be 'words' or 'pieces', not {unit!r}")
    sw = [corpus_words(src_tok.normalize(t), "zh") for t in src_texts]
    tw = [corpus_words(t, "en") for t in tgt_texts]
    unit_links = eflomal_links(sw, tw, symmetrize, quiet)
    if agree_with is not None:
        unit_links = head_agreement(unit_links, agree_with, src_texts, tgt_texts, sw, tw, quiet)
    if word_links is not None:
        word_links.extend(unit_links)
    return [
        project_to_pieces(links, pieces_to_words(src_pieces[k], sw[k]), pieces_to_words(tgt_pieces[k], tw[k]))
        for k, links in enumerate(unit_links)
    ]


def head_agreement(
    unit_links: Sequence[Links],
    translator,
    src_texts: Sequence[str],
    tgt_texts: Sequence[str],
    src_units: Sequence[Sequence[str]],
    tgt_units: Sequence[Sequence[str]],
    quiet: bool = True,
    chunk: int = 1000,
) -> list[Links]:
    """The links of ``unit_links`` that ``translator``'s alignment head gives as well, read on the same units.
    The head reads each pair as it reads any (its default :class:`~seq2seq.align.AlignMethod`, English as
    given); a pair over the model's length limit keeps no links."""
    from tqdm.auto import tqdm

    method = translator.align_method
    out: list[Links] = []
    for start in tqdm(range(0, len(src_texts), chunk), desc="head links", unit="chunk", disable=quiet):
        stop = start + chunk
        found = translator.align(
            src_texts[start:stop], tgt_texts[start:stop], restore_english=False, skip_long=True, by_sentence=False
        )
        for k, a in enumerate(found, start):
            head = links_to_words(
                piece_alignment(a.source_tokens, a.target_tokens, method_attention(a, method), method=method),
                pieces_to_words(a.source_tokens, src_units[k]),
                pieces_to_words(a.target_tokens, tgt_units[k]),
            )
            out.append(sorted(set(unit_links[k]) & set(head)))
    return out


# ---------------------------------------------------------------------------------------------
# Links files
# ---------------------------------------------------------------------------------------------

META = "links.json"


def tokenizer_fingerprint(src_proto: bytes, tgt_proto: bytes) -> str:
    return hashlib.sha256(src_proto + b"\0" + tgt_proto).hexdigest()[:16]


def write_links(path: str | Path, links: Sequence[Links]) -> None:
    Path(path).write_text("".join(" ".join(f"{i}-{j}" for i, j in ls) + "\n" for ls in links), encoding="utf-8")


def read_links(path: str | Path) -> list[Links]:
    return [parse_pharaoh(line) for line in Path(path).read_text(encoding="utf-8").split("\n")[:-1]]


def write_meta(
    folder: str | Path, fingerprint: str, unit: str, symmetrize: str, files: dict, agree_with: Optional[str] = None
) -> None:
    meta = {"tokenizers": fingerprint, "unit": unit, "symmetrize": symmetrize, "aligner": "eflomal"}
    if agree_with:
        meta["agree_with"] = agree_with
    (Path(folder) / META).write_text(json.dumps({**meta, "files": files}, indent=2) + "\n")


def read_meta(folder: str | Path) -> Optional[dict]:
    f = Path(folder) / META
    return json.loads(f.read_text()) if f.is_file() else None
