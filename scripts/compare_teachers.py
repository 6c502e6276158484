"""Which eflomal links make the best teacher for the alignment head?  AER on a gold set, per corpus and rule.

    .venv/bin/python scripts/compare_teachers.py --gold ../shared/data/align-dev/nist02 \\
        [--extra ../shared/data/extra/bible-cuvs-kjv ...] [--head seq2seq/pretrained/zh-en]

eflomal aligns the training corpus (``--data``, NAME.zh/NAME.en) together with the gold set, once per
corpus: the corpus alone, then the corpus plus each ``--extra PREFIX`` (PREFIX.zh/PREFIX.en; may be given
several times).  Each run's two directions are symmetrized by every rule of ``align.SYMMETRIZE`` and scored
twice on the gold words: eflomal's own units (Chinese characters, English words) and those links projected
onto the model's pieces, which is what the head learns (``scripts/align_corpus.py`` writes them).

``--head MODEL`` also scores that model's alignment head (English as given) and its agreement with each
eflomal rule (links of both, on the gold words): a second round of labels would use such links.
Prints a Markdown table; nothing is written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Optional

from seq2seq import corpus_align as ca
from seq2seq.aer import alignment_error_rate, read_gold_set
from seq2seq.align import SYMMETRIZE
from seq2seq.tokenizer import SubwordTokenizer
from seq2seq.words import corpus_words, links_to_words, pieces_to_words


def gold_rows(zh_words, en_words, src_tok) -> tuple[list[str], list[str], list, list]:
    """The gold pairs as eflomal reads them (texts, units) and the maps from its units to the gold words."""
    zh = ["".join(z.split()) for z in zh_words]
    en = [" ".join(e.split()) for e in en_words]
    su = [corpus_words(src_tok.normalize(z), "zh") for z in zh]
    tu = [corpus_words(e, "en") for e in en]
    s_map = [pieces_to_words(u, [src_tok.normalize(w) for w in z.split()]) for u, z in zip(su, zh_words)]
    t_map = [pieces_to_words(u, e.split()) for u, e in zip(tu, en_words)]
    return su, tu, s_map, t_map


def score_rules(fwd, rev, g, src_tok, tgt_tok, zh_words, en_words, gold, head_links=None) -> list[dict]:
    """One row per rule: AER on eflomal's units and via the model's pieces (and with the head, if given)."""
    su, tu, s_map, t_map = g
    sp = src_tok.encode_pieces(["".join(z) for z in zh_words])
    tp = tgt_tok.encode_pieces([" ".join(e) for e in en_words])
    sp_map = [pieces_to_words(p, z) for p, z in zip(sp, zh_words)]
    tp_map = [pieces_to_words(p, e) for p, e in zip(tp, en_words)]
    rows = []
    for rule, sym in SYMMETRIZE.items():
        units = [sym(a, b) for a, b in zip(fwd, rev)]
        on_words = [links_to_words(u, s_map[k], t_map[k]) for k, u in enumerate(units)]
        pieces = [
            ca.project_to_pieces(u, pieces_to_words(sp[k], su[k]), pieces_to_words(tp[k], tu[k]))
            for k, u in enumerate(units)
        ]
        via = [links_to_words(p, sp_map[k], tp_map[k]) for k, p in enumerate(pieces)]
        row = {"rule": rule, "units": alignment_error_rate(on_words, gold), "pieces": alignment_error_rate(via, gold)}
        if head_links is not None:
            row["and head"] = alignment_error_rate(
                [sorted(set(w) & set(h)) for w, h in zip(on_words, head_links)], gold
            )
        rows.append(row)
    return rows


def eflomal_cached(src, tgt, cache: Optional[str]):
    """eflomal's two directions, kept in ``cache`` (a folder) under a hash of the input when given."""
    if not cache:
        return ca.eflomal_directions(src, tgt)
    key = hashlib.sha256(repr((src, tgt)).encode()).hexdigest()[:16]
    path = Path(cache) / f"eflomal-{key}.json"
    if path.is_file():
        fwd, rev = json.loads(path.read_text())
        return [[tuple(x) for x in a] for a in fwd], [[tuple(x) for x in a] for a in rev]
    fwd, rev = ca.eflomal_directions(src, tgt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([fwd, rev]))
    return fwd, rev


def head_word_links(model: str, zh_words, en_words) -> list:
    from seq2seq.translator import Translator

    tr = Translator.load(model)
    al = tr.align([" ".join(z) for z in zh_words], [" ".join(e) for e in en_words], pretokenized=True)
    return [a.links for a in al]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gold", required=True, help="PREFIX of a gold set: PREFIX.zh, PREFIX.en, PREFIX.gold")
    p.add_argument("--model", default="seq2seq/pretrained/zh-en", help="folder whose tokenizers give the pieces")
    p.add_argument("--data", default="data/prepared/train", help="folder of NAME.zh/NAME.en files")
    p.add_argument("--extra", action="append", default=[], metavar="PREFIX", help="a corpus to add (repeatable)")
    p.add_argument("--cache", metavar="DIR", help="keep eflomal's links here and reuse them on a second run")
    p.add_argument("--head", metavar="MODEL", help="also score this model's alignment head and its agreement")
    args = p.parse_args(argv)
    model = Path(args.model)
    src_tok = SubwordTokenizer((model / "source.model").read_bytes(), t2s=True)
    tgt_tok = SubwordTokenizer((model / "target.model").read_bytes())
    zh_words, en_words, gold = read_gold_set(args.gold)
    zh_words, en_words = [z.split() for z in zh_words], [e.split() for e in en_words]
    g = gold_rows([" ".join(z) for z in zh_words], [" ".join(e) for e in en_words], src_tok)
    src, tgt = [], []
    for f in sorted(Path(args.data).glob("*.zh")):
        s, t = ca.read_pairs(str(f.with_suffix("")))
        src, tgt = src + s, tgt + t
    head = head_word_links(args.head, zh_words, en_words) if args.head else None
    print("| corpus | rule | AER units (P/R) | AER via pieces (P/R) |" + (" AER with head (P/R) |" if head else ""))
    print("|---|---|---|---|" + ("---|" if head else ""))
    if head:
        h = alignment_error_rate(head, gold)
        print(f"| {args.head} head alone | | | {h.aer:.1%} ({h.precision:.1%}/{h.recall:.1%}) |")
    for extra in [None] + args.extra:
        es, et = ca.read_pairs(extra) if extra else ([], [])
        name = f"{args.data} + {Path(extra).name}" if extra else args.data
        units_src = [corpus_words(src_tok.normalize(t), "zh") for t in src + es] + g[0]
        units_tgt = [corpus_words(t, "en") for t in tgt + et] + g[1]
        t0 = time.time()
        fwd, rev = eflomal_cached(units_src, units_tgt, args.cache)
        n = len(zh_words)
        print(f"({name}: {len(units_src) - n} pairs aligned in {time.time() - t0:.0f}s)", file=sys.stderr, flush=True)
        for row in score_rules(fwd[-n:], rev[-n:], g, src_tok, tgt_tok, zh_words, en_words, gold, head):
            cells = [row["units"], row["pieces"]] + ([row["and head"]] if head else [])
            text = " | ".join(f"{c.aer:.1%} ({c.precision:.1%}/{c.recall:.1%})" for c in cells)
            print(f"| {name} | {row['rule']} | {text} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
