"""Write the known English names of an English→Chinese model folder (see seq2seq.known_words).

    .venv/bin/python scripts/known_words.py --data data/prepared/train --out seq2seq/pretrained/en-zh/known_words.txt

Reads every ``*.en`` file under --data (the English the model was trained on), normalised as training's
cleaning does, and writes the capitalised words it has at least --min-count times, one a line.  With the file in
its folder, an en-zh model carries the capitalised words it lacks (names it never learnt) through translation
in Latin script instead of spelling them in characters of its own making.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seq2seq.data import normalize_text
from seq2seq.known_words import MIN_COUNT, KnownWords


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="data/prepared/train", help="folder of the training *.en files")
    p.add_argument("--out", required=True, help="where known_words.txt goes (an en-zh model folder's)")
    p.add_argument("--min-count", type=int, default=MIN_COUNT, help=f"times a word must be seen (default {MIN_COUNT})")
    args = p.parse_args(argv)
    files = sorted(Path(args.data).rglob("*.en"))
    if not files:
        print(f"known_words: no *.en files under {args.data}", file=sys.stderr)
        return 2
    lines = (normalize_text(line) for f in files for line in f.open(encoding="utf-8"))
    known = KnownWords.count(lines, args.min_count)
    known.save(args.out)
    print(f"known_words: {len(known)} words from {len(files)} files -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
