"""Word links read from attribution against the alignment head's, on a gold alignment set (docs/attribution.md).

    .venv/bin/python scripts/attribution_aer.py --model zh-en --gold ../shared/data/align-dev/nist02 \
        --output benchmarks/attribution_aer_zh-en.json

Each pair is read as ``seq2seq-align --pretokenized`` and ``seq2seq-evaluate --align-test`` read it (the gold
words, English restored where the folder has a truecasing model).  For every method and score, each target word
is linked to the source word with its largest attribution (``Attribution.links``, what ``seq2seq-attribute``
writes); AER, precision and recall are computed as ``--align-test`` computes them (seq2seq.aer), next to the
alignment head's links (the default, read both ways with grow-diag, and one way, as the demo's coverage reads
them).  ``agreement``: the share of the head's one-way links whose target word has its largest attribution on
that source word, over the whole set.  ``--limit N`` scores the first N pairs only (every row then on the same N).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seq2seq.aer import alignment_error_rate, read_gold_set  # noqa: E402
from seq2seq.attribution import argmax_links  # noqa: E402
from seq2seq.attributor import Attributor, Passes  # noqa: E402 (fp32: the figures hold on any CPU)
from seq2seq.bidirectional import transpose  # noqa: E402
from seq2seq.translator import Translator  # noqa: E402


def head_rows(tr, pairs, gold, reverse: bool) -> list[dict]:
    """AER of the alignment head's links: the default reading and the one-way one."""
    alignments = tr.align(*pairs, pretokenized=True, skip_long=True)
    one_way = dataclasses.replace(tr.align_method, symmetrize="")
    rows = []
    for name, links in (
        (f"head: {tr.align_method.name} (one model's default reading)", [a.links for a in alignments]),
        (f"head one way: {one_way.name} (the demo's coverage)", [a.links_with(one_way) for a in alignments]),
    ):
        rows.append({"method": name, **score(links, gold, reverse)})
    return rows, [a.links_with(one_way) for a in alignments]


def score(links, gold, reverse: bool) -> dict:
    return alignment_error_rate([transpose(x) for x in links] if reverse else links, gold).as_dict()


def attribution_rows(attributor, pairs, gold, reverse, methods, n_steps, head_links) -> list[dict]:
    """AER and agreement of attribution links, per method and score."""
    rows = []
    for method in methods:
        t0 = time.perf_counter()
        found = [attributor.piece_scores(p, method, Passes(n_steps, None, "fp32")) if p else None for p in pairs]
        seconds = (time.perf_counter() - t0) / max(1, sum(p is not None for p in pairs))
        for kind in ("sum", "l2"):
            results = [attributor.result(p, f, method, kind) if p else None for p, f in zip(pairs, found)]
            links = [a.links() if a is not None else [] for a in results]
            agree = total = 0
            for a, head in zip(results, head_links):
                if a is None:
                    continue
                best = dict((t, s) for s, t in argmax_links(a.words.source))
                agree += sum(best.get(t) == s for s, t in head)
                total += len(head)
            rows.append(
                {
                    "method": f"attribution: {method} ({kind})",
                    **score(links, gold, reverse),
                    "agreement_with_head": agree / max(1, total),
                    "seconds_per_pair": seconds,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="zh-en")
    ap.add_argument("--gold", default=str(ROOT.parent / "shared/data/align-dev/nist02"))
    ap.add_argument("--methods", default="input_x_gradient,integrated_gradients")
    ap.add_argument("--n-steps", type=int, default=32)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--output", default="")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    tr = Translator.load(args.model, backend="torch")
    zh, en, gold = read_gold_set(args.gold)
    if args.limit:
        zh, en, gold = zh[: args.limit], en[: args.limit], gold[: args.limit]
    reverse = tr.direction == "en-zh"
    pairs = (en, zh) if reverse else (zh, en)
    rows, one_way = head_rows(tr, pairs, gold, reverse)
    for r in rows:
        print(json.dumps(r), flush=True)
    attributor = Attributor(tr)
    prepared = attributor.aligned_pairs(*pairs, pretokenized=True)
    rows += attribution_rows(attributor, prepared, gold, reverse, args.methods.split(","), args.n_steps, one_way)
    report = {"model": args.model, "gold": Path(args.gold).name, "pairs": len(gold), "threads": args.threads}
    report["rows"] = rows
    if args.output:
        Path(args.output).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
