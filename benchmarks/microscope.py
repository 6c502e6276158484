"""Latency of the demo's microscope views on one sentence (p50/p95 over repeated runs, the shipped model).

    .venv/bin/python benchmarks/microscope.py [--runs 20] [--out benchmarks/microscope.json]

Views: a re-decode in Step by step (prefix fixed, top-k kept), scoring "your translation", the beam tree,
Inside attention for a 20-character sentence and for a sentence of about 60 pieces (all attention kinds,
words merged with jieba, the all-heads grid and the walkthrough, figures built), and the word links from
both directions (the en-zh model's second pass, and the zh-en model's own, combined; the listing built).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

SHORT = "这家餐厅的菜很好吃，但是价格有点贵。"  # 18 characters
LONG = (
    "中国国家统计局今天发布的数据显示，今年前三个季度国内生产总值同比增长百分之五点二，"
    "其中第三季度增长百分之四点九，消费对经济增长的贡献率超过百分之八十。"
)


def timed(fn, runs: int) -> dict:
    fn()  # warm up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    q = statistics.quantiles(times, n=20)
    return {"p50_ms": round(1000 * statistics.median(times), 1), "p95_ms": round(1000 * q[18], 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--out")
    args = p.parse_args(argv)
    from seq2seq import Translator
    from seq2seq.app.explore import beam_tree, inside_view, score_translation, step_view
    from seq2seq.app.figures import all_heads_figure, matrix_figure
    from seq2seq.app.search_figures import beam_tree_figure, walkthrough_figure
    from seq2seq.app.tabs import links_both_ways
    from seq2seq.explain import explain_cross_attention

    tr = Translator.load()
    own = step_view(tr, SHORT)
    prefix = own.pieces[:2] + [next(c for c, _ in own.candidates[2] if c != own.pieces[2])]

    def inside(text):
        v = inside_view(tr, text)
        for kind in ("cross", "encoder", "decoder"):
            matrix_figure(*v.matrix(kind, 2, None, "jieba"), kind)
        all_heads_figure(v, "cross", v.head_summaries("cross"))
        walkthrough_figure(explain_cross_attention(tr, v.translation, 2, 0, 1))
        return v

    results = {
        "step_by_step_redecode": timed(lambda: step_view(tr, SHORT, prefix), args.runs),
        "score_your_translation": timed(
            lambda: score_translation(tr, SHORT, "The food here is good but a bit expensive."), args.runs
        ),
        "beam_tree_with_figure": timed(
            lambda: beam_tree_figure((t := beam_tree(tr, SHORT, 5)).tree, t.target_tokens, 1.5), args.runs
        ),
        "inside_attention_short": timed(lambda: inside(SHORT), args.runs),
        "inside_attention_long": timed(lambda: inside(LONG), max(5, args.runs // 4)),
    }
    reverse = Translator.load("en-zh")
    for name, text in (("short", SHORT), ("long", LONG)):
        english = tr.translate(text).text
        results[f"links_both_directions_{name}"] = timed(
            lambda: links_both_ways(tr, reverse, text, english, "intersection"), args.runs
        )
    v = inside_view(tr, LONG)
    results["long_sentence_pieces"] = {
        "source": len(v.translation.source_tokens),
        "target": len(v.translation.target_tokens),
    }
    print(json.dumps(results, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
