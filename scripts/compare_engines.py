"""Do the two engines translate alike?  Every sentence of the given sets through CTranslate2 and through PyTorch
(each with the model folder's own decoding settings), the differences listed with their score gap, the word links
compared (each translation whose links differ listed with the links on one side only), and how often each
search path was taken (``Translation.search``).

    .venv/bin/python scripts/compare_engines.py --model zh-en --test ../shared/data/dev/tatoeba-dev \\
        ../shared/data/dev/newstest2017 [--limit 300] [--output report.json]

A difference is a near-tie when the PyTorch engine scores the CTranslate2 output within ``--tie`` (1e-4) of its
own (normalised scores, both read by PyTorch's forced pass with the search's renormalisation).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seq2seq import Translator  # noqa: E402
from seq2seq.evaluate import read_test_set  # noqa: E402


def compare(model: str, spec: str, limit: int, tie: float) -> dict:
    fast = Translator.load(model, backend="ctranslate2")
    slow = Translator.load(model, backend="torch")
    ts = read_test_set(spec, fast.direction.label, limit)
    parts, _ = fast.codec.split_long(ts.sources, "compare_engines")
    t0 = time.perf_counter()
    a = fast.translate(parts, progress=True)
    t1 = time.perf_counter()
    b = slow.translate(parts, progress=True)
    t2 = time.perf_counter()
    differ, links_differ = [], []
    for k, (x, y) in enumerate(zip(a, b)):
        if x.text != y.text:
            differ.append(
                {
                    "line": k + 1,
                    "source": parts[k],
                    "ctranslate2": x.text,
                    "torch": y.text,
                    "gap": abs(x.normalized_score - y.normalized_score),
                    "near_tie": abs(x.normalized_score - y.normalized_score) <= tie,
                    "paths": [x.search, y.search],
                }
            )
        elif x.target_tokens and x.coverage is not None and x.coverage.links != y.coverage.links:
            fast_links, slow_links = set(x.coverage.links), set(y.coverage.links)
            links_differ.append(
                {
                    "line": k + 1,
                    "source": parts[k],
                    "translation": x.text,
                    "links": len(slow_links),
                    "only_ctranslate2": sorted(fast_links - slow_links),
                    "only_torch": sorted(slow_links - fast_links),
                }
            )
    return {
        "model": model,
        "test_set": ts.name,
        "sentences": len(parts),
        "identical": len(parts) - len(differ),
        "identical_share": round(1 - len(differ) / max(1, len(parts)), 4),
        "near_ties": sum(d["near_tie"] for d in differ),
        "links_differ_where_text_is_equal": len(links_differ),
        "paths_ctranslate2": dict(Counter(_path(t.search) for t in a if t.target_tokens)),
        "paths_torch": dict(Counter(_path(t.search) for t in b if t.target_tokens)),
        "seconds": {"ctranslate2": round(t1 - t0, 1), "torch": round(t2 - t1, 1)},
        "differences": differ,
        "link_differences": links_differ,
    }


def _path(search: str) -> str:
    return "n-best" if "keeps the placeholder limits" in search else search


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", nargs="+", default=["zh-en"], help="model folders or shipped names")
    p.add_argument("--test", nargs="+", required=True, help="test set prefixes (P.zh, P.en)")
    p.add_argument("--limit", type=int, default=0, help="first N sentences of each set (0: all)")
    p.add_argument("--tie", type=float, default=1e-4, help="score gap of a near-tie")
    p.add_argument("--output", help="write the report as JSON")
    args = p.parse_args(argv)
    reports = []
    for model in args.model:
        for spec in args.test:
            r = compare(model, spec, args.limit, args.tie)
            reports.append(r)
            print(
                f"{r['model']} {r['test_set']}: {r['identical']}/{r['sentences']} identical "
                f"({100 * r['identical_share']:.2f}%), {r['near_ties']} of {len(r['differences'])} differences are "
                f"near-ties; links differ on {r['links_differ_where_text_is_equal']} equal translations; paths "
                f"CTranslate2 {r['paths_ctranslate2']}, PyTorch {r['paths_torch']}; {r['seconds']}"
            )
            for d in r["differences"]:
                print(f"  line {d['line']} (gap {d['gap']:.2e}): {d['ctranslate2']!r} | {d['torch']!r} {d['paths']}")
            for d in r["link_differences"]:
                print(
                    f"  line {d['line']}: links only on CTranslate2 {d['only_ctranslate2']}, only on PyTorch "
                    f"{d['only_torch']} (of {d['links']})"
                )
    if args.output:
        Path(args.output).write_text(json.dumps(reports, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
