"""Word links on long pairs: align-dev made long, read whole and read one pair at a time (issue 40).

    .venv/bin/python scripts/long_align_dev.py --gold ../shared/data/align-dev/nist02 --cache exp/teacher-cache

Runs of 2-4 consecutive gold pairs are joined into pairs of 300-700 characters (the longer side, as training's
``clean.max_chars`` counts; training drops pairs over 300), their gold links offset (``seq2seq.gold_eval``).  Each
reader links the long pairs, and the same pairs one by one (their links offset the same way); both are scored against
the long gold: AER with possible links allowed and counted as sure, recall of sure links by third of the sentence
(by the Chinese word's place), the precision of links that touch a number, and the share of the Chinese words that
annotators leave unaligned which get a link.

Readers: the model's alignment head in each reading (``seq2seq.align.READINGS``: the folder's default first), and
the teacher, eflomal (aligned with the training corpus, ``--data``), if it is installed.  A pair over the model's
length limit (pieces per side) is read as the library reads it (``Translator.align(..., skip_long=True)``, as
``seq2seq-evaluate --align-test`` and ``seq2seq-align`` do): it gets no links, and the script says how many did;
rows "(pairs that fit)" score only the pairs the model reads.  Prints Markdown; nothing is written except the cache.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from seq2seq.aer import read_gold_set
from seq2seq.align import READINGS, reading
from seq2seq.gold_eval import TABLE_HEAD, format_row, join_groups, join_links, join_set, pair_chars, read_corpus, scores

TEACHER_RULES = ("intersection", "grow-diag-final-and")


def head_rows(tr, zh, en, gold, groups, long_zh, long_en, long_gold, fits) -> list[str]:
    """The head's rows: each reading, long and one by one, on every long pair and on those that fit."""
    rows = []
    readings = {name: reading(tr.align_method, name) for name in sorted(READINGS)}
    if tr.align_method not in readings.values():
        readings = {"default": tr.align_method, **readings}
    for name, method in readings.items():
        kw = dict(pretokenized=True, method=method, skip_long=True)
        t0 = time.time()
        whole = [a.links for a in tr.align(long_zh, long_en, by_sentence=False, **kw)]
        seconds = time.time() - t0
        by_sentence = tr.align(long_zh, long_en, **kw)
        short = [a.links for a in tr.align(zh, en, by_sentence=False, **kw)]
        parts = [join_links([short[k] for k in run], [zh[k] for k in run], [en[k] for k in run]) for run in groups]
        label = f"{name} reading" + (" (the folder's default)" if method == tr.align_method else "")
        split = sum(bool(a.parts) for a in by_sentence)
        rows.append(format_row(f"head, {label}: long pairs, whole", scores(whole, long_gold, long_zh, long_en)))
        rows.append(
            format_row(
                f"head, {label}: long pairs, by sentence and in halves ({split} of {len(by_sentence)} read in "
                "parts; the library's default)",
                scores([a.links for a in by_sentence], long_gold, long_zh, long_en),
            )
        )
        rows.append(format_row(f"head, {label}: one by one", scores(parts, long_gold, long_zh, long_en)))
        if not all(fits):
            keep = [k for k, f in enumerate(fits) if f]
            sub = lambda xs: [xs[k] for k in keep]  # noqa: E731
            args = (sub(long_gold), sub(long_zh), sub(long_en))
            rows.append(format_row(f"head, {label}: long pairs, whole (pairs that fit)", scores(sub(whole), *args)))
            rows.append(format_row(f"head, {label}: one by one (pairs that fit)", scores(sub(parts), *args)))
        print(f"({label}: {method.name}; long pairs read in {seconds:.1f}s)", file=sys.stderr, flush=True)
    return rows


def teacher_rows(args, tr, zh, en, groups, long_zh, long_en, long_gold) -> list[str]:
    """eflomal's rows, long and one by one, for each rule of ``TEACHER_RULES`` (one eflomal run for both sets)."""
    from seq2seq.gold_eval import teacher_links

    t0 = time.time()
    corpus = read_corpus(args.data)
    links = teacher_links(list(zh) + long_zh, list(en) + long_en, corpus, tr.codec.src_tok, TEACHER_RULES, args.cache)
    print(f"(eflomal: {len(corpus[0])} corpus pairs with the gold pairs, {time.time() - t0:.0f}s)", file=sys.stderr)
    rows = []
    for rule in TEACHER_RULES:
        short, whole = links[rule][: len(zh)], links[rule][len(zh) :]
        parts = [join_links([short[k] for k in run], [zh[k] for k in run], [en[k] for k in run]) for run in groups]
        rows.append(format_row(f"eflomal {rule}: long pairs", scores(whole, long_gold, long_zh, long_en)))
        rows.append(format_row(f"eflomal {rule}: one by one", scores(parts, long_gold, long_zh, long_en)))
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gold", default="../shared/data/align-dev/nist02", help="PREFIX.zh, PREFIX.en, PREFIX.gold")
    p.add_argument("--model", default="zh-en", help="a zh-en model folder, or zh-en for the shipped one")
    p.add_argument("--min-chars", type=int, default=300)
    p.add_argument("--max-chars", type=int, default=700)
    p.add_argument("--data", default="data/prepared/train", help="the teacher's corpus: NAME.zh/NAME.en files")
    p.add_argument("--cache", metavar="DIR", help="keep eflomal's links here and reuse them on a second run")
    p.add_argument("--no-teacher", action="store_true", help="the head only")
    args = p.parse_args(argv)

    from seq2seq.translator import Translator

    zh, en, gold = read_gold_set(args.gold)
    groups = join_groups([pair_chars(z.split(), e.split()) for z, e in zip(zh, en)], args.min_chars, args.max_chars)
    long_zh, long_en, long_gold = join_set(zh, en, gold, groups)
    tr = Translator.load(args.model, backend="torch")
    if tr.direction.source != "zh":
        p.error("--model must translate Chinese into English")
    chars = sorted(pair_chars(z.split(), e.split()) for z, e in zip(long_zh, long_en))
    # Which long pairs the model reads whole: as the library counts pieces (the default reading's, cut at given words)
    fits = [
        bool(a.target_tokens) for a in tr.align(long_zh, long_en, pretokenized=True, skip_long=True, by_sentence=False)
    ]
    print(
        f"{len(groups)} long pairs from {sum(map(len, groups))} of {len(zh)} gold pairs "
        f"({'/'.join(str(sum(len(r) == n for r in groups)) for n in (2, 3, 4))} of 2/3/4 pairs), "
        f"{chars[0]}-{chars[-1]} characters (median "
        f"{chars[len(chars) // 2]}), {sum(len(g.sure) for g in long_gold)} sure and "
        f"{sum(len(g.possible - g.sure) for g in long_gold)} possible links; {len(fits) - sum(fits)} over the "
        f"model's {tr.max_source_tokens} pieces a side (no links, as the library reads them)\n"
    )
    print(TABLE_HEAD)
    for row in head_rows(tr, zh, en, gold, groups, long_zh, long_en, long_gold, fits):
        print(row, flush=True)
    if args.no_teacher:
        return 0
    try:
        import eflomal  # noqa: F401
    except ImportError:
        print("(eflomal is not installed: the head only; pip install eflomal)", file=sys.stderr)
        return 0
    if not Path(args.data).is_dir():
        print(f"(no teacher: {args.data} is not a folder of NAME.zh/NAME.en files)", file=sys.stderr)
        return 0
    for row in teacher_rows(args, tr, zh, en, groups, long_zh, long_en, long_gold):
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
