"""English -> Chinese names: of the known names in a test set's English (the folder's name lexicon read the other way,
``NameLexicon.chinese``) that its Chinese reference writes in characters, how many the model's output writes the
same way; and, for the other capitalised names, how many the output keeps in Latin script where the reference does.

    .venv/bin/python scripts/name_check.py --model en-zh --test ../shared/data/dev/newstest2017 [--limit 0]

Prints each known name with ok/not, then the counts.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seq2seq import Translator  # noqa: E402
from seq2seq.evaluate import read_test_set  # noqa: E402

_NAME = re.compile(r"(?<![\w'])[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="en-zh", help="an en-zh model folder (or the shipped en-zh)")
    p.add_argument("--test", required=True, help="test set prefix (P.en, P.zh)")
    p.add_argument("--limit", type=int, default=0)
    args = p.parse_args(argv)
    tr = Translator.load(args.model)
    if tr.direction != "en-zh" or tr.codec.names is None:
        print("name_check: needs an en-zh model folder with a names.tsv", file=sys.stderr)
        return 2
    ts = read_test_set(args.test, "en-zh", args.limit)
    known = [(k, zh) for k, src in enumerate(ts.sources) for _, _, zh in tr.codec.names.chinese(src)]
    in_ref = [(k, zh) for k, zh in known if zh in ts.references[k]]
    lines = sorted({k for k, _ in known})
    outs = dict(zip(lines, (t.text for t in tr.translate([ts.sources[k] for k in lines]))))
    right = 0
    for k, zh in in_ref:
        ok = zh in outs[k]
        right += ok
        print(f"  {'ok ' if ok else 'not'} {zh}  ({ts.sources[k][:60]!r} -> {outs[k][:40]!r})")
    latin = [
        (k, m.group()) for k, src in enumerate(ts.sources) for m in _NAME.finditer(src) if m.group() in ts.references[k]
    ]
    latin_lines = sorted({k for k, _ in latin})
    latin_outs = dict(zip(latin_lines, (t.text for t in tr.translate([ts.sources[k] for k in latin_lines]))))
    kept = sum(name in latin_outs[k] for k, name in latin)
    print(
        f"{ts.name}: {len(known)} known names in the English ({len(lines)} lines); {len(in_ref)} of them written so "
        f"in the reference; {right} of those in the output ({100 * right / max(1, len(in_ref)):.1f}%). Capitalised "
        f"names the reference keeps in Latin script: {len(latin)}, kept in the output: {kept} "
        f"({100 * kept / max(1, len(latin)):.1f}%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
