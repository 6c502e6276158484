"""Mine the name lexicon of a zh-en model folder from the prepared training pairs (see seq2seq.names).

    .venv/bin/python scripts/mine_names.py --data data/prepared/train --out seq2seq/pretrained/zh-en/names.tsv

Reads every NAME.zh/NAME.en of --data and writes the lexicon (one name part a line: first|middle|last,
Chinese, English).  A model folder with a names.tsv carries the transliterated names it knows (蒂姆·库克)
through translation as their English (Tim Cook).  --check PREFIX (PREFIX.zh, PREFIX.en) prints the names of a
test set that the lexicon knows, and how many of them its reference spells the same way.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seq2seq.corpus_align import read_pairs
from seq2seq.names import dotted_names, mine_names


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="data/prepared/train", help="folder of NAME.zh/NAME.en files")
    p.add_argument("--out", required=True, help="where names.tsv goes (a model folder's names.tsv)")
    p.add_argument("--min-count", type=int, default=3, help="names a part must be seen in (default 3)")
    p.add_argument("--check", metavar="PREFIX", action="append", default=[], help="test set to check (repeatable)")
    args = p.parse_args(argv)
    files = sorted(Path(args.data).glob("*.zh"))
    if not files:
        print(f"mine_names: no *.zh files in {args.data}", file=sys.stderr)
        return 2
    pairs = [pair for f in files for pair in zip(*read_pairs(f.with_suffix("")))]
    lexicon = mine_names(pairs, min_count=args.min_count)
    lexicon.save(args.out)
    counts = ", ".join(f"{len(v)} {k}" for k, v in lexicon.parts.items())
    print(f"{len(pairs):,} pairs -> {args.out}: {counts} name parts")
    for prefix in args.check:
        zh, en = read_pairs(prefix)
        total = sum(len(dotted_names(z)) for z in zh)
        found = [(z[a:b], english, english in e) for z, e in zip(zh, en) for a, b, english in lexicon.find(z)]
        for name, english, ok in found:
            print(f"  {'ok ' if ok else 'not'} {name} -> {english}")
        right = sum(ok for *_, ok in found)
        print(f"{prefix}: {total} dotted names, {len(found)} known, {right} spelt as the reference spells them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
