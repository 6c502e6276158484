"""The alignment head's readings on a gold set, scored two ways, beside the teacher (issue 40).

    .venv/bin/python scripts/align_readings.py --gold ../shared/data/align-dev/nist02 --reverse-model en-zh \\
        --cache exp/teacher-cache

For each reading of the head (``seq2seq.align.READINGS``: ``full``, the shipped default, and ``precise``), the reading
of the head before issue 40, and the full reading with one of its parts taken out: AER with possible links allowed
and with possible links counted as sure, recall of sure links by third of the sentence, the precision of links
that touch a number, and the share of the Chinese words annotators leave unaligned that get a link
(``seq2seq.gold_eval.scores``).  ``--reverse-model`` adds the two heads combined (``seq2seq.bidirectional``);
the teacher, eflomal aligned with the training corpus (``--data``), is scored on the same pairs when installed.
``--halves`` also scores the even and the odd pairs apart (is a choice stable across halves of the set?).
Prints Markdown; nothing is written except the cache.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from seq2seq.aer import read_gold_set
from seq2seq.align import reading
from seq2seq.gold_eval import TABLE_HEAD, format_row, read_corpus, scores

TEACHER_RULES = ("intersection", "grow-diag", "grow-diag-final-and")


def head_readings(head) -> dict:
    """Name -> AlignMethod: the readings, the reading before issue 40, and the full one with one part taken out."""
    full = reading(head, "full")
    return {
        "full (default)": full,
        "precise": reading(head, "precise"),
        "before issue 40 (grow-diag, sentencepiece's pieces)": dataclasses.replace(
            full, min_source_weight=0.0, articles=False, word_pieces=False
        ),
        "full without the articles rule": dataclasses.replace(full, articles=False),
        "full without the source null (weight 0)": dataclasses.replace(full, min_source_weight=0.0),
        "full without pieces cut at words": dataclasses.replace(full, word_pieces=False),
        "full, causal pass (as a translation reads it)": dataclasses.replace(full, full_context=False),
    }


def link_sets(tr, zh, en, methods: dict) -> dict:
    """Each method's links; one forced pass per way of cutting the pieces, every reading taken from it."""
    passes = {}
    for cut in {m.word_pieces for m in methods.values()}:
        m = next(m for m in methods.values() if m.word_pieces == cut)
        passes[cut] = tr.align(zh, en, pretokenized=True, method=m, skip_long=True)
    return {name: [a.links_with(m) for a in passes[m.word_pieces]] for name, m in methods.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gold", default="../shared/data/align-dev/nist02", help="PREFIX.zh, PREFIX.en, PREFIX.gold")
    p.add_argument("--model", default="zh-en", help="a zh-en model folder with an alignment head (default zh-en)")
    p.add_argument("--reverse-model", metavar="MODEL", help="an en-zh model: its head, and both heads combined")
    p.add_argument("--data", default="data/prepared/train", help="the teacher's corpus: NAME.zh/NAME.en files")
    p.add_argument("--cache", metavar="DIR", help="keep eflomal's links here and reuse them on a second run")
    p.add_argument("--no-teacher", action="store_true", help="the head only")
    p.add_argument("--halves", action="store_true", help="also score the even and the odd pairs apart")
    args = p.parse_args(argv)

    from seq2seq.bidirectional import combine_links, transpose
    from seq2seq.translator import Translator

    zh, en, gold = read_gold_set(args.gold)
    tr = Translator.load(args.model, backend="torch")
    if tr.direction.source != "zh" or not tr.config.alignment:
        p.error("--model must translate Chinese into English and have an alignment head")
    runs = {f"head, {name}": links for name, links in link_sets(tr, zh, en, head_readings(tr.align_method)).items()}
    if args.reverse_model:
        rev = Translator.load(args.reverse_model, backend="torch")
        for name in ("full", "precise"):
            m = reading(rev.align_method, name)
            back = [a.links for a in rev.align(en, zh, pretokenized=True, method=m, skip_long=True)]
            runs[f"en-zh head, {name} (transposed)"] = [transpose(b) for b in back]
            if name == "full":
                for rule in ("intersection", "grow-diag-final-and"):
                    runs[f"both heads, full, {rule}"] = [
                        combine_links(f, b, rule) for f, b in zip(runs["head, full (default)"], back)
                    ]
    if not args.no_teacher and _teacher_ready(args):
        from seq2seq.gold_eval import teacher_links

        for rule, links in teacher_links(
            zh, en, read_corpus(args.data), tr.codec.src_tok, TEACHER_RULES, args.cache
        ).items():
            runs[f"teacher: eflomal {rule}"] = links
    print(f"{args.gold}: {len(zh)} pairs; {tr.align_method.name} is the folder's default\n")
    print(TABLE_HEAD)
    halves = [("", range(len(zh)))]
    if args.halves:
        halves += [(" (even pairs)", range(0, len(zh), 2)), (" (odd pairs)", range(1, len(zh), 2))]
    for name, links in runs.items():
        for tag, idx in halves:
            pick = lambda xs: [xs[k] for k in idx]  # noqa: E731
            print(format_row(name + tag, scores(pick(links), pick(gold), pick(zh), pick(en))), flush=True)
    return 0


def _teacher_ready(args) -> bool:
    try:
        import eflomal  # noqa: F401
    except ImportError:
        print("(eflomal is not installed: no teacher rows; pip install eflomal)", file=sys.stderr)
        return False
    if not Path(args.data).is_dir():
        print(f"(no teacher rows: {args.data} is not a folder of NAME.zh/NAME.en files)", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
