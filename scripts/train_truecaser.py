"""Learn the English truecasing model of a model folder from the training English (see seq2seq.truecase).

    .venv/bin/python scripts/train_truecaser.py --model seq2seq/pretrained/zh-en --data ../shared/data/train

Reads every ``*.en`` file under --data (or the files given), normalises it as training's cleaning does
(NFKC, spaces), tokenizes it with the Moses tokenizer and counts every word's spellings away from the start
of a sentence (``sacremoses.MosesTruecaser``).  Writes ``truecase.model`` into the model folder: the words seen
--min-count times or more whose most frequent spelling has a capital.  The aligner (``Translator.align``,
``seq2seq-align``, the demo's scoring) uses it to recase lower-cased English before the model reads it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from seq2seq.data import normalize_text
from seq2seq.truecase import TRUECASE_FILE, Truecaser


def english_files(specs: list[str]) -> list[Path]:
    files: list[Path] = []
    for spec in specs:
        p = Path(spec)
        if p.is_dir():
            files += sorted(p.rglob("*.en"))
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"no such file or folder: {spec}")
    if not files:
        raise FileNotFoundError(f"no *.en files in {', '.join(specs)}")
    return files


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", required=True, help="model folder to write truecase.model into")
    p.add_argument("--data", nargs="+", required=True, help="folders of *.en files (searched recursively) or .en files")
    p.add_argument("--min-count", type=int, default=2, help="keep words seen at least this often (default 2)")
    args = p.parse_args(argv)
    model = Path(args.model)
    if not model.is_dir():
        print(f"train_truecaser: model folder {model} does not exist", file=sys.stderr)
        return 2
    try:
        files = english_files(args.data)
    except FileNotFoundError as e:
        print(f"train_truecaser: {e}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    n_lines = 0

    def lines():
        nonlocal n_lines
        for f in files:
            with open(f, encoding="utf-8") as fh:
                for line in fh:
                    line = normalize_text(line)
                    if line:
                        n_lines += 1
                        yield line

    tc = Truecaser.learn(lines(), min_count=args.min_count)
    out = model / TRUECASE_FILE
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tc.save(tmp)
    os.replace(tmp, out)
    print(
        f"{out}: {len(tc)} words, {out.stat().st_size / 1024:.0f} KiB, from {n_lines} lines of {len(files)} files "
        f"({time.perf_counter() - t0:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
